//! The server's pages, rendered on the server with maud (which escapes every value it
//! interpolates, so no customer- or MSP-supplied string is ever taken as markup).

use super::Rebuilt;
use crate::engine::money::money;
use crate::record::Accepted;
use crate::record::shares::{Decision, ShareRow, Shared};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use maud::{DOCTYPE, Markup, html};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The page's frame: title and a small inline style.
fn frame(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3em;text-align:left}td.n,th.n{text-align:right}" }
            }
            body { h1 { (title) } (body) }
        }
    }
}

/// A refusal or error page: a title and one plain sentence.
pub fn refusal(status: StatusCode, title: &str, text: &str) -> Response {
    (
        status,
        Html(frame(title, html! { p.reason { (text) } }).into_string()),
    )
        .into_response()
}

/// Every bill date and what it bills, in date order.
fn invoices(r: &Rebuilt) -> BTreeMap<NaiveDate, Decimal> {
    let mut by_date: BTreeMap<NaiveDate, Decimal> = BTreeMap::new();
    for c in &r.accepted.schedule.charges {
        *by_date.entry(c.bill_date).or_default() += c.amount;
    }
    by_date
}

/// How many invoices after the first are listed one by one before the rest are summed.
const LISTED_INVOICES: usize = 6;

/// The customer's page of a shared quote: lines, schedule summary, totals, the co-term
/// dates in words, and the Accept / Decline form (or the decision already made).
// Long: one page's markup, read top to bottom as the page shows.
pub fn quote(
    r: &Rebuilt,
    shared: &Shared,
    link: &[(&'static str, String); 5],
    csrf: &str,
    decision: Option<&Decision>,
) -> Response {
    let so = &r.accepted.sales_order;
    let cur = &so.currency;
    let t = &so.totals;
    let bills = invoices(r);
    let mut dates = bills.iter();
    let first = dates.next();
    let rest: Vec<_> = dates.collect();
    let listed = rest.iter().take(LISTED_INVOICES);
    let more = rest.iter().skip(LISTED_INVOICES);
    let more_count = more.clone().count();
    let more_total: Decimal = more.clone().map(|(_, a)| **a).sum();
    let last = rest.last().map(|(d, _)| **d);
    let title = format!("Quote {} for {}", so.quote, so.customer.name);
    let body = html! {
        p { "Quote date " (so.date) ". Version " (shared.revision) "." }
        h2 { "What you are buying" }
        table #lines {
            tr { th { "Item" } th.n { "Qty" } th { "Term" } th { "Billing" } th.n { "Unit price" } th.n { "Each period" } th.n { "First invoice" } th.n { "Over the term" } }
            @for l in &so.lines {
                tr {
                    td { (l.name) }
                    td.n { (l.quantity) }
                    td { (term_words(&l.term)) }
                    td { (l.billing) }
                    td.n { (money(l.unit_price)) }
                    td.n { (money(l.recurring)) }
                    td.n { (money(l.first_charge)) }
                    td.n { (money(l.contract_value)) }
                }
            }
        }
        @let coterms: Vec<_> = so.lines.iter().filter(|l| l.coterm.is_some() && l.start != l.term_start).collect();
        @if !coterms.is_empty() {
            h2 { "Renewal dates lined up" }
            ul #coterm {
                @for l in coterms {
                    li { (l.name) " starts on " (l.start) ". The days until " (l.term_start)
                        " are billed pro rata, so that it renews on the same date as your other services; from then it runs in full terms until " (l.end) "." }
                }
            }
        }
        h2 { "When you are billed" }
        ul #schedule {
            @if let Some((d, a)) = first {
                li { "First invoice on " (d) ": " span #first-invoice { (money(*a)) } " " (cur) "." }
            }
            @for (d, a) in listed {
                li { "Then on " (d) ": " (money(**a)) " " (cur) "." }
            }
            @if more_count > 0 {
                li { "Then " (more_count) " more invoices, totalling " (money(more_total)) " " (cur)
                    @if let Some(d) = last { ", the last on " (d) } "." }
            }
        }
        h2 { "Totals" }
        table #totals {
            tr { td { "First invoice" } td.n #total-first { (money(t.first_invoice)) " " (cur) } }
            tr { td { "Monthly recurring" } td.n #total-mrr { (money(t.mrr)) " " (cur) } }
            tr { td { "Annual recurring" } td.n #total-arr { (money(t.arr)) " " (cur) } }
            tr { td { "Total over the contract" } td.n #total-contract { (money(t.contract_value)) " " (cur) } }
        }
        @match decision {
            Some(d) => { p #decided { (decided_words(d)) } }
            None => {
                h2 { "Your decision" }
                form #decide method="post" action="/quote/accept" {
                    @for (k, v) in link { input type="hidden" name=(k) value=(v); }
                    input type="hidden" name="csrf" value=(csrf);
                    p { label { "Your full name " input name="name" required maxlength="200" autocomplete="name"; } }
                    p { label { "Your email " input name="email" type="email" required maxlength="254" autocomplete="email"; } }
                    p {
                        button #accept type="submit" { "Accept" }
                        " "
                        button #decline type="submit" formaction="/quote/decline" { "Decline" }
                    }
                }
            }
        }
    };
    Html(frame(&title, body).into_string()).into_response()
}

/// A term code in words.
fn term_words(term: &str) -> &str {
    match term {
        "P1M" => "1 month",
        "P1Y" => "1 year",
        "P3Y" => "3 years",
        "one-time" => "one-time",
        other => other,
    }
}

/// A decision in one sentence.
fn decided_words(d: &Decision) -> String {
    let verb = if d.kind == "accept" {
        "accepted"
    } else {
        "declined"
    };
    format!(
        "This quote was {verb} by {} ({}) at {}.",
        d.name, d.email, d.at
    )
}

/// The page after a successful Accept.
pub fn accepted(
    shared: &Shared,
    r: &Rebuilt,
    name: &str,
    email: &str,
    done: &Accepted,
) -> Response {
    let t = &r.accepted.sales_order.totals;
    let body = html! {
        p #done { "Thank you, " (name) ". Quote " (shared.quote) " is accepted (recorded at " (done.accepted_at) ") in the name of " (email) "." }
        p { "Your first invoice will be " (money(t.first_invoice)) " " (r.accepted.sales_order.currency) "." }
    };
    Html(frame("Quote accepted", body).into_string()).into_response()
}

/// The page when the quote was already decided (by this or another request).
pub fn decided(shared: &Shared, d: &Decision) -> Response {
    let title = if d.kind == "accept" {
        "Quote accepted"
    } else {
        "Quote declined"
    };
    let body = html! { p #decided { "Quote " (shared.quote) ": " (decided_words(d)) } };
    Html(frame(title, body).into_string()).into_response()
}

/// The MSP's overview: every shared revision, its state, views and decision.
pub fn admin(rows: &[ShareRow], now: i64) -> Response {
    let body = html! {
        table #shares {
            tr { th { "Quote" } th.n { "Version" } th { "State" } th { "Shared" } th.n { "Views" } th { "Decided by" } th { "From" } th { "At" } th { "Pushed" } }
            @for r in rows {
                tr {
                    td { (r.quote) }
                    td.n { (r.revision) }
                    td.state { (state(r, now)) }
                    td { (r.created_at) }
                    td.n { (r.views) }
                    @if let Some(d) = &r.decision {
                        td { (d.name) " <" (d.email) ">" } td { (d.address) } td { (d.at) }
                    } @else { td {} td {} td {} }
                    td.pushes {
                        @for p in &r.pushes {
                            div class={ "push " (p.state) } {
                                @if !p.plugin.is_empty() { (p.plugin) ": " (p.document) " " }
                                strong { (p.state) } ": " (p.detail)
                            }
                        }
                    }
                }
            }
        }
    };
    Html(frame("Shared quotes", body).into_string()).into_response()
}

/// A shared revision's state: accepted, declined, revoked, superseded, expired, viewed, sent.
fn state(r: &ShareRow, now: i64) -> &'static str {
    match (&r.decision, r.revoked_at.is_some(), r.superseded) {
        (Some(d), _, _) if d.kind == "accept" => "accepted",
        (Some(_), _, _) => "declined",
        (None, true, _) => "revoked",
        (None, _, true) => "superseded",
        _ if now > r.expires_at => "expired",
        _ if r.views > 0 => "viewed",
        _ => "sent",
    }
}
