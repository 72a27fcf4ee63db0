//! The thread-local last-error message behind `amlis_last_error_message()`.
//!
//! Every fallible export sets it: to the failure's message when it fails, to "no message" when
//! it succeeds. So after any call the message describes that call, and messages of different
//! threads never mix.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// The empty C string returned when there is no message.
const EMPTY: &[u8; 1] = b"\0";

/// Records `message` as this thread's last error (interior NUL bytes are shown as `\0`).
pub(crate) fn set_last_error(message: &str) {
    let text = if message.contains('\0') {
        message.replace('\0', "\\0")
    } else {
        message.to_string()
    };
    let c = CString::new(text).unwrap_or_default();
    // `try_with` fails only while this thread's locals are being destroyed; there is no one
    // left to read the message then.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = Some(c));
}

/// Clears this thread's last error (after a successful call). Does not allocate.
pub(crate) fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            if slot.is_some() {
                *slot = None;
            }
        }
    });
}

/// This thread's last error message, or `None` when the last call succeeded.
pub fn last_error() -> Option<String> {
    LAST_ERROR
        .try_with(|slot| {
            slot.borrow()
                .as_ref()
                .map(|c| c.to_string_lossy().into_owned())
        })
        .ok()
        .flatten()
}

/// This thread's last error message as a NUL-terminated string.
///
/// Returns an empty string (never NULL) when the last amlis call on this thread succeeded or
/// no call has failed yet. The pointer stays valid until the next amlis call on this thread
/// (or the thread's exit); copy the text to keep it. The function itself never fails and does
/// not change the message.
///
/// # Safety
///
/// None to uphold when calling; the caller must not write through, free, or use the returned
/// pointer after the next amlis call on the same thread.
#[no_mangle]
pub unsafe extern "C" fn amlis_last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| match slot.try_borrow() {
            Ok(slot) => slot.as_ref().map(|c| c.as_ptr()),
            Err(_) => None,
        })
        .ok()
        .flatten()
        .unwrap_or(EMPTY.as_ptr().cast())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn read() -> String {
        // SAFETY: the pointer is valid until the next amlis call on this thread, and we copy
        // the text before making one.
        unsafe { CStr::from_ptr(amlis_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn empty_when_none_then_set_then_cleared() {
        clear_last_error();
        assert_eq!(read(), "");
        set_last_error("bad `x`");
        assert_eq!(read(), "bad `x`");
        assert_eq!(last_error().as_deref(), Some("bad `x`"));
        set_last_error("a\0b");
        assert_eq!(read(), "a\\0b");
        clear_last_error();
        assert_eq!(read(), "");
        assert_eq!(last_error(), None);
    }

    #[test]
    fn messages_are_per_thread() {
        set_last_error("main");
        std::thread::spawn(|| {
            assert_eq!(read(), "");
            set_last_error("other");
            assert_eq!(read(), "other");
        })
        .join()
        .unwrap();
        assert_eq!(read(), "main");
    }
}
