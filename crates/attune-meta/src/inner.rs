//! The inner loop of the optimization-based meta-learners over the Rasch model, with exact
//! gradients and Hessian-vector products (the model is small enough to differentiate by hand).
//!
//! A learner's adaptable parameters are `ψ = (θ, b_1 … b_m)`: the ability and the difficulties
//! of the `m` items the learner's support touches, started from the meta-parameters
//! `Φ = (θ₀, b)`. The support loss is the mean cross-entropy of `σ(θ − b_i)`; each inner step is
//! `ψ ← ψ − a ⊙ ∇L_s(ψ)` with a rate per coordinate (MAML: one rate; ANIL: zero on the
//! difficulties, so only the ability adapts; Meta-SGD: learned rates). MAML's meta-gradient
//! runs the steps backwards, `ψ̄ ← ψ̄ − H(ψ_t) (a ⊙ ψ̄)`, exactly (Finn et al., ICML 2017);
//! first-order MAML drops the Hessian term.

use attune_core::{sigmoid, softplus};

/// One learner's episode on local slots: the support answers `(slot, correct)`, the query
/// answers `(item, slot if the support touched it, correct)`, and the item of each slot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Task {
    /// The item (difficulty index) of each slot.
    pub slots: Vec<u32>,
    /// Support answers on slots.
    pub support: Vec<(u32, bool)>,
    /// Query answers.
    pub query: Vec<(u32, Option<u32>, bool)>,
}

impl Task {
    /// A task from support and query answers `(item, correct)`; with `query_slots` the query's
    /// items get slots too (Reptile adapts on both).
    pub fn new(support: &[(u32, bool)], query: &[(u32, bool)], query_slots: bool) -> Self {
        let mut t = Self::default();
        let slot_of = |t: &mut Self, item: u32| match t.slots.iter().position(|&s| s == item) {
            Some(k) => k as u32,
            None => {
                t.slots.push(item);
                (t.slots.len() - 1) as u32
            }
        };
        for &(item, y) in support {
            let s = slot_of(&mut t, item);
            t.support.push((s, y));
        }
        for &(item, y) in query {
            let slot = if query_slots {
                Some(slot_of(&mut t, item))
            } else {
                t.slots.iter().position(|&s| s == item).map(|k| k as u32)
            };
            t.query.push((item, slot, y));
        }
        t
    }

    /// The answers adapted on: the support, and with `with_query` the query too.
    fn answers(&self, with_query: bool) -> impl Iterator<Item = (u32, bool)> + '_ {
        let q = self.query.iter().filter_map(move |&(_, s, y)| if with_query { s.map(|s| (s, y)) } else { None });
        self.support.iter().copied().chain(q)
    }
}

/// Mean support loss gradient at `psi` into `g`.
pub fn gradient(task: &Task, psi: &[f64], with_query: bool, g: &mut [f64]) {
    g.fill(0.0);
    let mut n = 0usize;
    for (s, y) in task.answers(with_query) {
        let r = sigmoid(psi[0] - psi[1 + s as usize]) - f64::from(u8::from(y));
        g[0] += r;
        g[1 + s as usize] -= r;
        n += 1;
    }
    if n > 0 {
        g.iter_mut().for_each(|x| *x /= n as f64);
    }
}

/// The support loss's Hessian at `psi` times `v`, into `out`.
pub fn hessian_times(task: &Task, psi: &[f64], v: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    let n = task.support.len();
    for &(s, _) in &task.support {
        let p = sigmoid(psi[0] - psi[1 + s as usize]);
        let d = p * (1.0 - p) * (v[0] - v[1 + s as usize]);
        out[0] += d;
        out[1 + s as usize] -= d;
    }
    if n > 0 {
        out.iter_mut().for_each(|x| *x /= n as f64);
    }
}

/// The steps of the inner loop from `psi0` with per-coordinate `rates`: `steps + 1` points;
/// with `with_query` on the support and query answers (Reptile).
pub fn trajectory(task: &Task, psi0: Vec<f64>, rates: &[f64], steps: usize, with_query: bool) -> Vec<Vec<f64>> {
    struct Whole<'a>(&'a Task);
    impl Inner for Whole<'_> {
        fn gradient(&self, psi: &[f64], g: &mut [f64]) {
            gradient(self.0, psi, true, g);
        }
    }
    if with_query { descend(&Whole(task), psi0, rates, steps) } else { descend(task, psi0, rates, steps) }
}

/// Query loss (mean cross-entropy) at the adapted `psi`, with `difficulty` for items the
/// support did not touch; adds `∂/∂ψ` to `psi_bar` and `∂/∂b` of untouched items through
/// `item_bar`.
pub fn query_loss(
    task: &Task,
    psi: &[f64],
    difficulty: &[f64],
    psi_bar: &mut [f64],
    mut item_bar: impl FnMut(u32, f64),
) -> f64 {
    let n = task.query.len().max(1) as f64;
    let mut loss = 0.0;
    for &(item, slot, y) in &task.query {
        let b = slot.map_or_else(|| difficulty.get(item as usize).copied().unwrap_or(0.0), |s| psi[1 + s as usize]);
        let z = psi[0] - b;
        let yf = f64::from(u8::from(y));
        loss += softplus(z) - yf * z;
        let r = (sigmoid(z) - yf) / n;
        psi_bar[0] += r;
        match slot {
            Some(s) => psi_bar[1 + s as usize] -= r,
            None => item_bar(item, -r),
        }
    }
    loss / n
}

/// How the meta-gradient treats the inner loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Through the Hessian of every inner step (MAML, Meta-SGD, ANIL).
    Second,
    /// As if `ψ_S` moved one for one with `ψ₀` (first-order MAML).
    First,
}

/// The meta-gradient of one task's query loss after `steps` inner steps: returns the loss,
/// `ψ̄₀` (the gradient with respect to the starting point) and `ā` (with respect to the rates),
/// while untouched query items' difficulty gradients go to `item_bar`.
pub fn meta_gradient(
    task: &Task,
    psi0: Vec<f64>,
    rates: &[f64],
    steps: usize,
    difficulty: &[f64],
    order: Order,
    item_bar: impl FnMut(u32, f64),
) -> (f64, Vec<f64>, Vec<f64>) {
    let traj = trajectory(task, psi0, rates, steps, false);
    let mut psi_bar = vec![0.0; rates.len()];
    let loss = query_loss(task, &traj[steps], difficulty, &mut psi_bar, item_bar);
    let (psi_bar, rate_bar) = unroll(task, &traj, rates, order, psi_bar);
    (loss, psi_bar, rate_bar)
}

/// A loss the inner loop descends.
pub trait Inner {
    /// The gradient at `psi`, into `g`.
    fn gradient(&self, psi: &[f64], g: &mut [f64]);
}

/// An inner loss whose Hessian-vector products are known, as second-order MAML needs.
pub trait Curved: Inner {
    /// The Hessian at `psi` times `v`, into `out`.
    fn hessian_times(&self, psi: &[f64], v: &[f64], out: &mut [f64]);
}

impl Inner for Task {
    fn gradient(&self, psi: &[f64], g: &mut [f64]) {
        gradient(self, psi, false, g);
    }
}

impl Curved for Task {
    fn hessian_times(&self, psi: &[f64], v: &[f64], out: &mut [f64]) {
        hessian_times(self, psi, v, out);
    }
}

/// `steps` inner steps of `ψ ← ψ − a ⊙ ∇L(ψ)` from `psi0`: `steps + 1` points.
pub fn descend<P: Inner + ?Sized>(loss: &P, psi0: Vec<f64>, rates: &[f64], steps: usize) -> Vec<Vec<f64>> {
    let (mut traj, mut g) = (vec![psi0], Vec::new());
    descend_into(loss, rates, steps, &mut traj, &mut g);
    traj
}

/// [`descend`] in place: from `traj[0]`, writing the later points into `traj` (reusing its
/// vectors) with `g` as the gradient's buffer, so that a loop over many tasks allocates once.
pub fn descend_into<P: Inner + ?Sized>(
    loss: &P,
    rates: &[f64],
    steps: usize,
    traj: &mut Vec<Vec<f64>>,
    g: &mut Vec<f64>,
) {
    let m = traj.first().map_or(0, Vec::len);
    traj.resize_with(steps + 1, Vec::new);
    g.resize(m, 0.0);
    for t in 0..steps {
        loss.gradient(&traj[t], g);
        let (done, rest) = traj.split_at_mut(t + 1);
        let next = &mut rest[0];
        next.clear();
        next.extend(done[t].iter().zip(rates).zip(g.iter()).map(|((x, a), g)| x - a * g));
    }
}

/// Runs the inner steps of `traj` backwards from `psi_bar`, the query loss's gradient at the
/// last point: returns the gradient with respect to the first point and to the rates.
/// `ψ̄ ← ψ̄ − H(ψ_t) (a ⊙ ψ̄)` per step with [`Order::Second`]; the identity with
/// [`Order::First`].
pub fn unroll<P: Curved + ?Sized>(
    loss: &P,
    traj: &[Vec<f64>],
    rates: &[f64],
    order: Order,
    mut psi_bar: Vec<f64>,
) -> (Vec<f64>, Vec<f64>) {
    let mut rate_bar = Vec::new();
    unroll_into(loss, traj, rates, order, &mut psi_bar, &mut rate_bar, &mut Default::default());
    (psi_bar, rate_bar)
}

/// [`unroll`] in place: `psi_bar` becomes the gradient with respect to the first point,
/// `rate_bar` that with respect to the rates; `scratch` holds the step's vectors.
pub fn unroll_into<P: Curved + ?Sized>(
    loss: &P,
    traj: &[Vec<f64>],
    rates: &[f64],
    order: Order,
    psi_bar: &mut [f64],
    rate_bar: &mut Vec<f64>,
    scratch: &mut [Vec<f64>; 3],
) {
    let m = rates.len();
    rate_bar.clear();
    rate_bar.resize(m, 0.0);
    scratch.iter_mut().for_each(|v| v.resize(m, 0.0));
    let [g, u, hu] = scratch;
    for point in traj[..traj.len().saturating_sub(1)].iter().rev() {
        loss.gradient(point, g);
        for j in 0..m {
            rate_bar[j] -= psi_bar[j] * g[j];
        }
        if order == Order::Second {
            for j in 0..m {
                u[j] = rates[j] * psi_bar[j];
            }
            loss.hessian_times(point, u, hu);
            for j in 0..m {
                psi_bar[j] -= hu[j];
            }
        }
    }
}

/// BOBCAT's straight-through selection gradient: how the query loss after an ability-only
/// inner loop changes with the weight `m_j` of each candidate answer in the support loss.
///
/// The support loss is `Σ_j m_j ℓ_j(θ) / n` over the `candidates` `(difficulty, answer)`, with
/// `m_j = 1` for the `selected` ones and 0 for the others, `n` the number selected; the inner
/// loop takes `steps` steps of `rate` from `theta0`; the query loss is the mean cross-entropy
/// over `query`. Forward-mode: `∂θ_{t+1}/∂m_j = ∂θ_t/∂m_j (1 − rate Σ_i m_i w_i / n) − rate r_j / n`.
pub fn selection_gradient(
    theta0: f64,
    rate: f64,
    steps: usize,
    candidates: &[(f64, bool)],
    selected: &[bool],
    query: &[(f64, bool)],
) -> Vec<f64> {
    let n = selected.iter().filter(|&&s| s).count().max(1) as f64;
    let mut theta = theta0;
    let mut jac = vec![0.0; candidates.len()];
    let y = |c: bool| f64::from(u8::from(c));
    for _ in 0..steps {
        let (mut g, mut h) = (0.0, 0.0);
        for (&(b, c), &s) in candidates.iter().zip(selected) {
            if s {
                let p = sigmoid(theta - b);
                g += p - y(c);
                h += p * (1.0 - p);
            }
        }
        for (j, &(b, c)) in candidates.iter().enumerate() {
            let r = sigmoid(theta - b) - y(c);
            jac[j] = jac[j] * (1.0 - rate * h / n) - rate * r / n;
        }
        theta -= rate * g / n;
    }
    let dq = query.iter().map(|&(b, c)| sigmoid(theta - b) - y(c)).sum::<f64>() / query.len().max(1) as f64;
    jac.iter().map(|j| dq * j).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Task {
        Task::new(
            &[(3, true), (7, false), (3, true), (1, true)],
            &[(7, true), (2, false), (3, false), (5, true)],
            false,
        )
    }

    /// The loss after the inner loop as a function of the starting point and the rates.
    fn loss_of(t: &Task, psi0: &[f64], rates: &[f64], steps: usize, difficulty: &[f64]) -> f64 {
        let traj = trajectory(t, psi0.to_vec(), rates, steps, false);
        let mut sink = vec![0.0; psi0.len()];
        query_loss(t, &traj[steps], difficulty, &mut sink, |_, _| {})
    }

    #[test]
    fn slots_are_shared_between_support_and_query() {
        let t = task();
        assert_eq!(t.slots, [3, 7, 1]);
        assert_eq!(t.support, [(0, true), (1, false), (0, true), (2, true)]);
        assert_eq!(t.query[0], (7, Some(1), true));
        assert_eq!(t.query[1], (2, None, false));
        let r = Task::new(&[(3, true)], &[(4, true)], true);
        assert_eq!(r.slots, [3, 4]);
    }

    /// Second-order meta-gradients (starting point, rates, untouched items) against central
    /// differences of the unrolled loss; first-order differs from them.
    #[test]
    fn meta_gradient_matches_finite_differences() {
        let t = task();
        let difficulty: Vec<f64> = (0..8).map(|i| 0.3 * f64::from(i) - 1.0).collect();
        let psi0 = vec![0.4, -0.2, 0.5, -0.7];
        let rates = [0.9, 0.6, 1.3, 0.4];
        let steps = 4;
        let mut item_grad = [0.0; 8];
        let (_, psi_bar, rate_bar) =
            meta_gradient(&t, psi0.clone(), &rates, steps, &difficulty, Order::Second, |i, g| {
                item_grad[i as usize] += g
            });
        let h = 1e-6;
        for j in 0..psi0.len() {
            let (mut up, mut down) = (psi0.clone(), psi0.clone());
            up[j] += h;
            down[j] -= h;
            let fd = (loss_of(&t, &up, &rates, steps, &difficulty) - loss_of(&t, &down, &rates, steps, &difficulty))
                / (2.0 * h);
            assert!((fd - psi_bar[j]).abs() < 1e-7, "psi0[{j}]: analytic {} vs {fd}", psi_bar[j]);
            let (mut up, mut down) = (rates, rates);
            up[j] += h;
            down[j] -= h;
            let fd = (loss_of(&t, &psi0, &up, steps, &difficulty) - loss_of(&t, &psi0, &down, steps, &difficulty))
                / (2.0 * h);
            assert!((fd - rate_bar[j]).abs() < 1e-7, "rate[{j}]: analytic {} vs {fd}", rate_bar[j]);
        }
        for i in [2usize, 5] {
            let (mut up, mut down) = (difficulty.clone(), difficulty.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (loss_of(&t, &psi0, &rates, steps, &up) - loss_of(&t, &psi0, &rates, steps, &down)) / (2.0 * h);
            assert!((fd - item_grad[i]).abs() < 1e-7, "item {i}: analytic {} vs {fd}", item_grad[i]);
        }
        let (_, first, _) = meta_gradient(&t, psi0, &rates, steps, &difficulty, Order::First, |_, _| {});
        assert!(first.iter().zip(&psi_bar).any(|(a, b)| (a - b).abs() > 1e-3), "first order equals second order");
    }

    /// The selection gradient against central differences of the weighted inner loop.
    #[test]
    fn selection_gradient_matches_finite_differences() {
        let cands = [(0.3, true), (-1.0, false), (1.2, true), (0.0, false), (-0.4, true)];
        let selected = [true, false, true, false, false];
        let query = [(0.5, true), (-0.2, false), (1.5, false)];
        let (theta0, rate, steps) = (0.2, 0.8, 5);
        let g = selection_gradient(theta0, rate, steps, &cands, &selected, &query);
        let loss = |m: &[f64]| {
            let mut theta = theta0;
            for _ in 0..steps {
                let grad: f64 =
                    cands.iter().zip(m).map(|(&(b, c), &w)| w * (sigmoid(theta - b) - f64::from(u8::from(c)))).sum();
                theta -= rate * grad / 2.0;
            }
            query.iter().map(|&(b, c)| softplus(theta - b) - f64::from(u8::from(c)) * (theta - b)).sum::<f64>() / 3.0
        };
        let m: Vec<f64> = selected.iter().map(|&s| f64::from(u8::from(s))).collect();
        for j in 0..cands.len() {
            let (mut up, mut down) = (m.clone(), m.clone());
            up[j] += 1e-6;
            down[j] -= 1e-6;
            let fd = (loss(&up) - loss(&down)) / 2e-6;
            assert!((fd - g[j]).abs() < 1e-7, "candidate {j}: {} vs {fd}", g[j]);
        }
    }

    #[test]
    fn hessian_times_matches_differences_of_gradients() {
        let t = task();
        let psi = vec![0.1, 0.3, -0.4, 0.8];
        let v = vec![0.5, -1.0, 0.25, 2.0];
        let mut hv = vec![0.0; 4];
        hessian_times(&t, &psi, &v, &mut hv);
        let h = 1e-6;
        let shifted = |s: f64| {
            let p: Vec<f64> = psi.iter().zip(&v).map(|(x, v)| x + s * v).collect();
            let mut g = vec![0.0; 4];
            gradient(&t, &p, false, &mut g);
            g
        };
        let (up, down) = (shifted(h), shifted(-h));
        for j in 0..4 {
            let fd = (up[j] - down[j]) / (2.0 * h);
            assert!((fd - hv[j]).abs() < 1e-7, "{j}: {} vs {fd}", hv[j]);
        }
    }
}
