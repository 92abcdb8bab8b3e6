//! The normalised documents of an accepted quote. Every document is JSON with a `schema` key
//! (`tenor.<kind>/<n>`); amounts are decimal strings so `12.30` keeps its scale; dates are
//! `YYYY-MM-DD`; periods are half-open `[start, end)`.
//!
//! These types accept fields they do not know, so that a plugin built against an older SDK
//! still reads a document that gained an optional field (see plugins/README.md, "Versions").
//! Tenor reading back a document it wrote itself (a sales order to change, a purchase order to
//! match) wants the opposite, a misspelt field refused rather than dropped: it reads with
//! [`from_str_strict`] and [`from_value_strict`].

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Schema of [`SalesOrder`].
pub const SALES_ORDER: &str = "tenor.sales-order/1";
/// Schema of [`PurchaseOrder`].
pub const PURCHASE_ORDER: &str = "tenor.purchase-order/2";
/// Schema of [`InvoiceSchedule`].
pub const INVOICE_SCHEDULE: &str = "tenor.invoice-schedule/1";
/// Schema of [`RecurringTemplate`].
pub const RECURRING_TEMPLATE: &str = "tenor.recurring-template/2";
/// Schema of [`AcceptSummary`].
pub const ACCEPT_SUMMARY: &str = "tenor.accept-summary/1";

/// Who a document is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The customer's id in the PSA.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The customer's ids at the vendor of the plugin this copy is sent to, from the record's
    /// customer links (`tenor link`). Filled by the host only in what it sends a plugin, and
    /// only with that plugin's own links; Tenor's recorded documents never carry it.
    /// Protocol 3.
    #[serde(default, skip_serializing_if = "crate::exchange::Accounts::is_empty")]
    pub accounts: crate::exchange::Accounts,
}

/// Figures of a whole quote, as core/QUOTES.md ("Figures") defines them: first invoice,
/// contract value and cost are sums of rounded charges; MRR and ARR are each rounded once from
/// the exact sum of the recurring charges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Everything billed on the earliest bill date.
    pub first_invoice: Decimal,
    /// Monthly recurring revenue: one full month of every recurring line at its full-period
    /// rate (an annual charge counts a twelfth), rounded once at the total.
    pub mrr: Decimal,
    /// Annual recurring revenue: twelve months of the same charges, rounded once (365.00 a year
    /// is 365.00; not 12 × the rounded MRR).
    pub arr: Decimal,
    /// Every charge of the commitment.
    pub contract_value: Decimal,
    /// What the commitment costs the MSP.
    pub cost: Decimal,
    /// Contract value − cost.
    pub margin: Decimal,
}

/// The accepted quote as the customer sees it: bundles as one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesOrder {
    /// Always [`SALES_ORDER`].
    pub schema: String,
    /// `SO-<quote id>`.
    pub id: String,
    /// The quote it was accepted from.
    pub quote: String,
    /// The quote's date.
    pub date: NaiveDate,
    /// ISO 4217 code.
    pub currency: String,
    /// Who bought.
    pub customer: Customer,
    /// SHA-256 of the quote and the rules it was priced with: the same fingerprint means the
    /// same documents.
    pub fingerprint: String,
    /// One line per quote line.
    pub lines: Vec<SalesOrderLine>,
    /// Figures of the whole order.
    pub totals: Totals,
}

/// A line of a sales order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesOrderLine {
    /// The quote line number (from 1).
    pub line: u32,
    /// SKU of the product or bundle.
    pub product: String,
    /// The PSA's catalogue item identifier for it (ConnectWise `catalogItem {identifier}`),
    /// when the rules give one. Protocol 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_item: Option<String>,
    /// Display name.
    pub name: String,
    /// True for a bundle.
    pub bundle: bool,
    /// Units sold.
    pub quantity: Decimal,
    /// `P1M`, `P1Y`, `P3Y`, `one-time`.
    pub term: String,
    /// `monthly`, `quarterly`, `annual`, `upfront`, or `once` for one-time lines.
    pub billing: String,
    /// The co-term policy applied, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coterm: Option<String>,
    /// Start of service.
    pub start: NaiveDate,
    /// Start of the full term (after a stub).
    pub term_start: NaiveDate,
    /// End of the commitment (exclusive): the renewal date.
    pub end: NaiveDate,
    /// List price of one unit for one billing period (for one-time lines, the unit price).
    pub unit_price: Decimal,
    /// A full billing period's charge, net of lasting discounts (0 for one-time lines).
    pub recurring: Decimal,
    /// What the first bill date bills for this line.
    pub first_charge: Decimal,
    /// Every charge of the line over the commitment.
    pub contract_value: Decimal,
    /// What the line costs the MSP over the commitment.
    pub cost: Decimal,
}

/// What is bought from one distributor: bundles exploded into components; products that are
/// not bought (labour, services) never appear.
///
/// Version 2 states each subscription as the distributor sells it. With co-terming, the
/// customer's commitment is a prorated stub plus a full term (2026-12-07 → 2027-07-01, then
/// 2027-07-01 → 2028-07-01): that is the MSP's side of the bargain, not one distributor
/// subscription. Microsoft sells no 19-month P1Y; it sells a P1Y whose first term ends on the
/// co-term date (shorter, prorated) and that renews for full years. So a line says the term
/// sold by the distributor (`term`, `P1Y`), how the distributor bills it (`billing`), the first
/// term (`first_term_start` → `first_term_end`, the co-term date), the renewal (`renews`,
/// `renewal_term`) and how long the MSP must keep renewing it to cover the customer
/// (`commitment_end`, the customer's end). Metered products are not ordered at a fixed
/// quantity: they are in [`PurchaseOrder::usage`], never in `lines`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrder {
    /// Always [`PURCHASE_ORDER`].
    pub schema: String,
    /// `PO-<quote id>-<distributor>`.
    pub id: String,
    /// The distributor's name in the rules (`pax8`).
    pub distributor: String,
    /// Its display name, if the rules give one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributor_name: Option<String>,
    /// The sales order this buys for.
    pub sales_order: String,
    /// The quote.
    pub quote: String,
    /// The quote's date.
    pub date: NaiveDate,
    /// ISO 4217 code.
    pub currency: String,
    /// The end customer.
    pub customer: Customer,
    /// What to order, each at a fixed quantity.
    pub lines: Vec<PurchaseOrderLine>,
    /// Metered products bought from this distributor: provisioned and billed on usage, so no
    /// distributor order takes them at a fixed quantity. A connector leaves them off the
    /// vendor's order (none of Pax8, Ingram Micro or TD SYNNEX takes a usage line).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage: Vec<PurchaseUsageLine>,
    /// The sum of the lines' `committed_cost` (usage is paid as used, never committed).
    pub committed_cost: Decimal,
}

/// One line of a purchase order: a subscription (or a one-time item) at a fixed quantity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderLine {
    /// Line number within this purchase order (from 1).
    pub line: u32,
    /// The quote line it comes from.
    pub quote_line: u32,
    /// The bundle it was exploded from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    /// SKU.
    pub product: String,
    /// Display name.
    pub name: String,
    /// Vendor name in the rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The distributor's part number.
    pub part_number: String,
    /// The distributor's own product id (Pax8 uuid…), if the rules give one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributor_product_id: Option<String>,
    /// The vendor's catalogue id (Microsoft `productId:skuId`), if the rules give one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<String>,
    /// Units to buy.
    pub quantity: Decimal,
    /// The distributor's commitment: the length of one full term (`P1M`, `P1Y`, `P3Y`), or
    /// `one-time`. The first term may be shorter (co-termed); it is never longer.
    pub term: String,
    /// How the distributor bills: `monthly`, `quarterly`, `annual`, `upfront` (the whole term
    /// at its start), `once` for one-time items.
    pub billing: String,
    /// Provisioning start: the first day of the first term.
    pub first_term_start: NaiveDate,
    /// Day after the first term's last day: the co-term date when the first term is a
    /// prorated stub, else `first_term_start` + `term` (equal to `first_term_start` for a
    /// one-time item).
    pub first_term_end: NaiveDate,
    /// True when the subscription renews at `first_term_end` (every subscription; never a
    /// one-time item).
    pub renews: bool,
    /// The length of each renewal term, when it renews: the full `term`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_term: Option<String>,
    /// End of the customer's commitment (exclusive): the MSP keeps the subscription, renewing
    /// it at `first_term_end` and each `renewal_term` after, until this day. Equal to
    /// `first_term_end` when the first term covers the customer's whole commitment.
    pub commitment_end: NaiveDate,
    /// The distributor's id of the commitment bought (Pax8's `commitmentTermId`, which NCE
    /// products require beside the billing term), when the rules give one. Added in protocol 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment_term_id: Option<String>,
    /// The distributor's SKU id of the product (TD SYNNEX `skuId`), when the rules give one.
    /// Protocol 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku_id: Option<String>,
    /// The distributor's plan id for this term and billing (TD SYNNEX `planId`), when the
    /// rules give one. Protocol 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// Cost of one unit for one distributor billing period, when the rules state it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_cost: Option<Decimal>,
    /// Cost of the line for one full distributor billing period (`quantity` × `unit_cost`,
    /// rounded once), when the rules state a cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_cost: Option<Decimal>,
    /// What the MSP commits to the distributor for: the cost of the line over
    /// [`first_term_start`, `commitment_end`), the prorated first term and the renewals that
    /// cover the customer's commitment, each period's share at `unit_cost`, rounded per period.
    pub committed_cost: Decimal,
}

/// A metered product bought from a distributor: provisioned, then billed by the distributor on
/// what is used, so it has no quantity to order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseUsageLine {
    /// The quote line it comes from.
    pub quote_line: u32,
    /// The bundle it was exploded from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    /// SKU.
    pub product: String,
    /// Display name.
    pub name: String,
    /// Vendor name in the rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The distributor's part number.
    pub part_number: String,
    /// The distributor's own product id, if the rules give one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributor_product_id: Option<String>,
    /// The usage metric (`storage-gb`).
    pub metric: String,
    /// How a billing period's records are aggregated: `sum`, `max` or `last`.
    pub aggregation: String,
    /// The unit measured (`GB`), if the rules say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// How the distributor bills the usage, in arrears (`monthly`).
    pub billing: String,
    /// First day of service.
    pub start: NaiveDate,
    /// End of the customer's commitment (exclusive).
    pub commitment_end: NaiveDate,
    /// Cost of one unit used for one billing period, when the rules state it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_cost: Option<Decimal>,
    /// The quote's usage estimate for one billing period, if it gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Decimal>,
    /// The estimate's cost over the commitment (not committed: usage is paid as used).
    pub estimated_cost: Decimal,
}

/// When a charge is billed relative to its period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// At the period's start (licences, services).
    Advance,
    /// At the period's end (usage).
    Arrears,
    /// Once (hardware, labour, fees).
    Once,
}

/// Every charge the customer will be billed over the commitment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceSchedule {
    /// Always [`INVOICE_SCHEDULE`].
    pub schema: String,
    /// `SCHED-<quote id>`.
    pub id: String,
    /// The sales order.
    pub sales_order: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Who is billed.
    pub customer: Customer,
    /// Charges by bill date, then quote line.
    pub charges: Vec<ScheduledCharge>,
    /// The sum of every charge.
    pub total: Decimal,
}

/// One charge of an invoice schedule. (A schedule can hold millions of charges: the SKU is
/// shared and the kind borrowed, so building one does not allocate per charge.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledCharge {
    /// The quote line.
    pub line: u32,
    /// SKU.
    pub product: std::sync::Arc<str>,
    /// `stub`, `recurring`, `one_time`, `usage`, `discount`, `minimum_true_up`; seat changes add
    /// `prorated`, `refund` and `reduction`.
    pub kind: std::borrow::Cow<'static, str>,
    /// First day covered.
    pub period_start: NaiveDate,
    /// Day after the last day covered.
    pub period_end: NaiveDate,
    /// When it is billed.
    pub bill_date: NaiveDate,
    /// In advance, in arrears or once.
    pub timing: Timing,
    /// Amount (negative for discounts).
    pub amount: Decimal,
    /// Cost to the MSP.
    pub cost: Decimal,
    /// The discount rule, for discounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<std::sync::Arc<str>>,
}

/// The customer's recurring lines, as a PSA's recurring agreement holds them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecurringTemplate {
    /// Always [`RECURRING_TEMPLATE`].
    pub schema: String,
    /// `RT-<quote id>`.
    pub id: String,
    /// The sales order.
    pub sales_order: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Who is billed.
    pub customer: Customer,
    /// One line per recurring quote line.
    pub lines: Vec<RecurringLine>,
    /// Monthly recurring revenue of the template: the quote's MRR (see [`Totals::mrr`]).
    pub mrr: Decimal,
}

/// A recurring line of the template. Replayed over its commitment (see `core/QUOTES.md`,
/// "The recurring template") it bills exactly the invoice schedule's charges of the line, on
/// the same bill dates: the `stub` charges as stated, then `amount` for every regular period
/// from the end of the stub to `end`, each charge less every `discounts` step covering its
/// period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecurringLine {
    /// The quote line.
    pub line: u32,
    /// SKU.
    pub product: String,
    /// The PSA's catalogue item identifier (ConnectWise addition `product {identifier}`), when
    /// the rules give one. Protocol 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_item: Option<String>,
    /// What the invoice line says.
    pub description: String,
    /// Units billed; for a usage line, the quoted usage estimate per billing period.
    pub quantity: Decimal,
    /// List price of one unit for one billing period (for a tiered price, the tier's price
    /// at this quantity); absent for a usage line, which states its terms in `usage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    /// `monthly`, `quarterly`, `annual`, `upfront`.
    pub frequency: String,
    /// Months in one billing period.
    pub months: u32,
    /// Billed in advance or in arrears (usage).
    pub timing: Timing,
    /// A full period's charge before discounts (for a usage line: the estimate rated through
    /// its tiers, plus any true-up to the minimum).
    pub amount: Decimal,
    /// The first regular (full-period) bill date.
    pub next_bill_date: NaiveDate,
    /// Day of the month the regular periods start on (on the month's last day when it is
    /// shorter): periods are `[d + k × months, d + (k + 1) × months)` from the stub's end.
    pub billing_day: u32,
    /// Start of service.
    pub start: NaiveDate,
    /// End of the commitment (exclusive): when the line renews or stops.
    pub end: NaiveDate,
    /// The charges before the first regular period (the prorated stub), each as billed
    /// before discounts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stub: Vec<TemplateCharge>,
    /// Discounts with their dates: each step takes its amount off every charge of the line
    /// whose period lies in `[effective, end)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discounts: Vec<TemplateDiscount>,
    /// For a metered line: how usage is measured and rated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageTerms>,
}

/// One charge of a template line outside its regular periods (a stub).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateCharge {
    /// First day covered.
    pub period_start: NaiveDate,
    /// Day after the last day covered.
    pub period_end: NaiveDate,
    /// When it is billed.
    pub bill_date: NaiveDate,
    /// Amount before discounts.
    pub amount: Decimal,
}

/// A dated discount step of a template line: the same amount off every charge whose period
/// lies in `[effective, end)` (a time-limited offer is one step per distinct amount, e.g. a
/// prorated first and last month).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateDiscount {
    /// The discount rule, or `manual`.
    pub rule: String,
    /// Amount per charge (negative).
    pub amount: Decimal,
    /// First day of the first period it applies to.
    pub effective: NaiveDate,
    /// Day after the last day of the last period it applies to.
    pub end: NaiveDate,
}

/// How a metered line's usage is measured and rated each billing period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageTerms {
    /// The usage metric (`backup-gb`).
    pub metric: String,
    /// `sum`, `max` or `last` of the period's records.
    pub aggregation: String,
    /// Unit of measure, when the rules give one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// A flat price per unit used, for one billing period (absent when tiered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    /// The tier table, when tiered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<UsageTiers>,
    /// The minimum commitment per billing period, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Decimal>,
}

/// A tier table as a PSA's usage rating needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageTiers {
    /// The table's name in the rules.
    pub name: String,
    /// `graduated`, `volume` or `package`.
    pub mode: String,
    /// Units per block (package tables), else 1.
    pub block: Decimal,
    /// Months the prices cover (absent: one billing period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_months: Option<u32>,
    /// The rows, lowest first.
    pub rows: Vec<UsageTier>,
}

/// One row of a [`UsageTiers`] table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageTier {
    /// Inclusive upper bound; absent for the last, open tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<Decimal>,
    /// Price per unit (per block in a package table).
    pub price: Decimal,
    /// Flat fee when the tier is used.
    pub flat: Decimal,
}

/// Figures of the accepted quote, with bundle revenue allocated to components.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptSummary {
    /// Always [`ACCEPT_SUMMARY`].
    pub schema: String,
    /// `SUM-<quote id>`.
    pub id: String,
    /// The sales order.
    pub sales_order: String,
    /// ISO 4217 code.
    pub currency: String,
    /// The documents written, by id.
    pub documents: Vec<String>,
    /// First invoice, MRR, ARR, contract value, cost, margin.
    pub totals: Totals,
    /// Each bundle line's revenue split over its components.
    pub bundle_allocations: Vec<BundleAllocation>,
}

/// A bundle line's revenue allocated to its components in proportion to their standalone sell
/// prices; the rounding remainder goes to the largest share, so the parts sum exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleAllocation {
    /// The quote line.
    pub line: u32,
    /// The bundle SKU.
    pub bundle: String,
    /// The line's contract value.
    pub revenue: Decimal,
    /// The shares.
    pub components: Vec<ComponentShare>,
}

/// One component's share of a bundle line's revenue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentShare {
    /// SKU.
    pub product: String,
    /// Units of the component in the line.
    pub quantity: Decimal,
    /// Its standalone sell price for one billing period, at that quantity.
    pub standalone_price: Decimal,
    /// Its share of the revenue.
    pub revenue: Decimal,
}

/// Reads one of Tenor's own documents refusing any field its type does not have, naming it by
/// path (`lines[1].unit_cots`): the shared types ignore unknown fields for plugins' sake, but a
/// document Tenor wrote and reads back must not lose a misspelt field silently. Errors of the
/// type itself keep serde_json's line and column.
pub fn from_str_strict<T>(text: &str) -> Result<T, serde_json::Error>
where
    T: serde::de::DeserializeOwned + Serialize,
{
    let doc: T = serde_json::from_str(text)?;
    known_fields(&doc, &serde_json::from_str(text)?)?;
    Ok(doc)
}

/// [`from_str_strict`] for a document already read as JSON.
pub fn from_value_strict<T>(v: serde_json::Value) -> Result<T, serde_json::Error>
where
    T: serde::de::DeserializeOwned + Serialize,
{
    let doc: T = serde_json::from_value(v.clone())?;
    known_fields(&doc, &v)?;
    Ok(doc)
}

/// Refuses a field of `read` that `doc` does not write back. A field counts as known when it
/// survives the round trip through `T`, or when it holds a value `T` leaves out when writing
/// (`null`, `[]`, `""`).
fn known_fields<T: Serialize>(doc: &T, read: &serde_json::Value) -> Result<(), serde_json::Error> {
    match unknown_field(read, &serde_json::to_value(doc)?, String::new()) {
        Some(path) => Err(serde::de::Error::custom(format!("unknown field `{path}`"))),
        None => Ok(()),
    }
}

/// The path of the first field of `read` that `written` lacks (see [`known_fields`]).
fn unknown_field(
    read: &serde_json::Value,
    written: &serde_json::Value,
    at: String,
) -> Option<String> {
    use serde_json::Value;
    match (read, written) {
        (Value::Object(r), Value::Object(w)) => r.iter().find_map(|(k, rv)| {
            let path = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            match w.get(k) {
                Some(wv) => unknown_field(rv, wv, path),
                None if left_out(rv) => None,
                None => Some(path),
            }
        }),
        (Value::Array(r), Value::Array(w)) => r
            .iter()
            .zip(w)
            .enumerate()
            .find_map(|(i, (rv, wv))| unknown_field(rv, wv, format!("{at}[{i}]"))),
        _ => None,
    }
}

/// A value a `skip_serializing_if` leaves out when writing.
fn left_out(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::String(s) => s.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use super::*;

    const CUSTOMER: &str = r#"{"id": "C-1", "name": "Acme"}"#;

    #[test]
    fn the_shared_types_ignore_unknown_fields() {
        let c: Customer =
            serde_json::from_str(r#"{"id": "C-1", "name": "Acme", "new": 1}"#).unwrap();
        assert_eq!(c.id, "C-1");
    }

    #[test]
    fn strict_reading_names_the_unknown_field_by_path() {
        assert!(from_str_strict::<Customer>(CUSTOMER).is_ok());
        let e =
            from_str_strict::<Customer>(r#"{"id": "C-1", "name": "A", "nmae": "B"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `nmae`"), "{e}");
        let po = crate::samples::PURCHASE_ORDER;
        assert!(from_str_strict::<PurchaseOrder>(po).is_ok());
        let typo = po.replacen("\"unit_cost\"", "\"unit_cots\"", 1);
        let e = from_str_strict::<PurchaseOrder>(&typo).unwrap_err();
        assert!(
            e.to_string().contains("unknown field `lines[0].unit_cots`"),
            "{e}"
        );
    }

    #[test]
    fn strict_reading_takes_the_values_writing_leaves_out() {
        let po = crate::samples::PURCHASE_ORDER.replacen(
            "\"lines\": [",
            "\"usage\": [],\n  \"distributor_name\": null,\n  \"lines\": [",
            1,
        );
        let v: serde_json::Value = serde_json::from_str(&po).unwrap();
        assert!(from_value_strict::<PurchaseOrder>(v).is_ok());
    }
}
