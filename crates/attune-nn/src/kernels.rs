//! Elementwise kernels for the hand-written engines: `exp`, `sigmoid` and `tanh` in f32 that
//! the compiler vectorises (libm's `expf`/`tanhf` are scalar calls and took a quarter of DKT's
//! training time), and the LSTM cell over one row of gates.

/// `e^x` in f32 (Cephes' `expf`): `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2`, a degree-6
/// polynomial for `e^r`, and `2^n` built from the exponent bits. Relative error below 2e-7
/// on `[-87, 88]`; the input is clamped there, so the result is finite and positive.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5 · 2^23 rounds to the nearest integer without `floor`, which
    // baseline x86-64 (no SSE4.1) compiles to a libm call that blocks vectorisation.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * C1 - n * C2;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1)
        * r
        + 0.5;
    let e = p * r * r + r + 1.0;
    // n ∈ [-126, 127] after the clamp: a normal power of two.
    e * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// The logistic function, `1 / (1 + e^-x)`.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh x = 2 σ(2x) − 1`; absolute error below 3e-7.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    2.0 / (1.0 + exp(-2.0 * x)) - 1.0
}

/// One LSTM cell on a row of gate pre-activations `[i | f | g | o]` (each `h` wide): the
/// gates are activated in place, and `c`, `tanh c` and `h` written for this step.
#[inline]
pub(crate) fn lstm_cell(gates: &mut [f32], c_prev: &[f32], c: &mut [f32], tanh_c: &mut [f32], h: &mut [f32]) {
    let n = c.len();
    let (gi, rest) = gates.split_at_mut(n);
    let (gf, rest) = rest.split_at_mut(n);
    let (gg, go) = rest.split_at_mut(n);
    let go = &mut go[..n];
    let c_prev = &c_prev[..n];
    let (tanh_c, h) = (&mut tanh_c[..n], &mut h[..n]);
    for j in 0..n {
        let (i, f, g, o) = (sigmoid(gi[j]), sigmoid(gf[j]), tanh(gg[j]), sigmoid(go[j]));
        gi[j] = i;
        gf[j] = f;
        gg[j] = g;
        go[j] = o;
        let cj = f * c_prev[j] + i * g;
        let t = tanh(cj);
        c[j] = cj;
        tanh_c[j] = t;
        h[j] = o * t;
    }
}

/// `out += x · W` with `W` row-major `[x.len(), out.len()]`: one scaled row of `W` added per
/// input, which the compiler vectorises. For single rows (online prediction), where a
/// matrix-product call costs more than the work.
pub(crate) fn add_vec_mat(x: &[f32], w: &[f32], out: &mut [f32]) {
    let n = out.len();
    for (xi, w_row) in x.iter().zip(w.chunks_exact(n)) {
        out.iter_mut().zip(w_row).for_each(|(o, w)| *o += xi * w);
    }
}

/// A standard normal draw.
pub(crate) fn normal(rng: &mut rand::rngs::StdRng) -> f32 {
    use rand::RngExt;
    rng.sample(rand_distr::StandardNormal)
}

/// Lanes of the reductions below: independent partial results the compiler keeps in one
/// vector register, since a single running float sum or maximum is a serial chain it may
/// not reorder.
const LANES: usize = 16;

/// The largest entry (`-∞` for an empty slice).
pub(crate) fn max_of(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder().iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for c in chunks {
        acc.iter_mut().zip(c).for_each(|(a, &v)| *a = if v > *a { v } else { *a });
    }
    acc.iter().fold(tail, |m, &v| m.max(v))
}

/// The sum of the entries, in `LANES` partial sums.
pub(crate) fn sum_of(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        acc.iter_mut().zip(c).for_each(|(a, &v)| *a += v);
    }
    acc.iter().sum::<f32>() + tail
}

/// `Σ x_i y_i`, in `LANES` partial sums.
pub(crate) fn dot(x: &[f32], y: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let split = n - n % LANES;
    for (cx, cy) in x[..split].chunks_exact(LANES).zip(y[..split].chunks_exact(LANES)) {
        for k in 0..LANES {
            acc[k] += cx[k] * cy[k];
        }
    }
    let tail: f32 = x[split..].iter().zip(&y[split..]).map(|(a, b)| a * b).sum();
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lane-wise reductions equal plain ones on every length around the lane count.
    #[test]
    fn reductions_match_plain_ones() {
        for n in 0..50 {
            let x: Vec<f32> = (0..n).map(|k| ((k * 37 % 11) as f32 - 5.0) * 0.25).collect();
            let y: Vec<f32> = (0..n).map(|k| (k as f32 * 0.7).sin()).collect();
            let max = x.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            assert_eq!(max_of(&x), max, "max, n = {n}");
            assert!((sum_of(&x) - x.iter().sum::<f32>()).abs() < 1e-5, "sum, n = {n}");
            let plain: f32 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
            assert!((dot(&x, &y) - plain).abs() < 1e-5, "dot, n = {n}");
        }
    }

    #[test]
    fn exp_sigmoid_tanh_match_libm() {
        let mut worst = (0.0f64, 0.0f64, 0.0f64);
        for k in -20_000..=20_000 {
            let x = k as f32 * 0.004; // [-80, 80]
            let e = f64::from(exp(x));
            let want = f64::from(x).exp();
            worst.0 = worst.0.max((e - want).abs() / want);
            let s = f64::from(sigmoid(x));
            worst.1 = worst.1.max((s - 1.0 / (1.0 + (-f64::from(x)).exp())).abs());
            worst.2 = worst.2.max((f64::from(tanh(x)) - f64::from(x).tanh()).abs());
        }
        assert!(worst.0 < 3e-7, "exp relative error {}", worst.0);
        assert!(worst.1 < 2e-7, "sigmoid absolute error {}", worst.1);
        assert!(worst.2 < 5e-7, "tanh absolute error {}", worst.2);
        // Saturation stays finite.
        assert!(sigmoid(-1e4) >= 0.0 && sigmoid(-1e4) < 1e-37 && sigmoid(1e4) == 1.0);
        assert!(exp(1e4).is_finite() && tanh(1e4) == 1.0 && tanh(-1e4) == -1.0);
    }
}
