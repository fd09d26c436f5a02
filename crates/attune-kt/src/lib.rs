//! Classical student models in plain Rust with analytic gradients: BKT (and its `forgets` and
//! `multigs` variants), IRT 1PL/2PL and multidimensional 2PL, PFA, Best-LR and Elo.
//!
//! Each model has a plain-data configuration with documented defaults and a seed, a `fit`
//! that reports to a [`attune_core::Progress`] hook, and a fitted type implementing
//! [`attune_core::KnowledgeTracer`], and a `validate` that checks a model read from a file.
//! Choosing a model by name, model files and learner states live in `attune-models`.

mod bkt;
mod counts;
mod elo;
mod error;
mod irt;
mod logistic;
mod newton;
mod optim;
mod validate;

pub use crate::bkt::{Bkt, BktConfig, BktState, SkillParams};
pub use crate::counts::{CountsConfig, CountsModel, LearnerCounts, SkillCounts};
pub use crate::elo::{Elo, EloConfig, EloState};
pub use crate::error::{Error, Result};
pub use crate::irt::{Irt, IrtConfig, IrtState, solve_spd};

macro_rules! impl_fit {
    ($($config:ty => $model:ty),* $(,)?) => {$(
        impl attune_core::Fit for $config {
            type Model = $model;
            type Error = Error;
            fn fit(&self, train: &attune_core::Dataset, progress: &dyn attune_core::Progress) -> Result<$model> {
                <$config>::fit(self, train, progress)
            }
        }
    )*};
}

impl_fit!(BktConfig => Bkt, IrtConfig => Irt, CountsConfig => CountsModel, EloConfig => Elo);
