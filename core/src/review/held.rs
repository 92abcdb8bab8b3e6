//! An accepted quote as it stands now: the seat changes recorded by `tenor change` live on the
//! revision's current sales order, not in the quote text, so `tenor renewals` and `tenor diff
//! --accepted` read the lines' quantities (and what they bill) from there.

use super::ReviewError;
use crate::engine::quote::Quote;
use crate::record::Record;
use std::collections::BTreeMap;
use tenor_plugin_sdk::docs::{SalesOrder, SalesOrderLine};

/// The current sales order's lines of a revision, by line number (empty when the record holds
/// no sales order for it).
pub fn current_lines(
    record: &Record,
    quote: &str,
    revision: u32,
) -> Result<BTreeMap<u32, SalesOrderLine>, ReviewError> {
    let path = format!("SO-{quote}.json");
    let Some(doc) = record
        .documents(quote, revision)?
        .into_iter()
        .find(|d| d.path == path)
    else {
        return Ok(BTreeMap::new());
    };
    let so: SalesOrder = serde_json::from_slice(&doc.body).map_err(|e| {
        ReviewError::Io(format!(
            "the record's {path} of {quote} revision {revision} does not read: {e}"
        ))
    })?;
    Ok(so.lines.into_iter().map(|l| (l.line, l)).collect())
}

/// `quote` with each line at the quantity its sales-order line holds now.
pub fn with_held_quantities(mut quote: Quote, lines: &BTreeMap<u32, SalesOrderLine>) -> Quote {
    for (i, ql) in quote.lines.iter_mut().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if let Some(so) = lines.get(&n) {
            ql.quantity = so.quantity;
        }
    }
    quote
}
