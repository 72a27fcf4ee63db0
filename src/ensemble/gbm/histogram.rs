//! Gradient/hessian histograms: for each feature and bin, the sums of gradients and hessians
//! and the row count of a node's rows.
//!
//! Each feature owns a fixed block of 256 bins, so a `u8` bin code indexes its block without a
//! bounds check. The bin codes are row-major, so a node's row costs one cache line whatever
//! the features (a column layout costs one line per row and feature once a node's rows are
//! scattered). Building is parallel over contiguous blocks of features: a task reads each row's
//! codes for its block and adds the row to the block's histograms. Every bin sums its rows in
//! row order, so the sums do not depend on the blocks or the thread count. The rows of a node
//! are scattered, which the hardware prefetcher cannot follow: the codes of the row
//! [`PREFETCH`] positions ahead are prefetched. A node's gradients are first gathered in row
//! order ("ordered gradients", as LightGBM does) so that they are read sequentially. The
//! larger child of a split is never built: it is the parent minus the smaller child (the
//! subtraction trick).

use rayon::prelude::*;

use super::binning::BinnedData;

/// Bins per feature block.
pub(crate) const BLOCK: usize = 256;

/// One histogram bin.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct HistBin {
    /// Sum of gradients.
    pub g: f64,
    /// Sum of hessians (unused, left at 0, when hessians are constant).
    pub h: f64,
    /// Number of rows.
    pub c: u64,
}

/// Gradients and hessians of the current tree's output, indexed by training row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GradView<'a> {
    /// Gradients.
    pub g: &'a [f32],
    /// Hessians; `None` when constant.
    pub h: Option<&'a [f32]>,
}

/// Reusable scratch for ordered gradients.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    g: Vec<f32>,
    h: Vec<f32>,
}

/// Fills `hist` (`n_features * BLOCK` bins) with the histograms of the rows `rows` (`None`: all
/// rows in order).
pub(crate) fn build(
    data: &BinnedData,
    rows: Option<&[u32]>,
    grad: GradView<'_>,
    scratch: &mut Scratch,
    hist: &mut [HistBin],
) {
    // Ordered gradients: gather once per node so every feature reads them sequentially.
    let (og, oh): (&[f32], Option<&[f32]>) = match rows {
        None => (grad.g, grad.h),
        Some(rows) => {
            scratch.g.clear();
            scratch.g.extend(rows.iter().map(|&r| grad.g[r as usize]));
            let oh = match grad.h {
                None => None,
                Some(h) => {
                    scratch.h.clear();
                    scratch.h.extend(rows.iter().map(|&r| h[r as usize]));
                    Some(scratch.h.as_slice())
                }
            };
            (scratch.g.as_slice(), oh)
        }
    };
    let p = data.n_features();
    let hist = &mut hist[..p * BLOCK];
    let n_rows = rows.map_or(data.n_rows, <[u32]>::len);
    // Every row index must address a full row of codes, for the unchecked loop below.
    let in_bounds = data.codes.len() >= data.n_rows * p
        && og.len() >= n_rows
        && oh.is_none_or(|h| h.len() >= n_rows)
        && rows.is_none_or(|rows| rows.iter().all(|&r| (r as usize) < data.n_rows));
    if !in_bounds {
        hist.fill(HistBin::default());
        return;
    }
    // Features are split into one contiguous block per task; each task reads, for every row,
    // the block's codes (one cache line) and adds the row to the block's histograms. Every
    // bin still sums its rows in row order, so the result does not depend on the blocks.
    let tasks = if n_rows * p < PAR_MIN_WORK {
        1
    } else {
        (rayon::current_num_threads() * TASKS_PER_THREAD).clamp(1, p.max(1))
    };
    let per = p.div_ceil(tasks).clamp(1, MAX_TASK_FEATURES);
    let tasks = p.div_ceil(per);
    let work = |(t, blocks): (usize, &mut [HistBin])| {
        blocks.fill(HistBin::default());
        let f0 = t * per;
        let nf = blocks.len() / BLOCK;
        // SAFETY: rows are below data.n_rows and codes hold n_rows * p codes (checked above);
        // f0 + nf <= p since the blocks tile the p features; og/oh hold n_rows values.
        unsafe {
            match oh {
                None => accumulate::<false>(data, f0, nf, rows, n_rows, og, og, blocks),
                Some(oh) => accumulate::<true>(data, f0, nf, rows, n_rows, og, oh, blocks),
            }
        }
    };
    if tasks == 1 {
        hist.chunks_mut(per * BLOCK).enumerate().for_each(work);
    } else {
        hist.par_chunks_mut(per * BLOCK).enumerate().for_each(work);
    }
}

/// Rows ahead whose codes are prefetched: a node's rows are scattered over the data, which
/// the hardware prefetcher cannot follow.
pub(crate) const PREFETCH: usize = 24;

/// Hints the CPU to load the cache line holding `ptr` (no effect elsewhere than x86-64). The
/// pointer need not be valid: a prefetch never faults.
#[inline(always)]
pub(crate) fn prefetch(ptr: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch hint reads nothing and cannot fault, whatever the address; SSE is
    // part of the x86-64 baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch(ptr as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = ptr;
}

/// Below this many (row, feature) pairs a histogram is built on one thread.
const PAR_MIN_WORK: usize = 4096;

/// Feature blocks per thread.
const TASKS_PER_THREAD: usize = 1;

/// Most features per task: a task's histograms (24 bytes × 256 bins per feature) stay well
/// inside a core's L2 cache.
const MAX_TASK_FEATURES: usize = 32;

/// Adds rows `0..n_rows` (or `rows[..n_rows]`) with the ordered gradients `g[i]` and hessians
/// `h[i]` to the histograms of the features `f0..f0 + nf`, held in `blocks` (`nf` blocks).
///
/// # Safety
/// Every row index is below `data.n_rows`, `data.codes.len() >= data.n_rows * p`,
/// `f0 + nf <= p`, `blocks.len() == nf * BLOCK`, and `g` (and `h` when `HESS`) hold at least
/// `n_rows` values.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn accumulate<const HESS: bool>(
    data: &BinnedData,
    f0: usize,
    nf: usize,
    rows: Option<&[u32]>,
    n_rows: usize,
    g: &[f32],
    h: &[f32],
    blocks: &mut [HistBin],
) {
    let p = data.n_features();
    let codes = data.codes.as_ptr();
    let out = blocks.as_mut_ptr();
    for i in 0..n_rows {
        let r = match rows {
            None => i,
            Some(rows) => {
                if i + PREFETCH < n_rows {
                    // SAFETY: i + PREFETCH < n_rows <= rows.len().
                    let ahead = unsafe { *rows.get_unchecked(i + PREFETCH) } as usize;
                    // The row's codes may straddle two cache lines.
                    prefetch(codes.wrapping_add(ahead * p + f0));
                    prefetch(codes.wrapping_add(ahead * p + f0 + nf - 1));
                }
                // SAFETY: i < n_rows <= rows.len() (the caller's n_rows is rows.len()).
                unsafe { *rows.get_unchecked(i) as usize }
            }
        };
        // SAFETY: the caller guarantees g and h hold n_rows values.
        let gi = unsafe { *g.get_unchecked(i) } as f64;
        let hi = if HESS {
            // SAFETY: as above.
            unsafe { *h.get_unchecked(i) as f64 }
        } else {
            0.0
        };
        // SAFETY: r < n_rows and f0 + nf <= p, so the nf codes lie inside codes.
        let row = unsafe { codes.add(r * p + f0) };
        for k in 0..nf {
            // SAFETY: k < nf (see above); the code is < 256 = BLOCK, so the bin index
            // k * BLOCK + code < nf * BLOCK = blocks.len().
            unsafe {
                let code = *row.add(k) as usize;
                let b = &mut *out.add(k * BLOCK + code);
                b.g += gi;
                if HESS {
                    b.h += hi;
                }
                b.c += 1;
            }
        }
    }
}

/// `parent -= child`, bin by bin: `parent` becomes the sibling's histogram.
pub(crate) fn subtract(parent: &mut [HistBin], child: &[HistBin]) {
    for (p, c) in parent.iter_mut().zip(child) {
        p.g -= c.g;
        p.h -= c.h;
        p.c -= c.c;
    }
}

#[cfg(test)]
mod tests {
    use super::super::binning::FeatureBins;
    use super::*;

    fn data() -> BinnedData {
        let fb = FeatureBins {
            thresholds: vec![0.5, 1.5],
            n_bins_non_missing: 3,
            categorical: false,
        };
        BinnedData {
            // Row-major: (f0, f1) per row.
            codes: vec![0, 2, 1, 2, 2, 0, 3, 1, 1, 3],
            n_rows: 5,
            features: vec![fb.clone(), fb],
        }
    }

    #[test]
    fn histograms_sum_gradients_by_bin_and_subtract() {
        let d = data();
        let g = [1.0f32, 2.0, 3.0, 4.0, 5.0];
        let h = [0.5f32, 0.5, 1.0, 1.0, 2.0];
        let grad = GradView { g: &g, h: Some(&h) };
        let mut s = Scratch::default();
        let mut all = vec![HistBin::default(); 2 * BLOCK];
        build(&d, None, grad, &mut s, &mut all);
        assert_eq!(
            all[1],
            HistBin {
                g: 7.0,
                h: 2.5,
                c: 2
            }
        );
        assert_eq!(
            all[BLOCK + 2],
            HistBin {
                g: 3.0,
                h: 1.0,
                c: 2
            }
        );
        let mut child = vec![HistBin::default(); 2 * BLOCK];
        build(&d, Some(&[1, 4]), grad, &mut s, &mut child);
        assert_eq!(
            child[1],
            HistBin {
                g: 7.0,
                h: 2.5,
                c: 2
            }
        );
        assert_eq!(
            child[BLOCK + 3],
            HistBin {
                g: 5.0,
                h: 2.0,
                c: 1
            }
        );
        subtract(&mut all, &child);
        assert_eq!(all[1], HistBin::default());
        assert_eq!(
            all[BLOCK + 2],
            HistBin {
                g: 1.0,
                h: 0.5,
                c: 1
            }
        );
        // Constant hessians: h left at 0, counts kept.
        let grad = GradView { g: &g, h: None };
        build(&d, Some(&[0, 2]), grad, &mut s, &mut child);
        assert_eq!(
            child[2],
            HistBin {
                g: 3.0,
                h: 0.0,
                c: 1
            }
        );
    }

    /// The straightforward histograms: for each row in order, every feature's bin.
    fn naive(data: &BinnedData, rows: &[u32], g: &[f32], h: Option<&[f32]>) -> Vec<HistBin> {
        let p = data.n_features();
        let mut out = vec![HistBin::default(); p * BLOCK];
        for &r in rows {
            let r = r as usize;
            for f in 0..p {
                let b = &mut out[f * BLOCK + data.code(r, f) as usize];
                b.g += g[r] as f64;
                if let Some(h) = h {
                    b.h += h[r] as f64;
                }
                b.c += 1;
            }
        }
        out
    }

    fn random_data(n: usize, p: usize, seed: u64) -> (BinnedData, Vec<f32>, Vec<f32>) {
        use rand::Rng;
        let mut rng = crate::rng::for_task(seed, 0);
        let features: Vec<FeatureBins> = (0..p)
            .map(|_| {
                let nb = rng.gen_range(1..=255usize);
                FeatureBins {
                    thresholds: vec![0.0; nb - 1],
                    n_bins_non_missing: nb,
                    categorical: false,
                }
            })
            .collect();
        let codes = (0..n * p)
            .map(|k| rng.gen_range(0..=features[k % p].n_bins_non_missing) as u8)
            .collect();
        let g = (0..n).map(|_| rng.gen_range(-2.0f32..2.0)).collect();
        let h = (0..n).map(|_| rng.gen_range(0.0f32..1.0)).collect();
        (
            BinnedData {
                codes,
                n_rows: n,
                features,
            },
            g,
            h,
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// The blocked, prefetching build equals the straightforward sums bit for bit, for
        /// all rows or a subset, with or without hessians, on 1 or 3 threads.
        #[test]
        fn build_equals_straightforward_sums(
            n in 1usize..600,
            p in 1usize..80,
            keep in 1u32..=4,
            hess in proptest::bool::ANY,
            seed in 0u64..1_000_000,
        ) {
            let (data, g, h) = random_data(n, p, seed);
            let subset: Vec<u32> = (0..n as u32).filter(|r| (r * 7 + 3) % 4 < keep).collect();
            let all: Vec<u32> = (0..n as u32).collect();
            let grad = GradView { g: &g, h: hess.then_some(h.as_slice()) };
            for (rows, arg) in [(&all, None), (&subset, Some(subset.as_slice()))] {
                let want = naive(&data, rows, &g, grad.h);
                for threads in [1, 3] {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                    let mut got = vec![HistBin { g: 9.0, h: 9.0, c: 9 }; p * BLOCK];
                    pool.install(|| build(&data, arg, grad, &mut Scratch::default(), &mut got));
                    proptest::prop_assert!(got == want, "n {} p {} threads {}", n, p, threads);
                }
            }
        }
    }
}
