//! Pulling what the vendors hold back into the record: for every customer with an accepted
//! quote or a link, each pulling plugin that holds the customer's links or a push of its quotes reads
//! the orders of the pushed purchase orders, the subscriptions (or PSA additions), and the
//! invoices of the month; each read is a conversation like a push ([`super::converse`]).

use super::{Next, PushError, converse};
use crate::host::{Host, Loaded};
use crate::record::{NewConversation, Record, SerialsRecorded};
use crate::transport::Sender;
use std::collections::BTreeMap;
use tenor_plugin_sdk::exchange::{Exchange, PullInput, PullKind, PullStep, Pulled, VendorRef};
use tenor_plugin_sdk::{Capability, ops};

/// One pull to make.
#[derive(Clone, Debug)]
pub struct PullJob {
    /// The plugin.
    pub plugin: String,
    /// Tenor's customer id.
    pub customer: String,
    /// What is read, and its input without exchanges.
    pub input: PullInput,
}

/// What a pull read, in counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullCounts {
    /// Order lines.
    pub orders: usize,
    /// Subscriptions.
    pub subscriptions: usize,
    /// Invoice lines.
    pub invoices: usize,
    /// Serial numbers.
    pub serials: usize,
    /// The serials recorded now against sales-order lines, and what became of the others.
    pub recorded: SerialsRecorded,
    /// The plugin's warnings, then serials that could not be put on a sales-order line.
    pub warnings: Vec<String>,
    /// Requests sent.
    pub sent: usize,
}

/// Every customer of the record's quotes (latest revisions) with those quotes, by customer,
/// and every customer linked to a vendor with no quote (what a vendor holds for it is bought
/// on no quote: the reconciliation reports it).
fn customers(record: &Record) -> Result<BTreeMap<String, Vec<(String, u32)>>, PushError> {
    let mut out: BTreeMap<String, Vec<(String, u32)>> = BTreeMap::new();
    for l in record.links(None)? {
        if l.customer != crate::record::EVERY_CUSTOMER {
            out.entry(l.customer).or_default();
        }
    }
    for q in record.quotes()? {
        let rev = record.revision(&q, None)?.revision;
        let docs = record.documents(&q, rev)?;
        let so = docs
            .iter()
            .find(|d| d.owner == "tenor" && d.kind == "sales-order");
        if let Some(d) = so {
            let v: serde_json::Value = serde_json::from_slice(&d.body)
                .map_err(|e| PushError::Document(format!("{}: {e}", d.path)))?;
            if let Some(c) = v.pointer("/customer/id").and_then(|c| c.as_str()) {
                out.entry(c.to_string()).or_default().push((q, rev));
            }
        }
    }
    Ok(out)
}

/// The pulls to make.
pub fn plan(
    record: &Record,
    host: &Host,
    customer: Option<&str>,
    month: Option<&str>,
    only: Option<&str>,
) -> Result<Vec<PullJob>, PushError> {
    let mut jobs = Vec::new();
    for (c, quotes) in customers(record)? {
        if customer.is_some_and(|want| want != c) {
            continue;
        }
        for p in host.plugins().iter().filter(|p| p.can(Capability::Pull)) {
            let name = &p.info.name;
            if only.is_some_and(|o| o != name) {
                continue;
            }
            let accounts = record.accounts(&c, name)?;
            let mut pushed: Vec<VendorRef> = Vec::new();
            for (q, rev) in &quotes {
                pushed.extend(record.vendor_refs(q, *rev, name)?);
            }
            if accounts.is_empty() && pushed.is_empty() {
                continue;
            }
            // A customer with no quote is read only where it is linked itself: the links for
            // every customer (`*`, the MSP's own ids) say nothing of it.
            if quotes.is_empty()
                && !record
                    .customer_links(&c)?
                    .iter()
                    .any(|l| l.plugin == *name && l.customer == c)
            {
                continue;
            }
            let mut kinds = vec![PullKind::Subscriptions];
            if !pushed.is_empty() {
                kinds.insert(0, PullKind::Orders);
            }
            if month.is_some() {
                kinds.push(PullKind::Invoices);
            }
            for what in kinds {
                jobs.push(PullJob {
                    plugin: name.clone(),
                    customer: c.clone(),
                    input: PullInput {
                        what,
                        accounts: accounts.clone(),
                        month: month.map(str::to_string),
                        pushed: pushed.clone(),
                        exchanges: Vec::new(),
                    },
                });
            }
        }
    }
    Ok(jobs)
}

fn kind_word(k: PullKind) -> &'static str {
    match k {
        PullKind::Orders => "orders",
        PullKind::Subscriptions => "subscriptions",
        PullKind::Invoices => "invoices",
    }
}

/// Runs one pull: resumes the open one of its key, else starts the next.
pub fn run(
    record: &mut Record,
    plugin: &Loaded,
    job: &PullJob,
    sender: &mut dyn Sender,
) -> Result<PullCounts, PushError> {
    let month = job.input.month.clone();
    let key = format!(
        "pull/{}/{}/{}/{}/",
        job.plugin,
        job.customer,
        kind_word(job.input.what),
        month.as_deref().unwrap_or("-")
    );
    let (runs, open) = record.pull_runs(&key)?;
    let n = if open { runs } else { runs + 1 };
    let id = format!("{key}{n:06}");
    let conversation = record.open_conversation(&NewConversation {
        id: id.clone(),
        direction: "pull",
        plugin: job.plugin.clone(),
        customer: job.customer.clone(),
        quote: None,
        document: kind_word(job.input.what).to_string(),
        month: month.clone(),
    })?;
    let mut step = |exchanges: &[Exchange]| -> Result<Next<Pulled>, PushError> {
        let mut input = job.input.clone();
        input.exchanges = exchanges.to_vec();
        Ok(match plugin.try_call(ops::PULL_STEP, &input)? {
            PullStep::Send { request } => Next::Send(request),
            PullStep::Done { pulled } => Next::Done(pulled),
        })
    };
    let (pulled, sent) = converse(
        record,
        &job.plugin,
        &id,
        conversation.exchanges,
        sender,
        &mut step,
    )?;
    let (serials, serial_warnings) = super::serials::resolve(record, &job.plugin, &pulled.serials)?;
    // The plugin's own warnings (a vendor's totals that disagree with its lines, a kind the
    // vendor serves no API for) are the user's to read, named by the plugin that said them.
    let mut warnings: Vec<String> = pulled
        .warnings
        .iter()
        .map(|w| format!("{}: {w}", job.plugin))
        .collect();
    warnings.extend(serial_warnings);
    let recorded = record.finish_pull(&id, month.as_deref(), &pulled, &serials)?;
    Ok(PullCounts {
        orders: pulled.orders.len(),
        subscriptions: pulled.subscriptions.len(),
        invoices: pulled.invoices.len(),
        serials: pulled.serials.len(),
        recorded,
        warnings,
        sent,
    })
}
