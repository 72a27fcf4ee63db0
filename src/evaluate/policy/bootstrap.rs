//! Seeded percentile bootstrap intervals of the estimates, by the Poisson bootstrap.
//!
//! Each resample counts every row an independent Poisson(1) number of times (Hanley and
//! MacGibbon 2006; Chamandy et al. 2012, "Estimating uncertainty for massive data streams"),
//! instead of drawing exactly `n` rows with replacement (the multinomial bootstrap). The
//! counts of different rows are independent, so the rows are resampled in fixed blocks with no
//! coordination between them: the count of row `i` in resample `r` comes from the stream
//! `for_task(random_state, 1 + r * n_blocks + block(i))` — the rows `2j` and `2j + 1` of a
//! block from the low and high 32 bits of the stream's word `j`, two counts per draw — one
//! pass over a block serves a group of resamples while its terms are in cache (four at a
//! time side by side, each with its own stream and its own sums added in row order), and no
//! index vector of `n` rows is ever made. The replicate of an estimator is its formula on the count-weighted sums, with the
//! resample size `sum(counts)` as `n` (the mean over the resampled rows), which is
//! asymptotically the same distribution as the multinomial bootstrap's (the resample size
//! varies by about `sqrt(n)`, and the estimates are means or ratios of sums, invariant to it to
//! first order). A resample of `n` rows is empty with probability `exp(-n)` (its estimates are
//! then 0): the intervals are meant for logs of more than a few dozen rows.
//!
//! The per-(block, resample) streams and the block-order reduction make the intervals the
//! same for any thread count.

use rand::RngCore;

use super::estimator::{OpeEstimator, TermSums, N_TERMS};
use super::{Interval, OpeOptions};
use crate::common::parallel::map_fold_blocks;
use crate::common::rng::{self, ChaCha8Rng};
use crate::common::stats::percentile_linear_sorted;
use crate::error::Result;

/// Rows per resampling block: the terms of a block (128 KiB) stay in cache across the
/// resamples of a task.
const BLOCK_ROWS: usize = 2048;

/// Resamples drawn per pass over a block (a fixed number: the tasks do not depend on the
/// thread count).
const RESAMPLES_PER_TASK: usize = 32;

/// One interval per estimator (empty when `n_bootstrap` is 0), from `terms`, the
/// `N_TERMS` terms of each row, row after row.
pub(super) fn intervals(
    terms: &[f64],
    estimators: &[OpeEstimator],
    options: &OpeOptions,
) -> Result<Vec<Interval>> {
    let b = options.n_bootstrap;
    if b == 0 {
        return Ok(Vec::new());
    }
    let n = terms.len() / N_TERMS;
    let n_blocks = n.div_ceil(BLOCK_ROWS);
    let n_groups = b.div_ceil(RESAMPLES_PER_TASK);
    let poisson = Poisson1::new();
    let mut resamples = vec![TermSums::default(); b];
    // Tasks run block by block, so each resample's block sums are added in block order.
    map_fold_blocks(
        n_blocks * n_groups,
        |task| {
            let (block, group) = (task / n_groups, task % n_groups);
            let rows = terms
                .get(block * BLOCK_ROWS * N_TERMS..)
                .unwrap_or_default();
            let rows = rows.get(..BLOCK_ROWS * N_TERMS).unwrap_or(rows);
            let first = group * RESAMPLES_PER_TASK;
            let last = (first + RESAMPLES_PER_TASK).min(b);
            let mut sums = Vec::with_capacity(last - first);
            for lane0 in (first..last).step_by(LANES) {
                let streams = std::array::from_fn(|l| {
                    let stream = ((lane0 + l) as u64)
                        .wrapping_mul(n_blocks as u64)
                        .wrapping_add(block as u64);
                    rng::for_task(options.random_state, stream.wrapping_add(1))
                });
                let lanes = resample_lanes(rows, streams, &poisson);
                sums.extend(lanes.into_iter().take(last - lane0));
            }
            sums
        },
        |task, sums| {
            let first = (task % n_groups) * RESAMPLES_PER_TASK;
            for (total, s) in resamples.iter_mut().skip(first).zip(&sums) {
                total.merge(s);
            }
            Ok(())
        },
    )?;
    let half = 100.0 * options.alpha / 2.0;
    Ok(estimators
        .iter()
        .map(|&e| {
            let mut v: Vec<f64> = resamples.iter().map(|s| s.estimate(e)).collect();
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            v.sort_unstable_by(f64::total_cmp);
            Interval {
                lower: percentile_linear_sorted(&v, half).unwrap_or(f64::NAN),
                upper: percentile_linear_sorted(&v, 100.0 - half).unwrap_or(f64::NAN),
                mean,
            }
        })
        .collect())
}

/// Resamples drawn side by side in one pass over a block's rows: each has its own stream and
/// its own sums (added in row order, as alone), and the lanes' sums are independent
/// additions the CPU overlaps (and vectorizes).
const LANES: usize = 4;

/// The count-weighted sums of `rows` (`N_TERMS` terms per row) for `LANES` resamples, lane
/// `l` counting from `streams[l]`: rows `2j` and `2j + 1` from the low and high 32 bits of
/// the stream's word `j`, a last odd row from the low bits of the next word. Each lane's
/// sums are those of [`TermSums::add`] over the rows in order, to the bit.
fn resample_lanes(
    rows: &[f64],
    streams: [ChaCha8Rng; LANES],
    poisson: &Poisson1,
) -> [TermSums; LANES] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { resample_lanes_avx2(rows, streams, poisson) };
        }
    }
    resample_lanes_kernel(rows, streams, poisson)
}

/// [`resample_lanes_kernel`] compiled for AVX2 (a register per term holds the four lanes;
/// the same bits, since no multiply-add is fused).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn resample_lanes_avx2(
    rows: &[f64],
    streams: [ChaCha8Rng; LANES],
    poisson: &Poisson1,
) -> [TermSums; LANES] {
    resample_lanes_kernel(rows, streams, poisson)
}

/// The loop of [`resample_lanes`].
#[inline(always)]
fn resample_lanes_kernel(
    rows: &[f64],
    mut streams: [ChaCha8Rng; LANES],
    poisson: &Poisson1,
) -> [TermSums; LANES] {
    let mut t = [[0.0f64; LANES]; N_TERMS];
    let mut n = [0.0f64; LANES];
    let mut pairs = rows.chunks_exact(2 * N_TERMS);
    for pair in &mut pairs {
        let mut low = [0.0; LANES];
        let mut high = [0.0; LANES];
        for ((rng, lo), hi) in streams.iter_mut().zip(&mut low).zip(&mut high) {
            let word = rng.next_u64();
            *lo = poisson.count(word as u32);
            *hi = poisson.count((word >> 32) as u32);
        }
        let (first, second) = pair.split_at(N_TERMS);
        add_counted(&mut t, &mut n, first, &low);
        add_counted(&mut t, &mut n, second, &high);
    }
    let last = pairs.remainder();
    if last.len() == N_TERMS {
        let counts = std::array::from_fn(|l| poisson.count(streams[l].next_u64() as u32));
        add_counted(&mut t, &mut n, last, &counts);
    }
    std::array::from_fn(|l| {
        let mut s = TermSums {
            n: n[l],
            ..TermSums::default()
        };
        for (k, acc) in t.iter().enumerate() {
            s.t[k] = acc[l];
        }
        s
    })
}

/// Adds one row's terms (`N_TERMS` values) to the lanes' sums `t` (term-major) and the
/// counts to `n`, lane `l` counting the row `counts[l]` times (inlined into the AVX2 kernel).
#[inline(always)]
fn add_counted(
    t: &mut [[f64; LANES]; N_TERMS],
    n: &mut [f64; LANES],
    row: &[f64],
    counts: &[f64; LANES],
) {
    for (acc, &v) in t.iter_mut().zip(row) {
        for (a, &c) in acc.iter_mut().zip(counts) {
            *a += c * v;
        }
    }
    for (a, &c) in n.iter_mut().zip(counts) {
        *a += c;
    }
}

/// Poisson(1) counts from uniform 32-bit words, by inversion: the count of `v` is the number
/// of `k` with `v < tail[k]`, where `tail[k] = P(X > k) * 2^32` (exact to the resolution of
/// the words, 2^-32: `P(X > 12) * 2^32 < 1`, so counts stop at 12).
struct Poisson1 {
    tail: [u32; 13],
    /// The count of every word whose top `TABLE_BITS` bits are the index, or `AMBIGUOUS`
    /// when a threshold falls inside that range of words (13 of the 4096 ranges at most).
    table: Vec<u8>,
}

/// The bits of a word that index [`Poisson1::table`].
const TABLE_BITS: u32 = 12;

/// A table entry whose range of words holds a threshold: count by comparison.
const AMBIGUOUS: u8 = u8::MAX;

impl Poisson1 {
    fn new() -> Self {
        // pmf[j] = e^-1 / j!, and each tail summed from its smallest terms up.
        let mut pmf = [0.0f64; 40];
        let mut p = (-1.0f64).exp();
        for (j, slot) in pmf.iter_mut().enumerate() {
            if j > 0 {
                p /= j as f64;
            }
            *slot = p;
        }
        let mut tail = [0u32; 13];
        for (k, t) in tail.iter_mut().enumerate() {
            let above: f64 = pmf.iter().skip(k + 1).rev().sum();
            // `as` saturates; every value here is below 2^32.
            *t = (above * 4_294_967_296.0) as u32;
        }
        let shift = 32 - TABLE_BITS;
        let table = (0..1u32 << TABLE_BITS)
            .map(|b| {
                let (lo, hi) = (b << shift, (b << shift) | ((1 << shift) - 1));
                if tail.iter().any(|&t| lo < t && t <= hi) {
                    AMBIGUOUS
                } else {
                    // Every word of the range has the count of its first.
                    tail.iter().filter(|&&t| lo < t).count() as u8
                }
            })
            .collect();
        Self { tail, table }
    }

    /// The count of the uniform word `v`: the number of thresholds above it.
    #[inline]
    fn count(&self, v: u32) -> f64 {
        match self.table.get((v >> (32 - TABLE_BITS)) as usize) {
            Some(&c) if c != AMBIGUOUS => f64::from(c),
            _ => self.count_by_comparison(v),
        }
    }

    /// [`count`](Self::count) by comparing with every threshold.
    #[inline]
    fn count_by_comparison(&self, v: u32) -> f64 {
        // Branch-free over the first eight thresholds (a count of 8 or more has probability
        // 1e-5), then the rare tail.
        let (head, rest) = self.tail.split_at(8);
        let mut x: u32 = head.iter().map(|&t| u32::from(v < t)).sum();
        if x == 8 {
            x += rest.iter().map(|&t| u32::from(v < t)).sum::<u32>();
        }
        f64::from(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_counts_have_the_poisson_1_law() {
        let p = Poisson1::new();
        // Thresholds are P(X > k) * 2^32, decreasing to 0.
        let frac = |k: usize| f64::from(p.tail[k]) / 4_294_967_296.0;
        assert!((frac(0) - (1.0 - (-1.0f64).exp())).abs() < 1e-9);
        assert!((frac(1) - (1.0 - 2.0 * (-1.0f64).exp())).abs() < 1e-9);
        assert!(p.tail.windows(2).all(|w| w[0] > w[1]));
        assert_eq!((p.tail[11], p.tail[12]), (3, 0));
        // The table gives the comparison's count on every range's first and last word and
        // around every threshold.
        for b in 0..1u32 << TABLE_BITS {
            let lo = b << (32 - TABLE_BITS);
            for v in [lo, lo | ((1 << (32 - TABLE_BITS)) - 1)] {
                assert_eq!(p.count(v), p.count_by_comparison(v), "{v}");
            }
        }
        for &t in &p.tail {
            for v in [t.wrapping_sub(1), t, t.wrapping_add(1)] {
                assert_eq!(p.count(v), p.count_by_comparison(v), "{v}");
            }
        }
        assert_eq!(p.count(u32::MAX), 0.0);
        assert_eq!(p.count(0), 12.0);
        // Mean and variance 1 over a seeded stream.
        let mut rng = rng::for_task(5, 0);
        let n = 200_000;
        let draws: Vec<f64> = (0..n).map(|_| p.count(rng.next_u32())).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
        let zeros = draws.iter().filter(|&&c| c == 0.0).count() as f64 / n as f64;
        assert!((zeros - (-1.0f64).exp()).abs() < 0.005, "P(0) {zeros}");
    }
}
