//! A reconciliation's fixes to a PSA, recorded as documents of the revision they fix (kind
//! `psa-fix`, `tenor.psa-fix/1`): `tenor push` then sends them as it sends every document, a
//! run killed half-way is resumed by the next, and a fix sent is never sent again.

use super::write::{Document, event, insert_document};
use super::{Record, RecordError};
use rusqlite::{OptionalExtension, params};

/// The kind a fix document is recorded under.
pub const PSA_FIX: &str = "psa-fix";

impl Record {
    /// Records the fix document `path` for the revision, and an event saying so whose detail
    /// is `about` with the document named; `false` (nothing written) when the revision
    /// already holds a document of that path, as a rerun of the same fixes does.
    pub fn record_fix(
        &mut self,
        (quote, revision): (&str, u32),
        path: &str,
        body: &[u8],
        about: &serde_json::Value,
    ) -> Result<bool, RecordError> {
        self.immediate(|tx| {
            let there: Option<String> = tx
                .query_row(
                    "SELECT path FROM documents WHERE quote = ?1 AND revision = ?2 AND path = ?3",
                    params![quote, revision, path],
                    |r| r.get(0),
                )
                .optional()?;
            if there.is_some() {
                return Ok(false);
            }
            let d = Document {
                path: path.to_string(),
                owner: "tenor".into(),
                kind: PSA_FIX.into(),
                body: body.to_vec(),
            };
            insert_document(tx, quote, revision, 0, &d)?;
            event(tx, quote, revision, PSA_FIX, &with_document(about, path))?;
            Ok(true)
        })
    }

    /// The latest pull completed for the customer and month (its conversation's row), which a
    /// fix worked out from it names: fixes from a newer pull are new fixes, the same fixes
    /// from the same pull are the same document.
    pub fn latest_pull(&self, customer: &str, month: &str) -> Result<Option<i64>, RecordError> {
        Ok(self.conn.query_row(
            "SELECT MAX(rowid) FROM conversations
             WHERE direction = 'pull' AND state = 'done' AND customer = ?1
               AND (month IS NULL OR month = ?2)",
            params![customer, month],
            |r| r.get::<_, Option<i64>>(0),
        )?)
    }
}

/// `about` with `document` set to the path.
fn with_document(about: &serde_json::Value, path: &str) -> serde_json::Value {
    let mut v = about.clone();
    if let Some(o) = v.as_object_mut() {
        o.insert("document".into(), path.into());
    }
    v
}
