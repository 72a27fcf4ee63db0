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

/// The first index whose running sum of `values` is `>= target` (numpy's `searchsorted`,
/// side left, on the cumulative sum), clipped to the last index.
fn search_cumsum(cumsum: &[f64], target: f64) -> usize {
    let i = cumsum.partition_point(|&c| c < target);
    i.min(cumsum.len().saturating_sub(1))
}

/// The squared distances of every row of `x` (`n × p`, row-major, squared norms in `x_sq`)
/// to each of `centres`, each capped by the matching value of `cap` when given, written
/// row-major to `out` (`n × t` for `t` centres); returns each centre's weighted sum
/// `Σ w_i out_it` (its potential). As scikit-learn's `_euclidean_distances` with the squared
/// norms given: `max(0, (−2 x·c + ‖c‖²) + ‖x‖²)`, the products of a block of rows with every
/// centre in one GEMM, so one pass over `x` serves every centre. Fixed row blocks run in
/// parallel, each summed in row order and the blocks added in block order: the same bits for
/// any number of threads.
fn distances_to(
    x: &[f64],
    x_sq: &[f64],
    p: usize,
    w: &[f64],
    centres: &[&[f64]],
    cap: Option<&[f64]>,
    out: &mut [f64],
) -> Result<Vec<f64>> {
    let t = centres.len();
    if t == 0 || p == 0 {
        out.fill(0.0);
        return Ok(vec![0.0; t]);
    }
    let flat: Vec<f64> = centres.iter().flat_map(|c| c.iter().copied()).collect();
    let c_sq: Vec<f64> = centres.iter().map(|c| sq_norm(c)).collect();
    let blocks = out.len().div_ceil(BLOCK * t);
    let mut partial = vec![0.0; blocks * t];
    out.par_chunks_mut(BLOCK * t)
        .zip(partial.par_chunks_mut(t))
        .enumerate()
        .try_for_each(|(b, (chunk, pots))| {
            let first = b * BLOCK;
            let rows = chunk.len() / t;
            let xs = x.get(first * p..(first + rows) * p).unwrap_or(&[]);
            gemm_abt(xs, rows, &flat, t, p, chunk)?;
            with_avx2(
                #[inline(always)]
                || {
                    for (r, ds) in chunk.chunks_exact_mut(t).enumerate() {
                        let i = first + r;
                        let xn = x_sq.get(i).copied().unwrap_or(0.0);
                        let c = cap.and_then(|c| c.get(i)).copied();
                        let wi = w.get(i).copied().unwrap_or(0.0);
                        for ((d, cn), pot) in ds.iter_mut().zip(&c_sq).zip(pots.iter_mut()) {
                            let v = ((-2.0 * *d + cn) + xn).max(0.0);
                            *d = match c {
                                Some(c) => v.min(c),
                                None => v,
                            };
                            *pot += wi * *d;
                        }
                    }
                },
            );
            Ok::<(), Error>(())
        })?;
    let mut total = vec![0.0; t];
    for pots in partial.chunks_exact(t) {
        for (s, v) in total.iter_mut().zip(pots) {
            *s += v;
        }
    }
    Ok(total)
}

/// k-means++ as scikit-learn's `_kmeans_plusplus`: the first centre drawn with probability
/// proportional to the weight, each next one the best (smallest total weighted potential) of
/// `2 + ⌊ln k⌋` candidates drawn with probability proportional to `weight · D²`. Returns the
/// indices of the chosen rows.
pub(crate) fn kmeans_plusplus(
    x: &[f64],
    n: usize,
    p: usize,
    w: &[f64],
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<usize>> {
    let n_local_trials = 2 + (k as f64).ln().floor() as usize;
    let row = |i: usize| x.get(i * p..(i + 1) * p).unwrap_or(&[]);
    let mut cumsum = Vec::with_capacity(n);
    let mut total = 0.0;
    for &wi in w {
        total += wi;
        cumsum.push(total);
    }
    // numpy's `choice(n, p=w/Σw)`: searchsorted(cdf, u, side="right").
    let u: f64 = rng.gen::<f64>() * total;
    let first = cumsum.partition_point(|&c| c <= u).min(n.saturating_sub(1));
    let mut chosen = vec![first];
    let mut x_sq = vec![0.0; n];
    x_sq.par_chunks_mut(BLOCK)
        .zip(x.par_chunks(BLOCK * p.max(1)))
        .for_each(|(sq, rows)| {
            for (v, r) in sq.iter_mut().zip(rows.chunks_exact(p.max(1))) {
                *v = sq_norm(r);
            }
        });
    let mut closest = vec![0.0; n];
    let mut current_pot = distances_to(x, &x_sq, p, w, &[row(first)], None, &mut closest)?
        .first()
        .copied()
        .unwrap_or(0.0);
    let mut candidates = vec![0.0; n * n_local_trials];
    for _ in 1..k {
        cumsum.clear();
        let mut acc = 0.0;
        for (wi, di) in w.iter().zip(&closest) {
            acc += wi * di;
            cumsum.push(acc);
        }
        let ids: Vec<usize> = (0..n_local_trials)
            .map(|_| search_cumsum(&cumsum, rng.gen::<f64>() * current_pot))
            .collect();
        let centres: Vec<&[f64]> = ids.iter().map(|&id| row(id)).collect();
        let pots = distances_to(x, &x_sq, p, w, &centres, Some(&closest), &mut candidates)?;
        // The first candidate of the smallest potential, as scikit-learn's argmin.
        let mut best: Option<(f64, usize)> = None;
        for (t, &pot) in pots.iter().enumerate() {
            if best.is_none_or(|(b, _)| pot < b) {
                best = Some((pot, t));
            }
        }
        if let Some((pot, t)) = best {
            current_pot = pot;
            closest
                .par_chunks_mut(BLOCK)
                .zip(candidates.par_chunks(BLOCK * n_local_trials))
                .for_each(|(c, ds)| {
                    for (v, d) in c.iter_mut().zip(ds.chunks_exact(n_local_trials)) {
                        *v = d.get(t).copied().unwrap_or(*v);
                    }
                });
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
            let c = kmeans_plusplus(&x, 5, 2, &w, 2, &mut rng::for_task(seed, 0)).unwrap();
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
}
