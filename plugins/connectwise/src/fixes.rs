//! A month's reconciliation's fixes (`PushDocument::Fixes`, `tenor reconcile --apply`): each
//! on its line's latest addition, which is read first. One that already bills what was sold
//! from the fix's day is left as it is (someone fixed it by hand since the reconciliation);
//! one that bills neither what was sold nor what the reconciliation found is refused (it
//! changed since: pull and reconcile again). Otherwise, as a seat change does, the addition is
//! cancelled the day before the fix's first billed day and one at the sold figures is added
//! from that day: ConnectWise has no dated quantity or price, and editing the addition in
//! place would rebill (or unbill) periods already invoiced. An addition that starts on or after
//! the fix's day has billed nothing yet and is edited in place.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tenor_plugin_sdk::PluginError;
use tenor_plugin_sdk::connector::{date_prefix, invalid, value_decimal};
use tenor_plugin_sdk::conversation::{Conversation, Flow, request};
use tenor_plugin_sdk::exchange::{Effect, Method, PsaFix, VendorRef};
use tenor_plugin_sdk::step;

use crate::api::{addition_ids, amount, create_addition, get, successor};

/// Every fix of a reconciliation document, in order: the additions they leave billing.
pub(crate) fn push_fixes(
    talk: &mut Conversation<'_>,
    id: &str,
    fixes: &[PsaFix],
    pushed: &[VendorRef],
) -> Result<Flow<Vec<VendorRef>>, PluginError> {
    let mut refs = Vec::new();
    for fix in fixes {
        if let Some(r) = step!(fix_line(talk, id, fix, pushed)?, Flow::Send) {
            refs.push(r);
        }
    }
    Ok(Flow::Have(refs))
}

/// What one line's addition holds, as far as a fix reads it.
struct Held {
    quantity: Option<Decimal>,
    unit_price: Option<Decimal>,
    effective: Option<NaiveDate>,
    cancelled: Option<NaiveDate>,
}

impl Held {
    fn read(v: &Value) -> Held {
        let day = |k: &str| v.get(k).and_then(Value::as_str).and_then(date_prefix);
        Held {
            quantity: v.get("quantity").and_then(value_decimal),
            unit_price: v.get("unitPrice").and_then(value_decimal),
            effective: day("effectiveDate"),
            cancelled: day("cancelledDate"),
        }
    }

    /// True when it still bills on `day` (ConnectWise's `cancelledDate` is its last day).
    fn live_on(&self, day: NaiveDate) -> bool {
        self.cancelled.is_none_or(|c| c >= day)
    }
}

/// One fix: the addition that bills the line from the fix's day, or `None` when the line's
/// addition already does as sold.
fn fix_line(
    talk: &mut Conversation<'_>,
    doc: &str,
    fix: &PsaFix,
    pushed: &[VendorRef],
) -> Result<Flow<Option<VendorRef>>, PluginError> {
    let line = fix.line;
    let r = pushed
        .iter()
        .rfind(|r| r.kind == "addition" && r.line == Some(line))
        .ok_or_else(|| {
            invalid(format!(
                "{doc}: line {line} ({}) was never pushed to ConnectWise as an addition: push the quote first",
                fix.product
            ))
        })?;
    let (agreement, addition) = addition_ids(r)?;
    let path = format!("/finance/agreements/{agreement}/additions/{addition}");
    let body = step!(
        talk.read(get(
            path.clone(),
            Vec::new(),
            format!("read line {line}'s addition before fixing it")
        ))?,
        Flow::Send
    );
    let held = Held::read(&body);
    let live = held.live_on(fix.effective);
    if live && held.quantity == Some(fix.quantity) && held.unit_price == Some(fix.unit_price) {
        return Ok(Flow::Have(None));
    }
    check_found(doc, fix, addition, &held, live)?;
    let quantity = amount(fix.quantity)?;
    let price = amount(fix.unit_price)?;
    if live && held.effective.is_some_and(|e| e >= fix.effective) {
        let mut edit = request(
            Method::Patch,
            path,
            Effect::Update,
            format!("set line {line}'s addition to what was sold"),
        );
        edit.body = Some(json!([
            {"op": "replace", "path": "quantity", "value": quantity},
            {"op": "replace", "path": "unitPrice", "value": price},
        ]));
        step!(talk.read(edit)?, Flow::Send);
        return Ok(Flow::Have(Some(r.clone())));
    }
    if live {
        let last = fix
            .effective
            .checked_sub_days(Days::new(1))
            .ok_or_else(|| invalid(format!("{doc}: bad effective day {}", fix.effective)))?;
        let mut cancel = request(
            Method::Patch,
            path,
            Effect::Update,
            format!(
                "cancel line {line}'s addition after {last}, to bill it as sold from the next day"
            ),
        );
        cancel.body = Some(
            json!([{"op": "replace", "path": "cancelledDate", "value": format!("{last}T00:00:00Z")}]),
        );
        step!(talk.read(cancel)?, Flow::Send);
    }
    let next = successor(&body, quantity, price, fix.effective);
    let id = step!(create_addition(talk, agreement, next, line)?, Flow::Send);
    Ok(Flow::Have(Some(VendorRef {
        kind: "addition".into(),
        id: format!("{agreement}/{id}"),
        line: Some(line),
    })))
}

/// Refuses a fix whose addition no longer holds what the reconciliation found: it changed
/// since, and the fix would overwrite a change it never saw.
fn check_found(
    doc: &str,
    fix: &PsaFix,
    addition: u64,
    held: &Held,
    live: bool,
) -> Result<(), PluginError> {
    let shown = |d: Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_else(|| "none".into());
    let stale = |what: &str, holds: Option<Decimal>, found: Option<Decimal>, sold: Decimal| {
        invalid(format!(
            "{doc}: ConnectWise addition {addition} (line {}, {}) bills {what} {}, where the reconciliation found {} and {sold} was sold: it changed since; run `tenor pull` and `tenor reconcile` again",
            fix.line,
            fix.product,
            shown(holds),
            shown(found)
        ))
    };
    if !live && !fix.restore {
        return Err(invalid(format!(
            "{doc}: ConnectWise addition {addition} (line {}, {}) was cancelled on {} after the reconciliation: run `tenor pull` and `tenor reconcile` again",
            fix.line,
            fix.product,
            held.cancelled.map(|d| d.to_string()).unwrap_or_default()
        )));
    }
    let expected = |found: Option<Decimal>, sold: Decimal| found.unwrap_or(sold);
    if held.quantity != Some(expected(fix.quantity_found, fix.quantity))
        && held.quantity != Some(fix.quantity)
    {
        return Err(stale(
            "quantity",
            held.quantity,
            fix.quantity_found,
            fix.quantity,
        ));
    }
    if held.unit_price != Some(expected(fix.unit_price_found, fix.unit_price))
        && held.unit_price != Some(fix.unit_price)
    {
        return Err(stale(
            "unit price",
            held.unit_price,
            fix.unit_price_found,
            fix.unit_price,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

    use super::*;
    use crate::api::tests::answered;
    use tenor_plugin_sdk::exchange::{Exchange, PushDocument, PushInput, PushStep};

    /// Line 1's fix: 25 seats at 22.00 where the addition bills 20, from 2027-03-01.
    fn fix() -> PsaFix {
        PsaFix {
            line: 1,
            product: "M365-BP".into(),
            quantity: Decimal::from(25),
            quantity_found: Some(Decimal::from(20)),
            unit_price: Decimal::new(2200, 2),
            unit_price_found: None,
            restore: false,
            effective: NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
        }
    }

    fn step_with(exchanges: Vec<Exchange>) -> Result<PushStep, PluginError> {
        crate::api::push_step(&PushInput {
            today: None,
            document: PushDocument::Fixes {
                id: "FIX-Q-1-2027-02-p9".into(),
                fixes: vec![fix()],
                pushed: vec![VendorRef {
                    kind: "addition".into(),
                    id: "101/102".into(),
                    line: Some(1),
                }],
            },
            accounts: Default::default(),
            exchanges,
        })
    }

    fn held(quantity: u32, effective: &str) -> Value {
        json!({"id": 102, "product": {"identifier": "M365-BP"}, "quantity": quantity,
            "unitPrice": 22.00, "billCustomer": "Billable", "effectiveDate": effective})
    }

    /// The first request, answered with `body`, and what comes next.
    fn after_read(body: Value) -> (Exchange, Result<PushStep, PluginError>) {
        let PushStep::Send { request } = step_with(vec![]).unwrap() else {
            panic!("the addition is read first")
        };
        assert_eq!(request.path, "/finance/agreements/101/additions/102");
        let e = answered(request, body);
        let next = step_with(vec![e.clone()]);
        (e, next)
    }

    #[test]
    fn an_addition_already_billing_what_was_sold_is_left_alone() {
        let (_, next) = after_read(held(25, "2026-12-07T00:00:00Z"));
        assert_eq!(next.unwrap(), PushStep::Done { refs: vec![] });
    }

    #[test]
    fn an_addition_changed_since_the_reconciliation_is_refused() {
        let (_, next) = after_read(held(22, "2026-12-07T00:00:00Z"));
        let m = next.unwrap_err().to_string();
        assert!(
            m.contains("bills quantity 22, where the reconciliation found 20 and 25 was sold"),
            "{m}"
        );
    }

    #[test]
    fn an_addition_that_starts_on_the_fix_day_is_edited_in_place() {
        let (e, next) = after_read(held(20, "2027-03-01T00:00:00Z"));
        let PushStep::Send { request } = next.unwrap() else {
            panic!()
        };
        assert_eq!(
            (request.method, request.effect),
            (Method::Patch, Effect::Update)
        );
        assert_eq!(
            request.body.clone().unwrap().to_string(),
            r#"[{"op":"replace","path":"quantity","value":25},{"op":"replace","path":"unitPrice","value":22.00}]"#
        );
        let done = step_with(vec![e, answered(request, json!({}))]).unwrap();
        let PushStep::Done { refs } = done else {
            panic!()
        };
        assert_eq!(refs.first().map(|r| r.id.as_str()), Some("101/102"));
    }
}
