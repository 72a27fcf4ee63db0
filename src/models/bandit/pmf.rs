//! Probability vectors (pmfs) of decisions, and drawing an action from one.
//!
//! Every policy writes its per-action scores into the caller's `pmf` buffer and turns them into
//! probabilities in place with one of these functions, so a decision allocates nothing.
//! Excluded actions are marked with a score of `-inf` first ([`mark_excluded`]) and get
//! probability 0. The action is drawn from the pmf with a generator seeded from the policy's
//! `random_state` and the decision's `event_id` ([`decision_rng`]): the same event on the same
//! state gives the same action on any thread. A decision holds it as a [`DecisionRng`], which
//! seeds it only if a draw is made (a greedy decision without ties makes none).

use rand::{Rng, RngCore};

use crate::common::rng::{self, ChaCha8Rng};
use crate::error::{Error, Result};

/// The generator of one decision: a stream of `random_state` selected by `event_id`.
pub fn decision_rng(random_state: u64, event_id: u64) -> ChaCha8Rng {
    rng::for_task(random_state, event_id)
}

/// The generator of one decision ([`decision_rng`]), seeded on its first draw: the same
/// numbers as [`decision_rng`]`(random_state, event_id)`, and no seeding at all (a ChaCha
/// key and stream set up, about 2% of a LinUCB decision) for a decision that draws nothing.
#[derive(Debug, Clone)]
pub struct DecisionRng {
    random_state: u64,
    event_id: u64,
    rng: Option<ChaCha8Rng>,
}

impl DecisionRng {
    /// The generator of the decision `event_id` of a policy seeded with `random_state`.
    pub fn new(random_state: u64, event_id: u64) -> Self {
        Self {
            random_state,
            event_id,
            rng: None,
        }
    }

    /// The seeded generator (seeded now if no draw was made yet).
    #[inline]
    fn seeded(&mut self) -> &mut ChaCha8Rng {
        let (random_state, event_id) = (self.random_state, self.event_id);
        self.rng
            .get_or_insert_with(|| decision_rng(random_state, event_id))
    }
}

impl RngCore for DecisionRng {
    fn next_u32(&mut self) -> u32 {
        self.seeded().next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.seeded().next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.seeded().fill_bytes(dest)
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> std::result::Result<(), rand::Error> {
        self.seeded().try_fill_bytes(dest)
    }
}

/// Sets the score of every excluded action to `-inf`. An index out of range, or excluding
/// every action, is an error.
pub fn mark_excluded(scores: &mut [f64], excluded: &[usize]) -> Result<()> {
    let n = scores.len();
    for &a in excluded {
        let slot = scores.get_mut(a).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "argument `excluded` holds {a}; expected action indices below {n}"
            ))
        })?;
        *slot = f64::NEG_INFINITY;
    }
    if scores.iter().all(|&s| s == f64::NEG_INFINITY) {
        return Err(Error::InvalidArgument(format!(
            "argument `excluded` rules out every one of the {} actions; at least one must stay allowed",
            scores.len()
        )));
    }
    Ok(())
}

/// Whether an action with this score may be chosen (not excluded).
#[inline]
pub fn allowed(score: f64) -> bool {
    score != f64::NEG_INFINITY
}

/// Greedy with ties split evenly: the allowed actions of the largest score share probability
/// 1 (a score of `+inf`, an arm never tried under UCB, beats every finite one); `epsilon` of
/// the mass is then spread evenly over every allowed action.
pub fn epsilon_greedy(scores: &mut [f64], epsilon: f64) {
    let best = scores
        .iter()
        .copied()
        .filter(|&s| allowed(s))
        .fold(f64::NEG_INFINITY, f64::max);
    let n_best = scores.iter().filter(|&&s| allowed(s) && s == best).count();
    let n_allowed = scores.iter().filter(|&&s| allowed(s)).count();
    let explore = epsilon / n_allowed.max(1) as f64;
    let exploit = (1.0 - epsilon) / n_best.max(1) as f64;
    for s in scores.iter_mut() {
        *s = if !allowed(*s) {
            0.0
        } else if *s == best {
            exploit + explore
        } else {
            explore
        };
    }
}

/// Boltzmann exploration: probabilities proportional to `exp(score / tau)` over the allowed
/// actions (computed from the largest score, so large scores do not overflow).
pub fn softmax(scores: &mut [f64], tau: f64) {
    let best = scores
        .iter()
        .copied()
        .filter(|&s| allowed(s))
        .fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for s in scores.iter_mut() {
        *s = if allowed(*s) {
            ((*s - best) / tau).exp()
        } else {
            0.0
        };
        total += *s;
    }
    for s in scores.iter_mut() {
        *s /= total;
    }
}

/// The index of the largest allowed score, ties broken by the generator (uniformly).
pub fn argmax_random_tie(scores: &[f64], rng: &mut (impl Rng + ?Sized)) -> usize {
    let mut best = f64::NEG_INFINITY;
    let mut chosen = usize::MAX;
    let mut ties = 0u32;
    for (a, &s) in scores.iter().enumerate() {
        if !allowed(s) {
            continue;
        }
        if chosen == usize::MAX || s > best {
            best = s;
            chosen = a;
            ties = 1;
        } else if s == best {
            ties += 1;
            if rng.gen_range(0..ties) == 0 {
                chosen = a;
            }
        }
    }
    chosen
}

/// Draws an action from `pmf` (inverse CDF of one uniform draw). Only actions of positive
/// probability can be drawn, whatever the rounding of the cumulative sum. When only one
/// action has positive probability it is returned without a draw (`rng` is left untouched:
/// the uniform could not change the result, and the decisions drop their generator after it).
pub fn sample(pmf: &[f64], rng: &mut (impl Rng + ?Sized)) -> usize {
    // One action of positive probability (a greedy decision without ties): it is the draw
    // whatever the uniform, so none is made.
    let mut positive = pmf.iter().enumerate().filter(|(_, &p)| p > 0.0);
    if let (Some((a, _)), None) = (positive.next(), positive.next()) {
        return a;
    }
    let u: f64 = rng.gen::<f64>();
    let mut cumulative = 0.0;
    let mut last = 0;
    for (a, &p) in pmf.iter().enumerate() {
        if p > 0.0 {
            cumulative += p;
            last = a;
            if u < cumulative {
                return a;
            }
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_splits_ties_and_keeps_exclusions_at_zero() {
        let mut s = [1.0, 3.0, 3.0, 0.0];
        mark_excluded(&mut s, &[3]).unwrap();
        epsilon_greedy(&mut s, 0.3);
        assert_eq!(s[3], 0.0);
        assert!((s[1] - (0.35 + 0.1)).abs() < 1e-15 && s[1] == s[2]);
        assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        let mut inf = [f64::INFINITY, 2.0, f64::INFINITY];
        epsilon_greedy(&mut inf, 0.0);
        assert_eq!(inf, [0.5, 0.0, 0.5]);
    }

    #[test]
    fn exclusions_are_checked() {
        assert!(mark_excluded(&mut [0.0, 1.0], &[2]).is_err());
        assert!(mark_excluded(&mut [0.0, 1.0], &[0, 1]).is_err());
    }

    #[test]
    fn softmax_is_stable_and_samples_only_positive_mass() {
        let mut s = [1000.0, 999.0, f64::NEG_INFINITY];
        softmax(&mut s, 1.0);
        assert!(s.iter().all(|p| p.is_finite()) && s[2] == 0.0);
        let mut rng = decision_rng(1, 2);
        for _ in 0..200 {
            assert_ne!(sample(&s, &mut rng), 2);
        }
        // A single action of positive mass is the draw, whatever the generator.
        let mut rng = decision_rng(1, 3);
        assert_eq!(sample(&[0.0, 0.0, 1.0 - 1e-16, 0.0], &mut rng), 2);
        assert_eq!(sample(&[1.0], &mut rng), 0);
        let mut r1 = decision_rng(5, 9);
        let mut r2 = decision_rng(5, 9);
        assert_eq!(sample(&s, &mut r1), sample(&s, &mut r2));
    }

    #[test]
    fn the_lazy_generator_draws_the_stream_of_its_event() {
        let mut eager = decision_rng(7, 11);
        let mut lazy = DecisionRng::new(7, 11);
        assert!(lazy.rng.is_none());
        // A draw that needs no generator leaves it unseeded.
        assert_eq!(sample(&[0.0, 1.0], &mut lazy), 1);
        assert!(lazy.rng.is_none());
        for _ in 0..5 {
            assert_eq!(lazy.gen::<f64>().to_bits(), eager.gen::<f64>().to_bits());
            assert_eq!(lazy.gen_range(0..7u32), eager.gen_range(0..7u32));
        }
        let (mut a, mut b) = ([0u8; 13], [0u8; 13]);
        lazy.fill_bytes(&mut a);
        eager.fill_bytes(&mut b);
        assert_eq!(a, b);
    }
}
