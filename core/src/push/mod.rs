//! Pushing an accepted quote to the vendors: every purchase order to the plugin serving its
//! distributor, the sales order and recurring template to each PSA plugin, then each recorded
//! change order to the plugins the acceptance was pushed to. Each is a conversation driven
//! step by step through the plugin ([`converse`]): the request is committed to the record
//! before it is sent and its answer after, so a run killed at any moment is resumed by the
//! next, which gives the plugin every exchange so far (one without an answer makes the plugin
//! look up before it creates again). A completed conversation is never sent again.

use crate::host::{CallError, Host, Loaded};
use crate::record::{NewConversation, Record, RecordError, SerialKey};
use crate::transport::{SendError, Sender};
use chrono::NaiveDate;
use tenor_plugin_sdk::docs::{PurchaseOrder, RecurringTemplate, SalesOrder};
use tenor_plugin_sdk::exchange::{
    Accounts, Exchange, PushDocument, PushInput, PushStep, Request, VendorRef,
};
use tenor_plugin_sdk::{Capability, SalesInput, ops};

pub mod links;
pub mod pull;
pub mod serials;

/// The most requests one conversation may make in a run (a plugin that never finishes).
const MAX_STEPS: usize = 500;

/// How many requests of one run may end without an answer before the conversation stops.
const MAX_LOST: usize = 3;

/// Why a push (or pull) could not go on.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The record failed.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The plugin failed or refused.
    #[error(transparent)]
    Plugin(#[from] CallError),
    /// The vendor could not be reached, or is not configured.
    #[error("{plugin}: {message}")]
    Vendor {
        /// The plugin.
        plugin: String,
        /// What happened (secrets redacted).
        message: String,
    },
    /// A recorded document does not read.
    #[error("{0}")]
    Document(String),
    /// The plugin asked for more requests than a conversation may make.
    #[error("plugin `{plugin}` asked for more than {MAX_STEPS} requests in conversation {id}")]
    Endless {
        /// The plugin.
        plugin: String,
        /// The conversation.
        id: String,
    },
}

/// One conversation to have: what, with which plugin.
#[derive(Clone, Debug)]
pub struct Job {
    /// The conversation as recorded.
    pub conversation: NewConversation,
    /// What is pushed (a change order's `pushed` is filled when it runs).
    pub document: PushDocument,
    /// The customer's ids at the plugin's vendor.
    pub accounts: Accounts,
    /// The serials a push of serials sends for the first time: claimed for its conversation
    /// when it opens (empty for every other push).
    pub claims: Vec<SerialKey>,
    /// Conversations (id, document) that must be complete before this one starts: a change
    /// order waits for the order it changes, which may itself be waiting for its start day.
    pub after: Vec<(String, String)>,
}

/// What a job came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// It was completed by an earlier run: nothing sent.
    AlreadyDone,
    /// Completed now: the vendor's ids and how many requests this run sent.
    Done {
        /// The vendor's ids.
        refs: Vec<VendorRef>,
        /// Requests sent in this run.
        sent: usize,
    },
    /// `--dry-run`: the first request it would send, as text; `None` when the plugin would
    /// send nothing.
    WouldSend(Option<String>),
    /// Nothing more can be sent before `until` (the vendor would start it early): the
    /// conversation stays open, and a run on or after that day resumes it.
    Waiting {
        /// The first day the push can go on.
        until: NaiveDate,
        /// Why, in the plugin's words.
        why: String,
        /// Requests sent in this run before it had to wait (0 under `--dry-run`).
        sent: usize,
    },
    /// Not started: it changes a document whose push is not complete yet (`after`), so
    /// there is nothing at the vendor to change. A run after that push completes sends it.
    Held {
        /// The document pushed first.
        after: String,
    },
}

/// How a push conversation ended in this run: complete, or held until a day.
enum PushEnd {
    /// Complete, with the vendor's ids.
    Done(Vec<VendorRef>),
    /// Held until the day, for the reason.
    Wait(NaiveDate, String),
}

/// Today by the record's clock (`TENOR_NOW` fixes it), the day a push tells its plugins.
pub fn today() -> Result<NaiveDate, PushError> {
    let now = crate::record::clock::now()?;
    NaiveDate::parse_from_str(now.get(..10).unwrap_or(""), "%Y-%m-%d")
        .map_err(|e| PushError::Record(RecordError::Clock(format!("the clock says `{now}`: {e}"))))
}

/// The next step of a conversation: a request to send, or its end.
pub enum Next<T> {
    /// Send it.
    Send(Request),
    /// Finished.
    Done(T),
}

/// The jobs of a push, each with its plugin's name, and notes on what has no plugin.
pub type Plan = (Vec<(String, Job)>, Vec<String>);

/// One step of a conversation: given every exchange so far, the next request or the end.
pub type Step<'a, T> = dyn FnMut(&[Exchange]) -> Result<Next<T>, PushError> + 'a;

/// The pushes of a quote revision: one job per purchase order with a pushing plugin, one per
/// PSA plugin that pushes, then one per change order and plugin, then one per PSA plugin with
/// serials it has not been sent; `notes` says what has no plugin.
pub fn plan(
    record: &Record,
    host: &Host,
    quote: &str,
    revision: u32,
    only: Option<&str>,
) -> Result<Plan, PushError> {
    let docs = record.documents(quote, revision)?;
    let read = |kind: &'static str| -> Vec<(String, Vec<u8>)> {
        docs.iter()
            .filter(|d| d.owner == "tenor" && d.kind == kind)
            .map(|d| (d.path.clone(), d.body.clone()))
            .collect()
    };
    let at = Planning {
        record,
        host,
        quote,
        revision,
        only,
    };
    let mut jobs = Vec::new();
    let mut notes = Vec::new();
    let mut customer = String::new();
    at.purchase_order_jobs(read("purchase-order"), &mut customer, &mut jobs, &mut notes)?;
    let so = read("sales-order").into_iter().next();
    let rt = read("recurring-template").into_iter().next();
    if let (Some(so), Some(rt)) = (so, rt) {
        at.sales_jobs(so, rt, &mut customer, &mut jobs, &mut notes)?;
    }
    at.change_jobs(read("change-order"), &customer, &mut jobs)?;
    at.serial_jobs(&customer, &mut jobs)?;
    at.fix_jobs(
        read(crate::record::fixes::PSA_FIX),
        &customer,
        &mut jobs,
        &mut notes,
    )?;
    Ok((jobs, notes))
}

/// What every job of one [`plan`] shares.
struct Planning<'a> {
    record: &'a Record,
    host: &'a Host,
    quote: &'a str,
    revision: u32,
    only: Option<&'a str>,
}

impl Planning<'_> {
    /// True when `p` is asked for (`--only`) and pushes.
    fn wanted(&self, p: &Loaded) -> bool {
        self.only.is_none_or(|o| o == p.info.name) && p.can(Capability::Push)
    }

    /// A job with its conversation id and the customer's links at `plugin`.
    fn job(
        &self,
        plugin: &str,
        customer: &str,
        id: &str,
        document: PushDocument,
    ) -> Result<(String, Job), PushError> {
        Ok((
            plugin.to_string(),
            Job {
                conversation: push_conversation(self.quote, self.revision, plugin, customer, id),
                document,
                accounts: self.record.accounts(customer, plugin)?,
                claims: Vec::new(),
                after: Vec::new(),
            },
        ))
    }

    /// One job per purchase order whose distributor has a pushing plugin.
    fn purchase_order_jobs(
        &self,
        pos: Vec<(String, Vec<u8>)>,
        customer: &mut String,
        jobs: &mut Vec<(String, Job)>,
        notes: &mut Vec<String>,
    ) -> Result<(), PushError> {
        for (path, body) in pos {
            let mut po: PurchaseOrder = parse(&path, &body)?;
            customer.clone_from(&po.customer.id);
            if po.lines.is_empty() {
                continue;
            }
            match self
                .host
                .for_distributor(&po.distributor)
                .filter(|p| self.wanted(p))
            {
                Some(p) => {
                    let name = p.info.name.clone();
                    po.customer.accounts = self.record.accounts(&po.customer.id, &name)?;
                    let (cust, id) = (po.customer.id.clone(), po.id.clone());
                    let document = PushDocument::PurchaseOrder {
                        purchase_order: Box::new(po),
                    };
                    jobs.push(self.job(&name, &cust, &id, document)?);
                }
                None if self.only.is_none() => notes.push(format!(
                    "no loaded plugin pushes purchase orders for `{}`: {} was not sent",
                    po.distributor, po.id
                )),
                None => {}
            }
        }
        Ok(())
    }

    /// One job per PSA plugin that pushes, for the sales order and its template.
    fn sales_jobs(
        &self,
        (sp, sb): (String, Vec<u8>),
        (tp, tb): (String, Vec<u8>),
        customer: &mut String,
        jobs: &mut Vec<(String, Job)>,
        notes: &mut Vec<String>,
    ) -> Result<(), PushError> {
        let sales = SalesInput {
            sales_order: parse::<SalesOrder>(&sp, &sb)?,
            template: parse::<RecurringTemplate>(&tp, &tb)?,
        };
        customer.clone_from(&sales.sales_order.customer.id);
        let psas: Vec<&Loaded> = self.host.psas().filter(|p| self.wanted(p)).collect();
        if psas.is_empty() && self.only.is_none() {
            notes.push(format!(
                "no loaded PSA plugin pushes sales orders: {} was not sent",
                sales.sales_order.id
            ));
        }
        for p in psas {
            let name = p.info.name.clone();
            let accounts = self.record.accounts(customer, &name)?;
            let sales = crate::documents::accept::with_accounts(&sales, accounts);
            let id = sales.sales_order.id.clone();
            let document = PushDocument::Sales {
                sales: Box::new(sales),
            };
            jobs.push(self.job(&name, customer, &id, document)?);
        }
        Ok(())
    }

    /// One job per change order and plugin already planned, after the acceptance's jobs.
    fn change_jobs(
        &self,
        changes: Vec<(String, Vec<u8>)>,
        customer: &str,
        jobs: &mut Vec<(String, Job)>,
    ) -> Result<(), PushError> {
        let plugins = unique_in_order(jobs.iter().map(|(p, _)| p.clone()));
        for (path, body) in changes {
            let change_order: serde_json::Value = parse(&path, &body)?;
            let id = document_id(&change_order, &path);
            for name in &plugins {
                let document = PushDocument::Change {
                    change_order: change_order.clone(),
                    pushed: Vec::new(),
                };
                let after: Vec<(String, String)> = jobs
                    .iter()
                    .filter(|(p, j)| {
                        p == name
                            && matches!(
                                j.document,
                                PushDocument::PurchaseOrder { .. } | PushDocument::Sales { .. }
                            )
                    })
                    .map(|(_, j)| (j.conversation.id.clone(), j.conversation.document.clone()))
                    .collect();
                let (plugin, mut job) = self.job(name, customer, &id, document)?;
                job.after = after;
                jobs.push((plugin, job));
            }
        }
        Ok(())
    }
}

impl Planning<'_> {
    /// One job per PSA plugin the sales order is pushed to that has serials to be sent: the
    /// serials of its unfinished push, else those never sent to it.
    fn serial_jobs(&self, customer: &str, jobs: &mut Vec<(String, Job)>) -> Result<(), PushError> {
        let psas: Vec<String> = jobs
            .iter()
            .filter(|(_, j)| matches!(j.document, PushDocument::Sales { .. }))
            .map(|(p, _)| p.clone())
            .collect();
        for psa in psas {
            let Some(batch) = self.record.serial_batch(self.quote, self.revision, &psa)? else {
                continue;
            };
            let (name, mut job) =
                self.job(&psa, customer, &batch.document, serials::document(&batch))?;
            job.claims = batch.claims;
            jobs.push((name, job));
        }
        Ok(())
    }
}

impl Planning<'_> {
    /// One job per reconciliation fix document and PSA plugin the sales order is pushed to,
    /// after that push: a fix changes the additions it made. A plugin older than protocol 7
    /// cannot read one, and is named rather than sent it.
    fn fix_jobs(
        &self,
        docs: Vec<(String, Vec<u8>)>,
        customer: &str,
        jobs: &mut Vec<(String, Job)>,
        notes: &mut Vec<String>,
    ) -> Result<(), PushError> {
        let sales: Vec<(String, String, String)> = jobs
            .iter()
            .filter(|(_, j)| matches!(j.document, PushDocument::Sales { .. }))
            .map(|(p, j)| {
                let c = &j.conversation;
                (p.clone(), c.id.clone(), c.document.clone())
            })
            .collect();
        for (path, body) in docs {
            let doc: serde_json::Value = parse(&path, &body)?;
            let id = document_id(&doc, &path);
            let fixes = doc
                .get("fixes")
                .cloned()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| {
                    PushError::Document(format!("the recorded {path} does not read: {e}"))
                })?
                .unwrap_or_default();
            for (psa, first, first_doc) in &sales {
                let speaks = self
                    .host
                    .psas()
                    .find(|p| p.info.name == *psa)
                    .is_some_and(|p| p.info.protocol >= 7);
                if !speaks {
                    notes.push(format!(
                        "plugin `{psa}` predates protocol 7 and cannot take a reconciliation's fixes: {id} was not sent to it"
                    ));
                    continue;
                }
                let document = PushDocument::Fixes {
                    id: id.clone(),
                    fixes: Vec::clone(&fixes),
                    pushed: Vec::new(),
                };
                let (plugin, mut job) = self.job(psa, customer, &id, document)?;
                job.after = vec![(first.clone(), first_doc.clone())];
                jobs.push((plugin, job));
            }
        }
        Ok(())
    }
}

fn push_conversation(
    quote: &str,
    revision: u32,
    plugin: &str,
    customer: &str,
    document: &str,
) -> NewConversation {
    NewConversation {
        id: format!("push/{quote}/{revision}/{plugin}/{document}"),
        direction: "push",
        plugin: plugin.to_string(),
        customer: customer.to_string(),
        quote: Some((quote.to_string(), revision)),
        document: document.to_string(),
        month: None,
    }
}

/// A recorded document's `id`, else its file name without `.json`.
fn document_id(doc: &serde_json::Value, path: &str) -> String {
    doc.get("id")
        .and_then(|v| v.as_str())
        .unwrap_or(path.trim_end_matches(".json"))
        .to_string()
}

fn parse<T: serde::de::DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, PushError> {
    serde_json::from_slice(body)
        .map_err(|e| PushError::Document(format!("the recorded {path} does not read: {e}")))
}

/// Runs one push job to its end, or until its plugin says it must wait (or shows its first
/// request with `sender: None`).
pub fn run(
    record: &mut Record,
    plugin: &Loaded,
    mut job: Job,
    sender: Option<&mut dyn Sender>,
) -> Result<Outcome, PushError> {
    let id = job.conversation.id.clone();
    let existing = record.conversation(&id)?;
    if existing.as_ref().is_some_and(|c| c.state == "done") {
        return Ok(Outcome::AlreadyDone);
    }
    for (first, document) in &job.after {
        if record
            .conversation(first)?
            .is_none_or(|c| c.state != "done")
        {
            return Ok(Outcome::Held {
                after: document.clone(),
            });
        }
    }
    if let PushDocument::Change { pushed, .. }
    | PushDocument::Serials { pushed, .. }
    | PushDocument::Fixes { pushed, .. } = &mut job.document
        && let Some((quote, revision)) = &job.conversation.quote
    {
        *pushed = record.vendor_refs(quote, *revision, &plugin.info.name)?;
    }
    let today = today()?;
    let mut step = |exchanges: &[Exchange]| -> Result<Next<PushEnd>, PushError> {
        let input = PushInput {
            document: job.document.clone(),
            accounts: job.accounts.clone(),
            exchanges: exchanges.to_vec(),
            today: Some(today),
        };
        Ok(match plugin.try_call(ops::PUSH_STEP, &input)? {
            PushStep::Send { request } => Next::Send(request),
            PushStep::Done { refs } => Next::Done(PushEnd::Done(refs)),
            PushStep::Wait { until, why } => Next::Done(PushEnd::Wait(until, why)),
        })
    };
    let Some(sender) = sender else {
        let exchanges = existing.map(|c| c.exchanges).unwrap_or_default();
        return Ok(match step(&exchanges)? {
            Next::Send(r) => Outcome::WouldSend(Some(
                r.purpose.clone() + "\n" + &describe_or_plain(plugin, &r),
            )),
            Next::Done(PushEnd::Done(_)) => Outcome::WouldSend(None),
            Next::Done(PushEnd::Wait(until, why)) => Outcome::Waiting {
                until,
                why,
                sent: 0,
            },
        });
    };
    if !job.claims.is_empty() {
        record.claim_serials(&job.conversation, &plugin.info.name, &job.claims)?;
    }
    let conversation = record.open_conversation(&job.conversation)?;
    let (end, sent) = converse(
        record,
        &plugin.info.name,
        &id,
        conversation.exchanges,
        sender,
        &mut step,
    )?;
    match end {
        PushEnd::Done(refs) => {
            record.finish_push(&id, &refs)?;
            Ok(Outcome::Done { refs, sent })
        }
        // Left open, not finished: the next run resumes it with every exchange so far.
        PushEnd::Wait(until, why) => Ok(Outcome::Waiting { until, why, sent }),
    }
}

/// The request as the configured vendor would get it, or (no configuration) its method, path
/// and body under `$TENOR_<PLUGIN>_URL`.
fn describe_or_plain(plugin: &Loaded, r: &Request) -> String {
    match crate::transport::config::from_env(&plugin.info.name) {
        Ok(c) => crate::transport::Http::new(c).describe(r),
        Err(e) => {
            let prefix = crate::transport::config::prefix(&plugin.info.name);
            let mut c = crate::transport::config::from_vars(&plugin.info.name, &|k| {
                (k == format!("{prefix}_URL")).then(|| format!("https://{prefix}_URL"))
            })
            .map(|c| crate::transport::Http::new(c).describe(r))
            .unwrap_or_default();
            c.push_str(&format!("  (not configured: {e})\n"));
            c
        }
    }
}

/// Drives a conversation: asks `step` for the next request given every exchange so far,
/// commits the request, sends it, commits the answer; until `step` says it is done. A
/// request that may have reached the vendor without an answer is handed back without a
/// response (the plugin looks up); one the vendor never got stops the run, the conversation
/// marked failed (the next run resumes it).
pub fn converse<T>(
    record: &mut Record,
    plugin: &str,
    id: &str,
    mut exchanges: Vec<Exchange>,
    sender: &mut dyn Sender,
    step: &mut Step<'_, T>,
) -> Result<(T, usize), PushError> {
    let mut lost = 0;
    for sent in 0..MAX_STEPS {
        let request = match step(&exchanges) {
            Ok(Next::Done(t)) => return Ok((t, sent)),
            Ok(Next::Send(r)) => r,
            Err(e) => {
                record.fail_conversation(id, &e.to_string())?;
                return Err(e);
            }
        };
        let seq = record.record_request(id, &request)?;
        match sender.send(&request) {
            Ok(response) => {
                record.record_response(id, seq, &response)?;
                exchanges.push(Exchange {
                    request,
                    response: Some(response),
                });
            }
            Err(SendError::MaybeSent(_)) if lost < MAX_LOST => {
                lost += 1;
                exchanges.push(Exchange {
                    request,
                    response: None,
                });
            }
            Err(e) => {
                let message = e.to_string();
                record.fail_conversation(id, &message)?;
                return Err(PushError::Vendor {
                    plugin: plugin.to_string(),
                    message,
                });
            }
        }
    }
    record.fail_conversation(id, "too many requests")?;
    Err(PushError::Endless {
        plugin: plugin.to_string(),
        id: id.to_string(),
    })
}

/// Each name once, in the order first seen: the acceptance's jobs list a plugin once per
/// document, and its documents need not be adjacent (a PSA's sales job between two purchase
/// orders), so `Vec::dedup` would keep duplicates and push a change twice.
fn unique_in_order(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    names.filter(|n| seen.insert(n.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::unique_in_order;

    #[test]
    fn a_plugin_named_again_after_another_is_kept_once_in_first_seen_order() {
        let names = ["pax8", "connectwise", "pax8", "ingram", "connectwise"];
        assert_eq!(
            unique_in_order(names.iter().map(|n| n.to_string())),
            ["pax8", "connectwise", "ingram"]
        );
    }
}
