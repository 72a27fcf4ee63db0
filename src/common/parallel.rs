//! Work over the blocks of an output buffer: in parallel when there are several blocks, on
//! the calling thread when there is one.

use rayon::prelude::*;

/// Calls `f(block, chunk)` for `out` cut into chunks of `chunk_len` values (the last one may
/// be shorter) and returns the first `Some` in block order, or `None`.
///
/// A single chunk (one row, a small batch) runs on the calling thread, so the latency path
/// pays no task hand-off to the rayon pool; several run in parallel in the current pool.
/// Blocks after the first `Some` may be skipped.
pub(crate) fn first_of_blocks<T, F>(out: &mut [f64], chunk_len: usize, f: F) -> Option<T>
where
    T: Send,
    F: Fn(usize, &mut [f64]) -> Option<T> + Sync,
{
    let chunk_len = chunk_len.max(1);
    if out.len() <= chunk_len {
        out.chunks_mut(chunk_len)
            .enumerate()
            .find_map(|(b, chunk)| f(b, chunk))
    } else {
        out.par_chunks_mut(chunk_len)
            .enumerate()
            .map(|(b, chunk)| f(b, chunk))
            .find_first(Option::is_some)
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_some_in_block_order_whatever_the_block_count() {
        for n in [0, 1, 7, 8, 9, 1000] {
            let mut out = vec![0.0; n];
            // Every block writes its index; blocks 3 and 5 "fail".
            let first = first_of_blocks(&mut out, 8, |b, chunk| {
                chunk.iter_mut().for_each(|v| *v = b as f64);
                (b == 5 || b == 3).then_some(b)
            });
            assert_eq!(first, (n > 24).then_some(3), "n = {n}");
            if n <= 24 {
                assert!(out.iter().enumerate().all(|(i, v)| *v == (i / 8) as f64));
            }
        }
    }
}
