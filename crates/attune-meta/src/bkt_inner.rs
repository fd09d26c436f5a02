//! BKT (Corbett & Anderson, UMUAI 1995) as an inner-loop learner: a learner's episode on
//! local skill slots, and the loss of next-answer prediction with its gradient by a
//! hand-written backward pass through the forward algorithm. The pass is written once over
//! [`Real`], so that run on [`Dual`]s it gives the exact Hessian-vector product second-order
//! MAML needs (forward over reverse).
//!
//! Each slot (a skill the episode touches) has four adaptable parameters, the logits of
//! P(known before practice), P(learn), P(guess) and P(slip); P(forget) stays the fitted one.
//! An answer is predicted as [`attune_kt::Bkt`] predicts it, the mean over its skills of
//! `k (1 − slip) + (1 − k) guess`, and each of its skills' P(known) is then conditioned on
//! it and moved by learning and forgetting.

use std::ops::Range;

use attune_core::Interaction;
use attune_kt::Bkt;

use crate::dual::{Dual, Real};
use crate::inner::{Curved, Inner};

/// Adaptable parameters per skill: the logits of prior, learn, guess and slip, in this order.
pub const PER_SKILL: usize = 4;

/// A learner's answers on local skill slots.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BktTask {
    /// The model's skill index of each slot.
    pub slots: Vec<u32>,
    /// The fitted P(forget) of each slot, not adapted.
    pub forget: Vec<f64>,
    /// The slot of each (answer, skill) pair, an answer's skills consecutive and distinct.
    pub entries: Vec<u32>,
    /// Each answer: the end of its entries (it starts where the previous one ended) and
    /// whether it was right.
    pub answers: Vec<(u32, bool)>,
    /// The first `support` answers are the support set.
    pub support: usize,
}

impl BktTask {
    /// A task from a learner's support and query answers on `bkt`'s ids; skills without
    /// fitted parameters are left out, as [`Bkt`] leaves them out.
    pub fn new(bkt: &Bkt, support: &[Interaction<'_>], query: &[Interaction<'_>]) -> Self {
        let mut t = Self::default();
        for (j, obs) in support.iter().chain(query).enumerate() {
            if j == support.len() {
                t.support = t.answers.len();
            }
            let from = t.entries.len();
            for s in obs.skills {
                let Some(p) = bkt.skills.get(s.index()).and_then(Option::as_ref) else { continue };
                let slot = match t.slots.iter().position(|&x| x as usize == s.index()) {
                    Some(k) => k as u32,
                    None => {
                        t.slots.push(s.0);
                        t.forget.push(p.forget);
                        (t.slots.len() - 1) as u32
                    }
                };
                if !t.entries[from..].contains(&slot) {
                    t.entries.push(slot);
                }
            }
            t.answers.push((t.entries.len() as u32, obs.correct));
        }
        if query.is_empty() {
            t.support = t.answers.len();
        }
        t
    }

    /// Adaptable parameters: [`PER_SKILL`] per slot.
    pub fn len(&self) -> usize {
        PER_SKILL * self.slots.len()
    }

    /// Whether no answer has a fitted skill.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn entries_of(&self, t: usize) -> Range<usize> {
        let from = if t == 0 { 0 } else { self.answers[t - 1].0 as usize };
        from..self.answers[t].0 as usize
    }
}

/// One skill's probabilities from its logits.
#[derive(Clone, Copy)]
struct Probs<T> {
    prior: T,
    learn: T,
    guess: T,
    slip: T,
}

fn probs<T: Real>(psi: &[T], slot: usize) -> Probs<T> {
    let x = &psi[PER_SKILL * slot..PER_SKILL * (slot + 1)];
    Probs { prior: x[0].sigmoid(), learn: x[1].sigmoid(), guess: x[2].sigmoid(), slip: x[3].sigmoid() }
}

/// The mean cross-entropy of the answers at positions `scored` (those with a fitted skill),
/// each predicted from the answers before it, at parameters `psi`; its gradient goes into
/// `grad`. `known` is scratch space, reused across calls.
pub fn loss_and_gradient<T: Real>(
    task: &BktTask,
    psi: &[T],
    scored: Range<usize>,
    grad: &mut [T],
    known: &mut Vec<T>,
) -> f64 {
    grad.fill(T::default());
    let last = scored.end.min(task.answers.len());
    let m = task.slots.len();
    let n_scored = (scored.start..last).filter(|&t| !task.entries_of(t).is_empty()).count();
    if n_scored == 0 {
        return 0.0;
    }
    let one = T::cst(1.0);
    let w = T::cst(1.0 / n_scored as f64);
    // known[..m]: P(known) per slot now; known[m..]: P(known) of each entry before its answer.
    known.clear();
    known.extend((0..m).map(|j| probs(psi, j).prior));
    known.resize(m + task.entries.len(), T::default());
    let mut loss = 0.0;
    for t in 0..last {
        let (entries, y) = (task.entries_of(t), task.answers[t].1);
        if entries.is_empty() {
            continue;
        }
        let mut p = T::default();
        for e in entries.clone() {
            let s = task.entries[e] as usize;
            let (k, q) = (known[s], probs(psi, s));
            known[m + e] = k;
            p += k * (one - q.slip) + (one - k) * q.guess;
        }
        if t >= scored.start {
            let p = p.value() / entries.len() as f64;
            loss -= (if y { p } else { 1.0 - p }).max(f64::MIN_POSITIVE).ln() / n_scored as f64;
        }
        for e in entries {
            let s = task.entries[e] as usize;
            let (k, q) = (known[s], probs(psi, s));
            let post = posterior(k, q, y);
            known[s] = post * (one - T::cst(task.forget[s])) + (one - post) * q.learn;
        }
    }
    // Backward: known[..m] becomes each slot's adjoint of P(known).
    known[..m].fill(T::default());
    for t in (0..last).rev() {
        let (entries, y) = (task.entries_of(t), task.answers[t].1);
        if entries.is_empty() {
            continue;
        }
        let n = T::cst(entries.len() as f64);
        let q_bar = if t >= scored.start {
            let mut p = T::default();
            for e in entries.clone() {
                let (k, q) = (known[m + e], probs(psi, task.entries[e] as usize));
                p += k * (one - q.slip) + (one - k) * q.guess;
            }
            let p = p / n;
            let yf = T::cst(f64::from(u8::from(y)));
            w * (p - yf) / (p * (one - p)) / n
        } else {
            T::default()
        };
        for e in entries {
            let s = task.entries[e] as usize;
            let (k, q) = (known[m + e], probs(psi, s));
            let g = &mut grad[PER_SKILL * s..PER_SKILL * (s + 1)];
            let next_bar = known[s];
            let post = posterior(k, q, y);
            let post_bar = next_bar * (one - T::cst(task.forget[s]) - q.learn);
            g[1] += next_bar * (one - post);
            let (dk, dg, ds) = posterior_partials(k, q, y);
            let k_bar = post_bar * dk + q_bar * (one - q.slip - q.guess);
            g[2] += post_bar * dg + q_bar * (one - k);
            g[3] += post_bar * ds - q_bar * k;
            known[s] = k_bar;
        }
    }
    for j in 0..m {
        let q = probs(psi, j);
        let g = &mut grad[PER_SKILL * j..PER_SKILL * (j + 1)];
        g[0] = known[j] * q.prior * (one - q.prior);
        g[1] = g[1] * q.learn * (one - q.learn);
        g[2] = g[2] * q.guess * (one - q.guess);
        g[3] = g[3] * q.slip * (one - q.slip);
    }
    loss
}

/// P(known | the answer) from P(known) before it.
fn posterior<T: Real>(k: T, q: Probs<T>, y: bool) -> T {
    let one = T::cst(1.0);
    if y {
        let right = k * (one - q.slip);
        right / (right + (one - k) * q.guess)
    } else {
        let wrong = k * q.slip;
        wrong / (wrong + (one - k) * (one - q.guess))
    }
}

/// The posterior's partial derivatives with respect to P(known), guess and slip.
fn posterior_partials<T: Real>(k: T, q: Probs<T>, y: bool) -> (T, T, T) {
    let one = T::cst(1.0);
    if y {
        let p = k * (one - q.slip) + (one - k) * q.guess;
        let p2 = p * p;
        ((one - q.slip) * q.guess / p2, -(k * (one - q.slip) * (one - k)) / p2, -(k * (one - k) * q.guess) / p2)
    } else {
        let p = k * q.slip + (one - k) * (one - q.guess);
        let p2 = p * p;
        (q.slip * (one - q.guess) / p2, k * q.slip * (one - k) / p2, k * (one - k) * (one - q.guess) / p2)
    }
}

/// A learner's loss at positions `scored` of their task, as the inner loop descends it.
pub struct BktLoss<'a> {
    /// The learner's answers.
    pub task: &'a BktTask,
    /// The answers whose prediction is scored.
    pub scored: Range<usize>,
}

/// Scratch of the passes, reused per thread: P(known) per slot and entry in both number
/// types, and the seeded parameters and dual gradient of the Hessian-vector product.
#[derive(Default)]
struct Scratch {
    known: Vec<f64>,
    known_dual: Vec<Dual>,
    seeded: Vec<Dual>,
    grad: Vec<Dual>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

impl BktLoss<'_> {
    /// The loss at `psi`, its gradient into `g`.
    pub fn loss(&self, psi: &[f64], g: &mut [f64]) -> f64 {
        SCRATCH.with_borrow_mut(|w| loss_and_gradient(self.task, psi, self.scored.clone(), g, &mut w.known))
    }
}

impl Inner for BktLoss<'_> {
    fn gradient(&self, psi: &[f64], g: &mut [f64]) {
        self.loss(psi, g);
    }
}

impl Curved for BktLoss<'_> {
    fn hessian_times(&self, psi: &[f64], v: &[f64], out: &mut [f64]) {
        SCRATCH.with_borrow_mut(|w| {
            w.seeded.clear();
            w.seeded.extend(psi.iter().zip(v).map(|(&x, &d)| Dual::new(x, d)));
            w.grad.resize(psi.len(), Dual::default());
            loss_and_gradient(self.task, &w.seeded, self.scored.clone(), &mut w.grad, &mut w.known_dual);
            out.iter_mut().zip(&w.grad).for_each(|(o, g)| *o = g.d);
        });
    }
}

#[cfg(test)]
mod tests {
    use attune_core::{DatasetBuilder, ItemId, KnowledgeTracer, SkillId};
    use attune_kt::BktConfig;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    use super::*;
    use crate::inner::{Order, descend, unroll};

    /// Five answers on three skills, one answer on two skills at once.
    fn task() -> BktTask {
        BktTask {
            slots: vec![4, 1, 7],
            forget: vec![0.0, 0.05, 0.1],
            entries: vec![0, 1, 0, 2, 1, 0, 2],
            answers: vec![(1, true), (2, false), (4, true), (5, false), (7, true)],
            support: 3,
        }
    }

    fn params(seed: u64, n: usize) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n).map(|_| rng.random_range(-1.5..1.5)).collect()
    }

    fn loss_at(t: &BktTask, psi: &[f64], scored: Range<usize>) -> f64 {
        BktLoss { task: t, scored }.loss(psi, &mut vec![0.0; psi.len()])
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let t = task();
        let psi = params(1, t.len());
        for scored in [0..5, 3..5, 0..3] {
            let mut g = vec![0.0; psi.len()];
            BktLoss { task: &t, scored: scored.clone() }.gradient(&psi, &mut g);
            for j in 0..psi.len() {
                let (mut up, mut down) = (psi.clone(), psi.clone());
                up[j] += 1e-6;
                down[j] -= 1e-6;
                let fd = (loss_at(&t, &up, scored.clone()) - loss_at(&t, &down, scored.clone())) / 2e-6;
                assert!((fd - g[j]).abs() < 1e-7, "{scored:?} coordinate {j}: {} vs {fd}", g[j]);
            }
            assert!(g.iter().any(|x| x.abs() > 1e-3));
        }
    }

    #[test]
    fn hessian_times_matches_differences_of_gradients() {
        let t = task();
        let (psi, v) = (params(2, t.len()), params(3, t.len()));
        let loss = BktLoss { task: &t, scored: 0..3 };
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

    /// Second-order MAML over BKT: the meta-gradient of the query loss after the inner loop
    /// equals central differences of that loss in the starting point and the rates.
    #[test]
    fn second_order_meta_gradient_matches_finite_differences() {
        let t = task();
        let support = BktLoss { task: &t, scored: 0..t.support };
        let psi0 = params(4, t.len());
        let rates: Vec<f64> = params(5, t.len()).iter().map(|r| 0.5 + 0.3 * r).collect();
        let steps = 3;
        let after = |psi0: &[f64], rates: &[f64]| {
            let traj = descend(&support, psi0.to_vec(), rates, steps);
            loss_at(&t, &traj[steps], t.support..5)
        };
        let traj = descend(&support, psi0.clone(), &rates, steps);
        let mut q = vec![0.0; t.len()];
        BktLoss { task: &t, scored: t.support..5 }.gradient(&traj[steps], &mut q);
        let (psi_bar, rate_bar) = unroll(&support, &traj, &rates, Order::Second, q);
        for j in 0..t.len() {
            let (mut up, mut down) = (psi0.clone(), psi0.clone());
            up[j] += 1e-6;
            down[j] -= 1e-6;
            let fd = (after(&up, &rates) - after(&down, &rates)) / 2e-6;
            assert!((fd - psi_bar[j]).abs() < 1e-6, "start {j}: {} vs {fd}", psi_bar[j]);
            let (mut up, mut down) = (rates.clone(), rates.clone());
            up[j] += 1e-6;
            down[j] -= 1e-6;
            let fd = (after(&psi0, &up) - after(&psi0, &down)) / 2e-6;
            assert!((fd - rate_bar[j]).abs() < 1e-6, "rate {j}: {} vs {fd}", rate_bar[j]);
        }
    }

    /// The loss is the cross-entropy of the predictions `Bkt` itself makes, state updates
    /// included, on a fitted model with multi-skill items and a skill without parameters.
    #[test]
    fn loss_equals_bkt_cross_entropy() {
        let mut b = DatasetBuilder::default();
        let sk: Vec<SkillId> = ["a", "b", "c"].iter().map(|n| b.skill(n)).collect();
        let items: Vec<(ItemId, Vec<SkillId>)> = [vec![sk[0]], vec![sk[1]], vec![sk[0], sk[1]]]
            .into_iter()
            .enumerate()
            .map(|(i, s)| (b.item(&format!("i{i}")), s))
            .collect();
        let mut rng = StdRng::seed_from_u64(9);
        for s in 0..40 {
            let student = b.student(&format!("s{s}"));
            for t in 0..12 {
                let (item, skills) = &items[rng.random_range(0..3usize)];
                b.push_row(student, *item, skills, rng.random_bool(0.6), t);
            }
        }
        let data = b.finish();
        let bkt = BktConfig { forgets: true, ..BktConfig::default() }.fit(&data, &attune_core::NoProgress).unwrap();
        let obs: Vec<Interaction<'_>> = data.interactions(data.learner_rows(0)).collect();
        let unseen = [sk[2]];
        let mut history: Vec<Interaction<'_>> = obs.clone();
        history.push(Interaction { skills: &unseen, ..obs[0] });
        let t = BktTask::new(&bkt, &history[..4], &history[4..]);
        let psi: Vec<f64> = t
            .slots
            .iter()
            .flat_map(|&s| {
                let p = bkt.skills[s as usize].as_ref().unwrap();
                [p.prior, p.learn, p.guess, p.slip].map(|x| (x / (1.0 - x)).ln())
            })
            .collect();
        let mut state = bkt.initial_state();
        let mut expected = 0.0;
        for o in &history[..4] {
            bkt.update(&mut state, o);
        }
        for o in &history[4..history.len() - 1] {
            let p = bkt.predict_interaction(&state, o).get();
            expected -= if o.correct { p.ln() } else { (1.0 - p).ln() };
            bkt.update(&mut state, o);
        }
        expected /= (history.len() - 5) as f64;
        let got = loss_at(&t, &psi, t.support..history.len());
        assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
    }
}
