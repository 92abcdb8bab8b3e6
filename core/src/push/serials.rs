//! Hardware serial numbers from the distributors to the PSA: a pull's serials (Ingram invoice
//! lines' `serialNumbers[]`) are resolved to the sales-order line they were bought for — the
//! purchase order named by the invoice's reference, its line by the line reference, that
//! line's quote line — and recorded once ([`resolve`]); a push then sends each PSA plugin the
//! serials it has not been sent ([`document`]), every serial of a line together.

use super::PushError;
use crate::record::{LineSerial, Record, SerialBatch, SerialKey};
use std::collections::BTreeMap;
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::exchange::{PushDocument, Serial};

/// A purchase-order line as the serials need it: its quote and revision, its quote line and
/// part number.
struct PoLine {
    quote: String,
    revision: u32,
    quote_line: u32,
    part_number: String,
}

/// Every purchase-order line of the latest revision of every recorded quote, by PO id and
/// line number.
fn purchase_order_lines(record: &Record) -> Result<BTreeMap<(String, u32), PoLine>, PushError> {
    let mut out = BTreeMap::new();
    for q in record.quotes()? {
        let revision = record.revision(&q, None)?.revision;
        for d in record.documents(&q, revision)? {
            if d.owner != "tenor" || d.kind != "purchase-order" {
                continue;
            }
            let po: PurchaseOrder = serde_json::from_slice(&d.body).map_err(|e| {
                PushError::Document(format!("the recorded {} does not read: {e}", d.path))
            })?;
            for l in po.lines {
                out.insert(
                    (po.id.clone(), l.line),
                    PoLine {
                        quote: q.clone(),
                        revision,
                        quote_line: l.quote_line,
                        part_number: l.part_number,
                    },
                );
            }
        }
    }
    Ok(out)
}

/// The serials `plugin` reported, each with the sales-order line it belongs to; one that
/// names no purchase order or line of the record, or whose part number is not that line's,
/// is not recorded and is said in a warning instead.
pub fn resolve(
    record: &Record,
    plugin: &str,
    serials: &[Serial],
) -> Result<(Vec<LineSerial>, Vec<String>), PushError> {
    if serials.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let lines = purchase_order_lines(record)?;
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for s in serials {
        let shown = format!("serial `{}` ({})", s.serial, s.part_number);
        let Some(po) = s.reference.as_deref().filter(|r| !r.trim().is_empty()) else {
            warnings.push(format!("{shown} names no purchase order: not recorded"));
            continue;
        };
        let po_line = s
            .line_ref
            .as_deref()
            .and_then(|l| l.trim().parse::<u32>().ok());
        let Some((po_line, line)) =
            po_line.and_then(|n| lines.get(&(po.to_string(), n)).map(|l| (n, l)))
        else {
            warnings.push(format!(
                "{shown} is on {po} line {}, which is no purchase-order line in the record: not recorded",
                s.line_ref.as_deref().unwrap_or("(none)")
            ));
            continue;
        };
        if line.part_number != s.part_number {
            warnings.push(format!(
                "{shown} is on {po} line {po_line}, which bought `{}`: not recorded",
                line.part_number
            ));
            continue;
        }
        out.push(LineSerial {
            key: SerialKey {
                plugin: plugin.to_string(),
                part_number: s.part_number.clone(),
                serial: s.serial.clone(),
            },
            quote: line.quote.clone(),
            revision: line.revision,
            line: line.quote_line,
            purchase_order: po.to_string(),
            po_line,
        });
    }
    Ok((out, warnings))
}

/// The push document of a batch: each serial with its sales-order line as `line_ref` and its
/// purchase order as `reference` (`pushed` is filled when it runs).
pub fn document(batch: &SerialBatch) -> PushDocument {
    PushDocument::Serials {
        serials: batch
            .serials
            .iter()
            .map(|s| Serial {
                reference: Some(s.purchase_order.clone()),
                line_ref: Some(s.line.to_string()),
                part_number: s.key.part_number.clone(),
                serial: s.key.serial.clone(),
            })
            .collect(),
        pushed: Vec::new(),
    }
}
