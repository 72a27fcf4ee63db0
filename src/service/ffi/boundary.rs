//! The boundary every export runs through, and the helpers that turn raw C arguments into safe
//! Rust values.
//!
//! An export is written as
//!
//! ```ignore
//! #[no_mangle]
//! pub unsafe extern "C" fn amlis_thing(h: *const AmlisThing, out: *mut usize) -> AmlisStatus {
//!     boundary::run("amlis_thing", || {
//!         // SAFETY: the caller guarantees `h` is NULL or a live handle, `out` NULL or writable.
//!         let (h, out) = unsafe { (arg_ref(h, "h")?, Out::new(out, "out")?) };
//!         let value = h.compute()?; // a crate::Error becomes its AmlisStatus
//!         out.write(value);         // outputs are written last, only on success
//!         Ok(())
//!     })
//! }
//! ```
//!
//! [`run`] catches panics (`AMLIS_PANIC`), converts the body's error into its status, and sets
//! this thread's last-error message, prefixed with the function name; on success it clears it.

use std::ffi::{c_char, CStr};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use crate::error::Error;
use crate::service::ffi::error::{clear_last_error, set_last_error};
use crate::service::ffi::status::AmlisStatus;

/// A failure at the C boundary: the status to return and the message to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FfiError {
    /// The status the export returns.
    pub status: AmlisStatus,
    /// What was wrong (without the function name; [`run`] adds it).
    pub message: String,
}

/// The result type of export bodies.
pub(crate) type FfiResult<T> = Result<T, FfiError>;

impl FfiError {
    /// A failure with an explicit status.
    pub fn new(status: AmlisStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// `AMLIS_NULL_ARGUMENT`: "argument `name` is NULL".
    pub fn null_argument(name: &str) -> Self {
        Self::new(
            AmlisStatus::AMLIS_NULL_ARGUMENT,
            format!("argument `{name}` is NULL"),
        )
    }

    /// `AMLIS_INVALID_ARGUMENT` with a message.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(AmlisStatus::AMLIS_INVALID_ARGUMENT, message)
    }
}

impl From<Error> for FfiError {
    fn from(error: Error) -> Self {
        Self::new(AmlisStatus::of(&error), error.to_string())
    }
}

/// Runs the body of a fallible export.
///
/// Returns `AMLIS_OK` and clears this thread's last error when the body succeeds; otherwise
/// records `"<function>: <message>"` and returns the error's status. A panic in the body is
/// caught and becomes `AMLIS_PANIC` with the panic message.
pub(crate) fn run(function: &'static str, body: impl FnOnce() -> FfiResult<()>) -> AmlisStatus {
    // AssertUnwindSafe: after a panic the body's state is dropped, and the only state that
    // outlives it (handles) is never mutated by a body that can panic halfway through.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            clear_last_error();
            AmlisStatus::AMLIS_OK
        }
        Ok(Err(e)) => {
            set_last_error(&format!("{function}: {}", e.message));
            e.status
        }
        Err(payload) => {
            record_panic(function, payload.as_ref());
            AmlisStatus::AMLIS_PANIC
        }
    }
}

/// Runs the body of an export that returns nothing (the `*_free` functions): a panic is
/// caught and its message recorded; otherwise the last error is left as it was.
pub(crate) fn run_void(function: &'static str, body: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        record_panic(function, payload.as_ref());
    }
}

fn record_panic(function: &str, payload: &(dyn std::any::Any + Send)) {
    let what = if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "(no message)"
    };
    set_last_error(&format!(
        "{function}: internal error (a panic, which is a bug in amlis; please report it): {what}"
    ));
}

/// Fails with `AMLIS_NULL_ARGUMENT` naming `name` when `ptr` is NULL.
pub(crate) fn non_null<T>(ptr: *const T, name: &str) -> FfiResult<NonNull<T>> {
    NonNull::new(ptr.cast_mut()).ok_or_else(|| FfiError::null_argument(name))
}

/// Borrows the object behind a non-NULL pointer (a handle or an input struct).
///
/// # Safety
///
/// `ptr` is NULL or points to a live, properly aligned `T` that nobody mutates for `'a`.
pub(crate) unsafe fn arg_ref<'a, T>(ptr: *const T, name: &str) -> FfiResult<&'a T> {
    let p = non_null(ptr, name)?;
    // SAFETY: non-NULL, and the caller guarantees it is live, aligned and not mutated for 'a.
    Ok(unsafe { p.as_ref() })
}

/// Borrows mutably the object behind a non-NULL pointer (a per-thread handle).
///
/// # Safety
///
/// `ptr` is NULL or points to a live, properly aligned `T` that nothing else accesses for `'a`.
pub(crate) unsafe fn arg_mut<'a, T>(ptr: *mut T, name: &str) -> FfiResult<&'a mut T> {
    let mut p = non_null(ptr, name)?;
    // SAFETY: non-NULL, and the caller guarantees exclusive access to a live, aligned T for 'a.
    Ok(unsafe { p.as_mut() })
}

/// Reads a NUL-terminated UTF-8 string argument. NULL is `AMLIS_NULL_ARGUMENT`; invalid UTF-8
/// is `AMLIS_INVALID_ARGUMENT` naming the argument and the byte offset.
///
/// # Safety
///
/// `ptr` is NULL or points to a NUL-terminated string that stays unchanged for `'a`.
pub(crate) unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> FfiResult<&'a str> {
    let p = non_null(ptr, name)?;
    // SAFETY: non-NULL, and the caller guarantees a NUL-terminated string live for 'a.
    let c = unsafe { CStr::from_ptr(p.as_ptr()) };
    c.to_str().map_err(|e| {
        FfiError::invalid(format!(
            "argument `{name}` is not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// Like [`arg_str`], but NULL means "not given" (`None`).
///
/// # Safety
///
/// As for [`arg_str`].
pub(crate) unsafe fn arg_opt_str<'a>(ptr: *const c_char, name: &str) -> FfiResult<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded from the caller.
    unsafe { arg_str(ptr, name) }.map(Some)
}

/// `a * b` as an element count of `T`s, checked: the product and its size in bytes must fit
/// (`<= isize::MAX` bytes, as Rust slices require), else `AMLIS_INVALID_ARGUMENT` naming both
/// arguments.
pub(crate) fn checked_len<T>(a: usize, a_name: &str, b: usize, b_name: &str) -> FfiResult<usize> {
    a.checked_mul(b)
        .filter(|&n| fits_in_memory::<T>(n))
        .ok_or_else(|| {
            FfiError::invalid(format!(
                "`{a_name}` * `{b_name}` = {a} * {b} overflows: the buffer cannot exist"
            ))
        })
}

fn fits_in_memory<T>(len: usize) -> bool {
    len.checked_mul(std::mem::size_of::<T>())
        .is_some_and(|bytes| bytes <= isize::MAX as usize)
}

/// Checks a caller buffer pointer: non-NULL, aligned for `T`, length representable.
fn check_buffer<T>(ptr: *const T, len: usize, name: &str) -> FfiResult<()> {
    let p = non_null(ptr, name)?;
    if (p.as_ptr() as usize) % std::mem::align_of::<T>() != 0 {
        return Err(FfiError::invalid(format!(
            "argument `{name}` is not aligned to {} bytes",
            std::mem::align_of::<T>()
        )));
    }
    if !fits_in_memory::<T>(len) {
        return Err(FfiError::invalid(format!(
            "length {len} of argument `{name}` is too large to be a buffer"
        )));
    }
    Ok(())
}

/// Borrows a caller array of `len` elements. NULL is an error even when `len` is 0.
///
/// # Safety
///
/// `ptr` is NULL or points to `len` initialized `T`s that stay unchanged for `'a`.
pub(crate) unsafe fn arg_slice<'a, T>(ptr: *const T, len: usize, name: &str) -> FfiResult<&'a [T]> {
    check_buffer(ptr, len, name)?;
    // SAFETY: non-NULL and aligned (checked), `len * size_of::<T>() <= isize::MAX` (checked),
    // and the caller guarantees `len` initialized elements unchanged for 'a.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows a caller output array of `len` elements. NULL is an error even when `len` is 0.
///
/// # Safety
///
/// `ptr` is NULL or points to `len` writable `T`s that nothing else accesses for `'a`.
pub(crate) unsafe fn arg_slice_mut<'a, T>(
    ptr: *mut T,
    len: usize,
    name: &str,
) -> FfiResult<&'a mut [T]> {
    check_buffer(ptr, len, name)?;
    // SAFETY: non-NULL and aligned (checked), size fits (checked), and the caller guarantees
    // `len` writable elements (C buffers of plain numbers are always initialized for T = f64,
    // u8, c_char) with exclusive access for 'a.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// An out-parameter, checked non-NULL up front and written once, at the end, on success.
pub(crate) struct Out<'a, T> {
    ptr: NonNull<T>,
    _borrow: PhantomData<&'a mut T>,
}

impl<'a, T> Out<'a, T> {
    /// Checks an out-pointer; NULL is `AMLIS_NULL_ARGUMENT` naming it.
    ///
    /// # Safety
    ///
    /// `ptr` is NULL or points to writable memory for one `T`, properly aligned, for `'a`.
    pub unsafe fn new(ptr: *mut T, name: &str) -> FfiResult<Self> {
        Ok(Self {
            ptr: non_null(ptr, name)?,
            _borrow: PhantomData,
        })
    }

    /// Writes the value (without reading or dropping what was there: the memory may be
    /// uninitialized).
    pub fn write(self, value: T) {
        // SAFETY: `new`'s contract: non-NULL, aligned, writable for 'a.
        unsafe { self.ptr.as_ptr().write(value) }
    }
}

/// A caller buffer with two-call sizing: `buf` of `buf_len` elements and `*out_len`.
///
/// - `buf == NULL && buf_len == 0`: only `*out_len = needed`, `AMLIS_OK`;
/// - `buf_len < needed`: `*out_len = needed`, `AMLIS_BUFFER_TOO_SMALL`, `buf` untouched;
/// - otherwise the data is copied, `*out_len = needed`, `AMLIS_OK`.
///
/// For strings `needed` counts the terminating NUL.
pub(crate) struct OutBuffer<'a, T> {
    buf: *mut T,
    buf_len: usize,
    buf_name: &'static str,
    out_len: Out<'a, usize>,
}

impl<'a, T: Copy> OutBuffer<'a, T> {
    /// Checks the arguments: `out_len` non-NULL; `buf` non-NULL and aligned unless
    /// `buf_len == 0` (the size query).
    ///
    /// # Safety
    ///
    /// `buf` is NULL or points to `buf_len` writable `T`s, and `out_len` is NULL or points to a
    /// writable `size_t`, both exclusively the caller's for `'a`.
    pub unsafe fn new(
        buf: *mut T,
        buf_len: usize,
        buf_name: &'static str,
        out_len: *mut usize,
        out_len_name: &str,
    ) -> FfiResult<Self> {
        // SAFETY: forwarded from the caller.
        let out_len = unsafe { Out::new(out_len, out_len_name) }?;
        if !(buf.is_null() && buf_len == 0) {
            check_buffer(buf, buf_len, buf_name)?;
        }
        Ok(Self {
            buf,
            buf_len,
            buf_name,
            out_len,
        })
    }

    /// Writes `data` under the two-call sizing rules.
    pub fn fill(self, data: &[T]) -> FfiResult<()> {
        self.fill_with(data.len(), |dst| dst.copy_from_slice(data))
    }

    /// Writes `needed` elements produced by `write` under the two-call sizing rules;
    /// `write` receives exactly `needed` elements.
    pub fn fill_with(self, needed: usize, write: impl FnOnce(&mut [T])) -> FfiResult<()> {
        if self.buf.is_null() && self.buf_len == 0 {
            self.out_len.write(needed);
            return Ok(());
        }
        if self.buf_len < needed {
            let (got, name) = (self.buf_len, self.buf_name);
            self.out_len.write(needed);
            return Err(FfiError::new(
                AmlisStatus::AMLIS_BUFFER_TOO_SMALL,
                format!("`{name}` holds {got} elements, {needed} are needed (written to the size out-parameter)"),
            ));
        }
        // SAFETY: `new` checked `buf` non-NULL, aligned and of a representable size, and the
        // caller guarantees `buf_len >= needed` writable elements, exclusively ours.
        let dst = unsafe { std::slice::from_raw_parts_mut(self.buf, needed) };
        write(dst);
        self.out_len.write(needed);
        Ok(())
    }
}

#[allow(dead_code)] // used by the JSON-report exports
impl OutBuffer<'_, c_char> {
    /// Writes `text` and a terminating NUL (`needed = text.len() + 1`) under the two-call
    /// sizing rules.
    pub fn fill_str(self, text: &str) -> FfiResult<()> {
        let bytes = text.as_bytes();
        self.fill_with(bytes.len() + 1, |dst| {
            for (d, &b) in dst
                .iter_mut()
                .zip(bytes.iter().chain(std::iter::once(&0u8)))
            {
                *d = b as c_char;
            }
        })
    }
}

/// Moves a value into a new handle for C (`Box::into_raw`); free it with [`free_handle`].
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Frees a handle made by [`into_handle`]; NULL does nothing.
///
/// # Safety
///
/// `ptr` is NULL or came from [`into_handle::<T>`] and has not been freed; nothing uses it
/// afterwards.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: the caller guarantees it came from Box::into_raw and is freed only once.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::ffi::error::last_error;

    #[test]
    fn run_maps_errors_and_messages() {
        let status = run("amlis_test", || Err(Error::shape("y", 3, 4).into()));
        assert_eq!(status, AmlisStatus::AMLIS_SHAPE_MISMATCH);
        let msg = last_error().unwrap();
        assert!(msg.starts_with("amlis_test: shape mismatch in y"), "{msg}");
        assert_eq!(run("amlis_test", || Ok(())), AmlisStatus::AMLIS_OK);
        assert_eq!(last_error(), None);
    }

    #[test]
    fn run_catches_panics() {
        let status = run("amlis_test", || -> FfiResult<()> {
            let v: Vec<u8> = Vec::new();
            let i = v.len() + 3;
            if i > 2 {
                panic!("boom at {i}");
            }
            Ok(())
        });
        assert_eq!(status, AmlisStatus::AMLIS_PANIC);
        let msg = last_error().unwrap();
        assert!(msg.starts_with("amlis_test: internal error"), "{msg}");
        assert!(msg.ends_with("boom at 3"), "{msg}");
        run_void("amlis_free", || panic!("static"));
        assert!(last_error().unwrap().ends_with(": static"));
    }

    #[test]
    fn null_and_utf8_arguments_are_named() {
        let e = non_null(std::ptr::null::<f64>(), "n_rows").unwrap_err();
        assert_eq!(e.status, AmlisStatus::AMLIS_NULL_ARGUMENT);
        assert_eq!(e.message, "argument `n_rows` is NULL");
        let bad = [b'a', 0xff, 0];
        // SAFETY: a NUL-terminated local array.
        let e = unsafe { arg_str(bad.as_ptr().cast(), "path") }.unwrap_err();
        assert_eq!(e.status, AmlisStatus::AMLIS_INVALID_ARGUMENT);
        assert!(
            e.message.contains("`path` is not valid UTF-8"),
            "{}",
            e.message
        );
        assert!(e.message.contains("offset 1"), "{}", e.message);
        // SAFETY: NULL is allowed.
        assert_eq!(unsafe { arg_opt_str(std::ptr::null(), "o") }.unwrap(), None);
    }

    #[test]
    fn checked_len_rejects_overflow_and_huge_buffers() {
        assert_eq!(checked_len::<f64>(3, "n_rows", 4, "n_cols").unwrap(), 12);
        let e = checked_len::<f64>(usize::MAX / 2, "n_rows", 3, "n_cols").unwrap_err();
        assert_eq!(e.status, AmlisStatus::AMLIS_INVALID_ARGUMENT);
        assert!(e.message.contains("`n_rows` * `n_cols`"), "{}", e.message);
        // Fits in usize, but not in isize::MAX bytes of f64.
        assert!(checked_len::<f64>(usize::MAX / 8, "a", 2, "b").is_err());
    }

    #[test]
    fn out_buffer_two_call_sizing() {
        let mut out_len = 99usize;
        // Size query.
        // SAFETY: NULL buffer of length 0, valid out_len.
        let b = unsafe {
            OutBuffer::<c_char>::new(std::ptr::null_mut(), 0, "buf", &mut out_len, "out_len")
        }
        .unwrap();
        b.fill_str("abc").unwrap();
        assert_eq!(out_len, 4);
        // Too small: size reported, buffer untouched.
        let mut buf = [7 as c_char; 3];
        // SAFETY: a local buffer of 3 elements.
        let b =
            unsafe { OutBuffer::new(buf.as_mut_ptr(), 3, "buf", &mut out_len, "out_len") }.unwrap();
        let e = b.fill_str("abcd").unwrap_err();
        assert_eq!(e.status, AmlisStatus::AMLIS_BUFFER_TOO_SMALL);
        assert_eq!(out_len, 5);
        assert_eq!(buf, [7; 3]);
        // Large enough.
        let mut buf = [7 as c_char; 6];
        // SAFETY: a local buffer of 6 elements.
        let b =
            unsafe { OutBuffer::new(buf.as_mut_ptr(), 6, "buf", &mut out_len, "out_len") }.unwrap();
        b.fill_str("abcd").unwrap();
        assert_eq!(out_len, 5);
        assert_eq!(&buf[..5], &[97, 98, 99, 100, 0].map(|b| b as c_char));
        assert_eq!(buf[5], 7);
        // NULL buffer with a length is a NULL argument; NULL out_len too.
        // SAFETY: nothing is dereferenced on these error paths.
        let e = unsafe {
            OutBuffer::<u8>::new(std::ptr::null_mut(), 4, "buf", &mut out_len, "out_len")
        };
        assert_eq!(e.err().unwrap().status, AmlisStatus::AMLIS_NULL_ARGUMENT);
        // SAFETY: as above.
        let e = unsafe {
            OutBuffer::<u8>::new(
                std::ptr::null_mut(),
                0,
                "buf",
                std::ptr::null_mut(),
                "out_len",
            )
        };
        assert_eq!(e.err().unwrap().message, "argument `out_len` is NULL");
    }

    #[test]
    fn slices_check_null_and_alignment() {
        let v = [1.0f64, 2.0];
        // SAFETY: a live local array of 2.
        assert_eq!(unsafe { arg_slice(v.as_ptr(), 2, "x") }.unwrap(), &v);
        // SAFETY: rejected before any dereference.
        let e = unsafe { arg_slice(std::ptr::null::<f64>(), 0, "x") }.unwrap_err();
        assert_eq!(e.status, AmlisStatus::AMLIS_NULL_ARGUMENT);
        let misaligned = (v.as_ptr() as usize + 1) as *const f64;
        // SAFETY: rejected before any dereference.
        let e = unsafe { arg_slice(misaligned, 1, "x") }.unwrap_err();
        assert!(e.message.contains("not aligned"), "{}", e.message);
    }
}
