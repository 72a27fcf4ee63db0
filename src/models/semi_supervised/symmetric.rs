//! A symmetric `n × n` matrix stored once per pair of rows: the square tiles of [`TILE`] rows
//! and columns on and above the block diagonal (about half the dense matrix), and its product
//! with a matrix of a few columns that reads each stored value once, using it both as
//! `A[i][j]` (row `i`'s sum) and as `A[j][i]` (row `j`'s): half the memory traffic of a dense
//! product, which is what an iteration over a large kernel is bound by.
//!
//! Both the build and the product run in parallel over fixed work items (tiles; pairs of block
//! rows) and add their partial sums in a fixed order, so the bits never depend on the number
//! of threads.

use std::ops::Range;

use crate::common::parallel::{for_each_mut, map_chunks_mut};
use crate::common::simd::with_avx2;
use crate::error::{Error, Result};

/// Rows (and columns) per tile.
pub const TILE: usize = 256;

/// A symmetric matrix as its upper block triangle: tile `(I, J)`, `I <= J`, holds rows
/// `I·TILE..` and columns `J·TILE..` row-major; the tiles are stored in the order
/// `(0, 0), (0, 1), …, (0, B-1), (1, 1), …`. A diagonal tile is stored whole (and symmetric).
#[derive(Debug, Clone, PartialEq)]
pub struct SymmetricTiles {
    n: usize,
    /// Tile `t` is `values[offsets[t]..offsets[t + 1]]`.
    offsets: Vec<usize>,
    values: Vec<f64>,
}

/// Block `b`'s rows of an `n`-row matrix.
fn block(n: usize, b: usize) -> Range<usize> {
    (b * TILE).min(n)..((b + 1) * TILE).min(n)
}

/// The position of tile `(bi, bj)`, `bi <= bj`, among the tiles of `nb` block rows.
fn tile_index(nb: usize, bi: usize, bj: usize) -> usize {
    // Block rows before `bi` hold `nb`, `nb - 1`, … tiles.
    bi * nb - bi * bi.saturating_sub(1) / 2 + (bj - bi)
}

impl SymmetricTiles {
    /// Builds the matrix of `n` rows tile by tile, in parallel: `f(rows, columns, tile)` fills
    /// the row-major tile of those rows and columns (only tiles on and above the block
    /// diagonal are asked for; a diagonal tile's lower half is then replaced by the mirror of
    /// its upper half, so the matrix is exactly symmetric). The first error of `f` (in tile
    /// order) is returned.
    pub fn build<F>(n: usize, f: F) -> Result<Self>
    where
        F: Fn(Range<usize>, Range<usize>, &mut [f64]) -> Result<()> + Sync,
    {
        let nb = n.div_ceil(TILE);
        let mut pairs = Vec::with_capacity(nb * (nb + 1) / 2);
        let mut offsets = vec![0];
        let mut total = 0;
        for bi in 0..nb {
            for bj in bi..nb {
                pairs.push((bi, bj));
                total += block(n, bi).len() * block(n, bj).len();
                offsets.push(total);
            }
        }
        let mut values = vec![0.0; total];
        let mut items: Vec<(&mut [f64], Result<()>)> = Vec::with_capacity(pairs.len());
        let mut rest = values.as_mut_slice();
        for w in offsets.windows(2) {
            let (tile, tail) = std::mem::take(&mut rest).split_at_mut(w[1] - w[0]);
            items.push((tile, Ok(())));
            rest = tail;
        }
        for_each_mut(&mut items, |t, (tile, status)| {
            let Some(&(bi, bj)) = pairs.get(t) else {
                return;
            };
            *status = f(block(n, bi), block(n, bj), tile);
            if bi == bj {
                let m = block(n, bi).len();
                for r in 1..m {
                    for c in 0..r {
                        if let Some(&v) = tile.get(c * m + r) {
                            if let Some(low) = tile.get_mut(r * m + c) {
                                *low = v;
                            }
                        }
                    }
                }
            }
        });
        for (_, status) in items {
            status?;
        }
        Ok(Self { n, offsets, values })
    }

    /// The number of rows (and columns).
    pub fn n(&self) -> usize {
        self.n
    }

    /// The number of stored values (about `n² / 2`).
    pub fn stored(&self) -> usize {
        self.values.len()
    }

    /// Sets every diagonal entry to `value`.
    pub fn set_diagonal(&mut self, value: f64) {
        let nb = self.n.div_ceil(TILE);
        for b in 0..nb {
            let m = block(self.n, b).len();
            let t = tile_index(nb, b, b);
            let start = self.offsets.get(t).copied().unwrap_or(0);
            for r in 0..m {
                if let Some(v) = self.values.get_mut(start + r * m + r) {
                    *v = value;
                }
            }
        }
    }

    /// `out = A · g`, `g` and `out` row-major `n × k`.
    ///
    /// Work item `p` takes block rows `p` and `B - 1 - p` (about the same number of tiles for
    /// every item) and sums, into a buffer of its own, each tile row's products with `g` (row
    /// `i`'s sums) and each tile's transposed products (the rows of the tile's columns); the
    /// items' buffers are then added in item order.
    pub fn times(&self, g: &[f64], k: usize, out: &mut [f64]) -> Result<()> {
        let n = self.n;
        if g.len() != n * k || out.len() != n * k {
            return Err(Error::shape(
                "symmetric product",
                format!("{n} x {k} matrices"),
                format!("{} and {} values", g.len(), out.len()),
            ));
        }
        if n == 0 || k == 0 {
            return Ok(());
        }
        // Class-major `g`, so that each product runs over contiguous values.
        let mut gt = vec![0.0; n * k];
        for (j, row) in g.chunks_exact(k).enumerate() {
            for (c, &v) in row.iter().enumerate() {
                if let Some(t) = gt.get_mut(c * n + j) {
                    *t = v;
                }
            }
        }
        let nb = n.div_ceil(TILE);
        let items = nb.div_ceil(2);
        let mut acc = vec![0.0; items * n * k];
        map_chunks_mut(&mut acc, n * k, |p, sums| {
            with_avx2(
                #[inline(always)]
                || {
                    self.block_row(nb, p, &gt, k, sums);
                    if nb - 1 - p != p {
                        self.block_row(nb, nb - 1 - p, &gt, k, sums);
                    }
                },
            )
        });
        for (i, o) in out.chunks_exact_mut(k).enumerate() {
            for (c, v) in o.iter_mut().enumerate() {
                *v = acc.iter().skip(c * n + i).step_by(n * k).sum();
            }
        }
        Ok(())
    }

    /// Adds block row `bi`'s contributions to `sums` (class-major `k × n`): for every stored
    /// value `A[i][j]` of the block row, `A[i][j] · g[j]` to row `i` and, off the diagonal
    /// tile, `A[i][j] · g[i]` to row `j`.
    #[inline(always)]
    fn block_row(&self, nb: usize, bi: usize, gt: &[f64], k: usize, sums: &mut [f64]) {
        let n = self.n;
        let rows = block(n, bi);
        for (t, bj) in (tile_index(nb, bi, bi)..).zip(bi..nb) {
            let cols = block(n, bj);
            let w = cols.len();
            let (a, b) = (
                self.offsets.get(t).copied().unwrap_or(0),
                self.offsets.get(t + 1).copied().unwrap_or(0),
            );
            let tile = self.values.get(a..b).unwrap_or(&[]);
            for (r, krow) in tile.chunks_exact(w.max(1)).enumerate() {
                let i = rows.start + r;
                for c in 0..k {
                    let gc = gt.get(c * n..(c + 1) * n).unwrap_or(&[]);
                    let g_cols = gc.get(cols.clone()).unwrap_or(&[]);
                    let s = if bi == bj {
                        row_dot(krow, g_cols, None)
                    } else {
                        let gi = gc.get(i).copied().unwrap_or(0.0);
                        let col_sums = sums
                            .get_mut(c * n + cols.start..c * n + cols.end)
                            .unwrap_or(&mut []);
                        row_dot(krow, g_cols, Some((gi, col_sums)))
                    };
                    if let Some(v) = sums.get_mut(c * n + i) {
                        *v += s;
                    }
                }
            }
        }
    }
}

/// Lanes of [`row_dot`]'s sum.
const LANES: usize = 8;

/// `Σ a_j b_j` (in [`LANES`] interleaved lanes, added pairwise, then the tail in order), and
/// with `col = Some((x, sums))` also `sums_j += a_j · x` for every `j`: one pass over a tile
/// row for both of its uses.
#[inline(always)]
fn row_dot(a: &[f64], b: &[f64], col: Option<(f64, &mut [f64])>) -> f64 {
    let m = a.len().min(b.len());
    let (a, b) = (a.get(..m).unwrap_or(&[]), b.get(..m).unwrap_or(&[]));
    let body = m - m % LANES;
    let mut lanes = [0.0; LANES];
    let (a8, b8) = (
        a.get(..body).unwrap_or(&[]).chunks_exact(LANES),
        b.get(..body).unwrap_or(&[]).chunks_exact(LANES),
    );
    match col {
        Some((x, sums)) => {
            let s8 = sums
                .get_mut(..body)
                .unwrap_or(&mut [])
                .chunks_exact_mut(LANES);
            for ((ac, bc), sc) in a8.zip(b8).zip(s8) {
                // Fixed-size views, so that the lanes are vector registers.
                let (Ok(ac), Ok(bc), Ok(sc)) = (
                    <&[f64; LANES]>::try_from(ac),
                    <&[f64; LANES]>::try_from(bc),
                    <&mut [f64; LANES]>::try_from(sc),
                ) else {
                    continue;
                };
                // Register copies: the compiler cannot tell the sums from the inputs.
                let (av, bv, mut sv) = (*ac, *bc, *sc);
                for l in 0..LANES {
                    lanes[l] += av[l] * bv[l];
                    sv[l] += av[l] * x;
                }
                *sc = sv;
            }
            for (s, &av) in sums.iter_mut().zip(a).skip(body) {
                *s += av * x;
            }
        }
        None => {
            for (ac, bc) in a8.zip(b8) {
                let (Ok(ac), Ok(bc)) =
                    (<&[f64; LANES]>::try_from(ac), <&[f64; LANES]>::try_from(bc))
                else {
                    continue;
                };
                let (av, bv) = (*ac, *bc);
                for l in 0..LANES {
                    lanes[l] += av[l] * bv[l];
                }
            }
        }
    }
    let mut s = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
        + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    for (&av, &bv) in a.iter().zip(b).skip(body) {
        s += av * bv;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::parallel::ThreadPolicy;

    fn dense(n: usize) -> Vec<f64> {
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let v = ((i * 31 + j * 17) % 23) as f64 / 7.0 - 1.0;
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
        }
        a
    }

    fn tiles_of(a: &[f64], n: usize) -> SymmetricTiles {
        SymmetricTiles::build(n, |rows, cols, tile| {
            let w = cols.len();
            for (r, i) in rows.enumerate() {
                for (c, j) in cols.clone().enumerate() {
                    // The lower half of a diagonal tile is garbage: the mirror replaces it.
                    tile[r * w + c] = if j >= i { a[i * n + j] } else { f64::NAN };
                }
            }
            Ok(())
        })
        .unwrap()
    }

    #[test]
    fn product_is_the_dense_product_on_any_thread_count() {
        for (n, k) in [(1, 1), (5, 2), (256, 1), (600, 3), (1030, 2)] {
            let a = dense(n);
            let s = tiles_of(&a, n);
            let g: Vec<f64> = (0..n * k).map(|v| (v % 13) as f64 - 6.0).collect();
            let mut want = vec![0.0; n * k];
            for i in 0..n {
                for j in 0..n {
                    for c in 0..k {
                        want[i * k + c] += a[i * n + j] * g[j * k + c];
                    }
                }
            }
            let run = |threads| {
                ThreadPolicy::new(Some(threads))
                    .run(|| {
                        let mut out = vec![0.0; n * k];
                        s.times(&g, k, &mut out).unwrap();
                        out
                    })
                    .unwrap()
            };
            let one = run(1);
            assert_eq!(one, run(3), "n = {n}");
            for (x, y) in one.iter().zip(&want) {
                assert!((x - y).abs() <= 1e-12 * n as f64, "n = {n}: {x} vs {y}");
            }
            assert!(s.stored() <= n * n / 2 + n * TILE);
        }
    }

    #[test]
    fn diagonal_and_shapes() {
        let n = 300;
        let mut s = tiles_of(&dense(n), n);
        s.set_diagonal(0.0);
        let mut out = vec![0.0; n];
        let e = vec![0.0; n];
        let mut g = e.clone();
        g[299] = 1.0;
        s.times(&g, 1, &mut out).unwrap();
        assert_eq!(out[299], 0.0);
        assert_eq!(out[3], dense(n)[3 * n + 299]);
        assert!(s.times(&e, 2, &mut out).is_err());
    }
}
