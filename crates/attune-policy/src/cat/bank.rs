//! Item banks for adaptive testing: 2PL and 3PL items (Birnbaum, 1968).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// One item's parameters: `P(correct | θ) = c + (1 − c) σ(a (θ − b))`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BankItem {
    /// Discrimination.
    pub a: f64,
    /// Difficulty.
    pub b: f64,
    /// Pseudo-guessing (0 for 2PL).
    pub c: f64,
}

impl BankItem {
    /// Probability of a correct answer at ability `theta`.
    #[inline]
    pub fn p(&self, theta: f64) -> f64 {
        self.c + (1.0 - self.c) * attune_core::sigmoid(self.a * (theta - self.b))
    }

    /// Fisher information at `theta`: `a² (q / p) ((p − c) / (1 − c))²`, which is `a² p q`
    /// for 2PL items.
    #[inline]
    pub fn information(&self, theta: f64) -> f64 {
        let p = self.p(theta).clamp(1e-12, 1.0 - 1e-12);
        let q = 1.0 - p;
        let r = (p - self.c) / (1.0 - self.c);
        self.a * self.a * (q / p) * r * r
    }
}

/// The item model of a simulated bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BankModel {
    /// `a ~ LogNormal(0, 0.3)` clipped to [0.4, 2.5], `b ~ N(0, 1)`, `c = 0`.
    #[serde(rename = "2pl")]
    TwoPl,
    /// As 2PL, plus `c ~ U(0.05, 0.25)`.
    #[serde(rename = "3pl")]
    ThreePl,
}

impl std::str::FromStr for BankModel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "2pl" => Ok(Self::TwoPl),
            "3pl" => Ok(Self::ThreePl),
            _ => Err(format!("unknown bank model {s:?} (2pl or 3pl)")),
        }
    }
}

/// A calibrated item bank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemBank {
    /// The items.
    pub items: Vec<BankItem>,
}

impl ItemBank {
    /// A simulated bank of `n` items, reproducible from `seed`.
    pub fn simulate(model: BankModel, n: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let items = (0..n)
            .map(|_| {
                let a = (0.3 * normal(&mut rng)).exp().clamp(0.4, 2.5);
                let b = normal(&mut rng);
                let c = match model {
                    BankModel::TwoPl => 0.0,
                    BankModel::ThreePl => rng.random_range(0.05..0.25),
                };
                BankItem { a, b, c }
            })
            .collect();
        Self { items }
    }

    /// The bank of a fitted unidimensional IRT model (1PL or 2PL), item by item in the
    /// model's order: its `σ(a θ − b)` is the bank's `σ(a (θ − b / a))`. `None` for a model
    /// with more than one ability dimension.
    pub fn from_irt(irt: &attune_kt::Irt) -> Option<Self> {
        if irt.config.dims != 1 {
            return None;
        }
        let items =
            irt.difficulty.iter().zip(&irt.discrimination).map(|(&b, &a)| BankItem { a, b: b / a, c: 0.0 }).collect();
        Some(Self { items })
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the bank is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A standard normal draw.
pub fn normal(rng: &mut impl rand::Rng) -> f64 {
    rng.sample(rand_distr::StandardNormal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn information_matches_its_closed_forms() {
        let two = BankItem { a: 1.7, b: 0.3, c: 0.0 };
        let p = two.p(0.8);
        assert!((two.information(0.8) - 1.7 * 1.7 * p * (1.0 - p)).abs() < 1e-12);
        // For 3PL, check against the definition I = p'(θ)² / (p q) by finite differences.
        let three = BankItem { a: 1.2, b: -0.4, c: 0.2 };
        let h = 1e-6;
        let dp = (three.p(0.1 + h) - three.p(0.1 - h)) / (2.0 * h);
        let p = three.p(0.1);
        assert!((three.information(0.1) - dp * dp / (p * (1.0 - p))).abs() < 1e-6);
    }

    #[test]
    fn simulated_banks_are_reproducible_and_plausible() {
        let bank = ItemBank::simulate(BankModel::ThreePl, 500, 7);
        assert_eq!(bank, ItemBank::simulate(BankModel::ThreePl, 500, 7));
        let mean_b = bank.items.iter().map(|i| i.b).sum::<f64>() / 500.0;
        assert!(mean_b.abs() < 0.15, "{mean_b}");
        assert!(bank.items.iter().all(|i| (0.4..=2.5).contains(&i.a) && (0.05..0.25).contains(&i.c)));
    }
}
