//! BOBCAT's question-selection network: a two-layer perceptron from a learner's answers so far
//! to a score per item (Ghosh & Lan, IJCAI 2021).
//!
//! The input is one entry per item, +1 for a right answer, −1 for a wrong one, 0 if not
//! asked; a test has at most a few answers, so the first layer adds the rows of the answered
//! items, and only the candidate items' output rows are computed. Gradients stay as sparse
//! (touched rows) and Adam updates only the rows a batch touched (lazy Adam, as for
//! embeddings).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// Hidden units of the selection network.
pub const HIDDEN: usize = 256;

/// The selection network's weights.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Policy {
    /// Items (input and output size).
    pub n_items: usize,
    /// Input rows, `[n_items, HIDDEN]`.
    pub w_in: Vec<f32>,
    /// Hidden bias.
    pub b_in: Vec<f32>,
    /// Output rows, `[n_items, HIDDEN]`.
    pub w_out: Vec<f32>,
    /// Output bias per item.
    pub b_out: Vec<f32>,
}

/// One forward pass: the hidden pre-activation and activation.
#[derive(Clone, Debug)]
pub struct Hidden {
    pre: Vec<f32>,
    act: Vec<f32>,
}

impl Policy {
    /// A network for `n_items` items, weights uniform in ±1/√fan-in (seeded).
    pub fn new(n_items: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut uniform =
            |n: usize, scale: f32| -> Vec<f32> { (0..n).map(|_| rng.random_range(-scale..scale)).collect() };
        let s_in = 1.0 / (n_items.max(1) as f32).sqrt().min(8.0);
        let s_out = 1.0 / (HIDDEN as f32).sqrt();
        Self {
            n_items,
            w_in: uniform(n_items * HIDDEN, s_in),
            b_in: uniform(HIDDEN, s_in),
            w_out: uniform(n_items * HIDDEN, s_out),
            b_out: vec![0.0; n_items],
        }
    }

    fn row(w: &[f32], i: u32) -> &[f32] {
        &w[i as usize * HIDDEN..(i as usize + 1) * HIDDEN]
    }

    /// The hidden layer for `answers` (item, correct).
    pub fn hidden(&self, answers: &[(u32, bool)]) -> Hidden {
        let mut pre = self.b_in.clone();
        for &(i, y) in answers {
            if (i as usize) < self.n_items {
                let sign = if y { 1.0 } else { -1.0 };
                for (p, w) in pre.iter_mut().zip(Self::row(&self.w_in, i)) {
                    *p += sign * w;
                }
            }
        }
        let act = pre.iter().map(|x| x.tanh()).collect();
        Hidden { pre, act }
    }

    /// The scores of `items` given the hidden layer.
    pub fn logits(&self, h: &Hidden, items: &[u32]) -> Vec<f32> {
        items
            .iter()
            .map(|&i| {
                if (i as usize) < self.n_items {
                    self.b_out[i as usize]
                        + Self::row(&self.w_out, i).iter().zip(&h.act).map(|(w, a)| w * a).sum::<f32>()
                } else {
                    f32::NEG_INFINITY
                }
            })
            .collect()
    }

    /// Adds the gradient of a loss with `d_logits` on `items` (after [`Policy::hidden`] of
    /// `answers`) to `grad`.
    pub fn backward(
        &self,
        answers: &[(u32, bool)],
        h: &Hidden,
        items: &[u32],
        d_logits: &[f32],
        grad: &mut PolicyGrad,
    ) {
        let mut d_act = [0.0f32; HIDDEN];
        for (&i, &d) in items.iter().zip(d_logits) {
            if (i as usize) >= self.n_items || d == 0.0 {
                continue;
            }
            grad.b_out[i as usize] += d;
            let row = grad.touch_out(i);
            for k in 0..HIDDEN {
                row[k] += d * h.act[k];
                d_act[k] += d * self.w_out[i as usize * HIDDEN + k];
            }
        }
        let d_pre: Vec<f32> = d_act.iter().zip(&h.pre).map(|(d, p)| d * (1.0 - p.tanh().powi(2))).collect();
        for (b, d) in grad.b_in.iter_mut().zip(&d_pre) {
            *b += d;
        }
        for &(i, y) in answers {
            if (i as usize) < self.n_items {
                let sign = if y { 1.0 } else { -1.0 };
                let row = grad.touch_in(i);
                for (r, d) in row.iter_mut().zip(&d_pre) {
                    *r += sign * d;
                }
            }
        }
    }
}

/// A gradient of the network, dense buffers with the list of touched rows.
#[derive(Clone, Debug)]
pub struct PolicyGrad {
    w_in: Vec<f32>,
    b_in: Vec<f32>,
    w_out: Vec<f32>,
    b_out: Vec<f32>,
    touched_in: Vec<u32>,
    touched_out: Vec<u32>,
    seen_in: Vec<bool>,
    seen_out: Vec<bool>,
}

impl PolicyGrad {
    /// A zero gradient for `p`.
    pub fn zeros(p: &Policy) -> Self {
        Self {
            w_in: vec![0.0; p.w_in.len()],
            b_in: vec![0.0; HIDDEN],
            w_out: vec![0.0; p.w_out.len()],
            b_out: vec![0.0; p.n_items],
            touched_in: Vec::new(),
            touched_out: Vec::new(),
            seen_in: vec![false; p.n_items],
            seen_out: vec![false; p.n_items],
        }
    }

    fn touch_in(&mut self, i: u32) -> &mut [f32] {
        if !self.seen_in[i as usize] {
            self.seen_in[i as usize] = true;
            self.touched_in.push(i);
        }
        &mut self.w_in[i as usize * HIDDEN..(i as usize + 1) * HIDDEN]
    }

    fn touch_out(&mut self, i: u32) -> &mut [f32] {
        if !self.seen_out[i as usize] {
            self.seen_out[i as usize] = true;
            self.touched_out.push(i);
        }
        &mut self.w_out[i as usize * HIDDEN..(i as usize + 1) * HIDDEN]
    }
}

/// Adam over the network's touched rows (Kingma & Ba, 2015; lazy: a row's moments move only
/// when a batch touches it).
#[derive(Clone, Debug)]
pub struct PolicyAdam {
    m: [Vec<f32>; 4],
    v: [Vec<f32>; 4],
    t: i32,
    rate: f32,
}

impl PolicyAdam {
    /// Zero moments for `p`.
    pub fn new(p: &Policy, rate: f32) -> Self {
        let z = |n| vec![0.0f32; n];
        Self {
            m: [z(p.w_in.len()), z(HIDDEN), z(p.w_out.len()), z(p.n_items)],
            v: [z(p.w_in.len()), z(HIDDEN), z(p.w_out.len()), z(p.n_items)],
            t: 0,
            rate,
        }
    }

    /// One step with `g` scaled by `scale`; clears `g`.
    pub fn step(&mut self, p: &mut Policy, g: &mut PolicyGrad, scale: f32) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        self.t += 1;
        let (c1, c2) = (1.0 - B1.powi(self.t), 1.0 - B2.powi(self.t));
        let rate = self.rate;
        let update = |x: &mut [f32], g: &mut [f32], m: &mut [f32], v: &mut [f32]| {
            for j in 0..x.len() {
                let gj = g[j] * scale;
                m[j] = B1 * m[j] + (1.0 - B1) * gj;
                v[j] = B2 * v[j] + (1.0 - B2) * gj * gj;
                x[j] -= rate * (m[j] / c1) / ((v[j] / c2).sqrt() + 1e-8);
                g[j] = 0.0;
            }
        };
        let [m_in, m_b, m_out, m_bo] = &mut self.m;
        let [v_in, v_b, v_out, v_bo] = &mut self.v;
        update(&mut p.b_in, &mut g.b_in, m_b, v_b);
        for &i in &g.touched_in {
            let r = i as usize * HIDDEN..(i as usize + 1) * HIDDEN;
            update(&mut p.w_in[r.clone()], &mut g.w_in[r.clone()], &mut m_in[r.clone()], &mut v_in[r]);
            g.seen_in[i as usize] = false;
        }
        for &i in &g.touched_out {
            let r = i as usize * HIDDEN..(i as usize + 1) * HIDDEN;
            update(&mut p.w_out[r.clone()], &mut g.w_out[r.clone()], &mut m_out[r.clone()], &mut v_out[r]);
            let b = i as usize..i as usize + 1;
            update(&mut p.b_out[b.clone()], &mut g.b_out[b.clone()], &mut m_bo[b.clone()], &mut v_bo[b]);
            g.seen_out[i as usize] = false;
        }
        g.touched_in.clear();
        g.touched_out.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The analytic gradient of a linear function of the logits against central differences.
    #[test]
    fn backward_matches_finite_differences() {
        let p = Policy::new(7, 3);
        let answers = [(2u32, true), (5, false)];
        let items = [0u32, 3, 5, 6];
        let coef = [0.7f32, -1.3, 0.4, 2.0];
        let loss = |p: &Policy| -> f64 {
            let h = p.hidden(&answers);
            p.logits(&h, &items).iter().zip(&coef).map(|(l, c)| f64::from(l * c)).sum()
        };
        let mut g = PolicyGrad::zeros(&p);
        p.backward(&answers, &p.hidden(&answers), &items, &coef, &mut g);
        let eps = 1e-2f32;
        let check = |name: &str, get: &dyn Fn(&mut Policy) -> &mut f32, analytic: f32| {
            let (mut up, mut down) = (p.clone(), p.clone());
            *get(&mut up) += eps;
            *get(&mut down) -= eps;
            let fd = (loss(&up) - loss(&down)) / (2.0 * f64::from(eps));
            assert!((fd - f64::from(analytic)).abs() < 1e-3 + 1e-2 * fd.abs(), "{name}: analytic {analytic} vs {fd}");
        };
        for k in [0usize, 9, HIDDEN - 1] {
            check("w_in[2]", &|q| &mut q.w_in[2 * HIDDEN + k], g.w_in[2 * HIDDEN + k]);
            check("w_in[5]", &|q| &mut q.w_in[5 * HIDDEN + k], g.w_in[5 * HIDDEN + k]);
            check("w_out[3]", &|q| &mut q.w_out[3 * HIDDEN + k], g.w_out[3 * HIDDEN + k]);
            check("b_in", &|q| &mut q.b_in[k], g.b_in[k]);
        }
        check("b_out[6]", &|q| &mut q.b_out[6], g.b_out[6]);
        assert_eq!(g.w_in[HIDDEN], 0.0, "an unanswered item's input row gets no gradient");
    }
}
