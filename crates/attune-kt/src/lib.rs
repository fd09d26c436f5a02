//! Classical student models in plain Rust with analytic gradients: BKT (and its `forgets` and
//! `multigs` variants), IRT 1PL/2PL and multidimensional 2PL, PFA, Best-LR and Elo.
//!
//! Each model has a plain-data configuration with documented defaults and a seed, a `fit`
//! that reports to a [`attune_core::Progress`] hook, and a fitted type implementing
//! [`attune_core::KnowledgeTracer`]; [`ModelKind`] and [`Fitted`] dispatch by name and save
//! or load any of them with a format version.

mod bkt;
mod counts;
mod elo;
mod error;
mod irt;
mod logistic;
mod newton;
mod optim;
mod registry;

pub use crate::bkt::{Bkt, BktConfig, BktState, SkillParams};
pub use crate::counts::{CountsConfig, CountsModel, LearnerCounts, SkillCounts};
pub use crate::elo::{Elo, EloConfig, EloState};
pub use crate::error::{Error, Result};
pub use crate::irt::{Irt, IrtConfig, IrtState};
pub use crate::registry::{FORMAT_VERSION, Fitted, ModelConfig, ModelKind, TracerVisitor, predict_parallel};

/// Names accepted by [`ModelKind::from_name`].
pub const MODEL_NAMES: &[&str] =
    &["bkt", "bkt-forgets", "bkt-multigs", "irt1pl", "irt2pl", "mirt", "pfa", "best-lr", "elo"];
