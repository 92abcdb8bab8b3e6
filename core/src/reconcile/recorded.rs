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
use std::sync::Arc;

/// What was sold: the quote, priced and accepted as `tenor accept` would.
pub struct Sold {
    /// The rules (shared with the other revisions accepted with the same rule texts).
    pub cat: Arc<Catalogue>,
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
pub fn price_and_accept(
    cat: impl Into<Arc<Catalogue>>,
    file: QuoteFile,
    fp: &str,
) -> Result<Sold, String> {
    let cat = cat.into();
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
    Rebuilder::new(record).rebuild(rev)
}

/// How many compiled rule sets a [`Rebuilder`] keeps: a book is priced on a few rule sets
/// (today's and those of the quotes accepted before the last change), and each one kept is a
/// whole catalogue in memory.
const KEPT: usize = 4;

/// Rebuilds revision after revision, compiling each distinct set of rule texts once: most
/// quotes of a book were accepted with the same rules, and compiling them is most of a
/// rebuild. The last [`KEPT`] rule sets used are kept, so memory stays bounded.
pub struct Rebuilder<'r> {
    record: &'r Record,
    /// (digest of the rule texts, their catalogue), the most recently used first.
    kept: Vec<(String, Arc<Catalogue>)>,
}

impl<'r> Rebuilder<'r> {
    /// A rebuilder on `record`, with nothing compiled yet.
    pub fn new(record: &'r Record) -> Self {
        Rebuilder {
            record,
            kept: Vec::new(),
        }
    }

    /// As [`rebuild`].
    pub fn rebuild(&mut self, rev: &RevisionInfo) -> Result<Sold, RebuildError> {
        let quote_text = self.record.quote_text(&rev.quote, rev.revision)?;
        let texts = self.record.rule_texts(&rev.quote, rev.revision)?;
        let cat = self.compiled(rev, &texts)?;
        let file = QuoteFile::parse(&rev.quote_file, &quote_text)
            .map_err(|e| RebuildError::Other(e.to_string()))?;
        // The fingerprint is computed from the texts just read, never from the digest the
        // cache is keyed by, so a revision whose rules were altered still fails here.
        let fp = crate::documents::accept::fingerprint(&file.quote, &texts);
        if fp != rev.fingerprint {
            return Err(RebuildError::Other(format!(
                "{} revision {} does not rebuild from what the record holds (fingerprint {fp}, recorded {}): the match cannot trust it",
                rev.quote, rev.revision, rev.fingerprint
            )));
        }
        price_and_accept(cat, file, &fp).map_err(RebuildError::Other)
    }

    /// The rules a revision was accepted with, compiled (or as compiled before).
    pub fn catalogue(&mut self, rev: &RevisionInfo) -> Result<Arc<Catalogue>, RebuildError> {
        let texts = self.record.rule_texts(&rev.quote, rev.revision)?;
        self.compiled(rev, &texts)
    }

    /// `texts` compiled, from the kept ones when the same texts were compiled before.
    fn compiled(
        &mut self,
        rev: &RevisionInfo,
        texts: &[(String, String)],
    ) -> Result<Arc<Catalogue>, RebuildError> {
        let digest = crate::record::write::rules_sha256(texts);
        if let Some(at) = self.kept.iter().position(|(d, _)| *d == digest) {
            let hit = self.kept.remove(at);
            let cat = hit.1.clone();
            self.kept.insert(0, hit);
            return Ok(cat);
        }
        let mut sources = tenor_dsl::SourceSet::new();
        for (name, text) in texts {
            sources.add(name.clone(), text.clone());
        }
        let label = format!(
            "the rules {} revision {} was accepted with",
            rev.quote, rev.revision
        );
        let cat = Arc::new(crate::review::rules::compile(sources, label)?.catalogue);
        self.kept.insert(0, (digest, cat.clone()));
        self.kept.truncate(KEPT);
        Ok(cat)
    }
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
