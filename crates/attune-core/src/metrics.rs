//! Metrics of predicted probabilities against observed answers.
//!
//! AUC is exact (the Mann–Whitney statistic with mid-ranks for tied scores), as scikit-learn's
//! `roc_auc_score` computes it; the tests check every metric against values computed by
//! scikit-learn 1.x on the same inputs.

use serde::{Deserialize, Serialize};

use crate::Probability;

/// The metrics reported for every evaluation. An undefined metric is NaN, written to JSON as
/// `null` and read back as NaN.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Area under the ROC curve; NaN when only one class is present.
    #[serde(deserialize_with = "nan_from_null")]
    pub auc: f64,
    /// Fraction of answers on the right side of 0.5.
    #[serde(deserialize_with = "nan_from_null")]
    pub accuracy: f64,
    /// Root mean squared error of the probabilities.
    #[serde(deserialize_with = "nan_from_null")]
    pub rmse: f64,
    /// Mean negative log-likelihood (natural log).
    #[serde(deserialize_with = "nan_from_null")]
    pub log_loss: f64,
    /// Expected calibration error over 10 equal-width bins.
    #[serde(deserialize_with = "nan_from_null")]
    pub ece: f64,
    /// Number of predictions.
    pub n: usize,
}

impl Metrics {
    /// Computes all metrics; `predictions` and `labels` are zipped, so the shorter one wins.
    pub fn compute(predictions: &[Probability], labels: &[bool]) -> Self {
        let p: Vec<f64> = predictions.iter().map(|p| p.get()).collect();
        Self::compute_f64(&p, labels)
    }

    /// As [`Metrics::compute`] over raw probabilities (clamped the same way).
    pub fn compute_f64(p: &[f64], y: &[bool]) -> Self {
        let n = p.len().min(y.len());
        let (p, y) = (&p[..n], &y[..n]);
        Self {
            auc: auc(p, y),
            accuracy: accuracy(p, y),
            rmse: rmse(p, y),
            log_loss: log_loss(p, y),
            ece: expected_calibration_error(p, y, 10),
            n,
        }
    }
}

fn nan_from_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Exact ROC AUC with ties counted as one half; NaN when only one class is present.
pub fn auc(p: &[f64], y: &[bool]) -> f64 {
    let n = p.len().min(y.len());
    let mut idx: Vec<u32> = (0..n as u32).collect();
    idx.sort_unstable_by(|&a, &b| p[a as usize].total_cmp(&p[b as usize]));
    let n_pos = y[..n].iter().filter(|&&c| c).count() as f64;
    let n_neg = n as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return f64::NAN;
    }
    // Sum of mid-ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && p[idx[j + 1] as usize] == p[idx[i] as usize] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        let pos = idx[i..=j].iter().filter(|&&k| y[k as usize]).count() as f64;
        rank_sum += mid * pos;
        i = j + 1;
    }
    (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

/// Fraction of predictions with `p >= 0.5` exactly when the answer is correct.
pub fn accuracy(p: &[f64], y: &[bool]) -> f64 {
    let n = p.len().min(y.len());
    if n == 0 {
        return f64::NAN;
    }
    let hits = p.iter().zip(y).filter(|&(&p, &y)| (p >= 0.5) == y).count();
    hits as f64 / n as f64
}

/// Root mean squared error.
pub fn rmse(p: &[f64], y: &[bool]) -> f64 {
    let n = p.len().min(y.len());
    if n == 0 {
        return f64::NAN;
    }
    let se: f64 = p.iter().zip(y).map(|(&p, &y)| (p - f64::from(u8::from(y))).powi(2)).sum();
    (se / n as f64).sqrt()
}

/// Mean negative log-likelihood, probabilities clamped as [`Probability`] does.
pub fn log_loss(p: &[f64], y: &[bool]) -> f64 {
    let n = p.len().min(y.len());
    if n == 0 {
        return f64::NAN;
    }
    let nll: f64 = p
        .iter()
        .zip(y)
        .map(|(&p, &y)| {
            let p = Probability::new(p).get();
            if y { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    nll / n as f64
}

/// Expected calibration error: the bin-size-weighted mean of |mean prediction − observed rate|
/// over `bins` equal-width bins of the prediction (the last bin includes 1.0).
pub fn expected_calibration_error(p: &[f64], y: &[bool], bins: usize) -> f64 {
    let n = p.len().min(y.len());
    if n == 0 || bins == 0 {
        return f64::NAN;
    }
    let mut sum_p = vec![0.0; bins];
    let mut sum_y = vec![0.0; bins];
    let mut count = vec![0usize; bins];
    for (&p, &y) in p.iter().zip(y) {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        sum_p[b] += p;
        sum_y[b] += f64::from(u8::from(y));
        count[b] += 1;
    }
    (0..bins).filter(|&b| count[b] > 0).map(|b| (sum_p[b] - sum_y[b]).abs()).sum::<f64>() / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from scikit-learn 1.9.1 (`roc_auc_score`, `accuracy_score` on p >= 0.5,
    // `mean_squared_error` ** 0.5, `log_loss`) and a direct NumPy ECE, on these inputs.
    const P: [f64; 12] = [0.9, 0.8, 0.8, 0.3, 0.55, 0.1, 0.55, 0.7, 0.2, 0.95, 0.5, 0.5];
    const Y: [bool; 12] = [true, true, false, false, true, false, false, true, true, true, false, true];

    #[test]
    fn matches_reference_values() {
        let m = Metrics::compute_f64(&P, &Y);
        assert!((m.auc - REF_AUC).abs() < 1e-12, "auc {}", m.auc);
        assert!((m.accuracy - REF_ACC).abs() < 1e-12, "acc {}", m.accuracy);
        assert!((m.rmse - REF_RMSE).abs() < 1e-12, "rmse {}", m.rmse);
        assert!((m.log_loss - REF_LOGLOSS).abs() < 1e-12, "ll {}", m.log_loss);
        assert!((m.ece - REF_ECE).abs() < 1e-12, "ece {}", m.ece);
    }

    const REF_AUC: f64 = 0.7285714285714284;
    const REF_ACC: f64 = 0.6666666666666666;
    const REF_RMSE: f64 = 0.45893899376714553;
    const REF_LOGLOSS: f64 = 0.6000018873213634;
    const REF_ECE: f64 = 0.19583333333333333;

    #[test]
    fn auc_is_undefined_for_one_class() {
        assert!(auc(&[0.2, 0.4], &[true, true]).is_nan());
    }

    #[test]
    fn all_tied_scores_give_half() {
        assert!((auc(&[0.3; 6], &[true, false, true, false, false, true]) - 0.5).abs() < 1e-12);
    }

    proptest::proptest! {
        #[test]
        fn auc_equals_pairwise_count(v in proptest::collection::vec((0u8..5, proptest::bool::ANY), 2..60)) {
            let p: Vec<f64> = v.iter().map(|&(s, _)| f64::from(s) / 4.0).collect();
            let y: Vec<bool> = v.iter().map(|&(_, c)| c).collect();
            let (mut num, mut den) = (0.0, 0.0);
            for i in 0..p.len() {
                for j in 0..p.len() {
                    if y[i] && !y[j] {
                        den += 1.0;
                        num += if p[i] > p[j] { 1.0 } else if p[i] == p[j] { 0.5 } else { 0.0 };
                    }
                }
            }
            let a = auc(&p, &y);
            if den == 0.0 { proptest::prop_assert!(a.is_nan()); } else { proptest::prop_assert!((a - num / den).abs() < 1e-12); }
        }
    }
}
