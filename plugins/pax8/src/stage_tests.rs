//! Purchase orders whose lines start on later days, pushed with the host's today: Pax8 takes
//! no scheduled orders, so each line is ordered on (or after) its start day.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use super::*;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;
use tenor_plugin_sdk::exchange::{
    Effect, Exchange, Method, PushDocument, Request, Response, VendorRef,
};

const COMPANY_ID: &str = "f7fc273a-8d86-45c9-a26f-ffd42416adda";
const BP: &str = "9b2e4d61-3c7f-4a58-b1e0-7d6c2f9a4b33";
const MDB: &str = "5a0c9e28-d41b-47f6-8e3a-9c2b5d1f0e66";
const ONE_YEAR: &str = "bea4256e-36c2-44c7-9885-bbac88043e5f";

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A purchase order of two P1Y monthly lines: 12 Business Premium starting `first`, 5
/// Defender starting `second`.
fn two_starts(first: &str, second: &str) -> PurchaseOrder {
    let mut po: PurchaseOrder =
        serde_json::from_str(tenor_plugin_sdk::samples::PURCHASE_ORDER).unwrap();
    po.date = day("2026-12-07");
    let template = po.lines[0].clone();
    po.lines = [(BP, 12, first), (MDB, 5, second)]
        .iter()
        .enumerate()
        .map(|(i, (product, qty, start))| {
            let mut l = template.clone();
            l.line = i as u32 + 1;
            l.quote_line = i as u32 + 10;
            l.distributor_product_id = Some((*product).to_string());
            l.quantity = Decimal::from(*qty);
            l.term = "P1Y".into();
            l.billing = "monthly".into();
            l.commitment_term_id = Some(ONE_YEAR.into());
            l.first_term_start = day(start);
            l
        })
        .collect();
    po.customer
        .accounts
        .insert("company".into(), COMPANY_ID.into());
    po
}

fn push(po: &PurchaseOrder, today: Option<&str>, exchanges: Vec<Exchange>) -> PushStep {
    Pax8.push_step(&PushInput {
        document: PushDocument::PurchaseOrder {
            purchase_order: Box::new(po.clone()),
        },
        accounts: po.customer.accounts.clone(),
        exchanges,
        today: today.map(day),
    })
    .unwrap()
}

fn sent(step: PushStep) -> Request {
    match step {
        PushStep::Send { request } => request,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn answered(request: Request, body: Value) -> Exchange {
    Exchange {
        request,
        response: Some(Response {
            status: 201,
            headers: Vec::new(),
            body,
        }),
    }
}

/// The line items of a create: (lineItemNumber, productId, quantity, provisionStartDate).
fn items(r: &Request) -> Vec<(u64, String, u64, Option<String>)> {
    r.body.as_ref().unwrap()["lineItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["lineItemNumber"].as_u64().unwrap(),
                i["productId"].as_str().unwrap().to_string(),
                i["quantity"].as_u64().unwrap(),
                i.get("provisionStartDate")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            )
        })
        .collect()
}

/// Pax8's answer to an order of one line.
fn order(id: &str, product: &str, qty: u32, sub: &str, created: &str) -> Value {
    json!({"id": id, "companyId": COMPANY_ID, "createdDate": created,
        "lineItems": [{"productId": product, "quantity": qty, "billingTerm": "Monthly",
                       "subscriptionId": sub}]})
}

fn vref(kind: &str, id: &str, line: Option<u32>) -> VendorRef {
    VendorRef {
        kind: kind.into(),
        id: id.into(),
        line,
    }
}

#[test]
fn no_line_due_waits_until_the_earliest_start_and_sends_nothing() {
    let po = two_starts("2027-03-01", "2027-02-15");
    assert_eq!(
        push(&po, Some("2026-12-07"), Vec::new()),
        PushStep::Wait {
            until: day("2027-02-15"),
            why: "Pax8 takes no scheduled orders".into()
        }
    );
}

#[test]
fn mixed_starts_are_two_orders_on_two_days_with_the_right_lines() {
    let po = two_starts("2026-12-07", "2027-02-15");
    // Day one: only the line starting today, with its start date (it is today).
    let first = sent(push(&po, Some("2026-12-07"), Vec::new()));
    assert_eq!((first.method, first.effect), (Method::Post, Effect::Create));
    assert_eq!(
        items(&first),
        [(1, BP.into(), 12, Some("2026-12-07T00:00:00Z".into()))]
    );
    let so_far = vec![answered(first, order("o-1", BP, 12, "s-bp", "2026-12-07"))];
    let wait = PushStep::Wait {
        until: day("2027-02-15"),
        why: "Pax8 takes no scheduled orders".into(),
    };
    assert_eq!(push(&po, Some("2026-12-07"), so_far.clone()), wait);
    assert_eq!(push(&po, Some("2027-02-14"), so_far.clone()), wait);
    // Its day: the second line alone, then done with both orders' ids.
    let second = sent(push(&po, Some("2027-02-15"), so_far.clone()));
    assert_eq!(
        items(&second),
        [(2, MDB.into(), 5, Some("2027-02-15T00:00:00Z".into()))]
    );
    let mut all = so_far;
    all.push(answered(
        second,
        order("o-2", MDB, 5, "s-mdb", "2027-02-15"),
    ));
    assert_eq!(
        push(&po, Some("2027-02-15"), all),
        PushStep::Done {
            refs: vec![
                vref("order", "o-1", None),
                vref("subscription", "s-bp", Some(10)),
                vref("order", "o-2", None),
                vref("subscription", "s-mdb", Some(11)),
            ]
        }
    );
}

#[test]
fn provision_start_date_is_sent_only_for_a_line_starting_that_very_day() {
    // Pushed late: both lines are due, neither starts today, so neither carries a date.
    let po = two_starts("2026-12-07", "2027-02-15");
    let late = sent(push(&po, Some("2027-03-01"), Vec::new()));
    assert_eq!(
        items(&late),
        [(1, BP.into(), 12, None), (2, MDB.into(), 5, None)]
    );
    // One starting today and one started before: only today's carries it.
    let po = two_starts("2026-12-01", "2026-12-07");
    let today = sent(push(&po, Some("2026-12-07"), Vec::new()));
    assert_eq!(
        items(&today),
        [
            (1, BP.into(), 12, None),
            (2, MDB.into(), 5, Some("2026-12-07T00:00:00Z".into()))
        ]
    );
}

#[test]
fn an_interrupted_stage_two_create_is_looked_up_against_stage_two_only() {
    // Both lines are the same product and quantity: only the order ids tell them apart.
    let mut po = two_starts("2026-12-07", "2027-02-15");
    po.lines[1].distributor_product_id = Some(BP.into());
    po.lines[1].quantity = Decimal::from(12);
    let first = sent(push(&po, Some("2026-12-07"), Vec::new()));
    let stage_one = answered(first, order("o-1", BP, 12, "s-1", "2026-12-07"));
    let second = sent(push(&po, Some("2027-02-15"), vec![stage_one.clone()]));
    assert_eq!(items(&second)[0].0, 2);
    let interrupted = vec![
        stage_one,
        Exchange {
            request: second.clone(),
            response: None,
        },
    ];
    let lookup = sent(push(&po, Some("2027-02-15"), interrupted.clone()));
    assert_eq!((lookup.method, lookup.effect), (Method::Get, Effect::Read));
    // Only stage one's order is listed: it is not taken for stage two's, which is sent again.
    let listed = |orders: Vec<Value>| {
        let mut ex = interrupted.clone();
        ex.push(answered(
            lookup.clone(),
            json!({"content": orders, "page": {"number": 0, "totalPages": 1}}),
        ));
        push(&po, Some("2027-02-15"), ex)
    };
    let again = sent(listed(vec![order("o-1", BP, 12, "s-1", "2026-12-07")]));
    assert_eq!(again.body, second.body);
    // Stage two's order is there too: it is found, nothing is created again.
    let found = listed(vec![
        order("o-1", BP, 12, "s-1", "2026-12-07"),
        order("o-2", BP, 12, "s-2", "2027-02-15"),
    ]);
    assert_eq!(
        found,
        PushStep::Done {
            refs: vec![
                vref("order", "o-1", None),
                vref("subscription", "s-1", Some(10)),
                vref("order", "o-2", None),
                vref("subscription", "s-2", Some(11)),
            ]
        }
    );
}

#[test]
fn without_a_today_every_line_is_ordered_at_once_as_before() {
    let po = two_starts("2026-12-07", "2027-02-15");
    let create = sent(push(&po, None, Vec::new()));
    assert_eq!(
        create.body,
        Some(order_body(&po, &po.customer.accounts).unwrap())
    );
    let answer = json!({"id": "o-1", "companyId": COMPANY_ID, "createdDate": "2026-12-07",
        "lineItems": [
            {"productId": BP, "quantity": 12, "billingTerm": "Monthly", "subscriptionId": "s-bp"},
            {"productId": MDB, "quantity": 5, "billingTerm": "Monthly", "subscriptionId": "s-mdb"}]});
    assert_eq!(
        push(&po, None, vec![answered(create, answer)]),
        PushStep::Done {
            refs: vec![
                vref("order", "o-1", None),
                vref("subscription", "s-bp", Some(10)),
                vref("subscription", "s-mdb", Some(11)),
            ]
        }
    );
}

#[test]
fn a_seat_change_effective_later_waits_for_its_day() {
    let change = |today: Option<&str>| {
        Pax8.push_step(&PushInput {
            document: PushDocument::Change {
                change_order: json!({"line": 10, "old_quantity": "12", "new_quantity": "15",
                    "effective": "2027-01-01"}),
                pushed: vec![vref("subscription", "s-bp", Some(10))],
            },
            accounts: Default::default(),
            exchanges: Vec::new(),
            today: today.map(day),
        })
        .unwrap()
    };
    assert_eq!(
        change(Some("2026-12-07")),
        PushStep::Wait {
            until: day("2027-01-01"),
            why: "Pax8 takes no future-dated seat changes".into()
        }
    );
    for today in [Some("2027-01-01"), None] {
        let read = sent(change(today));
        assert_eq!(
            (read.method, read.path.as_str()),
            (Method::Get, "/subscriptions/s-bp")
        );
    }
}
