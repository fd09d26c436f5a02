//! The model-based readers over DKT (the RNN and the memory reader): they write a new learner's **initial LSTM state** (hidden and cell
//! vectors, `2 H` numbers) in one forward pass; DKT's weights stay the normal fit's. The
//! adapted learner is the ordinary [`Dkt`], its state started there and then reading the
//! support with DKT's own update.
//!
//! Training differentiates the query loss through DKT's LSTM exactly, by backpropagation
//! through time to the initial state ([`crate::dkt_inner::loss_and_gradient_from`]).

use std::sync::OnceLock;

use attune_core::{Dataset, Interaction, KnowledgeTracer, Progress, sigmoid};
use attune_nn::{Dkt, DktState};
use serde::{Deserialize, Serialize};

use super::base::BaseReader;
use super::profile::Answer;
use super::{ProfileTarget, ReaderKind};
use crate::Result;
use crate::dkt_inner::{self, Layout};
use crate::e5::Adapted;
use crate::irt_meta::MetaConfig;

/// DKT fitted normally. An answer is read on its first known skill, as DKT reads it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SkillDkt {
    /// The normal fit.
    pub base: Dkt,
    /// The base's weights in [`Layout`] order, built on first use.
    #[serde(skip)]
    psi: OnceLock<Vec<f64>>,
}

/// The RNN or memory reader writing DKT's initial state.
pub type DktReader = BaseReader<SkillDkt>;

impl SkillDkt {
    pub(crate) fn new(base: &Dkt) -> Self {
        Self { base: base.clone(), psi: OnceLock::new() }
    }

    fn psi(&self) -> &[f64] {
        self.psi.get_or_init(|| Layout::of(&self.base).flatten(&self.base))
    }

    /// DKT's view of the answers (those on a skill it knows).
    fn dkt_answers(&self, answers: &[Answer]) -> Vec<dkt_inner::Answer> {
        let n = self.base.n_skills as u32;
        answers
            .iter()
            .filter(|a| a.skill < n)
            .map(|a| dkt_inner::Answer {
                skill: a.skill,
                token: Some(a.skill + n * u32::from(a.correct)),
                offset: self.base.item_bias.get(a.item as usize).map_or(0.0, |&b| f64::from(b)),
                correct: a.correct,
            })
            .collect()
    }

    /// The state a profile writes, before any answer.
    fn start(&self, profile: &[f64]) -> DktState {
        let h = self.base.hidden;
        let at = |j: usize| profile.get(j).copied().unwrap_or(0.0) as f32;
        DktState { h: (0..h).map(at).collect(), c: (h..2 * h).map(at).collect() }
    }
}

impl ProfileTarget for SkillDkt {
    type Learner<'a> = &'a Dkt;

    fn answer(&self, obs: &Interaction<'_>, previous: Option<i64>) -> Answer {
        let n = self.base.n_skills;
        let skill = obs.skills.first().map_or(n, |s| s.index().min(n)) as u32;
        let gap = previous.map_or(0.0, |t| ((obs.time - t).max(0) as f64).ln_1p());
        Answer { item: obs.item.0, skill, correct: obs.correct, gap }
    }

    /// DKT and the learner's state after reading `support` from the state `profile` writes.
    fn adapted<'a>(&'a self, profile: &[f64], support: &[Interaction<'_>]) -> Adapted<Self::Learner<'a>> {
        let mut state = self.start(profile);
        for obs in support {
            self.base.update(&mut state, obs);
        }
        Adapted { model: &self.base, state }
    }

    fn width(&self) -> usize {
        2 * self.base.hidden
    }

    fn n_skills(&self) -> usize {
        self.base.n_skills
    }

    fn residual(&self, a: &Answer) -> f64 {
        // The population's prediction: the read-out of the zero state.
        let s = a.skill as usize;
        let offset = self.base.item_bias.get(a.item as usize).map_or(0.0, |&b| f64::from(b));
        let p = self.base.b_out.get(s).map_or(self.base.base_rate, |&b| sigmoid(f64::from(b) + offset));
        f64::from(u8::from(a.correct)) - p
    }

    /// The zero state, DKT's own start: readers over DKT read the support, not a stored
    /// profile of each training learner.
    fn fit_profile(&self, _answers: &[Answer]) -> Vec<f64> {
        vec![0.0; self.width()]
    }

    fn query_loss(&self, profile: &[f64], support: &[Answer], query: &[Answer], grad: &mut [f64]) -> f64 {
        let h = self.base.hidden;
        let (s, q) = (self.dkt_answers(support), self.dkt_answers(query));
        if q.is_empty() {
            return 0.0;
        }
        let all: Vec<dkt_inner::Answer> = s.iter().chain(&q).copied().collect();
        let (mut dh, mut dc) = (vec![0.0; h], vec![0.0; h]);
        let start = (&profile[..h], &profile[h..2 * h]);
        // The weights are fixed: only the state's gradient is needed.
        let loss = dkt_inner::loss_and_gradient_from(
            Layout::of(&self.base),
            self.psi(),
            Some(start),
            &all,
            s.len()..all.len(),
            None,
            Some((&mut dh, &mut dc)),
        );
        grad[..h].iter_mut().zip(&dh).for_each(|(g, d)| *g += d);
        grad[h..2 * h].iter_mut().zip(&dc).for_each(|(g, d)| *g += d);
        loss
    }
}

impl DktReader {
    /// Trains the RNN or memory reader over `base` for support size `k` on the training
    /// learners (model ids), its stopping epoch chosen on the validation learners (within the
    /// neural epoch budget: each step runs DKT's LSTM forward and back).
    ///
    /// # Errors
    /// Another reader, too few learners, cancellation.
    pub fn train_dkt(
        kind: ReaderKind,
        base: &Dkt,
        train: &Dataset,
        valid: &Dataset,
        k: usize,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        let target = SkillDkt::new(base);
        let prior = vec![0.0; target.width()];
        let cfg = MetaConfig { max_epochs: cfg.neural_max_epochs, patience: cfg.neural_patience, ..cfg.clone() };
        BaseReader::train(kind, target, &prior, train, valid, k, &cfg, progress)
    }

    /// Checks a loaded reader against the file's base.
    ///
    /// # Errors
    /// The field and what is wrong with it.
    pub(crate) fn check_dkt(&self, base: &Dkt) -> std::result::Result<(), (String, String)> {
        let t = &self.target().base;
        let same = Layout::of(t) == Layout::of(base)
            && t.token_gates == base.token_gates
            && t.w_hh == base.w_hh
            && t.w_out == base.w_out
            && t.b_out == base.b_out
            && t.item_bias == base.item_bias;
        if !same {
            return Err(("target.base".into(), "does not match the file's base model".into()));
        }
        self.check_shapes()
    }
}
