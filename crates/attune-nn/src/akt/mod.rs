//! Context-Aware Attentive Knowledge Tracing (Ghosh, Heffernan & Lan, KDD 2020): monotonic
//! attention whose weights decay with the distance to earlier answers, Rasch-model
//! embeddings of item difficulty, and separate encoders of questions and interactions
//! joined by a knowledge retriever.

mod attention;
mod config;
mod engine;
mod model;
mod online;
mod train;

pub use config::AktConfig;
pub(crate) use engine::{Params, Shape};
pub use model::{Akt, AktState};
