//! Atomic file writes: a run that is interrupted leaves the old file or the new one, never half;
//! and nothing planted in the directory (a symlink at a temporary name or at the destination)
//! can make a write land anywhere else.
//!
//! Each write creates a temporary file `.tenor-tmp-<pid>-<random hex>` beside the target with
//! O_CREAT|O_EXCL|O_NOFOLLOW (an existing name, symlink or not, is never opened: another
//! random name is tried), writes and fsyncs it, renames it over the target (a symlink at the
//! target is replaced, not followed) and fsyncs the directory so the rename survives a crash.
//! A run killed part-way leaves its temporary file behind; [`remove_stale`] deletes those of
//! processes that are no longer alive.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Every temporary file's name starts so.
pub const TMP_PREFIX: &str = ".tenor-tmp-";

/// How many random names are tried before giving up (each collision is one in 2^64).
const TRIES: u32 = 16;

/// Writes `bytes` to `path` through a fresh temporary file in the same directory, synced and
/// renamed; a symlink at `path` is replaced by the file, never written through.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with_mode(path, bytes, None)
}

/// Replaces the contents of the file at `path`, keeping what the user set up around it: when
/// `path` is a symlink, the file it points to is replaced (the symlink stays a symlink), and
/// the file keeps its permission bits (`0640` stays `0640`).
pub fn replace_preserving(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let real = std::fs::canonicalize(path)?;
    let mode = permission_bits(&std::fs::metadata(&real)?);
    write_with_mode(&real, bytes, mode)
}

#[cfg(unix)]
fn permission_bits(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(meta.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn permission_bits(_meta: &std::fs::Metadata) -> Option<u32> {
    None
}

/// The directory a path's file is in (`.` for a bare name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// [`write`], the bytes written by `fill` into the temporary file (buffered); an error from
/// `fill` leaves `path` as it was.
pub fn write_with(
    path: &Path,
    fill: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write_filled(path, None, &mut |f| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
        fill(&mut out)?;
        out.flush()
    })
}

fn write_with_mode(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    write_filled(path, mode, &mut |f| f.write_all(bytes))
}

fn write_filled(
    path: &Path,
    mode: Option<u32>,
    fill: &mut dyn FnMut(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = parent_dir(path);
    let (mut f, tmp) = create_temp(dir)?;
    let result = (|| {
        fill(&mut f)?;
        if let Some(m) = mode {
            set_mode(&f, m)?;
        }
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        // Leave nothing behind: the temporary file is ours (we created it) and incomplete.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(unix)]
fn set_mode(f: &File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_f: &File, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Creates a new temporary file in `dir` under a random name, never opening an existing one.
fn create_temp(dir: &Path) -> std::io::Result<(File, PathBuf)> {
    let mut last = None;
    for _ in 0..TRIES {
        let tmp = dir.join(temp_name()?);
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        no_follow(&mut opts);
        match opts.open(&tmp) {
            Ok(f) => return Ok((f, tmp)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no temporary file name was free")))
}

#[cfg(unix)]
fn no_follow(opts: &mut OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt;
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::CLOEXEC;
    opts.custom_flags(i32::try_from(flags.bits()).unwrap_or(0));
}

#[cfg(not(unix))]
fn no_follow(_opts: &mut OpenOptions) {}

/// `.tenor-tmp-<pid>-<16 random hex digits>`.
fn temp_name() -> std::io::Result<String> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random)
        .map_err(|e| std::io::Error::other(format!("no random numbers: {e}")))?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{TMP_PREFIX}{}-{hex}", std::process::id()))
}

/// Makes a rename in `dir` durable: on Unix a directory is synced through a handle to it.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The process id a temporary file name was made by: `.tenor-tmp-<pid>-<hex>`, or the names
/// of earlier versions, `.<file>.tenor-tmp-<pid>`.
fn temp_owner(name: &str) -> Option<u32> {
    let digits = match name.strip_prefix(TMP_PREFIX) {
        Some(rest) => rest.split_once('-')?.0,
        None if name.starts_with('.') => name.rsplit_once(".tenor-tmp-")?.1,
        None => return None,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether a process with this id is running: `kill(pid, 0)` fails with ESRCH only when there
/// is none (EPERM means it runs under another user: alive).
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

/// Without a way to ask, every process counts as alive: nothing is removed.
#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    true
}

/// Deletes the temporary files that runs which are no longer alive left in `dir` (a run killed
/// while writing); a live process's temporary file (this one's included) is never touched, nor
/// anything that is not a file or symlink. Returns the paths removed; a directory that does not
/// exist holds none.
pub fn remove_stale(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let me = std::process::id();
    let mut removed = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        let is_file = e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink());
        if pid == me || !is_file || alive(pid) {
            continue;
        }
        let path = e.path();
        match std::fs::remove_file(&path) {
            Ok(()) => removed.push(path),
            // Another run removed it first.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tenor-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn leftovers(dir: &Path) -> Vec<std::ffi::OsString> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().contains("tenor-tmp"))
            .collect()
    }

    #[test]
    fn replaces_content_and_leaves_no_temporary_file() {
        let dir = scratch("replace");
        let target = dir.join("a.json");
        write(&target, b"first").unwrap();
        write(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failed_write_keeps_the_old_file() {
        let dir = scratch("fail");
        let target = dir.join("keep.json");
        write(&target, b"old").unwrap();
        // Renaming a file onto a non-empty directory fails, after the temporary file was written.
        let blocker = dir.join("blocked");
        std::fs::create_dir_all(blocker.join("inside")).unwrap();
        assert!(write(&blocker, b"new").is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temporary_names_are_random_and_name_their_process() {
        let a = temp_name().unwrap();
        let b = temp_name().unwrap();
        assert_ne!(a, b);
        assert_eq!(temp_owner(&a), Some(std::process::id()));
        assert_eq!(temp_owner(".SO-Q-1.json.tenor-tmp-42"), Some(42));
        assert_eq!(temp_owner(".tenor-tmp-x-00"), None);
        assert_eq!(temp_owner("SO-Q-1.json"), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_destination_is_replaced_not_followed() {
        let dir = scratch("dest-link");
        let victim = dir.join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let target = dir.join("out.json");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write(&target, b"doc").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(!std::fs::symlink_metadata(&target).unwrap().is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"doc");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn replace_preserving_keeps_the_symlink_and_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("preserve");
        let real = dir.join("real.tenor");
        std::fs::write(&real, b"old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.join("link.tenor");
        std::os::unix::fs::symlink("real.tenor", &link).unwrap();
        replace_preserving(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o640);
        assert!(leftovers(&dir).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn stale_temporary_files_of_dead_processes_are_removed_live_ones_kept() {
        let dir = scratch("stale");
        // A child that has exited and been reaped: its pid is free.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir.join(format!("{TMP_PREFIX}{dead}-00ff"));
        let old_style = dir.join(format!(".SO-Q-1.json.tenor-tmp-{dead}"));
        let live = dir.join(format!("{TMP_PREFIX}{}-00ff", std::process::id()));
        let init = dir.join(format!("{TMP_PREFIX}1-00ff"));
        for p in [&stale, &old_style, &live, &init] {
            std::fs::write(p, b"x").unwrap();
        }
        let removed = remove_stale(&dir).unwrap();
        let mut want = vec![stale.clone(), old_style.clone()];
        want.sort();
        assert_eq!(removed, want);
        assert!(live.exists() && init.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
