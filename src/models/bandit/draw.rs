//! Draws from the distributions Thompson sampling needs (standard normal, gamma, beta),
//! from a seeded generator (a decision's [`DecisionRng`](super::pmf::DecisionRng)), so that
//! a decision is reproducible from its seed.

use rand::Rng;

/// A standard normal draw (Marsaglia's polar method; the second value is discarded so that
/// every draw consumes its own uniforms and decisions stay independent of call order).
pub fn normal(rng: &mut (impl Rng + ?Sized)) -> f64 {
    loop {
        let u = 2.0 * rng.gen::<f64>() - 1.0;
        let v = 2.0 * rng.gen::<f64>() - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            return u * (-2.0 * s.ln() / s).sqrt();
        }
    }
}

/// A Gamma(`shape`, 1) draw (Marsaglia and Tsang 2000; `shape < 1` by the boost
/// `Gamma(a) = Gamma(a + 1) * U^(1/a)`). `shape` must be > 0.
pub fn gamma(shape: f64, rng: &mut (impl Rng + ?Sized)) -> f64 {
    if shape < 1.0 {
        let u: f64 = rng.gen::<f64>();
        return gamma(shape + 1.0, rng) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u: f64 = rng.gen::<f64>();
        if u < 1.0 - 0.0331 * x * x * x * x || u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

/// A Beta(`a`, `b`) draw (`a`, `b` > 0), as the ratio of two gamma draws.
pub fn beta(a: f64, b: f64, rng: &mut (impl Rng + ?Sized)) -> f64 {
    let x = gamma(a, rng);
    let y = gamma(b, rng);
    if x + y > 0.0 {
        x / (x + y)
    } else {
        0.5
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::rng::for_task;

    #[test]
    fn moments_match() {
        let mut rng = for_task(3, 0);
        let n = 20_000;
        let (mut s1, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let z = normal(&mut rng);
            s1 += z;
            s2 += z * z;
        }
        assert!((s1 / n as f64).abs() < 0.03);
        assert!((s2 / n as f64 - 1.0).abs() < 0.05);
        for (a, b) in [(2.0, 5.0), (0.5, 0.5), (30.0, 3.0)] {
            let m: f64 = (0..n).map(|_| beta(a, b, &mut rng)).sum::<f64>() / n as f64;
            assert!((m - a / (a + b)).abs() < 0.01, "{a} {b} {m}");
        }
        let g: f64 = (0..n).map(|_| gamma(0.3, &mut rng)).sum::<f64>() / n as f64;
        assert!((g - 0.3).abs() < 0.02, "{g}");
    }
}
