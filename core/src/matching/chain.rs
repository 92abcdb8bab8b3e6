//! A quote line billed by successive PSA additions: ConnectWise has no dated quantity or
//! price, so a seat change or a reconciliation's fix cancels the line's addition the day
//! before and adds one from that day. Matched addition by addition, the old one would be an
//! extra addition and the new one would start late; matched as one chain, the line is billed
//! from the first link's start to the last link's end at the figures in force.
//!
//! With a billing window (a month's reconciliation: the invoices pulled cover it), the figures
//! are those of the link billing at the window's start, and what the links billed before it is
//! the invoices' to say (each month's reconciliation found it then): links ended by then and
//! gaps closed by then are not findings again. A gap still open at the window's start, or
//! after it, ends the chain there, so the match reports the line cancelled from that day.

use super::pulled::addition_key;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use tenor_plugin_sdk::exchange::Subscription;

/// The additions with each chain of a quote line's successive additions made one: the link in
/// force, spanning the chain. Additions that are no chain are returned as they are.
pub(super) fn chained(
    additions: &[Subscription],
    lines: &BTreeMap<String, u32>,
    from: Option<NaiveDate>,
) -> Vec<Subscription> {
    let mut groups: BTreeMap<(u32, String), Vec<&Subscription>> = BTreeMap::new();
    let mut out = Vec::new();
    for a in additions {
        let line = lines.get(&addition_key(a));
        let regular = a.unit_price.is_none_or(|u| u >= Decimal::ZERO);
        match (line, a.start, regular) {
            (Some(l), Some(_), true) => groups
                .entry((*l, super::pairing::part_key(&a.part_number)))
                .or_default()
                .push(a),
            _ => out.push(a.clone()),
        }
    }
    for (_, mut links) in groups {
        links.sort_by_key(|a| (a.start, a.end));
        match one_chain(&links, from) {
            Some(a) => out.push(a),
            None => out.extend(links.into_iter().cloned()),
        }
    }
    out
}

/// The chain's link in force, spanning it; `None` unless the links follow one another without
/// overlapping (more than one link billing a day is not a chain but extra additions).
fn one_chain(links: &[&Subscription], from: Option<NaiveDate>) -> Option<Subscription> {
    let (first, rest) = links.split_first()?;
    if rest.is_empty() {
        return Some((*first).clone());
    }
    for w in links.windows(2) {
        let (a, b) = (w.first()?, w.get(1)?);
        if a.end.is_none_or(|e| e > b.start.unwrap_or(e)) {
            return None;
        }
    }
    // The link in force: billing at the window's start (or the first after it), else the last.
    let pick = from
        .and_then(|d| links.iter().find(|a| a.end.is_none_or(|e| e > d)))
        .or(links.last())?;
    let mut held = (*pick).clone();
    held.start = first.start;
    held.end = links.last()?.end;
    // The first gap still open at the window's start (every gap, with no window) ends it.
    for w in links.windows(2) {
        let (a, b) = (w.first()?, w.get(1)?);
        if let (Some(e), Some(s)) = (a.end, b.start)
            && e < s
            && from.is_none_or(|d| s > d)
        {
            held.end = Some(e);
            break;
        }
    }
    Some(held)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn addition(id: &str, q: i64, start: &str, end: Option<&str>) -> Subscription {
        Subscription {
            id: id.into(),
            agreement: Some("7".into()),
            part_number: "M365-BP".into(),
            quantity: Decimal::from(q),
            status: "Active".into(),
            start: Some(day(start)),
            end: end.map(day),
            unit_price: Some(Decimal::from(22)),
            ..Subscription::default()
        }
    }

    fn lines(ids: &[&str]) -> BTreeMap<String, u32> {
        ids.iter().map(|i| (format!("7/{i}"), 1)).collect()
    }

    #[test]
    fn a_fixed_quantity_is_one_addition_from_the_first_start_at_the_new_figure() {
        // 20 from 2026-12-07, cancelled 2027-02-28 (end 03-01); 25 from 03-01.
        let a = [
            addition("1", 20, "2026-12-07", Some("2027-03-01")),
            addition("2", 25, "2027-03-01", None),
        ];
        let got = chained(&a, &lines(&["1", "2"]), Some(day("2027-03-01")));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].quantity, Decimal::from(25));
        assert_eq!(got[0].start, Some(day("2026-12-07")));
        assert_eq!(got[0].end, None);
        // Before the window the old link is in force: February's match sees 20.
        let got = chained(&a, &lines(&["1", "2"]), Some(day("2027-02-01")));
        assert_eq!(got[0].quantity, Decimal::from(20));
    }

    #[test]
    fn a_gap_closed_before_the_window_is_past_one_still_open_ends_the_chain() {
        // Cancelled 2027-01-31, added again from 03-01.
        let a = [
            addition("1", 25, "2026-12-07", Some("2027-02-01")),
            addition("2", 25, "2027-03-01", None),
        ];
        let got = chained(&a, &lines(&["1", "2"]), Some(day("2027-03-01")));
        assert_eq!((got[0].start, got[0].end), (Some(day("2026-12-07")), None));
        // In February the gap is open: the line reads as cancelled from 02-01.
        let got = chained(&a, &lines(&["1", "2"]), Some(day("2027-02-01")));
        assert_eq!(got[0].end, Some(day("2027-02-01")));
        // With no window, every gap counts.
        let got = chained(&a, &lines(&["1", "2"]), None);
        assert_eq!(got[0].end, Some(day("2027-02-01")));
    }

    #[test]
    fn overlapping_additions_or_additions_of_no_line_are_left_as_they_are() {
        let a = [
            addition("1", 25, "2026-12-07", None),
            addition("2", 5, "2027-03-01", None),
        ];
        assert_eq!(chained(&a, &lines(&["1", "2"]), None).len(), 2);
        assert_eq!(chained(&a, &lines(&["1"]), None).len(), 2);
    }
}
