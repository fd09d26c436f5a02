//! The RNN reader: a recurrent network (Elman, 1990) reads a new learner's answers in order —
//! each as an embedding of its skill and correctness, its surprise to the population and the
//! time since the previous answer — and its last state is mapped linearly to the learner's
//! profile, in one forward pass (the model-based family of Santoro et al., ICML 2016). With no
//! answer the state is zero and the profile is the population's. Trained end to end on the
//! query loss by backpropagation through time.

use serde::{Deserialize, Serialize};

use super::encoder::uniform;
use super::profile::{Answer, SkillRasch};
use super::{ProfileTarget, Reader, Record};

/// Hidden units.
pub const RNN_HIDDEN: usize = 16;
const EMBED: usize = 8;
const INPUT: usize = EMBED + 2;

/// A trained RNN reader; its weights in one flat vector (embeddings, recurrent and read-out
/// blocks in turn). It writes a profile over the Rasch model ([`SkillRasch`]) or over BKT
/// ([`super::SkillBkt`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RnnReader<T = SkillRasch> {
    /// The base and its skills.
    pub target: T,
    /// `[emb (2(S + 1) × EMBED) | A (H × INPUT) | B (H × H) | c (H) | W (width × H) | w₀ (width)]`.
    pub weights: Vec<f64>,
    /// Training record.
    pub record: Record,
}

#[derive(Default)]
pub(crate) struct Tape {
    x: Vec<[f64; INPUT]>,
    h: Vec<[f64; RNN_HIDDEN]>,
}

struct Layout {
    a: usize,
    b: usize,
    c: usize,
    w: usize,
    w0: usize,
    end: usize,
}

impl<T: ProfileTarget> RnnReader<T> {
    /// Small random weights; the read-out's bias at the population's profile `prior`.
    pub(crate) fn new(target: T, prior: &[f64], seed: u64) -> Self {
        let l = layout(&target);
        let mut weights = uniform(l.end, 0.3, seed);
        weights[l.b..l.c].iter_mut().for_each(|v| *v /= 3.0);
        weights[l.c..l.w].fill(0.0);
        weights[l.w..l.w0].iter_mut().for_each(|v| *v /= 30.0);
        weights[l.w0..].copy_from_slice(prior);
        Self { target, weights, record: Record::default() }
    }

    fn embed_row(&self, a: &Answer) -> usize {
        let s = (a.skill as usize).min(self.target.n_skills());
        (2 * s + usize::from(a.correct)) * EMBED
    }
}

/// The weights an RNN reader over `t` has.
pub(crate) fn n_weights<T: ProfileTarget>(t: &T) -> usize {
    layout(t).end
}

fn layout<T: ProfileTarget>(t: &T) -> Layout {
    let h = RNN_HIDDEN;
    let a = 2 * (t.n_skills() + 1) * EMBED;
    let b = a + h * INPUT;
    let c = b + h * h;
    let w = c + h;
    let w0 = w + t.width() * h;
    Layout { a, b, c, w, w0, end: w0 + t.width() }
}

impl<T: ProfileTarget> Reader for RnnReader<T> {
    type Tape = Tape;
    type Target = T;

    fn target(&self) -> &T {
        &self.target
    }

    fn read(&self, support: &[Answer], _me: Option<usize>, tape: &mut Tape) -> Vec<f64> {
        let l = layout(&self.target);
        let wt = &self.weights;
        tape.x.clear();
        tape.h.clear();
        tape.h.push([0.0; RNN_HIDDEN]);
        for a in support {
            let mut x = [0.0; INPUT];
            let e = self.embed_row(a);
            x[..EMBED].copy_from_slice(&wt[e..e + EMBED]);
            x[EMBED] = self.target.residual(a);
            x[EMBED + 1] = a.gap / 10.0;
            let prev = tape.h[tape.h.len() - 1];
            let mut h = [0.0; RNN_HIDDEN];
            for (i, h) in h.iter_mut().enumerate() {
                let ax: f64 = wt[l.a + i * INPUT..l.a + (i + 1) * INPUT].iter().zip(&x).map(|(w, x)| w * x).sum();
                let bh: f64 =
                    wt[l.b + i * RNN_HIDDEN..l.b + (i + 1) * RNN_HIDDEN].iter().zip(&prev).map(|(w, h)| w * h).sum();
                *h = (ax + bh + wt[l.c + i]).tanh();
            }
            tape.x.push(x);
            tape.h.push(h);
        }
        let last = tape.h[tape.h.len() - 1];
        (0..self.target.width())
            .map(|j| {
                wt[l.w0 + j]
                    + wt[l.w + j * RNN_HIDDEN..l.w + (j + 1) * RNN_HIDDEN]
                        .iter()
                        .zip(&last)
                        .map(|(w, h)| w * h)
                        .sum::<f64>()
            })
            .collect()
    }

    fn back(&self, support: &[Answer], tape: &Tape, dprofile: &[f64], grad: &mut [f64]) {
        let l = layout(&self.target);
        let wt = &self.weights;
        let n = support.len();
        let mut dh = [0.0; RNN_HIDDEN];
        for (j, &d) in dprofile.iter().enumerate() {
            grad[l.w0 + j] += d;
            if d == 0.0 {
                continue;
            }
            for i in 0..RNN_HIDDEN {
                grad[l.w + j * RNN_HIDDEN + i] += d * tape.h[n][i];
                dh[i] += d * wt[l.w + j * RNN_HIDDEN + i];
            }
        }
        for t in (0..n).rev() {
            let (h, prev, x) = (&tape.h[t + 1], &tape.h[t], &tape.x[t]);
            let mut dpre = [0.0; RNN_HIDDEN];
            for i in 0..RNN_HIDDEN {
                dpre[i] = dh[i] * (1.0 - h[i] * h[i]);
            }
            let mut dx = [0.0; INPUT];
            let mut dprev = [0.0; RNN_HIDDEN];
            for i in 0..RNN_HIDDEN {
                let d = dpre[i];
                grad[l.c + i] += d;
                for k in 0..INPUT {
                    grad[l.a + i * INPUT + k] += d * x[k];
                    dx[k] += d * wt[l.a + i * INPUT + k];
                }
                for k in 0..RNN_HIDDEN {
                    grad[l.b + i * RNN_HIDDEN + k] += d * prev[k];
                    dprev[k] += d * wt[l.b + i * RNN_HIDDEN + k];
                }
            }
            let e = self.embed_row(&support[t]);
            grad[e..e + EMBED].iter_mut().zip(&dx[..EMBED]).for_each(|(g, d)| *g += d);
            dh = dprev;
        }
    }

    fn params(&self) -> Vec<f64> {
        self.weights.clone()
    }

    fn set_params(&mut self, x: &[f64]) {
        self.weights.copy_from_slice(x);
    }

    fn record(&mut self) -> &mut Record {
        &mut self.record
    }
}
