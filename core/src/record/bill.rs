//! Reading the record for a bill run (`tenor bill --month`): every quote's latest revision
//! with its current documents of one name, read by key one quote at a time so a run over the
//! whole book holds one document in memory, not the book.

use super::{Record, RecordError};
use rusqlite::{OptionalExtension, params};

/// A stored document: whole (one piece, checked), or a reader of its pieces.
pub enum Stored<'c> {
    /// The bytes.
    Whole(Vec<u8>),
    /// A reader that checks the hash at the end.
    Pieces(Box<super::chunks::DocumentReader<'c>>),
}

impl Record {
    /// Every quote with its latest revision, by quote.
    pub fn latest_revisions(&self) -> Result<Vec<(String, u32)>, RecordError> {
        let mut stmt = self
            .conn
            .prepare("SELECT quote, MAX(revision) FROM revisions GROUP BY quote ORDER BY quote")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A revision's current document `path` as [`Record::document_body`] finds it, to be
    /// read as a stream when it is stored in more than one piece.
    pub fn document_stream(
        &self,
        quote: &str,
        revision: u32,
        path: &str,
    ) -> Result<Option<Stored<'_>>, RecordError> {
        let Some((seq, sha, body)) = self.latest_document(quote, revision, path, None)? else {
            return Ok(None);
        };
        let key = (quote, revision, seq, path);
        if super::chunks::has_rest(&self.conn, key)? {
            let reader = super::chunks::DocumentReader::new(&self.conn, key, body, sha);
            return Ok(Some(Stored::Pieces(Box::new(reader))));
        }
        super::chunks::check(&body, &sha, || {
            format!("{path} of {quote} revision {revision} (change {seq})")
        })?;
        Ok(Some(Stored::Whole(body)))
    }

    /// A document's row: its change, hash and first piece.
    fn latest_document(
        &self,
        quote: &str,
        revision: u32,
        path: &str,
        change_seq: Option<u32>,
    ) -> Result<Option<(u32, String, Vec<u8>)>, RecordError> {
        Ok(self
            .conn
            .query_row(
                "SELECT change_seq, sha256, body FROM documents
                 WHERE quote = ?1 AND revision = ?2 AND path = ?3
                   AND (?4 IS NULL OR change_seq = ?4)
                 ORDER BY change_seq DESC LIMIT 1",
                params![quote, revision, path, change_seq],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    /// The bytes of a revision's document `path` as made by change `change_seq` (or its
    /// current one, the latest change's, when `None`), checked against the hash recorded with
    /// it; `None` when the revision holds no such document.
    pub fn document_body(
        &self,
        quote: &str,
        revision: u32,
        path: &str,
        change_seq: Option<u32>,
    ) -> Result<Option<Vec<u8>>, RecordError> {
        let found = self.latest_document(quote, revision, path, change_seq)?;
        let Some((seq, sha, mut body)) = found else {
            return Ok(None);
        };
        super::chunks::document_rest(&self.conn, (quote, revision, seq, path), &mut body)?;
        super::chunks::check(&body, &sha, || {
            format!("{path} of {quote} revision {revision} (change {seq})")
        })?;
        Ok(Some(body))
    }
}
