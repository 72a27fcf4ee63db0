//! [`NeighborIndex`]: the rows of a training set indexed for exact nearest-neighbour and
//! radius queries, the one search every neighbour-based model uses.

use std::cell::RefCell;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::metric::{Distance, Metric};
use super::search::{brute, Collector, KnnCollector, OneKnn, Radius, RadiusCollector, DATA_BLOCK};
use super::tree::Tree;
use crate::common::pages;
use crate::common::parallel::{first_of_block_pairs, first_of_blocks, map_fold_blocks};

/// Values copied (or rows normed) per parallel task when an index is built.
const COPY_BLOCK: usize = 1 << 16;
use crate::error::{Error, Result};
use crate::models::kit::validate::nan_probe;

/// Query rows per block of the parallel searches.
pub const QUERY_BLOCK: usize = 128;

/// How the index searches, as scikit-learn's `algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// Chosen from the data as scikit-learn does: brute force for cosine, for more than 15
    /// features, for minkowski with `p < 1` or when `k >= n / 2`; else a kd-tree.
    #[default]
    Auto,
    /// Every training row is compared (through a GEMM screen for euclidean).
    Brute,
    /// A kd-tree (minkowski-family metrics).
    KdTree,
    /// A ball tree (any metric; cosine as the euclidean distance of unit rows).
    BallTree,
}

impl Algorithm {
    /// The name in configs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Auto => "auto",
            Algorithm::Brute => "brute",
            Algorithm::KdTree => "kd_tree",
            Algorithm::BallTree => "ball_tree",
        }
    }
}

/// The settings of an index, with scikit-learn's names and defaults (`metric: "minkowski"`,
/// `p: 2`, `algorithm: "auto"`, `leaf_size: 30`). Models that search neighbours carry these
/// four fields and build their index with [`NeighborIndex::build`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexParams {
    /// The distance.
    pub metric: Metric,
    /// The power of `minkowski` (> 0; >= 1 for the trees).
    pub p: f64,
    /// The search structure.
    pub algorithm: Algorithm,
    /// Rows per leaf of the trees (>= 1; a tree leaf holds between `leaf_size` and
    /// `2 leaf_size` rows).
    pub leaf_size: usize,
}

impl Default for IndexParams {
    fn default() -> Self {
        Self {
            metric: Metric::Minkowski,
            p: 2.0,
            algorithm: Algorithm::Auto,
            leaf_size: 30,
        }
    }
}

impl IndexParams {
    /// Checks the settings (errors name `p`, `leaf_size` or `algorithm`) and returns the
    /// resolved distance.
    pub fn check(&self) -> Result<Distance> {
        let dist = Distance::resolve(self.metric, self.p)?;
        if self.leaf_size == 0 {
            return Err(Error::param("leaf_size", 0, "an integer >= 1"));
        }
        let tree = matches!(self.algorithm, Algorithm::KdTree | Algorithm::BallTree);
        if tree && !dist.tree_ok() {
            return Err(Error::param(
                "algorithm",
                self.algorithm.name(),
                "\"brute\" or \"auto\" for minkowski with p < 1 (not a metric)",
            ));
        }
        if self.algorithm == Algorithm::KdTree && dist == Distance::Cosine {
            return Err(Error::param(
                "algorithm",
                "kd_tree",
                "\"brute\", \"ball_tree\" or \"auto\" for metric \"cosine\"",
            ));
        }
        Ok(dist)
    }

    /// The algorithm `auto` stands for with `n` rows of `d` features and queries of `k`
    /// neighbours (scikit-learn's `NeighborsBase._fit`; radius-only users pass
    /// scikit-learn's default `n_neighbors`, 5).
    pub fn resolved(&self, n: usize, d: usize, k: usize) -> Result<Algorithm> {
        let dist = self.check()?;
        Ok(match self.algorithm {
            Algorithm::Auto => {
                if d > 15 || k >= n / 2 || dist == Distance::Cosine || !dist.tree_ok() {
                    Algorithm::Brute
                } else {
                    Algorithm::KdTree
                }
            }
            a => a,
        })
    }
}

/// Which rows to query.
#[derive(Debug, Clone, Copy)]
pub enum Queries<'a> {
    /// Every indexed row, in order (each is its own neighbour at distance 0).
    Fitted,
    /// Every indexed row, each without itself, as scikit-learn's `kneighbors()` /
    /// `radius_neighbors()` with `X=None`: a k-nearest query takes `k + 1` rows and drops
    /// the row itself, or the first row when it is not among them (more than `k` duplicates).
    FittedWithoutSelf,
    /// These indexed rows, in this order.
    FittedRows(&'a [usize]),
    /// New rows (`n_features` columns).
    Rows(ArrayView2<'a, f64>),
}

impl Queries<'_> {
    fn len(&self, n: usize) -> usize {
        match self {
            Queries::Fitted | Queries::FittedWithoutSelf => n,
            Queries::FittedRows(r) => r.len(),
            Queries::Rows(x) => x.nrows(),
        }
    }
}

/// The neighbours of one block of query rows: for query `start + r`, row `r` of the block
/// (indices and distances sorted by distance, then index; radius queries are sorted too).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NeighborBlock {
    /// The position of the block's first query row among all the query rows.
    pub start: usize,
    /// Row `r`'s neighbours are `offsets[r]..offsets[r + 1]` of `indices` / `distances`.
    pub offsets: Vec<usize>,
    /// Training row indices.
    pub indices: Vec<usize>,
    /// Distances (not reduced).
    pub distances: Vec<f64>,
}

impl NeighborBlock {
    /// The number of query rows in the block.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether the block holds no query row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The neighbours of the block's row `r`: (training rows, distances).
    pub fn row(&self, r: usize) -> (&[usize], &[f64]) {
        let (a, b) = (
            self.offsets.get(r).copied().unwrap_or(0),
            self.offsets.get(r + 1).copied().unwrap_or(0),
        );
        (
            self.indices.get(a..b).unwrap_or(&[]),
            self.distances.get(a..b).unwrap_or(&[]),
        )
    }
}

/// The k nearest neighbours of every query row.
#[derive(Debug, Clone, PartialEq)]
pub struct KNeighbors {
    /// `rows × k` distances, ascending per row.
    pub distances: Array2<f64>,
    /// `rows × k` training row indices.
    pub indices: Array2<usize>,
}

/// The saved form of an index: its settings and rows; the search structure is rebuilt on
/// load (it is a function of these), so a file cannot hold an inconsistent tree.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexState {
    metric: Metric,
    p: f64,
    /// The algorithm used (`auto` resolved at build time).
    algorithm: Algorithm,
    leaf_size: usize,
    n_features: usize,
    /// The rows, row-major.
    data: Vec<f64>,
}

/// Exact nearest-neighbour and radius searches over the rows of a training set: brute force,
/// a kd-tree or a ball tree (see [`Algorithm`]), all returning the same neighbours and the
/// same distance bits. Neighbours are ordered by distance, then by training row (the smaller
/// index first, as scikit-learn); a radius query keeps every row at distance `<= radius`.
///
/// The searches run in parallel over fixed blocks of [`QUERY_BLOCK`] query rows; the
/// streaming forms ([`kneighbors_blocks`](Self::kneighbors_blocks),
/// [`radius_blocks`](Self::radius_blocks)) hand each block to a `map` (in parallel) and its
/// result to a `fold` (in block order, on the calling thread), so a caller never holds more
/// than a wave of blocks' neighbourhoods, and sees the same sequence for any thread count.
///
/// The index serializes as its settings and rows; the tree is rebuilt when it is read.
///
/// ```
/// use amlis::models::neighbors::{Algorithm, IndexParams, NeighborIndex, Queries};
/// use ndarray::array;
///
/// let x = array![[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [5.0, 5.0]];
/// let params = IndexParams { algorithm: Algorithm::KdTree, leaf_size: 1, ..Default::default() };
/// let index = NeighborIndex::build(x.view(), &params, 2)?;
/// let knn = index.kneighbors(Queries::Rows(array![[0.1, 0.0]].view()), 2)?;
/// assert_eq!(knn.indices.row(0).to_vec(), vec![0, 1]);
/// let near = index.radius_neighbors(Queries::Fitted, 1.0)?;
/// assert_eq!(near[0].iter().map(|n| n.0).collect::<Vec<_>>(), vec![0, 1]);
/// assert_eq!(index.nearest_within(&[4.0, 4.0], 1.0)?, None);
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "IndexState", into = "IndexState")]
pub struct NeighborIndex {
    params: IndexParams,
    dist: Distance,
    n: usize,
    d: usize,
    /// The rows as given, row-major.
    data: Vec<f64>,
    /// The rows searched (unit rows for cosine; empty: `data`).
    unit: Vec<f64>,
    /// Squared norms of the searched rows (euclidean brute force).
    sq_norms: Vec<f64>,
    tree: Option<Tree>,
}

impl From<NeighborIndex> for IndexState {
    fn from(ix: NeighborIndex) -> Self {
        IndexState {
            metric: ix.params.metric,
            p: ix.params.p,
            algorithm: ix.params.algorithm,
            leaf_size: ix.params.leaf_size,
            n_features: ix.d,
            data: ix.data,
        }
    }
}

impl TryFrom<IndexState> for NeighborIndex {
    type Error = Error;

    fn try_from(s: IndexState) -> Result<Self> {
        let corrupt = |m: &str| Error::ModelCorrupt(format!("neighbour index: {m}"));
        if s.algorithm == Algorithm::Auto {
            return Err(corrupt("the algorithm was not resolved"));
        }
        if s.n_features == 0 {
            if !s.data.is_empty() {
                return Err(corrupt("rows without features"));
            }
        } else if s.data.len() % s.n_features != 0 {
            return Err(corrupt("the rows do not fill n_features columns"));
        }
        if s.data.iter().any(|v| !v.is_finite()) {
            return Err(corrupt("a non-finite value"));
        }
        let n = s.data.len().checked_div(s.n_features).unwrap_or(0);
        let params = IndexParams {
            metric: s.metric,
            p: s.p,
            algorithm: s.algorithm,
            leaf_size: s.leaf_size,
        };
        params.check().map_err(|e| corrupt(&e.to_string()))?;
        Self::from_rows(s.data, Vec::new(), n, s.n_features, params)
    }
}

thread_local! {
    /// Scratch of the single-row queries (a query row scaled for cosine, k distances and
    /// indices): grown once per thread, then reused, so the row path does not allocate.
    static SCRATCH: RefCell<(Vec<f64>, Vec<f64>, Vec<usize>)> =
        const { RefCell::new((Vec::new(), Vec::new(), Vec::new())) };

    /// Scratch of the single-row radius queries: every indexed row can be found, so it is
    /// grown once to the index's row count, then reused.
    static RADIUS_SCRATCH: RefCell<Vec<(f64, usize)>> = const { RefCell::new(Vec::new()) };
}

impl NeighborIndex {
    /// Indexes the rows of `x` (finite values) with `params`, `auto` resolved for queries of
    /// `k` neighbours ([`IndexParams::resolved`]).
    pub fn build(x: ArrayView2<'_, f64>, params: &IndexParams, k: usize) -> Result<Self> {
        let (n, d) = x.dim();
        let algorithm = params.resolved(n, d, k)?;
        let params = IndexParams {
            algorithm,
            ..*params
        };
        // The euclidean brute force searches with the squared row norms.
        let norms = algorithm == Algorithm::Brute && params.check()? == Distance::Euclidean;
        let bad =
            |v: f64| Error::InvalidArgument(format!("neighbour index: {v} is not a finite number"));
        let (data, sq_norms) = match x.as_slice() {
            Some(src) if d > 0 => {
                // One parallel pass over blocks of whole rows copies them (into memory that
                // is not zeroed first: the copying threads fault its pages in, huge pages
                // where the kernel allows), writes their squared norms straight into the
                // norms vector, and checks the values for a non-finite one.
                let rows_per_block = (COPY_BLOCK / d).max(1);
                let mut data: Vec<f64> = pages::with_room(src.len());
                let mut sq: Vec<f64> = pages::with_room(if norms { n } else { 0 });
                let failed = first_of_block_pairs(
                    &mut data.spare_capacity_mut()[..src.len()],
                    rows_per_block * d,
                    &mut sq.spare_capacity_mut()[..if norms { n } else { 0 }],
                    rows_per_block,
                    |b, rows, row_norms| {
                        let from = b * rows_per_block * d;
                        let Some(part) = src.get(from..from + rows.len()) else {
                            return Some(Error::InvalidArgument(
                                "neighbour index: the rows do not fill their shape".into(),
                            ));
                        };
                        for (o, &v) in rows.iter_mut().zip(part) {
                            o.write(v);
                        }
                        let finite = if row_norms.is_empty() {
                            !nan_probe(part).is_nan()
                        } else {
                            // A non-finite value makes its row's norm non-finite (as does
                            // a finite row whose norm overflows: then the search finds none).
                            sq_norms_into(part, d, row_norms, |o, s| {
                                o.write(s);
                            })
                        };
                        if finite {
                            None
                        } else {
                            part.iter().find(|v| !v.is_finite()).map(|&v| bad(v))
                        }
                    },
                );
                if let Some(e) = failed {
                    return Err(e);
                }
                // SAFETY: no block failed, so every block ran (only blocks after a failing one
                // may be skipped), and each block wrote every value of its chunk of `data`
                // (zipped with `part`, of the same length) and, when `norms`,
                // every value of its chunk of `sq` (`sq_norms_into` writes one norm per
                // row); the chunks cover the first `src.len()` values of `data` and the first
                // `n` of `sq` (`rows_per_block * d` values and `rows_per_block` norms per
                // block, `n * d == src.len()`), which are within their capacities
                // (`with_room`). `f64` has no invalid bit patterns nor drop glue.
                unsafe {
                    data.set_len(src.len());
                    sq.set_len(if norms { n } else { 0 });
                }
                (data, sq)
            }
            _ => {
                let data: Vec<f64> = x.iter().copied().collect();
                if let Some(&v) = data.iter().find(|v| !v.is_finite()) {
                    return Err(bad(v));
                }
                (data, Vec::new())
            }
        };
        Self::from_rows(data, sq_norms, n, d, params)
    }

    /// The index of the `n` rows of `d` values in `data` (finite), with their squared norms
    /// when already computed as [`sq_norms_into`] does (else empty).
    fn from_rows(
        data: Vec<f64>,
        sq_norms: Vec<f64>,
        n: usize,
        d: usize,
        params: IndexParams,
    ) -> Result<Self> {
        let dist = params.check()?;
        let mut ix = NeighborIndex {
            params,
            dist,
            n,
            d,
            data,
            unit: Vec::new(),
            sq_norms,
            tree: None,
        };
        if dist == Distance::Cosine {
            let mut unit = ix.data.clone();
            for row in unit.chunks_exact_mut(d.max(1)) {
                to_unit(row);
            }
            ix.unit = unit;
        }
        let space = ix.space();
        match params.algorithm {
            Algorithm::Brute | Algorithm::Auto => {
                if dist == Distance::Euclidean && ix.sq_norms.len() != n {
                    let mut sq = vec![0.0; n];
                    let rows_per_block = COPY_BLOCK / d.max(1) + 1;
                    let _ = first_of_blocks(&mut sq, rows_per_block, |b, chunk| {
                        let start = b * rows_per_block * d;
                        let rows = space.get(start..start + chunk.len() * d).unwrap_or(&[]);
                        sq_norms_into(rows, d, chunk, |o, s| *o = s);
                        None::<()>
                    });
                    ix.sq_norms = sq;
                }
            }
            Algorithm::KdTree | Algorithm::BallTree => {
                let ball = params.algorithm == Algorithm::BallTree;
                ix.tree = Some(Tree::build(space, n, d, params.leaf_size, dist, ball));
            }
        }
        Ok(ix)
    }

    /// The rows searched (unit rows for cosine).
    fn space(&self) -> &[f64] {
        if self.unit.is_empty() {
            &self.data
        } else {
            &self.unit
        }
    }

    /// The tree of a kd-tree or ball-tree index (`None` for brute force).
    pub(crate) fn tree(&self) -> Option<&Tree> {
        self.tree.as_ref()
    }

    /// The resolved distance.
    pub(crate) fn distance_kind(&self) -> Distance {
        self.dist
    }

    /// The rows searched, row-major (unit rows for cosine): what [`Tree::visit`] takes.
    pub(crate) fn search_space(&self) -> &[f64] {
        self.space()
    }

    /// The settings, with the algorithm resolved.
    pub fn params(&self) -> &IndexParams {
        &self.params
    }

    /// The number of indexed rows.
    pub fn n_samples(&self) -> usize {
        self.n
    }

    /// The number of features.
    pub fn n_features(&self) -> usize {
        self.d
    }

    /// The squared norms of the indexed rows, as the brute force computes them (empty unless
    /// the index is a euclidean brute force, whose searched rows are the rows as given).
    pub(crate) fn sq_norms(&self) -> &[f64] {
        &self.sq_norms
    }

    /// Indexed row `i` as given.
    pub fn row(&self, i: usize) -> &[f64] {
        self.data.get(i * self.d..(i + 1) * self.d).unwrap_or(&[])
    }

    /// The distance of indexed rows `a` and `b` (the bits a search reports).
    pub fn distance(&self, a: usize, b: usize) -> f64 {
        let s = self.space();
        let row = |i: usize| s.get(i * self.d..(i + 1) * self.d).unwrap_or(&[]);
        self.dist.to_dist(self.dist.rdist(row(a), row(b)))
    }

    /// Offers the candidates of every query row of `q` (`rows` search-space rows).
    fn search<C: Collector>(&self, q: &[f64], rows: usize, out: &mut C) {
        let space = self.space();
        match &self.tree {
            Some(tree) => {
                for r in 0..rows {
                    let qr = q.get(r * self.d..(r + 1) * self.d).unwrap_or(&[]);
                    tree.search(qr, r, self.dist, out);
                }
            }
            None => brute(
                space,
                &self.sq_norms,
                self.n,
                self.d,
                self.dist,
                q,
                rows,
                out,
                DATA_BLOCK,
            ),
        }
    }

    /// The search-space rows of queries `from..to` (and, for indexed rows, their index).
    fn gather(&self, queries: &Queries<'_>, from: usize, to: usize) -> (Vec<f64>, Vec<usize>) {
        let d = self.d;
        let mut q = Vec::with_capacity((to - from) * d);
        let mut ids = Vec::with_capacity(to - from);
        for t in from..to {
            let id = match queries {
                Queries::Fitted | Queries::FittedWithoutSelf => Some(t),
                Queries::FittedRows(r) => r.get(t).copied(),
                Queries::Rows(_) => None,
            };
            match (id, queries) {
                (Some(i), _) => {
                    match self.space().get(i * d..(i + 1) * d) {
                        Some(row) => q.extend_from_slice(row),
                        None => q.extend(std::iter::repeat_n(0.0, d)),
                    }
                    ids.push(i);
                }
                (None, Queries::Rows(x)) => {
                    let start = q.len();
                    q.extend(x.row(t).iter());
                    if self.dist == Distance::Cosine {
                        if let Some(row) = q.get_mut(start..) {
                            to_unit(row);
                        }
                    }
                    ids.push(usize::MAX);
                }
                _ => {
                    q.extend(std::iter::repeat_n(0.0, d));
                    ids.push(usize::MAX);
                }
            }
        }
        (q, ids)
    }

    fn check_queries(&self, queries: &Queries<'_>) -> Result<()> {
        match queries {
            Queries::Rows(x) => {
                if x.ncols() != self.d {
                    return Err(Error::shape(
                        "neighbour query",
                        format!("{} columns", self.d),
                        format!("{} columns", x.ncols()),
                    ));
                }
                if let Some(v) = x.iter().find(|v| !v.is_finite()) {
                    return Err(Error::InvalidArgument(format!(
                        "neighbour query: {v} is not a finite number"
                    )));
                }
            }
            Queries::FittedRows(r) => {
                if let Some(i) = r.iter().find(|&&i| i >= self.n) {
                    return Err(Error::InvalidArgument(format!(
                        "neighbour query: row {i} of an index of {} rows",
                        self.n
                    )));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The `k` nearest neighbours of the queries, block by block: `map` turns each block into
    /// a `T` (in parallel), `fold` receives the `T`s in block order.
    pub fn kneighbors_blocks<T, M, F>(
        &self,
        queries: Queries<'_>,
        k: usize,
        map: M,
        fold: F,
    ) -> Result<()>
    where
        T: Send,
        M: Fn(&NeighborBlock) -> T + Sync,
        F: FnMut(T) -> Result<()>,
    {
        self.kneighbors_blocks_sized(queries, k, BlockSizes::default(), map, fold)
    }

    /// [`kneighbors_blocks`](Self::kneighbors_blocks) with the block sizes of `sizes`: the
    /// same neighbours and the same sequence of results for any sizes (larger brute force
    /// blocks make fewer, larger GEMMs; they hold `query × data` products per thread).
    pub fn kneighbors_blocks_sized<T, M, F>(
        &self,
        queries: Queries<'_>,
        k: usize,
        sizes: BlockSizes,
        map: M,
        fold: F,
    ) -> Result<()>
    where
        T: Send,
        M: Fn(&NeighborBlock) -> T + Sync,
        F: FnMut(T) -> Result<()>,
    {
        let query_block = sizes.query.max(1);
        self.check_queries(&queries)?;
        let without_self = matches!(queries, Queries::FittedWithoutSelf);
        let limit = self.n.saturating_sub(usize::from(without_self));
        if k == 0 || k > limit {
            return Err(Error::param(
                "n_neighbors",
                k,
                &format!("an integer in [1, {limit}] (the rows indexed)"),
            ));
        }
        let kq = k + usize::from(without_self);
        let nq = queries.len(self.n);
        let n_blocks = nq.div_ceil(query_block);
        let mut fold = fold;
        map_fold_blocks(
            n_blocks,
            |b| {
                let from = b * query_block;
                let to = (from + query_block).min(nq);
                let (q, ids) = self.gather(&queries, from, to);
                let rows = to - from;
                let mut c = KnnCollector::new(rows, kq);
                self.search_sized(&q, rows, &mut c, sizes.data);
                let mut block = NeighborBlock {
                    start: from,
                    offsets: (0..=rows).map(|r| r * k).collect(),
                    indices: Vec::with_capacity(rows * k),
                    distances: Vec::with_capacity(rows * k),
                };
                for (r, &id) in ids.iter().enumerate() {
                    let found = c.idx.get(r * kq..(r + 1) * kq).unwrap_or(&[]);
                    let rds = c.rds.get(r * kq..(r + 1) * kq).unwrap_or(&[]);
                    // Without self: drop the row itself, or the first when it is absent.
                    let skip = if without_self {
                        found.iter().position(|&i| i == id).unwrap_or(0)
                    } else {
                        usize::MAX
                    };
                    for (t, (&i, &rd)) in found.iter().zip(rds).enumerate() {
                        if t != skip {
                            block.indices.push(i);
                            block.distances.push(self.dist.to_dist(rd));
                        }
                    }
                }
                map(&block)
            },
            |_, t| fold(t),
        )
    }

    /// Every indexed row within `radius` of the queries (reported distance `<= radius`), block by block, sorted by
    /// distance then index: `map` turns each block into a `T` (in parallel), `fold` receives
    /// the `T`s in block order.
    pub fn radius_blocks<T, M, F>(
        &self,
        queries: Queries<'_>,
        radius: f64,
        map: M,
        fold: F,
    ) -> Result<()>
    where
        T: Send,
        M: Fn(&NeighborBlock) -> T + Sync,
        F: FnMut(T) -> Result<()>,
    {
        self.check_queries(&queries)?;
        if radius.is_nan() || radius < 0.0 {
            return Err(Error::param("radius", radius, "a value >= 0"));
        }
        let without_self = matches!(queries, Queries::FittedWithoutSelf);
        let nq = queries.len(self.n);
        let n_blocks = nq.div_ceil(QUERY_BLOCK);
        let within = Radius::new(self.dist, radius);
        let mut fold = fold;
        map_fold_blocks(
            n_blocks,
            |b| {
                let from = b * QUERY_BLOCK;
                let to = (from + QUERY_BLOCK).min(nq);
                let (q, ids) = self.gather(&queries, from, to);
                let rows = to - from;
                let mut c = RadiusCollector {
                    radius: within,
                    found: vec![Vec::new(); rows],
                };
                self.search(&q, rows, &mut c);
                let mut block = NeighborBlock {
                    start: from,
                    offsets: Vec::with_capacity(rows + 1),
                    ..Default::default()
                };
                block.offsets.push(0);
                for (found, &id) in c.found.iter_mut().zip(&ids) {
                    found.sort_unstable_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                    for &(i, rd) in found.iter() {
                        if !(without_self && i == id) {
                            block.indices.push(i);
                            block.distances.push(self.dist.to_dist(rd));
                        }
                    }
                    block.offsets.push(block.indices.len());
                }
                map(&block)
            },
            |_, t| fold(t),
        )
    }

    /// The `k` nearest neighbours of every query row.
    pub fn kneighbors(&self, queries: Queries<'_>, k: usize) -> Result<KNeighbors> {
        let nq = queries.len(self.n);
        let mut distances = Vec::with_capacity(nq * k);
        let mut indices = Vec::with_capacity(nq * k);
        self.kneighbors_blocks(
            queries,
            k,
            |b| b.clone(),
            |b| {
                distances.extend_from_slice(&b.distances);
                indices.extend_from_slice(&b.indices);
                Ok(())
            },
        )?;
        let shape = |e| Error::shape("kneighbors", format!("{nq} x {k}"), e);
        Ok(KNeighbors {
            distances: Array2::from_shape_vec((nq, k), distances).map_err(shape)?,
            indices: Array2::from_shape_vec((nq, k), indices).map_err(shape)?,
        })
    }

    /// The rows within `radius` of every query row: per query, `(training row, distance)`
    /// sorted by distance then row.
    pub fn radius_neighbors(
        &self,
        queries: Queries<'_>,
        radius: f64,
    ) -> Result<Vec<Vec<(usize, f64)>>> {
        let mut out = Vec::with_capacity(queries.len(self.n));
        self.radius_blocks(
            queries,
            radius,
            |b| {
                (0..b.len())
                    .map(|r| {
                        let (i, d) = b.row(r);
                        i.iter().copied().zip(d.iter().copied()).collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            },
            |rows| {
                out.extend(rows);
                Ok(())
            },
        )?;
        Ok(out)
    }

    /// Runs `f` on `row` in the search space (scaled to unit norm for cosine, in a scratch
    /// buffer of this thread) with two scratch buffers of `k` values.
    fn with_row<R>(
        &self,
        row: &[f64],
        k: usize,
        f: impl FnOnce(&[f64], &mut [f64], &mut [usize]) -> R,
    ) -> Result<R> {
        if row.len() != self.d {
            return Err(Error::shape(
                "neighbour query",
                format!("{} values", self.d),
                format!("{} values", row.len()),
            ));
        }
        if let Some(v) = row.iter().find(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "neighbour query: {v} is not a finite number"
            )));
        }
        let run = |q: &mut Vec<f64>, rds: &mut Vec<f64>, idx: &mut Vec<usize>| {
            if rds.len() < k {
                rds.resize(k, 0.0);
                idx.resize(k, 0);
            }
            let (rds, idx) = (&mut rds[..k], &mut idx[..k]);
            if self.dist == Distance::Cosine {
                q.clear();
                q.extend_from_slice(row);
                to_unit(q);
                f(q, rds, idx)
            } else {
                f(row, rds, idx)
            }
        };
        Ok(SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut s) => {
                let (q, rds, idx) = &mut *s;
                run(q, rds, idx)
            }
            // A query from inside another one's callback: buffers of its own.
            Err(_) => run(&mut Vec::new(), &mut Vec::new(), &mut Vec::new()),
        }))
    }

    /// The search of one query row into caller buffers; returns how many were found.
    fn one(&self, q: &[f64], rds: &mut [f64], idx: &mut [usize], radius: f64) -> usize {
        let radius = Radius::new(self.dist, radius);
        let mut c = OneKnn {
            rds,
            idx,
            len: 0,
            radius,
        };
        match &self.tree {
            Some(tree) => tree.search(q, 0, self.dist, &mut c),
            None => brute(
                self.space(),
                &self.sq_norms,
                self.n,
                self.d,
                self.dist,
                q,
                1,
                &mut c,
                DATA_BLOCK,
            ),
        }
        let len = c.len;
        for v in c.rds.iter_mut().take(len) {
            *v = self.dist.to_dist(*v);
        }
        len
    }

    /// The nearest indexed row within `radius` (`<=`) of `row` and its distance (the smaller
    /// index on ties), or `None`. Allocation-free (a cosine index uses a per-thread scratch
    /// row that is grown once).
    pub fn nearest_within(&self, row: &[f64], radius: f64) -> Result<Option<(usize, f64)>> {
        if radius.is_nan() || radius < 0.0 {
            return Err(Error::param("radius", radius, "a value >= 0"));
        }
        self.with_row(row, 1, |q, rds, idx| {
            (self.one(q, rds, idx, radius) == 1).then(|| (idx[0], rds[0]))
        })
    }

    /// Calls `f(indices, distances)` with the `k` nearest neighbours of one new row, sorted;
    /// allocation-free after the first call on a thread (per-thread scratch).
    pub fn with_kneighbors_of_row<R>(
        &self,
        row: &[f64],
        k: usize,
        f: impl FnOnce(&[usize], &[f64]) -> R,
    ) -> Result<R> {
        if k == 0 || k > self.n {
            return Err(Error::param(
                "n_neighbors",
                k,
                &format!("an integer in [1, {}] (the rows indexed)", self.n),
            ));
        }
        self.with_row(row, k, |q, rds, idx| {
            let len = self.one(q, rds, idx, f64::INFINITY);
            f(&idx[..len], &rds[..len])
        })
    }
}

impl NeighborIndex {
    /// Calls `f(indices, distances)` with every indexed row within `radius` (`<=`) of one new
    /// row, sorted by distance then index (the order and the distance bits of
    /// [`radius_blocks`](Self::radius_blocks)); allocation-free after the first call on a
    /// thread (per-thread scratch of `n_samples` entries).
    pub fn with_radius_of_row<R>(
        &self,
        row: &[f64],
        radius: f64,
        f: impl FnOnce(&[usize], &[f64]) -> R,
    ) -> Result<R> {
        if radius.is_nan() || radius < 0.0 {
            return Err(Error::param("radius", radius, "a value >= 0"));
        }
        let n = self.n;
        self.with_row(row, n, |q, rds, idx| {
            RADIUS_SCRATCH.with(|s| {
                let mut found = s.borrow_mut();
                found.clear();
                found.reserve(n);
                let mut c = OneRadius {
                    radius: Radius::new(self.dist, radius),
                    found: &mut found,
                };
                match &self.tree {
                    Some(tree) => tree.search(q, 0, self.dist, &mut c),
                    None => brute(
                        self.space(),
                        &self.sq_norms,
                        self.n,
                        self.d,
                        self.dist,
                        q,
                        1,
                        &mut c,
                        DATA_BLOCK,
                    ),
                }
                found.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let len = found.len().min(rds.len());
                for ((&(rd, i), r), j) in found.iter().zip(rds.iter_mut()).zip(idx.iter_mut()) {
                    *r = self.dist.to_dist(rd);
                    *j = i;
                }
                f(idx.get(..len).unwrap_or(&[]), rds.get(..len).unwrap_or(&[]))
            })
        })
    }
}

/// Every row within a radius of one query row, unsorted, into a buffer of capacity `n`
/// (each indexed row is offered at most once, so it never grows).
struct OneRadius<'a> {
    radius: Radius,
    found: &'a mut Vec<(f64, usize)>,
}

impl Collector for OneRadius<'_> {
    #[inline]
    fn limit(&self, _r: usize) -> f64 {
        self.radius.loose
    }

    #[inline]
    fn offer(&mut self, _r: usize, i: usize, rd: f64) {
        if self.radius.holds(rd) && self.found.len() < self.found.capacity() {
            self.found.push((rd, i));
        }
    }
}

/// Rows whose squared norms [`sq_norms_into`] sums side by side.
const NORM_LANES: usize = 8;

/// Puts the squared euclidean norm of each row of `d` values of `rows` into `out` (one per
/// row, with `put`; 0 for rows without values) and returns whether they are all finite.
///
/// Each norm is summed in its row's order, so its bits are those of the plain per-row sum
/// `row.iter().map(|v| v * v).sum()` (whose start, `0.0` or `-0.0`, leaves the first square
/// unchanged: the accumulators start from `-0.0`, as the newer standard libraries); the
/// rows are taken [`NORM_LANES`] at a time so that their independent sums overlap instead of
/// waiting on one another.
fn sq_norms_into<O>(rows: &[f64], d: usize, out: &mut [O], put: impl Fn(&mut O, f64)) -> bool {
    if d == 0 {
        out.iter_mut().for_each(|o| put(o, 0.0));
        return true;
    }
    let mut probe = 0.0;
    let mut groups = rows.chunks_exact(NORM_LANES * d);
    let mut outs = out.chunks_exact_mut(NORM_LANES);
    for (group, o) in (&mut groups).zip(&mut outs) {
        let lanes: [&[f64]; NORM_LANES] = std::array::from_fn(|l| &group[l * d..(l + 1) * d]);
        let mut sums = [-0.0f64; NORM_LANES];
        for j in 0..d {
            for (s, lane) in sums.iter_mut().zip(&lanes) {
                *s += lane[j] * lane[j];
            }
        }
        for (o, s) in o.iter_mut().zip(sums) {
            probe += s * 0.0;
            put(o, s);
        }
    }
    for (row, o) in groups
        .remainder()
        .chunks_exact(d)
        .zip(outs.into_remainder())
    {
        let s: f64 = row.iter().map(|v| v * v).sum();
        probe += s * 0.0;
        put(o, s);
    }
    !probe.is_nan()
}

/// Scales `row` to unit euclidean norm (a zero row stays zero, as scikit-learn's
/// `normalize`).
fn to_unit(row: &mut [f64]) {
    let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        row.iter_mut().for_each(|v| *v /= norm);
    }
}

/// Block sizes of the k-nearest searches ([`NeighborIndex::kneighbors_blocks_sized`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSizes {
    /// Query rows per parallel block (default [`QUERY_BLOCK`]).
    pub query: usize,
    /// Training rows per GEMM of the euclidean brute force (default 256).
    pub data: usize,
}

impl Default for BlockSizes {
    fn default() -> Self {
        Self {
            query: QUERY_BLOCK,
            data: DEFAULT_DATA_BLOCK,
        }
    }
}

/// Training rows per GEMM of the brute force by default.
const DEFAULT_DATA_BLOCK: usize = DATA_BLOCK;

impl NeighborIndex {
    /// [`search`](Self::search) with `data_block` training rows per brute force GEMM.
    fn search_sized<C: Collector>(&self, q: &[f64], rows: usize, out: &mut C, data_block: usize) {
        if self.tree.is_some() || data_block == DEFAULT_DATA_BLOCK {
            return self.search(q, rows, out);
        }
        brute(
            self.space(),
            &self.sq_norms,
            self.n,
            self.d,
            self.dist,
            q,
            rows,
            out,
            data_block,
        );
    }
}
