//! The host side of a plugin's worker process: starting it on a sealed copy of the library,
//! one request and response at a time under the run's limits, and turning every way it can
//! fail (hang, crash, exit, garbage, a response too large, running out of memory) into a
//! [`Fault`] after killing and reaping it.

use super::options::{Options, show_size};
use super::sys;
use super::wire::{self, Header, Pipe, STATUS_LOAD_FAILED, WIRE_VERSION, WireError};
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Environment variable naming the executable to run plugin workers with (default: the
/// running `tenor`).
pub const WORKER_VAR: &str = "TENOR_PLUGIN_WORKER";

/// How much of a worker's own output (its standard output and error) is kept.
const CAPTURE_TAIL: usize = 8 << 10;

/// What went wrong with a plugin's worker. Each names what happened and the limit involved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// No answer within the timeout; the worker was killed.
    #[error("did not answer within {}; its worker was killed", show_duration(*.0))]
    Timeout(Duration),
    /// The worker died of a signal.
    #[error("its worker was killed by {0}")]
    Signal(String),
    /// The worker exited while the host waited for an answer.
    #[error("its worker exited with code {0} before answering")]
    Exited(i32),
    /// The worker ran out of the memory it is allowed.
    #[error("ran out of memory (the limit is {})", show_size(*.0))]
    OutOfMemory(u64),
    /// The response announced was larger than allowed; nothing of it was read.
    #[error("sent a response of {} bytes, over the limit of {}; its worker was killed", .size, show_size(*.limit))]
    TooLarge {
        /// Bytes announced.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The worker wrote something that is not a message.
    #[error("wrote garbage on the protocol pipe ({0}); its worker was killed")]
    Garbage(String),
    /// The worker could not be started.
    #[error("cannot start its worker: {0}")]
    Spawn(String),
    /// The worker failed earlier in this run and is not restarted.
    #[error("is stopped since an earlier failure ({0})")]
    Stopped(String),
}

fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{} ms", ms)
    }
}

/// Why a worker did not come up with a plugin.
#[derive(Debug)]
pub enum StartError {
    /// The library was refused by the worker (not loadable, wrong ABI…): the message.
    Refused(String),
    /// The worker itself failed.
    Fault(Fault),
}

/// A running worker.
#[derive(Debug)]
pub struct Worker {
    child: Child,
    to: Option<Pipe>,
    from: Pipe,
    captured: Arc<Mutex<Vec<u8>>>,
    drain: Option<std::thread::JoinHandle<()>>,
    options: Options,
}

/// The executable that runs workers: `TENOR_PLUGIN_WORKER`, else the running binary when it
/// is `tenor`, else a `tenor-cli` or `tenor` beside it or one directory up (test and bench
/// binaries are not `tenor`; cargo puts theirs in `deps/`, one below).
pub fn worker_exe() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(WORKER_VAR) {
        return Ok(PathBuf::from(p));
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the running binary: {e}"))?;
    if exe.file_stem().is_some_and(|s| s == "tenor") {
        return Ok(exe);
    }
    let here = exe.parent();
    let up = here.and_then(Path::parent);
    for dir in [here, up].into_iter().flatten() {
        for name in ["tenor-cli", "tenor"] {
            let p = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(format!(
        "{} is not `tenor` and no `tenor` binary is beside it; set {WORKER_VAR}",
        exe.display()
    ))
}

impl Worker {
    /// Starts a worker on the library in `lib` (a sealed memfd) and reads its hello: the
    /// plugin's information JSON.
    pub fn start(
        exe: &Path,
        lib: &OwnedFd,
        options: &Options,
    ) -> Result<(Worker, Vec<u8>), StartError> {
        let spawn = |e: std::io::Error| StartError::Fault(Fault::Spawn(e.to_string()));
        let (req_r, req_w) = sys::pipe().map_err(spawn)?;
        let (resp_r, resp_w) = sys::pipe().map_err(spawn)?;
        let (cap_r, cap_w) = sys::pipe().map_err(spawn)?;
        let inherit = [lib.as_raw_fd(), req_r.as_raw_fd(), resp_w.as_raw_fd()];
        let memory = options.memory;
        let mut cmd = Command::new(exe);
        cmd.arg(super::worker::WORKER_ARG)
            .args(inherit.iter().map(|fd| fd.to_string()))
            .stdin(Stdio::null())
            .stdout(Stdio::from(cap_w.try_clone().map_err(spawn)?))
            .stderr(Stdio::from(cap_w));
        #[allow(
            unsafe_code,
            reason = "pre_exec runs in the forked child; child_setup makes only async-signal-safe calls"
        )]
        // SAFETY: the closure only calls fcntl, setrlimit and prctl (async-signal-safe) on
        // descriptors that are open in the child, and allocates nothing.
        unsafe {
            cmd.pre_exec(move || sys::child_setup(&inherit, memory));
        }
        let child = cmd
            .spawn()
            .map_err(|e| StartError::Fault(Fault::Spawn(format!("{}: {e}", exe.display()))))?;
        // The parent's copies of the child's ends: closed, so that the pipes report the
        // worker's exit (EOF) instead of waiting on ourselves.
        drop((req_r, resp_w, cmd));
        let captured = Arc::new(Mutex::new(Vec::new()));
        let drain = std::thread::Builder::new()
            .name("tenor-plugin-output".into())
            .spawn({
                let captured = Arc::clone(&captured);
                move || drain(cap_r, &captured)
            })
            .ok();
        let mut w = Worker {
            child,
            to: Some(Pipe::new(req_w).map_err(spawn)?),
            from: Pipe::new(resp_r).map_err(spawn)?,
            captured,
            drain,
            options: options.clone(),
        };
        let deadline = Instant::now() + options.timeout;
        let (header, body) = match w.from.read_message(options.max_response, deadline) {
            Ok(m) => m,
            Err(e) => return Err(StartError::Fault(w.fault(e))),
        };
        if header.wire != Some(WIRE_VERSION) {
            let f = w.kill(Fault::Garbage(format!(
                "{} speaks worker protocol {:?}, this tenor {WIRE_VERSION}: another build",
                exe.display(),
                header.wire
            )));
            return Err(StartError::Fault(f));
        }
        if header.status == Some(STATUS_LOAD_FAILED) {
            return Err(StartError::Refused(
                String::from_utf8_lossy(&body).into_owned(),
            ));
        }
        Ok((w, body))
    }

    /// Runs one operation: the ABI status and the plugin's bytes, or the fault (after which
    /// the worker is dead and reaped).
    pub fn call(&mut self, op: &str, input: &[u8]) -> Result<(i32, Vec<u8>), Fault> {
        let deadline = Instant::now() + self.options.timeout;
        let request = wire::encode(
            &Header {
                op: Some(op.to_string()),
                ..Header::default()
            },
            input,
        );
        let sent = match self.to.as_mut() {
            Some(to) => to.write_all(&request, deadline),
            None => Err(WireError::Closed),
        };
        if let Err(e) = sent {
            return Err(self.fault(e));
        }
        match self.from.read_message(self.options.max_response, deadline) {
            Ok((h, body)) => match h.status {
                Some(s) => Ok((s, body)),
                None => Err(self.kill(Fault::Garbage("a response without a status".into()))),
            },
            Err(e) => Err(self.fault(e)),
        }
    }

    /// What the worker printed on its standard output and error (the last few KiB).
    pub fn captured(&self) -> String {
        let bytes = self.captured.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Turns a failed exchange into a fault, killing the worker if it still runs.
    fn fault(&mut self, e: WireError) -> Fault {
        match e {
            WireError::Timeout => self.kill(Fault::Timeout(self.options.timeout)),
            WireError::TooLarge { size, limit } => self.kill(Fault::TooLarge { size, limit }),
            WireError::Garbage(m) => self.kill(Fault::Garbage(m)),
            WireError::Closed | WireError::Io(_) => {
                // The pipe closed: the worker is exiting or dead. Give it a moment to finish
                // so its status (and last words) tell what happened.
                let status = self.reap(Duration::from_millis(500));
                self.classify(status)
            }
        }
    }

    /// Kills and reaps the worker; returns `fault`.
    fn kill(&mut self, fault: Fault) -> Fault {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.to = None;
        fault
    }

    /// Waits up to `grace` for the worker to exit, then kills it; its exit status.
    fn reap(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        self.to = None;
        let until = Instant::now() + grace;
        loop {
            match self.child.try_wait() {
                Ok(Some(s)) => return Some(s),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(1)),
                _ => {
                    let _ = self.child.kill();
                    return self.child.wait().ok();
                }
            }
        }
    }

    /// What a dead worker's exit status (and its last output) says happened.
    fn classify(&mut self, status: Option<std::process::ExitStatus>) -> Fault {
        self.wait_for_output(Duration::from_millis(200));
        let oom = self.captured().contains("memory allocation of");
        match status {
            Some(_) if oom => Fault::OutOfMemory(self.options.memory),
            Some(s) => match (s.signal(), s.code()) {
                (Some(sig), _) => Fault::Signal(sys::signal_name(sig)),
                (None, Some(code)) => Fault::Exited(code),
                (None, None) => Fault::Exited(-1),
            },
            None => Fault::Signal("an unknown cause".into()),
        }
    }

    /// Lets the output thread read what a dead worker left in the capture pipe.
    fn wait_for_output(&mut self, at_most: Duration) {
        let until = Instant::now() + at_most;
        while self.drain.as_ref().is_some_and(|d| !d.is_finished()) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        if self.drain.as_ref().is_some_and(|d| d.is_finished())
            && let Some(d) = self.drain.take()
        {
            let _ = d.join();
        }
    }
}

impl Drop for Worker {
    /// Closing the request pipe tells the worker to exit; one that does not is killed.
    fn drop(&mut self) {
        if self.to.take().is_some() {
            let _ = self.reap(Duration::from_millis(200));
        }
    }
}

/// Reads a worker's standard output and error until it closes them, keeping the tail.
fn drain(fd: OwnedFd, captured: &Mutex<Vec<u8>>) {
    let mut file = std::fs::File::from(fd);
    let mut buf = [0u8; 4096];
    loop {
        match file.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let Ok(mut c) = captured.lock() else { return };
                c.extend_from_slice(buf.get(..n).unwrap_or_default());
                if c.len() > CAPTURE_TAIL {
                    let cut = c.len() - CAPTURE_TAIL;
                    c.drain(..cut);
                }
            }
        }
    }
}
