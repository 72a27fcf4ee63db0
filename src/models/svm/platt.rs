//! libsvm's probability estimates for classification: Platt's sigmoid fitted by Newton's
//! method with a backtracking line search (Lin, Lin and Weng 2007: `sigmoid_train`), its
//! prediction (`sigmoid_predict`) and the coupling of pairwise probabilities into class
//! probabilities (Wu, Lin and Weng 2004, method 2: `multiclass_probability`), in libsvm's
//! order of operations.

/// Pairwise probabilities are clipped to `[MIN_PROB, 1 − MIN_PROB]` before coupling.
const MIN_PROB: f64 = 1e-7;

/// Fits `P(y = 1 | f) = 1 / (1 + exp(A f + B))` to decision values `dec` with labels
/// `positive` (`y > 0`); returns `(A, B)`.
pub(crate) fn sigmoid_train(dec: &[f64], positive: &[bool]) -> (f64, f64) {
    let prior1 = positive.iter().filter(|p| **p).count() as f64;
    let prior0 = positive.len() as f64 - prior1;
    const MAX_ITER: usize = 100;
    const MIN_STEP: f64 = 1e-10;
    const SIGMA: f64 = 1e-12;
    const EPS: f64 = 1e-5;
    let hi = (prior1 + 1.0) / (prior1 + 2.0);
    let lo = 1.0 / (prior0 + 2.0);
    let t: Vec<f64> = positive.iter().map(|&p| if p { hi } else { lo }).collect();
    let mut a = 0.0;
    let mut b = ((prior0 + 1.0) / (prior1 + 1.0)).ln();
    let objective = |a: f64, b: f64| {
        let mut f = 0.0;
        for (d, ti) in dec.iter().zip(&t) {
            let fab = d * a + b;
            if fab >= 0.0 {
                f += ti * fab + (1.0 + (-fab).exp()).ln();
            } else {
                f += (ti - 1.0) * fab + (1.0 + fab.exp()).ln();
            }
        }
        f
    };
    let mut fval = objective(a, b);
    for _ in 0..MAX_ITER {
        let (mut h11, mut h22, mut h21, mut g1, mut g2) = (SIGMA, SIGMA, 0.0, 0.0, 0.0);
        for (d, ti) in dec.iter().zip(&t) {
            let fab = d * a + b;
            let (p, q) = if fab >= 0.0 {
                let e = (-fab).exp();
                (e / (1.0 + e), 1.0 / (1.0 + e))
            } else {
                let e = fab.exp();
                (1.0 / (1.0 + e), e / (1.0 + e))
            };
            let d2 = p * q;
            h11 += d * d * d2;
            h22 += d2;
            h21 += d * d2;
            let d1 = ti - p;
            g1 += d * d1;
            g2 += d1;
        }
        if g1.abs() < EPS && g2.abs() < EPS {
            break;
        }
        let det = h11 * h22 - h21 * h21;
        let da = -(h22 * g1 - h21 * g2) / det;
        let db = -(-h21 * g1 + h11 * g2) / det;
        let gd = g1 * da + g2 * db;
        let mut step = 1.0;
        while step >= MIN_STEP {
            let (na, nb) = (a + step * da, b + step * db);
            let nf = objective(na, nb);
            if nf < fval + 0.0001 * step * gd {
                a = na;
                b = nb;
                fval = nf;
                break;
            }
            step /= 2.0;
        }
        if step < MIN_STEP {
            break;
        }
    }
    (a, b)
}

/// `P(y = 1 | f)` under the sigmoid `(A, B)`.
#[inline]
pub(crate) fn sigmoid_predict(dec: f64, a: f64, b: f64) -> f64 {
    let fab = dec * a + b;
    if fab >= 0.0 {
        let e = (-fab).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + fab.exp())
    }
}

/// The pairwise probability of pair `(i, j)` for libsvm's decision value `dec`, clipped.
#[inline]
pub(crate) fn pairwise(dec: f64, a: f64, b: f64) -> f64 {
    sigmoid_predict(dec, a, b).clamp(MIN_PROB, 1.0 - MIN_PROB)
}

/// The scratch values [`couple`] needs for `k` classes.
pub(crate) const fn scratch_len(k: usize) -> usize {
    k * k + k
}

/// Couples the pairwise probabilities `r` (pair `(i, j)`, `i < j`, in order: `P(i | i or j)`)
/// of `k` classes into class probabilities `p` (`k` values); `scratch` holds
/// [`scratch_len`]`(k)` values.
pub(crate) fn couple(k: usize, r: &[f64], p: &mut [f64], scratch: &mut [f64]) {
    let (q, qp) = scratch.split_at_mut(k * k);
    let qp = &mut qp[..k];
    // rij(i, j) = libsvm's pairwise_prob[i][j].
    let pair = |i: usize, j: usize| i * k - i * (i + 1) / 2 + (j - i - 1);
    let rij = |i: usize, j: usize| {
        if i < j {
            r[pair(i, j)]
        } else {
            1.0 - r[pair(j, i)]
        }
    };
    let kf = k as f64;
    for t in 0..k {
        p[t] = 1.0 / kf;
        let mut diag = 0.0;
        for j in 0..t {
            let v = rij(j, t);
            diag += v * v;
            q[t * k + j] = q[j * k + t];
        }
        for j in t + 1..k {
            let v = rij(j, t);
            diag += v * v;
            q[t * k + j] = -v * rij(t, j);
        }
        q[t * k + t] = diag;
    }
    let max_iter = 100.max(k);
    let eps = 0.005 / kf;
    for _ in 0..max_iter {
        let mut pqp = 0.0;
        for t in 0..k {
            let mut s = 0.0;
            for j in 0..k {
                s += q[t * k + j] * p[j];
            }
            qp[t] = s;
            pqp += p[t] * s;
        }
        let max_error = qp.iter().fold(0.0f64, |m, v| {
            let e = (v - pqp).abs();
            if e > m {
                e
            } else {
                m
            }
        });
        if max_error < eps {
            break;
        }
        for t in 0..k {
            let qtt = q[t * k + t];
            let diff = (-qp[t] + pqp) / qtt;
            p[t] += diff;
            pqp = (pqp + diff * (diff * qtt + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[t * k + j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sigmoid_separates_the_labels() {
        let dec = [-2.0, -1.5, -1.0, -0.2, 0.3, 1.0, 1.4, 2.2];
        let pos = [false, false, false, true, false, true, true, true];
        let (a, b) = sigmoid_train(&dec, &pos);
        assert!(a < 0.0, "{a}");
        assert!(sigmoid_predict(2.0, a, b) > 0.8 && sigmoid_predict(-2.0, a, b) < 0.2);
        // Both branches of the prediction agree near 0.
        let (x, y) = (
            sigmoid_predict(1e-9, 1.0, 0.0),
            sigmoid_predict(-1e-9, 1.0, 0.0),
        );
        assert!((x - y).abs() < 1e-8);
    }

    #[test]
    fn coupling_sums_to_one_and_follows_the_pairs() {
        let k = 3;
        // Consistent pairwise probabilities of p = (0.6, 0.3, 0.1); libsvm stops at a
        // residual of 0.005 / k, so p is close, not exact.
        let r = [0.6 / 0.9, 0.6 / 0.7, 0.3 / 0.4];
        let mut p = [0.0; 3];
        let mut s = vec![0.0; scratch_len(k)];
        couple(k, &r, &mut p, &mut s);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        for (got, want) in p.iter().zip([0.6, 0.3, 0.1]) {
            assert!((got - want).abs() < 5e-3, "{p:?}");
        }
    }
}
