//! Joining two tables on key columns: inner and left hash joins with SQL semantics.
//!
//! [`join`] builds a hash map on the right table's keys and probes it with every left row, so
//! its cost is linear in the sizes of the two inputs plus the size of the output.
//!
//! - **Keys** are one or more columns. Numeric keys compare by value (`-0.0 == 0.0`);
//!   categorical keys compare by their text, not their codes, since the two tables have their
//!   own category dictionaries. A missing key (`NaN`, or a missing category) never matches
//!   anything, as SQL `NULL` does.
//! - **Duplicate keys** give every matching pair (a cartesian product per key). Output rows come
//!   in left row order, and within one left row in right row order.
//! - **Left joins** keep every left row; the right columns of an unmatched row are missing.
//! - **Key columns appear once**, with the left table's names and values, at their place among
//!   the left columns; the right table's other columns follow in their order.
//! - **Clashing names**: a right non-key column named like a left column gets the right suffix
//!   (default `_right`), and a clashing left non-key column gets the left suffix
//!   (default `_left`).
//!
//! ```
//! use amlis::data::{join, Column, JoinOptions, Table};
//!
//! let people = Table::new(vec![
//!     ("id".into(), Column::numeric(vec![1.0, 2.0, 3.0])),
//!     ("name".into(), Column::categorical_from(&[Some("ada"), Some("bob"), Some("cy")])),
//! ])?;
//! let orders = Table::new(vec![
//!     ("id".into(), Column::numeric(vec![3.0, 1.0, 3.0])),
//!     ("amount".into(), Column::numeric(vec![10.0, 20.0, 30.0])),
//! ])?;
//!
//! let inner = join(&people, &orders, &JoinOptions::on(["id"]))?;
//! assert_eq!(inner.names(), &["id", "name", "amount"]);
//! assert_eq!(inner.column("id")?.as_numeric(), Some(&[1.0, 3.0, 3.0][..]));
//! assert_eq!(inner.column("amount")?.as_numeric(), Some(&[20.0, 10.0, 30.0][..]));
//!
//! let left = join(&people, &orders, &JoinOptions::on(["id"]).left())?;
//! assert_eq!(left.n_rows(), 4); // bob has no order: his amount is missing
//! assert!(left.column("amount")?.is_missing(1));
//! # Ok::<(), amlis::Error>(())
//! ```

use std::collections::HashMap;

use rayon::prelude::*;

use crate::data::table::{Column, Table, MISSING_CODE};
use crate::error::{Error, Result};

/// Which rows a join keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JoinKind {
    /// Only pairs of rows whose keys match (SQL `INNER JOIN`).
    #[default]
    Inner,
    /// Every left row; the right columns of a left row without a match are missing
    /// (SQL `LEFT OUTER JOIN`).
    Left,
}

/// How to join two tables: the key columns, the kind of join and the suffixes for clashing
/// column names.
///
/// Either name the keys once with [`on`](Self::on) (same names on both sides), or name them per
/// side with [`left_on`](Self::left_on) and [`right_on`](Self::right_on) (same count, paired in
/// order).
///
/// ```
/// use amlis::data::{JoinKind, JoinOptions};
/// let opts = JoinOptions::on(["store", "day"]).left().suffixes("_sales", "_stock");
/// assert_eq!(opts.kind, JoinKind::Left);
/// let opts = JoinOptions::left_on(["customer_id"]).right_on(["id"]);
/// assert_eq!(opts.right_on, vec!["id".to_string()]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinOptions {
    /// Key columns with the same names on both sides.
    pub on: Vec<String>,
    /// Key columns of the left table (used with `right_on` when `on` is empty).
    pub left_on: Vec<String>,
    /// Key columns of the right table, paired in order with `left_on`.
    pub right_on: Vec<String>,
    /// Inner or left join.
    pub kind: JoinKind,
    /// Suffixes added to clashing non-key column names: (left, right).
    pub suffixes: (String, String),
}

impl Default for JoinOptions {
    fn default() -> Self {
        Self {
            on: Vec::new(),
            left_on: Vec::new(),
            right_on: Vec::new(),
            kind: JoinKind::Inner,
            suffixes: ("_left".to_string(), "_right".to_string()),
        }
    }
}

fn strings(names: impl IntoIterator<Item = impl Into<String>>) -> Vec<String> {
    names.into_iter().map(Into::into).collect()
}

impl JoinOptions {
    /// An inner join on key columns that have the same names on both sides.
    pub fn on(keys: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            on: strings(keys),
            ..Self::default()
        }
    }

    /// An inner join whose left key columns are `keys`; name the right ones with
    /// [`right_on`](Self::right_on).
    pub fn left_on(keys: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            left_on: strings(keys),
            ..Self::default()
        }
    }

    /// Sets the right key columns (paired in order with `left_on`).
    pub fn right_on(mut self, keys: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.right_on = strings(keys);
        self
    }

    /// Makes this a left join.
    pub fn left(mut self) -> Self {
        self.kind = JoinKind::Left;
        self
    }

    /// Makes this an inner join.
    pub fn inner(mut self) -> Self {
        self.kind = JoinKind::Inner;
        self
    }

    /// Sets the kind of join.
    pub fn kind(mut self, kind: JoinKind) -> Self {
        self.kind = kind;
        self
    }

    /// Sets the suffixes for clashing non-key column names.
    pub fn suffixes(mut self, left: impl Into<String>, right: impl Into<String>) -> Self {
        self.suffixes = (left.into(), right.into());
        self
    }

    /// The (left, right) key column names, checked for count.
    fn key_pairs(&self) -> Result<Vec<(&str, &str)>> {
        let per_side = !self.left_on.is_empty() || !self.right_on.is_empty();
        if !self.on.is_empty() && per_side {
            return Err(Error::InvalidArgument(
                "join: give the keys either with `on` or with `left_on`/`right_on`, not both"
                    .into(),
            ));
        }
        if !self.on.is_empty() {
            return Ok(self.on.iter().map(|k| (k.as_str(), k.as_str())).collect());
        }
        if self.left_on.len() != self.right_on.len() {
            return Err(Error::InvalidArgument(format!(
                "join: `left_on` names {} key columns but `right_on` names {}; they are paired \
                 in order and must have the same count",
                self.left_on.len(),
                self.right_on.len()
            )));
        }
        if self.left_on.is_empty() {
            return Err(Error::InvalidArgument(
                "join: no key columns; name at least one with `on` (or `left_on`/`right_on`)"
                    .into(),
            ));
        }
        Ok(self
            .left_on
            .iter()
            .zip(&self.right_on)
            .map(|(l, r)| (l.as_str(), r.as_str()))
            .collect())
    }
}

/// Output size (rows × columns) from which output columns are gathered in parallel.
const PARALLEL_CELLS: usize = 1 << 16;

/// Marks a row whose key cannot match (a missing key part).
const NO_KEY: u64 = u64::MAX;

/// The hashable key words of every row of both tables, one `u64` per key column and row
/// (row-major, `n_keys` words per row). A row with a missing key part has `NO_KEY` in it and
/// is never looked up.
struct EncodedKeys {
    left: Vec<u64>,
    right: Vec<u64>,
}

/// A numeric cell as a key word: its bit pattern with `-0.0` folded onto `0.0`.
fn numeric_word(v: f64) -> u64 {
    if v.is_nan() {
        NO_KEY
    } else if v == 0.0 {
        0
    } else {
        v.to_bits()
    }
}

fn encode_keys(
    left: &Table,
    right: &Table,
    pairs: &[(&str, &str)],
) -> Result<(EncodedKeys, Vec<usize>)> {
    let nk = pairs.len();
    let (nl, nr) = (left.n_rows(), right.n_rows());
    let mut keys = EncodedKeys {
        left: vec![0; nl * nk],
        right: vec![0; nr * nk],
    };
    let mut right_idx = Vec::with_capacity(nk);
    for (k, &(lname, rname)) in pairs.iter().enumerate() {
        let li = left.index_of(lname, "join left key")?;
        let ri = right.index_of(rname, "join right key")?;
        let lcol = left
            .columns()
            .get(li)
            .ok_or_else(|| Error::InvalidArgument(format!("join: left key `{lname}` vanished")))?;
        let rcol = right
            .columns()
            .get(ri)
            .ok_or_else(|| Error::InvalidArgument(format!("join: right key `{rname}` vanished")))?;
        right_idx.push(ri);
        match (lcol, rcol) {
            (Column::Numeric(lv), Column::Numeric(rv)) => {
                fill(&mut keys.left, nk, k, lv.iter().map(|&v| numeric_word(v)));
                fill(&mut keys.right, nk, k, rv.iter().map(|&v| numeric_word(v)));
            }
            (Column::Categorical(lc), Column::Categorical(rc)) => {
                // Right codes are the key words; each left category is translated to the right
                // code of the same text (or NO_KEY when the right side never has it).
                let right_code: HashMap<&str, u64> = rc
                    .categories()
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.as_str(), i as u64))
                    .collect();
                let translate: Vec<u64> = lc
                    .categories()
                    .iter()
                    .map(|s| right_code.get(s.as_str()).copied().unwrap_or(NO_KEY))
                    .collect();
                let word = |code: u32| {
                    if code == MISSING_CODE {
                        NO_KEY
                    } else {
                        translate.get(code as usize).copied().unwrap_or(NO_KEY)
                    }
                };
                fill(&mut keys.left, nk, k, lc.codes().iter().map(|&c| word(c)));
                fill(
                    &mut keys.right,
                    nk,
                    k,
                    rc.codes()
                        .iter()
                        .map(|&c| if c == MISSING_CODE { NO_KEY } else { c as u64 }),
                );
            }
            _ => {
                return Err(Error::ColumnKind {
                    column: lname.to_string(),
                    context: format!(
                        "join key (the right key `{rname}` is {}; both keys must have the same kind)",
                        rcol.kind()
                    ),
                    found: lcol.kind().to_string(),
                    expected: rcol.kind().to_string(),
                });
            }
        }
    }
    Ok((keys, right_idx))
}

/// Writes key word `k` of every row into the row-major key buffer.
fn fill(buf: &mut [u64], nk: usize, k: usize, words: impl Iterator<Item = u64>) {
    for (row, w) in buf.chunks_exact_mut(nk).zip(words) {
        if let Some(slot) = row.get_mut(k) {
            *slot = w;
        }
    }
}

/// The matching (left row, right row) pairs, in output order.
fn match_rows(keys: &EncodedKeys, nk: usize, kind: JoinKind) -> (Vec<usize>, Vec<Option<usize>>) {
    const END: usize = usize::MAX;
    // Chained hash table: `head[key]` is the first right row with that key, `next[r]` the
    // following one. Building from the last row backwards keeps each chain in row order.
    let right_rows: Vec<&[u64]> = keys.right.chunks_exact(nk).collect();
    let mut head: HashMap<&[u64], usize> = HashMap::with_capacity(right_rows.len());
    let mut next = vec![END; right_rows.len()];
    for (r, key) in right_rows.iter().enumerate().rev() {
        if key.contains(&NO_KEY) {
            continue;
        }
        if let Some(h) = head.insert(key, r) {
            if let Some(slot) = next.get_mut(r) {
                *slot = h;
            }
        }
    }
    let mut out_left = Vec::new();
    let mut out_right = Vec::new();
    for (l, key) in keys.left.chunks_exact(nk).enumerate() {
        let mut r = if key.contains(&NO_KEY) {
            END
        } else {
            head.get(key).copied().unwrap_or(END)
        };
        if r == END && kind == JoinKind::Left {
            out_left.push(l);
            out_right.push(None);
        }
        while r != END {
            out_left.push(l);
            out_right.push(Some(r));
            r = next.get(r).copied().unwrap_or(END);
        }
    }
    (out_left, out_right)
}

/// Joins two tables on key columns (see the [module documentation](self) for the semantics).
///
/// # Errors
/// - [`Error::InvalidArgument`] when no key column is named, or `left_on` and `right_on` have
///   different lengths, or both `on` and `left_on`/`right_on` are given;
/// - [`Error::UnknownColumn`] when a key column is missing (the context says which side);
/// - [`Error::ColumnKind`] when a left key and its right key have different kinds;
/// - [`Error::InvalidArgument`] when the output would have two columns of the same name
///   (e.g. both suffixes empty).
pub fn join(left: &Table, right: &Table, options: &JoinOptions) -> Result<Table> {
    let pairs = options.key_pairs()?;
    let nk = pairs.len();
    if nk == 0 {
        // key_pairs never returns an empty list; the row chunking below relies on nk > 0.
        return Err(Error::InvalidArgument("join: no key columns".into()));
    }
    let (keys, right_key_idx) = encode_keys(left, right, &pairs)?;
    let (left_rows, right_rows) = match_rows(&keys, nk, options.kind);

    let left_keys: Vec<&str> = pairs.iter().map(|&(l, _)| l).collect();
    let right_payload: Vec<(&str, &Column)> = right
        .iter()
        .enumerate()
        .filter(|(i, _)| !right_key_idx.contains(i))
        .map(|(_, nc)| nc)
        .collect();
    let clashes = |name: &str| right_payload.iter().any(|(n, _)| *n == name);
    let (lsuf, rsuf) = (&options.suffixes.0, &options.suffixes.1);

    // Output columns: (name, source column, taken from the left side?).
    let mut plan: Vec<(String, &Column, bool)> = Vec::new();
    for (name, col) in left.iter() {
        let out_name = if !left_keys.contains(&name) && clashes(name) {
            format!("{name}{lsuf}")
        } else {
            name.to_string()
        };
        plan.push((out_name, col, true));
    }
    for (name, col) in right_payload {
        let out_name = if left.names().iter().any(|n| n == name) {
            format!("{name}{rsuf}")
        } else {
            name.to_string()
        };
        plan.push((out_name, col, false));
    }
    // Gathering the rows of each output column is independent work: run it in parallel when
    // the output is large.
    let gather = |(name, col, from_left): (String, &Column, bool)| -> Result<(String, Column)> {
        let taken = if from_left {
            col.take(&left_rows)?
        } else {
            col.take_optional(&right_rows)?
        };
        Ok((name, taken))
    };
    let columns: Vec<Result<(String, Column)>> = if left_rows.len() * plan.len() >= PARALLEL_CELLS {
        plan.into_par_iter().map(gather).collect()
    } else {
        plan.into_iter().map(gather).collect()
    };
    let mut out = Table::default();
    for column in columns {
        let (name, col) = column?;
        out.push_column(name, col)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_word_folds_negative_zero_and_nan() {
        assert_eq!(numeric_word(-0.0), numeric_word(0.0));
        assert_eq!(numeric_word(f64::NAN), NO_KEY);
        assert_ne!(numeric_word(1.0), numeric_word(-1.0));
    }

    #[test]
    fn key_pairs_validation() {
        assert!(JoinOptions::default().key_pairs().is_err());
        assert!(JoinOptions::left_on(["a", "b"])
            .right_on(["a"])
            .key_pairs()
            .is_err());
        let mut both = JoinOptions::on(["a"]);
        both.left_on = vec!["a".into()];
        assert!(both.key_pairs().is_err());
        assert_eq!(
            JoinOptions::left_on(["a"])
                .right_on(["b"])
                .key_pairs()
                .unwrap(),
            vec![("a", "b")]
        );
    }
}
