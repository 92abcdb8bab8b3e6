//! The compiled rule set: names resolved to indices, prices normalised, ready to price quotes.
//! Compiled once per run; pricing never looks at the syntax tree again.

use rust_decimal::{Decimal, RoundingStrategy};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::sync::Arc;
use tenor_dsl::ast::{self, Item, TargetKind};
use tenor_dsl::{RuleSet, SourceSet};

pub use tenor_dsl::ast::{Aggregation, Billing, CotermMode, DayBasis, Proration, TierMode};

/// Where a rule was written: `rules/microsoft-365.tenor:42`.
pub type Origin = String;

/// A compiled rule set.
#[derive(Debug)]
pub struct Catalogue {
    /// ISO 4217 code.
    pub currency: String,
    /// Decimal places of the currency's minor unit.
    pub minor_units: u32,
    /// How charges are rounded.
    pub rounding: RoundingStrategy,
    /// The rule set's name for the rounding mode (`half_up`).
    pub rounding_name: &'static str,
    /// Step that prices derived from cost are rounded to.
    pub price_step: Decimal,
    /// Products and bundles.
    pub items: Vec<Sellable>,
    /// Item index by SKU. Fx-hashed: every quote line looks its SKU up, SipHash would cost more
    /// than the rest of the lookup, and the keys come from the rule set, not from an attacker.
    index: FxHashMap<String, usize>,
    /// Tier tables.
    pub tiers: Vec<TierTable>,
    /// Co-term policies.
    pub policies: Vec<Policy>,
    /// The policy named `default`.
    pub default_policy: Option<usize>,
    policy_for: HashMap<(TargetKind, String), usize>,
    /// Discount rules in written order.
    pub discounts: Vec<DiscountRule>,
    /// Procurement routes in written order.
    pub routes: Vec<RouteRule>,
    /// Distributors by name, with display names.
    pub distributors: Vec<(String, Option<String>)>,
    /// Distributors declared `coterm none`: their subscriptions run full terms from the order.
    pub no_coterm: Vec<String>,
    /// Customer segments the rules declare; a quote may name no other.
    pub segments: Vec<String>,
    /// Three-way match: money differences up to this much per line are not findings.
    pub match_tolerance: Decimal,
    /// Three-way match: finding classes not reported.
    pub match_ignore: Vec<String>,
}

/// A product or bundle.
#[derive(Debug)]
pub struct Sellable {
    /// SKU (shared with priced lines, which name it without copying).
    pub sku: Arc<str>,
    /// Display name.
    pub name: Arc<str>,
    /// True for a bundle.
    pub is_bundle: bool,
    /// Vendor name.
    pub vendor: Option<String>,
    /// Unit sold.
    pub unit: Option<String>,
    /// Category name.
    pub category: Option<String>,
    /// False for labour and services, which are never on a purchase order.
    pub bought: bool,
    /// Distributor part numbers.
    pub parts: Vec<PartNumber>,
    /// The vendor's catalogue id.
    pub catalog_id: Option<String>,
    /// The PSA's catalogue item identifier (`sold via connectwise as "…"`).
    pub catalog_item: Option<String>,
    /// Days after purchase in which a decrease is refunded.
    pub cancel_days: Option<u32>,
    /// Usage metric and aggregation, for metered products.
    pub usage: Option<(String, Aggregation)>,
    /// Minimum commitment per month, for metered products.
    pub minimum: Option<Rate>,
    /// Price lines.
    pub offers: Vec<Offer>,
    /// Bundle components: item index and quantity per bundle unit.
    pub components: Vec<(usize, Decimal)>,
    /// The co-term policy that applies unless a quote line names one (resolved at compile).
    pub policy: Option<usize>,
    /// Where it is defined.
    pub origin: Origin,
}

/// A distributor's part number.
#[derive(Debug, Clone)]
pub struct PartNumber {
    /// The distributor.
    pub distributor: String,
    /// The part number.
    pub number: String,
    /// The distributor's own product id.
    pub id: Option<String>,
    /// The distributor's SKU id (TD SYNNEX `skuId`).
    pub sku: Option<String>,
    /// The distributor's commitment ids by term months (Pax8 `commitmentTermId`).
    pub commitments: Vec<(u32, String)>,
    /// The distributor's plan ids by term months (`None` one-time) and billing (TD SYNNEX
    /// `planId`).
    pub plans: Vec<(Option<u32>, Billing, String)>,
}

impl PartNumber {
    /// The commitment id for a term of `months`, if the rules give one.
    pub fn commitment(&self, months: Option<u32>) -> Option<&str> {
        let months = months?;
        self.commitments
            .iter()
            .find(|(m, _)| *m == months)
            .map(|(_, id)| id.as_str())
    }

    /// The plan id for a term and billing, if the rules give one.
    pub fn plan(&self, months: Option<u32>, billing: Billing) -> Option<&str> {
        self.plans
            .iter()
            .find(|(m, b, _)| *m == months && *b == billing)
            .map(|(_, _, id)| id.as_str())
    }
}

/// A price line, normalised.
#[derive(Debug)]
pub struct Offer {
    /// Term length in months; `None` for one-time.
    pub term_months: Option<u32>,
    /// Billing frequency (one-time offers are upfront).
    pub billing: Billing,
    /// The sell price.
    pub price: Price,
    /// The cost, if stated.
    pub cost: Option<Rate>,
    /// How a derived price was made, for `explain`.
    pub derivation: Option<String>,
    /// Where it is written.
    pub origin: Origin,
}

impl Offer {
    /// Months in one billing period (the whole term for upfront); `None` for one-time.
    pub fn billing_months(&self) -> Option<u32> {
        let term = self.term_months?;
        Some(self.billing.months().unwrap_or(term))
    }

    /// The term as written in quotes (`P1Y`, `P36M`, `one-time`).
    pub fn term_text(&self) -> String {
        term_text(self.term_months)
    }
}

/// `P1Y` for 12 months, `P18M` for 18, `one-time` for none.
pub fn term_text(months: Option<u32>) -> String {
    match months {
        None => "one-time".to_string(),
        Some(m) if m % 12 == 0 => format!("P{}Y", m / 12),
        Some(m) => format!("P{m}M"),
    }
}

/// A sell price.
#[derive(Debug, Clone)]
pub enum Price {
    /// A per-unit amount.
    Flat(Rate),
    /// Through a tier table (index into [`Catalogue::tiers`]).
    Tiered(usize),
}

/// An amount per unit over a number of months (or once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// The amount.
    pub amount: Decimal,
    /// Months it covers; `None` for a one-time amount.
    pub per_months: Option<u32>,
}

impl Rate {
    /// The exact amount for `months` months (the amount itself when one-time).
    pub fn for_months(&self, months: u32) -> Decimal {
        match self.per_months {
            Some(p) if p != months && p != 0 => {
                self.amount * Decimal::from(months) / Decimal::from(p)
            }
            _ => self.amount,
        }
    }
}

/// A compiled tier table.
#[derive(Debug)]
pub struct TierTable {
    /// Its name.
    pub name: String,
    /// Graduated, volume or package.
    pub mode: TierMode,
    /// Units per block (1 unless package).
    pub block: Decimal,
    /// Months the prices cover; `None` means per billing period of the offer using it.
    pub per_months: Option<u32>,
    /// True when the table's prices are one-time amounts.
    pub once: bool,
    /// Rows, lowest first; the last has no upper bound.
    pub rows: Vec<TierRow>,
    /// Where it is defined.
    pub origin: Origin,
}

/// One tier.
#[derive(Debug, Clone)]
pub struct TierRow {
    /// Inclusive upper bound; `None` for the open last tier.
    pub upper: Option<Decimal>,
    /// Price per unit (per block for package tables).
    pub price: Decimal,
    /// Flat fee when the tier is used.
    pub flat: Decimal,
    /// Where the row is written.
    pub origin: Origin,
}

/// A compiled co-term policy.
#[derive(Debug)]
pub struct Policy {
    /// Its name.
    pub name: Arc<str>,
    /// What it aligns to.
    pub anchor: AnchorRule,
    /// Stub or coterminous.
    pub mode: CotermMode,
    /// How partial periods are charged.
    pub proration: Proration,
    /// How days are counted.
    pub basis: DayBasis,
    /// Where it is defined.
    pub origin: Origin,
}

/// What a policy aligns subscriptions to.
#[derive(Debug, Clone)]
pub enum AnchorRule {
    /// The customer's anniversary.
    CustomerAnniversary,
    /// A fixed date.
    Date(chrono::NaiveDate),
    /// The end of the customer's existing subscription of this SKU.
    EndOfExisting(String),
    /// The end of a calendar month.
    CalendarMonthEnd,
}

/// A compiled discount rule.
#[derive(Debug)]
pub struct DiscountRule {
    /// Its name.
    pub name: Arc<str>,
    /// Display label.
    pub label: Option<String>,
    /// How much.
    pub amount: DiscountAmount,
    /// A percentage as a factor (15% → 0.15), worked out once; zero for fixed amounts.
    pub factor: Decimal,
    /// What it applies to.
    pub scope: DiscountScope,
    /// All must hold.
    pub conditions: Vec<Condition>,
    /// Months from the line's start during which it applies.
    pub duration_months: Option<u32>,
    /// Where it is written.
    pub origin: Origin,
}

/// How much a discount takes off.
#[derive(Debug, Clone, Copy)]
pub enum DiscountAmount {
    /// Percent of the charge (15 for 15%).
    Percent(Decimal),
    /// A fixed amount per month (or once), per unit or per line.
    Fixed {
        /// The amount.
        value: Decimal,
        /// Multiplied by the line's quantity.
        per_unit: bool,
        /// Every month (else once, on the first charge).
        monthly: bool,
    },
}

/// What a discount applies to.
#[derive(Debug, Clone)]
pub enum DiscountScope {
    /// Lines of this product or bundle SKU.
    Sku(String),
    /// Lines of products of this vendor.
    Vendor(String),
    /// Lines of products or bundles in this category.
    Category(String),
    /// Every line.
    EveryLine,
    /// The quote as a whole: a fixed amount applies once, to the first line's first charge.
    Quote,
}

/// A discount condition.
#[derive(Debug, Clone)]
pub enum Condition {
    /// One of the customer's segments is one of these.
    Segment(Vec<String>),
    /// The customer places its first order.
    NewCustomer,
    /// The line's term (in months; `None` = one-time) is one of these.
    Term(Vec<Option<u32>>),
    /// The line's billing is one of these.
    Billing(Vec<Billing>),
    /// The line's quantity compares so.
    Quantity(ast::Comparison, Decimal),
    /// The line's start (or the quote's date) is before / on or after a date.
    Date(ast::DateSubject, ast::DateOp, chrono::NaiveDate),
}

/// A procurement route.
#[derive(Debug, Clone)]
pub struct RouteRule {
    /// Which products; `None` for everything else.
    pub matcher: Option<(TargetKind, String)>,
    /// The distributor.
    pub via: String,
    /// Where it is written.
    pub origin: Origin,
}

fn origin(sources: &SourceSet, span: tenor_dsl::Span) -> Origin {
    let lc = sources.line_col(span.file, span.start);
    format!("{}:{}", sources.name(span.file), lc.line)
}

fn period_months(p: ast::Period, term: Option<u32>) -> Option<u32> {
    match p {
        ast::Period::Month => Some(1),
        ast::Period::Quarter => Some(3),
        ast::Period::Year => Some(12),
        ast::Period::Term => term,
        ast::Period::Once => None,
    }
}

/// Rounds to a multiple of `step` in the given mode, shown with at least `min_scale` decimals.
pub fn round_to_step(
    value: Decimal,
    step: Decimal,
    mode: RoundingStrategy,
    min_scale: u32,
) -> Decimal {
    if step <= Decimal::ZERO {
        return value;
    }
    let steps = (value / step).round_dp_with_strategy(0, mode);
    let mut out = steps * step;
    out.rescale(step.normalize().scale().max(min_scale));
    out
}

/// A tier table as priced: bounds, prices and flat fees, with where each row is written.
fn tier_table(t: &ast::TierTable, sources: &SourceSet) -> TierTable {
    let or_zero = |n: Option<Decimal>| n.unwrap_or(Decimal::ZERO);
    let rows = t
        .rows
        .iter()
        .map(|r| TierRow {
            upper: match &r.node.bound.node {
                ast::TierBound::First(n) | ast::TierBound::UpTo(n) => Some(n.value),
                ast::TierBound::Above(_) => None,
            },
            price: or_zero(r.node.price.as_ref().map(|p| p.node.value)),
            flat: or_zero(r.node.flat.as_ref().map(|f| f.node.value)),
            origin: origin(sources, r.span),
        })
        .collect();
    let per = t.period.as_ref().map(|p| p.node);
    TierTable {
        name: t.name.node.clone(),
        mode: t.mode.node,
        block: t
            .block
            .as_ref()
            .map(|b| b.node.value)
            .unwrap_or(Decimal::ONE),
        per_months: per.and_then(|p| period_months(p, None)),
        once: per == Some(ast::Period::Once),
        rows,
        origin: origin(sources, t.span),
    }
}

impl Catalogue {
    /// Compiles a checked rule set. `sources` names files for origins.
    // Long: the two passes over the rule set read as one sequence, each arm a line or two.
    pub fn compile(rules: &RuleSet, sources: &SourceSet) -> Catalogue {
        let mut c = Catalogue {
            currency: "USD".to_string(),
            minor_units: 2,
            rounding: RoundingStrategy::MidpointAwayFromZero,
            rounding_name: "half_up",
            price_step: Decimal::new(1, 2),
            items: Vec::new(),
            index: FxHashMap::default(),
            tiers: Vec::new(),
            policies: Vec::new(),
            default_policy: None,
            policy_for: HashMap::new(),
            discounts: Vec::new(),
            routes: Vec::new(),
            distributors: Vec::new(),
            no_coterm: Vec::new(),
            segments: Vec::new(),
            match_tolerance: Decimal::ZERO,
            match_ignore: Vec::new(),
        };
        // Pass 1: settings, names, tier tables, SKUs (so later references resolve).
        let mut step_set = false;
        for item in rules.items() {
            match item {
                Item::Setting(s) => step_set |= c.apply_setting(&s.kind),
                Item::Party(p) if p.kind.node == ast::PartyKind::Distributor => {
                    c.distributors.push((
                        p.name.node.clone(),
                        p.label.as_ref().map(|l| l.node.clone()),
                    ));
                    if p.coterm_none.is_some() {
                        c.no_coterm.push(p.name.node.clone());
                    }
                }
                Item::Party(p) if p.kind.node == ast::PartyKind::Segment => {
                    c.segments.push(p.name.node.clone());
                }
                Item::Tiers(t) => c.tiers.push(tier_table(t, sources)),
                Item::Product(p) => {
                    c.add_item(&p.sku.node, &p.name.node, false, origin(sources, p.span))
                }
                Item::Bundle(b) => {
                    c.add_item(&b.sku.node, &b.name.node, true, origin(sources, b.span))
                }
                _ => {}
            }
        }
        if !step_set {
            c.price_step = Decimal::new(1, c.minor_units);
        }
        // Pass 2: bodies and rules.
        for item in rules.items() {
            match item {
                Item::Product(p) => c.compile_product(p, sources),
                Item::Bundle(b) => c.compile_bundle(b, sources),
                Item::Coterm(p) => c.compile_policy(p, sources),
                Item::Discount(d) => c.compile_discount(d, sources),
                Item::Match(m) => match &m.kind {
                    ast::MatchRuleKind::Tolerance(n) => c.match_tolerance = n.node.value,
                    ast::MatchRuleKind::Ignore(class) => c.match_ignore.push(class.node.clone()),
                },
                Item::Route(r) => c.routes.push(RouteRule {
                    matcher: r
                        .matcher
                        .as_ref()
                        .map(|t| (t.kind.node, t.name.node.clone())),
                    via: r.via.node.clone(),
                    origin: origin(sources, r.span),
                }),
                _ => {}
            }
        }
        c.bundle_costs();
        // Which policy applies to each item is fixed by the rules: work it out once here
        // rather than on every quote line.
        let policies: Vec<Option<usize>> = c.items.iter().map(|it| c.policy_for(it)).collect();
        for (it, p) in c.items.iter_mut().zip(policies) {
            it.policy = p;
        }
        c
    }

    /// Applies one setting; true when it sets the price step.
    fn apply_setting(&mut self, kind: &ast::SettingKind) -> bool {
        match kind {
            ast::SettingKind::Currency(code) => {
                self.currency = code.node.clone();
                self.minor_units = tenor_dsl::currency::minor_units(&code.node).unwrap_or(2);
            }
            ast::SettingKind::Rounding(r) => {
                self.rounding_name = r.node.keyword();
                self.rounding = match r.node {
                    ast::RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
                    ast::RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
                    ast::RoundingMode::HalfDown => RoundingStrategy::MidpointTowardZero,
                    ast::RoundingMode::Up => RoundingStrategy::AwayFromZero,
                    ast::RoundingMode::Down => RoundingStrategy::ToZero,
                };
            }
            ast::SettingKind::PriceStep(n) => {
                self.price_step = n.node.value;
                return true;
            }
        }
        false
    }

    /// Registers a product or bundle by SKU; its body is compiled in the second pass.
    fn add_item(&mut self, sku: &str, name: &str, is_bundle: bool, origin: Origin) {
        self.index.insert(sku.to_string(), self.items.len());
        self.items
            .push(Sellable::named(sku, name, is_bundle, origin));
    }

    /// The product or bundle with this SKU.
    pub fn item(&self, sku: &str) -> Option<(usize, &Sellable)> {
        let i = *self.index.get(sku)?;
        self.items.get(i).map(|s| (i, s))
    }

    /// Every SKU, for suggestions.
    pub fn skus(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|s| &*s.sku)
    }

    /// The policy by name.
    pub fn policy(&self, name: &str) -> Option<usize> {
        self.policies.iter().position(|p| &*p.name == name)
    }

    /// The policy that applies to an item: by its SKU (product or bundle), then category, then
    /// vendor, then the default.
    pub fn policy_for(&self, item: &Sellable) -> Option<usize> {
        let kind = if item.is_bundle {
            TargetKind::Bundle
        } else {
            TargetKind::Product
        };
        self.policy_for
            .get(&(kind, item.sku.to_string()))
            .or_else(|| {
                item.category
                    .as_ref()
                    .and_then(|c| self.policy_for.get(&(TargetKind::Category, c.clone())))
            })
            .or_else(|| {
                item.vendor
                    .as_ref()
                    .and_then(|v| self.policy_for.get(&(TargetKind::Vendor, v.clone())))
            })
            .copied()
            .or(self.default_policy)
    }

    /// Rounds a charge to the currency's minor unit in the rule set's mode.
    pub fn round(&self, value: Decimal) -> Decimal {
        let mut r = value.round_dp_with_strategy(self.minor_units, self.rounding);
        // Always show the minor unit (`0.00`, `2640.00`), so amounts read the same everywhere.
        r.rescale(self.minor_units);
        r
    }

    fn offer(&self, o: &ast::Offer, sources: &SourceSet, span: tenor_dsl::Span) -> Option<Offer> {
        let term_months = o.term.node.months();
        let billing = match (term_months, o.billing) {
            (None, _) => Billing::Upfront,
            (Some(_), Some(b)) => b.node,
            (Some(_), None) => return None,
        };
        let cost = o.cost.as_ref().map(|c| Rate {
            amount: c.node.value.node.value,
            per_months: o.cost_period().and_then(|p| period_months(p, term_months)),
        });
        let mut derivation = None;
        let price = match (&o.price, &o.derive, cost) {
            (Some(p), _, _) => match &p.node {
                ast::PriceSpec::Amount(a) => Price::Flat(Rate {
                    amount: a.value.node.value,
                    per_months: period_months(a.per.node, term_months),
                }),
                ast::PriceSpec::Tiers(name) => {
                    Price::Tiered(self.tiers.iter().position(|t| t.name == name.node)?)
                }
            },
            (None, Some(d), Some(cost)) => {
                let (raw, how) = match &d.node {
                    ast::Derive::Markup(m) => (
                        cost.amount * (Decimal::ONE + m.value / Decimal::ONE_HUNDRED),
                        format!("cost {} × (1 + {}%)", cost.amount, m.value),
                    ),
                    ast::Derive::Margin(m) => (
                        cost.amount / (Decimal::ONE - m.value / Decimal::ONE_HUNDRED),
                        format!("cost {} ÷ (1 − {}%)", cost.amount, m.value),
                    ),
                };
                let amount = round_to_step(raw, self.price_step, self.rounding, self.minor_units);
                derivation = Some(format!(
                    "{how} = {} rounded to the price step {} ({}) = {amount}",
                    raw.round_dp(6).normalize(),
                    self.price_step,
                    self.rounding_name
                ));
                Price::Flat(Rate {
                    amount,
                    per_months: cost.per_months,
                })
            }
            _ => return None,
        };
        Some(Offer {
            term_months,
            billing,
            price,
            cost,
            derivation,
            origin: origin(sources, span),
        })
    }

    fn compile_product(&mut self, p: &ast::Product, sources: &SourceSet) {
        let Some(&i) = self.index.get(&p.sku.node) else {
            return;
        };
        let mut offers = Vec::new();
        let mut s = Sellable::named(&p.sku.node, &p.name.node, false, origin(sources, p.span));
        for e in &p.entries {
            match &e.node {
                ast::ProductEntry::Vendor(n) => s.vendor = Some(n.node.clone()),
                ast::ProductEntry::Unit(n) => s.unit = Some(n.node.clone()),
                ast::ProductEntry::Category(n) => s.category = Some(n.node.clone()),
                ast::ProductEntry::Part(part) => s.parts.push(PartNumber {
                    distributor: part.distributor.node.clone(),
                    number: part.number.node.clone(),
                    id: part.id.as_ref().map(|x| x.node.clone()),
                    sku: part.sku.as_ref().map(|x| x.node.clone()),
                    commitments: Vec::new(),
                    plans: Vec::new(),
                }),
                ast::ProductEntry::Catalog(id) => s.catalog_id = Some(id.node.clone()),
                // Attached to their distributor's part once every part is read.
                ast::ProductEntry::Commitment(_) | ast::ProductEntry::Plan(_) => {}
                ast::ProductEntry::Sold(sold) => {
                    s.catalog_item.get_or_insert_with(|| sold.item.node.clone());
                }
                ast::ProductEntry::NotBought => s.bought = false,
                ast::ProductEntry::Cancel(n) => {
                    s.cancel_days = u32::try_from(n.node.value.trunc().mantissa()).ok()
                }
                ast::ProductEntry::Usage(u) => {
                    s.usage = Some((u.metric.node.clone(), u.aggregation.node))
                }
                ast::ProductEntry::Minimum(a) => {
                    s.minimum = Some(Rate {
                        amount: a.value.node.value,
                        per_months: period_months(a.per.node, None),
                    })
                }
                ast::ProductEntry::Offer(o) => {
                    if let Some(o) = self.offer(o, sources, e.span) {
                        offers.push(o);
                    }
                }
            }
        }
        if !p
            .entries
            .iter()
            .any(|e| matches!(e.node, ast::ProductEntry::NotBought))
        {
            s.bought = true;
        }
        s.offers = offers;
        attach_term_ids(&mut s.parts, p);
        if let Some(slot) = self.items.get_mut(i) {
            *slot = s;
        }
    }

    /// A bundle price line without a cost of its own costs what its components cost on the
    /// same term and billing (a bundle is bought as its parts), per bundle unit.
    fn bundle_costs(&mut self) {
        let mut fills = Vec::new();
        for (bi, b) in self.items.iter().enumerate() {
            if !b.is_bundle {
                continue;
            }
            for (oi, o) in b.offers.iter().enumerate() {
                if o.cost.is_some() {
                    continue;
                }
                let Some(bm) = o.billing_months() else {
                    continue;
                };
                let mut total = Decimal::ZERO;
                let mut parts = Vec::new();
                for (ci, qty) in &b.components {
                    let Some(comp) = self.items.get(*ci) else {
                        continue;
                    };
                    let cost = comp
                        .offer(o.term_months, o.billing)
                        .and_then(|co| co.cost)
                        .map(|r| *qty * r.for_months(bm));
                    match cost {
                        Some(c) => {
                            total += c;
                            parts.push(format!(
                                "{qty} × {} {}",
                                comp.sku,
                                c.round_dp(4).normalize()
                            ));
                        }
                        None => parts.push(format!(
                            "{qty} × {} (no cost on {} {})",
                            comp.sku,
                            o.term_text(),
                            o.billing
                        )),
                    }
                }
                let text = format!(
                    "cost from the components for a {bm}-month billing period: {} = {}",
                    parts.join(" + "),
                    total.round_dp(4).normalize()
                );
                fills.push((
                    bi,
                    oi,
                    Rate {
                        amount: total,
                        per_months: Some(bm),
                    },
                    text,
                ));
            }
        }
        for (bi, oi, rate, text) in fills {
            if let Some(o) = self.items.get_mut(bi).and_then(|b| b.offers.get_mut(oi)) {
                o.cost = Some(rate);
                o.derivation = Some(match o.derivation.take() {
                    Some(d) => format!("{d}; {text}"),
                    None => text,
                });
            }
        }
    }

    fn compile_bundle(&mut self, b: &ast::Bundle, sources: &SourceSet) {
        let Some(&i) = self.index.get(&b.sku.node) else {
            return;
        };
        let mut s = Sellable::named(&b.sku.node, &b.name.node, true, origin(sources, b.span));
        s.bought = true;
        for e in &b.entries {
            match &e.node {
                ast::BundleEntry::Category(n) => s.category = Some(n.node.clone()),
                ast::BundleEntry::Sold(sold) => {
                    s.catalog_item.get_or_insert_with(|| sold.item.node.clone());
                }
                ast::BundleEntry::Includes { quantity, product } => {
                    if let Some(&ci) = self.index.get(&product.node) {
                        s.components.push((ci, quantity.node.value));
                    }
                }
                ast::BundleEntry::Offer(o) => {
                    if let Some(o) = self.offer(o, sources, e.span) {
                        s.offers.push(o);
                    }
                }
            }
        }
        if let Some(slot) = self.items.get_mut(i) {
            *slot = s;
        }
    }

    fn compile_policy(&mut self, p: &ast::Coterm, sources: &SourceSet) {
        let mut pol = Policy {
            name: Arc::from(p.name.node.as_str()),
            anchor: AnchorRule::CustomerAnniversary,
            mode: CotermMode::Stub,
            proration: Proration::Daily,
            basis: DayBasis::Actual,
            origin: origin(sources, p.span),
        };
        let index = self.policies.len();
        for e in &p.entries {
            match &e.node {
                ast::CotermEntry::Anchor(a) => {
                    pol.anchor = match a {
                        ast::Anchor::CustomerAnniversary => AnchorRule::CustomerAnniversary,
                        ast::Anchor::Date(d) => match d.node.value() {
                            Some(d) => AnchorRule::Date(d),
                            None => continue,
                        },
                        ast::Anchor::EndOfExisting(n) => AnchorRule::EndOfExisting(n.node.clone()),
                        ast::Anchor::CalendarMonthEnd => AnchorRule::CalendarMonthEnd,
                    }
                }
                ast::CotermEntry::Mode(m) => pol.mode = *m,
                ast::CotermEntry::Prorate(x) => pol.proration = *x,
                ast::CotermEntry::Basis(b) => pol.basis = *b,
                ast::CotermEntry::AppliesTo(t) => {
                    self.policy_for
                        .insert((t.kind.node, t.name.node.clone()), index);
                }
            }
        }
        if &*pol.name == "default" {
            self.default_policy = Some(index);
        }
        self.policies.push(pol);
    }

    fn compile_discount(&mut self, d: &ast::Discount, sources: &SourceSet) {
        let amount = match &d.amount.node {
            ast::DiscountAmount::Percent(p) => DiscountAmount::Percent(p.value),
            ast::DiscountAmount::Fixed {
                value,
                per_unit,
                monthly,
            } => DiscountAmount::Fixed {
                value: value.value,
                per_unit: *per_unit,
                monthly: *monthly,
            },
        };
        let scope = match &d.scope.node {
            ast::Scope::Target(t) => match t.kind.node {
                TargetKind::Product | TargetKind::Bundle => DiscountScope::Sku(t.name.node.clone()),
                TargetKind::Vendor => DiscountScope::Vendor(t.name.node.clone()),
                TargetKind::Category => DiscountScope::Category(t.name.node.clone()),
            },
            ast::Scope::EveryLine => DiscountScope::EveryLine,
            ast::Scope::Quote => DiscountScope::Quote,
        };
        let conditions = d
            .conditions
            .iter()
            .filter_map(|c| {
                Some(match &c.node {
                    ast::Condition::Segment(names) => {
                        Condition::Segment(names.iter().map(|n| n.node.clone()).collect())
                    }
                    ast::Condition::NewCustomer => Condition::NewCustomer,
                    ast::Condition::Term(terms) => {
                        Condition::Term(terms.iter().map(|t| t.node.months()).collect())
                    }
                    ast::Condition::Billing(bs) => {
                        Condition::Billing(bs.iter().map(|b| b.node).collect())
                    }
                    ast::Condition::Quantity(op, n) => Condition::Quantity(*op, n.node.value),
                    ast::Condition::Date(subject, op, date) => {
                        Condition::Date(*subject, *op, date.node.value()?)
                    }
                })
            })
            .collect();
        let factor = match amount {
            // Dividing by 100 only moves the decimal point, so the factor is exact.
            DiscountAmount::Percent(p) => p / Decimal::ONE_HUNDRED,
            DiscountAmount::Fixed { .. } => Decimal::ZERO,
        };
        self.discounts.push(DiscountRule {
            name: Arc::from(d.name.node.as_str()),
            label: d.label.as_ref().map(|l| l.node.clone()),
            amount,
            factor,
            scope,
            conditions,
            duration_months: d
                .duration
                .as_ref()
                .and_then(|n| u32::try_from(n.node.value.trunc().mantissa()).ok()),
            origin: origin(sources, d.span),
        });
    }
}

/// Gives each distributor's part the commitment and plan ids the product lists for it.
fn attach_term_ids(parts: &mut [PartNumber], p: &ast::Product) {
    for e in &p.entries {
        let (t, plan) = match &e.node {
            ast::ProductEntry::Commitment(t) => (t, false),
            ast::ProductEntry::Plan(t) => (t, true),
            _ => continue,
        };
        let Some(pn) = parts
            .iter_mut()
            .find(|x| x.distributor == t.distributor.node)
        else {
            continue;
        };
        let months = t.term.node.months();
        let id = t.id.node.clone();
        if plan {
            let billing = match (months, t.billing) {
                (None, _) => Billing::Upfront,
                (_, Some(b)) => b.node,
                (_, None) => continue,
            };
            pn.plans.push((months, billing, id));
        } else if let Some(m) = months {
            pn.commitments.push((m, id));
        }
    }
}

impl Sellable {
    fn named(sku: &str, name: &str, is_bundle: bool, origin: Origin) -> Self {
        Sellable {
            sku: Arc::from(sku),
            name: Arc::from(name),
            is_bundle,
            vendor: None,
            unit: None,
            category: None,
            bought: true,
            parts: Vec::new(),
            catalog_id: None,
            catalog_item: None,
            cancel_days: None,
            usage: None,
            minimum: None,
            offers: Vec::new(),
            components: Vec::new(),
            policy: None,
            origin,
        }
    }

    /// The offer for a term (months; `None` = one-time) and billing.
    pub fn offer(&self, term_months: Option<u32>, billing: Billing) -> Option<&Offer> {
        self.offers
            .iter()
            .find(|o| o.term_months == term_months && o.billing == billing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_step_rounding() {
        let half_up = RoundingStrategy::MidpointAwayFromZero;
        // 1,049.00 × 1.18 = 1,237.82 → to 0.05: 1,237.80
        assert_eq!(
            round_to_step(Decimal::new(123782, 2), Decimal::new(5, 2), half_up, 2),
            Decimal::new(123780, 2)
        );
        assert_eq!(
            round_to_step(Decimal::new(27375, 2), Decimal::new(1, 2), half_up, 2),
            Decimal::new(27375, 2)
        );
        assert_eq!(
            round_to_step(Decimal::new(12345, 3), Decimal::ONE, half_up, 2),
            Decimal::new(1200, 2)
        );
    }

    #[test]
    fn rate_conversion() {
        let yearly = Rate {
            amount: Decimal::from(264),
            per_months: Some(12),
        };
        assert_eq!(yearly.for_months(1), Decimal::from(22));
        let term = Rate {
            amount: Decimal::from(792),
            per_months: Some(36),
        };
        assert_eq!(term.for_months(12), Decimal::from(264));
    }
}
