//! The `tenor match` report for people: findings, totals per class and customer, explanations.

use crate::engine::money::money;
use crate::matching::MatchReport;
use rust_decimal::Decimal;

/// The readable report: one row per finding, totals per class and per customer, then each
/// finding's explanation.
pub fn table(r: &MatchReport) -> String {
    use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
    use std::fmt::Write as _;
    let new_table = || {
        let mut t = Table::new();
        // A fixed layout whatever the terminal: the same input prints the same text.
        t.load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        t
    };
    let maybe_money = |m: Option<Decimal>| match m {
        Some(m) => money(m),
        None => "unknown".to_string(),
    };
    let mut s = String::new();
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
    }
    if r.findings.is_empty() {
        let _ = writeln!(s, "no findings: what was sold, bought and billed agree");
    } else {
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
        for (i, f) in r.findings.iter().enumerate() {
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
        for i in [0, 2, 7] {
            if let Some(c) = t.column_mut(i) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
        let _ = writeln!(s, "{t}");
        let totals = r.totals();
        for (title, map) in [
            ("Class", &totals.by_class),
            ("Customer", &totals.by_customer),
        ] {
            let mut t = new_table();
            t.set_header(vec![title, "Findings", "Money at risk", "Amount unknown"]);
            for (name, tally) in map {
                t.add_row(vec![
                    name.clone(),
                    tally.findings.to_string(),
                    format!("{} {}", money(tally.money_at_risk), r.currency),
                    tally.unknown.to_string(),
                ]);
            }
            t.add_row(vec![
                "total".to_string(),
                totals.findings.to_string(),
                format!("{} {}", money(totals.money_at_risk), r.currency),
                totals.unknown.to_string(),
            ]);
            for i in [1, 2, 3] {
                if let Some(c) = t.column_mut(i) {
                    c.set_cell_alignment(CellAlignment::Right);
                }
            }
            let _ = writeln!(s, "{t}");
        }
        for (i, f) in r.findings.iter().enumerate() {
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
    for n in &r.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        noun.to_string()
    } else {
        format!("{noun}s")
    }
}
