//! The typed syntax tree of a rule file.
//!
//! Every node keeps the byte span it was read from. Equality ignores spans, so two trees
//! that say the same thing compare equal wherever it was written (the formatter relies on
//! this to prove it changed only the layout).

use rust_decimal::Decimal;
use serde::Serialize;
use std::fmt;

/// Index of a source file within a [`crate::SourceSet`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FileId(pub u32);

/// A byte range `[start, end)` in one source file.
///
/// Spans are where a node was written, not what it means, so every span equals every other:
/// syntax trees compare by meaning. Use [`Span::same_place`] to compare locations.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    /// The file the range lies in.
    pub file: FileId,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

impl Eq for Span {}

impl Span {
    /// True when both spans cover the same bytes of the same file.
    pub fn same_place(&self, other: &Span) -> bool {
        (self.file, self.start, self.end) == (other.file, other.start, other.end)
    }

    /// A span over `[start, end)` in `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span { file, start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}..{}", self.start, self.end))
    }
}

/// A value with the span it was read from; equality looks at the value only.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Spanned<T> {
    /// The value.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Wraps a value with its span.
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.node
    }
}

/// A name written in a rule file: a SKU, vendor, distributor, table or policy name.
pub type Name = Spanned<String>;

/// A number as written: its exact value and its text (kept so the formatter prints `1,000.00` back).
#[derive(Clone, Debug, Serialize)]
pub struct Number {
    /// The exact value.
    pub value: Decimal,
    /// The text as written.
    pub text: String,
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        // The text matters too: `792.00` and `792` are the same value but a different scale,
        // and the formatter must not change what an admin wrote.
        self.value == other.value && self.text == other.text
    }
}

/// A date as written (`2026-07-01`); checked for existence by the validator.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DateLit(pub String);

impl DateLit {
    /// The calendar date, or `None` for an impossible one such as `2026-02-30`.
    pub fn value(&self) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::parse_from_str(&self.0, "%Y-%m-%d").ok()
    }
}

/// One parsed rule file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleFile {
    /// Which file of the source set this is.
    pub file: FileId,
    /// Top-level statements in written order.
    pub items: Vec<Item>,
    /// Every `#` comment, in order, for the formatter.
    #[serde(skip)]
    pub comments: Vec<Comment>,
}

/// A `#` comment; the text excludes the `#` and trailing whitespace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comment {
    /// Where the comment is, `#` included.
    pub span: Span,
    /// The text after `#`.
    pub text: String,
}

/// A top-level statement.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum Item {
    /// `currency USD`, `rounding half_up`, `price step 0.05`.
    Setting(Setting),
    /// `vendor microsoft "Microsoft"`, `segment nonprofit "Nonprofit"` and the like.
    Party(Party),
    /// `product SKU "Name" { … }`.
    Product(Product),
    /// `bundle SKU "Name" { … }`.
    Bundle(Bundle),
    /// `tiers name mode per unit a period { … }`.
    Tiers(TierTable),
    /// `coterm name { … }`.
    Coterm(Coterm),
    /// `discount name: … off … when …`.
    Discount(Discount),
    /// `route … via distributor`.
    Route(Route),
    /// `match tolerance 0.05 per line`, `match ignore start_date`.
    Match(MatchRule),
}

impl Item {
    /// The span of the whole statement.
    pub fn span(&self) -> Span {
        match self {
            Item::Setting(x) => x.span,
            Item::Party(x) => x.span,
            Item::Product(x) => x.span,
            Item::Bundle(x) => x.span,
            Item::Tiers(x) => x.span,
            Item::Coterm(x) => x.span,
            Item::Discount(x) => x.span,
            Item::Route(x) => x.span,
            Item::Match(x) => x.span,
        }
    }
}

/// A rule-set setting.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Setting {
    /// The whole statement.
    pub span: Span,
    /// Which setting, with its value.
    pub kind: SettingKind,
}

/// The settings a rule set can make.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKind {
    /// ISO 4217 code, checked by the validator.
    Currency(Name),
    /// How charges are rounded to the currency's minor unit.
    Rounding(Spanned<RoundingMode>),
    /// The step sell prices derived from cost are rounded to.
    PriceStep(Spanned<Number>),
}

/// Rounding modes a rule set may choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Half away from zero (the default).
    HalfUp,
    /// Half to even (banker's rounding).
    HalfEven,
    /// Half toward zero.
    HalfDown,
    /// Away from zero.
    Up,
    /// Toward zero.
    Down,
}

impl RoundingMode {
    /// The keyword that spells it.
    pub fn keyword(self) -> &'static str {
        match self {
            RoundingMode::HalfUp => "half_up",
            RoundingMode::HalfEven => "half_even",
            RoundingMode::HalfDown => "half_down",
            RoundingMode::Up => "up",
            RoundingMode::Down => "down",
        }
    }
}

/// Kinds of declared names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    /// Who makes the product (Microsoft, Dell…).
    Vendor,
    /// Where the MSP buys (Pax8, Ingram Micro…).
    Distributor,
    /// Where the MSP bills (ConnectWise…).
    Psa,
    /// A product category (licences, hardware…).
    Category,
    /// A customer segment that discount conditions and quotes name (nonprofit, education…).
    Segment,
}

impl PartyKind {
    /// The keyword that declares it.
    pub fn keyword(self) -> &'static str {
        match self {
            PartyKind::Vendor => "vendor",
            PartyKind::Distributor => "distributor",
            PartyKind::Psa => "psa",
            PartyKind::Category => "category",
            PartyKind::Segment => "segment",
        }
    }
}

/// A declaration: `distributor pax8 "Pax8"`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Party {
    /// The whole statement.
    pub span: Span,
    /// What is declared.
    pub kind: Spanned<PartyKind>,
    /// The name rules refer to.
    pub name: Name,
    /// The display name, if given.
    pub label: Option<Spanned<String>>,
    /// `coterm none`: a distributor that takes no co-term date (its subscriptions run full
    /// terms from the order), where the words are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coterm_none: Option<Span>,
}

/// A block that declares a SKU: a [`Product`] or a [`Bundle`], with its kind of lines.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SkuBlock<E> {
    /// The whole block.
    pub span: Span,
    /// The SKU.
    pub sku: Name,
    /// The display name.
    pub name: Spanned<String>,
    /// Its lines, in written order.
    pub entries: Vec<Spanned<E>>,
    /// The closing brace, for comments placed before it.
    pub close: Span,
}

/// A product: something sold.
pub type Product = SkuBlock<ProductEntry>;

/// One line of a product block.
#[allow(
    clippy::large_enum_variant,
    reason = "a rule set holds hundreds of entries at most; boxing offers would only add noise"
)]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductEntry {
    /// `vendor microsoft`.
    Vendor(Name),
    /// `unit user`.
    Unit(Name),
    /// `category licences`.
    Category(Name),
    /// `part pax8 "MST-…" id "…"`.
    Part(Part),
    /// `catalog id "CFQ7TTC0LCHC:0002"`: the vendor's own catalogue id.
    Catalog(Spanned<String>),
    /// `commitment P1Y via pax8 id "…"`: the distributor's id of the commitment bought on a
    /// term (Pax8's `commitmentTermId`).
    Commitment(TermId),
    /// `plan P1Y monthly via tdsynnex id "plan--…"`: the distributor's plan for a term and
    /// billing (TD SYNNEX's `planId`).
    Plan(TermId),
    /// `sold via connectwise as "M365-BP"`: the PSA's catalogue item.
    Sold(Sold),
    /// `not bought`: labour and services are never on a purchase order.
    NotBought,
    /// `cancel within 7 days`.
    Cancel(Spanned<Number>),
    /// `usage storage-gb by max`.
    Usage(Usage),
    /// `minimum 100.00 a month`.
    Minimum(Amount),
    /// A price line.
    Offer(Offer),
}

/// A distributor's part number for a product.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Part {
    /// The distributor.
    pub distributor: Name,
    /// Its part number.
    pub number: Spanned<String>,
    /// Its own product id (Pax8 uuid, StreamOne id), where known.
    pub id: Option<Spanned<String>>,
    /// Its SKU id (TD SYNNEX `sku--…`), where it has one.
    pub sku: Option<Spanned<String>>,
}

/// A distributor's id for what is bought on one term (and billing): a commitment or a plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TermId {
    /// The term it is for.
    pub term: Spanned<Term>,
    /// The billing it is for (plans); absent for a commitment.
    pub billing: Option<Spanned<Billing>>,
    /// The distributor.
    pub distributor: Name,
    /// The distributor's id.
    pub id: Spanned<String>,
}

/// The PSA's catalogue item a product or bundle is sold as.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sold {
    /// The PSA.
    pub psa: Name,
    /// Its catalogue item identifier.
    pub item: Spanned<String>,
}

/// How usage records of a metered product are measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Usage {
    /// The metric name in usage records.
    pub metric: Name,
    /// How a period's records are combined.
    pub aggregation: Spanned<Aggregation>,
}

/// How usage records in one billing period combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// The sum of the quantities.
    Sum,
    /// The largest quantity.
    Max,
    /// The latest quantity.
    Last,
}

impl Aggregation {
    /// The keyword that spells it.
    pub fn keyword(self) -> &'static str {
        match self {
            Aggregation::Sum => "sum",
            Aggregation::Max => "max",
            Aggregation::Last => "last",
        }
    }
}

/// A commitment term as written: `P1M`, `P1Y`, `P36M`, `one-time`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Term {
    /// `PnM`.
    Months(u32),
    /// `PnY`.
    Years(u32),
    /// `one-time`.
    OneTime,
}

impl Term {
    /// Length in months; `None` for one-time.
    pub fn months(self) -> Option<u32> {
        match self {
            Term::Months(n) => Some(n),
            Term::Years(n) => n.checked_mul(12),
            Term::OneTime => None,
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Months(n) => write!(f, "P{n}M"),
            Term::Years(n) => write!(f, "P{n}Y"),
            Term::OneTime => f.write_str("one-time"),
        }
    }
}

/// How often a commitment is billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    /// Every month.
    Monthly,
    /// Every three months.
    Quarterly,
    /// Every twelve months.
    Annual,
    /// The whole term at its start (prepaid).
    Upfront,
}

impl Billing {
    /// The keyword that spells it.
    pub fn keyword(self) -> &'static str {
        match self {
            Billing::Monthly => "monthly",
            Billing::Quarterly => "quarterly",
            Billing::Annual => "annual",
            Billing::Upfront => "upfront",
        }
    }

    /// Months in one billing period; `None` for upfront (the whole term).
    pub fn months(self) -> Option<u32> {
        match self {
            Billing::Monthly => Some(1),
            Billing::Quarterly => Some(3),
            Billing::Annual => Some(12),
            Billing::Upfront => None,
        }
    }
}

impl fmt::Display for Billing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// The period a stated amount covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// `a month`.
    Month,
    /// `a quarter`.
    Quarter,
    /// `a year`.
    Year,
    /// `a term`: the whole commitment.
    Term,
    /// `once`: a one-time amount.
    Once,
}

impl Period {
    /// The words that spell it.
    pub fn words(self) -> &'static str {
        match self {
            Period::Month => "a month",
            Period::Quarter => "a quarter",
            Period::Year => "a year",
            Period::Term => "a term",
            Period::Once => "once",
        }
    }
}

/// An amount per unit over a period: `22.00 a month`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Amount {
    /// The number.
    pub value: Spanned<Number>,
    /// The period it covers.
    pub per: Spanned<Period>,
}

/// A price and cost for one (term, billing frequency).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Offer {
    /// The commitment term.
    pub term: Spanned<Term>,
    /// The billing frequency; may be left out for one-time offers.
    pub billing: Option<Spanned<Billing>>,
    /// The sell price, unless derived from cost.
    pub price: Option<Spanned<PriceSpec>>,
    /// The cost to the MSP.
    pub cost: Option<Spanned<Cost>>,
    /// Sell price derived from cost.
    pub derive: Option<Spanned<Derive>>,
}

/// The MSP's cost on a price line; the period may be left to follow the price's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cost {
    /// The number.
    pub value: Spanned<Number>,
    /// The period, when written.
    pub per: Option<Spanned<Period>>,
}

impl Offer {
    /// The period the cost covers: as written, else the stated price's, else `once` for
    /// one-time offers; `None` when it cannot be known.
    pub fn cost_period(&self) -> Option<Period> {
        let cost = self.cost.as_ref()?;
        if let Some(p) = cost.node.per {
            return Some(p.node);
        }
        if let Some(Spanned {
            node: PriceSpec::Amount(a),
            ..
        }) = &self.price
        {
            return Some(a.per.node);
        }
        (self.term.node == Term::OneTime).then_some(Period::Once)
    }
}

/// How an offer states its sell price.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSpec {
    /// A per-unit amount.
    Amount(Amount),
    /// Priced through a tier table.
    Tiers(Name),
}

/// Sell price derived from cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Derive {
    /// `markup 25%`: cost × (1 + m).
    Markup(Number),
    /// `margin 20%`: cost ÷ (1 − m).
    Margin(Number),
}

/// A bundle: sold as one line, bought as its components.
pub type Bundle = SkuBlock<BundleEntry>;

/// One line of a bundle block.
#[allow(
    clippy::large_enum_variant,
    reason = "a rule set holds hundreds of entries at most; boxing offers would only add noise"
)]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BundleEntry {
    /// `category managed-services`.
    Category(Name),
    /// `includes 1 M365-BP`: a component and its quantity per bundle unit.
    Includes {
        /// Units of the component per bundle unit.
        quantity: Spanned<Number>,
        /// The component's SKU.
        product: Name,
    },
    /// `sold via connectwise as "MWS"`: the PSA's catalogue item.
    Sold(Sold),
    /// A price line for the bundle.
    Offer(Offer),
}

/// How a tier table applies its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TierMode {
    /// Each unit at the rate of the tier it falls in.
    Graduated,
    /// All units at the rate of the tier the total falls in.
    Volume,
    /// A price per started block of units.
    Package,
}

impl TierMode {
    /// The keyword that spells it.
    pub fn keyword(self) -> &'static str {
        match self {
            TierMode::Graduated => "graduated",
            TierMode::Volume => "volume",
            TierMode::Package => "package",
        }
    }
}

/// `tiers backup-storage graduated per GB a month { … }`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TierTable {
    /// The whole block.
    pub span: Span,
    /// The table's name.
    pub name: Name,
    /// Graduated, volume or package.
    pub mode: Spanned<TierMode>,
    /// Units per block (`per 1,000 GB`); only package tables have one.
    pub block: Option<Spanned<Number>>,
    /// The unit the bounds count.
    pub unit: Name,
    /// The period the prices cover; when left out, prices are per billing period of the
    /// price line that uses the table.
    pub period: Option<Spanned<Period>>,
    /// The rows, lowest first.
    pub rows: Vec<Spanned<TierRow>>,
    /// The closing brace.
    pub close: Span,
}

/// One tier: its upper bound, price and optional flat fee.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TierRow {
    /// Where the tier ends.
    pub bound: Spanned<TierBound>,
    /// Price per unit (or per block); `None` for `free`.
    pub price: Option<Spanned<Number>>,
    /// A flat fee added when the tier is used.
    pub flat: Option<Spanned<Number>>,
}

/// A tier's upper bound.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TierBound {
    /// `first 500`: the first 500 units (an allowance).
    First(Number),
    /// `up to 10,000`: inclusive upper bound.
    UpTo(Number),
    /// `above` or `above 10,000`: the open last tier.
    Above(Option<Number>),
}

/// `coterm name { … }`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Coterm {
    /// The whole block.
    pub span: Span,
    /// The policy's name; `default` is the default policy.
    pub name: Name,
    /// Its lines, in written order.
    pub entries: Vec<Spanned<CotermEntry>>,
    /// The closing brace.
    pub close: Span,
}

/// One line of a co-term policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CotermEntry {
    /// `anchor …`.
    Anchor(Anchor),
    /// `mode stub|coterminous`.
    Mode(CotermMode),
    /// `prorate daily|monthly|none`.
    Prorate(Proration),
    /// `basis actual|30`.
    Basis(DayBasis),
    /// `applies to product|vendor|category|bundle NAME`.
    AppliesTo(Target),
}

/// What subscriptions are aligned to.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// The customer's anniversary (month and day, from the quote).
    CustomerAnniversary,
    /// A fixed date.
    Date(Spanned<DateLit>),
    /// The end date of the customer's existing subscription of this product.
    EndOfExisting(Name),
    /// The end of a calendar month (Microsoft's rule).
    CalendarMonthEnd,
}

/// Whether the first term is a stub before a full term, or the term itself ends at the anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CotermMode {
    /// A prorated stub to the anchor, then the full term.
    Stub,
    /// The term ends at the next anchor (Microsoft NCE).
    Coterminous,
}

/// How a partial period is charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Proration {
    /// By days.
    Daily,
    /// A started month counts whole.
    Monthly,
    /// Billed as a full period.
    None,
}

/// How days are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayBasis {
    /// Calendar days.
    Actual,
    /// Every month counts 30 days.
    Thirty,
}

/// A reference to products by SKU, vendor, category or bundle.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    /// What kind of name follows.
    pub kind: Spanned<TargetKind>,
    /// The name.
    pub name: Name,
}

/// What a [`Target`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A product SKU.
    Product,
    /// A vendor.
    Vendor,
    /// A category.
    Category,
    /// A bundle SKU.
    Bundle,
}

impl TargetKind {
    /// The keyword that spells it.
    pub fn keyword(self) -> &'static str {
        match self {
            TargetKind::Product => "product",
            TargetKind::Vendor => "vendor",
            TargetKind::Category => "category",
            TargetKind::Bundle => "bundle",
        }
    }
}

/// `discount name "Label": amount off scope when … for the first N months`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Discount {
    /// The whole statement.
    pub span: Span,
    /// The rule's name.
    pub name: Name,
    /// A display label for invoices.
    pub label: Option<Spanned<String>>,
    /// Percent or fixed amount.
    pub amount: Spanned<DiscountAmount>,
    /// What it applies to.
    pub scope: Spanned<Scope>,
    /// All must hold for it to apply.
    pub conditions: Vec<Spanned<Condition>>,
    /// `for the first N months`.
    pub duration: Option<Spanned<Number>>,
}

/// How much a discount takes off.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountAmount {
    /// `15%`.
    Percent(Number),
    /// `2.00 per unit a month`, `50.00 once`.
    Fixed {
        /// The amount.
        value: Number,
        /// Per unit of quantity rather than per line.
        per_unit: bool,
        /// Every month, or once.
        monthly: bool,
    },
}

/// What a discount applies to.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Lines of a product, vendor, category or bundle.
    Target(Target),
    /// Every line of the quote.
    EveryLine,
    /// The quote as a whole (a fixed amount applies once).
    Quote,
}

/// A discount condition.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// `customer segment is nonprofit or education`: the customer holds one of these.
    Segment(Vec<Name>),
    /// `customer is new`: the customer's first order.
    NewCustomer,
    /// `term is P1Y or P3Y`.
    Term(Vec<Spanned<Term>>),
    /// `billing is annual or upfront`.
    Billing(Vec<Spanned<Billing>>),
    /// `quantity at least 10`.
    Quantity(Comparison, Spanned<Number>),
    /// `start before 2027-01-01`, `quote date from 2026-11-01`.
    Date(DateSubject, DateOp, Spanned<DateLit>),
}

/// Comparisons on quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// `at least` (≥).
    AtLeast,
    /// `at most` (≤).
    AtMost,
    /// `above` (>).
    Above,
    /// `below` (<).
    Below,
    /// `is` (=).
    Is,
}

impl Comparison {
    /// The words that spell it.
    pub fn words(self) -> &'static str {
        match self {
            Comparison::AtLeast => "at least",
            Comparison::AtMost => "at most",
            Comparison::Above => "above",
            Comparison::Below => "below",
            Comparison::Is => "is",
        }
    }
}

/// Which date a date condition tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSubject {
    /// The line's start date.
    Start,
    /// The quote's date.
    QuoteDate,
}

/// Date comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOp {
    /// Strictly before.
    Before,
    /// On or after.
    From,
}

/// `route vendor microsoft via pax8`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Route {
    /// The whole statement.
    pub span: Span,
    /// Which products it routes; `None` for `everything else`.
    pub matcher: Option<Target>,
    /// Span of the matcher (`everything else` included).
    pub matcher_span: Span,
    /// The distributor.
    pub via: Name,
}

/// The classes of three-way-match findings, as rule files and reports spell them.
pub const FINDING_CLASSES: &[&str] = &[
    "missing_line",
    "extra_line",
    "quantity",
    "term",
    "billing_frequency",
    "start_date",
    "coterm_date",
    "unit_price",
    "amount",
];

/// A rule for the three-way match.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MatchRule {
    /// The whole statement.
    pub span: Span,
    /// What it sets.
    pub kind: MatchRuleKind,
}

/// What a match rule sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchRuleKind {
    /// Money differences up to this much per line are rounding, not findings.
    Tolerance(Spanned<Number>),
    /// Findings of this class are not reported.
    Ignore(Name),
}
