//! DKT training without a tensor framework: the same network as [`super::DktNet`] with the
//! embedding folded into a per-token gate table, a hand-written backward pass through time,
//! and the matrix products done by [`crate::linalg::gemm`].
//! Checked against the burn network's loss and against finite differences in the tests.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::{kernels, linalg};

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
    /// `[n_items]` offsets of each item's logit from its skill's, or empty.
    pub(crate) b_item: Vec<f32>,
}

impl Params {
    /// Uniform(±1/√hidden) initialisation, as PyTorch's LSTM and Linear, except the gate
    /// table: it stands for `embedding · W_ih` with a N(0, 1) embedding (PyTorch's default),
    /// whose entries have a standard deviation of about `√(embedding / (3 · hidden))` ≈ 0.58
    /// for 200 × 200; drawing it at ±1/√hidden instead starves the gates of input and slows
    /// the first epochs several-fold (measured on ASSIST2009).
    pub(crate) fn init(n_skills: usize, n_items: usize, hidden: usize, seed: u64) -> Self {
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
            b_item: vec![0.0; n_items],
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
            b_item: vec![0.0; self.b_item.len()],
        }
    }

    /// Adds `other` element by element.
    pub(crate) fn add(&mut self, other: &Self) {
        let pairs = [
            (&mut self.table, &other.table),
            (&mut self.w_hh, &other.w_hh),
            (&mut self.w_out, &other.w_out),
            (&mut self.b_out, &other.b_out),
            (&mut self.b_item, &other.b_item),
        ];
        for (a, b) in pairs {
            a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
        }
    }

    pub(crate) fn slices_mut(&mut self) -> [&mut Vec<f32>; 5] {
        [&mut self.table, &mut self.w_hh, &mut self.w_out, &mut self.b_out, &mut self.b_item]
    }
}

impl Params {
    /// The parameters of a burn network: the embedding folds into the gate table.
    #[cfg(all(test, feature = "burn"))]
    pub(crate) fn from_model(model: &super::Dkt) -> Self {
        Self {
            n_skills: model.n_skills,
            hidden: model.hidden,
            table: model.token_gates.clone(),
            w_hh: model.w_hh.clone(),
            w_out: model.w_out.clone(),
            b_out: model.b_out.clone(),
            b_item: model.item_bias.clone(),
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
    /// The item answered at each position (indexes `Params::b_item` when it is not empty).
    pub(crate) items: Vec<usize>,
    pub(crate) labels: Vec<f32>,
    pub(crate) mask: Vec<f32>,
    /// What the summed loss is divided by: the answers of an average minibatch, so that every
    /// answer weighs the same whatever the size of its batch (0 = this batch's answers).
    pub(crate) denominator: f32,
}

impl Batch {
    /// Rows `first, first + step, …` as a batch of their own (still longest first).
    fn rows(&self, first: usize, step: usize) -> Self {
        let picked: Vec<usize> = (first..self.b).step_by(step).collect();
        let take = |v: &[usize]| picked.iter().flat_map(|&r| v[r * self.l..(r + 1) * self.l].iter().copied()).collect();
        let take_f = |v: &[f32]| picked.iter().flat_map(|&r| v[r * self.l..(r + 1) * self.l].iter().copied()).collect();
        Self {
            b: picked.len(),
            l: self.l,
            tokens: take(&self.tokens),
            targets: take(&self.targets),
            items: take(&self.items),
            labels: take_f(&self.labels),
            mask: take_f(&self.mask),
            denominator: self.denominator,
        }
    }
}

fn sig(x: f32) -> f32 {
    kernels::sigmoid(x)
}

/// Loss of the batch and, if `grads` is given, its gradient (added to `grads`). `dropout` is
/// the drop probability on the read-out's input, drawn from `rng`. Batches of 16 windows or
/// more are split in two (even and odd rows), each with its own buffers and random stream,
/// run on two threads where there are two: the same split on any thread count, so a seeded
/// fit gives the same model on one thread as on sixteen.
pub(crate) fn loss_and_grad(
    p: &Params,
    batch: &Batch,
    dropout: f32,
    rng: &mut StdRng,
    grads: Option<&mut Params>,
) -> f32 {
    let parts = if batch.b >= 16 { 2 } else { 1 };
    loss_and_grad_in_parts(p, batch, dropout, rng, grads, parts)
}

fn loss_and_grad_in_parts(
    p: &Params,
    batch: &Batch,
    dropout: f32,
    rng: &mut StdRng,
    grads: Option<&mut Params>,
    parts: usize,
) -> f32 {
    let total = if batch.denominator > 0.0 { batch.denominator } else { batch.mask.iter().sum::<f32>().max(1.0) };
    if parts < 2 {
        return WORKSPACE.with_borrow_mut(|ws| part_loss_and_grad(p, batch, total, dropout, rng, grads, ws));
    }
    let (even, odd) = (batch.rows(0, 2), batch.rows(1, 2));
    let (mut rng_a, mut rng_b) = (StdRng::seed_from_u64(rng.random()), StdRng::seed_from_u64(rng.random()));
    match grads {
        Some(g) => {
            let mut g_odd = p.zeros_like();
            let (a, b) = rayon::join(
                || {
                    WORKSPACE
                        .with_borrow_mut(|ws| part_loss_and_grad(p, &even, total, dropout, &mut rng_a, Some(g), ws))
                },
                || {
                    WORKSPACE.with_borrow_mut(|ws| {
                        part_loss_and_grad(p, &odd, total, dropout, &mut rng_b, Some(&mut g_odd), ws)
                    })
                },
            );
            g.add(&g_odd);
            a + b
        }
        None => {
            let (a, b) = rayon::join(
                || WORKSPACE.with_borrow_mut(|ws| part_loss_and_grad(p, &even, total, dropout, &mut rng_a, None, ws)),
                || WORKSPACE.with_borrow_mut(|ws| part_loss_and_grad(p, &odd, total, dropout, &mut rng_b, None, ws)),
            );
            a + b
        }
    }
}

thread_local! {
    /// Each thread's buffers, kept between minibatches (they hold tens of megabytes).
    static WORKSPACE: std::cell::RefCell<Workspace> = std::cell::RefCell::default();
}

/// Buffers for one share of a minibatch. Step `t`'s rows are packed: only the windows still
/// running at `t` have rows, so padding costs neither memory nor arithmetic.
#[derive(Default)]
struct Workspace {
    /// `h_t`, `c_t`, `tanh c_t` for t = 0..l, `[Σ n_t, h]`.
    h: Vec<f32>,
    c: Vec<f32>,
    tanh_c: Vec<f32>,
    /// Activated gates of steps 1..l, `[Σ n_t, 4h]`; the backward pass overwrites them with
    /// the gates' gradients.
    gates: Vec<f32>,
    /// `h_{t-1}` of the rows running at `t`, gathered for one `dW_hh` product.
    h_prev: Vec<f32>,
    /// `[b, h]` gradients flowing back into the previous step.
    dh: Vec<f32>,
    dc: Vec<f32>,
    drop: Vec<f32>,
}

fn resize(v: &mut Vec<f32>, n: usize) {
    if v.len() < n {
        v.resize(n, 0.0);
    }
}

/// The loss of one share of a batch, divided by `total`; gradients added to `grads`.
fn part_loss_and_grad(
    p: &Params,
    batch: &Batch,
    total: f32,
    dropout: f32,
    rng: &mut StdRng,
    grads: Option<&mut Params>,
    ws: &mut Workspace,
) -> f32 {
    let (b, l, h) = (batch.b, batch.l, p.hidden);
    let g4 = 4 * h;
    // n[t]: rows whose window reaches position t (a prefix, the batch being sorted).
    let n: Vec<usize> = (0..l).map(|t| (0..b).take_while(|&r| batch.mask[r * l + t] > 0.0).count()).collect();
    // State rows of step t start at so[t]; gate rows of step t ≥ 1 at go[t].
    let mut so = vec![0; l + 1];
    let mut go = vec![0; l + 1];
    for t in 0..l {
        so[t + 1] = so[t] + n[t];
        go[t + 1] = go[t] + if t >= 1 { n[t] } else { 0 };
    }
    let (states, gate_rows) = (so[l], go[l]);
    resize(&mut ws.h, states * h);
    resize(&mut ws.c, states * h);
    resize(&mut ws.tanh_c, states * h);
    resize(&mut ws.gates, gate_rows * g4);
    resize(&mut ws.drop, h);
    ws.h[..n[0] * h].fill(0.0);
    ws.c[..n[0] * h].fill(0.0);
    for t in 1..l {
        let m = n[t];
        let gates = &mut ws.gates[go[t] * g4..(go[t] + m) * g4];
        for r in 0..m {
            let tok = batch.tokens[r * l + t - 1];
            gates[r * g4..(r + 1) * g4].copy_from_slice(&p.table[tok * g4..(tok + 1) * g4]);
        }
        let (before, now) = ws.h.split_at_mut(so[t] * h);
        let h_prev = &before[so[t - 1] * h..(so[t - 1] + m) * h];
        linalg::gemm(m, g4, h, h_prev, false, &p.w_hh, false, gates, 1.0);
        let (c_before, c_now) = ws.c.split_at_mut(so[t] * h);
        let c_prev = &c_before[so[t - 1] * h..];
        let tanh_c = &mut ws.tanh_c[so[t] * h..];
        for r in 0..m {
            let row = r * h..(r + 1) * h;
            kernels::lstm_cell(
                &mut gates[r * g4..(r + 1) * g4],
                &c_prev[row.clone()],
                &mut c_now[row.clone()],
                &mut tanh_c[row.clone()],
                &mut now[row],
            );
        }
    }
    let keep = 1.0 - dropout;
    let draw = |drop: &mut [f32], rng: &mut StdRng| {
        if dropout > 0.0 {
            drop.iter_mut().for_each(|d| *d = if rng.random::<f32>() < dropout { 0.0 } else { 1.0 / keep });
        }
    };
    ws.drop[..h].fill(1.0);
    let Some(gr) = grads else {
        let mut loss = 0.0;
        for t in 0..l {
            for r in 0..n[t] {
                draw(&mut ws.drop[..h], rng);
                let hrow = &ws.h[(so[t] + r) * h..(so[t] + r + 1) * h];
                let k = r * l + t;
                let z = logit(p, batch.targets[k], batch.items[k], hrow, &ws.drop[..h]);
                loss += bce(z, batch.labels[k]).0;
            }
        }
        return loss / total;
    };
    resize(&mut ws.dh, b * h);
    resize(&mut ws.dc, b * h);
    ws.dh[..b * h].fill(0.0);
    ws.dc[..b * h].fill(0.0);
    let mut loss = 0.0;
    for t in (0..l).rev() {
        let m = n[t];
        // The read-out at t: its loss, and its gradient into h_t.
        for r in 0..m {
            draw(&mut ws.drop[..h], rng);
            let k = r * l + t;
            let q = batch.targets[k];
            let hrow = &ws.h[(so[t] + r) * h..(so[t] + r + 1) * h];
            let drop = &ws.drop[..h];
            let z = logit(p, q, batch.items[k], hrow, drop);
            let (l_k, d) = bce(z, batch.labels[k]);
            loss += l_k;
            let dz = d / total;
            gr.b_out[q] += dz;
            if let Some(b) = gr.b_item.get_mut(batch.items[k]) {
                *b += dz;
            }
            let w = &p.w_out[q * h..(q + 1) * h];
            let dw = &mut gr.w_out[q * h..(q + 1) * h];
            let dh = &mut ws.dh[r * h..(r + 1) * h];
            for j in 0..h {
                dw[j] += dz * hrow[j] * drop[j];
                dh[j] += dz * w[j] * drop[j];
            }
        }
        if t == 0 {
            break;
        }
        // Through the cell of step t into its gates, c_{t-1} and the table row of its input.
        let gates = &mut ws.gates[go[t] * g4..(go[t] + m) * g4];
        let c_prev = &ws.c[so[t - 1] * h..];
        let tanh_c = &ws.tanh_c[so[t] * h..];
        for r in 0..m {
            let a = &mut gates[r * g4..(r + 1) * g4];
            let (dh, dc_next) = (&ws.dh[r * h..(r + 1) * h], &mut ws.dc[r * h..(r + 1) * h]);
            let (cp, tc) = (&c_prev[r * h..(r + 1) * h], &tanh_c[r * h..(r + 1) * h]);
            for j in 0..h {
                let (i, f, g, o) = (a[j], a[h + j], a[2 * h + j], a[3 * h + j]);
                let dc = dh[j] * o * (1.0 - tc[j] * tc[j]) + dc_next[j];
                a[j] = dc * g * i * (1.0 - i);
                a[h + j] = dc * cp[j] * f * (1.0 - f);
                a[2 * h + j] = dc * i * (1.0 - g * g);
                a[3 * h + j] = dh[j] * tc[j] * o * (1.0 - o);
                dc_next[j] = dc * f;
            }
            let tok = batch.tokens[r * l + t - 1];
            gr.table[tok * g4..(tok + 1) * g4].iter_mut().zip(a.iter()).for_each(|(d, g)| *d += g);
        }
        // dh_{t-1} = dG_t · W_hhᵀ (rows past m ended before t: their dh, dc stay zero).
        linalg::gemm(m, h, g4, gates, false, &p.w_hh, true, &mut ws.dh[..m * h], 0.0);
    }
    // dW_hh = Σ_t h_{t-1}ᵀ dG_t as one product over all steps.
    resize(&mut ws.h_prev, gate_rows * h);
    for t in 1..l {
        let src = &ws.h[so[t - 1] * h..(so[t - 1] + n[t]) * h];
        ws.h_prev[go[t] * h..(go[t] + n[t]) * h].copy_from_slice(src);
    }
    if gate_rows > 0 {
        linalg::gemm(
            h,
            g4,
            gate_rows,
            &ws.h_prev[..gate_rows * h],
            true,
            &ws.gates[..gate_rows * g4],
            false,
            &mut gr.w_hh,
            1.0,
        );
    }
    loss / total
}

/// The read-out logit of skill `q` (item `item`) from `h` with dropout mask `drop`.
#[inline]
fn logit(p: &Params, q: usize, item: usize, h: &[f32], drop: &[f32]) -> f32 {
    let w = &p.w_out[q * p.hidden..(q + 1) * p.hidden];
    p.b_out[q]
        + p.b_item.get(item).copied().unwrap_or(0.0)
        + w.iter().zip(h).zip(drop).map(|((w, h), d)| w * h * d).sum::<f32>()
}

/// Binary cross-entropy of logit `z` against `y`, computed stably, and its derivative in `z`.
#[inline]
fn bce(z: f32, y: f32) -> (f32, f32) {
    let softplus = attune_core::softplus_f32(z);
    (softplus - y * z, sig(z) - y)
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
        let emb = (0..tokens * dim).map(|_| crate::kernels::normal(&mut rng)).collect();
        let w_ih = (0..dim * gates).map(|_| rng.random_range(-k..k)).collect();
        let b_ih = (0..gates).map(|_| rng.random_range(-k..k)).collect();
        Self { tokens, dim, gates, emb, w_ih, b_ih }
    }

    /// `embedding · W_ih + b_ih`, row-major `[tokens, 4h]`.
    pub(crate) fn table(&self) -> Vec<f32> {
        let mut t: Vec<f32> = (0..self.tokens).flat_map(|_| self.b_ih.iter().copied()).collect();
        linalg::gemm(self.tokens, self.gates, self.dim, &self.emb, false, &self.w_ih, false, &mut t, 1.0);
        t
    }

    /// Gradients of the factors from the gradient of the table.
    pub(crate) fn pull_back(&self, d_table: &[f32], d_emb: &mut Vec<f32>, d_w: &mut Vec<f32>, d_b: &mut Vec<f32>) {
        let (tokens, dim, gates) = (self.tokens, self.dim, self.gates);
        d_emb.resize(tokens * dim, 0.0);
        d_w.resize(dim * gates, 0.0);
        linalg::gemm(tokens, dim, gates, d_table, false, &self.w_ih, true, d_emb, 0.0);
        linalg::gemm(dim, gates, tokens, &self.emb, true, d_table, false, d_w, 0.0);
        d_b.clear();
        d_b.resize(gates, 0.0);
        for row in d_table.chunks_exact(gates) {
            d_b.iter_mut().zip(row).for_each(|(d, g)| *d += g);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Params, Batch) {
        let p = Params::init(3, 3, 4, 7);
        let seq = [(0usize, true), (2, false), (1, true), (0, false), (2, true)];
        let (b, l) = (2, 5);
        let mut batch = Batch {
            b,
            l,
            tokens: vec![6; b * l],
            targets: vec![0; b * l],
            items: vec![0; b * l],
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
                batch.items[k] = (s + r) % 3;
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
        for (which, ks) in [
            (0usize, vec![0, 5, 17, 40]),
            (1, vec![0, 9, 33, 63]),
            (2, vec![0, 5, 11]),
            (3, vec![0, 1, 2]),
            (4, vec![0, 1, 2]),
        ] {
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

    /// Splitting a batch across two threads changes nothing but the order of additions.
    #[test]
    fn two_parts_equal_one() {
        let p = Params::init(3, 3, 4, 11);
        let lens = [6usize, 5, 5, 3, 2, 1];
        let (b, l) = (lens.len(), 6);
        let mut batch = Batch {
            b,
            l,
            tokens: vec![6; b * l],
            targets: vec![0; b * l],
            items: vec![0; b * l],
            labels: vec![0.0; b * l],
            mask: vec![0.0; b * l],
            denominator: 0.0,
        };
        for (r, &len) in lens.iter().enumerate() {
            for t in 0..len {
                let (s, c) = ((r + 2 * t) % 3, (r * t + t) % 2);
                let k = r * l + t;
                (batch.tokens[k], batch.targets[k], batch.labels[k], batch.mask[k]) = (s + 3 * c, s, c as f32, 1.0);
                batch.items[k] = (s + t) % 3;
            }
        }
        let run = |parts| {
            let mut g = p.zeros_like();
            let loss = loss_and_grad_in_parts(&p, &batch, 0.0, &mut StdRng::seed_from_u64(3), Some(&mut g), parts);
            (loss, g)
        };
        let ((l1, mut g1), (l2, mut g2)) = (run(1), run(2));
        assert!((l1 - l2).abs() < 1e-6, "{l1} vs {l2}");
        for (a, b) in g1.slices_mut().iter().zip(g2.slices_mut().iter()) {
            for (x, y) in a.iter().zip(b.iter()) {
                assert!((x - y).abs() < 1e-6, "{x} vs {y}");
            }
        }
        assert!(g1.w_hh.iter().any(|&v| v != 0.0));
    }

    #[test]
    fn adam_lowers_the_loss() {
        let (mut p, batch) = toy();
        let mut rng = StdRng::seed_from_u64(1);
        let mut g = p.zeros_like();
        let sizes: Vec<usize> = p.clone().slices_mut().iter().map(|v| v.len()).collect();
        let mut adam = crate::optim::Adam::for_sizes(&sizes, 0.05);
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
