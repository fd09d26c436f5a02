//! The model layer: every student model behind one type.
//!
//! - [`registry()`] / [`ModelName`]: every model by name, with its family, paper and
//!   hyperparameters (defaults, valid ranges, the ranges `attune tune` searches).
//! - [`ModelSpec`]: a model with its full configuration, from defaults, `key=value`
//!   overrides or a configuration file, each value checked against the registry.
//! - [`fit`]: the one entry point that fits any model, owning the validation policy.
//! - [`FittedModel`]: the fitted model with its id maps and training record; predicts,
//!   updates, reports mastery for any model through [`attune_core::KnowledgeTracer`], and
//!   saves to / loads from one self-contained, versioned file format.
//! - [`LearnerState`]: any model's belief about one learner, bounded in size, written and
//!   read as versioned data ([`FittedModel::encode_state`], [`FittedModel::decode_state`]).
//!
//! **Mastery** means the same for every model: the probability that the learner answers a
//! typical item of the skill correctly now ([`attune_core::KnowledgeTracer::mastery`]); the
//! BKT family's probability of the *known* state is [`attune_core::KnowledgeTracer::knowledge`].
//!
//! ```
//! use attune_core::{DatasetBuilder, KnowledgeTracer, NoProgress};
//! use attune_models::{fit, ModelName, ModelSpec, Training};
//! let mut b = DatasetBuilder::default();
//! for (learner, correct) in [("a", [false, true, true]), ("b", [false, false, true]), ("c", [true, true, true])] {
//!     let (s, i, k) = (b.student(learner), b.item("q1"), b.skill("fractions"));
//!     for c in correct {
//!         b.push_row(s, i, &[k], c, 0);
//!     }
//! }
//! let data = b.finish();
//! let spec = ModelSpec::new(ModelName::Bkt, 7);
//! let model = fit(&spec, Training { train: &data, validation: None }, &NoProgress).unwrap();
//! let state = model.replay(data.interactions(0..3));
//! let p = model.predict(&state, model.ids.item("q1").unwrap());
//! assert!(p.get() > 0.0 && p.get() < 1.0);
//! ```

mod config;
mod error;
mod file;
mod fit;
mod ids;
mod model;
pub mod registry;
mod state;

pub use crate::config::{ModelConfig, ModelSpec};
pub use crate::error::{Error, Result};
pub use crate::file::{FORMAT_VERSION, write_atomically};
pub use crate::fit::{HOLD_OUT_SHARE, Training, TrainingRecord, fingerprint, fit, hold_out};
pub use crate::ids::IdMaps;
pub use crate::model::{FittedModel, LearnerState, Model, predict_parallel};
pub use crate::registry::{Family, Hyperparameter, ModelInfo, ModelName, registry};
pub use crate::state::{STATE_VERSION, UNKNOWN_ITEM};
