//! Tenor's Ingram Micro connector. Purchase orders become reseller API v6 order-create bodies;
//! those bodies and Ingram's invoice details are read back for the three-way match.
//!
//! Ingram has no idempotency key, so the Tenor purchase order id travels in
//! `customerOrderNumber` (Ingram's searchable field) and each line keeps the purchase order's
//! line number as `customerLineNumber`: together they are Ingram's match key. Ingram's limits
//! (35-character order number, 40-character company name, 18-character part number, 884 lines,
//! whole quantities) are checked when rendering and reported, never truncated. Each vendor field
//! is filled by one mapping function so a choice is easy to find and change.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};
use tenor_plugin_sdk::connector::{
    Problems, check_purchase_order, date_prefix, invalid, read_json, whole_quantity,
};
use tenor_plugin_sdk::docs::{PurchaseOrder, PurchaseOrderLine};
use tenor_plugin_sdk::exchange::{Accounts, PullInput, PullStep, PushInput, PushStep};
use tenor_plugin_sdk::{
    Capability, InvoiceLine, OrderLine, Plugin, PluginError, PluginInfo, Rendered,
};

pub mod address;
mod api;
mod read;

/// The distributor name this connector serves in rule files.
pub const DISTRIBUTOR: &str = "ingram";
/// Longest `customerOrderNumber` Ingram accepts.
pub const MAX_ORDER_NUMBER: usize = 35;
/// Longest `endUserInfo.companyName` Ingram accepts.
pub const MAX_COMPANY_NAME: usize = 40;
/// Longest `ingramPartNumber`.
pub const MAX_PART_NUMBER: usize = 18;
/// Most lines in one order: `customerLineNumber` runs from 1 to 884.
pub const MAX_LINES: u32 = 884;

/// The Ingram Micro connector.
#[derive(Default)]
pub struct Connector;

/// Ingram Micro reseller API v6 order-create body.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// The Tenor purchase order id (Ingram's only required field, and its searchable one).
    pub customer_order_number: String,
    /// The Tenor sales order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_customer_order_number: Option<String>,
    /// Free text for Ingram's order desk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Whether Ingram may back-order what is out of stock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_back_order: Option<bool>,
    /// The end customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_user_info: Option<EndUserInfo>,
    /// The lines.
    #[serde(default)]
    pub lines: Vec<OrderBodyLine>,
}

/// The end customer of an order, sent only when the customer's address is known (from the
/// customer's Ingram link, see [`address`]): Ingram's US and Canadian ERP refuse end-user info
/// without address line, city, state and postal code.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EndUserInfo {
    /// Ingram's id of the end user, if the link gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_user_id: Option<String>,
    /// A contact person (at most 70 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The customer's name (at most 40 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// Street address (at most 70 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<String>,
    /// Second address line (at most 70 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    /// City (at most 25 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or province code (at most 3 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Postal code (at most 10 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO country code (at most 10 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A line of an order-create body.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OrderBodyLine {
    /// Our own line reference: a numeric string from 1 to 884.
    pub customer_line_number: String,
    /// Ingram's part number (at most 18 characters).
    pub ingram_part_number: String,
    /// Units, a whole number (kept as the JSON number's text).
    pub quantity: Number,
    /// The unit price requested (Ingram does not guarantee it), as an exact JSON number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Number>,
}

/// Ingram Micro invoice details, the fields this connector reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    /// Ingram's invoice number.
    pub invoice_number: String,
    /// Invoice date (`YYYY-MM-DD`, or a date-time whose first ten characters are one).
    #[serde(default)]
    pub invoice_date: Option<String>,
    /// The order number we sent: the Tenor purchase order id.
    #[serde(default)]
    pub customer_order_number: Option<String>,
    /// Ingram's own order number.
    #[serde(default)]
    pub ingram_order_number: Option<String>,
    /// The lines.
    pub lines: Vec<InvoiceDetailLine>,
    /// Totals of the invoice.
    #[serde(default)]
    pub summary: Option<Summary>,
}

/// A line of Ingram invoice details.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceDetailLine {
    /// The line number we sent.
    #[serde(default)]
    pub customer_line_number: Option<String>,
    /// Ingram's part number.
    pub ingram_part_number: String,
    /// The manufacturer's part number.
    #[serde(default)]
    pub vendor_part_number: Option<String>,
    /// Units invoiced (a whole number).
    pub quantity: Number,
    /// Price of one unit.
    #[serde(default)]
    pub unit_price: Option<Number>,
    /// Amount of the line before tax.
    pub extended_price: Number,
    /// Tax on the line.
    #[serde(default)]
    pub tax_amount: Option<Number>,
    /// ISO 4217 code.
    #[serde(default)]
    pub currency_code: Option<String>,
    /// Serial numbers shipped: `[{"serialNumber": "…"}]` (or bare strings); null when none.
    #[serde(default)]
    pub serial_numbers: Option<Vec<Value>>,
    /// What the product is.
    #[serde(default)]
    pub product_description: Option<String>,
}

/// The `summary` of Ingram invoice details.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The invoice's totals.
    #[serde(default)]
    pub totals: Option<Totals>,
}

/// `summary.totals` of Ingram invoice details.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Sum of the lines' `extendedPrice`.
    #[serde(default)]
    pub net_invoice_amount: Option<Number>,
    /// Tax of the invoice.
    #[serde(default)]
    pub total_tax_amount: Option<Number>,
    /// Freight charged.
    #[serde(default)]
    pub freight_amount: Option<Number>,
    /// What is due.
    #[serde(default)]
    pub invoiced_amount_due: Option<Number>,
}

/// `customerOrderNumber`: the Tenor purchase order id, so the order can be found at Ingram by
/// our own number. Refused when longer than Ingram takes: a cut id would no longer match.
pub fn customer_order_number(po: &PurchaseOrder) -> Result<String, PluginError> {
    let n = po.id.chars().count();
    if po.id.trim().is_empty() {
        return Err(invalid(
            "the purchase order has no id to send as `customerOrderNumber`",
        ));
    }
    if n > MAX_ORDER_NUMBER {
        return Err(invalid(format!(
            "purchase order id `{}` has {n} characters; Ingram Micro's `customerOrderNumber` takes at most {MAX_ORDER_NUMBER}, and a shortened id would no longer match the purchase order",
            po.id
        )));
    }
    Ok(po.id.clone())
}

/// `endCustomerOrderNumber`: the Tenor sales order id (what the end customer bought).
fn end_customer_order_number(po: &PurchaseOrder) -> String {
    po.sales_order.clone()
}

/// `notes`: the quote and the customer's id, for a person at Ingram's order desk, and the
/// metered parts bought on usage: Ingram's order lines take whole quantities only, so those
/// are not lines of the order.
fn notes(po: &PurchaseOrder) -> String {
    let mut text = format!("Tenor quote {} for customer {}", po.quote, po.customer.id);
    if !po.usage.is_empty() {
        let parts: Vec<&str> = po.usage.iter().map(|u| u.part_number.as_str()).collect();
        text.push_str(&format!(
            "; metered, billed on usage (not ordered here): {}",
            parts.join(", ")
        ));
    }
    text
}

/// `acceptBackOrder`: always true. A hardware line out of stock should ship late rather than
/// fail the whole order; late or partial shipments show up in the three-way match.
fn accept_back_order() -> bool {
    true
}

/// `endUserInfo`: the customer's name and address, only when the customer's Ingram link gives
/// an address ([`address::end_user`]). A name longer than Ingram takes is refused rather than
/// cut: the end-user name may be what warranties and licences are registered to, so it must be
/// one the MSP chose (shorten the customer's name on the quote).
pub fn end_user_info(
    po: &PurchaseOrder,
    accounts: &Accounts,
) -> Result<Option<EndUserInfo>, PluginError> {
    let name = po.customer.name.trim();
    let n = name.chars().count();
    if n > MAX_COMPANY_NAME {
        return Err(invalid(format!(
            "customer name `{name}` has {n} characters; Ingram Micro's `endUserInfo.companyName` takes at most {MAX_COMPANY_NAME}: shorten the customer's name on the quote"
        )));
    }
    address::end_user(name, accounts)
}

/// `customerLineNumber`: the purchase order's line number, so Ingram's invoice lines can be
/// matched back to ours.
fn customer_line_number(l: &PurchaseOrderLine) -> Result<String, PluginError> {
    if !(1..=MAX_LINES).contains(&l.line) {
        return Err(invalid(format!(
            "line {}: Ingram Micro's `customerLineNumber` runs from 1 to {MAX_LINES}",
            l.line
        )));
    }
    Ok(l.line.to_string())
}

/// `ingramPartNumber`: the part number from the rules (`bought via ingram as "…"`).
pub fn ingram_part_number(l: &PurchaseOrderLine) -> Result<String, PluginError> {
    let part = l.part_number.trim();
    let n = part.chars().count();
    if part.is_empty() {
        return Err(invalid(format!(
            "line {} ({}): no Ingram Micro part number; give one with `bought via ingram as \"…\"`",
            l.line, l.product
        )));
    }
    if n > MAX_PART_NUMBER {
        return Err(invalid(format!(
            "line {} ({}): part number `{part}` has {n} characters; Ingram Micro's `ingramPartNumber` takes at most {MAX_PART_NUMBER}",
            l.line, l.product
        )));
    }
    Ok(part.to_string())
}

/// `quantity`: Ingram takes whole units only, so a fraction is refused rather than rounded.
fn quantity(l: &PurchaseOrderLine) -> Result<Number, PluginError> {
    whole_quantity(l, "Ingram Micro orders whole units")
}

/// `unitPrice`: the unit cost the rules state, requested as an exact JSON number, only when
/// the customer's Ingram link says `unit_price=request`: Ingram honours a requested price only
/// with a price-request setup on the reseller's account, and otherwise prices the line itself.
fn unit_price(l: &PurchaseOrderLine, accounts: &Accounts) -> Result<Option<Number>, PluginError> {
    if accounts.get(UNIT_PRICE_KEY).map(String::as_str) != Some("request") {
        return Ok(None);
    }
    l.unit_cost
        .map(|c| number(c, &format!("line {}: unit cost", l.line)))
        .transpose()
}

/// The link key that asks for the rules' unit costs as `unitPrice`.
pub const UNIT_PRICE_KEY: &str = "unit_price";

/// One order-body line, or `None` with every reason it cannot be one noted.
fn body_line(
    l: &PurchaseOrderLine,
    accounts: &Accounts,
    problems: &mut Problems,
) -> Option<OrderBodyLine> {
    let number = problems.note(customer_line_number(l));
    let part = problems.note(ingram_part_number(l));
    let quantity = problems.note(quantity(l));
    let unit_price = problems.note(unit_price(l, accounts));
    Some(OrderBodyLine {
        customer_line_number: number?,
        ingram_part_number: part?,
        quantity: quantity?,
        unit_price: unit_price?,
    })
}

/// The `POST /resellers/v6/orders` body for a purchase order, with the customer's Ingram link
/// (`accounts`): every problem found at once, nothing cut or guessed. It never sets
/// `allowDuplicateCustomerOrderNumber`: Ingram's refusal of a second order with the same
/// `customerOrderNumber` is what keeps a resumed push from ordering twice.
pub fn order_body(po: &PurchaseOrder, accounts: &Accounts) -> Result<Order, PluginError> {
    check_purchase_order(po, DISTRIBUTOR)?;
    if po.lines.len() > MAX_LINES as usize {
        return Err(invalid(format!(
            "purchase order `{}` has {} lines; Ingram Micro takes at most {MAX_LINES} in one order: split the quote",
            po.id,
            po.lines.len()
        )));
    }
    let mut problems = Problems::default();
    let customer_order_number = problems.note(customer_order_number(po));
    let end_user_info = problems.note(end_user_info(po, accounts)).flatten();
    let mut lines = Vec::with_capacity(po.lines.len());
    for l in &po.lines {
        lines.extend(body_line(l, accounts, &mut problems));
    }
    Ok(Order {
        customer_order_number: problems.or_value(customer_order_number)?,
        end_customer_order_number: Some(end_customer_order_number(po)),
        notes: Some(notes(po)),
        accept_back_order: Some(accept_back_order()),
        end_user_info,
        lines,
    })
}

impl Plugin for Connector {
    fn info(&self) -> PluginInfo {
        PluginInfo::distributor(
            DISTRIBUTOR,
            env!("CARGO_PKG_VERSION"),
            &[
                Capability::RenderPurchaseOrder,
                Capability::ParseOrder,
                Capability::ParseInvoice,
                Capability::Detect,
                Capability::Push,
                Capability::Pull,
            ],
        )
        .with_link_keys(&address::link_keys())
    }

    fn render_purchase_order(&self, po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        let order = order_body(po, &po.customer.accounts)?;
        Ok(vec![Rendered::json(
            format!("{}.ingram-order", po.id),
            &order,
        )?])
    }

    fn parse_order(&self, text: &str) -> Result<Vec<OrderLine>, PluginError> {
        let v: Value = read_json(text, "an Ingram Micro order")?;
        if let Some(lines) = read::response_lines(&v)? {
            return Ok(lines);
        }
        let order: Order = serde_json::from_value(v).map_err(|e| {
            invalid(format!(
                "not an Ingram Micro order-create body, order response or order detail: {e}"
            ))
        })?;
        read::body_lines(&order)
    }

    fn parse_invoice(&self, text: &str) -> Result<Vec<InvoiceLine>, PluginError> {
        let invoice: Invoice = read_json(text, "Ingram Micro invoice details")?;
        let mut read = read::invoice(&invoice)?;
        // A file read has no place for a warning but the lines: the first says it.
        if let (Some(w), Some(first)) = (read.warning, read.lines.first_mut()) {
            if first.description.is_empty() {
                first.description = w;
            } else {
                first.description = format!("{}; {w}", first.description);
            }
        }
        Ok(read.lines)
    }

    fn push_step(&self, input: &PushInput) -> Result<PushStep, PluginError> {
        api::push_step(input)
    }

    fn pull_step(&self, input: &PullInput) -> Result<PullStep, PluginError> {
        api::pull_step(input)
    }

    fn detect(&self, text: &str) -> bool {
        let Ok(Value::Object(o)) = serde_json::from_str::<Value>(text) else {
            return false;
        };
        let Some(Value::Array(lines)) = o.get("lines") else {
            return false;
        };
        let keyed = o.contains_key("customerOrderNumber") || o.contains_key("invoiceNumber");
        // `ingramPartNumber` is what no other vendor's document has.
        let ingram_lines = lines.iter().any(|l| l.get("ingramPartNumber").is_some());
        keyed && (ingram_lines || (lines.is_empty() && o.contains_key("customerOrderNumber")))
    }
}

/// An amount of money from a JSON number; `what` names the field in the error.
pub(crate) fn money(n: &Number, what: &str) -> Result<Decimal, PluginError> {
    tenor_plugin_sdk::json_decimal(n)
        .ok_or_else(|| invalid(format!("{what} {n} is not an exact decimal amount")))
}

/// A Decimal as a JSON number with the same digits (`1049.00` stays `1049.00`).
pub(crate) fn number(d: Decimal, what: &str) -> Result<Number, PluginError> {
    d.to_string()
        .parse()
        .map_err(|_| invalid(format!("{what} {d} cannot be written as a JSON number")))
}

/// `YYYY-MM-DD`, or a date-time starting with one.
pub(crate) fn date(text: &str) -> Option<NaiveDate> {
    date_prefix(text.trim())
}

tenor_plugin_sdk::export_plugin!(Connector);

#[cfg(test)]
mod tests {
    use super::*;

    /// The purchase order `tenor accept` writes for the example quote Q-1001: the two Dell
    /// items to order, and the metered backup storage as usage.
    const PO_Q1001: &str = r#"{
      "schema": "tenor.purchase-order/2", "id": "PO-Q-1001-ingram", "distributor": "ingram",
      "distributor_name": "Ingram Micro", "sales_order": "SO-Q-1001", "quote": "Q-1001",
      "date": "2026-11-20", "currency": "USD",
      "customer": { "id": "CUST-0042", "name": "Bayview Family Dental" },
      "lines": [
        { "line": 1, "quote_line": 6, "product": "DELL-LAT5550", "name": "Dell Latitude 5550 laptop",
          "vendor": "dell", "part_number": "7YD4KL", "quantity": "4", "term": "one-time",
          "billing": "once", "first_term_start": "2026-12-07", "first_term_end": "2026-12-07",
          "renews": false, "commitment_end": "2026-12-07", "unit_cost": "1049.00",
          "period_cost": "4196.00", "committed_cost": "4196.00" },
        { "line": 2, "quote_line": 7, "product": "DELL-WD22TB4", "name": "Dell WD22TB4 Thunderbolt dock",
          "vendor": "dell", "part_number": "5TF9KV", "quantity": "4", "term": "one-time",
          "billing": "once", "first_term_start": "2026-12-07", "first_term_end": "2026-12-07",
          "renews": false, "commitment_end": "2026-12-07", "unit_cost": "219.00",
          "period_cost": "876.00", "committed_cost": "876.00" }
      ],
      "usage": [
        { "quote_line": 3, "product": "DATTO-CLOUD", "name": "Datto Cloud Backup Storage",
          "vendor": "datto", "part_number": "DAT-CLD-GB", "metric": "storage-gb",
          "aggregation": "max", "unit": "GB", "billing": "monthly", "start": "2026-12-07",
          "commitment_end": "2027-02-01", "unit_cost": "0.02", "estimate": "1500",
          "estimated_cost": "54.19" }
      ],
      "committed_cost": "5072.00"
    }"#;

    fn po() -> PurchaseOrder {
        serde_json::from_str(PO_Q1001).unwrap()
    }

    /// The example purchase order for a customer whose Ingram link asks for the rules' unit
    /// costs as requested prices.
    fn priced_po() -> PurchaseOrder {
        let mut po = po();
        po.customer
            .accounts
            .insert(UNIT_PRICE_KEY.into(), "request".into());
        po
    }

    fn render(po: &PurchaseOrder) -> Result<String, PluginError> {
        let mut docs = Connector.render_purchase_order(po)?;
        assert_eq!(docs.len(), 1);
        Ok(docs.remove(0).body)
    }

    fn message(r: Result<impl std::fmt::Debug, PluginError>) -> String {
        match r {
            Err(PluginError::Invalid(m)) => m,
            other => panic!("expected an Invalid error, got {other:?}"),
        }
    }

    #[test]
    fn renders_the_order_create_body() {
        let docs = Connector.render_purchase_order(&po()).unwrap();
        assert_eq!(docs[0].name, "PO-Q-1001-ingram.ingram-order");
        assert_eq!(docs[0].extension, "json");
        let v: Value = serde_json::from_str(&docs[0].body).unwrap();
        // Written by hand from VENDORS.md and the spec: no end user without an address, no
        // requested price without the link asking for it, no duplicate allowance ever.
        let want = serde_json::json!({
            "customerOrderNumber": "PO-Q-1001-ingram",
            "endCustomerOrderNumber": "SO-Q-1001",
            "notes": "Tenor quote Q-1001 for customer CUST-0042; metered, billed on usage (not ordered here): DAT-CLD-GB",
            "acceptBackOrder": true,
            "lines": [
                {"customerLineNumber": "1", "ingramPartNumber": "7YD4KL", "quantity": 4},
                {"customerLineNumber": "2", "ingramPartNumber": "5TF9KV", "quantity": 4}
            ]
        });
        assert_eq!(v, want);
        assert!(!docs[0].body.contains("allowDuplicateCustomerOrderNumber"));
        // Quantities are JSON integers.
        assert!(
            docs[0].body.contains(r#""quantity": 4"#),
            "{}",
            docs[0].body
        );
        assert!(Connector.detect(&docs[0].body));
    }

    #[test]
    fn requested_prices_travel_as_exact_numbers_when_the_link_asks() {
        let docs = Connector.render_purchase_order(&priced_po()).unwrap();
        assert!(
            docs[0].body.contains(r#""unitPrice": 1049.00"#),
            "{}",
            docs[0].body
        );
        assert!(
            docs[0].body.contains(r#""unitPrice": 219.00"#),
            "{}",
            docs[0].body
        );
    }

    #[test]
    fn the_end_user_goes_with_its_full_address_only() {
        let mut po = po();
        for (k, v) in [
            ("address1", "1850 Bayview Ave"),
            ("city", "San Mateo"),
            ("state", "CA"),
            ("postal", "94402"),
            ("country", "US"),
        ] {
            po.customer.accounts.insert(k.into(), v.into());
        }
        let v: Value = serde_json::from_str(&render(&po).unwrap()).unwrap();
        assert_eq!(
            v["endUserInfo"],
            serde_json::json!({"companyName": "Bayview Family Dental",
                "addressLine1": "1850 Bayview Ave", "city": "San Mateo", "state": "CA",
                "postalCode": "94402", "countryCode": "US"})
        );
        po.customer.accounts.remove("postal");
        let m = message(render(&po));
        assert!(m.contains("address lacks postal"), "{m}");
    }

    #[test]
    fn render_then_parse_gives_the_purchase_order_lines_back() {
        let po = priced_po();
        let lines = Connector.parse_order(&render(&po).unwrap()).unwrap();
        assert_eq!(lines.len(), po.lines.len());
        for (got, want) in lines.iter().zip(&po.lines) {
            assert_eq!(got.reference.as_deref(), Some("PO-Q-1001-ingram"));
            assert_eq!(got.document, "PO-Q-1001-ingram");
            assert_eq!(got.line_ref, Some(want.line.to_string()));
            assert_eq!(got.part_number, want.part_number);
            assert_eq!(got.quantity, want.quantity);
            assert_eq!(got.unit_cost, want.unit_cost);
            assert_eq!(got.customer, None);
            assert_eq!(got.term, None);
        }
        // Scale survives the trip: 1049.00 is not 1049.
        assert_eq!(lines[0].unit_cost.unwrap().to_string(), "1049.00");
    }

    #[test]
    fn fine_unit_costs_travel_exactly() {
        let mut po = priced_po();
        let third = PurchaseOrderLine {
            line: 3,
            ..po.lines[1].clone()
        };
        po.lines.push(third);
        po.lines[0].unit_cost = Some("0.0375".parse().unwrap());
        po.lines[1].unit_cost = Some("12345678901234567.89".parse().unwrap());
        po.lines[2].unit_cost = None;
        let body = render(&po).unwrap();
        assert!(body.contains(r#""unitPrice": 0.0375"#));
        assert!(body.contains(r#""unitPrice": 12345678901234567.89"#));
        let lines = Connector.parse_order(&body).unwrap();
        assert_eq!(lines[0].unit_cost.unwrap().to_string(), "0.0375");
        assert_eq!(
            lines[1].unit_cost.unwrap().to_string(),
            "12345678901234567.89"
        );
        assert_eq!(lines[2].unit_cost, None);
        assert!(
            !serde_json::from_str::<Value>(&body).unwrap()["lines"][2]
                .as_object()
                .unwrap()
                .contains_key("unitPrice")
        );
    }

    #[test]
    fn an_order_number_over_35_characters_is_refused() {
        let mut po = po();
        po.id = "PO-Q-2026-000123-ingram-micro-north".into(); // 35: fits
        assert!(render(&po).is_ok());
        po.id.push('x');
        let m = message(render(&po));
        assert!(
            m.contains("36 characters") && m.contains("at most 35"),
            "{m}"
        );
    }

    #[test]
    fn a_company_name_over_40_characters_is_refused_not_cut() {
        let mut po = po();
        po.customer.name = "Bayview Family Dental Associates of Mari".into(); // 40
        assert!(render(&po).is_ok());
        po.customer.name.push('n');
        let m = message(render(&po));
        assert!(m.contains("companyName") && m.contains("at most 40"), "{m}");
    }

    #[test]
    fn a_part_number_over_18_characters_is_refused() {
        let mut po = po();
        po.lines[0].part_number = "ABCDEFGHIJKLMNOPQR".into(); // 18
        assert!(render(&po).is_ok());
        po.lines[0].part_number.push('S');
        let m = message(render(&po));
        assert!(
            m.contains("line 1 (DELL-LAT5550)")
                && m.contains("19 characters")
                && m.contains("at most 18"),
            "{m}"
        );
        po.lines[1].part_number = String::new();
        assert!(
            message(render(&po)).contains("line 2 (DELL-WD22TB4): no Ingram Micro part number")
        );
    }

    #[test]
    fn at_most_884_lines() {
        let mut po = po();
        let template = po.lines[0].clone();
        po.lines = (1..=MAX_LINES)
            .map(|n| PurchaseOrderLine {
                line: n,
                ..template.clone()
            })
            .collect();
        let body = render(&po).unwrap();
        let lines = Connector.parse_order(&body).unwrap();
        assert_eq!(lines.len(), 884);
        assert_eq!(lines[883].line_ref.as_deref(), Some("884"));
        po.lines.push(PurchaseOrderLine {
            line: 885,
            ..template
        });
        let m = message(render(&po));
        assert!(m.contains("885 lines") && m.contains("at most 884"), "{m}");
    }

    #[test]
    fn a_line_number_beyond_884_is_refused() {
        let mut po = po();
        po.lines[1].line = 885;
        assert!(
            message(render(&po))
                .contains("line 885: Ingram Micro's `customerLineNumber` runs from 1 to 884")
        );
    }

    #[test]
    fn quantities_must_be_whole() {
        let mut po = po();
        po.lines[0].quantity = "4.00".parse().unwrap();
        let v: Value = serde_json::from_str(&render(&po).unwrap()).unwrap();
        assert_eq!(v["lines"][0]["quantity"].to_string(), "4");
        po.lines[0].quantity = "2.5".parse().unwrap();
        po.lines[1].quantity = Decimal::ZERO;
        let m = message(render(&po));
        // Both problems are reported at once.
        assert!(
            m.contains("line 1 (DELL-LAT5550): quantity 2.5 is not a whole number"),
            "{m}"
        );
        assert!(
            m.contains("line 2 (DELL-WD22TB4): quantity 0 is not a whole number"),
            "{m}"
        );
    }

    #[test]
    fn a_purchase_order_for_another_distributor_or_without_lines_is_refused() {
        let mut po = po();
        po.lines.clear();
        assert!(message(render(&po)).contains("has no lines"));
        po.distributor = "pax8".into();
        assert!(message(render(&po)).contains("for distributor `pax8`, not `ingram`"));
    }

    #[test]
    fn parse_order_refuses_a_fractional_quantity_and_names_the_line() {
        let text = r#"{"customerOrderNumber":"PO-1","lines":[
            {"customerLineNumber":"1","ingramPartNumber":"A1","quantity":2},
            {"customerLineNumber":"2","ingramPartNumber":"B2","quantity":1.5}]}"#;
        assert!(message(Connector.parse_order(text)).contains("order line 2 `quantity` 1.5"));
        assert!(
            message(Connector.parse_order(r#"{"lines":[]}"#))
                .contains("not an Ingram Micro order-create body")
        );
    }

    const INVOICE: &str = r#"{
      "invoiceNumber": "IM-70011234", "invoiceDate": "2026-12-09T00:00:00Z",
      "customerOrderNumber": "PO-Q-1001-ingram", "ingramOrderNumber": "20-AB123",
      "lines": [
        { "customerLineNumber": "2", "ingramPartNumber": "7YD4KL", "vendorPartNumber": "LAT5550-I7",
          "quantity": 4, "unitPrice": 1049.00, "extendedPrice": 4196.00, "taxAmount": 356.66,
          "currencyCode": "USD", "serialNumbers": ["SN1", "SN2", {"serialNumber": "SN3"}, "SN4"] },
        { "customerLineNumber": "3", "ingramPartNumber": "5TF9KV", "quantity": 4,
          "unitPrice": 219.00, "extendedPrice": 876.00, "currencyCode": "USD" },
        { "customerLineNumber": "1", "ingramPartNumber": "DAT-CLD-GB", "quantity": 1,
          "unitPrice": 0.0375, "extendedPrice": 0.10, "currencyCode": "USD" }
      ],
      "summary": { "totals": { "netInvoiceAmount": 5072.1, "totalTaxAmount": 356.66,
                               "freightAmount": 0, "invoicedAmountDue": 5428.76 } }
    }"#;

    #[test]
    fn reads_invoice_details_exactly() {
        let lines = Connector.parse_invoice(INVOICE).unwrap();
        assert_eq!(lines.len(), 3);
        let l = &lines[0];
        assert_eq!(l.document, "IM-70011234");
        assert_eq!(l.reference.as_deref(), Some("PO-Q-1001-ingram"));
        assert_eq!(l.part_number, "7YD4KL");
        assert_eq!(l.quantity, Decimal::from(4));
        assert_eq!(l.amount.to_string(), "4196.00");
        assert_eq!(l.unit_price.unwrap().to_string(), "1049.00");
        assert_eq!(l.date, NaiveDate::from_ymd_opt(2026, 12, 9));
        assert_eq!(l.description, "line 2; vendor part LAT5550-I7");
        assert_eq!(l.serial_numbers, ["SN1", "SN2", "SN3", "SN4"]);
        assert!(lines[1].serial_numbers.is_empty());
        assert_eq!(lines[1].description, "line 3");
        assert_eq!(lines[2].unit_price.unwrap().to_string(), "0.0375");
        assert_eq!(lines[2].amount.to_string(), "0.10");
        assert!(Connector.detect(INVOICE));
    }

    #[test]
    fn a_net_amount_that_is_not_the_sum_of_the_lines_is_said_not_refused() {
        let text = INVOICE.replace("5072.1,", "5072.11,");
        let lines = Connector.parse_invoice(&text).unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0].description,
            "line 2; vendor part LAT5550-I7; invoice IM-70011234: the lines' `extendedPrice` add up to 5072.10 but `summary.totals.netInvoiceAmount` is 5072.11 (a discount or charge, or a line missing)"
        );
        assert_eq!(lines[1].description, "line 3");
        // Without a stated net amount there is nothing to check against.
        let text = INVOICE.replace(r#""netInvoiceAmount": 5072.1,"#, "");
        assert_eq!(
            Connector.parse_invoice(&text).unwrap()[0].description,
            "line 2; vendor part LAT5550-I7"
        );
    }

    #[test]
    fn invoice_errors_name_the_line_and_field() {
        let text = INVOICE.replace(r#""extendedPrice": 876.00"#, r#""extendedPrice": 1e400"#);
        assert!(message(Connector.parse_invoice(&text)).contains("line 2 `extendedPrice`"));
        let text = INVOICE.replace(
            r#""5TF9KV", "quantity": 4,"#,
            r#""5TF9KV", "quantity": 4.5,"#,
        );
        assert!(
            message(Connector.parse_invoice(&text))
                .contains("invoice IM-70011234 line 2 `quantity` 4.5")
        );
        let text = INVOICE.replacen(
            r#""currencyCode": "USD" }"#,
            r#""currencyCode": "EUR" }"#,
            1,
        );
        assert!(message(Connector.parse_invoice(&text)).contains("line 2 `currencyCode` is `EUR`"));
        let text = INVOICE.replace("2026-12-09T00:00:00Z", "09/12/2026");
        assert!(
            message(Connector.parse_invoice(&text))
                .contains("`invoiceDate` `09/12/2026` is not a date")
        );
    }

    #[test]
    fn exponent_numbers_are_read_exactly() {
        assert_eq!(
            tenor_plugin_sdk::json_decimal(&"1.05e2".parse().unwrap()),
            Some("105".parse().unwrap())
        );
        assert_eq!(
            tenor_plugin_sdk::json_decimal(&"0.1".parse().unwrap())
                .unwrap()
                .to_string(),
            "0.1"
        );
        // More digits than a Decimal holds: refused, not rounded.
        assert_eq!(
            tenor_plugin_sdk::json_decimal(&"0.12345678901234567890123456789".parse().unwrap()),
            None
        );
    }

    #[test]
    fn detects_only_ingram_documents() {
        assert!(Connector.detect(r#"{"customerOrderNumber":"PO-1","lines":[]}"#));
        assert!(!Connector.detect(r#"{"companyId":"c","lineItems":[{"productId":"p"}]}"#));
        assert!(!Connector.detect(r#"{"invoiceNumber":"I-1","lines":[{"sku":"x"}]}"#));
        assert!(!Connector.detect("invoice_number,amount\n1,2\n"));
        assert!(!Connector.detect("[]"));
    }

    #[test]
    fn info_lists_what_it_does() {
        let info = Connector.info();
        assert_eq!(info.name, "ingram");
        assert_eq!(info.distributor.as_deref(), Some("ingram"));
        assert_eq!(info.capabilities.len(), 6);
        assert!(info.capabilities.contains(&Capability::Push));
        assert!(info.capabilities.contains(&Capability::Pull));
    }
}
