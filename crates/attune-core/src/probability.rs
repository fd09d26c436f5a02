use serde::{Deserialize, Serialize};

/// A probability kept inside `[EPS, 1 - EPS]`, so that log-loss and logits stay finite.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Probability(f64);

impl Probability {
    /// Smallest distance from 0 and 1 that a probability may have.
    pub const EPS: f64 = 1e-6;

    /// Clamps `p` into `[EPS, 1 - EPS]`.
    ///
    /// A NaN is a bug in the model that produced it: debug builds (and so every test) stop on
    /// it, release builds keep the NaN so that metrics and callers see it rather than a
    /// plausible 0.5. Use [`Probability::checked`] where the value comes from outside.
    #[inline]
    pub fn new(p: f64) -> Self {
        debug_assert!(!p.is_nan(), "a model produced a NaN probability");
        Self(p.clamp(Self::EPS, 1.0 - Self::EPS))
    }

    /// Clamps `p` like [`Probability::new`], or `None` for NaN.
    #[inline]
    pub fn checked(p: f64) -> Option<Self> {
        (!p.is_nan()).then(|| Self(p.clamp(Self::EPS, 1.0 - Self::EPS)))
    }

    /// Whether the value is a number (see [`Probability::new`]).
    #[inline]
    pub fn is_valid(self) -> bool {
        !self.0.is_nan()
    }

    /// The logistic function of a logit, clamped.
    #[inline]
    pub fn from_logit(z: f64) -> Self {
        Self::new(sigmoid(z))
    }

    /// The value.
    #[inline]
    pub fn get(self) -> f64 {
        self.0
    }
}

impl From<Probability> for f64 {
    fn from(p: Probability) -> f64 {
        p.0
    }
}

/// `ln(1 + e^z)`, computed without overflow for any `z`: the logistic loss of a wrong answer
/// at logit `z` (and `softplus(z) − z` that of a right one).
#[inline]
pub fn softplus(z: f64) -> f64 {
    if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() }
}

/// [`softplus`] in single precision, for the neural engines.
#[inline]
pub fn softplus_f32(z: f32) -> f32 {
    if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() }
}

/// The logistic function `1 / (1 + e^-z)`, computed without overflow for any `z`.
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_and_handles_nan() {
        assert_eq!(Probability::new(2.0).get(), 1.0 - Probability::EPS);
        assert_eq!(Probability::new(-1.0).get(), Probability::EPS);
        assert_eq!(Probability::checked(f64::NAN), None);
        assert_eq!(Probability::checked(0.3).map(Probability::get), Some(0.3));
        assert!((Probability::from_logit(0.0).get() - 0.5).abs() < 1e-15);
        assert!(Probability::from_logit(-800.0).get() > 0.0);
        assert!(Probability::from_logit(800.0).get() < 1.0);
    }

    #[test]
    #[should_panic(expected = "NaN probability")]
    fn nan_is_not_silent() {
        let _ = Probability::new(f64::NAN);
    }
}
