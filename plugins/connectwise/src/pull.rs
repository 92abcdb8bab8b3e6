//! Pulling ConnectWise's sales orders and invoices (VENDORS.md, `model_invoice.go`,
//! `model_product_item.go`). A sales order's lines are its procurement products
//! (`GET /procurement/products?conditions=salesOrder/id=N`). An invoice has no line array and
//! no period fields: an `Agreement` invoice's lines are its agreement's billable additions
//! (`billedQuantity`, `unitPrice`, `extPrice`), a `Standard` invoice's the products it
//! invoiced (`GET /procurement/products?conditions=invoice/id=N`).

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use serde_json::Value;
use tenor_plugin_sdk::connector::{date_prefix, invalid, month_days, value_decimal};
use tenor_plugin_sdk::conversation::{Conversation, Flow};
use tenor_plugin_sdk::exchange::{Accounts, Pulled, VendorRef};
use tenor_plugin_sdk::{InvoiceLine, OrderLine, PluginError, step};

use super::{conditions, get};
use crate::COMPANY_KEY;

/// A ConnectWise record id from a stored ref.
fn ref_id(r: &VendorRef) -> Result<u64, PluginError> {
    r.id.parse()
        .map_err(|_| invalid(format!("{} ref `{}` is not a ConnectWise id", r.kind, r.id)))
}

/// A field read as an exact decimal: absent is `None`, anything else not a number an error.
fn number(x: &Value, key: &str, at: &str) -> Result<Option<Decimal>, PluginError> {
    match x.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => value_decimal(v)
            .map(Some)
            .ok_or_else(|| invalid(format!("{at}: `{key}` {v} is not an exact number"))),
    }
}

fn identifier(x: &Value, pointer: &str, at: &str) -> Result<String, PluginError> {
    x.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            invalid(format!(
                "{at} has no `{}`",
                pointer.trim_start_matches('/').replace('/', ".")
            ))
        })
}

/// A text field, empty when absent.
fn text(x: &Value, key: &str) -> String {
    x.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn list<'v>(v: &'v Value, what: &str) -> Result<&'v Vec<Value>, PluginError> {
    v.as_array()
        .ok_or_else(|| invalid(format!("{what} are not a list")))
}

/// The lines of every sales order pushed: each order (for its `poNumber`) and its products.
pub(super) fn orders(
    talk: &mut Conversation<'_>,
    pushed: &[VendorRef],
) -> Result<Flow<Pulled>, PluginError> {
    let mut pulled = Pulled::default();
    for r in pushed.iter().filter(|r| r.kind == "sales_order") {
        let id = ref_id(r)?;
        let order = get(
            format!("/sales/orders/{id}"),
            Vec::new(),
            format!("read sales order {id}"),
        );
        let order = step!(talk.read(order)?, Flow::Send);
        let products = get(
            "/procurement/products",
            conditions(format!("salesOrder/id={id}")),
            format!("read sales order {id}'s products"),
        );
        let products = step!(talk.read(products)?, Flow::Send);
        let po = order
            .get("poNumber")
            .and_then(Value::as_str)
            .map(str::to_string);
        for (i, p) in list(&products, "the order's products")?.iter().enumerate() {
            let at = format!("sales order {id} product {}", i + 1);
            pulled.orders.push(OrderLine {
                document: format!("sales order {id}"),
                reference: po.clone(),
                line_ref: None,
                customer: order
                    .pointer("/company/identifier")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                part_number: identifier(p, "/catalogItem/identifier", &at)?,
                quantity: number(p, "quantity", &at)?
                    .ok_or_else(|| invalid(format!("{at} has no `quantity`")))?,
                term: None,
                billing: None,
                start: None,
                end: None,
                unit_cost: number(p, "cost", &at)?,
                plan: None,
            });
        }
    }
    Ok(Flow::Have(pulled))
}

/// What one invoice says of itself, for its lines.
struct Header {
    number: String,
    date: Option<NaiveDate>,
    reference: Option<String>,
    customer: Option<String>,
    subtotal: Option<Decimal>,
}

impl Header {
    fn of(inv: &Value, at: &str) -> Result<Header, PluginError> {
        let text = |k: &str| inv.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(Header {
            number: text("invoiceNumber")
                .ok_or_else(|| invalid(format!("{at} has no `invoiceNumber`")))?,
            date: inv
                .get("date")
                .and_then(Value::as_str)
                .and_then(date_prefix),
            reference: text("customerPO"),
            customer: inv
                .pointer("/company/identifier")
                .and_then(Value::as_str)
                .map(str::to_string),
            subtotal: number(inv, "subtotal", at)?,
        })
    }
}

/// The company's invoices dated in the month, each with its lines.
pub(super) fn invoices(
    talk: &mut Conversation<'_>,
    accounts: &Accounts,
    month: Option<&str>,
) -> Result<Flow<Pulled>, PluginError> {
    let month =
        month.ok_or_else(|| invalid("ConnectWise invoices are pulled by month: give one"))?;
    let (first, last) = month_days(month)?;
    let company: u64 = accounts
        .get(COMPANY_KEY)
        .and_then(|c| c.trim().parse().ok())
        .ok_or_else(|| {
            invalid("no ConnectWise company: link it with `tenor link CUSTOMER --connectwise company=<id>`")
        })?;
    let search = get(
        "/finance/invoices",
        conditions(format!(
            "company/id={company} and date>=[{first}] and date<=[{last}T23:59:59Z]"
        )),
        format!("list company {company}'s invoices of {month}"),
    );
    let found = step!(talk.read(search)?, Flow::Send);
    let mut pulled = Pulled::default();
    let mut additions: BTreeMap<u64, Value> = BTreeMap::new();
    for (i, inv) in list(&found, "the invoices")?.iter().enumerate() {
        let at = format!("invoice {} of {month}", i + 1);
        let h = Header::of(inv, &at)?;
        let lines = if let Some(agreement) = inv.pointer("/agreement/id").and_then(Value::as_u64) {
            if let Entry::Vacant(slot) = additions.entry(agreement) {
                let read = get(
                    format!("/finance/agreements/{agreement}/additions"),
                    vec![("pageSize".into(), "1000".into())],
                    format!("read agreement {agreement}'s additions for {}", h.number),
                );
                slot.insert(step!(talk.read(read)?, Flow::Send));
            }
            let list = additions.get(&agreement).unwrap_or(&Value::Null);
            agreement_lines(&h, list)?
        } else {
            let id = inv
                .get("id")
                .and_then(Value::as_u64)
                .ok_or_else(|| invalid(format!("{at} has no `id`")))?;
            let read = get(
                "/procurement/products",
                conditions(format!("invoice/id={id}")),
                format!("read the products of invoice {}", h.number),
            );
            let products = step!(talk.read(read)?, Flow::Send);
            product_lines(&h, &products)?
        };
        let sum: Decimal = lines.iter().map(|l| l.amount).sum();
        if let Some(subtotal) = h.subtotal.filter(|s| *s != sum) {
            pulled.warnings.push(format!(
                "ConnectWise invoice {}: its lines add up to {sum}, its subtotal says {subtotal} \
                 (a prorated addition bills part of its extended price)",
                h.number
            ));
        }
        pulled.invoices.extend(lines);
    }
    Ok(Flow::Have(pulled))
}

fn line(h: &Header, part: String, description: String) -> InvoiceLine {
    InvoiceLine {
        document: h.number.clone(),
        reference: h.reference.clone(),
        customer: h.customer.clone(),
        part_number: part,
        description,
        date: h.date,
        ..InvoiceLine::default()
    }
}

/// The additions an agreement invoice bills: billable, effective by the invoice date's period
/// and not cancelled before it.
fn agreement_lines(h: &Header, additions: &Value) -> Result<Vec<InvoiceLine>, PluginError> {
    let mut out = Vec::new();
    for (i, x) in list(additions, "the agreement's additions")?
        .iter()
        .enumerate()
    {
        let at = format!("invoice {} addition {}", h.number, i + 1);
        if x.get("billCustomer").and_then(Value::as_str) != Some("Billable") {
            continue;
        }
        let day = |k: &str| x.get(k).and_then(Value::as_str).and_then(date_prefix);
        let live = h.date.is_none_or(|d| {
            day("effectiveDate")
                .is_none_or(|e| e < d.checked_add_months(Months::new(1)).unwrap_or(d))
                && day("cancelledDate").is_none_or(|c| c > d)
        });
        if !live {
            continue;
        }
        let quantity = number(x, "billedQuantity", &at)?
            .or(number(x, "quantity", &at)?)
            .ok_or_else(|| invalid(format!("{at} has no `quantity`")))?;
        let unit_price = number(x, "unitPrice", &at)?;
        let amount = number(x, "extPrice", &at)?
            .or_else(|| unit_price.map(|p| p * quantity))
            .ok_or_else(|| invalid(format!("{at} has no `extPrice`")))?;
        let description = text(x, "invoiceDescription");
        out.push(InvoiceLine {
            quantity,
            unit_price,
            amount,
            ..line(h, identifier(x, "/product/identifier", &at)?, description)
        });
    }
    Ok(out)
}

/// The procurement products a standard invoice billed.
fn product_lines(h: &Header, products: &Value) -> Result<Vec<InvoiceLine>, PluginError> {
    let mut out = Vec::new();
    for (i, p) in list(products, "the invoice's products")?.iter().enumerate() {
        let at = format!("invoice {} product {}", h.number, i + 1);
        let quantity = number(p, "quantity", &at)?
            .ok_or_else(|| invalid(format!("{at} has no `quantity`")))?;
        let unit_price = number(p, "price", &at)?;
        let description = text(p, "description");
        out.push(InvoiceLine {
            quantity,
            unit_price,
            amount: unit_price.unwrap_or_default() * quantity,
            ..line(
                h,
                identifier(p, "/catalogItem/identifier", &at)?,
                description,
            )
        });
    }
    Ok(out)
}
