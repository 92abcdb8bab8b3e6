//! `tenor log`: the record's history of one quote or of all: revisions, changes and exports,
//! and what happened to the quote's shared links (shared, viewed, accepted or declined by
//! whom, revoked, pushed after acceptance), as a table or as the `tenor.log/1` document.

use crate::cli::Ctx;
use crate::cli::args::Format;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::record::shares::ShareEvent;
use crate::record::{Event, Record, RecordError};
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
    let shared = record.share_events(quote).map_err(db::error)?;
    let quotes = match quote {
        Some(q) => vec![q.to_string()],
        None => {
            // Quotes shared but not (yet) accepted have a history too.
            let mut all = record.quotes().map_err(db::error)?;
            all.extend(shared.iter().map(|e| e.quote.clone()));
            all.sort();
            all.dedup();
            all
        }
    };
    let mut docs = Vec::with_capacity(quotes.len());
    for q in &quotes {
        let mine: Vec<&ShareEvent> = shared.iter().filter(|e| &e.quote == q).collect();
        docs.push(quote_log(&record, q, &mine)?);
    }
    match format {
        Format::Json => {
            let doc = serde_json::json!({"schema": LOG, "quotes": docs});
            writeln!(ctx.out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        Format::Table => {
            let events = events(&record, quote, !shared.is_empty())?;
            writeln!(ctx.out, "{}", table(&events, &shared))?;
        }
    }
    Ok(Exit::Success)
}

/// The record's events of one quote or all; a quote only shared (never accepted) has none.
fn events(record: &Record, quote: Option<&str>, shared: bool) -> Result<Vec<Event>, CliError> {
    match record.events(quote) {
        Err(RecordError::NoQuote(_)) if shared => Ok(Vec::new()),
        other => other.map_err(db::error),
    }
}

/// One quote's revisions (each with its changes), events and shared-link events.
fn quote_log(
    record: &Record,
    quote: &str,
    shared: &[&ShareEvent],
) -> Result<serde_json::Value, CliError> {
    let mut revisions = Vec::new();
    let accepted = match record.revisions(quote) {
        Err(RecordError::NoQuote(_)) if !shared.is_empty() => Vec::new(),
        other => other.map_err(db::error)?,
    };
    for r in accepted {
        let changes = record.changes(quote, r.revision).map_err(db::error)?;
        let mut v = serde_json::to_value(&r)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("changes".into(), serde_json::to_value(changes)?);
        }
        revisions.push(v);
    }
    let events = events(record, Some(quote), !shared.is_empty())?;
    Ok(serde_json::json!({
        "quote": quote,
        "revisions": revisions,
        "events": events,
        "shared": shared,
    }))
}

/// The events as a table: quote, revision, when, what; the shared links' events among them
/// in time order, their `rev` the shared version.
fn table(events: &[Event], shared: &[ShareEvent]) -> comfy_table::Table {
    let mut rows: Vec<[String; 5]> = events
        .iter()
        .map(|e| {
            [
                e.quote.clone(),
                e.revision.to_string(),
                e.at.clone(),
                e.kind.clone(),
                detail(e),
            ]
        })
        .collect();
    rows.extend(shared.iter().map(|e| {
        [
            e.quote.clone(),
            e.revision.to_string(),
            e.at.clone(),
            share_kind(&e.kind).to_string(),
            share_detail(e),
        ]
    }));
    // Stable: each source keeps its own order among events of the same instant.
    rows.sort_by(|a, b| (&a[0], &a[2]).cmp(&(&b[0], &b[2])));
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header(["quote", "rev", "at", "event", "detail"]);
    for r in rows {
        t.add_row(r);
    }
    t
}

/// A shared link's event as the table names it (apart from the record's own `accept`).
fn share_kind(kind: &str) -> &str {
    match kind {
        "view" => "viewed",
        "accept" => "accepted",
        "decline" => "declined",
        "push" => "pushed",
        other => other,
    }
}

/// A shared link's event in words: who and from where, or what a push came to.
fn share_detail(e: &ShareEvent) -> String {
    let mut out = match e.kind.as_str() {
        "shared" => format!("version {} shared", e.revision),
        "revoked" => format!("links to version {} revoked", e.revision),
        _ => String::new(),
    };
    if let (Some(name), Some(email)) = (&e.name, &e.email) {
        out.push_str(&format!("by {name} <{email}>"));
    }
    if let Some(a) = &e.address {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("from {a}"));
    }
    if let Some(d) = &e.detail {
        out.push_str(d);
    }
    out
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
        "psa-fix" => format!(
            "{}: {} changes to the PSA from the reconciliation of {}",
            text("document"),
            d.get("fixes").and_then(|v| v.as_u64()).unwrap_or(0),
            text("month")
        ),
        _ => d.to_string(),
    }
}
