//! A reader read from a file is checked against its base before it is used: every shape the
//! forward pass indexes by, and every value finite, so a hand-edited file gets an error
//! naming the field instead of a panic or a NaN.

use attune_kt::Irt;

use super::encoder::ENCODER_DIMS;
use super::{ReaderModel, SkillRasch};

type Check = std::result::Result<(), (String, String)>;

fn fail(field: &str, reason: impl Into<String>) -> Check {
    Err((field.to_owned(), reason.into()))
}

fn finite(field: &str, xs: &[f64]) -> Check {
    match xs.iter().position(|x| !x.is_finite() || x.abs() > 1e6) {
        Some(j) => fail(&format!("{field}[{j}]"), format!("{}: not finite or beyond ±1e6", xs[j])),
        None => Ok(()),
    }
}

fn len(field: &str, xs: &[f64], want: usize) -> Check {
    if xs.len() == want { finite(field, xs) } else { fail(field, format!("{} values, expected {want}", xs.len())) }
}

fn target(t: &SkillRasch, base: &Irt) -> Check {
    let n = base.difficulty.len();
    if t.base.difficulty.len() != n || t.base.difficulty.iter().zip(&base.difficulty).any(|(a, b)| a != b) {
        return fail("target.base", "does not match the file's base model");
    }
    if t.item_skill.len() != n {
        return fail("target.item_skill", format!("{} entries for {n} items", t.item_skill.len()));
    }
    if let Some(j) = t.item_skill.iter().position(|&s| s as usize > t.n_skills) {
        return fail(&format!("target.item_skill[{j}]"), format!("skill {} of {}", t.item_skill[j], t.n_skills));
    }
    if t.n_skills > 1_000_000 {
        return fail("target.n_skills", format!("{}: at most 1000000", t.n_skills));
    }
    len("target.skill_difficulty", &t.skill_difficulty, t.n_skills)
}

impl ReaderModel {
    /// Checks shapes and values against the file's base (see the module's comment).
    ///
    /// # Errors
    /// The field and what is wrong with it.
    pub fn check(&self, base: &Irt) -> Check {
        let t = self.target();
        target(t, base)?;
        let w = t.width();
        let encoder = |e: &super::Encoder| {
            if e.n_skills != t.n_skills {
                return fail("encoder.n_skills", format!("{} for a base of {} skills", e.n_skills, t.n_skills));
            }
            len("encoder.w", &e.w, (t.n_skills + 1) * ENCODER_DIMS)
        };
        let memory = |keys: &[f64], values: &[f64]| {
            let m = keys.len() / ENCODER_DIMS;
            if !keys.len().is_multiple_of(ENCODER_DIMS) {
                return fail("keys", format!("{} values: not a multiple of {ENCODER_DIMS}", keys.len()));
            }
            finite("keys", keys)?;
            len("values", values, m * w)
        };
        match self {
            Self::Siamese(s) => {
                encoder(&s.encoder)?;
                memory(&s.keys, &s.values)?;
                len("prior", &s.prior, w)?;
                if s.neighbours == 0 {
                    return fail("neighbours", "0: at least 1");
                }
            }
            Self::Matching(m) => {
                encoder(&m.encoder)?;
                memory(&m.keys, &m.values)?;
                finite("sharpness", &[m.sharpness])?;
            }
            Self::MemoryReader(m) => {
                encoder(&m.encoder)?;
                len("keys", &m.keys, super::MEMORY_SLOTS * ENCODER_DIMS)?;
                len("values", &m.values, super::MEMORY_SLOTS * w)?;
            }
            Self::RnnReader(r) => len("weights", &r.weights, super::rnn::n_weights(t))?,
            Self::ProtoNet(p) => {
                encoder(&p.encoder)?;
                finite("sharpness", &[p.sharpness])?;
                if p.types.is_empty() {
                    return fail("types", "empty");
                }
                for (j, ty) in p.types.iter().enumerate() {
                    len(&format!("types[{j}].profile"), &ty.profile, w)?;
                    len(&format!("types[{j}].centre"), &ty.centre, ENCODER_DIMS)?;
                    finite(&format!("types[{j}].share"), &[ty.share, ty.learning_rate])?;
                }
                if let Some(j) = p.members.iter().position(|&m| m >= p.types.len()) {
                    return fail(&format!("members[{j}]"), format!("type {} of {}", p.members[j], p.types.len()));
                }
            }
        }
        Ok(())
    }
}
