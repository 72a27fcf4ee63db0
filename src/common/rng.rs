//! Seeded random numbers: one seed for a whole fit, one independent stream per task.
//!
//! Every random choice in amlis is drawn from a [`ChaCha8Rng`] derived from the user's
//! `random_state` and a task index (a tree number, a fold number, an epoch), never from the
//! thread that runs the task. That is what makes a model identical for any number of threads.
//!
//! ```
//! use rand::Rng;
//! let a: u64 = amlis::common::rng::for_task(42, 3).gen();
//! let b: u64 = amlis::common::rng::for_task(42, 3).gen();
//! assert_eq!(a, b);
//! ```

use rand::SeedableRng;
pub use rand_chacha::ChaCha8Rng;

/// The generator of the whole fit for seed `seed`.
pub fn from_seed(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// An independent generator for task `task` of a fit seeded with `seed`.
///
/// Uses ChaCha's stream selector, so streams of different tasks never overlap.
pub fn for_task(seed: u64, task: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(task.wrapping_add(1));
    rng
}

/// Fisher–Yates shuffle of `0..n` with the given generator.
pub fn permutation(n: usize, rng: &mut impl rand::Rng) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    rand::seq::SliceRandom::shuffle(idx.as_mut_slice(), rng);
    idx
}
