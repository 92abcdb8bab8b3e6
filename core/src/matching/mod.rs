//! The three-way match (`tenor match`): what was sold (the quote), what was bought (purchase
//! orders read back from the distributors) and what was billed (invoices) must agree. Every
//! disagreement is a [`Finding`] with its class, the expected and found values, and the money at
//! risk, worked out from the quote's own schedule against the schedule the other document
//! implies. `core/MATCH.md` states the rules in words; this module follows it.
//!
//! Lines are paired in stages, each a hash lookup, so a million lines match in linear time:
//! first on the line reference the document carries, then on every attribute, then on all but
//! one (so a single disagreement still pairs the right lines), then on the product alone.

mod chain;
mod invoice;
mod order;
mod pairing;
mod plan;
mod psa;
mod pulled;
mod read;
mod report;
mod risk;
mod words;

pub use pulled::{Accepted, PulledInput, PulledItem, PulledSides, latest_months, sides};
pub use read::{INVOICE_LINES, ORDER_LINES, parse_invoices, parse_orders};
pub use report::{
    Checked, Class, Direction, Finding, MATCH_REPORT, MatchReport, Risk, Side, Tally, Totals,
};

use crate::engine::catalogue::{Billing, Catalogue, Price};
use crate::engine::pricing::{PricedLine, PricedQuote};
use crate::engine::quote::{Quote, QuoteLine};
use pairing::{FxMap, part_key};
use report::sort_findings;
use risk::contract_value;
use rust_decimal::Decimal;
use tenor_plugin_sdk::docs::{PurchaseOrder, RecurringTemplate};
use tenor_plugin_sdk::{InvoiceLine, OrderLine};
use words::{money_text, parse_billing_word, parse_term_word, plural};

// ---------------------------------------------------------------------------------------------
// The matcher
// ---------------------------------------------------------------------------------------------

/// A compiled rule set's part numbers, ready to match many quotes.
pub struct Matcher<'c> {
    cat: &'c Catalogue,
    parts: FxMap<String, usize>,
}

impl<'c> Matcher<'c> {
    /// Indexes every SKU, distributor part number, distributor product id and catalogue id.
    pub fn new(cat: &'c Catalogue) -> Self {
        let mut parts = FxMap::default();
        // A SKU always means itself, whatever a distributor numbers its parts.
        for (i, it) in cat.items.iter().enumerate() {
            parts.entry(part_key(&it.sku)).or_insert(i);
        }
        for (i, it) in cat.items.iter().enumerate() {
            for p in &it.parts {
                parts.entry(part_key(&p.number)).or_insert(i);
                if let Some(id) = &p.id {
                    parts.entry(part_key(id)).or_insert(i);
                }
            }
            if let Some(c) = &it.catalog_id {
                parts.entry(part_key(c)).or_insert(i);
            }
        }
        Matcher { cat, parts }
    }

    /// The SKU a part number, product id or SKU names, when the rules know it.
    pub fn sku_of(&self, part: &str) -> Option<String> {
        let i = self.product_of(part)?;
        self.catalogue().items.get(i).map(|it| it.sku.to_string())
    }

    /// The product (index into the catalogue's items) a part number, product id or SKU names.
    pub fn product_of(&self, part: &str) -> Option<usize> {
        if let Some(i) = self.parts.get(part) {
            return Some(*i);
        }
        let t = part.trim();
        // Most part numbers are already upper case: look them up without allocating.
        if !t.bytes().any(|b| b.is_ascii_lowercase()) {
            return self.parts.get(t).copied();
        }
        self.parts.get(&part_key(t)).copied()
    }

    /// Matches one priced quote against its expected purchase orders (from
    /// [`crate::documents::accept::accept`]) and the order and invoice lines read back. An empty `orders`
    /// (or `invoices`) means that side was not given and is not checked.
    pub fn run(
        &self,
        quote: &Quote,
        priced: &PricedQuote,
        expected: &[PurchaseOrder],
        orders: &[OrderLine],
        invoices: &[InvoiceLine],
    ) -> MatchReport {
        self.run_sides(
            quote,
            priced,
            expected,
            (!orders.is_empty()).then_some(orders),
            (!invoices.is_empty()).then_some(invoices),
        )
    }

    /// As [`Matcher::run`], with `None` for a side that was not given: an empty slice then
    /// means documents were given that hold no lines, so every line is missing from them.
    pub fn run_sides(
        &self,
        quote: &Quote,
        priced: &PricedQuote,
        expected: &[PurchaseOrder],
        orders: Option<&[OrderLine]>,
        invoices: Option<&[InvoiceLine]>,
    ) -> MatchReport {
        let mut run = Run::new(self, quote, priced);
        let mut checked = Self::checked(quote, priced, expected);
        if let Some(orders) = orders {
            run.orders(expected, orders, &mut checked);
        }
        if let Some(invoices) = invoices {
            run.invoices(invoices, &mut checked);
        }
        self.finish(run, checked)
    }

    /// The rules this matcher was built from.
    pub fn catalogue(&self) -> &'c Catalogue {
        self.cat
    }

    /// Matches one quote as accepted against what `tenor pull` stored, sorted into its sides
    /// by [`sides`]: the purchase-order side on the distributors' subscriptions (or order
    /// lines), the invoice side on the PSA's invoices, the distributor-invoice side on the
    /// distributors' invoices at cost, and the PSA side on the agreement additions against the
    /// recurring template. A side nothing was pulled for is not checked.
    pub fn run_pulled(
        &self,
        quote: &Quote,
        priced: &PricedQuote,
        expected: &[PurchaseOrder],
        template: Option<&RecurringTemplate>,
        pulled: &PulledSides,
    ) -> MatchReport {
        let mut run = Run::new(self, quote, priced);
        let mut checked = Self::checked(quote, priced, expected);
        let mut notes = Vec::new();
        if let Some(orders) = &pulled.orders {
            let (from, not): (Vec<PurchaseOrder>, Vec<&PurchaseOrder>) = (
                expected
                    .iter()
                    .filter(|po| pulled.bought_from.contains(&po.distributor))
                    .cloned()
                    .collect(),
                expected
                    .iter()
                    .filter(|po| !pulled.bought_from.contains(&po.distributor))
                    .collect(),
            );
            for po in not {
                notes.push(format!(
                    "{} not matched: nothing was pulled from {}",
                    po.id, po.distributor
                ));
            }
            checked.expected_order_lines = from.iter().map(|p| p.lines.len()).sum();
            run.orders(&from, orders, &mut checked);
        } else {
            notes.push("the purchase-order side was not matched: no distributor's subscriptions or orders were pulled".into());
        }
        match &pulled.invoices {
            Some(invoices) => run.invoices(invoices, &mut checked),
            None => notes
                .push("the invoice side was not matched: no invoice of the PSA was pulled".into()),
        }
        if let Some(lines) = &pulled.cost_invoices {
            let lines: Vec<OrderLine> = lines.iter().map(|(_, i)| pulled::cost_line(i)).collect();
            run.cost_invoices(expected, &lines, &mut checked);
        }
        if let (Some(t), Some(additions)) = (template, &pulled.additions) {
            let input = psa::PsaInput {
                template: t,
                additions,
                lines: &pulled.addition_lines,
                from: pulled
                    .invoices
                    .as_deref()
                    .and_then(invoice::billing_window)
                    .map(|(lo, _)| lo),
            };
            run.psa(&input, &mut checked);
        } else {
            notes.push("the PSA side was not matched: no agreement additions were pulled".into());
        }
        let mut report = self.finish(run, checked);
        report.notes.extend(notes);
        report.notes.extend(pulled.notes.iter().cloned());
        report
    }

    /// What a match of this quote checks, before any side is read.
    fn checked(quote: &Quote, priced: &PricedQuote, expected: &[PurchaseOrder]) -> Checked {
        Checked {
            quote: quote.quote.clone(),
            customer: quote.customer.id.clone(),
            customer_name: quote.customer.name.clone(),
            quote_lines: priced.lines.len(),
            expected_order_lines: expected.iter().map(|p| p.lines.len()).sum(),
            order_lines: 0,
            invoice_lines: 0,
            other_customers: 0,
            template_lines: None,
            additions: None,
            distributor_invoice_lines: None,
        }
    }

    /// The report of a run: its findings less the classes the rules ignore, sorted.
    fn finish(&self, run: Run<'_>, checked: Checked) -> MatchReport {
        let quote = run.quote;
        let mut report = MatchReport::new(self.cat);
        if checked.other_customers > 0 {
            report.notes.push(format!(
                "{} {} naming another customer than `{}` ({}) set aside",
                checked.other_customers,
                plural(checked.other_customers, "line"),
                quote.customer.id,
                quote.customer.name
            ));
        }
        let ignore = &self.cat.match_ignore;
        let mut findings: Vec<Finding> = run
            .findings
            .into_iter()
            .filter(|f| !ignore.iter().any(|c| c == f.class.as_str()))
            .collect();
        count_once(&mut findings);
        sort_findings(&mut findings);
        report.findings = findings;
        report.checked.push(checked);
        report
    }
}

/// Marks each PSA finding whose money an invoice finding on the same line, the same way,
/// already states: the agreement that will bill a gap and the invoices that billed it are one
/// leak over the commitment, not two, whatever each calls it (an addition cancelled early is a
/// co-term date on the agreement and a missing line on the invoice). The invoice's amount is
/// counted: what the month's invoices show is still to be lost from that month on.
fn count_once(findings: &mut [Finding]) {
    let billed: Vec<(Option<u32>, Option<Direction>)> = findings
        .iter()
        .filter(|f| f.side == Side::Invoice && f.money_at_risk.is_some())
        .map(|f| (f.line, f.direction))
        .collect();
    for f in findings.iter_mut().filter(|f| f.side == Side::Psa) {
        let same = f.money_at_risk.is_some() && billed.contains(&(f.line, f.direction));
        if same && f.line.is_some() {
            f.counted_with = Some(Side::Invoice);
            f.explanation
                .push_str(" (the same money as the invoice's finding: counted once, there)");
        }
    }
}

/// What the read-back check of a plugin's rendering matches against: the quote as priced.
pub struct ReadBack<'a> {
    /// The rules' matcher.
    pub matcher: &'a Matcher<'a>,
    /// The accepted quote.
    pub quote: &'a Quote,
    /// The quote as priced.
    pub priced: &'a PricedQuote,
}

impl crate::documents::accept::OrderCheck for ReadBack<'_> {
    fn differences(
        &self,
        po: &PurchaseOrder,
        lines: &[tenor_plugin_sdk::OrderLine],
    ) -> Vec<String> {
        let report = self.matcher.run_sides(
            self.quote,
            self.priced,
            std::slice::from_ref(po),
            Some(lines),
            None,
        );
        report
            .findings
            .iter()
            .map(|f| {
                format!(
                    "{}{}: {} expected {}, found {} ({})",
                    f.line.map(|l| format!("line {l} ")).unwrap_or_default(),
                    f.product,
                    f.class.as_str(),
                    f.expected,
                    f.found,
                    f.explanation
                )
            })
            .collect()
    }
}

/// Matches one quote; see [`Matcher::run`]. Build a [`Matcher`] once to match many quotes.
pub fn three_way(
    cat: &Catalogue,
    quote: &Quote,
    priced: &PricedQuote,
    expected: &[PurchaseOrder],
    orders: &[OrderLine],
    invoices: &[InvoiceLine],
) -> MatchReport {
    Matcher::new(cat).run(quote, priced, expected, orders, invoices)
}

/// A sold line with what matching needs resolved once.
struct Sold<'a> {
    pl: &'a PricedLine,
    /// 0-based position in the quote.
    index: usize,
    qline: Option<&'a QuoteLine>,
    item: Option<usize>,
    /// Term in months; `None` for one-time.
    term: Option<u32>,
    /// Months in one billing period (the whole term when upfront); `None` for one-time.
    months: Option<u32>,
    /// The billing frequency sold (upfront for one-time lines).
    billing: Billing,
    metered: bool,
}

impl Sold<'_> {
    /// List price of one unit for one billing period (the unit price once, for one-time);
    /// `None` for prices through tiers.
    fn list(&self, cat: &Catalogue) -> Option<Decimal> {
        let offer = cat.items.get(self.item?)?.offer(self.term, self.billing)?;
        match &offer.price {
            Price::Flat(rate) => Some(match (self.term, self.months) {
                (Some(_), Some(m)) => rate.for_months(m),
                _ => rate.amount,
            }),
            Price::Tiered(_) => None,
        }
    }

    /// The quote line number (from 1).
    fn line_no(&self) -> u32 {
        u32::try_from(self.pl.line).unwrap_or(u32::MAX)
    }

    /// A full period's net charge (the net one-time amount for one-time lines).
    fn period_amount(&self) -> Decimal {
        if self.term.is_none() {
            contract_value(self.pl)
        } else {
            self.pl.recurring
        }
    }

    /// The sold line as a missing-line finding states it.
    fn describe(&self) -> String {
        format!(
            "{} × {}, {} {}, from {}",
            self.pl.product, self.pl.quantity, self.pl.term, self.pl.billing, self.pl.start
        )
    }
}

/// Money at risk with its direction, or unknown (the explanation says why).
enum Money {
    Known(Decimal, Option<Direction>),
    Unknown,
}

/// Where a finding is: the document side, the quote line, the product and the document.
struct At<'p> {
    side: Side,
    line: Option<u32>,
    product: &'p str,
    document: Option<&'p str>,
}

/// One check's verdict before it is placed: what differs, both values, and the money at risk
/// with the sentence that explains it.
struct Check {
    class: Class,
    expected: String,
    found: String,
    kind: Risk,
    money: Money,
    why: String,
}

/// One quote being matched: its sold lines resolved once, and the findings so far.
struct Run<'a> {
    m: &'a Matcher<'a>,
    cat: &'a Catalogue,
    quote: &'a Quote,
    sold: Vec<Sold<'a>>,
    findings: Vec<Finding>,
}

impl<'a> Run<'a> {
    /// Resolves each sold line's product, term and billing once.
    fn new(m: &'a Matcher<'a>, quote: &'a Quote, priced: &'a PricedQuote) -> Self {
        let cat = m.cat;
        let sold = priced
            .lines
            .iter()
            .enumerate()
            .map(|(index, pl)| {
                let item = m.product_of(&pl.product);
                let term = parse_term_word(&pl.term).flatten();
                let billing = if term.is_none() {
                    Billing::Upfront
                } else {
                    parse_billing_word(pl.billing).unwrap_or(Billing::Upfront)
                };
                let months = term.map(|t| billing.months().unwrap_or(t));
                Sold {
                    pl,
                    index,
                    qline: quote.lines.get(pl.line.saturating_sub(1)),
                    item,
                    term,
                    months,
                    billing,
                    metered: item
                        .and_then(|i| cat.items.get(i))
                        .is_some_and(|it| it.usage.is_some()),
                }
            })
            .collect();
        Run {
            m,
            cat,
            quote,
            sold,
            findings: Vec::new(),
        }
    }

    /// An amount at risk: without its sign, rounded once.
    fn round(&self, v: Decimal) -> Decimal {
        self.cat.round(v.abs())
    }

    /// True when a document line names this quote's customer (or no customer).
    fn for_us(&self, customer: Option<&str>) -> bool {
        let c = &self.quote.customer;
        customer.is_none_or(|x| {
            if x == c.id {
                return true;
            }
            let x = x.trim();
            x.eq_ignore_ascii_case(c.id.trim()) || x.eq_ignore_ascii_case(c.name.trim())
        })
    }

    /// The sold line a quote line number names.
    fn sold_for_line(&self, line: u32) -> Option<usize> {
        let i = usize::try_from(line).ok()?.checked_sub(1)?;
        self.sold
            .get(i)
            .filter(|s| s.pl.line == i + 1)
            .map(|_| i)
            .or_else(|| {
                self.sold
                    .iter()
                    .position(|s| u32::try_from(s.pl.line).ok() == Some(line))
            })
    }

    /// Files one check's finding at its place, its amount rounded once.
    fn push(&mut self, at: &At, c: Check) {
        let (money_at_risk, direction) = match c.money {
            Money::Known(v, d) => (Some(self.round(v)), d),
            Money::Unknown => (None, None),
        };
        self.findings.push(Finding {
            class: c.class,
            side: at.side,
            quote: self.quote.quote.clone(),
            customer: self.quote.customer.id.clone(),
            line: at.line,
            product: at.product.to_string(),
            document: at.document.map(str::to_string),
            expected: c.expected,
            found: c.found,
            money_at_risk,
            kind: c.kind,
            direction,
            explanation: c.why,
            counted_with: None,
        });
    }

    /// An amount in words' company: rounded, without its sign (the sentence says which way).
    fn money(&self, v: Decimal) -> String {
        money_text(self.cat.round(v.abs()), &self.cat.currency)
    }
}
