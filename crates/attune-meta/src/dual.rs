//! Forward-mode dual numbers `a + b·ε` with `ε² = 0`, and the scalar trait the neural inner
//! loops are generic over.
//!
//! Running a hand-written gradient on duals whose tangents are `v` returns the gradient in
//! the values and the Hessian times `v` in the tangents: forward over reverse, the exact
//! Hessian-vector product of Pearlmutter (Neural Computation, 1994) at about three times the
//! cost of the gradient. Written here rather than taken from `num-dual`, which brings
//! nalgebra and simba for what is one struct of two numbers.

use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

/// The arithmetic a differentiable computation needs; `f64` and [`Dual`] implement it.
pub trait Real:
    Copy
    + Default
    + Send
    + Sync
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
{
    /// A constant.
    fn cst(x: f64) -> Self;
    /// The value part.
    fn value(self) -> f64;
    /// The logistic function.
    fn sigmoid(self) -> Self;
    /// The hyperbolic tangent.
    fn tanh(self) -> Self;
    /// `ln(1 + eˣ)`.
    fn softplus(self) -> Self;
}

impl Real for f64 {
    fn cst(x: f64) -> Self {
        x
    }
    fn value(self) -> f64 {
        self
    }
    fn sigmoid(self) -> Self {
        attune_core::sigmoid(self)
    }
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
    fn softplus(self) -> Self {
        attune_core::softplus(self)
    }
}

/// Single precision, for adapting a fitted model whose weights are `f32` (twice the lanes of
/// `f64` in the vector loops).
impl Real for f32 {
    fn cst(x: f64) -> Self {
        x as f32
    }
    fn value(self) -> f64 {
        f64::from(self)
    }
    fn sigmoid(self) -> Self {
        attune_core::sigmoid(f64::from(self)) as f32
    }
    fn tanh(self) -> Self {
        f32::tanh(self)
    }
    fn softplus(self) -> Self {
        attune_core::softplus(f64::from(self)) as f32
    }
}

/// A value and its directional derivative.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Dual {
    /// The value.
    pub v: f64,
    /// The tangent: the derivative along the seeded direction.
    pub d: f64,
}

impl Dual {
    /// A value with tangent `d`.
    pub fn new(v: f64, d: f64) -> Self {
        Self { v, d }
    }
}

impl Add for Dual {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Self::new(self.v + o.v, self.d + o.d)
    }
}

impl Sub for Dual {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Self::new(self.v - o.v, self.d - o.d)
    }
}

impl Mul for Dual {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        Self::new(self.v * o.v, self.d * o.v + self.v * o.d)
    }
}

impl Div for Dual {
    type Output = Self;
    fn div(self, o: Self) -> Self {
        Self::new(self.v / o.v, (self.d * o.v - self.v * o.d) / (o.v * o.v))
    }
}

impl Neg for Dual {
    type Output = Self;
    fn neg(self) -> Self {
        Self::new(-self.v, -self.d)
    }
}

impl AddAssign for Dual {
    fn add_assign(&mut self, o: Self) {
        self.v += o.v;
        self.d += o.d;
    }
}

impl Real for Dual {
    fn cst(x: f64) -> Self {
        Self::new(x, 0.0)
    }
    fn value(self) -> f64 {
        self.v
    }
    fn sigmoid(self) -> Self {
        let s = attune_core::sigmoid(self.v);
        Self::new(s, s * (1.0 - s) * self.d)
    }
    fn tanh(self) -> Self {
        let t = self.v.tanh();
        Self::new(t, (1.0 - t * t) * self.d)
    }
    fn softplus(self) -> Self {
        Self::new(attune_core::softplus(self.v), attune_core::sigmoid(self.v) * self.d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each function's tangent against a central difference of its value.
    #[test]
    fn tangents_match_differences() {
        let fs: [fn(Dual) -> Dual; 6] = [
            |x| x.sigmoid(),
            |x| x.tanh(),
            |x| x.softplus(),
            |x| x * x * x - x,
            |x| (x * Dual::cst(2.0) + Dual::cst(1.0)).tanh() * x.sigmoid(),
            |x| x.sigmoid() / (x * x + Dual::cst(1.0)),
        ];
        for f in fs {
            for x in [-3.0, -0.4, 0.0, 0.7, 2.5] {
                let h = 1e-6;
                let fd = (f(Dual::cst(x + h)).v - f(Dual::cst(x - h)).v) / (2.0 * h);
                let d = f(Dual::new(x, 1.0)).d;
                assert!((fd - d).abs() < 1e-7, "at {x}: {d} vs {fd}");
            }
        }
        assert_eq!(Dual::new(1.5, 2.0).value(), 1.5);
        assert_eq!((-Dual::new(1.0, 2.0)).d, -2.0);
    }
}
