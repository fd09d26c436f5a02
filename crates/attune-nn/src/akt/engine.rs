//! AKT's forward and backward passes written by hand, one window at a time (no padding),
//! checked against finite differences in the tests.
//!
//! Answer `t` is question `q_t` (skill), problem `p_t` (item) and response `r_t`. With the
//! Rasch embeddings of the paper, the question is `x_t = c_q + μ_p · d_q` and the
//! interaction `y_t = x_t + g_r + μ_p · f_r`, where `μ_p` is a scalar difficulty per
//! problem. Three monotonic-attention layers follow (the paper's one block): the knowledge
//! encoder over the interactions (each sees itself and the past), the question encoder over
//! the questions (likewise, no feed-forward net), and the knowledge retriever, whose query
//! and keys are the encoded questions and values the encoded interactions, seeing only the
//! past. The read-out is a three-layer ReLU net on `[retrieved, x_t]`.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::attention::{self, Layer, LayerCache};
use crate::kernels;
use crate::layers::{Dropout, bce_with_logit, linear, linear_back};
pub(crate) use crate::training::Answers;

/// All trainable parameters.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Params {
    pub(crate) d: usize,
    pub(crate) heads: usize,
    pub(crate) n_skills: usize,
    /// Longest window the model attends over.
    pub(crate) window: usize,
    /// Question embeddings `c` and their Rasch variations `d`, `[n_skills, d]` each.
    pub(crate) e_q: Vec<f32>,
    pub(crate) e_qd: Vec<f32>,
    /// Response embeddings `g` and their Rasch variations `f`, `[2, d]` each.
    pub(crate) e_r: Vec<f32>,
    pub(crate) e_rd: Vec<f32>,
    /// Difficulty `μ` of each item (empty without Rasch embeddings).
    pub(crate) mu: Vec<f32>,
    pub(crate) know: Layer,
    pub(crate) quest: Layer,
    pub(crate) retr: Layer,
    /// Read-out: `[2d, fc1]`, `[fc1, fc2]`, `[fc2]` and biases.
    pub(crate) h_w1: Vec<f32>,
    pub(crate) h_b1: Vec<f32>,
    pub(crate) h_w2: Vec<f32>,
    pub(crate) h_b2: Vec<f32>,
    pub(crate) h_w3: Vec<f32>,
    pub(crate) h_b3: Vec<f32>,
    /// Offset of each item's logit, or empty.
    pub(crate) b_item: Vec<f32>,
}

/// Shape of a model to build.
pub(crate) struct Shape {
    pub(crate) n_skills: usize,
    pub(crate) n_items: usize,
    pub(crate) d: usize,
    pub(crate) heads: usize,
    pub(crate) ff: usize,
    pub(crate) fc: (usize, usize),
    pub(crate) window: usize,
    pub(crate) rasch: bool,
}

impl Params {
    /// The AKT code's initialisation: N(0, 1) embeddings, difficulties at zero, layers as
    /// [`Layer::init`], read-out Linear layers uniform ±1/√in.
    pub(crate) fn init(s: &Shape, seed: u64) -> Self {
        let d = s.d;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut normal = |n: usize| (0..n).map(|_| kernels::normal(&mut rng)).collect::<Vec<f32>>();
        let (e_q, e_qd, e_r, e_rd) = (normal(s.n_skills * d), normal(s.n_skills * d), normal(2 * d), normal(2 * d));
        let (e_qd, e_rd) = if s.rasch { (e_qd, e_rd) } else { (Vec::new(), Vec::new()) };
        let know = Layer::init(d, s.heads, s.ff, &mut rng);
        let quest = Layer::init(d, s.heads, 0, &mut rng);
        let retr = Layer::init(d, s.heads, s.ff, &mut rng);
        let (fc1, fc2) = s.fc;
        let mut uniform = |n: usize, fan_in: usize| {
            let k = 1.0 / (fan_in as f32).sqrt();
            (0..n).map(|_| rng.random_range(-k..k)).collect::<Vec<f32>>()
        };
        Self {
            d,
            heads: s.heads,
            n_skills: s.n_skills,
            window: s.window,
            e_q,
            e_qd,
            e_r,
            e_rd,
            mu: vec![0.0; if s.rasch { s.n_items } else { 0 }],
            know,
            quest,
            retr,
            h_w1: uniform(2 * d * fc1, 2 * d),
            h_b1: uniform(fc1, 2 * d),
            h_w2: uniform(fc1 * fc2, fc1),
            h_b2: uniform(fc2, fc1),
            h_w3: uniform(fc2, fc2),
            h_b3: uniform(1, fc2),
            b_item: vec![0.0; s.n_items],
        }
    }

    /// Every tensor, in a fixed order (Adam's).
    pub(crate) fn tensors_mut(&mut self) -> Vec<&mut Vec<f32>> {
        let mut out: Vec<&mut Vec<f32>> =
            vec![&mut self.e_q, &mut self.e_qd, &mut self.e_r, &mut self.e_rd, &mut self.mu];
        out.extend(self.know.tensors_mut());
        out.extend(self.quest.tensors_mut());
        out.extend(self.retr.tensors_mut());
        out.extend([
            &mut self.h_w1,
            &mut self.h_w2,
            &mut self.h_w3,
            &mut self.h_b1,
            &mut self.h_b2,
            &mut self.h_b3,
            &mut self.b_item,
        ]);
        out
    }

    /// The item's difficulty (zero without Rasch embeddings or for an unseen item).
    pub(crate) fn difficulty(&self, item: u32) -> f32 {
        self.mu.get(item as usize).copied().unwrap_or(0.0)
    }

    /// The question row `x = c_q + μ · d_q` of `skill` asked through `item`.
    pub(crate) fn question(&self, skill: usize, item: u32) -> Vec<f32> {
        let d = self.d;
        let c = &self.e_q[skill * d..(skill + 1) * d];
        match self.e_qd.get(skill * d..(skill + 1) * d) {
            Some(dq) => {
                let mu = self.difficulty(item);
                c.iter().zip(dq).map(|(c, v)| c + mu * v).collect()
            }
            None => c.to_vec(),
        }
    }

    /// The interaction row `y = x + g_r + μ · f_r` from the question row `x`.
    pub(crate) fn interaction(&self, x: &[f32], correct: bool, item: u32) -> Vec<f32> {
        let d = self.d;
        let r = usize::from(correct);
        let g = &self.e_r[r * d..(r + 1) * d];
        let mu = self.difficulty(item);
        match self.e_rd.get(r * d..(r + 1) * d) {
            Some(f) => x.iter().zip(g).zip(f).map(|((x, g), f)| x + g + mu * f).collect(),
            None => x.iter().zip(g).map(|(x, g)| x + g).collect(),
        }
    }

    /// The read-out's logit for retrieved knowledge `h` and question row `x` (no dropout).
    pub(crate) fn head_logit(&self, h: &[f32], x: &[f32], item: u32) -> f32 {
        let u: Vec<f32> = h.iter().chain(x).copied().collect();
        let mut a1 = crate::layers::affine(&u, &self.h_w1, &self.h_b1);
        a1.iter_mut().for_each(|v| *v = v.max(0.0));
        let mut a2 = crate::layers::affine(&a1, &self.h_w2, &self.h_b2);
        a2.iter_mut().for_each(|v| *v = v.max(0.0));
        self.h_b3[0]
            + self.b_item.get(item as usize).copied().unwrap_or(0.0)
            + a2.iter().zip(&self.h_w3).map(|(a, w)| a * w).sum::<f32>()
    }

    /// Layer shapes `(fc1, fc2)` of the read-out.
    fn fc(&self) -> (usize, usize) {
        (self.h_b1.len(), self.h_b2.len())
    }
}

/// The logit of every answer of window `w`, each from the answers before it; no dropout.
pub(crate) fn window_logits(p: &Params, w: &Answers) -> Vec<f32> {
    let mut logits = Vec::with_capacity(w.len());
    run_window(p, w, 1.0, 0.0, &mut Dropout::off(), None, Some(&mut logits));
    logits
}

/// Loss of window `w` divided by `total` — cross-entropy plus `l2 · μ²` per answer, as the
/// paper regularises the difficulties — and with `grads` its gradient added there.
pub(crate) fn window_loss_and_grad(
    p: &Params,
    w: &Answers,
    total: f32,
    l2: f32,
    dropout: f32,
    rng: &mut StdRng,
    grads: Option<&mut Params>,
) -> f32 {
    run_window(p, w, total, l2, &mut Dropout { p: dropout, rng: Some(rng) }, grads, None)
}

/// What the read-out's backward pass needs.
struct HeadCache {
    u: Vec<f32>,
    a1: Vec<f32>,
    m1: Vec<f32>,
    a2: Vec<f32>,
    m2: Vec<f32>,
}

fn head_forward(p: &Params, h: &[f32], x: &[f32], w: &Answers, drop: &mut Dropout<'_>) -> (Vec<f32>, HeadCache) {
    let (d, l) = (p.d, w.len());
    let (fc1, fc2) = p.fc();
    let mut u = vec![0.0; l * 2 * d];
    for t in 0..l {
        u[t * 2 * d..t * 2 * d + d].copy_from_slice(&h[t * d..(t + 1) * d]);
        u[t * 2 * d + d..(t + 1) * 2 * d].copy_from_slice(&x[t * d..(t + 1) * d]);
    }
    let mut a1 = linear(&u, l, &p.h_w1, &p.h_b1, 2 * d, fc1);
    let m1 = drop.fast_mask(l * fc1);
    a1.iter_mut().zip(&m1).for_each(|(a, m)| *a = a.max(0.0) * m);
    let mut a2 = linear(&a1, l, &p.h_w2, &p.h_b2, fc1, fc2);
    let m2 = drop.fast_mask(l * fc2);
    a2.iter_mut().zip(&m2).for_each(|(a, m)| *a = a.max(0.0) * m);
    let logits = (0..l)
        .map(|t| {
            p.h_b3[0]
                + p.b_item.get(w[t].2 as usize).copied().unwrap_or(0.0)
                + a2[t * fc2..(t + 1) * fc2].iter().zip(&p.h_w3).map(|(a, w)| a * w).sum::<f32>()
        })
        .collect();
    (logits, HeadCache { u, a1, m1, a2, m2 })
}

/// Backward of the read-out from the logits' gradient `dz`: returns `(dh, dx)`.
fn head_backward(p: &Params, g: &mut Params, c: &HeadCache, w: &Answers, dz: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let (d, l) = (p.d, w.len());
    let (fc1, fc2) = p.fc();
    let mut da2 = vec![0.0; l * fc2];
    for t in 0..l {
        g.h_b3[0] += dz[t];
        if let Some(b) = g.b_item.get_mut(w[t].2 as usize) {
            *b += dz[t];
        }
        let (a2, m2) = (&c.a2[t * fc2..(t + 1) * fc2], &c.m2[t * fc2..(t + 1) * fc2]);
        for j in 0..fc2 {
            g.h_w3[j] += dz[t] * a2[j];
            // a2 is already ReLU'd and masked: it is non-zero exactly where the gradient passes.
            da2[t * fc2 + j] = if a2[j] > 0.0 { dz[t] * p.h_w3[j] * m2[j] } else { 0.0 };
        }
    }
    let mut da1 = vec![0.0; l * fc1];
    linear_back(&c.a1, &da2, &p.h_w2, l, fc1, fc2, (&mut g.h_w2, &mut g.h_b2), Some(&mut da1));
    da1.iter_mut().zip(c.a1.iter().zip(&c.m1)).for_each(|(d, (a, m))| *d = if *a > 0.0 { *d * m } else { 0.0 });
    let mut du = vec![0.0; l * 2 * d];
    linear_back(&c.u, &da1, &p.h_w1, l, 2 * d, fc1, (&mut g.h_w1, &mut g.h_b1), Some(&mut du));
    let (mut dh, mut dx) = (vec![0.0; l * d], vec![0.0; l * d]);
    for t in 0..l {
        dh[t * d..(t + 1) * d].copy_from_slice(&du[t * 2 * d..t * 2 * d + d]);
        dx[t * d..(t + 1) * d].copy_from_slice(&du[t * 2 * d + d..(t + 1) * 2 * d]);
    }
    (dh, dx)
}

fn run_window(
    p: &Params,
    w: &Answers,
    total: f32,
    l2: f32,
    drop: &mut Dropout<'_>,
    grads: Option<&mut Params>,
    logits_out: Option<&mut Vec<f32>>,
) -> f32 {
    let (d, l) = (p.d, w.len());
    if l == 0 {
        return 0.0;
    }
    let mut x = Vec::with_capacity(l * d);
    let mut y = Vec::with_capacity(l * d);
    for &(s, c, item) in w {
        let xr = p.question(s as usize, item);
        y.extend(p.interaction(&xr, c, item));
        x.extend(xr);
    }
    let (y_enc, c_know): (Vec<f32>, LayerCache) = attention::forward(&p.know, p.heads, &y, None, true, drop);
    let (x_enc, c_quest) = attention::forward(&p.quest, p.heads, &x, None, true, drop);
    let (h, c_retr) = attention::forward(&p.retr, p.heads, &x_enc, Some(&y_enc), false, drop);
    let (logits, c_head) = head_forward(p, &h, &x, w, drop);
    let mut loss = 0.0;
    let mut dz = vec![0.0; l];
    for (t, &(_, correct, item)) in w.iter().enumerate() {
        let (bce, dl) = bce_with_logit(logits[t], correct);
        let mu = p.difficulty(item);
        loss += bce + l2 * mu * mu;
        dz[t] = dl / total;
    }
    if let Some(out) = logits_out {
        *out = logits;
    }
    let Some(g) = grads else { return loss / total };
    let (dh, mut dx) = head_backward(p, g, &c_head, w, &dz);
    let (mut dx_enc, mut dy_enc) = (vec![0.0; l * d], vec![0.0; l * d]);
    attention::backward(
        &p.retr,
        &mut g.retr,
        p.heads,
        &c_retr,
        &x_enc,
        Some(&y_enc),
        &dh,
        &mut dx_enc,
        Some(&mut dy_enc),
    );
    attention::backward(&p.quest, &mut g.quest, p.heads, &c_quest, &x, None, &dx_enc, &mut dx, None);
    let mut dy = vec![0.0; l * d];
    attention::backward(&p.know, &mut g.know, p.heads, &c_know, &y, None, &dy_enc, &mut dy, None);
    for (t, &(s, c, item)) in w.iter().enumerate() {
        let (s, r, mu) = (s as usize, usize::from(c), p.difficulty(item));
        let (dxt, dyt) = (&dx[t * d..(t + 1) * d], &dy[t * d..(t + 1) * d]);
        // y = x + g_r + μ f_r, x = c_q + μ d_q.
        let mut dmu = 2.0 * l2 * mu / total;
        for j in 0..d {
            let dxx = dxt[j] + dyt[j];
            g.e_q[s * d + j] += dxx;
            g.e_r[r * d + j] += dyt[j];
            if !p.e_qd.is_empty() {
                g.e_qd[s * d + j] += mu * dxx;
                g.e_rd[r * d + j] += mu * dyt[j];
                dmu += dxx * p.e_qd[s * d + j] + dyt[j] * p.e_rd[r * d + j];
            }
        }
        if let Some(m) = g.mu.get_mut(item as usize) {
            *m += dmu;
        }
    }
    loss / total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::Tensors;

    fn tiny(rasch: bool) -> (Params, Vec<(u32, bool, u32)>) {
        let shape = Shape { n_skills: 3, n_items: 5, d: 8, heads: 2, ff: 6, fc: (7, 5), window: 8, rasch };
        // Seed 6: with seed 5's draws one ReLU input of the retriever's feed-forward lies within
        // the finite-difference step of 0, where central differences do not measure a gradient.
        let mut p = Params::init(&shape, 6);
        // Non-trivial difficulties, layer norms, biases and item offsets, so their gradients
        // are exercised.
        p.mu.iter_mut().enumerate().for_each(|(k, v)| *v = 0.3 * (k as f32 + 1.0).sin());
        for (k, layer) in [&mut p.know, &mut p.quest, &mut p.retr].into_iter().enumerate() {
            layer.ln1_g.iter_mut().enumerate().for_each(|(j, v)| *v = 1.0 + 0.1 * ((j + k) as f32).sin());
            layer.b_k.iter_mut().enumerate().for_each(|(j, v)| *v = 0.05 * (j as f32 + 1.0).sin());
            layer.ffn.ln2_b.iter_mut().enumerate().for_each(|(j, v)| *v = 0.05 * (j as f32).cos());
        }
        p.b_item = vec![0.1, -0.2, 0.3, 0.0, 0.2];
        // A read-out this narrow starts with most ReLUs dead; positive biases wake them.
        p.h_b1.iter_mut().for_each(|v| *v += 0.5);
        p.h_b2.iter_mut().for_each(|v| *v += 0.5);
        let w =
            vec![(0, true, 0), (2, false, 2), (1, true, 1), (0, false, 3), (2, true, 4), (1, false, 1), (0, true, 0)];
        (p, w)
    }

    /// The reference code treats the distances of the monotonic attention as constants, so
    /// the gradient is exact only where no distance moves: with every decay switched off
    /// (γ far below zero) for all tensors, …
    #[test]
    fn gradients_match_finite_differences_without_decay() {
        for rasch in [true, false] {
            let (mut p, w) = tiny(rasch);
            for layer in [&mut p.know, &mut p.quest, &mut p.retr] {
                layer.gamma.fill(-30.0);
            }
            let loss = |q: &Params, g: Option<&mut Params>| {
                window_loss_and_grad(q, &w, 1.0, 0.01, 0.0, &mut StdRng::seed_from_u64(0), g)
            };
            let non_zero = crate::training::check_gradients(&p, loss, 1e-3, 6e-4, 0.02);
            let tensors = p.clone().tensors_mut().iter().filter(|t| !t.is_empty()).count();
            assert!(non_zero > tensors, "rasch {rasch}: too few non-zero gradients checked ({non_zero})");
        }
    }

    /// … and with the decays on, for the tensors downstream of every score: the knowledge
    /// encoder's values onward (its output feeds only the retriever's values, its decay
    /// rates included), the retriever's values onward, and the read-out.
    #[test]
    fn gradients_match_finite_differences_with_decay() {
        let (p, w) = tiny(true);
        assert!(p.know.gamma.iter().chain(&p.retr.gamma).all(|g| g.abs() > 0.01));
        let loss = |q: &Params, g: Option<&mut Params>| {
            window_loss_and_grad(q, &w, 1.0, 0.01, 0.0, &mut StdRng::seed_from_u64(0), g)
        };
        // Adam's order: 5 embedding tensors, 15 per layer (know, quest, retr), then the
        // read-out and item offsets; within a layer, values (index 2) onward.
        let downstream = |i: usize| (7..20).contains(&i) || (37..50).contains(&i) || i >= 50;
        let non_zero = crate::training::check_gradients_of(&p, loss, 1e-3, (6e-4, 0.02), downstream);
        assert!(non_zero > 30, "too few non-zero gradients checked ({non_zero})");
    }

    /// No answer sees its own or a later response, nor a later question: changing answer t
    /// leaves the logits of answers 0..=t unchanged (its response) and 0..t (its question).
    #[test]
    fn model_is_causal() {
        let (p, w) = tiny(true);
        let base = window_logits(&p, &w);
        for t in 0..w.len() {
            let mut v = w.clone();
            v[t].1 = !v[t].1;
            let changed = window_logits(&p, &v);
            for s in 0..=t {
                assert!((base[s] - changed[s]).abs() < 1e-6, "answer {s} depends on response {t}");
            }
            if t + 1 < w.len() {
                assert!((base[t + 1] - changed[t + 1]).abs() > 1e-6, "answer {} ignores response {t}", t + 1);
            }
            let mut v = w.clone();
            v[t].0 = (v[t].0 + 1) % 3;
            v[t].2 = (v[t].2 + 1) % 5;
            let changed = window_logits(&p, &v);
            for s in 0..t {
                assert!((base[s] - changed[s]).abs() < 1e-6, "answer {s} depends on question {t}");
            }
        }
    }

    #[test]
    fn two_threads_equal_one() {
        let (p, w) = tiny(true);
        let windows: Vec<&Answers> = vec![&w, &w[..4], &w[1..], &w[..2]];
        let mut g1 = p.zeros_like();
        let mut rng = StdRng::seed_from_u64(1);
        let mut l1 = 0.0;
        let config = crate::AktConfig { dropout: 0.0, ..crate::AktConfig::default() };
        for x in &windows {
            l1 += window_loss_and_grad(&p, x, 10.0, config.l2 as f32, 0.0, &mut rng, Some(&mut g1));
        }
        let mut g2 = p.zeros_like();
        let mut rng = StdRng::seed_from_u64(1);
        let l2 = crate::training::batch_loss_and_grad::<crate::Akt>(&config, &p, &windows, 10.0, &mut rng, &mut g2);
        assert!((l1 - l2).abs() < 1e-5);
        for (a, b) in g1.tensors_mut().into_iter().zip(g2.tensors_mut()) {
            a.iter().zip(b.iter()).for_each(|(x, y)| assert!((x - y).abs() < 1e-5));
        }
    }
}
