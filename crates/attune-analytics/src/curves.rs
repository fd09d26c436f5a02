//! Learning curves: the error rate at the n-th practice opportunity of a skill, and the power
//! law `error(n) = a · n^(-b)` that learning-science papers fit to them (Newell & Rosenbloom,
//! 1981; the DataShop learning-curve reports of Koedinger et al.).

use attune_core::{Dataset, SkillId};
use serde::Serialize;

/// One point of a learning curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Practice opportunity, from 1.
    pub opportunity: u32,
    /// Answers at this opportunity.
    pub n: u32,
    /// Wrong answers among them.
    pub errors: u32,
    /// `errors / n`.
    pub error_rate: f64,
}

/// A fitted power law `error(n) = a · n^(-b)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PowerLaw {
    /// Error rate at the first opportunity.
    pub a: f64,
    /// Learning rate: how fast errors fall (0 = no learning).
    pub b: f64,
    /// Share of the (answer-weighted) variance of the error rates the curve explains.
    pub r2: f64,
}

impl PowerLaw {
    /// The predicted error rate at opportunity `n`.
    pub fn at(&self, n: f64) -> f64 {
        self.a * n.powf(-self.b)
    }
}

/// The learning curve of one skill (or of all skills pooled, `skill = None`).
#[derive(Clone, Debug, Serialize)]
pub struct LearningCurve {
    /// The skill, or `None` for all skills pooled.
    pub skill: Option<SkillId>,
    /// Points with at least the minimum number of answers, by opportunity.
    pub points: Vec<CurvePoint>,
    /// The power-law fit, where there are at least 3 points.
    pub fit: Option<PowerLaw>,
}

/// Learning curves up to `max_opportunity`, keeping points with at least `min_count`
/// answers: the pooled curve first, then one per skill in skill order (skills without a point
/// are left out). An answer to a multi-skill item is an opportunity for each of its skills.
pub fn learning_curves(data: &Dataset, max_opportunity: u32, min_count: u32) -> Vec<LearningCurve> {
    let n_skills = data.vocab().n_skills();
    let cap = max_opportunity as usize;
    // counts[skill][opportunity - 1] = (answers, errors); the last row pools all skills.
    let mut counts = vec![vec![(0u32, 0u32); cap]; n_skills + 1];
    let mut seen = vec![0u32; n_skills];
    for rows in data.learners() {
        let touched: Vec<SkillId> = rows.clone().flat_map(|i| data.skills(i).iter().copied()).collect();
        for i in rows {
            let wrong = u32::from(!data.correct()[i]);
            for s in data.skills(i) {
                let k = s.index();
                seen[k] += 1;
                let opp = seen[k] as usize;
                if opp <= cap {
                    for row in [k, n_skills] {
                        counts[row][opp - 1].0 += 1;
                        counts[row][opp - 1].1 += wrong;
                    }
                }
            }
        }
        for s in touched {
            seen[s.index()] = 0;
        }
    }
    let curve = |skill: Option<SkillId>, c: &[(u32, u32)]| {
        let points: Vec<CurvePoint> = c
            .iter()
            .enumerate()
            .filter(|(_, c)| c.0 >= min_count.max(1))
            .map(|(j, &(n, errors))| CurvePoint {
                opportunity: u32::try_from(j + 1).unwrap_or(u32::MAX),
                n,
                errors,
                error_rate: f64::from(errors) / f64::from(n),
            })
            .collect();
        let fit = fit_power_law(&points);
        LearningCurve { skill, points, fit }
    };
    let mut out = vec![curve(None, &counts[n_skills])];
    out.extend(
        (0..n_skills)
            .map(|k| curve(Some(SkillId(u32::try_from(k).unwrap_or(u32::MAX))), &counts[k]))
            .filter(|c| !c.points.is_empty()),
    );
    out
}

/// Fits `error(n) = a · n^(-b)` by least squares on `ln error` against `ln n`, each point
/// weighted by its number of answers; error rates are smoothed as `(errors + 0.5) / (n + 1)`
/// so that a point with no error still has a logarithm. `None` with fewer than 3 points.
pub fn fit_power_law(points: &[CurvePoint]) -> Option<PowerLaw> {
    if points.len() < 3 {
        return None;
    }
    let (mut sw, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in points {
        let w = f64::from(p.n);
        let x = f64::from(p.opportunity).ln();
        let y = ((f64::from(p.errors) + 0.5) / (f64::from(p.n) + 1.0)).ln();
        sw += w;
        sx += w * x;
        sy += w * y;
        sxx += w * x * x;
        sxy += w * x * y;
    }
    let denom = sw * sxx - sx * sx;
    if denom.abs() < 1e-12 {
        return None;
    }
    let slope = (sw * sxy - sx * sy) / denom;
    let intercept = (sy - slope * sx) / sw;
    let law = PowerLaw { a: intercept.exp(), b: -slope, r2: 0.0 };
    // R² on the error-rate scale, answer-weighted.
    let mean =
        points.iter().map(|p| f64::from(p.errors)).sum::<f64>() / points.iter().map(|p| f64::from(p.n)).sum::<f64>();
    let (mut ss_res, mut ss_tot) = (0.0, 0.0);
    for p in points {
        let w = f64::from(p.n);
        ss_res += w * (p.error_rate - law.at(f64::from(p.opportunity))).powi(2);
        ss_tot += w * (p.error_rate - mean).powi(2);
    }
    let r2 = if ss_tot > 0.0 { 1.0 - ss_res / ss_tot } else { 0.0 };
    Some(PowerLaw { r2, ..law })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::power_law_learners;

    #[test]
    fn curve_points_equal_the_error_rates_counted_by_hand() {
        let data = power_law_learners(50, 12, 0.6, 0.5, 3);
        let curves = learning_curves(&data, 12, 1);
        let pooled = &curves[0];
        // Count opportunity 4 of every learner by hand: each learner's 4th answer.
        let (mut n, mut errors) = (0, 0);
        for rows in data.learners() {
            let i = rows.start + 3;
            n += 1;
            errors += u32::from(!data.correct()[i]);
        }
        let p = pooled.points[3];
        assert_eq!((p.opportunity, p.n, p.errors), (4, n, errors));
        assert!((p.error_rate - f64::from(errors) / f64::from(n)).abs() < 1e-15);
    }

    #[test]
    fn the_power_law_fit_recovers_the_true_curve() {
        let data = power_law_learners(4000, 20, 0.6, 0.5, 11);
        let fit = learning_curves(&data, 20, 10)[0].fit.unwrap();
        assert!((fit.b - 0.5).abs() < 0.05, "b = {}", fit.b);
        assert!((fit.a - 0.6).abs() < 0.05, "a = {}", fit.a);
        assert!(fit.r2 > 0.9, "r2 = {}", fit.r2);
        // A flat curve has no learning.
        let flat = power_law_learners(4000, 20, 0.4, 0.0, 12);
        let fit = learning_curves(&flat, 20, 10)[0].fit.unwrap();
        assert!(fit.b.abs() < 0.05, "b = {}", fit.b);
    }

    #[test]
    fn too_few_points_give_no_fit() {
        let p = CurvePoint { opportunity: 1, n: 10, errors: 5, error_rate: 0.5 };
        assert!(fit_power_law(&[p, p]).is_none());
    }
}
