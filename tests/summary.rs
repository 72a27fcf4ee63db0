//! `describe` against pandas' `describe()` and `value_counts()` on the shipped data sets
//! (fixtures written by tests/fixtures/summary_generate.py).

use amlis::data::summary::{describe, SummaryStats, SummaryTable};
use amlis::data::{read_csv, ColumnKind, CsvOptions};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/summary_{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn assert_rel(a: f64, b: f64, what: &str) {
    let tol = 1e-12 * a.abs().max(b.abs());
    assert!((a - b).abs() <= tol, "{what}: {a} vs pandas {b}");
}

/// Checks every column's summary against the fixture; returns the printed table.
fn check(name: &str) -> String {
    let path = format!("{}/data/{name}.csv", env!("CARGO_MANIFEST_DIR"));
    let table = read_csv(path, &CsvOptions::default()).unwrap();
    let summaries = describe(&table).unwrap();
    let fx = fixture(name);
    let expected = fx["columns"].as_array().unwrap();
    assert_eq!(summaries.len(), expected.len());
    for (s, e) in summaries.iter().zip(expected) {
        assert_eq!(s.name, e["name"].as_str().unwrap());
        assert_eq!(s.count as u64, e["count"].as_u64().unwrap(), "{}", s.name);
        assert_eq!(
            s.missing as u64,
            e["missing"].as_u64().unwrap(),
            "{}",
            s.name
        );
        match &s.stats {
            SummaryStats::Numeric(n) => {
                assert_eq!(s.kind, ColumnKind::Numeric);
                assert_eq!(e["kind"], "numeric", "{}", s.name);
                for (got, key) in [
                    (n.mean, "mean"),
                    (n.std, "std"),
                    (n.min, "min"),
                    (n.q25, "q25"),
                    (n.median, "median"),
                    (n.q75, "q75"),
                    (n.max, "max"),
                ] {
                    assert_rel(got, e[key].as_f64().unwrap(), &format!("{} {key}", s.name));
                }
            }
            SummaryStats::Categorical(c) => {
                assert_eq!(s.kind, ColumnKind::Categorical);
                assert_eq!(e["kind"], "categorical", "{}", s.name);
                assert_eq!(c.n_distinct as u64, e["n_distinct"].as_u64().unwrap());
                let counts = e["value_counts"].as_object().unwrap();
                assert_eq!(c.value_counts.len(), counts.len());
                for (value, n) in &c.value_counts {
                    assert_eq!(
                        *n as u64,
                        counts[value].as_u64().unwrap(),
                        "{} {value}",
                        s.name
                    );
                }
                // Sorted by count descending, then by value.
                for w in c.value_counts.windows(2) {
                    assert!(w[0].1 > w[1].1 || (w[0].1 == w[1].1 && w[0].0 < w[1].0));
                }
            }
        }
    }
    SummaryTable(&summaries).to_string()
}

#[test]
fn penguins_describe_matches_pandas() {
    let shown = check("penguins");
    // Hand-checked: pandas' value_counts of sex is male 168, female 165 (11 missing).
    assert!(
        shown.contains(
            "sex               categorical      333      11  2 distinct: male (168) female (165)"
        ),
        "{shown}"
    );
    assert!(shown.contains("body_mass_g       numeric          342       2 4201.754386  801.954536        2700        3550        4050        4750        6300"), "{shown}");
    assert!(
        shown.contains("bill_length_mm    numeric          342       2"),
        "{shown}"
    );
    assert_eq!(shown.lines().count(), 9);
}

#[test]
fn diamonds_describe_matches_pandas() {
    let shown = check("diamonds");
    assert!(shown.contains("cut              categorical    53940       0  5 distinct: Ideal (21551) Premium (13791) Very Good (12082) Good (4906) …"), "{shown}");
}

#[test]
fn iris_describe_matches_pandas() {
    check("iris");
}
