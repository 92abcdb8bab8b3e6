//! `tenor log`: the record's history of one quote or of all: revisions, changes and exports,
//! as a table or as the `tenor.log/1` document.

use crate::cli::Ctx;
use crate::cli::args::Format;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::record::{Event, Record};
use std::path::Path;

/// Schema of the JSON log.
pub const LOG: &str = "tenor.log/1";

/// `tenor log [QUOTE]`: exit 0; an unknown quote is an error (exit 2).
pub fn log_cmd(
    quote: Option<&str>,
    format: Format,
    db_flag: Option<&Path>,
    ctx: &mut Ctx<'_>,
) -> CliResult {
    let record = db::open(db_flag, &[])?;
    let quotes = match quote {
        Some(q) => vec![q.to_string()],
        None => record.quotes().map_err(db::error)?,
    };
    let mut docs = Vec::with_capacity(quotes.len());
    for q in &quotes {
        docs.push(quote_log(&record, q)?);
    }
    match format {
        Format::Json => {
            let doc = serde_json::json!({"schema": LOG, "quotes": docs});
            writeln!(ctx.out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        Format::Table => {
            let events = record.events(quote).map_err(db::error)?;
            writeln!(ctx.out, "{}", table(&events))?;
        }
    }
    Ok(Exit::Success)
}

/// One quote's revisions (each with its changes) and events.
fn quote_log(record: &Record, quote: &str) -> Result<serde_json::Value, CliError> {
    let mut revisions = Vec::new();
    for r in record.revisions(quote).map_err(db::error)? {
        let changes = record.changes(quote, r.revision).map_err(db::error)?;
        let mut v = serde_json::to_value(&r)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("changes".into(), serde_json::to_value(changes)?);
        }
        revisions.push(v);
    }
    let events = record.events(Some(quote)).map_err(db::error)?;
    Ok(serde_json::json!({
        "quote": quote,
        "revisions": revisions,
        "events": events,
    }))
}

/// The events as a table: quote, revision, when, what.
fn table(events: &[Event]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header(["quote", "rev", "at", "event", "detail"]);
    for e in events {
        t.add_row([
            e.quote.clone(),
            e.revision.to_string(),
            e.at.clone(),
            e.kind.clone(),
            detail(e),
        ]);
    }
    t
}

/// An event's detail in words.
fn detail(e: &Event) -> String {
    let d = &e.detail;
    let text = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    match e.kind.as_str() {
        "accept" | "revise" => format!(
            "{} ({} documents, fingerprint {})",
            text("quote_file"),
            d.get("documents").and_then(|v| v.as_u64()).unwrap_or(0),
            text("fingerprint").get(..12).unwrap_or("")
        ),
        "change" => format!(
            "{}: line {} to {} from {}",
            text("change_order"),
            d.get("line").and_then(|v| v.as_u64()).unwrap_or(0),
            text("quantity"),
            text("date")
        ),
        "export" => format!(
            "{} ({} files)",
            text("dir"),
            d.get("files")
                .and_then(|v| v.as_array())
                .map_or(0, Vec::len)
        ),
        _ => d.to_string(),
    }
}
