//! Prerequisite edges estimated from learning logs, by transition statistics between skills
//! (in the spirit of Chen et al., "Prerequisite-driven deep knowledge tracing", ICDM 2018, and
//! the ordering statistics of Junyi's curriculum): `A → B` when learners who meet both
//! usually practise A first, and do better on B's first attempt when they have done well on A.

use attune_core::{Dataset, SkillId};
use serde::{Deserialize, Serialize};

use crate::graph::PrereqGraph;

/// Thresholds of the estimate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EdgeEstimation {
    /// Learners who practised both skills needed before an edge is considered (default 30).
    pub min_support: usize,
    /// Share of those learners who met A first (default 0.8).
    pub min_order: f64,
    /// How much higher B's first-attempt success must be after success on A than after
    /// failure on A (default 0.05).
    pub min_lift: f64,
}

impl Default for EdgeEstimation {
    fn default() -> Self {
        Self { min_support: 30, min_order: 0.8, min_lift: 0.05 }
    }
}

/// One estimated edge with its evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EstimatedEdge {
    /// The prerequisite.
    pub from: SkillId,
    /// The dependent.
    pub to: SkillId,
    /// Learners who practised both.
    pub support: usize,
    /// Share who met `from` first.
    pub order: f64,
    /// First-attempt success on `to` after a correct first attempt on `from`, minus after a
    /// wrong one.
    pub lift: f64,
}

/// Estimates prerequisite edges between the skills of `data` (single-skill answers; the first
/// skill of multi-skill ones) and returns them with the DAG they form (node `k` = skill `k`).
pub fn estimate_prerequisites(data: &Dataset, cfg: &EdgeEstimation) -> (Vec<EstimatedEdge>, PrereqGraph) {
    let n = data.vocab().n_skills();
    // Per learner: each skill's first position and first-attempt correctness.
    let mut both = vec![0u32; n * n];
    let mut a_first = vec![0u32; n * n];
    // [a][b] -> (B right after A right, B seen after A right, B right after A wrong, B after A wrong)
    let mut cond = vec![[0u32; 4]; n * n];
    let mut first: Vec<Option<(usize, bool)>> = vec![None; n];
    let mut touched: Vec<usize> = Vec::new();
    for rows in data.learners() {
        for (pos, i) in rows.enumerate() {
            let Some(&s) = data.skills(i).first() else { continue };
            let k = s.index();
            if first[k].is_none() {
                first[k] = Some((pos, data.correct()[i]));
                touched.push(k);
            }
        }
        for &a in &touched {
            for &b in &touched {
                if a == b {
                    continue;
                }
                let (Some((pa, ca)), Some((pb, cb))) = (first[a], first[b]) else { continue };
                both[a * n + b] += 1;
                if pa < pb {
                    a_first[a * n + b] += 1;
                    let c = &mut cond[a * n + b];
                    let slot = if ca { 0 } else { 2 };
                    c[slot] += u32::from(cb);
                    c[slot + 1] += 1;
                }
            }
        }
        for &k in &touched {
            first[k] = None;
        }
        touched.clear();
    }
    let mut edges = Vec::new();
    for a in 0..n {
        for b in 0..n {
            let support = both[a * n + b] as usize;
            if a == b || support < cfg.min_support {
                continue;
            }
            let order = f64::from(a_first[a * n + b]) / support as f64;
            let c = cond[a * n + b];
            if order < cfg.min_order || c[1] == 0 || c[3] == 0 {
                continue;
            }
            let lift = f64::from(c[0]) / f64::from(c[1]) - f64::from(c[2]) / f64::from(c[3]);
            if lift >= cfg.min_lift {
                let id = |k: usize| SkillId(u32::try_from(k).unwrap_or(u32::MAX));
                edges.push(EstimatedEdge { from: id(a), to: id(b), support, order, lift });
            }
        }
    }
    let names: Vec<String> = (0..n).map(|k| k.to_string()).collect();
    let named: Vec<(String, String)> = edges.iter().map(|e| (e.from.to_string(), e.to.to_string())).collect();
    (edges, PrereqGraph::new(&names, &named))
}

#[cfg(test)]
mod tests {
    use super::*;
    use attune_core::DatasetBuilder;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// Learners meet skill 0 then skill 1 (mostly); success on 1 depends on success on 0.
    /// Skill 2 comes in random order and is independent.
    #[test]
    fn recovers_a_planted_prerequisite() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut b = DatasetBuilder::default();
        let s: Vec<SkillId> = (0..3).map(|k| b.skill(&k.to_string())).collect();
        let it: Vec<_> = (0..3).map(|k| b.item(&k.to_string())).collect();
        for l in 0..400 {
            let st = b.student(&format!("l{l}"));
            let knows0 = rng.random::<f64>() < 0.5;
            let mut order = vec![0usize, 1];
            if rng.random::<f64>() < 0.05 {
                order.reverse();
            }
            order.insert(rng.random_range(0..=2), 2);
            for k in order {
                let p = match k {
                    0 => {
                        if knows0 {
                            0.9
                        } else {
                            0.2
                        }
                    }
                    1 => {
                        if knows0 {
                            0.8
                        } else {
                            0.3
                        }
                    }
                    _ => 0.6,
                };
                b.push_row(st, it[k], &[s[k]], rng.random::<f64>() < p, 0);
            }
        }
        let (edges, graph) = estimate_prerequisites(&b.finish(), &EdgeEstimation::default());
        assert_eq!(edges.len(), 1, "{edges:?}");
        assert_eq!((edges[0].from, edges[0].to), (SkillId(0), SkillId(1)));
        assert!(edges[0].lift > 0.2);
        assert_eq!(graph.prerequisites(1), &[0]);
    }
}
