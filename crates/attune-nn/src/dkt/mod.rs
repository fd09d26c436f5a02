//! Deep Knowledge Tracing (Piech et al., NeurIPS 2015).

mod batched;
#[cfg(feature = "burn")]
mod burn_engine;
mod config;
mod fused;
mod model;
#[cfg(feature = "burn")]
mod net;
mod train;

pub use config::{DktConfig, Engine};
pub use model::{Dkt, DktState, EpochRecord};
#[cfg(feature = "burn")]
pub use net::{DktNet, masked_bce};
