//! Reading the record: quotes, revisions, their current documents, changes and events.

use super::{Record, RecordError};
use rusqlite::{Connection, params};
use serde::Serialize;

/// One revision of a quote, without its documents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RevisionInfo {
    /// The quote id.
    pub quote: String,
    /// From 1.
    pub revision: u32,
    /// The quote file's name as given when accepted.
    pub quote_file: String,
    /// SHA-256 of the quote file's text.
    pub quote_sha256: String,
    /// SHA-256 of the rule files.
    pub rules_sha256: String,
    /// The rules' git commit, when they were a clean git work tree.
    pub rules_git: Option<String>,
    /// The documents' fingerprint.
    pub fingerprint: String,
    /// When it was accepted.
    pub accepted_at: String,
}

/// A document as stored, with its hash as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDocument {
    /// The change that made it (0: acceptance).
    pub change_seq: u32,
    /// Its file name in an export.
    pub path: String,
    /// `tenor` or a plugin's name.
    pub owner: String,
    /// Its kind.
    pub kind: String,
    /// SHA-256 recorded when it was written.
    pub sha256: String,
    /// Its bytes.
    pub body: Vec<u8>,
}

/// A change applied to a revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangeInfo {
    /// From 1, within the revision.
    pub seq: u32,
    /// The change order's id.
    pub change_order: String,
    /// The request (line, quantity, date) as JSON.
    pub request: serde_json::Value,
    /// When it was recorded.
    pub recorded_at: String,
}

/// One entry of a quote's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The quote id.
    pub quote: String,
    /// From 1, within the quote.
    pub seq: u32,
    /// The revision it concerns.
    pub revision: u32,
    /// When.
    pub at: String,
    /// `accept`, `revise`, `change` or `export`.
    pub kind: String,
    /// What it did.
    pub detail: serde_json::Value,
}

pub(super) const REVISION_COLUMNS: &str = "quote, revision, quote_file, quote_sha256, rules_sha256, \
     rules_git, fingerprint, accepted_at";

pub(super) fn revision_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RevisionInfo> {
    Ok(RevisionInfo {
        quote: r.get(0)?,
        revision: r.get(1)?,
        quote_file: r.get(2)?,
        quote_sha256: r.get(3)?,
        rules_sha256: r.get(4)?,
        rules_git: r.get(5)?,
        fingerprint: r.get(6)?,
        accepted_at: r.get(7)?,
    })
}

/// Text that should hold JSON, as JSON (or as a string when it does not).
fn json_of(text: String) -> serde_json::Value {
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
}

impl Record {
    /// Every quote id, sorted.
    pub fn quotes(&self) -> Result<Vec<String>, RecordError> {
        let mut stmt = self
            .conn
            .prepare("SELECT quote FROM quotes ORDER BY quote")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every revision of a quote, oldest first; an unknown quote is an error.
    pub fn revisions(&self, quote: &str) -> Result<Vec<RevisionInfo>, RecordError> {
        revisions_in(&self.conn, quote)
    }

    /// Revision `n` of a quote, or its latest.
    pub fn revision(&self, quote: &str, n: Option<u32>) -> Result<RevisionInfo, RecordError> {
        revision_in(&self.conn, quote, n)
    }

    /// The priced quote (`tenor.priced-quote/1`) and the quote text of a revision.
    pub fn revision_texts(&self, quote: &str, n: u32) -> Result<(String, String), RecordError> {
        let (column, text): (String, String) = self.conn.query_row(
            "SELECT priced, quote_text FROM revisions WHERE quote = ?1 AND revision = ?2",
            params![quote, n],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        use super::chunks::{Part, revision_part};
        Ok((
            revision_part(&self.conn, (quote, n, Part::Priced), column)?,
            revision_part(&self.conn, (quote, n, Part::Quote), text)?,
        ))
    }

    /// The rule files of a revision as (path, sha256), by path.
    pub fn rule_files(&self, quote: &str, n: u32) -> Result<Vec<(String, String)>, RecordError> {
        let mut stmt = self.conn.prepare(
            "SELECT path, sha256 FROM rule_files WHERE quote = ?1 AND revision = ?2 ORDER BY path",
        )?;
        let rows = stmt.query_map(params![quote, n], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A revision's current documents: per path, the one of its latest change; by path.
    pub fn documents(&self, quote: &str, n: u32) -> Result<Vec<StoredDocument>, RecordError> {
        documents_in(&self.conn, quote, n)
    }

    /// The changes applied to a revision, oldest first.
    pub fn changes(&self, quote: &str, n: u32) -> Result<Vec<ChangeInfo>, RecordError> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, change_order, request, recorded_at FROM changes
             WHERE quote = ?1 AND revision = ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![quote, n], |r| {
            Ok(ChangeInfo {
                seq: r.get(0)?,
                change_order: r.get(1)?,
                request: json_of(r.get(2)?),
                recorded_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The log: every event of `quote` (or of every quote), by quote then order.
    pub fn events(&self, quote: Option<&str>) -> Result<Vec<Event>, RecordError> {
        if let Some(q) = quote {
            revisions_in(&self.conn, q)?;
        }
        let mut stmt = self.conn.prepare(
            "SELECT quote, seq, revision, at, kind, detail FROM events
             WHERE ?1 IS NULL OR quote = ?1 ORDER BY quote, seq",
        )?;
        let rows = stmt.query_map([quote], |r| {
            Ok(Event {
                quote: r.get(0)?,
                seq: r.get(1)?,
                revision: r.get(2)?,
                at: r.get(3)?,
                kind: r.get(4)?,
                detail: json_of(r.get(5)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Record {
    /// A revision's current documents as [`Record::documents`] gives them, except that one
    /// stored in more than one piece comes with its first piece only, paired with `false`:
    /// [`Record::write_document_rest`] writes the rest, so a document of gigabytes is never
    /// held whole.
    pub fn documents_first(
        &self,
        quote: &str,
        n: u32,
    ) -> Result<Vec<(StoredDocument, bool)>, RecordError> {
        let mut docs = Vec::new();
        for d in documents_heads(&self.conn, quote, n)? {
            let key = (quote, n, d.change_seq, d.path.as_str());
            let whole = !super::chunks::has_rest(&self.conn, key)?;
            docs.push((d, whole));
        }
        Ok(docs)
    }

    /// The length of a document that [`Record::documents_first`] gave with its first piece.
    pub fn document_len(
        &self,
        quote: &str,
        n: u32,
        d: &StoredDocument,
    ) -> Result<u64, RecordError> {
        let key = (quote, n, d.change_seq, d.path.as_str());
        super::chunks::stored_len(&self.conn, key, d.body.len())
    }

    /// Writes the pieces after the first of a revision's document to `out`, in order.
    pub fn write_document_rest(
        &self,
        quote: &str,
        n: u32,
        change_seq: u32,
        path: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<(), RecordError> {
        super::chunks::write_rest(&self.conn, (quote, n, change_seq, path), out)
    }
}

/// [`Record::revisions`] on a connection (or a transaction).
pub(super) fn revisions_in(
    conn: &Connection,
    quote: &str,
) -> Result<Vec<RevisionInfo>, RecordError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {REVISION_COLUMNS} FROM revisions WHERE quote = ?1 ORDER BY revision"
    ))?;
    let rows: Vec<RevisionInfo> = stmt
        .query_map([quote], revision_row)?
        .collect::<Result<_, _>>()?;
    if rows.is_empty() {
        return Err(RecordError::NoQuote(quote.into()));
    }
    Ok(rows)
}

/// [`Record::revision`] on a connection (or a transaction).
pub(super) fn revision_in(
    conn: &Connection,
    quote: &str,
    n: Option<u32>,
) -> Result<RevisionInfo, RecordError> {
    let all = revisions_in(conn, quote)?;
    let found = match n {
        Some(n) => all.into_iter().find(|r| r.revision == n),
        None => all.into_iter().last(),
    };
    found.ok_or_else(|| RecordError::NoRevision {
        quote: quote.into(),
        revision: n.unwrap_or(0),
    })
}

/// [`Record::documents`] on a connection (or a transaction).
pub(super) fn documents_in(
    conn: &Connection,
    quote: &str,
    n: u32,
) -> Result<Vec<StoredDocument>, RecordError> {
    let mut docs = documents_heads(conn, quote, n)?;
    for d in &mut docs {
        let key = (quote, n, d.change_seq, d.path.as_str());
        super::chunks::document_rest(conn, key, &mut d.body)?;
    }
    Ok(docs)
}

/// A revision's current documents, each with its first piece as its body.
fn documents_heads(
    conn: &Connection,
    quote: &str,
    n: u32,
) -> Result<Vec<StoredDocument>, RecordError> {
    let mut stmt = conn.prepare(
        "SELECT d.change_seq, d.path, d.owner, d.kind, d.sha256, d.body FROM documents d
         WHERE d.quote = ?1 AND d.revision = ?2 AND d.change_seq = (
             SELECT MAX(e.change_seq) FROM documents e
             WHERE e.quote = d.quote AND e.revision = d.revision AND e.path = d.path)
         ORDER BY d.path",
    )?;
    let rows = stmt.query_map(params![quote, n], |r| {
        Ok(StoredDocument {
            change_seq: r.get(0)?,
            path: r.get(1)?,
            owner: r.get(2)?,
            kind: r.get(3)?,
            sha256: r.get(4)?,
            body: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
