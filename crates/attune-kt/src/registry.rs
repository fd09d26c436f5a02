//! Choosing a model by name, predicting with any fitted model, saving and loading them.

use std::path::Path;

use attune_core::{Dataset, KnowledgeTracer, Probability, Progress};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Bkt, BktConfig, CountsConfig, CountsModel, Elo, EloConfig, Error, Irt, IrtConfig, Result};

/// Version of the model-file format written by [`Fitted::save`].
pub const FORMAT_VERSION: u32 = 1;

/// The classical models, by the names the CLI accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelKind {
    /// BKT with per-skill guess/slip, no forgetting.
    Bkt,
    /// BKT with forgetting.
    BktForgets,
    /// BKT with per-item guess/slip.
    BktMultigs,
    /// Rasch model.
    Irt1pl,
    /// Two-parameter logistic IRT.
    Irt2pl,
    /// Multidimensional 2PL.
    Mirt,
    /// Performance Factors Analysis.
    Pfa,
    /// Gervet et al.'s best logistic regression.
    BestLr,
    /// Elo rating.
    Elo,
}

impl ModelKind {
    /// Parses a model name of [`crate::MODEL_NAMES`].
    ///
    /// # Errors
    /// [`Error::UnknownModel`].
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "bkt" => Self::Bkt,
            "bkt-forgets" => Self::BktForgets,
            "bkt-multigs" => Self::BktMultigs,
            "irt1pl" => Self::Irt1pl,
            "irt2pl" => Self::Irt2pl,
            "mirt" => Self::Mirt,
            "pfa" => Self::Pfa,
            "best-lr" => Self::BestLr,
            "elo" => Self::Elo,
            _ => return Err(Error::UnknownModel(name.to_owned())),
        })
    }

    /// The model's CLI name.
    pub fn name(self) -> &'static str {
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
        }
    }

    /// The default configuration of this model with `seed`, as JSON (written beside results).
    pub fn config(self, seed: u64) -> ModelConfig {
        match self {
            Self::Bkt => ModelConfig::Bkt(BktConfig { seed, ..BktConfig::default() }),
            Self::BktForgets => ModelConfig::Bkt(BktConfig { seed, forgets: true, ..BktConfig::default() }),
            Self::BktMultigs => ModelConfig::Bkt(BktConfig { seed, multigs: true, ..BktConfig::default() }),
            Self::Irt1pl => ModelConfig::Irt(IrtConfig { seed, ..IrtConfig::one_pl() }),
            Self::Irt2pl => ModelConfig::Irt(IrtConfig { seed, ..IrtConfig::two_pl() }),
            Self::Mirt => ModelConfig::Irt(IrtConfig { seed, ..IrtConfig::mirt(3) }),
            Self::Pfa => ModelConfig::Counts(CountsConfig::pfa()),
            Self::BestLr => ModelConfig::Counts(CountsConfig::best_lr()),
            Self::Elo => ModelConfig::Elo(EloConfig::default()),
        }
    }
}

/// The configuration of any model.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "kebab-case")]
pub enum ModelConfig {
    /// Bayesian Knowledge Tracing.
    Bkt(BktConfig),
    /// Item response theory.
    Irt(IrtConfig),
    /// Logistic count models (PFA, Best-LR).
    Counts(CountsConfig),
    /// Elo rating.
    Elo(EloConfig),
}

impl ModelConfig {
    /// Fits the model to `train`.
    ///
    /// # Errors
    /// The model's fitting errors.
    pub fn fit(&self, train: &Dataset, progress: &dyn Progress) -> Result<Fitted> {
        Ok(match self {
            Self::Bkt(c) => Fitted::Bkt(c.fit(train, progress)?),
            Self::Irt(c) => Fitted::Irt(c.fit(train, progress)?),
            Self::Counts(c) => Fitted::Counts(c.fit(train, progress)?),
            Self::Elo(c) => Fitted::Elo(c.fit(train, progress)?),
        })
    }
}

/// Any fitted classical model.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "kebab-case")]
pub enum Fitted {
    /// Bayesian Knowledge Tracing.
    Bkt(Bkt),
    /// Item response theory.
    Irt(Irt),
    /// Logistic count models (PFA, Best-LR).
    Counts(CountsModel),
    /// Elo rating.
    Elo(Elo),
}

#[derive(Serialize, Deserialize)]
struct ModelFile {
    format_version: u32,
    model: Fitted,
}

impl Fitted {
    /// Predicts every interaction of `data` from the learner's earlier answers, learners in
    /// parallel.
    pub fn predict_dataset(&self, data: &Dataset) -> Vec<Probability> {
        struct Predict<'a>(&'a Dataset);
        impl TracerVisitor for Predict<'_> {
            type Output = Vec<Probability>;
            fn visit<T: KnowledgeTracer>(self, model: &T) -> Vec<Probability> {
                predict_parallel(model, self.0)
            }
        }
        self.visit(Predict(data))
    }

    /// Writes the model as JSON with a format version.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn save(&self, path: &Path) -> Result<()> {
        let io = |source| Error::Io { path: path.to_owned(), source };
        let file = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
        serde_json::to_writer(file, &ModelFile { format_version: FORMAT_VERSION, model: self.clone() })
            .map_err(|source| Error::Format { path: path.to_owned(), source })
    }

    /// Reads a model written by [`Fitted::save`].
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Format`], or [`Error::Version`] for another format version.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        #[derive(Deserialize)]
        struct Head {
            format_version: u32,
        }
        let head: Head =
            serde_json::from_slice(&bytes).map_err(|source| Error::Format { path: path.to_owned(), source })?;
        if head.format_version != FORMAT_VERSION {
            return Err(Error::Version {
                path: path.to_owned(),
                found: head.format_version,
                supported: FORMAT_VERSION,
            });
        }
        let file: ModelFile =
            serde_json::from_slice(&bytes).map_err(|source| Error::Format { path: path.to_owned(), source })?;
        Ok(file.model)
    }
}

/// Code that works with any fitted model through [`KnowledgeTracer`], called back with the
/// concrete model by [`Fitted::visit`] (a generic closure, which Rust cannot write directly).
pub trait TracerVisitor {
    /// What the visit returns.
    type Output;
    /// Called with the fitted model.
    fn visit<T: KnowledgeTracer>(self, model: &T) -> Self::Output;
}

impl Fitted {
    /// Calls `visitor` with the concrete fitted model.
    pub fn visit<V: TracerVisitor>(&self, visitor: V) -> V::Output {
        match self {
            Self::Bkt(m) => visitor.visit(m),
            Self::Irt(m) => visitor.visit(m),
            Self::Counts(m) => visitor.visit(m),
            Self::Elo(m) => visitor.visit(m),
        }
    }
}

/// [`attune_core::predict_sequence`] with learners spread over threads.
pub fn predict_parallel<T: KnowledgeTracer>(model: &T, data: &Dataset) -> Vec<Probability> {
    let learners: Vec<_> = data.learners().collect();
    let per: Vec<Vec<Probability>> = learners
        .par_iter()
        .map(|rows| {
            let mut s = model.initial_state();
            rows.clone()
                .map(|i| {
                    let obs = data.interaction(i);
                    let p = model.predict_interaction(&s, &obs);
                    model.update(&mut s, &obs);
                    p
                })
                .collect()
        })
        .collect();
    per.concat()
}

macro_rules! impl_fit {
    ($($config:ty => $model:ty),* $(,)?) => {$(
        impl attune_core::Fit for $config {
            type Model = $model;
            type Error = Error;
            fn fit(&self, train: &Dataset, progress: &dyn Progress) -> Result<$model> {
                <$config>::fit(self, train, progress)
            }
        }
    )*};
}

impl_fit!(BktConfig => Bkt, IrtConfig => Irt, CountsConfig => CountsModel, EloConfig => Elo);
