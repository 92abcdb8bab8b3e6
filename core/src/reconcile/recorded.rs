//! What was sold, rebuilt from the record: a revision's quote and rule texts compiled, priced
//! and accepted again (its fingerprint checked), and the rows `tenor pull` stored, read. Both
//! `tenor match --pulled` and `tenor reconcile` start here.

use crate::documents::accept::Accepted;
use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::{self, PriceOptions, PricedQuote};
use crate::engine::quote::QuoteFile;
use crate::matching::{PulledInput, PulledItem};
use crate::record::{PulledRow, Record, RecordError, RevisionInfo};
use crate::review::ReviewError;

/// What was sold: the quote, priced and accepted as `tenor accept` would.
pub struct Sold {
    /// The rules.
    pub cat: Catalogue,
    /// The quote file.
    pub file: QuoteFile,
    /// The quote priced.
    pub priced: PricedQuote,
    /// Its documents.
    pub accepted: Accepted,
}

/// Why what was sold could not be rebuilt from the record.
#[derive(thiserror::Error)]
pub enum RebuildError {
    /// The record could not be read.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The rules it was accepted with no longer compile here.
    #[error(transparent)]
    Review(#[from] ReviewError),
    /// Anything else, in words.
    #[error("{0}")]
    Other(String),
}

impl std::fmt::Debug for RebuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

/// Prices and accepts a parsed quote as `tenor accept` would (`fp`: its fingerprint).
pub fn price_and_accept(cat: Catalogue, file: QuoteFile, fp: &str) -> Result<Sold, String> {
    let quote = &file.quote;
    let priced = pricing::price(&cat, quote, &PriceOptions::default()).map_err(|errors| {
        let lines: Vec<String> = errors
            .into_iter()
            .map(|e| file.error(&e.field, e.message, e.help).to_string())
            .collect();
        format!("the quote cannot be priced:\n{}", lines.join("\n"))
    })?;
    let accepted =
        crate::documents::accept::accept(&cat, quote, &priced, fp).map_err(|errors| {
            let lines: Vec<String> = errors
                .iter()
                .map(|e| match e.line {
                    Some(l) => format!("line {l}: {}", e.message),
                    None => e.message.clone(),
                })
                .collect();
            format!("the quote cannot be accepted:\n{}", lines.join("\n"))
        })?;
    Ok(Sold {
        cat,
        file,
        priced,
        accepted,
    })
}

/// A revision rebuilt from the quote and rule files it was accepted with; a rebuild whose
/// fingerprint is not the recorded one is an error (the record is not sound).
pub fn rebuild(record: &Record, rev: &RevisionInfo) -> Result<Sold, RebuildError> {
    let (_, quote_text) = record.revision_texts(&rev.quote, rev.revision)?;
    let texts = record.rule_texts(&rev.quote, rev.revision)?;
    let mut sources = tenor_dsl::SourceSet::new();
    for (name, text) in &texts {
        sources.add(name.clone(), text.clone());
    }
    let label = format!(
        "the rules {} revision {} was accepted with",
        rev.quote, rev.revision
    );
    let book = crate::review::rules::compile(sources, label)?;
    let file = QuoteFile::parse(&rev.quote_file, &quote_text)
        .map_err(|e| RebuildError::Other(e.to_string()))?;
    let fp = crate::documents::accept::fingerprint(&file.quote, &texts);
    if fp != rev.fingerprint {
        return Err(RebuildError::Other(format!(
            "{} revision {} does not rebuild from what the record holds (fingerprint {fp}, recorded {}): the match cannot trust it",
            rev.quote, rev.revision, rev.fingerprint
        )));
    }
    price_and_accept(book.catalogue, file, &fp).map_err(RebuildError::Other)
}

/// The record's pulled rows, read; a row that does not read is an error naming it.
pub fn pulled_inputs(rows: Vec<PulledRow>) -> Result<Vec<PulledInput>, String> {
    let mut out = Vec::with_capacity(rows.len());
    for (n, r) in rows.into_iter().enumerate() {
        let bad = |e: serde_json::Error| {
            format!(
                "pulled row {} ({} {}) does not read: {e}",
                n + 1,
                r.plugin,
                r.kind
            )
        };
        let item = match r.kind.as_str() {
            "order" => PulledItem::Order(serde_json::from_value(r.body.clone()).map_err(bad)?),
            "subscription" => {
                PulledItem::Subscription(serde_json::from_value(r.body.clone()).map_err(bad)?)
            }
            "invoice" => PulledItem::Invoice(serde_json::from_value(r.body.clone()).map_err(bad)?),
            _ => PulledItem::Serial,
        };
        out.push(PulledInput {
            plugin: r.plugin,
            month: r.month,
            item,
        });
    }
    Ok(out)
}
