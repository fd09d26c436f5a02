//! Matrix products on row-major slices, the one place the hand-written engines multiply.
//!
//! The `gemm` crate picks AVX-512 kernels (its `x86-v4` feature) at run
//! time where the CPU has them; its entry point takes raw pointers, so this module is the
//! crate's only `unsafe`, behind a safe function that checks every extent first.

/// `C = op(A) · op(B) + beta · C` with `C` `[m, n]`, `op(A)` `[m, k]`, `op(B)` `[k, n]`, all
/// row-major and contiguous; `ta`/`tb` say that `A`/`B` are stored transposed (`[k, m]`,
/// `[n, k]`).
///
/// # Panics
/// When a slice is shorter than its shape: a bug in the caller, never input-dependent.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(m: usize, n: usize, k: usize, a: &[f32], ta: bool, b: &[f32], tb: bool, c: &mut [f32], beta: f32) {
    let lda = if ta { m } else { k };
    let ldb = if tb { k } else { n };
    gemm_ld(m, n, k, (a, lda, ta), (b, ldb, tb), (c, n), beta);
}

/// [`gemm`] on sub-matrices: each operand is `(slice, row stride, transposed)` (`C`: `(slice,
/// row stride)`), so that e.g. one attention head's columns of a `[L, d]` matrix are used in
/// place.
///
/// # Panics
/// When a slice is shorter than its shape and strides: a bug in the caller.
#[allow(unsafe_code)]
pub(crate) fn gemm_ld(
    m: usize,
    n: usize,
    k: usize,
    (a, lda, ta): (&[f32], usize, bool),
    (b, ldb, tb): (&[f32], usize, bool),
    (c, ldc): (&mut [f32], usize),
    beta: f32,
) {
    if m == 0 || n == 0 {
        return;
    }
    // Rows and columns of each operand as stored, and the elements they span.
    let span = |rows: usize, cols: usize, ld: usize| if rows == 0 || cols == 0 { 0 } else { (rows - 1) * ld + cols };
    let (a_rows, a_cols) = if ta { (k, m) } else { (m, k) };
    let (b_rows, b_cols) = if tb { (n, k) } else { (k, n) };
    assert!(lda >= a_cols && ldb >= b_cols && ldc >= n, "gemm: a row stride is shorter than its row");
    assert!(
        a.len() >= span(a_rows, a_cols, lda) && b.len() >= span(b_rows, b_cols, ldb) && c.len() >= span(m, n, ldc),
        "gemm: a slice is shorter than its [{m}, {k}] x [{k}, {n}] shape"
    );
    if k == 0 {
        for row in 0..m {
            c[row * ldc..row * ldc + n].iter_mut().for_each(|v| *v *= beta);
        }
        return;
    }
    let (lda, ldb, ldc) = (lda as isize, ldb as isize, ldc as isize);
    // (row stride, column stride) of op(A) and op(B).
    let (a_rs, a_cs) = if ta { (1, lda) } else { (lda, 1) };
    let (b_rs, b_cs) = if tb { (1, ldb) } else { (ldb, 1) };
    // SAFETY: the assertions above keep every element gemm reads or writes inside its slice
    // (each operand spans (rows − 1) · stride + cols elements); `c` is a unique borrow, so it
    // aliases neither `a` nor `b`; f32 is one of gemm's element types. gemm computes
    // dst := alpha·dst + beta·lhs·rhs, reading dst only when asked to.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            ldc,
            beta != 0.0,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            beta,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every transpose combination against a naive triple loop, with and without beta.
    #[test]
    fn products_match_the_definition() {
        let (m, n, k) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|v| (v as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|v| (v as f32 * 0.91).cos()).collect();
        let at = |i: usize, p: usize, t: bool| if t { a[p * m + i] } else { a[i * k + p] };
        let bt = |p: usize, j: usize, t: bool| if t { b[j * k + p] } else { b[p * n + j] };
        for (ta, tb, beta) in [(false, false, 0.0), (true, false, 1.0), (false, true, 0.5), (true, true, 1.0)] {
            let mut c: Vec<f32> = (0..m * n).map(|v| v as f32 * 0.1).collect();
            let before = c.clone();
            gemm(m, n, k, &a, ta, &b, tb, &mut c, beta);
            for i in 0..m {
                for j in 0..n {
                    let want = beta * before[i * n + j] + (0..k).map(|p| at(i, p, ta) * bt(p, j, tb)).sum::<f32>();
                    assert!(
                        (c[i * n + j] - want).abs() < 1e-5,
                        "ta={ta} tb={tb} ({i},{j}): {} vs {want}",
                        c[i * n + j]
                    );
                }
            }
        }
    }

    /// A head's columns used in place: op(A) and op(B) cut out of wider matrices.
    #[test]
    fn strided_products_match_the_definition() {
        let (m, n, k, ld) = (4, 3, 2, 7);
        let a: Vec<f32> = (0..m * ld).map(|v| (v as f32 * 0.3).sin()).collect();
        let b: Vec<f32> = (0..n * ld).map(|v| (v as f32 * 0.7).cos()).collect();
        let mut c = vec![1.0f32; m * ld];
        // C[:, 2..5] = A[:, 1..3] · B[:, 4..6]ᵀ
        gemm_ld(m, n, k, (&a[1..], ld, false), (&b[4..], ld, true), (&mut c[2..], ld), 0.0);
        for i in 0..m {
            for j in 0..n {
                let want: f32 = (0..k).map(|p| a[i * ld + 1 + p] * b[j * ld + 4 + p]).sum();
                assert!((c[i * ld + 2 + j] - want).abs() < 1e-5);
            }
            assert_eq!(c[i * ld], 1.0, "columns outside C untouched");
        }
    }
}
