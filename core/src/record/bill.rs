//! Reading the record for a bill run (`tenor bill --month`): every quote's latest revision
//! with its current documents of one name, read by key one quote at a time so a run over the
//! whole book holds one document in memory, not the book.

use super::{Record, RecordError};
use rusqlite::{OptionalExtension, params};

impl Record {
    /// Every quote with its latest revision, by quote.
    pub fn latest_revisions(&self) -> Result<Vec<(String, u32)>, RecordError> {
        let mut stmt = self
            .conn
            .prepare("SELECT quote, MAX(revision) FROM revisions GROUP BY quote ORDER BY quote")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
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
        let found: Option<(u32, String, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT change_seq, sha256, body FROM documents
                 WHERE quote = ?1 AND revision = ?2 AND path = ?3
                   AND (?4 IS NULL OR change_seq = ?4)
                 ORDER BY change_seq DESC LIMIT 1",
                params![quote, revision, path, change_seq],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
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
