//! The graphs label propagation and label spreading walk: scikit-learn's `rbf` kernel (a
//! dense `n × n` matrix, computed in row blocks, bounded by `max_kernel_bytes`) and its `knn`
//! kernel (a sparse connectivity graph of `n_neighbors` per row, from the neighbour index),
//! normalized as each variant needs, and their product with the label distributions.

use serde::{Deserialize, Serialize};

use crate::common::linalg::gemm_abt;
use crate::common::parallel::first_of_blocks;
use crate::error::{Error, Result};
use crate::models::neighbors::{BlockSizes, NeighborIndex, Queries};

/// Rows per block of the kernel and of the graph products (fixed, so the bits never depend on
/// the thread count).
pub const GRAPH_BLOCK: usize = 256;

/// Block sizes of the knn kernel's searches (the fit's graph and new rows' neighbours):
/// larger than the index's defaults, so that the brute force's GEMMs pack their inputs less
/// often; the neighbours are the same.
pub const KNN_BLOCKS: BlockSizes = BlockSizes {
    query: 512,
    data: 1024,
};

/// Which graph joins the rows, as scikit-learn's `kernel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// `exp(-gamma · |a - b|²)` between every two rows: a dense `n × n` matrix.
    #[default]
    Rbf,
    /// Each row joined to its `n_neighbors` nearest rows (itself included): a sparse graph.
    Knn,
}

impl Kernel {
    /// The name in configs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Rbf => "rbf",
            Kernel::Knn => "knn",
        }
    }
}

/// A square matrix over the training rows: dense (row-major) or sparse (CSR).
#[derive(Debug, Clone, PartialEq)]
pub enum Graph {
    /// `n × n` values, row-major.
    Dense {
        /// The number of rows (and columns).
        n: usize,
        /// The values.
        values: Vec<f64>,
    },
    /// Compressed sparse rows.
    Sparse {
        /// The number of rows (and columns).
        n: usize,
        /// Row `i`'s entries are `offsets[i]..offsets[i + 1]`.
        offsets: Vec<usize>,
        /// Column of each entry.
        columns: Vec<usize>,
        /// Value of each entry.
        values: Vec<f64>,
    },
}

/// The bytes a dense `n × n` kernel of `f64` takes (saturating).
pub fn dense_kernel_bytes(n: usize) -> usize {
    n.saturating_mul(n)
        .saturating_mul(std::mem::size_of::<f64>())
}

/// The rbf kernel of the rows of `x` (row-major, `n × d`): `exp(-gamma · d²)` with the
/// squared distances computed as scikit-learn's `euclidean_distances` (`|a|² + |b|² - 2 a·b`,
/// clipped at 0, the diagonal exactly 0), in blocks of [`GRAPH_BLOCK`] rows (a GEMM each).
/// `context` names the model when the kernel would take more than `max_bytes`.
pub fn rbf_kernel(
    context: &str,
    x: &[f64],
    n: usize,
    d: usize,
    gamma: f64,
    max_bytes: usize,
) -> Result<Graph> {
    let need = dense_kernel_bytes(n);
    if need > max_bytes {
        return Err(Error::InvalidArgument(format!(
            "{context}: the dense rbf kernel of {n} rows needs {need} bytes ({:.2} GiB), more \
             than max_kernel_bytes = {max_bytes}; use kernel = \"knn\" (a sparse graph of \
             n_neighbors entries per row) or raise max_kernel_bytes",
            need as f64 / (1u64 << 30) as f64
        )));
    }
    let norms: Vec<f64> = x.chunks_exact(d.max(1)).map(|r| dot(r, r)).collect();
    let mut values = vec![0.0; n * n];
    let failed = first_of_blocks(&mut values, GRAPH_BLOCK * n.max(1), |b, chunk| {
        let start = b * GRAPH_BLOCK;
        let rows = chunk.len() / n.max(1);
        let block = x.get(start * d..(start + rows) * d)?;
        if let Err(e) = gemm_abt(block, rows, x, n, d, chunk) {
            return Some(e);
        }
        for (r, out) in chunk.chunks_exact_mut(n.max(1)).enumerate() {
            let i = start + r;
            let ni = norms.get(i).copied().unwrap_or(0.0);
            for (j, v) in out.iter_mut().enumerate() {
                let sq = if i == j {
                    0.0
                } else {
                    (ni + norms.get(j).copied().unwrap_or(0.0) - 2.0 * *v).max(0.0)
                };
                *v = (-gamma * sq).exp();
            }
        }
        None
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(Graph::Dense { n, values }),
    }
}

/// `Σ a_i b_i` in order.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The connectivity graph of the indexed rows: each row joined (value 1) to its `k` nearest
/// rows, itself included, as scikit-learn's `kneighbors_graph(X, k, mode="connectivity")`.
pub fn knn_graph(index: &NeighborIndex, k: usize) -> Result<Graph> {
    let n = index.n_samples();
    let mut columns = Vec::with_capacity(n.saturating_mul(k));
    index.kneighbors_blocks_sized(
        Queries::Fitted,
        k,
        KNN_BLOCKS,
        |b| b.indices.clone(),
        |idx| {
            columns.extend_from_slice(&idx);
            Ok(())
        },
    )?;
    Ok(Graph::Sparse {
        n,
        offsets: (0..=n).map(|i| i * k).collect(),
        values: vec![1.0; columns.len()],
        columns,
    })
}

impl Graph {
    /// The number of rows.
    pub fn n(&self) -> usize {
        match self {
            Graph::Dense { n, .. } | Graph::Sparse { n, .. } => *n,
        }
    }

    /// Calls `f(i, j, &mut value)` for every stored entry.
    fn for_each_mut(&mut self, mut f: impl FnMut(usize, usize, &mut f64)) {
        match self {
            Graph::Dense { n, values } => {
                for (i, row) in values.chunks_exact_mut((*n).max(1)).enumerate() {
                    for (j, v) in row.iter_mut().enumerate() {
                        f(i, j, v);
                    }
                }
            }
            Graph::Sparse {
                offsets,
                columns,
                values,
                ..
            } => {
                for (i, w) in offsets.windows(2).enumerate() {
                    let (a, b) = (w[0], w[1]);
                    let cols = columns.get(a..b).unwrap_or(&[]);
                    for (&j, v) in cols.iter().zip(values.get_mut(a..b).unwrap_or(&mut [])) {
                        f(i, j, v);
                    }
                }
            }
        }
    }

    /// Divides every row by its sum (label propagation's transition matrix, as scikit-learn's
    /// `affinity_matrix /= affinity_matrix.sum(axis=1)`); a row summing to 0 stays 0.
    pub fn row_normalize(&mut self) {
        let mut sums = vec![0.0; self.n()];
        self.for_each_mut(|i, _, v| {
            if let Some(s) = sums.get_mut(i) {
                *s += *v;
            }
        });
        self.for_each_mut(|i, _, v| {
            let s = sums.get(i).copied().unwrap_or(0.0);
            if s != 0.0 {
                *v /= s;
            }
        });
    }

    /// Label spreading's matrix: minus scipy's normalized Laplacian with its diagonal set to
    /// 0, i.e. `S_ij = A_ij / sqrt(w_i w_j)` off the diagonal, where `w_j` is column `j`'s sum
    /// without the diagonal (scipy's in-degree; 1 for an isolated row).
    pub fn spreading_normalize(&mut self) {
        let mut w = vec![0.0; self.n()];
        self.for_each_mut(|i, j, v| {
            if i != j {
                if let Some(s) = w.get_mut(j) {
                    *s += *v;
                }
            }
        });
        let root: Vec<f64> = w
            .iter()
            .map(|&s| if s == 0.0 { 1.0 } else { s.sqrt() })
            .collect();
        self.for_each_mut(|i, j, v| {
            if i == j {
                *v = 0.0;
            } else {
                let (a, b) = (
                    root.get(i).copied().unwrap_or(1.0),
                    root.get(j).copied().unwrap_or(1.0),
                );
                *v = *v / a / b;
            }
        });
    }

    /// `out = self · f`, `f` and `out` row-major `n × k`, in parallel over blocks of
    /// [`GRAPH_BLOCK`] rows (a GEMM per block for a dense graph; sparse rows summed in
    /// column order).
    pub fn times(&self, f: &[f64], k: usize, out: &mut [f64]) -> Result<()> {
        let k1 = k.max(1);
        let n = self.n();
        if let Graph::Dense { values, .. } = self {
            // fᵀ, so that each block is one `a · bᵀ` product.
            let mut ft = vec![0.0; n * k1];
            for (j, row) in f.chunks_exact(k1).enumerate() {
                for (c, &v) in row.iter().enumerate() {
                    if let Some(t) = ft.get_mut(c * n + j) {
                        *t = v;
                    }
                }
            }
            let failed = first_of_blocks(out, GRAPH_BLOCK * k1, |b, chunk| {
                let rows = chunk.len() / k1;
                let start = b * GRAPH_BLOCK;
                let block = values.get(start * n..(start + rows) * n)?;
                gemm_abt(block, rows, &ft, k1, n, chunk).err()
            });
            return failed.map_or(Ok(()), Err);
        }
        let _ = first_of_blocks(out, GRAPH_BLOCK * k1, |b, chunk| {
            for (r, o) in chunk.chunks_exact_mut(k1).enumerate() {
                let i = b * GRAPH_BLOCK + r;
                o.fill(0.0);
                let mut add = |j: usize, a: f64| {
                    if let Some(fj) = f.get(j * k1..(j + 1) * k1) {
                        for (oc, &fc) in o.iter_mut().zip(fj) {
                            *oc += a * fc;
                        }
                    }
                };
                match self {
                    Graph::Dense { values, .. } => {
                        let row = values.get(i * n..(i + 1) * n).unwrap_or(&[]);
                        for (j, &a) in row.iter().enumerate() {
                            add(j, a);
                        }
                    }
                    Graph::Sparse {
                        offsets,
                        columns,
                        values,
                        ..
                    } => {
                        let (a, b) = (
                            offsets.get(i).copied().unwrap_or(0),
                            offsets.get(i + 1).copied().unwrap_or(0),
                        );
                        let cols = columns.get(a..b).unwrap_or(&[]);
                        for (&j, &v) in cols.iter().zip(values.get(a..b).unwrap_or(&[])) {
                            add(j, v);
                        }
                    }
                }
            }
            None::<()>
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rbf_blocks_match_the_formula_and_the_bound_names_knn() {
        let x: Vec<f64> = (0..600).map(|i| ((i * 7) % 11) as f64 / 5.0).collect();
        let (n, d) = (300, 2);
        let Graph::Dense { values, .. } = rbf_kernel("t", &x, n, d, 0.5, usize::MAX).unwrap()
        else {
            panic!("dense expected")
        };
        for (i, j) in [(0, 0), (3, 299), (299, 4), (257, 255)] {
            let sq: f64 = (0..d).map(|c| (x[i * d + c] - x[j * d + c]).powi(2)).sum();
            assert!((values[i * n + j] - (-0.5 * sq).exp()).abs() < 1e-12);
        }
        let e = rbf_kernel("label_spreading", &x, n, d, 0.5, 1000).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("720000 bytes") && msg.contains("knn"), "{msg}");
    }

    #[test]
    fn spreading_matrix_is_symmetric_scaling_without_diagonal() {
        let mut g = Graph::Dense {
            n: 3,
            values: vec![1.0, 2.0, 0.0, 2.0, 1.0, 4.0, 0.0, 4.0, 1.0],
        };
        g.spreading_normalize();
        let Graph::Dense { values, .. } = g else {
            panic!()
        };
        // w = [2, 6, 4]
        assert_eq!(values[0], 0.0);
        assert!((values[1] - 2.0 / (2f64.sqrt() * 6f64.sqrt())).abs() < 1e-15);
        assert!((values[5] - 4.0 / (6f64.sqrt() * 2.0)).abs() < 1e-15);
        let mut out = vec![0.0; 3];
        Graph::Dense {
            n: 3,
            values: vec![1.0, 2.0, 0.0, 2.0, 1.0, 4.0, 0.0, 4.0, 1.0],
        }
        .times(&[1.0, 1.0, 1.0], 1, &mut out)
        .unwrap();
        assert_eq!(out, vec![3.0, 7.0, 5.0]);
    }
}
