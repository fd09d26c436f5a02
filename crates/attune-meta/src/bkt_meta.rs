//! The optimization-based meta-learners over BKT (Corbett & Anderson, UMUAI 1995):
//! fine-tuning, MAML with the exact second-order meta-gradient (Finn et al., ICML 2017),
//! first-order MAML, Reptile (Nichol et al., 2018), Meta-SGD (Li et al., 2017) and ANIL
//! (Raghu et al., ICLR 2020), on the inner loop of [`crate::bkt_inner`].
//!
//! A new learner's inner loop descends the next-answer loss of their support over the prior,
//! learn, guess and slip logits of the skills the support practises (ANIL: the prior and the
//! learning rate only, the learner's own parameters in individualized BKT, Yudelson et al.,
//! AIED 2013; guess and slip, properties of the items, are meta-learned, not adapted), from
//! the normally fitted BKT (fine-tuning) or from a starting point meta-learned across the
//! training learners (Meta-SGD also learns a rate per parameter). The inner rate, fine-
//! tuning's step count and the epoch to stop at are chosen on the validation learners. An
//! adapted learner is an ordinary [`Bkt`].

use attune_core::{Dataset, Interaction, KnowledgeTracer, Progress, sigmoid};
use attune_kt::Bkt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::bkt_inner::{BktLoss, BktTask, PER_SKILL};
use crate::e5::{Adapted, E5_HORIZON, MetaLearner, validation_auc};
use crate::inner::{Inner, Order, descend, unroll};
use crate::irt_meta::{Algorithm, MetaConfig};
use crate::outer::{Adam, batch_gradient, keep_best};
use crate::tasks::episode;
use crate::{Error, Result};

/// Logits are kept within ±`MAX_LOGIT` (probabilities within 6·10⁻⁶ of 0 and 1), so that a
/// fitted guess or slip of exactly 0 still has a finite logit and a gradient.
const MAX_LOGIT: f64 = 12.0;

/// A meta-trained starting point for new learners under BKT.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MetaBkt {
    /// How it adapts.
    pub algorithm: Algorithm,
    /// The support size it was trained for.
    pub support: usize,
    /// Inner steps at adaptation.
    pub steps: usize,
    /// Inner rate (of the priors and learning rates only, for ANIL).
    pub rate: f64,
    /// Meta-SGD's learned rate per parameter, [`PER_SKILL`] per skill of the model (prior,
    /// learn, guess, slip); empty for the others.
    #[serde(default)]
    pub rates: Vec<f64>,
    /// Where every new learner's inner loop starts: an ordinary BKT.
    pub start: Bkt,
    /// Validation AUC of the kept parameters (E5 on the validation learners).
    pub validation_auc: f64,
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(sigmoid(-MAX_LOGIT), sigmoid(MAX_LOGIT));
    (p / (1.0 - p)).ln()
}

/// The prior, learn, guess and slip logits of every skill of `bkt` (zeros for skills without
/// parameters, which no task touches).
fn logits(bkt: &Bkt) -> Vec<f64> {
    (0..bkt.skills.len()).flat_map(|s| skill_logits(bkt, s)).collect()
}

fn skill_logits(bkt: &Bkt, s: usize) -> [f64; PER_SKILL] {
    bkt.skills[s].as_ref().map_or([0.0; PER_SKILL], |p| [p.prior, p.learn, p.guess, p.slip].map(logit))
}

/// Writes logits `x` of skill `s` into `bkt`.
fn write_skill(bkt: &mut Bkt, s: usize, x: &[f64]) {
    if let Some(Some(p)) = bkt.skills.get_mut(s) {
        let [prior, learn, guess, slip] = [0, 1, 2, 3].map(|j| sigmoid(x[j].clamp(-MAX_LOGIT, MAX_LOGIT)));
        (p.prior, p.learn, p.guess, p.slip) = (prior, learn, guess, slip);
    }
}

impl MetaBkt {
    fn from_base(algorithm: Algorithm, base: &Bkt, support: usize, steps: usize, rate: f64) -> Self {
        Self { algorithm, support, steps, rate, rates: Vec::new(), start: base.clone(), validation_auc: f64::NAN }
    }

    /// Checks a loaded learner against the file's base BKT: the same skills, probabilities in
    /// `[0, 1]`, steps in `1..=100`, rates in `[0, 100]`; the error names the field.
    pub(crate) fn check(&self, base: &Bkt) -> std::result::Result<(), (&'static str, String)> {
        let same_skills = self.start.skills.len() == base.skills.len()
            && self.start.skills.iter().zip(&base.skills).all(|(a, b)| a.is_some() == b.is_some());
        if !same_skills || self.start.item_skills != base.item_skills {
            return Err(("start", format!("not a bkt of the base's {} skills and Q-matrix", base.skills.len())));
        }
        let prob = |x: f64| (0.0..=1.0).contains(&x);
        let bad = self.start.skills.iter().flatten().find(|p| {
            !(prob(p.prior) && prob(p.learn) && prob(p.forget) && prob(p.guess) && prob(p.slip) && p.items.is_empty())
        });
        if bad.is_some() {
            return Err(("start", "a probability outside [0, 1], or per-item guess and slip".into()));
        }
        if !(1..=100).contains(&self.steps) {
            return Err(("steps", format!("{}: between 1 and 100", self.steps)));
        }
        let rate_ok = |r: f64| r.is_finite() && (0.0..=100.0).contains(&r);
        if !rate_ok(self.rate) {
            return Err(("rate", format!("{}: in [0, 100]", self.rate)));
        }
        let n = PER_SKILL * base.skills.len();
        if !(self.rates.is_empty() || self.rates.len() == n) || !self.rates.iter().all(|&r| rate_ok(r)) {
            return Err(("rates", format!("{} rates: none or {n} in [0, 100]", self.rates.len())));
        }
        Ok(())
    }

    /// The inner rate of parameter `j` (prior, learn, guess, slip) of skill `s`.
    fn rate_of(&self, s: usize, j: usize) -> f64 {
        match self.rates.get(PER_SKILL * s + j) {
            Some(&r) if self.rates.len() == PER_SKILL * self.start.skills.len() => r,
            _ if j <= 1 || self.algorithm != Algorithm::Anil => self.rate,
            _ => 0.0,
        }
    }

    /// The inner rate of every parameter of the model.
    fn rate_vector(&self) -> Vec<f64> {
        (0..PER_SKILL * self.start.skills.len()).map(|j| self.rate_of(j / PER_SKILL, j % PER_SKILL)).collect()
    }

    /// Fits `algorithm` for support size `k` over `base` (fitted normally on `train`, model
    /// ids), choosing the inner rate (and fine-tuning's step count) and the stopping epoch on
    /// the validation learners.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], [`Error::UnsupportedBase`] for BKT with per-item guess and
    /// slip, [`Error::TooFewLearners`] without a training learner with more than `k` answers,
    /// [`Error::Cancelled`].
    pub fn train(
        algorithm: Algorithm,
        base: &Bkt,
        train: &Dataset,
        valid: &Dataset,
        k: usize,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        cfg.validate(algorithm.as_str())?;
        if base.config.multigs {
            return Err(Error::UnsupportedBase {
                learner: algorithm.as_str(),
                base: "bkt-multigs".into(),
                supported: "bkt, bkt-forgets",
            });
        }
        let mut best: Option<Self> = None;
        let mut consider = |m: Self| {
            if best.as_ref().is_none_or(|b| m.validation_auc > b.validation_auc) {
                best = Some(m);
            }
        };
        if algorithm == Algorithm::FineTune {
            progress.start(
                &format!("fine-tuning bkt (k = {k}): choosing steps and rate"),
                (cfg.finetune_steps.len() * cfg.inner_rates.len()) as u64,
            );
            for &steps in &cfg.finetune_steps {
                for &rate in &cfg.inner_rates {
                    let mut m = Self::from_base(algorithm, base, k, steps, rate);
                    m.validation_auc = m.validation(valid);
                    consider(m);
                    if !progress.advance(1) {
                        return Err(attune_core::Cancelled.into());
                    }
                }
            }
        } else {
            let tasks = tasks_of(base, train, k);
            if tasks.is_empty() {
                return Err(Error::TooFewLearners { needed: 1, found: 0 });
            }
            progress.start(
                &format!("meta-training {algorithm} over bkt (k = {k})"),
                (cfg.inner_rates.len() * cfg.max_epochs) as u64,
            );
            for &rate in &cfg.inner_rates {
                let start = Self::from_base(algorithm, base, k, cfg.inner_steps, rate);
                consider(start.meta_train(&tasks, valid, cfg, progress)?);
            }
        }
        best.ok_or(Error::TooFewLearners { needed: 1, found: 0 })
    }

    /// E5 validation AUC of these parameters at their support size.
    fn validation(&self, valid: &Dataset) -> f64 {
        validation_auc(self, valid, self.support)
    }

    /// The outer loop: Adam on the starting logits (and Meta-SGD's rates) over meta-batches
    /// of tasks, tasks of a batch in parallel, keeping the epoch with the best validation AUC.
    fn meta_train(
        mut self,
        tasks: &[BktTask],
        valid: &Dataset,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        let learn_rates = self.algorithm == Algorithm::MetaSgd;
        let mut x = logits(&self.start);
        let mut rates = self.rate_vector();
        let n = x.len();
        let mut adam = Adam::new(n, cfg.outer_rate);
        let mut adam_rates = Adam::new(n, cfg.outer_rate);
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let mut order: Vec<usize> = (0..tasks.len()).collect();
        self.validation_auc = self.validation(valid);
        let start = self.validation_auc;
        let (_, best) = keep_best(self, start, cfg.max_epochs, cfg.patience, Some(progress), |m, _| {
            order.shuffle(&mut rng);
            for batch in order.chunks(cfg.meta_batch) {
                let task = |t: usize, g: &mut [f64], r: &mut [f64]| m.add_task_gradient(&tasks[t], &x, &rates, g, r);
                let Some((g, g_rates)) = batch_gradient(batch, n, task) else { continue };
                adam.step(&mut x, &g);
                x.iter_mut().for_each(|v| *v = v.clamp(-MAX_LOGIT, MAX_LOGIT));
                if learn_rates {
                    adam_rates.step(&mut rates, &g_rates);
                    rates.iter_mut().for_each(|r| *r = r.clamp(0.0, 100.0));
                }
            }
            for s in 0..m.start.skills.len() {
                write_skill(&mut m.start, s, &x[PER_SKILL * s..PER_SKILL * (s + 1)]);
            }
            if learn_rates {
                m.rates.clone_from(&rates);
            }
            m.validation_auc = m.validation(valid);
            Ok(m.validation_auc)
        })?;
        Ok(best)
    }

    /// Adds one task's outer gradient with respect to the starting logits `x` and the rates
    /// to `g` and `g_rates`; `false` (and nothing added) where it is not finite.
    fn add_task_gradient(&self, task: &BktTask, x: &[f64], rates: &[f64], g: &mut [f64], g_rates: &mut [f64]) -> bool {
        let global = |slot: usize, j: usize| PER_SKILL * task.slots[slot] as usize + j;
        let gather = |v: &[f64]| -> Vec<f64> {
            (0..task.slots.len()).flat_map(|s| (0..PER_SKILL).map(move |j| v[global(s, j)])).collect()
        };
        let (psi0, r) = (gather(x), gather(rates));
        let (psi_bar, rate_bar) = if self.algorithm == Algorithm::Reptile {
            // Reptile's direction: from the start toward the parameters adapted on the whole task.
            let whole = BktLoss { task, scored: 0..task.answers.len() };
            let end = descend(&whole, psi0.clone(), &r, self.steps).pop().unwrap_or_default();
            (psi0.iter().zip(&end).map(|(a, b)| a - b).collect(), vec![0.0; r.len()])
        } else {
            let support = BktLoss { task, scored: 0..task.support };
            let traj = descend(&support, psi0, &r, self.steps);
            let mut q = vec![0.0; r.len()];
            BktLoss { task, scored: task.support..task.answers.len() }.gradient(&traj[self.steps], &mut q);
            let order = if self.algorithm == Algorithm::FoMaml { Order::First } else { Order::Second };
            unroll(&support, &traj, &r, order, q)
        };
        if !psi_bar.iter().chain(&rate_bar).all(|v| v.is_finite()) {
            return false;
        }
        for s in 0..task.slots.len() {
            for j in 0..PER_SKILL {
                g[global(s, j)] += psi_bar[PER_SKILL * s + j];
                g_rates[global(s, j)] += rate_bar[PER_SKILL * s + j];
            }
        }
        true
    }
}

/// Training tasks: each learner with more than `k` answers, support the first `k`, query the
/// next [`E5_HORIZON`]; learners none of whose answers has a fitted skill are left out.
fn tasks_of(base: &Bkt, data: &Dataset, k: usize) -> Vec<BktTask> {
    data.learners()
        .filter_map(|rows| {
            let ep = episode(rows, k, E5_HORIZON)?;
            let support: Vec<Interaction<'_>> = data.interactions(ep.support).collect();
            let query: Vec<Interaction<'_>> = data.interactions(ep.query).collect();
            let task = BktTask::new(base, &support, &query);
            (!task.is_empty()).then_some(task)
        })
        .collect()
}

impl MetaLearner for MetaBkt {
    type Learner<'a> = Bkt;

    fn adapt(&self, support: &[Interaction<'_>]) -> Adapted<Bkt> {
        let mut model = self.start.clone();
        let task = BktTask::new(&self.start, support, &[]);
        if !task.is_empty() {
            let psi0: Vec<f64> = task.slots.iter().flat_map(|&s| skill_logits(&self.start, s as usize)).collect();
            let r: Vec<f64> =
                task.slots.iter().flat_map(|&s| (0..PER_SKILL).map(move |j| self.rate_of(s as usize, j))).collect();
            let loss = BktLoss { task: &task, scored: 0..task.answers.len() };
            let psi = descend(&loss, psi0, &r, self.steps).pop().unwrap_or_default();
            if psi.iter().all(|x| x.is_finite()) {
                for (j, &s) in task.slots.iter().enumerate() {
                    write_skill(&mut model, s as usize, &psi[PER_SKILL * j..PER_SKILL * (j + 1)]);
                }
            }
        }
        let mut state = model.initial_state();
        for obs in support {
            model.update(&mut state, obs);
        }
        Adapted { model, state }
    }
}
