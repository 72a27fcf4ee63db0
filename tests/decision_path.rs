//! `decision_path` of fitted trees: every row's path starts at the root, follows the split
//! rule (missing values the learned side) from parent to child, and ends at the leaf `apply`
//! gives; strided input gives the same paths.

use amlis::traits::{Dataset, Trainer};
use amlis::tree::{DecisionPath, DecisionTreeClassifier, DecisionTreeRegressor, FlatTree};
use ndarray::{Array2, ArrayView2, ShapeBuilder};

/// Checks `path` against a direct walk of `tree` for every row of `x`.
fn check_paths(tree: &FlatTree, x: ArrayView2<'_, f64>, path: &DecisionPath, leaves: &[usize]) {
    assert_eq!(path.n_rows(), x.nrows());
    assert_eq!(path.node_ptr, vec![0, tree.node_count()]);
    assert_eq!(*path.indptr.last().unwrap(), path.indices.len());
    let nodes = tree.nodes();
    let mut longest = 0;
    for (i, row) in x.rows().into_iter().enumerate() {
        let p = path.row(i).unwrap();
        assert_eq!(p[0], 0, "row {i} starts at the root");
        assert_eq!(*p.last().unwrap(), leaves[i], "row {i} ends at its leaf");
        assert!(nodes[leaves[i]].is_leaf());
        for w in p.windows(2) {
            let n = nodes[w[0]];
            assert!(!n.is_leaf());
            let v = row[n.feature as usize];
            let left = if v.is_nan() {
                n.missing_go_left
            } else {
                v <= n.threshold
            };
            assert_eq!(
                w[1],
                if left { n.left } else { n.right } as usize,
                "row {i}"
            );
        }
        longest = longest.max(p.len() - 1);
    }
    assert_eq!(longest, tree.depth(), "some row reaches the deepest leaf");
    assert!(path.row(x.nrows()).is_none());
}

#[test]
fn classifier_paths_follow_the_splits_with_missing_values() {
    let data = amlis::datasets::wine().unwrap();
    let mut x = data.features().to_owned();
    // Every 7th cell missing: paths must follow each node's learned missing side.
    for (k, v) in x.iter_mut().enumerate() {
        if k % 7 == 3 {
            *v = f64::NAN;
        }
    }
    let data =
        amlis::data::DenseDataset::classification(x.clone(), data.targets().unwrap().to_owned())
            .unwrap();
    let model = DecisionTreeClassifier::default().fit(&data).unwrap();
    let path = model.decision_path(x.view()).unwrap();
    let leaves = model.apply(x.view()).unwrap();
    check_paths(model.tree(), x.view(), &path, &leaves);

    // Column-major (strided rows) input: the same paths.
    let mut f = Array2::<f64>::zeros(x.raw_dim().f());
    f.assign(&x);
    assert_eq!(model.decision_path(f.view()).unwrap(), path);
    // Wrong column count: an error naming the call.
    let e = model
        .decision_path(x.slice(ndarray::s![.., ..3]))
        .unwrap_err();
    assert!(e.to_string().contains("decision_path"), "{e}");
}

#[test]
fn regressor_paths_over_many_row_blocks() {
    let data = amlis::datasets::diabetes().unwrap();
    let x = data.features().to_owned();
    // Repeat the rows past several parallel row blocks.
    let big = ndarray::concatenate(ndarray::Axis(0), &[x.view(); 3]).unwrap();
    let model = DecisionTreeRegressor::default()
        .max_depth(Some(6))
        .fit(&data)
        .unwrap();
    let path = model.decision_path(big.view()).unwrap();
    let leaves = model.apply(big.view()).unwrap();
    check_paths(model.tree(), big.view(), &path, &leaves);
    let n = x.nrows();
    assert_eq!(path.row(0), path.row(n));
    assert_eq!(path.row(n - 1), path.row(3 * n - 1));
}

#[test]
fn forest_paths_concatenate_the_trees_paths() {
    use amlis::ensemble::forest::RandomForestClassifier;
    let data = amlis::datasets::wine().unwrap();
    let x = data.features().to_owned();
    let model = RandomForestClassifier::default()
        .n_estimators(7)
        .fit(&data)
        .unwrap();
    let path = model.decision_path(x.view()).unwrap();
    let leaves = model.apply(x.view()).unwrap();
    let trees = model.trees();
    assert_eq!(leaves.dim(), (x.nrows(), trees.len()));
    assert_eq!(path.node_ptr.len(), trees.len() + 1);
    for (t, tree) in trees.iter().enumerate() {
        assert_eq!(path.node_ptr[t + 1] - path.node_ptr[t], tree.node_count());
    }
    for i in 0..x.nrows() {
        let row = x.row(i).to_vec();
        let p = path.row(i).unwrap();
        let mut at = 0;
        for (t, tree) in trees.iter().enumerate() {
            // This tree's segment: its own path, shifted by the tree's column offset.
            let mut own = Vec::new();
            let leaf = tree
                .path_row(&row, |n| own.push(n + path.node_ptr[t]))
                .unwrap();
            assert_eq!(&p[at..at + own.len()], own.as_slice(), "row {i} tree {t}");
            assert_eq!(leaf, leaves[[i, t]]);
            assert!(tree.nodes()[leaf].is_leaf());
            at += own.len();
        }
        assert_eq!(at, p.len());
    }
    assert!(model.apply(x.slice(ndarray::s![.., ..2])).is_err());
}
