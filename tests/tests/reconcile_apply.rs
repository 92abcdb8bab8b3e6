//! `tenor reconcile --month M --apply` against the vendor simulators (issue 15): the month's
//! PSA findings become the changes that make ConnectWise bill what was sold again, shown first
//! (a dry run sends nothing), then sent once, recorded, and the next month reconciles clean.
//! Figures by hand from `rules/microsoft-365.tenor` and Q-1001: 25 Business Premium seats at
//! 22.00 a month and 25 Defender seats at 3.00 a month, P1Y from 2026-12-07, co-termed to
//! 07-01 (a stub to 2027-01-01, then monthly periods on the 1st).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests: a missing JSON key reads Null and fails the assertion"
)]

use serde_json::Value;
use tenor_simulators::{Fault, FaultKind, Vendor};
use tenor_tests::sims::Vendors;

fn day(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// ConnectWise's additions, as the simulator holds them.
fn additions(v: &Vendors) -> Vec<Value> {
    v.sims.with_world(|w| w.connectwise.additions.clone())
}

/// The id of the (first) addition of a product.
fn addition_of(v: &Vendors, product: &str) -> i64 {
    additions(v)
        .iter()
        .find(|a| a["product"]["identifier"] == product)
        .and_then(|a| a["id"].as_i64())
        .unwrap_or_else(|| panic!("no {product} addition: {:#?}", additions(v)))
}

/// Bills and pulls the month, then reconciles it with `extra` arguments.
fn month(v: &mut Vendors, m: &str, extra: &[&str]) -> (bool, Value, String) {
    v.bill_and_pull(m);
    reconcile(v, m, extra)
}

fn reconcile(v: &Vendors, m: &str, extra: &[&str]) -> (bool, Value, String) {
    let mut args = vec!["reconcile", "--month", m, "--format", "json"];
    args.extend_from_slice(extra);
    let r = v.tenor(&args);
    let doc = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr));
    (r.ok, doc, r.stderr)
}

/// (side, product, class, money at risk) of each finding, sorted.
fn found(doc: &Value) -> Vec<[String; 4]> {
    let mut rows: Vec<[String; 4]> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            ["side", "product", "class", "money_at_risk"]
                .map(|k| f[k].as_str().unwrap_or_default().to_string())
        })
        .collect();
    rows.sort();
    rows
}

fn row(side: &str, product: &str, class: &str, money: &str) -> [String; 4] {
    [side, product, class, money].map(str::to_string)
}

/// Q-1001 pushed, December and January reconciled clean, then ConnectWise drifted before
/// February is billed (Business Premium set to 20 seats, Defender cancelled on its last day of
/// January), February billed and pulled: the addition ids of both, and February's report.
fn drifted(name: &str) -> (Vendors, i64, i64, Value) {
    let mut v = Vendors::with_q1001_pushed(name);
    for m in ["2026-12", "2027-01"] {
        let (ok, doc, _) = month(&mut v, m, &[]);
        assert!(ok, "{m}: {:#}", doc["findings"]);
    }
    let bp = addition_of(&v, "M365-BP");
    let mdb = addition_of(&v, "MDB");
    v.sims.drift_addition_quantity(bp, 20).unwrap();
    v.sims
        .drift_cancel_addition(mdb, day("2027-01-31"))
        .unwrap();
    let (ok, doc, _) = month(&mut v, "2027-02", &[]);
    assert!(!ok);
    (v, bp, mdb, doc)
}

#[test]
fn apply_cut_short_by_the_psa_is_recorded_and_resumed_by_push() {
    let (mut v, bp, _, _) = drifted("reconcile-apply-cut");
    let before = additions(&v).len();
    // ConnectWise answers every addition create 429 (it did nothing) as long as the run
    // retries: Business Premium's old addition is cancelled (that request went through), no
    // new one is made, and the run stops.
    v.set_env("TENOR_HTTP_RETRIES", "1");
    v.sims.inject(Fault {
        vendor: Vendor::Connectwise,
        method: "POST".into(),
        path: "/finance/agreements/*".into(),
        kind: FaultKind::TooManyRequests {
            retry_after_secs: 0,
        },
        times: 1_000,
    });
    let r = v.tenor(&["reconcile", "--month", "2027-02", "--apply", "--yes"]);
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("run `tenor push Q-1001` again to resume"),
        "{}",
        r.stderr
    );
    assert_eq!(additions(&v).len(), before);
    let log = v.tenor(&["log", "Q-1001"]);
    assert!(
        log.stdout
            .contains("changes to the PSA from the reconciliation of 2027-02"),
        "{}",
        log.stdout
    );
    // ConnectWise back: the recorded fixes are resumed where they stopped, each sent once.
    v.sims.clear_faults();
    let push = v.tenor(&["push", "Q-1001"]);
    assert!(push.ok, "{}\n{}", push.stdout, push.stderr);
    let after = additions(&v);
    assert_eq!(after.len(), before + 2, "{after:#?}");
    let old_bp = after.iter().find(|a| a["id"] == bp).unwrap();
    assert_eq!(old_bp["cancelledDate"], "2027-02-28T00:00:00Z");
    let (ok, doc, _) = month(&mut v, "2027-03", &[]);
    assert!(ok, "{:#}", doc["findings"]);
}

// Long: one story in order (drift, dry run, send, resend, next month), figures beside it.
#[test]
fn apply_sends_the_psa_fixes_once_and_the_next_month_reconciles_clean() {
    let (mut v, bp, mdb, doc) = drifted("reconcile-apply");
    // By hand: Business Premium's commitment (the stub of 25/31 of a month, then 18 months to
    // 2028-07-01) carried at 20 seats is 5 × 22.00 × (18 + 25/31) = 2,068.71 never billed, on
    // the agreement and on the invoice; Defender (its year ends 2027-11-30) is not billed from
    // 02-01: February to November, 10 × 25 × 3.00 = 750.00. Pax8's 25 seats are committed to
    // 2027-12-07 (its 7-day window closed on 2026-12-14): the 5 the PSA stopped billing still
    // cost 5 × 17.60 for the 10 charges 02-07 … 11-07, 880.00, counted with the PSA's finding.
    assert_eq!(
        found(&doc),
        vec![
            row("invoice", "M365-BP", "quantity", "2068.71"),
            row("invoice", "MDB", "missing_line", "750.00"),
            row("psa", "M365-BP", "quantity", "2068.71"),
            row("psa", "MDB", "coterm_date", "750.00"),
            row("purchase_order", "M365-BP", "quantity", "880.00"),
        ]
    );
    let before = additions(&v);

    // The dry run: the two changes, from the first period after February (2027-03-01);
    // nothing sent.
    let (_, dry, stderr) = reconcile(&v, "2027-02", &["--apply"]);
    let docs = dry["apply"]["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 1, "{dry:#}");
    let fix_doc = &docs[0];
    assert_eq!(fix_doc["schema"], "tenor.psa-fix/1");
    assert_eq!(fix_doc["quote"], "Q-1001");
    assert_eq!(fix_doc["month"], "2027-02");
    let fixes = fix_doc["fixes"].as_array().unwrap();
    let bp_fix = fixes.iter().find(|f| f["product"] == "M365-BP").unwrap();
    assert_eq!(bp_fix["quantity"], "25");
    assert_eq!(bp_fix["quantity_found"], "20");
    assert_eq!(bp_fix["unit_price"], "22.00");
    assert_eq!(bp_fix["effective"], "2027-03-01");
    let mdb_fix = fixes.iter().find(|f| f["product"] == "MDB").unwrap();
    assert_eq!(mdb_fix["restore"], true);
    assert_eq!(mdb_fix["quantity"], "25");
    assert_eq!(mdb_fix["unit_price"], "3.00");
    assert_eq!(mdb_fix["effective"], "2027-03-01");
    assert_eq!(dry["apply"]["sent"], Value::Null);
    assert!(stderr.contains("dry run: nothing was sent"), "{stderr}");
    assert_eq!(additions(&v), before, "a dry run sends nothing");
    // For people: each change, and what is left by hand.
    let table = v.tenor(&["reconcile", "--month", "2027-02", "--apply"]);
    let id = fix_doc["id"].as_str().unwrap();
    assert!(id.starts_with("FIX-Q-1001-2027-02-p"), "{id}");
    for want in [
        "--apply: 2 changes to the PSA".to_string(),
        format!("  {id} line 1 M365-BP: quantity 20 → 25, from 2027-03-01"),
        format!("  {id} line 2 MDB: add the addition again, 25 × 3.00, from 2027-03-01"),
        "Not changed by --apply: 3 findings".to_string(),
    ] {
        assert!(table.stdout.contains(&want), "{want}\n{}", table.stdout);
    }
    assert_eq!(additions(&v), before, "a dry run sends nothing");

    // Sent: Business Premium's addition cancelled on 02-28 and one of 25 added from 03-01;
    // Defender added again from 03-01 at 25 × 3.00.
    let (_, sent, stderr) = reconcile(&v, "2027-02", &["--apply", "--yes"]);
    let lines = sent["apply"]["sent"].as_array().unwrap();
    assert!(
        lines.iter().all(|l| l["ok"] == true) && !lines.is_empty(),
        "{lines:#?}\n{stderr}"
    );
    let after = additions(&v);
    assert_eq!(after.len(), before.len() + 2, "{after:#?}");
    let old_bp = after.iter().find(|a| a["id"] == bp).unwrap();
    assert_eq!(old_bp["cancelledDate"], "2027-02-28T00:00:00Z");
    let new_of = |product: &str| {
        after
            .iter()
            .filter(|a| a["product"]["identifier"] == product)
            .max_by_key(|a| a["id"].as_i64())
            .cloned()
            .unwrap()
    };
    let new_bp = new_of("M365-BP");
    assert_eq!(new_bp["quantity"], 25);
    assert_eq!(new_bp["effectiveDate"], "2027-03-01T00:00:00Z");
    let new_mdb = new_of("MDB");
    assert_ne!(new_mdb["id"], mdb);
    assert_eq!(new_mdb["quantity"], 25);
    assert_eq!(new_mdb["effectiveDate"], "2027-03-01T00:00:00Z");

    // The same fixes again (the same pull): recorded once, nothing sent twice.
    let (_, again, _) = reconcile(&v, "2027-02", &["--apply", "--yes"]);
    let lines = again["apply"]["sent"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .all(|l| l["message"].as_str().unwrap().contains("nothing sent")),
        "{lines:#?}"
    );
    assert_eq!(additions(&v).len(), after.len());
    // The fix is in the quote's log.
    let log = v.tenor(&["log", "Q-1001"]);
    assert!(log.stdout.contains("FIX-Q-1001-2027-02"), "{}", log.stdout);

    // March is billed as sold: the second reconciliation is clean.
    let (ok, doc, _) = month(&mut v, "2027-03", &[]);
    assert!(ok, "{:#}", doc["findings"]);
}
