//! Ability estimation from the answers so far: maximum likelihood, maximum a posteriori and
//! expected a posteriori (Bock & Mislevy, 1982) under a standard normal prior.

use serde::{Deserialize, Serialize};

use super::bank::ItemBank;

/// Abilities are kept in this range (where banks have items and estimates mean something).
pub const THETA_RANGE: f64 = 4.0;

/// How abilities are estimated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Estimator {
    /// Maximum likelihood (Newton). While all answers are right (or all wrong) the MLE is
    /// infinite; the estimate then steps by ±1 from the last one, as operational CATs do.
    Mle,
    /// Maximum a posteriori with a N(0, 1) prior (Newton).
    Map,
    /// Expected a posteriori with a N(0, 1) prior (61-point quadrature on ±4).
    Eap,
}

impl std::str::FromStr for Estimator {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mle" => Ok(Self::Mle),
            "map" => Ok(Self::Map),
            "eap" => Ok(Self::Eap),
            _ => Err(format!("unknown estimator {s:?} (mle, map or eap)")),
        }
    }
}

/// An ability estimate and its standard error.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Estimated ability.
    pub theta: f64,
    /// Standard error (posterior sd for EAP; 1 / sqrt(information) otherwise).
    pub se: f64,
}

impl Estimate {
    /// The estimate before any answer: the prior mean and sd.
    pub const PRIOR: Self = Self { theta: 0.0, se: 1.0 };
}

impl Estimator {
    /// Estimates ability from `answers` (item index, correct), starting from `previous`.
    pub fn estimate(self, bank: &ItemBank, answers: &[(usize, bool)], previous: Estimate) -> Estimate {
        if answers.is_empty() {
            return Estimate::PRIOR;
        }
        match self {
            Self::Eap => eap(bank, answers),
            Self::Map => newton(bank, answers, previous.theta, 1.0),
            Self::Mle => {
                let all_right = answers.iter().all(|a| a.1);
                let all_wrong = answers.iter().all(|a| !a.1);
                if all_right || all_wrong {
                    let step = if all_right { 1.0 } else { -1.0 };
                    let theta = (previous.theta + step).clamp(-THETA_RANGE, THETA_RANGE);
                    let info = test_information(bank, answers, theta);
                    Estimate { theta, se: 1.0 / info.max(1e-12).sqrt() }
                } else {
                    newton(bank, answers, previous.theta, 0.0)
                }
            }
        }
    }
}

fn test_information(bank: &ItemBank, answers: &[(usize, bool)], theta: f64) -> f64 {
    answers.iter().map(|&(i, _)| bank.items[i].information(theta)).sum()
}

/// Newton–Raphson on the log-likelihood plus a N(0, 1/prior) log-prior, with the Fisher
/// information as curvature (scoring), steps capped at 1.
fn newton(bank: &ItemBank, answers: &[(usize, bool)], start: f64, prior: f64) -> Estimate {
    let mut theta = start.clamp(-THETA_RANGE, THETA_RANGE);
    for _ in 0..30 {
        let mut grad = -prior * theta;
        let mut info = prior;
        for &(i, y) in answers {
            let it = bank.items[i];
            let p = it.p(theta).clamp(1e-12, 1.0 - 1e-12);
            // d/dθ log L for 3PL: a (y − p)(p − c) / (p (1 − c)).
            grad += it.a * (f64::from(u8::from(y)) - p) * (p - it.c) / (p * (1.0 - it.c));
            info += it.information(theta);
        }
        let step = (grad / info.max(1e-12)).clamp(-1.0, 1.0);
        theta = (theta + step).clamp(-THETA_RANGE, THETA_RANGE);
        if step.abs() < 1e-6 {
            break;
        }
    }
    let info = prior + test_information(bank, answers, theta);
    Estimate { theta, se: 1.0 / info.max(1e-12).sqrt() }
}

fn eap(bank: &ItemBank, answers: &[(usize, bool)]) -> Estimate {
    const POINTS: usize = 61;
    let (mut w_sum, mut m1, mut m2) = (0.0, 0.0, 0.0);
    let mut log_w = [0.0; POINTS];
    let mut max_log = f64::NEG_INFINITY;
    for (k, lw) in log_w.iter_mut().enumerate() {
        let theta = -THETA_RANGE + 2.0 * THETA_RANGE * k as f64 / (POINTS - 1) as f64;
        let mut l = -0.5 * theta * theta;
        for &(i, y) in answers {
            let p = bank.items[i].p(theta).clamp(1e-12, 1.0 - 1e-12);
            l += if y { p.ln() } else { (1.0 - p).ln() };
        }
        *lw = l;
        max_log = max_log.max(l);
    }
    for (k, lw) in log_w.iter().enumerate() {
        let theta = -THETA_RANGE + 2.0 * THETA_RANGE * k as f64 / (POINTS - 1) as f64;
        let w = (lw - max_log).exp();
        w_sum += w;
        m1 += w * theta;
        m2 += w * theta * theta;
    }
    let mean = m1 / w_sum;
    Estimate { theta: mean, se: (m2 / w_sum - mean * mean).max(0.0).sqrt() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cat::bank::BankItem;

    fn bank() -> ItemBank {
        ItemBank { items: (0..9).map(|k| BankItem { a: 1.0, b: f64::from(k) - 4.0, c: 0.0 }).collect() }
    }

    #[test]
    fn estimators_agree_on_a_mixed_pattern_and_order_correctly() {
        let b = bank();
        let answers = [(2, true), (3, true), (4, true), (5, false), (6, false), (4, true), (5, true), (6, false)];
        let mle = Estimator::Mle.estimate(&b, &answers, Estimate::PRIOR);
        let map = Estimator::Map.estimate(&b, &answers, Estimate::PRIOR);
        let eap = Estimator::Eap.estimate(&b, &answers, Estimate::PRIOR);
        // The prior shrinks toward 0: |MAP| <= |MLE|.
        assert!(map.theta.abs() <= mle.theta.abs() + 1e-9, "{map:?} {mle:?}");
        assert!((map.theta - eap.theta).abs() < 0.15, "{map:?} {eap:?}");
        assert!(mle.se > map.se);
        // The MLE solves the likelihood equation: sum a (y - p) = 0 for 2PL.
        let score: f64 = answers.iter().map(|&(i, y)| f64::from(u8::from(y)) - b.items[i].p(mle.theta)).sum();
        assert!(score.abs() < 1e-6, "{score}");
    }

    #[test]
    fn all_correct_mle_steps_up_and_stays_finite() {
        let b = bank();
        let e = Estimator::Mle.estimate(&b, &[(4, true)], Estimate::PRIOR);
        assert_eq!(e.theta, 1.0);
        let e = Estimator::Mle.estimate(&b, &[(4, true), (5, true)], e);
        assert_eq!(e.theta, 2.0);
        assert!(e.se.is_finite());
    }
}
