//! Seeded percentile bootstrap intervals of the estimates: resample `b` draws `n` rows with
//! replacement from the stream `for_task(random_state, b)`, so the intervals are the same for
//! any thread count.

use rand::Rng;

use super::estimator::{OpeEstimator, RowTerms, Sums, Weighting, ROW_WIDTH};
use super::{Interval, OpeOptions};
use crate::common::parallel::map_fold_blocks;
use crate::common::rng;
use crate::common::stats::percentile_linear_sorted;
use crate::error::Result;

/// One interval per estimator (empty when `n_bootstrap` is 0).
pub(super) fn intervals(
    terms: &[f64],
    weighting: Weighting,
    estimators: &[OpeEstimator],
    options: &OpeOptions,
) -> Result<Vec<Interval>> {
    let b = options.n_bootstrap;
    if b == 0 {
        return Ok(Vec::new());
    }
    let n = terms.len() / ROW_WIDTH;
    let mut replicates: Vec<Vec<f64>> = vec![Vec::with_capacity(b); estimators.len()];
    map_fold_blocks(
        b,
        |r| {
            let mut rng = rng::for_task(options.random_state, r as u64);
            let mut sums = Sums::default();
            for _ in 0..n {
                let i = rng.gen_range(0..n);
                let row = terms
                    .get(i * ROW_WIDTH..(i + 1) * ROW_WIDTH)
                    .unwrap_or_default();
                sums.add(&RowTerms::load(row), weighting, 1.0);
            }
            estimators
                .iter()
                .map(|&e| sums.estimate(e))
                .collect::<Vec<f64>>()
        },
        |_, values| {
            for (dst, v) in replicates.iter_mut().zip(values) {
                dst.push(v);
            }
            Ok(())
        },
    )?;
    let half = 100.0 * options.alpha / 2.0;
    Ok(replicates
        .into_iter()
        .map(|mut v| {
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
