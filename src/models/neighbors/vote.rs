//! How the neighbours of a row make a prediction, the one piece of arithmetic of the four
//! neighbour models: scikit-learn's `weights` ([`Weights`]), the weighted class vote of the
//! classifiers and the weighted mean of the regressors.
//!
//! As scikit-learn's `_get_weights`: with `distance` weights a neighbour weighs `1 / d`,
//! except in a neighbourhood holding an exact match (a `d` whose inverse is infinite), where
//! the matches share the whole weight (1 each) and the others get 0 - never NaN.
//! Every sum runs over the neighbours in their order (by distance, then training row), so the
//! batch and the single-row paths give the same bits.

use serde::{Deserialize, Serialize};

/// How much each neighbour counts, as scikit-learn's `weights`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Weights {
    /// Every neighbour counts 1 (the default).
    #[default]
    Uniform,
    /// A neighbour counts `1 / distance`; exact matches (distance 0), when there are any,
    /// share the whole weight.
    Distance,
}

impl Weights {
    /// The weight of every neighbour of one row at distances `dist`, in order.
    fn of<'a>(self, dist: &'a [f64]) -> impl Iterator<Item = f64> + 'a {
        let exact = self == Weights::Distance && dist.iter().any(|d| (1.0 / d).is_infinite());
        dist.iter().map(move |&d| match self {
            Weights::Uniform => 1.0,
            Weights::Distance if exact => f64::from(u8::from((1.0 / d).is_infinite())),
            Weights::Distance => 1.0 / d,
        })
    }
}

/// The weighted votes of one row's neighbours (training rows `idx` at distances `dist`, of
/// classes `y`) into `sums` (one slot per class), zeroed first.
pub(crate) fn class_sums(
    weights: Weights,
    idx: &[usize],
    dist: &[f64],
    y: &[u32],
    sums: &mut [f64],
) {
    sums.fill(0.0);
    for (&i, w) in idx.iter().zip(weights.of(dist)) {
        if let Some(s) = y.get(i).and_then(|&c| sums.get_mut(c as usize)) {
            *s += w;
        }
    }
}

/// The class probabilities of one row (the votes over their total) into `proba`; a row
/// without neighbours gets zeros.
pub(crate) fn proba(weights: Weights, idx: &[usize], dist: &[f64], y: &[u32], proba: &mut [f64]) {
    class_sums(weights, idx, dist, y, proba);
    let total: f64 = proba.iter().sum();
    let total = if total == 0.0 { 1.0 } else { total };
    proba.iter_mut().for_each(|p| *p /= total);
}

/// The class with the largest vote (the first on ties, as scikit-learn's `weighted_mode`
/// and `argmax`), computed without a buffer: each class's vote sums its neighbours in order,
/// as [`class_sums`] does.
pub(crate) fn vote(
    weights: Weights,
    idx: &[usize],
    dist: &[f64],
    y: &[u32],
    n_classes: usize,
) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for c in 0..n_classes {
        let v: f64 = idx
            .iter()
            .zip(weights.of(dist))
            .filter(|(&i, _)| y.get(i).is_some_and(|&yi| yi as usize == c))
            .fold(0.0, |s, (_, w)| s + w);
        if v > best.1 {
            best = (c, v);
        }
    }
    best.0
}

/// The weighted mean of the targets `y` of one row's neighbours (`sum(w y) / sum(w)`; the
/// plain mean for uniform weights); NaN for a row without neighbours.
pub(crate) fn mean(weights: Weights, idx: &[usize], dist: &[f64], y: &[f64]) -> f64 {
    if idx.is_empty() {
        return f64::NAN;
    }
    let (num, den) = idx
        .iter()
        .zip(weights.of(dist))
        .fold((0.0, 0.0), |(num, den), (&i, w)| {
            (num + w * y.get(i).copied().unwrap_or(f64::NAN), den + w)
        });
    match weights {
        Weights::Uniform => num / idx.len() as f64,
        Weights::Distance => num / den,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exact_match_takes_the_whole_weight() {
        let w: Vec<f64> = Weights::Distance.of(&[0.0, 0.5, 0.0]).collect();
        assert_eq!(w, vec![1.0, 0.0, 1.0]);
        let w: Vec<f64> = Weights::Distance.of(&[0.5, 2.0]).collect();
        assert_eq!(w, vec![2.0, 0.5]);
        let y = [0.0, 10.0, 4.0];
        assert_eq!(
            mean(Weights::Distance, &[0, 1, 2], &[0.0, 0.5, 0.0], &y),
            2.0
        );
        assert!(mean(Weights::Uniform, &[], &[], &y).is_nan());
    }

    #[test]
    fn votes_break_ties_towards_the_first_class() {
        let y = [1, 0, 1, 0];
        assert_eq!(vote(Weights::Uniform, &[0, 1, 2, 3], &[1.0; 4], &y, 2), 0);
        assert_eq!(vote(Weights::Distance, &[0, 1], &[1.0, 2.0], &y, 2), 1);
        let mut p = [0.0; 2];
        proba(Weights::Uniform, &[0, 1, 2], &[1.0; 3], &y, &mut p);
        assert_eq!(p, [1.0 / 3.0, 2.0 / 3.0]);
        proba(Weights::Uniform, &[], &[], &y, &mut p);
        assert_eq!(p, [0.0, 0.0]);
    }
}
