//! E4 end to end: folds of learners, the base fitted per fold, the tester (and IRT-Active
//! beside it for the paired interval), means over folds.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Instant;

use attune_core::{Dataset, Progress};
use attune_models::{FittedModel, ModelName, ModelSpec, Training, fit};
use attune_policy::cat::{Estimator, Selector};
use serde::Serialize;

use crate::Result;
use crate::bobcat::{BiIrt, BiPolicy};
use crate::bobcat_2pl::{Bi2pl, StartPriors};
use crate::bobcat_nn::BiNn;
use crate::bootstrap::{Interval, paired_auc};
use crate::e4::{E4Outcome, E4Predictions, E4Settings, run_e4};
use crate::irt_cat::IrtTester;
use crate::irt_meta::MetaConfig;
use crate::readers::{ReaderKind, ReaderModel, ReaderTester};
use crate::strategy::{Strategy, StrategyTester, check_test_strategies, train_test_candidates};
use crate::tasks::{e4_data, learner_folds};

use super::choice::{StrategyReport, StrategyStats, oracle};
use super::{check_folds, keyed, mean_sd, rasch, two_pl};

/// An E4 tester by name: `irt-random`, `irt-active`, `irt-mfi`, `irt-kli`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum E4Model {
    /// Items fitted on the training learners, ability by MAP, a classic selection rule.
    Irt(Selector),
    /// BOBCAT's meta-learned BiIRT with a selection rule.
    BiIrt(BiPolicy),
    /// BOBCAT's meta-learned BiNN with a selection rule.
    BiNn(BiPolicy),
    /// A metric- or model-based learner with Active selection.
    Reader(ReaderKind),
    /// IRT-Active's test, the response model chosen per learner among
    /// [`E4Settings::strategies`].
    Strategy,
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
            "biirt-mfi" => Ok(Self::BiIrt(BiPolicy::Mfi)),
            "binn-random" => Ok(Self::BiNn(BiPolicy::Random)),
            "binn-active" => Ok(Self::BiNn(BiPolicy::Active)),
            "binn-approx" => Ok(Self::BiNn(BiPolicy::Approx)),
            "biirt-unbiased" => Ok(Self::BiIrt(BiPolicy::Unbiased)),
            "binn-unbiased" => Ok(Self::BiNn(BiPolicy::Unbiased)),
            _ if s.parse::<ReaderKind>().is_ok() => s.parse().map(Self::Reader),
            "strategy" => Ok(Self::Strategy),
            _ => Err(format!(
                "unknown E4 model {s:?} (irt-random, irt-active, irt-mfi, irt-kli, biirt-random, biirt-active, \
                 biirt-mfi, biirt-approx, biirt-unbiased, binn-random, binn-active, binn-approx, binn-unbiased, siamese, matching, \
                 protonet, rnn-reader, memory-reader, strategy)"
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
    /// BiIRT over the 2PL: the priors of the fit each test length's tester started from,
    /// chosen on validation (by length, `"1"`, `"3"`, …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub start_priors: BTreeMap<String, StartPriors>,
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
    /// Strategy selection's choices, regret and gain, for `strategy` (every test's query
    /// predictions pooled over folds and draws).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategyReport>,
    /// This tester's AUC minus each tester of [`E4Settings::versus`]'s and, for `strategy`,
    /// each candidate's, the best single one's and the oracle's, by name and test length
    /// (paired bootstrap over learners on the same draws, as `vs_irt_active`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub versus: BTreeMap<String, BTreeMap<String, Interval>>,
    /// Per fold.
    pub folds: Vec<E4Fold>,
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
    if model == E4Model::Strategy {
        check_test_strategies(&settings.strategies)?;
    }
    let data = e4_data(data);
    let folds = learner_folds(&data, settings.seed)?;
    let mut out = Vec::new();
    // Every fold's query predictions, this tester's and IRT-Active's on the same draws, with
    // learners numbered across folds.
    let active = E4Model::Irt(Selector::Active);
    let (mut ours, mut theirs): (BTreeMap<usize, E4Predictions>, BTreeMap<usize, E4Predictions>) = Default::default();
    let mut offset = 0u32;
    let mut choice = Choices::default();
    let mut versus: BTreeMap<String, BTreeMap<usize, E4Predictions>> = BTreeMap::new();
    for (k, fold) in folds.iter().enumerate() {
        if !only.is_empty() && !only.contains(&(k + 1)) {
            continue;
        }
        let t0 = Instant::now();
        let base = fit(spec, Training { train: &fold.train, validation: None }, progress)?;
        let fit_seconds = t0.elapsed().as_secs_f64();
        let test = base.ids.remap(&fold.test);
        let t1 = Instant::now();
        let (train, valid) = (base.ids.remap(&fold.train), base.ids.remap(&fold.valid));
        let run = Run { base: &base, train: &train, valid: &valid, test: &test, settings };
        let o = run.tester(model, Some((&mut choice, offset)), progress)?;
        for &v in settings.versus.iter().filter(|&&v| v != model && v != active) {
            let ov = run.tester(v, None, progress)?;
            pool(versus.entry(model_name(v)).or_default(), &ov, offset);
        }
        // The reference is BOBCAT's IRT-Active: the Rasch model with the registry's defaults
        // (no skill pooling), whatever the base and its hyperparameters.
        let plain = ModelSpec::new(ModelName::Irt1pl, spec.config.seed().unwrap_or(settings.seed));
        let rasch_base = if spec.model == plain.model && spec.config.to_json() == plain.config.to_json() {
            None
        } else {
            Some(fit(&plain, Training { train: &fold.train, validation: None }, progress)?)
        };
        let reference = if model == active && rasch_base.is_none() {
            None
        } else {
            let b = rasch_base.as_ref().unwrap_or(&base);
            let tester = IrtTester::new(b, Selector::Active, Estimator::Map)?.with_randomesque(settings.randomesque);
            Some(run_e4(&tester, &b.ids.remap(&fold.test), settings))
        };
        pool(&mut ours, &o, offset);
        if let Some(r) = &reference {
            pool(&mut theirs, r, offset);
        }
        offset += u32::try_from(test.n_learners()).unwrap_or(u32::MAX);
        out.push(E4Fold {
            fold: fold.name.clone(),
            auc_at: keyed(&o.auc_at),
            accuracy_at: keyed(&o.accuracy_at),
            max_exposure: o.max_exposure,
            mean_overlap: o.mean_overlap,
            start_priors: o.start_priors.iter().map(|(n, p)| (n.to_string(), *p)).collect(),
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
    let vs_irt_active = (!theirs.is_empty()).then(|| intervals(&ours, &theirs, settings));
    let strategy = (model == E4Model::Strategy).then(|| choice.report(&settings.steps, settings));
    let mut against = if model == E4Model::Strategy { choice.versus(settings) } else { BTreeMap::new() };
    against.extend(versus.iter().map(|(name, theirs)| (name.clone(), intervals(&ours, theirs, settings))));
    Ok(E4Report {
        strategy,
        versus: against,
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
        E4Model::Reader(kind) => kind.as_str(),
        E4Model::Strategy => "strategy",
        E4Model::Irt(Selector::Random) => "irt-random",
        E4Model::Irt(Selector::Active) => "irt-active",
        E4Model::Irt(Selector::Mfi) => "irt-mfi",
        E4Model::Irt(Selector::Kli) => "irt-kli",
        E4Model::BiIrt(BiPolicy::Random) => "biirt-random",
        E4Model::BiIrt(BiPolicy::Active) => "biirt-active",
        E4Model::BiIrt(BiPolicy::Approx) => "biirt-approx",
        E4Model::BiIrt(BiPolicy::Unbiased) => "biirt-unbiased",
        E4Model::BiIrt(BiPolicy::Mfi) => "biirt-mfi",
        E4Model::BiNn(BiPolicy::Mfi) => "binn-mfi",
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
        start_priors: BTreeMap::new(),
    });
    for p in &parts {
        out.start_priors.extend(&p.start_priors);
        out.auc_at.extend(&p.auc_at);
        out.accuracy_at.extend(&p.accuracy_at);
        out.predictions.extend(p.predictions.iter().map(|(k, v)| (*k, v.clone())));
    }
    out
}

/// A strategy's test predictions and choices, pooled over folds: its own, each candidate's,
/// the best single candidate's (each fold's reference) and the oracle's, by test length.
#[derive(Default)]
struct Choices {
    stats: StrategyStats,
    pooled: BTreeMap<String, BTreeMap<usize, E4Predictions>>,
}

impl Choices {
    /// One fold's strategy for length `n`: `chosen` tests per candidate, `per` candidate's
    /// outcome and the strategy's `own`, learners numbered from `offset`.
    fn add(&mut self, s: &Strategy, n: usize, chosen: &[usize], per: &[E4Outcome], own: &E4Outcome, offset: u32) {
        self.stats.count(s, n, chosen);
        let Some(first) = per.first().and_then(|o| o.predictions.get(&n)) else { return };
        let ps: Vec<&[f64]> = per.iter().filter_map(|o| Some(o.predictions.get(&n)?.p.as_slice())).collect();
        let best = E4Predictions { p: oracle(&ps, &first.y, &first.learner), ..first.clone() };
        let mut named: Vec<(String, &E4Predictions)> = vec![("oracle".into(), &best)];
        if let Some(p) = own.predictions.get(&n) {
            named.push(("strategy".into(), p));
        }
        if let Some(p) = per.get(s.selector.reference).and_then(|o| o.predictions.get(&n)) {
            named.push(("best-single".into(), p));
        }
        for (c, o) in s.candidates.iter().zip(per) {
            if let Some(p) = o.predictions.get(&n) {
                named.push((c.name.clone(), p));
            }
        }
        for (name, p) in named {
            let e = self.pooled.entry(name).or_default().entry(n).or_default();
            e.p.extend(&p.p);
            e.y.extend(&p.y);
            e.learner.extend(p.learner.iter().map(|l| l + offset));
        }
    }

    fn report(&self, steps: &[usize], settings: &E4Settings) -> StrategyReport {
        let of = |name: &str, n: usize| self.pooled.get(name)?.get(&n).map(|p| (p.p.as_slice(), p.y.as_slice()));
        let gain = self.versus(settings).remove("best-single");
        self.stats.report(steps, &of, gain)
    }

    /// The strategy against each other name, by test length.
    fn versus(&self, settings: &E4Settings) -> BTreeMap<String, BTreeMap<String, Interval>> {
        let Some(ours) = self.pooled.get("strategy") else { return BTreeMap::new() };
        self.pooled
            .iter()
            .filter(|(name, _)| *name != "strategy")
            .map(|(name, theirs)| (name.clone(), intervals(ours, theirs, settings)))
            .collect()
    }
}

/// One fold's data for running a tester: the base fitted on its training learners and the
/// learners on the base's ids.
struct Run<'a> {
    base: &'a FittedModel,
    train: &'a Dataset,
    valid: &'a Dataset,
    test: &'a Dataset,
    settings: &'a E4Settings,
}

impl Run<'_> {
    /// Trains `model` (per test length where it learns) and runs its tests; a strategy counts
    /// its choices into `choice` (learners numbered from the offset).
    fn tester(
        &self,
        model: E4Model,
        mut choice: Option<(&mut Choices, u32)>,
        progress: &dyn Progress,
    ) -> Result<E4Outcome> {
        let (settings, r) = (self.settings, self.settings.randomesque.max(1));
        let meta = MetaConfig { seed: settings.seed, ..MetaConfig::default() };
        match model {
            E4Model::Irt(selector) => {
                let tester = IrtTester::new(self.base, selector, Estimator::Map)?.with_randomesque(r);
                Ok(run_e4(&tester, self.test, settings))
            }
            // Over a 2PL base BiIRT learns a slope per item too.
            E4Model::BiIrt(policy) => match two_pl(self.base) {
                Some(irt) => {
                    let starts = Bi2pl::slope_starts(irt, self.train, &meta, progress)?;
                    let lengths = &settings.steps;
                    let testers =
                        Bi2pl::train_lengths(&starts, policy, self.train, self.valid, lengths, &meta, progress)?;
                    let mut testers = testers.into_iter();
                    self.per_length(|n, one| {
                        let mut m = testers.next().ok_or(crate::Error::TooFewLearners { needed: 1, found: 0 })?;
                        m.randomesque = r;
                        Ok(E4Outcome { start_priors: [(n, m.start)].into(), ..run_e4(&m, self.test, one) })
                    })
                }
                None => {
                    let irt = rasch(self.base, "biirt")?;
                    self.per_length(|n, one| {
                        let mut m = BiIrt::train(&irt, policy, self.train, self.valid, n, &meta, progress)?;
                        m.randomesque = r;
                        Ok(run_e4(&m, self.test, one))
                    })
                }
            },
            E4Model::BiNn(policy) => {
                let irt = rasch(self.base, "binn")?;
                self.per_length(|n, one| {
                    let mut m = BiNn::train(&irt, policy, self.train, self.valid, n, &meta, progress)?;
                    m.randomesque = r;
                    Ok(run_e4(&m, self.test, one))
                })
            }
            E4Model::Reader(kind) => {
                let irt = rasch(self.base, kind.as_str())?;
                self.per_length(|n, one| {
                    let reader = ReaderModel::train_for_tests(kind, &irt, self.train, self.valid, n, &meta, progress)?;
                    Ok(run_e4(&ReaderTester::new(reader, r), self.test, one))
                })
            }
            E4Model::Strategy => self.per_length(|n, one| {
                let specs = &settings.strategies;
                let candidates = train_test_candidates(specs, self.base, self.train, self.valid, n, &meta, progress)?;
                let s = Strategy::train_for_tests(candidates, self.valid, n, settings.seed)?;
                let tester = StrategyTester::new(&s, r)?;
                let o = run_e4(&tester, self.test, one);
                let per = (0..s.candidates.len())
                    .map(|c| Ok(run_e4(&StrategyTester::new(&s, r)?.only(c), self.test, one)))
                    .collect::<Result<Vec<_>>>()?;
                if let Some((choice, offset)) = choice.as_mut() {
                    choice.add(&s, n, &tester.chosen_counts(), &per, &o, *offset);
                }
                Ok(o)
            }),
        }
    }

    /// A tester trained for each test length: each length scored by its own.
    fn per_length(&self, mut one: impl FnMut(usize, &E4Settings) -> Result<E4Outcome>) -> Result<E4Outcome> {
        let mut parts = Vec::new();
        for &n in &self.settings.steps {
            parts.push(one(n, &E4Settings { steps: vec![n], ..self.settings.clone() })?);
        }
        Ok(merge(parts))
    }
}

/// Adds `o`'s predictions to `pooled`, its learners numbered from `offset`.
fn pool(pooled: &mut BTreeMap<usize, E4Predictions>, o: &E4Outcome, offset: u32) {
    for (n, p) in &o.predictions {
        let e = pooled.entry(*n).or_default();
        e.p.extend(&p.p);
        e.y.extend(&p.y);
        e.learner.extend(p.learner.iter().map(|l| l + offset));
    }
}

/// Paired bootstrap intervals of `ours` minus `theirs` by test length, where both scored the
/// same answers.
fn intervals(
    ours: &BTreeMap<usize, E4Predictions>,
    theirs: &BTreeMap<usize, E4Predictions>,
    settings: &E4Settings,
) -> BTreeMap<String, Interval> {
    ours.iter()
        .filter_map(|(n, a)| {
            let b = theirs.get(n).filter(|b| b.y == a.y)?;
            Some((n.to_string(), paired_auc(&a.p, &b.p, &a.y, &a.learner, settings.resamples, settings.seed)))
        })
        .collect()
}
