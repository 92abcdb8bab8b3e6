//! The plugin host: finds plugin libraries, checks them, loads them with libloading and calls
//! them through the SDK's C ABI. A plugin that fails (won't load, wrong ABI, panics, returns
//! bad JSON) is named in a clear error; the others keep working. Libraries stay loaded for the
//! life of the process: unloading Rust libraries is how hosts crash at thread exit.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tenor_plugin_sdk::abi::{self, Buffer, Descriptor};
use tenor_plugin_sdk::{Capability, PluginInfo};

/// Name of the lock file that pins plugin files by hash, kept in the plugin directory.
pub const LOCK_FILE: &str = "plugins.lock";

/// Environment variable naming the plugin directory.
pub const PATH_VAR: &str = "TENOR_PLUGIN_PATH";

/// A plugin that loaded.
pub struct Loaded {
    /// What it says it is.
    pub info: PluginInfo,
    /// Where it was loaded from.
    pub path: PathBuf,
    descriptor: &'static Descriptor,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("info", &self.info)
            .field("path", &self.path)
            .finish()
    }
}

/// A plugin file that did not load, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadFailure {
    /// The file.
    pub path: PathBuf,
    /// Why, in words.
    pub message: String,
}

/// The loaded plugins of one run.
#[derive(Debug, Default)]
pub struct Host {
    plugins: Vec<Loaded>,
    /// Files that looked like plugins but did not load.
    pub failures: Vec<LoadFailure>,
    /// The directory searched.
    pub dir: Option<PathBuf>,
}

/// The default plugin directory: `--plugins`, else `TENOR_PLUGIN_PATH`, else the directory
/// of the running `tenor` binary (where cargo puts the plugin libraries it builds).
pub fn plugin_dir(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(PATH_VAR) {
        return Some(PathBuf::from(p));
    }
    std::env::current_exe()
        .ok()?
        .parent()
        .map(Path::to_path_buf)
}

/// True for a file that names itself a Tenor plugin library on this platform.
pub fn is_plugin_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let stem = name
        .strip_prefix(std::env::consts::DLL_PREFIX)
        .unwrap_or(name);
    stem.starts_with("tenor_plugin_") && name.ends_with(std::env::consts::DLL_SUFFIX)
}

/// The plugin files of a directory, sorted by name.
pub fn plugin_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && is_plugin_file(p))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// SHA-256 of a file, in hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The lock file's contents: each plugin file's name and hash.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Lock {
    /// Always `tenor.plugins-lock/1`.
    pub schema: String,
    /// Pinned files, sorted by name.
    pub plugins: Vec<LockEntry>,
}

/// One pinned plugin file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LockEntry {
    /// File name within the plugin directory.
    pub file: String,
    /// SHA-256 of the file.
    pub sha256: String,
}

/// Pins every plugin file of `dir` by hash, writing `dir/plugins.lock` atomically.
pub fn write_lock(dir: &Path) -> Result<Lock, String> {
    let mut lock = Lock {
        schema: "tenor.plugins-lock/1".into(),
        plugins: Vec::new(),
    };
    for p in plugin_files(dir) {
        let file = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sha256 = sha256_file(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        lock.plugins.push(LockEntry { file, sha256 });
    }
    let mut text = serde_json::to_string_pretty(&lock).map_err(|e| e.to_string())?;
    text.push('\n');
    crate::files::atomic::write(&dir.join(LOCK_FILE), text.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(lock)
}

fn read_lock(dir: &Path) -> Result<Option<Lock>, String> {
    let path = dir.join(LOCK_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| format!("{} is not a plugin lock file: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

impl Host {
    /// Loads every plugin of a directory. Failures are collected, not fatal. When the
    /// directory has a `plugins.lock`, a file whose hash differs, or that the lock does not
    /// list, is refused before it is loaded (loading runs the library's code).
    pub fn load_dir(dir: &Path) -> Host {
        let mut host = Host {
            dir: Some(dir.to_path_buf()),
            ..Host::default()
        };
        let lock = match read_lock(dir) {
            Ok(l) => l,
            Err(message) => {
                host.failures.push(LoadFailure {
                    path: dir.join(LOCK_FILE),
                    message,
                });
                return host;
            }
        };
        for path in plugin_files(dir) {
            if let Some(lock) = &lock {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let pinned = lock.plugins.iter().find(|e| e.file == name);
                let actual = sha256_file(&path).unwrap_or_default();
                let refusal = match pinned {
                    None => Some(format!(
                        "not listed in {LOCK_FILE}; run `tenor plugins lock` to trust it"
                    )),
                    Some(e) if e.sha256 != actual => Some(format!(
                        "changed since {LOCK_FILE} was written (sha256 {actual}, pinned {}); refusing to load it",
                        e.sha256
                    )),
                    Some(_) => None,
                };
                if let Some(message) = refusal {
                    host.failures.push(LoadFailure { path, message });
                    continue;
                }
            }
            match load_file(&path) {
                Ok(p) => {
                    if let Some(dup) = host.plugins.iter().find(|q| q.info.name == p.info.name) {
                        host.failures.push(LoadFailure {
                            path: path.clone(),
                            message: format!(
                                "a plugin named `{}` is already loaded from {}",
                                p.info.name,
                                dup.path.display()
                            ),
                        });
                    } else {
                        host.plugins.push(p);
                    }
                }
                Err(message) => host.failures.push(LoadFailure { path, message }),
            }
        }
        host
    }

    /// The plugins that loaded, sorted by file name.
    pub fn plugins(&self) -> &[Loaded] {
        &self.plugins
    }

    /// The plugin with this name.
    pub fn get(&self, name: &str) -> Option<&Loaded> {
        self.plugins.iter().find(|p| p.info.name == name)
    }

    /// The distributor plugin serving a distributor of the rules.
    pub fn for_distributor(&self, distributor: &str) -> Option<&Loaded> {
        self.plugins.iter().find(|p| {
            p.info.kind == tenor_plugin_sdk::Kind::Distributor
                && p.info.distributor.as_deref().unwrap_or(&p.info.name) == distributor
        })
    }

    /// The PSA plugins.
    pub fn psas(&self) -> impl Iterator<Item = &Loaded> {
        self.plugins
            .iter()
            .filter(|p| p.info.kind == tenor_plugin_sdk::Kind::Psa)
    }
}

/// Loads one plugin library, checking its ABI version before anything else.
pub fn load_file(path: &Path) -> Result<Loaded, String> {
    #[allow(
        unsafe_code,
        reason = "loading a plugin library runs its initialisers; only configured, hash-checked files get here"
    )]
    // SAFETY: loading a library is inherently trusting it; the host loads only files from the
    // configured plugin directory, pinned by `plugins.lock` when one exists.
    let lib = unsafe { libloading::Library::new(path) }
        .map_err(|e| format!("not a loadable library: {e}"))?;
    // Never unloaded: dropping a Rust library's code while its thread-locals live crashes.
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
    #[allow(
        unsafe_code,
        reason = "reading the plugin's NUL-terminated info string"
    )]
    // SAFETY: non-null pointer to a NUL-terminated static string of the library.
    let info = unsafe { std::ffi::CStr::from_ptr(descriptor.info_json) };
    let info: PluginInfo = serde_json::from_slice(info.to_bytes())
        .map_err(|e| format!("its information is not valid JSON: {e}"))?;
    if !abi::protocol_supported(info.protocol) {
        return Err(format!(
            "`{}` speaks document protocol {}, this tenor speaks protocols {} to {}; rebuild it against a tenor-plugin-sdk in that range",
            info.name,
            info.protocol,
            tenor_plugin_sdk::PROTOCOL_MIN,
            tenor_plugin_sdk::PROTOCOL_VERSION
        ));
    }
    Ok(Loaded {
        info,
        path: path.to_path_buf(),
        descriptor,
    })
}

impl Loaded {
    /// True when the plugin says it can do this.
    pub fn can(&self, c: Capability) -> bool {
        self.info.capabilities.contains(&c)
    }

    /// Calls an operation with a JSON input and decodes its JSON output. Every failure names
    /// the plugin.
    pub fn call<I: Serialize, O: DeserializeOwned>(
        &self,
        op: &str,
        input: &I,
    ) -> Result<O, String> {
        let name = &self.info.name;
        let input = serde_json::to_vec(input)
            .map_err(|e| format!("plugin `{name}`: cannot encode its input: {e}"))?;
        let mut out = Buffer::EMPTY;
        #[allow(unsafe_code, reason = "calling into the plugin through its C ABI")]
        // SAFETY: `op` and `input` are live byte slices of this frame and `out` a writable slot,
        // as the ABI requires; the descriptor comes from a library that is never unloaded.
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
            // SAFETY: the plugin filled `out` with a buffer of `len` initialised bytes that stays
            // valid until passed to its `free_buffer`, which happens right after this copy.
            unsafe {
                std::slice::from_raw_parts(out.ptr, out.len).to_vec()
            }
        };
        (self.descriptor.free_buffer)(out);
        match status {
            abi::STATUS_OK => serde_json::from_slice(&bytes)
                .map_err(|e| format!("plugin `{name}` returned invalid JSON for `{op}`: {e}")),
            abi::STATUS_UNSUPPORTED => Err(format!("plugin `{name}` does not support `{op}`")),
            abi::STATUS_PANIC => Err(format!(
                "plugin `{name}` failed in `{op}`: {}",
                String::from_utf8_lossy(&bytes)
            )),
            _ => Err(format!(
                "plugin `{name}` reported an error in `{op}`: {}",
                String::from_utf8_lossy(&bytes)
            )),
        }
    }
}
