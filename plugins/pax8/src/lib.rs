//! Tenor's Pax8 connector. A purchase order becomes the body of Pax8's `POST /orders`
//! (plugins/pax8/README.md lists every field and where it comes from); orders, subscriptions
//! and invoice items are read back in the shapes Pax8's Partner API answers with.
//!
//! `billingTerm` is how often Pax8 bills, `commitmentTermId` the commitment (a uuid the rules
//! give per term): the two are never taken from one field, so a P1Y licence billed monthly is
//! sent as `Monthly` with the 1-Year commitment, never as `Annual`. Every id Pax8 needs and
//! Tenor does not hold comes from the rules (product, commitment) or the customer's link
//! (`company`); a missing one is refused, never replaced by a Tenor id or a part number.

mod change;
mod pull;
mod push;
mod read;

use serde_json::{Map, Value, json};
use tenor_plugin_sdk::connector::{check_purchase_order, invalid, whole_quantity};
use tenor_plugin_sdk::docs::{PurchaseOrder, PurchaseOrderLine};
use tenor_plugin_sdk::exchange::{Accounts, PullInput, PullStep, PushInput, PushStep};
use tenor_plugin_sdk::{
    Capability, InvoiceLine, OrderLine, Plugin, PluginError, PluginInfo, Rendered,
};

pub use read::{tenor_billing, tenor_commitment};

/// The Pax8 connector.
#[derive(Default)]
pub struct Pax8;

/// The account key of the customer's Pax8 company uuid (`tenor link CUSTOMER --pax8
/// company=UUID`).
pub const COMPANY: &str = "company";

/// Who places the order, in Pax8's enum (`Pax8 Partner`|`Customer`|`Pax8`): the MSP.
const ORDERED_BY: &str = "Pax8 Partner";

/// Tenor (term, billing) → Pax8 `billingTerm`, how often Pax8 bills (VENDORS.md, "Tenor →
/// Pax8"): `monthly` → `Monthly`, `annual` → `Annual` whatever the commitment; the whole term
/// at once (`upfront`) → `Monthly`, `Annual`, `2-Year` or `3-Year` by the term's length;
/// one-time → `One-Time`. Quarterly billing does not exist at Pax8.
pub fn billing_term(term: &str, billing: &str) -> Result<&'static str, PluginError> {
    Ok(match (term, billing) {
        ("one-time", _) => "One-Time",
        (_, "monthly") | ("P1M", "upfront") => "Monthly",
        (_, "annual") | ("P1Y" | "P12M", "upfront") => "Annual",
        ("P2Y" | "P24M", "upfront") => "2-Year",
        ("P3Y" | "P36M", "upfront") => "3-Year",
        (term, billing) => {
            return Err(invalid(format!(
                "Pax8 has no billing term for a `{term}` commitment billed `{billing}`"
            )));
        }
    })
}

/// True for a uuid in its 8-4-4-4-12 hexadecimal form.
pub(crate) fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The customer's Pax8 company uuid, from its link: never Tenor's customer id.
pub(crate) fn company_id<'a>(
    accounts: &'a Accounts,
    po: &PurchaseOrder,
) -> Result<&'a str, PluginError> {
    match accounts.get(COMPANY) {
        Some(id) if is_uuid(id) => Ok(id),
        Some(id) => Err(invalid(format!(
            "customer `{}`: its Pax8 company id `{id}` is not a uuid; link it with `tenor link {} \
             --pax8 company=<uuid>` (the company's id in Pax8, `GET /companies`)",
            po.customer.id, po.customer.id
        ))),
        None => Err(invalid(format!(
            "customer `{}` has no Pax8 company: link it with `tenor link {} --pax8 \
             company=<uuid>` (the company's id in Pax8, `GET /companies`); Tenor's customer id \
             is never sent in its place",
            po.customer.id, po.customer.id
        ))),
    }
}

/// One `lineItems[]` entry of the order body.
fn line_item(l: &PurchaseOrderLine) -> Result<Value, PluginError> {
    let at = format!("line {} ({})", l.line, l.product);
    let product = match l.distributor_product_id.as_deref() {
        Some(id) if is_uuid(id) => id,
        Some(id) => {
            return Err(invalid(format!(
                "{at}: Pax8 product id `{id}` is not a uuid"
            )));
        }
        None => {
            return Err(invalid(format!(
                "{at}: no Pax8 product id; give it in the rules: `bought via pax8 as \"{}\" id \
                 \"<uuid>\"` (a part number is never sent in its place)",
                l.part_number
            )));
        }
    };
    let billing = billing_term(&l.term, &l.billing).map_err(|e| invalid(format!("{at}: {e}")))?;
    let mut item = Map::new();
    item.insert("lineItemNumber".into(), json!(l.line));
    item.insert("productId".into(), json!(product));
    item.insert(
        "quantity".into(),
        Value::Number(whole_quantity(l, "Pax8 orders whole units")?),
    );
    item.insert("billingTerm".into(), json!(billing));
    if l.term != "one-time" {
        let Some(commitment) = l.commitment_term_id.as_deref() else {
            return Err(invalid(format!(
                "{at}: no Pax8 commitment id for {}; give it in the rules: `commitment {} via \
                 pax8 id \"<uuid>\"` (Pax8 refuses NCE orders without one)",
                l.term, l.term
            )));
        };
        if !is_uuid(commitment) {
            return Err(invalid(format!(
                "{at}: Pax8 commitment id `{commitment}` is not a uuid"
            )));
        }
        item.insert("commitmentTermId".into(), json!(commitment));
    }
    Ok(Value::Object(item))
}

/// The body of `POST /orders` for a purchase order, every problem reported at once.
pub fn order_body(po: &PurchaseOrder, accounts: &Accounts) -> Result<Value, PluginError> {
    check_purchase_order(po, "pax8")?;
    let mut problems = tenor_plugin_sdk::connector::Problems::default();
    let company = problems.note(company_id(accounts, po));
    let items: Vec<Option<Value>> = po
        .lines
        .iter()
        .map(|l| problems.note(line_item(l)))
        .collect();
    let items: Option<Vec<Value>> = items.into_iter().collect();
    let body = company.zip(items).map(|(company, items)| {
        json!({
            "companyId": company,
            "orderedBy": ORDERED_BY,
            "lineItems": items,
        })
    });
    problems.or_value(body)
}

impl Plugin for Pax8 {
    fn info(&self) -> PluginInfo {
        PluginInfo::distributor(
            "pax8",
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
        .with_link_keys(&[COMPANY])
    }

    fn render_purchase_order(&self, po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        let body = order_body(po, &po.customer.accounts)?;
        Ok(vec![Rendered::json(
            format!("{}.pax8-order", po.id),
            &body,
        )?])
    }

    fn parse_order(&self, text: &str) -> Result<Vec<OrderLine>, PluginError> {
        let v: Value = tenor_plugin_sdk::connector::read_json(text, "a Pax8 order")?;
        read::order_lines(&v)
    }

    fn parse_invoice(&self, text: &str) -> Result<Vec<InvoiceLine>, PluginError> {
        let v: Value = tenor_plugin_sdk::connector::read_json(text, "JSON")?;
        let invoice = v
            .get("invoiceId")
            .and_then(Value::as_str)
            .unwrap_or("pax8-invoice")
            .to_string();
        read::invoice_items(&invoice, &v)
    }

    fn detect(&self, text: &str) -> bool {
        read::detect(text)
    }

    fn push_step(&self, input: &PushInput) -> Result<PushStep, PluginError> {
        push::step(input)
    }

    fn pull_step(&self, input: &PullInput) -> Result<PullStep, PluginError> {
        pull::step(input)
    }
}

tenor_plugin_sdk::export_plugin!(Pax8);

#[cfg(test)]
mod stage_tests;
#[cfg(test)]
mod tests;
