#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use super::*;
use tenor_plugin_sdk::exchange::Exchange;

/// The SDK's sample sales input cut to one monthly licence line and the onboarding fee, each
/// with the catalogue item the rules would give.
fn sales() -> SalesInput {
    let mut s = tenor_plugin_sdk::samples::sales_input().unwrap();
    s.sales_order.lines.retain(|l| l.line == 1 || l.line == 11);
    s.template.lines.retain(|l| l.line == 1);
    for l in &mut s.sales_order.lines {
        l.catalog_item = Some(format!("CW-{}", l.product));
    }
    s.template.lines[0].catalog_item = Some("CW-M365-BP".into());
    s
}

fn linked() -> Accounts {
    [("company".to_string(), "250".to_string())]
        .into_iter()
        .collect()
}

fn input(exchanges: Vec<Exchange>) -> PushInput {
    PushInput {
        today: None,
        document: PushDocument::Sales {
            sales: Box::new(sales()),
        },
        accounts: linked(),
        exchanges,
    }
}

/// A ConnectWise that keeps what is created and answers lookups from it, written from the
/// API's shapes (not from the plugin): records by path, each with its `id`.
#[derive(Default)]
struct Sim {
    records: Vec<(String, Value)>,
    next: u64,
}

impl Sim {
    fn answer(&mut self, r: &Request) -> Value {
        let cond = r
            .query
            .iter()
            .find(|(k, _)| k == "conditions")
            .map(|(_, v)| v.clone());
        match (r.method, r.path.as_str()) {
            (Method::Get, "/company/companies/250") => {
                json!({"id": 250, "identifier": "SampleDental", "defaultContact": {"id": 31, "name": "Ana Ruiz"}})
            }
            (Method::Get, "/finance/billingCycles") => json!([
                {"id": 4, "identifier": "M", "name": "Monthly", "billingOptions": "Monthly"},
                {"id": 6, "identifier": "A", "name": "Annual", "billingOptions": "Annually"}
            ]),
            (Method::Post, path) => {
                self.next += 1;
                let id = self.next + 100;
                let mut body = r.body.clone().unwrap();
                body["id"] = json!(id);
                self.records.push((path.to_string(), body.clone()));
                body
            }
            (Method::Get, path) => {
                let cond = cond.unwrap();
                let key = |b: &Value| -> String {
                    [
                        &b["name"],
                        &b["poNumber"],
                        &b["catalogItem"]["identifier"],
                        &b["product"]["identifier"],
                    ]
                    .iter()
                    .find_map(|v| v.as_str())
                    .unwrap()
                    .to_string()
                };
                let found: Vec<Value> = self
                    .records
                    .iter()
                    .filter(|(p, b)| p == path && cond.contains(&format!("\"{}\"", key(b))))
                    .map(|(_, b)| b.clone())
                    .collect();
                Value::Array(found)
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    fn creates(&self, path: &str) -> usize {
        self.records.iter().filter(|(p, _)| p == path).count()
    }
}

/// Runs a push to the end; the answers whose index is in `lost` are made but never recorded
/// (the push was killed after sending).
fn run(sim: &mut Sim, lost: &[usize]) -> (Vec<Request>, Vec<VendorRef>) {
    let mut exchanges: Vec<Exchange> = Vec::new();
    for _ in 0..50 {
        match push_step(&input(exchanges.clone())).unwrap() {
            PushStep::Send { request } => {
                let body = sim.answer(&request);
                let response = (!lost.contains(&exchanges.len())).then(|| Response {
                    status: if request.method == Method::Post {
                        201
                    } else {
                        200
                    },
                    headers: Vec::new(),
                    body,
                });
                exchanges.push(Exchange { request, response });
            }
            PushStep::Done { refs } => {
                return (exchanges.into_iter().map(|e| e.request).collect(), refs);
            }
            PushStep::Wait { until, why } => panic!("ConnectWise never waits: {until} {why}"),
        }
    }
    panic!("the push did not end");
}

#[test]
fn a_fresh_push_sends_each_record_once_with_the_ids_before_it() {
    let mut sim = Sim::default();
    let (sent, refs) = run(&mut sim, &[]);
    let shown: Vec<String> = sent
        .iter()
        .map(|r| format!("{:?} {}", r.method, r.path))
        .collect();
    assert_eq!(
        shown,
        [
            "Get /company/companies/250",
            "Get /finance/billingCycles",
            "Post /finance/agreements",
            "Post /finance/agreements/101/additions",
            "Post /sales/orders",
            "Post /procurement/products",
            "Post /procurement/products",
        ]
    );
    let agreement = sent[2].body.as_ref().unwrap();
    // Field by field, as VENDORS.md and model_agreement.go have them.
    assert_eq!(agreement["name"], "RT-Q-SAMPLE monthly");
    assert_eq!(agreement["type"], json!({"name": "Tenor Recurring"}));
    assert_eq!(agreement["company"], json!({"id": 250}));
    assert_eq!(agreement["contact"], json!({"id": 31}));
    assert_eq!(agreement["billingCycle"], json!({"id": 4}));
    assert!(agreement.get("billCycleId").is_none());
    assert_eq!(agreement["customerPO"], "SO-Q-SAMPLE");
    let addition = sent[3].body.as_ref().unwrap();
    assert_eq!(addition["product"], json!({"identifier": "CW-M365-BP"}));
    assert_eq!(addition["billCustomer"], "Billable");
    let order = sent[4].body.as_ref().unwrap();
    assert_eq!(order["company"], json!({"id": 250}));
    assert_eq!(order["poNumber"], "SO-Q-SAMPLE");
    assert_eq!(order["status"], json!({"name": "New"}));
    assert_eq!(order["salesRep"], json!({"identifier": "Tenor"}));
    let licence = sent[5].body.as_ref().unwrap();
    assert_eq!(licence["catalogItem"], json!({"identifier": "CW-M365-BP"}));
    assert_eq!(licence["salesOrder"], json!({"id": 103}));
    assert_eq!(licence["agreement"], json!({"id": 101}));
    assert_eq!(licence["billableOption"], "DoNotBill");
    let fee = sent[6].body.as_ref().unwrap();
    assert_eq!(fee["catalogItem"], json!({"identifier": "CW-ONBOARDING"}));
    assert_eq!(fee["billableOption"], "Billable");
    assert!(fee.get("agreement").is_none());
    let kinds: Vec<(&str, &str, Option<u32>)> = refs
        .iter()
        .map(|r| (r.kind.as_str(), r.id.as_str(), r.line))
        .collect();
    assert_eq!(
        kinds,
        [
            ("agreement", "101", None),
            ("addition", "101/102", Some(1)),
            ("sales_order", "103", None),
            ("product", "104", Some(1)),
            ("product", "105", Some(11)),
        ]
    );
}

#[test]
fn a_push_killed_after_any_create_is_resumed_without_creating_twice() {
    // Exchanges 2 to 6 are the creates of a fresh push.
    for lost in 2..=6 {
        let mut sim = Sim::default();
        let (sent, refs) = run(&mut sim, &[lost]);
        assert_eq!(
            sent[lost + 1].method,
            Method::Get,
            "a lost create at {lost} is looked up first"
        );
        for path in [
            "/finance/agreements",
            "/finance/agreements/101/additions",
            "/sales/orders",
        ] {
            assert_eq!(sim.creates(path), 1, "{path} after losing exchange {lost}");
        }
        assert_eq!(
            sim.creates("/procurement/products"),
            2,
            "after losing exchange {lost}"
        );
        assert_eq!(refs.len(), 5);
    }
}

#[test]
fn refusals_name_what_is_missing() {
    let mut i = input(vec![]);
    i.accounts.clear();
    let m = push_step(&i).unwrap_err().to_string();
    assert_eq!(
        m,
        "customer CUST-SAMPLE has no ConnectWise company: link it with `tenor link CUST-SAMPLE --connectwise company=ID`"
    );
    let mut i = input(vec![]);
    let PushDocument::Sales { sales } = &mut i.document else {
        panic!()
    };
    sales.template.lines[0].catalog_item = None;
    let m = push_step(&i).unwrap_err().to_string();
    assert!(
        m.contains("line 1 (M365-BP) has no ConnectWise catalogue item"),
        "{m}"
    );
    // A company without a default contact: refused, never a contact the API cannot resolve.
    let read = match push_step(&input(vec![])).unwrap() {
        PushStep::Send { request } => request,
        other => panic!("{other:?}"),
    };
    let e = Exchange {
        request: read,
        response: Some(Response {
            status: 200,
            headers: vec![],
            body: json!({"id": 250}),
        }),
    };
    let m = push_step(&input(vec![e])).unwrap_err().to_string();
    assert!(
        m.contains("company 250 has no default contact") && m.contains("--connectwise contact=ID"),
        "{m}"
    );
    // A linked contact is taken as is: no company read.
    let mut i = input(vec![]);
    i.accounts.insert("contact".into(), "77".into());
    let PushStep::Send { request } = push_step(&i).unwrap() else {
        panic!()
    };
    assert_eq!(request.path, "/finance/billingCycles");
}

/// `request` answered 200 with `body`.
pub(crate) fn answered(request: Request, body: Value) -> Exchange {
    Exchange {
        request,
        response: Some(Response {
            status: 200,
            headers: vec![],
            body,
        }),
    }
}

#[test]
fn a_seat_change_cancels_the_addition_and_adds_one_from_the_billed_day() {
    let change = json!({"schema": "tenor.change-order/1", "line": 1, "old_quantity": "25", "new_quantity": "30",
        "effective": "2027-03-10", "billed_from": "2027-03-10"});
    let pushed = vec![VendorRef {
        kind: "addition".into(),
        id: "101/102".into(),
        line: Some(1),
    }];
    let step_with = |ex: Vec<Exchange>| {
        push_step(&PushInput {
            today: None,
            document: PushDocument::Change {
                change_order: change.clone(),
                pushed: pushed.clone(),
            },
            accounts: linked(),
            exchanges: ex,
        })
    };
    let PushStep::Send { request: read } = step_with(vec![]).unwrap() else {
        panic!()
    };
    assert_eq!(read.path, "/finance/agreements/101/additions/102");
    let held: Value = serde_json::from_str(
        r#"{"id": 102, "product": {"identifier": "CW-M365-BP"}, "quantity": 25,
        "unitPrice": 22.00, "billCustomer": "Billable", "effectiveDate": "2026-12-07T00:00:00Z"}"#,
    )
    .unwrap();
    let e1 = answered(read, held.clone());
    let PushStep::Send { request: cancel } = step_with(vec![e1.clone()]).unwrap() else {
        panic!()
    };
    assert_eq!(
        (cancel.method, cancel.effect),
        (Method::Patch, Effect::Update)
    );
    assert_eq!(
        cancel.body,
        Some(json!([{"op": "replace", "path": "cancelledDate", "value": "2027-03-09T00:00:00Z"}]))
    );
    let e2 = answered(cancel, held.clone());
    let PushStep::Send { request: add } = step_with(vec![e1.clone(), e2.clone()]).unwrap() else {
        panic!()
    };
    assert_eq!(add.path, "/finance/agreements/101/additions");
    let body = add.body.clone().unwrap();
    assert_eq!(body["quantity"].to_string(), "30");
    assert_eq!(body["unitPrice"].to_string(), "22.00");
    assert_eq!(body["effectiveDate"], "2027-03-10T00:00:00Z");
    assert_eq!(body["product"], json!({"identifier": "CW-M365-BP"}));
    let e3 = Exchange {
        request: add,
        response: Some(Response {
            status: 201,
            headers: vec![],
            body: json!({"id": 140}),
        }),
    };
    let done = step_with(vec![e1.clone(), e2, e3]).unwrap();
    assert_eq!(
        done,
        PushStep::Done {
            refs: vec![VendorRef {
                kind: "addition".into(),
                id: "101/140".into(),
                line: Some(1)
            }]
        }
    );
    // An addition changed outside Tenor is not changed again.
    let mut other = held;
    other["quantity"] = json!(27);
    let m = step_with(vec![answered(e1.request, other)])
        .unwrap_err()
        .to_string();
    assert!(m.contains("holds 27 units, the change is from 25"), "{m}");
}

/// A push of SN1, SN2 (and SN1 again) onto line 12, pushed as product 105.
fn serials_input() -> PushInput {
    let serial = |s: &str| Serial {
        reference: Some("PO-Q-SAMPLE-ingram".into()),
        line_ref: Some("12".into()),
        part_number: "7YD4KL".into(),
        serial: s.into(),
    };
    let pushed = vec![VendorRef {
        kind: "product".into(),
        id: "105".into(),
        line: Some(12),
    }];
    let doc = PushDocument::Serials {
        serials: vec![serial("SN1"), serial("SN2"), serial("SN1")],
        pushed,
    };
    PushInput {
        today: None,
        document: doc,
        accounts: linked(),
        exchanges: vec![],
    }
}

#[test]
fn serial_numbers_go_onto_the_procurement_product_of_their_line() {
    let i = serials_input();
    let step = |ex: Vec<Exchange>| match push_step(&PushInput {
        exchanges: ex,
        ..i.clone()
    })
    .unwrap()
    {
        PushStep::Send { request } => request,
        PushStep::Done { .. } | PushStep::Wait { .. } => panic!("done too early"),
    };
    let read = step(vec![]);
    assert_eq!(
        (read.method, read.path.as_str()),
        (Method::Get, "/procurement/products/105")
    );
    // The product holds a serial typed into ConnectWise, and SN2 already: both kept, SN1 added.
    let held = json!({"id": 105, "serialNumbers": ["TYPED-1", "SN2"]});
    let patch = step(vec![answered(read.clone(), held.clone())]);
    assert_eq!(
        (patch.method, patch.path.as_str()),
        (Method::Patch, "/procurement/products/105")
    );
    assert_eq!(
        patch.body,
        Some(
            json!([{"op": "replace", "path": "serialNumbers", "value": ["TYPED-1", "SN2", "SN1"]}])
        )
    );
    // A write whose answer was lost is sent again, the same.
    let lost_answer = Exchange {
        request: patch.clone(),
        response: None,
    };
    let again = step(vec![answered(read.clone(), held.clone()), lost_answer]);
    assert_eq!(again, patch);
    let done = push_step(&PushInput {
        today: None,
        exchanges: vec![answered(read, held), answered(patch, json!({"id": 105}))],
        ..i
    })
    .unwrap();
    assert!(matches!(done, PushStep::Done { refs } if refs.len() == 1));
}

#[test]
fn a_product_holding_every_serial_is_not_written_and_odd_answers_are_refused() {
    let i = serials_input();
    let PushStep::Send { request: read } = push_step(&i).unwrap() else {
        panic!()
    };
    // A product that holds them all is not written.
    let all = json!({"id": 105, "serialNumbers": ["SN1", "SN2"]});
    let done = push_step(&PushInput {
        today: None,
        exchanges: vec![answered(read.clone(), all)],
        ..i.clone()
    })
    .unwrap();
    assert!(matches!(done, PushStep::Done { refs } if refs.len() == 1));
    let odd = json!({"id": 105, "serialNumbers": "SN1"});
    let e = push_step(&PushInput {
        today: None,
        exchanges: vec![answered(read, odd)],
        ..i.clone()
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("`serialNumbers` is \"SN1\", not a list"), "{e}");
    let mut lost = i;
    let PushDocument::Serials { pushed, .. } = &mut lost.document else {
        panic!()
    };
    pushed.clear();
    assert!(
        push_step(&lost)
            .unwrap_err()
            .to_string()
            .contains("line 12 was never pushed")
    );
}

#[test]
fn pulls_the_additions_of_each_agreement() {
    let pushed = vec![VendorRef {
        kind: "agreement".into(),
        id: "101".into(),
        line: None,
    }];
    let pull = |ex: Vec<Exchange>| {
        pull_step(&PullInput {
            what: PullKind::Subscriptions,
            accounts: linked(),
            month: None,
            pushed: pushed.clone(),
            exchanges: ex,
        })
        .unwrap()
    };
    let PullStep::Send { request } = pull(vec![]) else {
        panic!()
    };
    assert_eq!(request.path, "/finance/agreements/101/additions");
    let body: Value = serde_json::from_str(r#"[
        {"id": 102, "product": {"identifier": "CW-M365-BP"}, "quantity": 25, "unitPrice": 22.00, "unitCost": 18.70,
         "billCustomer": "Billable", "effectiveDate": "2026-12-07T00:00:00Z", "cancelledDate": "2027-03-09T00:00:00Z", "agreementStatus": "Active"},
        {"id": 140, "product": {"identifier": "CW-M365-BP"}, "quantity": 30, "unitPrice": 22.00,
         "billCustomer": "Billable", "effectiveDate": "2027-03-10T00:00:00Z"}]"#).unwrap();
    let PullStep::Done { pulled } = pull(vec![answered(request, body)]) else {
        panic!()
    };
    let s = &pulled.subscriptions;
    assert_eq!(s.len(), 2);
    assert_eq!(
        (
            s[0].id.as_str(),
            s[0].agreement.as_deref(),
            s[0].part_number.as_str()
        ),
        ("102", Some("101"), "CW-M365-BP")
    );
    assert_eq!(s[0].unit_price.unwrap().to_string(), "22.00");
    assert_eq!(s[0].unit_cost.unwrap().to_string(), "18.70");
    assert_eq!(s[0].start, NaiveDate::from_ymd_opt(2026, 12, 7));
    assert_eq!(s[0].end, NaiveDate::from_ymd_opt(2027, 3, 10));
    assert_eq!(s[1].quantity.to_string(), "30");
    assert_eq!((s[1].end, s[1].status.as_str()), (None, "Active"));
}
