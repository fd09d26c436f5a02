//! Learning-path policies. They see only the learner's answers, through a belief of which
//! skills are mastered (a BKT belief per skill whose learning is gated by the prerequisites'
//! believed mastery, the planner's model of learning).

use std::collections::BTreeSet;

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use super::env::READY;
use crate::graph::PrereqGraph;

/// A learning-path policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    /// Any skill the targets need, uniformly.
    Random,
    /// The needed skills in topological order, each until believed mastered.
    Topological,
    /// Greedy weakest prerequisite: from the weakest target, down to its weakest unready
    /// prerequisite, and practise that.
    Greedy,
    /// Look-ahead: beam search over practice sequences in the belief model, sequences valued
    /// by the targets' predicted mastery at the end of the episode when greedy or
    /// topological choices follow (rollouts, Bertsekas, Tsitsiklis & Wu 1997).
    Lookahead,
}

impl std::str::FromStr for PolicyKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "random" => Ok(Self::Random),
            "topological" => Ok(Self::Topological),
            "greedy" => Ok(Self::Greedy),
            "lookahead" => Ok(Self::Lookahead),
            _ => Err(format!("unknown policy {s:?} (random, topological, greedy, lookahead)")),
        }
    }
}

/// The planner's belief: P(mastered) per skill, BKT-style.
#[derive(Clone, Debug)]
pub struct Belief {
    /// P(mastered) by skill.
    pub known: Vec<f64>,
}

/// The planner's learning model.
const PRIOR: f64 = 0.2;
const GUESS: f64 = 0.15;
const SLIP: f64 = 0.1;
const LEARN: f64 = 0.3;
const LEARN_UNREADY: f64 = 0.02;
const MASTERED: f64 = 0.9;
/// Depth of the look-ahead beam search.
pub const BEAM_DEPTH: usize = 2;
/// Partial sequences kept per level of the beam search.
pub const BEAM_WIDTH: usize = 4;

impl Belief {
    /// Nothing known yet.
    pub fn new(n: usize) -> Self {
        Self { known: vec![PRIOR; n] }
    }

    fn learn_rate(&self, graph: &PrereqGraph, skill: usize) -> f64 {
        if graph.prerequisites(skill).iter().all(|&q| self.known[q] >= READY) { LEARN } else { LEARN_UNREADY }
    }

    /// Folds in one observed answer, then the chance of learning from the practice.
    pub fn observe(&mut self, graph: &PrereqGraph, skill: usize, correct: bool) {
        let k = self.known[skill];
        let post = if correct {
            k * (1.0 - SLIP) / (k * (1.0 - SLIP) + (1.0 - k) * GUESS)
        } else {
            k * SLIP / (k * SLIP + (1.0 - k) * (1.0 - GUESS))
        };
        let learn = self.learn_rate(graph, skill);
        self.known[skill] = post + (1.0 - post) * learn;
    }

    /// The expected belief after practising `skill` (the answer averaged out).
    fn expect(&mut self, graph: &PrereqGraph, skill: usize) {
        let learn = self.learn_rate(graph, skill);
        let k = &mut self.known[skill];
        *k += (1.0 - *k) * learn;
    }

    fn score(&self, targets: &[usize]) -> f64 {
        targets.iter().map(|&t| self.known[t]).sum::<f64>() / targets.len().max(1) as f64
    }
}

/// A policy with its per-episode memory.
#[derive(Clone, Debug)]
pub struct Planner {
    kind: PolicyKind,
    /// Skills the targets need (targets and all their prerequisites), ascending.
    relevant: Vec<usize>,
    order: Vec<usize>,
}

impl Planner {
    /// A planner for an episode towards `targets`.
    pub fn new(kind: PolicyKind, graph: &PrereqGraph, targets: &[usize]) -> Self {
        let mut relevant: BTreeSet<usize> = targets.iter().copied().collect();
        for &t in targets {
            relevant.extend(graph.ancestors(t));
        }
        let order = graph.topological_order().into_iter().filter(|v| relevant.contains(v)).collect();
        Self { kind, relevant: relevant.into_iter().collect(), order }
    }

    /// The next skill to practise, with `remaining` practice steps left (this one included).
    pub fn choose(
        &self,
        graph: &PrereqGraph,
        belief: &Belief,
        targets: &[usize],
        remaining: usize,
        rng: &mut impl Rng,
    ) -> usize {
        match self.kind {
            PolicyKind::Random => self.relevant[rng.random_range(0..self.relevant.len())],
            PolicyKind::Topological | PolicyKind::Greedy => self.base_choice(self.kind, graph, belief, targets),
            PolicyKind::Lookahead => self.beam_search(graph, belief, targets, remaining),
        }
    }

    /// Beam search over practice sequences in the belief model: depth [`BEAM_DEPTH`], keeping
    /// the [`BEAM_WIDTH`] best partial sequences per level, each valued by rollouts to the end
    /// of the episode with the greedy and the topological policy (the better of the two; a
    /// multi-heuristic rollout is at least as good as each heuristic in the model). The first
    /// practice of the best sequence is chosen.
    fn beam_search(&self, graph: &PrereqGraph, belief: &Belief, targets: &[usize], remaining: usize) -> usize {
        let rollout = |b: &Belief, steps_left: usize| {
            let mut value = f64::NEG_INFINITY;
            for base in [PolicyKind::Greedy, PolicyKind::Topological] {
                let mut b = b.clone();
                for _ in 0..steps_left {
                    let next = self.base_choice(base, graph, &b, targets);
                    b.expect(graph, next);
                }
                value = value.max(b.score(targets));
            }
            value
        };
        // (value, first action, belief after the sequence)
        let mut beam: Vec<(f64, usize, Belief)> = vec![(f64::NEG_INFINITY, self.relevant[0], belief.clone())];
        for depth in 0..BEAM_DEPTH.min(remaining) {
            let mut next: Vec<(f64, usize, Belief)> = Vec::with_capacity(beam.len() * self.relevant.len());
            for (_, first, b) in &beam {
                for &c in &self.relevant {
                    let mut b2 = b.clone();
                    b2.expect(graph, c);
                    let v = rollout(&b2, remaining - depth - 1);
                    next.push((v, if depth == 0 { c } else { *first }, b2));
                }
            }
            // Best first; ties to the lower first action, so choices are deterministic.
            next.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            next.truncate(BEAM_WIDTH);
            beam = next;
        }
        beam.first().map_or(self.relevant[0], |b| b.1)
    }

    fn base_choice(&self, base: PolicyKind, graph: &PrereqGraph, belief: &Belief, targets: &[usize]) -> usize {
        match base {
            PolicyKind::Topological => self
                .order
                .iter()
                .copied()
                .find(|&v| belief.known[v] < MASTERED)
                .unwrap_or_else(|| greedy(graph, belief, targets)),
            _ => greedy(graph, belief, targets),
        }
    }
}

/// The weakest target; while the current skill has a prerequisite believed unready, its
/// weakest such prerequisite.
fn greedy(graph: &PrereqGraph, belief: &Belief, targets: &[usize]) -> usize {
    let weakest = |it: &mut dyn Iterator<Item = usize>| {
        it.min_by(|&a, &b| belief.known[a].total_cmp(&belief.known[b]).then(a.cmp(&b)))
    };
    let Some(mut v) = weakest(&mut targets.iter().copied()) else { return 0 };
    while let Some(q) = weakest(&mut graph.prerequisites(v).iter().copied().filter(|&q| belief.known[q] < READY)) {
        v = q;
    }
    v
}
