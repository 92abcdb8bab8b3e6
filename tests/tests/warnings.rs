//! Warnings: what `tenor` lets through but probably was not meant. Each is located like an
//! error (file:line:col with the source line and a caret, or the quote line and field), all are
//! reported together, `--quiet` does not hide them, `--error-format json` carries them with
//! `"severity": "warning"`, and they never change the exit code.
//!
//! - `tenor check`: an offer that sells below its cost (`below-cost`);
//! - `tenor price`, `explain`, `accept`: a quote line starting before the quote's date
//!   (`start-before-quote`);
//! - `tenor change`: a seat change that crosses a volume tier while the price is locked
//!   (`tier-crossed`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use tenor_core::cli::Exit;
use tenor_tests::{rules_dir, tenor};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A fresh directory of its own under cargo's scratch space.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tenor-warnings-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ------------------------------------------------------------------ below cost (tenor check)

/// Two offers below cost (lines 10 and 19), one at cost by a 0% markup (line 11) and one well
/// above it (line 9).
const BELOW_COST: &str = r#"currency USD
vendor contoso "Contoso"

product X "Widget" {
  vendor contoso
  unit   user
  not bought

  P1Y monthly  22.00 a month  cost 17.60 a month
  P1Y annual  200.00 a year   cost 17.60 a month
  P1M monthly  cost 17.60 a month  markup 0%
}

product Y "Setup" {
  vendor contoso
  unit   project
  not bought

  one-time  50.00 once  cost 60.00 once
}
"#;

fn below_cost_rules(test: &str) -> PathBuf {
    let dir = scratch(test);
    let file = dir.join("rules.tenor");
    std::fs::write(&file, BELOW_COST).unwrap();
    file
}

#[test]
fn check_warns_of_offers_below_cost_with_file_line_col_and_caret_and_exits_0() {
    let file = below_cost_rules("below-cost-human");
    let name = s(&file);
    // --quiet silences status lines, not warnings.
    for quiet in [false, true] {
        let args: Vec<&str> = if quiet {
            vec!["--quiet", "check", name]
        } else {
            vec!["check", name]
        };
        let o = tenor(&args);
        assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
        // 2 products; 4 offers (X has three, Y one); no rules.
        assert_eq!(
            o.stdout,
            "ok: 1 file, 2 products, 0 bundles, 4 offers, 0 rules\n"
        );
        // P1Y annual: 200.00 a year against 17.60 a month = 12 × 17.60 = 211.20 a year. The
        // price `200.00` starts on line 10 at column 15 (2 spaces, `P1Y annual`, 2 spaces).
        let first = format!(
            "warning[below-cost]: `X` P1Y annual sells below its cost: 200.00 a year against a cost of 17.60 a month\n   ┌─ {name}:10:15\n"
        );
        assert!(o.stderr.starts_with(&first), "{}", o.stderr);
        assert!(
            o.stderr
                .contains("10 │   P1Y annual  200.00 a year   cost 17.60 a month"),
            "{}",
            o.stderr
        );
        // The caret under the price, the cost underlined as the related place.
        assert!(
            o.stderr
                .contains("│               ^^^^^^               ----- the cost"),
            "{}",
            o.stderr
        );
        assert!(
            o.stderr.contains("│               price below cost"),
            "{}",
            o.stderr
        );
        // One-time: 50.00 once against 60.00 once; `50.00` at line 19, column 13.
        assert!(
            o.stderr.contains(&format!(
                "warning[below-cost]: `Y` one-time sells below its cost: 50.00 once against a cost of 60.00 once\n   ┌─ {name}:19:13\n"
            )),
            "{}",
            o.stderr
        );
        // Both reported, the 22.00 line and the 0% markup (17.60 = cost) not.
        assert_eq!(o.stderr.matches("warning[below-cost]").count(), 2);
        assert!(
            o.stderr.ends_with("warning: 2 warnings in 1 file\n"),
            "{}",
            o.stderr
        );
        assert!(!o.stderr.contains("error"), "{}", o.stderr);
    }
}

#[test]
fn check_json_carries_warnings_with_their_severity_and_stays_ok() {
    let file = below_cost_rules("below-cost-json");
    for args in [
        vec!["check", "--format", "json", s(&file)],
        vec!["--error-format", "json", "check", s(&file)],
    ] {
        let o = tenor(&args);
        assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
        assert_eq!(o.stderr, "");
        let doc: Value = serde_json::from_str(&o.stdout).unwrap();
        assert_eq!(doc["schema"], "tenor.check/1");
        assert_eq!(doc["ok"], true);
        let d = doc["diagnostics"].as_array().unwrap();
        assert_eq!(d.len(), 2, "{doc:#}");
        for (w, line, column) in [(&d[0], 10, 15), (&d[1], 19, 13)] {
            assert_eq!(w["severity"], "warning");
            assert_eq!(w["code"], "below-cost");
            assert_eq!(w["line"], line);
            assert_eq!(w["column"], column);
            assert_eq!(w["label"], "price below cost");
        }
    }
}

#[test]
fn a_derived_price_is_never_below_cost() {
    // A markup or margin is at least 0% (a negative markup is an error), so the derived price
    // is cost × (1 + m) ≥ cost or cost ÷ (1 − m) ≥ cost: 0% markup and 0% margin on a cost of
    // 17.60 both give 17.60, which is not below it.
    let dir = scratch("derived");
    let file = dir.join("rules.tenor");
    std::fs::write(
        &file,
        "currency USD\nvendor contoso \"Contoso\"\n\nproduct X \"Widget\" {\n  vendor contoso\n  unit   user\n  not bought\n\n  P1M monthly  cost 17.60 a month  markup 0%\n  P1Y monthly  cost 17.60 a month  margin 0%\n}\n",
    )
    .unwrap();
    let o = tenor(&["check", s(&file)]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(o.stderr, "");
}

#[test]
fn the_example_rules_sell_nothing_below_cost() {
    let o = tenor(&["check", "--format", "json", s(&rules_dir())]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let doc: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(doc["diagnostics"], serde_json::json!([]));
}

// ------------------------------------------------------ start before the quote date (price)

/// A quote dated 2026-12-10 whose first line starts three days earlier (its `start` on line 14,
/// column 5) and whose second starts on the quote's date.
const EARLY_START: &str = "quote: Q-W
date: 2026-12-10
currency: USD
customer:
  id: C-1
  name: Early Start Ltd
  anniversary: 07-01
lines:
  - product: M365-BP
    quantity: 10
    term: P1Y
    billing: monthly
    coterm: none
    start: 2026-12-07

  - product: MDB
    quantity: 10
    term: P1Y
    billing: monthly
    coterm: none
    start: 2026-12-10
";

fn early_quote(test: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(test);
    let file = dir.join("q.yaml");
    std::fs::write(&file, EARLY_START).unwrap();
    (dir, file)
}

const EARLY_MESSAGE: &str = "line 1 starts on 2026-12-07, before the quote's date, 2026-12-10";

#[test]
fn a_line_starting_before_the_quote_date_warns_at_its_start_on_price_explain_and_accept() {
    let (dir, q) = early_quote("early-human");
    let rules = rules_dir();
    let out = dir.join("accepted");
    let db = dir.join("tenor.db");
    let runs: [Vec<&str>; 3] = [
        vec!["--quiet", "price", s(&q), "--rules", s(&rules)],
        vec!["--quiet", "explain", s(&q), "--rules", s(&rules)],
        vec![
            "--quiet",
            "--db",
            s(&db),
            "accept",
            s(&q),
            "--rules",
            s(&rules),
            "--out",
            s(&out),
            "--no-plugins",
        ],
    ];
    for args in runs {
        let o = tenor(&args);
        assert_eq!(o.exit, Exit::Success, "{args:?}: {}", o.stderr);
        let head = format!(
            "warning[start-before-quote]: {EARLY_MESSAGE}\n   ┌─ {}:14:5\n",
            s(&q)
        );
        assert!(o.stderr.starts_with(&head), "{args:?}: {}", o.stderr);
        assert!(
            o.stderr.contains("14 │     start: 2026-12-07"),
            "{}",
            o.stderr
        );
        assert!(
            o.stderr.contains("^^^^^^^^^^^^^^^^^ field `line 1 start`"),
            "{}",
            o.stderr
        );
        // Only line 1: line 2 starts on the quote's date.
        assert_eq!(o.stderr.matches("warning[").count(), 1, "{}", o.stderr);
        assert!(
            o.stderr
                .ends_with("warning: the quote has 1 warning; it was priced as written\n"),
            "{}",
            o.stderr
        );
    }
    assert!(out.join("SO-Q-W.json").exists());
}

#[test]
fn the_start_warning_in_json_has_severity_line_col_and_field() {
    let (_dir, q) = early_quote("early-json");
    let o = tenor(&[
        "--error-format",
        "json",
        "price",
        s(&q),
        "--rules",
        s(&rules_dir()),
        "--format",
        "json",
    ]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let errors: Value = serde_json::from_str(&o.stderr).unwrap();
    assert_eq!(errors["schema"], "tenor.error/1");
    let w = &errors["errors"][0];
    assert_eq!(errors["errors"].as_array().unwrap().len(), 1);
    assert_eq!(w["severity"], "warning");
    assert_eq!(w["code"], "start-before-quote");
    assert_eq!(w["message"], EARLY_MESSAGE);
    assert_eq!(w["line"], 14);
    assert_eq!(w["col"], 5);
    assert_eq!(w["field"], "lines[0].start");
    // The priced quote carries it too.
    let priced: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(priced["warnings"][0]["field"], "lines[0].start");
    assert_eq!(priced["warnings"][0]["code"], "start-before-quote");
}

#[test]
fn a_quote_without_warnings_prices_as_before() {
    // Q-1001 starts 2026-12-07, after its date 2026-11-20: no warning, and the priced document
    // has no `warnings` key at all.
    let q = rules_dir()
        .join("quotes")
        .join("q1001-dental-practice.yaml");
    let o = tenor(&[
        "price",
        s(&q),
        "--rules",
        s(&rules_dir()),
        "--format",
        "json",
    ]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(o.stderr, "");
    let priced: Value = serde_json::from_str(&o.stdout).unwrap();
    assert!(priced.get("warnings").is_none());
}

// ---------------------------------------------- a volume tier crossed (tenor change, locked)

/// Q-1001 accepted into a fresh directory (line 4: 28 × MS-DEVICE, volume tiers
/// `managed-device`: up to 10 at 45.00, up to 50 at 40.00, above at 35.00).
fn q1001_accepted(test: &str) -> PathBuf {
    let dir = scratch(test);
    let q = rules_dir()
        .join("quotes")
        .join("q1001-dental-practice.yaml");
    let db = dir.join("tenor.db");
    let o = tenor(&[
        "--quiet",
        "--db",
        s(&db),
        "accept",
        s(&q),
        "--rules",
        s(&rules_dir()),
        "--out",
        s(&dir),
        "--no-plugins",
    ]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    dir
}

/// `tenor change Q-1001` on line 4, recorded in `dir/tenor.db` and exported into `dir`.
fn change<'a>(dir: &'a Path, db: &'a Path, quantity: &'a str, date: &'a str) -> Vec<&'a str> {
    vec![
        "--db",
        s(db),
        "change",
        "Q-1001",
        "--line",
        "4",
        "--quantity",
        quantity,
        "--date",
        date,
        "--out",
        s(dir),
    ]
}

// 28 devices were sold at 40.00 (the `up to 50` tier); 60 falls in `above 50` at 35.00. The
// line renews on 2028-07-01: stub 2026-12-07 → 2027-07-01, then one year.
const CROSSED: &str = "line 4 `MS-DEVICE`: 60 falls in the tier `above 50` at 35.00 of `managed-device`, not the tier `up to 50` at 40.00 that 28 was sold in; the locked rate, 40.00, stays until renewal on 2028-07-01, when the tier price applies";

#[test]
fn a_change_crossing_a_volume_tier_warns_and_keeps_the_locked_rate() {
    let dir = q1001_accepted("tier-human");
    // Tier warnings name the recorded sales order.
    let so = Path::new("SO-Q-1001.json");
    let db = dir.join("tenor.db");
    let rules = rules_dir();
    let mut argv = vec!["--quiet"];
    argv.extend(change(&dir, &db, "60", "2027-02-10"));
    argv.extend(["--rules", s(&rules)]);
    let o = tenor(&argv);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(
        o.stderr,
        format!(
            "warning: {}: {CROSSED}\n  help: prices are locked for the term; billing the new tier sooner takes a new quote\n",
            s(so)
        )
    );
    let co: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("CO-Q-1001-4-2027-02-10.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(co["unit_price"], "40.00");
    assert_eq!(co["warnings"][0], CROSSED);
}

#[test]
fn the_tier_warning_in_json_and_none_within_the_tier() {
    let dir = q1001_accepted("tier-json");
    // Tier warnings name the recorded sales order.
    let so = Path::new("SO-Q-1001.json");
    let db = dir.join("tenor.db");
    let rules = rules_dir();
    let mut argv = vec!["--error-format", "json"];
    argv.extend(change(&dir, &db, "60", "2027-02-10"));
    argv.extend(["--rules", s(&rules)]);
    let o = tenor(&argv);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let errors: Value = serde_json::from_str(&o.stderr).unwrap();
    let w = &errors["errors"][0];
    assert_eq!(errors["errors"].as_array().unwrap().len(), 1);
    assert_eq!(w["severity"], "warning");
    assert_eq!(w["code"], "tier-crossed");
    assert_eq!(w["message"], CROSSED);
    assert_eq!(w["file"], s(so));
    assert_eq!(w["field"], "lines[3].quantity");

    // Then 60 → 50: 50 is in `up to 50`, the tier 28 was sold in, so nothing is crossed.
    let mut argv = vec!["--quiet"];
    argv.extend(change(&dir, &db, "50", "2027-03-10"));
    argv.extend(["--rules", s(&rules)]);
    let o = tenor(&argv);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(o.stderr, "");
}

#[test]
fn a_price_equal_to_its_cost_over_another_period_is_not_below_it() {
    // 211.20 a year against 17.60 a month: 12 × 17.60 = 211.20, equal, no warning; 211.19 a
    // year is one cent below, a warning (through the library: `RuleSet::warnings`).
    let rules = |annual: &str| {
        let mut sources = tenor_dsl::SourceSet::new();
        sources.add(
            "r.tenor",
            format!(
                "currency USD\nvendor contoso \"Contoso\"\nproduct X \"Widget\" {{\n  vendor contoso\n  unit user\n  not bought\n  P1Y annual {annual} a year cost 17.60 a month\n}}\n"
            ),
        );
        tenor_dsl::check(&sources).unwrap()
    };
    assert!(rules("211.20").warnings.is_empty());
    let below = rules("211.19");
    assert_eq!(below.warnings.len(), 1);
    assert_eq!(below.warnings[0].severity, tenor_dsl::Severity::Warning);
    assert_eq!(below.warnings[0].code, "below-cost");
}

// --------------------------------------------- where a warning points, and how much is shown

/// The customer of the quotes below, with its anniversary (so lines name `coterm: none`).
const CUSTOMER_JSON: &str = r#"{"id": "C-1", "name": "Early Start Ltd", "anniversary": "07-01"}"#;

/// A JSON quote dated 2026-12-10 with `n` lines starting three days earlier, written on one line
/// as a program would write it.
fn one_line_json(n: usize) -> String {
    let line = r#"{"product":"M365-BP","quantity":10,"term":"P1Y","billing":"monthly","coterm":"none","start":"2026-12-07"}"#;
    let lines = vec![line; n].join(",");
    format!(
        r#"{{"quote":"Q-W","date":"2026-12-10","currency":"USD","customer":{CUSTOMER_JSON},"lines":[{lines}]}}"#
    )
}

/// The 1-based column of the `k`-th (0-based) `"start"` key of a one-line JSON quote.
fn start_column(text: &str, k: usize) -> usize {
    text.match_indices(r#""start""#).nth(k).unwrap().0 + 1
}

#[test]
fn a_one_line_json_quote_with_20000_warnings_points_at_each_start_and_shows_a_bounded_excerpt() {
    // Before: every warning was shown, 20,000 of them, each under the first 160 characters of
    // the 2 MB line and located at column 162 (the clipping mark); now the first ten, each at
    // its own line's `start` under a window of the line around it, then a count.
    let dir = scratch("one-line-json");
    let q = dir.join("q.json");
    let text = one_line_json(20_000);
    std::fs::write(&q, &text).unwrap();
    let o = tenor(&[
        "price",
        s(&q),
        "--rules",
        s(&rules_dir()),
        "--format",
        "json",
    ]);
    assert_eq!(
        o.exit,
        Exit::Success,
        "{}",
        &o.stderr[..o.stderr.len().min(2000)]
    );
    assert!(
        o.stderr.len() < 16_000,
        "{} bytes of warnings",
        o.stderr.len()
    );
    assert!(
        o.stderr.lines().all(|l| l.chars().count() < 200),
        "a line of more than 200 characters was shown"
    );
    assert_eq!(o.stderr.matches("warning[start-before-quote]").count(), 10);
    for k in 0..10 {
        let head = format!(
            "warning[start-before-quote]: line {} starts on 2026-12-07, before the quote's date, 2026-12-10\n  ┌─ {}:1:{}\n",
            k + 1,
            s(&q),
            start_column(&text, k)
        );
        assert!(o.stderr.contains(&head), "{head}\n{}", o.stderr);
    }
    // The caret is under the field, in a window cut on both sides.
    let warning = o.stderr.split("\n\n").nth(1).unwrap();
    let shown: Vec<&str> = warning.lines().collect();
    let source = shown[3].split_once("│ ").unwrap().1;
    let caret = shown[4].split_once("│ ").unwrap().1;
    assert!(source.starts_with('…') && source.ends_with('…'), "{source}");
    let at = caret.find('^').unwrap();
    let under: String = source.chars().skip(at).take(20).collect();
    assert_eq!(under, r#""start":"2026-12-07""#, "{warning}");
    assert!(
        caret.ends_with(r#"^^^^^^^^^^^^^^^^^^^^ field `line 2 start`"#),
        "{caret}"
    );
    assert!(
        o.stderr.ends_with(
            "warning: … and 19990 more `start-before-quote` warnings like these, not shown (`--error-format json` lists every one)\nwarning: the quote has 20000 warnings; it was priced as written\n"
        ),
        "{}",
        &o.stderr[o.stderr.len().saturating_sub(600)..]
    );
    // The JSON error document lists every one, each at its own column.
    let o = tenor(&[
        "--error-format",
        "json",
        "price",
        s(&q),
        "--rules",
        s(&rules_dir()),
        "--format",
        "json",
    ]);
    let errors: Value = serde_json::from_str(&o.stderr).unwrap();
    let all = errors["errors"].as_array().unwrap();
    assert_eq!(all.len(), 20_000);
    for k in [0, 1, 9_999, 19_999] {
        assert_eq!(all[k]["col"], start_column(&text, k), "warning {k}");
        assert_eq!(all[k]["line"], 1);
    }
}

#[test]
fn the_shown_warnings_do_not_grow_with_the_quote() {
    // What a person is shown of 1,000 and of 4,000 warnings differs only in the count: the
    // rendering does work bounded per warning shown, not per line of the quote.
    let dir = scratch("bounded");
    let shown = |n: usize| {
        let q = dir.join(format!("q{n}.json"));
        std::fs::write(&q, one_line_json(n)).unwrap();
        let o = tenor(&["--quiet", "price", s(&q), "--rules", s(&rules_dir())]);
        assert_eq!(o.exit, Exit::Success);
        o.stderr
            .replace(s(&q), "Q")
            .replace(&format!("{}", n - 10), "K")
            .replace(&format!("{n}"), "N")
    };
    assert_eq!(shown(1_000), shown(4_000));
}

#[test]
fn a_multi_line_json_quote_warns_at_the_start_field_of_its_line() {
    let dir = scratch("multi-line-json");
    let q = dir.join("q.json");
    let text = format!(
        "{{\n  \"quote\": \"Q-W\",\n  \"date\": \"2026-12-10\",\n  \"currency\": \"USD\",\n  \"customer\": {CUSTOMER_JSON},\n  \"lines\": [\n    {{\"product\": \"M365-BP\", \"quantity\": 10, \"term\": \"P1Y\", \"billing\": \"monthly\", \"coterm\": \"none\", \"start\": \"2026-12-10\"}},\n    {{\"product\": \"M365-BP\", \"quantity\": 10, \"term\": \"P1Y\", \"billing\": \"monthly\", \"coterm\": \"none\", \"start\": \"2026-12-07\"}}\n  ]\n}}\n"
    );
    std::fs::write(&q, &text).unwrap();
    let o = tenor(&["--quiet", "price", s(&q), "--rules", s(&rules_dir())]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let want = format!(
        "warning[start-before-quote]: line 2 starts on 2026-12-07, before the quote's date, 2026-12-10\n  ┌─ {}:8:99\n  │\n8 │     {{\"product\": \"M365-BP\", \"quantity\": 10, \"term\": \"P1Y\", \"billing\": \"monthly\", \"coterm\": \"none\", \"start\": \"2026-12-07\"}}\n  │ {}{} field `line 2 start`\n",
        s(&q),
        " ".repeat(98),
        "^".repeat(22)
    );
    assert!(o.stderr.starts_with(&want), "{}", o.stderr);
}

#[test]
fn a_yaml_flow_line_warns_at_its_start_field() {
    let dir = scratch("yaml-flow");
    let q = dir.join("q.yaml");
    std::fs::write(
        &q,
        "quote: Q-W\ndate: 2026-12-10\ncurrency: USD\ncustomer: { id: C-1, name: Early Start Ltd, anniversary: 07-01 }\nlines:\n  - { product: M365-BP, quantity: 10, term: P1Y, billing: monthly, coterm: none, start: 2026-12-10 }\n  - { product: M365-BP, quantity: 10, term: P1Y, billing: monthly, coterm: none, start: 2026-12-07 }\n",
    )
    .unwrap();
    let o = tenor(&["--quiet", "price", s(&q), "--rules", s(&rules_dir())]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let want = format!(
        "warning[start-before-quote]: line 2 starts on 2026-12-07, before the quote's date, 2026-12-10\n  ┌─ {}:7:82\n  │\n7 │   - {{ product: M365-BP, quantity: 10, term: P1Y, billing: monthly, coterm: none, start: 2026-12-07 }}\n  │ {}{} field `line 2 start`\n",
        s(&q),
        " ".repeat(81),
        "^".repeat(19)
    );
    assert!(o.stderr.starts_with(&want), "{}", o.stderr);
}

#[test]
fn a_long_line_of_a_multi_line_json_quote_is_shown_as_a_window_at_the_right_column() {
    // Three quote lines written on line 8 of the file, the third (early) one past column 160:
    // before, the caret sat on the clipping mark at column 162.
    let dir = scratch("long-line-json");
    let q = dir.join("q.json");
    let item = |start: &str| {
        format!(
            r#"{{"product": "M365-BP", "quantity": 10, "term": "P1Y", "billing": "monthly", "coterm": "none", "start": "{start}"}}"#
        )
    };
    let long = format!(
        "    {}, {}, {}",
        item("2026-12-10"),
        item("2026-12-10"),
        item("2026-12-07")
    );
    let text = format!(
        "{{\n  \"quote\": \"Q-W\",\n  \"date\": \"2026-12-10\",\n  \"currency\": \"USD\",\n  \"customer\": {CUSTOMER_JSON},\n  \"lines\": [\n\n{long}\n  ]\n}}\n"
    );
    std::fs::write(&q, &text).unwrap();
    let col = long.rfind(r#""start""#).unwrap() + 1;
    // The caret underlines `"start": "2026-12-07"`, the field and its value, not the `}`.
    assert!(col > 300);
    let o = tenor(&["--quiet", "price", s(&q), "--rules", s(&rules_dir())]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let head = format!(
        "warning[start-before-quote]: line 3 starts on 2026-12-07, before the quote's date, 2026-12-10\n  ┌─ {}:8:{col}\n  │\n8 │ …",
        s(&q)
    );
    assert!(o.stderr.starts_with(&head), "{}", o.stderr);
    assert!(
        o.stderr
            .contains(r#" ^^^^^^^^^^^^^^^^^^^^^ field `line 3 start`"#),
        "{}",
        o.stderr
    );
}
