//! Human-readable renderings of priced quotes: the `price` table and the `explain` text.

pub use crate::engine::money::money;
use crate::engine::pricing::{Charge, ChargeKind, PricedLine, PricedQuote, Step};
use chrono::NaiveDate;
use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use rust_decimal::Decimal;
use std::fmt::Write as _;

fn table() -> Table {
    let mut t = Table::new();
    // A fixed layout whatever the terminal: output must be the same for the same input.
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    t
}

/// A line's figures as the price table shows them.
struct LineFigures {
    /// What the line bills on the quote's first bill date.
    first_invoice: Decimal,
    /// Every discount over the commitment (negative).
    discount: Decimal,
    /// Every charge of the commitment.
    contract_value: Decimal,
    /// Every charge's cost.
    cost: Decimal,
    /// True when its discounts on the last bill date are not those on the first: the MRR
    /// shown is the rate after the time-limited ones end.
    discounts_change: bool,
}

impl LineFigures {
    /// Sums a line's charges; `first_date` is the quote's earliest bill date, `zero` zero in the
    /// currency's minor unit.
    fn of(l: &PricedLine, first_date: Option<NaiveDate>, zero: Decimal) -> Self {
        let mut f = LineFigures {
            first_invoice: zero,
            discount: zero,
            contract_value: zero,
            cost: zero,
            discounts_change: false,
        };
        for c in &l.charges {
            f.contract_value += c.amount;
            f.cost += c.cost;
            if Some(c.bill_date) == first_date {
                f.first_invoice += c.amount;
            }
            if c.kind == ChargeKind::Discount {
                f.discount += c.amount;
            }
        }
        let rules_on = |d: Option<NaiveDate>| -> Vec<&str> {
            l.charges
                .iter()
                .filter(|c| c.kind == ChargeKind::Discount && Some(c.bill_date) == d)
                .filter_map(|c| c.rule.as_deref())
                .collect()
        };
        let first = l.charges.iter().map(|c| c.bill_date).min();
        let last = l.charges.iter().map(|c| c.bill_date).max();
        f.discounts_change = l.billing != "once" && rules_on(first) != rules_on(last);
        f
    }
}

/// A margin as a percentage of the amount, to one decimal (`—` when there is no amount).
fn margin_percent(amount: Decimal, cost: Decimal) -> String {
    if amount.is_zero() {
        return "—".to_string();
    }
    let mut pct = ((amount - cost) * Decimal::ONE_HUNDRED / amount).round_dp(1);
    pct.rescale(1);
    format!("{pct}%")
}

/// The offer's unit price and what it covers (`22.00/mo`, `1500.00 once`, `tiered`).
fn unit_price(l: &PricedLine) -> String {
    match l.unit_price {
        None => "tiered".to_string(),
        Some((p, None)) => format!("{} once", money(p)),
        Some((p, Some(1))) => format!("{}/mo", money(p)),
        Some((p, Some(12))) => format!("{}/yr", money(p)),
        Some((p, Some(m))) => format!("{}/{m} mo", money(p)),
    }
}

/// The `tenor price` table: one row per line and a total row whose amounts are the quote's
/// totals (each the sum of its column), then the quote's totals and footnotes.
pub fn price_table(p: &PricedQuote) -> String {
    let (t, changing) = lines_table(p);
    let mut notes = String::from(
        "First invoice: what each line bills on the quote's first bill date. Margin % of the \
         total row is the quote's margin over its contract value, not a sum.\n",
    );
    if !changing.is_empty() {
        let _ = writeln!(
            notes,
            "* MRR after time-limited discounts end (line {}); the first months bill less.",
            changing.join(", ")
        );
    }
    let line_mrr: Decimal = p.lines.iter().map(|l| l.mrr).sum();
    if line_mrr != p.totals.mrr {
        let _ = writeln!(
            notes,
            "MRR total {} is rounded once from the exact monthly sum; the line MRRs, each \
             rounded, add up to {}.",
            money(p.totals.mrr),
            money(line_mrr)
        );
    }
    format!(
        "Quote {} for {} ({}), {}\n{t}\n{notes}{}\n",
        p.quote,
        p.customer.name,
        p.customer.id,
        p.date,
        totals_table(p)
    )
}

/// The table of lines with its total row, and the lines whose MRR is the rate after
/// time-limited discounts end.
fn lines_table(p: &PricedQuote) -> (Table, Vec<String>) {
    let mut t = table();
    t.set_header(vec![
        "#",
        "Product",
        "Qty",
        "Term",
        "Billing",
        "Start",
        "Unit price",
        "Discount",
        "First invoice",
        "Recurring",
        "MRR",
        "Contract value",
        "Margin %",
    ]);
    let first_date = p
        .lines
        .iter()
        .flat_map(|l| l.charges.iter().map(|c| c.bill_date))
        .min();
    // Zero with the currency's decimals (the totals carry them), so every amount prints alike.
    let mut zero = Decimal::ZERO;
    zero.rescale(p.totals.contract_value.scale());
    let mut discount_total = zero;
    let mut changing = Vec::new();
    for l in &p.lines {
        let f = LineFigures::of(l, first_date, zero);
        discount_total += f.discount;
        let mut mrr = money(l.mrr);
        if f.discounts_change {
            changing.push(l.line.to_string());
            mrr.push_str(" *");
        }
        t.add_row(vec![
            l.line.to_string(),
            format!("{} {}", l.product, l.name),
            l.quantity.to_string(),
            l.term.to_string(),
            l.billing.to_string(),
            l.start.to_string(),
            unit_price(l),
            money(f.discount),
            money(f.first_invoice),
            money(l.recurring),
            mrr,
            money(f.contract_value),
            margin_percent(f.contract_value, f.cost),
        ]);
    }
    let tt = &p.totals;
    let mut total = vec![String::new(); 13];
    for (i, v) in [
        (1, "Total".to_string()),
        (7, money(discount_total)),
        (8, money(tt.first_invoice)),
        (10, money(tt.mrr)),
        (11, money(tt.contract_value)),
        (12, margin_percent(tt.contract_value, tt.cost)),
    ] {
        if let Some(cell) = total.get_mut(i) {
            *cell = v;
        }
    }
    t.add_row(total);
    for i in [0, 2, 6, 7, 8, 9, 10, 11, 12] {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    (t, changing)
}

/// The quote's totals, one per row.
fn totals_table(p: &PricedQuote) -> Table {
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
    totals
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
        let Some(d) = c.detail() else { continue };
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
            for s in c.steps() {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;
    use crate::cli::render::explain::tests::example;

    /// The cells of the table's rows that start with `│` (header, lines, total).
    fn rows(table: &str) -> Vec<Vec<String>> {
        table
            .lines()
            .take_while(|l| !l.starts_with('└'))
            .filter(|l| l.starts_with('│'))
            .map(|l| {
                l.trim_matches('│')
                    .split('┆')
                    .map(|c| c.trim().to_string())
                    .collect()
            })
            .collect()
    }

    fn amount(cell: &str) -> Decimal {
        cell.trim_end_matches(" *")
            .replace(',', "")
            .parse()
            .unwrap()
    }

    #[test]
    fn price_table_columns_sum_to_their_totals() {
        let p = example(false);
        let text = price_table(&p);
        let rows = rows(&text);
        let (header, body) = rows.split_first().unwrap();
        let (total, lines) = body.split_last().unwrap();
        assert_eq!(total[1], "Total");
        assert_eq!(lines.len(), p.lines.len());
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        for name in ["Discount", "First invoice", "MRR", "Contract value"] {
            let c = col(name);
            let sum: Decimal = lines.iter().map(|r| amount(&r[c])).sum();
            assert_eq!(sum, amount(&total[c]), "column {name}");
        }
        // The total row shows the quote's own totals.
        assert_eq!(amount(&total[col("First invoice")]), p.totals.first_invoice);
        assert_eq!(amount(&total[col("MRR")]), p.totals.mrr);
        assert_eq!(
            amount(&total[col("Contract value")]),
            p.totals.contract_value
        );
        // Worked from the example quote: the onboarding fee 1500.00 less its 500.00 waiver.
        let onboarding = &lines[4];
        assert_eq!(onboarding[col("Unit price")], "1,500.00 once");
        assert_eq!(onboarding[col("Discount")], "-500.00");
        assert_eq!(onboarding[col("Margin %")], "40.0%");
        // The welcome discount runs out: the table says the MRR is the later rate.
        assert!(lines[3][col("MRR")].ends_with('*'));
        assert!(text.contains("* MRR after time-limited discounts end (line 4)"));
    }
}

#[cfg(test)]
mod explain_tests {
    use super::*;
    use crate::cli::render::explain::tests::example;

    #[test]
    fn explain_lists_a_skipped_discount_once_per_line_with_its_periods() {
        let text = explain(&example(true), None);
        // Not once per charge any more.
        assert!(!text.contains("skipped: "));
        assert!(text.contains(
            "  discount `welcome` skipped for periods 2027-04-01 … 2028-06-01 (15 periods): \
             outside the first 3 months from 2026-12-07  ["
        ));
        assert!(text.contains(
            "  discount `nonprofit` skipped for period 2026-12-07: applies to vendor `microsoft`, \
             this line's vendor is `contoso`"
        ));
        // One line per rule for each of the seven lines (4 rules on each of lines 1-4 and 6-7,
        // 3 on line 5, whose fourth rule fired), rather than one per charge.
        assert_eq!(text.matches(" skipped for period").count(), 4 * 6 + 3);
        assert_eq!(text.lines().count(), 261);
    }
}
