//! DKT (Piech et al., NeurIPS 2015) as an inner-loop learner: the LSTM's parameters as one
//! flat vector, and the loss of next-answer prediction over a learner's answers with its
//! gradient by backpropagation through time. The code is written once over [`Real`], so the
//! same pass run on [`Dual`]s gives the exact Hessian-vector product that second-order MAML
//! needs (forward over reverse).
//!
//! The network is the fitted [`Dkt`]'s: a gate table per answer token (`skill + n_skills ·
//! correct`), `W_hh`, a read-out per skill and a fixed offset per item; an answer is predicted
//! from the state the earlier answers left, starting from zeros.

use std::ops::Range;

use attune_core::Interaction;
use attune_nn::Dkt;

use crate::dual::{Dual, Real};
use crate::inner::{Curved, Inner};

/// Where each weight matrix of a DKT lives in the flat parameter vector:
/// `[gate table | W_hh | read-out | read-out bias]`, each row-major as in [`Dkt`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Skills of the model.
    pub n_skills: usize,
    /// LSTM hidden size.
    pub hidden: usize,
}

impl Layout {
    /// The layout of `dkt`'s weights.
    pub fn of(dkt: &Dkt) -> Self {
        Self { n_skills: dkt.n_skills, hidden: dkt.hidden }
    }

    fn gates(&self) -> usize {
        4 * self.hidden
    }

    /// The gate table, `[2 · n_skills + 1, 4 · hidden]`.
    pub fn table(&self) -> Range<usize> {
        0..(2 * self.n_skills + 1) * self.gates()
    }

    /// `W_hh`, `[hidden, 4 · hidden]`.
    pub fn w_hh(&self) -> Range<usize> {
        let s = self.table().end;
        s..s + self.hidden * self.gates()
    }

    /// The read-out, `[n_skills, hidden]`.
    pub fn w_out(&self) -> Range<usize> {
        let s = self.w_hh().end;
        s..s + self.n_skills * self.hidden
    }

    /// The read-out bias, `[n_skills]`.
    pub fn b_out(&self) -> Range<usize> {
        let s = self.w_out().end;
        s..s + self.n_skills
    }

    /// The head (read-out and its bias): what ANIL adapts.
    pub fn head(&self) -> Range<usize> {
        self.w_out().start..self.b_out().end
    }

    /// Parameters in all.
    pub fn len(&self) -> usize {
        self.b_out().end
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `dkt`'s weight vectors have this layout's lengths.
    pub fn fits(&self, dkt: &Dkt) -> bool {
        Self::of(dkt) == *self
            && dkt.token_gates.len() == self.table().len()
            && dkt.w_hh.len() == self.w_hh().len()
            && dkt.w_out.len() == self.w_out().len()
            && dkt.b_out.len() == self.b_out().len()
    }

    /// `dkt`'s weights as one vector.
    pub fn flatten(&self, dkt: &Dkt) -> Vec<f64> {
        let parts = [&dkt.token_gates, &dkt.w_hh, &dkt.w_out, &dkt.b_out];
        parts.iter().flat_map(|p| p.iter().map(|&x| f64::from(x))).collect()
    }

    /// `dkt`'s weights as one single-precision vector.
    pub fn flatten_f32(&self, dkt: &Dkt) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.len());
        for part in [&dkt.token_gates, &dkt.w_hh, &dkt.w_out, &dkt.b_out] {
            out.extend_from_slice(part);
        }
        out
    }

    /// Writes single-precision `psi` into `dkt`'s weights.
    pub fn write_f32(&self, psi: &[f32], dkt: &mut Dkt) {
        let ranges = [self.table(), self.w_hh(), self.w_out(), self.b_out()];
        let parts = [&mut dkt.token_gates, &mut dkt.w_hh, &mut dkt.w_out, &mut dkt.b_out];
        for (part, range) in parts.into_iter().zip(ranges) {
            part.copy_from_slice(&psi[range]);
        }
    }

    /// Writes `psi` into `dkt`'s weights.
    pub fn write(&self, psi: &[f64], dkt: &mut Dkt) {
        let ranges = [self.table(), self.w_hh(), self.w_out(), self.b_out()];
        let parts = [&mut dkt.token_gates, &mut dkt.w_hh, &mut dkt.w_out, &mut dkt.b_out];
        for (part, range) in parts.into_iter().zip(ranges) {
            part.clear();
            part.extend(psi[range].iter().map(|&x| x as f32));
        }
    }
}

/// One answer as the network sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Answer {
    /// The skill whose read-out predicts it.
    pub skill: u32,
    /// The token the LSTM reads after it; `None` when the answer names no known skill (the
    /// model then predicts it from the item's skill but does not update on it).
    pub token: Option<u32>,
    /// The item's fixed offset from its skill's logit.
    pub offset: f64,
    /// The recorded answer.
    pub correct: bool,
}

/// `obs` as `dkt` reads them; answers with no known skill at all (predicted at the base rate,
/// never read) carry no gradient and are left out.
pub fn answers_of(dkt: &Dkt, obs: &[Interaction<'_>]) -> Vec<Answer> {
    obs.iter()
        .filter_map(|o| {
            let read = o.skills.first().map(|s| s.index()).filter(|&s| s < dkt.n_skills);
            let of_item = dkt.item_skill.get(o.item.index()).map(|&s| s as usize).filter(|&s| s < dkt.n_skills);
            let skill = read.or(of_item)?;
            Some(Answer {
                skill: skill as u32,
                token: read.map(|s| (s + dkt.n_skills * usize::from(o.correct)) as u32),
                offset: dkt.item_bias.get(o.item.index()).map_or(0.0, |&b| f64::from(b)),
                correct: o.correct,
            })
        })
        .collect()
}

/// The mean cross-entropy of the answers at positions `scored`, each predicted from the
/// answers before it, at parameters `psi` (layout `l`); its gradient goes into `grad`.
pub fn loss_and_gradient<T: Real>(l: Layout, psi: &[T], answers: &[Answer], scored: Range<usize>, grad: &mut [T]) -> T {
    loss_and_gradient_from(l, psi, None, answers, scored, Some(grad), None)
}

/// [`loss_and_gradient`] from the LSTM state `start` (hidden, cell) instead of zero; the
/// gradient with respect to that state goes into `dstart`, the weights' into `grad` where
/// one is given (a reader of the state does without, and skips their accumulation).
pub fn loss_and_gradient_from<T: Real>(
    l: Layout,
    psi: &[T],
    start: Option<(&[T], &[T])>,
    answers: &[Answer],
    scored: Range<usize>,
    mut grad: Option<&mut [T]>,
    dstart: Option<(&mut [T], &mut [T])>,
) -> T {
    if let Some(g) = grad.as_deref_mut() {
        g.fill(T::default());
    }
    let last = scored.end.min(answers.len());
    if scored.start >= last {
        return T::default();
    }
    let (h, g4) = (l.hidden, l.gates());
    let zero = T::default();
    let one = T::cst(1.0);
    let per = T::cst(1.0 / (last - scored.start) as f64);
    let (table, w_hh, w_out, b_out) = (&psi[l.table()], &psi[l.w_hh()], &psi[l.w_out()], &psi[l.b_out()]);
    // The state before answer t is `hs[t]`, `cs[t]`; the update after answer t stores its
    // activated gates in `acts[t]` and `tanh c` in `tcs[t]`.
    let (mut hs, mut cs) = (vec![zero; last * h], vec![zero; last * h]);
    if let Some((h0, c0)) = start {
        hs[..h].copy_from_slice(&h0[..h]);
        cs[..h].copy_from_slice(&c0[..h]);
    }
    let (mut acts, mut tcs) = (vec![zero; last * g4], vec![zero; last * h]);
    let mut r = vec![zero; last];
    // Updates up to the first answer read start from the zero state: no `W_hh` product to
    // take. From a given state every update takes it.
    let first_read = answers[..last].iter().position(|a| a.token.is_some()).unwrap_or(last);
    let with_hh = |update: usize| start.is_some() || update > first_read;
    let mut loss = zero;
    for t in 0..last {
        if t > 0 {
            let (before, after) = hs.split_at_mut(t * h);
            let (h_prev, h_cur) = (&before[(t - 1) * h..], &mut after[..h]);
            let (before, after) = cs.split_at_mut(t * h);
            let (c_prev, c_cur) = (&before[(t - 1) * h..], &mut after[..h]);
            match answers[t - 1].token {
                None => {
                    h_cur.copy_from_slice(h_prev);
                    c_cur.copy_from_slice(c_prev);
                }
                Some(tok) => {
                    let z = &mut acts[(t - 1) * g4..t * g4];
                    let tok = tok as usize;
                    z.copy_from_slice(&table[tok * g4..(tok + 1) * g4]);
                    if with_hh(t - 1) {
                        for (k, &hk) in h_prev.iter().enumerate() {
                            let row = &w_hh[k * g4..(k + 1) * g4];
                            z.iter_mut().zip(row).for_each(|(z, &w)| *z += hk * w);
                        }
                    }
                    let tc = &mut tcs[(t - 1) * h..t * h];
                    for j in 0..h {
                        let (i, f, g, o) =
                            (z[j].sigmoid(), z[h + j].sigmoid(), z[2 * h + j].tanh(), z[3 * h + j].sigmoid());
                        let c = f * c_prev[j] + i * g;
                        (z[j], z[h + j], z[2 * h + j], z[3 * h + j]) = (i, f, g, o);
                        c_cur[j] = c;
                        tc[j] = c.tanh();
                        h_cur[j] = o * tc[j];
                    }
                }
            }
        }
        if scored.contains(&t) {
            let a = answers[t];
            let s = a.skill as usize;
            let mut z = b_out[s] + T::cst(a.offset);
            for (&w, &x) in w_out[s * h..(s + 1) * h].iter().zip(&hs[t * h..(t + 1) * h]) {
                z += w * x;
            }
            let y = T::cst(f64::from(u8::from(a.correct)));
            loss += z.softplus() - y * z;
            r[t] = (z.sigmoid() - y) * per;
        }
    }
    let mut weights = grad.map(|g| {
        let (g_table, rest) = g.split_at_mut(l.w_hh().start);
        let (g_hh, rest) = rest.split_at_mut(h * g4);
        let (g_out, g_b) = rest.split_at_mut(l.n_skills * h);
        (g_table, g_hh, g_out, g_b)
    });
    let (mut dh, mut dc, mut dz) = (vec![zero; h], vec![zero; h], vec![zero; g4]);
    for t in (0..last).rev() {
        if scored.contains(&t) {
            let s = answers[t].skill as usize;
            let rt = r[t];
            let (w, x) = (&w_out[s * h..(s + 1) * h], &hs[t * h..(t + 1) * h]);
            if let Some((_, _, g_out, g_b)) = weights.as_mut() {
                g_b[s] += rt;
                g_out[s * h..(s + 1) * h].iter_mut().zip(x).for_each(|(g, &x)| *g += rt * x);
            }
            dh.iter_mut().zip(w).for_each(|(d, &w)| *d += rt * w);
        }
        if t == 0 {
            break;
        }
        let Some(tok) = answers[t - 1].token else { continue };
        let (a, tc, c_prev) = (&acts[(t - 1) * g4..t * g4], &tcs[(t - 1) * h..t * h], &cs[(t - 1) * h..t * h]);
        for j in 0..h {
            let (i, f, g, o) = (a[j], a[h + j], a[2 * h + j], a[3 * h + j]);
            let dcj = dc[j] + dh[j] * o * (one - tc[j] * tc[j]);
            dz[j] = dcj * g * i * (one - i);
            dz[h + j] = dcj * c_prev[j] * f * (one - f);
            dz[2 * h + j] = dcj * i * (one - g * g);
            dz[3 * h + j] = dh[j] * tc[j] * o * (one - o);
            dc[j] = dcj * f;
        }
        let tok = tok as usize;
        if let Some((g_table, ..)) = weights.as_mut() {
            g_table[tok * g4..(tok + 1) * g4].iter_mut().zip(&dz).for_each(|(g, &d)| *g += d);
        }
        if with_hh(t - 1) {
            let h_prev = &hs[(t - 1) * h..t * h];
            for k in 0..h {
                if let Some((_, g_hh, ..)) = weights.as_mut() {
                    let hk = h_prev[k];
                    g_hh[k * g4..(k + 1) * g4].iter_mut().zip(&dz).for_each(|(g, &d)| *g += hk * d);
                }
                dh[k] = dot(&w_hh[k * g4..(k + 1) * g4], &dz);
            }
        } else {
            dh.fill(zero);
        }
    }
    if let Some((dh0, dc0)) = dstart {
        dh0[..h].copy_from_slice(&dh);
        dc0[..h].copy_from_slice(&dc);
    }
    loss * per
}

/// `Σ a_j b_j` over eight partial sums, which the compiler keeps in vector registers (a
/// single running sum is a dependency chain it may not reorder).
fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::default(); 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut sum = T::default();
    for (x, y) in ra.iter().zip(rb) {
        sum += *x * *y;
    }
    acc.iter().fold(sum, |s, &a| s + a)
}

/// The loss over some of a learner's answers, as the inner loop descends it.
#[derive(Clone, Debug)]
pub struct DktLoss<'a> {
    /// The parameters' layout.
    pub layout: Layout,
    /// The learner's answers.
    pub answers: &'a [Answer],
    /// The positions scored (the support, or the whole task for Reptile).
    pub scored: Range<usize>,
}

impl Inner for DktLoss<'_> {
    fn gradient(&self, psi: &[f64], g: &mut [f64]) {
        loss_and_gradient(self.layout, psi, self.answers, self.scored.clone(), g);
    }
}

thread_local! {
    /// The seeded parameters and the dual gradient of [`DktLoss::hessian_times`], kept per
    /// thread: megabytes each for a 200-unit LSTM, which allocated afresh per product cost
    /// more in page faults than the product itself (measured: 10× the meta-training time).
    static DUALS: std::cell::RefCell<(Vec<Dual>, Vec<Dual>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

impl Curved for DktLoss<'_> {
    fn hessian_times(&self, psi: &[f64], v: &[f64], out: &mut [f64]) {
        DUALS.with_borrow_mut(|(seeded, g)| {
            seeded.clear();
            seeded.extend(psi.iter().zip(v).map(|(&x, &d)| Dual::new(x, d)));
            g.resize(psi.len(), Dual::default());
            loss_and_gradient(self.layout, seeded, self.answers, self.scored.clone(), g);
            out.iter_mut().zip(g.iter()).for_each(|(o, g)| *o = g.d);
        });
    }
}

#[cfg(test)]
mod tests {
    use attune_core::{ItemId, KnowledgeTracer, SkillId};
    use attune_nn::DktConfig;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    use super::*;
    use crate::inner::{Order, descend, unroll};

    const L: Layout = Layout { n_skills: 3, hidden: 4 };

    fn params(seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..L.len()).map(|_| rng.random_range(-0.8..0.8)).collect()
    }

    fn answers() -> Vec<Answer> {
        let a = |skill: u32, read: bool, correct: bool, offset: f64| Answer {
            skill,
            token: read.then_some(skill + 3 * u32::from(correct)),
            offset,
            correct,
        };
        vec![
            a(0, true, true, 0.1),
            a(2, true, false, -0.3),
            a(1, false, true, 0.0),
            a(1, true, true, 0.2),
            a(0, true, false, 0.0),
            a(2, true, true, -0.1),
            a(1, true, false, 0.4),
        ]
    }

    fn loss(psi: &[f64], scored: Range<usize>) -> f64 {
        let mut g = vec![0.0; psi.len()];
        loss_and_gradient(L, psi, &answers(), scored, &mut g)
    }

    #[test]
    fn layout_round_trips_a_fitted_model() {
        let mut dkt = model(&params(1));
        assert!(L.fits(&dkt));
        let psi = params(2);
        L.write(&psi, &mut dkt);
        let back = L.flatten(&dkt);
        assert!(back.iter().zip(&psi).all(|(a, b)| (a - b).abs() < 1e-6));
        dkt.w_out.pop();
        assert!(!L.fits(&dkt));
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let psi = params(3);
        for scored in [0..3, 2..7, 0..7] {
            let mut g = vec![0.0; psi.len()];
            loss_and_gradient(L, &psi, &answers(), scored.clone(), &mut g);
            for j in 0..psi.len() {
                let (mut up, mut down) = (psi.clone(), psi.clone());
                up[j] += 1e-6;
                down[j] -= 1e-6;
                let fd = (loss(&up, scored.clone()) - loss(&down, scored.clone())) / 2e-6;
                assert!((fd - g[j]).abs() < 1e-7, "{scored:?} coordinate {j}: {} vs {fd}", g[j]);
            }
        }
    }

    /// From a given LSTM state: the state's gradient equals finite differences, and the
    /// weights' gradient is still right (the first update now takes the `W_hh` product).
    #[test]
    fn gradient_from_a_state_matches_finite_differences() {
        let psi = params(4);
        let answers = answers();
        let h = L.hidden;
        let state: Vec<f64> = (0..2 * h).map(|j| 0.3 * (j as f64 - 3.5) / 4.0).collect();
        let loss = |psi: &[f64], state: &[f64]| {
            let mut g = vec![0.0; L.len()];
            loss_and_gradient_from(L, psi, Some((&state[..h], &state[h..])), &answers, 1..6, Some(&mut g), None)
        };
        let mut g = vec![0.0; L.len()];
        let (mut dh, mut dc) = (vec![0.0; h], vec![0.0; h]);
        loss_and_gradient_from(
            L,
            &psi,
            Some((&state[..h], &state[h..])),
            &answers,
            1..6,
            Some(&mut g),
            Some((&mut dh, &mut dc)),
        );
        let ds: Vec<f64> = dh.iter().chain(&dc).copied().collect();
        // Without the weights' gradient the state's is the same.
        let (mut dh2, mut dc2) = (vec![0.0; h], vec![0.0; h]);
        let start = Some((&state[..h], &state[h..]));
        loss_and_gradient_from(L, &psi, start, &answers, 1..6, None, Some((&mut dh2, &mut dc2)));
        assert_eq!((dh2, dc2), (dh.clone(), dc.clone()));
        for j in 0..2 * h {
            let (mut up, mut down) = (state.clone(), state.clone());
            up[j] += 1e-6;
            down[j] -= 1e-6;
            let fd = (loss(&psi, &up) - loss(&psi, &down)) / 2e-6;
            assert!((fd - ds[j]).abs() < 1e-7, "state {j}: {} vs {fd}", ds[j]);
        }
        for j in (0..L.len()).step_by(5) {
            let (mut up, mut down) = (psi.clone(), psi.clone());
            up[j] += 1e-6;
            down[j] -= 1e-6;
            let fd = (loss(&up, &state) - loss(&down, &state)) / 2e-6;
            assert!((fd - g[j]).abs() < 1e-7, "weight {j}: {} vs {fd}", g[j]);
        }
    }

    #[test]
    fn hessian_times_matches_differences_of_gradients() {
        let psi = params(4);
        let v = params(5);
        let loss = DktLoss { layout: L, answers: &answers(), scored: 0..5 };
        let mut hv = vec![0.0; psi.len()];
        loss.hessian_times(&psi, &v, &mut hv);
        let shifted = |s: f64| {
            let p: Vec<f64> = psi.iter().zip(&v).map(|(x, v)| x + s * v).collect();
            let mut g = vec![0.0; p.len()];
            loss.gradient(&p, &mut g);
            g
        };
        let (up, down) = (shifted(1e-6), shifted(-1e-6));
        for j in 0..psi.len() {
            let fd = (up[j] - down[j]) / 2e-6;
            assert!((fd - hv[j]).abs() < 1e-6, "coordinate {j}: {} vs {fd}", hv[j]);
        }
        assert!(hv.iter().any(|x| x.abs() > 1e-3), "the Hessian product vanishes");
    }

    /// The second-order meta-gradient of the query loss after three inner steps on the
    /// support, against central differences of the whole unrolled computation.
    #[test]
    fn second_order_meta_gradient_matches_finite_differences() {
        let answers = answers();
        let support = DktLoss { layout: L, answers: &answers, scored: 0..3 };
        let rates: Vec<f64> = (0..L.len()).map(|j| 0.5 + 0.3 * ((j % 5) as f64)).collect();
        let after = |psi0: &[f64], rates: &[f64]| {
            let end = descend(&support, psi0.to_vec(), rates, 3).pop().unwrap_or_default();
            loss(&end, 3..7)
        };
        let psi0 = params(6);
        let traj = descend(&support, psi0.clone(), &rates, 3);
        let mut q = vec![0.0; L.len()];
        loss_and_gradient(L, &traj[3], &answers, 3..7, &mut q);
        let (psi_bar, rate_bar) = unroll(&support, &traj, &rates, Order::Second, q.clone());
        let (first, _) = unroll(&support, &traj, &rates, Order::First, q);
        let h = 1e-5;
        for j in (0..L.len()).step_by(7) {
            let (mut up, mut down) = (psi0.clone(), psi0.clone());
            up[j] += h;
            down[j] -= h;
            let fd = (after(&up, &rates) - after(&down, &rates)) / (2.0 * h);
            assert!((fd - psi_bar[j]).abs() < 1e-6, "start {j}: {} vs {fd}", psi_bar[j]);
            let (mut up, mut down) = (rates.clone(), rates.clone());
            up[j] += h;
            down[j] -= h;
            let fd = (after(&psi0, &up) - after(&psi0, &down)) / (2.0 * h);
            assert!((fd - rate_bar[j]).abs() < 1e-6, "rate {j}: {} vs {fd}", rate_bar[j]);
        }
        assert!(first.iter().zip(&psi_bar).any(|(a, b)| (a - b).abs() > 1e-4), "first order equals second order");
    }

    fn model(psi: &[f64]) -> Dkt {
        let mut dkt = Dkt {
            config: DktConfig { hidden: L.hidden, ..DktConfig::default() },
            n_skills: L.n_skills,
            hidden: L.hidden,
            token_gates: Vec::new(),
            w_hh: Vec::new(),
            w_out: Vec::new(),
            b_out: Vec::new(),
            item_bias: vec![0.1, -0.3, 0.0, 0.2, 0.4],
            item_skill: vec![0, 2, 1, 1, 1],
            base_rate: 0.6,
            history: Vec::new(),
            skill_ids: Vec::new(),
        };
        L.write(psi, &mut dkt);
        dkt
    }

    /// The loss is the fitted model's own: the same answers traced by [`Dkt`] give the same
    /// cross-entropy, including an answer the model predicts but does not read.
    #[test]
    fn loss_is_the_fitted_models_cross_entropy() {
        let psi = params(7);
        let dkt = model(&psi);
        let rows = [(0, true, true), (1, true, false), (2, false, true), (3, true, true), (4, true, false)];
        let skills: Vec<Vec<SkillId>> =
            rows.iter().map(|&(i, read, _)| if read { vec![SkillId(dkt.item_skill[i])] } else { vec![] }).collect();
        let obs: Vec<Interaction<'_>> = rows
            .iter()
            .zip(&skills)
            .map(|(&(i, _, correct), s)| Interaction {
                student: attune_core::StudentId(0),
                item: ItemId(i as u32),
                skills: s,
                correct,
                time: i as i64,
            })
            .collect();
        let answers = answers_of(&dkt, &obs);
        assert_eq!(answers.len(), 5);
        assert_eq!(answers[2].token, None);
        let mut state = dkt.initial_state();
        let mut traced = 0.0;
        for o in &obs {
            let p = dkt.predict_interaction(&state, o).get();
            traced -= if o.correct { p.ln() } else { (1.0 - p).ln() };
            dkt.update(&mut state, o);
        }
        let mut g = vec![0.0; L.len()];
        let ours = loss_and_gradient(L, &dkt_params(&dkt), &answers, 0..5, &mut g);
        assert!((ours - traced / 5.0).abs() < 1e-4, "{ours} vs {}", traced / 5.0);
        // From a given state, as the reader over DKT starts a learner.
        let start: Vec<f64> = (0..2 * L.hidden).map(|j| 0.2 * (j as f64 - 3.0)).collect();
        let h = L.hidden;
        let mut state = attune_nn::DktState {
            h: start[..h].iter().map(|&x| x as f32).collect(),
            c: start[h..].iter().map(|&x| x as f32).collect(),
        };
        let mut traced = 0.0;
        for o in &obs {
            let p = dkt.predict_interaction(&state, o).get();
            traced -= if o.correct { p.ln() } else { (1.0 - p).ln() };
            dkt.update(&mut state, o);
        }
        let from = Some((&start[..h], &start[h..]));
        let ours = loss_and_gradient_from(L, &dkt_params(&dkt), from, &answers, 0..5, Some(&mut g), None);
        assert!((ours - traced / 5.0).abs() < 1e-4, "from a state: {ours} vs {}", traced / 5.0);
    }

    fn dkt_params(dkt: &Dkt) -> Vec<f64> {
        L.flatten(dkt)
    }
}
