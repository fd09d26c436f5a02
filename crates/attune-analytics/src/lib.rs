//! Learning analytics: what teachers and researchers look at, computed from a learning log and
//! a fitted student model, and the report that shows it.
//!
//! - [`learning_curves`] and [`fit_power_law`]: error rate by practice opportunity and its
//!   power law.
//! - [`trace_learners`]: per-learner mastery trajectories, predicted next answer, learning
//!   rate, time on task, and the class mastery matrix, under any fitted model.
//! - [`item_stats`], [`skill_stats`]: IRT difficulty/discrimination, BKT parameters, coverage
//!   and the items and skills that behave oddly.
//! - [`AtRiskRule`]: who needs attention, by a rule stated in words.
//! - [`Report`]: all of it for one dataset, written as a self-contained HTML page with SVG
//!   charts plus every table as CSV and JSON.
//!
//! ```
//! use attune_analytics::{learning_curves, synthetic};
//! let data = synthetic::power_law_learners(500, 10, 0.5, 0.4, 1);
//! let pooled = &learning_curves(&data, 10, 10)[0];
//! assert_eq!(pooled.points.len(), 10);
//! assert!(pooled.fit.unwrap().b > 0.2);
//! ```

pub mod charts;
mod curves;
mod error;
mod html;
mod items;
mod profile;
mod report;
mod risk;
pub mod synthetic;
mod tables;

pub use crate::curves::{CurvePoint, LearningCurve, PowerLaw, fit_power_law, learning_curves};
pub use crate::error::{Error, Result};
pub use crate::items::{ItemStats, MIN_ANSWERS_FOR_FLAGS, SkillStats, item_stats, skill_label, skill_stats};
pub use crate::profile::{LearnerProfile, MAX_GAP_SECONDS, Traces, TrajectoryPoint, trace_learners};
pub use crate::report::{Report, ReportConfig, Summary};
pub use crate::risk::{AtRiskRule, RiskReason};
