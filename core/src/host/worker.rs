//! The worker side: `tenor __plugin-worker LIB IN OUT` (hidden from `--help`), started by the
//! host once per plugin. It loads the library from descriptor LIB (the host's sealed copy of
//! the bytes it checked) and answers the host's requests from descriptor IN on descriptor OUT.
//! Its standard output and error are the host's capture pipe, so nothing a plugin prints
//! reaches the user's terminal or a command's JSON.

use super::inproc::Library;
use super::wire::{self, Header, STATUS_LOAD_FAILED, WIRE_VERSION};
use std::ffi::OsString;
use std::path::PathBuf;

/// The hidden first argument that turns `tenor` into a plugin worker.
pub const WORKER_ARG: &str = "__plugin-worker";

/// True when `tenor` was started as a plugin worker.
pub fn is_worker(args: &[OsString]) -> bool {
    args.get(1).is_some_and(|a| a == WORKER_ARG)
}

/// Runs the worker until the host closes its request pipe; the process's exit code (0 when
/// the host said goodbye, 2 for a bad command line, 3 for a broken pipe).
pub fn main(args: &[OsString]) -> u8 {
    let fd = |i: usize| -> Option<i32> { args.get(i)?.to_str()?.parse().ok() };
    let (Some(lib_fd), Some(in_fd), Some(out_fd)) = (fd(2), fd(3), fd(4)) else {
        return 2;
    };
    let (Ok(lib), Ok(input), Ok(output)) = (
        super::sys::inherited(lib_fd),
        super::sys::inherited(in_fd),
        super::sys::inherited(out_fd),
    ) else {
        return 2;
    };
    let mut input = std::fs::File::from(input);
    let mut output = std::io::BufWriter::new(std::fs::File::from(output));
    let path = PathBuf::from(format!("/proc/self/fd/{lib_fd}"));
    let hello = |status: i32| Header {
        status: Some(status),
        wire: Some(WIRE_VERSION),
        op: None,
    };
    let library = match Library::open(&path) {
        Ok(l) => l,
        Err(message) => {
            let _ =
                wire::write_blocking(&mut output, &hello(STATUS_LOAD_FAILED), message.as_bytes());
            return 0;
        }
    };
    drop(lib);
    if wire::write_blocking(&mut output, &hello(0), &library.info_json()).is_err() {
        return 3;
    }
    serve(&library, &mut input, &mut output)
}

/// Answers requests until the host closes the pipe.
fn serve(library: &Library, input: &mut std::fs::File, output: &mut impl std::io::Write) -> u8 {
    loop {
        let (header, body) = match wire::read_blocking(input) {
            Ok(Some(m)) => m,
            Ok(None) => return 0,
            Err(_) => return 3,
        };
        let op = header.op.unwrap_or_default();
        let (status, out) = library.call(&op, &body);
        let answer = Header {
            status: Some(status),
            ..Header::default()
        };
        if wire::write_blocking(output, &answer, &out).is_err() {
            return 3;
        }
    }
}
