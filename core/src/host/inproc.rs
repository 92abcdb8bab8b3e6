//! A plugin library loaded into this process and called through the SDK's C ABI. Only a
//! plugin's worker process does this (see [`super::worker`]); the host itself never maps a
//! plugin. Also the floor of the `plugin_call` benchmark.

use std::path::Path;
use tenor_plugin_sdk::abi::{self, Buffer, Descriptor};

/// A loaded plugin library whose ABI version matched. Never unloaded: dropping a Rust
/// library's code while its thread-locals live crashes.
pub struct Library {
    descriptor: &'static Descriptor,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library").finish_non_exhaustive()
    }
}

impl Library {
    /// Loads a library and checks its ABI version before calling anything else.
    pub fn open(path: &Path) -> Result<Library, String> {
        #[allow(
            unsafe_code,
            reason = "loading a plugin library runs its initialisers; only a worker process does it, with the bytes the host checked"
        )]
        // SAFETY: loading a library is inherently trusting it; this runs in the plugin's own
        // worker process, so what it does cannot take the host down.
        let lib = unsafe { libloading::Library::new(path) }
            .map_err(|e| format!("not a loadable library: {e}"))?;
        let lib: &'static libloading::Library = Box::leak(Box::new(lib));
        #[allow(unsafe_code, reason = "reading the ABI symbol of a plugin library")]
        // SAFETY: the symbol, if present, is `extern "C" fn() -> u32` by the SDK's definition.
        let version_fn = unsafe { lib.get::<extern "C" fn() -> u32>(abi::ABI_SYMBOL) }
            .map_err(|_| "has no `tenor_plugin_abi_version` symbol: not a Tenor plugin (was it built with export_plugin!?)".to_string())?;
        let version = version_fn();
        if version != abi::ABI_VERSION {
            return Err(format!(
                "was built for plugin ABI version {version}, this tenor speaks version {}; rebuild the plugin against the matching tenor-plugin-sdk",
                abi::ABI_VERSION
            ));
        }
        #[allow(unsafe_code, reason = "reading the entry symbol of a plugin library")]
        // SAFETY: the ABI version matched, so the symbol has the SDK's signature.
        let entry = unsafe { lib.get::<extern "C" fn() -> *const Descriptor>(abi::ENTRY_SYMBOL) }
            .map_err(|_| "has no `tenor_plugin_entry` symbol".to_string())?;
        let ptr = entry();
        if ptr.is_null() {
            return Err("its entry point failed (returned no descriptor)".to_string());
        }
        #[allow(
            unsafe_code,
            reason = "the descriptor is a static of the plugin library, which is never unloaded"
        )]
        // SAFETY: non-null, points at the library's static descriptor, valid for the process.
        let descriptor: &'static Descriptor = unsafe { &*ptr };
        if descriptor.abi_version != abi::ABI_VERSION {
            return Err(format!(
                "its descriptor says ABI version {}, this tenor speaks {}",
                descriptor.abi_version,
                abi::ABI_VERSION
            ));
        }
        if descriptor.info_json.is_null() {
            return Err("its descriptor has no information".to_string());
        }
        Ok(Library { descriptor })
    }

    /// The plugin's description, as the JSON bytes it gave.
    pub fn info_json(&self) -> Vec<u8> {
        #[allow(
            unsafe_code,
            reason = "reading the plugin's NUL-terminated info string"
        )]
        // SAFETY: checked non-null at load; a NUL-terminated static string of the library.
        let info = unsafe { std::ffi::CStr::from_ptr(self.descriptor.info_json) };
        info.to_bytes().to_vec()
    }

    /// Calls an operation on JSON input: the ABI status and the plugin's bytes, copied before
    /// its buffer is given back to it.
    pub fn call(&self, op: &str, input: &[u8]) -> (i32, Vec<u8>) {
        let mut out = Buffer::EMPTY;
        #[allow(unsafe_code, reason = "calling into the plugin through its C ABI")]
        // SAFETY: `op` and `input` are live byte slices of this frame and `out` a writable
        // slot, as the ABI requires; the descriptor comes from a library never unloaded.
        let status = unsafe {
            (self.descriptor.call)(op.as_ptr(), op.len(), input.as_ptr(), input.len(), &mut out)
        };
        let bytes = if out.ptr.is_null() {
            Vec::new()
        } else {
            #[allow(
                unsafe_code,
                reason = "copying the plugin's output buffer before giving it back"
            )]
            // SAFETY: the plugin filled `out` with `len` initialised bytes, valid until passed
            // to its `free_buffer`, which happens right after this copy.
            let slice = unsafe { std::slice::from_raw_parts(out.ptr, out.len) };
            slice.to_vec()
        };
        (self.descriptor.free_buffer)(out);
        (status, bytes)
    }
}
