//! Human-readable renderings of priced quotes: the `price` table and the `explain` text.

pub use crate::engine::money::money;
use crate::engine::pricing::{Charge, ChargeKind, PricedLine, PricedQuote, Step};
use chrono::NaiveDate;
use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use std::fmt::Write as _;

fn table() -> Table {
    let mut t = Table::new();
    // A fixed layout whatever the terminal: output must be the same for the same input.
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    t
}

/// The `tenor price` table: one row per line, then the totals.
pub fn price_table(p: &PricedQuote) -> String {
    let mut t = table();
    t.set_header(vec![
        "#",
        "Product",
        "Qty",
        "Term",
        "Billing",
        "Start",
        "First charge",
        "Recurring",
        "MRR",
    ]);
    for l in &p.lines {
        t.add_row(vec![
            l.line.to_string(),
            format!("{} {}", l.product, l.name),
            l.quantity.to_string(),
            l.term.to_string(),
            l.billing.to_string(),
            l.start.to_string(),
            money(l.first_charge),
            money(l.recurring),
            money(l.mrr),
        ]);
    }
    for i in [0, 2, 6, 7, 8] {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut totals = table();
    let tt = &p.totals;
    for (name, v) in [
        ("First invoice", tt.first_invoice),
        ("MRR", tt.mrr),
        ("ARR", tt.arr),
        ("Contract value", tt.contract_value),
        ("Cost", tt.cost),
        ("Margin", tt.margin),
    ] {
        totals.add_row(vec![
            name.to_string(),
            format!("{} {}", money(v), p.currency),
        ]);
    }
    if let Some(c) = totals.column_mut(1) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    format!(
        "Quote {} for {} ({}), {}\n{t}\n{totals}\n",
        p.quote, p.customer.name, p.customer.id, p.date
    )
}

fn step_line(out: &mut String, indent: &str, s: &Step) {
    let _ = match &s.at {
        Some(at) => writeln!(out, "{indent}{}  [{at}]", s.text),
        None => writeln!(out, "{indent}{}", s.text),
    };
}

fn charge_head(c: &Charge) -> String {
    let period = if c.period_start == c.period_end {
        format!("on {}", c.period_start)
    } else {
        format!("[{}, {})", c.period_start, c.period_end)
    };
    let rule = c
        .rule
        .as_ref()
        .map(|r| format!(" `{r}`"))
        .unwrap_or_default();
    format!(
        "{}{rule} {period}, billed {}: {} (cost {})",
        c.kind.as_str(),
        c.bill_date,
        c.amount,
        c.cost
    )
}

/// A discount rule skipped on some of a line's charges for one reason, with the periods.
struct SkipGroup<'a> {
    rule: &'a str,
    why: &'a str,
    at: Option<&'a str>,
    /// First day of each charge it was skipped on.
    periods: Vec<NaiveDate>,
}

/// Lists each discount skipped on a line once, with the periods it was skipped for (in the
/// order the rules first said so), rather than once per charge.
fn skipped_discounts(out: &mut String, l: &PricedLine) {
    let mut groups: Vec<SkipGroup<'_>> = Vec::new();
    for c in &l.charges {
        let Some(d) = &c.detail else { continue };
        for v in d.verdicts.iter().filter(|v| !v.applied) {
            let at = v.at.as_deref();
            match groups
                .iter_mut()
                .find(|g| g.rule == &*v.rule && g.why == v.why && g.at == at)
            {
                Some(g) => g.periods.push(c.period_start),
                None => groups.push(SkipGroup {
                    rule: &v.rule,
                    why: &v.why,
                    at,
                    periods: vec![c.period_start],
                }),
            }
        }
    }
    for g in groups {
        let periods = match (g.periods.first(), g.periods.last(), g.periods.len()) {
            (Some(first), _, 1) => format!("period {first}"),
            (Some(first), Some(last), n) => format!("periods {first} … {last} ({n} periods)"),
            _ => continue,
        };
        let step = Step {
            text: format!("discount `{}` skipped for {periods}: {}", g.rule, g.why),
            at: g.at.map(str::to_string),
        };
        step_line(out, "  ", &step);
    }
}

/// The `tenor explain` text: for every charge, the chain of rules that made it.
pub fn explain(p: &PricedQuote, only_line: Option<usize>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Quote {} for {} ({}), {}, {}",
        p.quote, p.customer.name, p.customer.id, p.date, p.currency
    );
    for l in p
        .lines
        .iter()
        .filter(|l| only_line.is_none_or(|n| n == l.line))
    {
        let _ = writeln!(
            out,
            "\nline {}: {} \"{}\" × {}, {} {}, from {} (term from {} to {})",
            l.line, l.product, l.name, l.quantity, l.term, l.billing, l.start, l.term_start, l.end
        );
        for s in &l.explain {
            step_line(&mut out, "  ", s);
        }
        for c in &l.charges {
            if c.kind == ChargeKind::Discount {
                let _ = writeln!(out, "    ↳ {}", charge_head(c));
                continue;
            }
            let _ = writeln!(out, "  {}", charge_head(c));
            for s in &c.explain {
                step_line(&mut out, "    ", s);
            }
        }
        skipped_discounts(&mut out, l);
        let _ = writeln!(
            out,
            "  line total {}; first charge {}; recurring {} per billing period; MRR {}",
            l.charges
                .iter()
                .map(|c| c.amount)
                .sum::<rust_decimal::Decimal>(),
            l.first_charge,
            l.recurring,
            l.mrr
        );
    }
    let t = &p.totals;
    let _ = writeln!(
        out,
        "\ntotals: first invoice {}, MRR {}, ARR {}, contract value {}, cost {}, margin {}",
        t.first_invoice, t.mrr, t.arr, t.contract_value, t.cost, t.margin
    );
    out
}
