//! Accepting a priced quote: the sales order, one purchase order per distributor, the invoice
//! schedule, the recurring invoice template and a summary, made deterministically (the same
//! quote and rules always give the same bytes) and written as one export (`files::export`).

use super::replay::{self, Difference};
use super::streamed::{self, Dated, Frame, Spool};
use crate::engine::calendar;
use crate::engine::catalogue::{
    Billing, Catalogue, PartNumber, Price, Rate, RouteRule, Sellable, TierTable,
};
use crate::engine::pricing::{
    self, ChargeKind, PriceOptions, PriceWarning, PricedLine, PricedQuote, PricedSummary,
};
use crate::engine::quote::Quote;
use crate::engine::tiers;
use crate::files::export::{ExportError, ExportFile, ExportPath};
use chrono::Datelike;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::path::Path;
use tenor_plugin_sdk::docs::{self, Customer, Timing};
use tenor_plugin_sdk::exchange::Accounts;

/// Every document made from one accepted quote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The customer's view.
    pub sales_order: docs::SalesOrder,
    /// One per distributor, sorted by distributor name.
    pub purchase_orders: Vec<docs::PurchaseOrder>,
    /// Every charge over the commitment.
    pub schedule: docs::InvoiceSchedule,
    /// The recurring lines for the PSA.
    pub template: docs::RecurringTemplate,
    /// Figures and bundle revenue allocation.
    pub summary: docs::AcceptSummary,
    /// What is bought on terms the customer's do not cover (a distributor that takes no
    /// co-term date), at the quote's lines.
    pub warnings: Vec<PriceWarning>,
}

/// A problem that stops a quote from being accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AcceptError {
    /// The quote line (from 1), when the problem belongs to one.
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

/// SHA-256, in hex, of the quote (as parsed, so layout does not matter) and the rule files
/// (their file names and texts, not where the folder is: moving the rules changes nothing).
pub fn fingerprint(quote: &Quote, rule_files: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    // Hashed as it is written: a quote of a million lines is a hundred megabytes of JSON.
    if serde_json::to_writer(&mut h, quote).is_err() {
        h = Sha256::new();
    }
    for (name, text) in rule_files {
        let base = Path::new(name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        h.update(b"\0");
        h.update(base.as_bytes());
        h.update(b"\0");
        h.update(text.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Document ids, all derived from the quote id.
pub fn sales_order_id(quote: &str) -> String {
    format!("SO-{quote}")
}

fn po_id(quote: &str, distributor: &str) -> String {
    format!("PO-{quote}-{distributor}")
}

/// The first route that matches an item, in written order.
pub fn route<'c>(cat: &'c Catalogue, item: &Sellable) -> Option<&'c RouteRule> {
    use tenor_dsl::ast::TargetKind;
    cat.routes.iter().find(|r| match &r.matcher {
        None => true,
        Some((TargetKind::Product, sku)) => &*item.sku == sku.as_str(),
        Some((TargetKind::Vendor, v)) => item.vendor.as_deref() == Some(v.as_str()),
        Some((TargetKind::Category, c)) => item.category.as_deref() == Some(c.as_str()),
        Some((TargetKind::Bundle, _)) => false,
    })
}

/// Shown with at least the currency's decimals, at most six (unit prices may be finer).
fn unit_amount(v: Decimal, minor: u32) -> Decimal {
    let mut p = v.round_dp(6).normalize();
    if p.scale() < minor {
        p.rescale(minor);
    }
    p
}

/// Builds the documents of an accepted quote. Every problem is reported, none is skipped.
pub fn accept(
    cat: &Catalogue,
    quote: &Quote,
    priced: &PricedQuote,
    fingerprint: &str,
) -> Result<Accepted, Vec<AcceptError>> {
    let charges = priced.lines.iter().map(|l| l.charges.len()).sum();
    let held = ScheduleOut::Held(Vec::with_capacity(charges));
    let mut b = Builder::new(cat, quote, held, None);
    for pl in &priced.lines {
        if let Some(f) = LineFacts::resolve(cat, quote, pl) {
            b.add_line(&f);
        }
    }
    let (accepted, _) = b.finish(&priced.totals, fingerprint)?;
    Ok(accepted)
}

/// An accepted quote whose priced quote and long documents are in scratch files, written
/// out whole only into the record: memory holds one line's charges at a time, not millions.
#[derive(Debug)]
pub struct Streamed {
    priced: Frame,
    lines: Spool,
    documents: Vec<FramedDocument>,
}

/// A document whose lines are in a scratch file.
#[derive(Debug)]
struct FramedDocument {
    id: String,
    kind: &'static str,
    frame: Frame,
    elements: Elements,
}

/// A scratch file of rendered elements.
#[derive(Debug)]
enum Elements {
    InOrder(Spool),
    ByDate(Dated),
}

impl Streamed {
    /// The priced quote without its lines, as [`Self::write_priced`] frames them.
    pub fn priced_head(&self) -> String {
        String::from_utf8_lossy(&self.priced.empty()).into_owned()
    }

    /// Writes the priced quote: the bytes of `serde_json::to_string_pretty` of the whole.
    pub fn write_priced(&self, out: &mut dyn Write) -> io::Result<()> {
        self.priced.write(out, &mut |o| self.lines.write_to(o))
    }

    /// The streamed documents' ids and kinds, in the order [`files`] writes them.
    pub fn documents(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.documents.iter().map(|d| (d.id.as_str(), d.kind))
    }

    /// Writes streamed document `i` as [`files`] gives it: pretty JSON and a newline.
    pub fn write_document(&self, i: usize, out: &mut dyn Write) -> io::Result<()> {
        let d = self
            .documents
            .get(i)
            .ok_or_else(|| io::Error::other("no such streamed document"))?;
        d.frame.write(out, &mut |o| match &d.elements {
            Elements::InOrder(spool) => spool.write_to(o),
            Elements::ByDate(dated) => dated.write_to(o),
        })?;
        out.write_all(b"\n")
    }
}

/// Why [`accept_streamed`] made no documents.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The engine refused the quote.
    #[error("the quote was refused")]
    Refused(Vec<AcceptError>),
    /// A scratch file could not be written.
    #[error("cannot write a scratch file: {0}")]
    Io(#[from] io::Error),
}

/// [`accept`] from a quote that [`pricing::summarize`] accepted, pricing it again line by
/// line: each priced line and each charge goes to a scratch file as it is made, and so do
/// the other documents' lines unless `hold_lines` (plugins render them from memory). The
/// documents come without the lines that are in the scratch files.
pub fn accept_streamed(
    cat: &Catalogue,
    quote: &Quote,
    summary: &PricedSummary,
    fingerprint: &str,
    hold_lines: bool,
) -> Result<(Accepted, Streamed), StreamError> {
    let priced = frame(&summary.without_lines(), "lines")?;
    let mut lines = Spool::new()?;
    let spools = if hold_lines {
        None
    } else {
        Some(LineSpools {
            sales: Spool::new()?,
            template: Spool::new()?,
        })
    };
    let mut b = Builder::new(cat, quote, ScheduleOut::Dated(Dated::new()?), spools);
    let (mut scratch, mut one) = (Vec::new(), Vec::new());
    pricing::each_line(cat, quote, &PriceOptions::default(), |pl| {
        one.clear();
        streamed::element(pl, &mut scratch, &mut one)?;
        lines.push(&one)?;
        if let Some(f) = LineFacts::resolve(cat, quote, pl) {
            b.add_line(&f);
        }
        b.failed.take().map_or(Ok(()), Err)
    })
    .map_err(|e| match e {
        pricing::EachLineError::Price(errors) => StreamError::Refused(
            errors
                .into_iter()
                .map(|e| AcceptError {
                    line: None,
                    message: format!("{}: {}", e.field, e.message),
                    help: e.help,
                })
                .collect(),
        ),
        pricing::EachLineError::Sink(e) => StreamError::Io(e),
    })?;
    let (accepted, spilled) = b
        .finish(&summary.totals, fingerprint)
        .map_err(StreamError::Refused)?;
    let documents = framed_documents(&accepted, spilled)?;
    let streamed = Streamed {
        priced,
        lines,
        documents,
    };
    Ok((accepted, streamed))
}

/// [`Frame::new`], or an error naming the array it did not find.
fn frame(doc: &impl serde::Serialize, key: &str) -> io::Result<Frame> {
    Frame::new(doc, key).ok_or_else(|| io::Error::other(format!("no top-level `{key}` to stream")))
}

/// The documents whose lines were spilled, each framed, in the order [`files`] writes them.
fn framed_documents(a: &Accepted, spilled: Spilled) -> io::Result<Vec<FramedDocument>> {
    let mut out = Vec::new();
    let mut put = |id: &str, kind, frame, elements| {
        out.push(FramedDocument {
            id: id.to_string(),
            kind,
            frame,
            elements,
        });
    };
    for (po, spool) in a.purchase_orders.iter().zip(spilled.orders) {
        if let Some(spool) = spool {
            put(
                &po.id,
                "purchase-order",
                frame(po, "lines")?,
                Elements::InOrder(spool),
            );
        }
    }
    if let Some(dated) = spilled.charges {
        let f = frame(&a.schedule, "charges")?;
        put(
            &a.schedule.id,
            "invoice-schedule",
            f,
            Elements::ByDate(dated),
        );
    }
    if let Some(LineSpools { sales, template }) = spilled.lines {
        let f = frame(&a.template, "lines")?;
        put(
            &a.template.id,
            "recurring-template",
            f,
            Elements::InOrder(template),
        );
        let f = frame(&a.sales_order, "lines")?;
        put(
            &a.sales_order.id,
            "sales-order",
            f,
            Elements::InOrder(sales),
        );
    }
    Ok(out)
}

/// The invariant of issue 10: the recurring template, replayed over the commitment, bills
/// exactly the schedule's recurring charges on every bill date; if not, accepting is refused
/// with the first difference, as a PSA following the template would bill it wrongly.
fn template_agrees(first: Option<Difference>) -> Result<(), Vec<AcceptError>> {
    match first {
        None => Ok(()),
        Some(d) => Err(vec![AcceptError {
            line: Some(d.line),
            message: format!(
                "the recurring template does not bill what the invoice schedule bills: line {} on \
                 {}, the schedule bills {} and the template, replayed, bills {}",
                d.line, d.bill_date, d.expected, d.got
            ),
            help: Some(
                "this is a fault in Tenor, not in the quote or rules: please report it with the \
                 quote and rules"
                    .into(),
            ),
        }]),
    }
}

/// What one priced line is, resolved once for every document it appears in.
struct LineFacts<'a> {
    pl: &'a PricedLine,
    line_no: u32,
    item: &'a Sellable,
    term: Option<u32>,
    billing: Billing,
    months: u32,
    metered: bool,
    /// The line's quoted usage estimate, for metered items.
    usage: Decimal,
    unit_price: Decimal,
    /// The offer's flat rate, `None` when tiered.
    flat: Option<&'a Rate>,
    /// The offer's tier table, when tiered.
    tiers: Option<&'a TierTable>,
    contract_value: Decimal,
}

impl<'a> LineFacts<'a> {
    /// The facts of a priced line, or `None` when the rules no longer sell it as priced.
    fn resolve(cat: &'a Catalogue, quote: &Quote, pl: &'a PricedLine) -> Option<Self> {
        let (_, item) = cat.item(&pl.product)?;
        let term = pricing::parse_term(&pl.term).ok().flatten();
        let billing = if term.is_none() {
            Billing::Upfront
        } else {
            pricing::parse_billing(pl.billing).unwrap_or(Billing::Upfront)
        };
        let offer = item.offer(term, billing)?;
        let months = offer.billing_months().unwrap_or(0);
        let metered = item.usage.is_some();
        let usage = quote_usage(quote, pl).unwrap_or(Decimal::ZERO);
        let unit_price = match &offer.price {
            Price::Flat(rate) => for_term(rate, term, months),
            Price::Tiered(t) => match cat.tiers.get(*t) {
                Some(table) => {
                    let u = if metered { usage } else { pl.quantity };
                    if u.is_zero() {
                        Decimal::ZERO
                    } else {
                        tiers::amount(table, u) * periods_billed(table, term, months) / u
                    }
                }
                None => Decimal::ZERO,
            },
        };
        Some(LineFacts {
            pl,
            line_no: u32::try_from(pl.line).unwrap_or(u32::MAX),
            item,
            term,
            billing,
            months,
            metered,
            usage,
            unit_price,
            flat: match &offer.price {
                Price::Flat(rate) => Some(rate),
                Price::Tiered(_) => None,
            },
            tiers: match &offer.price {
                Price::Flat(_) => None,
                Price::Tiered(t) => cat.tiers.get(*t),
            },
            contract_value: pl.charges.iter().map(|c| c.amount).sum(),
        })
    }
}

/// A rate for one billing period of `months` months, or as written for a one-time line.
fn for_term(rate: &Rate, term: Option<u32>, months: u32) -> Decimal {
    match term {
        None => rate.amount,
        Some(_) => rate.for_months(months),
    }
}

/// How many of a tier table's periods one billing period of `months` months holds.
fn periods_billed(table: &TierTable, term: Option<u32>, months: u32) -> Decimal {
    match (table.per_months, term) {
        (Some(p), Some(_)) if !table.once => Decimal::from(months) / Decimal::from(p),
        _ => Decimal::ONE,
    }
}

/// What one distributor is asked for: lines at a fixed quantity (held, or rendered into a
/// scratch file), and metered usage.
#[derive(Default)]
struct Bought {
    lines: Vec<docs::PurchaseOrderLine>,
    spooled: Option<Spool>,
    /// How many lines, held or spooled.
    count: u32,
    /// The sum of their committed costs.
    committed: Decimal,
    usage: Vec<docs::PurchaseUsageLine>,
}

/// The sales order's and template's lines rendered into scratch files rather than held
/// (the purchase orders' are in [`Bought::spooled`]).
struct LineSpools {
    sales: Spool,
    template: Spool,
}

/// Where a builder puts the schedule's charges.
enum ScheduleOut {
    /// Held, to be sorted by bill date at the end (sized once: it can run to millions).
    Held(Vec<docs::ScheduledCharge>),
    /// Rendered as they come and filed by bill date in a scratch file.
    Dated(Dated),
}

/// The documents' lines as they are gathered, line by line, and the problems found.
struct Builder<'a> {
    cat: &'a Catalogue,
    quote: &'a Quote,
    minor: u32,
    errors: Vec<AcceptError>,
    warnings: Vec<PriceWarning>,
    so_lines: Vec<docs::SalesOrderLine>,
    po_lines: BTreeMap<String, Bought>,
    schedule: ScheduleOut,
    schedule_total: Decimal,
    recurring: Vec<docs::RecurringLine>,
    /// Where the lines go when they are not held.
    spools: Option<LineSpools>,
    allocations: Vec<docs::BundleAllocation>,
    /// Where the template first fails to bill what the schedule does, by (bill date, line).
    mismatch: Option<Difference>,
    /// A scratch file that could not be written.
    failed: Option<io::Error>,
    /// Reused buffers for rendering one charge.
    rendering: (Vec<u8>, Vec<u8>),
}

impl<'a> Builder<'a> {
    /// An empty builder putting the schedule's charges in `schedule`, and the other
    /// documents' lines in `spools` when given.
    fn new(
        cat: &'a Catalogue,
        quote: &'a Quote,
        schedule: ScheduleOut,
        spools: Option<LineSpools>,
    ) -> Self {
        Builder {
            spools,
            cat,
            quote,
            minor: cat.minor_units,
            errors: Vec::new(),
            warnings: Vec::new(),
            so_lines: Vec::new(),
            po_lines: BTreeMap::new(),
            schedule,
            schedule_total: Decimal::ZERO,
            recurring: Vec::new(),
            allocations: Vec::new(),
            mismatch: None,
            failed: None,
            rendering: Default::default(),
        }
    }

    /// Adds one line to every document it belongs in.
    fn add_line(&mut self, f: &LineFacts<'_>) {
        let sales = self.sales_line(f);
        match &mut self.spools {
            Some(s) => spool(&sales, &mut s.sales, &mut self.rendering, &mut self.failed),
            None => self.so_lines.push(sales),
        }
        self.schedule_charges(f);
        let template = f.term.is_some().then(|| self.recurring_line(f));
        let billed =
            f.pl.charges
                .iter()
                .map(|c| (c.bill_date, c.amount, timing(f, c)));
        if let Some(d) = replay::line_difference(f.line_no, template.as_ref(), billed) {
            if self
                .mismatch
                .as_ref()
                .is_none_or(|m| (d.bill_date, d.line) < (m.bill_date, m.line))
            {
                self.mismatch = Some(d);
            }
        }
        if let Some(t) = template {
            match &mut self.spools {
                Some(s) => spool(&t, &mut s.template, &mut self.rendering, &mut self.failed),
                None => self.recurring.push(t),
            }
        }
        self.purchase_lines(f);
        if f.item.is_bundle {
            self.allocations.push(allocate(self.cat, f));
        }
    }

    /// The line of the sales order.
    fn sales_line(&self, f: &LineFacts<'_>) -> docs::SalesOrderLine {
        let (pl, minor) = (f.pl, self.minor);
        let cost: Decimal = pl.charges.iter().map(|c| c.cost).sum();
        docs::SalesOrderLine {
            catalog_item: f.item.catalog_item.clone(),
            line: f.line_no,
            product: pl.product.to_string(),
            name: pl.name.to_string(),
            bundle: pl.bundle,
            quantity: pl.quantity,
            term: pl.term.to_string(),
            billing: pl.billing.to_string(),
            coterm: pl.coterm.as_ref().map(|c| c.to_string()),
            start: pl.start,
            term_start: pl.term_start,
            end: pl.end,
            unit_price: unit_amount(f.unit_price, minor),
            recurring: pl.recurring,
            first_charge: pl.first_charge,
            contract_value: with_scale(f.contract_value, minor),
            cost: with_scale(cost, minor),
        }
    }

    /// The line's charges, in the invoice schedule.
    fn schedule_charges(&mut self, f: &LineFacts<'_>) {
        let pl = f.pl;
        for c in &pl.charges {
            let charge = docs::ScheduledCharge {
                line: f.line_no,
                product: pl.product.clone(),
                kind: std::borrow::Cow::Borrowed(c.kind.as_str()),
                period_start: c.period_start,
                period_end: c.period_end,
                bill_date: c.bill_date,
                timing: timing(f, c),
                amount: c.amount,
                cost: c.cost,
                rule: c.rule.clone(),
            };
            self.schedule_total += c.amount;
            match &mut self.schedule {
                ScheduleOut::Held(all) => all.push(charge),
                ScheduleOut::Dated(dated) => {
                    let (scratch, one) = &mut self.rendering;
                    one.clear();
                    let filed = streamed::element(&charge, scratch, one)
                        .and_then(|()| dated.push(c.bill_date, one));
                    if let Err(e) = filed {
                        self.failed.get_or_insert(e);
                    }
                }
            }
        }
    }

    /// The line of the recurring invoice template, for a line with a term: its stub, its
    /// regular charge and its dated discounts, so that replaying it bills the line's charges.
    fn recurring_line(&self, f: &LineFacts<'_>) -> docs::RecurringLine {
        let pl = f.pl;
        let parts = TemplateParts::of(pl);
        let next_bill = pl
            .charges
            .iter()
            .find(|c| {
                matches!(c.kind, ChargeKind::Recurring | ChargeKind::Usage) && !c.share.is_partial()
            })
            .map(|c| c.bill_date)
            // A commitment that is all stub (coterminous) bills its next full period at
            // renewal.
            .unwrap_or(pl.end);
        docs::RecurringLine {
            catalog_item: f.item.catalog_item.clone(),
            line: f.line_no,
            product: pl.product.to_string(),
            description: pl.name.to_string(),
            quantity: if f.metered { f.usage } else { pl.quantity },
            // A usage line has no fixed price per unit: its terms are in `usage`.
            unit_price: (!f.metered).then(|| unit_amount(f.unit_price, self.minor)),
            frequency: pl.billing.to_string(),
            months: f.months,
            timing: if f.metered {
                Timing::Arrears
            } else {
                Timing::Advance
            },
            amount: parts.amount.unwrap_or(pl.recurring),
            next_bill_date: next_bill,
            billing_day: parts.billing_day,
            start: pl.start,
            end: pl.end,
            stub: parts.stub,
            discounts: parts.discounts,
            usage: f.metered.then(|| usage_terms(self.cat, f)),
        }
    }

    /// What must be bought for the line, and from whom: a purchase-order line (or, for a
    /// metered part, a usage line) per bought part, or a problem when the rules do not say
    /// where to buy it.
    fn purchase_lines(&mut self, f: &LineFacts<'_>) {
        let (cat, item, pl) = (self.cat, f.item, f.pl);
        let parts: Vec<(&Sellable, Decimal, Option<&str>)> = if item.is_bundle {
            item.components
                .iter()
                .filter_map(|(ci, per)| {
                    cat.items
                        .get(*ci)
                        .map(|c| (c, pl.quantity * per, Some(&*item.sku)))
                })
                .collect()
        } else {
            vec![(item, pl.quantity, None)]
        };
        for (part, qty, bundle) in parts {
            if !part.bought {
                continue;
            }
            match source(cat, part) {
                Ok((r, pn)) => {
                    if !self.po_lines.contains_key(&r.via) {
                        let spooled = match self.spools.is_some().then(Spool::small) {
                            Some(Err(e)) => {
                                self.failed.get_or_insert(e);
                                None
                            }
                            made => made.and_then(Result::ok),
                        };
                        let bought = Bought {
                            spooled,
                            ..Bought::default()
                        };
                        self.po_lines.insert(r.via.clone(), bought);
                    }
                    let Some(bought) = self.po_lines.get_mut(&r.via) else {
                        continue;
                    };
                    let mut cost = part_cost(self.cat, f, part, qty);
                    if cat.no_coterm.contains(&r.via) && part.usage.is_none() {
                        let name = cat
                            .distributors
                            .iter()
                            .find(|d| d.0 == r.via)
                            .and_then(|d| d.1.as_deref())
                            .unwrap_or(&r.via);
                        if let Some(w) = cost.as_sold_without_coterm(f, part, name) {
                            self.warnings.push(w);
                        }
                    }
                    match &part.usage {
                        Some((metric, agg)) => bought.usage.push(usage_line(
                            f,
                            part,
                            bundle,
                            pn,
                            (metric, agg.keyword()),
                            &cost,
                            self.minor,
                        )),
                        None => {
                            let mut line =
                                purchase_line(f, part, qty, bundle, pn, &cost, self.minor);
                            bought.count += 1;
                            line.line = bought.count;
                            bought.committed += line.committed_cost;
                            match &mut bought.spooled {
                                Some(s) => spool(&line, s, &mut self.rendering, &mut self.failed),
                                None => bought.lines.push(line),
                            }
                        }
                    }
                }
                Err((message, help)) => self.errors.push(AcceptError {
                    line: Some(f.line_no),
                    message,
                    help: Some(help),
                }),
            }
        }
    }

    /// The documents, from every line gathered.
    // Long: one literal per document, in the order the summary lists them; splitting it
    // would pass the same dozen values between pieces.
    fn finish(
        self,
        t: &pricing::Totals,
        fingerprint: &str,
    ) -> Result<(Accepted, Spilled), Vec<AcceptError>> {
        let Builder {
            cat,
            quote,
            minor,
            schedule,
            schedule_total,
            so_lines,
            po_lines,
            recurring,
            allocations,
            warnings,
            errors,
            mismatch,
            spools,
            ..
        } = self;
        if !errors.is_empty() {
            return Err(errors);
        }
        template_agrees(mismatch)?;
        let (schedule, dated) = match schedule {
            ScheduleOut::Held(mut all) => {
                sort_schedule(&mut all);
                (all, None)
            }
            ScheduleOut::Dated(dated) => (Vec::new(), Some(dated)),
        };
        let so_id = sales_order_id(&quote.quote);
        let customer = Customer {
            id: quote.customer.id.clone(),
            name: quote.customer.name.clone(),
            accounts: Default::default(),
        };
        let (purchase_orders, orders): (Vec<_>, Vec<_>) =
            purchase_orders(cat, quote, &customer, po_lines)
                .into_iter()
                .unzip();
        let totals = docs::Totals {
            first_invoice: t.first_invoice,
            mrr: t.mrr,
            arr: t.arr,
            contract_value: t.contract_value,
            cost: t.cost,
            margin: t.margin,
        };
        let schedule_doc = docs::InvoiceSchedule {
            schema: docs::INVOICE_SCHEDULE.to_string(),
            id: format!("SCHED-{}", quote.quote),
            sales_order: so_id.clone(),
            currency: cat.currency.clone(),
            customer: customer.clone(),
            charges: schedule,
            total: with_scale(schedule_total, minor),
        };
        let template = docs::RecurringTemplate {
            schema: docs::RECURRING_TEMPLATE.to_string(),
            id: format!("RT-{}", quote.quote),
            sales_order: so_id.clone(),
            currency: cat.currency.clone(),
            customer: customer.clone(),
            mrr: t.mrr,
            lines: recurring,
        };
        let mut documents = vec![so_id.clone()];
        documents.extend(purchase_orders.iter().map(|p| p.id.clone()));
        documents.push(schedule_doc.id.clone());
        documents.push(template.id.clone());
        let summary = docs::AcceptSummary {
            schema: docs::ACCEPT_SUMMARY.to_string(),
            id: format!("SUM-{}", quote.quote),
            sales_order: so_id.clone(),
            currency: cat.currency.clone(),
            documents,
            totals: totals.clone(),
            bundle_allocations: allocations,
        };
        let sales_order = docs::SalesOrder {
            schema: docs::SALES_ORDER.to_string(),
            id: so_id,
            quote: quote.quote.clone(),
            date: quote.date,
            currency: cat.currency.clone(),
            customer,
            fingerprint: fingerprint.to_string(),
            lines: so_lines,
            totals,
        };
        let accepted = Accepted {
            sales_order,
            purchase_orders,
            schedule: schedule_doc,
            template,
            summary,
            warnings,
        };
        let spilled = Spilled {
            charges: dated,
            lines: spools,
            orders,
        };
        Ok((accepted, spilled))
    }
}

/// The scratch files a builder filled: the schedule's charges, the sales order's and
/// template's lines, each purchase order's lines (in the purchase orders' order); `None`
/// where they were held.
struct Spilled {
    charges: Option<Dated>,
    lines: Option<LineSpools>,
    orders: Vec<Option<Spool>>,
}

/// Renders `value` as the next element of `spool`; a failure is kept in `failed`.
fn spool(
    value: &impl serde::Serialize,
    spool: &mut Spool,
    (scratch, one): &mut (Vec<u8>, Vec<u8>),
    failed: &mut Option<io::Error>,
) {
    one.clear();
    if let Err(e) = streamed::element(value, scratch, one).and_then(|()| spool.push(one)) {
        failed.get_or_insert(e);
    }
}

/// How a line's charge is billed: once, in arrears for what is metered, else in advance.
fn timing(f: &LineFacts<'_>, c: &pricing::Charge) -> Timing {
    match c.kind {
        ChargeKind::OneTime => Timing::Once,
        _ if f.metered => Timing::Arrears,
        _ => Timing::Advance,
    }
}

/// What a bought part costs the MSP and for how long: its unit cost for one billing period,
/// the sum over the line's charges of each period's share at that cost, and the distributor
/// terms it is bought on.
struct PartCost {
    unit: Option<Decimal>,
    /// The units' cost for one full billing period, rounded once in the rules' mode.
    period: Option<Decimal>,
    committed: Decimal,
    /// Where the first distributor term ends.
    first_term_end: chrono::NaiveDate,
    /// Where the distributor commitment ends.
    commitment_end: chrono::NaiveDate,
}

impl PartCost {
    /// Restates the part as a distributor that takes no co-term date sells it: full terms from
    /// the line's start, renewed until they cover the customer's end, each billing period at
    /// full cost. The warning says what the months past the customer's end cost; `None` when
    /// they end together (a line that starts on its anchor) or the line has no term.
    fn as_sold_without_coterm(
        &mut self,
        f: &LineFacts<'_>,
        part: &Sellable,
        via: &str,
    ) -> Option<PriceWarning> {
        let pl = f.pl;
        let term = i64::from(f.term?);
        let first = calendar::add_months(pl.start, term)?;
        // The k-th term's end, anchored on the start (never chained: Jan 31 stays the 31st).
        let (k, end) = (1..=i64::from(u16::MAX))
            .map(|k| (k, calendar::add_months(pl.start, k * term)))
            .find(|(_, e)| e.is_none_or(|e| e >= pl.end))?;
        let end = end?;
        let months = k * term;
        self.first_term_end = first;
        self.commitment_end = end;
        let periods = Decimal::from(months / i64::from(f.months.max(1)));
        let customer_cost = self.committed;
        let after = match self.period {
            Some(p) => {
                self.committed = p * periods;
                crate::engine::money::money(self.committed - customer_cost).to_string()
            }
            None => "unknown (the rules give no cost)".to_string(),
        };
        (end > pl.end).then(|| PriceWarning {
            code: "distributor-runs-past",
            field: format!("lines[{}].product", pl.line.saturating_sub(1)),
            message: format!(
                "{via} takes no co-term date, so it sells {} on {} terms from {}: the commitment \
                 runs to {end}, past the customer's end {}, and its cost after that, {}, is \
                 covered by no charge to the customer",
                part.sku, pl.term, pl.start, pl.end, after
            ),
            help: Some(format!(
                "start the line on its co-term anchor, route {} to a distributor that co-terms, \
                 or co-term the subscription at {via} by hand",
                part.sku
            )),
        })
    }
}

/// The cost of `qty` units of a part bought for a line over the line's commitment. A metered
/// part costs per unit used: the quote's estimate, not the subscription count.
fn part_cost(cat: &Catalogue, f: &LineFacts<'_>, part: &Sellable, qty: Decimal) -> PartCost {
    let unit = part
        .offer(f.term, f.billing)
        .and_then(|o| o.cost)
        .map(|c| for_term(&c, f.term, f.months));
    let units = if part.usage.is_some() { f.usage } else { qty };
    let committed = match unit {
        Some(uc) => {
            f.pl.charges
                .iter()
                .filter(|c| !matches!(c.kind, ChargeKind::Discount | ChargeKind::MinimumTrueUp))
                .map(|c| {
                    let exact =
                        units * uc * Decimal::from(c.share.num) / Decimal::from(c.share.den.max(1));
                    cat.round(exact)
                })
                .sum()
        }
        None => cat.round(Decimal::ZERO),
    };
    PartCost {
        unit,
        period: unit.map(|u| cat.round(u * qty)),
        committed,
        first_term_end: first_term_end(f.pl),
        commitment_end: f.pl.end,
    }
}

/// The first distributor term of a line: it ends at the co-term date when the line starts with
/// a stub (then renews for full terms to the customer's end), else at the customer's end (a
/// coterminous first term, or a full term from an anchor).
fn first_term_end(pl: &PricedLine) -> chrono::NaiveDate {
    if pl.term_start > pl.start {
        pl.term_start
    } else {
        pl.end
    }
}

/// The purchase-order line of one part bought at a fixed quantity for a line.
fn purchase_line(
    f: &LineFacts<'_>,
    part: &Sellable,
    qty: Decimal,
    bundle: Option<&str>,
    pn: &PartNumber,
    cost: &PartCost,
    minor: u32,
) -> docs::PurchaseOrderLine {
    let pl = f.pl;
    let renews = f.term.is_some();
    docs::PurchaseOrderLine {
        line: 0,
        quote_line: f.line_no,
        bundle: bundle.map(str::to_string),
        product: part.sku.to_string(),
        name: part.name.to_string(),
        vendor: part.vendor.clone(),
        part_number: pn.number.clone(),
        distributor_product_id: pn.id.clone(),
        catalog_id: part.catalog_id.clone(),
        quantity: qty,
        term: pl.term.to_string(),
        billing: pl.billing.to_string(),
        first_term_start: pl.start,
        first_term_end: cost.first_term_end,
        renews,
        renewal_term: renews.then(|| pl.term.to_string()),
        commitment_end: cost.commitment_end,
        commitment_term_id: pn.commitment(f.term).map(str::to_string),
        sku_id: pn.sku.clone(),
        plan_id: pn.plan(f.term, f.billing).map(str::to_string),
        unit_cost: cost.unit.map(|u| unit_amount(u, minor)),
        period_cost: cost.period.map(|p| with_scale(p, minor)),
        committed_cost: with_scale(cost.committed, minor),
    }
}

/// The usage line of a metered part bought for a line: no quantity, its estimate's cost.
fn usage_line(
    f: &LineFacts<'_>,
    part: &Sellable,
    bundle: Option<&str>,
    pn: &PartNumber,
    (metric, aggregation): (&str, &str),
    cost: &PartCost,
    minor: u32,
) -> docs::PurchaseUsageLine {
    let pl = f.pl;
    docs::PurchaseUsageLine {
        quote_line: f.line_no,
        bundle: bundle.map(str::to_string),
        product: part.sku.to_string(),
        name: part.name.to_string(),
        vendor: part.vendor.clone(),
        part_number: pn.number.clone(),
        distributor_product_id: pn.id.clone(),
        metric: metric.to_string(),
        aggregation: aggregation.to_string(),
        unit: part.unit.clone(),
        billing: pl.billing.to_string(),
        start: pl.start,
        commitment_end: pl.end,
        unit_cost: cost.unit.map(|u| unit_amount(u, minor)),
        estimate: (!f.usage.is_zero()).then_some(f.usage),
        estimated_cost: with_scale(cost.committed, minor),
    }
}

/// A template line's stub, regular charge, billing day and discount steps, read off the
/// line's charges.
struct TemplateParts {
    stub: Vec<docs::TemplateCharge>,
    /// A regular period's charge before discounts; `None` when the commitment is all stub.
    amount: Option<Decimal>,
    billing_day: u32,
    discounts: Vec<docs::TemplateDiscount>,
}

impl TemplateParts {
    /// Splits a line's charges: the stub runs to the last charge that is a stub, a partial
    /// period or before the full term's start; every charge before discounts is grouped by period; discounts become steps of
    /// equal amount over contiguous periods.
    fn of(pl: &PricedLine) -> Self {
        let stub_charges = pl
            .charges
            .iter()
            .rposition(|c| {
                c.kind == ChargeKind::Stub || c.share.is_partial() || c.period_start < pl.term_start
            })
            .map_or(0, |i| i + 1);
        // Discounts right after the stub's last charge are the stub's.
        let stub_charges = stub_charges
            + pl.charges
                .iter()
                .skip(stub_charges)
                .take_while(|c| c.kind == ChargeKind::Discount)
                .count();
        let (stub_part, regular) = pl.charges.split_at(stub_charges.min(pl.charges.len()));
        let stub = gross_by_period(stub_part);
        let regular_gross = gross_by_period(regular);
        let billing_day = regular_gross
            .iter()
            .flat_map(|c| [c.period_start.day(), c.period_end.day()])
            .chain(std::iter::once(pl.end.day()))
            .max()
            .unwrap_or(1);
        TemplateParts {
            stub,
            amount: regular_gross.first().map(|c| c.amount),
            billing_day,
            discounts: discount_steps(&pl.charges),
        }
    }
}

/// The charges before discounts, one per period (a usage charge and its true-up together).
fn gross_by_period(charges: &[pricing::Charge]) -> Vec<docs::TemplateCharge> {
    let mut out: Vec<docs::TemplateCharge> = Vec::new();
    for c in charges.iter().filter(|c| c.kind != ChargeKind::Discount) {
        match out.last_mut() {
            Some(last)
                if last.period_start == c.period_start && last.period_end == c.period_end =>
            {
                last.amount += c.amount;
            }
            _ => out.push(docs::TemplateCharge {
                period_start: c.period_start,
                period_end: c.period_end,
                bill_date: c.bill_date,
                amount: c.amount,
            }),
        }
    }
    out
}

/// A line's discounts as dated steps: one per rule and amount over contiguous periods.
fn discount_steps(charges: &[pricing::Charge]) -> Vec<docs::TemplateDiscount> {
    let mut out: Vec<docs::TemplateDiscount> = Vec::new();
    for c in charges.iter().filter(|c| c.kind == ChargeKind::Discount) {
        let rule = c.rule.as_deref().unwrap_or("manual");
        let open = out
            .iter_mut()
            .rev()
            .find(|d| d.rule == rule && d.amount == c.amount && d.end == c.period_start);
        match open {
            Some(d) => d.end = c.period_end,
            None => out.push(docs::TemplateDiscount {
                rule: rule.to_string(),
                amount: c.amount,
                effective: c.period_start,
                end: c.period_end,
            }),
        }
    }
    out
}

/// How a metered line's usage is measured and rated, from the rules.
fn usage_terms(cat: &Catalogue, f: &LineFacts<'_>) -> docs::UsageTerms {
    let (metric, aggregation) = f
        .item
        .usage
        .as_ref()
        .map(|(m, a)| (m.clone(), a.keyword().to_string()))
        .unwrap_or_default();
    docs::UsageTerms {
        metric,
        aggregation,
        unit: f.item.unit.clone(),
        unit_price: f
            .flat
            .map(|r| unit_amount(for_term(r, f.term, f.months), cat.minor_units)),
        tiers: f.tiers.map(|t| docs::UsageTiers {
            name: t.name.clone(),
            mode: t.mode.keyword().to_string(),
            block: t.block,
            per_months: t.per_months,
            rows: t
                .rows
                .iter()
                .map(|r| docs::UsageTier {
                    upper: r.upper,
                    price: r.price,
                    flat: r.flat,
                })
                .collect(),
        }),
        minimum: f
            .item
            .minimum
            .as_ref()
            .map(|m| with_scale(cat.round(for_term(m, f.term, f.months)), cat.minor_units)),
    }
}

/// Where a part is bought: its route and the distributor's part number, or (message, help)
/// saying what the rules lack.
fn source<'c>(
    cat: &'c Catalogue,
    part: &'c Sellable,
) -> Result<(&'c RouteRule, &'c PartNumber), (String, String)> {
    let Some(r) = route(cat, part) else {
        let searched: Vec<&str> = cat.routes.iter().map(|r| r.origin.as_str()).collect();
        return Err((
            format!(
                "`{}` must be bought, but no procurement route matches it",
                part.sku
            ),
            if searched.is_empty() {
                "the rules have no `route` lines; add one, such as `route everything else via DISTRIBUTOR`".to_string()
            } else {
                format!(
                    "routes searched: {}; add a route for it (or `route everything else via …`), or mark the product `not bought`",
                    searched.join(", ")
                )
            },
        ));
    };
    let Some(pn) = part.parts.iter().find(|p| p.distributor == r.via) else {
        return Err((
            format!(
                "`{}` is routed to `{}` ({}), but the rules give no `{}` part number for it",
                part.sku, r.via, r.origin, r.via
            ),
            format!(
                "add `bought via {} as \"PART-NUMBER\"` to product `{}` ({})",
                r.via, part.sku, part.origin
            ),
        ));
    };
    Ok((r, pn))
}

/// Orders the schedule by bill date, then line; charges of one line on one date keep their
/// order (a charge, then its discounts).
fn sort_schedule(schedule: &mut [docs::ScheduledCharge]) {
    // Sorting small keys and moving each charge once is much faster than a stable sort of the
    // charges themselves when a schedule holds millions.
    let mut keys: Vec<(chrono::NaiveDate, u32, u32)> = schedule
        .iter()
        .enumerate()
        .map(|(i, c)| (c.bill_date, c.line, u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    keys.sort_unstable();
    // Put each charge in place by following the permutation's cycles: no second copy of a
    // schedule that can run to millions of charges.
    let perm: Vec<usize> = keys.iter().map(|k| k.2 as usize).collect();
    drop(keys);
    let mut done = vec![false; perm.len()];
    for start in 0..perm.len() {
        if done.get(start).copied().unwrap_or(true) {
            continue;
        }
        let mut cur = start;
        loop {
            if let Some(d) = done.get_mut(cur) {
                *d = true;
            }
            let next = perm.get(cur).copied().unwrap_or(start);
            if next == start {
                break;
            }
            schedule.swap(cur, next);
            cur = next;
        }
    }
}

/// One purchase order per distributor, by distributor name, its lines numbered from 1.
/// Each comes with its lines' scratch file when they were spooled.
fn purchase_orders(
    cat: &Catalogue,
    quote: &Quote,
    customer: &Customer,
    po_lines: BTreeMap<String, Bought>,
) -> Vec<(docs::PurchaseOrder, Option<Spool>)> {
    let so_id = sales_order_id(&quote.quote);
    po_lines
        .into_iter()
        .map(|(dist, bought)| {
            let Bought {
                lines,
                spooled,
                committed,
                usage,
                ..
            } = bought;
            let po = docs::PurchaseOrder {
                schema: docs::PURCHASE_ORDER.to_string(),
                id: po_id(&quote.quote, &dist),
                distributor_name: cat
                    .distributors
                    .iter()
                    .find(|d| d.0 == dist)
                    .and_then(|d| d.1.clone()),
                distributor: dist,
                sales_order: so_id.clone(),
                quote: quote.quote.clone(),
                date: quote.date,
                currency: cat.currency.clone(),
                customer: customer.clone(),
                lines,
                usage,
                committed_cost: with_scale(committed, cat.minor_units),
            };
            (po, spooled)
        })
        .collect()
}

fn quote_usage(quote: &Quote, pl: &PricedLine) -> Option<Decimal> {
    quote.lines.get(pl.line.checked_sub(1)?)?.usage
}

fn with_scale(mut v: Decimal, minor: u32) -> Decimal {
    if v.scale() < minor {
        v.rescale(minor);
    }
    v
}

/// Splits a bundle line's revenue over its components in proportion to their standalone sell
/// prices for one billing period; the rounding remainder goes to the largest share.
fn allocate(cat: &Catalogue, f: &LineFacts<'_>) -> docs::BundleAllocation {
    let (term, months, revenue) = (f.term, f.months, f.contract_value);
    let comps: Vec<(String, Decimal, Decimal)> = f
        .item
        .components
        .iter()
        .filter_map(|(ci, per)| {
            let c = cat.items.get(*ci)?;
            let qty = f.pl.quantity * per;
            let standalone = match c.offer(term, f.billing).map(|o| &o.price) {
                Some(Price::Flat(rate)) => qty * for_term(rate, term, months),
                Some(Price::Tiered(t)) => match cat.tiers.get(*t) {
                    Some(table) => tiers::amount(table, qty) * periods_billed(table, term, months),
                    None => Decimal::ZERO,
                },
                None => Decimal::ZERO,
            };
            Some((c.sku.to_string(), qty, cat.round(standalone)))
        })
        .collect();
    let total: Decimal = comps.iter().map(|c| c.2).sum();
    let mut shares: Vec<Decimal> = comps
        .iter()
        .map(|c| {
            if total.is_zero() {
                Decimal::ZERO
            } else {
                cat.round(revenue * c.2 / total)
            }
        })
        .collect();
    let remainder = revenue - shares.iter().copied().sum::<Decimal>();
    // The largest share (the first of equals, so the result is stable) takes the remainder.
    if let Some((i, _)) = comps
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.2.cmp(&b.1.2).then_with(|| b.0.cmp(&a.0)))
    {
        if let Some(s) = shares.get_mut(i) {
            *s += remainder;
        }
    }
    let components = comps
        .into_iter()
        .zip(shares)
        .map(
            |((product, quantity, standalone_price), revenue)| docs::ComponentShare {
                product,
                quantity,
                standalone_price,
                revenue,
            },
        )
        .collect();
    docs::BundleAllocation {
        line: f.line_no,
        bundle: f.item.sku.to_string(),
        revenue,
        components,
    }
}

/// Why documents were not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The export refused the directory or the files (another quote's export, a file in the
    /// way, two files under one name).
    #[error("{0}")]
    Export(#[from] ExportError),
    /// A file could not be read, or a document could not be serialized.
    #[error("{0}")]
    Io(String),
}

/// Tenor's documents of an accepted quote as files, each `<id>.json` at the top of the export
/// (pretty JSON and a newline): the purchase orders, schedule, template and summary, then the
/// sales order, in the order they are written, so a run stopped part-way never leaves a sales
/// order without its other documents. Those named in `streamed` are left out (their lines
/// are in scratch files: [`Streamed::write_document`] writes them).
pub fn files(a: &Accepted, streamed: &BTreeSet<&str>) -> Result<Vec<ExportFile>, WriteError> {
    let mut out = Vec::with_capacity(a.purchase_orders.len() + 4);
    let mut put =
        |id: &str, json: &dyn Fn() -> serde_json::Result<String>| -> Result<(), WriteError> {
            if streamed.contains(id) {
                return Ok(());
            }
            let json = json();
            let mut text = json.map_err(|e| WriteError::Io(e.to_string()))?;
            text.push('\n');
            let path = ExportPath::new(&[format!("{id}.json")]).map_err(ExportError::from)?;
            out.push(ExportFile {
                path,
                bytes: text.into_bytes(),
                owner: "tenor".into(),
            });
            Ok(())
        };
    for po in &a.purchase_orders {
        put(&po.id, &|| serde_json::to_string_pretty(po))?;
    }
    put(&a.schedule.id, &|| {
        serde_json::to_string_pretty(&a.schedule)
    })?;
    put(&a.template.id, &|| {
        serde_json::to_string_pretty(&a.template)
    })?;
    put(&a.summary.id, &|| serde_json::to_string_pretty(&a.summary))?;
    put(&a.sales_order.id, &|| {
        serde_json::to_string_pretty(&a.sales_order)
    })?;
    Ok(out)
}

/// The names Tenor's own documents take at the top of an export, and the manifest's: no
/// plugin's folder may take one.
fn top_level_names(a: &Accepted) -> BTreeSet<String> {
    a.purchase_orders
        .iter()
        .map(|po| po.id.as_str())
        .chain([
            a.schedule.id.as_str(),
            a.template.id.as_str(),
            a.summary.id.as_str(),
            a.sales_order.id.as_str(),
        ])
        .map(|id| format!("{id}.json"))
        .chain([crate::files::export::MANIFEST.to_string()])
        .collect()
}

/// What the plugins made of an accepted quote, in memory: nothing is written here.
#[derive(Debug, Default)]
pub struct PluginOutput {
    /// Each plugin's files, under its own folder: `<plugin>/<name>.<ext>`.
    pub files: Vec<ExportFile>,
    /// Things the user should know (a distributor without a plugin).
    pub notes: Vec<String>,
    /// Failures, each naming its plugin.
    pub errors: Vec<String>,
}

/// Compares a purchase order with the order lines a plugin read back from its own rendering
/// (the three-way match implements it: documents do not depend on matching).
pub trait OrderCheck {
    /// Every difference, one sentence each; empty when they agree.
    fn differences(
        &self,
        po: &docs::PurchaseOrder,
        lines: &[tenor_plugin_sdk::OrderLine],
    ) -> Vec<String>;
}

/// Renders every purchase order with its distributor's plugin and the sales documents with
/// every PSA plugin, each file under the plugin's own folder (`pax8/PO-Q-1-pax8.pax8-order.json`)
/// so that no plugin can replace Tenor's documents or another plugin's. Each purchase order's
/// rendering is first read back through its plugin and matched against the quote: a rendering
/// that does not read back as the purchase order is refused (an error that names each
/// difference) and none of its files is kept; so is a plugin whose name cannot name a folder
/// or takes one of Tenor's names, and a file whose name is not plain or is given twice.
pub fn render_with_plugins(
    host: &crate::host::Host,
    a: &Accepted,
    check: &dyn OrderCheck,
) -> PluginOutput {
    render_with_accounts(host, a, check, &|_| Accounts::new())
}

/// [`render_with_plugins`], each plugin given the customer's ids at its vendor
/// (`accounts(plugin)`, from the record's customer links) in its copy of the documents'
/// `customer.accounts`; Tenor's own documents keep none.
pub fn render_with_accounts(
    host: &crate::host::Host,
    a: &Accepted,
    check: &dyn OrderCheck,
    accounts: &dyn Fn(&str) -> Accounts,
) -> PluginOutput {
    use tenor_plugin_sdk::{Capability, Rendered, SalesInput, ops};
    let mut out = PluginOutput::default();
    let taken = top_level_names(a);
    for po in &a.purchase_orders {
        usage_notes(po, &mut out);
        if po.lines.is_empty() {
            continue;
        }
        match host.for_distributor(&po.distributor) {
            Some(p) if p.can(Capability::RenderPurchaseOrder) => {
                let mut po = po.clone();
                po.customer.accounts = accounts(&p.info.name);
                let po = &po;
                match p.call::<_, Vec<Rendered>>(ops::RENDER_PURCHASE_ORDER, po) {
                    Ok(docs) => match checked_rendering(p, po, &docs, check) {
                        Ok(note) => {
                            out.notes.extend(note);
                            keep_rendered(&p.info.name, docs, &taken, &mut out);
                        }
                        Err(e) => out.errors.push(e),
                    },
                    Err(e) => out.errors.push(format!("{e} (purchase order {})", po.id)),
                }
            }
            _ => out.notes.push(format!(
                "no plugin renders purchase orders for `{}`: only {}.json was written",
                po.distributor, po.id
            )),
        }
    }
    let input = SalesInput {
        sales_order: a.sales_order.clone(),
        template: a.template.clone(),
    };
    for p in host.psas().filter(|p| p.can(Capability::RenderSales)) {
        let input = with_accounts(&input, accounts(&p.info.name));
        match p.call::<_, Vec<Rendered>>(ops::RENDER_SALES, &input) {
            Ok(docs) => keep_rendered(&p.info.name, docs, &taken, &mut out),
            Err(e) => out
                .errors
                .push(format!("{e} (sales order {})", a.sales_order.id)),
        }
    }
    out
}

/// A copy of the sales documents whose customer carries a plugin's accounts.
pub fn with_accounts(
    input: &tenor_plugin_sdk::SalesInput,
    accounts: Accounts,
) -> tenor_plugin_sdk::SalesInput {
    let mut input = input.clone();
    input.sales_order.customer.accounts = accounts.clone();
    input.template.customer.accounts = accounts;
    input
}

/// Says which metered products of a purchase order are on no distributor order, and why.
fn usage_notes(po: &docs::PurchaseOrder, out: &mut PluginOutput) {
    for u in &po.usage {
        out.notes.push(format!(
            "`{}` (quote line {}) is metered: `{}` bills it on usage, so it is on no order ({}.json lists it under `usage`)",
            u.product, u.quote_line, po.distributor, po.id
        ));
    }
    if po.lines.is_empty() {
        out.notes.push(format!(
            "{} holds only metered usage: nothing to order from `{}`",
            po.id, po.distributor
        ));
    }
}

/// Reads a plugin's rendering of a purchase order back through the same plugin and matches
/// it against the quote. `Ok` with a note when the plugin cannot read orders (nothing to
/// check); `Err` naming every difference, or why it could not be read, otherwise.
fn checked_rendering(
    p: &crate::host::Loaded,
    po: &docs::PurchaseOrder,
    rendered: &[tenor_plugin_sdk::Rendered],
    check: &dyn OrderCheck,
) -> Result<Option<String>, String> {
    use tenor_plugin_sdk::{Capability, OrderLine, TextInput, ops};
    let name = &p.info.name;
    if !p.can(Capability::ParseOrder) {
        return Ok(Some(format!(
            "plugin `{name}` cannot read orders back, so its rendering of {} was not checked against the quote",
            po.id
        )));
    }
    let mut lines: Vec<OrderLine> = Vec::with_capacity(po.lines.len());
    for d in rendered {
        let text = TextInput {
            text: d.body.clone(),
        };
        let back: Vec<OrderLine> = p.call(ops::PARSE_ORDER, &text).map_err(|e| {
            format!(
                "plugin `{name}` cannot read back its own rendering {}.{} of {}: {e}; none of its files was written",
                d.name, d.extension, po.id
            )
        })?;
        lines.extend(back);
    }
    let diffs = check.differences(po, &lines);
    if diffs.is_empty() {
        return Ok(None);
    }
    Err(format!(
        "plugin `{name}`'s rendering of {} does not read back as the purchase order, so none of its files was written (Tenor's own documents were):\n  {}",
        po.id,
        diffs.join("\n  ")
    ))
}

/// Keeps a plugin's documents, each as `<plugin>/<name>.<ext>`: refused (with an error, the
/// others kept) when the name is not a plain file name or the plugin gave it before; all of
/// them when the plugin's name cannot be a folder or is one of `taken` (Tenor's own names).
fn keep_rendered(
    plugin: &str,
    docs: Vec<tenor_plugin_sdk::Rendered>,
    taken: &BTreeSet<String>,
    out: &mut PluginOutput,
) {
    use crate::files::names::validate_file_name;
    let shown = plugin.escape_debug();
    if let Err(why) = crate::files::names::validate_id(plugin) {
        out.errors.push(format!(
            "plugin `{shown}` has a name that cannot be a folder ({why}); none of its files was written"
        ));
        return;
    }
    if taken.contains(plugin) {
        out.errors.push(format!(
            "plugin `{shown}` has the name of one of Tenor's files; none of its files was written"
        ));
        return;
    }
    for d in docs {
        let file = format!("{}.{}", d.name, d.extension);
        let plain = validate_file_name(&d.name)
            .and_then(|()| validate_file_name(&d.extension))
            .map_err(|e| e.to_string())
            .and_then(|()| ExportPath::new(&[plugin, file.as_str()]).map_err(|e| e.to_string()));
        let path = match plain {
            Ok(p) => p,
            Err(why) => {
                out.errors.push(format!(
                    "plugin `{shown}` named a file `{}`, which is not a plain file name ({why}); it was not written",
                    file.escape_debug()
                ));
                continue;
            }
        };
        if out.files.iter().any(|f| f.path == path) {
            out.errors.push(format!(
                "plugin `{shown}` named two files `{path}`; only the first was written"
            ));
            continue;
        }
        out.files.push(ExportFile {
            path,
            bytes: d.body.into_bytes(),
            owner: format!("plugin `{plugin}`"),
        });
    }
}
