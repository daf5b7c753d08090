//! Matrix products for the layers: matrixmultiply's packed SIMD `sgemm`,
//! split over blocks of rows of the result with rayon. Every element of the
//! result is summed over k in the same order whatever the split, so the
//! results do not depend on the number of threads.

use rayon::prelude::*;

/// How a matrix operand is stored: `Normal` as [rows, cols] row-major,
/// `Transposed` as the row-major [cols, rows] of its transpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Normal,
    Transposed,
}

/// Below this many multiply-adds a product runs on the calling thread.
const PARALLEL_MIN_WORK: usize = 1 << 18;

/// `c[m, n] = op(a)[m, k] · op(b)[k, n] + beta · c`, on the calling thread.
#[allow(clippy::too_many_arguments)]
pub fn gemm_serial(m: usize, k: usize, n: usize, a: &[f32], op_a: Op, b: &[f32], op_b: Op, beta: f32, c: &mut [f32]) {
    gemm_on(m, k, n, a, op_a, b, op_b, beta, c, false)
}

/// `c[m, n] = op(a)[m, k] · op(b)[k, n] + beta · c`, in parallel when large.
#[allow(clippy::too_many_arguments)]
pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], op_a: Op, b: &[f32], op_b: Op, beta: f32, c: &mut [f32]) {
    gemm_on(m, k, n, a, op_a, b, op_b, beta, c, true)
}

#[allow(clippy::too_many_arguments)]
fn gemm_on(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    op_a: Op,
    b: &[f32],
    op_b: Op,
    beta: f32,
    c: &mut [f32],
    parallel: bool,
) {
    assert_eq!(a.len(), m * k, "gemm: a has {} elements, not {m}x{k}", a.len());
    assert_eq!(b.len(), k * n, "gemm: b has {} elements, not {k}x{n}", b.len());
    assert_eq!(c.len(), m * n, "gemm: c has {} elements, not {m}x{n}", c.len());
    if m == 0 || n == 0 {
        return;
    }
    // (row stride, column stride) of op(a) and op(b).
    let (rsa, csa) = match op_a {
        Op::Normal => (k as isize, 1),
        Op::Transposed => (1, m as isize),
    };
    let (rsb, csb) = match op_b {
        Op::Normal => (n as isize, 1),
        Op::Transposed => (1, k as isize),
    };
    let block = |rows: std::ops::Range<usize>, c: &mut [f32]| {
        let a_offset = rows.start as isize * rsa;
        // SAFETY: every index reached is within a, b and c: op(a) rows
        // `rows` with k columns at the strides of its storage; op(b) k x n;
        // c the rows.len() x n block passed in.
        unsafe {
            matrixmultiply::sgemm(
                rows.len(),
                k,
                n,
                1.0,
                a.as_ptr().offset(a_offset),
                rsa,
                csa,
                b.as_ptr(),
                rsb,
                csb,
                beta,
                c.as_mut_ptr(),
                n as isize,
                1,
            );
        }
    };
    let threads = rayon::current_num_threads();
    if !parallel || threads == 1 || m * k * n < PARALLEL_MIN_WORK || m < 16 {
        block(0..m, c);
        return;
    }
    // Enough blocks to balance, each a multiple of the kernel's 8 rows.
    let rows_per_block = m.div_ceil(threads * 4).next_multiple_of(8).max(8);
    c.par_chunks_mut(rows_per_block * n).enumerate().for_each(|(i, c)| {
        let start = i * rows_per_block;
        block(start..start + c.len() / n, c);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: &[f32], op_a: Op, b: &[f32], op_b: Op) -> Vec<f64> {
        let at = |i: usize, p: usize| match op_a {
            Op::Normal => a[i * k + p],
            Op::Transposed => a[p * m + i],
        };
        let bt = |p: usize, j: usize| match op_b {
            Op::Normal => b[p * n + j],
            Op::Transposed => b[j * k + p],
        };
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| at(i, p) as f64 * bt(p, j) as f64).sum();
            }
        }
        c
    }

    #[test]
    fn all_transpositions_match_the_definition() {
        let (m, k, n) = (37, 53, 29);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 7.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 5.0).collect();
        for op_a in [Op::Normal, Op::Transposed] {
            for op_b in [Op::Normal, Op::Transposed] {
                let mut c = vec![1.0; m * n];
                gemm(m, k, n, &a, op_a, &b, op_b, 0.5, &mut c);
                let want = naive(m, k, n, &a, op_a, &b, op_b);
                for (x, w) in c.iter().zip(&want) {
                    assert!(
                        (*x as f64 - (w + 0.5)).abs() < 1e-4,
                        "{op_a:?} {op_b:?}: {x} vs {}",
                        w + 0.5
                    );
                }
            }
        }
    }

    #[test]
    fn the_split_over_threads_does_not_change_a_bit() {
        let (m, k, n) = (301, 257, 130);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919 % 1013) as f32).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 104729 % 997) as f32).cos()).collect();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut c = vec![0.0; m * n];
            pool.install(|| gemm(m, k, n, &a, Op::Normal, &b, Op::Transposed, 0.0, &mut c));
            c
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
    }
}
