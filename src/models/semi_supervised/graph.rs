//! The graphs label propagation and label spreading walk: scikit-learn's `rbf` kernel (a
//! dense symmetric `n × n` matrix, computed and stored in tiles once per pair of rows,
//! bounded by `max_kernel_bytes`) and its `knn` kernel (a sparse connectivity graph of
//! `n_neighbors` per row, from the neighbour index), normalized as each variant needs, and
//! their product with the label distributions.

use serde::{Deserialize, Serialize};

use super::symmetric::SymmetricTiles;
use crate::common::linalg::{exp_in_place, gemm_abt, sq_norm};
use crate::common::parallel::first_of_blocks;
use crate::common::simd::with_avx2;
use crate::error::{Error, Result};
use crate::models::neighbors::{BlockSizes, NeighborIndex, Queries};

/// Rows per block of the sparse graph products (fixed, so the bits never depend on the thread
/// count).
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

/// A square matrix over the training rows: a scaled symmetric kernel (dense) or a sparse
/// graph (CSR).
#[derive(Debug, Clone, PartialEq)]
pub enum Graph {
    /// `diag(1 / left) · K · diag(1 / right)` for a symmetric kernel `K`: a normalization is
    /// kept as the divisors of its rows and columns instead of being applied to `K`'s values.
    Scaled {
        /// The symmetric kernel.
        kernel: SymmetricTiles,
        /// Row `i` is divided by `left[i]`.
        left: Vec<f64>,
        /// Column `j` is divided by `right[j]`.
        right: Vec<f64>,
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
/// clipped at 0, the diagonal exactly 0), a GEMM and a vectorized `exp` per tile of the upper
/// block triangle (the kernel is symmetric: each pair of rows is computed and stored once,
/// about half the dense matrix). `context` names the model when the dense kernel would take
/// more than `max_bytes`.
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
    let norms: Vec<f64> = x.chunks_exact(d.max(1)).map(sq_norm).collect();
    let kernel = SymmetricTiles::build(n, |rows, cols, tile| {
        let (m, w) = (rows.len(), cols.len());
        let (Some(a), Some(b)) = (
            x.get(rows.start * d..rows.end * d),
            x.get(cols.start * d..cols.end * d),
        ) else {
            return Err(Error::shape(
                "rbf kernel",
                format!("{n} x {d} rows"),
                x.len(),
            ));
        };
        gemm_abt(a, m, b, w, d, tile)?;
        let col_norms = norms.get(cols.clone()).unwrap_or(&[]);
        with_avx2(
            #[inline(always)]
            || {
                for (out, &ni) in tile
                    .chunks_exact_mut(w.max(1))
                    .zip(norms.get(rows.clone()).unwrap_or(&[]))
                {
                    for (v, &nj) in out.iter_mut().zip(col_norms) {
                        *v = -gamma * (ni + nj - 2.0 * *v).max(0.0);
                    }
                }
            },
        );
        // The diagonal exactly 0 (`-gamma · 0`, as the other values).
        for i in rows.start.max(cols.start)..rows.end.min(cols.end) {
            if let Some(v) = tile.get_mut((i - rows.start) * w + (i - cols.start)) {
                *v = -gamma * 0.0;
            }
        }
        exp_in_place(tile);
        Ok(())
    })?;
    Ok(Graph::Scaled {
        kernel,
        left: vec![1.0; n],
        right: vec![1.0; n],
    })
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
            Graph::Scaled { kernel, .. } => kernel.n(),
            Graph::Sparse { n, .. } => *n,
        }
    }

    /// Calls `f(i, j, &mut value)` for every stored entry of a sparse graph.
    fn for_each_sparse(&mut self, mut f: impl FnMut(usize, usize, &mut f64)) {
        if let Graph::Sparse {
            offsets,
            columns,
            values,
            ..
        } = self
        {
            for (i, w) in offsets.windows(2).enumerate() {
                let (a, b) = (w[0], w[1]);
                let cols = columns.get(a..b).unwrap_or(&[]);
                for (&j, v) in cols.iter().zip(values.get_mut(a..b).unwrap_or(&mut [])) {
                    f(i, j, v);
                }
            }
        }
    }

    /// The row sums of a scaled kernel as built (`K · 1`); 1 for a row summing to 0.
    fn kernel_row_sums(kernel: &SymmetricTiles) -> Result<Vec<f64>> {
        let n = kernel.n();
        let mut sums = vec![0.0; n];
        kernel.times(&vec![1.0; n], 1, &mut sums)?;
        Ok(sums
            .into_iter()
            .map(|s| if s == 0.0 { 1.0 } else { s })
            .collect())
    }

    /// Divides every row by its sum (label propagation's transition matrix, as scikit-learn's
    /// `affinity_matrix /= affinity_matrix.sum(axis=1)`); a row summing to 0 stays 0. For a
    /// graph as built (not yet normalized).
    pub fn row_normalize(&mut self) -> Result<()> {
        if let Graph::Scaled { kernel, left, .. } = self {
            *left = Self::kernel_row_sums(kernel)?;
            return Ok(());
        }
        let mut sums = vec![0.0; self.n()];
        self.for_each_sparse(|i, _, v| {
            if let Some(s) = sums.get_mut(i) {
                *s += *v;
            }
        });
        self.for_each_sparse(|i, _, v| {
            let s = sums.get(i).copied().unwrap_or(0.0);
            if s != 0.0 {
                *v /= s;
            }
        });
        Ok(())
    }

    /// Label spreading's matrix: minus scipy's normalized Laplacian with its diagonal set to
    /// 0, i.e. `S_ij = A_ij / sqrt(w_i w_j)` off the diagonal, where `w_j` is column `j`'s sum
    /// without the diagonal (scipy's in-degree; 1 for an isolated row). For a graph as built
    /// (not yet normalized); a symmetric kernel's column sums are its row sums.
    pub fn spreading_normalize(&mut self) -> Result<()> {
        if let Graph::Scaled {
            kernel,
            left,
            right,
        } = self
        {
            kernel.set_diagonal(0.0);
            let root: Vec<f64> = Self::kernel_row_sums(kernel)?
                .into_iter()
                .map(f64::sqrt)
                .collect();
            left.clone_from(&root);
            *right = root;
            return Ok(());
        }
        let mut w = vec![0.0; self.n()];
        self.for_each_sparse(|i, j, v| {
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
        self.for_each_sparse(|i, j, v| {
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
        Ok(())
    }

    /// `out = self · f`, `f` and `out` row-major `n × k`: a scaled kernel's symmetric product
    /// (each stored value read once), or sparse rows summed in column order in parallel over
    /// blocks of [`GRAPH_BLOCK`] rows.
    pub fn times(&self, f: &[f64], k: usize, out: &mut [f64]) -> Result<()> {
        let k1 = k.max(1);
        match self {
            Graph::Scaled {
                kernel,
                left,
                right,
            } => {
                let g: Vec<f64> = f
                    .chunks_exact(k1)
                    .zip(right)
                    .flat_map(|(row, &r)| row.iter().map(move |v| v / r))
                    .collect();
                kernel.times(&g, k1, out)?;
                for (o, &l) in out.chunks_exact_mut(k1).zip(left) {
                    o.iter_mut().for_each(|v| *v /= l);
                }
                Ok(())
            }
            Graph::Sparse {
                offsets,
                columns,
                values,
                ..
            } => {
                let _ = first_of_blocks(out, GRAPH_BLOCK * k1, |b, chunk| {
                    for (r, o) in chunk.chunks_exact_mut(k1).enumerate() {
                        let i = b * GRAPH_BLOCK + r;
                        o.fill(0.0);
                        let (a, b) = (
                            offsets.get(i).copied().unwrap_or(0),
                            offsets.get(i + 1).copied().unwrap_or(0),
                        );
                        let cols = columns.get(a..b).unwrap_or(&[]);
                        for (&j, &v) in cols.iter().zip(values.get(a..b).unwrap_or(&[])) {
                            if let Some(fj) = f.get(j * k1..(j + 1) * k1) {
                                for (oc, &fc) in o.iter_mut().zip(fj) {
                                    *oc += v * fc;
                                }
                            }
                        }
                    }
                    None::<()>
                });
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Column `j` of the graph (its product with the unit vector `j`).
    fn column(g: &Graph, j: usize) -> Vec<f64> {
        let mut e = vec![0.0; g.n()];
        e[j] = 1.0;
        let mut out = vec![0.0; g.n()];
        g.times(&e, 1, &mut out).unwrap();
        out
    }

    #[test]
    fn rbf_tiles_match_the_formula_and_the_bound_names_knn() {
        let x: Vec<f64> = (0..600).map(|i| ((i * 7) % 11) as f64 / 5.0).collect();
        let (n, d) = (300, 2);
        let g = rbf_kernel("t", &x, n, d, 0.5, usize::MAX).unwrap();
        for (i, j) in [(0, 0), (3, 299), (299, 4), (257, 255)] {
            let sq: f64 = (0..d).map(|c| (x[i * d + c] - x[j * d + c]).powi(2)).sum();
            let v = column(&g, j)[i];
            assert!((v - (-0.5 * sq).exp()).abs() < 1e-12);
            assert_eq!(v, column(&g, i)[j]);
        }
        let e = rbf_kernel("label_spreading", &x, n, d, 0.5, 1000).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("720000 bytes") && msg.contains("knn"), "{msg}");
    }

    #[test]
    fn normalizations_scale_rows_and_columns() {
        let a = [1.0, 2.0, 0.0, 2.0, 1.0, 4.0, 0.0, 4.0, 1.0];
        let kernel = || {
            let kernel = SymmetricTiles::build(3, |_, _, tile| {
                tile.copy_from_slice(&a);
                Ok(())
            })
            .unwrap();
            Graph::Scaled {
                kernel,
                left: vec![1.0; 3],
                right: vec![1.0; 3],
            }
        };
        let mut out = vec![0.0; 3];
        kernel().times(&[1.0, 1.0, 1.0], 1, &mut out).unwrap();
        assert_eq!(out, vec![3.0, 7.0, 5.0]);
        let mut g = kernel();
        g.spreading_normalize().unwrap();
        // w = [2, 6, 4]
        let (c0, c1, c2) = (column(&g, 0), column(&g, 1), column(&g, 2));
        assert_eq!(c0[0], 0.0);
        assert!((c1[0] - 2.0 / (2f64.sqrt() * 6f64.sqrt())).abs() < 1e-15);
        assert!((c2[1] - 4.0 / (6f64.sqrt() * 2.0)).abs() < 1e-15);
        let mut g = kernel();
        g.row_normalize().unwrap();
        g.times(&[1.0, 1.0, 1.0], 1, &mut out).unwrap();
        assert!(out.iter().all(|v| (v - 1.0).abs() < 1e-15), "{out:?}");
        assert!((column(&g, 2)[1] - 4.0 / 7.0).abs() < 1e-15);
    }
}
