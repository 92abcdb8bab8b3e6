//! The reconciliation trend as a self-contained HTML page for finance: a bar chart of money at
//! risk per month (inline SVG, each bar stacked by class) and the figures it is drawn from,
//! every figure copied from the `tenor.reconcile-trend/1` document so the page and the JSON
//! agree. No script, no external file: it opens from disk in any browser.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// Bar area height, in SVG units.
const HEIGHT: i64 = 200;
/// Width of one month's bar and its gap.
const STEP: i64 = 48;

/// Fill colours for the classes, in the order the classes first appear.
const COLOURS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

fn dec(v: &Value) -> Decimal {
    v.as_str()
        .and_then(|s| Decimal::from_str(s).ok())
        .unwrap_or_default()
}

/// The classes that carry money in any month, in first-seen order.
fn classes(months: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in months {
        if let Some(o) = at(m, "by_class").as_object() {
            for k in o.keys() {
                if !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
    }
    out
}

/// A field of a JSON object (Null when absent).
fn at<'v>(v: &'v Value, key: &str) -> &'v Value {
    v.get(key).unwrap_or(&Value::Null)
}

/// A text field, empty when absent.
fn text<'v>(v: &'v Value, key: &str) -> &'v str {
    at(v, key).as_str().unwrap_or_default()
}

/// One piece of a month's bar: where it starts, how tall, its colour and what it shows.
struct Piece<'a> {
    y: Decimal,
    h: Decimal,
    fill: &'static str,
    label: String,
    class: &'a str,
}

/// A month's bar, pieces stacked from the axis up, scaled so the largest month is `HEIGHT`.
fn pieces<'a>(m: &Value, classes: &'a [String], top: Decimal) -> Vec<Piece<'a>> {
    let mut y = Decimal::from(HEIGHT);
    let mut out = Vec::new();
    for (k, c) in classes.iter().enumerate() {
        let v = at(at(m, "by_class"), c);
        let h = if top.is_zero() {
            Decimal::ZERO
        } else {
            (dec(v) * Decimal::from(HEIGHT) / top).round_dp(1)
        };
        if h.is_zero() {
            continue;
        }
        y -= h;
        out.push(Piece {
            y,
            h,
            fill: COLOURS.get(k % COLOURS.len()).copied().unwrap_or("#777"),
            label: v.as_str().unwrap_or_default().to_string(),
            class: c,
        });
    }
    out
}

/// The chart: one stacked bar per month.
fn chart(months: &[Value], classes: &[String]) -> Markup {
    let top = months
        .iter()
        .map(|m| dec(at(m, "money_at_risk")))
        .max()
        .unwrap_or_default();
    let width = STEP * i64::try_from(months.len()).unwrap_or(0) + 60;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(width) height=(HEIGHT + 40)
            role="img" aria-label="money at risk per month" {
            @for (i, m) in months.iter().enumerate() {
                @let x = 40 + STEP * i64::try_from(i).unwrap_or(0);
                @for p in pieces(m, classes, top) {
                    rect x=(x) y=(p.y) width=(STEP - 12) height=(p.h) fill=(p.fill) {
                        title { (p.class) " " (p.label) }
                    }
                }
                text x=(x) y=(HEIGHT + 16) font-size="10" { (text(m, "month")) }
            }
            line x1="36" y1=(HEIGHT) x2=(width) y2=(HEIGHT) stroke="#333" {}
        }
    }
}

/// The whole page for a trend document.
pub fn page(doc: &Value) -> String {
    let months: Vec<Value> = at(doc, "months").as_array().cloned().unwrap_or_default();
    let classes = classes(&months);
    let scope = at(doc, "customer").as_str().unwrap_or("every customer");
    let style = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
                 td,th{border:1px solid #ccc;padding:4px 8px}td.n{text-align:right}";
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Money at risk since " (text(doc, "since")) }
                style { (PreEscaped(style)) }
            }
            body {
                h1 { "Money at risk since " (text(doc, "since")) ", " (scope) }
                p { "Each month is its latest reconciliation: a gap still open is counted again in every month it is open, so the months are not summed." }
                (chart(&months, &classes))
                p.legend {
                    @for (k, c) in classes.iter().enumerate() {
                        span style={ "color:" (COLOURS.get(k % COLOURS.len()).copied().unwrap_or("#777")) } { "■ " }
                        (c) " "
                    }
                }
                table id="months" {
                    thead { tr { th { "Month" } th { "Findings" } th { "Money at risk" } th { "Amount unknown" }
                        @for c in &classes { th { (c) } } } }
                    tbody {
                        @for m in &months {
                            tr {
                                td { (text(m, "month")) }
                                td.n { (at(m, "findings")) }
                                td.n.money { (text(m, "money_at_risk")) }
                                td.n { (at(m, "unknown")) }
                                @for c in &classes {
                                    td.n { (at(at(m, "by_class"), c).as_str().unwrap_or("0.00")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    .into_string()
}
