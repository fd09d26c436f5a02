//! Neural student models on burn (CPU backend `flex`; the `wgpu` feature adds GPUs).
//!
//! - [`DktConfig`] trains [`Dkt`], Deep Knowledge Tracing, with a fused-gate LSTM written over
//!   burn tensors ([`DktNet`]); the fitted model runs in plain Rust, one LSTM step per answer,
//!   as a [`attune_core::KnowledgeTracer`].
//!
//! DKVMN, SAKT and AKT follow; burn types stay inside this crate.

mod batching;
mod dkt;
mod error;
mod kernels;
mod linalg;
mod optim;
mod sakt;

pub use crate::dkt::{Dkt, DktConfig, DktNet, DktState, Engine, EpochRecord, masked_bce};
pub use crate::error::{Error, Result};
pub use crate::sakt::{Sakt, SaktConfig, SaktState};
