//! Choosing what a learner does next.
//!
//! - [`cat`]: computerized adaptive testing — item banks, ability estimation (MLE, MAP, EAP),
//!   selection rules (random, maximum Fisher information, Kullback–Leibler, "active"),
//!   stopping rules, exposure control (randomesque, Sympson–Hetter) and simulation with
//!   ability RMSE/bias per step, exposure and overlap.
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
