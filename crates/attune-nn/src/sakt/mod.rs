//! Self-Attentive Knowledge Tracing (Pandey & Karypis, EDM 2019), as pyKT builds it: each
//! skill asked attends to the learner's earlier interactions through stacked attention blocks.

mod config;
mod engine;
mod model;
mod online;
mod train;

pub use config::SaktConfig;
pub(crate) use engine::Params;
pub use model::{Sakt, SaktState};
