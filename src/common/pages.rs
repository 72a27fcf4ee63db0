//! Large working buffers backed by transparent huge pages where the kernel allows it.
//!
//! A fresh buffer of tens of megabytes (a centred copy of the training rows, a neighbour
//! index) costs more in first-touch page faults than in the pass that fills it: 4 KB at a
//! time, 20,000 faults for 80 MB. [`zeroed`] asks the kernel (`madvise(MADV_HUGEPAGE)`, as
//! numpy does for every array from 4 MB) to back such a buffer with 2 MB pages, so the same
//! pass takes 40 faults. It is advice only: the contents are the same zeroed values, the
//! results never depend on it, and where the kernel declines (transparent huge pages off,
//! another OS) nothing changes.

/// Buffers from this many bytes are advised (numpy's threshold).
const ADVISE_FROM: usize = 4 << 20;

/// The size of a transparent huge page on x86-64 and aarch64 Linux.
#[cfg(target_os = "linux")]
const HUGE_PAGE: usize = 2 << 20;

/// `len` default values (zeros for the numeric types, which the allocator hands out
/// untouched), advised for huge pages when the buffer is large (see the module doc).
/// Write them first from the threads that will use them.
pub(crate) fn zeroed<T: Copy + Default>(len: usize) -> Vec<T> {
    let v = vec![T::default(); len];
    advise_huge(v.as_ptr(), len);
    v
}

/// An empty vector with room for `len` values, advised for huge pages when the room is
/// large (see the module doc): for a pass that writes every value through
/// `spare_capacity_mut()` (from the threads that will use them) and then sets the length,
/// without first zeroing memory it is about to overwrite (which the allocator does serially
/// for reused heap memory).
pub(crate) fn with_room<T>(len: usize) -> Vec<T> {
    let v = Vec::with_capacity(len);
    advise_huge(v.as_ptr(), len);
    v
}

/// Advises the kernel to back the whole 2 MB pages inside the `len` values of type `T` from
/// `ptr` (an allocation of this process) with huge pages.
fn advise_huge<T>(ptr: *const T, len: usize) {
    let bytes = len.saturating_mul(std::mem::size_of::<T>());
    if bytes < ADVISE_FROM {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let start = ptr as usize;
        let first = start.next_multiple_of(HUGE_PAGE);
        let end = (start + bytes) / HUGE_PAGE * HUGE_PAGE;
        if end > first {
            // SAFETY: `[first, end)` lies inside the allocation of the `len` values from
            // `ptr` (their bounds rounded inward to whole huge pages), which this process
            // owns. `MADV_HUGEPAGE` only changes how the kernel may back those pages: it
            // never changes their contents, their validity or any other mapping, and a
            // refusal (e.g. EINVAL when transparent huge pages are off) leaves everything as
            // it was, so the result is ignored.
            unsafe {
                libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_buffers_are_zero_small_and_large() {
        for len in [0, 1, 1000, (ADVISE_FROM / 8) + 12_345] {
            let v: Vec<f64> = zeroed(len);
            assert_eq!(v.len(), len);
            assert!(v.iter().all(|x| x.to_bits() == 0));
        }
        let v: Vec<usize> = zeroed(ADVISE_FROM);
        assert!(v.iter().all(|&x| x == 0));
    }

    #[test]
    fn buffers_with_room_are_empty_with_the_room_asked() {
        for len in [0, 1, 1000, (ADVISE_FROM / 8) + 12_345] {
            let v: Vec<f64> = with_room(len);
            assert!(v.is_empty());
            assert!(v.capacity() >= len);
        }
    }
}
