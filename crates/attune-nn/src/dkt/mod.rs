//! Deep Knowledge Tracing (Piech et al., NeurIPS 2015).

mod config;
mod model;
mod net;
mod train;

pub use config::DktConfig;
pub use model::{Dkt, DktState, EpochRecord};
pub use net::{DktNet, masked_bce};
