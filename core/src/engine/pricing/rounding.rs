//! Exact arithmetic and rounding once: an integer multiply-divide-round where it provably
//! agrees with the decimal path, the decimal path otherwise.

use crate::engine::catalogue::Catalogue;
use rust_decimal::{Decimal, RoundingStrategy};

/// `a × b × … ÷ (c × d × …)`, multiplied out before dividing so the result is exact whenever
/// it can be written in 28 digits; `None` on overflow or a zero divisor (amounts read from
/// documents can be anything, and Decimal's operators panic on overflow).
pub fn muldiv(num: &[Decimal], den: &[Decimal]) -> Option<Decimal> {
    let mut n = Decimal::ONE;
    for x in num {
        n = n.checked_mul(*x)?;
    }
    let mut d = Decimal::ONE;
    for x in den {
        d = d.checked_mul(*x)?;
    }
    if d.is_zero() {
        return None;
    }
    // Division is the slow operation; whole periods divide by one.
    if d == Decimal::ONE {
        return Some(n);
    }
    n.checked_div(d)
}

/// Largest Decimal mantissa plus one: a product below it is exact in a `Decimal`.
pub(super) const DECIMAL_LIMIT: u128 = 1 << 96;

/// Powers of ten that fit in a `u128`.
#[allow(
    clippy::indexing_slicing,
    reason = "a constant evaluated at compile time; `i` stays within the table"
)]
pub(super) const POW10: [u128; 39] = {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// 10^e, for 0 ≤ e ≤ 38.
pub(super) fn pow10(e: u32) -> Option<u128> {
    POW10.get(usize::try_from(e).ok()?).copied()
}

/// `a × b`, with a single 64-bit multiply when both fit in 64 bits (the usual case: a
/// checked 128-bit multiply is a library call).
pub(super) fn mul(a: u128, b: u128) -> Option<u128> {
    match (u64::try_from(a), u64::try_from(b)) {
        (Ok(a), Ok(b)) => Some(u128::from(a) * u128::from(b)),
        _ => a.checked_mul(b),
    }
}

/// `round(a × b × … ÷ (c × d × …))` in the rule set's mode: the same value as
/// `cat.round(muldiv(num, den)?)`, worked out in 128-bit integers when that provably gives the
/// same answer, and through `muldiv` otherwise.
pub(super) fn round_muldiv(cat: &Catalogue, num: &[Decimal], den: &[Decimal]) -> Option<Decimal> {
    match round_exact(cat, num, den) {
        Some(r) => Some(r),
        None => muldiv(num, den).map(|x| cat.round(x)),
    }
}

/// `round(value × percent ÷ 100)`: a percentage of an amount, rounded once.
pub(super) fn percent_of(cat: &Catalogue, value: Decimal, percent: Decimal) -> Decimal {
    let fast = Exact::of(value)
        .and_then(|v| v.times(Exact::of(percent)?))
        .and_then(|n| round_ratio(cat, n, Exact::HUNDRED));
    fast.unwrap_or_else(|| cat.round(value * percent / Decimal::ONE_HUNDRED))
}

/// `round(n × num ÷ (d × den))` for an amount per period `n ÷ d` (already decoded into
/// `fast` when it can be) and a share `num ÷ den` of the period: [`round_muldiv`] of
/// `[n, num]` over `[d, den]`, without decoding the amount again for every charge.
pub(super) fn round_share(
    cat: &Catalogue,
    per_period: (Decimal, Decimal),
    fast: Option<(Exact, Exact)>,
    num: i64,
    den: i64,
) -> Option<Decimal> {
    let quick = fast.and_then(|(n, d)| {
        // Most shares are a few days of a year on a price of a few digits: 64 bits hold it all.
        let small = u64::try_from(num)
            .ok()
            .zip(u64::try_from(den).ok())
            .and_then(|(num, den)| {
                let a = u64::try_from(n.m).ok()?.checked_mul(num)?;
                let b = u64::try_from(d.m).ok()?.checked_mul(den)?;
                round_ratio_small(cat, (a, n.s), (b, d.s))
            });
        match small {
            Some(r) => Some(r),
            None => round_ratio(cat, n.times(Exact::int(num)?)?, d.times(Exact::int(den)?)?),
        }
    });
    match quick {
        Some(r) => Some(r),
        None => round_muldiv(
            cat,
            &[per_period.0, Decimal::from(num)],
            &[per_period.1, Decimal::from(den)],
        ),
    }
}

/// [`round_exact`] of one decimal over a whole number of months or days.
pub(super) fn round_over(cat: &Catalogue, value: Decimal, den: u32) -> Option<Decimal> {
    round_ratio(cat, Exact::of(value)?, Exact::int(i64::from(den))?)
}

/// A non-negative decimal as an integer mantissa and a scale, made only from values a
/// `Decimal` holds exactly (mantissa under 2⁹⁶, scale at most 28): arithmetic on it gives what
/// `Decimal` arithmetic gives, in plain integer instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Exact {
    /// The mantissa.
    pub(super) m: u128,
    /// Decimal places.
    pub(super) s: u32,
}

impl Exact {
    pub(super) const ONE: Exact = Exact { m: 1, s: 0 };
    pub(super) const HUNDRED: Exact = Exact { m: 100, s: 0 };

    /// A decimal's mantissa and scale; `None` when negative.
    pub(super) fn of(d: Decimal) -> Option<Exact> {
        Some(Exact {
            m: u128::try_from(d.mantissa()).ok()?,
            s: d.scale(),
        })
    }

    /// A whole number; `None` when negative.
    pub(super) fn int(n: i64) -> Option<Exact> {
        Some(Exact {
            m: u128::from(u64::try_from(n).ok()?),
            s: 0,
        })
    }

    /// The product, when a `Decimal` would hold it exactly.
    pub(super) fn times(self, o: Exact) -> Option<Exact> {
        let m = mul(self.m, o.m)?;
        let s = self.s + o.s;
        (m < DECIMAL_LIMIT && s <= 28).then_some(Exact { m, s })
    }
}

/// The exact quotient `Π num ÷ Π den` rounded once to the minor unit, in integers; `None`
/// when the integers cannot show that `muldiv` followed by [`Catalogue::round`] gives the same.
pub(super) fn round_exact(cat: &Catalogue, num: &[Decimal], den: &[Decimal]) -> Option<Decimal> {
    round_ratio(cat, exact_product(num)?, exact_product(den)?)
}

/// The product of non-negative decimals, when a `Decimal` holds it and each partial product
/// exactly (as `muldiv` multiplies them).
pub(super) fn exact_product(xs: &[Decimal]) -> Option<Exact> {
    xs.iter()
        .try_fold(Exact::ONE, |acc, x| acc.times(Exact::of(*x)?))
}

/// `n ÷ d` rounded once to the minor unit in the rule set's mode, where `n` and `d` are the
/// exact products `muldiv` would form; `None` when the integers cannot show the result equals
/// `muldiv` followed by [`Catalogue::round`].
///
/// Decimal division is the slowest step of pricing; an integer quotient and remainder are a
/// fraction of its cost. The answers agree because:
/// - both products are exact in `Decimal` too ([`Exact`]), so `muldiv` multiplies without loss;
/// - when `muldiv` really divides (the denominator is not 1) the quotient is kept below 10¹²,
///   so `muldiv` carries at least 15 decimals, an error under ½·10⁻¹⁵; an exact quotient with a
///   denominator `b` (kept to b × 10^minor ≤ 10¹⁴) is either on a rounding boundary, which
///   `muldiv` then reaches exactly, or at least 1 ÷ (2 × b × 10^minor) ≥ ½·10⁻¹⁴ away from
///   one, so both round the same way.
pub(super) fn round_ratio(cat: &Catalogue, n: Exact, d: Exact) -> Option<Decimal> {
    let small = u64::try_from(n.m)
        .ok()
        .zip(u64::try_from(d.m).ok())
        .and_then(|(nm, dm)| round_ratio_small(cat, (nm, n.s), (dm, d.s)));
    match small {
        Some(r) => Some(r),
        None => round_ratio_wide(cat, n, d),
    }
}

/// 10^e as a `u64`, for 0 ≤ e ≤ 19.
fn pow10_u64(e: u32) -> Option<u64> {
    u64::try_from(pow10(e)?).ok()
}

/// [`round_ratio`] of `n.0 × 10^-n.1 ÷ (d.0 × 10^-d.1)` in 64-bit integers, step for step as
/// [`round_ratio_wide`] takes it: `Some` only with the answer that takes, `None` whenever a
/// step does not fit 64 bits or that would not answer (it is then asked).
fn round_ratio_small(
    cat: &Catalogue,
    (nm, ns): (u64, u32),
    (dm, ds): (u64, u32),
) -> Option<Decimal> {
    let mu = cat.minor_units;
    if mu > 8 || dm == 0 || nm == 0 {
        return None;
    }
    let (a, b) = match (mu + ds).checked_sub(ns) {
        Some(e) => (nm.checked_mul(pow10_u64(e)?)?, dm),
        None => (nm, dm.checked_mul(pow10_u64(ns - mu - ds)?)?),
    };
    // A denominator that is not a power of ten to its own scale is a real division: the same
    // bounds as the wide path (10^ds beyond 64 bits is never equal to `dm`).
    if pow10_u64(ds) != Some(dm) {
        let grid = b.checked_mul(pow10_u64(mu)?)?;
        if grid > 100_000_000_000_000 || u128::from(a) >= u128::from(grid) * 1_000_000_000_000 {
            return None;
        }
    }
    let (q, r) = if b == 1 { (a, 0) } else { (a / b, a % b) };
    // `r < b`, so `b - r` is the distance to the next multiple and `2r` is never formed.
    let rest = b - r;
    let up = match cat.rounding {
        RoundingStrategy::MidpointAwayFromZero => r >= rest,
        RoundingStrategy::MidpointNearestEven => r > rest || (r == rest && q % 2 == 1),
        RoundingStrategy::MidpointTowardZero => r > rest,
        RoundingStrategy::AwayFromZero => r > 0,
        RoundingStrategy::ToZero => false,
        _ => return None,
    };
    let q = if up { q.checked_add(1)? } else { q };
    // Below 2⁶⁴, so within a Decimal's 96 bits: the mantissa's low and middle words.
    let (lo, mid) = (q as u32, (q >> 32) as u32);
    Some(Decimal::from_parts(lo, mid, 0, false, mu))
}

/// [`round_ratio`] in 128-bit integers, for products beyond 64 bits.
fn round_ratio_wide(cat: &Catalogue, n: Exact, d: Exact) -> Option<Decimal> {
    let mu = cat.minor_units;
    if mu > 8 || d.m == 0 {
        return None;
    }
    if n.m == 0 {
        // `muldiv` gives `Decimal::ZERO` (a zero product has no sign or scale).
        return Some(Decimal::new(0, mu));
    }
    // value × 10^mu = n.m × 10^(mu + d.s - n.s) ÷ d.m = a ÷ b.
    let (a, b) = match (mu + d.s).checked_sub(n.s) {
        Some(e) => (mul(n.m, pow10(e)?)?, d.m),
        None => (n.m, mul(d.m, pow10(n.s - mu - d.s)?)?),
    };
    if d.m != pow10(d.s)? {
        // `muldiv` divides: keep to where its quotient is precise enough (see above).
        let grid = mul(b, pow10(mu)?)?;
        if grid > 100_000_000_000_000 || a >= grid * 1_000_000_000_000 {
            return None;
        }
    }
    let (q, r) = match (u64::try_from(a), u64::try_from(b)) {
        // Whole periods and amounts already in the minor unit need no division at all.
        (_, Ok(1)) => (a, 0),
        // 64-bit division when it fits: 128-bit division is a library call.
        (Ok(a), Ok(b)) => (u128::from(a / b), u128::from(a % b)),
        _ => (a / b, a % b),
    };
    let up = match cat.rounding {
        RoundingStrategy::MidpointAwayFromZero => 2 * r >= b,
        RoundingStrategy::MidpointNearestEven => 2 * r > b || (2 * r == b && q % 2 == 1),
        RoundingStrategy::MidpointTowardZero => 2 * r > b,
        RoundingStrategy::AwayFromZero => r > 0,
        RoundingStrategy::ToZero => false,
        _ => return None,
    };
    let q = if up { q + 1 } else { q };
    if q >= DECIMAL_LIMIT {
        return None;
    }
    Decimal::try_from_i128_with_scale(i128::try_from(q).ok()?, mu).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn catalogue(minor_units: u32, rounding: RoundingStrategy) -> Catalogue {
        let mut sources = tenor_dsl::SourceSet::new();
        sources.add("t.tenor", "currency USD\n");
        let rules = tenor_dsl::check(&sources).unwrap();
        let mut cat = Catalogue::compile(&rules, &sources);
        cat.minor_units = minor_units;
        cat.rounding = rounding;
        cat
    }

    const MODES: [RoundingStrategy; 5] = [
        RoundingStrategy::MidpointAwayFromZero,
        RoundingStrategy::MidpointNearestEven,
        RoundingStrategy::MidpointTowardZero,
        RoundingStrategy::AwayFromZero,
        RoundingStrategy::ToZero,
    ];

    /// A decimal of any size and scale, biased towards the small ones prices are made of.
    fn decimal() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            (0i64..100_000, 0u32..5).prop_map(|(m, s)| Decimal::new(m, s)),
            (0i64..i64::MAX, 0u32..29).prop_map(|(m, s)| Decimal::new(m, s)),
            (0u32..=u32::MAX, 0u32..=u32::MAX, 0u32..=u32::MAX, 0u32..29)
                .prop_map(|(lo, mid, hi, s)| Decimal::from_parts(lo, mid, hi, false, s)),
            (-1000i64..1000, 0u32..3).prop_map(|(m, s)| Decimal::new(m, s)),
        ]
    }

    fn denominator() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            (1i64..400).prop_map(Decimal::from),
            (1i64..2_000_000).prop_map(Decimal::from),
            (0i64..10_000, 0u32..4).prop_map(|(m, s)| Decimal::new(m, s)),
            decimal(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4_000, ..ProptestConfig::default() })]

        /// The integer path gives exactly what `muldiv` and `Catalogue::round` give, value and
        /// scale, whenever it gives anything.
        #[test]
        fn integer_rounding_equals_decimal_rounding(
            num in prop::collection::vec(decimal(), 1..5),
            den in prop::collection::vec(denominator(), 0..3),
            mode in 0usize..5,
            mu in prop::sample::select(vec![0u32, 2, 3, 4]),
        ) {
            let cat = catalogue(mu, MODES[mode]);
            if let Some(fast) = round_exact(&cat, &num, &den) {
                let slow = muldiv(&num, &den).map(|x| cat.round(x));
                prop_assert_eq!(Some(fast), slow);
                prop_assert_eq!(Some(fast.to_string()), slow.map(|x| x.to_string()));
            }
        }

        /// The 64-bit path answers exactly as the 128-bit one, value and scale, whenever it
        /// answers, on, beside and between rounding boundaries.
        #[test]
        fn small_ratios_round_as_wide_ones(
            nm in prop_oneof![1u64..1_000_000, 1u64..u64::MAX],
            ns in 0u32..12,
            dm in prop_oneof![1u64..400, 1u64..1_000_000_000, 1u64..u64::MAX],
            ds in 0u32..12,
            midpoint in prop::sample::select(vec![None, Some(0u64), Some(1), Some(2)]),
            mode in 0usize..5,
            mu in prop::sample::select(vec![0u32, 2, 3, 4]),
        ) {
            let cat = catalogue(mu, MODES[mode]);
            // A quotient of q + ½ in the minor unit (or a hair off it): the numerator's scale
            // matches the denominator's plus the minor unit, so no power of ten moves it.
            let (nm, ns, dm) = match midpoint {
                None => (nm, ns, dm),
                Some(off) => {
                    let dm = (dm % 1_000_000 + 1) * 2;
                    let q = nm % 1_000_000_000;
                    ((q * dm + dm / 2).saturating_sub(1) + off, mu + ds, dm)
                }
            };
            let small = round_ratio_small(&cat, (nm, ns), (dm, ds));
            if midpoint.is_some() && ds < 8 {
                prop_assert!(small.is_some(), "a midpoint of small figures takes the 64-bit path");
            }
            if let Some(small) = small {
                let wide = round_ratio_wide(
                    &cat,
                    Exact { m: u128::from(nm), s: ns },
                    Exact { m: u128::from(dm), s: ds },
                );
                prop_assert_eq!(Some(small), wide);
                prop_assert_eq!(Some(small.to_string()), wide.map(|w| w.to_string()));
            }
        }

        /// Amounts a day-count proration makes, including exact half cents.
        #[test]
        fn prorated_amounts_round_alike(
            cents in 0i64..100_000_000,
            qty in 1i64..100_000,
            num in 0i64..1200,
            den in 1i64..1200,
            per in prop::sample::select(vec![1i64, 3, 12, 36]),
            mode in 0usize..5,
        ) {
            let cat = catalogue(2, MODES[mode]);
            let n = [Decimal::new(cents, 4), Decimal::from(qty), Decimal::from(num)];
            let d = [Decimal::from(per), Decimal::from(den)];
            let fast = round_exact(&cat, &n, &d);
            prop_assert!(fast.is_some());
            prop_assert_eq!(fast, muldiv(&n, &d).map(|x| cat.round(x)));
            let half = [Decimal::new(cents * 10 + 5, 3)];
            prop_assert_eq!(round_exact(&cat, &half, &[]), Some(cat.round(half[0])));
        }

        /// Near the largest amounts the integer path takes on (10¹² and denominators up to
        /// 10¹⁴), on and beside rounding boundaries, it still agrees with the decimal path.
        #[test]
        fn large_quotients_round_alike(
            whole in 0i64..1_000_000_000_000,
            den in prop_oneof![1i64..1000, 1i64..1_000_000_000, 1i64..1_000_000_000_000],
            nudge in -3i64..=3,
            mode in 0usize..5,
            mu in prop::sample::select(vec![0u32, 2, 3]),
        ) {
            let cat = catalogue(mu, MODES[mode]);
            // A numerator whose quotient by `den` sits on (or a hair beside) a half minor unit.
            let half = i128::from(whole) * 10 + 5;
            let n = half * i128::from(den) + i128::from(nudge);
            if let Ok(n) = Decimal::try_from_i128_with_scale(n, mu + 1) {
                if n >= Decimal::ZERO {
                    let (num, den) = ([n], [Decimal::from(den)]);
                    if let Some(fast) = round_exact(&cat, &num, &den) {
                        prop_assert_eq!(Some(fast), muldiv(&num, &den).map(|x| cat.round(x)));
                    }
                }
            }
        }
    }
}
