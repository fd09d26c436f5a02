//! E4 and E5 end to end: folds of learners, the base learner fitted through the model layer,
//! baselines beside every meta-learner, mean ± sd over folds (or cohorts), paired bootstrap
//! intervals. The reports' keys are the JSON contract of `attune eval --protocol e4|e5`.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Instant;

use attune_core::{Dataset, Progress};
use attune_models::{FittedModel, Model, ModelName, ModelSpec, Training, fit};
use attune_policy::cat::{Estimator, Selector};
use serde::Serialize;

use crate::bobcat::{BiIrt, BiPolicy};
use crate::bobcat_nn::BiNn;
use crate::bootstrap::{Interval, paired_auc};
use crate::dkt_meta::MetaDkt;
use crate::e4::{E4Outcome, E4Predictions, E4Settings, run_e4};
use crate::e5::{E5_SUPPORT, NotAdapted, Traced, trace_e5};
use crate::irt_cat::IrtTester;
use crate::irt_meta::{Algorithm, MetaConfig, MetaIrt};
use crate::lstm_opt::LstmIrt;
use crate::tasks::{cohorts, e4_data, learner_folds};
use crate::{Error, Result};

/// An E4 tester by name: `irt-random`, `irt-active`, `irt-mfi`, `irt-kli`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum E4Model {
    /// Items fitted on the training learners, ability by MAP, a classic selection rule.
    Irt(Selector),
    /// BOBCAT's meta-learned BiIRT with a selection rule.
    BiIrt(BiPolicy),
    /// BOBCAT's meta-learned BiNN with a selection rule.
    BiNn(BiPolicy),
}

impl FromStr for E4Model {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "irt-random" => Ok(Self::Irt(Selector::Random)),
            "irt-active" => Ok(Self::Irt(Selector::Active)),
            "irt-mfi" => Ok(Self::Irt(Selector::Mfi)),
            "irt-kli" => Ok(Self::Irt(Selector::Kli)),
            "biirt-random" => Ok(Self::BiIrt(BiPolicy::Random)),
            "biirt-active" => Ok(Self::BiIrt(BiPolicy::Active)),
            "biirt-approx" => Ok(Self::BiIrt(BiPolicy::Approx)),
            "binn-random" => Ok(Self::BiNn(BiPolicy::Random)),
            "binn-active" => Ok(Self::BiNn(BiPolicy::Active)),
            "binn-approx" => Ok(Self::BiNn(BiPolicy::Approx)),
            "biirt-unbiased" => Ok(Self::BiIrt(BiPolicy::Unbiased)),
            "binn-unbiased" => Ok(Self::BiNn(BiPolicy::Unbiased)),
            _ => Err(format!(
                "unknown E4 model {s:?} (irt-random, irt-active, irt-mfi, irt-kli, biirt-random, biirt-active, \
                 biirt-approx, biirt-unbiased, binn-random, binn-active, binn-approx, binn-unbiased)"
            )),
        }
    }
}

/// One fold's E4 result.
#[derive(Clone, Debug, Serialize)]
pub struct E4Fold {
    /// `fold{k}`.
    pub fold: String,
    /// Pooled query AUC by test length.
    pub auc_at: BTreeMap<String, f64>,
    /// Pooled query accuracy by test length.
    pub accuracy_at: BTreeMap<String, f64>,
    /// Largest item exposure rate of the longest test.
    pub max_exposure: f64,
    /// Test overlap rate of the longest test.
    pub mean_overlap: f64,
    /// Test learners.
    pub n_learners: usize,
    /// Query answers per draw.
    pub n_query: usize,
    /// Seconds fitting the item parameters.
    pub fit_seconds: f64,
    /// Seconds of the adaptive tests (all draws).
    pub test_seconds: f64,
}

/// E4's report: means over folds (sd beside them).
#[derive(Clone, Debug, Serialize)]
pub struct E4Report {
    /// `e4`.
    pub protocol: &'static str,
    /// The tester's name.
    pub model: String,
    /// The base model's name.
    pub base: String,
    /// Mean pooled query AUC by test length (`"1"`, `"3"`, `"5"`, `"10"`).
    pub auc_at: BTreeMap<String, f64>,
    /// The paired bootstrap interval of this tester's AUC minus IRT-Active's by test length,
    /// both on the same draws of every fold's test learners, pooled over folds and draws and
    /// resampling learners (absent for IRT-Active itself).
    pub vs_irt_active: Option<BTreeMap<String, Interval>>,
    /// Its sd over folds.
    pub auc_sd_at: BTreeMap<String, f64>,
    /// Mean pooled query accuracy by test length.
    pub accuracy_at: BTreeMap<String, f64>,
    /// Mean largest item exposure rate.
    pub max_exposure: f64,
    /// Mean test overlap rate.
    pub mean_overlap: f64,
    /// Learners with at least 20 first attempts.
    pub n_learners: usize,
    /// Their first attempts.
    pub n_answers: usize,
    /// Pool/query draws per fold.
    pub draws: usize,
    /// Exposure control: items drawn among this many best (1: none).
    pub randomesque: usize,
    /// Seed of the folds and draws.
    pub seed: u64,
    /// Per fold.
    pub folds: Vec<E4Fold>,
}

fn keyed<V: Copy>(m: &BTreeMap<usize, V>) -> BTreeMap<String, V> {
    m.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n.max(1.0);
    let sd =
        if xs.len() > 1 { (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { f64::NAN };
    (mean, sd)
}

fn check_folds(only: &[usize]) -> Result<()> {
    match only.iter().find(|&&k| k == 0 || k > crate::tasks::N_FOLDS) {
        Some(&k) => Err(Error::InvalidConfig {
            learner: "protocol",
            param: "fold",
            value: k.to_string(),
            reason: "between 1 and 5",
        }),
        None => Ok(()),
    }
}

/// Runs E4 on `data` (every answer; the protocol keeps first attempts) for `model` over the
/// base `spec`, on the folds in `only` (1-based; all five when empty).
///
/// # Errors
/// Too few learners, a base model that is not unidimensional IRT, a failed fit.
pub fn e4(
    data: &Dataset,
    model: E4Model,
    spec: &ModelSpec,
    settings: &E4Settings,
    only: &[usize],
    progress: &dyn Progress,
) -> Result<E4Report> {
    check_folds(only)?;
    let data = e4_data(data);
    let folds = learner_folds(&data, settings.seed)?;
    let mut out = Vec::new();
    // Every fold's query predictions, this tester's and IRT-Active's on the same draws, with
    // learners numbered across folds.
    let active = E4Model::Irt(Selector::Active);
    let (mut ours, mut theirs): (BTreeMap<usize, E4Predictions>, BTreeMap<usize, E4Predictions>) = Default::default();
    let mut offset = 0u32;
    for (k, fold) in folds.iter().enumerate() {
        if !only.is_empty() && !only.contains(&(k + 1)) {
            continue;
        }
        let t0 = Instant::now();
        let base = fit(spec, Training { train: &fold.train, validation: None }, progress)?;
        let fit_seconds = t0.elapsed().as_secs_f64();
        let test = base.ids.remap(&fold.test);
        let t1 = Instant::now();
        let o = match model {
            E4Model::Irt(selector) => {
                let tester = IrtTester::new(&base, selector, Estimator::Map)?.with_randomesque(settings.randomesque);
                run_e4(&tester, &test, settings)
            }
            E4Model::BiIrt(policy) => {
                let irt = rasch(&base, "biirt")?;
                let (train, valid) = (base.ids.remap(&fold.train), base.ids.remap(&fold.valid));
                let meta = MetaConfig { seed: settings.seed, ..MetaConfig::default() };
                let mut parts = Vec::new();
                for &n in &settings.steps {
                    let mut m = BiIrt::train(&irt, policy, &train, &valid, n, &meta, progress)?;
                    m.randomesque = settings.randomesque.max(1);
                    parts.push(run_e4(&m, &test, &E4Settings { steps: vec![n], ..settings.clone() }));
                }
                merge(parts)
            }
            E4Model::BiNn(policy) => {
                let irt = rasch(&base, "binn")?;
                let (train, valid) = (base.ids.remap(&fold.train), base.ids.remap(&fold.valid));
                let meta = MetaConfig { seed: settings.seed, ..MetaConfig::default() };
                let mut parts = Vec::new();
                for &n in &settings.steps {
                    let mut m = BiNn::train(&irt, policy, &train, &valid, n, &meta, progress)?;
                    m.randomesque = settings.randomesque.max(1);
                    parts.push(run_e4(&m, &test, &E4Settings { steps: vec![n], ..settings.clone() }));
                }
                merge(parts)
            }
        };
        let reference = if model == active {
            None
        } else {
            let tester =
                IrtTester::new(&base, Selector::Active, Estimator::Map)?.with_randomesque(settings.randomesque);
            Some(run_e4(&tester, &test, settings))
        };
        for (pooled, outcome) in [(&mut ours, Some(&o)), (&mut theirs, reference.as_ref())] {
            for (n, p) in outcome.iter().flat_map(|o| &o.predictions) {
                let e = pooled.entry(*n).or_default();
                e.p.extend(&p.p);
                e.y.extend(&p.y);
                e.learner.extend(p.learner.iter().map(|l| l + offset));
            }
        }
        offset += u32::try_from(test.n_learners()).unwrap_or(u32::MAX);
        out.push(E4Fold {
            fold: fold.name.clone(),
            auc_at: keyed(&o.auc_at),
            accuracy_at: keyed(&o.accuracy_at),
            max_exposure: o.max_exposure,
            mean_overlap: o.mean_overlap,
            n_learners: o.n_learners,
            n_query: o.n_query,
            fit_seconds,
            test_seconds: t1.elapsed().as_secs_f64(),
        });
    }
    let at = |f: &dyn Fn(&E4Fold) -> &BTreeMap<String, f64>, sd: bool| -> BTreeMap<String, f64> {
        settings
            .steps
            .iter()
            .map(|n| {
                let xs: Vec<f64> = out.iter().filter_map(|r| f(r).get(&n.to_string()).copied()).collect();
                let (m, s) = mean_sd(&xs);
                (n.to_string(), if sd { s } else { m })
            })
            .collect()
    };
    let vs_irt_active = (model != active).then(|| {
        settings
            .steps
            .iter()
            .filter_map(|n| {
                let (a, b) = (ours.get(n)?, theirs.get(n)?);
                (a.y == b.y).then(|| {
                    (n.to_string(), paired_auc(&a.p, &b.p, &a.y, &a.learner, settings.resamples, settings.seed))
                })
            })
            .collect()
    });
    Ok(E4Report {
        protocol: "e4",
        model: model_name(model),
        vs_irt_active,
        base: spec.model.as_str().to_owned(),
        auc_at: at(&|r| &r.auc_at, false),
        auc_sd_at: at(&|r| &r.auc_at, true),
        accuracy_at: at(&|r| &r.accuracy_at, false),
        max_exposure: mean_sd(&out.iter().map(|r| r.max_exposure).collect::<Vec<_>>()).0,
        mean_overlap: mean_sd(&out.iter().map(|r| r.mean_overlap).collect::<Vec<_>>()).0,
        n_learners: data.n_learners(),
        n_answers: data.len(),
        draws: settings.draws,
        randomesque: settings.randomesque,
        seed: settings.seed,
        folds: out,
    })
}

fn model_name(m: E4Model) -> String {
    match m {
        E4Model::Irt(Selector::Random) => "irt-random",
        E4Model::Irt(Selector::Active) => "irt-active",
        E4Model::Irt(Selector::Mfi) => "irt-mfi",
        E4Model::Irt(Selector::Kli) => "irt-kli",
        E4Model::BiIrt(BiPolicy::Random) => "biirt-random",
        E4Model::BiIrt(BiPolicy::Active) => "biirt-active",
        E4Model::BiIrt(BiPolicy::Approx) => "biirt-approx",
        E4Model::BiIrt(BiPolicy::Unbiased) => "biirt-unbiased",
        E4Model::BiNn(BiPolicy::Random) => "binn-random",
        E4Model::BiNn(BiPolicy::Active) => "binn-active",
        E4Model::BiNn(BiPolicy::Approx) => "binn-approx",
        E4Model::BiNn(BiPolicy::Unbiased) => "binn-unbiased",
    }
    .to_owned()
}

/// One outcome from runs trained per test length: each length's scores from its own model,
/// exposure and overlap from the longest test's.
fn merge(parts: Vec<E4Outcome>) -> E4Outcome {
    let mut out = parts.last().cloned().unwrap_or(E4Outcome {
        auc_at: BTreeMap::new(),
        accuracy_at: BTreeMap::new(),
        n_query: 0,
        n_learners: 0,
        max_exposure: 0.0,
        mean_overlap: 0.0,
        predictions: BTreeMap::new(),
    });
    for p in &parts {
        out.auc_at.extend(&p.auc_at);
        out.accuracy_at.extend(&p.accuracy_at);
        out.predictions.extend(p.predictions.iter().map(|(k, v)| (*k, v.clone())));
    }
    out
}

/// An E5 learner by name: `none` (the base learner not adapted) or a meta-learner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum E5Model {
    /// The base learner, its state updated from the support.
    None,
    /// An optimization-based learner over the base.
    Meta(Algorithm),
    /// The learned LSTM optimizer as the inner loop.
    LstmOpt,
}

impl FromStr for E5Model {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Self::None),
            "lstm-opt" => Ok(Self::LstmOpt),
            _ => s.parse().map(Self::Meta).map_err(|e| format!("{e}, or none")),
        }
    }
}

impl E5Model {
    fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Meta(a) => a.as_str(),
            Self::LstmOpt => "lstm-opt",
        }
    }
}

/// How an E5 run is set up.
#[derive(Clone, Debug)]
pub struct E5Run {
    /// The learner evaluated (the baselines run beside it).
    pub model: E5Model,
    /// The base learner.
    pub base: ModelSpec,
    /// Train on random cohorts of this many training learners instead of all of them.
    pub cohort: Option<usize>,
    /// Cohorts per fold (default 10).
    pub n_cohorts: usize,
    /// Folds to run (1-based; all five when empty).
    pub folds: Vec<usize>,
    /// Meta-training settings.
    pub meta: MetaConfig,
    /// Bootstrap resamples (default 1000).
    pub resamples: usize,
    /// Seed of the folds, cohorts and resampling.
    pub seed: u64,
}

impl E5Run {
    /// Defaults for `model` over `base`.
    pub fn new(model: E5Model, base: ModelSpec, seed: u64) -> Self {
        Self {
            model,
            base,
            cohort: None,
            n_cohorts: 10,
            folds: Vec::new(),
            meta: MetaConfig { seed, ..MetaConfig::default() },
            resamples: 1000,
            seed,
        }
    }
}

/// One learner's E5 scores, per support size, mean over units (folds or cohorts).
#[derive(Clone, Debug, Default, Serialize)]
pub struct E5Scores {
    /// AUC on answers `k + 1 … k + 20`, by `k`.
    pub auc_at: BTreeMap<String, f64>,
    /// Its sd over units.
    pub auc_sd_at: BTreeMap<String, f64>,
    /// Accuracy, by `k`.
    pub accuracy_at: BTreeMap<String, f64>,
    /// AUC per window (`"3-10"`, `"11-15"`), by `k`.
    pub window_auc: BTreeMap<String, BTreeMap<String, f64>>,
    /// Accuracy per window, by `k`.
    pub window_accuracy: BTreeMap<String, BTreeMap<String, f64>>,
}

/// One unit (a fold, or a cohort within a fold) of an E5 run.
#[derive(Clone, Debug, Serialize)]
pub struct E5Unit {
    /// `fold{k}` or `fold{k}/cohort{c}`.
    pub unit: String,
    /// Training learners.
    pub n_train: usize,
    /// Test learners.
    pub n_test: usize,
    /// AUC by learner name (`none`, `finetune`, the model) and `k`.
    pub auc: BTreeMap<String, BTreeMap<String, f64>>,
    /// Seconds fitting the base learner.
    pub fit_seconds: f64,
    /// Seconds meta-training (all `k`, baselines included).
    pub meta_seconds: f64,
}

/// E5's report.
#[derive(Clone, Debug, Serialize)]
pub struct E5Report {
    /// `e5`.
    pub protocol: &'static str,
    /// The learner evaluated.
    pub model: String,
    /// The base learner.
    pub base: String,
    /// Training-cohort size, `null` for the full training split.
    pub cohort: Option<usize>,
    /// The model's scores.
    #[serde(flatten)]
    pub scores: E5Scores,
    /// The baselines' scores (`none`, and `finetune` unless the model is `none`).
    pub baselines: BTreeMap<String, E5Scores>,
    /// Paired bootstrap of the AUC difference against `none`, by `k`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_none: Option<BTreeMap<String, Interval>>,
    /// Against `finetune`, by `k`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_finetune: Option<BTreeMap<String, Interval>>,
    /// Seed.
    pub seed: u64,
    /// Per unit.
    pub units: Vec<E5Unit>,
}

/// Predictions of every learner pooled over units, learners numbered uniquely per unit.
#[derive(Default)]
struct Pooled {
    traced: Traced,
    per_unit: Vec<Traced>,
}

impl Pooled {
    fn push(&mut self, t: Traced, unit: usize) {
        let offset = (unit as u32) << 20;
        self.traced.p.extend(&t.p);
        self.traced.y.extend(&t.y);
        self.traced.learner.extend(t.learner.iter().map(|l| l | offset));
        self.traced.position.extend(&t.position);
        self.per_unit.push(t);
    }
}

/// Mean (and sd) over units of each support size's scores.
fn scores_by_k(ks: &[usize], by_k: &BTreeMap<usize, Pooled>) -> E5Scores {
    let mut s = E5Scores::default();
    for &k in ks {
        let Some(p) = by_k.get(&k) else { continue };
        let per: Vec<_> = p.per_unit.iter().map(Traced::scores).collect();
        let (m, sd) = mean_sd(&per.iter().map(|x| x.auc).collect::<Vec<_>>());
        s.auc_at.insert(k.to_string(), m);
        s.auc_sd_at.insert(k.to_string(), sd);
        s.accuracy_at.insert(k.to_string(), mean_sd(&per.iter().map(|x| x.accuracy).collect::<Vec<_>>()).0);
        for (lo, hi) in crate::e5::E5_WINDOWS {
            let w = format!("{lo}-{hi}");
            let auc = mean_sd(&per.iter().map(|x| x.window_auc[&w]).collect::<Vec<_>>()).0;
            let acc = mean_sd(&per.iter().map(|x| x.window_accuracy[&w]).collect::<Vec<_>>()).0;
            s.window_auc.entry(w.clone()).or_default().insert(k.to_string(), auc);
            s.window_accuracy.entry(w).or_default().insert(k.to_string(), acc);
        }
    }
    s
}

fn rasch(base: &FittedModel, learner: &'static str) -> Result<attune_kt::Irt> {
    match &base.model {
        Model::Irt(irt) if irt.config.dims == 1 && !irt.config.discrimination => Ok(irt.clone()),
        _ => Err(Error::UnsupportedBase { learner, base: base.name().as_str().to_owned(), supported: "irt1pl" }),
    }
}

/// Runs E5 on `data` (all answers) for `run.model`, with the baselines.
///
/// # Errors
/// Too few learners, a base the meta-learner cannot adapt, a failed fit, cancellation.
pub fn e5(data: &Dataset, run: &E5Run, progress: &dyn Progress) -> Result<E5Report> {
    check_folds(&run.folds)?;
    let supported = match run.model {
        E5Model::None => true,
        E5Model::Meta(_) => matches!(run.base.model, ModelName::Irt1pl | ModelName::Dkt),
        E5Model::LstmOpt => run.base.model == ModelName::Irt1pl,
    };
    if !supported {
        return Err(Error::UnsupportedBase {
            learner: run.model.as_str(),
            base: run.base.model.as_str().to_owned(),
            supported: if run.model == E5Model::LstmOpt { "irt1pl" } else { "irt1pl, dkt" },
        });
    }
    let folds = learner_folds(data, run.seed)?;
    let ks = E5_SUPPORT;
    let names: Vec<&'static str> = match run.model {
        E5Model::None => vec!["none"],
        E5Model::Meta(Algorithm::FineTune) => vec!["none", "finetune"],
        E5Model::Meta(a) => vec!["none", "finetune", a.as_str()],
        E5Model::LstmOpt => vec!["none", "finetune", "lstm-opt"],
    };
    let mut pooled: BTreeMap<&str, BTreeMap<usize, Pooled>> = BTreeMap::new();
    let mut units = Vec::new();
    for (f, fold) in folds.iter().enumerate() {
        if !run.folds.is_empty() && !run.folds.contains(&(f + 1)) {
            continue;
        }
        let trains: Vec<(String, Dataset)> = match run.cohort {
            None => vec![(fold.name.clone(), fold.train.clone())],
            Some(size) => cohorts(&fold.train, size, run.n_cohorts, run.seed ^ (f as u64 + 1))?
                .into_iter()
                .enumerate()
                .map(|(c, d)| (format!("{}/cohort{}", fold.name, c + 1), d))
                .collect(),
        };
        for (name, train) in trains {
            let unit = units.len();
            let t0 = Instant::now();
            let base = fit(&run.base, Training { train: &train, validation: Some((&train, &fold.valid)) }, progress)?;
            let fit_seconds = t0.elapsed().as_secs_f64();
            let (train_m, valid_m, test_m) =
                (base.ids.remap(&train), base.ids.remap(&fold.valid), base.ids.remap(&fold.test));
            let t1 = Instant::now();
            let mut auc: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
            for &k in &ks {
                for &learner in &names {
                    let traced = if learner == "none" {
                        trace_e5(&NotAdapted(&base), &test_m, k)
                    } else if learner == "lstm-opt" {
                        let irt = rasch(&base, "lstm-opt")?;
                        trace_e5(&LstmIrt::train(&irt, &train_m, &valid_m, k, &run.meta, progress)?, &test_m, k)
                    } else {
                        let algorithm: Algorithm = learner.parse().map_err(|_| Error::UnsupportedBase {
                            learner: "e5",
                            base: learner.into(),
                            supported: "",
                        })?;
                        if let Model::Dkt(dkt) = &base.model {
                            let m = MetaDkt::train(algorithm, dkt, &train_m, &valid_m, k, &run.meta, progress)?;
                            trace_e5(&m, &test_m, k)
                        } else {
                            let irt = rasch(&base, algorithm.as_str())?;
                            let m = MetaIrt::train(algorithm, &irt, &train_m, &valid_m, k, &run.meta, progress)?;
                            trace_e5(&m, &test_m, k)
                        }
                    };
                    auc.entry(learner.to_owned()).or_default().insert(k.to_string(), traced.scores().auc);
                    pooled.entry(learner).or_default().entry(k).or_default().push(traced, unit);
                }
            }
            units.push(E5Unit {
                unit: name,
                n_train: train.n_learners(),
                n_test: fold.test.n_learners(),
                auc,
                fit_seconds,
                meta_seconds: t1.elapsed().as_secs_f64(),
            });
        }
    }
    let model = run.model.as_str();
    let scores_of = |name: &str| pooled.get(name).map(|by_k| scores_by_k(&ks, by_k)).unwrap_or_default();
    let versus = |baseline: &str| -> Option<BTreeMap<String, Interval>> {
        if model == "none" || model == baseline {
            return None;
        }
        let (a, b) = (pooled.get(model)?, pooled.get(baseline)?);
        Some(
            ks.iter()
                .filter_map(|k| {
                    let (a, b) = (&a.get(k)?.traced, &b.get(k)?.traced);
                    Some((k.to_string(), paired_auc(&a.p, &b.p, &a.y, &a.learner, run.resamples, run.seed)))
                })
                .collect(),
        )
    };
    let baselines = names.iter().filter(|&&n| n != model).map(|&n| (n.to_owned(), scores_of(n))).collect();
    Ok(E5Report {
        protocol: "e5",
        model: model.to_owned(),
        base: run.base.model.as_str().to_owned(),
        cohort: run.cohort,
        scores: scores_of(model),
        baselines,
        vs_none: versus("none"),
        vs_finetune: versus("finetune"),
        seed: run.seed,
        units,
    })
}
