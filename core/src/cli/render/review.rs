//! Text renderings of the reviews: `tenor test`'s report, `tenor diff`'s and `tenor renewals`'
//! tables.

use crate::engine::money::money;
use crate::review::Figures;
use crate::review::diff::{ChargeMove, Diff, QuoteDiff};
use crate::review::expect::{Failure, Run};
use crate::review::renewals::Renewals;
use rust_decimal::Decimal;
use std::fmt::Write;

/// Each test as `ok` or `FAIL` with its failures (expected, got, the rule lines), then
/// `N passed, N failed`.
pub fn test_report(run: &Run) -> String {
    let mut s = String::new();
    for f in &run.files {
        if !f.errors.is_empty() {
            let _ = writeln!(s, "FAIL {}: the file has problems (see above)", f.file);
        }
        for o in &f.outcomes {
            if o.failures.is_empty() {
                let _ = writeln!(s, "ok   {}: {}", f.file, o.name);
                continue;
            }
            let _ = writeln!(s, "FAIL {}: {}", f.file, o.name);
            for x in &o.failures {
                failure(&mut s, &f.file, x);
            }
        }
    }
    let _ = writeln!(s, "{} passed, {} failed", run.passed(), run.failed());
    s
}

/// One failure: what, expected and got, where it is written, and the rule lines behind it.
fn failure(s: &mut String, file: &str, x: &Failure) {
    let at =
        x.at.map(|(l, c)| format!("  [{file}:{l}:{c}]"))
            .unwrap_or_default();
    let _ = writeln!(
        s,
        "  {}: expected {}, got {}{at}",
        x.what, x.expected, x.got
    );
    if let Some(n) = &x.note {
        let _ = writeln!(s, "    why: {n}");
    }
    if !x.rules.is_empty() {
        let _ = writeln!(s, "    made by: {}", x.rules.join(", "));
    }
}

/// A change with its sign: `+25.00`, `-3.10`, `0.00`.
fn signed(d: Decimal) -> String {
    if d > Decimal::ZERO {
        format!("+{}", money(d))
    } else if d.is_zero() {
        "0.00".into()
    } else {
        money(d)
    }
}

/// `first invoice +25.00, MRR +25.00, …` for the figures that move.
fn figures_line(f: &Figures) -> String {
    let names = ["first invoice", "MRR", "ARR", "contract value", "margin"];
    let moved: Vec<String> = names
        .iter()
        .zip(f.named())
        .filter(|(_, (_, v))| !v.is_zero())
        .map(|(n, (_, v))| format!("{n} {}", signed(v)))
        .collect();
    if moved.is_empty() {
        "figures unchanged".into()
    } else {
        moved.join(", ")
    }
}

/// The diff for people: each quote that moves with its charges, the locked subscriptions,
/// the customers and the book's totals.
pub fn diff_table(d: &Diff) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Prices from {} to {} ({} quotes)",
        d.from, d.to, d.quotes_priced
    );
    for q in &d.quotes {
        quote_block(&mut s, q);
    }
    if !d.locked.is_empty() {
        let _ = writeln!(s, "\nLocked until renewal (accepted; not repriced):");
        for l in &d.locked {
            let when = if l.inside_term {
                "inside its term"
            } else {
                "term ended"
            };
            let _ = writeln!(
                s,
                "  warning: {} {} line {} {} ({when}): price locked until {}; then {} a period instead of {} (MRR {})",
                l.quote,
                l.customer,
                l.line,
                l.product,
                l.renewal,
                money(l.new),
                money(l.current),
                signed(l.mrr_change)
            );
        }
    }
    if !d.customers.is_empty() {
        let _ = writeln!(s, "\nCustomers:");
        for c in &d.customers {
            let _ = writeln!(
                s,
                "  {} {} ({}): {}",
                c.customer,
                c.name,
                c.quotes.join(", "),
                figures_line(&c.change)
            );
        }
    }
    let t = &d.totals;
    let _ = writeln!(
        s,
        "\nBook: {} of {} quotes move: {}; {} locked subscription(s), MRR {} at renewal",
        t.quotes_changed,
        d.quotes_priced,
        figures_line(&t.change),
        t.locked,
        signed(t.mrr_at_renewal)
    );
    s
}

/// One quote that moves.
fn quote_block(s: &mut String, q: &QuoteDiff) {
    let accepted = if q.accepted { " [accepted]" } else { "" };
    let _ = writeln!(
        s,
        "\n{} {} ({}){accepted} — {}",
        q.quote, q.customer_name, q.customer, q.source
    );
    if q.accepted {
        let _ = writeln!(
            s,
            "  accepted: not repriced; the figures are what the new rules would make of it"
        );
    }
    if let Some(e) = &q.error {
        let _ = writeln!(s, "  error: {e}");
    }
    if let (Some(o), Some(n), Some(c)) = (q.old, q.new, q.change) {
        let rows = ["first invoice", "MRR", "ARR", "contract value", "margin"];
        for ((name, (_, ov)), ((_, nv), (_, cv))) in rows
            .iter()
            .zip(o.named())
            .zip(n.named().into_iter().zip(c.named()))
        {
            let _ = writeln!(
                s,
                "  {name:<15}{:>14} -> {:>14}  {:>12}",
                money(ov),
                money(nv),
                signed(cv)
            );
        }
    }
    for c in &q.charges {
        charge_line(s, c);
    }
}

/// One charge that moves, with its rule lines.
fn charge_line(s: &mut String, c: &ChargeMove) {
    let opt = |v: Option<Decimal>| v.map_or_else(|| "—".to_string(), money);
    let rule = c.rule.as_ref().map(|r| format!(" {r}")).unwrap_or_default();
    let _ = writeln!(
        s,
        "  line {} {} {}{rule} billed {}: {} -> {} ({})  [{}]",
        c.line,
        c.product,
        c.kind,
        c.bill_date,
        opt(c.old),
        opt(c.new),
        signed(c.change),
        c.rules.join(", ")
    );
}

/// The renewals of a month for people.
pub fn renewals_table(r: &Renewals) -> String {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header([
        "renews",
        "quote",
        "customer",
        "line",
        "product",
        "qty",
        "term",
        "now",
        "next",
        "MRR change",
        "cancel window closes",
    ]);
    for x in &r.renewals {
        let next = match (&x.next, &x.error) {
            (Some(n), _) => money(*n),
            (None, Some(e)) => format!("does not price: {e}"),
            (None, None) => "—".into(),
        };
        t.add_row([
            x.renewal.to_string(),
            x.quote.clone(),
            x.customer.clone(),
            x.line.to_string(),
            x.product.clone(),
            x.quantity.to_string(),
            format!("{} {}", x.term, x.billing),
            money(x.current),
            next,
            x.mrr_change.map_or_else(|| "—".into(), signed),
            x.window_closes
                .map_or_else(|| "no window".into(), |d| d.to_string()),
        ]);
    }
    format!(
        "Renewals in {}: {} subscription(s)\n{t}\nMRR {} now, {} after renewal ({})\n",
        r.month,
        r.renewals.len(),
        money(r.current_mrr),
        money(r.next_mrr),
        signed(r.mrr_change)
    )
}
