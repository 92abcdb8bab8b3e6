//! The frames between the host and a plugin's worker, over two pipes that are not the
//! worker's standard streams. A message is two frames, each an 8-byte little-endian length
//! and that many bytes: a small JSON [`Header`], then the body (the operation's JSON input or
//! output, or a message). The host reads with a deadline and checks every length before it
//! allocates; the worker, which trusts its host, reads plainly.

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::time::Instant;

/// Version of these frames and headers, checked when a worker says hello: a `tenor` worker
/// binary from another build is refused instead of misunderstood.
pub const WIRE_VERSION: u32 = 1;

/// The largest header either side sends; a longer one is not a header.
pub const MAX_HEADER: u64 = 64 << 10;

/// Status of a worker that could not load its library; the body says why.
pub const STATUS_LOAD_FAILED: i32 = 100;

/// What precedes a body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Request: the operation to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// Response: the ABI status of the call (or [`STATUS_LOAD_FAILED`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
    /// Hello: the worker's [`WIRE_VERSION`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire: Option<u32>,
}

/// Why a message could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The deadline passed.
    #[error("timed out")]
    Timeout,
    /// The other side closed its end.
    #[error("the pipe was closed")]
    Closed,
    /// A body longer than allowed was announced.
    #[error("announced {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The announced length.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Bytes that are not a message.
    #[error("{0}")]
    Garbage(String),
    /// The pipe failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A message's bytes: header frame, body frame.
pub fn encode(header: &Header, body: &[u8]) -> Vec<u8> {
    let header = serde_json::to_vec(header).unwrap_or_default();
    let mut v = Vec::with_capacity(16 + header.len() + body.len());
    v.extend_from_slice(&(header.len() as u64).to_le_bytes());
    v.extend_from_slice(&header);
    v.extend_from_slice(&(body.len() as u64).to_le_bytes());
    v.extend_from_slice(body);
    v
}

/// Worker side: reads one message, blocking; `None` when the host closed the pipe between
/// messages.
pub fn read_blocking(r: &mut impl Read) -> Result<Option<(Header, Vec<u8>)>, WireError> {
    let mut len = [0u8; 8];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let header = read_body(r, u64::from_le_bytes(len), MAX_HEADER)?;
    let header: Header =
        serde_json::from_slice(&header).map_err(|e| WireError::Garbage(e.to_string()))?;
    r.read_exact(&mut len)?;
    let body = read_body(r, u64::from_le_bytes(len), u64::MAX)?;
    Ok(Some((header, body)))
}

fn read_body(r: &mut impl Read, size: u64, limit: u64) -> Result<Vec<u8>, WireError> {
    if size > limit {
        return Err(WireError::TooLarge { size, limit });
    }
    let mut v = Vec::new();
    r.take(size).read_to_end(&mut v)?;
    if (v.len() as u64) < size {
        return Err(WireError::Closed);
    }
    Ok(v)
}

/// Worker side: writes one message.
pub fn write_blocking(w: &mut impl Write, header: &Header, body: &[u8]) -> std::io::Result<()> {
    w.write_all(&encode(header, body))?;
    w.flush()
}

/// Host side: one end of a pipe in non-blocking mode, read and written against a deadline.
#[derive(Debug)]
pub struct Pipe {
    file: std::fs::File,
}

impl Pipe {
    /// Wraps a pipe end, switching it to non-blocking mode.
    pub fn new(fd: std::os::fd::OwnedFd) -> std::io::Result<Pipe> {
        crate::host::sys::set_nonblocking(fd.as_raw_fd())?;
        Ok(Pipe { file: fd.into() })
    }

    /// Writes all of `bytes` before `deadline`.
    pub fn write_all(&mut self, mut bytes: &[u8], deadline: Instant) -> Result<(), WireError> {
        while !bytes.is_empty() {
            match self.file.write(bytes) {
                Ok(0) => return Err(WireError::Closed),
                Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.wait(libc::POLLOUT, deadline)?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    return Err(WireError::Closed);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Reads one message whose body is at most `limit` bytes before `deadline`. The length is
    /// checked before anything of the body is read or allocated.
    pub fn read_message(
        &mut self,
        limit: u64,
        deadline: Instant,
    ) -> Result<(Header, Vec<u8>), WireError> {
        let size = self.read_len(deadline)?;
        if size > MAX_HEADER {
            return Err(WireError::Garbage(format!(
                "a header of {size} bytes (at most {MAX_HEADER})"
            )));
        }
        let header = self.read_exact(size, deadline)?;
        let header: Header = serde_json::from_slice(&header).map_err(|e| {
            WireError::Garbage(format!(
                "a header that is not JSON ({e}): {:?}",
                String::from_utf8_lossy(header.get(..80).unwrap_or(&header))
            ))
        })?;
        let size = self.read_len(deadline)?;
        if size > limit {
            return Err(WireError::TooLarge { size, limit });
        }
        Ok((header, self.read_exact(size, deadline)?))
    }

    fn read_len(&mut self, deadline: Instant) -> Result<u64, WireError> {
        let b = self.read_exact(8, deadline)?;
        let mut len = [0u8; 8];
        len.copy_from_slice(b.get(..8).unwrap_or(&[0; 8]));
        Ok(u64::from_le_bytes(len))
    }

    fn read_exact(&mut self, size: u64, deadline: Instant) -> Result<Vec<u8>, WireError> {
        let size = usize::try_from(size).map_err(|_| WireError::Garbage("a length".into()))?;
        let mut v = vec![0u8; size];
        let mut got = 0;
        while got < size {
            let Some(rest) = v.get_mut(got..) else { break };
            match self.file.read(rest) {
                Ok(0) => return Err(WireError::Closed),
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.wait(libc::POLLIN, deadline)?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(v)
    }

    fn wait(&self, events: libc::c_short, deadline: Instant) -> Result<(), WireError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(WireError::Timeout);
        }
        // Rounded up so a wait never spins on a zero timeout just before the deadline.
        let ms = i32::try_from(left.as_millis() + 1).unwrap_or(i32::MAX);
        match crate::host::sys::poll(self.file.as_raw_fd(), events, ms)? {
            true => Ok(()),
            false if Instant::now() >= deadline => Err(WireError::Timeout),
            false => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pair() -> (Pipe, std::fs::File) {
        let (r, w) = crate::host::sys::pipe().unwrap();
        (Pipe::new(r).unwrap(), std::fs::File::from(w))
    }

    #[test]
    fn a_message_reads_back_as_written() {
        let (mut r, mut w) = pair();
        let h = Header {
            status: Some(0),
            ..Header::default()
        };
        write_blocking(&mut w, &h, b"[1,2]").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let (got, body) = r.read_message(5, deadline).unwrap();
        assert_eq!((got, body.as_slice()), (h, &b"[1,2]"[..]));
    }

    #[test]
    fn a_body_over_the_limit_is_refused_on_its_length_alone() {
        let (mut r, mut w) = pair();
        // Announces 1 TiB and sends none of it: the limit must be checked before reading.
        let mut bytes = encode(&Header::default(), b"");
        let at = bytes.len() - 8;
        bytes.splice(at.., (1u64 << 40).to_le_bytes());
        w.write_all(&bytes).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        match r.read_message(1 << 20, deadline) {
            Err(WireError::TooLarge { size, limit }) => {
                assert_eq!((size, limit), (1 << 40, 1 << 20));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_silence_and_a_closed_pipe_are_told_apart() {
        let (mut r, mut w) = pair();
        w.write_all(b"this is not a frame\n").unwrap();
        let soon = Instant::now() + Duration::from_secs(5);
        assert!(matches!(
            r.read_message(10, soon),
            Err(WireError::Garbage(_))
        ));
        let (mut r, w) = pair();
        let start = Instant::now();
        let soon = start + Duration::from_millis(100);
        assert!(matches!(r.read_message(10, soon), Err(WireError::Timeout)));
        assert!(start.elapsed() >= Duration::from_millis(100));
        drop(w);
        let soon = Instant::now() + Duration::from_secs(5);
        assert!(matches!(r.read_message(10, soon), Err(WireError::Closed)));
    }
}
