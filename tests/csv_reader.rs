//! Tests of the CSV reader: the shipped data sets against pandas' reading of them, hand-checked
//! cases, every error, thread-count determinism, and property tests.

use std::io::Write;

use amlis::data::{read_csv, read_csv_bytes, Column, ColumnKind, CsvOptions, Table};
use amlis::Error;
use proptest::prelude::*;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/summary_{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn data_path(name: &str) -> String {
    format!("{}/data/{name}.csv", env!("CARGO_MANIFEST_DIR"))
}

fn read(text: &str) -> amlis::Result<Table> {
    read_csv_bytes(text.as_bytes(), "test.csv", &CsvOptions::default())
}

fn nums<'t>(t: &'t Table, name: &str) -> &'t [f64] {
    t.column(name).unwrap().as_numeric().unwrap()
}

fn cells(t: &Table, name: &str) -> Vec<Option<String>> {
    t.column(name)
        .unwrap()
        .as_categorical()
        .unwrap()
        .iter()
        .map(|c| c.map(str::to_string))
        .collect()
}

/// Asserts an [`Error::Parse`] with this line, column and a message containing `needle`.
fn assert_parse_error(result: amlis::Result<Table>, line: u64, column: Option<&str>, needle: &str) {
    match result {
        Err(Error::Parse {
            origin,
            line: l,
            column: c,
            message,
        }) => {
            assert!(!origin.is_empty());
            assert_eq!(l, line, "line; message: {message}");
            assert_eq!(c.as_deref(), column, "column; message: {message}");
            assert!(message.contains(needle), "`{message}` lacks `{needle}`");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

/// Two tables are the same, bit for bit (NaN equal to NaN), with the same categories.
fn assert_same(a: &Table, b: &Table) {
    assert_eq!(a.names(), b.names());
    assert_eq!(a.n_rows(), b.n_rows());
    for ((_, ca), (name, cb)) in a.iter().zip(b.iter()) {
        match (ca, cb) {
            (Column::Numeric(x), Column::Numeric(y)) => {
                let xb: Vec<u64> = x.iter().map(|v| v.to_bits()).collect();
                let yb: Vec<u64> = y.iter().map(|v| v.to_bits()).collect();
                assert_eq!(xb, yb, "column {name}");
            }
            (Column::Categorical(x), Column::Categorical(y)) => {
                assert_eq!(x.categories(), y.categories(), "column {name}");
                assert_eq!(x.codes(), y.codes(), "column {name}");
            }
            _ => panic!("column {name} differs in kind"),
        }
    }
}

fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-300)
}

/// Checks a shipped file against pandas' reading of it (fixture).
fn check_against_pandas(name: &str) -> Table {
    let t = read_csv(data_path(name), &CsvOptions::default()).unwrap();
    let fx = fixture(name);
    assert_eq!(t.n_rows() as u64, fx["n_rows"].as_u64().unwrap());
    assert_eq!(t.n_columns() as u64, fx["n_columns"].as_u64().unwrap());
    for (i, col) in fx["columns"].as_array().unwrap().iter().enumerate() {
        let name = col["name"].as_str().unwrap();
        assert_eq!(t.names()[i], name);
        let c = t.column(name).unwrap();
        assert_eq!(
            c.n_missing() as u64,
            col["missing"].as_u64().unwrap(),
            "{name}"
        );
        match col["kind"].as_str().unwrap() {
            "numeric" => {
                let v = c.as_numeric().expect(name);
                let sum: f64 = v.iter().filter(|x| !x.is_nan()).sum();
                assert!(
                    rel_close(sum, col["sum"].as_f64().unwrap(), 1e-12),
                    "{name}"
                );
                assert_eq!(
                    v.first().copied().filter(|x| !x.is_nan()),
                    col["first"].as_f64()
                );
                assert_eq!(
                    v.last().copied().filter(|x| !x.is_nan()),
                    col["last"].as_f64()
                );
            }
            _ => {
                let cat = c.as_categorical().expect(name);
                assert_eq!(cat.get(0), col["first"].as_str(), "{name}");
                assert_eq!(cat.get(t.n_rows() - 1), col["last"].as_str(), "{name}");
                let counts = col["value_counts"].as_object().unwrap();
                assert_eq!(cat.categories().len(), counts.len(), "{name}");
                for (label, n) in cat.value_counts() {
                    assert_eq!(n as u64, counts[&label].as_u64().unwrap(), "{name} {label}");
                }
            }
        }
    }
    t
}

#[test]
fn penguins_matches_pandas() {
    let t = check_against_pandas("penguins");
    use ColumnKind::*;
    assert_eq!(
        t.kinds(),
        vec![
            Categorical,
            Categorical,
            Numeric,
            Numeric,
            Numeric,
            Numeric,
            Categorical,
            Numeric
        ]
    );
    // Hand-checked against pandas' isna().sum(): 2 missing in each measurement, 11 in sex.
    let missing: Vec<usize> = t.missing_counts().into_iter().map(|(_, n)| n).collect();
    assert_eq!(missing, vec![0, 0, 2, 2, 2, 2, 11, 0]);
    let species = t.column("species").unwrap().as_categorical().unwrap();
    assert_eq!(species.categories(), &["Adelie", "Gentoo", "Chinstrap"]);
    // Line 5 of the file is `Adelie,Torgersen,,,,,,2007`.
    assert!(nums(&t, "bill_length_mm")[3].is_nan());
    assert_eq!(cells(&t, "sex")[3], None);
    assert_eq!(nums(&t, "year")[3], 2007.0);
    assert_eq!(nums(&t, "body_mass_g")[0], 3750.0);
}

#[test]
fn diamonds_matches_pandas() {
    let t = check_against_pandas("diamonds");
    assert_eq!(t.n_rows(), 53_940);
    assert_eq!(
        t.names_of_kind(ColumnKind::Categorical),
        vec!["cut", "color", "clarity"]
    );
    let cut = t.column("cut").unwrap().as_categorical().unwrap();
    assert_eq!(
        cut.categories(),
        &["Ideal", "Premium", "Good", "Very Good", "Fair"]
    );
    assert_eq!(nums(&t, "price")[0], 326.0);
    assert_eq!(nums(&t, "carat")[1], 0.21);
}

#[test]
fn iris_matches_pandas() {
    let t = check_against_pandas("iris");
    assert_eq!(t.names_of_kind(ColumnKind::Categorical), vec!["species"]);
    assert_eq!(nums(&t, "sepal length (cm)")[0], 5.1);
}

#[test]
fn numbers_as_pandas_accepts_them() {
    let t = read("a,b\n1,\" 2.5 \"\n-3e2,inf\n+.5,-inf\n7.,1E-3\n  8  ,-Infinity\n").unwrap();
    assert_eq!(nums(&t, "a"), &[1.0, -300.0, 0.5, 7.0, 8.0]);
    assert_eq!(
        nums(&t, "b"),
        &[
            2.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-3,
            f64::NEG_INFINITY
        ]
    );
}

#[test]
fn missing_tokens_default_and_custom() {
    let t = read("x,y\nNA,a\nN/A,NULL\nNaN,?\nnan,null\n,b\n1,\n").unwrap();
    assert_eq!(t.column("x").unwrap().n_missing(), 5);
    assert_eq!(nums(&t, "x")[5], 1.0);
    assert_eq!(
        cells(&t, "y"),
        vec![Some("a".into()), None, None, None, Some("b".into()), None]
    );
    // With custom tokens, `NA` is text and `-` is missing.
    let options = CsvOptions::default().with_missing_tokens(["-"]);
    let t = read_csv_bytes(b"x,y\n-,NA\n2,-\n", "t", &options).unwrap();
    assert_eq!(t.column("x").unwrap().n_missing(), 1);
    assert_eq!(cells(&t, "y"), vec![Some("NA".into()), None]);
    // Without `nan` among the tokens, `nan` is not a number: the column is text, as in pandas.
    let t = read_csv_bytes(b"x\nnan\n1\n", "t", &options).unwrap();
    assert_eq!(t.kinds(), vec![ColumnKind::Categorical]);
}

#[test]
fn all_missing_column_is_numeric() {
    let t = read("a,b\n,1\nNA,2\n").unwrap();
    assert_eq!(t.kinds(), vec![ColumnKind::Numeric, ColumnKind::Numeric]);
    assert_eq!(t.column("a").unwrap().n_missing(), 2);
}

#[test]
fn delimiter_quote_and_quoted_fields() {
    let text = "name;note\n'a;b';'say ''hi'''\n'multi\nline';plain\n";
    let options = CsvOptions::default().with_delimiter(b';').with_quote(b'\'');
    let t = read_csv_bytes(text.as_bytes(), "t", &options).unwrap();
    assert_eq!(
        cells(&t, "name"),
        vec![Some("a;b".into()), Some("multi\nline".into())]
    );
    assert_eq!(
        cells(&t, "note"),
        vec![Some("say 'hi'".into()), Some("plain".into())]
    );
    let t = read("a,b\n\"1,5\",\"x\"\"y\"\n\"2\",\"z\"\n").unwrap();
    assert_eq!(cells(&t, "a"), vec![Some("1,5".into()), Some("2".into())]);
    assert_eq!(cells(&t, "b"), vec![Some("x\"y".into()), Some("z".into())]);
    // A quoted number is still a number.
    let t = read("a\n\"1.5\"\n\"2\"\n").unwrap();
    assert_eq!(nums(&t, "a"), &[1.5, 2.0]);
}

#[test]
fn line_endings_bom_blank_lines_and_unnamed_header() {
    let t = read("\u{feff}a,b\r\n1,x\r\n\r\n2,y\r\n").unwrap();
    assert_eq!(t.names(), &["a", "b"]);
    assert_eq!(nums(&t, "a"), &[1.0, 2.0]);
    assert_eq!(cells(&t, "b"), vec![Some("x".into()), Some("y".into())]);
    // Old Mac line ends (a lone CR) go through the csv crate.
    let t = read("a,b\r1,x\r2,y").unwrap();
    assert_eq!(nums(&t, "a"), &[1.0, 2.0]);
    let t = read(",a\n0,1\n").unwrap();
    assert_eq!(t.names(), &["Unnamed: 0", "a"]);
}

#[test]
fn column_kinds_override_inference() {
    let options = CsvOptions::default()
        .with_column_kind("zip", ColumnKind::Categorical)
        .with_column_kind("n", ColumnKind::Numeric);
    let t = read_csv_bytes(b"zip,n\n01234,1\n,NA\n01234,3\n", "t", &options).unwrap();
    assert_eq!(
        cells(&t, "zip"),
        vec![Some("01234".into()), None, Some("01234".into())]
    );
    assert_eq!(
        t.column("zip")
            .unwrap()
            .as_categorical()
            .unwrap()
            .categories()
            .len(),
        1
    );
    assert_eq!(nums(&t, "n")[2], 3.0);
    assert_parse_error(
        read_csv_bytes(b"zip,n\n1,1\n2,two\n", "t", &options),
        3,
        Some("n"),
        "expected a number",
    );
    match read_csv_bytes(
        b"a\n1\n",
        "t",
        &CsvOptions::default().with_column_kind("b", ColumnKind::Numeric),
    ) {
        Err(Error::UnknownColumn {
            name, available, ..
        }) => {
            assert_eq!(name, "b");
            assert_eq!(available, vec!["a".to_string()]);
        }
        other => panic!("expected UnknownColumn, got {other:?}"),
    }
}

#[test]
fn errors_name_file_line_and_column() {
    match read_csv("/nonexistent/amlis/none.csv", &CsvOptions::default()) {
        Err(Error::Io { path, .. }) => assert!(path.ends_with("none.csv")),
        other => panic!("expected Io, got {other:?}"),
    }
    assert_parse_error(read(""), 1, None, "empty");
    assert_parse_error(read("\n\r\n\n"), 1, None, "empty");
    assert_parse_error(read("a,b"), 1, None, "no data rows");
    assert_parse_error(read("a,b\n"), 2, None, "no data rows");
    assert_parse_error(read("a,b\n\n\n"), 2, None, "no data rows");
    assert_parse_error(
        read("a,b\n1,2\n3\n"),
        3,
        None,
        "expected 2 fields (as in the header), found 1",
    );
    assert_parse_error(
        read("a,b\n1,2\n\n3,4,5\n"),
        4,
        None,
        "expected 2 fields (as in the header), found 3",
    );
    assert_parse_error(read("a,b\n1,2\n\"x\ny\",3\n4\n"), 5, None, "found 1");
    assert_parse_error(read("a,a\n1,2\n"), 1, Some("a"), "duplicate");
    assert_parse_error(
        read_csv_bytes(b"a,b\n1,x\n2,\xffy\n", "t", &CsvOptions::default()),
        3,
        Some("b"),
        "UTF-8",
    );
    assert_parse_error(
        read_csv_bytes(b"a,\xc3\n1,2\n", "t", &CsvOptions::default()),
        1,
        Some("#2 of the header"),
        "UTF-8",
    );
    assert!(matches!(
        read_csv_bytes(b"a\n1\n", "t", &CsvOptions::default().with_delimiter(b'\n')),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        read_csv_bytes(b"a\n1\n", "t", &CsvOptions::default().with_quote(b',')),
        Err(Error::InvalidParameter { .. })
    ));
}

/// A file of several parallel chunks: `rows` rows of numbers, with `cell` at row `at`.
fn big_file(rows: usize, at: usize, cell: &str) -> String {
    let mut s = String::from("id,value,label\n");
    for i in 0..rows {
        if i == at {
            s.push_str(&format!("{i},{cell},l{}\n", i % 7));
        } else {
            s.push_str(&format!("{i},{}.25,l{}\n", i * 3, i % 7));
        }
    }
    s
}

fn with_threads<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn late_text_cell_turns_a_guessed_numeric_column_categorical() {
    let rows = 60_000; // about 1 MB: several chunks
    let text = big_file(rows, rows - 2, "oops");
    let t = read(&text).unwrap();
    assert_eq!(t.n_rows(), rows);
    let value = t.column("value").unwrap().as_categorical().unwrap();
    assert_eq!(value.get(0), Some("0.25"));
    assert_eq!(value.get(rows - 2), Some("oops"));
    assert_eq!(
        value.get(rows - 1),
        Some(&*format!("{}.25", (rows - 1) * 3))
    );
    assert_eq!(value.categories().len(), rows);
    assert_eq!(nums(&t, "id")[rows - 1], (rows - 1) as f64);
    let label = t.column("label").unwrap().as_categorical().unwrap();
    assert_eq!(label.categories()[..3], ["l0", "l1", "l2"]);
}

#[test]
fn errors_in_late_chunks_report_the_right_line() {
    let rows = 60_000;
    let mut text = big_file(rows, usize::MAX, "");
    text.push_str("1,2\n");
    assert_parse_error(read(&text), rows as u64 + 2, None, "found 2");
    let options = CsvOptions::default().with_column_kind("value", ColumnKind::Numeric);
    let bad = big_file(rows, 45_000, "bad");
    assert_parse_error(
        read_csv_bytes(bad.as_bytes(), "t", &options),
        45_002,
        Some("value"),
        "found `bad`",
    );
    // Two errors: the first in file order is reported, whatever the thread count.
    let mut two = big_file(rows, 50_000, "bad");
    two.insert_str(two.len() / 3, "\n1\n");
    for threads in [1, 2, 3] {
        let err = with_threads(threads, || read_csv_bytes(two.as_bytes(), "t", &options));
        let Err(Error::Parse { message, .. }) = err else {
            panic!("expected an error")
        };
        assert!(message.contains("ragged"), "{message}");
    }
}

#[test]
fn same_table_for_any_thread_count() {
    let text = big_file(50_000, 30_000, "text");
    let quoted = text.replace(",l3\n", ",\"l,3\"\n");
    for input in [&text, &quoted] {
        let one = with_threads(1, || read(input).unwrap());
        for threads in [2, 3, 4] {
            assert_same(&one, &with_threads(threads, || read(input).unwrap()));
        }
    }
    // Blank lines in every chunk leave gaps in the numeric slots, closed afterwards.
    let blanks = text.replace(",l5\n", ",l5\n\n\r\n");
    let with_blanks = with_threads(2, || read(&blanks).unwrap());
    assert_same(&with_threads(1, || read(&text).unwrap()), &with_blanks);
    let fast = read(&text).unwrap();
    let slow = read(&quoted).unwrap();
    assert_eq!(
        cells(&slow, "label")[3].as_deref(),
        Some("l,3"),
        "quoted field"
    );
    assert_same(
        &fast.select(&["id", "value"]).unwrap(),
        &slow.select(&["id", "value"]).unwrap(),
    );
}

#[test]
fn read_csv_reads_a_file() {
    let dir = std::env::temp_dir().join(format!("amlis-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.csv");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(b"a,b\n1,x\n")
        .unwrap();
    let t = read_csv(&path, &CsvOptions::default()).unwrap();
    assert_eq!(nums(&t, "a"), &[1.0]);
    let empty = dir.join("empty.csv");
    std::fs::write(&empty, b"").unwrap();
    match read_csv(&empty, &CsvOptions::default()) {
        Err(Error::Parse { origin, line, .. }) => {
            assert!(origin.ends_with("empty.csv"));
            assert_eq!(line, 1);
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Writes a table of numbers and strings with the csv crate (which quotes where needed).
fn write_csv(numbers: &[f64], strings: &[Option<String>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["num", "text"]).unwrap();
    for (x, s) in numbers.iter().zip(strings) {
        let x = if x.is_nan() {
            String::new()
        } else {
            x.to_string()
        };
        w.write_record([x.as_str(), s.as_deref().unwrap_or("")])
            .unwrap();
    }
    w.into_inner().unwrap()
}

fn text_cell() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(0.8, "s[a-z ,;\"'\n\r\t]{0,8}")
}

fn number_cell() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => any::<f64>().prop_filter("finite", |x| x.is_finite()),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => (-1000i64..1000).prop_map(|i| i as f64),
    ]
}

/// Wraps the first field of the first non-blank data line in quotes, which sends the file
/// through the `csv` crate's tokenizer instead of the unquoted fast path.
fn quote_first_cell(body: &str) -> String {
    let mut out = String::from("h1,h2\n");
    let mut done = false;
    for line in body.split_inclusive('\n') {
        if !done && line != "\n" {
            let end = line.find([',', '\n']).unwrap_or(line.len());
            out.push_str(&format!("\"{}\"{}", &line[..end], &line[end..]));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    out
}

fn outcome(text: &str) -> Result<Table, (u64, Option<String>)> {
    read(text).map_err(|e| match e {
        Error::Parse { line, column, .. } => (line, column),
        other => panic!("unexpected error {other:?}"),
    })
}

#[test]
fn utf8_and_ragged_errors_on_the_quoted_path() {
    assert_parse_error(
        read_csv_bytes(
            b"a,b
\"1\",x
2,\"\xffy\"
",
            "t",
            &CsvOptions::default(),
        ),
        3,
        Some("b"),
        "UTF-8",
    );
    // The first error in file order wins: a ragged line before a bad byte, on both paths.
    for text in [&b"a,b\n1\n2,\xff\n"[..], &b"a,b\n\"1\"\n2,\xff\n"[..]] {
        assert_parse_error(
            read_csv_bytes(text, "t", &CsvOptions::default()),
            2,
            None,
            "ragged",
        );
    }
    // A bad byte in a field beyond the header's count still names the line.
    assert_parse_error(
        read_csv_bytes(b"a\n1\n2,\xff\n", "t", &CsvOptions::default()),
        3,
        Some("#2 (beyond the header)"),
        "UTF-8",
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn quoted_and_unquoted_paths_agree(body in "[ab0-9,. \n-]{0,120}") {
        let plain = format!("h1,h2\n{body}");
        let quoted = quote_first_cell(&body);
        match (outcome(&plain), outcome(&quoted)) {
            (Ok(a), Ok(b)) => assert_same(&a, &b),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a.is_ok(), b.is_ok()),
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = read_csv_bytes(&bytes, "random", &CsvOptions::default());
    }

    #[test]
    fn random_csv_like_text_never_panics(
        text in "[a-c0-9,;\"'\n\r .eE+-]{0,200}",
        semicolon in any::<bool>(),
    ) {
        let options = if semicolon {
            CsvOptions::default().with_delimiter(b';').with_quote(b'\'')
        } else {
            CsvOptions::default()
        };
        if let Ok(t) = read_csv_bytes(text.as_bytes(), "random", &options) {
            prop_assert!(t.n_rows() > 0);
            prop_assert!(t.columns().iter().all(|c| c.len() == t.n_rows()));
        }
    }

    #[test]
    fn written_tables_round_trip(
        rows in prop::collection::vec((number_cell(), text_cell()), 1..40)
    ) {
        let (numbers, strings): (Vec<f64>, Vec<Option<String>>) = rows.into_iter().unzip();
        prop_assume!(strings.iter().any(|s| s.is_some()));
        let bytes = write_csv(&numbers, &strings);
        let t = read_csv_bytes(&bytes, "roundtrip", &CsvOptions::default()).unwrap();
        let back = nums(&t, "num");
        prop_assert_eq!(back.len(), numbers.len());
        for (a, b) in numbers.iter().zip(back) {
            prop_assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()), "{} vs {}", a, b);
        }
        prop_assert_eq!(cells(&t, "text"), strings);
    }
}
