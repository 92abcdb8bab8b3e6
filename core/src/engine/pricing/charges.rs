//! The charges of a line: the period pieces of its schedule priced, with tiers and proration.

use super::Scratch;
use super::discounts::{Discounter, LineCtx};
use super::offer::{field, overflow, resolve, term_name};
use super::rounding::{Exact, muldiv, percent_of, round_muldiv, round_over, round_share};
use super::types::{Charge, ChargeKind, PriceError, PriceOptions, PricedLine, Share, Step, perr};
use crate::engine::catalogue::{AnchorRule, Catalogue, DiscountAmount, DiscountScope, Price};
use crate::engine::quote::{ManualDiscount, Quote, QuoteLine};
use crate::engine::schedule::{Fraction, FractionUnit, Piece};
use crate::engine::tiers;
use rust_decimal::Decimal;

/// `a month`, `a year`, `a term`, `once`.
pub(super) fn per_words(per: Option<u32>, term: Option<u32>) -> String {
    match per {
        None => "once".to_string(),
        Some(1) => "a month".to_string(),
        Some(3) => "a quarter".to_string(),
        Some(12) => "a year".to_string(),
        Some(m) if Some(m) == term => format!("a term ({m} months)"),
        Some(m) => format!("per {m} months"),
    }
}

pub(super) fn describe_fraction(f: &Fraction, piece: &Piece) -> String {
    match f.unit {
        FractionUnit::Whole => format!("the full billing period [{}, {})", piece.start, piece.end),
        FractionUnit::Days => format!(
            "[{}, {}) is {} of {} days of the billing period [{}, {}) (daily, actual days)",
            piece.start, piece.end, f.num, f.den, piece.period.0, piece.period.1
        ),
        FractionUnit::Days30 => format!(
            "[{}, {}) is {} of {} days of the billing period [{}, {}) (daily, 30-day months)",
            piece.start, piece.end, f.num, f.den, piece.period.0, piece.period.1
        ),
        FractionUnit::Months => format!(
            "[{}, {}) starts {} of the {} months of the billing period [{}, {}) (monthly: a started month counts whole)",
            piece.start, piece.end, f.num, f.den, piece.period.0, piece.period.1
        ),
        FractionUnit::Unprorated => format!(
            "[{}, {}) is billed as the full period [{}, {}) (proration none)",
            piece.start, piece.end, piece.period.0, piece.period.1
        ),
    }
}

pub(super) fn price_line(
    cat: &Catalogue,
    quote: &Quote,
    i: usize,
    line: &QuoteLine,
    opts: &PriceOptions,
    quote_discount_used: &mut [bool],
    scratch: &mut Scratch,
) -> Result<PricedLine, Vec<PriceError>> {
    let r = resolve(cat, quote, i, line)?;
    let Scratch {
        plans,
        fired,
        memo,
        verdicts,
        manual,
        zero,
    } = scratch;
    let zero = *zero;
    let item = r.item;
    let offer = r.offer;
    let metered = item.usage.is_some();
    let units = if metered {
        line.usage.unwrap_or(Decimal::ZERO)
    } else {
        line.quantity
    };
    let mut line_steps = Vec::new();
    if opts.explain {
        line_steps.push(Step {
            text: format!(
                "offer {} of `{}`{}",
                if offer.term_months.is_some() {
                    format!("{} {}", offer.term_text(), offer.billing)
                } else {
                    "one-time".to_string()
                },
                item.sku,
                match &offer.price {
                    Price::Flat(rate) => format!(
                        ": {} {}",
                        rate.amount,
                        per_words(rate.per_months, offer.term_months)
                    ),
                    Price::Tiered(t) => format!(
                        ": through tier table `{}`",
                        cat.tiers.get(*t).map(|t| t.name.as_str()).unwrap_or("?")
                    ),
                }
            ),
            at: Some(offer.origin.clone()),
        });
        if let Some(d) = &offer.derivation {
            line_steps.push(Step {
                text: d.clone(),
                at: Some(offer.origin.clone()),
            });
        }
        match &r.coterm {
            Some((name, c)) => {
                let policy = cat.policy(name).and_then(|p| cat.policies.get(p));
                let at = policy.map(|p| p.origin.clone());
                let anchor_text = match policy.map(|p| &p.anchor) {
                    Some(AnchorRule::CustomerAnniversary) => format!(
                        "anchor customer anniversary {}",
                        quote
                            .customer
                            .anniversary
                            .map(|a| a.to_string())
                            .unwrap_or_default()
                    ),
                    Some(AnchorRule::Date(d)) => format!("anchor date {d}"),
                    Some(AnchorRule::EndOfExisting(sku)) => format!(
                        "anchor end of the existing `{sku}` subscription ({})",
                        quote
                            .customer
                            .subscriptions
                            .iter()
                            .find(|s| &s.product == sku)
                            .map(|s| format!("last day {}", s.ends))
                            .unwrap_or_default()
                    ),
                    Some(AnchorRule::CalendarMonthEnd) | None => {
                        "anchor calendar month end".to_string()
                    }
                };
                line_steps.push(Step {
                    text: format!(
                        "co-term policy `{name}`: {anchor_text}, {}, prorate {}, {}",
                        match c.mode {
                            crate::engine::catalogue::CotermMode::Stub => "mode stub",
                            crate::engine::catalogue::CotermMode::Coterminous => "mode coterminous",
                        },
                        match c.proration {
                            crate::engine::catalogue::Proration::Daily => "daily",
                            crate::engine::catalogue::Proration::Monthly => "monthly",
                            crate::engine::catalogue::Proration::None => "none",
                        },
                        match c.basis {
                            crate::engine::catalogue::DayBasis::Actual => "actual days",
                            crate::engine::catalogue::DayBasis::Thirty => "30-day months",
                        }
                    ),
                    at,
                });
            }
            None if r.term.is_some() => line_steps.push(Step {
                text: "no co-term policy: the term starts on the start date".into(),
                at: None,
            }),
            None => {}
        }
    }

    // The committed pieces.
    let (term_start, end, billing_months, pieces) = match r.term {
        None => (line.start, line.start, 0, &[][..]),
        Some(term) => {
            let b = r.billing.months().unwrap_or(term);
            let (term_start, end, pieces) = plans
                .plan(line.start, term, b, r.coterm.as_ref().map(|c| c.1))
                .map_err(|e| vec![perr(field(i, "start"), e.0, None)])?;
            (term_start, end, b, pieces)
        }
    };
    let b = Decimal::from(billing_months.max(1));

    // Price per full billing period (exact), for units.
    let tier_table = match &offer.price {
        Price::Tiered(t) => cat.tiers.get(*t),
        Price::Flat(_) => None,
    };
    let per_period = |tier_steps: &mut Vec<Step>| -> Option<(Decimal, Decimal)> {
        // Returns (numerator, denominator) of the exact amount per full billing period.
        match &offer.price {
            Price::Flat(rate) => match rate.per_months {
                None => Some((units.checked_mul(rate.amount)?, Decimal::ONE)),
                Some(p) if Decimal::from(p) == b => {
                    Some((units.checked_mul(rate.amount)?, Decimal::ONE))
                }
                Some(p) => Some((
                    units.checked_mul(rate.amount)?.checked_mul(b)?,
                    Decimal::from(p),
                )),
            },
            Price::Tiered(_) => {
                let t = tier_table?;
                let amount = tiers::checked_amount(t, units)?;
                if opts.explain {
                    for u in tiers::breakdown(t, units) {
                        let row = t.rows.get(u.row);
                        tier_steps.push(Step {
                            text: format!(
                                "tier {} of `{}`: {} × {}{} = {}",
                                u.row + 1,
                                t.name,
                                u.units,
                                u.price,
                                if u.flat.is_zero() {
                                    String::new()
                                } else {
                                    format!(" + flat {}", u.flat)
                                },
                                u.amount()
                            ),
                            at: row.map(|r| r.origin.clone()),
                        });
                    }
                }
                match (t.per_months, t.once || offer.term_months.is_none()) {
                    (_, true) | (None, false) => Some((amount, Decimal::ONE)),
                    (Some(p), false) => Some((amount.checked_mul(b)?, Decimal::from(p))),
                }
            }
        }
    };
    let mut tier_steps = Vec::new();
    let (pp_num, pp_den) = per_period(&mut tier_steps).ok_or_else(|| overflow(i))?;
    let cost_units = units;
    let cost_per_period: Option<(Decimal, Decimal)> = match offer.cost {
        None => Some((Decimal::ZERO, Decimal::ONE)),
        Some(c) => match c.per_months {
            None => cost_units.checked_mul(c.amount).map(|n| (n, Decimal::ONE)),
            Some(p) => cost_units
                .checked_mul(c.amount)
                .and_then(|n| n.checked_mul(b))
                .map(|n| (n, Decimal::from(p))),
        },
    };
    let (cp_num, cp_den) = cost_per_period.ok_or_else(|| overflow(i))?;
    // The per-period amounts as integers, decoded once for all the line's charges.
    let pp_fast = Exact::of(pp_num).zip(Exact::of(pp_den));
    let cp_fast = Exact::of(cp_num).zip(Exact::of(cp_den));

    // Discounts: each gross charge in turn, as it is made, rules in written order, then the
    // manual discount. (A gross charge can only fail to compute before the first has been
    // discounted: a line's later pieces are whole periods, no larger than the first piece's
    // arithmetic, so discounting as we go leaves the same state as discounting afterwards.)
    let ctx = LineCtx {
        cat,
        quote,
        line,
        item,
        term: r.term,
        billing: r.billing,
        explain: opts.explain,
    };
    verdicts.clear();
    verdicts.extend(cat.discounts.iter().map(|d| ctx.applies(d)));
    // When every rule that applies treats all whole periods alike (no duration, nothing
    // charged once), a whole period's discounts are worked out once and reused.
    let uniform = !opts.explain
        && !matches!(line.discount, Some(ManualDiscount::Amount(_)))
        && cat.discounts.iter().zip(verdicts.iter()).all(|(r, v)| {
            v.is_err()
                || (r.duration_months.is_none()
                    && !matches!(r.amount, DiscountAmount::Fixed { monthly: false, .. })
                    && !matches!(
                        (&r.scope, &r.amount),
                        (DiscountScope::Quote, DiscountAmount::Fixed { .. })
                    ))
        });
    let mut charges = Vec::with_capacity(pieces.len().max(1) * 2);
    let mut disc = Discounter {
        ctx: &ctx,
        verdicts,
        uniform,
        first_charge_done: false,
        memo_key: None,
        memo,
        fired,
        quote_discount_used,
        manual,
        zero,
        explain: opts.explain,
    };

    if r.term.is_none() {
        let amount = round_muldiv(cat, &[pp_num], &[pp_den]).ok_or_else(|| overflow(i))?;
        let cost = round_muldiv(cat, &[cp_num], &[cp_den]).ok_or_else(|| overflow(i))?;
        let mut explain = Vec::new();
        if opts.explain {
            explain.extend(tier_steps.iter().cloned());
            explain.push(Step {
                text: format!(
                    "{} × price = {} → {} ({})",
                    units,
                    muldiv(&[pp_num], &[pp_den]).unwrap_or_default(),
                    amount,
                    cat.rounding_name
                ),
                at: None,
            });
        }
        disc.push(
            Charge {
                kind: ChargeKind::OneTime,
                period_start: line.start,
                period_end: line.start,
                bill_date: line.start,
                amount,
                cost,
                rule: None,
                explain,
                share: Share::NONE,
            },
            &mut charges,
        );
    }
    let minimum = item.minimum.filter(|_| metered);
    // Every whole billing period of a line costs the same: compute it once.
    let mut whole_memo: Option<(Decimal, Decimal, Decimal, Option<Decimal>)> = None;
    // The rounded amount of a whole period priced at exactly 1/1 (what `recurring` starts from).
    let mut whole_amount: Option<Decimal> = None;
    for piece in pieces.iter() {
        let partial = piece.fraction.is_partial();
        let (num, den) = (piece.fraction.num, piece.fraction.den);
        let (fnum, fden) = (Decimal::from(num), Decimal::from(den));
        let (exact, amount, cost, min_amount) = match (partial, whole_memo) {
            (false, Some(m)) => m,
            _ => {
                let amount = round_share(cat, (pp_num, pp_den), pp_fast, num, den)
                    .ok_or_else(|| overflow(i))?;
                // The unrounded amount is only shown by `explain`.
                let exact = if opts.explain {
                    muldiv(&[pp_num, fnum], &[pp_den, fden]).ok_or_else(|| overflow(i))?
                } else {
                    Decimal::ZERO
                };
                let cost = round_share(cat, (cp_num, cp_den), cp_fast, num, den)
                    .ok_or_else(|| overflow(i))?;
                let min_amount = match minimum {
                    Some(min) => Some(
                        round_muldiv(
                            cat,
                            &[min.amount, b, fnum],
                            &[Decimal::from(min.per_months.unwrap_or(1)), fden],
                        )
                        .ok_or_else(|| overflow(i))?,
                    ),
                    None => None,
                };
                let m = (exact, amount, cost, min_amount);
                if !partial {
                    whole_memo = Some(m);
                    if piece.fraction.num == 1 && piece.fraction.den == 1 {
                        whole_amount = Some(amount);
                    }
                }
                m
            }
        };
        let kind = if metered {
            ChargeKind::Usage
        } else if piece.stub {
            ChargeKind::Stub
        } else {
            ChargeKind::Recurring
        };
        let bill_date = if metered { piece.end } else { piece.start };
        let mut explain = Vec::new();
        if opts.explain {
            explain.push(Step {
                text: format!("period: {}", describe_fraction(&piece.fraction, piece)),
                at: None,
            });
            explain.extend(tier_steps.iter().cloned());
            let per_text = match &offer.price {
                Price::Flat(rate) => format!(
                    "{units} × {} {} for a {billing_months}-month billing period",
                    rate.amount,
                    per_words(rate.per_months, offer.term_months)
                ),
                Price::Tiered(_) => {
                    format!("tiers({units}) for a {billing_months}-month billing period")
                }
            };
            explain.push(Step {
                text: format!(
                    "{per_text}{} = {} → {amount} ({}, once)",
                    if piece.fraction.is_partial() {
                        format!(" × {}/{}", piece.fraction.num, piece.fraction.den)
                    } else {
                        String::new()
                    },
                    exact.round_dp(6).normalize(),
                    cat.rounding_name
                ),
                at: None,
            });
            if metered {
                explain.push(Step {
                    text: format!("usage estimate {units} per billing period, billed in arrears on {bill_date}"),
                    at: None,
                });
            }
        }
        let share = Share {
            months: billing_months,
            num: piece.fraction.num,
            den: piece.fraction.den,
        };
        disc.push(
            Charge {
                kind,
                period_start: piece.start,
                period_end: piece.end,
                bill_date,
                amount,
                cost,
                rule: None,
                explain,
                share,
            },
            &mut charges,
        );
        if let Some(min_amount) = min_amount {
            if min_amount > amount {
                let up = min_amount - amount;
                let mut explain = Vec::new();
                if opts.explain {
                    explain.push(Step {
                        text: format!("minimum commitment {min_amount} for the period; usage rated {amount}; true-up {up}"),
                        at: Some(item.origin.clone()),
                    });
                }
                disc.push(
                    Charge {
                        kind: ChargeKind::MinimumTrueUp,
                        period_start: piece.start,
                        period_end: piece.end,
                        bill_date,
                        amount: up,
                        cost: zero,
                        rule: None,
                        explain,
                        share,
                    },
                    &mut charges,
                );
            }
        }
    }
    // Charges were made in bill-date order (each discount right after its charge), so no sort.

    // Steady-state figures.
    let recurring = if r.term.is_none() {
        zero
    } else {
        let full = match whole_amount {
            Some(a) => a,
            None => round_muldiv(cat, &[pp_num], &[pp_den]).ok_or_else(|| overflow(i))?,
        };
        // A true-up is never discounted: discount the rated amount, add the true-up after.
        let true_up = match minimum {
            Some(min) => {
                let m = round_muldiv(
                    cat,
                    &[min.amount, b],
                    &[Decimal::from(min.per_months.unwrap_or(1))],
                )
                .ok_or_else(|| overflow(i))?;
                (m - full).max(zero)
            }
            None => zero,
        };
        let mut net = full;
        for (k, rule) in cat.discounts.iter().enumerate() {
            let lasting = rule.duration_months.is_none()
                && !matches!(rule.amount, DiscountAmount::Fixed { monthly: false, .. })
                && !matches!(rule.scope, DiscountScope::Quote if matches!(rule.amount, DiscountAmount::Fixed { .. }));
            if lasting && disc.verdicts.get(k).is_some_and(|v| v.is_ok()) {
                let d = match rule.amount {
                    DiscountAmount::Percent(p) => percent_of(cat, net, p),
                    DiscountAmount::Fixed {
                        value, per_unit, ..
                    } => {
                        let per = if per_unit {
                            value * line.quantity
                        } else {
                            value
                        };
                        cat.round(per * b).min(net.max(Decimal::ZERO))
                    }
                };
                net -= d;
            }
        }
        if let Some(ManualDiscount::Percent(p)) = line.discount {
            net -= percent_of(cat, net, p);
        }
        net + true_up
    };
    let mrr = if r.term.is_none() {
        zero
    } else {
        round_over(cat, recurring, billing_months.max(1))
            .unwrap_or_else(|| cat.round(recurring / b))
    };
    let first_date = charges.iter().map(|c| c.bill_date).min();
    let first_charge = charges
        .iter()
        .filter(|c| Some(c.bill_date) == first_date)
        .map(|c| c.amount)
        .sum();
    Ok(PricedLine {
        line: i + 1,
        product: item.sku.clone(),
        name: item.name.clone(),
        bundle: item.is_bundle,
        quantity: line.quantity,
        term: term_name(r.term),
        billing: if r.term.is_none() {
            "once"
        } else {
            r.billing.keyword()
        },
        coterm: r.coterm.map(|c| c.0),
        start: line.start,
        term_start,
        end,
        first_charge,
        recurring,
        mrr,
        charges,
        explain: line_steps,
    })
}
