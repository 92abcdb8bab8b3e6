//! Bodies too large to bind as one value: a document or priced quote written into the record
//! piece by piece as it is made, and read back whole. SQLite refuses a value over 1 GB (a
//! million-line three-year schedule is ten times that), and binding one copies it twice; a
//! body here is cut into [`CHUNK`]-byte pieces, hashed as it streams, and never held whole.
//!
//! A document's first piece stays in `documents.body` (so a small document is stored exactly
//! as before) and the rest go to `document_chunks` from `seq` 1. A priced quote or quote text
//! that fits one piece stays in its column of `revisions`; a longer one is all in
//! `revision_chunks` from `seq` 0, and the column holds the priced quote's head (the same
//! document with `"lines": []`, which the index on its customer reads) or an empty text. Pieces in the chunk tables are compressed (zlib, fast level): a long
//! document repeats itself line after line, and stored raw a million-line three-year schedule
//! would take 19 GB of disk where it takes under one. The hash is of the bytes as made.

use super::{RecordError, sha256_hex};
use crate::files::export::hex_digest;
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// The size of one stored piece.
pub const CHUNK: usize = 8 << 20;

/// Writes a body's bytes: called again from the start if the transaction is retried.
pub type WriteBody<'a> = &'a dyn Fn(&mut dyn Write) -> io::Result<()>;

/// Where the pieces after the first go.
enum Target<'q> {
    Document {
        quote: &'q str,
        revision: u32,
        change_seq: u32,
        path: &'q str,
    },
    Revision {
        quote: &'q str,
        revision: u32,
        part: Part,
    },
}

/// A text of a revision that may be stored in pieces.
#[derive(Clone, Copy, Debug)]
pub enum Part {
    /// The priced quote, `revisions.priced`.
    Priced,
    /// The quote as written, `revisions.quote_text`.
    Quote,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Priced => "priced",
            Part::Quote => "quote",
        }
    }
}

/// A body being written: the first piece kept, each later one stored as soon as it is full.
struct Pieces<'t, 'q> {
    tx: &'t Connection,
    target: Target<'q>,
    first: Vec<u8>,
    current: Vec<u8>,
    /// The `seq` the next stored piece takes.
    seq: u32,
    hash: Sha256,
    failed: Option<rusqlite::Error>,
}

impl<'t, 'q> Pieces<'t, 'q> {
    fn new(tx: &'t Connection, target: Target<'q>) -> Self {
        Pieces {
            tx,
            target,
            first: Vec::new(),
            current: Vec::new(),
            seq: 1,
            hash: Sha256::new(),
            failed: None,
        }
    }

    /// Stores the current piece under the next `seq`.
    fn store(&mut self) -> io::Result<()> {
        let piece = std::mem::take(&mut self.current);
        let packed = pack(&piece)?;
        let done = match &self.target {
            Target::Document {
                quote,
                revision,
                change_seq,
                path,
            } => self.tx.execute(
                "INSERT INTO document_chunks (quote, revision, change_seq, path, seq, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![quote, revision, change_seq, path, self.seq, packed],
            ),
            Target::Revision {
                quote,
                revision,
                part,
            } => self.tx.execute(
                "INSERT INTO revision_chunks (quote, revision, part, seq, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![quote, revision, part.name(), self.seq, packed],
            ),
        };
        self.seq += 1;
        self.current = piece;
        self.current.clear();
        done.map(drop).map_err(|e| {
            let message = e.to_string();
            self.failed = Some(e);
            io::Error::other(message)
        })
    }

    /// Whether any piece after the first was stored.
    fn spilled(&self) -> bool {
        self.seq > 1 || !self.current.is_empty()
    }

    /// Stores what is left; gives the first piece and the body's SHA-256.
    fn finish(mut self) -> Result<(Vec<u8>, String), RecordError> {
        if !self.current.is_empty() {
            self.store().map_err(|e| self.error(e))?;
        }
        let sha = self.hash.finalize_reset();
        Ok((std::mem::take(&mut self.first), hex_digest(&sha)))
    }

    /// The error behind a failed write: the database's own when it was the database.
    fn error(&mut self, e: io::Error) -> RecordError {
        match self.failed.take() {
            Some(db) => RecordError::Db(db),
            None => io_error(&e),
        }
    }
}

impl Write for Pieces<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hash.update(buf);
        let mut rest = buf;
        if self.first.len() < CHUNK {
            let n = (CHUNK - self.first.len()).min(rest.len());
            let (head, tail) = rest.split_at(n);
            self.first.extend_from_slice(head);
            rest = tail;
        }
        while !rest.is_empty() {
            let n = (CHUNK - self.current.len()).min(rest.len());
            let (head, tail) = rest.split_at(n);
            self.current.extend_from_slice(head);
            rest = tail;
            if self.current.len() == CHUNK {
                self.store()?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The pieces of the body `write` makes for `target`, all but what is held stored.
fn filled<'t, 'q>(
    tx: &'t Connection,
    target: Target<'q>,
    write: WriteBody<'_>,
) -> Result<Pieces<'t, 'q>, RecordError> {
    let mut pieces = Pieces::new(tx, target);
    match write(&mut pieces) {
        Ok(()) => Ok(pieces),
        Err(e) => Err(pieces.error(e)),
    }
}

/// Writes the body of a document whose row (with an empty body) is inserted: its first
/// piece and hash go into that row, the rest into `document_chunks`.
pub(super) fn write_document(
    tx: &Connection,
    (quote, revision, change_seq, path): (&str, u32, u32, &str),
    write: WriteBody<'_>,
) -> Result<(), RecordError> {
    let target = Target::Document {
        quote,
        revision,
        change_seq,
        path,
    };
    let (first, sha) = filled(tx, target, write)?.finish()?;
    tx.execute(
        "UPDATE documents SET body = ?5, sha256 = ?6
         WHERE quote = ?1 AND revision = ?2 AND change_seq = ?3 AND path = ?4",
        params![quote, revision, change_seq, path, first, sha],
    )?;
    Ok(())
}

/// Writes a text of a revision whose row is inserted: whole into its column when it fits one
/// piece, else into `revision_chunks` with `head` in the column.
pub(super) fn write_revision_part(
    tx: &Connection,
    (quote, revision, part): (&str, u32, Part),
    write: WriteBody<'_>,
    head: &str,
) -> Result<(), RecordError> {
    let target = Target::Revision {
        quote,
        revision,
        part,
    };
    let pieces = filled(tx, target, write)?;
    let spilled = pieces.spilled();
    let (first, _) = pieces.finish()?;
    let column = if spilled {
        tx.execute(
            "INSERT INTO revision_chunks (quote, revision, part, seq, bytes)
             VALUES (?1, ?2, ?3, 0, ?4)",
            params![
                quote,
                revision,
                part.name(),
                pack(&first).map_err(|e| io_error(&e))?
            ],
        )?;
        head.to_string()
    } else {
        String::from_utf8(first).map_err(|_| not_utf8(quote, revision, part))?
    };
    let sql = match part {
        Part::Priced => "UPDATE revisions SET priced = ?3 WHERE quote = ?1 AND revision = ?2",
        Part::Quote => "UPDATE revisions SET quote_text = ?3 WHERE quote = ?1 AND revision = ?2",
    };
    tx.execute(sql, params![quote, revision, column])?;
    Ok(())
}

/// A stored text of a revision that is not UTF-8.
fn not_utf8(quote: &str, revision: u32, part: Part) -> RecordError {
    RecordError::Inconsistent(format!(
        "the {} text of {quote} revision {revision} is not UTF-8",
        part.name()
    ))
}

/// Appends a document's pieces after the first to `body`, in order.
pub(super) fn document_rest(
    conn: &Connection,
    key: (&str, u32, u32, &str),
    body: &mut Vec<u8>,
) -> Result<(), RecordError> {
    write_rest(conn, key, body)
}

/// Whether a document has pieces after its first.
pub(super) fn has_rest(
    conn: &Connection,
    (quote, revision, change_seq, path): (&str, u32, u32, &str),
) -> Result<bool, RecordError> {
    let mut stmt = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM document_chunks
         WHERE quote = ?1 AND revision = ?2 AND change_seq = ?3 AND path = ?4)",
    )?;
    Ok(stmt.query_row(params![quote, revision, change_seq, path], |r| r.get(0))?)
}

/// The length of a document of more than one piece whose first is `first` bytes: every piece
/// but the last is [`CHUNK`] bytes, so only the last is read.
pub(super) fn stored_len(
    conn: &Connection,
    (quote, revision, change_seq, path): (&str, u32, u32, &str),
    first: usize,
) -> Result<u64, RecordError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, bytes FROM document_chunks
         WHERE quote = ?1 AND revision = ?2 AND change_seq = ?3 AND path = ?4
         ORDER BY seq DESC LIMIT 1",
    )?;
    let mut rows = stmt.query(params![quote, revision, change_seq, path])?;
    let Some(row) = rows.next()? else {
        return Ok(first as u64);
    };
    let last_seq: u64 = row.get(0)?;
    let mut last = Vec::new();
    unpack(
        row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?,
        &mut last,
    )?;
    Ok(first as u64 + (last_seq - 1) * CHUNK as u64 + last.len() as u64)
}

/// Writes a document's pieces after the first to `out`, in order, one piece in memory at a
/// time.
pub(super) fn write_rest(
    conn: &Connection,
    (quote, revision, change_seq, path): (&str, u32, u32, &str),
    out: &mut dyn Write,
) -> Result<(), RecordError> {
    let mut stmt = conn.prepare_cached(
        "SELECT bytes FROM document_chunks
         WHERE quote = ?1 AND revision = ?2 AND change_seq = ?3 AND path = ?4 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![quote, revision, change_seq, path])?;
    let mut piece = Vec::with_capacity(CHUNK);
    while let Some(row) = rows.next()? {
        piece.clear();
        unpack(
            row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?,
            &mut piece,
        )?;
        out.write_all(&piece).map_err(|e| io_error(&e))?;
    }
    Ok(())
}

/// A stored document read as a stream: its first piece, then each later piece when it is
/// needed, one in memory at a time; hashed as it is read, and at the end checked against the
/// sha256 recorded with it (a mismatch is an error in place of the end).
pub struct DocumentReader<'c> {
    conn: &'c Connection,
    key: (String, u32, u32, String),
    next: u32,
    piece: Vec<u8>,
    at: usize,
    hash: Sha256,
    sha: String,
    ended: bool,
}

impl<'c> DocumentReader<'c> {
    /// A reader of the document `key` whose first piece is `first` and hash `sha`.
    pub(super) fn new(
        conn: &'c Connection,
        (quote, revision, change_seq, path): (&str, u32, u32, &str),
        first: Vec<u8>,
        sha: String,
    ) -> Self {
        DocumentReader {
            conn,
            key: (quote.into(), revision, change_seq, path.into()),
            next: 1,
            piece: first,
            at: 0,
            hash: Sha256::new(),
            sha,
            ended: false,
        }
    }

    /// Loads the next piece; false at the end.
    fn load(&mut self) -> io::Result<bool> {
        let (quote, revision, change_seq, path) = &self.key;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT bytes FROM document_chunks
                 WHERE quote = ?1 AND revision = ?2 AND change_seq = ?3 AND path = ?4 AND seq = ?5",
            )
            .map_err(io::Error::other)?;
        let mut rows = stmt
            .query(params![quote, revision, change_seq, path, self.next])
            .map_err(io::Error::other)?;
        let Some(row) = rows.next().map_err(io::Error::other)? else {
            return Ok(false);
        };
        let packed = row
            .get_ref(0)
            .and_then(|v| v.as_blob().map_err(rusqlite::Error::from))
            .map_err(io::Error::other)?;
        self.piece.clear();
        unpack(packed, &mut self.piece).map_err(io::Error::other)?;
        self.next += 1;
        self.at = 0;
        Ok(true)
    }
}

impl io::Read for DocumentReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.piece.len() {
            if self.ended {
                return Ok(0);
            }
            if !self.load()? {
                self.ended = true;
                let sha = hex_digest(&std::mem::take(&mut self.hash).finalize());
                if sha != self.sha {
                    return Err(io::Error::other(format!(
                        "{} of {} revision {} does not match the sha256 recorded with it",
                        self.key.3, self.key.0, self.key.1
                    )));
                }
                return Ok(0);
            }
        }
        let rest = self.piece.get(self.at..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        let (src, dst) = (
            rest.get(..n).unwrap_or_default(),
            buf.get_mut(..n).unwrap_or_default(),
        );
        dst.copy_from_slice(src);
        self.hash.update(src);
        self.at += n;
        Ok(n)
    }
}

/// A text of a revision: its column, or its pieces when it was stored in pieces.
pub(super) fn revision_part(
    conn: &Connection,
    (quote, revision, part): (&str, u32, Part),
    column: String,
) -> Result<String, RecordError> {
    let mut stmt = conn.prepare_cached(
        "SELECT bytes FROM revision_chunks
         WHERE quote = ?1 AND revision = ?2 AND part = ?3 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![quote, revision, part.name()])?;
    let mut all: Option<Vec<u8>> = None;
    while let Some(row) = rows.next()? {
        let piece = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
        unpack(piece, all.get_or_insert_with(Vec::new))?;
    }
    match all {
        None => Ok(column),
        Some(bytes) => String::from_utf8(bytes).map_err(|_| not_utf8(quote, revision, part)),
    }
}

/// A piece compressed for a chunk table.
fn pack(piece: &[u8]) -> io::Result<Vec<u8>> {
    let mut z = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(piece.len() / 8),
        flate2::Compression::fast(),
    );
    z.write_all(piece)?;
    z.finish()
}

/// Appends a chunk table's piece, uncompressed, to `out`.
fn unpack(packed: &[u8], out: &mut Vec<u8>) -> Result<(), RecordError> {
    use std::io::Read;
    flate2::read::ZlibDecoder::new(packed)
        .read_to_end(out)
        .map(drop)
        .map_err(|e| RecordError::Inconsistent(format!("a stored piece does not decompress: {e}")))
}

/// A write failure as the record's error.
fn io_error(e: &io::Error) -> RecordError {
    RecordError::Inconsistent(format!("a body could not be written: {e}"))
}

/// Checks a whole body against the hash recorded with it.
pub(super) fn check(
    body: &[u8],
    sha: &str,
    what: impl FnOnce() -> String,
) -> Result<(), RecordError> {
    if sha256_hex(body) == sha {
        Ok(())
    } else {
        Err(RecordError::Inconsistent(format!(
            "the record's {} does not match the sha256 recorded with it",
            what()
        )))
    }
}
