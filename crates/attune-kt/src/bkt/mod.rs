//! Bayesian Knowledge Tracing (Corbett & Anderson, 1995), fitted by EM (Baum–Welch) with
//! random restarts per skill, as pyBKT does (Badrinath, Wang & Pardos, EDM 2021).
//!
//! Variants: `forgets` fits a forgetting probability (Khajah et al., 2016 call it BKT+forget);
//! `multigs` fits guess and slip per item within each skill (pyBKT's `multigs`).

mod config;
mod em;
mod model;
mod sequences;

pub use config::BktConfig;
pub use model::{Bkt, BktState, SkillParams};
