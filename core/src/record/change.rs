//! Seat changes against the record: the change order and the amended sales order and schedule
//! recorded in one transaction against the revision they amend, worked out by the pure
//! [`crate::documents::change::apply`] from that revision's current documents.

use super::read::{StoredDocument, documents_in, revision_in};
use super::write::{Document, event, insert_document};
use super::{Record, RecordError, sha256_hex};
use crate::documents::change::{self as amend, ChangeOrder, DocumentDigests, Refusal, Request};
use crate::engine::catalogue::Catalogue;
use rusqlite::{OptionalExtension, Transaction, params};
use tenor_plugin_sdk::docs::{InvoiceSchedule, SalesOrder};

/// What [`Record::change`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// The change was recorded as change `seq` of `revision`.
    Applied {
        /// The revision amended.
        revision: u32,
        /// The change order.
        order: Box<ChangeOrder>,
    },
    /// The same change was recorded before; nothing was written.
    AlreadyApplied {
        /// The revision it amended.
        revision: u32,
        /// The change order's id.
        id: String,
        /// True when later changes followed it.
        changed_since: bool,
    },
}

/// Why a change was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The change is not allowed, or the revision's documents disagree (exit 1).
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// The record could not be read or written.
    #[error("{0}")]
    Record(#[from] RecordError),
}

impl Record {
    /// Applies a seat change to revision `revision` (the latest when `None`) of `quote` and
    /// records it, reading and writing in one immediate transaction. The same change again
    /// records nothing; another change with the same id (line and date) is refused.
    pub fn change(
        &mut self,
        cat: &Catalogue,
        quote: &str,
        revision: Option<u32>,
        req: &Request,
    ) -> Result<ChangeOutcome, ChangeError> {
        Ok(self.immediate(|tx| change_in(tx, cat, quote, revision, req))??)
    }
}

/// [`Record::change`] inside its transaction; a refusal writes nothing.
fn change_in(
    tx: &Transaction<'_>,
    cat: &Catalogue,
    quote: &str,
    revision: Option<u32>,
    req: &Request,
) -> Result<Result<ChangeOutcome, Refusal>, RecordError> {
    let rev = revision_in(tx, quote, revision)?;
    let id = amend::change_order_id(quote, req.line, req.date);
    if let Some(done) = already(tx, quote, rev.revision, &id, req)? {
        return Ok(done);
    }
    let docs = documents_in(tx, quote, rev.revision)?;
    let pair = match Pair::of(&docs, quote, rev.revision, &rev.fingerprint) {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    let history: Vec<ChangeOrder> = change_orders(tx, quote, rev.revision)?;
    let mut changed = match amend::apply(cat, &pair.so, &pair.sched, &history, req) {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    let sched_bytes = bytes(&changed.schedule)?;
    let so_bytes = bytes(&changed.sales_order)?;
    changed.order.applied_to = DocumentDigests {
        sales_order: pair.so_sha256.clone(),
        schedule: pair.sched_sha256.clone(),
    };
    changed.order.result = DocumentDigests {
        sales_order: sha256_hex(&so_bytes),
        schedule: sha256_hex(&sched_bytes),
    };
    let co_bytes = bytes(&changed.order)?;
    let seq = insert_change(tx, quote, rev.revision, &id, req, &co_bytes)?;
    let tenor = |path: String, kind: &str, body: Vec<u8>| Document {
        path,
        owner: "tenor".into(),
        kind: kind.into(),
        body,
    };
    for d in [
        tenor(format!("{id}.json"), "change-order", co_bytes),
        tenor(pair.sched_path, "invoice-schedule", sched_bytes),
        tenor(pair.so_path, "sales-order", so_bytes),
    ] {
        insert_document(tx, quote, rev.revision, seq, &d)?;
    }
    event(tx, quote, rev.revision, "change", &request_json(&id, req))?;
    Ok(Ok(ChangeOutcome::Applied {
        revision: rev.revision,
        order: Box::new(changed.order),
    }))
}

/// The change's request as recorded.
fn request_json(id: &str, req: &Request) -> serde_json::Value {
    serde_json::json!({
        "change_order": id,
        "line": req.line,
        "quantity": req.quantity.to_string(),
        "date": req.date.to_string(),
    })
}

/// When a change order `id` is recorded for the revision: nothing to do if it is this change,
/// refused if it is another.
fn already(
    tx: &Transaction<'_>,
    quote: &str,
    revision: u32,
    id: &str,
    req: &Request,
) -> Result<Option<Result<ChangeOutcome, Refusal>>, RecordError> {
    let found: Option<(u32, Vec<u8>)> = tx
        .query_row(
            "SELECT seq, body FROM changes WHERE quote = ?1 AND revision = ?2 AND change_order = ?3",
            params![quote, revision, id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((seq, body)) = found else {
        return Ok(None);
    };
    let co = parse_change_order(&body)?;
    if co.line != req.line || co.new_quantity != req.quantity || co.effective != req.date {
        return Ok(Some(Err(Refusal {
            message: format!(
                "{id} is already recorded as a different change: line {} to {} on {}",
                co.line, co.new_quantity, co.effective
            ),
            help: Some("one change per line and date: date this change another day, or apply it to the quantity that change set".into()),
        })));
    }
    let last: u32 = tx.query_row(
        "SELECT MAX(seq) FROM changes WHERE quote = ?1 AND revision = ?2",
        params![quote, revision],
        |r| r.get(0),
    )?;
    Ok(Some(Ok(ChangeOutcome::AlreadyApplied {
        revision,
        id: id.into(),
        changed_since: last > seq,
    })))
}

/// Records the change row; returns its sequence number.
fn insert_change(
    tx: &Transaction<'_>,
    quote: &str,
    revision: u32,
    id: &str,
    req: &Request,
    body: &[u8],
) -> Result<u32, RecordError> {
    let seq: u32 = tx.query_row(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM changes WHERE quote = ?1 AND revision = ?2",
        params![quote, revision],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO changes (quote, revision, seq, change_order, request, body, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            quote,
            revision,
            seq,
            id,
            request_json(id, req).to_string(),
            body,
            super::clock::now()?
        ],
    )?;
    Ok(seq)
}

/// Every change order of a revision, oldest first.
fn change_orders(
    tx: &Transaction<'_>,
    quote: &str,
    revision: u32,
) -> Result<Vec<ChangeOrder>, RecordError> {
    let mut stmt =
        tx.prepare("SELECT body FROM changes WHERE quote = ?1 AND revision = ?2 ORDER BY seq")?;
    let bodies: Vec<Vec<u8>> = stmt
        .query_map(params![quote, revision], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    bodies.iter().map(|b| parse_change_order(b)).collect()
}

fn parse_change_order(body: &[u8]) -> Result<ChangeOrder, RecordError> {
    serde_json::from_slice(body).map_err(|e| {
        RecordError::Inconsistent(format!("a recorded change order does not read: {e}"))
    })
}

/// A document as Tenor writes it: pretty JSON and a newline.
fn bytes<T: serde::Serialize>(doc: &T) -> Result<Vec<u8>, RecordError> {
    amend::document_bytes(doc).map_err(|e| RecordError::Inconsistent(e.to_string()))
}

/// A revision's current sales order and schedule, checked to be each other's.
struct Pair {
    so: SalesOrder,
    so_path: String,
    so_sha256: String,
    sched: InvoiceSchedule,
    sched_path: String,
    sched_sha256: String,
}

impl Pair {
    /// Refused when either is missing, does not match the hash recorded with it, was made by
    /// another step than the other (acceptance, or a change) or names other quote or rules
    /// than the revision.
    fn of(
        docs: &[StoredDocument],
        quote: &str,
        revision: u32,
        fingerprint: &str,
    ) -> Result<Pair, Refusal> {
        let so_path = format!("SO-{quote}.json");
        let sched_path = format!("SCHED-{quote}.json");
        let so_doc = sound(docs, &so_path, quote, revision)?;
        let sched_doc = sound(docs, &sched_path, quote, revision)?;
        let so: SalesOrder = parsed(so_doc, quote, revision)?;
        let sched: InvoiceSchedule = parsed(sched_doc, quote, revision)?;
        if so.quote != quote {
            return Err(disagree(
                quote,
                revision,
                format!(
                    "{so_path} is the sales order of quote `{}`, not `{quote}`",
                    so.quote.escape_debug()
                ),
            ));
        }
        let paired = so_doc.change_seq == sched_doc.change_seq
            && so.fingerprint == fingerprint
            && sched.sales_order == so.id;
        if !paired {
            return Err(disagree(
                quote,
                revision,
                format!(
                    "{so_path} (from step {}, fingerprint {}) and {sched_path} (from step {}) are not each other's",
                    so_doc.change_seq, so.fingerprint, sched_doc.change_seq
                ),
            ));
        }
        Ok(Pair {
            so,
            so_sha256: so_doc.sha256.clone(),
            so_path,
            sched,
            sched_sha256: sched_doc.sha256.clone(),
            sched_path,
        })
    }
}

/// The stored document at `path`, refused when missing or when its bytes are not the ones
/// recorded.
fn sound<'d>(
    docs: &'d [StoredDocument],
    path: &str,
    quote: &str,
    revision: u32,
) -> Result<&'d StoredDocument, Refusal> {
    let d = docs
        .iter()
        .find(|d| d.path == path)
        .ok_or_else(|| disagree(quote, revision, format!("{path} is missing")))?;
    if sha256_hex(&d.body) != d.sha256 {
        return Err(disagree(
            quote,
            revision,
            format!("{path} does not match the sha256 recorded with it"),
        ));
    }
    Ok(d)
}

fn parsed<T: serde::de::DeserializeOwned>(
    d: &StoredDocument,
    quote: &str,
    revision: u32,
) -> Result<T, Refusal> {
    serde_json::from_slice(&d.body)
        .map_err(|e| disagree(quote, revision, format!("{} does not read: {e}", d.path)))
}

fn disagree(quote: &str, revision: u32, why: String) -> Refusal {
    Refusal {
        message: format!(
            "the recorded documents of quote `{quote}` revision {revision} disagree: {why}"
        ),
        help: Some(
            "nothing was changed; accept the quote again with --revise to start a sound revision"
                .into(),
        ),
    }
}
