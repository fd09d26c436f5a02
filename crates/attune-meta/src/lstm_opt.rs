//! A learned optimizer as the inner loop: a coordinate-wise LSTM (Andrychowicz et al.,
//! "Learning to learn by gradient descent by gradient descent", NeurIPS 2016) trained across
//! learners to adapt the Rasch model's parameters from a support set.
//!
//! Every coordinate of `ψ = (θ, b_1 … b_m)` (see [`crate::inner`]) runs the same small LSTM on
//! its own support-loss gradient (preprocessed to `(log|g| / p, sign g)`, or `(−1, e^p g)` for
//! tiny gradients, `p = 10`) and a flag telling the ability from the difficulties, and steps
//! by its output. The meta-loss is the mean query loss over
//! the unrolled steps; as in the paper its gradient treats the optimizee's gradients as inputs
//! (their own dependence on the LSTM is dropped), and flows back through the steps and the
//! LSTM's state (truncated only by the unroll).

use attune_core::{Dataset, Interaction, Progress, sigmoid};
use attune_kt::Irt;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::e5::{Adapted, MetaLearner, trace_e5};
use crate::inner::{Task, gradient, query_loss};
use crate::irt_meta::{Algorithm, MetaConfig, MetaIrt, tasks_of};
use crate::outer::{Adam, keep_best};
use crate::{Error, Result};

/// LSTM hidden units per coordinate.
pub const LSTM_HIDDEN: usize = 20;
const INPUTS: usize = 3;
const P: f64 = 10.0;
/// The output's scale: steps start small.
const OUTPUT_SCALE: f64 = 1.0;

/// The optimizer's weights: gates `[4H, 2 + H]` (i, f, g, o), their biases, the read-out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LstmOptimizer {
    /// Gate weights, row-major `[4 · LSTM_HIDDEN, 2 + LSTM_HIDDEN]`.
    pub w: Vec<f64>,
    /// Gate biases.
    pub b: Vec<f64>,
    /// Read-out weights.
    pub w_out: Vec<f64>,
    /// Read-out bias.
    pub b_out: f64,
}

/// The preprocessed gradient of the paper (`p = 10`), and whether the coordinate is the
/// ability (1) or a difficulty (0), so one LSTM can learn different steps for the two.
fn preprocess(g: f64, ability: bool) -> [f64; INPUTS] {
    let kind = f64::from(u8::from(ability));
    if g.abs() >= (-P).exp() { [g.abs().ln() / P, g.signum(), kind] } else { [-1.0, P.exp() * g, kind] }
}

/// One coordinate's LSTM step and what its backward pass needs.
#[derive(Clone, Debug)]
struct Step {
    x: [f64; INPUTS],
    h_prev: Vec<f64>,
    c_prev: Vec<f64>,
    gates: Vec<f64>,
    c: Vec<f64>,
    h: Vec<f64>,
}

impl LstmOptimizer {
    /// Small random weights (seeded), forget-gate biases at 1.
    pub fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let h = LSTM_HIDDEN;
        let w = (0..4 * h * (INPUTS + h)).map(|_| rng.random_range(-0.1..0.1)).collect();
        let mut b = vec![0.0; 4 * h];
        b[h..2 * h].fill(1.0);
        Self { w, b, w_out: (0..h).map(|_| rng.random_range(-0.1..0.1)).collect(), b_out: 0.0 }
    }

    fn n_params(&self) -> usize {
        self.w.len() + self.b.len() + self.w_out.len() + 1
    }

    fn step(&self, x: [f64; INPUTS], h_prev: &[f64], c_prev: &[f64]) -> (Step, f64) {
        let h = LSTM_HIDDEN;
        let cols = INPUTS + h;
        let mut gates = self.b.clone();
        for (r, z) in gates.iter_mut().enumerate() {
            let row = &self.w[r * cols..(r + 1) * cols];
            *z += row[..INPUTS].iter().zip(&x).map(|(w, v)| w * v).sum::<f64>()
                + row[INPUTS..].iter().zip(h_prev).map(|(w, v)| w * v).sum::<f64>();
        }
        for (k, z) in gates.iter_mut().enumerate() {
            *z = if (2 * h..3 * h).contains(&k) { z.tanh() } else { sigmoid(*z) };
        }
        let c: Vec<f64> = (0..h).map(|k| gates[h + k] * c_prev[k] + gates[k] * gates[2 * h + k]).collect();
        let hh: Vec<f64> = (0..h).map(|k| gates[3 * h + k] * c[k].tanh()).collect();
        let delta = OUTPUT_SCALE * (self.b_out + self.w_out.iter().zip(&hh).map(|(w, v)| w * v).sum::<f64>());
        (Step { x, h_prev: h_prev.to_vec(), c_prev: c_prev.to_vec(), gates, c, h: hh }, delta)
    }

    /// Runs `steps` learned steps on `task`'s support from `psi0`; with `inputs` the
    /// preprocessed gradients are taken from it instead of computed (for checking the
    /// backward pass). Returns every point and every coordinate's LSTM steps.
    fn unroll(
        &self,
        task: &Task,
        psi0: &[f64],
        steps: usize,
        inputs: Option<&[Vec<[f64; INPUTS]>]>,
    ) -> (Vec<Vec<f64>>, Vec<Vec<Step>>) {
        let m = psi0.len();
        let zeros = vec![0.0; LSTM_HIDDEN];
        let mut states: Vec<(Vec<f64>, Vec<f64>)> = vec![(zeros.clone(), zeros); m];
        let mut points = vec![psi0.to_vec()];
        let mut record: Vec<Vec<Step>> = vec![Vec::with_capacity(steps); m];
        let mut g = vec![0.0; m];
        for t in 0..steps {
            gradient(task, &points[t], false, &mut g);
            let mut next = points[t].clone();
            for j in 0..m {
                let x = inputs.map_or_else(|| preprocess(g[j], j == 0), |i| i[t][j]);
                let (s, delta) = self.step(x, &states[j].0, &states[j].1);
                next[j] += delta;
                states[j] = (s.h.clone(), s.c.clone());
                record[j].push(s);
            }
            points.push(next);
        }
        (points, record)
    }

    /// The adapted parameters after `steps` learned steps.
    pub fn run(&self, task: &Task, psi0: &[f64], steps: usize) -> Vec<f64> {
        self.unroll(task, psi0, steps, None).0.pop().unwrap_or_else(|| psi0.to_vec())
    }

    /// Meta-loss of one task (mean query loss over the steps) and its gradient with respect
    /// to the weights, added to `grad` (layout: `w`, `b`, `w_out`, `b_out`).
    fn loss_and_grad(
        &self,
        task: &Task,
        psi0: &[f64],
        steps: usize,
        difficulty: &[f64],
        inputs: Option<&[Vec<[f64; INPUTS]>]>,
        grad: &mut [f64],
    ) -> f64 {
        let (points, record) = self.unroll(task, psi0, steps, inputs);
        let m = psi0.len();
        let h = LSTM_HIDDEN;
        let cols = INPUTS + h;
        // d(meta-loss)/dψ_t for t = 1..=steps, from the query loss at each step.
        let mut loss = 0.0;
        let mut direct = vec![vec![0.0; m]; steps + 1];
        for t in 1..=steps {
            loss += query_loss(task, &points[t], difficulty, &mut direct[t], |_, _| {}) / steps as f64;
            direct[t].iter_mut().for_each(|d| *d /= steps as f64);
        }
        let (w_len, b_len) = (self.w.len(), self.b.len());
        for j in 0..m {
            // Δ̄_t = Σ_{t' > t} ∂L/∂ψ_t' (the gradients' own dependence is dropped).
            let mut delta_bar = vec![0.0; steps];
            let mut acc = 0.0;
            for t in (0..steps).rev() {
                acc += direct[t + 1][j];
                delta_bar[t] = acc;
            }
            let (mut dh_next, mut dc_next) = (vec![0.0; h], vec![0.0; h]);
            for t in (0..steps).rev() {
                let s = &record[j][t];
                let d_out = OUTPUT_SCALE * delta_bar[t];
                grad[w_len + b_len + h] += d_out;
                let mut dz = vec![0.0; 4 * h];
                for k in 0..h {
                    grad[w_len + b_len + k] += d_out * s.h[k];
                    let dh = d_out * self.w_out[k] + dh_next[k];
                    let (i, f, g, o) = (s.gates[k], s.gates[h + k], s.gates[2 * h + k], s.gates[3 * h + k]);
                    let tc = s.c[k].tanh();
                    let dc = dh * o * (1.0 - tc * tc) + dc_next[k];
                    dz[k] = dc * g * i * (1.0 - i);
                    dz[h + k] = dc * s.c_prev[k] * f * (1.0 - f);
                    dz[2 * h + k] = dc * i * (1.0 - g * g);
                    dz[3 * h + k] = dh * tc * o * (1.0 - o);
                    dc_next[k] = dc * f;
                }
                dh_next.fill(0.0);
                for (r, &d) in dz.iter().enumerate() {
                    if d == 0.0 {
                        continue;
                    }
                    grad[w_len + r] += d;
                    let row = &mut grad[r * cols..(r + 1) * cols];
                    for (r, x) in row[..INPUTS].iter_mut().zip(&s.x) {
                        *r += d * x;
                    }
                    for k in 0..h {
                        row[INPUTS + k] += d * s.h_prev[k];
                        dh_next[k] += d * self.w[r * cols + INPUTS + k];
                    }
                }
            }
        }
        loss
    }

    fn pack(&self) -> Vec<f64> {
        let mut x = Vec::with_capacity(self.n_params());
        x.extend(&self.w);
        x.extend(&self.b);
        x.extend(&self.w_out);
        x.push(self.b_out);
        x
    }

    fn unpack(&mut self, x: &[f64]) {
        let (a, b) = (self.w.len(), self.b.len());
        self.w.copy_from_slice(&x[..a]);
        self.b.copy_from_slice(&x[a..a + b]);
        self.w_out.copy_from_slice(&x[a + b..a + b + LSTM_HIDDEN]);
        self.b_out = x[a + b + LSTM_HIDDEN];
    }

    /// Whether the weights have the shapes of this build and are finite.
    pub fn is_valid(&self) -> bool {
        let h = LSTM_HIDDEN;
        self.w.len() == 4 * h * (INPUTS + h)
            && self.b.len() == 4 * h
            && self.w_out.len() == h
            && self.pack().iter().all(|x| x.is_finite() && x.abs() <= 1e6)
    }
}

/// The Rasch model adapted by a learned optimizer from the normal fit's starting point.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LstmIrt {
    /// The starting point and tracing model (the normal fit; its rates are unused).
    pub meta: MetaIrt,
    /// The learned optimizer.
    pub optimizer: LstmOptimizer,
}

impl LstmIrt {
    /// Trains the optimizer for support size `k` across the training learners (model ids),
    /// keeping the epoch with the best validation AUC.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], [`Error::TooFewLearners`], [`Error::Cancelled`].
    pub fn train(
        base: &Irt,
        train: &Dataset,
        valid: &Dataset,
        k: usize,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        if !(1..=100).contains(&cfg.inner_steps) || cfg.meta_batch == 0 {
            return Err(Error::InvalidConfig {
                learner: "lstm-opt",
                param: "inner_steps",
                value: cfg.inner_steps.to_string(),
                reason: "between 1 and 100, with meta_batch ≥ 1",
            });
        }
        let meta = MetaIrt::from_base(Algorithm::FineTune, base, k, cfg.inner_steps, 0.0);
        let tasks = tasks_of(&meta, train, k, false);
        if tasks.is_empty() {
            return Err(Error::TooFewLearners { needed: 1, found: 0 });
        }
        let m = Self { meta, optimizer: LstmOptimizer::new(cfg.seed) };
        let validation = |m: &Self| {
            let t = trace_e5(m, valid, k);
            attune_core::metrics::auc(&t.p, &t.y)
        };
        progress.start(&format!("training the LSTM optimizer (k = {k})"), cfg.max_epochs as u64);
        let mut adam = Adam::new(m.optimizer.n_params(), LSTM_RATE);
        let mut order: Vec<usize> = (0..tasks.len()).collect();
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let mut grad = vec![0.0; m.optimizer.n_params()];
        let start = validation(&m);
        let best = keep_best(m, start, cfg.max_epochs, cfg.patience, Some(progress), |m, _| {
            order.shuffle(&mut rng);
            for batch in order.chunks(cfg.meta_batch) {
                grad.fill(0.0);
                for &t in batch {
                    let (psi0, _) = m.meta.start(&tasks[t]);
                    m.optimizer.loss_and_grad(&tasks[t], &psi0, m.meta.steps, &m.meta.difficulty, None, &mut grad);
                }
                let scale = 1.0 / batch.len() as f64;
                grad.iter_mut().for_each(|g| *g *= scale);
                let mut x = m.optimizer.pack();
                adam.step(&mut x, &grad);
                m.optimizer.unpack(&x);
            }
            Ok(validation(m))
        })?;
        let (auc, mut m) = best;
        m.meta.validation_auc = auc;
        Ok(m)
    }
}

/// Adam rate of the optimizer's weights.
const LSTM_RATE: f64 = 1e-2;

impl MetaLearner for LstmIrt {
    type Learner<'a> = Irt;

    fn adapt(&self, support: &[Interaction<'_>]) -> Adapted<Irt> {
        let task = self.meta.support_task(support);
        let (psi0, _) = self.meta.start(&task);
        let psi = self.optimizer.run(&task, &psi0, self.meta.steps);
        self.meta.adapted(&task, &psi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With the optimizee's gradients frozen as inputs (the paper's approximation), the
    /// meta-loss is an exact function of the weights: the backward pass must match central
    /// differences of it.
    #[test]
    fn the_meta_gradient_matches_finite_differences() {
        let task = Task::new(&[(3, true), (7, false), (3, true)], &[(7, true), (2, false), (3, false)], false);
        let difficulty: Vec<f64> = (0..8).map(|i| 0.3 * f64::from(i) - 1.0).collect();
        let psi0 = vec![0.2, -0.4, 0.6];
        let mut opt = LstmOptimizer::new(5);
        // Larger read-out weights so that every path carries gradient.
        opt.w_out.iter_mut().for_each(|w| *w *= 10.0);
        let steps = 4;
        let (_, record) = opt.unroll(&task, &psi0, steps, None);
        let inputs: Vec<Vec<[f64; INPUTS]>> = (0..steps).map(|t| record.iter().map(|r| r[t].x).collect()).collect();
        let mut grad = vec![0.0; opt.n_params()];
        opt.loss_and_grad(&task, &psi0, steps, &difficulty, Some(&inputs), &mut grad);
        let x = opt.pack();
        let loss_at = |x: &[f64]| {
            let mut o = opt.clone();
            o.unpack(x);
            let mut sink = vec![0.0; o.n_params()];
            o.loss_and_grad(&task, &psi0, steps, &difficulty, Some(&inputs), &mut sink)
        };
        let h = 1e-6;
        for j in [0, 7, 21, 100, 400, 900, x.len() - 30, x.len() - 5, x.len() - 1] {
            let (mut up, mut down) = (x.clone(), x.clone());
            up[j] += h;
            down[j] -= h;
            let fd = (loss_at(&up) - loss_at(&down)) / (2.0 * h);
            assert!((fd - grad[j]).abs() < 1e-8 + 1e-5 * fd.abs(), "weight {j}: analytic {} vs {fd}", grad[j]);
        }
    }

    #[test]
    fn preprocessing_follows_the_paper() {
        assert_eq!(preprocess(1.0, true), [0.0, 1.0, 1.0]);
        assert_eq!(preprocess(-1.0, false), [0.0, -1.0, 0.0]);
        let tiny = preprocess(1e-6, false);
        assert!((tiny[0] + 1.0).abs() < 1e-12 && (tiny[1] - 1e-6 * P.exp()).abs() < 1e-12);
    }
}
