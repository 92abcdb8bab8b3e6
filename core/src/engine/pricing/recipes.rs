//! Line figures remembered across a quote's lines: what a line's charges depend on besides its
//! dates.

use super::rounding::Exact;
use super::types::Share;
use crate::engine::catalogue::{Billing, Catalogue, Condition, Offer};
use crate::engine::quote::{ManualDiscount, QuoteLine};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use tenor_dsl::ast::DateSubject;

/// A piece's rounded amounts: (unrounded amount, shown by `explain` only; amount; cost; the
/// minimum commitment for the piece).
pub(super) type PieceAmounts = (Decimal, Decimal, Decimal, Option<Decimal>);

/// A line's price and cost per full billing period, exact, with their integer forms.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rates {
    /// The exact price per full period as numerator and denominator.
    pub(super) pp: (Decimal, Decimal),
    /// The exact cost per full period as numerator and denominator.
    pub(super) cp: (Decimal, Decimal),
    /// `pp` and `cp` as integers, decoded once for all the line's charges.
    pub(super) pp_fast: Option<(Exact, Exact)>,
    pub(super) cp_fast: Option<(Exact, Exact)>,
}

/// Everything a [`Recipe`] depends on: the offer (so the product, term, billing, tiers and
/// minimum), the units and quantity, the line's own discount, and its start date only when a
/// discount rule tests it. Decimals are compared as written (`5` and `5.0` print apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RecipeKey {
    offer: usize,
    term: Option<u32>,
    billing: Billing,
    billing_months: u32,
    quantity: [u8; 16],
    usage: Option<[u8; 16]>,
    discount: Option<(bool, [u8; 16])>,
    start: Option<NaiveDate>,
}

impl RecipeKey {
    /// The key of a line priced through `offer`.
    pub(super) fn of(
        offer: &Offer,
        term: Option<u32>,
        billing: Billing,
        billing_months: u32,
        line: &QuoteLine,
        start_matters: bool,
    ) -> Self {
        RecipeKey {
            offer: std::ptr::from_ref(offer).addr(),
            term,
            billing,
            billing_months,
            quantity: line.quantity.serialize(),
            usage: line.usage.map(|u| u.serialize()),
            discount: line.discount.map(|d| match d {
                ManualDiscount::Percent(p) => (true, p.serialize()),
                ManualDiscount::Amount(a) => (false, a.serialize()),
            }),
            start: start_matters.then_some(line.start),
        }
    }

    /// Where the key goes in a table of `mask + 1` slots.
    fn slot(&self, mask: usize) -> usize {
        let mut h = self.offer as u64;
        for chunk in [&self.quantity, self.usage.as_ref().unwrap_or(&[0; 16])] {
            let (lo, hi) = chunk.split_at(8);
            for half in [lo, hi] {
                let mut b = [0u8; 8];
                b.copy_from_slice(half);
                h = (h ^ u64::from_le_bytes(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            }
        }
        let h = h ^ u64::from(self.billing_months) ^ (h >> 29);
        usize::try_from(h >> 7).map_or(0, |h| h & mask)
    }
}

/// A line's figures that do not depend on its dates, worked out by the first line with its
/// key and reused by the next: its rates, which discount rules apply, a whole period's
/// amounts and discounts, and its steady-state figures.
pub(super) struct Recipe {
    pub(super) key: RecipeKey,
    pub(super) rates: Rates,
    /// Whether each discount rule applies to the line, with the reason when not.
    pub(super) verdicts: Vec<Result<(), String>>,
    /// Whole periods may reuse the discounts of the first whole period.
    pub(super) uniform: bool,
    /// A whole period's amounts, once a line has priced one.
    pub(super) whole: Option<PieceAmounts>,
    /// The whole period whose discounts are in `memo` (amount and share), and those discounts
    /// as (rule index, `None` for manual; amount).
    pub(super) memo_key: Option<(Decimal, Share)>,
    pub(super) memo: Vec<(Option<usize>, Decimal)>,
    /// `recurring` and `mrr`, once a line has worked them out.
    pub(super) steady: Option<(Decimal, Decimal)>,
}

impl Recipe {
    /// A recipe for `key` with nothing worked out yet, to be filled in its slot.
    pub(super) fn empty(key: RecipeKey) -> Self {
        let none = (Decimal::ZERO, Decimal::ONE);
        Recipe {
            key,
            rates: Rates {
                pp: none,
                cp: none,
                pp_fast: None,
                cp_fast: None,
            },
            verdicts: Vec::new(),
            uniform: false,
            whole: None,
            memo_key: None,
            memo: Vec::new(),
            steady: None,
        }
    }
}

/// Recipes of a quote's lines, direct-mapped like [`super::plans::Plans`]: a line whose slot
/// holds another key replaces it.
///
/// A miss costs more than pricing without the table (a recipe is written into a slot far
/// from the last one), so a quote whose lines seldom repeat stops using it: each window of
/// [`Recipes::WINDOW`] lines that finds fewer than a quarter of its recipes is followed by
/// [`Recipes::REST`] windows priced in one slot of their own, then the table is tried again.
#[derive(Default)]
pub(super) struct Recipes {
    slots: Vec<Option<Recipe>>,
    /// The slot of lines priced without the table (`explain`, or while it rests).
    own: Option<Recipe>,
    /// Lines looked up so far.
    seen: usize,
    /// Lines and hits of the current window, and windows left to rest.
    window: (usize, usize),
    resting: usize,
    /// Some discount rule tests the line's start date, so the start is part of every key.
    pub(super) start_matters: bool,
}

impl Recipes {
    /// Slots of a long quote's table.
    const SLOTS: usize = 4096;
    /// Lines after which a quote counts as long.
    const LONG: usize = 16;
    /// Lines over which the table's hits are counted.
    const WINDOW: usize = 4096;
    /// Windows priced without the table after one where it did not pay.
    const REST: usize = 32;

    /// An empty table for the rules of `cat`.
    pub(super) fn new(cat: &Catalogue) -> Self {
        let start_matters = cat.discounts.iter().any(|d| {
            d.conditions
                .iter()
                .any(|c| matches!(c, Condition::Date(DateSubject::Start, ..)))
        });
        Recipes {
            start_matters,
            ..Recipes::default()
        }
    }

    /// The slot for `key`, and whether it holds that key's recipe (`fresh` forces a miss, for
    /// `explain`, whose words are made anew for every line); `None` only if the table has no
    /// slot there, which a masked index rules out.
    pub(super) fn find(
        &mut self,
        key: &RecipeKey,
        fresh: bool,
    ) -> Option<(&mut Option<Recipe>, bool)> {
        self.seen += 1;
        let (lines, hits) = &mut self.window;
        *lines += 1;
        let ended = *lines == Recipes::WINDOW;
        if fresh || self.resting > 0 {
            if ended {
                self.window = (0, 0);
                self.resting = self.resting.saturating_sub(1);
            }
            return Some((&mut self.own, false));
        }
        super::plans::grow(&mut self.slots, self.seen, Recipes::LONG, Recipes::SLOTS);
        let index = key.slot(self.slots.len().saturating_sub(1));
        let slot = self.slots.get_mut(index)?;
        let hit = slot.as_ref().is_some_and(|r| r.key == *key);
        *hits += usize::from(hit);
        if ended {
            if *hits * 4 < Recipes::WINDOW {
                self.resting = Recipes::REST;
            }
            self.window = (0, 0);
        }
        Some((slot, hit))
    }
}

#[cfg(test)]
mod tests {
    use super::Recipes;
    use crate::engine::catalogue::Catalogue;
    use crate::engine::pricing::{PriceOptions, Pricer};
    use crate::engine::quote::{Customer, ManualDiscount, MonthDay, Quote, QuoteLine};
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    /// Rules whose discounts depend on everything a recipe keys on or leaves out: the
    /// quantity, the billing, the start date, a duration, a fixed amount a month and per unit.
    const RULES: &str = r#"
currency USD
rounding half_even
vendor microsoft "Microsoft"
vendor contoso "Contoso"
segment nonprofit "Nonprofit organisations"
tiers devices graduated per device a month {
  up to 10  45.00
  up to 50  40.00
  above     35.00
}
product BP "Business Premium" {
  vendor microsoft
  P1Y monthly  22.00 a month  cost 17.60 a month
  P1Y annual  264.00 a year
}
product DEV "Managed device" {
  vendor contoso
  not bought
  P1Y annual  tiers devices
  P1Y monthly  tiers devices
}
product GB "Storage" {
  vendor contoso
  not bought
  usage gb by max
  minimum 25.00 a month
  P1M monthly  0.05 a month
}
coterm default { anchor customer anniversary; mode stub; prorate daily }
discount np: 15% off vendor microsoft when customer segment is nonprofit and quantity at least 5
discount intro: 5.00 a month off product DEV for the first 2 months
discount early: 10% off every line when start before 2026-06-01
discount setup: 3.00 per unit a month off product BP when billing is annual
"#;

    fn catalogue() -> Catalogue {
        let mut sources = tenor_dsl::SourceSet::new();
        sources.add("t.tenor", RULES);
        let rules = tenor_dsl::check(&sources).unwrap();
        Catalogue::compile(&rules, &sources)
    }

    fn quote() -> Quote {
        Quote {
            quote: "Q-1".into(),
            date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            currency: "USD".into(),
            customer: Customer {
                id: "C".into(),
                name: "C".into(),
                segment: Some("nonprofit".into()),
                segments: Vec::new(),
                new: false,
                anniversary: Some(MonthDay { month: 7, day: 1 }),
                subscriptions: Vec::new(),
            },
            lines: Vec::new(),
        }
    }

    /// A line from a small pool of offers and quantities (so lines share recipes), starting
    /// on any day of 2026.
    fn line() -> impl Strategy<Value = QuoteLine> {
        let offers = prop::sample::select(vec![
            ("BP", "monthly"),
            ("BP", "annual"),
            ("DEV", "annual"),
            ("DEV", "monthly"),
            ("GB", "monthly"),
        ]);
        let quantity = prop::sample::select(vec![
            Decimal::new(1, 0),
            Decimal::new(5, 0),
            Decimal::new(50, 1),
            Decimal::new(10, 0),
            Decimal::new(11, 0),
            Decimal::new(51, 0),
        ]);
        let discount = prop::sample::select(vec![
            None,
            None,
            Some(ManualDiscount::Percent(Decimal::new(10, 0))),
            Some(ManualDiscount::Amount(Decimal::new(5000, 2))),
        ]);
        (
            offers,
            quantity,
            0u32..365,
            discount,
            prop::sample::select(vec![0, 10, 900]),
        )
            .prop_map(|((product, billing), quantity, day, discount, usage)| {
                let metered = product == "GB";
                QuoteLine {
                    product: product.into(),
                    quantity,
                    term: if metered { "P1M" } else { "P1Y" }.into(),
                    billing: Some(billing.into()),
                    start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
                        + chrono::Days::new(u64::from(day)),
                    coterm: None,
                    discount,
                    usage: metered.then(|| Decimal::from(usage)),
                }
            })
    }

    /// A quote whose lines never repeat rests the table after a window, and its lines, priced
    /// in the slot of their own, and the repeating lines after them, are a fresh pricer's.
    #[test]
    fn lines_priced_while_the_table_rests_are_a_fresh_pricers() {
        let cat = catalogue();
        let q = quote();
        let opts = PriceOptions::default();
        let mut warm = Pricer::new(&cat, &q, opts);
        let line = |i: usize, quantity: usize| QuoteLine {
            product: if i % 2 == 0 { "BP" } else { "DEV" }.into(),
            quantity: Decimal::from(quantity),
            term: "P1Y".into(),
            billing: Some("annual".into()),
            start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
                + chrono::Days::new((i % 365) as u64),
            coterm: None,
            discount: None,
            usage: None,
        };
        let lines: Vec<QuoteLine> = (0..Recipes::WINDOW + 300)
            .map(|i| line(i, 1 + i))
            .chain((0..300).map(|i| line(i, 1 + i % 7)))
            .collect();
        for (i, l) in lines.iter().enumerate() {
            let seen = serde_json::to_string(&warm.line(i, l).unwrap()).unwrap();
            if i == Recipes::WINDOW {
                assert_eq!(
                    warm.scratch.recipes.resting,
                    Recipes::REST,
                    "the table rests"
                );
            }
            // A fresh pricer for a sample of the lines (every one would take a while).
            if i % 7 == 0 || i >= Recipes::WINDOW {
                let fresh = Pricer::new(&cat, &q, opts).line(i, l).unwrap();
                assert_eq!(seen, serde_json::to_string(&fresh).unwrap(), "line {i}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Every line priced by a pricer that remembers earlier lines' recipes is, byte for
        /// byte, the line a fresh pricer gives.
        #[test]
        fn a_remembered_recipe_prices_as_a_fresh_one(
            lines in prop::collection::vec(line(), 1..60),
        ) {
            let cat = catalogue();
            let q = quote();
            let opts = PriceOptions::default();
            let mut warm = Pricer::new(&cat, &q, opts);
            for (i, l) in lines.iter().enumerate() {
                let seen = serde_json::to_string(&warm.line(i, l).unwrap()).unwrap();
                let fresh = Pricer::new(&cat, &q, opts).line(i, l).unwrap();
                prop_assert_eq!(seen, serde_json::to_string(&fresh).unwrap(), "line {}", i);
            }
        }

        /// Lines priced each into the last one's place (reusing its buffers and taking the rule
        /// names of its discounts) are, byte for byte, the lines a fresh pricer gives, whatever
        /// discounts the lines before had in which places.
        #[test]
        fn a_line_priced_in_the_last_ones_place_prices_as_a_fresh_one(
            lines in prop::collection::vec(line(), 1..60),
        ) {
            let cat = catalogue();
            let mut q = quote();
            q.lines = lines;
            let opts = PriceOptions::default();
            let mut seen = Vec::new();
            crate::engine::pricing::each_line(&cat, &q, &opts, |l| {
                seen.push(serde_json::to_string(l).unwrap());
                Ok::<(), ()>(())
            })
            .unwrap();
            prop_assert_eq!(seen.len(), q.lines.len());
            for (i, (l, seen)) in q.lines.iter().zip(&seen).enumerate() {
                let fresh = Pricer::new(&cat, &q, opts).line(i, l).unwrap();
                prop_assert_eq!(seen, &serde_json::to_string(&fresh).unwrap(), "line {}", i);
            }
        }
    }
}
