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
    pub c: u32,
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
    let work = |(f, block): (usize, &mut [HistBin])| {
        let Ok(block) = <&mut [HistBin; BLOCK]>::try_from(block) else {
            return;
        };
        block.fill(HistBin::default());
        let col = data.column(f);
        match (rows, oh) {
            (None, None) => accumulate_dense::<false>(col, og, og, block),
            (None, Some(oh)) => accumulate_dense::<true>(col, og, oh, block),
            (Some(rows), None) => accumulate_rows::<false>(col, rows, og, og, block),
            (Some(rows), Some(oh)) => accumulate_rows::<true>(col, rows, og, oh, block),
        }
    };
    let n_rows = rows.map_or(data.n_rows, <[u32]>::len);
    if n_rows * n_features < 4096 {
        hist.chunks_mut(BLOCK).enumerate().for_each(work);
    } else {
        hist.par_chunks_mut(BLOCK).enumerate().for_each(work);
    }
}

/// All rows in order: `col[i]` pairs with `g[i]`.
#[inline(always)]
fn accumulate_dense<const HESS: bool>(
    col: &[u8],
    g: &[f32],
    h: &[f32],
    block: &mut [HistBin; BLOCK],
) {
    let n = col.len().min(g.len());
    let (col, g) = (&col[..n], &g[..n]);
    if HESS {
        let h = &h[..n];
        for i in 0..n {
            let b = &mut block[col[i] as usize];
            b.g += g[i] as f64;
            b.h += h[i] as f64;
            b.c += 1;
        }
    } else {
        for i in 0..n {
            let b = &mut block[col[i] as usize];
            b.g += g[i] as f64;
            b.c += 1;
        }
    }
}

/// The rows `rows`: `col[rows[i]]` pairs with the ordered gradient `g[i]`.
#[inline(always)]
fn accumulate_rows<const HESS: bool>(
    col: &[u8],
    rows: &[u32],
    g: &[f32],
    h: &[f32],
    block: &mut [HistBin; BLOCK],
) {
    let n = rows.len().min(g.len());
    let (rows, g) = (&rows[..n], &g[..n]);
    if HESS {
        let h = &h[..n];
        for i in 0..n {
            let Some(&code) = col.get(rows[i] as usize) else {
                continue;
            };
            let b = &mut block[code as usize];
            b.g += g[i] as f64;
            b.h += h[i] as f64;
            b.c += 1;
        }
    } else {
        for i in 0..n {
            let Some(&code) = col.get(rows[i] as usize) else {
                continue;
            };
            let b = &mut block[code as usize];
            b.g += g[i] as f64;
            b.c += 1;
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
        let grad = GradView {
            g: &g,
            h: Some(&h),
        };
        let mut s = Scratch::default();
        let mut all = vec![HistBin::default(); 2 * BLOCK];
        build(&d, None, grad, &mut s, &mut all);
        assert_eq!(all[1], HistBin { g: 7.0, h: 2.5, c: 2 });
        assert_eq!(all[BLOCK + 2], HistBin { g: 3.0, h: 1.0, c: 2 });
        let mut child = vec![HistBin::default(); 2 * BLOCK];
        build(&d, Some(&[1, 4]), grad, &mut s, &mut child);
        assert_eq!(child[1], HistBin { g: 7.0, h: 2.5, c: 2 });
        assert_eq!(child[BLOCK + 3], HistBin { g: 5.0, h: 2.0, c: 1 });
        subtract(&mut all, &child);
        assert_eq!(all[1], HistBin::default());
        assert_eq!(all[BLOCK + 2], HistBin { g: 1.0, h: 0.5, c: 1 });
        // Constant hessians: h left at 0, counts kept.
        let grad = GradView { g: &g, h: None };
        build(&d, Some(&[0, 2]), grad, &mut s, &mut child);
        assert_eq!(child[2], HistBin { g: 3.0, h: 0.0, c: 1 });
    }
}
