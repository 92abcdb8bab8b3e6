//! Pulling ConnectWise's sales orders and invoices (VENDORS.md, `model_invoice.go`,
//! `model_product_item.go`). A sales order's lines are its procurement products
//! (`GET /procurement/products?conditions=salesOrder/id=N`). An invoice has no line array and
//! no period fields: an `Agreement` invoice's lines are its agreement's billable additions
//! (`billedQuantity`, `unitPrice`, `extPrice`) for the billing period that holds the invoice's
//! date (the agreement's `billingCycle` counted from its `billStartDate`: VENDORS.md, "its
//! period follows the agreement's billing cycle"), a `Standard` invoice's the products it
//! invoiced (`GET /procurement/products?conditions=invoice/id=N`).

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use chrono::{Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
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
    let mut additions: BTreeMap<u64, (Value, Value)> = BTreeMap::new();
    for (i, inv) in list(&found, "the invoices")?.iter().enumerate() {
        let at = format!("invoice {} of {month}", i + 1);
        let h = Header::of(inv, &at)?;
        let lines = if let Some(agreement) = inv.pointer("/agreement/id").and_then(Value::as_u64) {
            if let Entry::Vacant(slot) = additions.entry(agreement) {
                let read = get(
                    format!("/finance/agreements/{agreement}"),
                    Vec::new(),
                    format!(
                        "read agreement {agreement}'s billing cycle for {}",
                        h.number
                    ),
                );
                let terms = step!(talk.read(read)?, Flow::Send);
                let read = get(
                    format!("/finance/agreements/{agreement}/additions"),
                    vec![("pageSize".into(), "1000".into())],
                    format!("read agreement {agreement}'s additions for {}", h.number),
                );
                slot.insert((terms, step!(talk.read(read)?, Flow::Send)));
            }
            let (terms, list) = additions
                .get(&agreement)
                .map_or((&Value::Null, &Value::Null), |(t, l)| (t, l));
            agreement_lines(&h, &Cycle::of(terms, agreement)?, list)?
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

/// How an agreement bills (`model_agreement.go`): from its `startDate`, one `billingCycle` at a
/// time counted from its `billStartDate`; the days before that are the share of the cycle that
/// ends there. An invoice's period is the cycle that holds its date.
struct Cycle {
    begin: NaiveDate,
    anchor: NaiveDate,
    months: u32,
}

impl Cycle {
    fn of(a: &Value, id: u64) -> Result<Cycle, PluginError> {
        let day = |k: &str| a.get(k).and_then(Value::as_str).and_then(date_prefix);
        let begin = day("startDate")
            .ok_or_else(|| invalid(format!("agreement {id} has no `startDate`")))?;
        let name = a
            .pointer("/billingCycle/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let months = match name.to_ascii_lowercase().as_str() {
            "monthly" => 1,
            "quarterly" => 3,
            "semi-annual" | "semiannual" => 6,
            "annual" | "yearly" => 12,
            "biennial" => 24,
            "triennial" => 36,
            _ => {
                return Err(invalid(format!(
                    "agreement {id}: billing cycle `{name}` has no length Tenor knows"
                )));
            }
        };
        Ok(Cycle {
            begin,
            anchor: day("billStartDate").unwrap_or(begin),
            months,
        })
    }

    /// The start of the `k`th cycle, counted from the anchor so a month-end day holds.
    fn start(&self, k: i64) -> Option<NaiveDate> {
        let span = Months::new(
            u32::try_from(k.unsigned_abs())
                .ok()?
                .checked_mul(self.months)?,
        );
        if k >= 0 {
            self.anchor.checked_add_months(span)
        } else {
            self.anchor.checked_sub_months(span)
        }
    }

    /// The cycle `[from, to)` that holds `day`.
    fn holding(&self, day: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        use chrono::Datelike;
        let apart = (i64::from(day.year()) - i64::from(self.anchor.year())) * 12
            + i64::from(day.month())
            - i64::from(self.anchor.month());
        let mut k = apart.div_euclid(i64::from(self.months));
        while self.start(k)? > day {
            k -= 1;
        }
        while self.start(k + 1)? <= day {
            k += 1;
        }
        Some((self.start(k)?, self.start(k + 1)?))
    }
}

/// The additions an agreement invoice bills, each for its part of the invoice's period: a
/// billable addition effective before the period ends and not cancelled before it starts
/// bills its extended price, or, when it starts inside the period with its
/// `prorateCurrentPeriodFlag` set, its share by days, rounded to the cent as ConnectWise rounds.
fn agreement_lines(
    h: &Header,
    cycle: &Cycle,
    additions: &Value,
) -> Result<Vec<InvoiceLine>, PluginError> {
    let date = h.date.ok_or_else(|| {
        invalid(format!(
            "agreement invoice {} has no `date`: its period cannot be told",
            h.number
        ))
    })?;
    let (from, to) = cycle
        .holding(date)
        .ok_or_else(|| invalid(format!("invoice {}: its period is out of range", h.number)))?;
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
        let effective = day("effectiveDate").unwrap_or(cycle.begin);
        if effective >= to || day("cancelledDate").is_some_and(|c| c < from) {
            continue;
        }
        let quantity = number(x, "billedQuantity", &at)?
            .or(number(x, "quantity", &at)?)
            .ok_or_else(|| invalid(format!("{at} has no `quantity`")))?;
        let unit_price = number(x, "unitPrice", &at)?;
        let full = number(x, "extPrice", &at)?
            .or_else(|| unit_price.map(|p| p * quantity))
            .ok_or_else(|| invalid(format!("{at} has no `extPrice`")))?;
        let prorated = x.get("prorateCurrentPeriodFlag").and_then(Value::as_bool) == Some(true);
        let amount = if effective > from && prorated {
            let share =
                Decimal::from((to - effective).num_days()) / Decimal::from((to - from).num_days());
            (full * share).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        } else {
            full
        };
        out.push(InvoiceLine {
            quantity,
            unit_price,
            amount,
            period_start: Some(effective.max(from)),
            period_end: Some(to),
            ..line(
                h,
                identifier(x, "/product/identifier", &at)?,
                text(x, "invoiceDescription"),
            )
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn cycle(start: &str, bill_start: &str, name: &str) -> Cycle {
        let a = json!({
            "startDate": format!("{start}T00:00:00Z"),
            "billStartDate": format!("{bill_start}T00:00:00Z"),
            "billingCycle": {"id": 1, "name": name},
        });
        Cycle::of(&a, 7).unwrap()
    }

    #[test]
    fn an_invoice_period_is_the_cycle_that_holds_its_date_counted_from_the_bill_start() {
        // Monthly from the 1st: a December stub invoice dated the 7th bills December.
        let m = cycle("2026-12-07", "2027-01-01", "Monthly");
        assert_eq!(
            m.holding(day("2026-12-07")),
            Some((day("2026-12-01"), day("2027-01-01")))
        );
        // Three years to 2027-04-01: the stub from 2026-10-12 is part of the cycle from
        // 2024-04-01; the first full one starts on the anchor.
        let t = cycle("2026-10-12", "2027-04-01", "Triennial");
        assert_eq!(
            t.holding(day("2026-10-12")),
            Some((day("2024-04-01"), day("2027-04-01")))
        );
        assert_eq!(
            t.holding(day("2027-04-01")),
            Some((day("2027-04-01"), day("2030-04-01")))
        );
        // A month-end anchor keeps its day: January 31, February 28, March 31.
        let e = cycle("2027-01-31", "2027-01-31", "Monthly");
        assert_eq!(
            e.holding(day("2027-03-15")),
            Some((day("2027-02-28"), day("2027-03-31")))
        );
        assert_eq!(
            e.holding(day("2027-03-31")),
            Some((day("2027-03-31"), day("2027-04-30")))
        );
    }

    #[test]
    fn an_addition_bills_its_share_of_the_period_only_when_prorated() {
        let h = Header {
            number: "INV1".into(),
            date: Some(day("2026-12-07")),
            reference: None,
            customer: None,
            subtotal: None,
        };
        let additions = json!([
            {"product": {"identifier": "M365-BP"}, "billCustomer": "Billable", "quantity": 25,
             "unitPrice": 22, "extPrice": 550, "effectiveDate": "2026-12-07T00:00:00Z",
             "prorateCurrentPeriodFlag": true},
            {"product": {"identifier": "MS-DEVICE"}, "billCustomer": "Billable", "quantity": 1,
             "unitPrice": -90.32, "extPrice": -90.32, "effectiveDate": "2026-12-07T00:00:00Z",
             "cancelledDate": "2026-12-31T00:00:00Z", "prorateCurrentPeriodFlag": false},
            {"product": {"identifier": "GONE"}, "billCustomer": "Billable", "quantity": 1,
             "extPrice": 5, "cancelledDate": "2026-11-30T00:00:00Z"},
            {"product": {"identifier": "LATER"}, "billCustomer": "Billable", "quantity": 1,
             "extPrice": 5, "effectiveDate": "2027-01-01T00:00:00Z"},
            {"product": {"identifier": "FREE"}, "billCustomer": "NoCharge", "quantity": 1,
             "extPrice": 5},
        ]);
        let lines = agreement_lines(
            &h,
            &cycle("2026-12-07", "2027-01-01", "Monthly"),
            &additions,
        )
        .unwrap();
        let got: Vec<(&str, Decimal, Option<NaiveDate>)> = lines
            .iter()
            .map(|l| (l.part_number.as_str(), l.amount, l.period_start))
            .collect();
        // 25 of December's 31 days of 550.00 = 443.548… → 443.55; the discount step as written.
        assert_eq!(
            got,
            vec![
                ("M365-BP", Decimal::new(44355, 2), Some(day("2026-12-07"))),
                ("MS-DEVICE", Decimal::new(-9032, 2), Some(day("2026-12-07"))),
            ]
        );
        assert!(
            lines
                .iter()
                .all(|l| l.period_end == Some(day("2027-01-01")))
        );
    }
}
