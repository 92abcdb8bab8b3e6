//! A plugin built for another ABI version: the host must refuse it before calling anything else.

#![allow(unsafe_code, reason = "this fault plugin writes its C exports by hand")]

/// A version this host does not speak.
#[unsafe(no_mangle)]
pub extern "C" fn tenor_plugin_abi_version() -> u32 {
    999
}

/// Must never be called: reaching it would mean the host ignored the version.
#[allow(
    clippy::panic,
    reason = "proves the host never calls past a version mismatch"
)]
#[unsafe(no_mangle)]
pub extern "C" fn tenor_plugin_entry() -> *const u8 {
    std::process::abort()
}

/// Keeps the SDK linked like a real plugin.
pub fn sdk_abi() -> u32 {
    tenor_plugin_sdk::abi::ABI_VERSION
}
