//! Early stopping: the held-out validation split and scikit-learn's stopping rule.

use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// scikit-learn's `_should_stop`: stop when none of the last `n_iter_no_change` scores beats
/// the score just before them by more than `tol` (scores: greater is better).
pub(crate) fn should_stop(scores: &[f64], n_iter_no_change: usize, tol: f64) -> bool {
    let reference_position = n_iter_no_change + 1;
    if scores.len() < reference_position {
        return false;
    }
    let reference = scores[scores.len() - reference_position] + tol;
    !scores[scores.len() - n_iter_no_change..]
        .iter()
        .any(|&s| s > reference)
}

/// Splits `0..n` into sorted (train, validation) positions, `ceil(fraction * n)` for
/// validation, stratified by class when `classes` is given (each class gets its share, the
/// remainders going to the largest fractional parts).
pub(crate) fn validation_split(
    n: usize,
    classes: Option<(&[f64], usize)>,
    fraction: f64,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let n_val = (fraction * n as f64).ceil() as usize;
    if n_val == 0 || n_val >= n {
        return Err(Error::InvalidArgument(format!(
            "validation_fraction {fraction} of {n} rows leaves an empty training or \
             validation set; use more rows or disable early_stopping"
        )));
    }
    let mut val = Vec::with_capacity(n_val);
    match classes {
        None => {
            let perm = crate::rng::permutation(n, rng);
            val.extend_from_slice(&perm[..n_val]);
        }
        Some((y, k)) => {
            let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); k];
            for (i, &c) in y.iter().enumerate() {
                if let Some(v) = by_class.get_mut(c as usize) {
                    v.push(i);
                }
            }
            let exact: Vec<f64> = by_class
                .iter()
                .map(|v| n_val as f64 * v.len() as f64 / n as f64)
                .collect();
            let mut take: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
            let mut order: Vec<usize> = (0..k).collect();
            order.sort_by(|&a, &b| {
                let fa = exact[a] - exact[a].floor();
                let fb = exact[b] - exact[b].floor();
                fb.total_cmp(&fa).then(a.cmp(&b))
            });
            let mut missing = n_val.saturating_sub(take.iter().sum());
            for &c in order.iter().cycle().take(4 * k) {
                if missing == 0 {
                    break;
                }
                if take[c] < by_class[c].len() {
                    take[c] += 1;
                    missing -= 1;
                }
            }
            for (c, idx) in by_class.iter_mut().enumerate() {
                rand::seq::SliceRandom::shuffle(idx.as_mut_slice(), rng);
                val.extend_from_slice(&idx[..take[c].min(idx.len())]);
            }
        }
    }
    val.sort_unstable();
    let mut is_val = vec![false; n];
    for &v in &val {
        is_val[v] = true;
    }
    let train = (0..n).filter(|&i| !is_val[i]).collect();
    Ok((train, val))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopping_rule_like_scikit_learn() {
        // Reference = scores[-3]; stop when neither of the last 2 beats it by tol.
        assert!(!should_stop(&[0.0, 1.0], 2, 0.0));
        assert!(!should_stop(&[0.0, 1.0, 2.0], 2, 0.0));
        assert!(should_stop(&[0.0, 1.0, 1.0, 1.0], 2, 0.0));
        assert!(!should_stop(&[0.0, 1.0, 1.0, 1.5], 2, 0.0));
        assert!(should_stop(&[0.0, 1.0, 1.0, 1.5], 2, 0.6));
    }

    #[test]
    fn stratified_split_keeps_class_shares() {
        let y: Vec<f64> = (0..100).map(|i| if i < 80 { 0.0 } else { 1.0 }).collect();
        let mut rng = crate::rng::for_task(0, 0);
        let (tr, va) = validation_split(100, Some((&y, 2)), 0.1, &mut rng).unwrap();
        assert_eq!(va.len(), 10);
        assert_eq!(tr.len(), 90);
        assert_eq!(va.iter().filter(|&&i| y[i] == 1.0).count(), 2);
        let (_, va2) =
            validation_split(100, Some((&y, 2)), 0.1, &mut crate::rng::for_task(0, 0)).unwrap();
        assert_eq!(va, va2);
        assert!(validation_split(3, None, 0.1, &mut rng).is_ok());
        assert!(validation_split(1, None, 0.5, &mut rng).is_err());
    }
}
