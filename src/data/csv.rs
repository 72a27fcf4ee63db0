//! CSV reading into typed [`Table`]s.
//!
//! The reader takes a header row, then infers each column's kind: a column is numeric when
//! every non-missing cell parses as a number (integers, decimals, exponents, `inf`, with
//! optional surrounding spaces, as `pandas.read_csv` accepts), categorical otherwise. Cells
//! equal to one of the missing tokens become `NaN` (numeric) or `None` (categorical). Explicit
//! [`CsvOptions::column_kinds`] override inference.
//!
//! Every problem is an [`Error`], never a panic: a missing file ([`Error::Io`]); an empty file,
//! a header-only file, a ragged row, bytes that are not UTF-8, a duplicate header name or an
//! unparseable cell in an explicitly numeric column ([`Error::Parse`], naming the file, the
//! 1-based line and the column); a name in `column_kinds` that the header lacks
//! ([`Error::UnknownColumn`]).
//!
//! ```
//! use amlis::data::{read_csv_bytes, ColumnKind, CsvOptions};
//!
//! let text = b"name,height,year\nann,1.62,2001\nbob,NA,2003\n,1.80,2001\n";
//! let options = CsvOptions::default().with_column_kind("year", ColumnKind::Categorical);
//! let table = read_csv_bytes(text, "people.csv", &options)?;
//! assert_eq!(table.kinds(), vec![ColumnKind::Categorical, ColumnKind::Numeric, ColumnKind::Categorical]);
//! assert!(table.column("height")?.as_numeric().unwrap()[1].is_nan());
//! assert_eq!(table.column("name")?.as_categorical().unwrap().get(2), None);
//! # Ok::<(), amlis::Error>(())
//! ```
//!
//! # How it is fast
//!
//! The file is read into memory once. When the data rows hold no quote character (the common
//! case for numeric data), record boundaries are line ends, so the rows are cut into chunks of
//! about 256 KiB at line ends and the chunks are parsed in parallel with rayon: each chunk is
//! validated as UTF-8 once, split into fields in one pass, and its numbers (plain decimals by
//! an exact fast path, the rest by `str::parse`) are written straight into its own slice of
//! the final column; text cells go into a per-chunk dictionary. Rows with quotes (a quoted
//! field may hold newlines) are tokenized sequentially by the `csv` crate, then converted in
//! parallel chunks of records the same way. A column guessed numeric that meets a non-number
//! in some chunk is re-read as text in a second pass over that column only. Chunks are joined
//! in file order and categories are numbered in order of first appearance in the file, so the
//! table is the same, bit for bit, for any thread count.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;

use crate::data::table::{CategoricalColumn, Column, ColumnKind, Table};
use crate::error::{Error, Result};

/// The missing tokens used by [`CsvOptions::default`].
pub const DEFAULT_MISSING_TOKENS: [&str; 8] = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "?"];

/// Target size of one parallel chunk of an unquoted file, in bytes.
const CHUNK_BYTES: usize = 256 * 1024;
/// Records per parallel chunk of a tokenized (quoted) file.
const CHUNK_RECORDS: usize = 8192;
/// Records read first to spot categorical columns before the parallel pass.
const SAMPLE_RECORDS: usize = 100;
/// The UTF-8 byte-order mark, skipped at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Options of the CSV reader.
///
/// ```
/// use amlis::data::{ColumnKind, CsvOptions};
///
/// let options = CsvOptions::default()
///     .with_delimiter(b';')
///     .with_missing_tokens(["", "-"])
///     .with_column_kind("zip", ColumnKind::Categorical);
/// assert_eq!(options.delimiter, b';');
/// assert_eq!(options.missing_tokens, vec!["".to_string(), "-".to_string()]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CsvOptions {
    /// Field delimiter, an ASCII byte other than a line break or the quote (default `b','`).
    pub delimiter: u8,
    /// Quote character, an ASCII byte (default `b'"'`); inside quotes a doubled quote is one
    /// quote character.
    pub quote: u8,
    /// Cell texts that mean "missing", matched exactly (default [`DEFAULT_MISSING_TOKENS`]:
    /// `""`, `NA`, `N/A`, `NaN`, `nan`, `null`, `NULL`, `?`).
    pub missing_tokens: Vec<String>,
    /// Explicit kinds for some columns, overriding inference. A cell of an explicitly numeric
    /// column that is neither missing nor a number is an error.
    pub column_kinds: HashMap<String, ColumnKind>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            quote: b'"',
            missing_tokens: DEFAULT_MISSING_TOKENS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            column_kinds: HashMap::new(),
        }
    }
}

impl CsvOptions {
    /// Sets the field delimiter.
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Sets the quote character.
    pub fn with_quote(mut self, quote: u8) -> Self {
        self.quote = quote;
        self
    }

    /// Replaces the missing tokens.
    pub fn with_missing_tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.missing_tokens = tokens.into_iter().map(Into::into).collect();
        self
    }

    /// Fixes the kind of one column, overriding inference.
    pub fn with_column_kind(mut self, name: impl Into<String>, kind: ColumnKind) -> Self {
        self.column_kinds.insert(name.into(), kind);
        self
    }

    fn validate(&self) -> Result<()> {
        let check = |name: &str, b: u8| {
            if !b.is_ascii() || b == b'\n' || b == b'\r' {
                Err(Error::param(
                    name,
                    format!("{:?}", b as char),
                    "an ASCII byte other than a line break",
                ))
            } else {
                Ok(())
            }
        };
        check("delimiter", self.delimiter)?;
        check("quote", self.quote)?;
        if self.delimiter == self.quote {
            return Err(Error::param(
                "quote",
                format!("{:?}", self.quote as char),
                "a byte different from the delimiter",
            ));
        }
        Ok(())
    }
}

/// Reads a CSV file with a header row into a [`Table`].
///
/// A missing or unreadable file is an [`Error::Io`]; see the [module docs](self) for the
/// other errors.
pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Table> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_csv_bytes(&bytes, &path.display().to_string(), options)
}

/// Reads CSV text held in memory; `origin` names it in error messages.
pub fn read_csv_bytes(bytes: &[u8], origin: &str, options: &CsvOptions) -> Result<Table> {
    options.validate()?;
    let data = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let header = read_header(data, origin, options)?;
    let plans = initial_plans(&header.names, options, origin)?;
    let body = data.get(header.body_start..).unwrap_or_default();
    let source = Source::new(body, header.body_line, options, origin)?;
    let reader = ChunkReader {
        source: &source,
        names: &header.names,
        missing: MissingSet::new(&options.missing_tokens),
        origin,
    };
    let (columns, n_rows) = reader.read_columns(plans)?;
    if n_rows == 0 {
        return Err(parse_error(
            origin,
            header.body_line,
            None,
            "the file has a header but no data rows",
        ));
    }
    Table::new(header.names.into_iter().zip(columns).collect())
}

fn parse_error(origin: &str, line: u64, column: Option<String>, message: &str) -> Error {
    Error::Parse {
        origin: origin.to_string(),
        line,
        column,
        message: message.to_string(),
    }
}

fn csv_reader<'a>(data: &'a [u8], options: &CsvOptions) -> ::csv::Reader<&'a [u8]> {
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(options.delimiter)
        .quote(options.quote)
        .from_reader(data)
}

/// The parsed header row.
struct Header {
    names: Vec<String>,
    /// Byte offset where the data rows start.
    body_start: usize,
    /// 1-based line on which the data rows start.
    body_line: u64,
}

/// Parses the header row. Empty names become `Unnamed: <index>`, as pandas names them.
fn read_header(data: &[u8], origin: &str, options: &CsvOptions) -> Result<Header> {
    let mut reader = csv_reader(data, options);
    let mut record = ::csv::ByteRecord::new();
    let found = reader
        .read_byte_record(&mut record)
        .map_err(|e| parse_error(origin, 1, None, &format!("cannot read the header: {e}")))?;
    if !found {
        return Err(parse_error(
            origin,
            1,
            None,
            "the file is empty; expected a header row",
        ));
    }
    let line = record.position().map_or(1, |p| p.line());
    let mut names: Vec<String> = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        let name = std::str::from_utf8(field).map_err(|e| {
            parse_error(
                origin,
                line,
                Some(format!("#{} of the header", i + 1)),
                &format!(
                    "the column name is not valid UTF-8 (bad byte at position {} of the name)",
                    e.valid_up_to()
                ),
            )
        })?;
        let name = if name.is_empty() {
            format!("Unnamed: {i}")
        } else {
            name.to_string()
        };
        if names.contains(&name) {
            return Err(parse_error(
                origin,
                line,
                Some(name),
                "duplicate column name in the header; column names must be distinct",
            ));
        }
        names.push(name);
    }
    let position = reader.position();
    Ok(Header {
        names,
        body_start: usize::try_from(position.byte()).unwrap_or(data.len()),
        body_line: position.line(),
    })
}

/// The first plan of each column, from the explicit kinds (unknown names are errors).
fn initial_plans(names: &[String], options: &CsvOptions, origin: &str) -> Result<Vec<Plan>> {
    let mut unknown: Vec<&String> = options
        .column_kinds
        .keys()
        .filter(|k| !names.contains(k))
        .collect();
    unknown.sort();
    if let Some(name) = unknown.first() {
        return Err(Error::UnknownColumn {
            name: name.to_string(),
            context: format!("CsvOptions::column_kinds for {origin}"),
            available: names.to_vec(),
        });
    }
    Ok(names
        .iter()
        .map(|n| match options.column_kinds.get(n) {
            Some(ColumnKind::Numeric) => Plan::Numeric { strict: true },
            Some(ColumnKind::Categorical) => Plan::Text,
            None => Plan::Numeric { strict: false },
        })
        .collect())
}

/// What to do with one column while parsing a chunk.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Plan {
    /// Parse numbers; `strict`: a non-number is an error, else the column is marked failed.
    Numeric { strict: bool },
    /// Dictionary-encode the text.
    Text,
    /// Ignore (a second pass re-reads only some columns).
    Skip,
}

/// Where the records of the body come from. A chunk is a byte range of the body (`Lines`) or
/// a record range (`Tokens`).
enum Source<'a> {
    /// No quote in the body: records are lines, fields split at the delimiter.
    Lines {
        /// The bytes after the header.
        body: &'a [u8],
        /// 1-based line on which `body` starts.
        first_line: u64,
        delimiter: u8,
    },
    /// The body tokenized by the `csv` crate: unescaped fields, one after another.
    Tokens {
        /// All field bytes, concatenated.
        buf: Vec<u8>,
        /// End of each field in `buf`.
        field_ends: Vec<usize>,
        /// Per record: index of its first field in `field_ends`, and its 1-based line.
        records: Vec<(usize, u64)>,
    },
}

/// Where a record starts: a byte offset into the body (`Lines`) or a line number (`Tokens`).
#[derive(Debug, Clone, Copy)]
struct RecordPos(u64);

impl<'a> Source<'a> {
    fn new(body: &'a [u8], first_line: u64, options: &CsvOptions, origin: &str) -> Result<Self> {
        // Scanned in parallel: on a large file this check is otherwise a sequential pass.
        let quote = options.quote;
        let has = |needle: u8| body.par_chunks(1 << 20).any(|c| count_byte(c, needle) > 0);
        let quoted = has(quote);
        let lone_cr = has(b'\r')
            && body
                .iter()
                .enumerate()
                .any(|(i, &b)| b == b'\r' && body.get(i + 1) != Some(&b'\n'));
        if !quoted && !lone_cr {
            return Ok(Source::Lines {
                body,
                first_line,
                delimiter: options.delimiter,
            });
        }
        let mut reader = csv_reader(body, options);
        let mut record = ::csv::ByteRecord::new();
        let mut buf = Vec::with_capacity(body.len());
        let mut field_ends = Vec::new();
        let mut records = Vec::new();
        let (mut counted_to, mut line) = (0usize, first_line);
        loop {
            let error_line = first_line + reader.position().line().saturating_sub(1);
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    return Err(parse_error(
                        origin,
                        error_line,
                        None,
                        &format!("cannot tokenize the CSV: {e}"),
                    ))
                }
            }
            // The record's line: count the line ends up to its first byte, past the blank
            // lines the csv crate skipped (its own position points before them).
            let start = record
                .position()
                .and_then(|p| usize::try_from(p.byte()).ok())
                .unwrap_or(counted_to)
                .max(counted_to);
            let blank = body.get(start..).map_or(0, |rest| {
                rest.iter()
                    .take_while(|&&b| b == b'\n' || b == b'\r')
                    .count()
            });
            let start = start + blank;
            line += body
                .get(counted_to..start)
                .map_or(0, |s| s.iter().filter(|&&b| b == b'\n').count() as u64);
            counted_to = start;
            records.push((field_ends.len(), line));
            for field in record.iter() {
                buf.extend_from_slice(field);
                field_ends.push(buf.len());
            }
        }
        Ok(Source::Tokens {
            buf,
            field_ends,
            records,
        })
    }

    /// The chunks to parse in parallel, in file order.
    fn chunks(&self) -> Vec<Range<usize>> {
        match self {
            Source::Lines { body, .. } => {
                let mut chunks = Vec::with_capacity(body.len() / CHUNK_BYTES + 1);
                let mut start = 0;
                while start < body.len() {
                    let mut end = start.saturating_add(CHUNK_BYTES).min(body.len());
                    end = match body.get(end..).and_then(|rest| find_byte(rest, b'\n')) {
                        Some(p) => end + p + 1,
                        None => body.len(),
                    };
                    chunks.push(start..end);
                    start = end;
                }
                chunks
            }
            Source::Tokens { records, .. } => (0..records.len())
                .step_by(CHUNK_RECORDS)
                .map(|s| s..(s + CHUNK_RECORDS).min(records.len()))
                .collect(),
        }
    }

    /// A chunk holding the first `n` records (or fewer).
    fn prefix(&self, n: usize) -> Range<usize> {
        match self {
            Source::Lines { body, .. } => {
                let end = body
                    .iter()
                    .enumerate()
                    .filter(|(_, &b)| b == b'\n')
                    .nth(n.saturating_sub(1))
                    .map_or(body.len(), |(i, _)| i + 1);
                0..end
            }
            Source::Tokens { records, .. } => 0..n.min(records.len()),
        }
    }

    /// The 1-based line on which the record at `pos` starts.
    fn line(&self, pos: RecordPos) -> u64 {
        match self {
            Source::Lines {
                body, first_line, ..
            } => {
                let offset = usize::try_from(pos.0).unwrap_or(body.len());
                let before = body.get(..offset).unwrap_or(body);
                first_line + before.iter().filter(|&&b| b == b'\n').count() as u64
            }
            Source::Tokens { .. } => pos.0,
        }
    }

    /// An upper bound of the records in `chunk`: its line ends (plus an unterminated last
    /// line), or its record count.
    fn slots(&self, chunk: &Range<usize>) -> usize {
        match self {
            Source::Lines { body, .. } => {
                let bytes = body.get(chunk.clone()).unwrap_or_default();
                let ends = count_byte(bytes, b'\n');
                ends + usize::from(bytes.last().is_some_and(|&b| b != b'\n'))
            }
            Source::Tokens { .. } => chunk.len(),
        }
    }

    /// Calls `f` with the fields of every record of `chunk`, in order; stops at the first error.
    /// A cell that is not UTF-8 fails with the index of its field.
    fn for_each_record<'s, F>(&'s self, chunk: Range<usize>, mut f: F) -> Result<(), Fail>
    where
        F: FnMut(RecordPos, &[&'s str]) -> Result<(), Fail>,
    {
        let mut fields: Vec<&'s str> = Vec::new();
        match self {
            Source::Lines {
                body, delimiter, ..
            } => {
                let bytes = body.get(chunk.clone()).unwrap_or_default();
                match std::str::from_utf8(bytes) {
                    Ok(text) => split_lines(text, chunk.start, *delimiter, &mut fields, &mut f),
                    Err(e) => {
                        // Read the lines before the bad one first: the first error in file
                        // order is the one reported.
                        let bad = e.valid_up_to();
                        let before = bytes.get(..bad).unwrap_or_default();
                        let line_start = before
                            .iter()
                            .rposition(|&b| b == b'\n')
                            .map_or(0, |p| p + 1);
                        let valid = bytes.get(..line_start).unwrap_or_default();
                        let text = std::str::from_utf8(valid).unwrap_or_default();
                        split_lines(text, chunk.start, *delimiter, &mut fields, &mut f)?;
                        let in_line = before.get(line_start..).unwrap_or_default();
                        let field = in_line.iter().filter(|&&b| b == *delimiter).count();
                        Err(utf8_fail(
                            RecordPos((chunk.start + line_start) as u64),
                            field,
                        ))
                    }
                }
            }
            Source::Tokens {
                buf,
                field_ends,
                records,
            } => {
                for r in chunk {
                    let (Some(&(first, line)), next) = (records.get(r), records.get(r + 1)) else {
                        break;
                    };
                    let pos = RecordPos(line);
                    let last = next.map_or(field_ends.len(), |&(n, _)| n);
                    fields.clear();
                    let mut start = match first.checked_sub(1) {
                        Some(prev) => field_ends.get(prev).copied().unwrap_or(0),
                        None => 0,
                    };
                    for (i, &end) in field_ends
                        .get(first..last)
                        .unwrap_or_default()
                        .iter()
                        .enumerate()
                    {
                        let cell = buf.get(start..end).unwrap_or_default();
                        fields.push(std::str::from_utf8(cell).map_err(|_| utf8_fail(pos, i))?);
                        start = end;
                    }
                    f(pos, &fields)?;
                }
                Ok(())
            }
        }
    }
}

fn utf8_fail(pos: RecordPos, field: usize) -> Fail {
    Fail {
        pos,
        column: Some(field),
        message: "the cell is not valid UTF-8".to_string(),
    }
}

/// Splits unquoted text into records (lines; blank lines skipped; `\r\n` accepted) and
/// fields, in one pass; `base` is the text's offset in the body.
fn split_lines<'s, F>(
    text: &'s str,
    base: usize,
    delimiter: u8,
    fields: &mut Vec<&'s str>,
    f: &mut F,
) -> Result<(), Fail>
where
    F: FnMut(RecordPos, &[&'s str]) -> Result<(), Fail>,
{
    let bytes = text.as_bytes();
    // Ends the record whose last field starts at `field_start` and ends at `end` (a line end).
    let mut end_record =
        |fields: &mut Vec<&'s str>, field_start: usize, end: usize, line: usize| {
            let end = if end > field_start && bytes.get(end - 1) == Some(&b'\r') {
                end - 1
            } else {
                end
            };
            let result = if fields.is_empty() && end == field_start {
                Ok(()) // a blank line
            } else {
                // Delimiters and line ends are ASCII: every slice falls on character boundaries.
                fields.push(text.get(field_start..end).unwrap_or_default());
                f(RecordPos((base + line) as u64), fields)
            };
            fields.clear();
            result
        };
    let mut line_start = 0;
    let mut field_start = 0;
    fields.clear();
    let mut from = 0;
    while let Some(i) = next_separator(bytes, from, delimiter) {
        if bytes.get(i) == Some(&b'\n') {
            end_record(fields, field_start, i, line_start)?;
            line_start = i + 1;
        } else {
            fields.push(text.get(field_start..i).unwrap_or_default());
        }
        field_start = i + 1;
        from = i + 1;
    }
    if line_start < bytes.len() {
        end_record(fields, field_start, bytes.len(), line_start)?;
    }
    Ok(())
}

/// Bit 7 of each byte of the result is set where `word` has the byte `b`; the lowest set bit
/// is exact (higher ones may be false positives), which is all a forward search needs.
fn byte_mask(word: u64, b: u8) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let x = word ^ (LO * u64::from(b));
    x.wrapping_sub(LO) & !x & HI
}

/// The position of the first delimiter or line end at or after `from`, testing eight bytes at
/// a time.
fn next_separator(bytes: &[u8], mut from: usize, delimiter: u8) -> Option<usize> {
    while let Some(word) = bytes
        .get(from..from.saturating_add(8))
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        let word = u64::from_le_bytes(word);
        let mask = byte_mask(word, delimiter) | byte_mask(word, b'\n');
        if mask != 0 {
            return Some(from + (mask.trailing_zeros() / 8) as usize);
        }
        from += 8;
    }
    let rest = bytes.get(from..)?;
    rest.iter()
        .position(|&b| b == delimiter || b == b'\n')
        .map(|p| from + p)
}

/// The number of `needle` bytes in `bytes`, counted in 64-byte blocks that the compiler turns
/// into vector instructions (several times faster than a byte loop on large files).
fn count_byte(bytes: &[u8], needle: u8) -> usize {
    let mut blocks = bytes.chunks_exact(64);
    let mut n = 0;
    for block in &mut blocks {
        n += usize::from(block.iter().map(|&b| u8::from(b == needle)).sum::<u8>());
    }
    n + blocks.remainder().iter().filter(|&&b| b == needle).count()
}

/// Position of the first `needle` in `haystack`.
fn find_byte(haystack: &[u8], needle: u8) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// A parse failure inside a chunk, turned into an [`Error::Parse`] once its line is known.
#[derive(Debug)]
struct Fail {
    pos: RecordPos,
    /// The index of the column involved, when there is one.
    column: Option<usize>,
    message: String,
}

/// The set of missing tokens, with a first-byte filter so numbers are rejected quickly.
struct MissingSet {
    tokens: Vec<Vec<u8>>,
    first_bytes: [bool; 256],
    empty: bool,
}

impl MissingSet {
    fn new(tokens: &[String]) -> Self {
        let mut first_bytes = [false; 256];
        let mut empty = false;
        for t in tokens {
            match t.as_bytes().first() {
                Some(&b) => first_bytes[b as usize] = true,
                None => empty = true,
            }
        }
        Self {
            tokens: tokens.iter().map(|t| t.as_bytes().to_vec()).collect(),
            first_bytes,
            empty,
        }
    }

    fn contains(&self, cell: &[u8]) -> bool {
        match cell.first() {
            None => self.empty,
            Some(&b) => self.first_bytes[b as usize] && self.tokens.iter().any(|t| t == cell),
        }
    }
}

/// Parses a numeric cell as pandas does: surrounding spaces or tabs allowed; integers,
/// decimals, exponents, `inf`, `infinity` with an optional sign. `NaN` spellings that are not
/// missing tokens are not numbers.
pub(crate) fn parse_number(cell: &str) -> Option<f64> {
    if let Some(x) = parse_plain_decimal(cell.as_bytes()) {
        return Some(x);
    }
    let t = cell.trim_matches(|c| c == ' ' || c == '\t');
    match t.parse::<f64>() {
        Ok(x) if !x.is_nan() => Some(x),
        _ => None,
    }
}

/// Exact powers of ten representable in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The fast path for the common cell `[+-]digits[.digits]` with at most 19 digits whose value
/// without the point is at most 2^53: then that integer and the power of ten are exact `f64`s
/// and one division is correctly rounded (Clinger's fast path), the same result as
/// `str::parse`. Anything else returns `None` and goes to `str::parse`.
fn parse_plain_decimal(cell: &[u8]) -> Option<f64> {
    let (negative, digits) = match cell.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, cell),
    };
    let mut mantissa: u64 = 0;
    let mut n_digits = 0usize;
    let mut point: Option<usize> = None;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                n_digits += 1;
            }
            b'.' if point.is_none() => point = Some(n_digits),
            _ => return None,
        }
    }
    if n_digits == 0 || n_digits > 19 || mantissa > (1u64 << 53) {
        return None;
    }
    let scale = *POW10.get(point.map_or(0, |p| n_digits - p))?;
    let x = mantissa as f64 / scale;
    Some(if negative { -x } else { x })
}

/// Dictionary-encoded text of one column within one chunk.
#[derive(Default)]
struct LocalDict<'s> {
    codes: Vec<u32>,
    categories: Vec<&'s str>,
    lookup: HashMap<&'s str, u32>,
}

/// Up to this many categories, a linear scan beats hashing; the hash map is built past it.
const SMALL_DICT: usize = 16;

impl<'s> LocalDict<'s> {
    fn push(&mut self, cell: Option<&'s str>) {
        let code = match cell {
            None => crate::data::table::MISSING_CODE,
            Some(s) => self.code_for(s),
        };
        self.codes.push(code);
    }

    fn code_for(&mut self, s: &'s str) -> u32 {
        let found = if self.categories.len() <= SMALL_DICT {
            self.categories
                .iter()
                .position(|&c| c == s)
                .map(|i| i as u32)
        } else {
            self.lookup.get(s).copied()
        };
        if let Some(c) = found {
            return c;
        }
        let c = self.categories.len() as u32;
        self.categories.push(s);
        if self.categories.len() == SMALL_DICT + 1 {
            self.lookup = self
                .categories
                .iter()
                .enumerate()
                .map(|(i, &c)| (c, i as u32))
                .collect();
        } else if self.categories.len() > SMALL_DICT {
            self.lookup.insert(s, c);
        }
        c
    }
}

/// One column's cells of one chunk, while parsing.
enum ColBuf<'s, 'o> {
    /// Numbers written straight into the chunk's slice of the final column.
    Numbers {
        slots: &'o mut [f64],
        len: usize,
        strict: bool,
    },
    Text(LocalDict<'s>),
    /// Guessed numeric, but a cell was not a number: re-read as text.
    Failed,
    Skipped,
}

impl<'s, 'o> ColBuf<'s, 'o> {
    fn new(plan: Plan, slots: Option<&'o mut [f64]>) -> Self {
        match plan {
            Plan::Numeric { strict } => ColBuf::Numbers {
                slots: slots.unwrap_or_default(),
                len: 0,
                strict,
            },
            Plan::Text => ColBuf::Text(LocalDict::default()),
            Plan::Skip => ColBuf::Skipped,
        }
    }

    /// What remains once the chunk is parsed (the numbers are already in place).
    fn finish(self) -> ColOut<'s> {
        match self {
            ColBuf::Numbers { .. } => ColOut::Numbers,
            ColBuf::Text(dict) => ColOut::Text(dict),
            ColBuf::Failed => ColOut::Failed,
            ColBuf::Skipped => ColOut::Skipped,
        }
    }
}

/// One column of one parsed chunk.
enum ColOut<'s> {
    Numbers,
    Text(LocalDict<'s>),
    Failed,
    Skipped,
}

/// One parsed chunk.
struct ChunkOut<'s> {
    columns: Vec<ColOut<'s>>,
    n_rows: usize,
}

/// The final numeric columns (`None` for the others), `total` slots each, zeroed lazily.
fn numeric_buffers(plans: &[Plan], total: usize) -> Vec<Option<Vec<f64>>> {
    plans
        .iter()
        .map(|p| matches!(p, Plan::Numeric { .. }).then(|| vec![0.0; total]))
        .collect()
}

fn internal(what: &str) -> Error {
    Error::InvalidArgument(format!("CSV reader internal error: {what}"))
}

/// Cuts every numeric buffer into one slice per chunk (`slots[c]` values for chunk `c`):
/// the result is chunk-major.
fn split_per_chunk<'o>(
    buffers: &'o mut [Option<Vec<f64>>],
    slots: &[usize],
) -> Result<Vec<Vec<Option<&'o mut [f64]>>>> {
    let mut per_chunk: Vec<Vec<Option<&'o mut [f64]>>> = slots
        .iter()
        .map(|_| Vec::with_capacity(buffers.len()))
        .collect();
    for buffer in buffers.iter_mut() {
        match buffer {
            None => per_chunk.iter_mut().for_each(|c| c.push(None)),
            Some(values) => {
                let mut rest: &'o mut [f64] = values.as_mut_slice();
                for (chunk, &n) in per_chunk.iter_mut().zip(slots) {
                    let (head, tail) = std::mem::take(&mut rest)
                        .split_at_mut_checked(n)
                        .ok_or_else(|| internal("chunk slots exceed the column"))?;
                    chunk.push(Some(head));
                    rest = tail;
                }
            }
        }
    }
    Ok(per_chunk)
}

/// Parses chunks of one source into columns.
struct ChunkReader<'r, 's> {
    source: &'r Source<'s>,
    names: &'r [String],
    missing: MissingSet,
    origin: &'r str,
}

impl<'r> ChunkReader<'r, '_> {
    fn error(&self, fail: Fail) -> Error {
        let column = fail.column.map(|j| match self.names.get(j) {
            Some(name) => name.clone(),
            None => format!("#{} (beyond the header)", j + 1),
        });
        parse_error(
            self.origin,
            self.source.line(fail.pos),
            column,
            &fail.message,
        )
    }

    /// Parses one chunk with one plan per column; the numbers of numeric column `j` go to
    /// `slots[j]`, which has room for every record of the chunk.
    fn parse_chunk(
        &self,
        chunk: Range<usize>,
        plans: &[Plan],
        slots: Vec<Option<&mut [f64]>>,
    ) -> Result<ChunkOut<'r>, Fail> {
        let mut columns: Vec<ColBuf<'r, '_>> = plans
            .iter()
            .zip(slots)
            .map(|(&p, s)| ColBuf::new(p, s))
            .collect();
        let mut n_rows = 0;
        let n_columns = self.names.len();
        self.source.for_each_record(chunk, |pos, fields| {
            if fields.len() != n_columns {
                return Err(Fail {
                    pos,
                    column: None,
                    message: format!(
                        "ragged row: expected {n_columns} fields (as in the header), found {}",
                        fields.len()
                    ),
                });
            }
            for (j, (&cell, column)) in fields.iter().zip(columns.iter_mut()).enumerate() {
                match column {
                    ColBuf::Numbers { slots, len, strict } => {
                        let value = if self.missing.contains(cell.as_bytes()) {
                            f64::NAN
                        } else if let Some(x) = parse_number(cell) {
                            x
                        } else if *strict {
                            return Err(Fail {
                                pos,
                                column: Some(j),
                                message: format!(
                                    "expected a number (the column is declared numeric), found `{cell}`"
                                ),
                            });
                        } else {
                            *column = ColBuf::Failed;
                            continue;
                        };
                        let Some(slot) = slots.get_mut(*len) else {
                            return Err(Fail {
                                pos,
                                column: Some(j),
                                message: "internal error: more records than counted".to_string(),
                            });
                        };
                        *slot = value;
                        *len += 1;
                    }
                    ColBuf::Text(dict) => {
                        dict.push((!self.missing.contains(cell.as_bytes())).then_some(cell))
                    }
                    ColBuf::Failed | ColBuf::Skipped => {}
                }
            }
            n_rows += 1;
            Ok(())
        })?;
        Ok(ChunkOut {
            columns: columns.into_iter().map(ColBuf::finish).collect(),
            n_rows,
        })
    }

    /// Parses every chunk in parallel; the first error in file order wins.
    fn parse_all(
        &self,
        chunks: &[Range<usize>],
        plans: &[Plan],
        slots: Vec<Vec<Option<&mut [f64]>>>,
    ) -> Result<Vec<ChunkOut<'r>>> {
        let results: Vec<Result<ChunkOut<'r>, Fail>> = chunks
            .par_iter()
            .zip(slots.into_par_iter())
            .map(|(c, s)| self.parse_chunk(c.clone(), plans, s))
            .collect();
        results
            .into_iter()
            .map(|r| r.map_err(|f| self.error(f)))
            .collect()
    }

    /// Reads every column: the columns in header order and the row count.
    fn read_columns(&self, mut plans: Vec<Plan>) -> Result<(Vec<Column>, usize)> {
        // Spot categorical columns on a small prefix, so the main pass encodes them directly.
        let prefix = self.source.prefix(SAMPLE_RECORDS);
        let mut scratch = numeric_buffers(&plans, self.source.slots(&prefix));
        let scratch_slots = scratch.iter_mut().map(|b| b.as_deref_mut()).collect();
        if let Ok(sample) = self.parse_chunk(prefix, &plans, scratch_slots) {
            for (plan, column) in plans.iter_mut().zip(&sample.columns) {
                if matches!(column, ColOut::Failed) {
                    *plan = Plan::Text;
                }
            }
        }
        drop(scratch);

        // Numbers go straight into the final columns: chunk `c` owns `slots[c]` values (room
        // for all its records), gaps left by blank lines are closed afterwards.
        let chunks = self.source.chunks();
        let slots: Vec<usize> = chunks.par_iter().map(|c| self.source.slots(c)).collect();
        let mut numbers = numeric_buffers(&plans, slots.iter().sum());
        let outs = self.parse_all(&chunks, &plans, split_per_chunk(&mut numbers, &slots)?)?;
        let n_rows: usize = outs.iter().map(|o| o.n_rows).sum();
        let mut columns: Vec<Option<Column>> = Vec::with_capacity(plans.len());
        let mut failed = Vec::with_capacity(plans.len());
        for (j, buffer) in numbers.into_iter().enumerate() {
            let fail = outs
                .iter()
                .any(|o| matches!(o.columns.get(j), Some(ColOut::Failed)));
            failed.push(fail);
            columns.push(match buffer {
                Some(values) if !fail => Some(Column::Numeric(close_gaps(values, &slots, &outs)?)),
                _ => None,
            });
        }

        // Columns that met a non-number in some chunk: re-read them as text.
        let mut outs = outs;
        if failed.iter().any(|&f| f) {
            let second: Vec<Plan> = failed
                .iter()
                .map(|&f| if f { Plan::Text } else { Plan::Skip })
                .collect();
            let none = chunks.iter().map(|_| second.iter().map(|_| None).collect());
            let reread = self.parse_all(&chunks, &second, none.collect())?;
            for (out, again) in outs.iter_mut().zip(reread) {
                for ((column, new), &f) in out.columns.iter_mut().zip(again.columns).zip(&failed) {
                    if f {
                        *column = new;
                    }
                }
            }
        }

        // Text columns: merge the chunk dictionaries in file order, in parallel over columns.
        let mut per_column: Vec<Vec<ColOut<'r>>> = (0..plans.len())
            .map(|_| Vec::with_capacity(outs.len()))
            .collect();
        for out in outs {
            for (parts, column) in per_column.iter_mut().zip(out.columns) {
                parts.push(column);
            }
        }
        let columns = columns
            .into_par_iter()
            .zip(per_column.into_par_iter())
            .map(|(done, parts)| match done {
                Some(column) => Ok(column),
                None => merge_text(parts),
            })
            .collect::<Result<Vec<Column>>>()?;
        Ok((columns, n_rows))
    }
}

/// Moves each chunk's numbers next to the previous chunk's (closing the slots left unused by
/// blank lines) and drops the unused tail.
fn close_gaps(mut values: Vec<f64>, slots: &[usize], outs: &[ChunkOut<'_>]) -> Result<Vec<f64>> {
    let (mut read, mut write) = (0, 0);
    for (&n_slots, out) in slots.iter().zip(outs) {
        let n = out.n_rows;
        if n > n_slots || read + n > values.len() {
            return Err(internal("more records than counted"));
        }
        if read != write {
            values.copy_within(read..read + n, write);
        }
        write += n;
        read += n_slots;
    }
    values.truncate(write);
    Ok(values)
}

/// Merges one text column's chunk dictionaries in file order: categories are numbered in
/// order of first appearance in the file.
fn merge_text(parts: Vec<ColOut<'_>>) -> Result<Column> {
    let mut column = CategoricalColumn::new();
    let mut remap: Vec<u32> = Vec::new();
    for part in parts {
        let ColOut::Text(dict) = part else {
            return Err(internal("a text column has a non-text chunk"));
        };
        remap.clear();
        remap.extend(dict.categories.iter().map(|c| column.code_for(c)));
        for code in dict.codes {
            let global = remap
                .get(code as usize)
                .copied()
                .unwrap_or(crate::data::table::MISSING_CODE);
            column.push_code(global)?;
        }
    }
    Ok(Column::Categorical(column))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_decimals_take_the_fast_path_and_others_fall_back() {
        assert_eq!(parse_plain_decimal(b"0.23"), Some(0.23));
        assert_eq!(parse_plain_decimal(b"-326"), Some(-326.0));
        assert_eq!(parse_plain_decimal(b"+.5"), Some(0.5));
        assert_eq!(parse_plain_decimal(b"7."), Some(7.0));
        assert_eq!(
            parse_plain_decimal(b"-0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        for other in [
            "",
            ".",
            "-",
            "1e5",
            " 1",
            "1.2.3",
            "12345678901234567890",
            "9007199254740993",
        ] {
            assert_eq!(parse_plain_decimal(other.as_bytes()), None, "{other}");
        }
        assert_eq!(parse_number(" 9007199254740993 "), Some(9007199254740992.0));
        assert_eq!(parse_number("1e5"), Some(1e5));
        assert_eq!(parse_number("NaN"), None);
    }

    #[test]
    fn count_byte_counts_blocks_and_remainder() {
        let mut bytes = vec![b'a'; 200];
        for i in [0, 63, 64, 130, 199] {
            bytes[i] = b'\n';
        }
        assert_eq!(count_byte(&bytes, b'\n'), 5);
        assert_eq!(count_byte(&bytes[1..130], b'\n'), 2);
        assert_eq!(count_byte(b"", b'\n'), 0);
    }

    proptest! {
        #[test]
        fn next_separator_finds_the_first(text in "[a,\n;éÿ€]{0,40}", from in 0usize..45) {
            let bytes = text.as_bytes();
            let expected = bytes
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, &b)| b == b',' || b == b'\n')
                .map(|(i, _)| i);
            prop_assert_eq!(next_separator(bytes, from, b','), expected);
        }

        #[test]
        fn fast_path_agrees_with_std(s in "[+-]?[0-9]{0,20}(\\.[0-9]{0,20})?") {
            if let Some(x) = parse_plain_decimal(s.as_bytes()) {
                prop_assert_eq!(Some(x.to_bits()), s.parse::<f64>().ok().map(f64::to_bits), "{}", s);
            }
            prop_assert_eq!(
                parse_number(&s).map(f64::to_bits),
                s.parse::<f64>().ok().map(f64::to_bits)
            );
        }
    }
}
