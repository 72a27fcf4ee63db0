//! The data pillar: typed tables, CSV reading, summaries, joins, datasets, splits and the
//! real data sets shipped with the crate ([`datasets`]).

pub mod csv;
pub mod dataset;
pub mod datasets;
pub mod join;
pub mod split;
pub mod summary;
pub mod table;

pub use self::csv::{read_csv, read_csv_bytes, CsvOptions};
pub use dataset::{
    features_table, format_label, mark_unlabeled, targets_for, unlabeled_rows, DatasetView,
    DenseDataset, FeatureKind, Task, TaskKind, WithTargets,
};
pub use join::{join, JoinKind, JoinOptions};
pub use split::{
    stratified_train_test_split, train_test_split, KFold, Split, SplitSize, Splitter,
    StratifiedKFold, TrainTestSplit,
};
pub use summary::{describe, ColumnSummary, SummaryStats, SummaryTable};
pub use table::{CategoricalColumn, Column, ColumnKind, Table, MISSING_CODE};
