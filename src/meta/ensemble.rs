//! Ensemble selection (Caruana, Niculescu-Mizil, Crew and Ksikes 2004, as auto-sklearn
//! does it): greedy forward selection, with replacement, of the candidates whose averaged
//! out-of-fold predictions score best.
//!
//! The search keeps the out-of-fold predictions of the best [`NBEST`] candidates on the
//! first rung of every training row (class probabilities for a classifier, values for a
//! regressor), at most one per model family: the best configuration of each. Near-duplicate
//! members of one family (three extra-trees configurations) fit the out-of-fold rows more
//! than they generalise on small data; members of different families make the errors that
//! averaging cancels. Each round adds the candidate whose addition gives the best score of
//! the averaged predictions (ties: the better single candidate); the ensemble of the best
//! round (the earliest, on ties) is kept, each member weighted by how often it was added.
//!
//! The search uses it only when it has two members or more and its *cross-fitted* gain over
//! the best single candidate ([`cross_fitted_gain`]: selection on one half of the
//! out-of-fold rows, scored on the other, both ways) is larger than the gain's standard
//! error, estimated by a seeded bootstrap over the out-of-fold rows ([`gain_std_error`]).
//! The gain on the rows that selected the ensemble is biased upwards (greedy selection fits
//! them), most on small data; a gain within the noise of a few hundred rows is not worth a
//! model several times slower to fit and predict.

use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::ensemble::voting::argmax;
use crate::traits::{Metric, MetricInput, Prediction};

/// The most candidates whose out-of-fold predictions are kept.
pub const NBEST: usize = 16;

/// One candidate's out-of-fold predictions.
#[derive(Debug, Clone)]
pub(crate) struct Oof {
    /// The candidate.
    pub candidate: usize,
    /// Its model family (the registered type name).
    pub family: &'static str,
    /// The trial that made the predictions.
    pub trial: usize,
    /// Its score, signed so that larger is better.
    pub key: f64,
    /// Row-major predictions of the evaluated rows (`width` values per row).
    pub values: Vec<f64>,
}

/// The out-of-fold predictions of the best candidate of each family so far, best first
/// (ties: the earlier candidate), at most [`NBEST`].
#[derive(Debug, Default)]
pub(crate) struct OofStore {
    entries: Vec<Oof>,
}

impl OofStore {
    /// Adds `oof` unless its family already holds a better (or equally good, earlier)
    /// entry, which it otherwise replaces; drops the worst entry beyond [`NBEST`].
    pub fn insert(&mut self, oof: Oof) {
        let rank = |e: &Oof| (e.key, std::cmp::Reverse(e.candidate));
        if let Some(i) = self.entries.iter().position(|e| e.family == oof.family) {
            if self.entries.get(i).is_some_and(|e| rank(e) >= rank(&oof)) {
                return;
            }
            self.entries.remove(i);
        }
        let at = self.entries.partition_point(|e| rank(e) >= rank(&oof));
        self.entries.insert(at, oof);
        self.entries.truncate(NBEST);
    }

    /// The entries, best first.
    pub fn entries(&self) -> &[Oof] {
        &self.entries
    }
}

/// One member of a selected ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleMember {
    /// The trial whose out-of-fold predictions were selected.
    pub trial: usize,
    /// Its candidate.
    pub candidate: usize,
    /// How many rounds selected it (its voting weight).
    pub weight: f64,
}

/// What ensemble selection found, and whether the search used it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleReport {
    /// The members of the best round.
    pub members: Vec<EnsembleMember>,
    /// The ensemble's out-of-fold score (the search metric).
    pub score: f64,
    /// The best single candidate's score on the same pooled out-of-fold rows (pooled, like
    /// the ensemble's, so the two compare; a trial's score is the mean over folds).
    pub best_single_score: f64,
    /// The standard error of the ensemble's gain over the best single candidate (bootstrap
    /// over the out-of-fold rows); the ensemble is used only when its cross-fitted gain is
    /// larger.
    #[serde(default)]
    pub gain_std_error: f64,
    /// The gain over the best single candidate when the selection is made on one half of
    /// the out-of-fold rows and scored on the other, averaged over both ways (`None` with
    /// one member, or when neither half could be scored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_fitted_gain: Option<f64>,
    /// The round (from 1) whose ensemble was kept.
    pub rounds: usize,
    /// Whether the fitted model is this ensemble.
    pub used: bool,
    /// Why it was not used, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
}

/// The truth of the evaluated rows and how to score averaged predictions.
pub(crate) struct Scoring<'a> {
    /// The targets of the evaluated rows (class indices for a classifier).
    pub y: &'a [f64],
    /// Values per row: the class count for a classifier, 1 for a regressor.
    pub width: usize,
    /// Whether the predictions are class probabilities.
    pub classification: bool,
    /// The search metric.
    pub metric: &'a dyn Metric,
    /// +1 when larger is better, else -1.
    pub sign: f64,
}

impl Scoring<'_> {
    /// The signed score (larger is better) of row-major predictions `p`.
    #[cfg(test)]
    pub fn key(&self, p: &[f64]) -> Result<f64> {
        self.key_of(self.y, p)
    }

    /// The signed score of predictions `p` for the targets `y` (a subset of the rows).
    fn key_of(&self, y: &[f64], p: &[f64]) -> Result<f64> {
        let n = y.len();
        let y = ArrayView1::from(y);
        let score = if !self.classification {
            self.metric
                .score(y, Prediction::Values(ArrayView1::from(p)), None)?
        } else if self.metric.input() == MetricInput::Scores {
            let view = ArrayView2::from_shape((n, self.width), p)
                .map_err(|e| Error::shape("ensemble selection", "rows x classes", e))?;
            self.metric.score(y, Prediction::Scores(view), None)?
        } else {
            let labels: Vec<f64> = p.chunks(self.width.max(1)).map(argmax).collect();
            self.metric
                .score(y, Prediction::Values(ArrayView1::from(&labels[..])), None)?
        };
        Ok(self.sign * score)
    }
}

/// Bootstrap resamples of the out-of-fold rows that estimate the gain's standard error.
pub const GAIN_RESAMPLES: usize = 200;

/// The standard error of the gain (signed: positive when the ensemble is better) of an
/// ensemble's averaged predictions over the best single candidate's, from
/// [`GAIN_RESAMPLES`] seeded bootstrap resamples of the rows (the same resamples for both,
/// so the error is the paired one). `ensemble` and `single` are row-major predictions of
/// the scored rows.
pub(crate) fn gain_std_error(
    scoring: &Scoring<'_>,
    ensemble: &[f64],
    single: &[f64],
    seed: u64,
) -> Result<f64> {
    use rand::Rng;
    let n = scoring.y.len();
    let w = scoring.width.max(1);
    let mut rng = crate::common::rng::for_task(seed, 0x6761_696e);
    let (mut y, mut pe, mut ps) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n * w),
        Vec::with_capacity(n * w),
    );
    let mut gains = Vec::with_capacity(GAIN_RESAMPLES);
    for _ in 0..GAIN_RESAMPLES {
        y.clear();
        pe.clear();
        ps.clear();
        for _ in 0..n {
            let i = rng.gen_range(0..n);
            y.extend(scoring.y.get(i));
            pe.extend(ensemble.get(i * w..(i + 1) * w).into_iter().flatten());
            ps.extend(single.get(i * w..(i + 1) * w).into_iter().flatten());
        }
        let g = scoring.key_of(&y, &pe)? - scoring.key_of(&y, &ps)?;
        if g.is_finite() {
            gains.push(g);
        }
    }
    let m = gains.len().max(1) as f64;
    let mean = gains.iter().sum::<f64>() / m;
    let var = gains.iter().map(|g| (g - mean) * (g - mean)).sum::<f64>() / (m - 1.0).max(1.0);
    Ok(var.sqrt())
}

/// The best round of a greedy selection.
struct Greedy {
    /// Its signed score (larger is better).
    key: f64,
    /// How often each entry was selected up to it.
    counts: Vec<usize>,
    /// The round (from 1).
    rounds: usize,
    /// The signed score of the best single entry (the first round's pick).
    single: f64,
    /// That entry.
    single_at: usize,
}

/// Runs `rounds` rounds of greedy selection with replacement over `values` (row-major
/// predictions of the rows of `y`, one slice per entry); `None` when no round scores.
fn greedy(
    values: &[&[f64]],
    scoring: &Scoring<'_>,
    y: &[f64],
    rounds: usize,
) -> Result<Option<Greedy>> {
    let len = values.first().map_or(0, |v| v.len());
    let mut sum = vec![0.0; len];
    let mut trial = vec![0.0; len];
    let mut counts = vec![0usize; values.len()];
    let mut best: Option<(f64, Vec<usize>, usize)> = None;
    // The first round scores every entry alone: its best is the best single entry.
    let mut single = f64::NAN;
    let mut single_at = 0;
    for round in 1..=rounds {
        let scale = 1.0 / round as f64;
        let mut pick: Option<(f64, usize)> = None;
        for (m, entry) in values.iter().enumerate() {
            for ((t, s), v) in trial.iter_mut().zip(&sum).zip(entry.iter()) {
                *t = (s + v) * scale;
            }
            let key = scoring.key_of(y, &trial)?;
            if key.is_finite() && pick.is_none_or(|(k, _)| key > k) {
                pick = Some((key, m));
            }
        }
        let Some((key, m)) = pick else {
            break;
        };
        if round == 1 {
            single = key;
            single_at = m;
        }
        if let (Some(c), Some(entry)) = (counts.get_mut(m), values.get(m)) {
            *c += 1;
            for (s, v) in sum.iter_mut().zip(entry.iter()) {
                *s += v;
            }
        }
        if best.as_ref().is_none_or(|(k, _, _)| key > *k) {
            best = Some((key, counts.clone(), round));
        }
    }
    Ok(best.map(|(key, counts, rounds)| Greedy {
        key,
        counts,
        rounds,
        single,
        single_at,
    }))
}

/// The rows `rows` of row-major `values` with `width` values per row.
fn take_rows(values: &[f64], rows: &[usize], width: usize) -> Vec<f64> {
    rows.iter()
        .flat_map(|&i| values.get(i * width..(i + 1) * width).into_iter().flatten())
        .copied()
        .collect()
}

/// The gain of ensemble selection over the best single entry, measured on rows that did
/// not select it: the rows are split in two seeded halves; selection runs on one half and
/// the selected ensemble and best single entry of that half are scored on the other; the
/// gain is the mean over both ways. `None` when neither half could be scored (a metric
/// that needs both classes, say, on a half that lacks one).
pub(crate) fn cross_fitted_gain(
    values: &[&[f64]],
    scoring: &Scoring<'_>,
    rounds: usize,
    seed: u64,
) -> Option<f64> {
    let n = scoring.y.len();
    let w = scoring.width.max(1);
    let mut rng = crate::common::rng::for_task(seed, 0x6372_6f73);
    let order = crate::common::rng::permutation(n, &mut rng);
    let (mut a, mut b) = (
        order.get(..n / 2).unwrap_or(&[]).to_vec(),
        order.get(n / 2..).unwrap_or(&[]).to_vec(),
    );
    a.sort_unstable();
    b.sort_unstable();
    let mut gains = Vec::with_capacity(2);
    for (fit, test) in [(&a, &b), (&b, &a)] {
        let fit_values: Vec<Vec<f64>> = values.iter().map(|v| take_rows(v, fit, w)).collect();
        let refs: Vec<&[f64]> = fit_values.iter().map(Vec::as_slice).collect();
        let fit_y = take_rows(scoring.y, fit, 1);
        let Ok(Some(g)) = greedy(&refs, scoring, &fit_y, rounds) else {
            continue;
        };
        let test_y = take_rows(scoring.y, test, 1);
        let total = g.counts.iter().sum::<usize>().max(1) as f64;
        let mut ensemble = vec![0.0; test.len() * w];
        for (v, &c) in values.iter().zip(&g.counts) {
            if c > 0 {
                for (e, x) in ensemble.iter_mut().zip(take_rows(v, test, w)) {
                    *e += c as f64 * x / total;
                }
            }
        }
        let single = values
            .get(g.single_at)
            .map(|v| take_rows(v, test, w))
            .unwrap_or_default();
        if let (Ok(e), Ok(s)) = (
            scoring.key_of(&test_y, &ensemble),
            scoring.key_of(&test_y, &single),
        ) {
            if (e - s).is_finite() {
                gains.push(e - s);
            }
        }
    }
    (!gains.is_empty()).then(|| gains.iter().sum::<f64>() / gains.len() as f64)
}

/// Runs `rounds` rounds of greedy selection with replacement over `store`; `None` when the
/// store is empty. `seed` seeds the bootstrap of the gain's standard error.
pub(crate) fn select(
    store: &OofStore,
    scoring: &Scoring<'_>,
    rounds: usize,
    seed: u64,
) -> Result<Option<EnsembleReport>> {
    let pool = store.entries();
    let Some(first) = pool.first() else {
        return Ok(None);
    };
    let len = first.values.len();
    if pool.iter().any(|e| e.values.len() != len) || len != scoring.y.len() * scoring.width {
        return Err(Error::InvalidArgument(
            "ensemble selection: out-of-fold predictions of different shapes".into(),
        ));
    }
    let values: Vec<&[f64]> = pool.iter().map(|e| e.values.as_slice()).collect();
    let Some(Greedy {
        key,
        counts,
        rounds: kept,
        single,
        single_at,
    }) = greedy(&values, scoring, scoring.y, rounds)?
    else {
        return Ok(None);
    };
    // The kept ensemble's averaged predictions, for the gain's standard error.
    let total = counts.iter().sum::<usize>().max(1) as f64;
    let mut mean = vec![0.0; len];
    for (entry, &c) in pool.iter().zip(&counts) {
        for (s, v) in mean.iter_mut().zip(&entry.values) {
            *s += c as f64 * v;
        }
    }
    mean.iter_mut().for_each(|v| *v /= total);
    let several = counts.iter().filter(|&&c| c > 0).count() > 1;
    let gain_std_error = match pool.get(single_at) {
        Some(s) if several => gain_std_error(scoring, &mean, &s.values, seed)?,
        _ => 0.0,
    };
    let cross_fitted_gain = if several {
        cross_fitted_gain(&values, scoring, rounds, seed)
    } else {
        None
    };
    let members = pool
        .iter()
        .zip(&counts)
        .filter(|(_, &c)| c > 0)
        .map(|(e, &c)| EnsembleMember {
            trial: e.trial,
            candidate: e.candidate,
            weight: c as f64,
        })
        .collect();
    Ok(Some(EnsembleReport {
        members,
        score: scoring.sign * key,
        best_single_score: scoring.sign * single,
        gain_std_error,
        cross_fitted_gain,
        rounds: kept,
        used: false,
        why_not: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scoring of a regressor's predictions of `y` by `metric` (larger is better).
    fn regression_scoring<'a>(y: &'a [f64], metric: &'a dyn Metric) -> Scoring<'a> {
        Scoring {
            y,
            width: 1,
            classification: false,
            metric,
            sign: 1.0,
        }
    }

    /// Scoring of a binary classifier's probabilities (two per row) by `metric`.
    fn binary_scoring<'a>(y: &'a [f64], metric: &'a dyn Metric) -> Scoring<'a> {
        Scoring {
            y,
            width: 2,
            classification: true,
            metric,
            sign: 1.0,
        }
    }

    fn oof(candidate: usize, key: f64, values: Vec<f64>) -> Oof {
        const FAMILIES: [&str; 20] = [
            "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12", "f13",
            "f14", "f15", "f16", "f17", "f18", "f19",
        ];
        Oof {
            candidate,
            family: FAMILIES.get(candidate).copied().unwrap_or("other"),
            trial: candidate,
            key,
            values,
        }
    }

    #[test]
    fn the_store_keeps_the_best_first_and_at_most_nbest() {
        let mut store = OofStore::default();
        for c in 0..(NBEST + 4) {
            store.insert(oof(c, (c % 7) as f64, vec![0.0]));
        }
        let keys: Vec<f64> = store.entries().iter().map(|e| e.key).collect();
        assert_eq!(keys.len(), NBEST);
        assert!(keys.windows(2).all(|w| w[0] >= w[1]));
        // Ties keep the earlier candidate first.
        let sixes: Vec<usize> = store
            .entries()
            .iter()
            .filter(|e| e.key == 6.0)
            .map(|e| e.candidate)
            .collect();
        assert_eq!(sixes, vec![6, 13]);
    }

    #[test]
    fn the_store_keeps_the_best_candidate_of_each_family() {
        let mut store = OofStore::default();
        let mut add = |candidate: usize, family: &'static str, key: f64| {
            store.insert(Oof {
                candidate,
                family,
                trial: candidate,
                key,
                values: vec![0.0],
            })
        };
        add(0, "ridge", 0.5);
        add(1, "extra_trees_regressor", 0.7);
        add(2, "extra_trees_regressor", 0.8); // replaces candidate 1
        add(3, "ridge", 0.4); // worse than candidate 0: dropped
        add(4, "ridge", 0.5); // a tie keeps the earlier candidate
        let kept: Vec<(usize, &str)> = store
            .entries()
            .iter()
            .map(|e| (e.candidate, e.family))
            .collect();
        assert_eq!(kept, vec![(2, "extra_trees_regressor"), (0, "ridge")]);
    }

    #[test]
    fn the_gain_error_is_small_for_a_clear_gain_and_large_for_noise() {
        // 400 rows; the "ensemble" is exact on every row, the single model off by 1 on each:
        // the gain is certain. Against a single model off by 1 on one row only, the
        // ensemble's gain hangs on one row: its error is as large as the gain.
        let n = 400;
        let y: Vec<f64> = (0..n).map(|i| (i % 7) as f64).collect();
        let metric = crate::evaluate::metrics::get("neg_mean_squared_error").unwrap();
        let scoring = regression_scoring(&y, metric.as_ref());
        let exact = y.clone();
        let off: Vec<f64> = y.iter().map(|v| v + 1.0).collect();
        let gain = |e: &[f64], s: &[f64]| scoring.key(e).unwrap() - scoring.key(s).unwrap();
        assert!((gain(&exact, &off) - 1.0).abs() < 1e-12);
        let clear = gain_std_error(&scoring, &exact, &off, 7).unwrap();
        assert!(clear < 1e-12, "{clear}");
        let rare: Vec<f64> = y
            .iter()
            .enumerate()
            .map(|(i, v)| if i == 0 { v + 1.0 } else { *v })
            .collect();
        let small = gain(&exact, &rare);
        assert!((small - 1.0 / n as f64).abs() < 1e-12);
        let noise = gain_std_error(&scoring, &exact, &rare, 7).unwrap();
        assert!(noise > 0.5 * small, "{noise}");
        // Seeded: the same error for the same seed.
        assert_eq!(gain_std_error(&scoring, &exact, &rare, 7).unwrap(), noise);
    }

    #[test]
    fn two_complementary_classifiers_beat_either_alone() {
        // Four rows, two classes: each model is sure and right on two rows and unsure
        // (slightly wrong) on the other two; their average is right everywhere.
        let y = [0.0, 0.0, 1.0, 1.0];
        let a = vec![0.9, 0.1, 0.45, 0.55, 0.1, 0.9, 0.55, 0.45];
        let b = vec![0.45, 0.55, 0.9, 0.1, 0.55, 0.45, 0.1, 0.9];
        let metric = crate::evaluate::metrics::get("accuracy").unwrap();
        let scoring = binary_scoring(&y, metric.as_ref());
        let mut store = OofStore::default();
        store.insert(oof(0, scoring.key(&a).unwrap(), a));
        store.insert(oof(1, scoring.key(&b).unwrap(), b));
        let report = select(&store, &scoring, 10, 0).unwrap().unwrap();
        assert_eq!(report.best_single_score, 0.5);
        assert_eq!(report.score, 1.0);
        assert_eq!(report.rounds, 2);
        let weights: Vec<f64> = report.members.iter().map(|m| m.weight).collect();
        assert_eq!(weights, vec![1.0, 1.0]);
    }

    #[test]
    fn the_cross_fitted_gain_does_not_credit_selection_that_fits_noise() {
        // Twelve classifiers of coin-flip probabilities for coin-flip labels: greedy
        // selection on all the rows finds a mix whose accuracy beats the best single one
        // there, but that mix is no better on rows it did not see.
        use rand::Rng;
        let n = 300;
        let mut rng = crate::common::rng::for_task(4, 0);
        let y: Vec<f64> = (0..n).map(|_| f64::from(rng.gen_range(0..2u8))).collect();
        let metric = crate::evaluate::metrics::get("accuracy").unwrap();
        let scoring = binary_scoring(&y, metric.as_ref());
        let mut store = OofStore::default();
        for c in 0..12 {
            let v: Vec<f64> = (0..n)
                .flat_map(|_| {
                    let p: f64 = rng.gen();
                    [p, 1.0 - p]
                })
                .collect();
            store.insert(oof(c, scoring.key(&v).unwrap(), v));
        }
        let report = select(&store, &scoring, 25, 0).unwrap().unwrap();
        let in_sample = report.score - report.best_single_score;
        let crossed = report.cross_fitted_gain.unwrap();
        assert!(in_sample > 0.0, "{report:?}");
        assert!(crossed < in_sample, "{crossed} {in_sample}");
        assert!(crossed <= report.gain_std_error, "{report:?}");
    }

    #[test]
    fn a_regression_ensemble_weights_by_selection_count() {
        // y = 0; a predicts +1, b predicts -2: the mean of two a's and one b is exact.
        let y = [0.0; 3];
        let metric = crate::evaluate::metrics::get("neg_mean_squared_error").unwrap();
        let scoring = regression_scoring(&y, metric.as_ref());
        let a = vec![1.0; 3];
        let b = vec![-2.0; 3];
        let mut store = OofStore::default();
        store.insert(oof(0, scoring.key(&a).unwrap(), a));
        store.insert(oof(1, scoring.key(&b).unwrap(), b));
        let report = select(&store, &scoring, 6, 0).unwrap().unwrap();
        assert_eq!(report.score, 0.0);
        assert_eq!(report.rounds, 3);
        let weights: Vec<f64> = report.members.iter().map(|m| m.weight).collect();
        assert_eq!(weights, vec![2.0, 1.0]);
        // Every half selects the same mix, which is exact on the other half too.
        assert_eq!(report.cross_fitted_gain, Some(1.0));
    }
}
