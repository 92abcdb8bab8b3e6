//! Properties of pricing that must hold for every input, not only the worked examples.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;
use tenor_core::engine::calendar::Anchor;
use tenor_core::engine::catalogue::{Catalogue, CotermMode, DayBasis, Proration};
use tenor_core::engine::pricing::{ChargeKind, PriceOptions, price};
use tenor_core::engine::quote::{Customer, MonthDay, Quote, QuoteLine};
use tenor_core::engine::schedule::{AnchorAt, Coterm, plan};

const RULES: &str = r#"
currency USD
rounding half_up
vendor microsoft "Microsoft"
vendor contoso "Contoso"
category licences "Licences"
category services "Services"
segment nonprofit "Nonprofit organisations"
segment commercial "Commercial customers"

product BP "Business Premium" {
  vendor microsoft
  category licences
  P1M monthly   26.40 a month  cost  21.12
  P1Y monthly   22.00 a month  cost  17.60
  P1Y quarterly 66.00 a quarter cost 52.80
  P1Y annual   264.00 a year   cost 211.20
  P3Y monthly   22.00 a month  cost  17.60
  P3Y annual   264.00 a year   cost 211.20
  P3Y upfront  792.00 a term   cost 633.60
}

tiers devices graduated per device a month {
  up to 10  45.00
  up to 50  40.00  plus 10.00 flat
  above     35.00
}

product DEV "Managed device" {
  vendor contoso
  category services
  not bought
  P1M monthly  tiers devices
  P1Y monthly  tiers devices
  P1Y annual   tiers devices
}

product HW "Laptop" {
  vendor contoso
  one-time  cost 999.99 once  markup 17.5%
}

coterm default { anchor customer anniversary; mode stub; prorate daily }

discount nonprofit: 15% off vendor microsoft when customer segment is nonprofit
discount volume: 2.50 per unit a month off product DEV when quantity at least 20 for the first 5 months
discount welcome: 10% off every line when start before 2027-01-01 for the first 2 months
discount hw: 25.00 once off product HW
"#;

fn catalogue() -> Catalogue {
    let mut sources = tenor_dsl::SourceSet::new();
    sources.add("props.tenor", RULES);
    let rules = tenor_dsl::check(&sources)
        .unwrap_or_else(|d| panic!("{}", tenor_dsl::diagnostic::render_plain(&sources, &d)));
    Catalogue::compile(&rules, &sources)
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (2024i32..2031, 1u32..=12, 1u32..=31).prop_map(|(y, m, d)| {
        let dim = tenor_core::engine::calendar::days_in_month(y, m).unwrap();
        NaiveDate::from_ymd_opt(y, m, d.min(dim)).unwrap()
    })
}

fn line() -> impl Strategy<Value = QuoteLine> {
    let offers = prop::sample::select(vec![
        ("BP", "P1M", Some("monthly")),
        ("BP", "P1Y", Some("monthly")),
        ("BP", "P1Y", Some("quarterly")),
        ("BP", "P1Y", Some("annual")),
        ("BP", "P3Y", Some("monthly")),
        ("BP", "P3Y", Some("annual")),
        ("BP", "P3Y", Some("upfront")),
        ("DEV", "P1M", Some("monthly")),
        ("DEV", "P1Y", Some("monthly")),
        ("DEV", "P1Y", Some("annual")),
        ("HW", "one-time", None),
    ]);
    let coterm = prop::sample::select(vec![None, Some("none")]);
    (offers, 1u32..120, date(), coterm).prop_map(|((p, t, b), q, start, coterm)| QuoteLine {
        product: p.to_string(),
        quantity: Decimal::from(q),
        term: t.to_string(),
        billing: b.map(str::to_string),
        start,
        coterm: coterm.map(str::to_string),
        discount: None,
        usage: None,
    })
}

fn quote() -> impl Strategy<Value = Quote> {
    (
        prop::collection::vec(line(), 1..6),
        1u32..=12,
        1u32..=31,
        prop::sample::select(vec![None, Some("nonprofit"), Some("commercial")]),
    )
        .prop_map(|(lines, m, d, seg)| {
            let max = match m {
                2 => 29,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            Quote {
                quote: "Q-PROP".into(),
                date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                currency: "USD".into(),
                customer: Customer {
                    id: "C".into(),
                    name: "C".into(),
                    segment: seg.map(str::to_string),
                    segments: Vec::new(),
                    new: false,
                    anniversary: Some(MonthDay {
                        month: m,
                        day: d.min(max),
                    }),
                    subscriptions: Vec::new(),
                },
                lines,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Every total is the sum of what it totals, to the cent; every charge is in cents.
    #[test]
    fn totals_are_sums_of_rounded_charges(q in quote()) {
        let cat = catalogue();
        let p = price(&cat, &q, &PriceOptions::default()).unwrap();
        let all: Vec<_> = p.lines.iter().flat_map(|l| l.charges.iter()).collect();
        let cv: Decimal = all.iter().map(|c| c.amount).sum();
        let cost: Decimal = all.iter().map(|c| c.cost).sum();
        prop_assert_eq!(p.totals.contract_value, cv);
        prop_assert_eq!(p.totals.cost, cost);
        prop_assert_eq!(p.totals.margin, cv - cost);
        prop_assert_eq!(p.totals.mrr, p.lines.iter().map(|l| l.mrr).sum::<Decimal>());
        prop_assert_eq!(p.totals.arr, p.totals.mrr * Decimal::from(12));
        let first = all.iter().map(|c| c.bill_date).min().unwrap();
        prop_assert_eq!(
            p.totals.first_invoice,
            all.iter().filter(|c| c.bill_date == first).map(|c| c.amount).sum::<Decimal>()
        );
        for c in &all {
            prop_assert_eq!(c.amount.round_dp(2), c.amount);
            prop_assert!(c.period_start <= c.period_end);
            if c.kind == ChargeKind::Discount {
                prop_assert!(c.amount < Decimal::ZERO);
            } else {
                prop_assert!(c.amount >= Decimal::ZERO);
            }
        }
        // Discounts never take a charge below zero.
        for l in &p.lines {
            let net: Decimal = l.charges.iter().map(|c| c.amount).sum();
            prop_assert!(net >= Decimal::ZERO);
        }
    }

    /// A start exactly on an anchor boundary has no stub, whatever the policy.
    #[test]
    fn start_on_a_boundary_has_no_stub(
        anchor in date(),
        k in 0i64..40,
        (term, billing) in prop::sample::select(vec![(1u32, 1u32), (12, 1), (12, 3), (12, 12), (36, 1), (36, 12), (36, 36), (6, 3), (24, 12)]),
        coterminous in any::<bool>(),
        proration in prop::sample::select(vec![Proration::Daily, Proration::Monthly, Proration::None]),
    ) {
        let a = Anchor::at(anchor);
        let r = term.min(12);
        let start = a.plus_months(k * i64::from(r)).unwrap();
        let c = Coterm {
            anchor: AnchorAt::Date(a),
            mode: if coterminous { CotermMode::Coterminous } else { CotermMode::Stub },
            proration,
            basis: DayBasis::Actual,
        };
        let p = plan(start, term, billing, Some(&c)).unwrap();
        prop_assert_eq!(p.term_start, start);
        prop_assert_eq!(p.pieces.len() as u32, term / billing);
        prop_assert!(p.pieces.iter().all(|x| !x.fraction.is_partial() && !x.stub));
        prop_assert_eq!(p.end, a.plus_months(k * i64::from(r) + i64::from(term)).unwrap());
    }

    /// Daily proration of a whole billing period is the full price: a stub made of whole
    /// periods (start on a billing boundary before the anchor) is charged in full periods.
    #[test]
    fn whole_periods_in_a_stub_are_full_price(anchor_month in 1u32..=12, back in 1i64..12, q in 1u32..500) {
        let cat = catalogue();
        let anniversary = MonthDay { month: anchor_month, day: 1 };
        let next_anniversary = NaiveDate::from_ymd_opt(2027, anchor_month, 1).unwrap();
        let start = tenor_core::engine::calendar::add_months(next_anniversary, -back).unwrap();
        let q_line = QuoteLine {
            product: "BP".into(),
            quantity: Decimal::from(q),
            term: "P1Y".into(),
            billing: Some("monthly".into()),
            start,
            coterm: None,
            discount: None,
            usage: None,
        };
        let quote = Quote {
            quote: "Q".into(),
            date: start,
            currency: "USD".into(),
            customer: Customer { id: "C".into(), name: "C".into(), segment: None, segments: Vec::new(), new: false, anniversary: Some(anniversary), subscriptions: Vec::new() },
            lines: vec![q_line],
        };
        let p = price(&cat, &quote, &PriceOptions::default()).unwrap();
        let full = Decimal::from(q) * Decimal::new(2200, 2);
        // Discount `welcome` may apply to early starts; compare the gross charges.
        for c in p.lines[0].charges.iter().filter(|c| c.kind != ChargeKind::Discount) {
            prop_assert_eq!(c.kind, ChargeKind::Recurring);
            prop_assert_eq!(c.amount, full);
        }
        prop_assert_eq!(
            p.lines[0].charges.iter().filter(|c| c.kind != ChargeKind::Discount).count() as i64,
            back + 12
        );
        prop_assert_eq!(start.day(), 1);
    }

    /// The stub never costs more than a full billing period and the pieces of a stub tile it.
    #[test]
    fn stub_pieces_tile_the_commitment(start in date(), anchor in date(),
        (term, billing) in prop::sample::select(vec![(12u32, 1u32), (12, 3), (12, 12), (36, 12), (36, 36), (1, 1)]),
        coterminous in any::<bool>()) {
        let c = Coterm {
            anchor: AnchorAt::Date(Anchor::at(anchor)),
            mode: if coterminous { CotermMode::Coterminous } else { CotermMode::Stub },
            proration: Proration::Daily,
            basis: DayBasis::Actual,
        };
        let p = plan(start, term, billing, Some(&c)).unwrap();
        prop_assert_eq!(p.pieces.first().unwrap().start, start);
        prop_assert_eq!(p.pieces.last().unwrap().end, p.end);
        for w in p.pieces.windows(2) {
            prop_assert_eq!(w[0].end, w[1].start);
        }
        for (i, x) in p.pieces.iter().enumerate() {
            prop_assert!(x.fraction.value() <= Decimal::ONE);
            prop_assert!(x.fraction.value() > Decimal::ZERO);
            if i > 0 {
                prop_assert!(!x.fraction.is_partial(), "only the first piece may be partial");
            }
        }
    }
}

/// A line that is mostly fine, now and then with one of the faults pricing refuses.
fn faulty_line() -> impl Strategy<Value = QuoteLine> {
    (line(), 0u32..12).prop_map(|(mut l, fault)| {
        match fault {
            0 => l.product = "NOPE".into(),
            1 => l.billing = Some("weekly".into()),
            2 => l.coterm = Some("unheard-of".into()),
            3 => l.quantity = Decimal::ZERO,
            4 => l.quantity = Decimal::new(5, 1),
            5 => l.term = "P2W".into(),
            6 => l.quantity = Decimal::from(2_000_000_000_000u64),
            _ => {}
        }
        l
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// A quote that checks out prices, and in one pass gives what pricing it whole gives;
    /// one that does not has a problem (its units are far below the bound checked).
    #[test]
    fn a_quote_checks_out_exactly_when_it_prices(
        mut q in quote(), lines in prop::collection::vec(faulty_line(), 1..6), anniversary: bool,
    ) {
        use tenor_core::engine::pricing::{checks_out, stream};
        let cat = catalogue();
        q.lines = lines;
        if !anniversary {
            q.customer.anniversary = None;
        }
        let whole = price(&cat, &q, &PriceOptions::default());
        prop_assert_eq!(checks_out(&cat, &q), whole.is_ok());
        let Ok(whole) = whole else { return Ok(()) };
        let mut lines = Vec::new();
        let summary = stream(&cat, &q, &PriceOptions::default(), &mut (), |l| {
            lines.push(l.clone());
            Ok::<(), ()>(())
        })
        .unwrap();
        prop_assert_eq!(format!("{:?}", lines), format!("{:?}", whole.lines));
        prop_assert_eq!(format!("{:?}", summary.totals), format!("{:?}", whole.totals));
        prop_assert_eq!(format!("{:?}", summary.warnings), format!("{:?}", whole.warnings));
    }
}

/// Past a billion units a quote is priced for its errors first, though it prices.
#[test]
fn a_quote_of_more_units_than_checked_does_not_check_out() {
    use proptest::strategy::ValueTree;
    use tenor_core::engine::pricing::{UNITS_CHECKED, checks_out};
    let cat = catalogue();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut q = quote().new_tree(&mut runner).unwrap().current();
    let mut l = line().new_tree(&mut runner).unwrap().current();
    (l.product, l.term, l.billing) = ("BP".into(), "P1Y".into(), Some("monthly".into()));
    l.coterm = Some("none".into());
    l.quantity = UNITS_CHECKED / Decimal::from(2);
    q.lines = vec![l.clone(), l.clone()];
    assert!(price(&cat, &q, &PriceOptions::default()).is_ok());
    assert!(!checks_out(&cat, &q), "two lines of half the bound");
    l.quantity -= Decimal::from(2);
    q.lines = vec![l.clone(), l];
    assert!(
        checks_out(&cat, &q),
        "just under the bound, its two lines counted"
    );
}

/// Units counted by two checks of the quote's runs, one on each thread, and joined, hold to
/// the bound as one count over the whole quote does.
#[test]
fn units_counted_apart_and_joined_hold_to_the_bound() {
    use proptest::strategy::ValueTree;
    use tenor_core::engine::pricing::{Checks, UNITS_CHECKED};
    let cat = catalogue();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut q = quote().new_tree(&mut runner).unwrap().current();
    let mut l = line().new_tree(&mut runner).unwrap().current();
    (l.product, l.term, l.billing) = ("BP".into(), "P1Y".into(), Some("monthly".into()));
    l.coterm = Some("none".into());
    q.lines.clear();
    for (less, fits) in [(0, false), (2, true)] {
        l.quantity = UNITS_CHECKED / Decimal::from(2) - Decimal::from(less);
        let (mut front, mut back) = (
            Checks::new(&cat, &q).unwrap(),
            Checks::new(&cat, &q).unwrap(),
        );
        assert!(front.lines(0, std::slice::from_ref(&l)));
        assert!(back.count(std::slice::from_ref(&l)));
        // A line counts as a unit besides its quantity.
        assert_eq!(front.units(), l.quantity + Decimal::ONE);
        assert_eq!(back.join(front.units()), fits, "{} units each", l.quantity);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Lines priced in parts, each part by a pricer of its own, joined in order, give the
    /// figures of the quote priced whole.
    #[test]
    fn a_quote_priced_in_parts_sums_up_as_priced_whole(
        q in quote(), more in prop::collection::vec(line(), 0..12), cuts in prop::collection::vec(0usize..18, 0..4),
    ) {
        use tenor_core::engine::pricing::{Pricer, parts_independent};
        let cat = catalogue();
        prop_assert!(parts_independent(&cat));
        let mut q = q;
        q.lines.extend(more);
        let whole = price(&cat, &q, &PriceOptions::default()).unwrap();
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c.min(q.lines.len())).collect();
        bounds.extend([0, q.lines.len()]);
        bounds.sort_unstable();
        let mut lines = Vec::new();
        let mut joined = None;
        for w in bounds.windows(2) {
            let mut pricer = Pricer::new(&cat, &q, PriceOptions::default());
            let part = pricer
                .part(w[0]..w[1], &mut (), |l| {
                    lines.push(l.clone());
                    Ok::<(), ()>(())
                })
                .unwrap();
            match &mut joined {
                None => joined = Some(part),
                Some(j) => j.join(part),
            }
        }
        let summary = joined.unwrap().summary(&cat, &q).unwrap();
        prop_assert_eq!(format!("{:?}", lines), format!("{:?}", whole.lines));
        prop_assert_eq!(format!("{:?}", summary.totals), format!("{:?}", whole.totals));
    }
}

/// A fixed amount off the whole quote goes to the first line it fits: its lines do not price
/// apart.
#[test]
fn a_fixed_amount_off_the_quote_keeps_the_lines_together() {
    use tenor_core::engine::pricing::parts_independent;
    let mut sources = tenor_dsl::SourceSet::new();
    let rules = format!("{RULES}\ndiscount launch: 100.00 once off the quote\n");
    sources.add("props.tenor", &rules);
    let checked = tenor_dsl::check(&sources)
        .unwrap_or_else(|d| panic!("{}", tenor_dsl::diagnostic::render_plain(&sources, &d)));
    assert!(!parts_independent(&Catalogue::compile(&checked, &sources)));
}
