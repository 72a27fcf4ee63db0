//! Initial centres of k-means: k-means++ (scikit-learn's `_kmeans_plusplus`) and weighted
//! random rows. Both work on the row-major, centred training matrix and draw from one seeded
//! generator, so they are the same for any number of threads.

use rand::Rng;
use rayon::prelude::*;

use crate::common::linalg::sq_euclidean;
use crate::common::rng::ChaCha8Rng;
use crate::error::{Error, Result};

/// Rows per parallel block of the distance computations here.
const BLOCK: usize = 1024;

/// The first index whose running sum of `values` is `>= target` (numpy's `searchsorted`,
/// side left, on the cumulative sum), clipped to the last index.
fn search_cumsum(cumsum: &[f64], target: f64) -> usize {
    let i = cumsum.partition_point(|&c| c < target);
    i.min(cumsum.len().saturating_sub(1))
}

/// The squared distances of every row of `x` (`n × p`, row-major) to `centre`, each capped
/// by the matching value of `cap` when given, written to `out`; returns their weighted sum
/// `Σ w_i out_i` (the potential). Fixed row blocks run in parallel, each summed in row order
/// and the blocks added in block order: the same bits for any number of threads.
fn distances_to(
    x: &[f64],
    p: usize,
    w: &[f64],
    centre: &[f64],
    cap: Option<&[f64]>,
    out: &mut [f64],
) -> f64 {
    let mut partial = vec![0.0; out.len().div_ceil(BLOCK)];
    out.par_chunks_mut(BLOCK)
        .zip(partial.par_iter_mut())
        .enumerate()
        .for_each(|(b, (chunk, pot))| {
            let mut sum = 0.0;
            for (r, d) in chunk.iter_mut().enumerate() {
                let i = b * BLOCK + r;
                let v = x
                    .get(i * p..(i + 1) * p)
                    .map_or(0.0, |row| sq_euclidean(row, centre));
                *d = match cap.and_then(|c| c.get(i)) {
                    Some(&c) => v.min(c),
                    None => v,
                };
                sum += w.get(i).copied().unwrap_or(0.0) * *d;
            }
            *pot = sum;
        });
    partial.iter().sum()
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
) -> Vec<usize> {
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
    let mut closest = vec![0.0; n];
    let mut current_pot = distances_to(x, p, w, row(first), None, &mut closest);
    let mut candidate = vec![0.0; n];
    let mut best_dist = vec![0.0; n];
    for _ in 1..k {
        cumsum.clear();
        let mut acc = 0.0;
        for (wi, di) in w.iter().zip(&closest) {
            acc += wi * di;
            cumsum.push(acc);
        }
        let mut best: Option<(f64, usize)> = None;
        for _ in 0..n_local_trials {
            let r: f64 = rng.gen::<f64>() * current_pot;
            let id = search_cumsum(&cumsum, r);
            let pot = distances_to(x, p, w, row(id), Some(&closest), &mut candidate);
            if best.is_none_or(|(b, _)| pot < b) {
                best = Some((pot, id));
                std::mem::swap(&mut best_dist, &mut candidate);
            }
        }
        if let Some((pot, id)) = best {
            current_pot = pot;
            std::mem::swap(&mut closest, &mut best_dist);
            chosen.push(id);
        }
    }
    chosen
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
            let c = kmeans_plusplus(&x, 5, 2, &w, 2, &mut rng::for_task(seed, 0));
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
