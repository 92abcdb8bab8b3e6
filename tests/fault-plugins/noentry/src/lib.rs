//! A plugin with the right ABI version but no entry point.

#![allow(unsafe_code, reason = "this fault plugin writes its C exports by hand")]

/// The right version, and nothing else.
#[unsafe(no_mangle)]
pub extern "C" fn tenor_plugin_abi_version() -> u32 {
    tenor_plugin_sdk::abi::ABI_VERSION
}
