//! The plugin host: finds plugin libraries, pins them, and runs each in its own worker process
//! (the `tenor` binary in a hidden mode, [`worker`]) that loads the library and calls the SDK's
//! C ABI, exchanging length-prefixed frames with the host over two pipes ([`wire`]). A plugin
//! that hangs, crashes, exits, prints, sends garbage or too much, or runs out of memory is a
//! [`Fault`] naming it; its worker is killed and reaped, and the others keep working.
//!
//! The host reads each library file once, hashes those bytes, checks them against
//! `plugins.lock`, and gives the worker exactly those bytes in a sealed memory file: what was
//! checked is what is loaded, whatever happens to the file meanwhile.

pub mod inproc;
pub mod options;
pub mod process;
mod sys;
pub mod wire;
pub mod worker;

pub use options::{Options, with_options};
pub use process::Fault;

use process::{StartError, Worker};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tenor_plugin_sdk::abi;
use tenor_plugin_sdk::{Capability, Kind, PluginInfo};

/// Name of the lock file that pins plugin files by hash, kept in the plugin directory.
pub const LOCK_FILE: &str = "plugins.lock";

/// Environment variable naming the plugin directory.
pub const PATH_VAR: &str = "TENOR_PLUGIN_PATH";

/// A plugin that loaded, running in its worker.
pub struct Loaded {
    /// What it says it is.
    pub info: PluginInfo,
    /// Where it was loaded from.
    pub path: PathBuf,
    /// SHA-256 of the bytes loaded (hex).
    pub sha256: String,
    worker: Mutex<Slot>,
}

/// A plugin's worker: running, or stopped by a fault (and not restarted in this run).
enum Slot {
    Running(Box<Worker>),
    Stopped(String),
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("info", &self.info)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A plugin file that did not load (or a claim two plugins made), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadFailure {
    /// The file.
    pub path: PathBuf,
    /// Why, in words.
    pub message: String,
}

/// Why a call to a plugin failed. Every variant names the plugin and the operation.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The worker faulted (or had faulted earlier): killed and reaped.
    #[error("plugin `{plugin}` ({file}) failed in `{op}`: {fault}")]
    Fault {
        /// The plugin's name.
        plugin: String,
        /// Its file name.
        file: String,
        /// The operation.
        op: String,
        /// What happened.
        fault: Fault,
    },
    /// The plugin panicked; the SDK caught it and this is its message.
    #[error("plugin `{plugin}` failed in `{op}`: {message}")]
    Panicked {
        /// The plugin's name.
        plugin: String,
        /// The operation.
        op: String,
        /// The panic's message.
        message: String,
    },
    /// The plugin reported an error.
    #[error("plugin `{plugin}` reported an error in `{op}`: {message}")]
    Reported {
        /// The plugin's name.
        plugin: String,
        /// The operation.
        op: String,
        /// Its message.
        message: String,
    },
    /// The plugin does not offer the operation.
    #[error("plugin `{plugin}` does not support `{op}`")]
    Unsupported {
        /// The plugin's name.
        plugin: String,
        /// The operation.
        op: String,
    },
    /// The plugin's answer is not the JSON expected.
    #[error("plugin `{plugin}` returned invalid JSON for `{op}`: {message}")]
    InvalidJson {
        /// The plugin's name.
        plugin: String,
        /// The operation.
        op: String,
        /// The decoder's message.
        message: String,
    },
    /// The input could not be encoded.
    #[error("plugin `{plugin}`: cannot encode its input: {message}")]
    Encode {
        /// The plugin's name.
        plugin: String,
        /// The encoder's message.
        message: String,
    },
}

/// The loaded plugins of one run.
#[derive(Debug, Default)]
pub struct Host {
    plugins: Vec<Loaded>,
    /// Files that looked like plugins but did not load, and claims made by more than one.
    pub failures: Vec<LoadFailure>,
    /// The directory searched.
    pub dir: Option<PathBuf>,
    /// Distributors and names claimed by more than one plugin: served by none.
    contested: Vec<Claim>,
}

/// What a plugin claims to serve.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Claim {
    /// Its name (for a PSA, also what it serves).
    Name(String),
    /// The distributor of the rule files it renders for.
    Distributor(String),
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

/// Refuses a plugin directory that does not exist, naming it (and saying that a list of
/// directories, `a:b`, is not supported: plugins come from one directory).
pub fn check_dir(dir: &Path) -> Result<(), String> {
    if dir.is_dir() {
        return Ok(());
    }
    let shown = dir.display();
    if dir.exists() {
        return Err(format!("the plugin directory {shown} is not a directory"));
    }
    if dir.to_string_lossy().contains(':') {
        return Err(format!(
            "the plugin directory {shown} does not exist; {PATH_VAR} and --plugins name one directory, not a list"
        ));
    }
    Err(format!("the plugin directory {shown} does not exist"))
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

/// SHA-256 of some bytes, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SHA-256 of a file, in hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    Ok(sha256_hex(&std::fs::read(path)?))
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
    check_dir(dir)?;
    let mut lock = Lock {
        schema: "tenor.plugins-lock/1".into(),
        plugins: Vec::new(),
    };
    for p in plugin_files(dir) {
        let sha256 = sha256_file(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        lock.plugins.push(LockEntry {
            file: file_name(&p),
            sha256,
        });
    }
    let mut text = serde_json::to_string_pretty(&lock).map_err(|e| e.to_string())?;
    text.push('\n');
    crate::files::atomic::write(&dir.join(LOCK_FILE), text.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(lock)
}

/// The lock of a directory, `None` when it has none.
pub fn read_lock(dir: &Path) -> Result<Option<Lock>, String> {
    let path = dir.join(LOCK_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| format!("{} is not a plugin lock file: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// The refusal for `--locked` without a lock.
pub fn missing_lock(dir: &Path) -> String {
    format!(
        "{} has no {LOCK_FILE} and --locked requires one; run `tenor plugins lock --plugins {}` to pin its plugins",
        dir.display(),
        dir.display()
    )
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Why the lock refuses these bytes of a file, if it does.
fn lock_refusal(lock: &Lock, name: &str, actual: &str) -> Option<String> {
    match lock.plugins.iter().find(|e| e.file == name) {
        None => Some(format!(
            "not listed in {LOCK_FILE}; run `tenor plugins lock` to trust it"
        )),
        Some(e) if e.sha256 != actual => Some(format!(
            "changed since {LOCK_FILE} was written (sha256 {actual}, pinned {}); refusing to load it",
            e.sha256
        )),
        Some(_) => None,
    }
}

/// Refuses a plugin whose document protocol this host does not read.
fn check_protocol(info: &PluginInfo) -> Result<(), String> {
    if abi::protocol_supported(info.protocol) {
        return Ok(());
    }
    Err(format!(
        "`{}` speaks document protocol {}, this tenor speaks protocols {} to {}; rebuild it against a tenor-plugin-sdk in that range",
        info.name,
        info.protocol,
        tenor_plugin_sdk::PROTOCOL_MIN,
        tenor_plugin_sdk::PROTOCOL_VERSION
    ))
}

impl Host {
    /// Loads every plugin of a directory with the run's [`Options::current`]. Failures are
    /// collected, not fatal.
    pub fn load_dir(dir: &Path) -> Host {
        Host::load(dir, &Options::current())
    }

    /// Loads every plugin of a directory, each in its own worker. When the directory has a
    /// `plugins.lock` (required with `options.locked`), a file whose bytes differ, or that
    /// the lock does not list, is refused before any of its code runs.
    pub fn load(dir: &Path, options: &Options) -> Host {
        let mut host = Host {
            dir: Some(dir.to_path_buf()),
            ..Host::default()
        };
        let mut fail = |path: PathBuf, message: String| {
            host.failures.push(LoadFailure { path, message });
        };
        if let Err(message) = check_dir(dir) {
            fail(dir.to_path_buf(), message);
            return host;
        }
        let lock = match read_lock(dir) {
            Ok(None) if options.locked => Err(missing_lock(dir)),
            other => other,
        };
        let lock = match lock {
            Ok(l) => l,
            Err(message) => {
                fail(dir.join(LOCK_FILE), message);
                return host;
            }
        };
        let files = plugin_files(dir);
        if files.is_empty() {
            return host;
        }
        let exe = match process::worker_exe() {
            Ok(e) => e,
            Err(m) => {
                fail(dir.to_path_buf(), format!("cannot run plugins: {m}"));
                return host;
            }
        };
        for path in files {
            match load_file(&path, lock.as_ref(), &exe, options) {
                Ok(p) => host.plugins.push(p),
                Err(message) => host.failures.push(LoadFailure { path, message }),
            }
        }
        host.settle_claims();
        host
    }

    /// Finds names and distributors claimed by more than one plugin: each is an error naming
    /// every file, and none of them serves it.
    fn settle_claims(&mut self) {
        let mut claims: Vec<(Claim, &Path)> = Vec::new();
        for p in &self.plugins {
            claims.push((Claim::Name(p.info.name.clone()), &p.path));
            if p.info.kind == Kind::Distributor {
                claims.push((Claim::Distributor(distributor_of(&p.info).into()), &p.path));
            }
        }
        claims.sort();
        let mut contested: Vec<(Claim, Vec<&Path>)> = Vec::new();
        for (claim, path) in claims {
            match contested.last_mut() {
                Some((c, paths)) if *c == claim => paths.push(path),
                _ => contested.push((claim, vec![path])),
            }
        }
        for (claim, paths) in contested.into_iter().filter(|(_, p)| p.len() > 1) {
            let (what, value) = match &claim {
                Claim::Name(n) => ("the plugin name", n),
                Claim::Distributor(d) => ("distributor", d),
            };
            let others: Vec<String> = paths
                .iter()
                .skip(1)
                .map(|p| p.display().to_string())
                .collect();
            let first = paths.first().map(|p| p.to_path_buf()).unwrap_or_default();
            self.failures.push(LoadFailure {
                message: format!(
                    "claims {what} `{value}`, as does {}; neither is used for `{value}` until one is removed",
                    others.join(" and ")
                ),
                path: first,
            });
            self.contested.push(claim);
        }
    }

    /// The plugins that loaded, sorted by file name.
    pub fn plugins(&self) -> &[Loaded] {
        &self.plugins
    }

    /// The plugin with this name (none when two plugins claim it).
    pub fn get(&self, name: &str) -> Option<&Loaded> {
        if self.contested.contains(&Claim::Name(name.to_string())) {
            return None;
        }
        self.plugins.iter().find(|p| p.info.name == name)
    }

    /// The distributor plugin serving a distributor of the rules (none when two claim it).
    pub fn for_distributor(&self, distributor: &str) -> Option<&Loaded> {
        if self
            .contested
            .contains(&Claim::Distributor(distributor.to_string()))
        {
            return None;
        }
        self.plugins
            .iter()
            .find(|p| p.info.kind == Kind::Distributor && distributor_of(&p.info) == distributor)
    }

    /// The PSA plugins (but not those whose name two plugins claim).
    pub fn psas(&self) -> impl Iterator<Item = &Loaded> {
        self.plugins.iter().filter(|p| {
            p.info.kind == Kind::Psa && !self.contested.contains(&Claim::Name(p.info.name.clone()))
        })
    }
}

/// The distributor a distributor plugin serves: its `distributor`, else its name.
fn distributor_of(info: &PluginInfo) -> &str {
    info.distributor.as_deref().unwrap_or(&info.name)
}

/// Reads a plugin file once, checks those bytes against the lock, and starts its worker on
/// a sealed copy of exactly those bytes.
fn load_file(
    path: &Path,
    lock: Option<&Lock>,
    exe: &Path,
    options: &Options,
) -> Result<Loaded, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let sha256 = sha256_hex(&bytes);
    let name = file_name(path);
    if let Some(refusal) = lock.and_then(|l| lock_refusal(l, &name, &sha256)) {
        return Err(refusal);
    }
    let memfd = sys::sealed_memfd(&name, &bytes)
        .map_err(|e| format!("cannot make a sealed copy of it: {e}"))?;
    drop(bytes);
    let (worker, info) = match Worker::start(exe, &memfd, options) {
        Ok(w) => w,
        Err(StartError::Refused(m)) => return Err(m),
        Err(StartError::Fault(f)) => return Err(format!("failed while loading: {f}")),
    };
    let info: PluginInfo = serde_json::from_slice(&info)
        .map_err(|e| format!("its information is not valid JSON: {e}"))?;
    check_protocol(&info)?;
    Ok(Loaded {
        info,
        path: path.to_path_buf(),
        sha256,
        worker: Mutex::new(Slot::Running(Box::new(worker))),
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
        self.try_call(op, input).map_err(|e| e.to_string())
    }

    /// [`Loaded::call`] with the typed error.
    pub fn try_call<I: Serialize, O: DeserializeOwned>(
        &self,
        op: &str,
        input: &I,
    ) -> Result<O, CallError> {
        let plugin = self.info.name.clone();
        let input = serde_json::to_vec(input).map_err(|e| CallError::Encode {
            plugin: plugin.clone(),
            message: e.to_string(),
        })?;
        let (status, bytes) = self.exchange(op, &input)?;
        let op = op.to_string();
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match status {
            abi::STATUS_OK => serde_json::from_slice(&bytes).map_err(|e| CallError::InvalidJson {
                plugin,
                op,
                message: e.to_string(),
            }),
            abi::STATUS_UNSUPPORTED => Err(CallError::Unsupported { plugin, op }),
            abi::STATUS_PANIC => Err(CallError::Panicked {
                plugin,
                op,
                message: text(),
            }),
            _ => Err(CallError::Reported {
                plugin,
                op,
                message: text(),
            }),
        }
    }

    /// One request to the worker; a fault stops it for the rest of the run.
    fn exchange(&self, op: &str, input: &[u8]) -> Result<(i32, Vec<u8>), CallError> {
        let fault = |fault: Fault| CallError::Fault {
            plugin: self.info.name.clone(),
            file: file_name(&self.path),
            op: op.to_string(),
            fault,
        };
        let mut slot = self
            .worker
            .lock()
            .map_err(|_| fault(Fault::Stopped("a call to it panicked".into())))?;
        let result = match &mut *slot {
            Slot::Running(w) => w.call(op, input),
            Slot::Stopped(why) => return Err(fault(Fault::Stopped(why.clone()))),
        };
        result.map_err(|f| {
            *slot = Slot::Stopped(f.to_string());
            fault(f)
        })
    }

    /// The last few KiB the plugin printed on its standard output and error (kept from the
    /// user's terminal).
    pub fn captured_output(&self) -> String {
        match self.worker.lock().as_deref() {
            Ok(Slot::Running(w)) => w.captured(),
            _ => String::new(),
        }
    }
}
