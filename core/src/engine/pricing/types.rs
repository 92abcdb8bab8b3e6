//! The public types of pricing: options, priced quotes, lines, charges, totals, errors.

use super::rounding::muldiv;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::borrow::Cow;
use std::sync::Arc;

/// What to compute besides the charges.
#[derive(Clone, Copy, Debug, Default)]
pub struct PriceOptions {
    /// Record, for every charge, the chain of rules that made it.
    pub explain: bool,
}

/// Told of each quote line priced, so that a caller can show progress; the engine itself never
/// draws anything.
pub trait Progress {
    /// One more line is priced.
    fn advance(&mut self);
}

/// No progress to show.
impl Progress for () {
    fn advance(&mut self) {
        // Nothing to show.
    }
}

/// A priced quote (`tenor.priced-quote/1`).
#[derive(Clone, Debug, Serialize)]
pub struct PricedQuote {
    /// Always `tenor.priced-quote/1`.
    pub schema: &'static str,
    /// The quote id.
    pub quote: String,
    /// The quote's date.
    pub date: NaiveDate,
    /// ISO 4217 code.
    pub currency: String,
    /// Who it is for.
    pub customer: CustomerRef,
    /// Priced lines in quote order.
    pub lines: Vec<PricedLine>,
    /// Figures over the whole quote.
    pub totals: Totals,
    /// What the quote allows but probably does not mean (a line starting before the quote's
    /// date); left out of the document when there is none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<PriceWarning>,
}

/// The customer of a priced quote.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerRef {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// One priced quote line.
#[derive(Clone, Debug, Serialize)]
pub struct PricedLine {
    /// 1-based line number in the quote.
    pub line: usize,
    /// SKU.
    pub product: Arc<str>,
    /// Display name.
    pub name: Arc<str>,
    /// True for a bundle.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bundle: bool,
    /// Units sold.
    pub quantity: Decimal,
    /// Term as quoted (`P1Y`, `one-time`).
    pub term: Cow<'static, str>,
    /// Billing frequency (`once` for one-time lines).
    pub billing: &'static str,
    /// The co-term policy used, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coterm: Option<Arc<str>>,
    /// Start of service.
    #[serde(serialize_with = "iso_date")]
    pub start: NaiveDate,
    /// Start of the full term (after any stub).
    #[serde(serialize_with = "iso_date")]
    pub term_start: NaiveDate,
    /// End of the commitment (exclusive): the renewal date.
    #[serde(serialize_with = "iso_date")]
    pub end: NaiveDate,
    /// What the line's first bill date bills, net of discounts.
    pub first_charge: Decimal,
    /// A full billing period's charge at the steady rate, net of lasting discounts.
    pub recurring: Decimal,
    /// Monthly recurring revenue of the line: `recurring ÷ billing_months`, rounded (the
    /// quote's MRR is rounded from the exact sum, not summed from these).
    pub mrr: Decimal,
    /// Months one `recurring` charge covers (0 for one-time lines).
    #[serde(skip)]
    pub billing_months: u32,
    /// Every charge of the commitment, in bill-date order.
    pub charges: Vec<Charge>,
    /// Steps common to the line (offer, policy), for `explain`.
    #[serde(skip)]
    pub explain: Vec<Step>,
    /// The offer's flat price per unit and the months it covers (`None` months: once); `None`
    /// for a tiered price.
    #[serde(skip)]
    pub unit_price: Option<(Decimal, Option<u32>)>,
    /// The line's offer, tiers and policy as data, for `explain` only.
    #[serde(skip)]
    pub detail: Option<Box<LineDetail>>,
}

/// How a line was priced, as data: built only when [`PriceOptions::explain`] is set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineDetail {
    /// The offer chosen (`P1Y monthly`, `one-time`).
    pub offer: String,
    /// Its price in words (`22.00 a month`, or the tier table it goes through).
    pub price: String,
    /// `file:line` of the offer.
    pub at: String,
    /// The co-term policy used, with its `file:line`.
    pub coterm: Option<(String, String)>,
    /// Tier rows applied to the line's units (the same for each of its charges).
    pub tiers: Vec<TierApplied>,
}

/// One tier row applied to a line's units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierApplied {
    /// The tier table's name.
    pub table: String,
    /// 1-based row number.
    pub row: usize,
    /// Units above which the row starts (0 for the first).
    pub from: Decimal,
    /// The row's inclusive upper bound (`None` for the open last row).
    pub to: Option<Decimal>,
    /// Units (or blocks) priced in the row.
    pub units: Decimal,
    /// Price per unit (or block).
    pub rate: Decimal,
    /// Flat fee of the row.
    pub flat: Decimal,
    /// `units × rate + flat`.
    pub amount: Decimal,
    /// `file:line` of the row.
    pub at: String,
}

/// How much of its billing period a charge covers, as counted by its co-term policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProrationDetail {
    /// `whole`, `days`, `months` or `unprorated`.
    pub unit: &'static str,
    /// Days (or months) covered.
    pub covered: i64,
    /// Days (or months) in the billing period.
    pub of: i64,
    /// `actual` or `30-day` for day counts.
    pub day_basis: Option<&'static str>,
    /// The billing period the charge is a share of, `[start, end)`.
    pub period: (NaiveDate, NaiveDate),
}

/// One discount rule's verdict on one charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The rule's name (`manual` for the quote line's own discount).
    pub rule: Arc<str>,
    /// True when it took something off.
    pub applied: bool,
    /// How it was worked out, or why it took nothing.
    pub why: String,
    /// What it took off (zero when skipped).
    pub amount: Decimal,
    /// `file:line` of the rule.
    pub at: Option<String>,
}

/// How a gross charge was made, as data: built only when [`PriceOptions::explain`] is set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChargeDetail {
    /// The share of its billing period (none for one-time charges and true-ups).
    pub proration: Option<ProrationDetail>,
    /// Each discount rule's verdict, in written order, then the manual discount.
    pub verdicts: Vec<Verdict>,
}

/// Kinds of charge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    /// The prorated first piece before the anchor.
    Stub,
    /// A full billing period.
    Recurring,
    /// Hardware, labour, project fees.
    OneTime,
    /// Metered usage, billed in arrears.
    Usage,
    /// A discount (negative).
    Discount,
    /// The difference up to a minimum commitment.
    MinimumTrueUp,
}

impl ChargeKind {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeKind::Stub => "stub",
            ChargeKind::Recurring => "recurring",
            ChargeKind::OneTime => "one_time",
            ChargeKind::Usage => "usage",
            ChargeKind::Discount => "discount",
            ChargeKind::MinimumTrueUp => "minimum_true_up",
        }
    }
}

/// One charge.
#[derive(Clone, Debug, Serialize)]
pub struct Charge {
    /// What it is.
    pub kind: ChargeKind,
    /// First day covered.
    #[serde(serialize_with = "iso_date")]
    pub period_start: NaiveDate,
    /// Day after the last day covered.
    #[serde(serialize_with = "iso_date")]
    pub period_end: NaiveDate,
    /// When it is billed: the period's start (in advance), its end for usage (in arrears).
    #[serde(serialize_with = "iso_date")]
    pub bill_date: NaiveDate,
    /// Amount, rounded once.
    pub amount: Decimal,
    /// Cost to the MSP, rounded once.
    pub cost: Decimal,
    /// The discount rule that made a discount charge (`manual` for the quote line's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<Arc<str>>,
    /// The share of a billing period the charge covers (for amounts stated per month).
    #[serde(skip)]
    pub share: Share,
    /// How it was made, for `explain` only (`None` otherwise): one pointer in every charge,
    /// so that charges priced without `explain` stay small to move.
    #[serde(skip)]
    pub explained: Option<Box<Explained>>,
}

impl Charge {
    /// The steps that made the charge, for `explain` (none without it).
    pub fn steps(&self) -> &[Step] {
        self.explained
            .as_deref()
            .map_or(&[], |e| e.steps.as_slice())
    }

    /// Its proration and the discount verdicts as data, for `explain` only.
    pub fn detail(&self) -> Option<&ChargeDetail> {
        self.explained.as_deref().and_then(|e| e.detail.as_ref())
    }
}

/// How a charge was made, for `explain`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Explained {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Proration and discount verdicts as data (gross charges only).
    pub detail: Option<ChargeDetail>,
}

impl Explained {
    /// `steps` and `detail` boxed together, or nothing when there is neither.
    #[inline]
    pub fn of(steps: Vec<Step>, detail: Option<ChargeDetail>) -> Option<Box<Explained>> {
        (!steps.is_empty() || detail.is_some()).then(|| Box::new(Explained { steps, detail }))
    }
}

/// A charge's share of its billing period: `months × num ÷ den` months of service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    /// Months in the billing period (0 for one-time charges).
    pub months: u32,
    /// Numerator of the fraction of the period.
    pub num: i64,
    /// Denominator of the fraction of the period.
    pub den: i64,
}

impl Share {
    /// A one-time charge covers no months.
    pub const NONE: Share = Share {
        months: 0,
        num: 1,
        den: 1,
    };

    /// True when less than a whole period.
    pub fn is_partial(&self) -> bool {
        self.num != self.den
    }

    /// Months of service, exactly where it can be written in 28 digits.
    pub fn months(&self) -> Decimal {
        muldiv(
            &[Decimal::from(self.months), Decimal::from(self.num)],
            &[Decimal::from(self.den)],
        )
        .unwrap_or_default()
    }
}

/// One step of an explanation, with the rule's location when it comes from a rule file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// What happened.
    pub text: String,
    /// `file:line` of the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// Figures over the whole quote (core/QUOTES.md, "Figures"): first invoice, contract value and
/// cost are sums of rounded charges; MRR and ARR are rounded once from the exact sum of the
/// lines' recurring charges per month and per twelve months.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    /// Everything billed on the quote's earliest bill date.
    pub first_invoice: Decimal,
    /// Monthly recurring revenue: Σ recurring ÷ months per period, rounded once.
    pub mrr: Decimal,
    /// Annual recurring revenue: Σ recurring × 12 ÷ months per period, rounded once (not
    /// 12 × the rounded MRR).
    pub arr: Decimal,
    /// Every charge of the commitment.
    pub contract_value: Decimal,
    /// Every charge's cost.
    pub cost: Decimal,
    /// Contract value − cost.
    pub margin: Decimal,
}

/// A problem with one field of the quote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceError {
    /// The field's path (`lines[2].product`).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

pub(super) fn perr(field: String, message: impl Into<String>, help: Option<String>) -> PriceError {
    PriceError {
        field,
        message: message.into(),
        help,
    }
}

/// Something in a quote that prices but is probably not meant, at one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PriceWarning {
    /// A stable kebab-case code (`start-before-quote`).
    pub code: &'static str,
    /// The field's path (`lines[2].start`).
    pub field: String,
    /// What is odd.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// A date as `YYYY-MM-DD`, the bytes chrono writes, formatted on the stack and handed to the
/// serializer whole: chrono's own `Serialize` writes it a character at a time, a tenth of the
/// time of writing a large priced quote. Years outside 0 to 9999 go to chrono.
fn iso_date<S: serde::Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    use chrono::Datelike;
    let (y, m, day) = (d.year(), d.month(), d.day());
    let Ok(y) = u32::try_from(y) else {
        return d.serialize(s);
    };
    if y > 9999 {
        return d.serialize(s);
    }
    let digit = |n: u32| b'0' + u8::try_from(n % 10).unwrap_or(0);
    let b = [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(day / 10),
        digit(day),
    ];
    match std::str::from_utf8(&b) {
        Ok(text) => s.serialize_str(text),
        Err(_) => d.serialize(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[derive(Serialize)]
    struct Fast(#[serde(serialize_with = "iso_date")] NaiveDate);

    #[test]
    fn dates_serialize_as_chrono_writes_them() {
        let days = [
            (0, 1, 1),
            (9, 2, 28),
            (999, 12, 31),
            (2026, 3, 5),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 6, 30),
            (-300, 1, 9),
        ];
        for (y, m, d) in days {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(
                serde_json::to_string(&Fast(date)).unwrap(),
                serde_json::to_string(&date).unwrap(),
                "{y}-{m}-{d}"
            );
        }
        let mut day = NaiveDate::from_ymd_opt(1999, 1, 1).unwrap();
        while day.year() < 2030 {
            assert_eq!(
                serde_json::to_string(&Fast(day)).unwrap(),
                format!("\"{day}\"")
            );
            day = day.succ_opt().unwrap();
        }
    }
}
