//! Minka's choice of the PCA dimension (scikit-learn's `_assess_dimension` and
//! `_infer_dimension`): the rank whose probabilistic PCA model of the spectrum has the
//! highest log-likelihood (T. P. Minka, *Automatic choice of dimensionality for PCA*, NIPS
//! 2000).

use std::f64::consts::PI;

/// The log-likelihood of rank `rank` (`1 <= rank < spectrum.len()`) for the explained
/// variances `spectrum` (decreasing) of `n_samples` rows, as scikit-learn computes it.
fn assess_dimension(spectrum: &[f64], rank: usize, n_samples: usize) -> f64 {
    let n_features = spectrum.len();
    let eps = 1e-15;
    if spectrum[rank - 1] < eps {
        return f64::NEG_INFINITY;
    }
    let n = n_samples as f64;
    let mut pu = -(rank as f64) * 2f64.ln();
    for i in 1..=rank {
        let a = (n_features - i + 1) as f64 / 2.0;
        pu += ln_gamma(a) - PI.ln() * a;
    }
    let pl = -spectrum[..rank].iter().map(|s| s.ln()).sum::<f64>() * n / 2.0;
    let v = (spectrum[rank..].iter().sum::<f64>() / (n_features - rank) as f64).max(eps);
    let pv = -v.ln() * n * (n_features - rank) as f64 / 2.0;
    let m = (n_features * rank) as f64 - rank as f64 * (rank as f64 + 1.0) / 2.0;
    let pp = (2.0 * PI).ln() * (m + rank as f64) / 2.0;
    let mut pa = 0.0;
    let kept = |j: usize| if j < rank { spectrum[j] } else { v };
    for i in 0..rank {
        for j in i + 1..n_features {
            pa += ((spectrum[i] - spectrum[j]) * (1.0 / kept(j) - 1.0 / kept(i))).ln() + n.ln();
        }
    }
    pu + pl + pv + pp - pa / 2.0 - rank as f64 * n.ln() / 2.0
}

/// The dimension Minka's rule picks for a decreasing spectrum of explained variances of
/// `n_samples` rows: the rank in `1..spectrum.len()` of highest likelihood (the first on
/// ties, as numpy's `argmax`; 1 when the spectrum has fewer than 2 values).
pub fn infer_dimension(spectrum: &[f64], n_samples: usize) -> usize {
    let mut best = 0;
    let mut best_ll = f64::NEG_INFINITY;
    for rank in 1..spectrum.len() {
        let ll = assess_dimension(spectrum, rank, n_samples);
        // numpy's argmax: NaN wins, then the first maximum.
        if best == 0 || ll > best_ll || (ll.is_nan() && !best_ll.is_nan()) {
            best = rank;
            best_ll = ll;
        }
    }
    best.max(1)
}

/// `ln Γ(x)` for `x > 0` (Lanczos approximation, g = 7, n = 9; ~1e-15 relative), as
/// Python's `math.lgamma` for the half-integers the rule needs.
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
        return (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, &c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_known_values() {
        // Γ(1/2) = √π, Γ(5) = 24, Γ(10.5).
        assert!((ln_gamma(0.5) - PI.sqrt().ln()).abs() < 1e-13);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(10.5) - 1_133_278.388_948_785_4f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn a_clear_gap_gives_its_rank() {
        let spectrum = [10.0, 8.0, 6.0, 0.011, 0.010, 0.0095, 0.009];
        assert_eq!(infer_dimension(&spectrum, 500), 3);
    }
}
