//! Real data sets shipped with the crate (from `data/`), ready to use in examples and tests.
//!
//! The small ones are compiled into the library, so they load from anywhere; `diamonds`
//! (53,940 rows) stays a file and is read through [`diamonds_path`].
//!
//! | loader | rows × columns | target | task |
//! |---|---|---|---|
//! | [`iris`] | 150 × 4 | `species` | 3 classes |
//! | [`wine`] | 178 × 13 | `cultivar` | 3 classes |
//! | [`breast_cancer`] | 569 × 30 | `diagnosis` | 2 classes |
//! | [`diabetes`] | 442 × 10 | `progression` | regression |
//! | [`digits`] | 1,797 × 64 | `digit` | 10 classes |
//! | [`penguins`] | 344 × 7 | `species` | 3 classes, missing values and strings |
//!
//! ```
//! use amlis::traits::Dataset;
//! let data = amlis::data::datasets::breast_cancer()?;
//! assert_eq!(data.n_samples(), 569);
//! assert_eq!(data.task().classes(), &["benign", "malignant"]);
//! # Ok::<(), amlis::Error>(())
//! ```

use std::path::PathBuf;

use crate::data::{read_csv_bytes, CsvOptions, DenseDataset, Table, TaskKind};
use crate::error::Result;

macro_rules! shipped {
    ($table:ident, $data:ident, $file:literal, $target:literal, $task:expr, $doc:literal) => {
        #[doc = concat!("The `", $file, "` table as shipped (all columns, target included). ", $doc)]
        pub fn $table() -> Result<Table> {
            read_csv_bytes(
                include_bytes!(concat!("../../data/", $file)),
                concat!("data/", $file),
                &CsvOptions::default(),
            )
        }

        #[doc = concat!("The `", $file, "` data set with target `", $target, "`. ", $doc)]
        pub fn $data() -> Result<DenseDataset> {
            DenseDataset::from_table(&$table()?, $target, $task)
        }
    };
}

shipped!(
    iris_table,
    iris,
    "iris.csv",
    "species",
    TaskKind::Classification,
    "Fisher's iris: 3 species."
);
shipped!(
    wine_table,
    wine,
    "wine.csv",
    "cultivar",
    TaskKind::Classification,
    "UCI wine: 3 cultivars."
);
shipped!(
    breast_cancer_table,
    breast_cancer,
    "breast_cancer.csv",
    "diagnosis",
    TaskKind::Classification,
    "UCI Wisconsin diagnostic breast cancer: benign or malignant."
);
shipped!(
    diabetes_table,
    diabetes,
    "diabetes.csv",
    "progression",
    TaskKind::Regression,
    "Efron et al. diabetes progression (features centred and scaled)."
);
shipped!(
    digits_table,
    digits,
    "digits.csv",
    "digit",
    TaskKind::Classification,
    "8×8 handwritten digits: 10 classes."
);
shipped!(
    penguins_table,
    penguins,
    "penguins.csv",
    "species",
    TaskKind::Classification,
    "Palmer penguins: missing numbers and strings, categorical `island` and `sex`."
);

/// The path of `diamonds.csv` (53,940 rows; target `price`; categorical `cut`, `color`,
/// `clarity`) in the crate's `data/` folder.
pub fn diamonds_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("diamonds.csv")
}

/// The path of any file in the crate's `data/` folder.
pub fn data_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(file)
}
