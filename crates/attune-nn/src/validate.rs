//! Checks that a fitted model read from a file is whole: every tensor has the length its
//! shape gives, every value is finite, every index is in range. A model that passes cannot
//! index out of bounds when it predicts, whatever the file said.

use crate::{Akt, Dkt, Dkvmn, Error, Result, Sakt};

fn invalid<T>(field: impl Into<String>, reason: impl Into<String>) -> Result<T> {
    Err(Error::InvalidModel { field: field.into(), reason: reason.into() })
}

/// Lengths and finiteness of `got` against a freshly built `want` of the same shape.
fn same_shapes(got: Vec<&mut Vec<f32>>, want: Vec<&mut Vec<f32>>) -> Result<()> {
    if got.len() != want.len() {
        return invalid("params", format!("{} tensors, expected {}", got.len(), want.len()));
    }
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        if g.len() != w.len() {
            return invalid(format!("params tensor {k}"), format!("{} values, expected {}", g.len(), w.len()));
        }
        finite(&format!("params tensor {k}"), g)?;
    }
    Ok(())
}

/// Largest magnitude a weight may have. Trained weights are far below it; near it, sums of
/// products overflow `f32` to `inf − inf = NaN` in a prediction.
const MAX_WEIGHT: f32 = 1e4;

fn finite(field: &str, v: &[f32]) -> Result<()> {
    match v.iter().position(|x| !x.is_finite() || x.abs() > MAX_WEIGHT) {
        Some(i) => invalid(field, format!("value {i} is {}, not a finite number of magnitude at most 1e4", v[i])),
        None => Ok(()),
    }
}

fn dims(d: usize, heads: usize, n_skills: usize) -> Result<()> {
    if d == 0 || heads == 0 || !d.is_multiple_of(heads) {
        return invalid("params.d", format!("width {d} with {heads} heads: need a positive multiple of heads"));
    }
    if n_skills == 0 || n_skills > 1 << 24 {
        return invalid("params.n_skills", format!("{n_skills}: need 1 to 2^24 skills"));
    }
    Ok(())
}

/// The shared fields: base rate a probability, items' skills in range, and the per-item
/// offsets (empty, or one per item).
fn common(base_rate: f64, item_skill: &[u32], n_skills: usize, b_item: &[f32]) -> Result<()> {
    if !(0.0..=1.0).contains(&base_rate) {
        return invalid("base_rate", format!("{base_rate} is not a probability"));
    }
    if let Some(s) = item_skill.iter().find(|&&s| s != u32::MAX && s as usize >= n_skills) {
        return invalid("item_skill", format!("skill {s} of a model with {n_skills} skills"));
    }
    if !b_item.is_empty() && b_item.len() != item_skill.len() {
        return invalid("params.b_item", format!("{} offsets for {} items", b_item.len(), item_skill.len()));
    }
    finite("params.b_item", b_item)
}

impl Dkt {
    /// Checks the model's shapes and values (see the module docs).
    ///
    /// # Errors
    /// [`Error::InvalidModel`] naming the first field that is wrong.
    pub fn validate(&self) -> Result<()> {
        let (h, n) = (self.hidden, self.n_skills);
        dims(h, 1, n)?;
        for (field, v, len) in [
            ("token_gates", &self.token_gates, (2 * n + 1) * 4 * h),
            ("w_hh", &self.w_hh, h * 4 * h),
            ("w_out", &self.w_out, n * h),
            ("b_out", &self.b_out, n),
        ] {
            if v.len() != len {
                return invalid(field, format!("{} values, expected {len}", v.len()));
            }
            finite(field, v)?;
        }
        common(self.base_rate, &self.item_skill, n, &self.item_bias)
    }
}

impl Dkvmn {
    /// Checks the model's shapes and values (see the module docs).
    ///
    /// # Errors
    /// [`Error::InvalidModel`] naming the first field that is wrong.
    pub fn validate(&self) -> Result<()> {
        let p = &self.params;
        dims(p.d, 1, p.n_skills)?;
        if p.slots == 0 || p.slots > 1 << 16 {
            return invalid("params.slots", format!("{}: need 1 to 65536 slots", p.slots));
        }
        let mut want = crate::dkvmn::Params::init(p.n_skills, p.b_item.len(), p.d, p.slots, 0);
        let mut got = p.clone();
        same_shapes(got.tensors_mut(), want.tensors_mut())?;
        common(self.base_rate, &self.item_skill, p.n_skills, &p.b_item)
    }
}

impl Sakt {
    /// Checks the model's shapes and values (see the module docs).
    ///
    /// # Errors
    /// [`Error::InvalidModel`] naming the first field that is wrong.
    pub fn validate(&self) -> Result<()> {
        let p = &self.params;
        dims(p.d, p.heads, p.n_skills)?;
        let window = p.window();
        if !(2..=4096).contains(&window) || p.blocks.is_empty() || p.blocks.len() > 64 {
            return invalid("params", format!("window {window}, {} blocks", p.blocks.len()));
        }
        let mut want = crate::sakt::Params::init(p.n_skills, p.b_item.len(), p.d, p.heads, p.blocks.len(), window, 0);
        let mut got = p.clone();
        same_shapes(got.tensors_mut(), want.tensors_mut())?;
        common(self.base_rate, &self.item_skill, p.n_skills, &p.b_item)
    }
}

impl Akt {
    /// Checks the model's shapes and values (see the module docs).
    ///
    /// # Errors
    /// [`Error::InvalidModel`] naming the first field that is wrong.
    pub fn validate(&self) -> Result<()> {
        let p = &self.params;
        dims(p.d, p.heads, p.n_skills)?;
        let c = &self.config;
        if !(2..=4096).contains(&p.window) || c.ff > 1 << 16 || c.fc.0 > 1 << 16 || c.fc.1 > 1 << 16 {
            return invalid("config", format!("window {}, ff {}, fc {:?}", p.window, c.ff, c.fc));
        }
        let rasch = !p.e_qd.is_empty();
        let n_items = if rasch { p.mu.len() } else { p.b_item.len() };
        let shape = crate::akt::Shape {
            n_skills: p.n_skills,
            n_items,
            d: p.d,
            heads: p.heads,
            ff: c.ff,
            fc: c.fc,
            window: p.window,
            rasch,
        };
        let mut want = crate::akt::Params::init(&shape, 0);
        want.b_item = p.b_item.clone();
        let mut got = p.clone();
        same_shapes(got.tensors_mut(), want.tensors_mut())?;
        if rasch && !p.b_item.is_empty() && p.mu.len() != p.b_item.len() {
            return invalid("params.mu", format!("{} difficulties for {} items", p.mu.len(), p.b_item.len()));
        }
        common(self.base_rate, &self.item_skill, p.n_skills, &p.b_item)
    }
}
