//! Matrix products on row-major slices, the one place the hand-written engines multiply.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, ShapeError};

/// A row-major `[rows, cols]` view of `s`, or of its transpose when `t` (`s` then holds
/// `[cols, rows]`).
fn view(s: &[f32], rows: usize, cols: usize, t: bool) -> Result<ArrayView2<'_, f32>, ShapeError> {
    let len = (rows * cols).min(s.len());
    if t {
        ArrayView2::from_shape((cols, rows), &s[..len]).map(ArrayView2::reversed_axes)
    } else {
        ArrayView2::from_shape((rows, cols), &s[..len])
    }
}

/// `C = op(A) · op(B) + beta · C` with `C` `[m, n]`, `op(A)` `[m, k]`, `op(B)` `[k, n]`, all
/// row-major; `ta`/`tb` say that `A`/`B` are stored transposed (`[k, m]`, `[n, k]`).
///
/// # Panics
/// When a slice is shorter than its shape: a bug in the caller, never input-dependent.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(m: usize, n: usize, k: usize, a: &[f32], ta: bool, b: &[f32], tb: bool, c: &mut [f32], beta: f32) {
    let len = (m * n).min(c.len());
    match (view(a, m, k, ta), view(b, k, n, tb), ArrayViewMut2::from_shape((m, n), &mut c[..len])) {
        (Ok(a), Ok(b), Ok(mut c)) => general_mat_mul(1.0, &a, &b, beta, &mut c),
        _ => panic!("gemm: a slice is shorter than its [{m}, {k}] x [{k}, {n}] shape"),
    }
}
