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
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::e4::{AdaptiveTester, E4Settings, run_e4};
use crate::inner::{Task, trajectory};
use crate::irt_meta::{Adam, Algorithm, MetaConfig, MetaIrt};
use crate::tasks::{draw_seed, pool_and_query};
use crate::{Error, Result};

/// How BiIRT's questions are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BiPolicy {
    /// Uniformly among the unasked pool items.
    Random,
    /// The item whose predicted success is closest to 0.5 at the current ability.
    Active,
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
}

/// A BiIRT test so far.
#[derive(Clone, Debug)]
pub struct BiSession {
    answers: Vec<(u32, bool)>,
    theta: f64,
}

impl BiIrt {
    /// The untrained model: the normal fit's difficulties, ability from 0.
    fn from_base(base: &Irt, policy: BiPolicy, n: usize, steps: usize, rate: f64) -> Self {
        Self { meta: MetaIrt::from_base(Algorithm::Anil, base, n, steps, rate), policy, n }
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
        if n == 0 {
            return Err(Error::InvalidConfig { learner: "biirt", param: "n", value: "0".into(), reason: "at least 1" });
        }
        if train.n_learners() == 0 || valid.n_learners() == 0 {
            return Err(Error::TooFewLearners { needed: 1, found: 0 });
        }
        progress.start(&format!("meta-training BiIRT (n = {n})"), (2 * cfg.inner_rates.len() * cfg.max_epochs) as u64);
        let mut best: Option<(f64, Self)> = None;
        for learn_rate in [false, true] {
            for &rate in &cfg.inner_rates {
                let start = Self::from_base(base, policy, n, cfg.inner_steps, rate);
                let (auc, m) = start.meta_train(train, valid, cfg, learn_rate, progress)?;
                if best.as_ref().is_none_or(|(b, _)| auc > *b) {
                    best = Some((auc, m));
                }
            }
        }
        let (auc, mut m) = best.ok_or(Error::TooFewLearners { needed: 1, found: 0 })?;
        m.meta.validation_auc = auc;
        Ok(m)
    }

    fn validation(&self, valid: &Dataset, seed: u64) -> f64 {
        let settings = E4Settings { steps: vec![self.n], draws: 2, seed };
        run_e4(self, valid, &settings).auc_at.get(&self.n).copied().unwrap_or(f64::NAN)
    }

    /// The outer loop from this starting point; with `learn_rate` the ability's inner rate is
    /// meta-learned too (as Meta-SGD's rates are). Returns the best validation AUC and model.
    fn meta_train(
        mut self,
        train: &Dataset,
        valid: &Dataset,
        cfg: &MetaConfig,
        learn_rate: bool,
        progress: &dyn Progress,
    ) -> Result<(f64, Self)> {
        let d = self.meta.difficulty.len();
        let mut adam = Adam::new(2 + 2 * d, cfg.outer_rate);
        let learners: Vec<_> = train.learners().collect();
        let mut order: Vec<usize> = (0..learners.len()).collect();
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let mut best = (self.validation(valid, cfg.seed), self.clone());
        let mut since_best = 0;
        let mut grad = vec![0.0; 2 + 2 * d];
        for epoch in 0..cfg.max_epochs {
            order.shuffle(&mut rng);
            for batch in order.chunks(cfg.meta_batch) {
                grad.fill(0.0);
                for &k in batch {
                    let task = self.episode(train, learners[k].clone(), draw_seed(cfg.seed, epoch + 1, k));
                    self.meta.accumulate(&task, &mut grad);
                }
                let scale = 1.0 / batch.len() as f64;
                grad.iter_mut().for_each(|g| *g *= scale);
                grad[d] = 0.0;
                // The difficulties' inner rates stay zero (the ANIL inner loop adapts only the
                // ability); the ability's is learned or fixed.
                grad[2 + d..].fill(0.0);
                if !learn_rate {
                    grad[1 + d] = 0.0;
                }
                let mut x = self.meta.pack();
                adam.step(&mut x, &grad);
                self.meta.unpack(&x);
            }
            let auc = self.validation(valid, cfg.seed);
            if auc > best.0 {
                best = (auc, self.clone());
                since_best = 0;
            } else {
                since_best += 1;
            }
            if !progress.advance(1) {
                return Err(attune_core::Cancelled.into());
            }
            if since_best >= cfg.patience {
                break;
            }
        }
        Ok(best)
    }

    /// One training learner's episode: a fresh pool/query draw, a test of `n` items chosen by
    /// the policy at the current parameters, the query answers.
    fn episode(&self, data: &Dataset, rows: std::ops::Range<usize>, seed: u64) -> Task {
        let draw = pool_and_query(rows, seed);
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5EED);
        let mut pool = draw.pool;
        let mut items: Vec<ItemId> = pool.iter().map(|&r| data.items()[r]).collect();
        let mut session = self.start();
        for _ in 0..self.n.min(pool.len()) {
            let pick = self.choose(&session, &items, &mut rng);
            let row = pool.swap_remove(pick);
            items.swap_remove(pick);
            session.answers.push((self.meta.item_index(data.items()[row]), data.correct()[row]));
        }
        let query: Vec<(u32, bool)> =
            draw.query.iter().map(|&r| (self.meta.item_index(data.items()[r]), data.correct()[r])).collect();
        Task::new(&session.answers, &query, false)
    }
}

impl AdaptiveTester for BiIrt {
    type Session = BiSession;

    fn start(&self) -> BiSession {
        BiSession { answers: Vec::new(), theta: self.meta.theta0 }
    }

    fn choose(&self, s: &BiSession, pool: &[ItemId], rng: &mut StdRng) -> usize {
        match self.policy {
            BiPolicy::Random => rng.random_range(0..pool.len().max(1)),
            BiPolicy::Active => {
                let distance = |i: &ItemId| {
                    (sigmoid(s.theta - self.meta.difficulty[self.meta.item_index(*i) as usize]) - 0.5).abs()
                };
                (0..pool.len()).min_by(|&a, &b| distance(&pool[a]).total_cmp(&distance(&pool[b]))).unwrap_or(0)
            }
        }
    }

    fn observe(&self, s: &mut BiSession, answer: &Interaction<'_>) {
        s.answers.push((self.meta.item_index(answer.item), answer.correct));
        s.theta = self.ability(&s.answers);
    }

    fn predict(&self, s: &BiSession, item: ItemId) -> Probability {
        Probability::new(sigmoid(s.theta - self.meta.difficulty[self.meta.item_index(item) as usize]))
    }
}
