//! Bandit handles: `AmlisBandit`, a policy that chooses actions and learns from their rewards
//! online, from C: make (`amlis_bandit_new`), decide (`amlis_bandit_choose`), learn
//! (`amlis_bandit_update`, or a batch of logged rows with `amlis_bandit_partial_fit`), save
//! and load its whole learning state, free.

use std::ffi::c_char;

use crate::error::{Error, Result};
use crate::models::bandit::LoggedFeedback;
use crate::service::bandit::{Bandit, BanditConfig};
use crate::service::ffi::boundary::{
    self, arg_ref, arg_slice, arg_slice_mut, arg_str, checked_len, free_handle, into_handle,
    FfiResult, Out, OutBuffer,
};
use crate::service::ffi::model::encoding_for_path;
use crate::service::ffi::status::AmlisStatus;
use crate::service::persist::Encoding;

/// An opaque handle to a bandit: a policy and its whole learning state.
///
/// Made by `amlis_bandit_new`, `amlis_bandit_load_file` or `amlis_bandit_load_buffer`, freed
/// by `amlis_bandit_free`. Every function on it may be called from many threads at once:
/// decisions and saves share a read lock, updates take the write lock, so an update is
/// visible to every decision that starts after it returns.
pub struct AmlisBandit {
    bandit: Bandit,
}

/// The context of a call: `n_features` doubles; NULL is accepted when `n_features` is 0
/// (context-free policies).
///
/// # Safety
///
/// `ptr` is NULL or points to `n` readable doubles.
unsafe fn context_arg<'a>(ptr: *const f64, n: usize) -> FfiResult<&'a [f64]> {
    if n == 0 {
        return Ok(&[]);
    }
    // SAFETY: forwarded from the caller's guarantee.
    unsafe { arg_slice(ptr, n, "context") }
}

/// Decides into a local buffer and copies to the caller's only on success.
fn choose_checked(
    b: &AmlisBandit,
    context: &[f64],
    event_id: u64,
    excluded: &[usize],
    pmf: &mut [f64],
) -> Result<usize> {
    let n = b.bandit.spec().n_actions;
    if pmf.len() != n {
        return Err(Error::shape(
            "`pmf_len`",
            format!("{n} (the number of actions)"),
            pmf.len(),
        ));
    }
    let mut stack = [0.0f64; 32];
    let mut heap = Vec::new();
    let local: &mut [f64] = if n <= stack.len() {
        &mut stack[..n]
    } else {
        heap.resize(n, 0.0);
        &mut heap
    };
    let action = b.bandit.choose(context, event_id, excluded, local)?;
    pmf.copy_from_slice(local);
    Ok(action)
}

/// Makes a bandit for `n_actions` actions (at least 1) and contexts of `n_features` doubles
/// (0 for a context-free policy).
///
/// `config_json`: `{"policy": {"type": "lin_ucb", "alpha": 1.0, "l2_lambda": 1.0},
/// "random_state": 0}`; policy types `epsilon_greedy`, `ucb1`, `thompson_sampling`,
/// `softmax`, `lin_ucb`, `lin_ts`, `lin_greedy` (`epsilon_greedy` and `softmax` take an
/// `"estimator": {"type": "sgd_regressor", ...}` to learn a regressor per arm). A malformed
/// or unknown key, or a setting out of range, is `AMLIS_CONFIG_ERROR` naming it; `n_actions`
/// of 0 is `AMLIS_INVALID_ARGUMENT`. A config may have `"preprocess"` steps (the
/// pipeline's: imputer, scalers, ...): they are fitted on the contexts of the first logs
/// given to `amlis_bandit_partial_fit`, and until then `amlis_bandit_choose` and
/// `amlis_bandit_update` are `AMLIS_INVALID_ARGUMENT` saying so; every context then passes
/// through them. On success `*out` receives a new handle to free with `amlis_bandit_free`;
/// on failure it is not written.
///
/// # Safety
///
/// `config_json` must be NULL or a NUL-terminated string; `out` NULL or a valid pointer to
/// writable `AmlisBandit *` storage.
#[no_mangle]
pub unsafe extern "C" fn amlis_bandit_new(
    config_json: *const c_char,
    n_actions: usize,
    n_features: usize,
    out: *mut *mut AmlisBandit,
) -> AmlisStatus {
    boundary::run("amlis_bandit_new", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (config, out) =
            unsafe { (arg_str(config_json, "config_json")?, Out::new(out, "out")?) };
        let config = BanditConfig::from_json(config)?;
        let bandit = Bandit::new(config, n_actions, n_features)?;
        out.write(into_handle(AmlisBandit { bandit }));
        Ok(())
    })
}

/// Chooses an action for a context (`n_features` doubles; NULL allowed when 0): writes the
/// chosen action's index to `*action` and the probability of every action under the policy
/// to `pmf` (`pmf_len` = the number of actions), for evaluating policies offline later.
/// Reproducible: the same bandit state, context and `event_id` give the same action and pmf
/// on any thread. Outputs are written only on success.
///
/// # Safety
///
/// `b` must be NULL or a live bandit handle; `context` NULL or `n_features` readable doubles;
/// `action` NULL or a writable `size_t`; `pmf` NULL or `pmf_len` writable doubles.
#[no_mangle]
pub unsafe extern "C" fn amlis_bandit_choose(
    b: *mut AmlisBandit,
    context: *const f64,
    n_features: usize,
    event_id: u64,
    action: *mut usize,
    pmf: *mut f64,
    pmf_len: usize,
) -> AmlisStatus {
    // SAFETY: forwarded with the same guarantees and no exclusions.
    unsafe {
        choose_excluding(
            "amlis_bandit_choose",
            b,
            context,
            n_features,
            event_id,
            std::ptr::null(),
            0,
            action,
            pmf,
            pmf_len,
        )
    }
}

/// `amlis_bandit_choose` with the `n_excluded` actions listed in `excluded` ruled out for
/// this decision (their probability is 0; `excluded` may be NULL when `n_excluded` is 0).
/// An index out of range, or excluding every action, is `AMLIS_INVALID_ARGUMENT`.
///
/// # Safety
///
/// As `amlis_bandit_choose`; `excluded` NULL or `n_excluded` readable `size_t`s.
#[no_mangle]
pub unsafe extern "C" fn amlis_bandit_choose_excluding(
    b: *mut AmlisBandit,
    context: *const f64,
    n_features: usize,
    event_id: u64,
    excluded: *const usize,
    n_excluded: usize,
    action: *mut usize,
    pmf: *mut f64,
    pmf_len: usize,
) -> AmlisStatus {
    // SAFETY: forwarded with the caller's guarantees.
    unsafe {
        choose_excluding(
            "amlis_bandit_choose_excluding",
            b,
            context,
            n_features,
            event_id,
            excluded,
            n_excluded,
            action,
            pmf,
            pmf_len,
        )
    }
}

/// The body of both choose calls.
///
/// # Safety
///
/// As `amlis_bandit_choose_excluding`.
#[allow(clippy::too_many_arguments)]
unsafe fn choose_excluding(
    function: &'static str,
    b: *mut AmlisBandit,
    context: *const f64,
    n_features: usize,
    event_id: u64,
    excluded: *const usize,
    n_excluded: usize,
    action: *mut usize,
    pmf: *mut f64,
    pmf_len: usize,
) -> AmlisStatus {
    boundary::run(function, || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above;
        // the bandit is only read (its state is behind a lock).
        let (b, context, action, pmf) = unsafe {
            (
                arg_ref(b.cast_const(), "b")?,
                context_arg(context, n_features)?,
                Out::new(action, "action")?,
                arg_slice_mut(pmf, pmf_len, "pmf")?,
            )
        };
        let excluded = if n_excluded == 0 {
            &[][..]
        } else {
            // SAFETY: the caller guarantees `excluded` holds n_excluded readable values.
            unsafe { arg_slice(excluded, n_excluded, "excluded")? }
        };
        action.write(choose_checked(b, context, event_id, excluded, pmf)?);
        Ok(())
    })
}

/// Learns from one outcome: `reward` was observed after `action` in `context` (`n_features`
/// doubles; NULL allowed when 0), which the logging policy chose with `probability` (in
/// (0, 1]). An invalid argument (action out of range, non-finite reward or context) is an
/// error that leaves the bandit unchanged. A bandit loaded from a greedy policy learned from
/// logs (fitted Q iteration, offline IPS/DM/DR; model file kind 3) does not learn online:
/// `AMLIS_UNSUPPORTED`, with a message saying so.
///
/// # Safety
///
/// `b` must be NULL or a live bandit handle; `context` NULL or `n_features` readable doubles.
#[no_mangle]
pub unsafe extern "C" fn amlis_bandit_update(
    b: *mut AmlisBandit,
    context: *const f64,
    n_features: usize,
    action: usize,
    reward: f64,
    probability: f64,
) -> AmlisStatus {
    boundary::run("amlis_bandit_update", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above;
        // the state is changed only under the bandit's write lock.
        let (b, context) = unsafe {
            (
                arg_ref(b.cast_const(), "b")?,
                context_arg(context, n_features)?,
            )
        };
        b.bandit.update(context, action, reward, probability)?;
        Ok(())
    })
}

/// Learns from `n_rows` (at least 1) logged outcomes, in order, as `amlis_bandit_update` on
/// each row would: row `i` is the context `contexts[i * n_features .. (i + 1) * n_features]`
/// (row-major; NULL allowed when `n_features` is 0), the action `actions[i]`, the reward
/// `rewards[i]` and the probability `probabilities[i]` (in (0, 1]) the logging policy chose
/// it with. Every row is checked before the first is learned, so a bad row (action out of
/// range, non-finite context or reward, probability out of range) is an error naming it that
/// leaves the bandit unchanged. The first logs given to a bandit with `preprocess` steps also
/// fit the steps, on their contexts. Takes the write lock once for the whole batch. A greedy
/// policy learned from logs (model file kind 3) does not learn: `AMLIS_UNSUPPORTED`.
///
/// # Safety
///
/// `b` must be NULL or a live bandit handle; `contexts` NULL or `n_rows * n_features`
/// readable doubles; `actions` NULL or `n_rows` readable `size_t`s; `rewards` and
/// `probabilities` NULL or `n_rows` readable doubles each.
#[no_mangle]
pub unsafe extern "C" fn amlis_bandit_partial_fit(
    b: *mut AmlisBandit,
    contexts: *const f64,
    n_rows: usize,
    n_features: usize,
    actions: *const usize,
    rewards: *const f64,
    probabilities: *const f64,
) -> AmlisStatus {
    boundary::run("amlis_bandit_partial_fit", || {
        let n_values = checked_len::<f64>(n_rows, "n_rows", n_features, "n_features")?;
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above;
        // the state is changed only under the bandit's write lock.
        let (b, contexts, actions, rewards, probabilities) = unsafe {
            (
                arg_ref(b.cast_const(), "b")?,
                context_arg(contexts, n_values)?,
                arg_slice(actions, n_rows, "actions")?,
                arg_slice(rewards, n_rows, "rewards")?,
                arg_slice(probabilities, n_rows, "probabilities")?,
            )
        };
        if n_rows == 0 {
            return Err(Error::InvalidArgument(
                "argument `n_rows` is 0; expected at least 1 logged outcome".into(),
            )
            .into());
        }
        // The caller's arrays, borrowed for the call: checked in place, never copied.
        let logs = LoggedFeedback::borrowed(n_features, contexts, actions, rewards, probabilities)?;
        b.bandit.partial_fit(&logs)?;
        Ok(())
    })
}

/// Saves the bandit's config and whole learning state to `path`, atomically (a temporary
/// file, then a rename). JSON when `path` ends in `.json` (any case), binary otherwise; both load with
/// `amlis_bandit_load_file`. An unwritable file is `AMLIS_IO_ERROR` naming it.
///
/// # Safety
///
/// `b` must be NULL or a live bandit handle; `path` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn amlis_bandit_save_file(
    b: *const AmlisBandit,
    path: *const c_char,
) -> AmlisStatus {
    boundary::run("amlis_bandit_save_file", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (b, path) = unsafe { (arg_ref(b, "b")?, arg_str(path, "path")?) };
        b.bandit.save(path, encoding_for_path(path))?;
        Ok(())
    })
}

/// Loads a bandit file written by `amlis_bandit_save_file`; it resumes learning exactly
/// where the saved one stood. A greedy policy learned from logs in Rust (fitted Q iteration,
/// offline IPS/DM/DR: `GreedyPolicy::save_file`, model file kind 3) loads too: it decides
/// with `amlis_bandit_choose` (all the probability on its best allowed action, ties to the
/// lowest index) and saves back as kind 3, but `amlis_bandit_update` and
/// `amlis_bandit_partial_fit` on it are `AMLIS_UNSUPPORTED`. A truncated or corrupt file (or
/// a model file that is neither) is `AMLIS_MODEL_CORRUPT`, a newer format `AMLIS_MODEL_VERSION`, a missing file
/// `AMLIS_IO_ERROR`. On success `*out` receives a new handle; on failure it is not written.
///
/// # Safety
///
/// `path` must be NULL or a NUL-terminated string; `out` NULL or a valid pointer to writable
/// `AmlisBandit *` storage.
#[no_mangle]
pub unsafe extern "C" fn amlis_bandit_load_file(
    path: *const c_char,
    out: *mut *mut AmlisBandit,
) -> AmlisStatus {
    boundary::run("amlis_bandit_load_file", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (path, out) = unsafe { (arg_str(path, "path")?, Out::new(out, "out")?) };
        let bandit = Bandit::load(path)?;
        out.write(into_handle(AmlisBandit { bandit }));
        Ok(())
    })
}

/// Writes the bandit's file image (binary) into `buf`, with two-call sizing: `buf = NULL,
/// buf_len = 0` writes the size needed to `*out_len` and returns `AMLIS_OK`; a `buf_len`
/// too small writes the size needed and returns `AMLIS_BUFFER_TOO_SMALL`. (Updates between
/// the two calls may change the size.)
///
/// # Safety
///
/// `b` must be NULL or a live bandit handle; `buf` NULL or `buf_len` writable bytes;
/// `out_len` NULL or a valid pointer to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn amlis_bandit_save_buffer(
    b: *const AmlisBandit,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> AmlisStatus {
    boundary::run("amlis_bandit_save_buffer", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (b, out) = unsafe {
            (
                arg_ref(b, "b")?,
                OutBuffer::new(buf, buf_len, "buf", out_len, "out_len")?,
            )
        };
        out.fill(&b.bandit.to_bytes(Encoding::Binary)?)
    })
}

/// Loads a bandit (or a greedy policy learned from logs) from a file image in memory (`len`
/// bytes at `buf`), with the checks and errors of `amlis_bandit_load_file`. The bytes are not used after the call returns.
///
/// # Safety
///
/// `buf` must be NULL or point to `len` readable bytes; `out` NULL or a valid pointer to
/// writable `AmlisBandit *` storage.
#[no_mangle]
pub unsafe extern "C" fn amlis_bandit_load_buffer(
    buf: *const u8,
    len: usize,
    out: *mut *mut AmlisBandit,
) -> AmlisStatus {
    boundary::run("amlis_bandit_load_buffer", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (bytes, out) = unsafe { (arg_slice(buf, len, "buf")?, Out::new(out, "out")?) };
        let bandit = Bandit::from_bytes(bytes)?;
        out.write(into_handle(AmlisBandit { bandit }));
        Ok(())
    })
}

/// Frees a bandit. NULL does nothing.
///
/// # Safety
///
/// `b` must be NULL or a bandit handle that has not been freed; it must not be used
/// afterwards, nor be in use by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn amlis_bandit_free(b: *mut AmlisBandit) {
    boundary::run_void("amlis_bandit_free", || {
        // SAFETY: the caller guarantees `b` is NULL or an unfreed handle made by into_handle.
        unsafe { free_handle(b) }
    })
}
