//! Regression metrics on 1-D targets, with scikit-learn's semantics: errors (MSE, RMSE, MAE,
//! median AE, MAPE, max error, MSLE, Tweedie deviances) and explained-fraction scores (R²,
//! explained variance) with `force_finite`.

use ndarray::ArrayView1;

use crate::common::stats;
use crate::error::{Error, Result};
use crate::evaluate::metrics::check;

/// Checked regression inputs.
struct Reg<'a> {
    t: Vec<f64>,
    p: Vec<f64>,
    w: Option<ArrayView1<'a, f64>>,
}

fn reg<'a>(
    ctx: &str,
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    w: Option<ArrayView1<'a, f64>>,
) -> Result<Reg<'a>> {
    check::same_len(ctx, ("y_true", y_true.len()), ("y_pred", y_pred.len()))?;
    check::non_empty(ctx, "y_true", y_true.len())?;
    check::finite(ctx, "y_true", y_true)?;
    check::finite(ctx, "y_pred", y_pred)?;
    let w = check::weights(ctx, w, y_true.len())?;
    Ok(Reg {
        t: y_true.to_vec(),
        p: y_pred.to_vec(),
        w,
    })
}

fn mean_of(ctx: &str, r: &Reg<'_>, f: impl Fn(f64, f64) -> f64) -> Result<f64> {
    let v: Vec<f64> = r.t.iter().zip(&r.p).map(|(&t, &p)| f(t, p)).collect();
    check::average(ctx, &v, r.w)
}

/// Defines a metric that is the (weighted) mean of a per-sample error `|t, p| ...`.
macro_rules! mean_error {
    ($(#[$doc:meta])* $name:ident, |$t:ident, $p:ident| $err:expr) => {
        $(#[$doc])*
        pub fn $name(
            y_true: ArrayView1<'_, f64>,
            y_pred: ArrayView1<'_, f64>,
            sample_weight: Option<ArrayView1<'_, f64>>,
        ) -> Result<f64> {
            const CTX: &str = stringify!($name);
            let r = reg(CTX, y_true, y_pred, sample_weight)?;
            mean_of(CTX, &r, |$t, $p| $err)
        }
    };
}

mean_error!(
    /// Mean squared error (`sklearn.metrics.mean_squared_error`).
    ///
    /// ```
    /// use ndarray::arr1;
    /// let e = amlis::evaluate::metrics::mean_squared_error(arr1(&[3., -0.5, 2., 7.]).view(), arr1(&[2.5, 0., 2., 8.]).view(), None)?;
    /// assert_eq!(e, 0.375);
    /// # Ok::<(), amlis::Error>(())
    /// ```
    mean_squared_error, |t, p| (t - p) * (t - p)
);

/// Root mean squared error (`sklearn.metrics.root_mean_squared_error`).
pub fn root_mean_squared_error(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    Ok(mean_squared_error(y_true, y_pred, sample_weight)?.sqrt())
}

mean_error!(
    /// Mean absolute error (`sklearn.metrics.mean_absolute_error`).
    mean_absolute_error, |t, p| (p - t).abs()
);

mean_error!(
    /// Mean absolute percentage error (`sklearn.metrics.mean_absolute_percentage_error`):
    /// `|y - ŷ| / max(|y|, eps)`, a fraction (not a percentage).
    mean_absolute_percentage_error, |t, p| (p - t).abs() / t.abs().max(f64::EPSILON)
);

/// Mean squared logarithmic error (`sklearn.metrics.mean_squared_log_error`); values
/// `<= -1` are an error.
pub fn mean_squared_log_error(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    const CTX: &str = "mean_squared_log_error";
    let r = reg(CTX, y_true, y_pred, sample_weight)?;
    for (name, v) in [("y_true", &r.t), ("y_pred", &r.p)] {
        if let Some(i) = v.iter().position(|x| *x <= -1.0) {
            return Err(Error::InvalidValue {
                context: CTX.into(),
                row: i,
                column: Some(name.into()),
                message: format!("found {}, expected values greater than -1", v[i]),
            });
        }
    }
    mean_of(CTX, &r, |t, p| {
        let d = t.ln_1p() - p.ln_1p();
        d * d
    })
}

/// Maximum absolute error (`sklearn.metrics.max_error`).
pub fn max_error(y_true: ArrayView1<'_, f64>, y_pred: ArrayView1<'_, f64>) -> Result<f64> {
    let r = reg("max_error", y_true, y_pred, None)?;
    Ok(r.t
        .iter()
        .zip(&r.p)
        .map(|(t, p)| (t - p).abs())
        .fold(f64::NEG_INFINITY, f64::max))
}

/// Median absolute error (`sklearn.metrics.median_absolute_error`); with weights, the
/// weighted median with scikit-learn's averaging of the two middle values.
pub fn median_absolute_error(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    const CTX: &str = "median_absolute_error";
    let r = reg(CTX, y_true, y_pred, sample_weight)?;
    let mut e: Vec<f64> = r.t.iter().zip(&r.p).map(|(t, p)| (p - t).abs()).collect();
    Ok(match r.w {
        None => stats::median_select(&mut e),
        Some(w) => stats::weighted_median_averaged(&e, &w.to_vec()),
    }
    .unwrap_or(f64::NAN))
}

/// scikit-learn's `_assemble_fraction_of_explained_deviance` for one output.
fn explained_fraction(num: f64, den: f64, force_finite: bool) -> f64 {
    if !force_finite {
        return 1.0 - num / den;
    }
    match (num != 0.0, den != 0.0) {
        (false, _) => 1.0,
        (true, true) => 1.0 - num / den,
        (true, false) => 0.0,
    }
}

/// R², the coefficient of determination (`sklearn.metrics.r2_score`).
///
/// With `force_finite` (scikit-learn's default) a constant `y_true` scores 1.0 for perfect
/// predictions and 0.0 otherwise instead of NaN / -inf. Fewer than two samples give NaN, as
/// in scikit-learn.
pub fn r2_score(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
    force_finite: bool,
) -> Result<f64> {
    const CTX: &str = "r2_score";
    let r = reg(CTX, y_true, y_pred, sample_weight)?;
    if r.t.len() < 2 {
        return Ok(f64::NAN);
    }
    let wi = |i: usize| r.w.map_or(1.0, |w| w[i]);
    let num: Vec<f64> = (0..r.t.len())
        .map(|i| wi(i) * ((r.t[i] - r.p[i]) * (r.t[i] - r.p[i])))
        .collect();
    let mean = check::average(CTX, &r.t, r.w)?;
    let den: Vec<f64> = (0..r.t.len())
        .map(|i| wi(i) * ((r.t[i] - mean) * (r.t[i] - mean)))
        .collect();
    Ok(explained_fraction(
        check::np_sum(&num),
        check::np_sum(&den),
        force_finite,
    ))
}

/// Explained variance (`sklearn.metrics.explained_variance_score`), with `force_finite` as in
/// [`r2_score`].
pub fn explained_variance_score(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
    force_finite: bool,
) -> Result<f64> {
    const CTX: &str = "explained_variance_score";
    let r = reg(CTX, y_true, y_pred, sample_weight)?;
    let diff: Vec<f64> = r.t.iter().zip(&r.p).map(|(t, p)| t - p).collect();
    let diff_avg = check::average(CTX, &diff, r.w)?;
    let sq: Vec<f64> =
        r.t.iter()
            .zip(&r.p)
            .map(|(t, p)| {
                let d = t - p - diff_avg;
                d * d
            })
            .collect();
    let num = check::average(CTX, &sq, r.w)?;
    let t_avg = check::average(CTX, &r.t, r.w)?;
    let sq: Vec<f64> = r.t.iter().map(|t| (t - t_avg) * (t - t_avg)).collect();
    let den = check::average(CTX, &sq, r.w)?;
    Ok(explained_fraction(num, den, force_finite))
}

/// Mean Tweedie deviance with the given `power` (`sklearn.metrics.mean_tweedie_deviance`):
/// 0 normal, 1 Poisson, 2 Gamma; `power` in (0, 1) is not a distribution and is an error.
pub fn mean_tweedie_deviance(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
    power: f64,
) -> Result<f64> {
    const CTX: &str = "mean_tweedie_deviance";
    let r = reg(CTX, y_true, y_pred, sample_weight)?;
    let p = power;
    if p.is_nan() || (p > 0.0 && p < 1.0) {
        return Err(Error::param("power", p, "power <= 0 or power >= 1"));
    }
    let bad = |name: &str, v: &[f64], ok: &dyn Fn(f64) -> bool, what: &str| -> Result<()> {
        match v.iter().position(|x| !ok(*x)) {
            Some(i) => Err(Error::InvalidValue {
                context: CTX.into(),
                row: i,
                column: Some(name.into()),
                message: format!(
                    "found {}; Tweedie deviance with power={p} needs {what}",
                    v[i]
                ),
            }),
            None => Ok(()),
        }
    };
    if p < 0.0 {
        bad("y_pred", &r.p, &|x| x > 0.0, "strictly positive y_pred")?;
    } else if (1.0..2.0).contains(&p) {
        bad("y_true", &r.t, &|x| x >= 0.0, "non-negative y_true")?;
        bad("y_pred", &r.p, &|x| x > 0.0, "strictly positive y_pred")?;
    } else if p >= 2.0 {
        bad("y_true", &r.t, &|x| x > 0.0, "strictly positive y_true")?;
        bad("y_pred", &r.p, &|x| x > 0.0, "strictly positive y_pred")?;
    }
    mean_of(CTX, &r, |t, m| unit_deviance(t, m, p))
}

/// The Tweedie unit deviance of one sample, as scikit-learn's `_mean_tweedie_deviance` writes it.
fn unit_deviance(t: f64, m: f64, p: f64) -> f64 {
    let xlogy = |x: f64, y: f64| if x == 0.0 { 0.0 } else { x * y.ln() };
    if p < 0.0 {
        2.0 * ((if t > 0.0 { t } else { 0.0 }).powf(2.0 - p) / ((1.0 - p) * (2.0 - p))
            - t * m.powf(1.0 - p) / (1.0 - p)
            + m.powf(2.0 - p) / (2.0 - p))
    } else if p == 0.0 {
        (t - m) * (t - m)
    } else if p == 1.0 {
        2.0 * (xlogy(t, t / m) - t + m)
    } else if p == 2.0 {
        2.0 * ((m / t).ln() + t / m - 1.0)
    } else {
        2.0 * (t.powf(2.0 - p) / ((1.0 - p) * (2.0 - p)) - t * m.powf(1.0 - p) / (1.0 - p)
            + m.powf(2.0 - p) / (2.0 - p))
    }
}

/// D² Tweedie score (`sklearn.metrics.d2_tweedie_score`): the fraction of the Tweedie
/// deviance of the weighted-mean prediction that `y_pred` explains; NaN with fewer than two
/// samples, and an error for a constant `y_true` (scikit-learn raises `ZeroDivisionError`).
pub fn d2_tweedie_score(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
    power: f64,
) -> Result<f64> {
    const CTX: &str = "d2_tweedie_score";
    let r = reg(CTX, y_true, y_pred, sample_weight)?;
    if r.t.len() < 2 {
        return Ok(f64::NAN);
    }
    let num = mean_tweedie_deviance(y_true, y_pred, sample_weight, power)?;
    let avg = check::average(CTX, &r.t, r.w)?;
    let den = mean_of(CTX, &r, |t, _| unit_deviance(t, avg, power))?;
    if den == 0.0 {
        return Err(Error::InvalidArgument(format!(
            "{CTX}: the deviance of the mean prediction is 0 (y_true is constant), so D² is              undefined"
        )));
    }
    Ok(1.0 - num / den)
}

/// Mean Poisson deviance (`sklearn.metrics.mean_poisson_deviance`).
pub fn mean_poisson_deviance(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    mean_tweedie_deviance(y_true, y_pred, sample_weight, 1.0)
}

/// Mean Gamma deviance (`sklearn.metrics.mean_gamma_deviance`).
pub fn mean_gamma_deviance(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    mean_tweedie_deviance(y_true, y_pred, sample_weight, 2.0)
}
