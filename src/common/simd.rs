//! One dispatch for the loops that vectorize: [`with_avx2`] runs a closure compiled for AVX2
//! when the CPU has it, and as is otherwise. Only AVX2 is enabled, not FMA, so no
//! multiply-add is fused and both paths give the same bits: the choice changes the speed of a
//! loop, never its result.

/// Runs `f`, compiled for AVX2 when the CPU has it (checked once per call, a cached flag).
///
/// For the loops of `f` to get the wider registers they must be inlined into it: mark the
/// closure and the kernel it calls `#[inline(always)]`.
///
/// ```ignore
/// // (crate-private) the same sum on every CPU:
/// let s = with_avx2(#[inline(always)] || a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>());
/// ```
#[inline]
pub(crate) fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { avx2(f) };
        }
    }
    f()
}

/// `f()` compiled with AVX2 enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Asks the CPU to bring the cache lines of `data` into its caches (a hint: it never
/// faults and changes no value; nothing on other architectures). For data read soon in an
/// order the hardware prefetcher cannot guess.
#[inline]
pub(crate) fn prefetch(data: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // One hint per 64-byte line (8 values).
        for line in data.chunks(8) {
            // SAFETY: SSE is part of the x86_64 baseline, and a prefetch reads nothing
            // architecturally: it cannot fault, whatever the address (here a live slice's).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_is_the_closure_s() {
        let a: Vec<f64> = (0..37).map(|i| f64::from(i) / 7.0).collect();
        let plain: f64 = a.iter().map(|v| v * 3.0).sum();
        let fast = with_avx2(
            #[inline(always)]
            || a.iter().map(|v| v * 3.0).sum::<f64>(),
        );
        assert_eq!(plain.to_bits(), fast.to_bits());
    }
}
