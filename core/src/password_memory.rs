//! Argon2 working memory mapped straight from the kernel and unmapped after each use.
//!
//! Through the global allocator, the 19 MiB each verification needs stayed in the
//! allocator's per-thread caches of the blocking threads that ran it: a server that had
//! verified a few logins kept tens of MiB it no longer used. A private anonymous mapping is
//! returned to the system the moment the verification ends.

use std::mem::size_of;
use std::ptr::NonNull;

use argon2::Block;

/// `len` zeroed argon2 blocks in their own mapping.
pub(crate) struct MappedBlocks {
    ptr: NonNull<Block>,
    len: usize,
}

impl MappedBlocks {
    /// None when `len` is 0 or the system refuses the mapping (the caller then falls back
    /// to the allocator).
    pub(crate) fn new(len: usize) -> Option<MappedBlocks> {
        let bytes = len.checked_mul(size_of::<Block>()).filter(|b| *b > 0)?;
        // SAFETY: an anonymous private mapping touches no existing memory; the result is
        // checked against MAP_FAILED before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        NonNull::new(ptr.cast::<Block>()).map(|ptr| MappedBlocks { ptr, len })
    }
}

impl AsMut<[Block]> for MappedBlocks {
    fn as_mut(&mut self) -> &mut [Block] {
        // SAFETY: the mapping is page-aligned (more than Block's 64-byte alignment), holds
        // exactly `len` blocks, is zero-filled (all-zero words are a valid Block) and is owned
        // by `self` alone for as long as the borrow lasts.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for MappedBlocks {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; no borrow outlives `self`.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len * size_of::<Block>());
        }
    }
}
