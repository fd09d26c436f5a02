//! E5 end to end: folds (or cohorts) of training learners, the base fitted per unit, the
//! baselines beside every meta-learner, bootstrap intervals against each.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Instant;

use attune_core::{Dataset, Progress};
use attune_models::{ModelName, ModelSpec, Training, fit};
use serde::Serialize;

use crate::bootstrap::{Interval, paired_auc};
use crate::e5::{E5_HORIZON, E5_SUPPORT, Traced, trace_e5};
use crate::irt_meta::{Algorithm, MetaConfig};
use crate::readers::ReaderKind;
use crate::strategy::{Strategy, fit_strategy_bases, train_strategy_candidates};

use super::choice::{StrategyReport, StrategyStats, oracle};
use crate::tasks::{cohorts, episode, learner_folds};
use crate::tracer::{Tracer, train_tracer};
use crate::{Error, Result};

use super::{check_folds, mean_sd};

/// An E5 learner by name: `none` (the base learner not adapted) or a meta-learner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum E5Model {
    /// The base learner, its state updated from the support.
    None,
    /// An optimization-based learner over the base.
    Meta(Algorithm),
    /// The learned LSTM optimizer as the inner loop.
    LstmOpt,
    /// A metric- or model-based learner.
    Reader(ReaderKind),
    /// Strategy selection among the candidates of [`MetaConfig::strategies`].
    Strategy,
}

impl FromStr for E5Model {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Self::None),
            "lstm-opt" => Ok(Self::LstmOpt),
            "strategy" => Ok(Self::Strategy),
            _ => match s.parse::<ReaderKind>() {
                Ok(r) => Ok(Self::Reader(r)),
                Err(_) => s.parse().map(Self::Meta).map_err(|e| {
                    let readers: Vec<&str> = ReaderKind::ALL.iter().map(|r| r.as_str()).collect();
                    format!("{e}, lstm-opt, {}, strategy, or none", readers.join(", "))
                }),
            },
        }
    }
}

impl E5Model {
    /// The name `attune eval --model` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Meta(a) => a.as_str(),
            Self::LstmOpt => "lstm-opt",
            Self::Reader(r) => r.as_str(),
            Self::Strategy => "strategy",
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
    /// Other learners run beside on the same units, with paired intervals against each (in
    /// the report's `versus`).
    pub versus: Vec<E5Model>,
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
            versus: Vec::new(),
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
    /// Against each learner of [`E5Run::versus`], by its name and `k`; their scores are in
    /// `baselines`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub versus: BTreeMap<String, BTreeMap<String, Interval>>,
    /// Each learner other than the model (and the baselines) against `none` and `finetune`, by
    /// its name, the baseline's and `k`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub baseline_intervals: BTreeMap<String, BTreeMap<String, BTreeMap<String, Interval>>>,
    /// Strategy selection's regret and gain, for `strategy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategyReport>,
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

/// Runs E5 on `data` (all answers) for `run.model`, with the baselines.
///
/// # Errors
/// Too few learners, a base the meta-learner cannot adapt, a failed fit, cancellation.
pub fn e5(data: &Dataset, run: &E5Run, progress: &dyn Progress) -> Result<E5Report> {
    check_folds(&run.folds)?;
    let supported = match run.model {
        E5Model::None => true,
        E5Model::Meta(_) => {
            matches!(run.base.model, ModelName::Irt1pl | ModelName::Dkt | ModelName::Bkt | ModelName::BktForgets)
        }
        E5Model::Reader(ReaderKind::RnnReader | ReaderKind::MemoryReader) => {
            matches!(run.base.model, ModelName::Irt1pl | ModelName::Bkt | ModelName::BktForgets | ModelName::Dkt)
        }
        E5Model::LstmOpt | E5Model::Reader(_) | E5Model::Strategy => run.base.model == ModelName::Irt1pl,
    };
    if !supported {
        return Err(Error::UnsupportedBase {
            learner: run.model.as_str(),
            base: run.base.model.as_str().to_owned(),
            supported: match run.model {
                E5Model::Meta(_) => "irt1pl, dkt, bkt, bkt-forgets",
                E5Model::Reader(ReaderKind::RnnReader | ReaderKind::MemoryReader) => "irt1pl, bkt, bkt-forgets, dkt",
                _ => "irt1pl",
            },
        });
    }
    let folds = learner_folds(data, run.seed)?;
    let ks = E5_SUPPORT;
    let mut names: Vec<&'static str> = match run.model {
        E5Model::None => vec!["none"],
        E5Model::Meta(Algorithm::FineTune) => vec!["none", "finetune"],
        E5Model::Meta(a) => vec!["none", "finetune", a.as_str()],
        E5Model::LstmOpt => vec!["none", "finetune", "lstm-opt"],
        E5Model::Reader(r) => vec!["none", "finetune", r.as_str()],
        E5Model::Strategy => vec!["none", "finetune", "strategy"],
    };
    for v in &run.versus {
        if !names.contains(&v.as_str()) {
            names.push(v.as_str());
        }
    }
    let mut pooled: BTreeMap<String, BTreeMap<usize, Pooled>> = BTreeMap::new();
    let mut stats = StrategyStats::default();
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
            let bases = match run.model {
                E5Model::Strategy => {
                    fit_strategy_bases(&run.meta.strategies, &base, &train, &fold.valid, run.seed, progress)?
                }
                _ => Vec::new(),
            };
            let mut auc: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
            for &k in &ks {
                let mut traces: Vec<(String, Traced)> = Vec::new();
                if run.model == E5Model::Strategy {
                    let candidates = train_strategy_candidates(
                        &run.meta.strategies,
                        &bases,
                        &train_m,
                        &valid_m,
                        k,
                        &run.meta,
                        progress,
                    )?;
                    let s = Strategy::train(candidates, &valid_m, k, run.seed)?;
                    traces.extend(strategy_unit(&s, &test_m, k, &mut stats));
                }
                for &learner in names.iter().filter(|&&n| n != "strategy") {
                    // A strategy's candidate over the same base is this learner, traced already.
                    let same = format!("{}:{learner}", run.base.model.as_str());
                    if let Some(t) = traces.iter().find(|(n, _)| *n == same).map(|(_, t)| t.clone()) {
                        traces.push((learner.to_owned(), t));
                        continue;
                    }
                    let model: E5Model = learner.parse().map_err(Error::UnknownLearner)?;
                    let trained = train_tracer(model, &base, &train_m, &valid_m, k, &run.meta, progress)?;
                    traces.push((
                        learner.to_owned(),
                        trace_e5(&Tracer { base: &base.model, trained: trained.as_ref() }, &test_m, k),
                    ));
                }
                for (learner, traced) in traces {
                    auc.entry(learner.clone()).or_default().insert(k.to_string(), traced.scores().auc);
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
    let pair = |a: &str, b: &str| -> Option<BTreeMap<String, Interval>> {
        let (a, b) = (pooled.get(a)?, pooled.get(b)?);
        Some(
            ks.iter()
                .filter_map(|k| {
                    let (a, b) = (&a.get(k)?.traced, &b.get(k)?.traced);
                    Some((k.to_string(), paired_auc(&a.p, &b.p, &a.y, &a.learner, run.resamples, run.seed)))
                })
                .collect(),
        )
    };
    let versus = |baseline: &str| if model == "none" || model == baseline { None } else { pair(model, baseline) };
    // Every other learner against both baselines too, so that each one's wins are claimable.
    let baseline_intervals = pooled
        .keys()
        .filter(|n| ![model, "none", "oracle", "best-single"].contains(&n.as_str()))
        .map(|n| {
            let both: BTreeMap<String, BTreeMap<String, Interval>> = ["none", "finetune"]
                .iter()
                .filter(|b| **b != n.as_str())
                .filter_map(|b| Some(((*b).to_owned(), pair(n, b)?)))
                .collect();
            (n.clone(), both)
        })
        .filter(|(_, both)| !both.is_empty())
        .collect();
    let baselines = pooled.keys().filter(|n| *n != model).map(|n| (n.clone(), scores_of(n))).collect();
    // A strategy is compared with each candidate, the best single one and the oracle too.
    let mut against: Vec<String> = run.versus.iter().map(|v| v.as_str().to_owned()).collect();
    if run.model == E5Model::Strategy {
        against.extend(pooled.keys().filter(|n| !["none", "finetune", "strategy"].contains(&n.as_str())).cloned());
    }
    let strategy = (run.model == E5Model::Strategy).then(|| {
        let of =
            |name: &str, k: usize| pooled.get(name)?.get(&k).map(|p| (p.traced.p.as_slice(), p.traced.y.as_slice()));
        stats.report(&ks, &of, versus("best-single"))
    });
    Ok(E5Report {
        protocol: "e5",
        model: model.to_owned(),
        base: run.base.model.as_str().to_owned(),
        cohort: run.cohort,
        scores: scores_of(model),
        baselines,
        vs_none: versus("none"),
        vs_finetune: versus("finetune"),
        versus: against.iter().filter_map(|v| Some((v.clone(), versus(v)?))).collect(),
        baseline_intervals,
        strategy,
        seed: run.seed,
        units,
    })
}

/// Traces the strategy, each of its candidates, its best single candidate and the oracle on
/// `test` at support size `k`, counting its choices in `stats`.
fn strategy_unit(s: &Strategy, test: &Dataset, k: usize, stats: &mut StrategyStats) -> Vec<(String, Traced)> {
    let per: Vec<Traced> = s.candidates.iter().map(|c| trace_e5(&c.tracer(), test, k)).collect();
    let mut chosen = vec![0; s.candidates.len()];
    for rows in test.learners() {
        if let Some(ep) = episode(rows, k, E5_HORIZON) {
            let support: Vec<_> = test.interactions(ep.support).collect();
            chosen[s.choose(&support)] += 1;
        }
    }
    stats.count(s, k, &chosen);
    let mut out: Vec<(String, Traced)> = s.candidates.iter().map(|c| c.name.clone()).zip(per.iter().cloned()).collect();
    out.push(("strategy".into(), trace_e5(s, test, k)));
    out.push(("best-single".into(), per[s.selector.reference].clone()));
    let mut best = per[0].clone();
    best.p = oracle(&per.iter().map(|t| t.p.as_slice()).collect::<Vec<_>>(), &best.y, &best.learner);
    out.push(("oracle".into(), best));
    out
}
