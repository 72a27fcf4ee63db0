//! Work over the blocks of an output buffer: in parallel when there are several blocks, on
//! the calling thread when there is one or when a one-thread [`ThreadPolicy`] is in force.

use std::any::Any;
use std::cell::Cell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

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
                    let pool = pool_of(n)?;
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

/// A new rayon pool of `n` threads (`n = 0`: rayon's default, one per CPU).
pub(crate) fn pool_of(n: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| Error::InvalidArgument(format!("cannot build a pool of {n} threads: {e}")))
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
///
/// Called from outside any pool (a host's own thread), the calling thread works too, with
/// helpers from the global pool ([`claim_blocks`]): it never waits for a sleeping worker to
/// wake up, neither to start nor to return.
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
    } else if rayon::current_thread_index().is_none() {
        first_of_claimed_blocks(out, chunk_len, f)
    } else {
        out.par_chunks_mut(chunk_len)
            .enumerate()
            .map(|(b, chunk)| f(b, chunk))
            .find_first(Option::is_some)
            .flatten()
    }
}

/// [`first_of_blocks`] through [`claim_blocks`]: each block's chunk is cut from `out` by the
/// thread that claims it; a `Some` stops further claims (the blocks claimed before it still
/// run, so the first `Some` in block order is the one returned), and a panic of `f` stops
/// them too and is resumed on the calling thread once every claimed block is done.
fn first_of_claimed_blocks<T, F>(out: &mut [f64], chunk_len: usize, f: F) -> Option<T>
where
    T: Send,
    F: Fn(usize, &mut [f64]) -> Option<T> + Sync,
{
    /// The start of `out`, shared with the helpers.
    struct Base(*mut f64);
    // SAFETY: the pointer is only turned into the chunk of a block by the one thread that
    // claimed that block (chunks of distinct blocks are disjoint), while `out` is alive
    // and borrowed by this call (`claim_blocks` returns only when no block is running).
    unsafe impl Sync for Base {}
    impl Base {
        /// The pointer to value `i` of `out`.
        fn at(&self, i: usize) -> *mut f64 {
            self.0.wrapping_add(i)
        }
    }

    let total = out.len();
    let base = Base(out.as_mut_ptr());
    let found: Mutex<Option<(usize, T)>> = Mutex::new(None);
    let panicked: Mutex<Option<Box<dyn Any + Send>>> = Mutex::new(None);
    let run = |b: usize| -> bool {
        let start = b.saturating_mul(chunk_len);
        if start >= total {
            return true;
        }
        let len = chunk_len.min(total - start);
        // SAFETY: `start + len <= total`, within `out`; block `b` is claimed once, so no
        // other thread holds this chunk (see `Base`).
        let chunk = unsafe { std::slice::from_raw_parts_mut(base.at(start), len) };
        match catch_unwind(AssertUnwindSafe(|| f(b, chunk))) {
            Ok(None) => false,
            Ok(Some(t)) => {
                let mut first = found.lock().unwrap_or_else(PoisonError::into_inner);
                if first.as_ref().is_none_or(|(i, _)| b < *i) {
                    *first = Some((b, t));
                }
                true
            }
            Err(payload) => {
                let mut p = panicked.lock().unwrap_or_else(PoisonError::into_inner);
                p.get_or_insert(payload);
                true
            }
        }
    };
    claim_blocks(total.div_ceil(chunk_len), &run);
    if let Some(payload) = panicked
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
    {
        resume_unwind(payload);
    }
    let found = found.into_inner().unwrap_or_else(PoisonError::into_inner);
    found.map(|(_, t)| t)
}

/// The block counter of [`claim_blocks`].
struct Claims {
    /// The next block to claim (at least `n_blocks` once the work is over or stopped).
    next: AtomicUsize,
    /// Threads between a claim attempt and the end of the block they claimed.
    active: AtomicUsize,
    /// The number of blocks.
    n_blocks: usize,
}

/// `run` with its lifetime erased, for the helpers of [`claim_blocks`].
#[derive(Clone, Copy)]
struct ErasedRun(*const (dyn Fn(usize) -> bool + Sync + 'static));

// SAFETY: the pointee is `Sync` (so it may be called from any thread) and is only called
// while it is alive (see `claim_blocks`).
unsafe impl Send for ErasedRun {}

impl Claims {
    /// Claims blocks in order and runs them until none is left (or `run` asks to stop).
    fn work(&self, run: ErasedRun) {
        /// Ends the claim even if `run` unwinds.
        struct Active<'a>(&'a AtomicUsize);
        impl Drop for Active<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, SeqCst);
            }
        }
        loop {
            self.active.fetch_add(1, SeqCst);
            let _active = Active(&self.active);
            let b = self.next.fetch_add(1, SeqCst);
            if b >= self.n_blocks {
                return;
            }
            // SAFETY: `run` is alive: this claim succeeded, and `claim_blocks` does not
            // return (nor unwind) before every thread that claimed a block is done with it.
            if unsafe { (*run.0)(b) } {
                self.next.fetch_max(self.n_blocks, SeqCst);
            }
        }
    }

    /// Stops further claims and waits until no claimed block is running.
    fn finish(&self) {
        self.next.fetch_max(self.n_blocks, SeqCst);
        let mut spins = 0u32;
        while self.active.load(SeqCst) != 0 {
            if spins < 1 << 12 {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Runs `run(block)` for blocks `0..n_blocks` on the calling thread and on helpers spawned
/// in the current pool (one fewer than its threads), each thread claiming the next block
/// from a shared counter until none is left or a call returns `true` (stop). Returns once
/// every claimed block is done: the calling thread never sleeps, it spins for the last
/// blocks of the helpers; a helper that starts late finds nothing left and ends without
/// calling `run`.
///
/// Correctness of the early return: a helper announces itself (`active + 1`) before it
/// claims; a claim that gets a block happens before the caller's own failed claim, so the
/// caller's later reads of `active` count that helper until its block is done (all
/// sequentially consistent); and `next` never goes back below `n_blocks`, so every later
/// claim fails without touching `run`.
fn claim_blocks(n_blocks: usize, run: &(dyn Fn(usize) -> bool + Sync)) {
    /// Waits for the helpers' blocks even if the caller's own `run` unwinds.
    struct Finish<'a>(&'a Claims);
    impl Drop for Finish<'_> {
        fn drop(&mut self) {
            self.0.finish();
        }
    }
    let claims = Arc::new(Claims {
        next: AtomicUsize::new(0),
        active: AtomicUsize::new(0),
        n_blocks,
    });
    let ptr: *const (dyn Fn(usize) -> bool + Sync + '_) = run;
    // SAFETY: only the lifetime changes (same layout); the helpers call `run` only between
    // a successful claim and its end, which all happen before this function returns.
    let erased = ErasedRun(unsafe {
        std::mem::transmute::<
            *const (dyn Fn(usize) -> bool + Sync + '_),
            *const (dyn Fn(usize) -> bool + Sync + 'static),
        >(ptr)
    });
    let helpers = rayon::current_num_threads()
        .saturating_sub(1)
        .min(n_blocks.saturating_sub(1));
    for _ in 0..helpers {
        let claims = Arc::clone(&claims);
        rayon::spawn(move || claims.work(erased));
    }
    let finish = Finish(&claims);
    claims.work(erased);
    drop(finish);
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
    fn a_panic_in_a_block_reaches_the_caller_after_the_other_blocks() {
        let mut out = vec![0.0; 1000];
        let done = AtomicUsize::new(0);
        let r = catch_unwind(AssertUnwindSafe(|| {
            first_of_blocks(&mut out, 8, |b, chunk| {
                chunk.iter_mut().for_each(|v| *v = 1.0);
                done.fetch_add(1, SeqCst);
                assert!(b != 40, "block 40");
                None::<()>
            })
        }));
        assert!(r.is_err());
        // Blocks up to the one that panicked ran; nothing runs after the call returned.
        let n = done.load(SeqCst);
        assert!(n > 40);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(done.load(SeqCst), n);
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
