//! Calendar arithmetic for billing: anchored months, boundaries, day counts.
//!
//! Periods are half-open `[start, end)`. Month arithmetic is anchored: the k-th boundary is
//! `anchor + k months` computed from the anchor itself, with the anchor's day clamped to each
//! month's length, so a Jan 31 anchor gives Feb 28/29, Mar 31, Apr 30 and never drifts to the 28th.

use chrono::{Datelike, NaiveDate};

/// A date that boundaries recur from: a year and month plus the intended day of month, which
/// may exceed the month's length (31 in February is clamped when a boundary is made).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    year: i32,
    /// 1–12.
    month: u32,
    /// 1–31, the day the anchor means even in shorter months.
    day: u32,
}

impl Anchor {
    /// An anchor at a calendar date, intending that date's day of month.
    pub fn at(date: NaiveDate) -> Self {
        Anchor {
            year: date.year(),
            month: date.month(),
            day: date.day(),
        }
    }

    /// An anchor in `year` and `month` intending `day` (clamped per month when used).
    /// Returns `None` unless `month` is 1–12 and `day` is 1–31.
    pub fn intending(year: i32, month: u32, day: u32) -> Option<Self> {
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Anchor {
            year,
            month,
            day,
        })
    }

    /// The day of month this anchor intends.
    pub fn day(&self) -> u32 {
        self.day
    }

    /// The date `k` months after the anchor (before it for negative `k`), day clamped.
    pub fn plus_months(&self, k: i64) -> Option<NaiveDate> {
        let index = i64::from(self.year) * 12 + i64::from(self.month) - 1 + k;
        let year = i32::try_from(index.div_euclid(12)).ok()?;
        let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
        let day = self.day.min(days_in_month(year, month)?);
        NaiveDate::from_ymd_opt(year, month, day)
    }

    /// The first boundary `anchor + k × step` months (any integer k) that is on or after `date`.
    pub fn next_on_or_after(&self, step: u32, date: NaiveDate) -> Option<NaiveDate> {
        self.next_index_on_or_after(step, date).map(|(_, d)| d)
    }

    /// [`Anchor::next_on_or_after`] with the boundary's month index (the k × step of
    /// `anchor + k × step months`), so callers can step from it without recomputing it.
    pub(crate) fn next_index_on_or_after(
        &self,
        step: u32,
        date: NaiveDate,
    ) -> Option<(i64, NaiveDate)> {
        if step == 0 {
            return None;
        }
        let step = i64::from(step);
        // Months from the anchor to the date, rounded down to a multiple of the step; then
        // walk forward: at most two steps are ever needed because of day clamping.
        let months = self.month_index(date);
        let mut k = div_floor(months, step);
        // The boundary a step earlier lies in an earlier month, so it is always before the
        // date: only whether it exists matters (the walk used to start there, and fails where
        // the calendar ends).
        if !self.in_calendar((k - 1) * step) {
            return None;
        }
        loop {
            let b = self.plus_months(k * step)?;
            if b >= date {
                return Some((k * step, b));
            }
            k += 1;
        }
    }

    /// The last boundary `anchor + k × step` months that is on or before `date`.
    pub fn last_on_or_before(&self, step: u32, date: NaiveDate) -> Option<NaiveDate> {
        self.last_index_on_or_before(step, date).map(|(_, d)| d)
    }

    /// [`Anchor::last_on_or_before`] with the boundary's month index.
    pub(crate) fn last_index_on_or_before(
        &self,
        step: u32,
        date: NaiveDate,
    ) -> Option<(i64, NaiveDate)> {
        let (k, next) = self.next_index_on_or_after(step, date)?;
        if next == date {
            return Some((k, next));
        }
        let k = k - i64::from(step);
        Some((k, self.plus_months(k)?))
    }

    /// Whether `anchor + k months` is a date chrono can hold (whole years are, from
    /// `NaiveDate::MIN` to `NaiveDate::MAX`), without making it.
    fn in_calendar(&self, k: i64) -> bool {
        let index = i64::from(self.year) * 12 + i64::from(self.month) - 1 + k;
        let year = index.div_euclid(12);
        (i64::from(NaiveDate::MIN.year())..=i64::from(NaiveDate::MAX.year())).contains(&year)
    }

    /// Calendar months from the anchor's month to `date`'s month (negative before it).
    pub(crate) fn month_index(&self, date: NaiveDate) -> i64 {
        (i64::from(date.year()) - i64::from(self.year)) * 12 + i64::from(date.month())
            - i64::from(self.month)
    }

    /// The boundary `n` steps away from `boundary`, which must itself be a boundary of this anchor.
    pub fn step_from(&self, boundary: NaiveDate, step: u32, n: i64) -> Option<NaiveDate> {
        let k = self.months_to(boundary)?;
        self.plus_months(k + n * i64::from(step))
    }

    /// How many months after the anchor a boundary lies (the k of `anchor + k months`);
    /// `None` when the date is not a boundary of this anchor.
    pub fn months_to(&self, boundary: NaiveDate) -> Option<i64> {
        let k = (i64::from(boundary.year()) - i64::from(self.year)) * 12
            + i64::from(boundary.month())
            - i64::from(self.month);
        (self.plus_months(k)? == boundary).then_some(k)
    }
}

/// `a ÷ step` rounded down (towards negative infinity), for a step of months. The usual steps
/// are spelled out so they divide by a constant, which compiles to a multiplication.
pub(crate) fn div_floor(a: i64, step: i64) -> i64 {
    match step {
        1 => a,
        3 => a.div_euclid(3),
        12 => a.div_euclid(12),
        36 => a.div_euclid(36),
        _ => a.div_euclid(step),
    }
}

/// Days in a month, `None` for an invalid month.
pub fn days_in_month(year: i32, month: u32) -> Option<u32> {
    // Arithmetic rather than two date constructions: this sits under every boundary computed.
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => Some(31),
        4 | 6 | 9 | 11 => Some(30),
        2 => Some(if leap { 29 } else { 28 }),
        _ => None,
    }
}

/// The date `months` calendar months after `date`, with `date`'s day clamped.
pub fn add_months(date: NaiveDate, months: i64) -> Option<NaiveDate> {
    Anchor::at(date).plus_months(months)
}

/// The first day of the month after `date`'s month: the half-open end of the month `date` is in.
pub fn next_month_start(date: NaiveDate) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(date.year(), date.month(), 1).and_then(|d| add_months(d, 1))
}

/// The first day of `date`'s month.
pub fn month_start(date: NaiveDate) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(date.year(), date.month(), 1)
}

/// Actual days in `[start, end)`.
pub fn actual_days(start: NaiveDate, end: NaiveDate) -> i64 {
    (end - start).num_days()
}

/// Days in `[start, end)` when every month counts 30 days (the 30E/360 convention: the 31st
/// counts as the 30th, so a whole month is 30 days and a whole year 360).
pub fn days_30(start: NaiveDate, end: NaiveDate) -> i64 {
    let d1 = i64::from(start.day().min(30));
    let d2 = i64::from(end.day().min(30));
    let months = (i64::from(end.year()) - i64::from(start.year())) * 12 + i64::from(end.month())
        - i64::from(start.month());
    months * 30 + d2 - d1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn jan_31_anchor_clamps_without_drifting() {
        let a = Anchor::at(d(2024, 1, 31));
        let got: Vec<NaiveDate> = (0..5).map(|k| a.plus_months(k).unwrap()).collect();
        assert_eq!(
            got,
            vec![
                d(2024, 1, 31),
                d(2024, 2, 29),
                d(2024, 3, 31),
                d(2024, 4, 30),
                d(2024, 5, 31)
            ]
        );
        // Not a leap year: February 28.
        assert_eq!(
            Anchor::at(d(2025, 1, 31)).plus_months(1),
            Some(d(2025, 2, 28))
        );
        // Backwards too.
        assert_eq!(a.plus_months(-2), Some(d(2023, 11, 30)));
    }

    #[test]
    fn feb_29_anniversary_recurs_on_feb_28_then_29() {
        let a = Anchor::intending(2024, 2, 29).unwrap();
        assert_eq!(a.plus_months(12), Some(d(2025, 2, 28)));
        assert_eq!(a.plus_months(48), Some(d(2028, 2, 29)));
    }

    #[test]
    fn next_boundary_of_the_domain_anniversary() {
        // Anniversary 07-01, yearly: from 2026-03-15 the next boundary is 2026-07-01.
        let a = Anchor::intending(2026, 7, 1).unwrap();
        assert_eq!(a.next_on_or_after(12, d(2026, 3, 15)), Some(d(2026, 7, 1)));
        assert_eq!(a.next_on_or_after(12, d(2026, 7, 1)), Some(d(2026, 7, 1)));
        assert_eq!(a.next_on_or_after(12, d(2026, 7, 2)), Some(d(2027, 7, 1)));
        assert_eq!(a.last_on_or_before(12, d(2026, 3, 15)), Some(d(2025, 7, 1)));
        // Monthly boundaries on the 1st.
        assert_eq!(a.next_on_or_after(1, d(2026, 3, 15)), Some(d(2026, 4, 1)));
    }

    #[test]
    fn next_boundary_with_a_month_end_anchor() {
        let a = Anchor::intending(2024, 1, 31).unwrap();
        assert_eq!(a.next_on_or_after(1, d(2024, 2, 15)), Some(d(2024, 2, 29)));
        assert_eq!(a.next_on_or_after(1, d(2024, 3, 1)), Some(d(2024, 3, 31)));
        assert_eq!(a.next_on_or_after(1, d(2024, 2, 29)), Some(d(2024, 2, 29)));
        assert_eq!(a.last_on_or_before(1, d(2024, 3, 30)), Some(d(2024, 2, 29)));
    }

    #[test]
    fn day_counts() {
        assert_eq!(actual_days(d(2026, 3, 15), d(2026, 7, 1)), 108);
        assert_eq!(actual_days(d(2025, 7, 1), d(2026, 7, 1)), 365);
        assert_eq!(actual_days(d(2023, 7, 1), d(2024, 7, 1)), 366);
        assert_eq!(days_30(d(2026, 3, 1), d(2026, 4, 1)), 30);
        assert_eq!(days_30(d(2026, 2, 1), d(2026, 3, 1)), 30);
        assert_eq!(days_30(d(2025, 7, 1), d(2026, 7, 1)), 360);
        assert_eq!(days_30(d(2026, 3, 15), d(2026, 4, 1)), 16);
        assert_eq!(days_30(d(2026, 3, 31), d(2026, 4, 1)), 1);
        assert_eq!(days_in_month(2024, 2), Some(29));
        assert_eq!(days_in_month(2100, 2), Some(28));
        assert_eq!(days_in_month(2000, 2), Some(29));
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (1990i32..2100, 1u32..=12, 1u32..=31)
            .prop_map(|(y, m, day)| d(y, m, day.min(days_in_month(y, m).unwrap())))
    }

    proptest! {
        /// The k-th boundary depends only on the anchor and k: computing it directly equals
        /// computing it by stepping from any other boundary.
        #[test]
        fn anchored_months_never_drift(anchor in any_date(), k in -400i64..400, j in -400i64..400) {
            let a = Anchor::at(anchor);
            let direct = a.plus_months(k).unwrap();
            let via = a.plus_months(j).unwrap();
            prop_assert_eq!(a.step_from(via, 1, k - j), Some(direct));
            // The day is the anchor's, clamped to the month.
            let dim = days_in_month(direct.year(), direct.month()).unwrap();
            prop_assert_eq!(direct.day(), anchor.day().min(dim));
        }

        #[test]
        fn next_on_or_after_is_the_first_boundary_not_before(anchor in any_date(), date in any_date(), step in prop::sample::select(vec![1u32, 3, 6, 12, 36])) {
            let a = Anchor::at(anchor);
            let n = a.next_on_or_after(step, date).unwrap();
            prop_assert!(n >= date);
            let prev = a.step_from(n, step, -1).unwrap();
            prop_assert!(prev < date);
            // Each boundary is anchor + k·step for some k.
            let k = (i64::from(n.year()) - i64::from(anchor.year())) * 12 + i64::from(n.month()) - i64::from(anchor.month());
            prop_assert_eq!(k.rem_euclid(i64::from(step)), 0);
        }
    }
}
