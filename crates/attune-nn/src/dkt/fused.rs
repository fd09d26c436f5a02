//! DKT training without a tensor framework: the same network as [`super::DktNet`] with the
//! embedding folded into a per-token gate table, a hand-written backward pass through time,
//! and the three matrix products per step done by `ndarray` (matrixmultiply's SIMD kernels).
//! Checked against the burn network's loss and against finite differences in the tests.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Slice, aview1};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Trainable parameters, row-major.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Params {
    pub(crate) n_skills: usize,
    pub(crate) hidden: usize,
    /// `[2 · n_skills + 1, 4 · hidden]`: gate pre-activations contributed by each token.
    pub(crate) table: Vec<f32>,
    /// `[hidden, 4 · hidden]`.
    pub(crate) w_hh: Vec<f32>,
    /// `[n_skills, hidden]`.
    pub(crate) w_out: Vec<f32>,
    /// `[n_skills]`.
    pub(crate) b_out: Vec<f32>,
}

impl Params {
    /// Uniform(±1/√hidden) initialisation, as PyTorch's LSTM and Linear, except the gate
    /// table: it stands for `embedding · W_ih` with a N(0, 1) embedding (PyTorch's default),
    /// whose entries have a standard deviation of about `√(embedding / (3 · hidden))` ≈ 0.58
    /// for 200 × 200; drawing it at ±1/√hidden instead starves the gates of input and slows
    /// the first epochs several-fold (measured on ASSIST2009).
    pub(crate) fn init(n_skills: usize, hidden: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let k = 1.0 / (hidden as f32).sqrt();
        let table = (0..(2 * n_skills + 1) * 4 * hidden).map(|_| rng.random_range(-1.0..1.0)).collect();
        let mut draw = |n: usize| (0..n).map(|_| rng.random_range(-k..k)).collect::<Vec<f32>>();
        Self {
            n_skills,
            hidden,
            table,
            w_hh: draw(hidden * 4 * hidden),
            w_out: draw(n_skills * hidden),
            b_out: vec![0.0; n_skills],
        }
    }

    pub(crate) fn zeros_like(&self) -> Self {
        Self {
            n_skills: self.n_skills,
            hidden: self.hidden,
            table: vec![0.0; self.table.len()],
            w_hh: vec![0.0; self.w_hh.len()],
            w_out: vec![0.0; self.w_out.len()],
            b_out: vec![0.0; self.b_out.len()],
        }
    }

    pub(crate) fn slices_mut(&mut self) -> [&mut Vec<f32>; 4] {
        [&mut self.table, &mut self.w_hh, &mut self.w_out, &mut self.b_out]
    }
}

impl Params {
    /// The parameters of a burn network: the embedding folds into the gate table.
    #[cfg(test)]
    pub(crate) fn from_model(model: &super::Dkt) -> Self {
        Self {
            n_skills: model.n_skills,
            hidden: model.hidden,
            table: model.token_gates.clone(),
            w_hh: model.w_hh.clone(),
            w_out: model.w_out.clone(),
            b_out: model.b_out.clone(),
        }
    }
}

/// A padded minibatch: `b` windows of `l` steps, row-major `[b, l]`, longest window first, so
/// that the windows still running at any step are a prefix of the rows (padding costs nothing).
pub(crate) struct Batch {
    pub(crate) b: usize,
    pub(crate) l: usize,
    pub(crate) tokens: Vec<usize>,
    pub(crate) targets: Vec<usize>,
    pub(crate) labels: Vec<f32>,
    pub(crate) mask: Vec<f32>,
    /// What the summed loss is divided by: the answers of an average minibatch, so that every
    /// answer weighs the same whatever the size of its batch (0 = this batch's answers).
    pub(crate) denominator: f32,
}

/// The first `n` rows.
fn rows(a: &Array2<f32>, n: usize) -> ArrayView2<'_, f32> {
    a.slice_axis(Axis(0), Slice::from(..n))
}

/// The first `n` rows, mutably.
fn rows_mut(a: &mut Array2<f32>, n: usize) -> ArrayViewMut2<'_, f32> {
    a.slice_axis_mut(Axis(0), Slice::from(..n))
}

fn sig(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Loss of the batch and, if `grads` is given, its gradient (overwritten). `dropout` is the
/// drop probability on the read-out's input, drawn from `rng`.
pub(crate) fn loss_and_grad(
    p: &Params,
    batch: &Batch,
    dropout: f32,
    rng: &mut StdRng,
    mut grads: Option<&mut Params>,
) -> f32 {
    let (b, l, h) = (batch.b, batch.l, p.hidden);
    let g4 = 4 * h;
    let Ok(w_hh) = ArrayView2::from_shape((h, g4), &p.w_hh) else { return f32::NAN };
    // active[t]: rows whose window reaches position t (a prefix, the batch being sorted).
    let active: Vec<usize> = (0..l).map(|t| (0..b).take_while(|&r| batch.mask[r * l + t] > 0.0).count()).collect();
    // hs[t], cs[t]: [b, h] for t = 0..l (h_0 = c_0 = 0); acts[t]: [b, 4h] activated gates for t = 1..l.
    let mut hs: Vec<Array2<f32>> = Vec::with_capacity(l);
    let mut cs: Vec<Array2<f32>> = Vec::with_capacity(l);
    let mut acts: Vec<Array2<f32>> = Vec::with_capacity(l);
    hs.push(Array2::zeros((b, h)));
    cs.push(Array2::zeros((b, h)));
    acts.push(Array2::zeros((0, 0)));
    for t in 1..l {
        let n = active[t];
        let mut g = Array2::<f32>::zeros((b, g4));
        for r in 0..n {
            let tok = batch.tokens[r * l + t - 1];
            g.row_mut(r).assign(&aview1(&p.table[tok * g4..(tok + 1) * g4]));
        }
        general_mat_mul(1.0, &rows(&hs[t - 1], n), &w_hh, 1.0, &mut rows_mut(&mut g, n));
        let mut c = Array2::<f32>::zeros((b, h));
        let mut hn = Array2::<f32>::zeros((b, h));
        for r in 0..n {
            for j in 0..h {
                let (i, f, gg, o) =
                    (sig(g[[r, j]]), sig(g[[r, h + j]]), g[[r, 2 * h + j]].tanh(), sig(g[[r, 3 * h + j]]));
                g[[r, j]] = i;
                g[[r, h + j]] = f;
                g[[r, 2 * h + j]] = gg;
                g[[r, 3 * h + j]] = o;
                let cv = f * cs[t - 1][[r, j]] + i * gg;
                c[[r, j]] = cv;
                hn[[r, j]] = o * cv.tanh();
            }
        }
        acts.push(g);
        cs.push(c);
        hs.push(hn);
    }
    // Read-out on the target skill only, with inverted dropout on h.
    let total: f32 = if batch.denominator > 0.0 { batch.denominator } else { batch.mask.iter().sum::<f32>().max(1.0) };
    let keep = 1.0 - dropout;
    let mut loss = 0.0;
    let mut dhs: Vec<Array2<f32>> =
        if grads.is_some() { (0..l).map(|_| Array2::zeros((b, h))).collect() } else { Vec::new() };
    let mut drop = vec![1.0f32; h];
    for t in 0..l {
        for r in 0..b {
            let m = batch.mask[r * l + t];
            if m == 0.0 {
                continue;
            }
            let q = batch.targets[r * l + t];
            let w = &p.w_out[q * h..(q + 1) * h];
            let hrow = hs[t].row(r);
            if dropout > 0.0 {
                drop.iter_mut().for_each(|d| *d = if rng.random::<f32>() < dropout { 0.0 } else { 1.0 / keep });
            }
            let z = p.b_out[q] + (0..h).map(|j| w[j] * hrow[j] * drop[j]).sum::<f32>();
            let y = batch.labels[r * l + t];
            // -[y log σ(z) + (1 - y) log(1 - σ(z))], stably.
            let softplus = if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() };
            loss += m * (softplus - y * z);
            if let Some(gr) = grads.as_deref_mut() {
                let dz = m * (sig(z) - y) / total;
                gr.b_out[q] += dz;
                let dw = &mut gr.w_out[q * h..(q + 1) * h];
                let mut dh = dhs[t].row_mut(r);
                for j in 0..h {
                    dw[j] += dz * hrow[j] * drop[j];
                    dh[j] += dz * w[j] * drop[j];
                }
            }
        }
    }
    let Some(gr) = grads else { return loss / total };
    // Backward through time.
    let mut dh_next = Array2::<f32>::zeros((b, h));
    let mut dc_next = Array2::<f32>::zeros((b, h));
    let mut dg = Array2::<f32>::zeros((b, g4));
    let mut dw_hh = Array2::<f32>::zeros((h, g4));
    for t in (1..l).rev() {
        let n = active[t];
        let a = &acts[t];
        for r in 0..n {
            for j in 0..h {
                let (i, f, gg, o) = (a[[r, j]], a[[r, h + j]], a[[r, 2 * h + j]], a[[r, 3 * h + j]]);
                let c = cs[t][[r, j]];
                let tc = c.tanh();
                let dh = dhs[t][[r, j]] + dh_next[[r, j]];
                let do_ = dh * tc;
                let dc = dh * o * (1.0 - tc * tc) + dc_next[[r, j]];
                let cp = cs[t - 1][[r, j]];
                dg[[r, j]] = dc * gg * i * (1.0 - i);
                dg[[r, h + j]] = dc * cp * f * (1.0 - f);
                dg[[r, 2 * h + j]] = dc * i * (1.0 - gg * gg);
                dg[[r, 3 * h + j]] = do_ * o * (1.0 - o);
                dc_next[[r, j]] = dc * f;
            }
            let tok = batch.tokens[r * l + t - 1];
            let dt = &mut gr.table[tok * g4..(tok + 1) * g4];
            dt.iter_mut().zip(dg.row(r).iter()).for_each(|(d, g)| *d += g);
        }
        // dW_hh += h_{t-1}ᵀ dG; dh_{t-1} = dG W_hhᵀ.
        // Rows past `n` ended before `t` and were never written: their dh, dc stay zero.
        let dg_n = rows(&dg, n);
        general_mat_mul(1.0, &rows(&hs[t - 1], n).t(), &dg_n, 1.0, &mut dw_hh);
        general_mat_mul(1.0, &dg_n, &w_hh.t(), 0.0, &mut rows_mut(&mut dh_next, n));
    }
    for (d, v) in gr.w_hh.iter_mut().zip(dw_hh.iter()) {
        *d += v;
    }
    loss / total
}

/// Adam (Kingma & Ba, 2015) over a fixed list of parameter vectors.
pub(crate) struct Adam {
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: i32,
    lr: f32,
}

impl Adam {
    pub(crate) fn for_sizes(sizes: &[usize], lr: f32) -> Self {
        Self {
            m: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            v: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            t: 0,
            lr,
        }
    }

    /// One step on `params` with gradients `grads` (same order and sizes as at creation);
    /// the gradients are zeroed for the next accumulation.
    pub(crate) fn step(&mut self, params: &mut [&mut Vec<f32>], grads: &mut [&mut Vec<f32>]) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        const EPS: f32 = 1e-8;
        self.t += 1;
        let c1 = 1.0 - B1.powi(self.t);
        let c2 = 1.0 - B2.powi(self.t);
        let lr = self.lr;
        for (((p, g), m), v) in params.iter_mut().zip(grads.iter_mut()).zip(&mut self.m).zip(&mut self.v) {
            for k in 0..p.len() {
                let gk = g[k];
                m[k] = B1 * m[k] + (1.0 - B1) * gk;
                v[k] = B2 * v[k] + (1.0 - B2) * gk * gk;
                p[k] -= lr * (m[k] / c1) / ((v[k] / c2).sqrt() + EPS);
                g[k] = 0.0;
            }
        }
    }
}

/// The gate table factorised as PyTorch's DKT has it: `table = embedding · W_ih + b_ih`
/// (embedding `[tokens, e]`, `W_ih` `[e, 4h]`). The table is rebuilt before each step and its
/// gradient pulled back through the product (three matrix products per minibatch).
#[derive(Clone, Debug)]
pub(crate) struct Factors {
    pub(crate) tokens: usize,
    pub(crate) dim: usize,
    pub(crate) gates: usize,
    pub(crate) emb: Vec<f32>,
    pub(crate) w_ih: Vec<f32>,
    pub(crate) b_ih: Vec<f32>,
}

impl Factors {
    /// N(0, 1) embedding (PyTorch's `nn.Embedding`), `W_ih`, `b_ih` uniform ±1/√hidden.
    pub(crate) fn init(tokens: usize, dim: usize, hidden: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ 0xE3B0);
        let gates = 4 * hidden;
        let k = 1.0 / (hidden as f32).sqrt();
        let emb = (0..tokens * dim).map(|_| crate::dkt::fused::normal(&mut rng)).collect();
        let w_ih = (0..dim * gates).map(|_| rng.random_range(-k..k)).collect();
        let b_ih = (0..gates).map(|_| rng.random_range(-k..k)).collect();
        Self { tokens, dim, gates, emb, w_ih, b_ih }
    }

    /// `embedding · W_ih + b_ih`, row-major `[tokens, 4h]`.
    pub(crate) fn table(&self) -> Vec<f32> {
        let (Ok(e), Ok(w)) = (
            ArrayView2::from_shape((self.tokens, self.dim), &self.emb),
            ArrayView2::from_shape((self.dim, self.gates), &self.w_ih),
        ) else {
            return Vec::new();
        };
        let mut t = e.dot(&w);
        t += &aview1(&self.b_ih);
        t.iter().copied().collect()
    }

    /// Gradients of the factors from the gradient of the table.
    pub(crate) fn pull_back(&self, d_table: &[f32], d_emb: &mut Vec<f32>, d_w: &mut Vec<f32>, d_b: &mut Vec<f32>) {
        let (Ok(e), Ok(w), Ok(dt)) = (
            ArrayView2::from_shape((self.tokens, self.dim), &self.emb),
            ArrayView2::from_shape((self.dim, self.gates), &self.w_ih),
            ArrayView2::from_shape((self.tokens, self.gates), d_table),
        ) else {
            return;
        };
        *d_emb = dt.dot(&w.t()).iter().copied().collect();
        *d_w = e.t().dot(&dt).iter().copied().collect();
        *d_b = dt.sum_axis(ndarray::Axis(0)).to_vec();
    }
}

/// A standard normal draw (Box–Muller).
pub(crate) fn normal(rng: &mut StdRng) -> f32 {
    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Params, Batch) {
        let p = Params::init(3, 4, 7);
        let seq = [(0usize, true), (2, false), (1, true), (0, false), (2, true)];
        let (b, l) = (2, 5);
        let mut batch = Batch {
            b,
            l,
            tokens: vec![6; b * l],
            targets: vec![0; b * l],
            labels: vec![0.0; b * l],
            mask: vec![0.0; b * l],
            denominator: 0.0,
        };
        for (t, &(s, c)) in seq.iter().enumerate() {
            for r in 0..b {
                if r == 1 && t >= 3 {
                    continue; // the second window is shorter: padding must not count
                }
                let k = r * l + t;
                batch.tokens[k] = s + 3 * usize::from(c ^ (r == 1));
                batch.targets[k] = s;
                batch.labels[k] = f32::from(u8::from(c ^ (r == 1)));
                batch.mask[k] = 1.0;
            }
        }
        (p, batch)
    }

    #[test]
    fn gradients_match_finite_differences() {
        let (p, batch) = toy();
        let mut rng = StdRng::seed_from_u64(0);
        let mut g = p.zeros_like();
        loss_and_grad(&p, &batch, 0.0, &mut rng, Some(&mut g));
        let probe = |which: usize, k: usize| {
            let f = |delta: f32| {
                let mut q = p.clone();
                q.slices_mut()[which][k] += delta;
                f64::from(loss_and_grad(&q, &batch, 0.0, &mut StdRng::seed_from_u64(0), None))
            };
            let h = 1e-2;
            (f(h) - f(-h)) / (2.0 * f64::from(h))
        };
        let mut g2 = g.clone();
        let analytic = g2.slices_mut().map(|v| v.clone());
        for (which, ks) in
            [(0usize, vec![0, 5, 17, 40]), (1, vec![0, 9, 33, 63]), (2, vec![0, 5, 11]), (3, vec![0, 1, 2])]
        {
            for k in ks {
                let fd = probe(which, k);
                let an = f64::from(analytic[which][k]);
                assert!(
                    (fd - an).abs() < 1e-3 + 0.02 * fd.abs(),
                    "param {which}[{k}]: analytic {an} vs finite difference {fd}"
                );
            }
        }
        // Padding rows never receive gradient through the table's padding token.
        assert!(analytic[0][6 * 16..7 * 16].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn adam_lowers_the_loss() {
        let (mut p, batch) = toy();
        let mut rng = StdRng::seed_from_u64(1);
        let mut g = p.zeros_like();
        let sizes: Vec<usize> = p.clone().slices_mut().iter().map(|v| v.len()).collect();
        let mut adam = Adam::for_sizes(&sizes, 0.05);
        let first = loss_and_grad(&p, &batch, 0.0, &mut rng, Some(&mut g));
        adam.step(&mut p.slices_mut(), &mut g.slices_mut());
        for _ in 0..50 {
            loss_and_grad(&p, &batch, 0.0, &mut rng, Some(&mut g));
            adam.step(&mut p.slices_mut(), &mut g.slices_mut());
        }
        let last = loss_and_grad(&p, &batch, 0.0, &mut rng, None);
        assert!(last < 0.5 * first, "{first} -> {last}");
    }
}

#[cfg(test)]
mod factor_tests {
    use super::*;

    #[test]
    fn factor_gradients_match_finite_differences() {
        let f = Factors::init(5, 3, 2, 1);
        // A linear functional of the table: L = sum(table * c).
        let c: Vec<f32> = (0..5 * 8).map(|k| (k as f32 * 0.37).sin()).collect();
        let loss = |f: &Factors| f.table().iter().zip(&c).map(|(t, c)| f64::from(t * c)).sum::<f64>();
        let (mut de, mut dw, mut db) = (Vec::new(), Vec::new(), Vec::new());
        f.pull_back(&c, &mut de, &mut dw, &mut db);
        for (which, k, an) in [(0usize, 4usize, de[4]), (1, 7, dw[7]), (2, 3, db[3])] {
            let bump = |d: f32| {
                let mut g = f.clone();
                [&mut g.emb, &mut g.w_ih, &mut g.b_ih][which][k] += d;
                loss(&g)
            };
            let fd = (bump(1e-2) - bump(-1e-2)) / 2e-2;
            assert!((fd - f64::from(an)).abs() < 1e-3, "factor {which}[{k}]: {an} vs {fd}");
        }
    }
}
