//! Matrix products on row-major slices, the one place the hand-written engines multiply.
//!
//! The `gemm` crate (already compiled for burn's CPU backend) picks AVX-512 kernels at run
//! time where the CPU has them; its entry point takes raw pointers, so this module is the
//! crate's only `unsafe`, behind a safe function that checks every extent first.

/// `C = op(A) · op(B) + beta · C` with `C` `[m, n]`, `op(A)` `[m, k]`, `op(B)` `[k, n]`, all
/// row-major; `ta`/`tb` say that `A`/`B` are stored transposed (`[k, m]`, `[n, k]`).
///
/// # Panics
/// When a slice is shorter than its shape: a bug in the caller, never input-dependent.
#[allow(clippy::too_many_arguments)]
#[allow(unsafe_code)]
pub(crate) fn gemm(m: usize, n: usize, k: usize, a: &[f32], ta: bool, b: &[f32], tb: bool, c: &mut [f32], beta: f32) {
    assert!(
        a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
        "gemm: a slice is shorter than its [{m}, {k}] x [{k}, {n}] shape"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c[..m * n].iter_mut().for_each(|v| *v *= beta);
        return;
    }
    let (m_, n_, k_) = (m as isize, n as isize, k as isize);
    // (row stride, column stride) of each operand as stored.
    let (a_rs, a_cs) = if ta { (1, m_) } else { (k_, 1) };
    let (b_rs, b_cs) = if tb { (1, k_) } else { (n_, 1) };
    // SAFETY: the assertion above keeps every element gemm reads or writes inside its slice
    // (`A` spans m·k elements, `B` k·n, `C` m·n, with the strides above); `c` is a unique
    // borrow, so it aliases neither `a` nor `b`; f32 is one of gemm's element types. gemm
    // computes dst := alpha·dst + beta·lhs·rhs, reading dst only when asked to.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n_,
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
}
