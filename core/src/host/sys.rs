//! The few system calls the host needs that the standard library does not offer: pipes and a
//! sealed memory file for a worker, poll with a timeout, and what a worker's child side does
//! between fork and exec (limits, inherited descriptors). Each `unsafe` block is one call.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// A pipe, both ends close-on-exec: (read end, write end).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    #[allow(
        unsafe_code,
        reason = "pipe2 writes two descriptors into a local array"
    )]
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    let [r, w] = fds;
    #[allow(
        unsafe_code,
        reason = "taking ownership of the descriptors pipe2 just made"
    )]
    // SAFETY: pipe2 succeeded, so both are open descriptors owned by nobody else.
    let ends = unsafe { (OwnedFd::from_raw_fd(r), OwnedFd::from_raw_fd(w)) };
    Ok(ends)
}

/// Switches a descriptor to non-blocking mode.
pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    #[allow(unsafe_code, reason = "fcntl on a descriptor the caller owns")]
    // SAFETY: F_GETFL/F_SETFL take and return plain ints; `fd` is open.
    unsafe {
        let flags = check(libc::fcntl(fd, libc::F_GETFL))?;
        check(libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
    }
    Ok(())
}

/// Waits up to `ms` milliseconds for `events` on `fd`: true when it is ready (or closed).
pub fn poll(fd: RawFd, events: libc::c_short, ms: libc::c_int) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    #[allow(unsafe_code, reason = "poll on one local pollfd")]
    // SAFETY: `p` is one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    match n {
        n if n < 0 => {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            }
        }
        0 => Ok(false),
        _ => Ok(true),
    }
}

/// A memory file holding exactly `bytes`, sealed against every change (write, grow, shrink,
/// and further seals), close-on-exec. What the lock checked is then what the worker loads.
pub fn sealed_memfd(name: &str, bytes: &[u8]) -> io::Result<OwnedFd> {
    use std::io::Write;
    let cname = std::ffi::CString::new(name.replace('\0', "_")).unwrap_or_default();
    #[allow(unsafe_code, reason = "memfd_create with a NUL-terminated name")]
    // SAFETY: `cname` is a valid C string; the flags are constants.
    let fd = check(unsafe {
        libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING)
    })?;
    #[allow(
        unsafe_code,
        reason = "taking ownership of the descriptor memfd_create made"
    )]
    // SAFETY: memfd_create succeeded; nobody else owns `fd`.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes)?;
    let seals = libc::F_SEAL_WRITE | libc::F_SEAL_GROW | libc::F_SEAL_SHRINK | libc::F_SEAL_SEAL;
    #[allow(unsafe_code, reason = "fcntl F_ADD_SEALS on our own memfd")]
    // SAFETY: `file` is an open memfd created with MFD_ALLOW_SEALING.
    check(unsafe {
        libc::fcntl(
            std::os::fd::AsRawFd::as_raw_fd(&file),
            libc::F_ADD_SEALS,
            seals,
        )
    })?;
    Ok(file.into())
}

/// What a worker's child does between fork and exec: keeps `inherit` open across exec, caps
/// its address space at `memory` bytes, and asks to be killed when the host thread that
/// started it goes away. Only async-signal-safe calls (fcntl, setrlimit, prctl).
pub fn child_setup(inherit: &[RawFd], memory: u64) -> io::Result<()> {
    for &fd in inherit {
        #[allow(unsafe_code, reason = "clearing FD_CLOEXEC in the forked child")]
        // SAFETY: fcntl is async-signal-safe; `fd` is open in the child (inherited from fork).
        check(unsafe { libc::fcntl(fd, libc::F_SETFD, 0) })?;
    }
    let limit = libc::rlimit {
        rlim_cur: memory as libc::rlim_t,
        rlim_max: memory as libc::rlim_t,
    };
    #[allow(unsafe_code, reason = "setrlimit in the forked child")]
    // SAFETY: setrlimit is async-signal-safe and reads one local struct.
    check(unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) })?;
    #[cfg(target_os = "linux")]
    {
        #[allow(unsafe_code, reason = "prctl in the forked child")]
        // SAFETY: PR_SET_PDEATHSIG takes a signal number; async-signal-safe.
        check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) })?;
    }
    Ok(())
}

/// Takes ownership of a descriptor number the worker was given on its command line, after
/// checking it is open.
pub fn inherited(fd: RawFd) -> io::Result<OwnedFd> {
    #[allow(unsafe_code, reason = "fcntl F_GETFD only probes the descriptor")]
    // SAFETY: F_GETFD on any int is harmless: it fails with EBADF when not open.
    check(unsafe { libc::fcntl(fd, libc::F_GETFD) })?;
    #[allow(
        unsafe_code,
        reason = "the host passed this open descriptor for the worker alone"
    )]
    // SAFETY: the descriptor is open and the worker's code owns it from here on.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(owned)
}

/// A signal's name (`SIGSEGV`), or its number.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGSYS => "SIGSYS",
        libc::SIGXCPU => "SIGXCPU",
        _ => return format!("signal {sig}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn the_memfd_holds_the_bytes_and_refuses_every_change() {
        let fd = sealed_memfd("t", b"pinned bytes").unwrap();
        let seals = check(unsafe_free_seals(fd.as_raw_fd())).unwrap();
        let want = libc::F_SEAL_WRITE | libc::F_SEAL_GROW | libc::F_SEAL_SHRINK | libc::F_SEAL_SEAL;
        assert_eq!(seals & want, want);
        let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
        assert_eq!(std::fs::read(&path).unwrap(), b"pinned bytes");
        let mut f = std::fs::File::from(fd);
        use std::io::Write;
        assert!(f.write_all(b"x").is_err(), "a sealed memfd took a write");
        assert!(f.set_len(1).is_err(), "a sealed memfd shrank");
    }

    fn unsafe_free_seals(fd: RawFd) -> libc::c_int {
        #[allow(unsafe_code, reason = "fcntl F_GET_SEALS on an open descriptor")]
        // SAFETY: F_GET_SEALS takes no argument and returns an int.
        let s = unsafe { libc::fcntl(fd, libc::F_GET_SEALS) };
        s
    }
}
