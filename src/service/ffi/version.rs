//! Library and ABI versions.

use std::ffi::c_char;

/// The version of the C ABI described by `include/amlis.h`. It changes only when an existing
/// function's signature or meaning changes (new functions do not change it). Compare
/// `amlis_abi_version()` with the header's `AMLIS_ABI_VERSION` at start-up to detect a program
/// built against a different header than the library it loaded.
pub const AMLIS_ABI_VERSION: u32 = 1;

/// The crate version with a terminating NUL, for C.
static VERSION_NUL: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The ABI version of the loaded library; equals `AMLIS_ABI_VERSION` of the header it was
/// built with.
///
/// # Safety
///
/// None: this function takes no arguments, cannot fail and does not touch the last error.
#[no_mangle]
pub unsafe extern "C" fn amlis_abi_version() -> u32 {
    AMLIS_ABI_VERSION
}

/// The library version (e.g. `"0.1.0"`) as a static NUL-terminated string.
///
/// # Safety
///
/// None when calling; the returned pointer is valid for the life of the program and must not
/// be written through or freed.
#[no_mangle]
pub unsafe extern "C" fn amlis_version() -> *const c_char {
    VERSION_NUL.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn versions() {
        // SAFETY: no preconditions; the pointer is a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(amlis_version()) };
        assert_eq!(v.to_str().unwrap(), crate::VERSION);
        // SAFETY: no preconditions.
        assert_eq!(unsafe { amlis_abi_version() }, 1);
    }
}
