//! The random numbers of scikit-learn's libsvm: a 32-bit Mersenne Twister (MT19937, as C++'s
//! `std::mt19937` and NumPy's legacy `RandomState`) with libsvm's bounded draw (scikit-learn's
//! `bounded_rand_int`, Lemire's multiply-shift with rejection), and the derivation of the
//! libsvm seed from `random_state` as scikit-learn does it
//! (`RandomState(random_state).randint(2**31 - 1)`).

use crate::error::{Error, Result};

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// MT19937 (Matsumoto and Nishimura), seeded as `init_genrand`.
pub(crate) struct Mt19937 {
    state: [u32; N],
    pos: usize,
}

impl Mt19937 {
    /// The generator seeded with `seed` (`std::mt19937::seed`, NumPy's `mt19937_seed`).
    pub fn new(seed: u32) -> Self {
        let mut state = [0u32; N];
        state[0] = seed;
        for i in 1..N {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Self { state, pos: N }
    }

    fn twist(&mut self) {
        for i in 0..N {
            let y = (self.state[i] & UPPER_MASK) | (self.state[(i + 1) % N] & LOWER_MASK);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            self.state[i] = self.state[(i + M) % N] ^ (y >> 1) ^ mag;
        }
        self.pos = 0;
    }

    /// The next 32 random bits (`genrand_int32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.pos >= N {
            self.twist();
        }
        let mut y = self.state[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// A draw in `0..range` (`range >= 1`): scikit-learn's `bounded_rand_int`.
    pub fn bounded(&mut self, range: u32) -> u32 {
        let mut m = u64::from(self.next_u32()) * u64::from(range);
        let mut low = m as u32;
        if low < range {
            let mut t = range.wrapping_neg();
            if t >= range {
                t -= range;
                if t >= range {
                    t %= range;
                }
            }
            while low < t {
                m = u64::from(self.next_u32()) * u64::from(range);
                low = m as u32;
            }
        }
        (m >> 32) as u32
    }
}

/// The seed scikit-learn hands to libsvm for `random_state`:
/// `np.random.RandomState(random_state).randint(np.iinfo("i").max)` (NumPy's legacy masked
/// rejection sampling on MT19937). NumPy accepts seeds up to `2³² − 1`; larger values are an
/// error naming `random_state`.
pub(crate) fn libsvm_seed(random_state: u64) -> Result<u32> {
    let seed = u32::try_from(random_state).map_err(|_| {
        Error::param(
            "random_state",
            random_state,
            "an integer in [0, 2^32 - 1] (NumPy's RandomState range)",
        )
    })?;
    let mut mt = Mt19937::new(seed);
    // randint(0, 2**31 - 1): range 2**31 - 2, mask 2**31 - 1.
    const RANGE: u32 = i32::MAX as u32 - 1;
    loop {
        let v = mt.next_u32() & LOWER_MASK;
        if v <= RANGE {
            return Ok(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_mt19937() {
        // The 10000th output of std::mt19937 with the default seed 5489 (C++ standard).
        let mut mt = Mt19937::new(5489);
        let mut v = 0;
        for _ in 0..10000 {
            v = mt.next_u32();
        }
        assert_eq!(v, 4_123_659_995);
    }

    #[test]
    fn seeds_are_numpys() {
        // np.random.RandomState(s).randint(np.iinfo("i").max) for s = 0 and 42.
        assert_eq!(libsvm_seed(0).unwrap(), 209_652_396);
        assert_eq!(libsvm_seed(42).unwrap(), 1_608_637_542);
        assert!(libsvm_seed(1 << 32).is_err());
    }

    #[test]
    fn bounded_draws_stay_in_range() {
        let mut mt = Mt19937::new(1);
        for r in [1u32, 2, 3, 7, 1000, u32::MAX] {
            for _ in 0..100 {
                assert!(mt.bounded(r) < r);
            }
        }
    }
}
