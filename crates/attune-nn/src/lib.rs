//! Neural student models with hand-written engines (forward and backward passes over the
//! `gemm` crate's matrix products, on the CPU). With the `burn` feature, burn's `flex` backend
//! adds the reference DKT network the engines are checked against; nothing else compiles burn.
//!
//! - [`DktConfig`] trains [`Dkt`], Deep Knowledge Tracing, with a fused LSTM engine (the
//!   generic burn network `DktNet` is its reference, `engine = "burn"`); the fitted model
//!   runs in plain Rust, one LSTM step per answer, as a [`attune_core::KnowledgeTracer`].
//!
//! - [`SaktConfig`] trains [`Sakt`], Self-Attentive Knowledge Tracing, with a hand-written
//!   engine (attention, layer norms, feed-forward, all dropouts) one window at a time.
//!
//! - [`DkvmnConfig`] trains [`Dkvmn`], Dynamic Key-Value Memory Networks, the same way; the
//!   fitted model reads and writes one memory per answer.
//!
//! - [`AktConfig`] trains [`Akt`], Context-Aware Attentive Knowledge Tracing: monotonic
//!   attention, Rasch embeddings, question and knowledge encoders and a knowledge retriever;
//!   the fitted model adds one row per layer per answer.
//!
//! The engines multiply through `linalg` (the `gemm` crate, AVX-512 where the CPU has it) and
//! split each minibatch across two threads. Burn types stay inside this crate.

mod akt;
mod batching;
mod dkt;
mod dkvmn;
mod error;
mod kernels;
mod layers;
mod linalg;
mod optim;
mod sakt;
mod training;
mod validate;

pub use crate::akt::{Akt, AktConfig, AktState};
pub use crate::dkt::{Dkt, DktConfig, DktState, Engine, EpochRecord};
#[cfg(feature = "burn")]
pub use crate::dkt::{DktNet, masked_bce};
pub use crate::dkvmn::{Dkvmn, DkvmnConfig, DkvmnState};
pub use crate::error::{Error, Result};
pub use crate::sakt::{Sakt, SaktConfig, SaktState};
