//! Metric-based and model-based meta-learners: instead of taking gradient steps on a new
//! learner's answers, they compare the learner with learners seen before (metric-based:
//! [`Matching`], [`Siamese`], [`ProtoNet`]) or read the answers and write the student model's
//! parameters in one forward pass (model-based: [`RnnReader`], [`MemoryReader`]).
//!
//! Every one of them writes a [`profile`](SkillRasch) over the Rasch model — a prior ability and
//! an offset per skill — so an adapted learner is an ordinary IRT model, saved, served and
//! traced like any other.

mod base;
mod bkt_target;
mod check;
mod dkt_target;
mod encoder;
mod kmeans;
mod matching;
mod memory;
mod profile;
mod protonet;
mod rnn;
mod siamese;
mod target;
mod tester;
#[cfg(test)]
mod tests;
mod types;
mod validation;

use attune_core::{Dataset, Interaction, Progress};
use attune_kt::Irt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

pub use self::base::BaseReader;
pub use self::bkt_target::{BktReader, SkillBkt};
pub use self::dkt_target::{DktReader, SkillDkt};
pub use self::encoder::{ENCODER_DIMS, Encoder};
pub use self::kmeans::adjusted_rand_index;
pub use self::matching::Matching;
pub use self::memory::{MEMORY_SLOTS, MemoryReader};
use self::profile::Answer;
pub use self::profile::SkillRasch;
pub use self::protonet::{LearnerType, ProtoNet};
pub use self::rnn::{RNN_HIDDEN, RnnReader};
pub use self::siamese::Siamese;
pub(crate) use self::target::ProfileTarget;
pub use self::tester::{ReaderSession, ReaderTester};
pub use self::types::{LearnerTypes, TypeSummary, learner_types};
use self::validation::{Validation, active_tests, tested_learners};
use crate::e5::{Adapted, E5_HORIZON, MetaLearner};
use crate::irt_meta::MetaConfig;
use crate::outer::{Adam, keep_best};
use crate::tasks::episode;
use crate::{Error, Result};

/// Most answers of a training learner read for their profile and memory key.
const HISTORY: usize = 200;

/// One training learner for support size `k`.
#[derive(Clone, Debug)]
pub(crate) struct Learner {
    pub support: Vec<Answer>,
    pub query: Vec<Answer>,
    pub history: Vec<Answer>,
    /// The profile fitted to the whole history.
    pub profile: Vec<f64>,
}

/// The training learners with more than `k` answers.
pub(crate) fn learners<T: ProfileTarget>(target: &T, data: &Dataset, k: usize) -> Vec<Learner> {
    let rows: Vec<_> = data.learners().collect();
    rows.into_par_iter()
        .filter_map(|rows| {
            let ep = episode(rows.clone(), k, E5_HORIZON)?;
            let all = target.rows(data, rows.start..rows.end.min(rows.start + HISTORY));
            let (s, q) = (ep.support.len(), ep.query.len());
            Some(Learner {
                support: all[..s].to_vec(),
                query: all[s..s + q].to_vec(),
                profile: target.fit_profile(&all),
                history: all,
            })
        })
        .collect()
}

/// A learner that writes a profile from a support set, trained end to end on the query loss.
pub(crate) trait Reader: Clone + Send + Sync {
    /// What the backward pass needs from the forward one.
    type Tape: Default + Send;
    /// What it writes a profile for.
    type Target: ProfileTarget;

    fn target(&self) -> &Self::Target;

    /// The profile of a learner with `support`; `me` is the training learner read (a memory
    /// of training learners leaves them out).
    fn read(&self, support: &[Answer], me: Option<usize>, tape: &mut Self::Tape) -> Vec<f64>;

    /// Adds the gradient of the parameters, given the profile's, to `grad`.
    fn back(&self, support: &[Answer], tape: &Self::Tape, dprofile: &[f64], grad: &mut [f64]);

    fn params(&self) -> Vec<f64>;
    fn set_params(&mut self, x: &[f64]);

    /// Recomputes what depends on the parameters but is not differentiated (memory keys,
    /// prototypes), once per epoch.
    fn refresh(&mut self, _train: &[Learner]) {}

    /// The support size it was trained for and its validation AUC.
    fn record(&mut self) -> &mut Record;
}

/// What every reader records of its training.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// Support size trained for.
    pub support: usize,
    /// E5 AUC on the validation learners.
    pub validation_auc: f64,
}

/// Weight decay of the readers' parameters.
const DECAY: f64 = 1e-4;

/// Trains `reader` on the query loss with Adam, keeping the epoch with the best validation
/// AUC.
pub(crate) fn fit_reader<R: Reader + MetaLearner>(
    mut reader: R,
    train: &[Learner],
    valid: &Validation<'_>,
    rate: f64,
    cfg: &MetaConfig,
    progress: &dyn Progress,
) -> Result<R> {
    if train.is_empty() {
        return Err(Error::TooFewLearners { needed: 1, found: 0 });
    }
    reader.record().support = valid.size();
    reader.refresh(train);
    let start = valid.auc(&reader);
    reader.record().validation_auc = start;
    let n = reader.params().len();
    let mut adam = Adam::new(n, rate);
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let (_, best) = keep_best(reader, start, cfg.max_epochs, cfg.patience, Some(progress), |m, _| {
        order.shuffle(&mut rng);
        for batch in order.chunks(cfg.meta_batch) {
            let zero = || vec![0.0; n];
            let mut grad = batch
                .par_iter()
                .fold(zero, |mut g, &t| {
                    let l = &train[t];
                    let mut tape = R::Tape::default();
                    let profile = m.read(&l.support, Some(t), &mut tape);
                    let mut dp = vec![0.0; profile.len()];
                    m.target().query_loss(&profile, &l.support, &l.query, &mut dp);
                    m.back(&l.support, &tape, &dp, &mut g);
                    g
                })
                .reduce(zero, |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                    a
                });
            let mut x = m.params();
            let scale = 1.0 / batch.len() as f64;
            grad.iter_mut().zip(&x).for_each(|(g, x)| *g = *g * scale + DECAY * x);
            if grad.iter().any(|g| !g.is_finite()) {
                continue;
            }
            adam.step(&mut x, &grad);
            m.set_params(&x);
        }
        m.refresh(train);
        let auc = valid.auc(m);
        m.record().validation_auc = auc;
        Ok(auc)
    })?;
    Ok(best)
}

/// A reader adapts to a new learner by reading the support into a profile: its target's
/// ordinary student model.
pub(crate) fn adapt_with<'a, R: Reader>(
    reader: &'a R,
    support: &[Interaction<'_>],
) -> Adapted<<R::Target as ProfileTarget>::Learner<'a>> {
    let answers = reader.target().answers(support);
    let profile = reader.read(&answers, None, &mut R::Tape::default());
    reader.target().adapted(&profile, support)
}

/// The mean of the training learners' profiles: the population's.
pub(crate) fn mean_profile(train: &[Learner], width: usize) -> Vec<f64> {
    let mut m = vec![0.0; width];
    for l in train {
        m.iter_mut().zip(&l.profile).for_each(|(m, p)| *m += p);
    }
    let n = train.len().max(1) as f64;
    m.iter_mut().for_each(|v| *v /= n);
    m
}

macro_rules! meta_learner {
    ($($t:ty),*) => {$(
        impl MetaLearner for $t {
            type Learner<'a> = Irt;
            fn adapt(&self, support: &[Interaction<'_>]) -> Adapted<Irt> {
                adapt_with(self, support)
            }
        }
    )*};
}
meta_learner!(Matching, ProtoNet, Siamese);

macro_rules! over_any_target {
    ($($reader:ident),*) => {$(
        impl<T: ProfileTarget> MetaLearner for $reader<T> {
            type Learner<'a>
                = T::Learner<'a>
            where
                Self: 'a;
            fn adapt<'a>(&'a self, support: &[Interaction<'_>]) -> Adapted<T::Learner<'a>> {
                adapt_with(self, support)
            }
        }
    )*};
}
over_any_target!(RnnReader, MemoryReader);

/// Rasch base check shared by every reader.
pub(crate) fn rasch_target(base: &Irt, train: &Dataset, learner: &'static str) -> Result<SkillRasch> {
    if base.config.dims != 1 || base.config.discrimination {
        return Err(Error::UnsupportedBase { learner, base: "irt".into(), supported: "irt1pl" });
    }
    Ok(SkillRasch::new(base, train))
}

/// A metric- or model-based learner by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReaderKind {
    /// [`Siamese`].
    Siamese,
    /// [`Matching`].
    Matching,
    /// [`ProtoNet`].
    #[serde(rename = "protonet")]
    ProtoNet,
    /// [`RnnReader`].
    RnnReader,
    /// [`MemoryReader`].
    MemoryReader,
}

impl ReaderKind {
    /// Every one, in the order tables list them.
    pub const ALL: [Self; 5] = [Self::Siamese, Self::Matching, Self::ProtoNet, Self::RnnReader, Self::MemoryReader];

    /// The name `attune eval --model` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Siamese => "siamese",
            Self::Matching => "matching",
            Self::ProtoNet => "protonet",
            Self::RnnReader => "rnn-reader",
            Self::MemoryReader => "memory-reader",
        }
    }
}

impl std::str::FromStr for ReaderKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown reader {s:?}"))
    }
}

/// A trained metric- or model-based learner.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "reader", rename_all = "kebab-case")]
pub enum ReaderModel {
    /// [`Siamese`].
    Siamese(Siamese),
    /// [`Matching`].
    Matching(Matching),
    /// [`ProtoNet`].
    #[serde(rename = "protonet")]
    ProtoNet(ProtoNet),
    /// [`RnnReader`].
    RnnReader(RnnReader),
    /// [`MemoryReader`].
    MemoryReader(MemoryReader),
}

impl ReaderModel {
    /// Trains `kind` over the Rasch model `base` for support size `k` on the training
    /// learners (model ids), choosing what it chooses (epochs, neighbours, learner types) on
    /// the validation learners.
    ///
    /// # Errors
    /// A base that is not the Rasch model, too few learners, cancellation.
    pub fn train(
        kind: ReaderKind,
        base: &Irt,
        train: &Dataset,
        valid: &Dataset,
        k: usize,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        cfg.validate(kind.as_str())?;
        let target = rasch_target(base, train, kind.as_str())?;
        let learners = learners(&target, train, k);
        Self::train_on(kind, target, &learners, &Validation::Tracing { valid, k }, cfg, progress)
    }

    /// Trains `kind` for adaptive tests of `n` answers (protocol E4): on IRT-Active's tests
    /// of the training learners under `base` (one seeded pool/query draw each, the query the
    /// held-out answers), choosing on such tests of the validation learners.
    ///
    /// # Errors
    /// As [`ReaderModel::train`].
    pub fn train_for_tests(
        kind: ReaderKind,
        base: &Irt,
        train: &Dataset,
        valid: &Dataset,
        n: usize,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        cfg.validate(kind.as_str())?;
        let target = rasch_target(base, train, kind.as_str())?;
        let learners = tested_learners(&target, train, &active_tests(base, train, n, 1, cfg.seed)?);
        let valid = Validation::testing(base, valid, n, cfg.seed)?;
        Self::train_on(kind, target, &learners, &valid, cfg, progress)
    }

    fn train_on(
        kind: ReaderKind,
        target: SkillRasch,
        learners: &[Learner],
        valid: &Validation<'_>,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self> {
        if learners.is_empty() {
            return Err(Error::TooFewLearners { needed: 1, found: 0 });
        }
        let rate = cfg.outer_rate;
        let seed = cfg.seed;
        progress.start(&format!("training {} (size {})", kind.as_str(), valid.size()), cfg.max_epochs as u64);
        Ok(match kind {
            ReaderKind::Siamese => Self::Siamese(Siamese::train(target, learners, valid, cfg, progress)?),
            ReaderKind::Matching => {
                Self::Matching(fit_reader(Matching::new(target, seed), learners, valid, rate, cfg, progress)?)
            }
            ReaderKind::RnnReader => {
                let prior = mean_profile(learners, target.width());
                Self::RnnReader(fit_reader(RnnReader::new(target, &prior, seed), learners, valid, rate, cfg, progress)?)
            }
            ReaderKind::MemoryReader => {
                let m = MemoryReader::new(target, learners, seed);
                Self::MemoryReader(fit_reader(m, learners, valid, rate, cfg, progress)?)
            }
            ReaderKind::ProtoNet => {
                let mut best: Option<ProtoNet> = None;
                for &n in &cfg.learner_types {
                    let mut p = ProtoNet::new(target.clone(), learners, n, seed);
                    p.scale_sharpness(learners);
                    let p = fit_reader(p, learners, valid, rate, cfg, progress)?;
                    if best.as_ref().is_none_or(|b| p.record.validation_auc > b.record.validation_auc) {
                        best = Some(p);
                    }
                }
                Self::ProtoNet(best.ok_or(Error::TooFewLearners { needed: 1, found: 0 })?)
            }
        })
    }

    /// Its name.
    pub fn kind(&self) -> ReaderKind {
        match self {
            Self::Siamese(_) => ReaderKind::Siamese,
            Self::Matching(_) => ReaderKind::Matching,
            Self::ProtoNet(_) => ReaderKind::ProtoNet,
            Self::RnnReader(_) => ReaderKind::RnnReader,
            Self::MemoryReader(_) => ReaderKind::MemoryReader,
        }
    }

    fn record_of(&self) -> Record {
        match self {
            Self::Siamese(m) => m.record,
            Self::Matching(m) => m.record,
            Self::ProtoNet(m) => m.record,
            Self::RnnReader(m) => m.record,
            Self::MemoryReader(m) => m.record,
        }
    }

    /// The validation AUC it was kept for.
    pub fn validation_auc(&self) -> f64 {
        self.record_of().validation_auc
    }

    /// The skill-level Rasch model it writes profiles for.
    pub fn target(&self) -> &SkillRasch {
        match self {
            Self::Siamese(m) => &m.target,
            Self::Matching(m) => &m.target,
            Self::ProtoNet(m) => &m.target,
            Self::RnnReader(m) => &m.target,
            Self::MemoryReader(m) => &m.target,
        }
    }

    /// The profile it writes for a learner with `support` (model ids): prior ability, then
    /// the offset of each skill.
    pub fn profile(&self, support: &[Interaction<'_>]) -> Vec<f64> {
        let answers = self.target().answers(support);
        match self {
            Self::Siamese(m) => m.read(&answers, None, &mut ()),
            Self::Matching(m) => m.read(&answers, None, &mut Default::default()),
            Self::ProtoNet(m) => m.read(&answers, None, &mut Default::default()),
            Self::RnnReader(m) => m.read(&answers, None, &mut Default::default()),
            Self::MemoryReader(m) => m.read(&answers, None, &mut Default::default()),
        }
    }

    /// The learner types, for a prototypical network.
    pub fn learner_types(&self) -> Option<&ProtoNet> {
        match self {
            Self::ProtoNet(p) => Some(p),
            _ => None,
        }
    }
}

impl MetaLearner for ReaderModel {
    type Learner<'a> = Irt;
    fn adapt(&self, support: &[Interaction<'_>]) -> Adapted<Irt> {
        match self {
            Self::Siamese(m) => m.adapt(support),
            Self::Matching(m) => m.adapt(support),
            Self::ProtoNet(m) => m.adapt(support),
            Self::RnnReader(m) => m.adapt(support),
            Self::MemoryReader(m) => m.adapt(support),
        }
    }
}
