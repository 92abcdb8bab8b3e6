//! `tenor test`, `tenor diff` and `tenor renewals` on scratch copies of the example rules:
//! the shipped expectation files pass and catch a price edit with its rule line; a diff
//! against the previous commit lists exactly the charges the edit moves; an accepted customer
//! inside its term is flagged, not repriced; renewals priced under today's rules. Every
//! expected amount is worked out by hand in the comments.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const TESTS: &str = env!("CARGO_MANIFEST_DIR");
/// Business Premium's P1Y monthly offer, as written in rules/microsoft-365.tenor.
const BP_OFFER: &str = "  P1Y monthly   22.00 a month  cost  17.60 a month";
/// The same at 23.00 a month.
const BP_EDITED: &str = "  P1Y monthly   23.00 a month  cost  17.60 a month";

/// A scratch directory holding a copy of the example rules (with quotes and tests); removed
/// when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn scratch(name: &str) -> Scratch {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("review-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    copy_dir(&Path::new(TESTS).join("../rules"), &d.join("rules"));
    Scratch(d)
}

/// The line of Business Premium's P1Y monthly offer in the scratch copy (edited or not).
fn bp_line(dir: &Path) -> usize {
    let text = std::fs::read_to_string(dir.join("rules/microsoft-365.tenor")).unwrap();
    text.lines()
        .position(|l| l == BP_OFFER || l == BP_EDITED)
        .unwrap()
        + 1
}

fn edit_price(dir: &Path) {
    let p = dir.join("rules/microsoft-365.tenor");
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(BP_OFFER));
    std::fs::write(&p, text.replace(BP_OFFER, BP_EDITED)).unwrap();
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `tenor args…` run in `dir` on a fixed clock, with its own record.
fn tenor(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_tenor-cli"))
        .args(args)
        .current_dir(dir)
        .env("TENOR_NOW", "2027-01-15T00:00:00Z")
        .env("TENOR_DB", dir.join("tenor.db"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(ok.status.success(), "git {args:?}: {ok:?}");
}

/// A git repository of the example rules with two commits: as shipped, then Business
/// Premium's P1Y monthly price edited from 22.00 to 23.00.
fn repo_with_edit(name: &str) -> Scratch {
    let s = scratch(name);
    git(&s.0, &["init", "-q"]);
    git(&s.0, &["add", "rules"]);
    git(&s.0, &["commit", "-qm", "as shipped"]);
    edit_price(&s.0);
    git(&s.0, &["commit", "-qam", "BP 23.00"]);
    s
}

/// Accepts Q-1001 under the repository's previous rules (22.00 for Business Premium), leaving
/// those rules checked out.
fn accept_under_old_rules(dir: &Path) {
    git(dir, &["checkout", "-q", "HEAD~1", "--", "rules"]);
    let out = tenor(
        dir,
        &[
            "accept",
            "rules/quotes/q1001-dental-practice.yaml",
            "--no-plugins",
            "-q",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

fn json(out: &Out) -> Value {
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn shipped_tests_pass() {
    let s = scratch("pass");
    let out = tenor(&s.0, &["test"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.ends_with("7 passed, 0 failed\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_price_edit_fails_with_expected_got_and_the_rule_line() {
    let s = scratch("fail");
    let line = bp_line(&s.0);
    edit_price(&s.0);
    let out = tenor(&s.0, &["test"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    // The stub [2026-12-07, 2027-01-01) is 25/31 of a month: 25 × 23.00 × 25/31 = 463.709…
    // → 463.71 instead of 550.00 × 25/31 → 443.55; made by the offer's line.
    let want = format!(
        "  line 1 on 2026-12-07: expected 443.55, got 463.71  \
         [rules/tests/q1001-dental-practice.yaml:53:11]\n    made by: \
         rules/microsoft-365.tenor:{line}, rules/policies.tenor:2\n"
    );
    assert!(out.stdout.contains(&want), "{}", out.stdout);
    // First invoice +20.16 (the stub); MRR +25 × 1.00.
    assert!(
        out.stdout
            .contains("first invoice: expected 8363.14, got 8383.30")
    );
    assert!(out.stdout.contains("mrr: expected 1795.00, got 1820.00"));
    assert!(
        out.stdout.ends_with("5 passed, 2 failed\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn update_needs_a_yes_then_rewrites_values_in_place() {
    let s = scratch("update");
    edit_price(&s.0);
    let file = s.0.join("rules/tests/q1001-dental-practice.yaml");
    let before = std::fs::read_to_string(&file).unwrap();
    // Not a terminal and no --yes: shown, not written.
    let out = tenor(&s.0, &["test", "--update"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("q1001-dental-practice.yaml:41: 8363.14 -> 8383.30")
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
    let out = tenor(&s.0, &["test", "--update", "--yes"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(after.contains("      first_invoice: 8383.30\n"));
    assert!(after.contains("          amount: 463.71\n"));
    // Comments (the hand arithmetic) are kept: only the values changed.
    assert_eq!(before.lines().count(), after.lines().count());
    assert!(after.starts_with("# Q-1001, Bayview Family Dental"));
    assert_eq!(tenor(&s.0, &["test"]).code, 0);
}

#[test]
fn a_broken_test_file_is_located_with_a_caret() {
    let s = scratch("broken");
    let bad = "tests:\n  - name: x\n    quote: ../quotes/q1001-dental-practice.yaml\n    \
               expect:\n      mrr: 1795.00\n      fires: [welcom]\n";
    std::fs::write(s.0.join("rules/tests/bad.yaml"), bad).unwrap();
    let out = tenor(&s.0, &["test"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("the rules have no discount `welcom`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("rules/tests/bad.yaml:6:15"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("6 │       fires: [welcom]"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.ends_with("7 passed, 1 failed\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn diff_from_the_previous_commit_lists_exactly_what_the_edit_moves() {
    let s = repo_with_edit("diff");
    let line = bp_line(&s.0).to_string();
    let d = json(&tenor(
        &s.0,
        &["diff", "--from", "HEAD~1", "--format", "json"],
    ));
    assert_eq!(d["schema"], "tenor.diff/1");
    assert_eq!(d["quotes_priced"], 4);
    // Only Q-1001 sells M365-BP on its own (Q-1003's bundle has its own price).
    let quotes = d["quotes"].as_array().unwrap();
    assert_eq!(quotes.len(), 1);
    let q = &quotes[0];
    assert_eq!(q["quote"], "Q-1001");
    // Line 1: the stub 443.55 → 463.71 and 18 months (2027-01 to 2028-06) 550.00 → 575.00.
    let charges = q["charges"].as_array().unwrap();
    assert_eq!(charges.len(), 19);
    assert!(
        charges
            .iter()
            .all(|c| c["line"] == 1 && c["product"] == "M365-BP")
    );
    assert_eq!(charges[0]["kind"], "stub");
    assert_eq!(charges[0]["old"], "443.55");
    assert_eq!(charges[0]["new"], "463.71");
    assert!(
        charges[0]["rules"][0]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{line}"))
    );
    for c in &charges[1..] {
        assert_eq!(
            (c["old"].as_str(), c["new"].as_str()),
            (Some("550.00"), Some("575.00"))
        );
    }
    // 20.16 + 18 × 25.00 = 470.16; MRR +25.00, ARR +300.00.
    let t = &d["totals"]["change"];
    assert_eq!(t["first_invoice"], "20.16");
    assert_eq!(t["mrr"], "25.00");
    assert_eq!(t["arr"], "300.00");
    assert_eq!(t["contract_value"], "470.16");
    assert_eq!(t["margin"], "470.16");
    assert_eq!(d["locked"].as_array().unwrap().len(), 0);
    // Deterministic: the same run gives the same bytes.
    let again = tenor(&s.0, &["diff", "--from", "HEAD~1", "--format", "json"]);
    assert_eq!(serde_json::to_string(&d).unwrap(), {
        let v: Value = serde_json::from_str(&again.stdout).unwrap();
        serde_json::to_string(&v).unwrap()
    });
}

#[test]
fn an_accepted_customer_inside_its_term_is_flagged_not_repriced() {
    let s = repo_with_edit("locked");
    // Accept Q-1001 under the old rules, then diff the record's accepted quotes.
    accept_under_old_rules(&s.0);
    git(&s.0, &["checkout", "-q", "HEAD", "--", "rules"]);
    let d = json(&tenor(
        &s.0,
        &["diff", "--from", "HEAD~1", "--accepted", "--format", "json"],
    ));
    assert_eq!(d["quotes"][0]["accepted"], true);
    let locked = d["locked"].as_array().unwrap();
    assert_eq!(locked.len(), 1);
    let l = &locked[0];
    // Line 1's commitment runs to the second anniversary, 2028-07-01; 25 × 23.00 = 575.00.
    assert_eq!(l["line"], 1);
    assert_eq!(l["inside_term"], true);
    assert_eq!(l["renewal"], "2028-07-01");
    assert_eq!(l["current"], "550.00");
    assert_eq!(l["new"], "575.00");
    assert_eq!(l["mrr_change"], "25.00");
    // Not repriced: the book changes nothing now, 25.00 of MRR at renewal.
    assert_eq!(d["totals"]["change"]["mrr"], "0");
    assert_eq!(d["totals"]["change"]["first_invoice"], "0");
    assert_eq!(d["totals"]["mrr_at_renewal"], "25.00");
    // The quote files seen by a plain diff are flagged as accepted too.
    let table = tenor(&s.0, &["diff", "--from", "HEAD~1"]);
    assert!(table.stdout.contains("warning: Q-1001 CUST-0042 line 1 M365-BP (inside its term): price locked until 2028-07-01; then 575.00 a period instead of 550.00 (MRR +25.00)"), "{}", table.stdout);
}

#[test]
fn renewals_price_the_next_term_under_todays_rules() {
    let s = repo_with_edit("renewals");
    accept_under_old_rules(&s.0);
    git(&s.0, &["checkout", "-q", "HEAD", "--", "rules"]);
    let r = json(&tenor(
        &s.0,
        &["renewals", "--month", "2028-07", "--format", "json"],
    ));
    assert_eq!(r["schema"], "tenor.renewals/1");
    // Renewing on 2028-07-01: line 1 (P1Y to the second anniversary), line 3 (P1M, from
    // 2027-02-01 every month) and line 4 (P1Y); line 2 (MDB) renews 2027-12-01, 2028-12-01.
    let got: Vec<(u64, &str, &str, &str)> = r["renewals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["line"].as_u64().unwrap(),
                x["renewal"].as_str().unwrap(),
                x["current"].as_str().unwrap(),
                x["next"].as_str().unwrap(),
            )
        })
        .collect();
    // BP 25 × 23.00 = 575.00; backup 1,000 GB × 0.05 = 50.00; devices 28 × 40.00 = 1,120.00
    // with no welcome offer on a renewal.
    assert_eq!(
        got,
        vec![
            (1, "2028-07-01", "550.00", "575.00"),
            (3, "2028-07-01", "50.00", "50.00"),
            (4, "2028-07-01", "1120.00", "1120.00"),
        ]
    );
    // Microsoft's cancellation window: 7 days after the renewal (`cancel within 7 days`).
    assert_eq!(r["renewals"][0]["window_closes"], "2028-07-08");
    assert_eq!(r["renewals"][1]["window_closes"], Value::Null);
    // 550 + 50 + 1,120 = 1,720.00 now; 575 + 50 + 1,120 = 1,745.00 next.
    assert_eq!(r["current_mrr"], "1720.00");
    assert_eq!(r["next_mrr"], "1745.00");
    assert_eq!(r["mrr_change"], "25.00");
}

#[test]
fn a_seat_change_is_what_renews_and_what_the_diff_locks() {
    let s = repo_with_edit("renewals-changed");
    accept_under_old_rules(&s.0);
    let out = tenor(
        &s.0,
        &[
            "change",
            "Q-1001",
            "--line",
            "1",
            "--quantity",
            "30",
            "--date",
            "2027-03-01",
            "--out",
            "out",
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    git(&s.0, &["checkout", "-q", "HEAD", "--", "rules"]);
    let r = json(&tenor(
        &s.0,
        &["renewals", "--month", "2028-07", "--format", "json"],
    ));
    let bp = &r["renewals"][0];
    assert_eq!(bp["line"], 1);
    // 30 seats since the change: 30 × 22.00 = 660.00 now, 30 × 23.00 = 690.00 next term.
    assert_eq!(bp["quantity"], "30");
    assert_eq!(bp["current"], "660.00");
    assert_eq!(bp["next"], "690.00");
    // 660 + 50 + 1,120 = 1,830.00 now; 690 + 50 + 1,120 = 1,860.00 next.
    assert_eq!(r["current_mrr"], "1830.00");
    assert_eq!(r["next_mrr"], "1860.00");
    let d = json(&tenor(
        &s.0,
        &["diff", "--from", "HEAD~1", "--accepted", "--format", "json"],
    ));
    let l = &d["locked"][0];
    assert_eq!(l["line"], 1);
    assert_eq!(l["current"], "660.00");
    assert_eq!(l["new"], "690.00");
    assert_eq!(l["mrr_change"], "30.00");
}
