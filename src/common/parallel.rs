//! Work over the blocks of an output buffer: in parallel when there are several blocks, on
//! the calling thread when there is one or when a one-thread [`ThreadPolicy`] is in force.

use std::cell::Cell;
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::error::{Error, Result};

thread_local! {
    /// Set while [`ThreadPolicy::run`] keeps work on the calling thread.
    static ON_CALLING_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Whether parallel work of this module must stay on the calling thread right now.
fn sequential() -> bool {
    ON_CALLING_THREAD.with(Cell::get)
}

/// Where a prediction (or any block-parallel work) runs: the one thread policy that a
/// pipeline carries down to its model.
///
/// - `n_threads` = 1: every block runs on the calling thread; no rayon pool is touched (a C
///   host that asked for one thread gets exactly that, even when the global pool is busy);
/// - `n_threads` = k > 1: a pool of k threads of the policy's own, built once;
/// - no bound: the current rayon pool (the global one unless the caller installed another).
///
/// The bound travels through a scoped thread-local flag that the block drivers of this
/// module read, so every output kind of every model obeys it without each `predict_*`
/// signature carrying a context (work kept on the calling thread never leaves the thread
/// that set the flag, so the flag is always seen).
///
/// ```
/// use amlis::common::parallel::ThreadPolicy;
///
/// let policy = ThreadPolicy::new(Some(2));
/// assert_eq!(policy.run(rayon::current_num_threads)?, 2);
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct ThreadPolicy {
    n_threads: Option<usize>,
    pool: OnceLock<rayon::ThreadPool>,
}

impl Clone for ThreadPolicy {
    fn clone(&self) -> Self {
        Self::new(self.n_threads)
    }
}

impl ThreadPolicy {
    /// The policy for a thread bound (`None` or 0: the current pool).
    pub fn new(n_threads: Option<usize>) -> Self {
        Self {
            n_threads: n_threads.filter(|&n| n > 0),
            pool: OnceLock::new(),
        }
    }

    /// The thread bound, if any.
    pub fn n_threads(&self) -> Option<usize> {
        self.n_threads
    }

    /// Runs `f` under the policy.
    pub fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> Result<R> {
        match self.n_threads {
            None => Ok(f()),
            Some(1) => Ok(on_calling_thread(f)),
            Some(n) => {
                if self.pool.get().is_none() {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(n)
                        .build()
                        .map_err(|e| {
                            Error::InvalidArgument(format!(
                                "cannot build a pool of {n} threads: {e}"
                            ))
                        })?;
                    // Another thread may have won the race; either pool serves.
                    let _ = self.pool.set(pool);
                }
                match self.pool.get() {
                    Some(pool) => Ok(pool.install(f)),
                    None => Ok(on_calling_thread(f)),
                }
            }
        }
    }
}

/// Runs `f` with the block-parallel work of this module kept on the calling thread.
pub(crate) fn on_calling_thread<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            ON_CALLING_THREAD.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(ON_CALLING_THREAD.with(|c| c.replace(true)));
    f()
}

/// Calls `f(block, chunk)` for `out` cut into chunks of `chunk_len` values (the last one may
/// be shorter) and returns the first `Some` in block order, or `None`.
///
/// A single chunk (one row, a small batch) runs on the calling thread, so the latency path
/// pays no task hand-off to the rayon pool; several run in parallel in the current pool,
/// unless a [`ThreadPolicy`] of one thread is in force. Blocks after the first `Some` may be
/// skipped.
pub(crate) fn first_of_blocks<T, F>(out: &mut [f64], chunk_len: usize, f: F) -> Option<T>
where
    T: Send,
    F: Fn(usize, &mut [f64]) -> Option<T> + Sync,
{
    let chunk_len = chunk_len.max(1);
    if out.len() <= chunk_len || sequential() {
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

/// Calls `f(block, a_chunk, b_chunk)` for block `i` of `a` cut into chunks of `a_len` values
/// and of `b` cut into chunks of `b_len` values, and returns the first `Some` in block order,
/// or `None`: one task fills the matching blocks of two output buffers (rows and a value per
/// row, say) with no temporaries. The last chunks may be shorter, and blocks past the end of
/// the shorter buffer get an empty chunk of it (an empty `b` when there is nothing to fill).
///
/// Runs as [`first_of_blocks`]: on the calling thread for a single block or under a
/// one-thread [`ThreadPolicy`], else in parallel in the current pool; blocks after the first
/// `Some` may be skipped.
pub(crate) fn first_of_block_pairs<A, B, T, F>(
    a: &mut [A],
    a_len: usize,
    b: &mut [B],
    b_len: usize,
    f: F,
) -> Option<T>
where
    A: Send,
    B: Send,
    T: Send,
    F: Fn(usize, &mut [A], &mut [B]) -> Option<T> + Sync,
{
    let (a_len, b_len) = (a_len.max(1), b_len.max(1));
    let n_blocks = a.len().div_ceil(a_len).max(b.len().div_ceil(b_len));
    let mut a_chunks: Vec<&mut [A]> = a.chunks_mut(a_len).collect();
    let mut b_chunks: Vec<&mut [B]> = b.chunks_mut(b_len).collect();
    a_chunks.resize_with(n_blocks, Default::default);
    b_chunks.resize_with(n_blocks, Default::default);
    if n_blocks <= 1 || sequential() {
        a_chunks
            .into_iter()
            .zip(b_chunks)
            .enumerate()
            .find_map(|(i, (x, y))| f(i, x, y))
    } else {
        a_chunks
            .into_par_iter()
            .zip(b_chunks)
            .enumerate()
            .map(|(i, (x, y))| f(i, x, y))
            .find_first(Option::is_some)
            .flatten()
    }
}

/// The first block in `0..n_blocks` for which `pred` holds, probing blocks in parallel
/// (on the calling thread for one block, or under a one-thread [`ThreadPolicy`]).
pub(crate) fn first_block_where<F>(n_blocks: usize, pred: F) -> Option<usize>
where
    F: Fn(usize) -> bool + Sync,
{
    if n_blocks <= 1 || sequential() {
        (0..n_blocks).find(|&b| pred(b))
    } else {
        (0..n_blocks).into_par_iter().find_first(|&b| pred(b))
    }
}

/// Maps blocks `0..n_blocks` with `map` and hands each result to `fold` in block order,
/// stopping at the first error of `fold`.
///
/// Blocks are mapped in parallel in waves of a few blocks per thread of the current pool (on
/// the calling thread under a one-thread [`ThreadPolicy`] or for a single block), and each
/// wave is folded before the next one is mapped: at most one wave of results is alive at a
/// time (the streaming form of the neighbour queries, whose results are large), and the fold
/// sees the same sequence for any number of threads.
pub(crate) fn map_fold_blocks<T, M, F>(n_blocks: usize, map: M, mut fold: F) -> Result<()>
where
    T: Send,
    M: Fn(usize) -> T + Sync,
    F: FnMut(usize, T) -> Result<()>,
{
    if n_blocks <= 1 || sequential() {
        for b in 0..n_blocks {
            fold(b, map(b))?;
        }
        return Ok(());
    }
    let wave = 2 * rayon::current_num_threads().max(1);
    let mut start = 0;
    while start < n_blocks {
        let end = (start + wave).min(n_blocks);
        let results: Vec<T> = (start..end).into_par_iter().map(&map).collect();
        for (b, t) in (start..end).zip(results) {
            fold(b, t)?;
        }
        start = end;
    }
    Ok(())
}

/// Calls `f(i, &mut items[i])` for every item: in parallel in the current pool, or on the
/// calling thread under a one-thread [`ThreadPolicy`] or for a single item. For independent
/// items (each call touches its own item only), so the result does not depend on the number
/// of threads.
pub(crate) fn for_each_mut<T, F>(items: &mut [T], f: F)
where
    T: Send,
    F: Fn(usize, &mut T) + Sync,
{
    if items.len() <= 1 || sequential() {
        items.iter_mut().enumerate().for_each(|(i, t)| f(i, t));
    } else {
        items.par_iter_mut().enumerate().for_each(|(i, t)| f(i, t));
    }
}

/// Maps the chunks of `out` (cut into `chunk_len` values, the last one may be shorter) with
/// `f(block, chunk)` and returns the results in block order: in parallel in the current pool,
/// or on the calling thread for a single chunk or under a one-thread [`ThreadPolicy`].
pub(crate) fn map_chunks_mut<T, F>(out: &mut [f64], chunk_len: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, &mut [f64]) -> T + Sync,
{
    let chunk_len = chunk_len.max(1);
    if out.len() <= chunk_len || sequential() {
        out.chunks_mut(chunk_len)
            .enumerate()
            .map(|(b, chunk)| f(b, chunk))
            .collect()
    } else {
        out.par_chunks_mut(chunk_len)
            .enumerate()
            .map(|(b, chunk)| f(b, chunk))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_pairs_cover_both_buffers_in_matching_blocks() {
        for (n, b_len) in [(0, 3), (1, 3), (10, 3), (1000, 3), (1000, 0)] {
            let mut a = vec![0usize; 2 * n];
            let mut b = vec![0usize; if b_len == 0 { 0 } else { n }];
            let first = first_of_block_pairs(&mut a, 6, &mut b, 3, |i, x, y| {
                x.iter_mut().for_each(|v| *v = i + 1);
                y.iter_mut().for_each(|v| *v = i + 1);
                (x.len() != 2 * y.len() && !y.is_empty()).then_some(i)
            });
            assert_eq!(first, None, "n = {n}");
            assert!(a.iter().enumerate().all(|(j, &v)| v == j / 6 + 1));
            assert!(b.iter().enumerate().all(|(j, &v)| v == j / 3 + 1));
            let stop = first_of_block_pairs(&mut a, 6, &mut b, 3, |i, _, _| (i >= 2).then_some(i));
            assert_eq!(stop, (n > 6).then_some(2), "n = {n}");
        }
    }

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

    #[test]
    fn one_thread_policy_keeps_every_block_on_the_calling_thread() {
        let me = std::thread::current().id();
        let policy = ThreadPolicy::new(Some(1));
        let mut out = vec![0.0; 1000];
        let off_thread = policy
            .run(|| {
                let a = first_of_blocks(&mut out, 8, |_, _| {
                    (std::thread::current().id() != me).then_some(())
                });
                let b = first_block_where(50, |_| std::thread::current().id() != me);
                a.is_some() || b.is_some()
            })
            .unwrap();
        assert!(!off_thread);
        // The flag is scoped: outside `run` the blocks may go parallel again.
        assert!(!sequential());
        let two = ThreadPolicy::new(Some(2));
        assert_eq!(two.run(rayon::current_num_threads).unwrap(), 2);
    }
}
