//! Learner states as data: a compact, versioned JSON form of any model's [`LearnerState`],
//! checked against the model when read back.

use attune_core::{ItemId, KnowledgeTracer};
use attune_kt::{EloState, IrtState, LearnerCounts};
use attune_nn::{DktState, DkvmnState};
use serde::{Deserialize, Serialize};

use crate::{Error, FittedModel, LearnerState, Model, ModelName, Result};

/// Version of the learner-state format.
pub const STATE_VERSION: u32 = 1;

/// The portable form of a state: what the model needs, nothing derived (SAKT's and AKT's
/// attention caches are rebuilt from their window).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Portable {
    Bkt(Vec<f64>),
    Irt(IrtState),
    Counts(LearnerCounts),
    Elo(EloState),
    Dkt(DktState),
    Dkvmn(DkvmnState),
    Sakt { answers: Vec<(u32, bool, u32)>, start: usize },
    Akt { answers: Vec<(u32, bool, u32)>, start: usize },
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    v: u32,
    model: ModelName,
    state: Portable,
}

fn invalid<T>(field: &str, reason: impl Into<String>) -> Result<T> {
    Err(Error::InvalidState { field: field.to_owned(), reason: reason.into() })
}

fn finite(field: &str, v: impl IntoIterator<Item = f64>) -> Result<()> {
    match v.into_iter().position(|x| !x.is_finite()) {
        Some(i) => invalid(&format!("{field}[{i}]"), "not a finite number"),
        None => Ok(()),
    }
}

impl FittedModel {
    /// The learner state as versioned JSON (`{"v", "model", "state"}`).
    pub fn encode_state(&self, state: &LearnerState) -> Vec<u8> {
        let state = match state {
            LearnerState::Bkt(s) => Portable::Bkt(s.clone()),
            LearnerState::Irt(s) => Portable::Irt(s.clone()),
            LearnerState::Counts(s) => Portable::Counts(s.clone()),
            LearnerState::Elo(s) => Portable::Elo(*s),
            LearnerState::Dkt(s) => Portable::Dkt(s.clone()),
            LearnerState::Dkvmn(s) => Portable::Dkvmn(s.clone()),
            LearnerState::Sakt(s) => {
                let (answers, start) = s.window();
                Portable::Sakt { answers: answers.to_vec(), start }
            }
            LearnerState::Akt(s) => {
                let (answers, start) = s.window();
                Portable::Akt { answers: answers.to_vec(), start }
            }
        };
        serde_json::to_vec(&Envelope { v: STATE_VERSION, model: self.name(), state }).unwrap_or_default()
    }

    /// Reads a state written by [`FittedModel::encode_state`] for this model, checking that
    /// it is one this model could have reached (shapes, ranges, indices).
    ///
    /// # Errors
    /// [`Error::InvalidState`] for another version or model, malformed JSON, or values out of
    /// range.
    pub fn decode_state(&self, bytes: &[u8]) -> Result<LearnerState> {
        let env: Envelope = match serde_json::from_slice(bytes) {
            Ok(e) => e,
            Err(e) => return invalid("json", e.to_string()),
        };
        if env.v != STATE_VERSION {
            return invalid("v", format!("version {}, this build reads {STATE_VERSION}", env.v));
        }
        if env.model != self.name() {
            return invalid("model", format!("a {} state for a {} model", env.model, self.name()));
        }
        let n_skills = self.ids.n_skills();
        match (&self.model, env.state) {
            (Model::Bkt(_), Portable::Bkt(p)) => {
                if p.len() != n_skills {
                    return invalid("state", format!("{} skills, the model has {n_skills}", p.len()));
                }
                if let Some(k) = p.iter().position(|x| !(0.0..=1.0).contains(x)) {
                    return invalid(&format!("state[{k}]"), "not a probability");
                }
                Ok(LearnerState::Bkt(p))
            }
            (Model::Irt(m), Portable::Irt(s)) => {
                let d = m.config.dims;
                if s.theta.len() != d || s.precision.len() != d * d {
                    return invalid(
                        "state",
                        format!(
                            "ability of {} and precision of {} values for {d} dimensions",
                            s.theta.len(),
                            s.precision.len()
                        ),
                    );
                }
                finite("theta", s.theta.iter().copied())?;
                finite("precision", s.precision.iter().copied())?;
                // What updates reach: abilities clamped to ±6, a precision of at least the
                // prior's, symmetric, with every 2 × 2 minor non-negative.
                if s.theta.iter().any(|t| t.abs() > 6.0) {
                    return invalid("theta", "outside [-6, 6]");
                }
                let p = |k: usize, l: usize| s.precision[k * d + l];
                let floor = m.config.ability_l2 * (1.0 - 1e-9);
                let spd = (0..d).all(|k| {
                    p(k, k) >= floor
                        && p(k, k) <= 1e15
                        && (0..d).all(|l| {
                            (p(k, l) - p(l, k)).abs() <= 1e-9 * p(k, k).max(1.0)
                                && p(k, l) * p(k, l) <= p(k, k) * p(l, l)
                        })
                });
                if !spd {
                    return invalid(
                        "precision",
                        "not a precision this model reaches (symmetric, at least the prior's)",
                    );
                }
                Ok(LearnerState::Irt(s))
            }
            (Model::Counts(m), Portable::Counts(s)) => {
                if s.wins.len() != s.attempts.len() || s.wins.len() > m.n_skills {
                    return invalid(
                        "wins",
                        format!("{} wins and {} attempts for {} skills", s.wins.len(), s.attempts.len(), m.n_skills),
                    );
                }
                if s.wins.iter().zip(&s.attempts).any(|(w, a)| w > a) || s.total_wins > s.total_attempts {
                    return invalid("wins", "more wins than attempts");
                }
                let sorted = s.items.windows(2).all(|w| w[0].0 < w[1].0);
                if !sorted || s.items.iter().any(|&(_, w, a)| w > a) {
                    return invalid("items", "not sorted by item, or more wins than attempts");
                }
                Ok(LearnerState::Counts(s))
            }
            (Model::Elo(_), Portable::Elo(s)) => {
                finite("theta", [s.theta])?;
                if s.theta.abs() > 1e6 {
                    return invalid("theta", "a rating of magnitude above 1e6");
                }
                Ok(LearnerState::Elo(s))
            }
            (Model::Dkt(m), Portable::Dkt(s)) => {
                if s.h.len() != m.hidden || s.c.len() != m.hidden {
                    return invalid(
                        "state",
                        format!("hidden sizes {}/{}, the model has {}", s.h.len(), s.c.len(), m.hidden),
                    );
                }
                finite("h", s.h.iter().map(|&x| f64::from(x)))?;
                finite("c", s.c.iter().map(|&x| f64::from(x)))?;
                // h = o · tanh(c) lies in (-1, 1); c grows by at most 1 per answer.
                if s.h.iter().any(|x| x.abs() > 1.0) || s.c.iter().any(|x| x.abs() > 1e6) {
                    return invalid("h", "outside the LSTM's range");
                }
                Ok(LearnerState::Dkt(s))
            }
            (Model::Dkvmn(m), Portable::Dkvmn(s)) => {
                let want = m.initial_state().memory.len();
                if s.memory.len() != want {
                    return invalid("memory", format!("{} values, the model's memory has {want}", s.memory.len()));
                }
                finite("memory", s.memory.iter().map(|&x| f64::from(x)))?;
                // A write adds at most 1 (an attention weight times a tanh) to a cell.
                let bound = m.initial_state().memory.iter().fold(1e6f32, |b, x| b.max(x.abs() + 1e6));
                if s.memory.iter().any(|x| x.abs() > bound) {
                    return invalid("memory", "outside the range updates reach");
                }
                Ok(LearnerState::Dkvmn(s))
            }
            (Model::Sakt(m), Portable::Sakt { answers, start }) => match m.restore_state(&answers, start) {
                Some(s) => Ok(LearnerState::Sakt(s)),
                None => invalid("answers", "not a window this model reaches (unknown skill, or wrong length or start)"),
            },
            (Model::Akt(m), Portable::Akt { answers, start }) => match m.restore_state(&answers, start) {
                Some(s) => Ok(LearnerState::Akt(s)),
                None => invalid("answers", "not a window this model reaches (unknown skill, or wrong length or start)"),
            },
            _ => invalid("state", format!("not the state of a {} model", self.name())),
        }
    }
}

/// An item index the model does not know, for tests and callers that need one.
pub const UNKNOWN_ITEM: ItemId = ItemId(u32::MAX);
