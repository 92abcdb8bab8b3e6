//! The stable C ABI between the `tenor` host and a plugin library.
//!
//! The rules that keep Rust plugins from crashing their host:
//! - only C types cross the boundary: pointers, lengths, integers, and byte buffers of JSON;
//! - the host reads [`ABI_SYMBOL`] first and refuses any other version before calling anything;
//! - whoever allocates frees: a buffer a plugin returns is freed by the plugin's own
//!   [`Descriptor::free_buffer`]; input buffers stay the host's;
//! - every exported function catches panics and reports them as an error status;
//! - libraries are never unloaded.
//!
//! A plugin author does not use this module: [`crate::export_plugin!`] generates it all.

use std::ffi::c_char;

/// Version of this ABI. Bumped whenever a type or function of this module changes shape.
pub const ABI_VERSION: u32 = 1;

/// True when a host built with this SDK speaks a plugin's payload protocol: from
/// [`crate::PROTOCOL_MIN`] to [`crate::PROTOCOL_VERSION`]. Newer payloads only add optional
/// fields, which older plugins ignore; a plugin newer than the host may rely on fields the
/// host never sends, so it is refused.
pub fn protocol_supported(protocol: u32) -> bool {
    (crate::PROTOCOL_MIN..=crate::PROTOCOL_VERSION).contains(&protocol)
}

/// Symbol of `extern "C" fn() -> u32`, returning the plugin's [`ABI_VERSION`].
pub const ABI_SYMBOL: &[u8] = b"tenor_plugin_abi_version\0";

/// Symbol of `extern "C" fn() -> *const Descriptor`.
pub const ENTRY_SYMBOL: &[u8] = b"tenor_plugin_entry\0";

/// The call succeeded; the output buffer holds JSON.
pub const STATUS_OK: i32 = 0;
/// The plugin reported an error; the output buffer holds a UTF-8 message.
pub const STATUS_ERROR: i32 = 1;
/// The plugin panicked; the output buffer holds the panic message.
pub const STATUS_PANIC: i32 = 2;
/// The plugin does not offer the operation.
pub const STATUS_UNSUPPORTED: i32 = 3;

/// Bytes allocated by the plugin and handed to the host, which must give them back to
/// [`Descriptor::free_buffer`].
#[repr(C)]
#[derive(Debug)]
pub struct Buffer {
    /// Start of the bytes (null for an empty buffer).
    pub ptr: *mut u8,
    /// Bytes in use.
    pub len: usize,
    /// Bytes allocated.
    pub cap: usize,
}

impl Buffer {
    /// An empty buffer that owns nothing.
    pub const EMPTY: Buffer = Buffer {
        ptr: std::ptr::null_mut(),
        len: 0,
        cap: 0,
    };

    /// Hands a vector's allocation over the boundary.
    pub fn from_vec(v: Vec<u8>) -> Buffer {
        let mut v = std::mem::ManuallyDrop::new(v);
        Buffer {
            ptr: v.as_mut_ptr(),
            len: v.len(),
            cap: v.capacity(),
        }
    }
}

/// What a plugin says about itself, and its two functions.
#[repr(C)]
pub struct Descriptor {
    /// Must equal [`ABI_VERSION`].
    pub abi_version: u32,
    /// NUL-terminated UTF-8 JSON of [`crate::PluginInfo`].
    pub info_json: *const c_char,
    /// Runs operation `op` (UTF-8 name) on `input` (JSON); writes the result to `out` and
    /// returns a status.
    pub call: unsafe extern "C" fn(
        op: *const u8,
        op_len: usize,
        input: *const u8,
        input_len: usize,
        out: *mut Buffer,
    ) -> i32,
    /// Frees a buffer this plugin returned.
    pub free_buffer: extern "C" fn(buf: Buffer),
}

// The descriptor is immutable static data: sharing it between threads is safe.
#[allow(
    unsafe_code,
    reason = "a Descriptor holds only pointers to immutable statics and fn pointers"
)]
unsafe impl Sync for Descriptor {}

// Moving the descriptor moves pointers to immutable statics only.
#[allow(
    unsafe_code,
    reason = "a Descriptor holds only pointers to immutable statics and fn pointers"
)]
unsafe impl Send for Descriptor {}

/// Frees a buffer made by [`Buffer::from_vec`] in this same library.
pub extern "C" fn free_buffer(buf: Buffer) {
    if buf.ptr.is_null() {
        return;
    }
    #[allow(
        unsafe_code,
        reason = "the buffer was made by Buffer::from_vec in this library and is returned once"
    )]
    // SAFETY: ptr/len/cap come from a Vec<u8> leaked by `Buffer::from_vec` in this library;
    // the host hands each buffer back exactly once.
    unsafe {
        drop(Vec::from_raw_parts(buf.ptr, buf.len, buf.cap));
    }
}

/// Reads a host-owned byte range; null or empty gives an empty slice.
///
/// # Safety
/// `ptr` must point to `len` readable bytes that outlive the returned slice.
#[allow(unsafe_code, reason = "the ABI passes input as pointer and length")]
pub unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_protocol_range_is_min_to_current() {
        assert!(!super::protocol_supported(0));
        assert!(super::protocol_supported(crate::PROTOCOL_MIN));
        assert!(super::protocol_supported(crate::PROTOCOL_VERSION));
        assert!(!super::protocol_supported(crate::PROTOCOL_VERSION + 1));
    }
}
