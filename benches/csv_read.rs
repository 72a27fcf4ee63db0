//! CSV reading speed: `data/diamonds.csv` (53,940 rows, 3 categorical columns) and a generated
//! 1,000,000 × 20 numeric file.
//!
//! Run with `cargo bench --bench csv_read`. The numeric file is written once to
//! `target/bench-data/numeric_1m_20.csv` from a fixed seed (same bytes every time), so that
//! `pandas.read_csv` can be timed on exactly the same file.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use amlis::data::{read_csv, CsvOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::Rng;

const ROWS: usize = 1_000_000;
const COLS: usize = 20;
const SEED: u64 = 20_240_601;

/// Writes the 1M × 20 numeric file if it is absent: columns `c0..c19`; even columns hold
/// decimals with 4 places in [-1000, 1000), odd ones integers in [0, 100000), and column
/// `c19` values with 6 places in [0, 1).
fn numeric_file() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    let path = dir.join("numeric_1m_20.csv");
    if path.exists() {
        return path;
    }
    fs::create_dir_all(&dir).unwrap();
    let tmp = dir.join("numeric_1m_20.csv.tmp");
    let mut w = BufWriter::new(fs::File::create(&tmp).unwrap());
    let header: Vec<String> = (0..COLS).map(|j| format!("c{j}")).collect();
    writeln!(w, "{}", header.join(",")).unwrap();
    let mut rng = amlis::rng::from_seed(SEED);
    for _ in 0..ROWS {
        for j in 0..COLS {
            if j > 0 {
                w.write_all(b",").unwrap();
            }
            if j == COLS - 1 {
                write!(w, "{:.6}", rng.gen::<f64>()).unwrap();
            } else if j % 2 == 0 {
                write!(w, "{:.4}", rng.gen_range(-1000.0..1000.0)).unwrap();
            } else {
                write!(w, "{}", rng.gen_range(0..100_000u32)).unwrap();
            }
        }
        w.write_all(b"\n").unwrap();
    }
    w.into_inner().unwrap().sync_all().unwrap();
    fs::rename(&tmp, &path).unwrap();
    path
}

fn bench_read(c: &mut Criterion) {
    let options = CsvOptions::default();
    let mut group = c.benchmark_group("csv_read");
    group.sample_size(10);

    let diamonds = amlis::datasets::diamonds_path();
    group.throughput(Throughput::Bytes(fs::metadata(&diamonds).unwrap().len()));
    group.bench_function("diamonds_53940x10", |b| {
        b.iter(|| read_csv(&diamonds, &options).unwrap())
    });

    let numeric = numeric_file();
    group.throughput(Throughput::Bytes(fs::metadata(&numeric).unwrap().len()));
    group.bench_function("numeric_1000000x20", |b| {
        b.iter(|| read_csv(&numeric, &options).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_read);
criterion_main!(benches);
