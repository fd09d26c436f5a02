//! Every student model by name: family, description, paper, hyperparameters with defaults
//! and valid ranges. Adding a model means adding a [`ModelName`] variant and its arm in
//! [`ModelName::info`] and [`crate::ModelConfig::default_for`]; the CLI, `attune tune`, model
//! files and the service read everything else from here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, ModelConfig};

/// The models, by the names the CLI, the model files and the service use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelName {
    /// BKT with per-skill guess/slip, no forgetting.
    Bkt,
    /// BKT with forgetting.
    BktForgets,
    /// BKT with per-item guess/slip.
    BktMultigs,
    /// Rasch model.
    #[serde(rename = "irt1pl")]
    Irt1pl,
    /// Two-parameter logistic IRT.
    #[serde(rename = "irt2pl")]
    Irt2pl,
    /// Multidimensional 2PL.
    Mirt,
    /// Performance Factors Analysis.
    Pfa,
    /// Gervet et al.'s best logistic regression.
    BestLr,
    /// Elo rating.
    Elo,
    /// Deep Knowledge Tracing.
    Dkt,
    /// Dynamic Key-Value Memory Networks.
    Dkvmn,
    /// Self-Attentive Knowledge Tracing.
    Sakt,
    /// Context-Aware Attentive Knowledge Tracing.
    Akt,
}

/// How a model is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Hidden Markov model per skill (Bayesian Knowledge Tracing).
    Bkt,
    /// Item response theory.
    Irt,
    /// Logistic regression on practice counts.
    Logistic,
    /// Online rating.
    Elo,
    /// Recurrent network.
    Recurrent,
    /// Memory-augmented network.
    Memory,
    /// Attention (transformer).
    Attention,
}

/// How `attune tune` samples a hyperparameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scale {
    /// Uniform between the bounds.
    Linear,
    /// Log-uniform between the bounds.
    Log,
    /// Uniform integer between the bounds.
    Integer,
    /// Log-uniform integer between the bounds.
    LogInteger,
}

/// One hyperparameter of a model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hyperparameter {
    /// The key in the configuration (and of `--set key=value`).
    pub name: String,
    /// The default value.
    pub default: serde_json::Value,
    /// Smallest valid value (numbers only).
    pub min: Option<f64>,
    /// Largest valid value (numbers only).
    pub max: Option<f64>,
    /// The range `attune tune` searches, where it searches this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<Search>,
}

/// The range and scale a tuner samples a hyperparameter from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Search {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// How values are drawn.
    pub scale: Scale,
}

/// A model's entry in the registry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelInfo {
    /// The name.
    pub name: ModelName,
    /// The family.
    pub family: Family,
    /// One line on what it models.
    pub description: &'static str,
    /// The paper it comes from.
    pub paper: &'static str,
    /// Every configuration key, with default and range.
    pub hyperparameters: Vec<Hyperparameter>,
}

/// A numeric range: valid bounds, and the tuner's range if it searches the key.
struct Range {
    key: &'static str,
    min: f64,
    max: f64,
    search: Option<Search>,
}

const fn valid(key: &'static str, min: f64, max: f64) -> Range {
    Range { key, min, max, search: None }
}

const fn tuned(key: &'static str, min: f64, max: f64, low: f64, high: f64, scale: Scale) -> Range {
    Range { key, min, max, search: Some(Search { low, high, scale }) }
}

const TRAINING: [Range; 5] = [
    tuned("dropout", 0.0, 0.99, 0.0, 0.5, Scale::Linear),
    valid("batch_size", 1.0, 4096.0),
    valid("window", 2.0, 4096.0),
    tuned("learning_rate", 1e-7, 10.0, 1e-4, 1e-2, Scale::Log),
    valid("max_epochs", 1.0, 1e6),
];

impl ModelName {
    /// Every model, in the order `attune models` lists them.
    pub const ALL: [Self; 13] = [
        Self::Bkt,
        Self::BktForgets,
        Self::BktMultigs,
        Self::Irt1pl,
        Self::Irt2pl,
        Self::Mirt,
        Self::Pfa,
        Self::BestLr,
        Self::Elo,
        Self::Dkt,
        Self::Dkvmn,
        Self::Sakt,
        Self::Akt,
    ];

    /// The name as the CLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bkt => "bkt",
            Self::BktForgets => "bkt-forgets",
            Self::BktMultigs => "bkt-multigs",
            Self::Irt1pl => "irt1pl",
            Self::Irt2pl => "irt2pl",
            Self::Mirt => "mirt",
            Self::Pfa => "pfa",
            Self::BestLr => "best-lr",
            Self::Elo => "elo",
            Self::Dkt => "dkt",
            Self::Dkvmn => "dkvmn",
            Self::Sakt => "sakt",
            Self::Akt => "akt",
        }
    }

    /// Whether the model is trained by gradient descent with early stopping on a validation
    /// set (the neural models).
    pub fn is_neural(self) -> bool {
        matches!(self, Self::Dkt | Self::Dkvmn | Self::Sakt | Self::Akt)
    }

    fn entry(self) -> (Family, &'static str, &'static str, Vec<Range>) {
        use Scale::{Integer, Linear, Log, LogInteger};
        let bkt = || {
            vec![
                tuned("restarts", 1.0, 1e6, 1.0, 20.0, Integer),
                valid("max_iter", 1.0, 1e9),
                valid("tol", 0.0, 1.0),
                valid("min_prob", 1e-12, 0.1),
                tuned("max_guess_slip", 0.01, 0.99, 0.2, 0.5, Linear),
                tuned("item_prior_strength", 0.0, 1e9, 0.5, 50.0, Log),
            ]
        };
        let irt = || {
            vec![
                valid("dims", 1.0, 16.0),
                tuned("ability_l2", 1e-6, 1e6, 0.1, 10.0, Log),
                tuned("difficulty_l2", 0.0, 1e6, 1e-3, 10.0, Log),
                tuned("discrimination_l2", 0.0, 1e6, 0.01, 10.0, Log),
                valid("skill_pooling_l2", 0.0, 1e6),
                valid("max_iter", 1.0, 1e9),
                tuned("newton_steps", 1.0, 100.0, 1.0, 5.0, Integer),
            ]
        };
        let counts = || vec![tuned("l2", 0.0, 1e12, 0.01, 100.0, Log), valid("max_iter", 1.0, 1e9)];
        let neural = |mut own: Vec<Range>| {
            own.extend(TRAINING);
            own.push(valid("patience", 0.0, 1e6));
            own
        };
        match self {
            Self::Bkt => (
                Family::Bkt,
                "Bayesian Knowledge Tracing: a two-state hidden Markov model per skill, fitted by EM",
                "Corbett & Anderson, Knowledge tracing: modeling the acquisition of procedural knowledge, UMUAI 1995",
                bkt(),
            ),
            Self::BktForgets => (
                Family::Bkt,
                "BKT whose learners may also forget a known skill between opportunities",
                "Khajah, Lindsey & Mozer, How deep is knowledge tracing?, EDM 2016",
                bkt(),
            ),
            Self::BktMultigs => (
                Family::Bkt,
                "BKT with a guess and a slip per item (shrunk to the skill's)",
                "Pardos & Heffernan, KT-IDEM: introducing item difficulty to the knowledge tracing model, UMAP 2011",
                bkt(),
            ),
            Self::Irt1pl => (
                Family::Irt,
                "Rasch model: one ability per learner, one difficulty per item; online ability by assumed-density filtering",
                "Rasch, Probabilistic models for some intelligence and attainment tests, 1960",
                irt(),
            ),
            Self::Irt2pl => (
                Family::Irt,
                "Two-parameter logistic IRT: item difficulty and discrimination",
                "Birnbaum, in Lord & Novick, Statistical theories of mental test scores, 1968",
                irt(),
            ),
            Self::Mirt => (
                Family::Irt,
                "Multidimensional 2PL IRT: an ability vector per learner, a loading vector per item",
                "Reckase, Multidimensional item response theory, Springer 2009",
                irt(),
            ),
            Self::Pfa => (
                Family::Logistic,
                "Performance Factors Analysis: skill easiness plus per-skill success and failure counts",
                "Pavlik, Cen & Koedinger, Performance factors analysis, AIED 2009",
                counts(),
            ),
            Self::BestLr => (
                Family::Logistic,
                "Logistic regression on item, skill, and per-item/skill/total win and attempt counts",
                "Gervet, Koedinger, Schneider & Mitchell, When is deep learning the best approach to knowledge tracing?, JEDM 2020",
                counts(),
            ),
            Self::Elo => (
                Family::Elo,
                "Elo rating of learners and items with an uncertainty-decayed step size",
                "Pelanek, Applications of the Elo rating system in adaptive educational systems, C&E 2016",
                Vec::new(),
            ),
            Self::Dkt => (
                Family::Recurrent,
                "Deep Knowledge Tracing: an LSTM over (skill, answer) tokens, with per-item logit offsets",
                "Piech et al., Deep knowledge tracing, NeurIPS 2015",
                neural(vec![
                    tuned("embedding", 1.0, 4096.0, 32.0, 400.0, LogInteger),
                    tuned("hidden", 1.0, 4096.0, 32.0, 400.0, LogInteger),
                ]),
            ),
            Self::Dkvmn => (
                Family::Memory,
                "Dynamic Key-Value Memory Networks: a static key memory of concepts, a value memory per learner",
                "Zhang, Shi, King & Yeung, Dynamic key-value memory networks for knowledge tracing, WWW 2017",
                neural(vec![
                    tuned("embedding", 1.0, 4096.0, 32.0, 256.0, LogInteger),
                    tuned("slots", 1.0, 4096.0, 5.0, 100.0, LogInteger),
                ]),
            ),
            Self::Sakt => (
                Family::Attention,
                "Self-Attentive Knowledge Tracing: attention of the next skill over past interactions",
                "Pandey & Karypis, A self-attentive model for knowledge tracing, EDM 2019",
                neural(vec![
                    valid("embedding", 1.0, 4096.0),
                    valid("heads", 1.0, 4096.0),
                    tuned("blocks", 1.0, 16.0, 1.0, 2.0, Integer),
                ]),
            ),
            Self::Akt => (
                Family::Attention,
                "Context-aware attentive knowledge tracing: monotonic attention with Rasch embeddings",
                "Ghosh, Heffernan & Lan, Context-aware attentive knowledge tracing, KDD 2020",
                neural(vec![
                    valid("embedding", 1.0, 4096.0),
                    valid("heads", 1.0, 4096.0),
                    valid("ff", 1.0, 16_384.0),
                    tuned("l2", 0.0, 1e6, 1e-6, 1e-3, Log),
                ]),
            ),
        }
    }

    /// The model's registry entry: every configuration key with its default, and the valid
    /// and searched ranges of the numeric ones.
    pub fn info(self) -> ModelInfo {
        let (family, description, paper, ranges) = self.entry();
        let defaults = ModelConfig::default_for(self, 42).to_json();
        let hyperparameters = defaults
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, default)| {
                let r = ranges.iter().find(|r| r.key == name);
                Hyperparameter {
                    name: name.clone(),
                    default: default.clone(),
                    min: r.map(|r| r.min),
                    max: r.map(|r| r.max),
                    search: r.and_then(|r| r.search),
                }
            })
            .collect();
        ModelInfo { name: self, family, description, paper, hyperparameters }
    }
}

/// Every model's registry entry.
pub fn registry() -> Vec<ModelInfo> {
    ModelName::ALL.iter().map(|m| m.info()).collect()
}

impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL.into_iter().find(|m| m.as_str() == s).ok_or_else(|| Error::UnknownModel { name: s.to_owned() })
    }
}

/// Checks `value` of `key` against the model's valid range (keys without one pass).
pub(crate) fn check_range(model: ModelName, key: &str, value: &serde_json::Value) -> Result<(), Error> {
    let (.., ranges) = model.entry();
    let Some(r) = ranges.iter().find(|r| r.key == key) else { return Ok(()) };
    let bad = |reason: String| Error::InvalidHyperparameter {
        model: model.as_str(),
        name: key.to_owned(),
        value: value.to_string(),
        reason,
    };
    let x = value.as_f64().ok_or_else(|| bad("expected a number".into()))?;
    if x.is_finite() && x >= r.min && x <= r.max {
        Ok(())
    } else {
        Err(bad(format!("outside the valid range [{}, {}]", r.min, r.max)))
    }
}
