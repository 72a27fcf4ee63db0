//! Splits: scikit-learn fixtures (tests/fixtures/split_generate.py) and property tests.

use amlis::data::{
    stratified_train_test_split, train_test_split, DenseDataset, KFold, Split, SplitSize, Splitter,
    StratifiedKFold, TrainTestSplit,
};
use amlis::traits::Dataset;
use amlis::Error;
use ndarray::{Array1, Array2};
use proptest::prelude::*;
use serde_json::Value;

mod common;
use common::usizes;

fn fixtures() -> Value {
    common::fixture("split_sklearn.json")
}

fn floats(v: &Value) -> Vec<f64> {
    usizes(v).into_iter().map(|x| x as f64).collect()
}

fn size(v: &Value) -> Option<SplitSize> {
    if v.is_null() {
        return None;
    }
    if let Some(f) = v.get("fraction") {
        return Some(SplitSize::Fraction(f.as_f64().unwrap()));
    }
    Some(SplitSize::Count(v["count"].as_u64().unwrap() as usize))
}

fn targets_by_name(fx: &Value, name: &str) -> Vec<f64> {
    fx["stratified_kfold"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .map(|c| floats(&c["y"]))
        .unwrap_or_else(|| panic!("no targets named {name}"))
}

/// Per-class counts of the rows at `idx` (targets are class indices).
fn class_counts(y: &[f64], idx: &[usize], n_classes: usize) -> Vec<usize> {
    let mut c = vec![0; n_classes];
    for &i in idx {
        c[y[i] as usize] += 1;
    }
    c
}

fn assert_partition(split: &Split, n: usize) {
    let mut all: Vec<usize> = split.train.iter().chain(&split.test).copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..n).collect::<Vec<_>>(),
        "train + test must be 0..{n}"
    );
}

fn assert_folds_partition(splits: &[Split], n: usize) {
    let mut tests: Vec<usize> = splits.iter().flat_map(|s| s.test.clone()).collect();
    tests.sort_unstable();
    assert_eq!(
        tests,
        (0..n).collect::<Vec<_>>(),
        "test folds must partition 0..{n}"
    );
    for s in splits {
        assert_partition(s, n);
        assert!(
            s.train.windows(2).all(|w| w[0] < w[1]),
            "train rows ascending"
        );
    }
}

#[test]
fn kfold_matches_sklearn() {
    let fx = fixtures();
    for case in fx["kfold"].as_array().unwrap() {
        let n = case["n"].as_u64().unwrap() as usize;
        let k = case["n_splits"].as_u64().unwrap() as usize;
        let splits = KFold::new(k).split_indices(n, None).unwrap();
        let expected: Vec<Vec<usize>> = case["test"]
            .as_array()
            .unwrap()
            .iter()
            .map(usizes)
            .collect();
        let got: Vec<Vec<usize>> = splits.iter().map(|s| s.test.clone()).collect();
        assert_eq!(got, expected, "KFold({k}) on {n} rows");
        assert_folds_partition(&splits, n);
    }
}

#[test]
fn stratified_kfold_matches_sklearn() {
    let fx = fixtures();
    let mut checked = 0;
    for case in fx["stratified_kfold"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let y = floats(&case["y"]);
        for (k, folds) in case["test_folds"].as_object().unwrap() {
            let k: usize = k.parse().unwrap();
            let expected = usizes(folds);
            let got = StratifiedKFold::new(k).test_folds(&y).unwrap();
            assert_eq!(got, expected, "StratifiedKFold({k}) on {name}");
            let splits = StratifiedKFold::new(k)
                .split_indices(y.len(), Some(&y))
                .unwrap();
            for (f, s) in splits.iter().enumerate() {
                let want: Vec<usize> = (0..y.len()).filter(|&i| expected[i] == f).collect();
                assert_eq!(s.test, want, "fold {f} of StratifiedKFold({k}) on {name}");
            }
            assert_folds_partition(&splits, y.len());
            checked += 1;
        }
    }
    assert!(
        checked >= 20,
        "only {checked} stratified k-fold cases checked"
    );
}

#[test]
fn stratified_kfold_errors_as_sklearn() {
    let fx = fixtures();
    for case in fx["stratified_kfold_errors"].as_array().unwrap() {
        let y = floats(&case["y"]);
        let k = case["n_splits"].as_u64().unwrap() as usize;
        let res = StratifiedKFold::new(k).split_indices(y.len(), Some(&y));
        assert_eq!(
            res.is_ok(),
            case["ok"].as_bool().unwrap(),
            "y = {y:?}, k = {k}"
        );
        if let Err(e) = res {
            assert!(
                matches!(e, Error::InvalidParameter { ref name, .. } if name == "n_splits"),
                "{e}"
            );
        }
    }
}

#[test]
fn train_test_sizes_match_sklearn() {
    let fx = fixtures();
    let cases = fx["train_test_sizes"].as_array().unwrap();
    assert!(cases.len() > 500);
    for case in cases {
        let n = case["n"].as_u64().unwrap() as usize;
        let mut tts = TrainTestSplit::new(size(&case["test_size"]).unwrap());
        if let Some(tr) = size(&case["train_size"]) {
            tts = tts.train_size(tr);
        }
        let expected = case["result"].as_array().map(|r| {
            (
                r[0].as_u64().unwrap() as usize,
                r[1].as_u64().unwrap() as usize,
            )
        });
        let got = tts.sizes(n).ok();
        assert_eq!(got, expected, "n = {n}, {tts:?}");
        if let Some((n_train, n_test)) = expected {
            for shuffle in [false, true] {
                let s = tts.clone().shuffle(shuffle).indices(n, None).unwrap();
                assert_eq!((s.train.len(), s.test.len()), (n_train, n_test));
                let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
                all.sort_unstable();
                all.dedup();
                assert_eq!(all.len(), n_train + n_test, "rows are distinct");
                assert!(all.iter().all(|&i| i < n));
                if !shuffle {
                    assert_eq!(s.train, (0..n_train).collect::<Vec<_>>());
                    assert_eq!(s.test, (n_train..n_train + n_test).collect::<Vec<_>>());
                }
            }
        }
    }
}

#[test]
fn stratified_split_class_counts_match_sklearn() {
    let fx = fixtures();
    let mut exact = 0;
    for case in fx["stratified_counts"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let y = match case.get("y") {
            Some(y) => floats(y),
            None => targets_by_name(&fx, name),
        };
        let n_classes = y.iter().fold(0.0f64, |a, &b| a.max(b)) as usize + 1;
        let tts = TrainTestSplit::new(size(&case["test_size"]).unwrap()).stratify(true);
        if case["error"].as_bool().unwrap() {
            assert!(
                tts.indices(y.len(), Some(&y)).is_err(),
                "{name}: sklearn raises"
            );
            continue;
        }
        let observed: Vec<(Vec<usize>, Vec<usize>)> = case["observed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (usizes(&p[0]), usizes(&p[1])))
            .collect();
        for seed in 0..10 {
            let s = tts
                .clone()
                .random_state(seed)
                .indices(y.len(), Some(&y))
                .unwrap();
            assert_partition(&s, y.len());
            let got = (
                class_counts(&y, &s.train, n_classes),
                class_counts(&y, &s.test, n_classes),
            );
            if observed.len() == 1 {
                assert_eq!(got, observed[0], "{name} {:?} seed {seed}", tts.test_size);
                exact += 1;
            } else {
                // Ties broken at random: each class count lies within the range scikit-learn
                // produced, and classes on which every sklearn draw agrees match exactly.
                for (part, got_part) in [(0, &got.0), (1, &got.1)] {
                    for (c, &g) in got_part.iter().enumerate() {
                        let vals: Vec<usize> = observed
                            .iter()
                            .map(|o| if part == 0 { o.0[c] } else { o.1[c] })
                            .collect();
                        let (lo, hi) = (*vals.iter().min().unwrap(), *vals.iter().max().unwrap());
                        assert!(
                            (lo..=hi).contains(&g),
                            "{name} {:?} seed {seed} class {c}: {g} not in {lo}..={hi}",
                            tts.test_size,
                        );
                    }
                }
            }
        }
    }
    assert!(exact >= 150, "only {exact} exact comparisons");
}

#[test]
fn single_member_class_message() {
    let y = [0.0, 0.0, 0.0, 1.0, 2.0, 2.0];
    let e = TrainTestSplit::new(SplitSize::Fraction(0.5))
        .stratify(true)
        .indices(6, Some(&y))
        .unwrap_err();
    assert!(e.to_string().contains("only 1 member"), "{e}");
    assert!(
        e.to_string().contains("classes with too few members: 1"),
        "{e}"
    );
}

#[test]
fn parameter_errors() {
    assert!(matches!(
        KFold::new(1).split_indices(10, None),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(KFold::new(11).split_indices(10, None).is_err());
    assert!(KFold::new(10).split_indices(10, None).is_ok());
    let y = [0.0, 1.0, 0.0, 1.0];
    assert!(StratifiedKFold::new(2).split_indices(4, None).is_err());
    assert!(matches!(
        StratifiedKFold::new(2).split_indices(5, Some(&y)),
        Err(Error::Shape { .. })
    ));
    // An infinite target is an error naming its row; a NaN one is an unlabeled row, kept on
    // every training side and never tested.
    let inf = [0.0, f64::INFINITY, 0.0, 1.0];
    assert!(matches!(
        StratifiedKFold::new(2).split_indices(4, Some(&inf)),
        Err(Error::InvalidValue { row: 1, .. })
    ));
    let nan = [0.0, f64::NAN, 0.0, 1.0, 1.0];
    let folds = StratifiedKFold::new(2)
        .split_indices(5, Some(&nan))
        .unwrap();
    assert_eq!(folds.len(), 2);
    for fold in &folds {
        assert!(fold.train.contains(&1) && !fold.test.contains(&1));
    }
    for bad in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        assert!(
            TrainTestSplit::new(SplitSize::Fraction(bad))
                .sizes(10)
                .is_err(),
            "{bad}"
        );
    }
    assert!(TrainTestSplit::new(SplitSize::Count(10)).sizes(10).is_err());
    assert!(TrainTestSplit::new(SplitSize::Count(0)).sizes(10).is_err());
    assert!(matches!(
        TrainTestSplit::default().sizes(0),
        Err(Error::Empty(_))
    ));
    // Stratify needs targets and a shuffle.
    let tts = TrainTestSplit::new(SplitSize::Fraction(0.5)).stratify(true);
    assert!(tts.indices(4, None).is_err());
    assert!(tts.clone().shuffle(false).indices(4, Some(&y)).is_err());
    assert!(tts.indices(4, Some(&y)).is_ok());
}

fn toy_classification(n: usize) -> DenseDataset {
    let x = Array2::from_shape_fn((n, 2), |(i, j)| (i * 2 + j) as f64);
    let y = Array1::from_shape_fn(n, |i| (i % 3) as f64);
    DenseDataset::classification(x, y).unwrap()
}

#[test]
fn views_hold_the_split_rows() {
    let data = toy_classification(30);
    let (train, test) = train_test_split(&data, 0.2, 7).unwrap();
    assert_eq!((train.n_samples(), test.n_samples()), (24, 6));
    let idx = test.sample_indices().unwrap().to_vec();
    let x = test.features();
    for (r, &i) in idx.iter().enumerate() {
        assert_eq!(x[[r, 0]], (i * 2) as f64);
    }
    let (train, test) = stratified_train_test_split(&data, 0.2, 7).unwrap();
    assert_eq!((train.n_samples(), test.n_samples()), (24, 6));
    let yt = test.targets().unwrap();
    for c in 0..3 {
        assert_eq!(yt.iter().filter(|&&v| v == c as f64).count(), 2);
    }
    // Splitter on the dataset trait object, and Split::views.
    let folds = StratifiedKFold::new(3).split(&data).unwrap();
    assert_eq!(folds.len(), 3);
    let (tr, te) = folds[1].views(&data).unwrap();
    assert_eq!((tr.n_samples(), te.n_samples()), (20, 10));
    assert!(stratified_train_test_split(&data, 1.2, 7).is_err());
}

#[test]
fn same_seed_same_split_other_seed_differs() {
    let data = toy_classification(200);
    let a = KFold::new(5).shuffle(3).split(&data).unwrap();
    let b = KFold::new(5).shuffle(3).split(&data).unwrap();
    let c = KFold::new(5).shuffle(4).split(&data).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    let a = StratifiedKFold::new(5).shuffle(3).split(&data).unwrap();
    assert_eq!(a, StratifiedKFold::new(5).shuffle(3).split(&data).unwrap());
    assert_ne!(a, StratifiedKFold::new(5).split(&data).unwrap());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn kfold_partitions(n in 2usize..200, k in 2usize..12, seed in any::<u64>(), shuffle in any::<bool>()) {
        prop_assume!(k <= n);
        let kf = if shuffle { KFold::new(k).shuffle(seed) } else { KFold::new(k) };
        let splits = kf.split_indices(n, None).unwrap();
        prop_assert_eq!(splits.len(), k);
        assert_folds_partition(&splits, n);
        for s in &splits {
            prop_assert!(s.test.len() == n / k || s.test.len() == n / k + 1);
        }
        prop_assert_eq!(splits, kf.split_indices(n, None).unwrap());
    }

    #[test]
    fn stratified_kfold_partitions_and_balances(
        labels in proptest::collection::vec(0u8..4, 2..150),
        k in 2usize..8,
        seed in any::<u64>(),
        shuffle in any::<bool>(),
    ) {
        let y: Vec<f64> = labels.iter().map(|&l| l as f64).collect();
        let n = y.len();
        let mut counts = [0usize; 4];
        for &l in &labels { counts[l as usize] += 1; }
        prop_assume!(k <= n && counts.iter().any(|&c| c >= k));
        let skf = if shuffle { StratifiedKFold::new(k).shuffle(seed) } else { StratifiedKFold::new(k) };
        let splits = skf.split_indices(n, Some(&y)).unwrap();
        assert_folds_partition(&splits, n);
        for s in &splits {
            let fold = class_counts(&y, &s.test, 4);
            for c in 0..4 {
                let lo = counts[c] / k;
                prop_assert!(fold[c] == lo || fold[c] == lo + 1,
                    "class {} has {} rows in a fold, expected {} or {}", c, fold[c], lo, lo + 1);
            }
        }
        prop_assert_eq!(splits, skf.split_indices(n, Some(&y)).unwrap());
    }

    #[test]
    fn train_test_split_partitions(
        n in 2usize..300,
        frac in 0.01f64..0.99,
        seed in any::<u64>(),
        stratify in any::<bool>(),
    ) {
        let y: Vec<f64> = (0..n).map(|i| (i % 3) as f64).collect();
        let tts = TrainTestSplit::new(SplitSize::Fraction(frac)).stratify(stratify).random_state(seed);
        match tts.indices(n, Some(&y)) {
            Ok(s) => {
                let (n_train, n_test) = tts.sizes(n).unwrap();
                prop_assert_eq!(n_test, (frac * n as f64).ceil() as usize);
                prop_assert_eq!((s.train.len(), s.test.len()), (n_train, n_test));
                assert_partition(&s, n);
                prop_assert_eq!(&s, &tts.indices(n, Some(&y)).unwrap());
                if stratify {
                    // Each class within one row of its proportional share.
                    let got = class_counts(&y, &s.test, 3);
                    let total = class_counts(&y, &(0..n).collect::<Vec<_>>(), 3);
                    for c in 0..3 {
                        let share = total[c] as f64 * n_test as f64 / n as f64;
                        prop_assert!((got[c] as f64 - share).abs() < 1.0 + 1e-9,
                            "class {} got {} test rows, share {}", c, got[c], share);
                    }
                }
            }
            Err(_) => {
                // Only when sizes are impossible: an empty train set, or fewer rows than
                // classes in a stratified part, or a class with one member.
                let sizes = tts.sizes(n);
                let small = sizes.as_ref().map(|&(tr, te)| tr < 3 || te < 3).unwrap_or(true);
                prop_assert!(sizes.is_err() || (stratify && (small || n < 6)));
            }
        }
    }
}
