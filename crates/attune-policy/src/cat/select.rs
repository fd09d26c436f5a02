//! Item selection rules for adaptive testing and exposure control.

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use super::bank::ItemBank;
use super::estimate::Estimate;

/// How the next item is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Selector {
    /// Any unused item, uniformly.
    Random,
    /// Maximum Fisher information at the current estimate (Lord, 1980).
    Mfi,
    /// Kullback–Leibler information integrated over `θ̂ ± 3/√n` (Chang & Ying, 1996), robust
    /// while the estimate is still poor.
    Kli,
    /// The item whose predicted success is closest to 0.5 ("active" learning).
    Active,
}

impl std::str::FromStr for Selector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "random" => Ok(Self::Random),
            "mfi" => Ok(Self::Mfi),
            "kli" => Ok(Self::Kli),
            "active" => Ok(Self::Active),
            _ => Err(format!("unknown selector {s:?} (random, mfi, kli or active)")),
        }
    }
}

impl Selector {
    /// How good item `i` is now (higher is better); `answered` items so far.
    pub fn score(self, bank: &ItemBank, i: usize, est: Estimate, answered: usize, rng: &mut impl Rng) -> f64 {
        let item = bank.items[i];
        match self {
            Self::Random => rng.random(),
            Self::Mfi => item.information(est.theta),
            Self::Active => -(item.p(est.theta) - 0.5).abs(),
            Self::Kli => {
                let delta = 3.0 / (answered.max(1) as f64).sqrt();
                let p0 = item.p(est.theta).clamp(1e-9, 1.0 - 1e-9);
                let steps = 10;
                (0..=steps)
                    .map(|k| {
                        let theta = est.theta - delta + 2.0 * delta * f64::from(k) / f64::from(steps);
                        let p = item.p(theta).clamp(1e-9, 1.0 - 1e-9);
                        let kl = p0 * (p0 / p).ln() + (1.0 - p0) * ((1.0 - p0) / (1.0 - p)).ln();
                        let w = if k == 0 || k == steps { 0.5 } else { 1.0 };
                        w * kl
                    })
                    .sum::<f64>()
                    * 2.0
                    * delta
                    / f64::from(steps)
            }
        }
    }
}

/// How the exposure of the best items is limited.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "method")]
pub enum Exposure {
    /// Always the best item.
    None,
    /// A uniform choice among the `k` best items (Kingsbury & Zara, 1989).
    Randomesque {
        /// How many of the best items to choose from.
        k: usize,
    },
    /// Sympson–Hetter (1985): the best item is administered with probability `K_i`, else it
    /// is set aside for the rest of this examinee's test and the next best is tried; `K`
    /// comes from
    /// [`super::calibrate_sympson_hetter`].
    SympsonHetter {
        /// Administration probability per item.
        k: Vec<f64>,
    },
}

/// Picks the next item among those not yet `used`; `None` when the bank is exhausted.
pub fn select(
    selector: Selector,
    exposure: &Exposure,
    bank: &ItemBank,
    est: Estimate,
    used: &[bool],
    answered: usize,
    rng: &mut impl Rng,
) -> Option<usize> {
    select_counting(selector, exposure, bank, est, used, answered, rng, &mut Vec::new())
}

/// As [`select`], also listing in `considered` every item the exposure rule considered (the
/// selections Sympson–Hetter calibration counts).
#[allow(clippy::too_many_arguments)] // one call site per use; a struct would only rename them
pub(crate) fn select_counting(
    selector: Selector,
    exposure: &Exposure,
    bank: &ItemBank,
    est: Estimate,
    used: &[bool],
    answered: usize,
    rng: &mut impl Rng,
    considered: &mut Vec<usize>,
) -> Option<usize> {
    let mut ranked: Vec<(f64, usize)> =
        (0..bank.len()).filter(|&i| !used[i]).map(|i| (selector.score(bank, i, est, answered, rng), i)).collect();
    if ranked.is_empty() {
        return None;
    }
    ranked.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    match exposure {
        Exposure::None => {
            considered.push(ranked[0].1);
            Some(ranked[0].1)
        }
        Exposure::Randomesque { k } => Some(ranked[rng.random_range(0..(*k).clamp(1, ranked.len()))].1),
        Exposure::SympsonHetter { k } => {
            for &(_, i) in &ranked {
                considered.push(i);
                if rng.random::<f64>() < k.get(i).copied().unwrap_or(1.0) {
                    return Some(i);
                }
            }
            ranked.last().map(|r| r.1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cat::bank::BankItem;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn max_information_picks_the_difficulty_closest_to_the_ability() {
        // 1PL / equal-discrimination 2PL: information peaks where b = θ.
        let bank =
            ItemBank { items: [-2.0, -0.5, 0.4, 1.1, 2.5].iter().map(|&b| BankItem { a: 1.3, b, c: 0.0 }).collect() };
        let mut rng = StdRng::seed_from_u64(1);
        for (theta, want) in [(-1.9, 0), (-0.2, 1), (0.6, 2), (1.0, 3), (3.5, 4)] {
            let est = Estimate { theta, se: 0.5 };
            for sel in [Selector::Mfi, Selector::Active] {
                let got = select(sel, &Exposure::None, &bank, est, &[false; 5], 3, &mut rng);
                assert_eq!(got, Some(want), "{sel:?} at θ = {theta}");
            }
        }
        let est = Estimate { theta: 0.6, se: 0.5 };
        assert_eq!(
            select(Selector::Mfi, &Exposure::None, &bank, est, &[false, false, true, false, false], 3, &mut rng),
            Some(3)
        );
        assert_eq!(select(Selector::Mfi, &Exposure::None, &bank, est, &[true; 5], 3, &mut rng), None);
    }

    #[test]
    fn kli_prefers_items_near_the_estimate() {
        let bank = ItemBank { items: [-3.0, 0.1, 3.0].iter().map(|&b| BankItem { a: 1.0, b, c: 0.0 }).collect() };
        let mut rng = StdRng::seed_from_u64(2);
        let est = Estimate { theta: 0.0, se: 0.5 };
        assert_eq!(select(Selector::Kli, &Exposure::None, &bank, est, &[false; 3], 4, &mut rng), Some(1));
    }

    #[test]
    fn randomesque_spreads_choices_over_the_k_best() {
        let bank = ItemBank { items: (0..10).map(|k| BankItem { a: 1.0, b: f64::from(k) * 0.3, c: 0.0 }).collect() };
        let mut rng = StdRng::seed_from_u64(3);
        let est = Estimate { theta: 0.0, se: 0.5 };
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            seen.insert(select(Selector::Mfi, &Exposure::Randomesque { k: 3 }, &bank, est, &[false; 10], 1, &mut rng));
        }
        assert_eq!(seen, [Some(0), Some(1), Some(2)].into_iter().collect());
    }
}

/// Chooses the next item of an adaptive test from the bank, given the current ability
/// estimate and the items already used. Implemented by every [`Selector`] (the best item by
/// its rule) and by [`ControlledSelector`] (a rule with exposure control); simulations and
/// the service are generic over it.
pub trait ItemSelector: Send + Sync {
    /// The next item, or `None` when no unused item is left.
    fn select_item(
        &self,
        bank: &ItemBank,
        est: Estimate,
        used: &[bool],
        answered: usize,
        rng: &mut rand::rngs::StdRng,
    ) -> Option<usize>;
}

impl ItemSelector for Selector {
    fn select_item(
        &self,
        bank: &ItemBank,
        est: Estimate,
        used: &[bool],
        answered: usize,
        rng: &mut rand::rngs::StdRng,
    ) -> Option<usize> {
        select(*self, &Exposure::None, bank, est, used, answered, rng)
    }
}

/// A selection rule with exposure control.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlledSelector {
    /// The rule.
    pub selector: Selector,
    /// The exposure control.
    pub exposure: Exposure,
}

impl ItemSelector for ControlledSelector {
    fn select_item(
        &self,
        bank: &ItemBank,
        est: Estimate,
        used: &[bool],
        answered: usize,
        rng: &mut rand::rngs::StdRng,
    ) -> Option<usize> {
        select(self.selector, &self.exposure, bank, est, used, answered, rng)
    }
}

#[cfg(test)]
mod trait_tests {
    use super::*;
    use crate::cat::bank::BankItem;
    use rand::SeedableRng;

    #[test]
    fn selectors_work_behind_the_trait() {
        let bank = ItemBank { items: [-1.0, 0.0, 1.0].iter().map(|&b| BankItem { a: 1.0, b, c: 0.0 }).collect() };
        let est = Estimate { theta: 0.9, se: 0.5 };
        let rules: Vec<Box<dyn ItemSelector>> = vec![
            Box::new(Selector::Mfi),
            Box::new(ControlledSelector { selector: Selector::Mfi, exposure: Exposure::Randomesque { k: 1 } }),
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for r in &rules {
            assert_eq!(r.select_item(&bank, est, &[false; 3], 2, &mut rng), Some(2));
        }
    }
}
