//! Choosing what a learner does next.
//!
//! - [`cat`]: computerized adaptive testing — item banks, ability estimation (MLE, MAP, EAP),
//!   selection rules (random, maximum Fisher information, Kullback–Leibler, "active"),
//!   stopping rules, exposure control (randomesque, Sympson–Hetter) and simulation with
//!   ability RMSE/bias per step, exposure and overlap.
//!
//! - [`recommend`]: the next item at a target success probability, skipping mastered skills
//!   and respecting prerequisites, with a [`Reason`] a tutor can show; [`simulate_practice`]
//!   checks the observed success rate against the target on simulated learners.
//! - [`sim`]: learning-path simulation (E6) — KSS-style, IRT and BKT learners gated by
//!   prerequisites; random, topological, greedy and look-ahead policies.
//! - [`PrereqGraph`]: prerequisite graphs with cycles and self-loops reported and broken
//!   deterministically, topological order and ancestors; [`estimate_prerequisites`] estimates
//!   one from a learning log by transition statistics.
//!
//! ```
//! use attune_policy::cat::{simulate, BankModel, CatConfig, Estimator, Exposure, ItemBank, Selector};
//! let bank = ItemBank::simulate(BankModel::TwoPl, 200, 1);
//! let cfg = CatConfig { selector: Selector::Mfi, estimator: Estimator::Eap, exposure: Exposure::None,
//!                       length: 10, se_stop: None, seed: 1 };
//! let report = simulate(&bank, &cfg, 100);
//! assert!(report.rmse_at[&10] < report.rmse_at[&1]);
//! ```

pub mod cat;
mod estimate_graph;
mod graph;
mod practice;
mod recommend;
pub mod sim;

pub use crate::estimate_graph::{EdgeEstimation, EstimatedEdge, estimate_prerequisites};
pub use crate::graph::{Dropped, DroppedEdge, PrereqGraph};
pub use crate::practice::{BankState, BankTracer, PracticeStats, simulate_practice};
pub use crate::recommend::{Candidate, PracticeConfig, Reason, Recommendation, SkillPrerequisites, recommend};
