//! Co-terming and billing periods: from a start date, term, billing frequency and co-term
//! policy, the committed periods of a subscription and the proration of each.
//!
//! The rules are DOMAIN.md's: the anchor recurs every min(term, 12 months); `stub` bills a
//! prorated stub to the next anchor boundary and then the full term from there; `coterminous`
//! ends the term itself at the next anchor (the whole first term is the stub). Calendar-month
//! end follows Microsoft: the term ends with the last month end that does not pass the projected
//! end. Billing boundaries are `anchor + k × billing period`, aligned to the stub's end; only the
//! first piece of a stub can be partial.

use crate::calendar::{self, Anchor};
use crate::catalogue::{CotermMode, DayBasis, Proration};
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
    if term == 0 || billing == 0 {
        return Err(err("a term and billing period must be at least one month"));
    }
    let out_of_range = || err("the dates fall outside the calendar this engine handles");
    let (anchor, align, term_start, end) = match coterm {
        None => {
            let a = Anchor::at(start);
            let end = a.plus_months(i64::from(term)).ok_or_else(out_of_range)?;
            (a, start, start, end)
        }
        Some(c) => match c.anchor {
            AnchorAt::CalendarMonthEnd => {
                let a = Anchor::at(calendar::month_start(start).ok_or_else(out_of_range)?);
                match c.mode {
                    CotermMode::Stub => {
                        let n = a.next_on_or_after(1, start).ok_or_else(out_of_range)?;
                        let end = a
                            .step_from(n, 1, i64::from(term))
                            .ok_or_else(out_of_range)?;
                        (a, n, n, end)
                    }
                    CotermMode::Coterminous => {
                        let projected = calendar::add_months(start, i64::from(term))
                            .ok_or_else(out_of_range)?;
                        let e = a.last_on_or_before(1, projected).ok_or_else(out_of_range)?;
                        (a, e, start, e)
                    }
                }
            }
            AnchorAt::Date(a) => {
                let r = term.min(12);
                let n = a.next_on_or_after(r, start).ok_or_else(out_of_range)?;
                match c.mode {
                    CotermMode::Stub => {
                        let end = a
                            .step_from(n, 1, i64::from(term))
                            .ok_or_else(out_of_range)?;
                        (a, n, n, end)
                    }
                    CotermMode::Coterminous if n > start => (a, n, start, n),
                    CotermMode::Coterminous => {
                        let end = a
                            .step_from(n, 1, i64::from(term))
                            .ok_or_else(out_of_range)?;
                        (a, n, n, end)
                    }
                }
            }
        },
    };
    // Walk back from the alignment point to the billing boundary at or before the start.
    let base = anchor.months_to(align).ok_or_else(out_of_range)?;
    let step = i64::from(billing);
    let grid = |k: i64| anchor.plus_months(base + k * step).ok_or_else(out_of_range);
    let mut k: i64 = 0;
    let mut g = align;
    while g > start {
        k -= 1;
        g = grid(k)?;
    }
    let mut pieces =
        Vec::with_capacity(((end - start).num_days() / (28 * step) + 2).clamp(1, 1300) as usize);
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
    Ok(Plan {
        start,
        term_start,
        end,
        pieces,
    })
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
        assert_eq!(
            p.pieces[0].fraction,
            Fraction {
                num: 108,
                den: 365,
                unit: FractionUnit::Days
            }
        );
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
        assert_eq!(
            p.pieces[0].fraction,
            Fraction {
                num: 17,
                den: 31,
                unit: FractionUnit::Days
            }
        );
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
        assert_eq!(
            p.pieces[0].fraction,
            Fraction {
                num: 17,
                den: 31,
                unit: FractionUnit::Days
            }
        );
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
        assert_eq!(
            p.pieces[0].fraction,
            Fraction {
                num: 4,
                den: 12,
                unit: FractionUnit::Months
            }
        );
        c.proration = Proration::None;
        let p = plan(d(2026, 3, 15), 12, 12, Some(&c)).unwrap();
        assert_eq!(p.pieces[0].fraction.value(), Decimal::ONE);
        c.proration = Proration::Daily;
        c.basis = DayBasis::Thirty;
        let p = plan(d(2026, 3, 15), 12, 12, Some(&c)).unwrap();
        // 16 days left of March, then April–June: 16 + 90 of 360.
        assert_eq!(
            p.pieces[0].fraction,
            Fraction {
                num: 106,
                den: 360,
                unit: FractionUnit::Days30
            }
        );
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
