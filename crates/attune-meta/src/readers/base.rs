//! The model-based readers over a base other than the Rasch model (BKT, DKT): the RNN reader
//! or the memory reader, whichever was trained, as one type per base.

use attune_core::{Dataset, Interaction, Progress};
use serde::{Deserialize, Serialize};

use super::encoder::ENCODER_DIMS;
use super::memory::{MEMORY_SLOTS, MemoryReader};
use super::profile::Answer;
use super::rnn::{RnnReader, n_weights};
use super::{ProfileTarget, Reader, ReaderKind, Record, Validation, fit_reader, learners};
use crate::e5::{Adapted, MetaLearner};
use crate::irt_meta::MetaConfig;
use crate::{Error, Result};

/// The RNN reader or the memory reader over the target `T`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "reader", rename_all = "kebab-case")]
pub enum BaseReader<T> {
    /// [`RnnReader`].
    RnnReader(RnnReader<T>),
    /// [`MemoryReader`].
    MemoryReader(MemoryReader<T>),
}

impl<T: ProfileTarget> BaseReader<T> {
    /// Trains `kind` over `target` (its population profile `prior`) for support size `k`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn train(
        kind: ReaderKind,
        target: T,
        prior: &[f64],
        train: &Dataset,
        valid: &Dataset,
        k: usize,
        cfg: &MetaConfig,
        progress: &dyn Progress,
    ) -> Result<Self>
    where
        RnnReader<T>: MetaLearner,
        MemoryReader<T>: MetaLearner,
    {
        cfg.validate(kind.as_str())?;
        let learners = learners(&target, train, k);
        if learners.is_empty() {
            return Err(Error::TooFewLearners { needed: 1, found: 0 });
        }
        progress.start(&format!("training {} (k = {k})", kind.as_str()), cfg.max_epochs as u64);
        let (rate, seed) = (cfg.outer_rate, cfg.seed);
        let valid = Validation::Tracing { valid, k };
        Ok(match kind {
            ReaderKind::RnnReader => Self::RnnReader(fit_reader(
                RnnReader::new(target, prior, seed),
                &learners,
                &valid,
                rate,
                cfg,
                progress,
            )?),
            ReaderKind::MemoryReader => {
                let m = MemoryReader::new(target, &learners, seed);
                Self::MemoryReader(fit_reader(m, &learners, &valid, rate, cfg, progress)?)
            }
            _ => {
                return Err(Error::UnsupportedBase {
                    learner: kind.as_str(),
                    base: "bkt or dkt".into(),
                    supported: "irt1pl (the readers over bkt and dkt are rnn-reader and memory-reader)",
                });
            }
        })
    }

    /// Which reader it is.
    pub fn kind(&self) -> ReaderKind {
        match self {
            Self::RnnReader(_) => ReaderKind::RnnReader,
            Self::MemoryReader(_) => ReaderKind::MemoryReader,
        }
    }

    /// What it writes profiles for.
    pub fn target(&self) -> &T {
        match self {
            Self::RnnReader(r) => &r.target,
            Self::MemoryReader(m) => &m.target,
        }
    }

    /// Its training record.
    pub fn record(&self) -> Record {
        match self {
            Self::RnnReader(r) => r.record,
            Self::MemoryReader(m) => m.record,
        }
    }

    /// The profile it writes for `answers`.
    pub(crate) fn profile(&self, answers: &[Answer]) -> Vec<f64> {
        match self {
            Self::RnnReader(r) => r.read(answers, None, &mut Default::default()),
            Self::MemoryReader(m) => m.read(answers, None, &mut Default::default()),
        }
    }

    /// The weights' shapes against its target, and their values finite.
    pub(crate) fn check_shapes(&self) -> std::result::Result<(), (String, String)> {
        let t = self.target();
        let ok = |name: &str, v: &[f64], n: usize| {
            if v.len() != n || v.iter().any(|w| !w.is_finite() || w.abs() > 1e6) {
                return Err((name.to_owned(), format!("not {n} finite weights within ±1e6")));
            }
            Ok(())
        };
        match self {
            Self::RnnReader(r) => ok("weights", &r.weights, n_weights(t)),
            Self::MemoryReader(m) => {
                if m.encoder.n_skills != t.n_skills() {
                    return Err((
                        "encoder.n_skills".into(),
                        format!("{} for {} skills", m.encoder.n_skills, t.n_skills()),
                    ));
                }
                ok("encoder.w", &m.encoder.w, (t.n_skills() + 1) * ENCODER_DIMS)?;
                ok("keys", &m.keys, MEMORY_SLOTS * ENCODER_DIMS)?;
                ok("values", &m.values, MEMORY_SLOTS * t.width())
            }
        }
    }
}

impl<T: ProfileTarget> MetaLearner for BaseReader<T> {
    type Learner<'a>
        = T::Learner<'a>
    where
        Self: 'a;
    fn adapt<'a>(&'a self, support: &[Interaction<'_>]) -> Adapted<T::Learner<'a>> {
        let profile = self.profile(&self.target().answers(support));
        self.target().adapted(&profile, support)
    }
}
