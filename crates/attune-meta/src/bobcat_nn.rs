//! BOBCAT's BiNN (Ghosh & Lan, IJCAI 2021): a bilevel response model whose learner is a
//! small vector `s` and whose items are read out by a one-hidden-layer network,
//! `logit_i(s) = w2_i · relu(W1 s + b1) + b2_i`.
//!
//! A test adapts `s` by gradient steps on the answers so far from a meta-learned start `s0`;
//! across the training learners the outer loop fits `s0` and the network to the query
//! answers after each learner's test, first-order through the inner loop as BOBCAT's code
//! does. The readout starts at the normally fitted Rasch model (`b2 = −difficulty`), so the
//! untrained network is IRT with ability 0. Selection rules as BiIRT's: Random, Active, and
//! the straight-through "Approx" network, here with the exact reverse-mode gradient of the
//! query loss through the inner loop with respect to each pool answer's weight
//! ([`BiNn::selection_gradient`]). BOBCAT uses 256 hidden units and dropout; this network has
//! [`NN_HIDDEN`] and none, which keeps a model file at a few megabytes per test length.

use attune_core::{Dataset, Interaction, ItemId, Probability, Progress, sigmoid, softplus};
use attune_kt::Irt;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::bobcat::{BiPolicy, Trace, check_training, policy_test, step_policy, straight_through};
use crate::e4::{AdaptiveTester, E4Settings, pick_top, run_e4};
use crate::irt_meta::MetaConfig;
use crate::outer::{Adam, keep_best};
use crate::policy::{Policy, PolicyAdam, PolicyGrad};
use crate::tasks::draw_seed;
use crate::{Error, Result};

/// Size of the learner vector (BOBCAT's `question_dim` default).
pub const NN_DIMS: usize = 4;

/// Hidden units of the readout.
pub const NN_HIDDEN: usize = 64;

/// Adam rate of the outer loop and of the selection network.
const NN_RATE: f64 = 1e-3;

/// A meta-trained BiNN for tests of `n` items.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BiNn {
    /// The selection rule.
    pub policy: BiPolicy,
    /// The test length it was trained for.
    pub n: usize,
    /// Readout rows: the base model's items and one for unseen items (the last).
    pub n_items: usize,
    /// The learner vector's start, `[NN_DIMS]`.
    pub s0: Vec<f32>,
    /// `[NN_HIDDEN, NN_DIMS]`.
    pub w1: Vec<f32>,
    /// `[NN_HIDDEN]`.
    pub b1: Vec<f32>,
    /// `[n_items, NN_HIDDEN]`.
    pub w2: Vec<f32>,
    /// `[n_items]`.
    pub b2: Vec<f32>,
    /// Inner rate.
    pub rate: f64,
    /// Inner steps.
    pub steps: usize,
    /// The selection network of [`BiPolicy::Approx`] and [`BiPolicy::Unbiased`].
    pub net: Option<Policy>,
    /// Exposure control at test time: draw among this many best items.
    #[serde(default = "one")]
    pub randomesque: usize,
    /// Validation AUC of the kept parameters.
    pub validation_auc: f64,
}

fn one() -> usize {
    1
}

/// The readout's hidden layer at a learner vector.
#[derive(Clone, Debug, PartialEq)]
struct Hidden {
    act: Vec<f64>,
    on: Vec<bool>,
}

/// A BiNN test so far.
#[derive(Clone, Debug)]
pub struct BiNnSession {
    answers: Vec<(u32, bool)>,
    hidden: Hidden,
}

impl BiNn {
    fn from_base(base: &Irt, policy: BiPolicy, n: usize, steps: usize, rate: f64, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let n_items = base.difficulty.len() + 1;
        let mut uniform = |len: usize, s: f32| -> Vec<f32> { (0..len).map(|_| rng.random_range(-s..s)).collect() };
        let w1 = uniform(NN_HIDDEN * NN_DIMS, 1.0 / (NN_DIMS as f32).sqrt());
        let b1 = uniform(NN_HIDDEN, 0.5);
        let w2 = uniform(n_items * NN_HIDDEN, 0.1 / (NN_HIDDEN as f32).sqrt());
        let mut b2: Vec<f32> = base.difficulty.iter().map(|&b| -b as f32).collect();
        b2.push(-base.mean_difficulty as f32);
        let net = policy.learned().then(|| Policy::new(n_items, 7));
        Self {
            policy,
            n,
            n_items,
            s0: vec![0.0; NN_DIMS],
            w1,
            b1,
            w2,
            b2,
            rate,
            steps,
            net,
            randomesque: 1,
            validation_auc: f64::NAN,
        }
    }

    pub(crate) fn item_index(&self, i: ItemId) -> u32 {
        i.0.min(self.n_items as u32 - 1)
    }

    fn hidden(&self, s: &[f64]) -> Hidden {
        let (mut act, mut on) = (vec![0.0; NN_HIDDEN], vec![false; NN_HIDDEN]);
        for k in 0..NN_HIDDEN {
            let row = &self.w1[k * NN_DIMS..(k + 1) * NN_DIMS];
            let a = f64::from(self.b1[k]) + row.iter().zip(s).map(|(&w, &x)| f64::from(w) * x).sum::<f64>();
            on[k] = a > 0.0;
            act[k] = a.max(0.0);
        }
        Hidden { act, on }
    }

    fn logit(&self, h: &Hidden, item: u32) -> f64 {
        let i = item as usize;
        let row = &self.w2[i * NN_HIDDEN..(i + 1) * NN_HIDDEN];
        f64::from(self.b2[i]) + row.iter().zip(&h.act).map(|(&w, &a)| f64::from(w) * a).sum::<f64>()
    }

    /// `∂ logit_item / ∂s` at the hidden layer `h`.
    fn logit_gradient(&self, h: &Hidden, item: u32) -> [f64; NN_DIMS] {
        let i = item as usize;
        let mut g = [0.0; NN_DIMS];
        for k in (0..NN_HIDDEN).filter(|&k| h.on[k]) {
            let w = f64::from(self.w2[i * NN_HIDDEN + k]);
            for (l, g) in g.iter_mut().enumerate() {
                *g += w * f64::from(self.w1[k * NN_DIMS + l]);
            }
        }
        g
    }

    /// The inner loop on `answers` from `s0`: every point, `steps + 1` of them.
    fn trajectory(&self, answers: &[(u32, bool)]) -> Vec<Vec<f64>> {
        let mut s: Vec<f64> = self.s0.iter().map(|&x| f64::from(x)).collect();
        let mut out = vec![s.clone()];
        if answers.is_empty() {
            return out;
        }
        let per = 1.0 / answers.len() as f64;
        for _ in 0..self.steps {
            let h = self.hidden(&s);
            let mut g = [0.0; NN_DIMS];
            for &(i, y) in answers {
                let r = (sigmoid(self.logit(&h, i)) - f64::from(u8::from(y))) * per;
                let gz = self.logit_gradient(&h, i);
                g.iter_mut().zip(gz).for_each(|(g, z)| *g += r * z);
            }
            s.iter_mut().zip(g).for_each(|(s, g)| *s = (*s - self.rate * g).clamp(-20.0, 20.0));
            out.push(s.clone());
        }
        out
    }

    fn adapted(&self, answers: &[(u32, bool)]) -> Vec<f64> {
        self.trajectory(answers).pop().unwrap_or_default()
    }

    /// The query loss's gradient with respect to each candidate answer's weight `m_j` in the
    /// support loss `Σ m_j ℓ_j(s) / n` (`n` the number selected), by reverse mode through the
    /// inner loop: `λ_t = λ_{t+1} − (a/n) Σ_j m_j p_j (1 − p_j) (∇z_j · λ_{t+1}) ∇z_j` (the
    /// readout is piecewise linear in `s`, so each logit's Hessian is zero).
    pub(crate) fn selection_gradient(
        &self,
        candidates: &[(u32, bool)],
        selected: &[bool],
        query: &[(u32, bool)],
    ) -> Vec<f64> {
        let support: Vec<(u32, bool)> = candidates.iter().zip(selected).filter(|&(_, &s)| s).map(|(&c, _)| c).collect();
        let traj = self.trajectory(&support);
        let n = support.len().max(1) as f64;
        let y = |c: bool| f64::from(u8::from(c));
        let last = self.hidden(traj.last().map_or(&[][..], Vec::as_slice));
        let mut lambda = [0.0; NN_DIMS];
        let q = query.len().max(1) as f64;
        for &(i, c) in query {
            let r = (sigmoid(self.logit(&last, i)) - y(c)) / q;
            lambda.iter_mut().zip(self.logit_gradient(&last, i)).for_each(|(l, g)| *l += r * g);
        }
        let mut dm = vec![0.0; candidates.len()];
        if support.is_empty() {
            return dm;
        }
        for s in traj[..traj.len() - 1].iter().rev() {
            let h = self.hidden(s);
            let mut next = lambda;
            for (j, &(i, c)) in candidates.iter().enumerate() {
                let p = sigmoid(self.logit(&h, i));
                let gz = self.logit_gradient(&h, i);
                let dot: f64 = gz.iter().zip(&lambda).map(|(g, l)| g * l).sum();
                dm[j] -= self.rate / n * (p - y(c)) * dot;
                if selected[j] {
                    next.iter_mut().zip(gz).for_each(|(x, g)| *x -= self.rate / n * p * (1.0 - p) * dot * g);
                }
            }
            lambda = next;
        }
        dm
    }

    /// Meta-trains BiNN for tests of `n` items on the training learners (first attempts, on
    /// `base`'s ids), keeping the inner rate and epoch with the best validation AUC.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `n = 0`, [`Error::TooFewLearners`] without training or
    /// validation learners, [`Error::Cancelled`].
    pub fn train(
        base: &Irt,
        policy: BiPolicy,
        train: &Dataset,
        valid: &Dataset,
        n: usize,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        check_training("binn", n, train, valid)?;
        progress.start(&format!("meta-training BiNN (n = {n})"), (cfg.inner_rates.len() * cfg.max_epochs) as u64);
        let mut best: Option<Self> = None;
        for &rate in &cfg.inner_rates {
            let start = Self::from_base(base, policy, n, cfg.inner_steps, rate, cfg.seed);
            let m = start.meta_train(train, valid, cfg, progress)?;
            if best.as_ref().is_none_or(|b| m.validation_auc > b.validation_auc) {
                best = Some(m);
            }
        }
        best.ok_or(Error::TooFewLearners { needed: 1, found: 0 })
    }

    fn validation(&self, valid: &Dataset, seed: u64) -> f64 {
        let settings = E4Settings { steps: vec![self.n], draws: 2, seed, resamples: 0, ..E4Settings::default() };
        run_e4(self, valid, &settings).auc_at.get(&self.n).copied().unwrap_or(f64::NAN)
    }

    /// Flat outer parameters: `[s0 | w1 | b1 | w2 | b2]`.
    fn pack(&self) -> Vec<f64> {
        let parts = [&self.s0, &self.w1, &self.b1, &self.w2, &self.b2];
        parts.iter().flat_map(|p| p.iter().map(|&x| f64::from(x))).collect()
    }

    fn unpack(&mut self, x: &[f64]) {
        let mut at = 0;
        for part in [&mut self.s0, &mut self.w1, &mut self.b1, &mut self.w2, &mut self.b2] {
            let len = part.len();
            part.iter_mut().zip(&x[at..at + len]).for_each(|(p, &v)| *p = v.clamp(-1e3, 1e3) as f32);
            at += len;
        }
    }

    /// Adds one test's first-order outer gradient (layout of [`BiNn::pack`]); returns its
    /// query loss.
    fn accumulate(&self, t: &Trace, grad: &mut [f64]) -> f64 {
        let s = self.adapted(&t.asked);
        let h = self.hidden(&s);
        let (o_w1, o_b1) = (NN_DIMS, NN_DIMS + NN_HIDDEN * NN_DIMS);
        let o_w2 = o_b1 + NN_HIDDEN;
        let o_b2 = o_w2 + self.n_items * NN_HIDDEN;
        let q = t.query.len().max(1) as f64;
        let mut d_act = [0.0; NN_HIDDEN];
        let mut loss = 0.0;
        for &(i, c) in &t.query {
            let z = self.logit(&h, i);
            let y = f64::from(u8::from(c));
            loss += (softplus(z) - y * z) / q;
            let r = (sigmoid(z) - y) / q;
            let i = i as usize;
            grad[o_b2 + i] += r;
            for k in 0..NN_HIDDEN {
                grad[o_w2 + i * NN_HIDDEN + k] += r * h.act[k];
                d_act[k] += r * f64::from(self.w2[i * NN_HIDDEN + k]);
            }
        }
        for k in (0..NN_HIDDEN).filter(|&k| h.on[k]) {
            grad[o_b1 + k] += d_act[k];
            for l in 0..NN_DIMS {
                grad[o_w1 + k * NN_DIMS + l] += d_act[k] * s[l];
                // First order through the inner loop: ∂s_T/∂s0 taken as the identity.
                grad[l] += d_act[k] * f64::from(self.w1[k * NN_DIMS + l]);
            }
        }
        loss
    }

    fn meta_train(
        mut self,
        train: &Dataset,
        valid: &Dataset,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        let learners: Vec<_> = train.learners().collect();
        let mut order: Vec<usize> = (0..learners.len()).collect();
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let mut x = self.pack();
        let mut adam = Adam::new(x.len(), NN_RATE);
        let mut grad = vec![0.0; x.len()];
        let mut net_opt = self.net.as_ref().map(|p| (PolicyAdam::new(p, NN_RATE as f32), PolicyGrad::zeros(p)));
        self.validation_auc = self.validation(valid, cfg.seed);
        let start = self.validation_auc;
        let (_, best) = keep_best(self, start, cfg.max_epochs, cfg.patience, Some(progress), |m, epoch| {
            order.shuffle(&mut rng);
            for batch in order.chunks(cfg.meta_batch) {
                grad.fill(0.0);
                let mut rollouts = Vec::new();
                for &k in batch {
                    let seed = draw_seed(cfg.seed, epoch + 1, k);
                    let index = |i: ItemId| m.item_index(i);
                    let rows = learners[k].clone();
                    let trace =
                        policy_test(&*m, m.net.as_ref(), m.policy, train, rows, seed, index, &mut rollouts, m.n);
                    m.accumulate(&trace, &mut grad);
                    if let (Some(net), Some((_, g)), BiPolicy::Approx) = (&m.net, net_opt.as_mut(), m.policy) {
                        let dm = m.selection_gradient(&trace.candidates, &trace.selected, &trace.query);
                        straight_through(net, &trace, &dm, g);
                    }
                }
                step_policy(m.net.as_mut(), net_opt.as_mut(), m.policy, &rollouts, batch.len());
                let scale = 1.0 / batch.len() as f64;
                grad.iter_mut().for_each(|g| *g *= scale);
                // The unseen item's row stays the population's.
                let (w2_unseen, b2_unseen) = (x.len() - m.n_items - NN_HIDDEN, x.len() - 1);
                grad[w2_unseen..w2_unseen + NN_HIDDEN].fill(0.0);
                grad[b2_unseen] = 0.0;
                adam.step(&mut x, &grad);
                m.unpack(&x);
            }
            m.validation_auc = m.validation(valid, cfg.seed);
            Ok(m.validation_auc)
        })?;
        Ok(best)
    }

    /// Checks a loaded model's shapes and values; the error names the field.
    pub(crate) fn check(&self, n_items: usize) -> std::result::Result<(), (&'static str, String)> {
        let shapes = self.n_items == n_items
            && self.s0.len() == NN_DIMS
            && self.w1.len() == NN_HIDDEN * NN_DIMS
            && self.b1.len() == NN_HIDDEN
            && self.w2.len() == n_items * NN_HIDDEN
            && self.b2.len() == n_items;
        if !shapes {
            return Err((
                "w2",
                format!("shapes do not match {n_items} items, {NN_DIMS} dimensions, {NN_HIDDEN} units"),
            ));
        }
        let weights = self.s0.iter().chain(&self.w1).chain(&self.b1).chain(&self.w2).chain(&self.b2);
        if weights.clone().any(|w| !w.is_finite() || w.abs() > 1e3) {
            return Err(("w2", "a weight is not finite or beyond ±1e3".into()));
        }
        if !(1..=100).contains(&self.steps) {
            return Err(("steps", format!("{}: between 1 and 100", self.steps)));
        }
        if !(self.rate.is_finite() && (0.0..=100.0).contains(&self.rate)) {
            return Err(("rate", format!("{}: in [0, 100]", self.rate)));
        }
        Ok(())
    }
}

impl AdaptiveTester for BiNn {
    type Session = BiNnSession;

    fn start(&self) -> BiNnSession {
        let s: Vec<f64> = self.s0.iter().map(|&x| f64::from(x)).collect();
        BiNnSession { answers: Vec::new(), hidden: self.hidden(&s) }
    }

    fn choose(&self, s: &BiNnSession, pool: &[ItemId], rng: &mut StdRng) -> usize {
        let scores: Vec<f64> = match self.policy {
            BiPolicy::Random => return rng.random_range(0..pool.len().max(1)),
            BiPolicy::Approx | BiPolicy::Unbiased => match &self.net {
                Some(net) => {
                    let items: Vec<u32> = pool.iter().map(|i| self.item_index(*i)).collect();
                    net.logits(&net.hidden(&s.answers), &items).iter().map(|&l| f64::from(l)).collect()
                }
                None => vec![0.0; pool.len()],
            },
            BiPolicy::Active | BiPolicy::Mfi => {
                pool.iter().map(|i| -(sigmoid(self.logit(&s.hidden, self.item_index(*i))) - 0.5).abs()).collect()
            }
        };
        pick_top(&scores, self.randomesque, rng)
    }

    fn observe(&self, s: &mut BiNnSession, answer: &Interaction<'_>) {
        s.answers.push((self.item_index(answer.item), answer.correct));
        s.hidden = self.hidden(&self.adapted(&s.answers));
    }

    fn predict(&self, s: &BiNnSession, item: ItemId) -> Probability {
        Probability::new(sigmoid(self.logit(&s.hidden, self.item_index(item))))
    }
}

#[cfg(test)]
mod tests {
    use attune_kt::IrtConfig;

    use super::*;

    fn rasch(difficulty: Vec<f64>) -> Irt {
        let mean_difficulty = difficulty.iter().sum::<f64>() / difficulty.len() as f64;
        let discrimination = vec![1.0; difficulty.len()];
        Irt { config: IrtConfig::one_pl(), difficulty, discrimination, mean_difficulty }
    }

    fn model() -> BiNn {
        let base = rasch(vec![0.5, -1.0, 0.2, 1.3, -0.4]);
        let mut m = BiNn::from_base(&base, BiPolicy::Active, 3, 4, 0.8, 3);
        // Larger readout weights than the initial ones, so the loss depends on s strongly.
        m.w2.iter_mut().for_each(|w| *w *= 20.0);
        m.s0 = vec![0.3, -0.2, 0.5, 0.1];
        m
    }

    /// The selection gradient against central differences of the weighted inner loop.
    #[test]
    fn selection_gradient_matches_finite_differences() {
        let m = model();
        let cands = [(0u32, true), (1, false), (2, true), (3, false), (4, true)];
        let selected = [true, false, true, true, false];
        let query = [(1u32, true), (4, false), (5, true)];
        let g = m.selection_gradient(&cands, &selected, &query);
        let loss = |w: &[f64]| {
            let mut s: Vec<f64> = m.s0.iter().map(|&x| f64::from(x)).collect();
            for _ in 0..m.steps {
                let h = m.hidden(&s);
                let mut grad = [0.0; NN_DIMS];
                for (&(i, c), &wj) in cands.iter().zip(w) {
                    let r = wj * (sigmoid(m.logit(&h, i)) - f64::from(u8::from(c))) / 3.0;
                    grad.iter_mut().zip(m.logit_gradient(&h, i)).for_each(|(g, z)| *g += r * z);
                }
                s.iter_mut().zip(grad).for_each(|(s, g)| *s -= m.rate * g);
            }
            let h = m.hidden(&s);
            query.iter().map(|&(i, c)| softplus(m.logit(&h, i)) - f64::from(u8::from(c)) * m.logit(&h, i)).sum::<f64>()
                / 3.0
        };
        let w: Vec<f64> = selected.iter().map(|&s| f64::from(u8::from(s))).collect();
        assert!(g.iter().any(|x| x.abs() > 1e-4), "the gradient vanishes: {g:?}");
        for j in 0..cands.len() {
            let (mut up, mut down) = (w.clone(), w.clone());
            up[j] += 1e-6;
            down[j] -= 1e-6;
            let fd = (loss(&up) - loss(&down)) / 2e-6;
            assert!((fd - g[j]).abs() < 1e-6, "candidate {j}: {} vs {fd}", g[j]);
        }
    }

    /// The untrained readout is the Rasch model at ability 0 plus a small network term.
    #[test]
    fn the_untrained_model_starts_near_the_rasch_fit() {
        let base = rasch(vec![0.5, -1.0]);
        let m = BiNn::from_base(&base, BiPolicy::Random, 1, 5, 1.0, 1);
        let s = m.start();
        for (i, b) in [(0u32, 0.5f64), (1, -1.0)] {
            let p = m.predict(&s, ItemId(i)).get();
            assert!((p - sigmoid(-b)).abs() < 0.05, "item {i}: {p} vs {}", sigmoid(-b));
        }
        assert!(m.check(3).is_ok());
        assert!(m.check(4).is_err());
    }
}
