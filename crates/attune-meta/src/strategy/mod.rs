//! Strategy selection: from a new learner's first answers, choose the base learner and the
//! way it adapts (a [`StrategySpec`], such as `bkt:none` or `irt1pl:metasgd`) expected to
//! predict that learner's next answers best.
//!
//! Each candidate is trained as protocol E5 trains it. The selector is fitted on the
//! validation learners: for every candidate other than the *reference* (the candidate with
//! the best validation AUC, the best single strategy), a ridge regression predicts from the
//! support how much lower that candidate's log-loss on the next answers will be than the
//! reference's. A learner gets the candidate predicted best only if it is predicted to beat
//! the reference by more than a margin, chosen by two-fold cross-fitting on the same
//! learners; with the largest margin the selector is the best single strategy, so it does not
//! give up what choosing one strategy for everyone would get on validation.
//!
//! The features are what the support shows before any adaptation: the share of right answers
//! and, for each distinct base learner, its prequential log-loss on the support (each answer
//! predicted from the earlier ones): how well each kind of model explains this learner so far.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use attune_core::{Dataset, Interaction, Progress};
use attune_models::{FittedModel, LearnerState, Model, ModelName, ModelSpec, Training, fit};
use serde::{Deserialize, Serialize};

use crate::e5::{Adapted, E5_HORIZON, MetaLearner, Traced, trace_e5};
use crate::file::{Trained, check_learner};
use crate::irt_meta::MetaConfig;
use crate::protocol::E5Model;
use crate::tasks::episode;
use crate::tracer::{AdaptedModel, Tracer, adapt_tracer, train_tracer};
use crate::{Error, Result};

mod selector;
mod testing;

pub use self::selector::Selector;
use self::selector::{MARGINS, features, learner_losses};
use self::testing::Reading;
pub use self::testing::{StrategySession, StrategyTester, check_test_strategies, train_test_candidates};

/// The candidates `--model strategy` chooses among unless told otherwise.
pub const DEFAULT_STRATEGIES: &str =
    "bkt:none,pfa:none,irt1pl:none,irt1pl:finetune,irt1pl:metasgd,irt1pl:rnn-reader,dkt:none";

/// The candidates an E4 strategy (`attune eval --protocol e4 --model strategy`) chooses among
/// unless told otherwise: response models over the Rasch model reading IRT-Active's test.
pub const DEFAULT_TEST_STRATEGIES: &str =
    "irt1pl:none,irt1pl:metasgd,irt1pl:siamese,irt1pl:protonet,irt1pl:memory-reader";

/// What a strategy's selector reads off a learner's answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Features {
    /// Each distinct base learner's prequential loss and belief, the bases not adapted (E5).
    #[default]
    Bases,
    /// Each candidate's prequential loss and belief as it adapts answer by answer (E4, where
    /// the test's answers are few and every candidate reads them).
    Candidates,
}

/// One candidate strategy: a base learner and how it adapts to a new learner; written
/// `base:adaptation`, e.g. `bkt:none` or `irt1pl:metasgd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StrategySpec {
    /// The base learner.
    pub base: ModelName,
    /// Its adaptation (`none`, `finetune`, a meta-learner, a reader).
    pub adaptation: E5Model,
}

impl FromStr for StrategySpec {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (base, adaptation) =
            s.split_once(':').ok_or_else(|| format!("{s:?}: a strategy is base:adaptation, e.g. bkt:none"))?;
        let base: ModelName = base.parse().map_err(|e: attune_models::Error| e.to_string())?;
        let adaptation: E5Model = adaptation.parse()?;
        if adaptation == E5Model::Strategy {
            return Err(format!("{s:?}: a strategy's candidate cannot be a strategy"));
        }
        Ok(Self { base, adaptation })
    }
}

impl TryFrom<String> for StrategySpec {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse()
    }
}

impl From<StrategySpec> for String {
    fn from(s: StrategySpec) -> Self {
        s.to_string()
    }
}

impl fmt::Display for StrategySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.base.as_str(), self.adaptation.as_str())
    }
}

/// Parses a comma-separated list of strategies.
///
/// # Errors
/// An entry that is not `base:adaptation`, fewer than two entries, or one twice.
pub fn parse_strategies(list: &str) -> std::result::Result<Vec<StrategySpec>, String> {
    let specs: Vec<StrategySpec> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<std::result::Result<_, _>>()?;
    if specs.len() < 2 {
        return Err(format!("{list:?}: choosing needs at least two strategies"));
    }
    if let Some(d) = specs.iter().enumerate().find(|(i, s)| specs[..*i].contains(s)) {
        return Err(format!("{} is listed twice", d.1));
    }
    Ok(specs)
}

/// Fits the distinct base learners of `specs` in order of first appearance on `train`
/// (early stopping on `valid`, as every base of protocol E5), taking `fitted` where it is one
/// of them: so every candidate's base has the same ids.
///
/// # Errors
/// A failed fit, cancellation.
pub fn fit_strategy_bases(
    specs: &[StrategySpec],
    fitted: &FittedModel,
    train: &Dataset,
    valid: &Dataset,
    seed: u64,
    progress: &dyn Progress,
) -> Result<Vec<FittedModel>> {
    let mut bases: Vec<FittedModel> = Vec::new();
    for s in specs {
        if bases.iter().any(|b| b.name() == s.base) {
            continue;
        }
        bases.push(if s.base == fitted.name() {
            fitted.clone()
        } else {
            fit(&ModelSpec::new(s.base, seed), Training { train, validation: Some((train, valid)) }, progress)?
        });
    }
    Ok(bases)
}

/// Trains every candidate of `specs` for support size `k` over its base from `bases` (as
/// [`fit_strategy_bases`] gives them), on `train`, choosing on `valid` (both on the bases' ids).
///
/// # Errors
/// A base a candidate cannot adapt, too few learners, cancellation.
pub fn train_strategy_candidates(
    specs: &[StrategySpec],
    bases: &[FittedModel],
    train: &Dataset,
    valid: &Dataset,
    k: usize,
    cfg: &MetaConfig,
    progress: &dyn Progress,
) -> Result<Vec<Candidate>> {
    specs
        .iter()
        .map(|s| {
            let base = bases.iter().find(|b| b.name() == s.base).ok_or(Error::UnsupportedBase {
                learner: "strategy",
                base: s.base.as_str().to_owned(),
                supported: "the bases fitted for the strategies",
            })?;
            let trained = train_tracer(s.adaptation, base, train, valid, k, cfg, progress)?;
            Ok(Candidate { name: s.to_string(), base: base.clone(), trained })
        })
        .collect()
}

/// A trained candidate.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Its [`StrategySpec`] as text.
    pub name: String,
    /// Its base learner, fitted normally (every candidate's on the same ids).
    pub base: FittedModel,
    /// Its meta-learner, `None` where the base is not adapted.
    pub trained: Option<Trained>,
}

impl Candidate {
    pub(crate) fn tracer(&self) -> Tracer<'_> {
        Tracer { base: &self.base.model, trained: self.trained.as_ref() }
    }
}

/// A strategy selector and its candidates, for one support size.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "StrategyFile", into = "StrategyFile")]
pub struct Strategy {
    /// The support size it was trained for.
    pub support: usize,
    /// The candidates, in the order they were listed.
    pub candidates: Vec<Candidate>,
    /// How it chooses.
    pub selector: Selector,
    /// Its E5 AUC on the validation learners its selector was fitted on.
    pub validation_auc: f64,
    /// Each candidate's validation AUC.
    pub candidate_auc: Vec<f64>,
    /// What the selector reads.
    pub features: Features,
}

impl Strategy {
    /// Fits the selector over `candidates` (trained for support size `k`) on the validation
    /// learners `valid` (on the candidates' ids); `seed` draws the halves of the margin's
    /// cross-fitting.
    ///
    /// # Errors
    /// Fewer than two candidates, candidates on different ids, no validation learner with an
    /// answer after the support.
    pub fn train(candidates: Vec<Candidate>, valid: &Dataset, k: usize, seed: u64) -> Result<Self> {
        Self::check_candidates(&candidates)?;
        let traces: Vec<Traced> = candidates.iter().map(|c| trace_e5(&c.tracer(), valid, k)).collect();
        let candidate_auc: Vec<f64> = traces.iter().map(|t| attune_core::metrics::auc(&t.p, &t.y)).collect();
        let reference = (0..candidates.len())
            .max_by(|&a, &b| candidate_auc[a].total_cmp(&candidate_auc[b]).then(b.cmp(&a)))
            .unwrap_or(0);
        let per: Vec<Vec<(u32, f64)>> = traces.iter().map(learner_losses).collect();
        let rows: Vec<_> = valid.learners().collect();
        let mut strategy = Self {
            support: k,
            candidates,
            selector: Selector { reference, weights: Vec::new(), margin: MARGINS[MARGINS.len() - 1] },
            validation_auc: f64::NAN,
            candidate_auc,
            features: Features::Bases,
        };
        let bases = strategy.bases();
        let (mut x, mut loss) = (Vec::new(), Vec::new());
        for (j, &(learner, _)) in per[0].iter().enumerate() {
            // Every candidate traces the same learners and answers: the same episodes.
            let Some(ep) = rows.get(learner as usize).and_then(|r| episode(r.clone(), k, E5_HORIZON)) else {
                continue;
            };
            let support: Vec<Interaction<'_>> = valid.interactions(ep.support).collect();
            x.push(features(&bases, &support));
            loss.push(per.iter().map(|p| p.get(j).map_or(f64::NAN, |v| v.1)).collect::<Vec<f64>>());
        }
        if x.is_empty() {
            return Err(Error::TooFewLearners { needed: 1, found: 0 });
        }
        let groups: Vec<usize> = (0..x.len()).collect();
        strategy.selector = Selector::train(reference, &x, &loss, &groups, seed);
        let t = trace_e5(&strategy, valid, k);
        strategy.validation_auc = attune_core::metrics::auc(&t.p, &t.y);
        Ok(strategy)
    }

    /// At least two candidates, every one's base on the first one's ids.
    fn check_candidates(candidates: &[Candidate]) -> Result<()> {
        if candidates.len() < 2 {
            return Err(Error::InvalidConfig {
                learner: "strategy",
                param: "strategies",
                value: candidates.len().to_string(),
                reason: "at least two candidates",
            });
        }
        if let Some(c) = candidates.iter().find(|c| c.base.ids != candidates[0].base.ids) {
            return Err(Error::InvalidConfig {
                learner: "strategy",
                param: "strategies",
                value: c.name.clone(),
                reason: "every candidate's base fitted on the same learners",
            });
        }
        Ok(())
    }

    /// The first candidate of each distinct base learner, whose prequential losses are the
    /// features.
    fn bases(&self) -> Vec<&Model> {
        let mut seen: Vec<ModelName> = Vec::new();
        let mut out = Vec::new();
        for c in &self.candidates {
            if !seen.contains(&c.base.name()) {
                seen.push(c.base.name());
                out.push(&c.base.model);
            }
        }
        out
    }

    /// The candidate chosen for a learner with `support` (on the candidates' ids).
    pub fn choose(&self, support: &[Interaction<'_>]) -> usize {
        match self.features {
            Features::Bases => {
                let c = self.selector.choose(&features(&self.bases(), support));
                c.min(self.candidates.len().saturating_sub(1))
            }
            Features::Candidates => Reading::of(self, support).chosen(),
        }
    }

    /// The chosen candidate's adapted model and the learner's state after the support.
    pub fn adapt_model(&self, support: &[Interaction<'_>]) -> (Cow<'_, Model>, LearnerState) {
        let c = self.chosen(support);
        adapt_tracer(&c.base.model, c.trained.as_ref(), support)
    }

    /// The chosen candidate (its base carries its name and configuration).
    pub fn chosen(&self, support: &[Interaction<'_>]) -> &Candidate {
        &self.candidates[self.choose(support)]
    }

    /// Checks a loaded strategy: candidates on one set of ids, each learner against its base,
    /// the selector's shapes.
    ///
    /// # Errors
    /// The field and what is wrong with it.
    pub(crate) fn check(&self, protocol: &str) -> std::result::Result<(), (String, String)> {
        let n = self.candidates.len();
        let width = match self.features {
            Features::Bases => 3 + 2 * self.bases().len(),
            Features::Candidates => 3 + 2 * n,
        };
        if (protocol == "e4") != (self.features == Features::Candidates) {
            let want = if protocol == "e4" { "candidates" } else { "bases" };
            return Err((
                "strategy.features".into(),
                format!("{:?}: a protocol {protocol} strategy reads {want}", self.features),
            ));
        }
        for (i, c) in self.candidates.iter().enumerate() {
            let at = |f: &str| format!("strategy.candidates[{i}].{f}");
            if c.base.ids != self.candidates[0].base.ids {
                return Err((at("base"), "fitted on other ids than the first candidate's".into()));
            }
            if let Some(t) = &c.trained {
                check_learner("e5", &c.base, t).map_err(|(f, r)| (at(&format!("learner.{f}")), r))?;
            }
            if protocol == "e4" && crate::protocol::rasch(&c.base, "strategy").is_err() {
                return Err((
                    at("base"),
                    format!("{}: an E4 strategy's candidates are over irt1pl", c.base.name().as_str()),
                ));
            }
        }
        let s = &self.selector;
        if n < 2 || s.reference >= n || s.weights.len() != n {
            return Err(("strategy.selector".into(), format!("does not fit {n} candidates")));
        }
        for (c, w) in s.weights.iter().enumerate() {
            let ok = if c == s.reference { w.is_empty() } else { w.len() == width };
            if !ok || w.iter().any(|v| !v.is_finite()) {
                return Err((
                    format!("strategy.selector.weights[{c}]"),
                    format!("not {width} finite weights (empty for the reference)"),
                ));
            }
        }
        if !(s.margin.is_finite() && s.margin >= 0.0) {
            return Err(("strategy.selector.margin".into(), format!("{}: a margin ≥ 0", s.margin)));
        }
        Ok(())
    }
}

impl MetaLearner for Candidate {
    type Learner<'a> = AdaptedModel<'a>;
    fn adapt<'a>(&'a self, support: &[Interaction<'_>]) -> Adapted<AdaptedModel<'a>> {
        let (model, state) = adapt_tracer(&self.base.model, self.trained.as_ref(), support);
        Adapted { model: AdaptedModel(model), state }
    }
}

impl MetaLearner for Strategy {
    type Learner<'a> = AdaptedModel<'a>;
    fn adapt<'a>(&'a self, support: &[Interaction<'_>]) -> Adapted<AdaptedModel<'a>> {
        let (model, state) = self.adapt_model(support);
        Adapted { model: AdaptedModel(model), state }
    }
}

/// A strategy as its file holds it: each candidate's base as an ordinary model file.
#[derive(Serialize, Deserialize)]
struct StrategyFile {
    support: usize,
    candidates: Vec<CandidateFile>,
    selector: Selector,
    validation_auc: f64,
    candidate_auc: Vec<f64>,
    #[serde(default)]
    features: Features,
}

#[derive(Serialize, Deserialize)]
struct CandidateFile {
    name: String,
    base: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    learner: Option<Trained>,
}

impl From<Strategy> for StrategyFile {
    fn from(s: Strategy) -> Self {
        Self {
            support: s.support,
            candidates: s
                .candidates
                .into_iter()
                .map(|c| CandidateFile {
                    name: c.name,
                    base: serde_json::from_slice(&c.base.to_json()).unwrap_or(serde_json::Value::Null),
                    learner: c.trained,
                })
                .collect(),
            selector: s.selector,
            validation_auc: s.validation_auc,
            candidate_auc: s.candidate_auc,
            features: s.features,
        }
    }
}

impl TryFrom<StrategyFile> for Strategy {
    type Error = String;
    fn try_from(f: StrategyFile) -> std::result::Result<Self, String> {
        let candidates = f
            .candidates
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let bytes = serde_json::to_vec(&c.base).unwrap_or_default();
                let base = FittedModel::from_json(Path::new("strategy candidate"), &bytes)
                    .map_err(|e| format!("strategy.candidates[{i}].base: {e}"))?;
                Ok(Candidate { name: c.name, base, trained: c.learner })
            })
            .collect::<std::result::Result<_, String>>()?;
        Ok(Self {
            support: f.support,
            candidates,
            selector: f.selector,
            validation_auc: f.validation_auc,
            candidate_auc: f.candidate_auc,
            features: f.features,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print_back() {
        let specs = parse_strategies(DEFAULT_STRATEGIES).unwrap();
        assert_eq!(specs.len(), 7);
        let back: Vec<String> = specs.iter().map(ToString::to_string).collect();
        assert_eq!(back.join(","), DEFAULT_STRATEGIES);
        assert!(parse_strategies("irt1pl:none").is_err(), "one strategy is no choice");
        assert!(parse_strategies("irt1pl:none,irt1pl:none").is_err());
        assert!(parse_strategies("irt1pl,bkt:none").is_err());
        assert!(parse_strategies("irt1pl:none,bkt:strategy").is_err());
        assert!(parse_strategies("irt1pl:none,nope:none").is_err());
    }
}
