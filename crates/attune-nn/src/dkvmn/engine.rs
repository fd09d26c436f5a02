//! DKVMN's forward and backward passes written by hand, one window at a time: everything but
//! the value memory's recurrence is a matrix product over all the window's answers at once.
//!
//! Per answer `t` with skill `q` and interaction `x = q + n·correct`:
//! `w_t = softmax(k_q · M_kᵀ)` (attention over the memory slots), read `r_t = w_tᵀ M_{t-1}`,
//! `f_t = tanh([r_t, k_q] · W_f + b_f)`, logit `w_p · f_t + b_p` (+ the item's offset); then
//! write `M_t = M_{t-1} ⊙ (1 − w_t e_tᵀ) + w_t a_tᵀ` with `e_t = σ(v_x W_e + b_e)` and
//! `a_t = tanh(v_x W_a + b_a)`.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::training::Answers;
use crate::{kernels, linalg};

/// All trainable parameters; matrices row-major `[in, out]`, applied as `x · W + b`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Params {
    pub(crate) d: usize,
    pub(crate) slots: usize,
    pub(crate) n_skills: usize,
    /// Key (skill) embeddings `[n_skills, d]`.
    pub(crate) e_key: Vec<f32>,
    /// Value (interaction) embeddings `[2 · n_skills, d]`.
    pub(crate) e_value: Vec<f32>,
    /// Key memory `[slots, d]` and the initial value memory `[slots, d]`.
    pub(crate) m_key: Vec<f32>,
    pub(crate) m_value0: Vec<f32>,
    pub(crate) w_e: Vec<f32>,
    pub(crate) b_e: Vec<f32>,
    pub(crate) w_a: Vec<f32>,
    pub(crate) b_a: Vec<f32>,
    /// `[2d, d]` on `[read, key]`.
    pub(crate) w_f: Vec<f32>,
    pub(crate) b_f: Vec<f32>,
    pub(crate) w_p: Vec<f32>,
    pub(crate) b_p: Vec<f32>,
    /// Offset of each item's logit, or empty.
    pub(crate) b_item: Vec<f32>,
}

impl Params {
    /// PyTorch's defaults as pyKT gets them: N(0, 1) embeddings, Kaiming-normal memories
    /// (std √(2/d)), Linear layers uniform ±1/√in.
    pub(crate) fn init(n_skills: usize, n_items: usize, d: usize, slots: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut normal = |n: usize, sd: f32| (0..n).map(|_| sd * kernels::normal(&mut rng)).collect::<Vec<f32>>();
        let kaiming = (2.0 / d as f32).sqrt();
        let (e_key, e_value) = (normal(n_skills * d, 1.0), normal(2 * n_skills * d, 1.0));
        let (m_key, m_value0) = (normal(slots * d, kaiming), normal(slots * d, kaiming));
        let mut uniform = |n: usize, fan_in: usize| {
            let k = 1.0 / (fan_in as f32).sqrt();
            (0..n).map(|_| rng.random_range(-k..k)).collect::<Vec<f32>>()
        };
        Self {
            d,
            slots,
            n_skills,
            e_key,
            e_value,
            m_key,
            m_value0,
            w_e: uniform(d * d, d),
            b_e: uniform(d, d),
            w_a: uniform(d * d, d),
            b_a: uniform(d, d),
            w_f: uniform(2 * d * d, 2 * d),
            b_f: uniform(d, 2 * d),
            w_p: uniform(d, d),
            b_p: uniform(1, d),
            b_item: vec![0.0; n_items],
        }
    }

    /// Every tensor, in a fixed order (Adam's).
    pub(crate) fn tensors_mut(&mut self) -> Vec<&mut Vec<f32>> {
        vec![
            &mut self.e_key,
            &mut self.e_value,
            &mut self.m_key,
            &mut self.m_value0,
            &mut self.w_e,
            &mut self.b_e,
            &mut self.w_a,
            &mut self.b_a,
            &mut self.w_f,
            &mut self.b_f,
            &mut self.w_p,
            &mut self.b_p,
            &mut self.b_item,
        ]
    }

    /// Attention of skill `q`'s key over the memory slots.
    pub(crate) fn attention(&self, q: usize) -> Vec<f32> {
        let (d, n) = (self.d, self.slots);
        let k = &self.e_key[q * d..(q + 1) * d];
        let mut w: Vec<f32> = self.m_key.chunks_exact(d).take(n).map(|row| kernels::dot(row, k)).collect();
        softmax(&mut w);
        w
    }

    /// The logit of skill `q` (item offset `offset`) read from memory `m`.
    pub(crate) fn logit(&self, m: &[f32], q: usize, offset: f32) -> f32 {
        let d = self.d;
        let w = self.attention(q);
        let mut rk = vec![0.0; 2 * d];
        kernels::add_vec_mat(&w, m, &mut rk[..d]);
        rk[d..].copy_from_slice(&self.e_key[q * d..(q + 1) * d]);
        let mut f = self.b_f.clone();
        kernels::add_vec_mat(&rk, &self.w_f, &mut f);
        f.iter_mut().for_each(|v| *v = kernels::tanh(*v));
        self.b_p[0] + offset + kernels::dot(&f, &self.w_p)
    }

    /// Writes interaction `(q, correct)` into memory `m`.
    pub(crate) fn write(&self, m: &mut [f32], q: usize, correct: bool) {
        let d = self.d;
        let w = self.attention(q);
        let x = q + self.n_skills * usize::from(correct);
        let v = &self.e_value[x * d..(x + 1) * d];
        let (mut e, mut a) = (self.b_e.clone(), self.b_a.clone());
        kernels::add_vec_mat(v, &self.w_e, &mut e);
        kernels::add_vec_mat(v, &self.w_a, &mut a);
        e.iter_mut().for_each(|v| *v = kernels::sigmoid(*v));
        a.iter_mut().for_each(|v| *v = kernels::tanh(*v));
        update(m, &w, &e, &a);
    }
}

fn softmax(row: &mut [f32]) {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = kernels::exp(*v - max);
        sum += *v;
    }
    row.iter_mut().for_each(|v| *v /= sum);
}

/// `M ← M ⊙ (1 − w eᵀ) + w aᵀ`.
#[inline]
fn update(m: &mut [f32], w: &[f32], e: &[f32], a: &[f32]) {
    let d = e.len();
    for (i, &wi) in w.iter().enumerate() {
        let row = &mut m[i * d..(i + 1) * d];
        for j in 0..d {
            row[j] = row[j] * (1.0 - wi * e[j]) + wi * a[j];
        }
    }
}

/// Loss of window `w` divided by `total`, and with `grads` its gradient added there;
/// `dropout` on the read-out's input.
pub(crate) fn window_loss_and_grad(
    p: &Params,
    win: &Answers,
    total: f32,
    dropout: f32,
    rng: &mut StdRng,
    grads: Option<&mut Params>,
) -> f32 {
    let (d, n, l) = (p.d, p.slots, win.len());
    if l == 0 {
        return 0.0;
    }
    let nd = n * d;
    // Keys, attention, values, erase and add vectors of every answer at once.
    let mut k = vec![0.0; l * d];
    let mut v = vec![0.0; l * d];
    for (t, &(q, c, _)) in win.iter().enumerate() {
        let (q, x) = (q as usize, q as usize + p.n_skills * usize::from(c));
        k[t * d..(t + 1) * d].copy_from_slice(&p.e_key[q * d..(q + 1) * d]);
        v[t * d..(t + 1) * d].copy_from_slice(&p.e_value[x * d..(x + 1) * d]);
    }
    let mut w = vec![0.0; l * n];
    linalg::gemm(l, n, d, &k, false, &p.m_key, true, &mut w, 0.0);
    w.chunks_exact_mut(n).for_each(softmax);
    let affine = |b: &[f32], wt: &[f32]| {
        let mut out: Vec<f32> = (0..l).flat_map(|_| b.iter().copied()).collect();
        linalg::gemm(l, d, d, &v, false, wt, false, &mut out, 1.0);
        out
    };
    let mut e = affine(&p.b_e, &p.w_e);
    let mut a = affine(&p.b_a, &p.w_a);
    e.iter_mut().for_each(|x| *x = kernels::sigmoid(*x));
    a.iter_mut().for_each(|x| *x = kernels::tanh(*x));
    // The memory before every answer (l + 1 states), and the reads [r_t, k_t].
    let mut mem = vec![0.0; (l + 1) * nd];
    mem[..nd].copy_from_slice(&p.m_value0);
    let mut rk = vec![0.0; l * 2 * d];
    for t in 0..l {
        let (before, after) = mem.split_at_mut((t + 1) * nd);
        let m_prev = &before[t * nd..];
        kernels::add_vec_mat(&w[t * n..(t + 1) * n], m_prev, &mut rk[t * 2 * d..t * 2 * d + d]);
        rk[t * 2 * d + d..(t + 1) * 2 * d].copy_from_slice(&k[t * d..(t + 1) * d]);
        let m_next = &mut after[..nd];
        m_next.copy_from_slice(m_prev);
        update(m_next, &w[t * n..(t + 1) * n], &e[t * d..(t + 1) * d], &a[t * d..(t + 1) * d]);
    }
    let mut f: Vec<f32> = (0..l).flat_map(|_| p.b_f.iter().copied()).collect();
    linalg::gemm(l, d, 2 * d, &rk, false, &p.w_f, false, &mut f, 1.0);
    f.iter_mut().for_each(|x| *x = kernels::tanh(*x));
    let keep = 1.0 - dropout;
    let mask: Vec<f32> = (0..l * d)
        .map(|_| {
            if dropout > 0.0 && rng.random::<f32>() < dropout {
                0.0
            } else if dropout > 0.0 {
                1.0 / keep
            } else {
                1.0
            }
        })
        .collect();
    let mut loss = 0.0;
    let mut dz = vec![0.0; l];
    for (t, &(_, correct, item)) in win.iter().enumerate() {
        let (ft, mt) = (&f[t * d..(t + 1) * d], &mask[t * d..(t + 1) * d]);
        let z = p.b_p[0]
            + p.b_item.get(item as usize).copied().unwrap_or(0.0)
            + ft.iter().zip(mt).zip(&p.w_p).map(|((f, m), w)| f * m * w).sum::<f32>();
        let y = f32::from(u8::from(correct));
        let softplus = attune_core::softplus_f32(z);
        loss += softplus - y * z;
        dz[t] = (kernels::sigmoid(z) - y) / total;
    }
    let Some(g) = grads else { return loss / total };
    // Read-out and f.
    let mut dpre = vec![0.0; l * d];
    for (t, &(_, _, item)) in win.iter().enumerate() {
        g.b_p[0] += dz[t];
        if let Some(b) = g.b_item.get_mut(item as usize) {
            *b += dz[t];
        }
        for j in 0..d {
            let (fj, mj) = (f[t * d + j], mask[t * d + j]);
            g.w_p[j] += dz[t] * fj * mj;
            dpre[t * d + j] = dz[t] * p.w_p[j] * mj * (1.0 - fj * fj);
        }
    }
    linalg::gemm(2 * d, d, l, &rk, true, &dpre, false, &mut g.w_f, 1.0);
    for row in dpre.chunks_exact(d) {
        g.b_f.iter_mut().zip(row).for_each(|(b, x)| *b += x);
    }
    let mut drk = vec![0.0; l * 2 * d];
    linalg::gemm(l, 2 * d, d, &dpre, false, &p.w_f, true, &mut drk, 0.0);
    // Back through the memory, last answer first.
    let (mut dw, mut de, mut da) = (vec![0.0; l * n], vec![0.0; l * d], vec![0.0; l * d]);
    let mut dm = vec![0.0; nd];
    for t in (0..l).rev() {
        let m_prev = &mem[t * nd..(t + 1) * nd];
        let (wt, et, at) = (&w[t * n..(t + 1) * n], &e[t * d..(t + 1) * d], &a[t * d..(t + 1) * d]);
        let dr = &drk[t * 2 * d..t * 2 * d + d];
        let (dwt, det, dat) = (&mut dw[t * n..(t + 1) * n], &mut de[t * d..(t + 1) * d], &mut da[t * d..(t + 1) * d]);
        for i in 0..n {
            let (row, dmr) = (&m_prev[i * d..(i + 1) * d], &mut dm[i * d..(i + 1) * d]);
            let wi = wt[i];
            let mut acc = 0.0;
            for j in 0..d {
                // dm holds dL/dM_t; the write M_t = M_{t-1}(1 − w e) + w a, then the read.
                let g_m = dmr[j];
                acc += g_m * (a_minus(row[j], et[j], at[j])) + dr[j] * row[j];
                det[j] -= g_m * row[j] * wi;
                dat[j] += g_m * wi;
                dmr[j] = g_m * (1.0 - wi * et[j]) + wi * dr[j];
            }
            dwt[i] += acc;
        }
    }
    g.m_value0.iter_mut().zip(&dm).for_each(|(a, b)| *a += b);
    // e = σ(v W_e + b_e), a = tanh(v W_a + b_a) → dW, db, dv.
    let dpre_e: Vec<f32> = de.iter().zip(&e).map(|(d, e)| d * e * (1.0 - e)).collect();
    let dpre_a: Vec<f32> = da.iter().zip(&a).map(|(d, a)| d * (1.0 - a * a)).collect();
    let mut dv = vec![0.0; l * d];
    for (dp, wt, gw, gb) in [(&dpre_e, &p.w_e, &mut g.w_e, &mut g.b_e), (&dpre_a, &p.w_a, &mut g.w_a, &mut g.b_a)] {
        linalg::gemm(d, d, l, &v, true, dp, false, gw, 1.0);
        for row in dp.chunks_exact(d) {
            gb.iter_mut().zip(row).for_each(|(b, x)| *b += x);
        }
        linalg::gemm(l, d, d, dp, false, wt, true, &mut dv, 1.0);
    }
    // w = softmax(k M_kᵀ) → dk, dM_k.
    for t in 0..l {
        let (wt, dwt) = (&w[t * n..(t + 1) * n], &mut dw[t * n..(t + 1) * n]);
        let dot: f32 = wt.iter().zip(dwt.iter()).map(|(w, d)| w * d).sum();
        dwt.iter_mut().zip(wt).for_each(|(d, w)| *d = w * (*d - dot));
    }
    let mut dk = vec![0.0; l * d];
    linalg::gemm(l, d, n, &dw, false, &p.m_key, false, &mut dk, 0.0);
    linalg::gemm(n, d, l, &dw, true, &k, false, &mut g.m_key, 1.0);
    for (t, &(q, c, _)) in win.iter().enumerate() {
        let (q, x) = (q as usize, q as usize + p.n_skills * usize::from(c));
        let dkt = &mut dk[t * d..(t + 1) * d];
        dkt.iter_mut().zip(&drk[t * 2 * d + d..(t + 1) * 2 * d]).for_each(|(a, b)| *a += b);
        g.e_key[q * d..(q + 1) * d].iter_mut().zip(dkt.iter()).for_each(|(a, b)| *a += b);
        g.e_value[x * d..(x + 1) * d].iter_mut().zip(&dv[t * d..(t + 1) * d]).for_each(|(a, b)| *a += b);
    }
    loss / total
}

/// `∂M_t/∂w_i` per element: `a − M_{t-1} e`.
#[inline(always)]
fn a_minus(m: f32, e: f32, a: f32) -> f32 {
    a - m * e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_match_finite_differences() {
        let mut p = Params::init(3, 4, 6, 4, 9);
        p.b_item = vec![0.2, -0.1, 0.0, 0.3];
        let w =
            vec![(0, true, 0), (2, false, 2), (1, true, 1), (0, false, 3), (2, true, 2), (0, true, 0), (1, false, 1)];
        let loss = |q: &Params, g: Option<&mut Params>| {
            window_loss_and_grad(q, &w, 1.0, 0.0, &mut StdRng::seed_from_u64(0), g)
        };
        let non_zero = crate::training::check_gradients(&p, loss, 1e-2, 3e-4, 0.01);
        assert!(non_zero > p.clone().tensors_mut().len(), "too few non-zero gradients checked ({non_zero})");
    }

    /// The incremental read/write used online gives the training pass's logits.
    #[test]
    fn online_steps_equal_the_window_pass() {
        let p = Params::init(3, 0, 6, 4, 2);
        let w = vec![(0, true, 0), (2, false, 2), (1, true, 1), (0, false, 0), (2, true, 2)];
        let mut m = p.m_value0.clone();
        let mut online = 0.0;
        for &(q, c, _) in &w {
            let z = p.logit(&m, q as usize, 0.0);
            let y = f32::from(u8::from(c));
            online += attune_core::softplus_f32(z) - y * z;
            p.write(&mut m, q as usize, c);
        }
        let batch = window_loss_and_grad(&p, &w, 1.0, 0.0, &mut StdRng::seed_from_u64(0), None);
        assert!((online - batch).abs() < 1e-4, "{online} vs {batch}");
    }
}
