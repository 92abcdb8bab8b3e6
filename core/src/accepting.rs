//! Accepting a priced quote, the one path shared by `tenor accept` and a customer's Accept
//! through a shared link (`tenor serve`): the engine's documents, the vendors' formats through
//! the plugins (each purchase order read back), and the whole recorded as one revision in one
//! transaction of the record (with the customer's decision, for a link).

use crate::documents::accept::{self, Accepted, PluginOutput};
use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::{PricedQuote, PricedSummary};
use crate::engine::quote::QuoteFile;
use crate::files::export::ExportFile;
use crate::record::shares::{NewDecision, SharedOutcome};
use crate::record::{
    Accepted as RecordAccepted, Document, NewRevision, PricedBody, Record, RecordError,
    StreamedDocument,
};
use std::collections::BTreeSet;
use std::path::Path;

/// What to accept and how.
pub struct Acceptance<'a> {
    /// The compiled rules.
    pub catalogue: &'a Catalogue,
    /// Each rule file's name and text.
    pub rules: &'a [(String, String)],
    /// The rules' git commit, when known.
    pub rules_git: Option<String>,
    /// The quote as read.
    pub file: &'a QuoteFile,
    /// The quote priced on `catalogue`.
    pub priced: Priced<'a>,
    /// Record a changed quote as the next revision.
    pub revise: bool,
    /// Where the plugins are; `None` loads none.
    pub plugins: Option<&'a Path>,
    /// The customer's decision, when accepted through a shared link.
    pub decision: Option<NewDecision<'a>>,
}

/// A quote as priced for acceptance.
#[derive(Clone, Copy)]
pub enum Priced<'a> {
    /// Every line and charge in memory.
    Whole(&'a PricedQuote),
    /// Its figures only: the documents are made pricing it again line by line, the priced
    /// quote and schedule written into the record as they are made (a quote of a million
    /// lines holds tens of millions of charges).
    Summary(&'a PricedSummary),
}

/// What acceptance did.
pub struct Outcome {
    /// The engine's documents.
    pub accepted: Accepted,
    /// What the record holds: the revision, or (for a link already decided) that decision.
    pub recorded: Recorded,
    /// What the plugins made, their notes and failures.
    pub plugins: PluginOutput,
    /// Plugin libraries that failed to load.
    pub failures: Vec<String>,
}

/// The record's answer to an acceptance.
pub enum Recorded {
    /// The revision recorded (or found recorded from the same quote and rules).
    Revision(RecordAccepted),
    /// The shared link's revision was decided before: nothing was written.
    Decided(crate::record::shares::Decision),
}

/// Why a quote was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AcceptingError {
    /// The engine refused the quote.
    #[error("the quote was refused")]
    Refused(Vec<accept::AcceptError>),
    /// A document could not be written.
    #[error("{0}")]
    Write(String),
    /// The record refused or failed.
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// Accepts `a.file` into `record`: documents, plugin renderings, one transaction.
pub fn accept(record: &mut Record, a: &Acceptance<'_>) -> Result<Outcome, AcceptingError> {
    let quote = &a.file.quote;
    let fp = accept::fingerprint(quote, a.rules);
    let (accepted, streamed, priced_json) = make(a, &fp)?;
    let (mut plugins, failures) = match a.plugins {
        Some(dir) => {
            let links = record.customer_links(&quote.customer.id)?;
            let matcher = crate::matching::Matcher::new(a.catalogue);
            let check = ReadBack {
                matcher: &matcher,
                quote,
                priced: a.priced,
                whole: std::cell::OnceCell::new(),
            };
            with_plugins(dir, &accepted, &check, &links)
        }
        None => Default::default(),
    };
    let names: Vec<(String, &'static str)> = streamed
        .iter()
        .flat_map(|s| s.documents())
        .map(|(id, kind)| (format!("{id}.json"), kind))
        .collect();
    let ids: BTreeSet<&str> = streamed
        .iter()
        .flat_map(|s| s.documents())
        .map(|d| d.0)
        .collect();
    let mut files = accept::files(&accepted, &ids).map_err(|e| write_error(&e))?;
    files.append(&mut plugins.files);
    let documents: Vec<Document> = files.into_iter().map(document).collect();
    let writers: Vec<_> = (0..names.len())
        .map(|i| {
            let s = streamed.as_ref();
            move |o: &mut dyn std::io::Write| s.map_or(Ok(()), |s| s.write_document(i, o))
        })
        .collect();
    let streamed_docs: Vec<StreamedDocument<'_>> = names
        .iter()
        .zip(&writers)
        .map(|((path, kind), write)| StreamedDocument {
            path,
            owner: "tenor",
            kind,
            write,
        })
        .collect();
    let write_priced =
        |o: &mut dyn std::io::Write| streamed.as_ref().map_or(Ok(()), |s| s.write_priced(o));
    let priced = match &streamed {
        None => PricedBody::Text(&priced_json),
        Some(_) => PricedBody::Streamed {
            write: &write_priced,
            head: &priced_json,
        },
    };
    let revision = NewRevision {
        quote: &quote.quote,
        quote_file: &a.file.name,
        quote_text: &a.file.text,
        rules: a.rules,
        rules_git: a.rules_git.clone(),
        fingerprint: &fp,
        priced,
        documents: &documents,
        streamed: &streamed_docs,
    };
    Ok(Outcome {
        accepted,
        recorded: record_revision(record, &revision, a)?,
        plugins,
        failures,
    })
}

/// The engine's documents: held whole, or (from a summary) with the long ones streamed; and
/// the priced quote's text (its head, when streamed).
fn make(
    a: &Acceptance<'_>,
    fp: &str,
) -> Result<(Accepted, Option<accept::Streamed>, String), AcceptingError> {
    let quote = &a.file.quote;
    match a.priced {
        Priced::Whole(priced) => {
            let accepted =
                accept::accept(a.catalogue, quote, priced, fp).map_err(AcceptingError::Refused)?;
            let json = serde_json::to_string_pretty(priced).map_err(|e| write_error(&e))?;
            Ok((accepted, None, json))
        }
        Priced::Summary(summary) => {
            // Plugins render the sales order, template and purchase orders from memory.
            let hold = a.plugins.is_some();
            let (accepted, s) = accept::accept_streamed(a.catalogue, quote, summary, fp, hold)
                .map_err(|e| match e {
                    accept::StreamError::Refused(errors) => AcceptingError::Refused(errors),
                    accept::StreamError::Io(e) => write_error(&e),
                })?;
            let head = s.priced_head();
            Ok((accepted, Some(s), head))
        }
    }
}

/// A document that could not be made.
fn write_error(e: &dyn std::fmt::Display) -> AcceptingError {
    AcceptingError::Write(e.to_string())
}

/// Records the revision: plainly, or with the customer's decision on a shared link.
fn record_revision(
    record: &mut Record,
    revision: &NewRevision<'_>,
    a: &Acceptance<'_>,
) -> Result<Recorded, AcceptingError> {
    Ok(match &a.decision {
        None => Recorded::Revision(record.accept(revision, a.revise)?),
        Some(d) => match record.accept_shared(revision, d)? {
            SharedOutcome::Accepted(done) => Recorded::Revision(done),
            SharedOutcome::Decided(done) => Recorded::Decided(done),
        },
    })
}

/// Checks a plugin's rendering of a purchase order by reading it back and matching it
/// against the quote as priced; a quote priced as a summary is priced whole the first time a
/// rendering needs it (matching reads every line's charges), and only then.
struct ReadBack<'a> {
    matcher: &'a crate::matching::Matcher<'a>,
    quote: &'a crate::engine::quote::Quote,
    priced: Priced<'a>,
    whole: std::cell::OnceCell<Option<PricedQuote>>,
}

impl accept::OrderCheck for ReadBack<'_> {
    fn differences(
        &self,
        po: &tenor_plugin_sdk::docs::PurchaseOrder,
        lines: &[tenor_plugin_sdk::OrderLine],
    ) -> Vec<String> {
        let priced = match self.priced {
            Priced::Whole(p) => Some(p),
            Priced::Summary(_) => self
                .whole
                .get_or_init(|| {
                    let cat = self.matcher.catalogue();
                    crate::engine::pricing::price(cat, self.quote, &Default::default()).ok()
                })
                .as_ref(),
        };
        let Some(priced) = priced else {
            return vec!["the quote no longer prices, so the rendering cannot be checked".into()];
        };
        let check = crate::matching::ReadBack {
            matcher: self.matcher,
            quote: self.quote,
            priced,
        };
        check.differences(po, lines)
    }
}

/// An export file as the record keeps it: its path, `tenor` or the plugin's name, its kind.
fn document(f: ExportFile) -> Document {
    let owner = f
        .owner
        .strip_prefix("plugin ")
        .unwrap_or(&f.owner)
        .to_string();
    let name = f.path.components().last().cloned().unwrap_or_default();
    let kind = if owner == "tenor" {
        tenor_kind(&name)
    } else {
        // A plugin's `PO-Q-1-pax8.pax8-order.json` is of kind `pax8-order.json`.
        name.split_once('.')
            .map_or(name.clone(), |(_, k)| k.to_string())
    };
    Document {
        path: f.path.to_string(),
        owner,
        kind,
        body: f.bytes,
    }
}

/// The kind of one of Tenor's files, from its fixed name pattern.
fn tenor_kind(name: &str) -> String {
    let kinds = [
        ("SO-", "sales-order"),
        ("PO-", "purchase-order"),
        ("SCHED-", "invoice-schedule"),
        ("RT-", "recurring-template"),
        ("SUM-", "accept-summary"),
        ("CO-", "change-order"),
    ];
    kinds
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map_or("document", |(_, k)| k)
        .to_string()
}

/// Vendors' own formats, through the plugins, in memory, each purchase order's rendering
/// checked by reading it back: what they made, and the plugins that failed to load.
fn with_plugins(
    dir: &Path,
    accepted: &Accepted,
    check: &dyn accept::OrderCheck,
    links: &[crate::record::Link],
) -> (PluginOutput, Vec<String>) {
    let host = crate::host::Host::load_dir(dir);
    let failures = host
        .failures
        .iter()
        .map(|f| format!("plugin {}: {}", f.path.display(), f.message))
        .collect();
    (
        accept::render_with_accounts(&host, accepted, check, &|plugin| {
            crate::record::links::accounts_of(links, plugin)
        }),
        failures,
    )
}
