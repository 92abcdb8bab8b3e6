//! Co-terming and billing periods: from a start date, term, billing frequency and co-term
//! policy, the committed periods of a subscription and the proration of each.
//!
//! The rules are DOMAIN.md's: the anchor recurs every min(term, 12 months); `stub` bills a
//! prorated stub to the next anchor boundary and then the full term from there; `coterminous`
//! ends the term itself at the next anchor (the whole first term is the stub). Calendar-month
//! end follows Microsoft: the term ends with the last month end that does not pass the projected
//! end. Billing boundaries are `anchor + k × billing period`, aligned to the stub's end; only the
//! first piece of a stub can be partial.

use crate::engine::calendar::{self, Anchor};
use crate::engine::catalogue::{CotermMode, DayBasis, Proration};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Where the co-term anchor lies, resolved for one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnchorAt {
    /// Boundaries recur from this anchor every min(term, 12) months.
    Date(Anchor),
    /// Calendar-month ends.
    CalendarMonthEnd,
}

/// A resolved co-term policy for one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coterm {
    /// The anchor.
    pub anchor: AnchorAt,
    /// Stub or coterminous.
    pub mode: CotermMode,
    /// How a partial piece is charged.
    pub proration: Proration,
    /// How days are counted.
    pub basis: DayBasis,
}

/// A fraction of a full billing period, kept exact as numerator and denominator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fraction {
    /// Days (or months) charged.
    pub num: i64,
    /// Days (or months) in the whole period.
    pub den: i64,
    /// What was counted.
    pub unit: FractionUnit,
}

/// What a [`Fraction`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FractionUnit {
    /// A full period.
    Whole,
    /// Actual days.
    Days,
    /// Days with 30-day months.
    Days30,
    /// Started months.
    Months,
    /// Proration `none`: billed as a full period.
    Unprorated,
}

impl Fraction {
    /// The whole period.
    pub const WHOLE: Fraction = Fraction {
        num: 1,
        den: 1,
        unit: FractionUnit::Whole,
    };

    /// True when this is less than a whole period.
    pub fn is_partial(&self) -> bool {
        self.num != self.den
    }

    /// The fraction as an exact decimal quotient (for comparisons and reports).
    pub fn value(&self) -> Decimal {
        if self.den == 0 {
            return Decimal::ZERO;
        }
        Decimal::from(self.num) / Decimal::from(self.den)
    }
}

/// One billed piece of a commitment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// First day charged.
    pub start: NaiveDate,
    /// Day after the last day charged.
    pub end: NaiveDate,
    /// The whole billing period the piece belongs to.
    pub period: (NaiveDate, NaiveDate),
    /// Share of the period charged.
    pub fraction: Fraction,
    /// True for the prorated first piece of a stub.
    pub stub: bool,
}

/// The committed periods of one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Start of service.
    pub start: NaiveDate,
    /// Where the full term starts (the anchor boundary), equal to `start` without a stub.
    pub term_start: NaiveDate,
    /// End of the commitment (exclusive): the renewal date.
    pub end: NaiveDate,
    /// The billed pieces in order.
    pub pieces: Vec<Piece>,
}

/// Why a plan could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError(pub String);

fn err(msg: &str) -> PlanError {
    PlanError(msg.to_string())
}

/// Plans a subscription of `term` months billed every `billing` months from `start`.
pub fn plan(
    start: NaiveDate,
    term: u32,
    billing: u32,
    coterm: Option<&Coterm>,
) -> Result<Plan, PlanError> {
    // Room for a stub of up to a year of periods and the term's.
    let capacity = term.saturating_add(12) / billing.max(1) + 1;
    let mut pieces = Vec::with_capacity(usize::try_from(capacity.min(1300)).unwrap_or(0));
    let (term_start, end) = plan_into(start, term, billing, coterm, &mut pieces)?;
    Ok(Plan {
        start,
        term_start,
        end,
        pieces,
    })
}

/// Where a line's billing grid is anchored and where its commitment runs: the anchor, the
/// alignment point (month index from the anchor, date), the term's start and the end (month
/// index, date).
type Bounds = (Anchor, (i64, NaiveDate), NaiveDate, (i64, NaiveDate));

/// The [`Bounds`] of a line starting on `start` for `term` months under its co-term policy.
fn bounds(start: NaiveDate, term: u32, coterm: Option<&Coterm>) -> Result<Bounds, PlanError> {
    let out_of_range = || err("the dates fall outside the calendar this engine handles");
    // Boundaries are carried with their month index from the anchor (`anchor + k months`), so
    // stepping from one never has to recover its index from the date.
    let bounds = match coterm {
        None => {
            let a = Anchor::at(start);
            let k = i64::from(term);
            let end = a.plus_months(k).ok_or_else(out_of_range)?;
            (a, (0, start), start, (k, end))
        }
        Some(c) => match c.anchor {
            AnchorAt::CalendarMonthEnd => {
                let a = Anchor::at(calendar::month_start(start).ok_or_else(out_of_range)?);
                match c.mode {
                    CotermMode::Stub => {
                        let (k, n) = a
                            .next_index_on_or_after(1, start)
                            .ok_or_else(out_of_range)?;
                        let end_k = k + i64::from(term);
                        let end = a.plus_months(end_k).ok_or_else(out_of_range)?;
                        (a, (k, n), n, (end_k, end))
                    }
                    CotermMode::Coterminous => {
                        let projected = calendar::add_months(start, i64::from(term))
                            .ok_or_else(out_of_range)?;
                        let (k, e) = a
                            .last_index_on_or_before(1, projected)
                            .ok_or_else(out_of_range)?;
                        (a, (k, e), start, (k, e))
                    }
                }
            }
            AnchorAt::Date(a) => {
                let r = term.min(12);
                let (k, n) = a
                    .next_index_on_or_after(r, start)
                    .ok_or_else(out_of_range)?;
                match c.mode {
                    CotermMode::Coterminous if n > start => (a, (k, n), start, (k, n)),
                    CotermMode::Stub | CotermMode::Coterminous => {
                        let end_k = k + i64::from(term);
                        let end = a.plus_months(end_k).ok_or_else(out_of_range)?;
                        (a, (k, n), n, (end_k, end))
                    }
                }
            }
        },
    };
    Ok(bounds)
}

/// [`plan`] into a caller's buffer (cleared first), so pricing many lines reuses one
/// allocation; returns the term's start and the commitment's end.
pub(crate) fn plan_into(
    start: NaiveDate,
    term: u32,
    billing: u32,
    coterm: Option<&Coterm>,
    pieces: &mut Vec<Piece>,
) -> Result<(NaiveDate, NaiveDate), PlanError> {
    pieces.clear();
    if term == 0 || billing == 0 {
        return Err(err("a term and billing period must be at least one month"));
    }
    let out_of_range = || err("the dates fall outside the calendar this engine handles");
    let (anchor, (base, align), term_start, (end_k, end)) = bounds(start, term, coterm)?;
    let step = i64::from(billing);
    // Every boundary is `anchor + (base + j × step)` months, and so is the end whenever the
    // billing period divides the months to it (always, for the terms the rules allow): reuse
    // the end rather than make the same date again.
    let end_at = Some(end_k - base)
        .filter(|m| m - calendar::div_floor(*m, step) * step == 0)
        .map(|m| calendar::div_floor(m, step));
    let grid = |k: i64| {
        if k == 0 {
            Ok(align)
        } else if Some(k) == end_at {
            Ok(end)
        } else {
            anchor.plus_months(base + k * step).ok_or_else(out_of_range)
        }
    };
    // The billing boundary at or before the start: the alignment point itself, or the last
    // boundary `align - j × step` not after the start (found arithmetically, not by walking).
    let (mut k, mut g) = (0i64, align);
    if align > start {
        let months = anchor.month_index(start) - base;
        k = calendar::div_floor(months, step).min(-1);
        g = grid(k)?;
        // The start's month holds at most one boundary; if it falls after the start, the
        // boundary before is one step earlier.
        if g > start {
            k -= 1;
            g = grid(k)?;
        }
    }
    while g < end {
        let next = grid(k + 1)?;
        let piece_start = g.max(start);
        let piece_end = next.min(end);
        let fraction = if piece_start > g || piece_end < next {
            partial(
                &anchor,
                (g, next),
                (piece_start, piece_end),
                billing,
                coterm,
            )
        } else {
            Fraction::WHOLE
        };
        pieces.push(Piece {
            start: piece_start,
            end: piece_end,
            period: (g, next),
            fraction,
            stub: piece_start > g,
        });
        g = next;
        k += 1;
    }
    Ok((term_start, end))
}

/// The share of `period` charged for the partial piece `[from, to)`.
fn partial(
    anchor: &Anchor,
    period: (NaiveDate, NaiveDate),
    piece: (NaiveDate, NaiveDate),
    billing: u32,
    coterm: Option<&Coterm>,
) -> Fraction {
    let (proration, basis) = coterm
        .map(|c| (c.proration, c.basis))
        .unwrap_or((Proration::Daily, DayBasis::Actual));
    match proration {
        Proration::None => Fraction {
            num: 1,
            den: 1,
            unit: FractionUnit::Unprorated,
        },
        Proration::Daily => match basis {
            DayBasis::Actual => Fraction {
                num: calendar::actual_days(piece.0, piece.1),
                den: calendar::actual_days(period.0, period.1),
                unit: FractionUnit::Days,
            },
            DayBasis::Thirty => Fraction {
                num: calendar::days_30(piece.0, piece.1),
                den: calendar::days_30(period.0, period.1),
                unit: FractionUnit::Days30,
            },
        },
        Proration::Monthly => {
            // Count the anchored months back from the piece's end until one starts on or
            // before the piece's start: each started month counts whole.
            let mut months = 0i64;
            let mut m = piece.1;
            while m > piece.0 && months < i64::from(billing) {
                months += 1;
                m = match anchor.step_from(period.1, 1, -months) {
                    Some(d) => d,
                    None => break,
                };
            }
            Fraction {
                num: months,
                den: i64::from(billing),
                unit: FractionUnit::Months,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// `num` of `den` days (or months).
    fn frac(num: i64, den: i64, unit: FractionUnit) -> Fraction {
        Fraction { num, den, unit }
    }

    fn anniversary(mode: CotermMode) -> Coterm {
        Coterm {
            anchor: AnchorAt::Date(Anchor::intending(2026, 7, 1).unwrap()),
            mode,
            proration: Proration::Daily,
            basis: DayBasis::Actual,
        }
    }

    #[test]
    fn domain_example_1_annual_stub() {
        let p = plan(d(2026, 3, 15), 12, 12, Some(&anniversary(CotermMode::Stub))).unwrap();
        assert_eq!(p.term_start, d(2026, 7, 1));
        assert_eq!(p.end, d(2027, 7, 1));
        assert_eq!(p.pieces.len(), 2);
        assert_eq!(
            (p.pieces[0].start, p.pieces[0].end),
            (d(2026, 3, 15), d(2026, 7, 1))
        );
        assert_eq!(p.pieces[0].fraction, frac(108, 365, FractionUnit::Days));
        assert_eq!(p.pieces[0].period, (d(2025, 7, 1), d(2026, 7, 1)));
        assert_eq!(
            (p.pieces[1].start, p.pieces[1].end),
            (d(2026, 7, 1), d(2027, 7, 1))
        );
        assert!(!p.pieces[1].fraction.is_partial());
    }

    #[test]
    fn domain_example_2_coterminous_is_the_stub_alone() {
        let p = plan(
            d(2026, 3, 15),
            12,
            12,
            Some(&anniversary(CotermMode::Coterminous)),
        )
        .unwrap();
        assert_eq!(p.end, d(2026, 7, 1));
        assert_eq!(p.pieces.len(), 1);
        assert_eq!(p.pieces[0].fraction.num, 108);
    }

    #[test]
    fn domain_example_3_monthly_stub() {
        let p = plan(d(2026, 3, 15), 12, 1, Some(&anniversary(CotermMode::Stub))).unwrap();
        assert_eq!(p.pieces.len(), 4 + 12);
        assert_eq!(p.pieces[0].fraction, frac(17, 31, FractionUnit::Days));
        assert_eq!(p.pieces[1].start, d(2026, 4, 1));
        assert_eq!(p.pieces[3].start, d(2026, 6, 1));
        assert_eq!(p.pieces[4].start, d(2026, 7, 1));
        assert_eq!(p.pieces[15].end, d(2027, 7, 1));
        assert!(p.pieces.iter().skip(1).all(|x| !x.fraction.is_partial()));
    }

    #[test]
    fn start_on_the_anchor_has_no_stub() {
        for mode in [CotermMode::Stub, CotermMode::Coterminous] {
            let p = plan(d(2026, 7, 1), 12, 1, Some(&anniversary(mode))).unwrap();
            assert_eq!(p.pieces.len(), 12);
            assert!(p.pieces.iter().all(|x| !x.fraction.is_partial()));
            assert_eq!(p.end, d(2027, 7, 1));
        }
    }

    #[test]
    fn calendar_month_end_follows_microsoft() {
        let c = Coterm {
            anchor: AnchorAt::CalendarMonthEnd,
            mode: CotermMode::Coterminous,
            proration: Proration::Daily,
            basis: DayBasis::Actual,
        };
        // P1M bought 2024-07-15 ends with 2024-07-31.
        let p = plan(d(2024, 7, 15), 1, 1, Some(&c)).unwrap();
        assert_eq!(p.end, d(2024, 8, 1));
        assert_eq!(p.pieces[0].fraction, frac(17, 31, FractionUnit::Days));
        // P1Y bought 2024-07-15 ends with 2025-06-30.
        let p = plan(d(2024, 7, 15), 12, 12, Some(&c)).unwrap();
        assert_eq!(p.end, d(2025, 7, 1));
        assert_eq!(p.pieces.len(), 1);
        assert_eq!(p.pieces[0].fraction.num, 351);
        assert_eq!(p.pieces[0].fraction.den, 365);
    }

    #[test]
    fn jan_31_anchor_bills_on_month_ends() {
        let c = Coterm {
            anchor: AnchorAt::Date(Anchor::intending(2024, 1, 31).unwrap()),
            mode: CotermMode::Stub,
            proration: Proration::Daily,
            basis: DayBasis::Actual,
        };
        let p = plan(d(2024, 1, 31), 36, 1, Some(&c)).unwrap();
        assert_eq!(p.pieces.len(), 36);
        let starts: Vec<NaiveDate> = p.pieces.iter().take(4).map(|x| x.start).collect();
        assert_eq!(
            starts,
            vec![
                d(2024, 1, 31),
                d(2024, 2, 29),
                d(2024, 3, 31),
                d(2024, 4, 30)
            ]
        );
        assert_eq!(p.pieces[13].start, d(2025, 2, 28));
        assert_eq!(p.end, d(2027, 1, 31));
    }

    #[test]
    fn monthly_proration_counts_started_months() {
        let mut c = anniversary(CotermMode::Stub);
        c.proration = Proration::Monthly;
        let p = plan(d(2026, 3, 15), 12, 12, Some(&c)).unwrap();
        assert_eq!(p.pieces[0].fraction, frac(4, 12, FractionUnit::Months));
        c.proration = Proration::None;
        let p = plan(d(2026, 3, 15), 12, 12, Some(&c)).unwrap();
        assert_eq!(p.pieces[0].fraction.value(), Decimal::ONE);
        c.proration = Proration::Daily;
        c.basis = DayBasis::Thirty;
        let p = plan(d(2026, 3, 15), 12, 12, Some(&c)).unwrap();
        // 16 days left of March, then April–June: 16 + 90 of 360.
        assert_eq!(p.pieces[0].fraction, frac(106, 360, FractionUnit::Days30));
    }

    #[test]
    fn three_year_upfront_aligns_on_the_stub_end() {
        let p = plan(d(2026, 3, 15), 36, 36, Some(&anniversary(CotermMode::Stub))).unwrap();
        assert_eq!(p.pieces.len(), 2);
        assert_eq!(p.pieces[0].period, (d(2023, 7, 1), d(2026, 7, 1)));
        assert_eq!(p.pieces[0].fraction.den, 1096);
        assert_eq!(p.pieces[1].start, d(2026, 7, 1));
        assert_eq!(p.pieces[1].end, d(2029, 7, 1));
    }

    #[test]
    fn no_policy_starts_the_term_on_the_start_date() {
        let p = plan(d(2026, 3, 15), 12, 3, None).unwrap();
        assert_eq!(p.pieces.len(), 4);
        assert_eq!(p.pieces[1].start, d(2026, 6, 15));
        assert_eq!(p.end, d(2027, 3, 15));
    }
}
