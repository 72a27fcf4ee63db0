//! Prediction exports: batches of raw rows, datasets, and the per-thread single-row
//! `AmlisPredictor`.

use crate::error::Error;
use crate::service::ffi::boundary::{
    self, arg_mut, arg_ref, arg_slice, arg_slice_mut, checked_len, free_handle, into_handle,
    FfiError, FfiResult, Out,
};
use crate::service::ffi::dataset::AmlisDataset;
use crate::service::ffi::model::AmlisModel;
use crate::service::ffi::status::{AmlisOutput, AmlisStatus};
use crate::service::pipeline::{Pipeline, PredictKind, RowPredictor};
use crate::traits::Dataset;

/// An opaque single-row predictor: a model (shared, not copied) plus scratch buffers, so
/// that `amlis_predict_row` allocates nothing.
///
/// Made by `amlis_predictor_new`, freed by `amlis_predictor_free`. A predictor is used by one
/// thread at a time (`amlis_predict_row` takes it non-const); make one per thread. It may be
/// moved between threads, and it keeps its model alive after `amlis_model_free`.
pub struct AmlisPredictor {
    inner: RowPredictor,
    /// The result of the current row, copied to the caller's buffer only on success.
    out: Vec<f64>,
}

fn kind_of(raw: AmlisOutput) -> FfiResult<PredictKind> {
    Ok(PredictKind::from_raw(raw, "kind")?)
}

/// The number of values a prediction of `rows` rows writes, checked against `out_len`:
/// fewer is `AMLIS_BUFFER_TOO_SMALL` naming both.
fn needed_len(p: &Pipeline, kind: PredictKind, rows: usize, out_len: usize) -> FfiResult<usize> {
    let width = p.output_width(kind)?;
    let needed = checked_len::<f64>(rows, "n_rows", width, "values per row")?;
    if out_len < needed {
        return Err(FfiError::new(
            AmlisStatus::AMLIS_BUFFER_TOO_SMALL,
            format!(
                "`out_len` = {out_len}, but {rows} rows x {width} values per row = {needed} \
                 are needed"
            ),
        ));
    }
    Ok(needed)
}

fn check_n_cols(p: &Pipeline, n_cols: usize) -> FfiResult<()> {
    let n = p.inputs().len();
    if n_cols != n {
        return Err(Error::shape(
            "`n_cols`",
            format!("{n} (the model's input columns, see amlis_model_n_features)"),
            n_cols,
        )
        .into());
    }
    Ok(())
}

/// Predicts `n_rows` raw rows into `out`.
///
/// `x` holds `n_rows * n_cols` doubles, row-major, in the model's input-column order
/// (`feature_names` of `amlis_model_info_json`); a categorical input is given as the index of
/// its category in that column's `categories`, and `NaN` is a missing value. The model applies
/// its own preprocessing steps.
///
/// `kind`: `AMLIS_OUTPUT_VALUE` writes one value per row (for a classifier the class index
/// into `classes`, as a double; for a regressor the predicted value); `AMLIS_OUTPUT_PROBA`
/// writes `n_classes` probabilities per row, row-major (`AMLIS_UNSUPPORTED` for a
/// regressor).
///
/// Statuses: `n_cols` other than `amlis_model_n_features` is `AMLIS_SHAPE_MISMATCH`;
/// `out_len` smaller than the values needed is `AMLIS_BUFFER_TOO_SMALL` (a larger `out` is
/// fine: only the first values are written); `n_rows * n_cols` overflowing is
/// `AMLIS_INVALID_ARGUMENT`; a bad value (an unknown category index, an infinite value a step
/// rejects) is `AMLIS_INVALID_ARGUMENT` naming the row and column. `n_rows = 0` is
/// `AMLIS_OK` and writes nothing (`x` and `out` must still be non-NULL). `out` is written
/// only on success.
///
/// Large batches (over 1024 rows) run in parallel over row blocks in rayon's global pool
/// (its size is bounded by the `RAYON_NUM_THREADS` environment variable); a model trained
/// with `"n_threads": 1` always predicts on the calling thread.
///
/// # Safety
///
/// `m` must be NULL or a live model handle; `x` NULL or `n_rows * n_cols` readable doubles;
/// `out` NULL or `out_len` writable doubles.
#[no_mangle]
pub unsafe extern "C" fn amlis_predict(
    m: *const AmlisModel,
    kind: AmlisOutput,
    x: *const f64,
    n_rows: usize,
    n_cols: usize,
    out: *mut f64,
    out_len: usize,
) -> AmlisStatus {
    boundary::run("amlis_predict", || {
        // SAFETY: the caller guarantees `m` is NULL or live.
        let m = unsafe { arg_ref(m, "m")? };
        boundary::non_null(x, "x")?;
        boundary::non_null(out, "out")?;
        let kind = kind_of(kind)?;
        let len = checked_len::<f64>(n_rows, "n_rows", n_cols, "n_cols")?;
        let p: &Pipeline = m.pipeline();
        check_n_cols(p, n_cols)?;
        let needed = needed_len(p, kind, n_rows, out_len)?;
        // SAFETY: the caller guarantees `x` holds n_rows * n_cols doubles and `out` out_len
        // writable doubles (needed <= out_len).
        let (x, out) = unsafe { (arg_slice(x, len, "x")?, arg_slice_mut(out, needed, "out")?) };
        if n_rows == 0 {
            return Ok(());
        }
        let x = ndarray::ArrayView2::from_shape((n_rows, n_cols), x)
            .map_err(|e| FfiError::invalid(format!("`x`: {e}")))?;
        let mut result = vec![0.0; needed];
        p.predict_rows_into(kind, x, &mut result)?;
        out.copy_from_slice(&result);
        Ok(())
    })
}

/// Predicts every row of a dataset into `out` (`out_len` as for `amlis_predict`: at least
/// rows x values per row).
///
/// For a dataset read from CSV, the model's input columns are found by NAME, so the file may
/// order its columns differently and hold extra ones (such as the target, which is ignored);
/// categorical columns are matched by category label (a label not seen at training is handled
/// as the model's encoder says: an error naming the row, or all zeros with
/// `handle_unknown = ignore`). A dataset made from dense arrays is taken as raw rows in input
/// order. A missing input column is `AMLIS_INVALID_ARGUMENT` naming it.
///
/// # Safety
///
/// `m` must be NULL or a live model handle; `d` NULL or a live dataset handle; `out` NULL or
/// `out_len` writable doubles.
#[no_mangle]
pub unsafe extern "C" fn amlis_predict_dataset(
    m: *const AmlisModel,
    kind: AmlisOutput,
    d: *const AmlisDataset,
    out: *mut f64,
    out_len: usize,
) -> AmlisStatus {
    boundary::run("amlis_predict_dataset", || {
        // SAFETY: the caller guarantees `m` and `d` are NULL or live.
        let (m, d) = unsafe { (arg_ref(m, "m")?, arg_ref(d, "d")?) };
        boundary::non_null(out, "out")?;
        let kind = kind_of(kind)?;
        let p: &Pipeline = m.pipeline();
        let contents = d.contents();
        let n_rows = contents.dense().n_samples();
        let needed = needed_len(p, kind, n_rows, out_len)?;
        // SAFETY: the caller guarantees `out` holds out_len >= needed writable doubles.
        let out = unsafe { arg_slice_mut(out, needed, "out")? };
        // Written to a buffer of our own first: `out` is written only on success.
        let mut result = vec![0.0; needed];
        match contents.table() {
            Some(table) => p.predict_table_into(kind, table, &mut result)?,
            None => {
                let x = contents.dense().features();
                check_n_cols(p, x.ncols())?;
                p.predict_rows_into(kind, x.view(), &mut result)?;
            }
        }
        out.copy_from_slice(&result);
        Ok(())
    })
}

/// Makes a single-row predictor of `kind` for a model (which it shares; the model may be
/// freed before the predictor). `AMLIS_OUTPUT_PROBA` from a regressor is
/// `AMLIS_UNSUPPORTED`. On success `*out` receives a new handle to free with
/// `amlis_predictor_free`; on failure it is not written.
///
/// # Safety
///
/// `m` must be NULL or a live model handle; `out` NULL or a valid pointer to writable
/// `AmlisPredictor *` storage.
#[no_mangle]
pub unsafe extern "C" fn amlis_predictor_new(
    m: *const AmlisModel,
    kind: AmlisOutput,
    out: *mut *mut AmlisPredictor,
) -> AmlisStatus {
    boundary::run("amlis_predictor_new", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (m, out) = unsafe { (arg_ref(m, "m")?, Out::new(out, "out")?) };
        let inner = RowPredictor::new(m.pipeline().clone(), kind_of(kind)?)?;
        let width = inner.output_len();
        out.write(into_handle(AmlisPredictor {
            inner,
            out: vec![0.0; width],
        }));
        Ok(())
    })
}

/// Predicts one raw row (`n_cols` doubles in input-column order, as one row of
/// `amlis_predict`) into `out`: one value (`AMLIS_OUTPUT_VALUE`) or `n_classes`
/// probabilities (`AMLIS_OUTPUT_PROBA`), as the predictor's kind says.
///
/// The fast path: no allocation, no locking, no JSON. Statuses as for `amlis_predict`:
/// `n_cols` other than the model's input count is `AMLIS_SHAPE_MISMATCH`; `out_len` smaller
/// than the values needed is `AMLIS_BUFFER_TOO_SMALL`. `out` is written only on success.
///
/// # Safety
///
/// `p` must be NULL or a live predictor handle used by no other thread during the call;
/// `row` NULL or `n_cols` readable doubles; `out` NULL or `out_len` writable doubles.
#[no_mangle]
pub unsafe extern "C" fn amlis_predict_row(
    p: *mut AmlisPredictor,
    row: *const f64,
    n_cols: usize,
    out: *mut f64,
    out_len: usize,
) -> AmlisStatus {
    boundary::run("amlis_predict_row", || {
        // SAFETY: the caller guarantees `p` is NULL or live and exclusively ours.
        let p = unsafe { arg_mut(p, "p")? };
        boundary::non_null(row, "row")?;
        boundary::non_null(out, "out")?;
        check_n_cols(p.inner.pipeline(), n_cols)?;
        let needed = p.inner.output_len();
        if out_len < needed {
            return Err(FfiError::new(
                AmlisStatus::AMLIS_BUFFER_TOO_SMALL,
                format!("`out_len` = {out_len}, but {needed} values are needed"),
            ));
        }
        // SAFETY: the caller guarantees `row` holds n_cols doubles and `out` out_len >=
        // needed writable doubles.
        let (row, out) = unsafe {
            (
                arg_slice(row, n_cols, "row")?,
                arg_slice_mut(out, needed, "out")?,
            )
        };
        p.inner.predict_row(row, &mut p.out)?;
        out.copy_from_slice(&p.out);
        Ok(())
    })
}

/// Frees a predictor. NULL does nothing.
///
/// # Safety
///
/// `p` must be NULL or a predictor handle that has not been freed; it must not be used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn amlis_predictor_free(p: *mut AmlisPredictor) {
    boundary::run_void("amlis_predictor_free", || {
        // SAFETY: the caller guarantees `p` is NULL or an unfreed handle made by into_handle.
        unsafe { free_handle(p) }
    })
}
