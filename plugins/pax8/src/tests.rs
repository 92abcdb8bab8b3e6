#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use super::*;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;
use tenor_plugin_sdk::exchange::{
    Effect, Exchange, Method, PullKind, Request, Response, VendorRef,
};

const COMPANY_ID: &str = "f7fc273a-8d86-45c9-a26f-ffd42416adda";
const BP: &str = "9b2e4d61-3c7f-4a58-b1e0-7d6c2f9a4b33";
const MDB: &str = "5a0c9e28-d41b-47f6-8e3a-9c2b5d1f0e66";
const ONE_YEAR: &str = "bea4256e-36c2-44c7-9885-bbac88043e5f";
const ONE_YEAR_MDB: &str = "3be93fb8-d995-4a62-9b11-96f741b79d35";
const THREE_YEAR: &str = "2054fa81-6e7c-4c6a-87ac-5fed4b6ea010";

/// The SDK's sample purchase order cut to the lines given: (product uuid, seats, term,
/// billing, commitment uuid).
fn po(lines: &[(&str, u32, &str, &str, Option<&str>)], company: Option<&str>) -> PurchaseOrder {
    let mut po: PurchaseOrder =
        serde_json::from_str(tenor_plugin_sdk::samples::PURCHASE_ORDER).unwrap();
    let template = po.lines[0].clone();
    po.lines = lines
        .iter()
        .enumerate()
        .map(|(i, (product, qty, term, billing, commitment))| {
            let mut l = template.clone();
            l.line = i as u32 + 1;
            // Quote lines of their own (10, 11…), so that refs show which line they keep.
            l.quote_line = i as u32 + 10;
            l.distributor_product_id = Some((*product).to_string());
            l.quantity = Decimal::from(*qty);
            l.term = (*term).to_string();
            l.billing = (*billing).to_string();
            l.commitment_term_id = commitment.map(str::to_string);
            l
        })
        .collect();
    if let Some(c) = company {
        po.customer.accounts.insert("company".into(), c.into());
    }
    po
}

/// Q-1001 as Pax8 is asked for it: Business Premium and Defender, P1Y billed monthly.
fn q1001() -> PurchaseOrder {
    po(
        &[
            (BP, 12, "P1Y", "monthly", Some(ONE_YEAR)),
            (MDB, 12, "P1Y", "monthly", Some(ONE_YEAR_MDB)),
        ],
        Some(COMPANY_ID),
    )
}

#[test]
fn q1001_p1y_monthly_is_monthly_billing_with_the_one_year_commitment() {
    let body = order_body(&q1001(), &q1001().customer.accounts).unwrap();
    // Written by hand from VENDORS.md's `POST /orders` and its "Tenor → Pax8" table.
    let expected = json!({
        "companyId": "f7fc273a-8d86-45c9-a26f-ffd42416adda",
        "orderedBy": "Pax8 Partner",
        "lineItems": [
            {"lineItemNumber": 1, "productId": "9b2e4d61-3c7f-4a58-b1e0-7d6c2f9a4b33",
             "quantity": 12, "billingTerm": "Monthly",
             "commitmentTermId": "bea4256e-36c2-44c7-9885-bbac88043e5f"},
            {"lineItemNumber": 2, "productId": "5a0c9e28-d41b-47f6-8e3a-9c2b5d1f0e66",
             "quantity": 12, "billingTerm": "Monthly",
             "commitmentTermId": "3be93fb8-d995-4a62-9b11-96f741b79d35"},
        ]
    });
    assert_eq!(body, expected);
    // Quantity is a JSON integer, never a string or a decimal; no future start date.
    assert!(body["lineItems"][0]["quantity"].is_u64());
    assert!(body["lineItems"][0].get("provisionStartDate").is_none());
    assert_ne!(body["lineItems"][0]["billingTerm"], "Annual");
}

#[test]
fn p3y_upfront_is_three_year_billing_and_the_table_holds() {
    let p = po(
        &[(BP, 3, "P3Y", "upfront", Some(THREE_YEAR))],
        Some(COMPANY_ID),
    );
    let body = order_body(&p, &p.customer.accounts).unwrap();
    assert_eq!(body["lineItems"][0]["billingTerm"], "3-Year");
    assert_eq!(body["lineItems"][0]["commitmentTermId"], THREE_YEAR);
    for (term, billing, pax8) in [
        ("P1M", "monthly", "Monthly"),
        ("P1Y", "monthly", "Monthly"),
        ("P1Y", "annual", "Annual"),
        ("P3Y", "monthly", "Monthly"),
        ("P3Y", "annual", "Annual"),
        ("P3Y", "upfront", "3-Year"),
        ("one-time", "once", "One-Time"),
    ] {
        assert_eq!(
            billing_term(term, billing).unwrap(),
            pax8,
            "{term} {billing}"
        );
    }
    assert!(billing_term("P1Y", "quarterly").is_err());
}

#[test]
fn missing_ids_are_refused_by_name() {
    let no_company = po(&[(BP, 1, "P1Y", "monthly", Some(ONE_YEAR))], None);
    let e = Pax8
        .render_purchase_order(&no_company)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("tenor link CUST-SAMPLE --pax8 company=<uuid>"),
        "{e}"
    );
    assert!(!e.contains("\"CUST-SAMPLE\""), "{e}");
    let mut no_product = q1001();
    no_product.lines[0].distributor_product_id = None;
    let e = Pax8
        .render_purchase_order(&no_product)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no Pax8 product id") && e.contains("line 1"),
        "{e}"
    );
    let mut part_number = q1001();
    part_number.lines[0].distributor_product_id = Some("MST-NCE-M365BP".into());
    let e = Pax8
        .render_purchase_order(&part_number)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`MST-NCE-M365BP` is not a uuid"), "{e}");
    let no_commitment = po(&[(BP, 1, "P1Y", "monthly", None)], Some(COMPANY_ID));
    let e = Pax8
        .render_purchase_order(&no_commitment)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no Pax8 commitment id for P1Y"), "{e}");
    assert!(e.contains("commitment P1Y via pax8 id"), "{e}");
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn exchange(request: Request, response: Option<(u16, Value)>) -> Exchange {
    Exchange {
        request,
        response: response.map(|(status, body)| Response {
            status,
            headers: Vec::new(),
            body,
        }),
    }
}

fn push(po: &PurchaseOrder, exchanges: Vec<Exchange>) -> PushStep {
    Pax8.push_step(&PushInput {
        today: None,
        document: tenor_plugin_sdk::exchange::PushDocument::PurchaseOrder {
            purchase_order: Box::new(po.clone()),
        },
        accounts: po.customer.accounts.clone(),
        exchanges,
    })
    .unwrap()
}

fn sent(step: PushStep) -> Request {
    match step {
        PushStep::Send { request } => request,
        PushStep::Done { refs } => panic!("expected a request, got done with {refs:?}"),
        PushStep::Wait { until, why } => panic!("expected a request, got a wait: {until} {why}"),
    }
}

/// Pax8's answer to the Q-1001 order, as the spec's example answers (no lineItemNumber).
fn created() -> Value {
    json!({
        "id": "8e42de97-6bfe-4db5-864b-d2e4b18c71e2",
        "companyId": COMPANY_ID,
        "createdDate": "2026-12-02",
        "isScheduled": false,
        "lineItems": [
            {"id": "4915142b-1b3f-4488-9e68-e979dc661130", "productId": MDB,
             "subscriptionId": "efcf8cb8-63fc-4dc4-8caa-6d6810ee8a97",
             "billingTerm": "Monthly", "quantity": 12},
            {"id": "5a15142b-1b3f-4488-9e68-e979dc661131", "productId": BP,
             "subscriptionId": "0a0f8cb8-63fc-4dc4-8caa-6d6810ee8a98",
             "billingTerm": "Monthly", "quantity": 12},
        ]
    })
}

fn expected_refs() -> Vec<VendorRef> {
    let r = |kind: &str, id: &str, line| VendorRef {
        kind: kind.into(),
        id: id.into(),
        line,
    };
    vec![
        r("order", "8e42de97-6bfe-4db5-864b-d2e4b18c71e2", None),
        r(
            "subscription",
            "efcf8cb8-63fc-4dc4-8caa-6d6810ee8a97",
            Some(11),
        ),
        r(
            "subscription",
            "0a0f8cb8-63fc-4dc4-8caa-6d6810ee8a98",
            Some(10),
        ),
    ]
}

fn change_input(line: u32, exchanges: Vec<Exchange>) -> PushInput {
    PushInput {
        today: None,
        document: tenor_plugin_sdk::exchange::PushDocument::Change {
            change_order: json!({"schema": "tenor.change-order/1", "line": line,
                "old_quantity": "25", "new_quantity": "30"}),
            pushed: expected_refs(),
        },
        accounts: Default::default(),
        exchanges,
    }
}

#[test]
fn a_seat_change_puts_the_lines_subscription_to_the_new_quantity() {
    let sub = "0a0f8cb8-63fc-4dc4-8caa-6d6810ee8a98";
    let PushStep::Send { request: read } = Pax8.push_step(&change_input(10, vec![])).unwrap()
    else {
        panic!("the subscription is read first")
    };
    assert_eq!(
        (read.method, read.path.as_str()),
        (Method::Get, &*format!("/subscriptions/{sub}"))
    );
    let held = exchange(read, Some((200, json!({"id": sub, "quantity": 25}))));
    let PushStep::Send { request: put } = Pax8
        .push_step(&change_input(10, vec![held.clone()]))
        .unwrap()
    else {
        panic!("then the quantity is put")
    };
    assert_eq!(put.method, Method::Put);
    assert_eq!(put.body, Some(json!({"quantity": 30})));
    let done = exchange(put, Some((200, json!({"id": sub, "quantity": 30}))));
    let PushStep::Done { refs } = Pax8.push_step(&change_input(10, vec![held, done])).unwrap()
    else {
        panic!("done after the put")
    };
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].id, sub);
    // A line with no Pax8 subscription is another vendor's: nothing is sent.
    assert_eq!(
        Pax8.push_step(&change_input(3, vec![])).unwrap(),
        PushStep::Done { refs: vec![] }
    );
}

#[test]
fn a_fresh_push_creates_the_order_once_and_stores_its_ids() {
    let p = q1001();
    let create = sent(push(&p, Vec::new()));
    assert_eq!(
        (create.method, create.path.as_str()),
        (Method::Post, "/orders")
    );
    assert_eq!(create.effect, Effect::Create);
    assert!(create.query.is_empty(), "no isMock: {:?}", create.query);
    assert_eq!(
        create.body.as_ref().unwrap()["lineItems"][0]["billingTerm"],
        "Monthly"
    );
    let done = push(&p, vec![exchange(create, Some((200, created())))]);
    assert_eq!(
        done,
        PushStep::Done {
            refs: expected_refs()
        }
    );
}

#[test]
fn an_interrupted_create_looks_up_first_and_never_orders_twice() {
    let p = q1001();
    let create = sent(push(&p, Vec::new()));
    let interrupted = vec![exchange(create.clone(), None)];
    let lookup = sent(push(&p, interrupted.clone()));
    assert_eq!(
        (lookup.method, lookup.path.as_str()),
        (Method::Get, "/orders")
    );
    assert_eq!(lookup.effect, Effect::Read);
    assert_eq!(
        lookup.query[0],
        ("companyId".to_string(), COMPANY_ID.to_string())
    );
    // The order exists (with another company's order before it): done, no second create.
    let other = json!({"id": "x", "companyId": COMPANY_ID, "createdDate": "2026-12-02",
        "lineItems": [{"productId": BP, "quantity": 3, "billingTerm": "Monthly"}]});
    let page = json!({"content": [other, created()],
        "page": {"size": 200, "totalElements": 2, "totalPages": 1, "number": 0}});
    let mut found = interrupted.clone();
    found.push(exchange(lookup.clone(), Some((200, page))));
    assert_eq!(
        push(&p, found),
        PushStep::Done {
            refs: expected_refs()
        }
    );
    // It does not exist (an older order with the same lines is not ours): create again.
    let mut old = created();
    old["createdDate"] = json!("2026-10-01");
    let page = json!({"content": [old], "page": {"number": 0, "totalPages": 1}});
    let mut missing = interrupted;
    missing.push(exchange(lookup, Some((200, page))));
    let again = sent(push(&p, missing));
    assert_eq!((again.method, again.effect), (Method::Post, Effect::Create));
    assert_eq!(again.body, create.body);
}

#[test]
fn pax8_refusals_are_reported_with_their_message() {
    let p = q1001();
    let create = sent(push(&p, Vec::new()));
    let body = json!({"type": "Unprocessable", "message": "Invalid order", "status": 422,
        "details": [{"message": "commitmentTermId is required"}]});
    let e = Pax8
        .push_step(&PushInput {
            today: None,
            document: tenor_plugin_sdk::exchange::PushDocument::PurchaseOrder {
                purchase_order: Box::new(p.clone()),
            },
            accounts: p.customer.accounts.clone(),
            exchanges: vec![exchange(create, Some((422, body)))],
        })
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("422") && e.contains("commitmentTermId is required"),
        "{e}"
    );
}

#[test]
fn order_responses_read_back_without_line_item_numbers() {
    let lines = Pax8.parse_order(&created().to_string()).unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].part_number, MDB);
    assert_eq!(lines[0].quantity, Decimal::from(12));
    assert_eq!(lines[0].billing.as_deref(), Some("monthly"));
    assert_eq!(lines[0].line_ref.as_deref(), Some("1"));
    assert_eq!(lines[0].start, NaiveDate::from_ymd_opt(2026, 12, 2));
    assert_eq!(
        lines[1].document,
        "Pax8 order 8e42de97-6bfe-4db5-864b-d2e4b18c71e2"
    );
    assert_eq!(
        lines[1].customer, None,
        "a company uuid is not a Tenor customer id"
    );
}

fn pull(
    what: PullKind,
    month: Option<&str>,
    pushed: Vec<VendorRef>,
    ex: Vec<Exchange>,
) -> PullStep {
    let mut accounts = Accounts::new();
    accounts.insert("company".into(), COMPANY_ID.into());
    Pax8.pull_step(&PullInput {
        what,
        accounts,
        month: month.map(str::to_string),
        pushed,
        exchanges: ex,
    })
    .unwrap()
}

fn next(step: PullStep) -> Request {
    match step {
        PullStep::Send { request } => request,
        PullStep::Done { pulled } => panic!("expected a request, got {pulled:?}"),
    }
}

#[test]
fn subscriptions_are_read_by_company_exactly() {
    let first = next(pull(PullKind::Subscriptions, None, Vec::new(), Vec::new()));
    assert_eq!(first.path, "/subscriptions");
    assert!(
        first
            .query
            .contains(&("companyId".into(), COMPANY_ID.into()))
    );
    // Text, not `json!`: money must keep the digits it was written with.
    let page = parse(&format!(
        r#"{{"content": [{{
        "id": "05c587df-9e7d-4ef9-8218-0262198e36c9", "companyId": "{COMPANY_ID}",
        "productId": "{BP}", "quantity": 45, "startDate": "2026-12-01T08:30:00Z",
        "status": "Active", "price": 22.00, "partnerCost": 17.6000,
        "billingTerm": "Monthly",
        "commitmentTerm": {{"id": "{ONE_YEAR}", "term": "1-Year", "endDate": "2027-11-30"}}}}],
        "page": {{"number": 0, "totalPages": 1}}}}"#
    ));
    let PullStep::Done { pulled } = pull(
        PullKind::Subscriptions,
        None,
        Vec::new(),
        vec![exchange(first, Some((200, page)))],
    ) else {
        panic!("one page is all")
    };
    let s = &pulled.subscriptions[0];
    assert_eq!(s.part_number, BP);
    assert_eq!(s.quantity, Decimal::from(45));
    assert_eq!(
        (s.term.as_deref(), s.billing.as_deref()),
        (Some("P1Y"), Some("monthly"))
    );
    assert_eq!(s.end, NaiveDate::from_ymd_opt(2027, 12, 1));
    assert_eq!(s.unit_cost.unwrap().to_string(), "17.6000");
    assert_eq!(s.unit_price.unwrap().to_string(), "22.00");
}

#[test]
fn invoices_of_the_month_are_read_from_what_pax8_charges_the_msp() {
    let list = next(pull(
        PullKind::Invoices,
        Some("2026-12"),
        Vec::new(),
        Vec::new(),
    ));
    assert_eq!(list.path, "/invoices");
    let invoices = json!({"content": [
        {"id": "inv-nov", "invoiceDate": "2026-11-30"},
        {"id": "inv-dec", "invoiceDate": "2026-12-31"}], "page": {"number": 0, "totalPages": 1}});
    let mut ex = vec![exchange(list, Some((200, invoices)))];
    let items = next(pull(
        PullKind::Invoices,
        Some("2026-12"),
        Vec::new(),
        ex.clone(),
    ));
    assert_eq!(items.path, "/invoices/inv-dec/items");
    // Customer price 22.00 × 45 = 990.00; Pax8 charges the MSP 17.60 × 45 = 792.00.
    let page = parse(&format!(
        r#"{{"content": [
        {{"id": "i1", "companyId": "{COMPANY_ID}", "productId": "{BP}", "subscriptionId": "s1",
         "type": "subscription", "startPeriod": "2026-12-01", "endPeriod": "2026-12-31",
         "quantity": 45, "price": 22.00, "subTotal": 990.00, "cost": 17.60, "costTotal": 792.00,
         "term": "Monthly", "currencyCode": "USD"}},
        {{"id": "i2", "companyId": "{COMPANY_ID}", "productId": "{MDB}", "subscriptionId": "s2",
         "type": "prorate", "startPeriod": "2026-12-15", "endPeriod": "2027-01-15",
         "quantity": 5, "cost": 2.40, "costTotal": 12.0000}},
        {{"id": "i3", "companyId": "someone-else", "productId": "{BP}", "quantity": 1,
         "cost": 1, "costTotal": 1}}],
        "page": {{"number": 0, "totalPages": 1}}}}"#
    ));
    ex.push(exchange(items, Some((200, page))));
    let PullStep::Done { pulled } = pull(PullKind::Invoices, Some("2026-12"), Vec::new(), ex)
    else {
        panic!("every page read")
    };
    assert_eq!(
        pulled.invoices.len(),
        2,
        "the other company's item is not this customer's"
    );
    let l = &pulled.invoices[0];
    assert_eq!(
        (l.document.as_str(), l.amount.to_string()),
        ("inv-dec", "792.00".into())
    );
    assert_eq!(l.unit_price.unwrap().to_string(), "17.60");
    // `term` is the billing term: `Monthly` says nothing of the commitment (P1Y here).
    assert_eq!(
        (l.term.as_deref(), l.billing.as_deref()),
        (None, Some("monthly"))
    );
    // Inclusive `endPeriod` (the 31st) and exclusive (the 15th, as it started) both end right.
    assert_eq!(l.period_end, NaiveDate::from_ymd_opt(2027, 1, 1));
    assert_eq!(
        pulled.invoices[1].period_end,
        NaiveDate::from_ymd_opt(2027, 1, 15)
    );
    assert_eq!(pulled.invoices[1].amount.to_string(), "12.0000");
}

#[test]
fn orders_are_read_back_by_the_ids_a_push_stored() {
    let pushed = expected_refs();
    let req = next(pull(PullKind::Orders, None, pushed.clone(), Vec::new()));
    assert_eq!(req.path, "/orders/8e42de97-6bfe-4db5-864b-d2e4b18c71e2");
    let PullStep::Done { pulled } = pull(
        PullKind::Orders,
        None,
        pushed,
        vec![exchange(req, Some((200, created())))],
    ) else {
        panic!("one order")
    };
    assert_eq!(pulled.orders.len(), 2);
}
