//! End to end against the vendor simulators (issue 13): accept → push → the simulators →
//! pull, for the example quotes.
//!
//! What the simulators must hold is written here from the quotes (`rules/quotes/*`) and the
//! rules (`rules/*.tenor`: the vendor ids, prices and commitments), never read back from
//! Tenor's own documents, so a connector that sends the wrong thing fails here.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests: a missing JSON key reads Null and fails the assertion"
)]

use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use tenor_simulators::{Fault, FaultKind, Vendor};
use tenor_tests::sims::Vendors;

/// A Pax8 order line: product uuid, quantity, billing term, commitment term uuid.
type Pax8Line = (String, i64, String, Option<String>);
/// A ConnectWise addition or product: catalogue identifier, quantity, unit price.
type CwLine = (String, Decimal, Decimal);

fn dec(v: &Value) -> Decimal {
    match v {
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .unwrap(),
        Value::String(s) => Decimal::from_str(s).unwrap(),
        other => panic!("not a number: {other}"),
    }
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Every Pax8 order line the company holds, sorted.
fn pax8_lines(v: &Vendors, company: &str) -> Vec<Pax8Line> {
    let mut out: Vec<Pax8Line> = v.sims.with_world(|w| {
        w.pax8
            .orders
            .iter()
            .filter(|o| o.company_id == company)
            .flat_map(|o| o.line_items.iter())
            .map(|l| {
                (
                    l.product_id.clone(),
                    l.quantity,
                    l.billing_term.clone(),
                    l.commitment_term_id.clone(),
                )
            })
            .collect()
    });
    out.sort();
    out
}

/// The company's Pax8 subscriptions: product, quantity, billing term, commitment term name.
fn pax8_subscriptions(v: &Vendors, company: &str) -> Vec<(String, i64, String, Option<String>)> {
    let mut out: Vec<_> = v.sims.with_world(|w| {
        w.pax8
            .subscriptions
            .iter()
            .filter(|s| s.company_id == company)
            .map(|s| {
                (
                    s.product_id.clone(),
                    s.quantity,
                    s.billing_term.clone(),
                    s.commitment_term.as_ref().map(|c| c.term.clone()),
                )
            })
            .collect()
    });
    out.sort();
    out
}

fn p8(product: &str, qty: i64, billing: &str, commitment: &str) -> Pax8Line {
    (product.into(), qty, billing.into(), Some(commitment.into()))
}

/// The lines of the Ingram orders placed with this PO: part, quantity ordered.
fn ingram_lines(v: &Vendors, po: &str) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = v.sims.with_world(|w| {
        w.ingram
            .orders
            .iter()
            .filter(|o| o["customerOrderNumber"] == po)
            .flat_map(|o| o["lines"].as_array().cloned().unwrap_or_default())
            .map(|l| {
                (
                    l["ingramPartNumber"].as_str().unwrap().to_string(),
                    l["quantityOrdered"].as_i64().unwrap(),
                )
            })
            .collect()
    });
    out.sort();
    out
}

/// The agreements with this `customerPO`: their billing cycle names, sorted.
fn cw_cycles(v: &Vendors, customer_po: &str) -> Vec<String> {
    let mut out: Vec<String> = v.sims.with_world(|w| {
        w.connectwise
            .agreements
            .iter()
            .filter(|a| a["customerPO"] == customer_po)
            .map(|a| a["billingCycle"]["name"].as_str().unwrap().to_string())
            .collect()
    });
    out.sort();
    out
}

/// The charging additions (unit price above zero: discounts are negative additions of their
/// own) of the agreements with this `customerPO`, sorted.
fn cw_additions(v: &Vendors, customer_po: &str) -> Vec<CwLine> {
    let mut out: Vec<CwLine> = v.sims.with_world(|w| {
        let ids: Vec<Value> = w
            .connectwise
            .agreements
            .iter()
            .filter(|a| a["customerPO"] == customer_po)
            .map(|a| a["id"].clone())
            .collect();
        w.connectwise
            .additions
            .iter()
            .filter(|x| ids.contains(&x["agreementId"]))
            .map(|x| {
                (
                    x["product"]["identifier"].as_str().unwrap().to_string(),
                    dec(&x["quantity"]),
                    dec(&x["unitPrice"]),
                )
            })
            .filter(|(_, _, price)| *price > Decimal::ZERO)
            .collect()
    });
    out.sort();
    out
}

/// The billable procurement products of the sales orders with this `poNumber`, sorted.
fn cw_billable_products(v: &Vendors, po: &str) -> Vec<CwLine> {
    let mut out: Vec<CwLine> = v.sims.with_world(|w| {
        let ids: Vec<Value> = w
            .connectwise
            .sales_orders
            .iter()
            .filter(|o| o["poNumber"] == po)
            .map(|o| o["id"].clone())
            .collect();
        w.connectwise
            .products
            .iter()
            .filter(|p| ids.contains(&p["salesOrder"]["id"]))
            .filter(|p| p["billableOption"] == "Billable")
            .map(|p| {
                (
                    p["catalogItem"]["identifier"].as_str().unwrap().to_string(),
                    dec(&p["quantity"]),
                    dec(&p["price"]),
                )
            })
            .collect()
    });
    out.sort();
    out
}

fn cw(identifier: &str, qty: &str, price: &str) -> CwLine {
    (identifier.into(), d(qty), d(price))
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// What one example quote sold, at each vendor, from the quote and the rules.
struct Sold {
    file: &'static str,
    quote: &'static str,
    /// The day its lines start (every example quote's lines start together).
    start: &'static str,
    pax8_company: &'static str,
    pax8: Vec<Pax8Line>,
    ingram: Vec<(String, i64)>,
    cycles: Vec<String>,
    additions: Vec<CwLine>,
    products: Vec<CwLine>,
}

// Pax8 product and commitment uuids (rules/microsoft-365.tenor `bought via pax8 … id`,
// `commitment … via pax8 id`) and company uuids (rules/links.yaml).
const M365_BP: &str = "9b2e4d61-3c7f-4a58-b1e0-7d6c2f9a4b33";
const M365_BP_P1Y: &str = "bea4256e-36c2-44c7-9885-bbac88043e5f";
const MDB: &str = "5a0c9e28-d41b-47f6-8e3a-9c2b5d1f0e66";
const MDB_P1Y: &str = "3be93fb8-d995-4a62-9b11-96f741b79d35";
const MDB_P1M: &str = "e08409f0-cb34-4bfb-a3b6-bd8ff306dc01";
const E3: &str = "c4a81f07-52d9-4e3b-8a6f-1b9e0d7c5a44";
const E3_P3Y: &str = "cb4ac8b4-df0c-441f-95bf-54df258ececb";
const EXO: &str = "1e7d3a95-6b2c-4f80-9c4e-2a8f6d0b7c55";
const EXO_P1Y: &str = "6fcfd73d-bea7-4239-b379-0dfbd38cadcd";
const EXO_P1M: &str = "432ff218-ce59-45e6-a36b-0753cf4b1858";
const M365_BS: &str = "0d3b7e52-8f1a-4c6e-a2d9-5e4f8b1c3a22";
const M365_BS_P1M: &str = "aa8b230f-3b05-4392-a6ea-1c0d2f8b9e9d";
const CUST_0042: &str = "3f0c1e52-7d4b-4a6e-9c1a-2b8e5d7f9a01";

/// The four example quotes as sold.
// Long: one table of expected values per quote, read top to bottom against the quote files.
#[allow(
    clippy::too_many_lines,
    reason = "one table of expected values per quote"
)]
fn example_quotes() -> Vec<Sold> {
    vec![
        // Q-1001: 25 Business Premium and Defender, P1Y billed monthly (Pax8 `Monthly` with
        // the 1-year commitment); 28 devices at the 11–50 tier's 40.00; laptops and docks
        // from Ingram (rules/hardware.tenor parts 7YD4KL, 5TF9KV) at their list prices.
        Sold {
            file: "q1001-dental-practice.yaml",
            quote: "Q-1001",
            start: "2026-12-07",
            pax8_company: CUST_0042,
            pax8: sorted(vec![
                p8(M365_BP, 25, "Monthly", M365_BP_P1Y),
                p8(MDB, 25, "Monthly", MDB_P1Y),
            ]),
            ingram: vec![("5TF9KV".into(), 4), ("7YD4KL".into(), 4)],
            cycles: vec!["Monthly".into()],
            additions: sorted(vec![
                cw("M365-BP", "25", "22.00"),
                cw("MDB", "25", "3.00"),
                cw("MS-DEVICE", "28", "40.00"),
                cw("DATTO-CLOUD", "1", "50.00"),
            ]),
            products: sorted(vec![
                cw("ONBOARDING", "1", "1000.00"),
                cw("DELL-LAT5550", "4", "1237.80"),
                cw("DELL-WD22TB4", "4", "273.75"),
            ]),
        },
        // Q-1002: 18 E3 on P3Y upfront (Pax8 `3-Year`, ConnectWise's `Triennial` cycle, 1,234.29
        // a seat a term), 6 Exchange Online P1Y annual (45.71 a year).
        Sold {
            file: "q1002-nonprofit.yaml",
            quote: "Q-1002",
            start: "2026-10-12",
            pax8_company: "8a6d2f14-0b3e-4c57-a9d8-61f2e0c4b7d3",
            pax8: sorted(vec![
                p8(E3, 18, "3-Year", E3_P3Y),
                p8(EXO, 6, "Annual", EXO_P1Y),
            ]),
            ingram: vec![],
            cycles: vec!["Annual".into(), "Triennial".into()],
            additions: sorted(vec![
                cw("M365-E3", "18", "1234.29"),
                cw("EXO-P1", "6", "45.71"),
            ]),
            products: vec![cw("ONBOARDING", "1", "1000.00")],
        },
        // Q-1003: 14 managed workstations (the bundle includes Business Premium and Defender,
        // bought at Pax8 P1Y monthly), a server, 6 hours of labour at 165.00.
        Sold {
            file: "q1003-managed-workstation.json",
            quote: "Q-1003",
            start: "2027-02-15",
            pax8_company: "c41b7e90-5f2a-4d18-b6e3-9a07d5c2f814",
            pax8: sorted(vec![
                p8(M365_BP, 14, "Monthly", M365_BP_P1Y),
                p8(MDB, 14, "Monthly", MDB_P1Y),
            ]),
            ingram: vec![],
            cycles: vec!["Monthly".into()],
            additions: sorted(vec![
                cw("MWS", "14", "65.00"),
                cw("MS-SERVER", "1", "135.00"),
            ]),
            products: vec![cw("LABOUR-HOUR", "6", "165.00")],
        },
        // Q-1004: everything month to month (Pax8 `Monthly` with the 1-month commitment, the
        // P1M prices); Defender on its own calendar-month agreement; onboarding 1,500 − 250.
        Sold {
            file: "q1004-month-to-month.yaml",
            quote: "Q-1004",
            start: "2027-01-18",
            pax8_company: "5e92a0c7-3d61-4f8b-8c2e-b7140f6a9d25",
            pax8: sorted(vec![
                p8(M365_BS, 8, "Monthly", M365_BS_P1M),
                p8(EXO, 3, "Monthly", EXO_P1M),
                p8(MDB, 8, "Monthly", MDB_P1M),
            ]),
            ingram: vec![],
            cycles: vec!["Monthly".into(), "Monthly".into()],
            additions: sorted(vec![
                cw("M365-BS", "8", "15.00"),
                cw("EXO-P1", "3", "4.80"),
                cw("MDB", "8", "3.60"),
                cw("MS-DEVICE", "8", "45.00"),
                cw("DATTO-CLOUD", "800", "0.03125"),
            ]),
            products: vec![cw("ONBOARDING", "1", "1250.00")],
        },
    ]
}

/// Asserts that the simulators hold exactly what `s` sold.
fn assert_holds(v: &Vendors, s: &Sold) {
    let q = s.quote;
    assert_eq!(
        pax8_lines(v, s.pax8_company),
        s.pax8,
        "{q}: Pax8 order lines"
    );
    let subs: Vec<(String, i64, String)> = pax8_subscriptions(v, s.pax8_company)
        .into_iter()
        .map(|(p, n, b, _)| (p, n, b))
        .collect();
    let want: Vec<(String, i64, String)> = s
        .pax8
        .iter()
        .map(|(p, n, b, _)| (p.clone(), *n, b.clone()))
        .collect();
    assert_eq!(subs, want, "{q}: Pax8 subscriptions");
    let po = format!("PO-{q}-ingram");
    assert_eq!(ingram_lines(v, &po), s.ingram, "{q}: Ingram order lines");
    let so = format!("SO-{q}");
    assert_eq!(
        cw_cycles(v, &so),
        s.cycles,
        "{q}: agreements' billing cycles"
    );
    assert_eq!(cw_additions(v, &so), s.additions, "{q}: additions");
    assert_eq!(v.sims.cw_sales_orders_for(&so), 1, "{q}: one sales order");
    assert_eq!(cw_billable_products(v, &so), s.products, "{q}: products");
}

fn day(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The simulators' first day (tests/simulators/example-state.yaml), when every quote is
/// accepted.
const FIRST_DAY: &str = "2026-12-07";

/// The quotes in the order their lines start, each pushed on its start day (a quote that
/// started before the first day, Q-1002, on the first day: late, as an MSP that accepted it
/// late would).
fn by_start(mut quotes: Vec<Sold>) -> Vec<Sold> {
    quotes.sort_by_key(|s| s.start);
    quotes
}

/// Moves the simulators and Tenor to the quote's start day (never before the first day),
/// then pushes it; panics with tenor's words when the push fails or a vendor refused a body.
fn push_on_its_start_day(v: &mut Vendors, s: &Sold) {
    v.set_today(day(s.start.max(FIRST_DAY)));
    let push = v.tenor(&["push", s.quote]);
    assert!(push.ok, "{}: {}\n{}", s.quote, push.stdout, push.stderr);
    assert!(v.refused().is_empty(), "{}: {:?}", s.quote, v.refused());
}

#[test]
fn every_example_quote_pushes_and_the_vendors_hold_what_was_sold() {
    let mut v = Vendors::start("e2e-examples");
    let quotes = by_start(example_quotes());
    for s in &quotes {
        v.accept(s.file);
    }
    for s in &quotes {
        push_on_its_start_day(&mut v, s);
    }
    for s in &quotes {
        assert_holds(&v, s);
    }
    // The laptops' end user, as rules/links.yaml gives it: Ingram's US ERP requires the
    // address line, city, state and postal code with any end-user info.
    let end_user: Vec<Value> = v.sims.with_world(|w| {
        w.ingram
            .orders
            .iter()
            .filter(|o| o["customerOrderNumber"] == "PO-Q-1001-ingram")
            .map(|o| o["endUserInfo"].clone())
            .collect()
    });
    assert_eq!(
        end_user,
        vec![serde_json::json!({
            "endUserId": "EU-40042",
            "companyName": "Bayview Family Dental",
            "addressLine1": "410 Harbor View Drive",
            "city": "San Diego",
            "state": "CA",
            "postalCode": "92101",
            "countryCode": "US"
        })]
    );
    // A second push of every quote finds everything done and sends no create.
    let before = v.sims.received().len();
    for s in &quotes {
        let again = v.tenor(&["push", s.quote]);
        assert!(again.ok, "{}: {}", s.quote, again.stderr);
    }
    let creates: Vec<_> = v.sims.received()[before..]
        .iter()
        .filter(|r| r.method != "GET" && !r.path.contains("token"))
        .cloned()
        .collect();
    assert!(creates.is_empty(), "{creates:?}");
    for s in &quotes {
        assert_holds(&v, s);
    }
}

/// The pulled rows of one plugin and kind for a customer and month, as
/// `(part, quantity, unit, amount)` texts normalised (`17.6` and `17.60` alike), sorted.
fn pulled(
    v: &Vendors,
    customer: &str,
    month: &str,
    plugin: &str,
    kind: &str,
    unit: &str,
    amount: &str,
) -> Vec<(String, String, String, String)> {
    let record = tenor_core::record::Record::open(&v.db()).unwrap();
    let norm = |r: &Value, k: &str| {
        r.get(k)
            .and_then(Value::as_str)
            .map(|s| d(s).normalize().to_string())
            .unwrap_or_default()
    };
    let mut out: Vec<_> = record
        .pulled(customer, Some(month))
        .unwrap()
        .into_iter()
        .filter(|r| r.plugin == plugin && r.kind == kind)
        .map(|r| {
            let b = r.body;
            (
                b["part_number"].as_str().unwrap().to_string(),
                norm(&b, "quantity"),
                norm(&b, unit),
                norm(&b, amount),
            )
        })
        .collect();
    out.sort();
    out
}

fn row(part: &str, qty: &str, unit: &str, amount: &str) -> (String, String, String, String) {
    let n = |s: &str| {
        if s.is_empty() {
            String::new()
        } else {
            d(s).normalize().to_string()
        }
    };
    (part.into(), n(qty), n(unit), n(amount))
}

/// The month each example quote starts in, in order.
const START_MONTHS: [&str; 4] = ["2026-10", "2026-12", "2027-01", "2027-02"];

#[test]
fn every_plugin_pulls_every_kind_of_each_start_month() {
    let v = Vendors::start("e2e-pull");
    for s in example_quotes() {
        v.accept(s.file);
        assert!(v.tenor(&["push", s.quote]).ok, "{}", s.quote);
    }
    for m in START_MONTHS {
        v.sims.bill(m).unwrap();
        let pull = v.tenor(&["pull", "--month", m]);
        assert!(pull.ok, "{m}: {}\n{}", pull.stdout, pull.stderr);
        assert!(!pull.stderr.contains("error"), "{m}: {}", pull.stderr);
        // The plugins' warnings reach the user: TD SYNNEX serves its billing as a report only.
        assert!(
            pull.stderr
                .contains("warning: tdsynnex: TD SYNNEX publishes billing as a CSV report"),
            "{m}: {}",
            pull.stderr
        );
        assert!(v.refused().is_empty(), "{m}: {:?}", v.refused());
    }
    // Every plugin and kind reported, for every customer (TD SYNNEX: its subscription list
    // and its word that billing is a report, for every customer it links).
    let last = v.tenor(&["pull", "--month", "2027-02"]);
    for want in [
        "connectwise: CUST-0042 orders",
        "connectwise: CUST-0042 subscriptions",
        "connectwise: CUST-0042 invoices",
        "ingram: CUST-0042 orders",
        "ingram: CUST-0042 subscriptions",
        "ingram: CUST-0042 invoices",
        "pax8: CUST-0078 invoices",
        "tdsynnex: CUST-0078 subscriptions",
        "tdsynnex: CUST-0078 invoices",
    ] {
        assert!(last.stdout.contains(want), "{want}:\n{}", last.stdout);
    }
    assert_q1001_pulled(&v);
}

/// Q-1001's pulled rows, computed by hand from the rules' cost and price lines.
fn assert_q1001_pulled(v: &Vendors) {
    let c = "CUST-0042";
    // Ingram invoices the hardware at cost (rules/hardware.tenor): 4 × 1,049.00 and
    // 4 × 219.00, on the December invoice of the order placed 2026-12-07; none in January.
    let ingram = vec![
        row("5TF9KV", "4", "219.00", "876.00"),
        row("7YD4KL", "4", "1049.00", "4196.00"),
    ];
    assert_eq!(
        pulled(v, c, "2026-12", "ingram", "invoice", "unit_price", "amount"),
        ingram
    );
    assert!(pulled(v, c, "2027-01", "ingram", "invoice", "unit_price", "amount").is_empty());
    assert_eq!(
        pulled(v, c, "2026-12", "ingram", "order", "unit_cost", "none"),
        vec![
            row("5TF9KV", "4", "219", ""),
            row("7YD4KL", "4", "1049", "")
        ]
    );
    // Pax8's January invoice at cost (P1Y monthly cost: Business Premium 17.60, Defender
    // 2.40): the stub 2026-12-07..31 is 25 of 31 days, 25 × 17.60 × 25/31 = 354.84 and
    // 25 × 2.40 × 25/31 = 48.39; January in full 440.00 and 60.00. December has none (the
    // subscriptions started after its invoice date).
    assert_eq!(
        pulled(v, c, "2027-01", "pax8", "invoice", "unit_price", "amount"),
        vec![
            row(MDB, "25", "2.40", "48.39"),
            row(MDB, "25", "2.40", "60.00"),
            row(M365_BP, "25", "17.60", "354.84"),
            row(M365_BP, "25", "17.60", "440.00"),
        ]
    );
    assert!(pulled(v, c, "2026-12", "pax8", "invoice", "unit_price", "amount").is_empty());
    let record = tenor_core::record::Record::open(&v.db()).unwrap();
    let rows = record.pulled(c, Some("2027-01")).unwrap();
    let terms: Vec<(Option<&str>, Option<&str>)> = rows
        .iter()
        .filter(|r| r.plugin == "pax8" && r.kind == "invoice")
        .map(|r| (r.body["term"].as_str(), r.body["billing"].as_str()))
        .collect();
    // A `Monthly` item says the billing, never a one-month commitment.
    assert_eq!(terms, vec![(None, Some("monthly")); 4]);
    let subs: Vec<(String, Option<&str>, Option<&str>)> = rows
        .iter()
        .filter(|r| r.plugin == "pax8" && r.kind == "subscription")
        .map(|r| {
            (
                r.body["quantity"].as_str().unwrap().to_string(),
                r.body["term"].as_str(),
                r.body["billing"].as_str(),
            )
        })
        .collect();
    assert_eq!(subs, vec![("25".into(), Some("P1Y"), Some("monthly")); 2]);
    assert_q1001_pulled_psa(v);
}

/// Q-1001's ConnectWise rows: its invoices, additions and sales-order lines.
fn assert_q1001_pulled_psa(v: &Vendors) {
    let c = "CUST-0042";
    // ConnectWise's December agreement invoice bills the period [2026-12-01, 2027-01-01)
    // from the agreement's start on the 7th: 25 of its 31 days of 25 × 22.00 = 443.55, of
    // 25 × 3.00 = 60.48 and of 28 × 40.00 = 903.23, and the welcome offer's December part
    // (-90.32, worked out for those days already); not the backup, billed in arrears from
    // January (its addition is effective 2027-01-01); the sales order's standard invoice:
    // onboarding 1,000.00, 4 × 1,237.80, 4 × 273.75.
    assert_eq!(
        pulled(
            v,
            c,
            "2026-12",
            "connectwise",
            "invoice",
            "unit_price",
            "amount"
        ),
        sorted(vec![
            row("M365-BP", "25", "22.00", "443.55"),
            row("MDB", "25", "3.00", "60.48"),
            row("MS-DEVICE", "28", "40.00", "903.23"),
            row("MS-DEVICE", "1", "-90.32", "-90.32"),
            row("ONBOARDING", "1", "1000.00", "1000.00"),
            row("DELL-LAT5550", "4", "1237.80", "4951.20"),
            row("DELL-WD22TB4", "4", "273.75", "1095.00"),
        ])
    );
    // Each agreement line states the part of the period it bills: from the 7th.
    let record = tenor_core::record::Record::open(&v.db()).unwrap();
    let rows = record.pulled(c, Some("2026-12")).unwrap();
    let periods: Vec<(String, String)> = rows
        .iter()
        .filter(|r| r.plugin == "connectwise" && r.kind == "invoice")
        .filter(|r| r.body["part_number"] == "M365-BP")
        .map(|r| {
            let day = |k: &str| r.body[k].as_str().unwrap_or_default().to_string();
            (day("period_start"), day("period_end"))
        })
        .collect();
    assert_eq!(
        periods,
        vec![("2026-12-07".to_string(), "2027-01-01".to_string())]
    );
    // The additions as ConnectWise holds them, and the sales order's lines at cost.
    let additions = pulled(
        v,
        c,
        "2027-01",
        "connectwise",
        "subscription",
        "unit_price",
        "none",
    );
    for want in [
        row("M365-BP", "25", "22.00", ""),
        row("MDB", "25", "3.00", ""),
        row("MS-DEVICE", "28", "40.00", ""),
    ] {
        assert!(additions.contains(&want), "{want:?} in {additions:?}");
    }
    let orders = pulled(v, c, "2027-01", "connectwise", "order", "unit_cost", "none");
    for want in [
        row("DELL-LAT5550", "4", "1049.00", ""),
        row("DELL-WD22TB4", "4", "219.00", ""),
        row("ONBOARDING", "1", "600.00", ""),
    ] {
        assert!(orders.contains(&want), "{want:?} in {orders:?}");
    }
}

fn fault(vendor: Vendor, method: &str, path: &str, kind: FaultKind) -> Fault {
    Fault {
        vendor,
        method: method.into(),
        path: path.into(),
        kind,
        times: 1,
    }
}

/// Runs `tenor push QUOTE` until it completes (at most `tries` runs); returns the runs made.
fn push_until_done(v: &Vendors, quote: &str, tries: usize) -> usize {
    let mut said = Vec::new();
    for n in 1..=tries {
        let run = v.tenor(&["push", quote]);
        if run.ok {
            return n;
        }
        assert!(
            run.code.is_some(),
            "{quote}: tenor was killed\n{}",
            run.stderr
        );
        said.push(run.stderr);
    }
    panic!(
        "{quote}: not done after {tries} pushes:\n{}",
        said.join("\n---\n")
    )
}

/// Asserts every order of the example quotes exactly once at its vendor, with all its lines.
fn assert_each_once(v: &Vendors, sold: &[Sold]) {
    for s in sold {
        let q = s.quote;
        assert_eq!(
            v.sims.pax8_orders_for(s.pax8_company),
            1,
            "{q}: Pax8 orders"
        );
        let ingram = usize::from(!s.ingram.is_empty());
        let po = format!("PO-{q}-ingram");
        assert_eq!(v.sims.ingram_orders_for(&po), ingram, "{q}: Ingram orders");
        let so = format!("SO-{q}");
        assert_eq!(v.sims.cw_sales_orders_for(&so), 1, "{q}: sales orders");
        assert_eq!(
            v.sims.cw_agreements_for(&so),
            s.cycles.len(),
            "{q}: agreements"
        );
        assert_holds(v, s);
    }
}

/// A fault on each vendor's creates: 429 with Retry-After, 500, a timeout (a delay past
/// `TENOR_HTTP_TIMEOUT`), a connection dropped before and after the vendor acted.
fn create_faults() -> Vec<Fault> {
    let slow = FaultKind::Delay(std::time::Duration::from_millis(1500));
    vec![
        fault(
            Vendor::Pax8,
            "POST",
            "/orders",
            FaultKind::TooManyRequests {
                retry_after_secs: 1,
            },
        ),
        fault(Vendor::Pax8, "POST", "/orders", FaultKind::ActThenDrop),
        fault(
            Vendor::Ingram,
            "POST",
            "/resellers/v6/orders",
            FaultKind::ServerError,
        ),
        fault(
            Vendor::Ingram,
            "POST",
            "/resellers/v6/orders",
            FaultKind::ActThenDrop,
        ),
        fault(Vendor::Connectwise, "POST", "/finance/agreements", slow),
        fault(
            Vendor::Connectwise,
            "POST",
            "/finance/agreements/*",
            FaultKind::ActThenDrop,
        ),
        fault(
            Vendor::Connectwise,
            "POST",
            "/finance/agreements/*",
            FaultKind::ServerError,
        ),
        fault(
            Vendor::Connectwise,
            "POST",
            "/sales/orders",
            FaultKind::ActThenDrop,
        ),
        fault(
            Vendor::Connectwise,
            "POST",
            "/procurement/products",
            FaultKind::Drop,
        ),
        fault(
            Vendor::Connectwise,
            "POST",
            "/procurement/products",
            FaultKind::ActThenDrop,
        ),
    ]
}

#[test]
fn faults_on_every_create_order_nothing_twice_and_lose_nothing() {
    let mut v = Vendors::start("e2e-faults");
    // A timeout: the simulator acts after the client has given up waiting.
    v.set_env("TENOR_HTTP_TIMEOUT", "1");
    let quotes: Vec<Sold> = by_start(
        example_quotes()
            .into_iter()
            .filter(|s| ["Q-1001", "Q-1004"].contains(&s.quote))
            .collect(),
    );
    for s in &quotes {
        v.accept(s.file);
    }
    for f in create_faults() {
        v.sims.inject(f);
    }
    for s in &quotes {
        v.set_today(day(s.start.max(FIRST_DAY)));
        push_until_done(&v, s.quote, 6);
    }
    // Every fault was met: none is left armed.
    assert_eq!(v.sims.armed(), 0);
    let statuses: Vec<u16> = v.sims.received().iter().map(|r| r.status).collect();
    assert!(
        statuses.contains(&429) && statuses.contains(&500),
        "{statuses:?}"
    );
    assert_each_once(&v, &quotes);
    // And a push after all that finds everything there.
    for s in &quotes {
        assert_eq!(push_until_done(&v, s.quote, 1), 1);
    }
    assert_each_once(&v, &quotes);
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64: the kill moments, reproducible from `TENOR_E2E_SEED`.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// `tenor push Q-1001` killed (SIGKILL, the child's own pid) at random moments, up to three
/// times a run, then run to its end: every order, agreement and addition exactly once.
/// `TENOR_E2E_KILLS` runs (3 by default; the figure is 20 or more).
#[test]
fn a_push_killed_at_random_moments_resumes_and_orders_each_line_once() {
    let runs = env_num("TENOR_E2E_KILLS", 3);
    let mut seed = env_num("TENOR_E2E_SEED", 0x2545_f491_4f6c_dd1d) | 1;
    let q1001: Vec<Sold> = example_quotes()
        .into_iter()
        .filter(|s| s.quote == "Q-1001")
        .collect();
    let started = std::time::Instant::now();
    let (mut kills, mut mid) = (0, 0);
    for run in 0..runs {
        let v = Vendors::start(&format!("e2e-kill-{run}"));
        v.accept("q1001-dental-practice.yaml");
        // Every create waits a little, so that a kill lands between sending and answering.
        v.sims.inject(Fault {
            times: 10_000,
            ..fault(
                Vendor::Pax8,
                "POST",
                "/orders",
                FaultKind::Delay(std::time::Duration::from_millis(60)),
            )
        });
        for vendor in [Vendor::Ingram, Vendor::Connectwise] {
            v.sims.inject(Fault {
                times: 10_000,
                ..fault(
                    vendor,
                    "POST",
                    "/*",
                    FaultKind::Delay(std::time::Duration::from_millis(60)),
                )
            });
        }
        for _ in 0..=(next(&mut seed) % 3) {
            let moment = std::time::Duration::from_millis(next(&mut seed) % 1000);
            let mut child = v
                .command(&["push", "Q-1001"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(moment);
            if child.try_wait().unwrap().is_none() {
                mid += 1;
            }
            child.kill().unwrap_or_default();
            let _ = child.wait();
            kills += 1;
        }
        push_until_done(&v, "Q-1001", 4);
        assert_each_once(&v, &q1001);
    }
    eprintln!(
        "{runs} runs, {kills} kills, {mid} mid-push, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Q-1001 line 1: 25 Business Premium become 30 from 2027-01-01, pushed that day.
fn seat_change(v: &mut Vendors, rules: &std::path::Path) {
    // The simulators' day and Tenor's clock together: a change is pushed on its day.
    v.set_today(chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
    let change = v.tenor(&[
        "change",
        "Q-1001",
        "--line",
        "1",
        "--quantity",
        "30",
        "--date",
        "2027-01-01",
        "--rules",
        tenor_tests::arg(rules),
    ]);
    assert!(change.ok, "{}\n{}", change.stdout, change.stderr);
}

#[test]
fn a_seat_change_flows_to_pax8_and_the_psa_like_an_acceptance() {
    let mut v = Vendors::start("e2e-change");
    v.accept("q1001-dental-practice.yaml");
    assert!(v.tenor(&["push", "Q-1001"]).ok);
    seat_change(&mut v, &tenor_tests::rules_dir());
    let push = v.tenor(&["push", "Q-1001"]);
    assert!(push.ok, "{}\n{}", push.stdout, push.stderr);
    assert!(v.refused().is_empty(), "{:?}", v.refused());
    // Pax8: the one Business Premium subscription now holds 30; Defender is untouched; no
    // second order.
    assert_eq!(
        pax8_subscriptions(&v, CUST_0042),
        sorted(vec![
            (
                M365_BP.to_string(),
                30,
                "Monthly".to_string(),
                Some("1-Year".to_string())
            ),
            (
                MDB.to_string(),
                25,
                "Monthly".to_string(),
                Some("1-Year".to_string())
            ),
        ])
    );
    assert_eq!(v.sims.pax8_orders_for(CUST_0042), 1);
    // ConnectWise: the 25 end on 2026-12-31 and 30 bill from 2027-01-01, at 22.00.
    let bp: Vec<(String, Option<String>, Option<String>, Decimal)> = v.sims.with_world(|w| {
        w.connectwise
            .additions
            .iter()
            .filter(|x| x["product"]["identifier"] == "M365-BP")
            .map(|x| {
                let day = |k: &str| x[k].as_str().map(|s| s[..10].to_string());
                (
                    dec(&x["quantity"]).normalize().to_string(),
                    day("effectiveDate"),
                    day("cancelledDate"),
                    dec(&x["unitPrice"]),
                )
            })
            .collect()
    });
    assert_eq!(
        sorted(bp),
        vec![
            (
                "25".into(),
                Some("2026-12-07".into()),
                Some("2026-12-31".into()),
                d("22")
            ),
            ("30".into(), Some("2027-01-01".into()), None, d("22")),
        ]
    );
    // Pushed again: nothing more changes.
    let before = v.sims.received().len();
    assert!(v.tenor(&["push", "Q-1001"]).ok);
    let writes: Vec<_> = v.sims.received()[before..]
        .iter()
        .filter(|r| r.method != "GET" && !r.path.contains("token"))
        .cloned()
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

/// The example rules in `dir` with Microsoft routed to TD SYNNEX (rules/policies.tenor
/// `route vendor microsoft via pax8` → `via tdsynnex`; the products are bought via both).
fn rules_via_tdsynnex(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    for e in std::fs::read_dir(tenor_tests::rules_dir())
        .unwrap()
        .flatten()
    {
        let path = e.path();
        if path.extension().is_some_and(|x| x == "tenor") {
            let text = std::fs::read_to_string(&path).unwrap();
            let routed = text.replace(
                "route vendor microsoft     via pax8",
                "route vendor microsoft     via tdsynnex",
            );
            std::fs::write(dir.join(e.file_name()), routed).unwrap();
        }
    }
    let policies = std::fs::read_to_string(dir.join("policies.tenor")).unwrap();
    assert!(
        policies.contains("microsoft     via tdsynnex"),
        "the route moved"
    );
}

#[test]
fn q1001_bought_through_td_synnex_is_one_cart_of_its_catalogue_ids_and_a_seat_change_follows() {
    let mut v = Vendors::start("e2e-tdsynnex");
    let rules = v.dir.join("rules-tdsynnex");
    rules_via_tdsynnex(&rules);
    let quote = tenor_tests::rules_dir().join("quotes/q1001-dental-practice.yaml");
    v.accept_with(&quote, &rules);
    // An item added and a checkout made whose answers are lost, a cart creation answered 500:
    // each is looked up (or, for the cart, made again) and nothing is ordered twice.
    let carts = "/api/v3/accounts/4711/customers/700113/carts";
    for f in [
        fault(Vendor::Tdsynnex, "POST", carts, FaultKind::ServerError),
        fault(
            Vendor::Tdsynnex,
            "POST",
            &format!("{carts}/*"),
            FaultKind::ActThenDrop,
        ),
        fault(
            Vendor::Tdsynnex,
            "POST",
            &format!("{carts}/*"),
            FaultKind::Drop,
        ),
    ] {
        v.sims.inject(f);
    }
    push_until_done(&v, "Q-1001", 4);
    assert_eq!(v.sims.armed(), 0, "every fault met");
    assert_eq!(v.sims.tdsynnex_orders_for("PO-Q-1001-tdsynnex"), 1);
    assert_eq!(v.sims.pax8_orders_for(CUST_0042), 0);
    assert_tdsynnex_cart(&v);
    assert_tdsynnex_pulled(&v);
    seat_change(&mut v, &rules);
    assert_tdsynnex_seat_change(&v);
}

/// The TD SYNNEX order: one cart of Q-1001's two licences.
fn assert_tdsynnex_cart(v: &Vendors) {
    // TD SYNNEX's catalogue ids from rules/microsoft-365.tenor: product, sku, the P1Y monthly
    // plan; 25 seats each, for customer 700113 (rules/links.yaml).
    let items: Vec<(String, String, String, i64)> = v.sims.with_world(|w| {
        w.tdsynnex
            .orders
            .iter()
            .flat_map(|o| o["orderItems"].as_array().cloned().unwrap_or_default())
            .map(|i| {
                let s = |k: &str| i[k].as_str().unwrap().to_string();
                (
                    s("productId"),
                    s("skuId"),
                    s("planId"),
                    i["quantity"].as_i64().unwrap(),
                )
            })
            .collect()
    });
    assert_eq!(
        sorted(items),
        vec![
            (
                "TechDataMicrosoft365BusinessPremium-smp".into(),
                "sku--6550d0504891".into(),
                "plan--784ebc32f2".into(),
                25
            ),
            (
                "TechDataMicrosoftDefenderforBusiness-smp".into(),
                "sku--a429a7da1255".into(),
                "plan--0af3a992f0".into(),
                25
            ),
        ]
    );
}

/// The pulled TD SYNNEX subscriptions.
fn assert_tdsynnex_pulled(v: &Vendors) {
    // The pull reads the subscriptions the checkout made back, with their term and billing.
    let pull = v.tenor(&["pull", "--customer", "CUST-0042"]);
    assert!(pull.ok, "{}\n{}", pull.stdout, pull.stderr);
    let record = tenor_core::record::Record::open(&v.db()).unwrap();
    let subs: Vec<(String, String, Option<String>, Option<String>)> = record
        .pulled("CUST-0042", None)
        .unwrap()
        .into_iter()
        .filter(|r| r.plugin == "tdsynnex" && r.kind == "subscription")
        .map(|r| {
            let b = r.body;
            let s = |k: &str| b[k].as_str().map(str::to_string);
            (
                s("part_number").unwrap(),
                s("quantity").unwrap(),
                s("term"),
                s("billing"),
            )
        })
        .collect();
    let p1y = || (Some("P1Y".to_string()), Some("monthly".to_string()));
    assert_eq!(
        sorted(subs),
        vec![
            (
                "TechDataMicrosoft365BusinessPremium-smp".into(),
                "25".into(),
                p1y().0,
                p1y().1
            ),
            (
                "TechDataMicrosoftDefenderforBusiness-smp".into(),
                "25".into(),
                p1y().0,
                p1y().1
            ),
        ]
    );
}

/// After the seat change's push.
fn assert_tdsynnex_seat_change(v: &Vendors) {
    // A seat change is a cart of one UPDATE item, checked out: Business Premium's
    // subscription holds 30, Defender's still 25, and no new subscription is made.
    let refused_before = v.refused().len();
    let push = v.tenor(&["push", "Q-1001"]);
    assert!(push.ok, "{}\n{}", push.stdout, push.stderr);
    assert_eq!(v.refused().len(), refused_before, "{:?}", v.refused());
    assert_eq!(v.sims.tdsynnex_orders_for("CO-Q-1001-1-2027-01-01"), 1);
    let held: Vec<(String, i64)> = v.sims.with_world(|w| {
        w.tdsynnex
            .subscriptions
            .iter()
            .map(|s| {
                (
                    s["ccpProductId"].as_str().unwrap().to_string(),
                    s["subscriptionTotalLicenses"].as_i64().unwrap(),
                )
            })
            .collect()
    });
    assert_eq!(
        sorted(held),
        vec![
            ("TechDataMicrosoft365BusinessPremium-smp".into(), 30),
            ("TechDataMicrosoftDefenderforBusiness-smp".into(), 25),
        ]
    );
    assert!(v.tenor(&["push", "Q-1001"]).ok);
    assert_eq!(v.sims.tdsynnex_orders_for("CO-Q-1001-1-2027-01-01"), 1);
}

/// The company's Pax8 subscriptions' start days, sorted.
fn pax8_starts(v: &Vendors, company: &str) -> Vec<chrono::NaiveDate> {
    let mut out: Vec<_> = v.sims.with_world(|w| {
        w.pax8
            .subscriptions
            .iter()
            .filter(|s| s.company_id == company)
            .map(|s| s.start_date)
            .collect()
    });
    out.sort();
    out
}

/// Creates (anything but a read or a token) the simulators received after the first `before`
/// requests.
fn creates_since(v: &Vendors, before: usize) -> Vec<tenor_simulators::Received> {
    v.sims.received()[before..]
        .iter()
        .filter(|r| r.method != "GET" && !r.path.contains("token"))
        .cloned()
        .collect()
}

#[test]
fn a_cloud_order_waits_for_its_start_day_and_is_sent_once_on_it() {
    // Q-1003 starts 2027-02-15. Pax8 takes no scheduled orders (VENDORS.md): an order sent on
    // 2026-12-07 would start its subscriptions that day, ten weeks of service nobody bills.
    let mut v = Vendors::start("e2e-wait");
    let s = example_quotes()
        .into_iter()
        .find(|s| s.quote == "Q-1003")
        .unwrap();
    v.accept(s.file);
    let first = v.tenor(&["push", "Q-1003"]);
    assert!(first.ok, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first
            .stdout
            .contains("pax8: PO-Q-1003-pax8 waits until 2027-02-15"),
        "{}",
        first.stdout
    );
    assert_eq!(v.sims.pax8_orders_for(s.pax8_company), 0);
    // The PSA's agreement carries its own start date, and hardware has to ship: both at once.
    assert_eq!(cw_additions(&v, "SO-Q-1003"), s.additions);
    assert_eq!(ingram_lines(&v, "PO-Q-1003-ingram"), s.ingram);
    // Run again the same day and the day before the start: still waiting, nothing created.
    for d in ["2026-12-07", "2027-02-14"] {
        v.set_today(day(d));
        let before = v.sims.received().len();
        let again = v.tenor(&["push", "Q-1003"]);
        assert!(again.ok, "{d}: {}", again.stderr);
        assert!(
            again.stdout.contains("waits until 2027-02-15"),
            "{d}: {}",
            again.stdout
        );
        assert!(
            creates_since(&v, before).is_empty(),
            "{d}: {:?}",
            creates_since(&v, before)
        );
    }
    assert_eq!(v.sims.pax8_orders_for(s.pax8_company), 0);
    // On the start day the order goes, once, and Pax8 starts every subscription that day.
    v.set_today(day("2027-02-15"));
    let due = v.tenor(&["push", "Q-1003"]);
    assert!(due.ok, "{}\n{}", due.stdout, due.stderr);
    assert!(v.refused().is_empty(), "{:?}", v.refused());
    assert_eq!(v.sims.pax8_orders_for(s.pax8_company), 1);
    assert_eq!(pax8_lines(&v, s.pax8_company), s.pax8);
    let starts = pax8_starts(&v, s.pax8_company);
    assert_eq!(starts, vec![day("2027-02-15"); s.pax8.len()]);
    let before = v.sims.received().len();
    let done = v.tenor(&["push", "Q-1003"]);
    assert!(
        done.ok && done.stdout.contains("was pushed before"),
        "{}",
        done.stdout
    );
    assert!(creates_since(&v, before).is_empty());
    assert_holds(&v, &s);
}

/// Q-1003's Pax8 subscriptions' quantities by product, sorted.
fn pax8_quantities(v: &Vendors, company: &str) -> Vec<(String, i64)> {
    pax8_subscriptions(v, company)
        .into_iter()
        .map(|(p, n, _, _)| (p, n))
        .collect()
}

#[test]
fn a_seat_change_recorded_before_its_order_waits_for_the_order_then_for_its_own_day() {
    // Q-1003 line 1: 14 managed workstations from 2027-02-15 (each one Business Premium and
    // one Defender at Pax8), changed to 16 from 2027-03-01 before anything was ordered. Sent
    // early, the change would find no subscription to change and be lost.
    let mut v = Vendors::start("e2e-change-held");
    let s = example_quotes()
        .into_iter()
        .find(|s| s.quote == "Q-1003")
        .unwrap();
    v.accept(s.file);
    let rules = tenor_tests::rules_dir();
    let change = v.tenor(&[
        "change",
        "Q-1003",
        "--line",
        "1",
        "--quantity",
        "16",
        "--date",
        "2027-03-01",
        "--rules",
        tenor_tests::arg(&rules),
    ]);
    assert!(change.ok, "{}\n{}", change.stdout, change.stderr);
    let first = v.tenor(&["push", "Q-1003"]);
    assert!(first.ok, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first.stdout.contains("waits until 2027-02-15")
            && first
                .stdout
                .contains("is held until PO-Q-1003-pax8 is pushed"),
        "{}",
        first.stdout
    );
    assert_eq!(v.sims.pax8_orders_for(s.pax8_company), 0);
    // On the start day the order goes at 14; the change then waits for its own day.
    v.set_today(day("2027-02-15"));
    let due = v.tenor(&["push", "Q-1003"]);
    assert!(due.ok, "{}\n{}", due.stdout, due.stderr);
    assert!(
        due.stdout.contains("waits until 2027-03-01"),
        "{}",
        due.stdout
    );
    let bp_mdb = |n: i64| sorted(vec![(M365_BP.to_string(), n), (MDB.to_string(), n)]);
    assert_eq!(pax8_quantities(&v, s.pax8_company), bp_mdb(14));
    v.set_today(day("2027-03-01"));
    let changed = v.tenor(&["push", "Q-1003"]);
    assert!(changed.ok, "{}\n{}", changed.stdout, changed.stderr);
    assert!(v.refused().is_empty(), "{:?}", v.refused());
    assert_eq!(pax8_quantities(&v, s.pax8_company), bp_mdb(16));
    assert_eq!(v.sims.pax8_orders_for(s.pax8_company), 1);
}

/// Accepts every example quote on the first day, pushes each on its start day (Q-1002's,
/// 2026-10-12, is before it: the clocks are moved back for it), bills each start month at the
/// simulators, pulls it and matches the quote on it: the findings per quote.
fn matched_after_the_pull(name: &str) -> Vec<(&'static str, Vec<Value>)> {
    let mut v = Vendors::start(name);
    let quotes = by_start(example_quotes());
    for s in &quotes {
        v.accept(s.file);
    }
    for s in &quotes {
        v.set_today(day(s.start));
        let push = v.tenor(&["push", s.quote]);
        assert!(push.ok, "{}: {}\n{}", s.quote, push.stdout, push.stderr);
    }
    assert!(v.refused().is_empty(), "{:?}", v.refused());
    let mut out = Vec::new();
    for s in &quotes {
        let month = &s.start[..7];
        v.sims.bill(month).unwrap();
        let pull = v.tenor(&["pull", "--month", month]);
        assert!(pull.ok, "{month}: {}\n{}", pull.stdout, pull.stderr);
        let m = v.tenor(&["match", s.quote, "--pulled", "--month", month, "--json"]);
        let report: Value = serde_json::from_str(&m.stdout)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}\n{}", s.quote, m.stdout, m.stderr));
        out.push((s.quote, report["findings"].as_array().unwrap().clone()));
    }
    out
}

#[test]
fn every_example_quote_matches_the_distributors_after_the_pull() {
    // Quote = purchase order = what the distributors hold and charge: Pax8's subscriptions run
    // the full terms the purchase orders state (`coterm none`) from the day each was pushed
    // (its start day), Ingram's hardware as ordered. Not one finding on the distributors'
    // side, and Q-1003 (no discount) matches clean on the PSA's side too.
    for (quote, findings) in matched_after_the_pull("e2e-match-distributors") {
        let theirs: Vec<&Value> = findings.iter().filter(|f| f["side"] != "invoice").collect();
        assert!(theirs.is_empty(), "{quote}: {theirs:#?}");
        if quote == "Q-1003" {
            assert!(findings.is_empty(), "{quote}: {findings:#?}");
        }
    }
}

/// Quote = purchase order = invoice for every example quote, the PSA's side included: the
/// ConnectWise agreement invoices bill each addition for its part of the billing period (a
/// stub's share by days, the discount steps as written) and the pull states those periods, so
/// Q-1001's December stubs (443.55, 60.48, 903.23 less 90.32), Q-1002's E3 and EXO stubs to
/// 2027-04-01 (2,949.11 and 109.22) and Q-1004's discounted devices are each compared with the
/// schedule's own period.
#[test]
fn every_example_quote_matches_clean_after_the_pull() {
    for (quote, findings) in matched_after_the_pull("e2e-match") {
        assert!(findings.is_empty(), "{quote}: {findings:#?}");
    }
}

#[test]
fn an_order_pushed_five_days_late_is_found_with_the_days_billed_for_nothing() {
    // Q-1001 sold from 2026-12-07 but pushed on 2026-12-12: Pax8 starts both subscriptions
    // that day. Business Premium's December stub is 25/31 of 550.00 = 443.55 as sold and
    // 20/31 of it = 354.84 from the 12th: 88.71 billed for days without service; Defender's
    // 25/31 of 75.00 = 60.48 against 20/31 = 48.39: 12.09.
    let mut v = Vendors::start("e2e-late");
    v.accept("q1001-dental-practice.yaml");
    v.set_today(day("2026-12-12"));
    let push = v.tenor(&["push", "Q-1001"]);
    assert!(push.ok, "{}\n{}", push.stdout, push.stderr);
    v.sims.bill("2026-12").unwrap();
    assert!(v.tenor(&["pull", "--month", "2026-12"]).ok);
    let m = v.tenor(&[
        "match", "Q-1001", "--pulled", "--month", "2026-12", "--json",
    ]);
    let report: Value = serde_json::from_str(&m.stdout).unwrap();
    let late: Vec<(String, String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["side"] == "purchase_order")
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("product"), s("class"), s("found"), s("money_at_risk"))
        })
        .collect();
    let row = |p: &str, m: &str| {
        (
            p.to_string(),
            "start_date".to_string(),
            "2026-12-12".to_string(),
            m.to_string(),
        )
    };
    assert_eq!(late, vec![row("M365-BP", "88.71"), row("MDB", "12.09")]);
    assert!(!m.ok, "a finding fails the match");
}

#[test]
fn a_one_year_annual_bought_where_three_years_upfront_were_sold_is_found_at_pax8() {
    // Q-1002 line 1: 18 × M365-E3 sold P3Y upfront from 2026-10-12 (its commitment to
    // 2030-04-01). Pax8 is made to hold it as someone re-keying it would: `Annual` billing on
    // the 1-year commitment (rules/microsoft-365.tenor's P1Y id). DOMAIN.md: the customer holds a
    // 36-month price, the MSP bought 12 months; what the distributor charges for the rest is
    // unknown until renewal, so the finding's money is unknown. Pax8 charges that year's own
    // cost, so the term is the only finding on the bought side with money at risk.
    let mut v = Vendors::start("e2e-p1y");
    v.accept("q1002-nonprofit.yaml");
    v.set_today(day("2026-10-12"));
    let push = v.tenor(&["push", "Q-1002"]);
    assert!(push.ok, "{}\n{}", push.stdout, push.stderr);
    v.sims.with_world(|w| {
        let s = w
            .pax8
            .subscriptions
            .iter_mut()
            .find(|s| s.product_id == E3)
            .unwrap();
        let last = s
            .start_date
            .checked_add_months(chrono::Months::new(12))
            .and_then(|d| d.pred_opt())
            .unwrap();
        s.billing_term = "Annual".into();
        // Pax8 charges the 1-year annual cost the rules give: 329.14 a unit a year.
        s.partner_cost = d("329.14");
        s.end_date = Some(last);
        s.commitment_term = Some(tenor_simulators::state::Pax8SubCommitment {
            id: "d59a0625-469d-4e78-be33-9eca03b1d74b".into(),
            term: "1-Year".into(),
            end_date: last,
        });
    });
    v.sims.bill("2026-10").unwrap();
    assert!(v.tenor(&["pull", "--month", "2026-10"]).ok);
    let m = v.tenor(&[
        "match", "Q-1002", "--pulled", "--month", "2026-10", "--json",
    ]);
    let report: Value = serde_json::from_str(&m.stdout).unwrap();
    let bought: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["side"] == "purchase_order")
        .collect();
    // Pax8 charges 329.14 a year, the rules' cost of the 1-year annual term bought: the cost
    // is checked against that term, not the three years sold, so the term is the only finding.
    assert_eq!(bought.len(), 1, "{bought:#?}");
    let f = bought[0];
    assert_eq!(
        (&f["class"], &f["product"], &f["expected"], &f["found"]),
        (
            &Value::from("term"),
            &Value::from("M365-E3"),
            &Value::from("P3Y"),
            &Value::from("P1Y")
        )
    );
    assert_eq!(f["money_at_risk"], Value::Null);
    let why = f["explanation"].as_str().unwrap();
    assert!(why.contains("36-month price (to 2030-04-01)"), "{why}");
    assert!(why.contains("remaining 24 months"), "{why}");
}

/// 50 × Business Premium and 50 × Defender, P1Y billed monthly from the customer's
/// anniversary (2027-07-01, no stub): 22.00 and 3.00 a user a month for 12 months.
const FIFTY_SEATS: &str = "\
quote: Q-2001
date: 2027-06-15
currency: USD
customer:
  id: CUST-0042
  name: Bayview Family Dental
  segment: commercial
  anniversary: 07-01
lines:
  - product: M365-BP
    quantity: 50
    term: P1Y
    billing: monthly
    start: 2027-07-01
  - product: MDB
    quantity: 50
    term: P1Y
    billing: monthly
    start: 2027-07-01
";

/// Accepts and pushes [`FIFTY_SEATS`] on its start day, lets `drift` change what ConnectWise
/// holds, bills July 2027 at the simulators, pulls it and matches: the findings as
/// (side, product, class, expected, found, money at risk).
fn fifty_seats_matched(
    name: &str,
    drift: impl FnOnce(&Vendors, i64, i64),
) -> (Vec<[String; 7]>, Value) {
    let mut v = Vendors::start(name);
    let quote = v.dir.path().join("q-2001.yaml");
    std::fs::write(&quote, FIFTY_SEATS).unwrap();
    v.accept_with(&quote, &tenor_tests::rules_dir());
    v.set_today(day("2027-07-01"));
    let push = v.tenor(&["push", "Q-2001"]);
    assert!(push.ok, "{}\n{}", push.stdout, push.stderr);
    assert!(v.refused().is_empty(), "{:?}", v.refused());
    let addition = |product: &str| {
        v.sims.with_world(|w| {
            let ids: Vec<i64> = w
                .connectwise
                .additions
                .iter()
                .filter(|a| a["product"]["identifier"] == product && a["quantity"] == 50)
                .filter_map(|a| a["id"].as_i64())
                .collect();
            assert_eq!(ids.len(), 1, "one {product} addition of 50");
            ids[0]
        })
    };
    drift(&v, addition("M365-BP"), addition("MDB"));
    v.sims.bill("2027-07").unwrap();
    let pull = v.tenor(&["pull", "--month", "2027-07"]);
    assert!(pull.ok, "{}\n{}", pull.stdout, pull.stderr);
    let m = v.tenor(&[
        "match", "Q-2001", "--pulled", "--month", "2027-07", "--json",
    ]);
    let report: Value = serde_json::from_str(&m.stdout).unwrap();
    let findings = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            [
                "side",
                "product",
                "class",
                "expected",
                "found",
                "money_at_risk",
                "counted_with",
            ]
            .map(|k| f[k].as_str().unwrap_or_default().to_string())
        })
        .collect();
    (findings, report["totals"].clone())
}

#[test]
fn forty_five_seats_invoiced_where_fifty_were_sold_is_found_with_the_year_never_billed() {
    // DOMAIN.md's own figure: 5 × 22.00 × 12 = 1,320.00 of revenue never billed. The
    // addition holds 45, so the PSA side shows the same gap; it is counted once.
    let clean = fifty_seats_matched("e2e-fifty-clean", |_, _, _| {});
    assert!(clean.0.is_empty(), "{clean:#?}");
    let (found, totals) = fifty_seats_matched("e2e-forty-five", |v, bp, _| {
        v.sims.drift_addition_quantity(bp, 45).unwrap();
    });
    let row = |side: &str, counted: &str| {
        [side, "M365-BP", "quantity", "50", "45", "1320.00", counted].map(str::to_string)
    };
    assert_eq!(found, vec![row("invoice", ""), row("psa", "invoice")]);
    assert_eq!(totals["money_at_risk"], "1320.00");
    assert_eq!(totals["findings"], 2);
}

#[test]
fn an_addition_missing_in_the_psa_is_found_with_what_it_would_have_billed() {
    // Defender's addition is cancelled the day before it takes effect, so it never bills:
    // its July invoice line is missing, and with it 50 × 3.00 × 12 = 1,800.00 of the
    // commitment; the agreement holds no live addition for it (the same money, counted once).
    let (found, totals) = fifty_seats_matched("e2e-missing-addition", |v, _, mdb| {
        v.sims
            .drift_cancel_addition(mdb, day("2027-06-30"))
            .unwrap();
    });
    let row = |side: &str, class: &str, expected: &str, found: &str, counted: &str| {
        [side, "MDB", class, expected, found, "1800.00", counted].map(str::to_string)
    };
    assert_eq!(
        found,
        vec![
            row(
                "invoice",
                "missing_line",
                "MDB × 50, P1Y monthly, from 2027-07-01",
                "not on any invoice",
                ""
            ),
            row(
                "psa",
                "missing_line",
                "MDB × 50, monthly, from 2027-07-01",
                "no addition",
                "invoice"
            ),
        ]
    );
    assert_eq!(totals["money_at_risk"], "1800.00");
}

#[test]
fn a_link_key_no_plugin_reads_is_refused_with_the_keys_it_reads() {
    // Ingram's connector reads `end_user_id`, not `end_user` (the example links once had it):
    // recorded, it would never have reached the order.
    let v = Vendors::start("e2e-link-keys");
    let bad = v.tenor(&[
        "link",
        "CUST-0042",
        "--set",
        "ingram.end_user=EU-40042",
        "--pax8",
        "companyy=3f0c1e52-7d4b-4a6e-9c1a-2b8e5d7f9a01",
    ]);
    assert_eq!(bad.code, Some(1), "{}\n{}", bad.stdout, bad.stderr);
    assert!(
        bad.stderr.contains(
            "ingram.end_user for CUST-0042: the ingram plugin reads no link key `end_user` (did you mean `end_user_id`?)"
        ),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr
            .contains("the pax8 plugin reads no link key `companyy` (did you mean `company`?); it reads `company`"),
        "{}",
        bad.stderr
    );
    let links = v.tenor(&["link", "CUST-0042", "--format", "json"]);
    let doc: Value = serde_json::from_str(&links.stdout).unwrap();
    assert!(
        !doc["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["key"] == "end_user" || l["key"] == "companyy"),
        "nothing recorded: {doc:#}"
    );
    // A key the connector reads is taken; removing an unknown one is harmless.
    let good = v.tenor(&[
        "link",
        "CUST-0042",
        "--ingram",
        "phone=+1 619 555 0100",
        "--unset",
        "ingram.end_user",
    ]);
    assert!(good.ok, "{}\n{}", good.stdout, good.stderr);
}
