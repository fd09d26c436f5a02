//! Attune's vocabulary crate: the types every other layer speaks.
//!
//! - [`Interaction`]: one answer of one learner to one item, tagged with the item's skills.
//! - [`Dataset`]: a columnar log of interactions, grouped by learner in answer order, with a
//!   [`Vocab`] that maps dense ids back to the ids of the original files.
//! - [`KnowledgeTracer`]: a fitted student model that predicts the next answer and updates its
//!   belief one interaction at a time; [`Progress`] is the hook long fits report to.
//! - [`metrics`]: AUC (exact, with ties), accuracy, RMSE, log-loss and calibration error.
//!
//! ```
//! use attune_core::{metrics, Probability};
//! let p = [0.9, 0.2, 0.7, 0.4].map(Probability::new);
//! let y = [true, false, false, true];
//! let m = metrics::Metrics::compute(&p, &y);
//! assert!((m.auc - 0.75).abs() < 1e-12);
//! assert_eq!(m.n, 4);
//! ```

mod dataset;
mod error;
mod ids;
mod interaction;
pub mod metrics;
mod probability;
mod progress;
mod tracer;

pub use crate::dataset::{Dataset, DatasetBuilder, Interner, Learners, Vocab};
pub use crate::error::{Error, Result};
pub use crate::ids::{ItemId, SkillId, StudentId};
pub use crate::interaction::Interaction;
pub use crate::probability::{Probability, sigmoid, softplus, softplus_f32};
pub use crate::progress::{Cancelled, NoProgress, Progress};
pub use crate::tracer::{Fit, KnowledgeTracer, predict_sequence};
