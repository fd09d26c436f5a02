//! BOBCAT's bilevel response model BiIRT (Ghosh & Lan, IJCAI 2021) with fixed selection rules.
//!
//! BiIRT is the Rasch model whose ability starting point and item difficulties are
//! meta-learned for adaptive testing: for each training learner, a test of `n` items is drawn
//! from the learner's pool by the selection rule, the ability adapts on those answers by
//! gradient steps from the starting point (the difficulties stay fixed: ANIL's inner loop,
//! see [`crate::inner`]), and the outer loop lowers the loss on the learner's query answers
//! through the exact second-order meta-gradient. One model per test length `n`, as BOBCAT
//! trains them; the inner rate (fixed, or its start when meta-learned as Meta-SGD's are) and
//! the stopping epoch are chosen on the validation learners.

use attune_core::{Dataset, Interaction, ItemId, Probability, Progress, sigmoid};
use attune_kt::Irt;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::bilevel::{Bilevel, best_of};
use crate::e4::{AdaptiveTester, pick_top};
use crate::inner::{Task, selection_gradient, trajectory};
use crate::irt_meta::{Algorithm, MetaConfig, MetaIrt};
use crate::policy::{Policy, PolicyAdam, PolicyGrad};
use crate::ppo;
use crate::tasks::pool_and_query;
use crate::{Error, Result};

/// How BiIRT's questions are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BiPolicy {
    /// Uniformly among the unasked pool items.
    Random,
    /// The item whose predicted success is closest to 0.5 at the current ability.
    Active,
    /// The item of most Fisher information `a² p (1 − p)` at the current ability: over the
    /// Rasch model the same order as Active; over the 2PL ([`crate::Bi2pl`]) it favours the
    /// items whose answers tell most.
    Mfi,
    /// BOBCAT's "Approx": a learned selection network, trained through the response model with
    /// the straight-through gradient of its softmax ([`crate::inner::selection_gradient`]).
    Approx,
    /// BOBCAT's "Unbiased": the same network trained by PPO on the reward of the tests it
    /// samples (proximal policy optimisation); a test asks its best-scored item.
    Unbiased,
}

impl BiPolicy {
    /// Whether the rule is a learned selection network.
    pub fn learned(self) -> bool {
        matches!(self, Self::Approx | Self::Unbiased)
    }
}

/// A meta-trained BiIRT for tests of `n` items.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BiIrt {
    /// Starting ability, difficulties and inner rate (an ANIL learner over the Rasch model).
    pub meta: MetaIrt,
    /// The selection rule.
    pub policy: BiPolicy,
    /// The test length it was trained for.
    pub n: usize,
    /// The selection network of [`BiPolicy::Approx`] and [`BiPolicy::Unbiased`].
    pub net: Option<Policy>,
    /// Exposure control at test time: draw among this many best items (1: the best; training
    /// always asks the best, as BOBCAT does).
    #[serde(default = "one")]
    pub randomesque: usize,
}

fn one() -> usize {
    1
}

/// The answers before one selection and the items then available.
pub(crate) type Step = (Vec<(u32, bool)>, Vec<u32>);

/// What a training test did, for the outer loop and the selection network's gradient.
pub(crate) struct Trace {
    /// The items asked, in order, with their answers.
    pub(crate) asked: Vec<(u32, bool)>,
    /// Each selection's inputs (recorded only for a selection network).
    pub(crate) steps: Vec<Step>,
    /// The whole pool (item, answer) and which were asked.
    pub(crate) candidates: Vec<(u32, bool)>,
    pub(crate) selected: Vec<bool>,
    /// The query answers.
    pub(crate) query: Vec<(u32, bool)>,
}

/// One training learner's test: a fresh pool/query draw of `rows` with `seed`, `n` items
/// chosen by `tester` at its current parameters (each answer observed as the test goes), the
/// query answers; items on the model's indices by `index`.
pub(crate) fn training_test<T: AdaptiveTester>(
    tester: &T,
    n: usize,
    data: &Dataset,
    rows: std::ops::Range<usize>,
    seed: u64,
    index: impl Fn(ItemId) -> u32,
    record: bool,
) -> Trace {
    let draw = pool_and_query(rows, seed);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5EED);
    let answer = |r: usize| (index(data.items()[r]), data.correct()[r]);
    let candidates: Vec<(u32, bool)> = draw.pool.iter().map(|&r| answer(r)).collect();
    let mut left: Vec<usize> = (0..candidates.len()).collect();
    let mut selected = vec![false; candidates.len()];
    let (mut session, mut steps, mut asked) = (tester.start(), Vec::new(), Vec::new());
    for _ in 0..n.min(left.len()) {
        let items: Vec<ItemId> = left.iter().map(|&c| data.items()[draw.pool[c]]).collect();
        if record {
            steps.push((asked.clone(), items.iter().map(|&i| index(i)).collect()));
        }
        let pick = tester.choose(&session, &items, &mut rng).min(left.len() - 1);
        let c = left.swap_remove(pick);
        selected[c] = true;
        asked.push(candidates[c]);
        tester.observe(&mut session, &data.interaction(draw.pool[c]));
    }
    let query = draw.query.iter().map(|&r| answer(r)).collect();
    Trace { asked, steps, candidates, selected, query }
}

/// One training learner's test under `policy`: sampled from the selection network for
/// [`BiPolicy::Unbiased`] (its rollout kept for the PPO step), chosen by `tester` otherwise.
#[allow(clippy::too_many_arguments)]
pub(crate) fn policy_test<T: AdaptiveTester>(
    tester: &T,
    net: Option<&Policy>,
    policy: BiPolicy,
    data: &Dataset,
    rows: std::ops::Range<usize>,
    seed: u64,
    index: impl Fn(ItemId) -> u32,
    rollouts: &mut Vec<ppo::Rollout>,
    n: usize,
) -> Trace {
    match (net, policy) {
        (Some(net), BiPolicy::Unbiased) => {
            let (trace, r) = ppo::rollout(tester, net, n, data, rows, seed, index);
            rollouts.push(r);
            trace
        }
        _ => training_test(tester, n, data, rows, seed, index, net.is_some()),
    }
}

/// The selection network's step after a batch of `batch` tests: PPO on the rollouts for
/// [`BiPolicy::Unbiased`], Adam on the straight-through gradient otherwise.
pub(crate) fn step_policy(
    net: Option<&mut Policy>,
    opt: Option<&mut (PolicyAdam, PolicyGrad)>,
    policy: BiPolicy,
    rollouts: &[ppo::Rollout],
    batch: usize,
) {
    if let (Some(net), Some((adam, g))) = (net, opt) {
        if policy == BiPolicy::Unbiased {
            ppo::update(net, adam, g, rollouts);
        } else {
            adam.step(net, g, 1.0 / batch as f32);
        }
    }
}

/// A test length and learner sets a BOBCAT model can train on.
pub(crate) fn check_training(learner: &'static str, n: usize, train: &Dataset, valid: &Dataset) -> Result<()> {
    if n == 0 {
        return Err(Error::InvalidConfig { learner, param: "n", value: "0".into(), reason: "at least 1" });
    }
    if train.n_learners() == 0 || valid.n_learners() == 0 {
        return Err(Error::TooFewLearners { needed: 1, found: 0 });
    }
    Ok(())
}

/// Adds the selection network's gradient for one test from `g`, the query loss's gradient
/// with respect to each pool answer's weight in the support: passed to every step's softmax,
/// straight through the argmax (BOBCAT's "Approx").
pub(crate) fn straight_through(net: &Policy, t: &Trace, g: &[f64], grad: &mut PolicyGrad) {
    let g_of: std::collections::HashMap<u32, f64> = t.candidates.iter().zip(g).map(|(&(i, _), &g)| (i, g)).collect();
    for (answers, items) in &t.steps {
        let h = net.hidden(answers);
        let probs = ppo::softmax(&net.logits(&h, items));
        let gi: Vec<f64> = items.iter().map(|i| g_of.get(i).copied().unwrap_or(0.0)).collect();
        let mean: f64 = probs.iter().zip(&gi).map(|(p, g)| p * g).sum();
        let d: Vec<f32> = probs.iter().zip(&gi).map(|(p, g)| (p * (g - mean)) as f32).collect();
        net.backward(answers, &h, items, &d, grad);
    }
}

/// A BiIRT test so far.
#[derive(Clone, Debug)]
pub struct BiSession {
    pub(crate) answers: Vec<(u32, bool)>,
    pub(crate) theta: f64,
}

impl BiIrt {
    /// The untrained model: the normal fit's difficulties, ability from 0.
    fn from_base(base: &Irt, policy: BiPolicy, n: usize, steps: usize, rate: f64) -> Self {
        let meta = MetaIrt::from_base(Algorithm::Anil, base, n, steps, rate);
        let net = policy.learned().then(|| Policy::new(meta.difficulty.len(), 7));
        Self { meta, policy, n, net, randomesque: 1 }
    }

    fn ability(&self, answers: &[(u32, bool)]) -> f64 {
        let task = Task::new(answers, &[], false);
        let (psi0, rates) = self.meta.start(&task);
        trajectory(&task, psi0, &rates, self.meta.steps, false)
            .last()
            .map_or(self.meta.theta0, |p| p[0])
            .clamp(-6.0, 6.0)
    }

    /// Meta-trains BiIRT for tests of `n` items on the training learners (first attempts, on
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
        check_training("biirt", n, train, valid)?;
        progress.start(&format!("meta-training BiIRT (n = {n})"), (2 * cfg.inner_rates.len() * cfg.max_epochs) as u64);
        let make = |_, rate| Self::from_base(base, policy, n, cfg.inner_steps, rate);
        best_of(1, make, train, valid, cfg, progress)
    }
}

impl Bilevel for BiIrt {
    fn policy(&self) -> BiPolicy {
        self.policy
    }

    fn length(&self) -> usize {
        self.n
    }

    fn net(&self) -> Option<&Policy> {
        self.net.as_ref()
    }

    fn net_mut(&mut self) -> Option<&mut Policy> {
        self.net.as_mut()
    }

    fn item_index(&self, item: ItemId) -> u32 {
        self.meta.item_index(item)
    }

    fn pack(&self) -> Vec<f64> {
        self.meta.pack()
    }

    fn unpack(&mut self, x: &[f64]) {
        self.meta.unpack(x);
    }

    fn accumulate(&self, t: &Trace, grad: &mut [f64]) {
        self.meta.accumulate(&Task::new(&t.asked, &t.query, false), grad);
    }

    fn selection_gradient(&self, t: &Trace) -> Vec<f64> {
        let b = |i: u32| self.meta.difficulty[i as usize];
        let cands: Vec<(f64, bool)> = t.candidates.iter().map(|&(i, y)| (b(i), y)).collect();
        let query: Vec<(f64, bool)> = t.query.iter().map(|&(i, y)| (b(i), y)).collect();
        selection_gradient(self.meta.theta0, self.meta.rate_theta, self.meta.steps, &cands, &t.selected, &query)
    }

    /// The unseen item's difficulty and the difficulties' inner rates stay (the ANIL inner
    /// loop adapts only the ability); the ability's rate is learned or fixed.
    fn hold(&self, grad: &mut [f64], learn_rate: bool) {
        let d = self.meta.difficulty.len();
        grad[d] = 0.0;
        grad[2 + d..].fill(0.0);
        if !learn_rate {
            grad[1 + d] = 0.0;
        }
    }

    fn set_validation_auc(&mut self, auc: f64) {
        self.meta.validation_auc = auc;
    }
}

impl AdaptiveTester for BiIrt {
    type Session = BiSession;

    fn start(&self) -> BiSession {
        BiSession { answers: Vec::new(), theta: self.meta.theta0 }
    }

    fn choose(&self, s: &BiSession, pool: &[ItemId], rng: &mut StdRng) -> usize {
        let scores: Vec<f64> = match self.policy {
            BiPolicy::Random => return rng.random_range(0..pool.len().max(1)),
            BiPolicy::Approx | BiPolicy::Unbiased => match &self.net {
                Some(net) => {
                    let items: Vec<u32> = pool.iter().map(|i| self.meta.item_index(*i)).collect();
                    net.logits(&net.hidden(&s.answers), &items).iter().map(|&l| f64::from(l)).collect()
                }
                None => vec![0.0; pool.len()],
            },
            BiPolicy::Active | BiPolicy::Mfi => pool
                .iter()
                .map(|i| -(sigmoid(s.theta - self.meta.difficulty[self.meta.item_index(*i) as usize]) - 0.5).abs())
                .collect(),
        };
        pick_top(&scores, self.randomesque, rng)
    }

    fn observe(&self, s: &mut BiSession, answer: &Interaction<'_>) {
        s.answers.push((self.meta.item_index(answer.item), answer.correct));
        s.theta = self.ability(&s.answers);
    }

    fn predict(&self, s: &BiSession, item: ItemId) -> Probability {
        Probability::new(sigmoid(s.theta - self.meta.difficulty[self.meta.item_index(item) as usize]))
    }
}
