//! `tenor accept`: the documents of an accepted quote, checked against hand-worked numbers and
//! snapshot whole; routing and bundle explosion; idempotence and refusal of a different quote.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use rust_decimal::Decimal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tenor_core::cli::{Exit, run};
use tenor_dsl::diagnostic::termcolor::NoColor;

const TESTS: &str = env!("CARGO_MANIFEST_DIR");

fn root() -> PathBuf {
    Path::new(TESTS).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("accept-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

struct Out {
    exit: Exit,
    stdout: String,
    stderr: String,
}

fn tenor(args: &[&str]) -> Out {
    let mut argv: Vec<std::ffi::OsString> = vec!["tenor".into()];
    argv.extend(args.iter().map(Into::into));
    let mut out = Vec::new();
    let mut err = NoColor::new(Vec::new());
    let exit = run(argv, &mut out, &mut err);
    Out {
        exit,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err.into_inner()).unwrap(),
    }
}

/// The record beside an output directory: `<out>.db`, so each test has its own.
fn db_for(out: &Path) -> String {
    format!("{}.db", out.display())
}

fn accept(quote: &Path, rules: &Path, out: &Path) -> Out {
    let db = db_for(out);
    tenor(&[
        "--db",
        &db,
        "accept",
        quote.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        // Tenor's own documents only: plugins are tested in plugins.rs.
        "--no-plugins",
    ])
}

fn doc(dir: &Path, id: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{id}.json"))).unwrap()).unwrap()
}

fn scenario(name: &str) -> (PathBuf, PathBuf) {
    let d = Path::new(TESTS).join("scenarios").join(name);
    (d.join("quote.yaml"), d)
}

#[test]
fn domain_1_documents() {
    let (q, r) = scenario("domain-1");
    let dir = scratch("domain-1");
    let o = accept(&q, &r, &dir);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let so = doc(&dir, "SO-Q-DOMAIN-1");
    assert_eq!(so["schema"], "tenor.sales-order/1");
    assert_eq!(so["lines"][0]["contract_value"], "3421.15");
    assert_eq!(so["lines"][0]["unit_price"], "264.00");
    let sched = doc(&dir, "SCHED-Q-DOMAIN-1");
    let bills: Vec<(&str, &str)> = sched["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["bill_date"].as_str().unwrap(),
                c["amount"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        bills,
        vec![("2026-03-15", "781.15"), ("2026-07-01", "2640.00")]
    );
    assert_eq!(sched["total"], "3421.15");
    let rt = doc(&dir, "RT-Q-DOMAIN-1");
    assert_eq!(rt["lines"][0]["amount"], "2640.00");
    assert_eq!(rt["lines"][0]["next_bill_date"], "2026-07-01");
    assert_eq!(rt["lines"][0]["months"], 12);
    let po = doc(&dir, "PO-Q-DOMAIN-1-pax8");
    // Cost: 10 × 211.20 × 108/365 = 624.92 for the stub, then 2,112.00.
    assert_eq!(po["lines"][0]["committed_cost"], "2736.92");
    assert_eq!(po["lines"][0]["part_number"], "MST-NCE-M365BP");
    for id in [
        "SO-Q-DOMAIN-1",
        "PO-Q-DOMAIN-1-pax8",
        "SCHED-Q-DOMAIN-1",
        "RT-Q-DOMAIN-1",
        "SUM-Q-DOMAIN-1",
    ] {
        insta::assert_snapshot!(
            format!("domain-1-{id}"),
            tenor_tests::pretty_json(&doc(&dir, id))
        );
    }
}

#[test]
fn domain_2_and_3_documents() {
    for (name, quote_id, total, charges) in [
        ("domain-2", "Q-DOMAIN-2", "781.15", 1usize),
        ("domain-3", "Q-DOMAIN-3", "3420.65", 16),
    ] {
        let (q, r) = scenario(name);
        let dir = scratch(name);
        let o = accept(&q, &r, &dir);
        assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
        let sched = doc(&dir, &format!("SCHED-{quote_id}"));
        assert_eq!(sched["total"], total);
        assert_eq!(sched["charges"].as_array().unwrap().len(), charges);
        for id in [
            format!("SO-{quote_id}"),
            format!("PO-{quote_id}-pax8"),
            format!("SCHED-{quote_id}"),
            format!("RT-{quote_id}"),
            format!("SUM-{quote_id}"),
        ] {
            insta::assert_snapshot!(
                format!("{name}-{id}"),
                tenor_tests::pretty_json(&doc(&dir, &id))
            );
        }
    }
}

#[test]
fn the_example_quote_is_accepted_into_every_document() {
    let q = root().join("rules/quotes/q1001-dental-practice.yaml");
    let dir = scratch("q1001");
    let o = accept(&q, &root().join("rules"), &dir);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let so = doc(&dir, "SO-Q-1001");
    // Labour, onboarding and managed devices are not bought: never on a purchase order.
    let mut on_orders = Vec::new();
    for d in ["pax8", "ingram", "tdsynnex"] {
        let p = dir.join(format!("PO-Q-1001-{d}.json"));
        if p.exists() {
            let po = doc(&dir, &format!("PO-Q-1001-{d}"));
            // Metered backup storage is bought on usage, not as a line at a fixed quantity.
            for (kind, ls) in [("line", &po["lines"]), ("usage", &po["usage"])] {
                for l in ls.as_array().into_iter().flatten() {
                    on_orders.push((d, format!("{} ({kind})", l["product"].as_str().unwrap())));
                }
            }
        }
    }
    on_orders.sort();
    let on = |d, p: &str| (d, p.to_string());
    assert_eq!(
        on_orders,
        vec![
            on("ingram", "DATTO-CLOUD (usage)"),
            on("ingram", "DELL-LAT5550 (line)"),
            on("ingram", "DELL-WD22TB4 (line)"),
            on("pax8", "M365-BP (line)"),
            on("pax8", "MDB (line)"),
        ]
    );
    bought_as_pax8_sells_it(&doc(&dir, "PO-Q-1001-pax8"), &o.stderr);
    // The sales order's lines add up to its total; so does the schedule.
    let lines_total: rust_decimal::Decimal = so["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["contract_value"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(
        lines_total.to_string(),
        so["totals"]["contract_value"].as_str().unwrap()
    );
    assert_eq!(
        doc(&dir, "SCHED-Q-1001")["total"],
        so["totals"]["contract_value"]
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // The export manifest lists the documents' hashes; tests/tests/attacks.rs checks it.
    names.retain(|n| n != "export.json");
    for n in names {
        let id = n.trim_end_matches(".json");
        insta::assert_snapshot!(
            format!("q1001-{id}"),
            tenor_tests::pretty_json(&doc(&dir, id))
        );
    }
}

#[test]
fn a_bundle_is_one_line_sold_and_its_parts_bought() {
    let q = root().join("rules/quotes/q1003-managed-workstation.json");
    let dir = scratch("q1003");
    let o = accept(&q, &root().join("rules"), &dir);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let so = doc(&dir, "SO-Q-1003");
    assert_eq!(so["lines"][0]["product"], "MWS");
    assert_eq!(so["lines"][0]["bundle"], true);
    let po = doc(&dir, "PO-Q-1003-pax8");
    let parts: Vec<(&str, &str, &str)> = po["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["product"].as_str().unwrap(),
                l["quantity"].as_str().unwrap(),
                l["bundle"].as_str().unwrap(),
            )
        })
        .collect();
    // 14 bundles × 1 Business Premium and × 1 Defender; the managed device is not bought.
    assert_eq!(parts, vec![("M365-BP", "14", "MWS"), ("MDB", "14", "MWS")]);
    // Revenue 17,745.00 split by standalone prices 560 : 308 : 42 (per month for 14 units).
    let alloc = &doc(&dir, "SUM-Q-1003")["bundle_allocations"][0];
    let shares: Vec<(&str, &str)> = alloc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["product"].as_str().unwrap(),
                c["revenue"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shares,
        vec![
            ("MS-DEVICE", "10920.00"),
            ("M365-BP", "6006.00"),
            ("MDB", "819.00")
        ]
    );
}

#[test]
fn a_product_that_must_be_bought_needs_a_route() {
    let (q, r) = scenario("accept-unrouted");
    let dir = scratch("unrouted");
    let o = accept(&q, &r, &dir);
    assert_eq!(o.exit, Exit::Failure);
    assert!(
        o.stderr
            .contains("`DELL-P2425` must be bought, but no procurement route matches it"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("accept-unrouted/rules.tenor:25"),
        "names the routes searched: {}",
        o.stderr
    );
    // Labour is never bought, so it is not reported.
    assert!(!o.stderr.contains("LABOUR-HOUR"), "{}", o.stderr);
    assert!(
        !dir.exists() || std::fs::read_dir(&dir).unwrap().next().is_none(),
        "nothing written"
    );
}

#[test]
fn three_years_monthly_bill_on_anchored_month_ends() {
    let (q, r) = scenario("accept-month-end");
    let dir = scratch("month-end");
    let o = accept(&q, &r, &dir);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let sched = doc(&dir, "SCHED-Q-MONTH-END");
    let dates: Vec<&str> = sched["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bill_date"].as_str().unwrap())
        .collect();
    assert_eq!(dates.len(), 36);
    assert_eq!(
        &dates[..5],
        &[
            "2027-01-31",
            "2027-02-28",
            "2027-03-31",
            "2027-04-30",
            "2027-05-31"
        ]
    );
    // 2028 is a leap year.
    assert_eq!(dates[13], "2028-02-29");
    assert_eq!(dates[25], "2029-02-28");
    assert_eq!(dates[35], "2029-12-31");
    assert!(
        sched["charges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["amount"] == "144.00")
    );
    assert_eq!(sched["total"], "5184.00");
}

#[test]
fn accepting_twice_gives_identical_bytes_and_a_different_quote_is_refused() {
    let (q, r) = scenario("domain-3");
    let dir = scratch("twice");
    assert_eq!(accept(&q, &r, &dir).exit, Exit::Success);
    let read_all = |d: &Path| {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let first = read_all(&dir);
    assert_eq!(accept(&q, &r, &dir).exit, Exit::Success);
    assert_eq!(
        read_all(&dir),
        first,
        "a second accept writes the same bytes"
    );

    // The same quote id with 11 seats instead of 10 is a different quote.
    let changed = scratch("twice-quote");
    std::fs::create_dir_all(&changed).unwrap();
    let text = std::fs::read_to_string(&q)
        .unwrap()
        .replace("quantity: 10", "quantity: 11");
    let q2 = changed.join("quote.yaml");
    std::fs::write(&q2, text).unwrap();
    let o = accept(&q2, &r, &dir);
    assert_eq!(o.exit, Exit::Failure);
    assert!(
        o.stderr
            .contains("was accepted before (revision 1) from a different quote or rules")
            && o.stderr
                .contains("pass --revise to record it as revision 2"),
        "{}",
        o.stderr
    );
    assert_eq!(read_all(&dir), first, "refused: nothing changed");

    let db = db_for(&dir);
    let o = tenor(&[
        "--db",
        &db,
        "accept",
        q2.to_str().unwrap(),
        "--rules",
        r.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--revise",
        "--no-plugins",
    ]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(doc(&dir, "SO-Q-DOMAIN-3")["lines"][0]["quantity"], "11");
}

#[test]
fn moving_the_rules_folder_does_not_change_the_documents() {
    let (q, r) = scenario("domain-1");
    let moved = scratch("moved-rules");
    std::fs::create_dir_all(&moved).unwrap();
    std::fs::copy(r.join("rules.tenor"), moved.join("rules.tenor")).unwrap();
    let a = scratch("moved-a");
    let b = scratch("moved-b");
    assert_eq!(accept(&q, &r, &a).exit, Exit::Success);
    assert_eq!(accept(&q, &moved, &b).exit, Exit::Success);
    assert_eq!(
        std::fs::read(a.join("SO-Q-DOMAIN-1.json")).unwrap(),
        std::fs::read(b.join("SO-Q-DOMAIN-1.json")).unwrap()
    );
    let again = accept(&q, &r, &a);
    assert!(again.stderr.contains("wrote"), "{}", again.stderr);
    assert_eq!(
        again.stdout, "",
        "the documents are files; standard output stays empty"
    );
}

#[test]
fn accepting_leaves_other_quotes_purchase_orders_alone() {
    let (q, r) = scenario("domain-1");
    let dir = scratch("other-quote");
    assert_eq!(accept(&q, &r, &dir).exit, Exit::Success);
    // `PO-Q-DOMAIN-1-2-pax8.json` starts like Q-DOMAIN-1's files but belongs to Q-DOMAIN-1-2.
    let other = dir.join("PO-Q-DOMAIN-1-2-pax8.json");
    std::fs::write(
        &other,
        r#"{"schema": "tenor.purchase-order/1", "quote": "Q-DOMAIN-1-2"}"#,
    )
    .unwrap();
    assert_eq!(accept(&q, &r, &dir).exit, Exit::Success);
    assert!(other.exists(), "another quote's purchase order was removed");
}

/// Q-1001's Pax8 purchase order under the example rules, where Pax8 is `coterm none` (its
/// order API takes no co-term date): a subscription runs a full year from the order day and
/// renews until it covers the customer's end. Business Premium: [2026-12-07, 2027-12-07), renewed
/// to 2028-12-07, past the customer's 2028-07-01: 24 Pax8 months × 440.00 = 10,560.00. The
/// customer's own cost base is the stub 440.00 × 25/31 = 354.84 plus 18 × 440.00 = 8,274.84;
/// the 2,285.16 between them is warned about. Defender (calendar-month co-term, customer's
/// year to 2027-12-01): 12 × 60.00 = 720.00 against 60.00 × 25/31 + 11 × 60.00 = 708.39, so
/// 11.61.
fn bought_as_pax8_sells_it(pax8: &Value, stderr: &str) {
    let row = |l: &Value| -> Vec<Value> {
        [
            "first_term_start",
            "first_term_end",
            "renews",
            "commitment_end",
            "period_cost",
            "committed_cost",
        ]
        .iter()
        .map(|k| l[*k].clone())
        .collect()
    };
    let j = |v: Value| -> Vec<Value> { v.as_array().unwrap().clone() };
    assert_eq!(
        row(&pax8["lines"][0]),
        j(serde_json::json!([
            "2026-12-07",
            "2027-12-07",
            true,
            "2028-12-07",
            "440.00",
            "10560.00"
        ]))
    );
    assert_eq!(
        row(&pax8["lines"][1]),
        j(serde_json::json!([
            "2026-12-07",
            "2027-12-07",
            true,
            "2027-12-07",
            "60.00",
            "720.00"
        ]))
    );
    assert_eq!(pax8["committed_cost"], "11280.00");
    assert!(
        stderr.contains("Pax8 takes no co-term date, so it sells M365-BP on P1Y terms from 2026-12-07: the commitment runs to 2028-12-07, past the customer's end 2028-07-01, and its cost after that, 2,285.16,"),
        "{stderr}"
    );
    assert!(stderr.contains("MDB on P1Y terms from 2026-12-07: the commitment runs to 2027-12-07, past the customer's end 2027-12-01, and its cost after that, 11.61,"), "{stderr}");
    assert_eq!(
        stderr.matches("warning[distributor-runs-past]").count(),
        2,
        "{stderr}"
    );
}

/// The example rules with every distributor co-terming (no `coterm none`), in a scratch copy.
fn rules_that_coterm(dir: &Path) -> PathBuf {
    let to = dir.join("rules-coterm");
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(root().join("rules")).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            std::fs::write(to.join(e.file_name()), text.replace("  coterm none", "")).unwrap();
        }
    }
    to
}

#[test]
fn a_distributor_that_co_terms_sells_the_first_term_to_the_co_term_date() {
    let dir = scratch("cotermed");
    let rules = rules_that_coterm(&dir);
    let out = dir.join("out");
    let q = root().join("rules/quotes/q1001-dental-practice.yaml");
    let o = accept(&q, &rules, &out);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert!(!o.stderr.contains("distributor-runs-past"), "{}", o.stderr);
    let pax8 = doc(&out, "PO-Q-1001-pax8");
    bought_as_microsoft_sells_it(&pax8);
    // The commitment is the customer's own: the stub 354.84 plus 18 × 440.00.
    assert_eq!(pax8["lines"][0]["committed_cost"], "8274.84");
}

/// A one-line quote for CUST-0042 (anniversary 07-01) written into `dir`.
fn one_line_quote(dir: &Path, name: &str, line: &str) -> PathBuf {
    let q = dir.join(format!("{name}.yaml"));
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        &q,
        format!(
            "quote: Q-{name}\ndate: 2026-11-20\ncurrency: USD\ncustomer:\n  id: CUST-0042\n  name: Bayview Family Dental\n  segment: commercial\n  anniversary: 07-01\nlines:\n  - {line}\n"
        ),
    )
    .unwrap();
    q
}

/// The first Pax8 purchase-order line of a one-line quote under the example rules, and the
/// accept's standard error.
fn pax8_line(name: &str, line: &str) -> (Value, String) {
    let dir = scratch(name);
    let q = one_line_quote(&dir, name, line);
    let out = dir.join("out");
    let o = accept(&q, &root().join("rules"), &out);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let po = doc(&out, &format!("PO-Q-{name}-pax8"));
    (po["lines"][0].clone(), o.stderr)
}

#[test]
fn a_line_starting_on_its_anchor_is_bought_for_the_customers_term_with_no_warning() {
    // 10 × M365-BP P1Y monthly from the anniversary: no stub, so Pax8's year from the order
    // is the customer's year, [2027-07-01, 2028-07-01), 12 × 10 × 17.60 = 2,112.00.
    let (l, err) = pax8_line(
        "anchor",
        "{ product: M365-BP, quantity: 10, term: P1Y, billing: monthly, start: 2027-07-01 }",
    );
    assert_eq!(l["first_term_end"], "2028-07-01");
    assert_eq!(l["commitment_end"], "2028-07-01");
    assert_eq!(l["committed_cost"], "2112.00");
    assert!(!err.contains("distributor-runs-past"), "{err}");
}

#[test]
fn a_leap_day_start_ends_its_terms_on_february_28_anchored_on_the_start() {
    // From 2028-02-29 (a leap day) Pax8's years end 2029-02-28 and 2030-02-28 (the k-th end is
    // start + 12k months, clamped; never 2030-02-28 → chained drift). The customer's stub runs
    // to the anniversary 2028-07-01 and its year to 2029-07-01, so two Pax8 years:
    // 24 × 10 × 17.60 = 4,224.00. The customer's cost base: the stub piece
    // [2028-02-29, 2028-03-01) is 1 day of February's 29: 176.00 × 1/29 = 6.07, then
    // March–June 4 × 176.00 and the year 12 × 176.00: 6.07 + 2,816.00 = 2,822.07; the rest,
    // 4,224.00 − 2,822.07 = 1,401.93, is warned about.
    let (l, err) = pax8_line(
        "leap",
        "{ product: M365-BP, quantity: 10, term: P1Y, billing: monthly, start: 2028-02-29 }",
    );
    assert_eq!(l["first_term_end"], "2029-02-28");
    assert_eq!(l["commitment_end"], "2030-02-28");
    assert_eq!(l["committed_cost"], "4224.00");
    assert!(err.contains("runs to 2030-02-28, past the customer's end 2029-07-01, and its cost after that, 1,401.93,"), "{err}");
}

/// Q-1001's Business Premium on a co-terming distributor's purchase order. DOMAIN.md, Acceptance: Microsoft
/// sells a P1Y whose first term ends on the co-term date (07-01) and renews for full years, not
/// one 19-month P1Y. The customer's stub [2026-12-07, 2027-07-01) plus its full year to
/// 2028-07-01 is that first term and one renewal.
fn bought_as_microsoft_sells_it(pax8: &serde_json::Value) {
    let bp = &pax8["lines"][0];
    let shape: Vec<&serde_json::Value> = [
        "term",
        "billing",
        "first_term_start",
        "first_term_end",
        "renews",
        "renewal_term",
        "commitment_end",
    ]
    .iter()
    .map(|k| &bp[*k])
    .collect();
    assert_eq!(
        serde_json::json!(shape),
        serde_json::json!([
            "P1Y",
            "monthly",
            "2026-12-07",
            "2027-07-01",
            true,
            "P1Y",
            "2028-07-01"
        ])
    );
    // 25 seats × 17.60 a month = 440.00 per distributor billing period.
    assert_eq!(bp["period_cost"], "440.00");
}

/// core/QUOTES.md "Figures", worked by hand there; every document states the same figures.
#[test]
fn figures_as_quotes_md_defines_them() {
    let (_, r) = scenario("figures");
    let dir = scratch("figures");
    let o = accept(&r.join("quote.yaml"), &r, &dir);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let so = doc(&dir, "SO-Q-FIGURES");
    let sum = doc(&dir, "SUM-Q-FIGURES");
    let rt = doc(&dir, "RT-Q-FIGURES");
    for totals in [&so["totals"], &sum["totals"]] {
        // 365.00 + 125.00 + 10 × 22.00 + 150.00, all billed 2026-07-01.
        assert_eq!(totals["first_invoice"], "860.00");
        // 365/12 + 125/12 + 220 = 260.8333… (the lines' rounded 30.42 + 10.42 + 220.00 = 260.84).
        assert_eq!(totals["mrr"], "260.83");
        // 365 + 125 + 12 × 220, not 12 × 260.83 = 3,129.96.
        assert_eq!(totals["arr"], "3130.00");
        // 365 + 125 + 12 × 220 + 150.
        assert_eq!(totals["contract_value"], "3280.00");
        // 292 + 100 + 12 × 10 × 17.60 + 90.
        assert_eq!(totals["cost"], "2594.00");
        // 3,280.00 − 2,594.00.
        assert_eq!(totals["margin"], "686.00");
    }
    assert_eq!(rt["mrr"], "260.83");

    let dir = scratch("figures-365");
    let o = accept(&r.join("quote-365.yaml"), &r, &dir);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let t = &doc(&dir, "SO-Q-FIGURES-365")["totals"];
    // 365.00 ÷ 12 = 30.4166… → 30.42; ARR from the charge itself: 365.00, not 12 × 30.42 = 365.04.
    assert_eq!(t["mrr"], "30.42");
    assert_eq!(t["arr"], "365.00");
    assert_eq!(doc(&dir, "SUM-Q-FIGURES-365")["totals"]["arr"], "365.00");
}

/// The price table says when the lines' rounded MRRs do not add up to the quote's MRR.
#[test]
fn price_table_footnotes_an_mrr_total_rounded_from_the_exact_sum() {
    let (q, r) = scenario("figures");
    let o = tenor(&["price", q.to_str().unwrap(), "--rules", r.to_str().unwrap()]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert!(o.stdout.contains(
        "MRR total 260.83 is rounded once from the exact monthly sum; the line MRRs, each \
         rounded, add up to 260.84."
    ));
}

fn text(dir: &Path, id: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{id}.json"))).unwrap()
}

/// Issue 10: Q-1001's recurring template, replayed, bills the schedule to the cent on every
/// bill date, the welcome offer on MS-DEVICE included; without its dated discounts it would
/// over-bill 336.00, and the replay names the first date it goes wrong.
#[test]
fn q1001_template_replayed_equals_its_schedule() {
    use tenor_core::documents::replay;
    use tenor_plugin_sdk::docs::{InvoiceSchedule, RecurringTemplate};
    let q = root().join("rules/quotes/q1001-dental-practice.yaml");
    let dir = scratch("q1001-replay");
    let o = accept(&q, &root().join("rules"), &dir);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let mut t: RecurringTemplate = serde_json::from_str(&text(&dir, "RT-Q-1001")).unwrap();
    let s: InvoiceSchedule = serde_json::from_str(&text(&dir, "SCHED-Q-1001")).unwrap();
    assert_eq!(t.schema, "tenor.recurring-template/2");
    assert_eq!(replay::first_difference(&t, &s), None);
    let replayed = replay::replay(&t);
    assert_eq!(replayed, replay::recurring_part(&s));
    let device = t.lines.iter().find(|l| l.product == "MS-DEVICE").unwrap();
    // 10% of 28 × 40.00 = 112.00 a month for the 3 months from 2026-12-07: the stub
    // [12-07, 01-01) is 112.00 × 25/31 = 90.32, January and February 112.00 each, and
    // [03-01, 03-07) of March 112.00 × 6/31 = 21.68 → 336.00 in all.
    let charges = replay::replay_line(device);
    // The stub (every charge before the full term's start, 2027-07-01) is stated; the 12
    // regular periods after it bill `amount` each.
    let regular = charges.len() - device.stub.len();
    assert_eq!(regular, 12);
    let credit: Decimal = charges.iter().map(|c| c.amount).sum::<Decimal>()
        - device.stub.iter().map(|c| c.amount).sum::<Decimal>()
        - device.amount * Decimal::from(12);
    assert_eq!(credit, "-336.00".parse::<Decimal>().unwrap());
    // On the stub's bill date the schedule bills 903.23 − 90.32 = 812.91 for MS-DEVICE.
    let d = "2026-12-07".parse().unwrap();
    assert_eq!(replayed[&(d, 4)], "812.91".parse::<Decimal>().unwrap());
    // The backup line is a usage line: its estimate, metric and tiers, not 1 × 0.033333.
    let backup = t.lines.iter().find(|l| l.product == "DATTO-CLOUD").unwrap();
    assert_eq!(backup.unit_price, None);
    assert_eq!(backup.quantity, Decimal::from(1500));
    let usage = backup.usage.as_ref().unwrap();
    assert_eq!(
        (usage.metric.as_str(), usage.aggregation.as_str()),
        ("storage-gb", "max")
    );
    assert_eq!(usage.tiers.as_ref().unwrap().rows.len(), 3);

    // The template as it was before issue 10, without the welcome offer: the replay names the
    // first bill date it over-bills.
    for l in &mut t.lines {
        l.discounts.clear();
    }
    let diff = replay::first_difference(&t, &s).unwrap();
    assert_eq!(
        (diff.line, diff.bill_date, diff.expected, diff.got),
        (4, d, "812.91".parse().unwrap(), "903.23".parse().unwrap())
    );
}
