//! Checks that a fitted model read from a file is whole: shapes agree, probabilities are
//! probabilities, values are finite, indices are in range, so that predicting with it cannot
//! index out of bounds or return NaN whatever the file said.

use crate::{Bkt, CountsModel, Elo, Error, Irt, Result, SkillCounts};

fn invalid<T>(field: impl Into<String>, reason: impl Into<String>) -> Result<T> {
    Err(Error::InvalidModel { field: field.into(), reason: reason.into() })
}

/// Largest magnitude a fitted logit-scale parameter may have. Fits give values in the tens
/// at most; anything near this bound is an edited file, and sums of such values could
/// overflow to `inf − inf = NaN` in a prediction.
pub(crate) const MAX_PARAMETER: f64 = 1e6;

fn finite(field: &str, v: &[f64]) -> Result<()> {
    match v.iter().position(|x| !x.is_finite() || x.abs() > MAX_PARAMETER) {
        Some(i) => {
            invalid(format!("{field}[{i}]"), format!("{} is not a finite number of magnitude at most 1e6", v[i]))
        }
        None => Ok(()),
    }
}

fn probability(field: &str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) { Ok(()) } else { invalid(field, format!("{p} is not a probability")) }
}

/// Every skill of every item below `n_skills`.
fn item_skills_in_range(item_skills: &[Vec<attune_core::SkillId>], n_skills: usize) -> Result<()> {
    for (i, skills) in item_skills.iter().enumerate() {
        if let Some(s) = skills.iter().find(|s| s.index() >= n_skills) {
            return invalid(format!("item_skills[{i}]"), format!("skill {s} of a model with {n_skills} skills"));
        }
    }
    Ok(())
}

impl Bkt {
    /// Checks parameters and shapes (see the module docs).
    ///
    /// # Errors
    /// [`Error::InvalidModel`] naming the first field that is wrong.
    pub fn validate(&self) -> Result<()> {
        self.config.validate()?;
        probability("base_rate", self.base_rate)?;
        for (k, p) in self.skills.iter().enumerate() {
            let Some(p) = p else { continue };
            for (name, v) in
                [("prior", p.prior), ("learn", p.learn), ("forget", p.forget), ("guess", p.guess), ("slip", p.slip)]
            {
                probability(&format!("skills[{k}].{name}"), v)?;
            }
            for (j, &(_, g, s)) in p.items.iter().enumerate() {
                probability(&format!("skills[{k}].items[{j}].guess"), g)?;
                probability(&format!("skills[{k}].items[{j}].slip"), s)?;
            }
            if !p.items.windows(2).all(|w| w[0].0 < w[1].0) {
                return invalid(format!("skills[{k}].items"), "not sorted by item");
            }
        }
        item_skills_in_range(&self.item_skills, self.skills.len())
    }
}

impl Irt {
    /// Checks parameters and shapes (see the module docs).
    ///
    /// # Errors
    /// [`Error::InvalidModel`] naming the first field that is wrong, or the configuration's
    /// own error.
    pub fn validate(&self) -> Result<()> {
        self.config.validate()?;
        let d = self.config.dims;
        let want = self.difficulty.len().checked_mul(d);
        if want != Some(self.discrimination.len()) {
            return invalid(
                "discrimination",
                format!("{} values for {} items of {d} dimensions", self.discrimination.len(), self.difficulty.len()),
            );
        }
        finite("difficulty", &self.difficulty)?;
        finite("mean_difficulty", &[self.mean_difficulty])?;
        // Discriminations enter the ability's precision squared, once per answer.
        match self.discrimination.iter().position(|a| !a.is_finite() || a.abs() > MAX_DISCRIMINATION) {
            Some(i) => invalid(
                format!("discrimination[{i}]"),
                format!("{}: a discrimination of magnitude at most {MAX_DISCRIMINATION}", self.discrimination[i]),
            ),
            None => Ok(()),
        }
    }
}

/// Largest discrimination an IRT model file may hold (fits give single digits).
pub(crate) const MAX_DISCRIMINATION: f64 = 1e3;

impl CountsModel {
    /// Checks parameters and shapes (see the module docs).
    ///
    /// # Errors
    /// [`Error::InvalidModel`] naming the first field that is wrong.
    pub fn validate(&self) -> Result<()> {
        self.config.validate()?;
        let c = &self.config;
        let limit = 1usize << 28;
        if self.n_items > limit || self.n_skills > limit {
            return invalid("n_items", format!("{} items, {} skills: too many", self.n_items, self.n_skills));
        }
        let want = usize::from(c.items) * self.n_items
            + usize::from(c.skills) * self.n_skills
            + if c.skill_counts == SkillCounts::None { 0 } else { 2 * self.n_skills }
            + 2 * usize::from(c.total_counts)
            + 2 * usize::from(c.item_counts)
            + 1;
        if self.weights.len() != want {
            return invalid("weights", format!("{} weights, expected {want}", self.weights.len()));
        }
        finite("weights", &self.weights)?;
        item_skills_in_range(&self.item_skills, self.n_skills)
    }
}

impl Elo {
    /// Checks parameters (see the module docs).
    ///
    /// # Errors
    /// [`Error::InvalidModel`] naming the first field that is wrong.
    pub fn validate(&self) -> Result<()> {
        finite("alpha", &[self.alpha, self.beta])?;
        if self.alpha <= 0.0 || self.beta < 0.0 {
            return invalid("alpha", format!("alpha {} and beta {}: need alpha > 0, beta >= 0", self.alpha, self.beta));
        }
        finite("difficulty", &self.difficulty)
    }
}
