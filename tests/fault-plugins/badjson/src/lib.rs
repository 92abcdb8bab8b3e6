//! A plugin that answers every call with "success" and bytes that are not JSON.

#![allow(unsafe_code, reason = "this fault plugin writes its C exports by hand")]

use std::ffi::c_char;
use tenor_plugin_sdk::abi::{self, Buffer, Descriptor};

static INFO: &[u8] = b"{\"name\":\"fault-badjson\",\"version\":\"0.0.0\",\"kind\":\"distributor\",\"capabilities\":[\"render_purchase_order\"],\"protocol\":1,\"distributor\":\"tdsynnex\"}\0";

unsafe extern "C" fn call(
    _op: *const u8,
    _op_len: usize,
    _input: *const u8,
    _input_len: usize,
    out: *mut Buffer,
) -> i32 {
    if !out.is_null() {
        // SAFETY: the host passes a writable slot for the result.
        unsafe { out.write(Buffer::from_vec(b"this is { not json".to_vec())) };
    }
    abi::STATUS_OK
}

static DESCRIPTOR: Descriptor = Descriptor {
    abi_version: abi::ABI_VERSION,
    info_json: INFO.as_ptr() as *const c_char,
    call,
    free_buffer: abi::free_buffer,
};

/// The right ABI version.
#[unsafe(no_mangle)]
pub extern "C" fn tenor_plugin_abi_version() -> u32 {
    abi::ABI_VERSION
}

/// The descriptor.
#[unsafe(no_mangle)]
pub extern "C" fn tenor_plugin_entry() -> *const Descriptor {
    &DESCRIPTOR
}
