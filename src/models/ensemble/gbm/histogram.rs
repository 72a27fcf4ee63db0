//! Gradient/hessian histograms: for each feature and bin, the sums of gradients and hessians
//! and the row count of a node's rows.
//!
//! Each feature owns a fixed block of 256 bins, so a `u8` bin code indexes its block without a
//! bounds check. Building is parallel over features (each feature's block is written by one
//! task, so the sums do not depend on the thread count). A node's gradients are first gathered
//! in row order ("ordered gradients", as LightGBM does) so that the per-feature loops read them
//! sequentially. The larger child of a split is never built: it is the parent minus the smaller
//! child (the subtraction trick).

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
    let n_features = data.features.len();
    let hist = &mut hist[..n_features * BLOCK];
    // Features are processed in groups of GROUP: one pass over the rows loads each row index
    // and gradient once for the whole group.
    let work = |(grp, blocks): (usize, &mut [HistBin])| {
        blocks.fill(HistBin::default());
        let first = grp * GROUP;
        if blocks.len() == GROUP * BLOCK {
            let cols: [&[u8]; GROUP] = std::array::from_fn(|k| data.column(first + k));
            match oh {
                None => accumulate::<false, GROUP>(cols, rows, og, og, blocks),
                Some(oh) => accumulate::<true, GROUP>(cols, rows, og, oh, blocks),
            }
        } else {
            for (k, block) in blocks.chunks_mut(BLOCK).enumerate() {
                let cols = [data.column(first + k)];
                match oh {
                    None => accumulate::<false, 1>(cols, rows, og, og, block),
                    Some(oh) => accumulate::<true, 1>(cols, rows, og, oh, block),
                }
            }
        }
    };
    let n_rows = rows.map_or(data.n_rows, <[u32]>::len);
    if n_rows * n_features < 4096 {
        hist.chunks_mut(GROUP * BLOCK).enumerate().for_each(work);
    } else {
        hist.par_chunks_mut(GROUP * BLOCK)
            .enumerate()
            .for_each(work);
    }
}

/// Features per row pass.
const GROUP: usize = 4;

/// Adds one row (bin codes at position `r` of `cols`) with gradient `gi` and hessian `hi` to
/// the `F` consecutive blocks of `blocks`.
///
/// # Safety
/// `r < cols[k].len()` for every `k`, and `blocks.len() >= F * BLOCK`.
#[inline(always)]
unsafe fn add_row<const HESS: bool, const F: usize>(
    cols: &[&[u8]; F],
    r: usize,
    gi: f64,
    hi: f64,
    blocks: &mut [HistBin],
) {
    for (k, col) in cols.iter().enumerate() {
        // SAFETY: the caller guarantees r < col.len().
        let code = unsafe { *col.get_unchecked(r) } as usize;
        // SAFETY: k < F and code < 256 = BLOCK, so k * BLOCK + code < F * BLOCK <= blocks.len().
        let b = unsafe { blocks.get_unchecked_mut(k * BLOCK + code) };
        b.g += gi;
        if HESS {
            b.h += hi;
        }
        b.c += 1;
    }
}

/// Accumulates `F` features: row `i` (or `rows[i]`) of each column in `cols`, with the
/// (ordered) gradient `g[i]` and hessian `h[i]`, into the `F` consecutive blocks of `blocks`.
/// Rows at or beyond a column's length are skipped (the grower never produces them).
#[inline(always)]
fn accumulate<const HESS: bool, const F: usize>(
    cols: [&[u8]; F],
    rows: Option<&[u32]>,
    g: &[f32],
    h: &[f32],
    blocks: &mut [HistBin],
) {
    if blocks.len() < F * BLOCK {
        return;
    }
    let col_len = cols.iter().map(|c| c.len()).min().unwrap_or(0);
    match rows {
        None => {
            let n = col_len.min(g.len());
            if HESS {
                for (i, (&gi, &hi)) in g[..n].iter().zip(&h[..n.min(h.len())]).enumerate() {
                    // SAFETY: i < n <= every column's length; blocks checked above.
                    unsafe { add_row::<HESS, F>(&cols, i, gi as f64, hi as f64, blocks) };
                }
            } else {
                for (i, &gi) in g[..n].iter().enumerate() {
                    // SAFETY: as above.
                    unsafe { add_row::<HESS, F>(&cols, i, gi as f64, 0.0, blocks) };
                }
            }
        }
        Some(rows) => {
            let n = rows.len().min(g.len());
            // One pass proves every row index is in bounds for the unchecked loop below.
            if rows[..n].iter().any(|&r| r as usize >= col_len) {
                return;
            }
            if HESS {
                let n = n.min(h.len());
                for ((&r, &gi), &hi) in rows[..n].iter().zip(&g[..n]).zip(&h[..n]) {
                    // SAFETY: r < col_len (checked above); blocks checked above.
                    unsafe { add_row::<HESS, F>(&cols, r as usize, gi as f64, hi as f64, blocks) };
                }
            } else {
                for (&r, &gi) in rows[..n].iter().zip(&g[..n]) {
                    // SAFETY: as above.
                    unsafe { add_row::<HESS, F>(&cols, r as usize, gi as f64, 0.0, blocks) };
                }
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
            codes: vec![0, 1, 2, 3, 1, /* f1 */ 2, 2, 0, 1, 3],
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
        let p = data.features.len();
        let mut out = vec![HistBin::default(); p * BLOCK];
        for &r in rows {
            let r = r as usize;
            for f in 0..p {
                let b = &mut out[f * BLOCK + data.column(f)[r] as usize];
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
        let mut rng = crate::common::rng::for_task(seed, 0);
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
        // Column-major codes.
        let codes = (0..n * p)
            .map(|k| rng.gen_range(0..=features[k / n].n_bins_non_missing) as u8)
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
        /// The grouped, parallel build equals the straightforward sums bit for bit, for
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
