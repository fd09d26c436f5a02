//! Simulated learners over a prerequisite graph. In every environment learning a skill is
//! gated by its prerequisites, as in EduSim's Knowledge Structure Simulator (KSS; Liu et al.,
//! "Learning path recommendation", EduSim, 2019): practice on a skill whose prerequisites are
//! not mastered teaches almost nothing.

use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::graph::PrereqGraph;

/// Mastery a prerequisite needs before its dependents can be learned.
pub const READY: f64 = 0.6;

/// The simulated learner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvKind {
    /// KSS-style rule learner: continuous mastery in [0, 1]; practice moves it a share
    /// `rate` (per learner) of the way to 1 when the prerequisites are ready, 5 % of that
    /// otherwise; P(correct) = 0.1 + 0.8 · mastery.
    Kss,
    /// IRT learner: ability per skill, P(correct) = σ(θ − b); practice adds `rate · 2` to θ
    /// when ready (a tenth of it otherwise); mastery = P(correct).
    Irt,
    /// BKT learner: each skill known or not; practice teaches it with probability `rate`
    /// when ready (a tenth otherwise); guess 0.2, slip 0.1.
    Bkt,
}

impl EnvKind {
    /// The name the CLI and the JSON use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Kss => "kss",
            Self::Irt => "irt",
            Self::Bkt => "bkt",
        }
    }
}

impl std::str::FromStr for EnvKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "kss" => Ok(Self::Kss),
            "irt" => Ok(Self::Irt),
            "bkt" => Ok(Self::Bkt),
            _ => Err(format!("unknown environment {s:?} (kss, irt, bkt, dkt)")),
        }
    }
}

/// A seeded random knowledge structure like EduSim's: `n` skills, each depending on up to two
/// earlier skills.
pub fn random_structure(n: usize, seed: u64) -> PrereqGraph {
    let mut rng = StdRng::seed_from_u64(seed);
    let names: Vec<String> = (0..n).map(|k| format!("k{k}")).collect();
    let mut edges = Vec::new();
    for j in 1..n {
        let parents = rng.random_range(0..=2usize.min(j));
        for _ in 0..parents {
            let i = rng.random_range(0..j);
            edges.push((names[i].clone(), names[j].clone()));
        }
    }
    PrereqGraph::new(&names, &edges)
}

/// One simulated learner.
#[derive(Clone, Debug)]
pub struct Learner {
    kind: EnvKind,
    /// Mastery (KSS), ability (IRT) or known state (BKT, 0/1) per skill.
    state: Vec<f64>,
    difficulty: Vec<f64>,
    rate: f64,
}

impl Learner {
    /// A new learner of `kind` over `graph`: a few skills partly known, the rest not.
    pub fn new(kind: EnvKind, graph: &PrereqGraph, rng: &mut impl Rng) -> Self {
        let n = graph.len();
        let rate = rng.random_range(0.2..0.4);
        let difficulty: Vec<f64> = (0..n).map(|_| rng.random_range(-0.5..0.5)).collect();
        let state = (0..n)
            .map(|_| {
                let head_start = rng.random::<f64>() < 0.2;
                match kind {
                    EnvKind::Kss => {
                        if head_start {
                            rng.random_range(0.6..0.9)
                        } else {
                            rng.random_range(0.0..0.3)
                        }
                    }
                    EnvKind::Irt => {
                        if head_start {
                            rng.random_range(0.5..1.5)
                        } else {
                            rng.random_range(-2.5..-1.0)
                        }
                    }
                    EnvKind::Bkt => f64::from(u8::from(head_start)),
                }
            })
            .collect();
        Self { kind, state, difficulty, rate }
    }

    /// Mastery of `skill` in [0, 1] (the probability of a correct answer for IRT).
    pub fn mastery(&self, skill: usize) -> f64 {
        match self.kind {
            EnvKind::Kss | EnvKind::Bkt => self.state[skill],
            EnvKind::Irt => attune_core::sigmoid(self.state[skill] - self.difficulty[skill]),
        }
    }

    /// Exam score on `targets`: mean mastery.
    pub fn score(&self, targets: &[usize]) -> f64 {
        targets.iter().map(|&t| self.mastery(t)).sum::<f64>() / targets.len().max(1) as f64
    }

    /// The learner practises `skill`: answers (returned) and learns.
    pub fn practice(&mut self, graph: &PrereqGraph, skill: usize, rng: &mut impl Rng) -> bool {
        let p_correct = match self.kind {
            EnvKind::Kss => 0.1 + 0.8 * self.state[skill],
            EnvKind::Irt => self.mastery(skill),
            EnvKind::Bkt => {
                if self.state[skill] > 0.5 {
                    0.9
                } else {
                    0.2
                }
            }
        };
        let correct = rng.random::<f64>() < p_correct;
        let ready = graph.prerequisites(skill).iter().all(|&q| self.mastery(q) >= READY);
        let s = &mut self.state[skill];
        match self.kind {
            EnvKind::Kss => *s += self.rate * if ready { 1.0 } else { 0.05 } * (1.0 - *s),
            EnvKind::Irt => *s += 2.0 * self.rate * if ready { 1.0 } else { 0.1 },
            EnvKind::Bkt => {
                if *s < 0.5 && rng.random::<f64>() < self.rate * if ready { 1.0 } else { 0.1 } {
                    *s = 1.0;
                }
            }
        }
        correct
    }
}
