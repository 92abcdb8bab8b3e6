//! Pushes and pulls in the record: each is a conversation with a plugin's vendor, whose every
//! request is committed before it is sent and whose response is committed after it came back
//! (two short transactions), so that a run killed at any moment leaves a conversation that the
//! plugin can resume: an exchange without a response is one the vendor may have acted on.

use super::serials::{LineSerial, SerialsRecorded};
use super::{Record, RecordError, clock};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use tenor_plugin_sdk::exchange::{Exchange, Pulled, Request, Response, VendorRef};

/// What a conversation is, as it is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewConversation {
    /// Its id: `push/<quote>/<revision>/<plugin>/<document>` or
    /// `pull/<plugin>/<customer>/<what>/<month>/<n>`.
    pub id: String,
    /// `push` or `pull`.
    pub direction: &'static str,
    /// The plugin.
    pub plugin: String,
    /// Tenor's customer id.
    pub customer: String,
    /// The quote and revision pushed, if a push.
    pub quote: Option<(String, u32)>,
    /// The document pushed (PO, SO or change-order id) or what is pulled.
    pub document: String,
    /// The month pulled, if one.
    pub month: Option<String>,
}

/// A conversation as recorded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Conversation {
    /// Its id.
    pub id: String,
    /// `open`, `done` or `failed`.
    pub state: String,
    /// Every exchange so far, oldest first.
    pub exchanges: Vec<Exchange>,
    /// Why it failed last, if it did.
    pub error: Option<String>,
}

/// A pulled record row, with where it came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PulledRow {
    /// The plugin.
    pub plugin: String,
    /// `order`, `subscription`, `invoice` or `serial`.
    pub kind: String,
    /// The month, if one.
    pub month: Option<String>,
    /// The row (an `OrderLine`, `Subscription`, `InvoiceLine` or `Serial`).
    pub body: serde_json::Value,
}

fn to_json<T: Serialize>(v: &T) -> Result<String, RecordError> {
    serde_json::to_string(v).map_err(|e| RecordError::Inconsistent(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, RecordError> {
    serde_json::from_str(text)
        .map_err(|e| RecordError::Inconsistent(format!("a recorded {what} does not read: {e}")))
}

impl Record {
    /// Opens a conversation (when new) and returns it as recorded; a failed one is opened
    /// again, keeping its exchanges.
    pub fn open_conversation(&mut self, c: &NewConversation) -> Result<Conversation, RecordError> {
        self.immediate(|tx| open_in(tx, c))
    }

    /// The conversation of this id, if recorded.
    pub fn conversation(&self, id: &str) -> Result<Option<Conversation>, RecordError> {
        conversation_in(&self.conn, id)
    }

    /// How many pulls of this key (`pull/<plugin>/<customer>/<what>/<month>/`) exist, and
    /// whether the last one is still open.
    pub fn pull_runs(&self, prefix: &str) -> Result<(u32, bool), RecordError> {
        let like = format!("{prefix}%");
        let count: u32 = self.conn.query_row(
            "SELECT COUNT(*) FROM conversations WHERE id LIKE ?1",
            [&like],
            |r| r.get(0),
        )?;
        let open: u32 = self.conn.query_row(
            "SELECT COUNT(*) FROM conversations WHERE id LIKE ?1 AND state <> 'done'",
            [&like],
            |r| r.get(0),
        )?;
        Ok((count, open > 0))
    }

    /// Records a request before it is sent (its own transaction); returns its sequence number.
    pub fn record_request(&mut self, id: &str, request: &Request) -> Result<u32, RecordError> {
        let body = to_json(request)?;
        self.immediate(|tx| {
            let seq: u32 = tx.query_row(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM exchanges WHERE conversation = ?1",
                [id],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO exchanges (conversation, seq, request, sent_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, seq, body, clock::now()?],
            )?;
            Ok(seq)
        })
    }

    /// Records the response of a request recorded before.
    pub fn record_response(
        &mut self,
        id: &str,
        seq: u32,
        response: &Response,
    ) -> Result<(), RecordError> {
        let body = to_json(response)?;
        self.immediate(|tx| {
            tx.execute(
                "UPDATE exchanges SET response = ?3, answered_at = ?4
                 WHERE conversation = ?1 AND seq = ?2",
                params![id, seq, body, clock::now()?],
            )?;
            Ok(())
        })
    }

    /// Closes a push with the vendor ids it stored.
    pub fn finish_push(&mut self, id: &str, refs: &[VendorRef]) -> Result<(), RecordError> {
        self.immediate(|tx| {
            tx.execute("DELETE FROM vendor_refs WHERE conversation = ?1", [id])?;
            for (seq, r) in (1u32..).zip(refs) {
                tx.execute(
                    "INSERT INTO vendor_refs (conversation, seq, kind, id, line)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, seq, r.kind, r.id, r.line],
                )?;
            }
            close_in(tx, id, "done", None)
        })
    }

    /// Closes a pull with what it read and records its serials (resolved to their sales-order
    /// lines by the caller) once each, in one transaction.
    pub fn finish_pull(
        &mut self,
        id: &str,
        month: Option<&str>,
        pulled: &Pulled,
        serials: &[LineSerial],
    ) -> Result<SerialsRecorded, RecordError> {
        let mut rows: Vec<(&str, String)> = Vec::new();
        for o in &pulled.orders {
            rows.push(("order", to_json(o)?));
        }
        for s in &pulled.subscriptions {
            rows.push(("subscription", to_json(s)?));
        }
        for i in &pulled.invoices {
            rows.push(("invoice", to_json(i)?));
        }
        for s in &pulled.serials {
            rows.push(("serial", to_json(s)?));
        }
        self.immediate(|tx| {
            tx.execute("DELETE FROM pulled WHERE conversation = ?1", [id])?;
            for (seq, (kind, body)) in (1u32..).zip(&rows) {
                tx.execute(
                    "INSERT INTO pulled (conversation, seq, kind, month, body)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, seq, kind, month, body],
                )?;
            }
            let recorded = super::serials::record_in(tx, id, serials)?;
            close_in(tx, id, "done", None)?;
            Ok(recorded)
        })
    }

    /// Marks a conversation failed, with why (it is resumed by the next run).
    pub fn fail_conversation(&mut self, id: &str, error: &str) -> Result<(), RecordError> {
        self.immediate(|tx| close_in(tx, id, "failed", Some(error)))
    }

    /// The vendor ids stored by the completed pushes of a quote revision to a plugin.
    pub fn vendor_refs(
        &self,
        quote: &str,
        revision: u32,
        plugin: &str,
    ) -> Result<Vec<VendorRef>, RecordError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.kind, r.id, r.line FROM vendor_refs r
             JOIN conversations c ON c.id = r.conversation
             WHERE c.quote = ?1 AND c.revision = ?2 AND c.plugin = ?3 AND c.state = 'done'
             ORDER BY c.started_at, r.conversation, r.seq",
        )?;
        let rows = stmt.query_map(params![quote, revision, plugin], |r| {
            Ok(VendorRef {
                kind: r.get(0)?,
                id: r.get(1)?,
                line: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every customer something was pulled for (in `month`, or with no month), sorted.
    pub fn pulled_customers(&self, month: Option<&str>) -> Result<Vec<String>, RecordError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT c.customer FROM conversations c
             WHERE c.direction = 'pull' AND c.state = 'done' AND c.customer IS NOT NULL
               AND (?1 IS NULL OR c.month IS NULL OR c.month = ?1)
             ORDER BY c.customer",
        )?;
        let rows = stmt.query_map(params![month], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What the latest completed pull of each (plugin, what, month) read for a customer.
    pub fn pulled(
        &self,
        customer: &str,
        month: Option<&str>,
    ) -> Result<Vec<PulledRow>, RecordError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.plugin, p.kind, p.month, p.body FROM pulled p
             JOIN conversations c ON c.id = p.conversation
             WHERE c.customer = ?1 AND c.state = 'done'
               AND (?2 IS NULL OR p.month IS NULL OR p.month = ?2)
               AND c.id = (SELECT MAX(c2.id) FROM conversations c2
                           WHERE c2.state = 'done' AND c2.direction = 'pull'
                             AND c2.plugin = c.plugin AND c2.customer = c.customer
                             AND c2.document = c.document
                             AND COALESCE(c2.month, '') = COALESCE(c.month, ''))
             ORDER BY c.plugin, p.kind, c.id, p.seq",
        )?;
        let rows = stmt.query_map(params![customer, month], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (plugin, kind, month, body) = row?;
            out.push(PulledRow {
                plugin,
                kind,
                month,
                body: from_json(&body, "pulled row")?,
            });
        }
        Ok(out)
    }
}

/// Opens a conversation inside a transaction (see [`Record::open_conversation`]).
pub(super) fn open_in(
    tx: &Transaction<'_>,
    c: &NewConversation,
) -> Result<Conversation, RecordError> {
    let (quote, revision) = c.quote.clone().unzip();
    tx.execute(
        "INSERT INTO conversations (id, direction, plugin, customer, quote, revision,
             document, month, state, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9)
         ON CONFLICT (id) DO UPDATE SET state = 'open'
         WHERE conversations.state = 'failed'",
        params![
            c.id,
            c.direction,
            c.plugin,
            c.customer,
            quote,
            revision,
            c.document,
            c.month,
            clock::now()?
        ],
    )?;
    conversation_in(tx, &c.id)?.ok_or_else(|| RecordError::Inconsistent(c.id.clone()))
}

fn close_in(
    tx: &Transaction<'_>,
    id: &str,
    state: &str,
    error: Option<&str>,
) -> Result<(), RecordError> {
    tx.execute(
        "UPDATE conversations SET state = ?2, finished_at = ?3, error = ?4 WHERE id = ?1",
        params![id, state, clock::now()?, error],
    )?;
    Ok(())
}

fn conversation_in(
    conn: &rusqlite::Connection,
    id: &str,
) -> Result<Option<Conversation>, RecordError> {
    let head: Option<(String, Option<String>)> = conn
        .query_row(
            "SELECT state, error FROM conversations WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((state, error)) = head else {
        return Ok(None);
    };
    let mut stmt = conn
        .prepare("SELECT request, response FROM exchanges WHERE conversation = ?1 ORDER BY seq")?;
    let rows = stmt.query_map([id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    let mut exchanges = Vec::new();
    for row in rows {
        let (request, response) = row?;
        exchanges.push(Exchange {
            request: from_json(&request, "request")?,
            response: response.map(|r| from_json(&r, "response")).transpose()?,
        });
    }
    Ok(Some(Conversation {
        id: id.to_string(),
        state,
        exchanges,
        error,
    }))
}
