use serde::{Deserialize, Serialize};

use crate::error::{Result, check_range};

/// Hyperparameters of a BKT fit. Defaults follow pyBKT 1.4.3 (5 restarts, at most 100 EM
/// iterations, stop when the log-likelihood changes by at most 0.005).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BktConfig {
    /// Fit a forgetting probability per skill (default `false`: learned skills stay learned).
    pub forgets: bool,
    /// Fit guess and slip per item of each skill rather than per skill (default `false`).
    pub multigs: bool,
    /// EM runs from random starting points per skill; the most likely one wins (default 5).
    pub restarts: usize,
    /// Most EM iterations per run (default 100).
    pub max_iter: usize,
    /// Stop a run when its log-likelihood improves by at most this much (default 0.005).
    pub tol: f64,
    /// Upper bound on guess and slip (default 0.5). Above it a fit is "degenerate" (Baker,
    /// Corbett & Aleven, 2008): knowing the skill would make a correct answer *less* likely.
    pub max_guess_slip: f64,
    /// Every probability is kept in `[min_prob, 1 - min_prob]` (default 1e-4), so that no
    /// parameter is exactly 0 or 1 and predictions stay finite on all-correct skills.
    pub min_prob: f64,
    /// Under `multigs`, the weight (in pseudo-observations) of the Beta prior that pulls each
    /// item's guess and slip toward its skill's pooled values (default 5; 0 = pyBKT's
    /// unregularised per-item estimates).
    pub item_prior_strength: f64,
    /// Accelerate EM with SQUAREM (default `true`); `false` runs plain EM exactly as pyBKT.
    pub accelerate: bool,
    /// Seed of the random starting points (default 42).
    pub seed: u64,
}

impl Default for BktConfig {
    fn default() -> Self {
        Self {
            forgets: false,
            multigs: false,
            restarts: 5,
            max_iter: 100,
            tol: 0.005,
            max_guess_slip: 0.5,
            min_prob: 1e-4,
            item_prior_strength: 5.0,
            accelerate: true,
            seed: 42,
        }
    }
}

impl BktConfig {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        check_range("restarts", self.restarts as f64, 1.0, 1e6, "at least 1")?;
        check_range("max_iter", self.max_iter as f64, 1.0, 1e9, "at least 1")?;
        check_range("tol", self.tol, 0.0, f64::MAX, "a finite number >= 0")?;
        check_range("min_prob", self.min_prob, 1e-12, 0.1, "in [1e-12, 0.1]")?;
        check_range("item_prior_strength", self.item_prior_strength, 0.0, 1e9, "a finite number >= 0")?;
        check_range(
            "max_guess_slip",
            self.max_guess_slip,
            self.min_prob,
            1.0 - self.min_prob,
            "in (min_prob, 1 - min_prob)",
        )
    }
}
