//! Joins: hand-checked cases and a property test against a naive nested-loop join.

use amlis::data::{join, Column, JoinKind, JoinOptions, Table};
use amlis::Error;
use proptest::prelude::*;

const NAN: f64 = f64::NAN;

fn num(v: &[f64]) -> Column {
    Column::numeric(v.to_vec())
}

fn cat(v: &[Option<&str>]) -> Column {
    Column::categorical_from(v)
}

fn table(cols: Vec<(&str, Column)>) -> Table {
    Table::new(cols.into_iter().map(|(n, c)| (n.to_string(), c)).collect()).unwrap()
}

/// A cell as text: `NA` for missing, numbers as Rust prints them.
fn cell(col: &Column, row: usize) -> String {
    match col {
        Column::Numeric(v) if v[row].is_nan() => "NA".into(),
        Column::Numeric(v) => format!("{}", v[row]),
        Column::Categorical(c) => c.get(row).unwrap_or("NA").to_string(),
    }
}

/// The table as rows of cell texts.
fn rows(t: &Table) -> Vec<Vec<String>> {
    (0..t.n_rows())
        .map(|r| t.columns().iter().map(|c| cell(c, r)).collect())
        .collect()
}

fn strs(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

#[test]
fn inner_join_duplicates_on_both_sides() {
    let left = table(vec![
        ("id", num(&[1.0, 2.0, 1.0, 3.0])),
        ("l", cat(&[Some("a"), Some("b"), Some("c"), Some("d")])),
    ]);
    let right = table(vec![
        ("r", num(&[10.0, 11.0, 20.0, 40.0])),
        ("id", num(&[1.0, 1.0, 2.0, 4.0])),
    ]);
    let out = join(&left, &right, &JoinOptions::on(["id"])).unwrap();
    assert_eq!(out.names(), &["id", "l", "r"]);
    assert_eq!(
        rows(&out),
        strs(&[
            &["1", "a", "10"],
            &["1", "a", "11"],
            &["2", "b", "20"],
            &["1", "c", "10"],
            &["1", "c", "11"],
        ])
    );
    let out = join(&left, &right, &JoinOptions::on(["id"]).left()).unwrap();
    assert_eq!(
        rows(&out),
        strs(&[
            &["1", "a", "10"],
            &["1", "a", "11"],
            &["2", "b", "20"],
            &["1", "c", "10"],
            &["1", "c", "11"],
            &["3", "d", "NA"],
        ])
    );
}

#[test]
fn missing_keys_never_match() {
    let left = table(vec![
        ("k", num(&[NAN, 1.0, -0.0])),
        ("c", cat(&[None, Some("x"), Some("y")])),
        ("v", num(&[1.0, 2.0, 3.0])),
    ]);
    let right = table(vec![
        ("k", num(&[NAN, 0.0, 1.0])),
        ("c", cat(&[None, Some("y"), None])),
        (
            "w",
            cat(&[Some("nan-row"), Some("zero-row"), Some("one-row")]),
        ),
    ]);
    // Single numeric key: NaN does not match NaN; -0.0 matches 0.0.
    let out = join(&left, &right, &JoinOptions::on(["k"]).left()).unwrap();
    assert_eq!(out.names(), &["k", "c_left", "v", "c_right", "w"]);
    assert_eq!(
        rows(&out),
        strs(&[
            &["NA", "NA", "1", "NA", "NA"],
            &["1", "x", "2", "NA", "one-row"],
            &["-0", "y", "3", "y", "zero-row"],
        ])
    );
    // Two keys: a missing category never matches, even a missing one.
    let out = join(&left, &right, &JoinOptions::on(["k", "c"]).left()).unwrap();
    assert_eq!(out.names(), &["k", "c", "v", "w"]);
    assert_eq!(
        rows(&out),
        strs(&[
            &["NA", "NA", "1", "NA"],
            &["1", "x", "2", "NA"],
            &["-0", "y", "3", "zero-row"],
        ])
    );
    let inner = join(&left, &right, &JoinOptions::on(["k", "c"])).unwrap();
    assert_eq!(rows(&inner), strs(&[&["-0", "y", "3", "zero-row"]]));
}

#[test]
fn categorical_keys_compare_text_not_codes() {
    // Same strings, different dictionaries: "b" is code 1 on the left and code 0 on the right.
    let left = table(vec![
        ("store", cat(&[Some("a"), Some("b"), Some("c"), Some("b")])),
        ("day", num(&[1.0, 1.0, 2.0, 2.0])),
        ("sales", num(&[5.0, 6.0, 7.0, 8.0])),
    ]);
    let right = table(vec![
        ("day", num(&[2.0, 1.0, 1.0, 2.0])),
        ("store", cat(&[Some("b"), Some("b"), Some("a"), Some("z")])),
        ("stock", num(&[80.0, 60.0, 50.0, 0.0])),
    ]);
    let out = join(&left, &right, &JoinOptions::on(["store", "day"])).unwrap();
    assert_eq!(out.names(), &["store", "day", "sales", "stock"]);
    assert_eq!(
        rows(&out),
        strs(&[
            &["a", "1", "5", "50"],
            &["b", "1", "6", "60"],
            &["b", "2", "8", "80"],
        ])
    );
}

#[test]
fn left_on_right_on_and_suffixes() {
    let left = table(vec![
        ("customer", num(&[7.0, 8.0])),
        ("name", cat(&[Some("ann"), Some("ben")])),
        ("id", num(&[100.0, 200.0])),
    ]);
    let right = table(vec![
        ("id", num(&[8.0, 7.0])),
        ("name", cat(&[Some("B"), Some("A")])),
        ("customer", num(&[1.0, 2.0])),
    ]);
    let opts = JoinOptions::left_on(["customer"])
        .right_on(["id"])
        .suffixes("_x", "_y");
    let out = join(&left, &right, &opts).unwrap();
    // The right key `id` is dropped; the right `customer` clashes with the left key (kept as
    // is) and the right `name` clashes with the left `name`.
    assert_eq!(
        out.names(),
        &["customer", "name_x", "id", "name_y", "customer_y"]
    );
    assert_eq!(
        rows(&out),
        strs(&[
            &["7", "ann", "100", "A", "2"],
            &["8", "ben", "200", "B", "1"]
        ])
    );
    // Default suffixes.
    let out = join(
        &left,
        &right,
        &JoinOptions::left_on(["customer"]).right_on(["id"]),
    )
    .unwrap();
    assert_eq!(
        out.names(),
        &[
            "customer",
            "name_left",
            "id",
            "name_right",
            "customer_right"
        ]
    );
    // Both suffixes empty: the output would repeat a name.
    let bad = JoinOptions::on(["id"]).suffixes("", "");
    assert!(matches!(
        join(&left, &right, &bad),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn empty_inputs() {
    let left = table(vec![("id", num(&[])), ("a", num(&[]))]);
    let right = table(vec![("id", num(&[1.0])), ("b", cat(&[Some("x")]))]);
    let out = join(&left, &right, &JoinOptions::on(["id"]).left()).unwrap();
    assert_eq!((out.n_rows(), out.n_columns()), (0, 3));
    let out = join(&right, &left, &JoinOptions::on(["id"]).left()).unwrap();
    assert_eq!(rows(&out), strs(&[&["1", "x", "NA"]]));
    let out = join(&right, &left, &JoinOptions::on(["id"])).unwrap();
    assert_eq!(out.n_rows(), 0);
}

#[test]
fn errors_name_the_problem() {
    let left = table(vec![("id", num(&[1.0])), ("a", num(&[1.0]))]);
    let right = table(vec![("key", num(&[1.0])), ("id", cat(&[Some("1")]))]);
    match join(&left, &right, &JoinOptions::on(["key"])) {
        Err(Error::UnknownColumn { name, context, .. }) => {
            assert_eq!(name, "key");
            assert!(context.contains("left"), "{context}");
        }
        other => panic!("expected UnknownColumn, got {other:?}"),
    }
    match join(&left, &right, &JoinOptions::on(["a"])) {
        Err(Error::UnknownColumn { name, context, .. }) => {
            assert_eq!(name, "a");
            assert!(context.contains("right"), "{context}");
        }
        other => panic!("expected UnknownColumn, got {other:?}"),
    }
    match join(&left, &right, &JoinOptions::on(["id"])) {
        Err(e @ Error::ColumnKind { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("numeric") && msg.contains("categorical"),
                "{msg}"
            );
        }
        other => panic!("expected ColumnKind, got {other:?}"),
    }
    let none: [&str; 0] = [];
    assert!(matches!(
        join(&left, &right, &JoinOptions::on(none)),
        Err(Error::InvalidArgument(_))
    ));
    assert!(join(&left, &right, &JoinOptions::default()).is_err());
    assert_eq!(JoinOptions::on(["id"]).left().kind, JoinKind::Left);
}

// ---- property test: hash join == nested-loop join --------------------------------------------

fn num_key() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(-0.0), Just(1.0), Just(2.5), Just(NAN)]
}

fn cat_key() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("a".to_string())),
        Just(Some("b".to_string())),
        Just(Some("c".to_string())),
    ]
}

type Row = (f64, Option<String>, f64);

fn rows_strategy() -> impl Strategy<Value = Vec<Row>> {
    proptest::collection::vec((num_key(), cat_key(), -5.0f64..5.0), 0..25)
}

fn build(rows: &[Row], payload: &str) -> Table {
    let k1 = rows.iter().map(|r| r.0).collect();
    let k2: Vec<Option<&str>> = rows.iter().map(|r| r.1.as_deref()).collect();
    let v = rows.iter().map(|r| r.2).collect();
    table(vec![
        ("k1", Column::numeric(k1)),
        ("k2", Column::categorical_from(&k2)),
        (payload, Column::numeric(v)),
    ])
}

fn keys_equal(a: &Row, b: &Row, two_keys: bool) -> bool {
    let num_eq = !a.0.is_nan() && a.0 == b.0;
    let cat_eq = a.1.is_some() && a.1 == b.1;
    num_eq && (!two_keys || cat_eq)
}

fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        "NA".into()
    } else {
        format!("{v}")
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hash_join_equals_nested_loop(
        l in rows_strategy(),
        r in rows_strategy(),
        left_kind in any::<bool>(),
        two_keys in any::<bool>(),
    ) {
        let lt = build(&l, "v");
        let rt = build(&r, "v");
        let keys: Vec<&str> = if two_keys { vec!["k1", "k2"] } else { vec!["k1"] };
        let kind = if left_kind { JoinKind::Left } else { JoinKind::Inner };
        let out = join(&lt, &rt, &JoinOptions::on(keys).kind(kind)).unwrap();

        let mut expected = Vec::new();
        for a in &l {
            let mut matched = false;
            for b in &r {
                if keys_equal(a, b, two_keys) {
                    matched = true;
                    let mut row = vec![fmt_num(a.0), a.1.clone().unwrap_or("NA".into()), fmt_num(a.2)];
                    if !two_keys {
                        row.push(b.1.clone().unwrap_or("NA".into()));
                    }
                    row.push(fmt_num(b.2));
                    expected.push(row);
                }
            }
            if !matched && left_kind {
                let mut row = vec![fmt_num(a.0), a.1.clone().unwrap_or("NA".into()), fmt_num(a.2)];
                if !two_keys {
                    row.push("NA".into());
                }
                row.push("NA".into());
                expected.push(row);
            }
        }
        let names: Vec<&str> = if two_keys {
            vec!["k1", "k2", "v_left", "v_right"]
        } else {
            vec!["k1", "k2_left", "v_left", "k2_right", "v_right"]
        };
        prop_assert_eq!(out.names(), &names[..]);
        prop_assert_eq!(rows(&out), expected);
    }
}

#[test]
fn large_join_gathers_in_parallel_correctly() {
    // 30,000 rows × 4 output columns: above the parallel threshold.
    let n = 30_000usize;
    let ids: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let names: Vec<Option<String>> = (0..n).map(|i| Some(format!("n{}", i % 97))).collect();
    let left = Table::new(vec![
        ("id".into(), Column::numeric(ids.clone())),
        ("name".into(), Column::categorical_from(&names)),
    ])
    .unwrap();
    // The right side holds every even id once, in reverse order.
    let right_ids: Vec<f64> = (0..n)
        .rev()
        .filter(|i| i % 2 == 0)
        .map(|i| i as f64)
        .collect();
    let doubled: Vec<f64> = right_ids.iter().map(|v| v * 2.0).collect();
    let tags: Vec<Option<String>> = right_ids.iter().map(|v| Some(format!("t{v}"))).collect();
    let right = Table::new(vec![
        ("double".into(), Column::numeric(doubled)),
        ("id".into(), Column::numeric(right_ids)),
        ("tag".into(), Column::categorical_from(&tags)),
    ])
    .unwrap();
    let out = join(&left, &right, &JoinOptions::on(["id"]).left()).unwrap();
    assert_eq!(out.n_rows(), n);
    let double = out.column("double").unwrap().as_numeric().unwrap();
    let tag = out.column("tag").unwrap().as_categorical().unwrap();
    let name = out.column("name").unwrap().as_categorical().unwrap();
    for (i, &d) in double.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(d, 2.0 * i as f64);
            assert_eq!(tag.get(i), Some(format!("t{i}").as_str()));
        } else {
            assert!(d.is_nan());
            assert_eq!(tag.get(i), None);
        }
        assert_eq!(name.get(i), Some(format!("n{}", i % 97).as_str()));
    }
    let inner = join(&left, &right, &JoinOptions::on(["id"])).unwrap();
    assert_eq!(inner.n_rows(), n / 2);
    let ids = inner.column("id").unwrap().as_numeric().unwrap();
    assert!(ids.iter().enumerate().all(|(k, &v)| v == (2 * k) as f64));
}
