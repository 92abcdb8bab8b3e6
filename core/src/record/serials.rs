//! Hardware serial numbers in the record: each serial a distributor reported (on its invoice
//! lines) is recorded once, against the sales-order line it was bought for, in the same
//! transaction as the pull that read it; each PSA push of serials claims the serials it sends
//! when its conversation is opened, so that a serial is sent by one conversation only and an
//! interrupted one is resumed with exactly the serials it started with.

use super::exchange::{NewConversation, open_in};
use super::{Record, RecordError};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One device: the distributor's plugin that reported it, its part number and serial.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SerialKey {
    /// The distributor's plugin.
    pub plugin: String,
    /// The distributor's part number.
    pub part_number: String,
    /// The serial number.
    pub serial: String,
}

/// A serial number and the sales-order line it was bought for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineSerial {
    /// The device.
    #[serde(flatten)]
    pub key: SerialKey,
    /// The quote.
    pub quote: String,
    /// Its revision.
    pub revision: u32,
    /// The sales-order (quote) line.
    pub line: u32,
    /// The purchase order it was bought on.
    pub purchase_order: String,
    /// The purchase-order line.
    pub po_line: u32,
}

/// A recorded serial and where it was pushed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordedSerial {
    /// The serial and its line.
    #[serde(flatten)]
    pub serial: LineSerial,
    /// The PSA plugins whose completed pushes carried it.
    pub pushed_to: Vec<String>,
}

/// What recording a pull's serials came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SerialsRecorded {
    /// Recorded now, in the order read.
    pub new: Vec<LineSerial>,
    /// Recorded before against the same line: nothing changed.
    pub known: usize,
    /// Recorded before against another line or quote: kept as it was, for a person to look
    /// at (what was read, then what the record holds).
    pub elsewhere: Vec<(LineSerial, LineSerial)>,
}

/// The next push of serials of a quote revision to one PSA plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerialBatch {
    /// Its document name (`serials-N`), the last part of its conversation id.
    pub document: String,
    /// The serials it sends for the first time (claimed when its conversation opens).
    pub claims: Vec<SerialKey>,
    /// Every serial of the lines it writes: those claimed, and those of the same lines that
    /// earlier completed pushes sent (the PSA's list of a line is written whole), by line.
    pub serials: Vec<LineSerial>,
}

/// A recorded serial with the PSA push that claimed it, if one, and that push's state.
type Claimed = (LineSerial, Option<(String, String)>);

fn line_serial(r: &rusqlite::Row<'_>) -> rusqlite::Result<LineSerial> {
    Ok(LineSerial {
        key: SerialKey {
            plugin: r.get(0)?,
            part_number: r.get(1)?,
            serial: r.get(2)?,
        },
        quote: r.get(3)?,
        revision: r.get(4)?,
        line: r.get(5)?,
        purchase_order: r.get(6)?,
        po_line: r.get(7)?,
    })
}

const SERIAL_COLUMNS: &str =
    "s.plugin, s.part_number, s.serial, s.quote, s.revision, s.line, s.purchase_order, s.po_line";

/// Records the serials a pull read (inside the pull's closing transaction), once each.
pub(super) fn record_in(
    tx: &Transaction<'_>,
    conversation: &str,
    serials: &[LineSerial],
) -> Result<SerialsRecorded, RecordError> {
    let mut out = SerialsRecorded::default();
    let mut seq: u32 = tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM serials", [], |r| {
        r.get(0)
    })?;
    for s in serials {
        let held: Option<LineSerial> = tx
            .query_row(
                &format!(
                    "SELECT {SERIAL_COLUMNS} FROM serials s
                     WHERE s.plugin = ?1 AND s.part_number = ?2 AND s.serial = ?3"
                ),
                params![s.key.plugin, s.key.part_number, s.key.serial],
                line_serial,
            )
            .optional()?;
        match held {
            Some(h) if (&h.quote, h.revision, h.line) == (&s.quote, s.revision, s.line) => {
                out.known += 1;
            }
            Some(h) => out.elsewhere.push((s.clone(), h)),
            None => {
                seq += 1;
                tx.execute(
                    "INSERT INTO serials (plugin, part_number, serial, seq, quote, revision, line,
                         purchase_order, po_line, pulled_in)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        s.key.plugin,
                        s.key.part_number,
                        s.key.serial,
                        seq,
                        s.quote,
                        s.revision,
                        s.line,
                        s.purchase_order,
                        s.po_line,
                        conversation
                    ],
                )?;
                out.new.push(s.clone());
            }
        }
    }
    Ok(out)
}

impl Record {
    /// Every serial recorded against a quote revision, by line, in the order they were read,
    /// with the PSA plugins whose completed pushes carried it.
    pub fn serials(&self, quote: &str, revision: u32) -> Result<Vec<RecordedSerial>, RecordError> {
        let mut stmt = self.conn.prepare(
            "SELECT sp.plugin, sp.part_number, sp.serial, sp.psa FROM serial_pushes sp
             JOIN conversations c ON c.id = sp.conversation
             WHERE c.quote = ?1 AND c.revision = ?2 AND c.state = 'done'
             ORDER BY sp.psa",
        )?;
        let rows = stmt.query_map(params![quote, revision], |r| {
            let key = SerialKey {
                plugin: r.get(0)?,
                part_number: r.get(1)?,
                serial: r.get(2)?,
            };
            Ok((key, r.get::<_, String>(3)?))
        })?;
        let mut pushed: BTreeMap<SerialKey, Vec<String>> = BTreeMap::new();
        for row in rows {
            let (key, psa) = row?;
            pushed.entry(key).or_default().push(psa);
        }
        Ok(self
            .claimed(quote, revision, "")?
            .into_iter()
            .map(|(serial, _)| RecordedSerial {
                pushed_to: pushed.remove(&serial.key).unwrap_or_default(),
                serial,
            })
            .collect())
    }

    /// Every serial of a quote revision with the push to `psa` that claimed it and its state.
    fn claimed(&self, quote: &str, revision: u32, psa: &str) -> Result<Vec<Claimed>, RecordError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SERIAL_COLUMNS}, sp.conversation, c.state FROM serials s
             LEFT JOIN serial_pushes sp ON sp.psa = ?3 AND sp.plugin = s.plugin
                  AND sp.part_number = s.part_number AND sp.serial = s.serial
             LEFT JOIN conversations c ON c.id = sp.conversation
             WHERE s.quote = ?1 AND s.revision = ?2
             ORDER BY s.line, s.seq"
        ))?;
        let rows = stmt.query_map(params![quote, revision, psa], |r| {
            let conversation: Option<String> = r.get(8)?;
            let state: Option<String> = r.get(9)?;
            Ok((line_serial(r)?, conversation.zip(state)))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The serials of a quote revision that a push to `psa` is to send: the unfinished push's
    /// (resumed with the serials it claimed), else those no push to `psa` claimed yet; `None`
    /// when there are none.
    pub fn serial_batch(
        &self,
        quote: &str,
        revision: u32,
        psa: &str,
    ) -> Result<Option<SerialBatch>, RecordError> {
        let rows = self.claimed(quote, revision, psa)?;
        let unfinished = rows
            .iter()
            .filter_map(|(_, c)| c.as_ref())
            .find(|(_, state)| state != "done")
            .map(|(id, _)| id.clone());
        let claimed_by_batch = |c: &Option<(String, String)>| match (&unfinished, c) {
            (Some(open), Some((id, _))) => id == open,
            (None, None) => true,
            _ => false,
        };
        let claims: Vec<&LineSerial> = rows
            .iter()
            .filter(|(_, c)| claimed_by_batch(c))
            .map(|(s, _)| s)
            .collect();
        if claims.is_empty() {
            return Ok(None);
        }
        let lines: BTreeSet<u32> = claims.iter().map(|s| s.line).collect();
        let serials = rows
            .iter()
            .filter(|(s, c)| {
                lines.contains(&s.line)
                    && (claimed_by_batch(c) || c.as_ref().is_some_and(|(_, st)| st == "done"))
            })
            .map(|(s, _)| s.clone())
            .collect();
        let document = match unfinished {
            Some(id) => id.rsplit('/').next().unwrap_or_default().to_string(),
            None => {
                let pushes: BTreeSet<&str> = rows
                    .iter()
                    .filter_map(|(_, c)| c.as_ref().map(|(id, _)| id.as_str()))
                    .collect();
                format!("serials-{}", pushes.len() + 1)
            }
        };
        Ok(Some(SerialBatch {
            document,
            claims: claims.into_iter().map(|s| s.key.clone()).collect(),
            serials,
        }))
    }

    /// Opens a push of serials to `psa` (when new) and claims its serials for it, in one
    /// transaction; a serial another push claimed keeps that push.
    pub fn claim_serials(
        &mut self,
        c: &NewConversation,
        psa: &str,
        claims: &[SerialKey],
    ) -> Result<(), RecordError> {
        self.immediate(|tx| {
            open_in(tx, c)?;
            for k in claims {
                tx.execute(
                    "INSERT INTO serial_pushes (psa, plugin, part_number, serial, conversation)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (psa, plugin, part_number, serial) DO NOTHING",
                    params![psa, k.plugin, k.part_number, k.serial, c.id],
                )?;
            }
            Ok(())
        })
    }
}
