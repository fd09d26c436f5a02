//! Dynamic Key-Value Memory Networks (Zhang et al., WWW 2017): a static key memory addresses
//! skills, a value memory holds the learner's mastery and is erased and written per answer.

mod config;
mod engine;
mod model;
mod train;

pub use config::DkvmnConfig;
pub(crate) use engine::Params;
pub use model::{Dkvmn, DkvmnState};
