//! Initial centres of k-means: k-means++ (scikit-learn's `_kmeans_plusplus`) and weighted
//! random rows. Both work on the row-major, centred training matrix and draw from one seeded
//! generator, so they are the same for any number of threads.

use rand::Rng;
use rayon::prelude::*;

use crate::common::linalg::{gemm_abt, sq_norm};
use crate::common::rng::ChaCha8Rng;
use crate::common::simd::with_avx2;
use crate::error::{Error, Result};

/// Rows per parallel block of the distance computations here.
const BLOCK: usize = 1024;

/// The squared norm of every row of `x` (`n × p`, row-major), by fixed row blocks in
/// parallel.
pub(crate) fn row_sq_norms(x: &[f64], n: usize, p: usize) -> Vec<f64> {
    let mut x_sq = vec![0.0; n];
    x_sq.par_chunks_mut(BLOCK)
        .zip(x.par_chunks(BLOCK * p.max(1)))
        .for_each(|(sq, rows)| {
            for (v, r) in sq.iter_mut().zip(rows.chunks_exact(p.max(1))) {
                *v = sq_norm(r);
            }
        });
    x_sq
}

/// The potentials of k-means++'s draws: every row's squared distance to its closest centre
/// so far (slot `closest` of `slots`), and the weighted sum of each fixed block of
/// [`BLOCK`] rows of it, in row order. The running sum of the blocks, in block order, is
/// the total potential, and a draw walks it ([`Potentials::draw`]) instead of a cumulative
/// sum of every row. The other `t` slots take the distances to the candidates of a step.
struct Potentials {
    /// `t + 1` vectors of `n` distances, one per slot.
    slots: Vec<Vec<f64>>,
    /// For every slot, the weighted sum of each block of rows (`blocks` values).
    block_sums: Vec<Vec<f64>>,
    /// The slot holding the closest distances.
    closest: usize,
}

impl Potentials {
    fn new(n: usize, t: usize) -> Self {
        let blocks = n.div_ceil(BLOCK);
        Self {
            slots: (0..=t).map(|_| vec![0.0; n]).collect(),
            block_sums: vec![vec![0.0; blocks]; t + 1],
            closest: 0,
        }
    }

    /// The total potential of `slot`: its block sums added in block order.
    fn total(&self, slot: usize) -> f64 {
        self.block_sums
            .get(slot)
            .map_or(0.0, |b| b.iter().fold(0.0, |acc, v| acc + v))
    }

    /// The first row whose running weighted potential reaches `target` (numpy's
    /// `searchsorted` on the cumulative sum, side left; the running sum is the block prefix
    /// plus the sum within the block), clipped to the last row.
    fn draw(&self, w: &[f64], target: f64) -> usize {
        let (Some(closest), Some(sums)) = (
            self.slots.get(self.closest),
            self.block_sums.get(self.closest),
        ) else {
            return 0;
        };
        let n = closest.len();
        let mut before = 0.0;
        for (b, &s) in sums.iter().enumerate() {
            let after = before + s;
            if after >= target {
                let first = b * BLOCK;
                let rows = closest.get(first..n.min(first + BLOCK)).unwrap_or(&[]);
                let mut within = 0.0;
                for (r, (d, wi)) in rows.iter().zip(w.get(first..).unwrap_or(&[])).enumerate() {
                    within += wi * d;
                    if before + within >= target {
                        return first + r;
                    }
                }
                return (first + rows.len())
                    .saturating_sub(1)
                    .min(n.saturating_sub(1));
            }
            before = after;
        }
        n.saturating_sub(1)
    }

    /// Writes the squared distances of every row to each of `centres` (at most `t`) into
    /// the slots other than the closest one, in order, each capped by the closest distance
    /// when `capped`, with their block sums; returns the slots written. As scikit-learn's
    /// `_euclidean_distances` with the squared norms given: `max(0, (−2 x·c + ‖c‖²) +
    /// ‖x‖²)`, the products of a block of rows with every centre in one GEMM, so one pass
    /// over `x` serves every centre. Fixed row blocks run in parallel, each summed in row
    /// order: the same bits for any number of threads.
    fn distances(
        &mut self,
        x: &[f64],
        x_sq: &[f64],
        p: usize,
        w: &[f64],
        centres: &[&[f64]],
        capped: bool,
    ) -> Result<Vec<usize>> {
        let closest = self.closest;
        let targets: Vec<usize> = (0..self.slots.len())
            .filter(|&s| s != closest)
            .take(centres.len())
            .collect();
        let t = targets.len();
        if t == 0 || p == 0 {
            for &s in &targets {
                self.slots.get_mut(s).into_iter().for_each(|v| v.fill(0.0));
                self.block_sums
                    .get_mut(s)
                    .into_iter()
                    .for_each(|v| v.fill(0.0));
            }
            return Ok(targets);
        }
        let flat: Vec<f64> = centres.iter().flat_map(|c| c.iter().copied()).collect();
        let c_sq: Vec<f64> = centres.iter().map(|c| sq_norm(c)).collect();
        // Per block: the closest distances (read), and the block of every target slot with
        // its block sum (written).
        let mut cap: &[f64] = &[];
        let mut outs: Vec<std::slice::ChunksMut<'_, f64>> = Vec::with_capacity(t);
        let mut sums: Vec<std::slice::IterMut<'_, f64>> = Vec::with_capacity(t);
        for (s, (slot, bs)) in self
            .slots
            .iter_mut()
            .zip(self.block_sums.iter_mut())
            .enumerate()
        {
            if s == closest {
                cap = slot;
            } else if targets.contains(&s) {
                outs.push(slot.chunks_mut(BLOCK));
                sums.push(bs.iter_mut());
            }
        }
        let mut blocks: Vec<(Vec<&mut [f64]>, Vec<&mut f64>)> = Vec::new();
        loop {
            let o: Vec<&mut [f64]> = outs.iter_mut().filter_map(|c| c.next()).collect();
            let b: Vec<&mut f64> = sums.iter_mut().filter_map(|c| c.next()).collect();
            if o.len() != t || b.len() != t {
                break;
            }
            blocks.push((o, b));
        }
        blocks
            .into_par_iter()
            .enumerate()
            .try_for_each(|(b, (mut out, mut pots))| {
                let first = b * BLOCK;
                let rows = out.first().map_or(0, |o| o.len());
                let xs = x.get(first * p..(first + rows) * p).unwrap_or(&[]);
                let mut dots = vec![0.0; rows * t];
                gemm_abt(xs, rows, &flat, t, p, &mut dots)?;
                let mut acc = vec![0.0; t];
                with_avx2(
                    #[inline(always)]
                    || {
                        for (r, ds) in dots.chunks_exact(t).enumerate() {
                            let i = first + r;
                            let xn = x_sq.get(i).copied().unwrap_or(0.0);
                            let c = if capped { cap.get(i).copied() } else { None };
                            let wi = w.get(i).copied().unwrap_or(0.0);
                            for (((d, cn), o), a) in
                                ds.iter().zip(&c_sq).zip(out.iter_mut()).zip(acc.iter_mut())
                            {
                                let v = ((-2.0 * *d + cn) + xn).max(0.0);
                                let v = match c {
                                    Some(c) => v.min(c),
                                    None => v,
                                };
                                if let Some(slot) = o.get_mut(r) {
                                    *slot = v;
                                }
                                *a += wi * v;
                            }
                        }
                    },
                );
                for (pot, a) in pots.iter_mut().zip(acc) {
                    **pot = a;
                }
                Ok::<(), Error>(())
            })?;
        Ok(targets)
    }
}

/// k-means++ as scikit-learn's `_kmeans_plusplus`: the first centre drawn with probability
/// proportional to the weight, each next one the best (smallest total weighted potential) of
/// `2 + ⌊ln k⌋` candidates drawn with probability proportional to `weight · D²`. `x_sq` are
/// the rows' squared norms when the caller has them (else they are computed). Returns the
/// indices of the chosen rows.
pub(crate) fn kmeans_plusplus(
    x: &[f64],
    n: usize,
    p: usize,
    w: &[f64],
    k: usize,
    rng: &mut ChaCha8Rng,
    x_sq: Option<&[f64]>,
) -> Result<Vec<usize>> {
    let n_local_trials = 2 + (k as f64).ln().floor() as usize;
    let row = |i: usize| x.get(i * p..(i + 1) * p).unwrap_or(&[]);
    let total_w = w.iter().fold(0.0, |acc, v| acc + v);
    // numpy's `choice(n, p=w/Σw)`: searchsorted(cdf, u, side="right").
    let u: f64 = rng.gen::<f64>() * total_w;
    let mut acc = 0.0;
    let first = w
        .iter()
        .position(|&wi| {
            acc += wi;
            acc > u
        })
        .unwrap_or(n.saturating_sub(1));
    let mut chosen = vec![first];
    let computed;
    let x_sq = match x_sq {
        Some(s) => s,
        None => {
            computed = row_sq_norms(x, n, p);
            &computed
        }
    };
    let mut pots = Potentials::new(n, n_local_trials);
    let slot = pots.distances(x, x_sq, p, w, &[row(first)], false)?;
    pots.closest = slot.first().copied().unwrap_or(0);
    for _ in 1..k {
        let current_pot = pots.total(pots.closest);
        let ids: Vec<usize> = (0..n_local_trials)
            .map(|_| pots.draw(w, rng.gen::<f64>() * current_pot))
            .collect();
        let centres: Vec<&[f64]> = ids.iter().map(|&id| row(id)).collect();
        let slots = pots.distances(x, x_sq, p, w, &centres, true)?;
        // The first candidate of the smallest potential, as scikit-learn's argmin; its
        // distances become the closest ones.
        let mut best: Option<(f64, usize)> = None;
        for (t, &s) in slots.iter().enumerate() {
            let pot = pots.total(s);
            if best.is_none_or(|(b, _)| pot < b) {
                best = Some((pot, t));
            }
        }
        if let Some((_, t)) = best {
            pots.closest = slots.get(t).copied().unwrap_or(pots.closest);
            chosen.extend(ids.get(t));
        }
    }
    Ok(chosen)
}

/// `k` distinct rows drawn without replacement with probability proportional to the weight
/// (scikit-learn's `init="random"`: `choice(n, k, replace=False, p=w/Σw)`).
pub(crate) fn random_rows(w: &[f64], k: usize, rng: &mut ChaCha8Rng) -> Result<Vec<usize>> {
    let positive = w.iter().filter(|&&v| v > 0.0).count();
    if positive < k {
        return Err(Error::InvalidArgument(format!(
            "k_means: init \"random\" draws {k} distinct rows but only {positive} rows have a \
             positive sample weight"
        )));
    }
    let mut left: Vec<f64> = w.to_vec();
    let mut cumsum = Vec::with_capacity(w.len());
    let mut chosen = Vec::with_capacity(k);
    for _ in 0..k {
        cumsum.clear();
        let mut acc = 0.0;
        for &v in &left {
            acc += v;
            cumsum.push(acc);
        }
        let u: f64 = rng.gen::<f64>() * acc;
        let mut id = cumsum
            .partition_point(|&c| c <= u)
            .min(w.len().saturating_sub(1));
        // Rounding can land on a drawn (zero) row at the very end: take the last live one.
        if left.get(id).is_none_or(|&v| v <= 0.0) {
            id = left.iter().rposition(|&v| v > 0.0).unwrap_or(0);
        }
        if let Some(v) = left.get_mut(id) {
            *v = 0.0;
        }
        chosen.push(id);
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::rng;

    #[test]
    fn plusplus_picks_distinct_far_rows_and_random_respects_weights() {
        // Two tight groups far apart: k-means++ takes one row of each.
        let x = [0.0, 0.0, 0.1, 0.0, 0.0, 0.1, 10.0, 10.0, 10.1, 10.0];
        let w = [1.0; 5];
        for seed in 0..20 {
            let c = kmeans_plusplus(&x, 5, 2, &w, 2, &mut rng::for_task(seed, 0), None).unwrap();
            assert_eq!(c.len(), 2);
            assert!((c[0] < 3) != (c[1] < 3), "{c:?}");
        }
        let w = [0.0, 1.0, 0.0, 2.0, 0.0];
        for seed in 0..20 {
            let mut c = random_rows(&w, 2, &mut rng::for_task(seed, 0)).unwrap();
            c.sort_unstable();
            assert_eq!(c, [1, 3]);
        }
        assert!(random_rows(&w, 3, &mut rng::for_task(0, 0)).is_err());
    }

    #[test]
    fn block_draws_find_the_row_of_the_running_sum() {
        // Several blocks (the last one partial), zero weights and zero distances included.
        let n = 3 * BLOCK + 77;
        let mut r = rng::for_task(7, 0);
        let w: Vec<f64> = (0..n)
            .map(|i| if i % 13 == 0 { 0.0 } else { r.gen::<f64>() })
            .collect();
        let d: Vec<f64> = (0..n)
            .map(|i| {
                if i % 7 == 0 {
                    0.0
                } else {
                    r.gen::<f64>() * 10.0
                }
            })
            .collect();
        let mut pots = Potentials::new(n, 1);
        let x: Vec<f64> = d.iter().map(|v| v.sqrt()).collect();
        let x_sq = d.clone();
        let slots = pots.distances(&x, &x_sq, 1, &w, &[&[0.0]], false).unwrap();
        pots.closest = slots[0];
        let cumsum: Vec<f64> = w
            .iter()
            .zip(&d)
            .scan(0.0, |acc, (wi, di)| {
                *acc += wi * di;
                Some(*acc)
            })
            .collect();
        let total = pots.total(pots.closest);
        assert!((total - cumsum[n - 1]).abs() <= 1e-9 * total);
        for _ in 0..2000 {
            let target = r.gen::<f64>() * total;
            let plain = cumsum.partition_point(|&c| c < target).min(n - 1);
            let drawn = pots.draw(&w, target);
            // The two running sums differ only by rounding: the same row, or one whose
            // running sums straddle the target within rounding.
            if drawn != plain {
                let (lo, hi) = (drawn.min(plain), drawn.max(plain));
                assert!(
                    (cumsum[lo] - target).abs() <= 1e-9 * total,
                    "{drawn} vs {plain}"
                );
                assert!(w[lo + 1..hi]
                    .iter()
                    .zip(&d[lo + 1..hi])
                    .all(|(a, b)| a * b == 0.0));
            }
            assert!(
                w[drawn] * d[drawn] > 0.0,
                "a row of zero potential was drawn"
            );
        }
        assert_eq!(pots.draw(&w, total * 2.0), n - 1);
    }
}
