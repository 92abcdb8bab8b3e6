//! The `tenor match` report for people: findings, totals per class and customer, explanations.

use crate::engine::money::money;
use crate::matching::{Finding, MatchReport, Tally};
use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The readable report: one row per finding, totals per class and per customer, then each
/// finding's explanation.
pub fn table(r: &MatchReport) -> String {
    let mut s = String::new();
    checked_lines(&mut s, r);
    if r.findings.is_empty() {
        let _ = writeln!(s, "no findings: what was sold, bought and billed agree");
    } else {
        let _ = writeln!(s, "{}", findings_table(&r.findings));
        let totals = r.totals();
        for (title, map) in [
            ("Class", &totals.by_class),
            ("Customer", &totals.by_customer),
        ] {
            let total = Tally {
                findings: totals.findings,
                money_at_risk: totals.money_at_risk,
                unknown: totals.unknown,
            };
            let _ = writeln!(s, "{}", totals_table(title, map, &total, &r.currency));
        }
        explanations(&mut s, &r.findings);
    }
    for n in &r.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

/// A table in the report's fixed layout: the same input prints the same text, whatever the
/// terminal.
fn new_table() -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    t
}

/// Right-aligns the numeric columns of a table.
fn align_right(t: &mut Table, columns: &[usize]) {
    for i in columns {
        if let Some(c) = t.column_mut(*i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// One line per quote saying what it was matched against.
fn checked_lines(s: &mut String, r: &MatchReport) {
    for c in &r.checked {
        let _ = writeln!(
            s,
            "quote {} for {} ({}): {} quote {}, {} purchase-order {} expected, {} order {} and {} invoice {} read",
            c.quote,
            c.customer_name,
            c.customer,
            c.quote_lines,
            plural(c.quote_lines, "line"),
            c.expected_order_lines,
            plural(c.expected_order_lines, "line"),
            c.order_lines,
            plural(c.order_lines, "line"),
            c.invoice_lines,
            plural(c.invoice_lines, "line"),
        );
        // The sides only `match --pulled` reads, when it read them.
        if let (Some(t), Some(a)) = (c.template_lines, c.additions) {
            let _ = writeln!(
                s,
                "  PSA: {t} recurring-template {} against {a} agreement {}",
                plural(t, "line"),
                plural(a, "addition")
            );
        }
        if let Some(n) = c.distributor_invoice_lines {
            let _ = writeln!(
                s,
                "  {n} distributor invoice {} read at cost",
                plural(n, "line")
            );
        }
    }
}

/// One row per finding, numbered as the explanations are.
fn findings_table(findings: &[Finding]) -> Table {
    let maybe_money = |m: Option<Decimal>| match m {
        Some(m) => money(m),
        None => "unknown".to_string(),
    };
    let mut t = new_table();
    t.set_header(vec![
        "#",
        "Class",
        "Quote line",
        "Product",
        "Document",
        "Expected",
        "Found",
        "Money at risk",
    ]);
    for (i, f) in findings.iter().enumerate() {
        t.add_row(vec![
            (i + 1).to_string(),
            f.class.as_str().to_string(),
            f.line.map(|l| l.to_string()).unwrap_or_else(|| "-".into()),
            f.product.clone(),
            format!(
                "{} {}",
                f.side.as_str(),
                f.document.as_deref().unwrap_or("(none)")
            ),
            f.expected.clone(),
            f.found.clone(),
            maybe_money(f.money_at_risk),
        ]);
    }
    align_right(&mut t, &[0, 2, 7]);
    t
}

/// Findings and money at risk per `title` (class or customer), with a total row.
fn totals_table(
    title: &str,
    map: &BTreeMap<String, Tally>,
    total: &Tally,
    currency: &str,
) -> Table {
    let row = |name: String, tally: &Tally| {
        vec![
            name,
            tally.findings.to_string(),
            format!("{} {}", money(tally.money_at_risk), currency),
            tally.unknown.to_string(),
        ]
    };
    let mut t = new_table();
    t.set_header(vec![title, "Findings", "Money at risk", "Amount unknown"]);
    for (name, tally) in map {
        t.add_row(row(name.clone(), tally));
    }
    t.add_row(row("total".to_string(), total));
    align_right(&mut t, &[1, 2, 3]);
    t
}

/// Each finding's explanation, numbered as its row.
fn explanations(s: &mut String, findings: &[Finding]) {
    for (i, f) in findings.iter().enumerate() {
        let _ = writeln!(
            s,
            "{}. {} on the {}{}: {}",
            i + 1,
            f.class.as_str(),
            f.side.as_str(),
            f.line
                .map(|l| format!(", quote line {l}"))
                .unwrap_or_default(),
            f.explanation
        );
    }
}

/// `noun` or its plural for `n`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        noun.to_string()
    } else {
        format!("{noun}s")
    }
}
