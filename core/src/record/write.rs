//! Writing the record: an accepted quote as a revision with its documents, and exports.

use super::chunks::{self, Part, WriteBody};
use super::{Record, RecordError, clock, sha256_hex};
use rusqlite::{OptionalExtension, Transaction, params};

/// One document made from a revision: its file name in an export, who made it (`tenor`, or
/// the plugin's name), its kind and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// The file name (or relative path) it is exported as.
    pub path: String,
    /// `tenor`, or the plugin that rendered it.
    pub owner: String,
    /// `sales-order`, `purchase-order`, `invoice-schedule`, `recurring-template`,
    /// `accept-summary`, `change-order`, or a plugin's own kind.
    pub kind: String,
    /// Its exact bytes.
    pub body: Vec<u8>,
}

/// A document written into the record as it is made, never held whole (a schedule of
/// millions of charges): as [`Document`], its bytes given by `write`.
pub struct StreamedDocument<'a> {
    /// The file name it is exported as.
    pub path: &'a str,
    /// `tenor`, or the plugin that rendered it.
    pub owner: &'a str,
    /// As [`Document::kind`].
    pub kind: &'a str,
    /// Writes its exact bytes (again from the start, if the transaction is retried).
    pub write: WriteBody<'a>,
}

/// The priced quote of a revision: whole, or written as it is made.
pub enum PricedBody<'a> {
    /// The whole text.
    Text(&'a str),
    /// Written by `write`; `head` is the same document with `"lines": []`.
    Streamed {
        /// Writes the whole text.
        write: WriteBody<'a>,
        /// The priced quote without its lines.
        head: &'a str,
    },
}

/// Everything one acceptance records.
pub struct NewRevision<'a> {
    /// The quote id.
    pub quote: &'a str,
    /// The quote file's name, as given.
    pub quote_file: &'a str,
    /// The quote file's text, as written.
    pub quote_text: &'a str,
    /// Each rule file's name and text.
    pub rules: &'a [(String, String)],
    /// The rules' git commit, when they are a clean git work tree.
    pub rules_git: Option<String>,
    /// The documents' fingerprint (the quote as parsed and the rules).
    pub fingerprint: &'a str,
    /// The priced quote (`tenor.priced-quote/1`).
    pub priced: PricedBody<'a>,
    /// Every document held whole.
    pub documents: &'a [Document],
    /// Every document written as it is made.
    pub streamed: &'a [StreamedDocument<'a>],
}

/// What accepting recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The revision the quote is recorded as.
    pub revision: u32,
    /// False when the same quote and rules were recorded before: nothing was written.
    pub new: bool,
    /// When that revision was accepted.
    pub accepted_at: String,
    /// Plugin files this run added to a revision recorded before without them (a plugin that
    /// failed or was missing then), by export path.
    pub completed: Vec<String>,
}

/// SHA-256 of the rule files: each name and text, NUL-separated, in the order given.
pub fn rules_sha256(rules: &[(String, String)]) -> String {
    let mut all = Vec::new();
    for (name, text) in rules {
        all.extend_from_slice(name.as_bytes());
        all.push(0);
        all.extend_from_slice(text.as_bytes());
        all.push(0);
    }
    sha256_hex(&all)
}

impl Record {
    /// Records an accepted quote, in one transaction. The same fingerprint as the latest
    /// revision records nothing and returns that revision; a different one is refused
    /// ([`RecordError::Changed`]) unless `revise`, which records revision N+1.
    pub fn accept(&mut self, r: &NewRevision<'_>, revise: bool) -> Result<Accepted, RecordError> {
        self.immediate(|tx| accept_in(tx, r, revise))
    }

    /// Logs an export of a revision into `dir`: the files and their SHA-256.
    pub fn record_export(
        &mut self,
        quote: &str,
        revision: u32,
        dir: &str,
        files: &[(String, String)],
    ) -> Result<(), RecordError> {
        let detail = serde_json::json!({
            "dir": dir,
            "files": files
                .iter()
                .map(|(p, h)| serde_json::json!({"path": p, "sha256": h}))
                .collect::<Vec<_>>(),
        });
        self.immediate(|tx| event(tx, quote, revision, "export", &detail))
    }
}

/// [`Record::accept`] inside its transaction.
pub(super) fn accept_in(
    tx: &Transaction<'_>,
    r: &NewRevision<'_>,
    revise: bool,
) -> Result<Accepted, RecordError> {
    let latest: Option<(u32, String, String)> = tx
        .query_row(
            "SELECT revision, fingerprint, accepted_at FROM revisions WHERE quote = ?1
             ORDER BY revision DESC LIMIT 1",
            [r.quote],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let revision = match latest {
        Some((n, fp, at)) if fp == r.fingerprint => {
            let completed = complete_in(tx, r, n)?;
            return Ok(Accepted {
                revision: n,
                new: false,
                accepted_at: at,
                completed,
            });
        }
        Some((n, _, _)) if !revise => {
            return Err(RecordError::Changed {
                quote: r.quote.into(),
                revision: n,
            });
        }
        Some((n, _, _)) => n + 1,
        None => 1,
    };
    let now = clock::now()?;
    insert_revision(tx, r, revision, &now)?;
    for d in r.documents {
        insert_document(tx, r.quote, revision, 0, d)?;
    }
    for d in r.streamed {
        insert_streamed(tx, r.quote, revision, d)?;
    }
    let detail = serde_json::json!({
        "fingerprint": r.fingerprint,
        "quote_file": r.quote_file,
        "documents": r.documents.len() + r.streamed.len(),
    });
    let kind = if revision == 1 { "accept" } else { "revise" };
    event(tx, r.quote, revision, kind, &detail)?;
    Ok(Accepted {
        revision,
        new: true,
        accepted_at: now,
        completed: Vec::new(),
    })
}

/// Adds to revision `n` the plugin files it lacks: a plugin that failed (or was not loaded)
/// when the quote was accepted must not leave the record without its files for good. Files
/// already recorded are kept as they are: the record, not this run, is the agreement. Logged
/// as an `accept` event naming the files added.
fn complete_in(
    tx: &Transaction<'_>,
    r: &NewRevision<'_>,
    n: u32,
) -> Result<Vec<String>, RecordError> {
    let mut added = Vec::new();
    for d in r.documents.iter().filter(|d| d.owner != "tenor") {
        let known: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM documents WHERE quote = ?1 AND revision = ?2 AND path = ?3)",
            params![r.quote, n, d.path],
            |row| row.get(0),
        )?;
        if !known {
            insert_document(tx, r.quote, n, 0, d)?;
            added.push(d.path.clone());
        }
    }
    if !added.is_empty() {
        let detail = serde_json::json!({
            "fingerprint": r.fingerprint,
            "quote_file": r.quote_file,
            "documents": added.len(),
            "completed": added,
        });
        event(tx, r.quote, n, "accept", &detail)?;
    }
    Ok(added)
}

/// The quote (when new), the revision row and its rule files.
fn insert_revision(
    tx: &Transaction<'_>,
    r: &NewRevision<'_>,
    revision: u32,
    now: &str,
) -> Result<(), RecordError> {
    tx.execute(
        "INSERT INTO quotes (quote, created_at) SELECT ?1, ?2
         WHERE NOT EXISTS (SELECT 1 FROM quotes WHERE quote = ?1)",
        params![r.quote, now],
    )?;
    let long_quote = r.quote_text.len() > chunks::CHUNK;
    tx.execute(
        "INSERT INTO revisions (quote, revision, quote_file, quote_text, quote_sha256,
             rules_sha256, rules_git, fingerprint, priced, accepted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            r.quote,
            revision,
            r.quote_file,
            // A long text goes in pieces below: bound whole, SQLite would copy it twice.
            if long_quote { "" } else { r.quote_text },
            sha256_hex(r.quote_text.as_bytes()),
            rules_sha256(r.rules),
            r.rules_git,
            r.fingerprint,
            match &r.priced {
                PricedBody::Text(text) => text,
                // Written below; the index on its customer reads an empty object meanwhile.
                PricedBody::Streamed { .. } => "{}",
            },
            now
        ],
    )?;
    if let PricedBody::Streamed { write, head } = &r.priced {
        chunks::write_revision_part(tx, (r.quote, revision, Part::Priced), *write, head)?;
    }
    if long_quote {
        let write = |o: &mut dyn std::io::Write| o.write_all(r.quote_text.as_bytes());
        chunks::write_revision_part(tx, (r.quote, revision, Part::Quote), &write, "")?;
    }
    let mut stmt = tx.prepare(
        "INSERT INTO rule_files (quote, revision, path, sha256, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (path, text) in r.rules {
        stmt.execute(params![
            r.quote,
            revision,
            path,
            sha256_hex(text.as_bytes()),
            text
        ])?;
    }
    Ok(())
}

/// One document of a revision, made by acceptance (`change_seq` 0) or by change `change_seq`.
pub(super) fn insert_document(
    tx: &Transaction<'_>,
    quote: &str,
    revision: u32,
    change_seq: u32,
    d: &Document,
) -> Result<(), RecordError> {
    tx.execute(
        "INSERT INTO documents (quote, revision, change_seq, path, owner, kind, sha256, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            quote,
            revision,
            change_seq,
            d.path,
            d.owner,
            d.kind,
            sha256_hex(&d.body),
            d.body
        ],
    )?;
    Ok(())
}

/// A streamed document of an acceptance: its row, then its body piece by piece.
fn insert_streamed(
    tx: &Transaction<'_>,
    quote: &str,
    revision: u32,
    d: &StreamedDocument<'_>,
) -> Result<(), RecordError> {
    tx.execute(
        "INSERT INTO documents (quote, revision, change_seq, path, owner, kind, sha256, body)
         VALUES (?1, ?2, 0, ?3, ?4, ?5, '', x'')",
        params![quote, revision, d.path, d.owner, d.kind],
    )?;
    chunks::write_document(tx, (quote, revision, 0, d.path), d.write)
}

/// Appends an event to the quote's log.
pub(super) fn event(
    tx: &Transaction<'_>,
    quote: &str,
    revision: u32,
    kind: &str,
    detail: &serde_json::Value,
) -> Result<(), RecordError> {
    let seq: u32 = tx.query_row(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE quote = ?1",
        [quote],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO events (quote, seq, revision, at, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![quote, seq, revision, clock::now()?, kind, detail.to_string()],
    )?;
    Ok(())
}
