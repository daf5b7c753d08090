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
    if !parallel || threads == 1 || m * k * n < PARALLEL_MIN_WORK || m.max(n) < 16 {
        block(0..m, c);
        return;
    }
    // Each block packs the whole of the other operand, so split the larger
    // dimension into few blocks (two per thread, multiples of the kernel's 16).
    let parts = threads * 2;
    if m >= n {
        let rows_per_block = m.div_ceil(parts).next_multiple_of(16);
        c.par_chunks_mut(rows_per_block * n).enumerate().for_each(|(i, c)| {
            let start = i * rows_per_block;
            block(start..start + c.len() / n, c);
        });
        return;
    }
    let columns_per_block = n.div_ceil(parts).next_multiple_of(16);
    let c_ptr = SharedMut(c.as_mut_ptr());
    (0..n.div_ceil(columns_per_block)).into_par_iter().for_each(|i| {
        let start = i * columns_per_block;
        let width = columns_per_block.min(n - start);
        let c_ptr = &c_ptr;
        // SAFETY: block i writes only columns start..start + width of c
        // (m x n, row stride n), disjoint from every other block's; it
        // reads op(b)'s columns of the same range, within b.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                width,
                1.0,
                a.as_ptr(),
                rsa,
                csa,
                b.as_ptr().offset(start as isize * csb),
                rsb,
                csb,
                beta,
                c_ptr.0.add(start),
                n as isize,
                1,
            );
        }
    });
}

/// The result's pointer, shared by blocks that write disjoint columns.
struct SharedMut(*mut f32);
// SAFETY: used only for disjoint column ranges of one matrix (see `gemm_on`).
unsafe impl Sync for SharedMut {}

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
        // Wider than tall: split by columns.
        let (m, k, n) = (40, 257, 700);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919 % 1013) as f32).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 104729 % 997) as f32).cos()).collect();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut c = vec![1.0; m * n];
            pool.install(|| gemm(m, k, n, &a, Op::Normal, &b, Op::Transposed, 0.5, &mut c));
            c
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
        let want = naive(m, k, n, &a, Op::Normal, &b, Op::Transposed);
        for (x, w) in one.iter().zip(&want) {
            assert!((*x as f64 - (w + 0.5)).abs() < 1e-3);
        }
    }
}
