//! Tenor's ConnectWise PSA (Manage) connector. An accepted quote becomes a sales order
//! (`POST /sales/orders`) with its product lines (`POST /procurement/products`) and one
//! agreement (`POST /finance/agreements`) per billing cycle with its additions
//! (`POST /finance/agreements/{id}/additions`); ConnectWise invoices (`GET /finance/invoices`)
//! are read back for the three-way match.
//!
//! ConnectWise has no idempotency key, so the Tenor sales order id travels in the searchable
//! `poNumber` (sales order) and `customerPO` (agreement). ConnectWise's own ids are integers
//! Tenor cannot know; every field that needs one is set by one mapping function, so an MSP
//! changes one place. Money is written as JSON numbers with the exact digits of Tenor's
//! decimals and read back from the number's text, never through `f64`. The README beside this
//! crate documents every mapping and assumption.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use tenor_plugin_sdk::connector::{billing_from_period, date_prefix, period_end, read_json};
use tenor_plugin_sdk::docs::{
    RecurringLine, RecurringTemplate, SalesOrder, SalesOrderLine, TemplateDiscount, Timing,
};
use tenor_plugin_sdk::exchange::{PullInput, PullStep, PushInput, PushStep};
use tenor_plugin_sdk::{
    Capability, InvoiceLine, Plugin, PluginError, PluginInfo, Rendered, SalesInput,
};

mod api;
mod fixes;

/// The ConnectWise connector.
#[derive(Default)]
pub struct Connector;

// ---------------------------------------------------------------------------------------------
// Document shapes (the JSON bodies ConnectWise takes)
// ---------------------------------------------------------------------------------------------

/// A ConnectWise reference object: `{ "id": n }`, `{ "identifier": "…" }` or `{ "name": "…" }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Reference {
    /// ConnectWise's integer id.
    Id {
        /// The id.
        id: u64,
    },
    /// A record's short identifier (companies, members, catalogue items).
    Identifier {
        /// The identifier.
        identifier: String,
    },
    /// A record's name (statuses, agreement types, agreements before they have an id).
    Name {
        /// The name.
        name: String,
    },
}

impl Reference {
    fn identifier(s: &str) -> Reference {
        Reference::Identifier {
            identifier: s.to_string(),
        }
    }

    fn name(s: &str) -> Reference {
        Reference::Name {
            name: s.to_string(),
        }
    }
}

/// An exact decimal written as a JSON number with the same digits (`22.00` stays `22.00`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount(pub Decimal);

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // serde_json's arbitrary_precision keeps the number's text as given, so the digits
        // survive; Decimal's Display never uses an exponent, so the text is a valid number.
        let n: serde_json::Number = self
            .0
            .to_string()
            .parse()
            .map_err(serde::ser::Error::custom)?;
        n.serialize(s)
    }
}

/// `{ "salesOrder": …, "products": […] }`: what one accepted quote posts to ConnectWise first.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesOrderDocument {
    /// The `POST /sales/orders` body.
    pub sales_order: SalesOrderBody,
    /// The `POST /procurement/products` bodies, one per sales order line.
    pub products: Vec<ProductBody>,
}

/// ConnectWise sales order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesOrderBody {
    /// The customer company.
    pub company: Reference,
    /// Order status.
    pub status: Reference,
    /// The member credited with the sale.
    pub sales_rep: Reference,
    /// When the order was placed.
    pub order_date: String,
    /// The Tenor sales order id: the idempotency carrier.
    pub po_number: String,
    /// Where the order came from.
    pub notes: String,
}

/// ConnectWise procurement product: a line of the sales order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductBody {
    /// The quote line.
    #[serde(skip)]
    pub line: u32,
    /// The catalogue item (the rules' `catalog_item`).
    pub catalog_item: Reference,
    /// The sales order it belongs to (resolved to its id once the order is posted).
    pub sales_order: Reference,
    /// Units.
    pub quantity: Amount,
    /// Sell price of one unit.
    pub price: Amount,
    /// Cost of one unit, when known exactly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Amount>,
    /// What the line says.
    pub description: String,
    /// `Billable` or `DoNotBill`.
    pub billable_option: String,
    /// The agreement that bills a recurring line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Reference>,
}

/// `{ "agreement": …, "additions": […] }`: one billing cycle of the recurring template.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgreementDocument {
    /// The `POST /finance/agreements` body.
    pub agreement: AgreementBody,
    /// The `POST /finance/agreements/{id}/additions` bodies.
    pub additions: Vec<AdditionBody>,
}

/// ConnectWise agreement.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgreementBody {
    /// Unique name: the template id and the cycle.
    pub name: String,
    /// Agreement type.
    #[serde(rename = "type")]
    pub kind: Reference,
    /// The customer company.
    pub company: Reference,
    /// The customer contact (required by ConnectWise: a real contact id, from the customer's
    /// link or the company's default contact, resolved when pushing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Reference>,
    /// First day of service of its earliest line.
    pub start_date: String,
    /// Last day of its longest commitment (inclusive), unless it has no end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// True when every line is month-to-month.
    pub no_ending_date_flag: bool,
    /// The billing cycle: by name here, by the id `GET /finance/billingCycles` gives when
    /// pushing.
    pub billing_cycle: Reference,
    /// First day of the first full billing period: the cycle's anchor.
    pub bill_start_date: String,
    /// The agreement's own charge per cycle (the additions bill on top of it).
    pub bill_amount: Amount,
    /// Prorate the partial period before `billStartDate`.
    pub prorate_flag: bool,
    /// `ContractYear`: cycles count from `billStartDate`, not from 1 January.
    pub invoicing_cycle: String,
    /// The Tenor sales order id: the idempotency carrier.
    #[serde(rename = "customerPO")]
    pub customer_po: String,
    /// What the invoice says.
    pub invoice_description: String,
}

/// ConnectWise agreement addition: one recurring invoice line.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdditionBody {
    /// The quote line it bills.
    #[serde(skip)]
    pub line: u32,
    /// True for a dated discount step of the line.
    #[serde(skip)]
    pub discount: bool,
    /// The catalogue item (the rules' `catalog_item`).
    pub product: Reference,
    /// `Billable`.
    pub bill_customer: String,
    /// Units billed each cycle.
    pub quantity: Amount,
    /// Price of one unit for one cycle.
    pub unit_price: Amount,
    /// Cost of one unit for one cycle, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_cost: Option<Amount>,
    /// When the addition starts billing.
    pub effective_date: String,
    /// Its last day, for a time-limited addition (a dated discount step).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_date: Option<String>,
    /// Prorate the cycle the addition starts in.
    pub prorate_current_period_flag: bool,
    /// What the invoice line says.
    pub invoice_description: String,
}

// ---------------------------------------------------------------------------------------------
// Mappings: one function per field Tenor's documents cannot state directly
// ---------------------------------------------------------------------------------------------

/// The ConnectWise ids a rendering uses: the customer's link (`tenor link CUSTOMER
/// --connectwise company=ID contact=ID sales_rep=IDENTIFIER`), and whether a missing catalogue
/// item is refused (a push) or shown as the SKU (the accept-time preview, never sent).
#[derive(Clone, Debug)]
pub struct Ids {
    /// The customer company.
    pub company: Reference,
    /// The agreement contact, when known.
    pub contact: Option<Reference>,
    /// The sales rep.
    pub sales_rep: Reference,
    /// The agreement type.
    pub agreement_type: Reference,
    /// Refuse a line without the rules' catalogue item.
    pub strict: bool,
}

/// The link key of the customer's ConnectWise company id.
pub const COMPANY_KEY: &str = "company";
/// The link key of the agreement contact's id.
pub const CONTACT_KEY: &str = "contact";
/// The link key of the sales rep's member identifier.
pub const SALES_REP_KEY: &str = "sales_rep";
/// The link key of the agreement type's name (usually given for every customer, `*`).
pub const AGREEMENT_TYPE_KEY: &str = "agreement_type";

impl Ids {
    /// The preview's ids: the linked company and contact when there are, else the Tenor
    /// customer id as the company identifier and no contact.
    pub fn preview(customer_id: &str, accounts: &tenor_plugin_sdk::exchange::Accounts) -> Ids {
        let id = |k: &str| accounts.get(k).and_then(|v| v.trim().parse::<u64>().ok());
        Ids {
            company: id(COMPANY_KEY)
                .map(|id| Reference::Id { id })
                .unwrap_or_else(|| company(customer_id)),
            contact: id(CONTACT_KEY).map(|id| Reference::Id { id }),
            sales_rep: sales_rep(accounts),
            agreement_type: agreement_type(accounts),
            strict: false,
        }
    }
}

/// The customer company: `{ "id": n }` when the Tenor customer id is ConnectWise's integer id,
/// else `{ "identifier": … }` (the preview only: a push takes the linked id).
pub fn company(customer_id: &str) -> Reference {
    match customer_id.trim().parse::<u64>() {
        Ok(id) => Reference::Id { id },
        Err(_) => Reference::identifier(customer_id),
    }
}

/// The catalogue item of a line: the rules' `catalog_item`; without one, a push refuses and
/// the preview shows the SKU.
fn catalog_item(
    item: Option<&String>,
    line: u32,
    sku: &str,
    ids: &Ids,
) -> Result<Reference, PluginError> {
    match item.map(|i| i.trim()).filter(|i| !i.is_empty()) {
        Some(i) => Ok(Reference::identifier(i)),
        None if ids.strict => Err(PluginError::Invalid(format!(
            "line {line} ({sku}) has no ConnectWise catalogue item: give the product one in the rules"
        ))),
        None => Ok(Reference::identifier(sku)),
    }
}

/// The sales order status: the status named `New`.
pub fn order_status() -> Reference {
    Reference::name("New")
}

/// The sales rep: the member the link names (`sales_rep=IDENTIFIER`), else the member whose
/// identifier is `Tenor` (the API member that posts orders).
pub fn sales_rep(accounts: &tenor_plugin_sdk::exchange::Accounts) -> Reference {
    match accounts
        .get(SALES_REP_KEY)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        Some(m) => Reference::identifier(m),
        None => Reference::identifier("Tenor"),
    }
}

/// The agreement type: the type the link names (`agreement_type=NAME`, one of the MSP's
/// `GET /finance/agreements/types`), else the type named `Tenor Recurring`.
pub fn agreement_type(accounts: &tenor_plugin_sdk::exchange::Accounts) -> Reference {
    match accounts
        .get(AGREEMENT_TYPE_KEY)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        Some(t) => Reference::name(t),
        None => Reference::name("Tenor Recurring"),
    }
}

/// Tenor billing frequency and months per period → the name of ConnectWise's billing cycle
/// (`GET /finance/billingCycles` gives its id when pushing).
pub fn billing_cycle_name(frequency: &str, months: u32) -> Result<&'static str, PluginError> {
    let cycle = match months {
        1 => Some("Monthly"),
        3 => Some("Quarterly"),
        12 => Some("Annual"),
        24 => Some("Biennial"),
        36 => Some("Triennial"),
        _ => None,
    };
    // An upfront line bills its whole term, so any of the cycles fits it; the others must
    // agree with their own length.
    let consistent = match frequency {
        "monthly" => months == 1,
        "quarterly" => months == 3,
        "annual" => months == 12,
        "upfront" => true,
        _ => false,
    };
    match cycle {
        Some(name) if consistent => Ok(name),
        _ => Err(PluginError::Invalid(format!(
            "ConnectWise has no billing cycle for `{frequency}` billing every {months} months"
        ))),
    }
}

/// `billCustomer` of every addition: the template only holds lines the customer pays for.
fn bill_customer() -> &'static str {
    "Billable"
}

/// `billableOption` of a sales order line: one-time lines are billed from the sales order;
/// recurring lines are billed by their agreement, so the order must not bill them again.
fn billable_option(line: &SalesOrderLine) -> &'static str {
    if is_one_time(line) {
        "Billable"
    } else {
        "DoNotBill"
    }
}

/// `invoicingCycle` of every agreement: Tenor's billing boundaries are `anchor + k × period`,
/// which is ConnectWise's contract-year cycle counted from `billStartDate`.
fn invoicing_cycle() -> &'static str {
    "ContractYear"
}

/// ConnectWise dates are date-times; Tenor's are days.
fn cw_date(d: NaiveDate) -> String {
    format!("{d}T00:00:00Z")
}

fn is_one_time(line: &SalesOrderLine) -> bool {
    line.term == "one-time" || line.billing == "once"
}

/// A quantity and unit price whose product is exactly `total`.
struct Priced {
    quantity: Decimal,
    unit: Decimal,
    /// True when no exact unit price exists and the line went in as one unit of `total`.
    lumped: bool,
}

/// Prices `total` (what Tenor bills, net of lasting discounts) as `quantity` units: the list
/// unit price when it is exact, else the net unit price when the division is exact, else one
/// unit of the whole total so ConnectWise bills exactly what Tenor sold.
fn priced(quantity: Decimal, list_unit: Decimal, total: Decimal) -> Priced {
    let exact = |unit| Priced {
        quantity,
        unit,
        lumped: false,
    };
    if quantity.is_zero() || list_unit.checked_mul(quantity) == Some(total) {
        return exact(list_unit);
    }
    match exact_share(total, quantity) {
        Some(unit) => exact(unit),
        None => Priced {
            quantity: Decimal::ONE,
            unit: total,
            lumped: true,
        },
    }
}

/// `total / quantity` when it is exact, with at least the total's decimal places.
fn exact_share(total: Decimal, quantity: Decimal) -> Option<Decimal> {
    let unit = total.checked_div(quantity)?;
    if unit.checked_mul(quantity)? != total {
        return None;
    }
    let mut unit = unit.normalize();
    if unit.scale() < total.scale() {
        unit.rescale(total.scale());
    }
    Some(unit)
}

/// Cost of one unit, when `total_cost` divides exactly among the priced units.
fn unit_cost(p: &Priced, total_cost: Decimal) -> Option<Decimal> {
    if p.quantity.is_zero() {
        return None;
    }
    exact_share(total_cost, p.quantity)
}

/// A line's description, saying how many units a lumped price covers.
fn describe(text: &str, quantity: Decimal, p: &Priced) -> String {
    if p.lumped {
        format!("{text} ({quantity} units)")
    } else {
        text.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Billing cycles
// ---------------------------------------------------------------------------------------------

fn add_months(d: NaiveDate, months: u32) -> Result<NaiveDate, PluginError> {
    d.checked_add_months(Months::new(months))
        .ok_or_else(|| PluginError::Invalid(format!("{d} + {months} months is out of range")))
}

/// First day of the line's first full billing period: where its cycles are anchored.
fn cycle_anchor(l: &RecurringLine) -> Result<NaiveDate, PluginError> {
    let regular = match l.timing {
        // In arrears the first full period ends on the next bill date.
        Timing::Arrears => l
            .next_bill_date
            .checked_sub_months(Months::new(l.months))
            .ok_or_else(|| PluginError::Invalid(format!("line {}: bad next bill date", l.line)))?,
        Timing::Advance | Timing::Once => l.next_bill_date,
    };
    // A commitment shorter than one period (a coterminous stub) has no full period before it
    // renews: its cycles start at the renewal.
    if regular <= l.start && add_months(l.start, l.months)? > l.end {
        return Ok(l.end);
    }
    Ok(regular)
}

/// True when `a` and `b` are boundaries of one cycle of `months` per period: the later is the
/// earlier plus a whole number of periods (anchored month arithmetic, day clamped).
fn in_phase(a: NaiveDate, b: NaiveDate, months: u32) -> bool {
    let (early, late) = if a <= b { (a, b) } else { (b, a) };
    let index = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
    let diff = index(late) - index(early);
    if months == 0 || diff % i64::from(months) != 0 {
        return false;
    }
    u32::try_from(diff)
        .ok()
        .and_then(|m| early.checked_add_months(Months::new(m)))
        == Some(late)
}

/// Recurring lines that share one ConnectWise bill cycle: same frequency, same period length,
/// and boundaries on the same days.
struct CycleGroup<'a> {
    frequency: String,
    months: u32,
    anchor: NaiveDate,
    lines: Vec<(&'a RecurringLine, NaiveDate)>,
}

fn cycle_groups(t: &RecurringTemplate) -> Result<Vec<CycleGroup<'_>>, PluginError> {
    let mut groups: Vec<CycleGroup<'_>> = Vec::new();
    for l in &t.lines {
        let anchor = cycle_anchor(l)?;
        let found = groups.iter_mut().find(|g| {
            g.frequency == l.frequency
                && g.months == l.months
                && in_phase(g.anchor, anchor, l.months)
        });
        match found {
            Some(g) => {
                g.anchor = g.anchor.min(anchor);
                g.lines.push((l, anchor));
            }
            None => groups.push(CycleGroup {
                frequency: l.frequency.clone(),
                months: l.months,
                anchor,
                lines: vec![(l, anchor)],
            }),
        }
    }
    Ok(groups)
}

/// The group's name: its frequency, plus the period length and the anchor only when another
/// group of the same frequency needs telling apart.
fn cycle_label(g: &CycleGroup<'_>, all: &[CycleGroup<'_>]) -> String {
    let same: Vec<&CycleGroup<'_>> = all.iter().filter(|o| o.frequency == g.frequency).collect();
    let mut label = g.frequency.clone();
    if same.iter().any(|o| o.months != g.months) {
        label.push_str(&format!("-{}m", g.months));
    }
    if same.iter().filter(|o| o.months == g.months).count() > 1 {
        label.push_str(&format!("-{}", g.anchor));
    }
    label
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

fn check_input(so: &SalesOrder, t: &RecurringTemplate) -> Result<(), PluginError> {
    let mismatch = |what: &str, a: &str, b: &str| {
        Err(PluginError::Invalid(format!(
            "recurring template {} does not belong to sales order {}: {what} `{b}` is not `{a}`",
            t.id, so.id
        )))
    };
    if t.sales_order != so.id {
        return mismatch("sales order", &so.id, &t.sales_order);
    }
    if t.customer.id != so.customer.id {
        return mismatch("customer", &so.customer.id, &t.customer.id);
    }
    if t.currency != so.currency {
        return mismatch("currency", &so.currency, &t.currency);
    }
    for l in &t.lines {
        let sold = so.lines.iter().find(|s| s.line == l.line);
        if sold.is_none_or(|s| s.product != l.product) {
            return Err(PluginError::Invalid(format!(
                "recurring template {} line {} ({}) is not line {} of sales order {}",
                t.id, l.line, l.product, l.line, so.id
            )));
        }
    }
    Ok(())
}

fn agreement_name(t: &RecurringTemplate, label: &str) -> String {
    format!("{} {label}", t.id)
}

/// One agreement and its additions for a group of lines that share a bill cycle.
fn agreement_document(
    so: &SalesOrder,
    t: &RecurringTemplate,
    g: &CycleGroup<'_>,
    name: String,
    ids: &Ids,
) -> Result<AgreementDocument, PluginError> {
    let mut additions = Vec::with_capacity(g.lines.len());
    let mut start = g.anchor;
    let mut end = g.anchor;
    for &(l, anchor) in &g.lines {
        start = start.min(l.start);
        end = end.max(l.end);
        additions.push(addition(l, anchor, ids)?);
    }
    // The template's dated discounts follow the lines they reduce: one addition per step,
    // effective on its first day and cancelled on its last.
    for &(l, _) in &g.lines {
        for step in &l.discounts {
            additions.push(discount_addition(l, step, ids)?);
        }
    }
    // Month-to-month service continues until cancelled; a committed agreement ends with its
    // longest commitment and is renewed in ConnectWise when Tenor renews the quote.
    let month_to_month = g
        .lines
        .iter()
        .all(|(l, _)| so.lines.iter().any(|s| s.line == l.line && s.term == "P1M"));
    let last_day = end
        .checked_sub_days(Days::new(1))
        .ok_or_else(|| PluginError::Invalid(format!("{name}: bad end date {end}")))?;
    let agreement = AgreementBody {
        name: name.clone(),
        kind: ids.agreement_type.clone(),
        company: ids.company.clone(),
        contact: ids.contact.clone(),
        start_date: cw_date(start),
        end_date: (!month_to_month).then(|| cw_date(last_day)),
        no_ending_date_flag: month_to_month,
        billing_cycle: Reference::name(billing_cycle_name(&g.frequency, g.months)?),
        bill_start_date: cw_date(g.anchor),
        // Additions bill on top of the agreement's own amount: a non-zero amount here would
        // bill the lines twice.
        bill_amount: Amount(Decimal::new(0, 2)),
        // Only a line billed in advance is prorated; a metered one starts on a boundary.
        prorate_flag: additions.iter().any(|a| a.prorate_current_period_flag),
        invoicing_cycle: invoicing_cycle().into(),
        customer_po: so.id.clone(),
        invoice_description: format!(
            "{}: {} recurring services ({})",
            t.customer.name, g.frequency, so.id
        ),
    };
    Ok(AgreementDocument {
        agreement,
        additions,
    })
}

/// An addition for one dated discount step of a line: quantity 1 at the step's (negative)
/// amount per charge, from the step's first day to its last (ConnectWise has no end date: a
/// time-limited price is an addition with a `cancelledDate`).
fn discount_addition(
    l: &RecurringLine,
    step: &TemplateDiscount,
    ids: &Ids,
) -> Result<AdditionBody, PluginError> {
    let last_day = step.end.checked_sub_days(Days::new(1)).ok_or_else(|| {
        PluginError::Invalid(format!("line {}: bad discount end {}", l.line, step.end))
    })?;
    Ok(AdditionBody {
        line: l.line,
        discount: true,
        product: catalog_item(l.catalog_item.as_ref(), l.line, &l.product, ids)?,
        bill_customer: bill_customer().into(),
        quantity: Amount(Decimal::ONE),
        unit_price: Amount(step.amount),
        unit_cost: None,
        effective_date: cw_date(step.effective),
        cancelled_date: Some(cw_date(last_day)),
        // The step's amount is already the charge's share for a partial period.
        prorate_current_period_flag: false,
        invoice_description: format!(
            "{}: discount `{}` {} per charge, {} to {}",
            l.description, step.rule, step.amount, step.effective, last_day
        ),
    })
}

/// An agreement addition for a recurring line whose first full period starts on `anchor`.
fn addition(l: &RecurringLine, anchor: NaiveDate, ids: &Ids) -> Result<AdditionBody, PluginError> {
    // A usage line has no unit price: ConnectWise bills its rated estimate as one amount.
    let p = priced(l.quantity, l.unit_price.unwrap_or(Decimal::ZERO), l.amount);
    // ConnectWise bills additions at the start of each cycle. A line billed in advance starts
    // on its first day of service and ConnectWise prorates its partial first period; a metered
    // line is billed in arrears, so it starts on the day its first charge falls due.
    let (effective, prorate) = match l.timing {
        Timing::Arrears if l.start < anchor => (anchor, false),
        Timing::Arrears => (add_months(l.start, l.months)?, false),
        Timing::Advance | Timing::Once => (l.start, l.start < anchor),
    };
    Ok(AdditionBody {
        line: l.line,
        discount: false,
        product: catalog_item(l.catalog_item.as_ref(), l.line, &l.product, ids)?,
        bill_customer: bill_customer().into(),
        quantity: Amount(p.quantity),
        unit_price: Amount(p.unit),
        // The template states no cost; ConnectWise takes the catalogue item's cost.
        unit_cost: None,
        effective_date: cw_date(effective),
        cancelled_date: None,
        prorate_current_period_flag: prorate,
        invoice_description: describe(&l.description, l.quantity, &p),
    })
}

/// A procurement product for a sales order line.
fn product(
    so: &SalesOrder,
    l: &SalesOrderLine,
    agreement: Option<&String>,
    ids: &Ids,
) -> Result<ProductBody, PluginError> {
    let one_time = is_one_time(l);
    // One-time lines are priced at what the customer pays (one-off discounts included);
    // recurring lines at one full period net of lasting discounts, as their agreement bills.
    let total = if one_time {
        l.contract_value
    } else {
        l.recurring
    };
    let p = priced(l.quantity, l.unit_price, total);
    let agreement = match (one_time, agreement) {
        (true, _) => None,
        (false, Some(name)) => Some(Reference::name(name)),
        (false, None) => {
            return Err(PluginError::Invalid(format!(
                "sales order {} line {} ({}) is recurring but the recurring template has no line {}",
                so.id, l.line, l.product, l.line
            )));
        }
    };
    Ok(ProductBody {
        line: l.line,
        catalog_item: catalog_item(l.catalog_item.as_ref(), l.line, &l.product, ids)?,
        sales_order: Reference::identifier(&so.id),
        quantity: Amount(p.quantity),
        price: Amount(p.unit),
        // A recurring line's cost covers its whole commitment, stub included: not a unit cost.
        cost: if one_time {
            unit_cost(&p, l.cost).map(Amount)
        } else {
            None
        },
        description: describe(&l.name, l.quantity, &p),
        billable_option: billable_option(l).into(),
        agreement,
    })
}

/// The sales order with its products, and one agreement with its additions per billing cycle
/// (with its label), as the bodies ConnectWise takes, every length checked.
pub fn documents(
    input: &SalesInput,
    ids: &Ids,
) -> Result<(SalesOrderDocument, Vec<(String, AgreementDocument)>), PluginError> {
    let (so, t) = (&input.sales_order, &input.template);
    check_input(so, t)?;
    let groups = cycle_groups(t)?;
    let mut agreements = Vec::with_capacity(groups.len());
    // Quote line → the agreement that bills it, for the sales order's product lines.
    let mut billed_by: BTreeMap<u32, String> = BTreeMap::new();
    for g in &groups {
        let label = cycle_label(g, &groups);
        let name = agreement_name(t, &label);
        for (l, _) in &g.lines {
            billed_by.insert(l.line, name.clone());
        }
        agreements.push((label, agreement_document(so, t, g, name, ids)?));
    }
    let products = so
        .lines
        .iter()
        .map(|l| product(so, l, billed_by.get(&l.line), ids))
        .collect::<Result<Vec<_>, _>>()?;
    let order = SalesOrderDocument {
        sales_order: SalesOrderBody {
            company: ids.company.clone(),
            status: order_status(),
            sales_rep: ids.sales_rep.clone(),
            order_date: cw_date(so.date),
            po_number: so.id.clone(),
            notes: format!(
                "Accepted from Tenor quote {} for {} ({}), amounts in {}; fingerprint {}",
                so.quote, so.customer.name, so.customer.id, so.currency, so.fingerprint
            ),
        },
        products,
    };
    check_lengths(&order, &agreements)?;
    Ok((order, agreements))
}

/// ConnectWise's limits (model_agreement.go, model_order.go, model_addition.go,
/// model_product_item.go), refused rather than cut.
fn check_lengths(
    order: &SalesOrderDocument,
    agreements: &[(String, AgreementDocument)],
) -> Result<(), PluginError> {
    let mut problems = Vec::new();
    let mut check = |what: String, text: &str, longest: usize| {
        let n = text.chars().count();
        if n > longest {
            problems.push(format!(
                "{what} has {n} characters; ConnectWise takes at most {longest}"
            ));
        }
    };
    check(
        "the sales order's `poNumber`".into(),
        &order.sales_order.po_number,
        50,
    );
    for p in &order.products {
        check(
            format!("line {} `description`", p.line),
            &p.description,
            2000,
        );
    }
    for (_, a) in agreements {
        check(
            format!("agreement `{}` `name`", a.agreement.name),
            &a.agreement.name,
            100,
        );
        check(
            format!("agreement `{}` `customerPO`", a.agreement.name),
            &a.agreement.customer_po,
            50,
        );
        for x in &a.additions {
            check(
                format!("line {} addition `invoiceDescription`", x.line),
                &x.invoice_description,
                6000,
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PluginError::Invalid(problems.join("; ")))
    }
}

impl Plugin for Connector {
    fn info(&self) -> PluginInfo {
        PluginInfo::psa(
            "connectwise",
            env!("CARGO_PKG_VERSION"),
            &[
                Capability::RenderSales,
                Capability::ParseInvoice,
                Capability::Detect,
                Capability::Push,
                Capability::Pull,
            ],
        )
        .with_link_keys(&[COMPANY_KEY, CONTACT_KEY, SALES_REP_KEY, AGREEMENT_TYPE_KEY])
    }

    fn render_sales(&self, input: &SalesInput) -> Result<Vec<Rendered>, PluginError> {
        let (so, t) = (&input.sales_order, &input.template);
        let ids = Ids::preview(&so.customer.id, &so.customer.accounts);
        let (order, agreements) = documents(input, &ids)?;
        let mut out = vec![Rendered::json(
            format!("{}.connectwise-sales-order", so.id),
            &order,
        )?];
        for (label, doc) in &agreements {
            out.push(Rendered::json(
                format!("{}-{label}.connectwise-agreement", t.id),
                doc,
            )?);
        }
        Ok(out)
    }

    fn push_step(&self, input: &PushInput) -> Result<PushStep, PluginError> {
        api::push_step(input)
    }

    fn pull_step(&self, input: &PullInput) -> Result<PullStep, PluginError> {
        api::pull_step(input)
    }

    fn parse_invoice(&self, text: &str) -> Result<Vec<InvoiceLine>, PluginError> {
        let v: Value = read_json(text, "a ConnectWise invoice")?;
        // `GET /finance/invoices` returns an array; `GET /finance/invoices/{id}` one invoice.
        let invoices: Vec<&Value> = match &v {
            Value::Array(a) => a.iter().collect(),
            Value::Object(_) => vec![&v],
            _ => {
                return Err(PluginError::Invalid(
                    "not a ConnectWise invoice: expected an object or an array".into(),
                ));
            }
        };
        let mut lines = Vec::new();
        for (i, inv) in invoices.iter().enumerate() {
            let inv = inv.as_object().ok_or_else(|| {
                PluginError::Invalid(format!("invoice {} is not an object", i + 1))
            })?;
            lines.extend(invoice_lines(i, inv)?);
        }
        Ok(lines)
    }

    fn detect(&self, text: &str) -> bool {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return false;
        };
        let first = match &v {
            Value::Array(a) => a.first(),
            other => Some(other),
        };
        let Some(o) = first.and_then(Value::as_object) else {
            return false;
        };
        let has = |k: &str| o.contains_key(k);
        let invoice = has("invoiceNumber") && (has("customerPO") || has("company"));
        let rendered =
            (has("salesOrder") && has("products")) || (has("agreement") && has("additions"));
        invoice || rendered
    }
}

// ---------------------------------------------------------------------------------------------
// Invoices
// ---------------------------------------------------------------------------------------------

/// Money and quantities arrive as JSON numbers: read their text into a Decimal, never through
/// f64. `Ok(None)` when the field is absent or null; an error when it is there but unreadable.
fn decimal(o: &Map<String, Value>, key: &str, at: &str) -> Result<Option<Decimal>, PluginError> {
    let text = match o.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(_) => {
            return Err(PluginError::Invalid(format!(
                "{at}: `{key}` is not a number"
            )));
        }
    };
    tenor_plugin_sdk::exact_decimal(&text)
        .map(Some)
        .ok_or(())
        .map_err(|_| PluginError::Invalid(format!("{at}: `{key}` is not a number: {text}")))
}

/// The first of `keys` that holds a number.
fn first_decimal(
    o: &Map<String, Value>,
    keys: &[&str],
    at: &str,
) -> Result<Option<Decimal>, PluginError> {
    for k in keys {
        if let Some(d) = decimal(o, k, at)? {
            return Ok(Some(d));
        }
    }
    Ok(None)
}

fn text(o: &Map<String, Value>, key: &str) -> Option<String> {
    match o.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `yyyy-MM-dd` or a date-time starting with one.
fn date(o: &Map<String, Value>, key: &str) -> Option<NaiveDate> {
    date_prefix(o.get(key)?.as_str()?)
}

/// A reference object's readable key: `identifier`, else `id`, else `name` (or a bare string).
fn reference_key(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Object(o) => text(o, "identifier")
            .or_else(|| text(o, "id"))
            .or_else(|| text(o, "name")),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// The arrays that hold an invoice's line detail, in the order they are read.
const LINE_ARRAYS: [&str; 3] = ["additions", "lines", "products"];

/// What every line of one invoice shares.
struct InvoiceHeader {
    number: String,
    reference: Option<String>,
    customer: Option<String>,
    date: Option<NaiveDate>,
}

/// Lines of one invoice, checked against its `subtotal`.
fn invoice_lines(i: usize, inv: &Map<String, Value>) -> Result<Vec<InvoiceLine>, PluginError> {
    let number = text(inv, "invoiceNumber")
        .ok_or_else(|| PluginError::Invalid(format!("invoice {}: no `invoiceNumber`", i + 1)))?;
    let header = InvoiceHeader {
        reference: text(inv, "customerPO"),
        customer: reference_key(inv.get("company")),
        date: date(inv, "date"),
        number,
    };
    let at = format!("invoice {}", header.number);
    let mut items: Vec<&Map<String, Value>> = Vec::new();
    let mut found = false;
    for key in LINE_ARRAYS {
        match inv.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                found = true;
                for item in a {
                    items.push(item.as_object().ok_or_else(|| {
                        PluginError::Invalid(format!("{at}: an entry of `{key}` is not an object"))
                    })?);
                }
            }
            Some(_) => {
                return Err(PluginError::Invalid(format!(
                    "{at}: `{key}` is not an array"
                )));
            }
        }
    }
    if !found {
        return Err(PluginError::Invalid(format!(
            "{at} has no line detail: expected `additions`, `lines` or `products`"
        )));
    }
    let lines = items
        .iter()
        .enumerate()
        .map(|(n, item)| invoice_line(&header, n, item))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(subtotal) = decimal(inv, "subtotal", &at)? {
        let sum: Decimal = lines.iter().map(|l| l.amount).sum();
        if sum != subtotal {
            return Err(PluginError::Invalid(format!(
                "{at}: its lines sum to {sum} but its subtotal is {subtotal}"
            )));
        }
    }
    Ok(lines)
}

/// One line of an invoice. ConnectWise does not publish the invoice's line shape; this is the
/// assumed one (README): `product {identifier}` (or `catalogItem {identifier}`), `quantity`,
/// `unitPrice`/`price`, `extendedPrice`/`amount`/`extPrice`, `invoiceDescription`/`description`,
/// `periodStart`/`periodEnd` (the last day billed).
fn invoice_line(
    h: &InvoiceHeader,
    n: usize,
    item: &Map<String, Value>,
) -> Result<InvoiceLine, PluginError> {
    let at = format!("invoice {} line {}", h.number, n + 1);
    let part_number = reference_key(item.get("product"))
        .or_else(|| reference_key(item.get("catalogItem")))
        .ok_or_else(|| PluginError::Invalid(format!("{at}: no `product` identifier")))?;
    let quantity = decimal(item, "quantity", &at)?
        .ok_or_else(|| PluginError::Invalid(format!("{at}: no `quantity`")))?;
    let unit_price = first_decimal(item, &["unitPrice", "price"], &at)?;
    let amount = match first_decimal(item, &["extendedPrice", "amount", "extPrice"], &at)? {
        Some(a) => a,
        // No stated amount: the exact product of what is stated.
        None => unit_price
            .and_then(|p| p.checked_mul(quantity))
            .ok_or_else(|| {
                PluginError::Invalid(format!("{at}: no `extendedPrice`, `amount` or `unitPrice`"))
            })?,
    };
    let start = date(item, "periodStart");
    // Invoices print the last day billed; Tenor's periods end the day after.
    let end = date(item, "periodEnd").and_then(period_end);
    Ok(InvoiceLine {
        serial_numbers: Vec::new(),
        document: h.number.clone(),
        reference: h.reference.clone(),
        customer: h.customer.clone(),
        part_number,
        description: text(item, "invoiceDescription")
            .or_else(|| text(item, "description"))
            .unwrap_or_default(),
        quantity,
        unit_price,
        amount,
        period_start: start,
        period_end: end,
        term: None,
        billing: start
            .zip(end)
            .and_then(|(s, e)| billing_from_period(s, e))
            .map(str::to_string),
        date: h.date,
    })
}

tenor_plugin_sdk::export_plugin!(Connector);

#[cfg(test)]
mod tests {
    use super::*;
    use tenor_plugin_sdk::Kind;
    use tenor_plugin_sdk::docs::{Customer, Totals};

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Q-1001 as `tenor accept` writes it (rules/quotes/q1001-dental-practice.yaml).
    const Q1001_SALES_ORDER: &str = r#"{"schema":"tenor.sales-order/1","id":"SO-Q-1001","quote":"Q-1001","date":"2026-11-20","currency":"USD",
"customer":{"id":"CUST-0042","name":"Bayview Family Dental"},"fingerprint":"98ba2212feb6ab2edbef132d260ccad4a05c4a0bb75f6a48f307fe081eb02b01","lines":[
{"line":1,"product":"M365-BP","name":"Microsoft 365 Business Premium","bundle":false,"quantity":"25","term":"P1Y","billing":"monthly","coterm":"default","start":"2026-12-07","term_start":"2027-07-01","end":"2028-07-01","unit_price":"22.00","recurring":"550.00","first_charge":"443.55","contract_value":"10343.55","cost":"8274.84"},
{"line":2,"product":"MDB","name":"Microsoft Defender for Business","bundle":false,"quantity":"25","term":"P1Y","billing":"monthly","coterm":"microsoft-monthly","start":"2026-12-07","term_start":"2026-12-07","end":"2027-12-01","unit_price":"3.00","recurring":"75.00","first_charge":"60.48","contract_value":"885.48","cost":"708.39"},
{"line":3,"product":"DATTO-CLOUD","name":"Datto Cloud Backup Storage","bundle":false,"quantity":"1","term":"P1M","billing":"monthly","coterm":"default","start":"2026-12-07","term_start":"2027-01-01","end":"2027-02-01","unit_price":"0.033333","recurring":"50.00","first_charge":"40.32","contract_value":"90.32","cost":"54.19"},
{"line":4,"product":"MS-DEVICE","name":"Managed Workstation Service","bundle":false,"quantity":"28","term":"P1Y","billing":"monthly","coterm":"default","start":"2026-12-07","term_start":"2027-07-01","end":"2028-07-01","unit_price":"40.00","recurring":"1120.00","first_charge":"812.91","contract_value":"20727.23","cost":"0.00"},
{"line":5,"product":"ONBOARDING","name":"New customer onboarding","bundle":false,"quantity":"1","term":"one-time","billing":"once","start":"2026-12-07","term_start":"2026-12-07","end":"2026-12-07","unit_price":"1500.00","recurring":"0.00","first_charge":"1000.00","contract_value":"1000.00","cost":"600.00"},
{"line":6,"product":"DELL-LAT5550","name":"Dell Latitude 5550 laptop","bundle":false,"quantity":"4","term":"one-time","billing":"once","start":"2026-12-07","term_start":"2026-12-07","end":"2026-12-07","unit_price":"1237.80","recurring":"0.00","first_charge":"4951.20","contract_value":"4951.20","cost":"4196.00"},
{"line":7,"product":"DELL-WD22TB4","name":"Dell WD22TB4 Thunderbolt dock","bundle":false,"quantity":"4","term":"one-time","billing":"once","start":"2026-12-07","term_start":"2026-12-07","end":"2026-12-07","unit_price":"273.75","recurring":"0.00","first_charge":"1095.00","contract_value":"1095.00","cost":"876.00"}],
"totals":{"first_invoice":"8363.14","mrr":"1795.00","arr":"21540.00","contract_value":"39092.78","cost":"14709.42","margin":"24383.36"}}"#;

    const Q1001_TEMPLATE: &str = r#"{"schema":"tenor.recurring-template/2","id":"RT-Q-1001","sales_order":"SO-Q-1001","currency":"USD",
"customer":{"id":"CUST-0042","name":"Bayview Family Dental"},"lines":[
{"line":1,"product":"M365-BP","description":"Microsoft 365 Business Premium","quantity":"25","unit_price":"22.00","frequency":"monthly","months":1,"timing":"advance","amount":"550.00","next_bill_date":"2027-01-01","billing_day":1,"start":"2026-12-07","end":"2028-07-01","stub":[{"period_start":"2026-12-07","period_end":"2027-01-01","bill_date":"2026-12-07","amount":"443.55"}]},
{"line":2,"product":"MDB","description":"Microsoft Defender for Business","quantity":"25","unit_price":"3.00","frequency":"monthly","months":1,"timing":"advance","amount":"75.00","next_bill_date":"2027-01-01","billing_day":1,"start":"2026-12-07","end":"2027-12-01","stub":[{"period_start":"2026-12-07","period_end":"2027-01-01","bill_date":"2026-12-07","amount":"60.48"}]},
{"line":3,"product":"DATTO-CLOUD","description":"Datto Cloud Backup Storage","quantity":"1500","frequency":"monthly","months":1,"timing":"arrears","amount":"50.00","next_bill_date":"2027-02-01","billing_day":1,"start":"2026-12-07","end":"2027-02-01","stub":[{"period_start":"2026-12-07","period_end":"2027-01-01","bill_date":"2027-01-01","amount":"40.32"}],"usage":{"metric":"storage-gb","aggregation":"max","unit":"GB","tiers":{"name":"backup-storage","mode":"graduated","block":"1","per_months":1,"rows":[{"upper":"500","price":"0","flat":"0"},{"upper":"10000","price":"0.05","flat":"0"},{"price":"0.03","flat":"0"}]},"minimum":"25.00"}},
{"line":4,"product":"MS-DEVICE","description":"Managed Workstation Service","quantity":"28","unit_price":"40.00","frequency":"monthly","months":1,"timing":"advance","amount":"1120.00","next_bill_date":"2027-01-01","billing_day":1,"start":"2026-12-07","end":"2028-07-01","stub":[{"period_start":"2026-12-07","period_end":"2027-01-01","bill_date":"2026-12-07","amount":"903.23"}],"discounts":[{"rule":"welcome","amount":"-90.32","effective":"2026-12-07","end":"2027-01-01"},{"rule":"welcome","amount":"-112.00","effective":"2027-01-01","end":"2027-03-01"},{"rule":"welcome","amount":"-21.68","effective":"2027-03-01","end":"2027-04-01"}]}],
"mrr":"1795.00"}"#;

    fn q1001() -> SalesInput {
        SalesInput {
            sales_order: serde_json::from_str(Q1001_SALES_ORDER).unwrap(),
            template: serde_json::from_str(Q1001_TEMPLATE).unwrap(),
        }
    }

    /// A bare sales input with no lines, for building cases line by line.
    fn empty(customer: &str) -> SalesInput {
        let customer = Customer {
            id: customer.into(),
            name: "Pacific Crest Surveying Inc.".into(),
            accounts: Default::default(),
        };
        SalesInput {
            sales_order: SalesOrder {
                schema: tenor_plugin_sdk::docs::SALES_ORDER.into(),
                id: "SO-Q-2001".into(),
                quote: "Q-2001".into(),
                date: day("2027-01-11"),
                currency: "USD".into(),
                customer: customer.clone(),
                fingerprint: "f".into(),
                lines: Vec::new(),
                totals: Totals::default(),
            },
            template: RecurringTemplate {
                schema: tenor_plugin_sdk::docs::RECURRING_TEMPLATE.into(),
                id: "RT-Q-2001".into(),
                sales_order: "SO-Q-2001".into(),
                currency: "USD".into(),
                customer,
                lines: Vec::new(),
                mrr: Decimal::ZERO,
            },
        }
    }

    /// Adds a recurring line to both documents: (sku, quantity, list unit price, full-period
    /// amount, term, frequency, months, start, next bill date, end).
    #[allow(
        clippy::too_many_arguments,
        reason = "a test helper that mirrors the documents' fields"
    )]
    fn recurring(
        input: &mut SalesInput,
        sku: &str,
        quantity: &str,
        unit: &str,
        amount: &str,
        term: &str,
        (frequency, months): (&str, u32),
        (start, next, end): (&str, &str, &str),
    ) {
        let line = u32::try_from(input.sales_order.lines.len()).unwrap() + 1;
        input.sales_order.lines.push(SalesOrderLine {
            catalog_item: None,
            line,
            product: sku.into(),
            name: format!("{sku} service"),
            bundle: false,
            quantity: d(quantity),
            term: term.into(),
            billing: frequency.into(),
            coterm: None,
            start: day(start),
            term_start: day(start),
            end: day(end),
            unit_price: d(unit),
            recurring: d(amount),
            first_charge: d(amount),
            contract_value: d(amount),
            cost: Decimal::ZERO,
        });
        input.template.lines.push(RecurringLine {
            catalog_item: None,
            line,
            product: sku.into(),
            description: format!("{sku} service"),
            quantity: d(quantity),
            unit_price: Some(d(unit)),
            frequency: frequency.into(),
            months,
            timing: Timing::Advance,
            amount: d(amount),
            next_bill_date: day(next),
            billing_day: day(next).day(),
            start: day(start),
            end: day(end),
            stub: Vec::new(),
            discounts: Vec::new(),
            usage: None,
        });
    }

    fn render(input: &SalesInput) -> Vec<(String, Value)> {
        Connector
            .render_sales(input)
            .unwrap()
            .into_iter()
            .map(|r| {
                assert_eq!(r.extension, "json");
                (r.name, serde_json::from_str(&r.body).unwrap())
            })
            .collect()
    }

    /// The JSON number's own text: what ConnectWise receives.
    fn num(v: &Value) -> String {
        assert!(v.is_number(), "{v} is not a JSON number");
        v.to_string()
    }

    #[test]
    fn info_lists_what_the_connector_does() {
        let info = Connector.info();
        assert_eq!(info.name, "connectwise");
        assert_eq!(info.kind, Kind::Psa);
        assert_eq!(
            info.capabilities,
            vec![
                Capability::RenderSales,
                Capability::ParseInvoice,
                Capability::Detect,
                Capability::Push,
                Capability::Pull
            ]
        );
    }

    #[test]
    fn amounts_keep_their_digits() {
        for s in [
            "22.00",
            "0.033333",
            "-112.00",
            "1101.60",
            "0",
            "79228162514264337593543950335",
        ] {
            assert_eq!(serde_json::to_string(&Amount(d(s))).unwrap(), s);
        }
    }

    #[test]
    fn sales_order_carries_the_tenor_id_and_every_line() {
        let docs = render(&q1001());
        let names: Vec<&str> = docs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "SO-Q-1001.connectwise-sales-order",
                "RT-Q-1001-monthly.connectwise-agreement"
            ]
        );

        let so = &docs[0].1;
        let order = &so["salesOrder"];
        assert_eq!(order["poNumber"], "SO-Q-1001");
        assert_eq!(
            order["company"],
            serde_json::json!({"identifier": "CUST-0042"})
        );
        assert_eq!(order["status"], serde_json::json!({"name": "New"}));
        assert_eq!(
            order["salesRep"],
            serde_json::json!({"identifier": "Tenor"})
        );
        assert_eq!(order["orderDate"], "2026-11-20T00:00:00Z");
        assert!(order["notes"].as_str().unwrap().contains("Q-1001"));

        let products = so["products"].as_array().unwrap();
        assert_eq!(products.len(), 7);
        for p in products {
            assert_eq!(
                p["salesOrder"],
                serde_json::json!({"identifier": "SO-Q-1001"})
            );
        }
        // Recurring lines are billed by the agreement, which the line names.
        let m365 = &products[0];
        assert_eq!(m365["catalogItem"]["identifier"], "M365-BP");
        assert_eq!(num(&m365["quantity"]), "25");
        assert_eq!(num(&m365["price"]), "22.00");
        assert_eq!(m365["billableOption"], "DoNotBill");
        assert_eq!(
            m365["agreement"],
            serde_json::json!({"name": "RT-Q-1001 monthly"})
        );
        assert!(m365.get("cost").is_none());
        // One-time lines are billed from the order at what was sold: the 500.00 waiver is in.
        let onboarding = &products[4];
        assert_eq!(onboarding["catalogItem"]["identifier"], "ONBOARDING");
        assert_eq!(onboarding["billableOption"], "Billable");
        assert_eq!(num(&onboarding["price"]), "1000.00");
        assert_eq!(num(&onboarding["cost"]), "600.00");
        assert!(onboarding.get("agreement").is_none());
        let laptops = &products[5];
        assert_eq!(num(&laptops["quantity"]), "4");
        assert_eq!(num(&laptops["price"]), "1237.80");
        assert_eq!(num(&laptops["cost"]), "1049.00");
    }

    #[test]
    fn agreement_has_one_addition_per_recurring_line() {
        let docs = render(&q1001());
        let doc = &docs[1].1;
        let a = &doc["agreement"];
        assert_eq!(a["name"], "RT-Q-1001 monthly");
        assert_eq!(a["customerPO"], "SO-Q-1001");
        assert_eq!(a["type"], serde_json::json!({"name": "Tenor Recurring"}));
        // The preview names no contact it cannot know (a push resolves the company's default
        // contact) and the billing cycle by name (a push sends its id).
        assert!(a.get("contact").is_none());
        assert!(a.get("billCycleId").is_none());
        assert_eq!(a["billingCycle"], serde_json::json!({"name": "Monthly"}));
        assert_eq!(a["startDate"], "2026-12-07T00:00:00Z");
        assert_eq!(a["billStartDate"], "2027-01-01T00:00:00Z");
        // The longest commitment ends 2028-07-01 (exclusive): its last day is 2028-06-30.
        assert_eq!(a["endDate"], "2028-06-30T00:00:00Z");
        assert_eq!(a["noEndingDateFlag"], false);
        assert_eq!(a["prorateFlag"], true);
        assert_eq!(a["invoicingCycle"], "ContractYear");
        assert_eq!(num(&a["billAmount"]), "0.00");

        let additions = doc["additions"].as_array().unwrap();
        let got: Vec<(String, String, String, String, bool)> = additions
            .iter()
            .map(|x| {
                assert_eq!(x["billCustomer"], "Billable");
                (
                    x["product"]["identifier"].as_str().unwrap().to_string(),
                    num(&x["quantity"]),
                    num(&x["unitPrice"]),
                    x["effectiveDate"].as_str().unwrap().to_string(),
                    x["prorateCurrentPeriodFlag"].as_bool().unwrap(),
                )
            })
            .collect();
        let want = |sku: &str, q: &str, p: &str, e: &str, pr: bool| {
            (sku.into(), q.into(), p.into(), e.into(), pr)
        };
        assert_eq!(
            got,
            vec![
                want("M365-BP", "25", "22.00", "2026-12-07T00:00:00Z", true),
                want("MDB", "25", "3.00", "2026-12-07T00:00:00Z", true),
                // Metered, in arrears: the estimate, starting when its first charge falls due.
                want("DATTO-CLOUD", "1", "50.00", "2027-01-01T00:00:00Z", false),
                want("MS-DEVICE", "28", "40.00", "2026-12-07T00:00:00Z", true),
                // The welcome offer, 10% off the first 3 months from 2026-12-07, as dated
                // discount additions (issue 10): 10% × 28 × 40.00 = 112.00 a month; the stub
                // 112.00 × 25/31 = 90.32; 2027-03-01..03-07 is 112.00 × 6/31 = 21.68.
                want("MS-DEVICE", "1", "-90.32", "2026-12-07T00:00:00Z", false),
                want("MS-DEVICE", "1", "-112.00", "2027-01-01T00:00:00Z", false),
                want("MS-DEVICE", "1", "-21.68", "2027-03-01T00:00:00Z", false),
            ]
        );
        // Each discount step is cancelled on its last day: 90.32 + 2 × 112.00 + 21.68 = 336.00.
        let cancelled: Vec<&str> = additions
            .iter()
            .filter_map(|x| x.get("cancelledDate").and_then(Value::as_str))
            .collect();
        assert_eq!(
            cancelled,
            [
                "2026-12-31T00:00:00Z",
                "2027-02-28T00:00:00Z",
                "2027-03-31T00:00:00Z"
            ]
        );
        // Every line's addition bills exactly the template's full-period amount.
        for (x, l) in additions.iter().zip(&q1001().template.lines) {
            assert_eq!(d(&num(&x["quantity"])) * d(&num(&x["unitPrice"])), l.amount);
        }
    }

    /// A customer buying four recurring lines, one per billing frequency (upfront, annual,
    /// monthly, quarterly).
    fn four_billing_frequencies() -> SalesInput {
        let mut input = empty("CUST-0057");
        let dates = ("2026-10-12", "2027-04-01", "2030-04-01");
        recurring(
            &mut input,
            "M365-E3",
            "18",
            "1296.00",
            "19828.80",
            "P3Y",
            ("upfront", 36),
            dates,
        );
        let dates = ("2026-10-12", "2027-04-01", "2028-04-01");
        recurring(
            &mut input,
            "EXO-P1",
            "6",
            "48.00",
            "244.80",
            "P1Y",
            ("annual", 12),
            dates,
        );
        recurring(
            &mut input,
            "M365-BP",
            "6",
            "22.00",
            "132.00",
            "P1Y",
            ("monthly", 1),
            dates,
        );
        recurring(
            &mut input,
            "MS-SERVER",
            "2",
            "405.00",
            "810.00",
            "P1Y",
            ("quarterly", 3),
            dates,
        );
        input
    }

    #[test]
    fn one_agreement_per_billing_frequency() {
        let input = four_billing_frequencies();
        let docs = render(&input);
        let names: Vec<&str> = docs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "SO-Q-2001.connectwise-sales-order",
                "RT-Q-2001-upfront.connectwise-agreement",
                "RT-Q-2001-annual.connectwise-agreement",
                "RT-Q-2001-monthly.connectwise-agreement",
                "RT-Q-2001-quarterly.connectwise-agreement",
            ]
        );
        let cycles: Vec<(Value, Value, usize)> = docs[1..]
            .iter()
            .map(|(_, v)| {
                (
                    v["agreement"]["name"].clone(),
                    v["agreement"]["billingCycle"]["name"].clone(),
                    v["additions"].as_array().unwrap().len(),
                )
            })
            .collect();
        assert_eq!(
            cycles,
            vec![
                ("RT-Q-2001 upfront".into(), "Triennial".into(), 1),
                ("RT-Q-2001 annual".into(), "Annual".into(), 1),
                ("RT-Q-2001 monthly".into(), "Monthly".into(), 1),
                ("RT-Q-2001 quarterly".into(), "Quarterly".into(), 1),
            ]
        );
        // A lasting discount (nonprofit 15%) is in the net unit price, so the agreement bills
        // exactly the template's amount: 18 × 1101.60 = 19828.80.
        let e3 = &docs[1].1["additions"][0];
        assert_eq!(num(&e3["quantity"]), "18");
        assert_eq!(num(&e3["unitPrice"]), "1101.60");
        // Each sales order line names the agreement that bills it.
        let products = docs[0].1["products"].as_array().unwrap();
        let refs: Vec<&str> = products
            .iter()
            .map(|p| p["agreement"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            refs,
            [
                "RT-Q-2001 upfront",
                "RT-Q-2001 annual",
                "RT-Q-2001 monthly",
                "RT-Q-2001 quarterly"
            ]
        );
    }

    #[test]
    fn lines_on_other_cycle_days_get_their_own_agreement() {
        // Q-1004: month-to-month from the 18th, and Defender co-termed to the calendar month
        // end, whose commitment is all stub and whose cycles start on the 1st.
        let mut input = empty("78");
        recurring(
            &mut input,
            "M365-BS",
            "8",
            "15.00",
            "120.00",
            "P1M",
            ("monthly", 1),
            ("2027-01-18", "2027-01-18", "2027-02-18"),
        );
        recurring(
            &mut input,
            "MDB",
            "8",
            "3.60",
            "28.80",
            "P1M",
            ("monthly", 1),
            ("2027-01-18", "2027-01-18", "2027-02-01"),
        );
        let docs = render(&input);
        assert_eq!(docs.len(), 3);
        let (name, bs) = (&docs[1].0, &docs[1].1);
        assert_eq!(name, "RT-Q-2001-monthly-2027-01-18.connectwise-agreement");
        assert_eq!(bs["agreement"]["billStartDate"], "2027-01-18T00:00:00Z");
        assert_eq!(bs["agreement"]["prorateFlag"], false);
        assert_eq!(bs["additions"][0]["prorateCurrentPeriodFlag"], false);
        let (name, mdb) = (&docs[2].0, &docs[2].1);
        assert_eq!(name, "RT-Q-2001-monthly-2027-02-01.connectwise-agreement");
        assert_eq!(mdb["agreement"]["billStartDate"], "2027-02-01T00:00:00Z");
        assert_eq!(mdb["additions"][0]["effectiveDate"], "2027-01-18T00:00:00Z");
        assert_eq!(mdb["additions"][0]["prorateCurrentPeriodFlag"], true);
        // Month-to-month service has no end date; a numeric customer id is ConnectWise's id.
        for (_, doc) in &docs[1..] {
            assert_eq!(doc["agreement"]["noEndingDateFlag"], true);
            assert!(doc["agreement"].get("endDate").is_none());
            assert_eq!(doc["agreement"]["company"], serde_json::json!({"id": 78}));
            assert!(doc["agreement"].get("contact").is_none());
        }
    }

    #[test]
    fn inexact_net_price_is_billed_as_one_unit_of_the_total() {
        // 3 seats × 22.00 − 10.00 off for good: 56.00 has no exact unit price.
        let mut input = empty("CUST-1");
        let dates = ("2027-01-01", "2027-01-01", "2028-01-01");
        recurring(
            &mut input,
            "M365-BP",
            "3",
            "22.00",
            "56.00",
            "P1Y",
            ("monthly", 1),
            dates,
        );
        let docs = render(&input);
        let x = &docs[1].1["additions"][0];
        assert_eq!(num(&x["quantity"]), "1");
        assert_eq!(num(&x["unitPrice"]), "56.00");
        assert_eq!(x["invoiceDescription"], "M365-BP service (3 units)");
        assert_eq!(x["prorateCurrentPeriodFlag"], false);
    }

    #[test]
    fn one_time_only_orders_have_no_agreement() {
        let mut input = q1001();
        input.sales_order.lines.retain(is_one_time);
        input.template.lines.clear();
        let docs = render(&input);
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].1["products"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn refuses_documents_that_do_not_belong_together() {
        let mut other = q1001();
        other.template.sales_order = "SO-Q-9999".into();
        let err = Connector.render_sales(&other).unwrap_err().to_string();
        assert!(
            err.contains("RT-Q-1001") && err.contains("SO-Q-9999"),
            "{err}"
        );

        let mut missing = q1001();
        missing.template.lines.remove(1);
        let err = Connector.render_sales(&missing).unwrap_err().to_string();
        assert!(err.contains("line 2 (MDB)"), "{err}");

        let mut wrong = q1001();
        wrong.template.lines[0].product = "M365-E3".into();
        let err = Connector.render_sales(&wrong).unwrap_err().to_string();
        assert!(err.contains("line 1 (M365-E3) is not line 1"), "{err}");

        let mut odd = q1001();
        odd.template.lines[0].months = 6;
        odd.template.lines[0].frequency = "semiannual".into();
        assert!(Connector.render_sales(&odd).is_err());
    }

    #[test]
    fn mappings() {
        assert_eq!(company("42"), Reference::Id { id: 42 });
        assert_eq!(company("CUST-0042"), Reference::identifier("CUST-0042"));
        let ids: Vec<&str> = [
            ("monthly", 1),
            ("quarterly", 3),
            ("annual", 12),
            ("upfront", 12),
            ("upfront", 24),
            ("upfront", 36),
        ]
        .iter()
        .map(|(f, m)| billing_cycle_name(f, *m).unwrap())
        .collect();
        assert_eq!(
            ids,
            [
                "Monthly",
                "Quarterly",
                "Annual",
                "Annual",
                "Biennial",
                "Triennial"
            ]
        );
        assert!(billing_cycle_name("monthly", 12).is_err());
        assert!(billing_cycle_name("upfront", 60).is_err());
        assert!(in_phase(day("2027-01-31"), day("2027-04-30"), 1));
        assert!(in_phase(day("2027-04-30"), day("2027-01-31"), 1));
        assert!(in_phase(day("2027-07-01"), day("2026-07-01"), 12));
        assert!(!in_phase(day("2027-07-01"), day("2027-10-01"), 12));
        assert!(!in_phase(day("2027-01-18"), day("2027-02-01"), 1));
    }

    const INVOICE: &str = r#"{
        "id": 88121, "invoiceNumber": "INV-10455", "type": "Agreement", "date": "2027-02-01T00:00:00Z",
        "company": {"id": 250, "identifier": "CUST-0042", "name": "Bayview Family Dental"},
        "customerPO": "SO-Q-1001", "currency": {"id": 1, "currencyCode": "USD"},
        "subtotal": 1795.00, "salesTax": 0.00, "total": 1795.00, "agreementAmount": 1795.00, "productTotal": 0.00,
        "additions": [
            {"product": {"identifier": "M365-BP"}, "quantity": 25, "unitPrice": 22.00, "extendedPrice": 550.00,
             "invoiceDescription": "Microsoft 365 Business Premium", "periodStart": "2027-02-01", "periodEnd": "2027-02-28"},
            {"product": {"identifier": "MDB"}, "quantity": 25, "unitPrice": 3.00, "extendedPrice": 75.00},
            {"product": {"identifier": "DATTO-CLOUD"}, "quantity": 1500.5, "unitPrice": 0.033333, "amount": 50.02},
            {"product": {"identifier": "MS-DEVICE"}, "quantity": 28, "price": 40.00, "extPrice": 1119.98}
        ]
    }"#;

    #[test]
    fn reads_invoice_lines_exactly() {
        let lines = Connector.parse_invoice(INVOICE).unwrap();
        assert_eq!(lines.len(), 4);
        let m365 = &lines[0];
        assert_eq!(m365.document, "INV-10455");
        assert_eq!(m365.reference.as_deref(), Some("SO-Q-1001"));
        assert_eq!(m365.customer.as_deref(), Some("CUST-0042"));
        assert_eq!(m365.part_number, "M365-BP");
        assert_eq!(m365.description, "Microsoft 365 Business Premium");
        assert_eq!(m365.quantity.to_string(), "25");
        assert_eq!(
            m365.unit_price.map(|p| p.to_string()).as_deref(),
            Some("22.00")
        );
        assert_eq!(m365.amount.to_string(), "550.00");
        assert_eq!(m365.date, Some(day("2027-02-01")));
        // The invoice prints the last day billed; Tenor's period ends the day after.
        assert_eq!(
            (m365.period_start, m365.period_end),
            (Some(day("2027-02-01")), Some(day("2027-03-01")))
        );
        assert_eq!(m365.billing.as_deref(), Some("monthly"));
        let datto = &lines[2];
        assert_eq!(datto.quantity.to_string(), "1500.5");
        assert_eq!(
            datto.unit_price.map(|p| p.to_string()).as_deref(),
            Some("0.033333")
        );
        assert_eq!(datto.amount.to_string(), "50.02");
        assert_eq!(
            lines[3].unit_price.map(|p| p.to_string()).as_deref(),
            Some("40.00")
        );
        assert_eq!(lines[3].amount.to_string(), "1119.98");
        assert_eq!(lines[1].period_start, None);
    }

    #[test]
    fn reads_a_list_of_invoices_with_products() {
        let text = r#"[
            {"invoiceNumber": "INV-10401", "type": "Standard", "date": "2026-12-07T00:00:00Z", "company": {"id": 78},
             "subtotal": 7046.20, "total": 7046.20,
             "products": [
                {"catalogItem": {"identifier": "ONBOARDING"}, "quantity": 1, "price": 1000.00, "description": "New customer onboarding"},
                {"catalogItem": {"identifier": "DELL-LAT5550"}, "quantity": 4, "price": 1237.80},
                {"catalogItem": {"identifier": "DELL-WD22TB4"}, "quantity": 4, "price": 273.75}
             ]},
            {"invoiceNumber": "INV-10402", "customerPO": "SO-Q-1001", "company": "Bayview Family Dental", "subtotal": 0, "lines": []}
        ]"#;
        let lines = Connector.parse_invoice(text).unwrap();
        assert_eq!(lines.len(), 3);
        // No stated amount: quantity × price, exactly.
        assert_eq!(lines[1].amount.to_string(), "4951.20");
        assert_eq!(lines[0].customer.as_deref(), Some("78"));
        assert_eq!(lines[0].reference, None);
        assert_eq!(lines[0].description, "New customer onboarding");
        assert_eq!(lines[2].part_number, "DELL-WD22TB4");
    }

    #[test]
    fn invoice_lines_must_add_up_to_the_subtotal() {
        let text = INVOICE.replace("\"subtotal\": 1795.00", "\"subtotal\": 1795.01");
        let err = Connector.parse_invoice(&text).unwrap_err().to_string();
        assert_eq!(
            err,
            "invoice INV-10455: its lines sum to 1795.00 but its subtotal is 1795.01"
        );
    }

    #[test]
    fn unreadable_invoices_are_errors_that_say_where() {
        let no_lines = r#"{"invoiceNumber": "INV-1", "company": {"id": 1}, "subtotal": 10.00}"#;
        assert!(
            Connector
                .parse_invoice(no_lines)
                .unwrap_err()
                .to_string()
                .contains("INV-1 has no line detail")
        );
        let no_number = r#"{"company": {"id": 1}, "lines": []}"#;
        assert!(
            Connector
                .parse_invoice(no_number)
                .unwrap_err()
                .to_string()
                .contains("invoiceNumber")
        );
        let bad_money = r#"{"invoiceNumber": "INV-2", "lines": [{"product": {"identifier": "X"}, "quantity": 1, "amount": true}]}"#;
        let err = Connector.parse_invoice(bad_money).unwrap_err().to_string();
        assert_eq!(err, "invoice INV-2 line 1: `amount` is not a number");
        let no_product = r#"{"invoiceNumber": "INV-3", "lines": [{"quantity": 1, "amount": 5}]}"#;
        assert!(
            Connector
                .parse_invoice(no_product)
                .unwrap_err()
                .to_string()
                .contains("INV-3 line 1")
        );
        assert!(Connector.parse_invoice("not json").is_err());
    }

    #[test]
    fn detects_invoices_and_its_own_documents() {
        assert!(Connector.detect(INVOICE));
        assert!(Connector.detect(r#"[{"invoiceNumber": "INV-1", "customerPO": "SO-Q-1"}]"#));
        for r in Connector.render_sales(&q1001()).unwrap() {
            assert!(Connector.detect(&r.body), "{}", r.name);
        }
        // A Pax8 invoice, an Ingram invoice, Tenor's own sales order, not JSON.
        assert!(!Connector.detect(
            r#"[{"companyId": "c1", "subscriptionId": "s1", "startPeriod": "2026-12-01"}]"#
        ));
        assert!(
            !Connector.detect(
                r#"{"invoiceNumber": "1", "customerOrderNumber": "SO-Q-1001", "lines": []}"#
            )
        );
        assert!(!Connector.detect(Q1001_SALES_ORDER));
        assert!(!Connector.detect("invoiceNumber,company"));
        assert!(!Connector.detect("[]"));
    }
}
