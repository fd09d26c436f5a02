//! Deep Knowledge Tracing (Piech et al., NeurIPS 2015).

mod batched;
mod config;
mod fused;
mod model;
mod net;
mod train;

pub use config::{DktConfig, Engine};
pub use model::{Dkt, DktState, EpochRecord};
pub use net::{DktNet, masked_bce};
