//! Simulated adaptive tests: examinees with known abilities take a CAT; the report says how
//! well each step recovers the abilities and how evenly the bank is used.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bank::{ItemBank, normal};
use super::estimate::{Estimate, Estimator};
use super::select::{Exposure, Selector, select_counting};

/// How a simulated adaptive test runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatConfig {
    /// Item selection rule.
    pub selector: Selector,
    /// Ability estimator.
    pub estimator: Estimator,
    /// Exposure control.
    pub exposure: Exposure,
    /// Most items per examinee.
    pub length: usize,
    /// Stop early once the standard error is at most this (variable-length test).
    pub se_stop: Option<f64>,
    /// Seed of abilities, answers and random choices.
    pub seed: u64,
}

/// What a simulation measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatReport {
    /// The selection rule.
    pub selector: Selector,
    /// Root mean squared error of the ability estimates after 1, 2, …, `length` items (an
    /// examinee who stopped early keeps their final estimate).
    pub rmse_at: BTreeMap<usize, f64>,
    /// Mean signed error of the estimates after each number of items.
    pub bias_at: BTreeMap<usize, f64>,
    /// Largest share of examinees who saw one item.
    pub max_exposure: f64,
    /// Mean share of items two examinees' tests have in common.
    pub mean_overlap: f64,
    /// Share of the bank never administered.
    pub unused_items: f64,
    /// Mean test length.
    pub mean_length: f64,
    /// Examinees simulated.
    pub examinees: usize,
}

struct Sitting {
    theta: f64,
    estimates: Vec<f64>,
    items: Vec<usize>,
    considered: Vec<usize>,
}

fn sit(bank: &ItemBank, cfg: &CatConfig, examinee: usize) -> Sitting {
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ (examinee as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let theta = normal(&mut rng);
    let mut used = vec![false; bank.len()];
    let mut answers = Vec::with_capacity(cfg.length);
    let mut est = Estimate::PRIOR;
    let mut estimates = Vec::with_capacity(cfg.length);
    let mut considered = Vec::new();
    while answers.len() < cfg.length {
        let from = considered.len();
        let Some(i) =
            select_counting(cfg.selector, &cfg.exposure, bank, est, &used, answers.len(), &mut rng, &mut considered)
        else {
            break;
        };
        // Items Sympson-Hetter set aside stay out of this examinee's test.
        for &j in &considered[from..] {
            used[j] = true;
        }
        used[i] = true;
        let correct = rng.random::<f64>() < bank.items[i].p(theta);
        answers.push((i, correct));
        est = cfg.estimator.estimate(bank, &answers, est);
        estimates.push(est.theta);
        if cfg.se_stop.is_some_and(|s| est.se <= s) {
            break;
        }
    }
    Sitting { theta, estimates, items: answers.iter().map(|a| a.0).collect(), considered }
}

/// Simulates `examinees` adaptive tests on `bank` (examinees in parallel; reproducible from
/// the seed whatever the thread count).
pub fn simulate(bank: &ItemBank, cfg: &CatConfig, examinees: usize) -> CatReport {
    let sittings: Vec<Sitting> = (0..examinees).into_par_iter().map(|e| sit(bank, cfg, e)).collect();
    let m = examinees.max(1) as f64;
    let mut rmse_at = BTreeMap::new();
    let mut bias_at = BTreeMap::new();
    for l in 1..=cfg.length {
        let errs = sittings.iter().map(|s| {
            let est = s.estimates.get(l - 1).or(s.estimates.last()).copied().unwrap_or(0.0);
            est - s.theta
        });
        let (se, sum) = errs.fold((0.0, 0.0), |(sq, sum), e| (sq + e * e, sum + e));
        rmse_at.insert(l, (se / m).sqrt());
        bias_at.insert(l, sum / m);
    }
    let mut counts = vec![0u64; bank.len()];
    for s in &sittings {
        for &i in &s.items {
            counts[i] += 1;
        }
    }
    let mean_length = sittings.iter().map(|s| s.items.len()).sum::<usize>() as f64 / m;
    let pairs: f64 = counts.iter().map(|&c| (c * c.saturating_sub(1)) as f64).sum();
    let mean_overlap = if examinees > 1 && mean_length > 0.0 { pairs / (m * (m - 1.0) * mean_length) } else { 0.0 };
    CatReport {
        selector: cfg.selector,
        rmse_at,
        bias_at,
        max_exposure: counts.iter().copied().max().unwrap_or(0) as f64 / m,
        mean_overlap,
        unused_items: counts.iter().filter(|&&c| c == 0).count() as f64 / bank.len().max(1) as f64,
        mean_length,
        examinees,
    }
}

/// Sympson–Hetter exposure parameters (Sympson & Hetter, 1985) for a target maximum exposure
/// `r_max`, by the usual iterative simulation: each round, `K_i = r_max / P(selected_i)` for
/// items selected more often than `r_max`, else 1.
pub fn calibrate_sympson_hetter(
    bank: &ItemBank,
    cfg: &CatConfig,
    r_max: f64,
    examinees: usize,
    rounds: usize,
) -> Vec<f64> {
    let mut k = vec![1.0; bank.len()];
    for round in 0..rounds {
        let cfg = CatConfig {
            exposure: Exposure::SympsonHetter { k: k.clone() },
            seed: cfg.seed.wrapping_add(1 + round as u64),
            ..cfg.clone()
        };
        let sittings: Vec<Sitting> = (0..examinees).into_par_iter().map(|e| sit(bank, &cfg, e)).collect();
        let mut selected = vec![0u64; bank.len()];
        for s in &sittings {
            for &i in &s.considered {
                selected[i] += 1;
            }
        }
        for (ki, &sel) in k.iter_mut().zip(&selected) {
            let p_sel = sel as f64 / examinees.max(1) as f64;
            *ki = if p_sel > r_max { r_max / p_sel } else { 1.0 };
        }
    }
    k
}
