//! What strategy selection did, in either protocol: the choices, the best single strategy,
//! the per-learner oracle, regret and headroom.

use std::collections::BTreeMap;

use attune_core::metrics;
use serde::Serialize;

use crate::bootstrap::Interval;
use crate::strategy::Strategy;

/// What strategy selection did, pooled over units (folds or cohorts).
#[derive(Default)]
pub(super) struct StrategyStats {
    candidates: Vec<String>,
    /// Test learners (E4: tests) given each candidate, by size.
    chosen: BTreeMap<usize, BTreeMap<String, usize>>,
    /// Units whose best single candidate each was, by size.
    best_single: BTreeMap<usize, BTreeMap<String, usize>>,
}

/// Strategy selection's outcome, by support size `k` (E5) or test length `n` (E4).
#[derive(Clone, Debug, Serialize)]
pub struct StrategyReport {
    /// The candidates, `base:adaptation`.
    pub candidates: Vec<String>,
    /// Share of the test learners (E4: tests) given each candidate.
    pub chosen: BTreeMap<String, BTreeMap<String, f64>>,
    /// How many units had each candidate as their best single strategy (best validation AUC).
    pub best_single: BTreeMap<String, BTreeMap<String, usize>>,
    /// AUC of `strategy`, `best-single`, `oracle` and each candidate, every unit's test
    /// predictions pooled.
    pub auc: BTreeMap<String, BTreeMap<String, f64>>,
    /// Log-loss per scored answer of `strategy`, `best-single` and `oracle` (each test
    /// learner given the candidate with their lowest log-loss).
    pub log_loss: BTreeMap<String, BTreeMap<String, f64>>,
    /// The oracle's AUC minus the strategy's.
    pub regret_auc: BTreeMap<String, f64>,
    /// The strategy's log-loss minus the oracle's.
    pub regret_log_loss: BTreeMap<String, f64>,
    /// The oracle's AUC minus the best single strategy's: what choosing per learner could gain.
    pub headroom_auc: BTreeMap<String, f64>,
    /// The best single strategy's log-loss minus the oracle's.
    pub headroom_log_loss: BTreeMap<String, f64>,
    /// Paired bootstrap of the strategy's AUC minus the best single strategy's.
    pub gain: BTreeMap<String, Interval>,
}

/// Pooled predictions and answers of a learner by name at a size.
pub(super) type Predictions<'a> = dyn Fn(&str, usize) -> Option<(&'a [f64], &'a [bool])> + 'a;

impl StrategyStats {
    /// Counts one unit's strategy at `size`: `chosen[c]` test learners given candidate `c`.
    pub(super) fn count(&mut self, s: &Strategy, size: usize, chosen: &[usize]) {
        self.candidates = s.candidates.iter().map(|c| c.name.clone()).collect();
        let reference = &s.candidates[s.selector.reference].name;
        *self.best_single.entry(size).or_default().entry(reference.clone()).or_default() += 1;
        let counts = self.chosen.entry(size).or_default();
        for (c, &n) in s.candidates.iter().zip(chosen) {
            *counts.entry(c.name.clone()).or_default() += n;
        }
    }

    /// The report at `sizes`, from the pooled predictions `of` each name.
    pub(super) fn report<'a>(
        &self,
        sizes: &[usize],
        of: &Predictions<'a>,
        gain: Option<BTreeMap<String, Interval>>,
    ) -> StrategyReport {
        let mut r = StrategyReport {
            candidates: self.candidates.clone(),
            chosen: BTreeMap::new(),
            best_single: self.best_single.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            auc: BTreeMap::new(),
            log_loss: BTreeMap::new(),
            regret_auc: BTreeMap::new(),
            regret_log_loss: BTreeMap::new(),
            headroom_auc: BTreeMap::new(),
            headroom_log_loss: BTreeMap::new(),
            gain: gain.unwrap_or_default(),
        };
        for (k, counts) in &self.chosen {
            let total = counts.values().sum::<usize>().max(1) as f64;
            r.chosen.insert(k.to_string(), counts.iter().map(|(c, n)| (c.clone(), *n as f64 / total)).collect());
        }
        for &k in sizes {
            let key = k.to_string();
            let metric = |name: &str, f: fn(&[f64], &[bool]) -> f64| of(name, k).map_or(f64::NAN, |(p, y)| f(p, y));
            let loss = |n| metric(n, metrics::log_loss);
            let auc = |n| metric(n, metrics::auc);
            let ll: BTreeMap<String, f64> =
                ["strategy", "best-single", "oracle"].iter().map(|&n| (n.to_owned(), loss(n))).collect();
            let names =
                ["strategy", "best-single", "oracle"].into_iter().chain(self.candidates.iter().map(String::as_str));
            r.auc.insert(key.clone(), names.map(|n| (n.to_owned(), auc(n))).collect());
            r.regret_auc.insert(key.clone(), auc("oracle") - auc("strategy"));
            r.regret_log_loss.insert(key.clone(), loss("strategy") - loss("oracle"));
            r.headroom_auc.insert(key.clone(), auc("oracle") - auc("best-single"));
            r.headroom_log_loss.insert(key.clone(), loss("best-single") - loss("oracle"));
            r.log_loss.insert(key, ll);
        }
        r
    }
}

/// Each learner's predictions from the candidate with their lowest log-loss: `per` holds
/// every candidate's predictions of the same answers `y` in the same order, `learner` whose
/// each answer is (a learner's answers contiguous).
pub(super) fn oracle(per: &[&[f64]], y: &[bool], learner: &[u32]) -> Vec<f64> {
    let Some(first) = per.first() else { return Vec::new() };
    let mut out = first.to_vec();
    let n = out.len();
    let mut start = 0;
    while start < n {
        let l = learner[start];
        let end = (start..n).find(|&i| learner[i] != l).unwrap_or(n);
        let loss = |p: &[f64]| metrics::log_loss(&p[start..end], &y[start..end]);
        let best = (0..per.len()).min_by(|&a, &b| loss(per[a]).total_cmp(&loss(per[b]))).unwrap_or(0);
        out[start..end].copy_from_slice(&per[best][start..end]);
        start = end;
    }
    out
}
