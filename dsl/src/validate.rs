//! Checks a parsed rule set for meaning: names resolve, nothing is declared twice, tier tables
//! are well formed, terms and billing frequencies agree, amounts and dates are possible.
//! Every problem of the whole rule set is reported in one run.

use crate::ast::*;
use crate::diagnostic::{Diagnostic, did_you_mean};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

mod vendor_ids;

/// The largest price, cost, fee or discount a rule may state (a trillion).
const MAX_AMOUNT: u64 = 1_000_000_000_000;

/// Validates every file of a rule set together (names declared in one file are visible in all).
pub fn validate(files: &[RuleFile]) -> Vec<Diagnostic> {
    let mut v = Validator::default();
    v.declare(files);
    for f in files {
        for item in &f.items {
            v.item(item);
        }
    }
    v.finish(files);
    v.diags
}

#[derive(Default)]
struct Validator<'a> {
    diags: Vec<Diagnostic>,
    parties: BTreeMap<(PartyKind, &'a str), Span>,
    products: BTreeMap<&'a str, (Span, &'a Product)>,
    bundles: BTreeMap<&'a str, (Span, &'a Bundle)>,
    tiers: BTreeMap<&'a str, &'a TierTable>,
    coterms: BTreeMap<&'a str, Span>,
    discounts: BTreeMap<&'a str, Span>,
    settings: HashMap<&'static str, Span>,
    currency_seen: bool,
    fallback_route: Option<Span>,
    routes_seen: Vec<(String, Span)>,
    coterm_targets: BTreeMap<(TargetKind, String), (String, Span)>,
}

fn kind_word(k: TargetKind) -> &'static str {
    k.keyword()
}

impl<'a> Validator<'a> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    // ------------------------------------------------------------------ declarations

    fn declare(&mut self, files: &'a [RuleFile]) {
        for f in files {
            for item in &f.items {
                match item {
                    Item::Party(p) => {
                        let key = (p.kind.node, p.name.node.as_str());
                        if let Some(first) = self.parties.get(&key) {
                            let d = Diagnostic::new(
                                "duplicate",
                                format!("{} `{}` is declared twice", p.kind.keyword(), p.name.node),
                                p.name.span,
                                "declared again here",
                            )
                            .with_related(*first, "first declared here")
                            .with_help("remove one of the two declarations");
                            self.push(d);
                        } else {
                            self.parties.insert(key, p.name.span);
                        }
                        if let Some(at) = p
                            .coterm_none
                            .filter(|_| p.kind.node != PartyKind::Distributor)
                        {
                            self.misplaced(
                                at,
                                format!(
                                    "`coterm none` says how a distributor sells; {} `{}` is not a distributor",
                                    p.kind.keyword(),
                                    p.name.node
                                ),
                                "remove `coterm none`, or declare it with `distributor`".into(),
                            );
                        }
                    }
                    Item::Product(p) => self.declare_sku(&p.sku, Some(p), None),
                    Item::Bundle(b) => self.declare_sku(&b.sku, None, Some(b)),
                    Item::Tiers(t) => {
                        if let Some(first) = self.tiers.get(t.name.node.as_str()) {
                            let d = dup("tier table", &t.name, first.name.span);
                            self.push(d);
                        } else {
                            self.tiers.insert(&t.name.node, t);
                        }
                    }
                    Item::Coterm(c) => {
                        if let Some(first) = self.coterms.get(c.name.node.as_str()) {
                            let d = dup("co-term policy", &c.name, *first);
                            self.push(d);
                        } else {
                            self.coterms.insert(&c.name.node, c.name.span);
                        }
                    }
                    Item::Discount(x) => {
                        if let Some(first) = self.discounts.get(x.name.node.as_str()) {
                            let d = dup("discount", &x.name, *first);
                            self.push(d);
                        } else {
                            self.discounts.insert(&x.name.node, x.name.span);
                        }
                    }
                    Item::Setting(_) | Item::Route(_) | Item::Match(_) => {}
                }
            }
        }
    }

    fn declare_sku(&mut self, sku: &'a Name, p: Option<&'a Product>, b: Option<&'a Bundle>) {
        let first = self
            .products
            .get(sku.node.as_str())
            .map(|x| x.0)
            .or_else(|| self.bundles.get(sku.node.as_str()).map(|x| x.0));
        if let Some(first) = first {
            let d = dup("SKU", sku, first).with_help("every product and bundle needs its own SKU");
            self.push(d);
            return;
        }
        if let Some(p) = p {
            self.products.insert(&sku.node, (sku.span, p));
        }
        if let Some(b) = b {
            self.bundles.insert(&sku.node, (sku.span, b));
        }
    }

    fn names_of(&self, kind: PartyKind) -> Vec<&'a str> {
        self.parties
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| *n)
            .collect()
    }

    fn require_party(&mut self, kind: PartyKind, name: &Name) {
        if self.parties.contains_key(&(kind, name.node.as_str())) {
            return;
        }
        let candidates = self.names_of(kind);
        let help = match did_you_mean(&name.node, candidates.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "declare it first, for example `{} {} \"…\"`",
                kind.keyword(),
                name.node
            ),
        };
        let d = Diagnostic::new(
            "unknown-name",
            format!("unknown {} `{}`", kind.keyword(), name.node),
            name.span,
            format!("no {} of this name", kind.keyword()),
        )
        .with_help(help);
        self.push(d);
    }

    /// Requires a product SKU. A bundle is allowed where `allow_bundle`; elsewhere `in_bundle`
    /// says whether the reference is a bundle's component (bundles cannot nest) or a rule that
    /// should have said `bundle SKU`.
    fn require_product_in(&mut self, name: &Name, allow_bundle: bool, in_bundle: bool) {
        if self.products.contains_key(name.node.as_str()) {
            return;
        }
        if self.bundles.contains_key(name.node.as_str()) {
            if !allow_bundle {
                let d = Diagnostic::new(
                    "bundle-not-allowed",
                    format!("`{}` is a bundle, not a product", name.node),
                    name.span,
                    "a bundle here",
                )
                .with_help(if in_bundle {
                    "bundles cannot contain bundles; list the bundle's products instead".to_string()
                } else {
                    format!("write `bundle {}` to name a bundle", name.node)
                });
                self.push(d);
            }
            return;
        }
        let mut candidates: Vec<&str> = self.products.keys().copied().collect();
        if allow_bundle {
            candidates.extend(self.bundles.keys().copied());
        }
        let d = Diagnostic::new(
            "unknown-name",
            format!("unknown product `{}`", name.node),
            name.span,
            "no product with this SKU",
        )
        .with_help_opt(
            did_you_mean(&name.node, candidates).map(|s| format!("did you mean `{s}`?")),
        );
        self.push(d);
    }

    fn require_product(&mut self, name: &Name, allow_bundle: bool) {
        self.require_product_in(name, allow_bundle, false);
    }

    fn require_bundle(&mut self, name: &Name) {
        if self.bundles.contains_key(name.node.as_str()) {
            return;
        }
        let help = if self.products.contains_key(name.node.as_str()) {
            Some(format!(
                "`{}` is a product: write `product {}`",
                name.node, name.node
            ))
        } else {
            did_you_mean(&name.node, self.bundles.keys().copied())
                .map(|s| format!("did you mean `{s}`?"))
        };
        let d = Diagnostic::new(
            "unknown-name",
            format!("unknown bundle `{}`", name.node),
            name.span,
            "no bundle with this SKU",
        )
        .with_help_opt(help);
        self.push(d);
    }

    fn target(&mut self, t: &Target) {
        match t.kind.node {
            TargetKind::Product => self.require_product(&t.name, false),
            TargetKind::Vendor => self.require_party(PartyKind::Vendor, &t.name),
            TargetKind::Category => self.require_party(PartyKind::Category, &t.name),
            TargetKind::Bundle => self.require_bundle(&t.name),
        }
    }

    // ------------------------------------------------------------------ statements

    fn item(&mut self, item: &'a Item) {
        match item {
            Item::Setting(s) => self.setting(s),
            Item::Party(_) => {}
            Item::Product(p) => self.product(p),
            Item::Bundle(b) => self.bundle(b),
            Item::Tiers(t) => self.tiers(t),
            Item::Coterm(c) => self.coterm(c),
            Item::Discount(d) => self.discount(d),
            Item::Route(r) => self.route(r),
            Item::Match(m) => self.match_rule(m),
        }
    }

    fn setting(&mut self, s: &Setting) {
        let key = match &s.kind {
            SettingKind::Currency(_) => "currency",
            SettingKind::Rounding(_) => "rounding",
            SettingKind::PriceStep(_) => "price step",
        };
        if let Some(first) = self.settings.get(key) {
            let d = Diagnostic::new(
                "duplicate",
                format!("`{key}` is set twice"),
                s.span,
                "set again here",
            )
            .with_related(*first, "first set here")
            .with_help("a rule set has one setting of each kind, across all its files");
            self.push(d);
        } else {
            self.settings.insert(key, s.span);
        }
        match &s.kind {
            SettingKind::Currency(code) => {
                self.currency_seen = true;
                if crate::currency::minor_units(&code.node).is_none() {
                    let upper = code.node.to_uppercase();
                    let help = if crate::currency::minor_units(&upper).is_some() {
                        format!("currency codes are upper case: `{upper}`")
                    } else {
                        match did_you_mean(&code.node, crate::currency::codes()) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => {
                                "use an ISO 4217 code such as `USD`, `EUR` or `GBP`".to_string()
                            }
                        }
                    };
                    let d = Diagnostic::new(
                        "unknown-currency",
                        format!("unknown currency `{}`", code.node),
                        code.span,
                        "not an ISO 4217 currency code",
                    )
                    .with_help(help);
                    self.push(d);
                }
            }
            SettingKind::Rounding(_) => {}
            SettingKind::PriceStep(n) => {
                if n.node.value <= Decimal::ZERO {
                    let d = Diagnostic::new(
                        "bad-amount",
                        format!("price step `{}` must be greater than zero", n.node.text),
                        n.span,
                        "not a positive step",
                    )
                    .with_help("for example `price step 0.01` to round derived prices to the cent");
                    self.push(d);
                }
            }
        }
    }

    fn once<'s>(
        &mut self,
        seen: &mut HashMap<&'s str, Span>,
        key: &'s str,
        span: Span,
        owner: &str,
    ) {
        if let Some(first) = seen.get(key) {
            let d = Diagnostic::new(
                "duplicate",
                format!("`{key}` is given twice for {owner}"),
                span,
                "given again here",
            )
            .with_related(*first, "first given here")
            .with_help("keep one of the two lines");
            self.push(d);
        } else {
            seen.insert(key, span);
        }
    }

    fn product(&mut self, p: &'a Product) {
        let owner = format!("product `{}`", p.sku.node);
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut parts: HashMap<&str, Span> = HashMap::new();
        let mut offers: Vec<(Option<u32>, Option<Billing>, Span)> = Vec::new();
        let mut not_bought = None;
        let mut first_part = None;
        let mut usage = None;
        let mut minimum = None;
        // The unit may be written after the price lines that must agree with it.
        let unit = p.entries.iter().find_map(|e| match &e.node {
            ProductEntry::Unit(u) => Some(u),
            _ => None,
        });
        for e in &p.entries {
            match &e.node {
                ProductEntry::Vendor(n) => {
                    self.once(&mut seen, "vendor", e.span, &owner);
                    self.require_party(PartyKind::Vendor, n);
                }
                ProductEntry::Unit(_) => self.once(&mut seen, "unit", e.span, &owner),
                ProductEntry::Category(n) => {
                    self.once(&mut seen, "category", e.span, &owner);
                    self.require_party(PartyKind::Category, n);
                }
                ProductEntry::Part(part) => {
                    self.part_number(&mut parts, part, e.span, &owner);
                    first_part.get_or_insert(e.span);
                }
                ProductEntry::Catalog(_) => self.once(&mut seen, "catalog id", e.span, &owner),
                // Checked together in `vendor_ids`, which needs every part and price line.
                ProductEntry::Commitment(_) | ProductEntry::Plan(_) | ProductEntry::Sold(_) => {}
                ProductEntry::NotBought => {
                    self.once(&mut seen, "not bought", e.span, &owner);
                    not_bought = Some(e.span);
                }
                ProductEntry::Cancel(n) => {
                    self.once(&mut seen, "cancel", e.span, &owner);
                    self.whole_number(n, "cancellation window", true);
                }
                ProductEntry::Usage(_) => {
                    self.once(&mut seen, "usage", e.span, &owner);
                    usage = Some(e.span);
                }
                ProductEntry::Minimum(a) => {
                    self.once(&mut seen, "minimum", e.span, &owner);
                    self.minimum_commitment(a);
                    minimum = Some(e.span);
                }
                ProductEntry::Offer(o) => {
                    self.offer(o, e.span, unit.map(|u| u.node.as_str()), &owner);
                    offers.push((o.term.node.months(), effective_billing(o), e.span));
                }
            }
        }
        if let (Some(nb), Some(part)) = (not_bought, first_part) {
            let d = Diagnostic::new(
                "conflict",
                format!("{owner} is `not bought` but has a distributor part number"),
                part,
                "part number of a product that is never bought",
            )
            .with_related(nb, "marked not bought here")
            .with_help("remove `not bought` if the product is bought, or remove its part numbers");
            self.push(d);
        }
        if let (Some(min), None) = (minimum, usage) {
            self.minimum_without_usage(&owner, min);
        }
        self.vendor_ids(p, &owner, &vendor_ids::priced(p));
        self.price_lines(
            &offers,
            &owner,
            p.sku.span,
            "P1Y monthly 22.00 a month cost 17.60 a month",
        );
    }

    /// A product's part number for one distributor: the distributor is declared, and it has
    /// no other part number.
    fn part_number(
        &mut self,
        parts: &mut HashMap<&'a str, Span>,
        part: &'a Part,
        span: Span,
        owner: &str,
    ) {
        self.require_party(PartyKind::Distributor, &part.distributor);
        if let Some(first) = parts.get(part.distributor.node.as_str()) {
            let d = Diagnostic::new(
                "duplicate",
                format!(
                    "{owner} has two part numbers for distributor `{}`",
                    part.distributor.node
                ),
                span,
                "second part number",
            )
            .with_related(*first, "first part number")
            .with_help("keep one part number per distributor");
            self.push(d);
        } else {
            parts.insert(&part.distributor.node, span);
        }
    }

    /// A minimum commitment on a product that rates no usage, which it could never apply to.
    fn minimum_without_usage(&mut self, owner: &str, min: Span) {
        let d = Diagnostic::new(
            "conflict",
            format!("{owner} has a minimum commitment but no usage metric"),
            min,
            "minimum without usage",
        )
        .with_help("a minimum applies to rated usage: add `usage METRIC by sum|max|last`");
        self.push(d);
    }

    /// A minimum commitment: not negative, and per billing period.
    fn minimum_commitment(&mut self, a: &Amount) {
        self.non_negative(&a.value, "minimum commitment");
        if a.per.node == Period::Once {
            let d = Diagnostic::new(
                "bad-period",
                "a minimum commitment applies per billing period, not once",
                a.per.span,
                "`once` here",
            )
            .with_help("write it per period, for example `minimum 100.00 a month`");
            self.push(d);
        }
    }

    /// The price lines of a product or bundle: at least one, and one per term and billing;
    /// `example` is a price line to suggest.
    fn price_lines(
        &mut self,
        offers: &[(Option<u32>, Option<Billing>, Span)],
        owner: &str,
        sku: Span,
        example: &str,
    ) {
        self.duplicate_offers(offers, owner);
        if offers.is_empty() {
            let d = Diagnostic::new(
                "no-offers",
                format!("{owner} has no price lines"),
                sku,
                "cannot be sold",
            )
            .with_help(format!("add a line such as `{example}`"));
            self.push(d);
        }
    }

    fn duplicate_offers(&mut self, offers: &[(Option<u32>, Option<Billing>, Span)], owner: &str) {
        for (i, (t, b, span)) in offers.iter().enumerate() {
            if let Some((_, _, first)) =
                offers.iter().take(i).find(|(t2, b2, _)| t2 == t && b2 == b)
            {
                let d = Diagnostic::new(
                    "duplicate-offer",
                    format!("{owner} has two price lines for the same term and billing"),
                    *span,
                    "second price line",
                )
                .with_related(*first, "first price line")
                .with_help("keep one price per term and billing frequency");
                self.push(d);
            }
        }
    }

    fn offer(&mut self, o: &'a Offer, span: Span, unit: Option<&str>, owner: &str) {
        self.offer_term(o);
        let one_time = o.term.node == Term::OneTime;
        self.offer_price(o, span, unit, owner, one_time);
        self.offer_cost(o, one_time);
        if let Some(d) = &o.derive {
            self.offer_derive(o, d);
        }
    }

    /// A price line's term and billing: a term of some length, billed a whole number of
    /// times within it (a one-time price is billed once).
    fn offer_term(&mut self, o: &Offer) {
        let term = o.term.node;
        match term.months() {
            Some(0) => {
                let d = Diagnostic::new(
                    "bad-term",
                    format!("term `{term}` is empty"),
                    o.term.span,
                    "zero length",
                )
                .with_help("terms last at least one month: `P1M`, `P1Y`, `P3Y`");
                self.push(d);
            }
            Some(months) => match o.billing {
                None => {
                    let d = Diagnostic::new(
                        "missing-billing",
                        format!("price line for `{term}` has no billing frequency"),
                        o.term.span,
                        "how often is it billed?",
                    )
                    .with_help(format!(
                        "write for example `{term} monthly` or `{term} annual`"
                    ));
                    self.push(d);
                }
                Some(b) => {
                    if let Some(bm) = b.node.months() {
                        if bm > months {
                            let d = Diagnostic::new(
                                "bad-billing",
                                format!("`{}` billing is longer than the `{term}` term", b.node),
                                b.span,
                                format!("{} per bill, {} of term", months_text(bm), months_text(months)),
                            )
                            .with_help("bill at most once per term; `upfront` bills the whole term at its start");
                            self.push(d);
                        } else if months % bm != 0 {
                            let d = Diagnostic::new(
                                "bad-billing",
                                format!("`{}` billing does not divide the `{term}` term", b.node),
                                b.span,
                                format!("{months} months is not a whole number of {bm}-month periods"),
                            )
                            .with_help("choose a billing frequency that fits the term a whole number of times");
                            self.push(d);
                        }
                    }
                }
            },
            None => {
                if let Some(b) = o.billing {
                    if b.node != Billing::Upfront {
                        let d = Diagnostic::new(
                            "bad-billing",
                            format!("a one-time price cannot be billed `{}`", b.node),
                            b.span,
                            "one-time items are billed once",
                        )
                        .with_help("leave the billing out: `one-time 1,299.00 once`");
                        self.push(d);
                    }
                }
            }
        }
    }

    /// A price line's sell price: stated (an amount or a known tier table in the product's
    /// unit) or derived from cost, not both and not neither.
    fn offer_price(
        &mut self,
        o: &Offer,
        span: Span,
        unit: Option<&str>,
        owner: &str,
        one_time: bool,
    ) {
        let term = o.term.node;
        if let Some(price) = &o.price {
            match &price.node {
                PriceSpec::Amount(a) => {
                    self.non_negative(&a.value, "price");
                    self.period_fits(a.per, one_time);
                }
                PriceSpec::Tiers(name) => match self.tiers.get(name.node.as_str()).copied() {
                    None => {
                        let d = Diagnostic::new(
                            "unknown-name",
                            format!("unknown tier table `{}`", name.node),
                            name.span,
                            "no tier table of this name",
                        )
                        .with_help_opt(
                            did_you_mean(&name.node, self.tiers.keys().copied())
                                .map(|s| format!("did you mean `{s}`?")),
                        );
                        self.push(d);
                    }
                    Some(table) => {
                        if let Some(u) = unit {
                            if !u.eq_ignore_ascii_case(&table.unit.node) {
                                let d = Diagnostic::new(
                                    "unit-mismatch",
                                    format!(
                                        "{owner} is sold per `{u}` but tier table `{}` counts `{}`",
                                        table.name.node, table.unit.node
                                    ),
                                    name.span,
                                    "different units",
                                )
                                .with_related(table.unit.span, "the table's unit")
                                .with_help("use a tier table in the product's unit");
                                self.push(d);
                            }
                        }
                    }
                },
            }
            if let Some(d) = &o.derive {
                let diag = Diagnostic::new(
                    "conflict",
                    "a price line cannot state a price and also derive it from cost",
                    d.span,
                    "derived price",
                )
                .with_related(price.span, "stated price")
                .with_help("keep either the price or the markup/margin");
                self.push(diag);
            }
        } else if o.derive.is_none() {
            let d = Diagnostic::new(
                "missing-price",
                format!("price line for `{term}` has no price"),
                span,
                "no sell price",
            )
            .with_help("state a price (`22.00 a month`) or derive it from cost (`cost 17.60 a month markup 25%`)");
            self.push(d);
        }
    }

    /// A price line's cost: not negative, over a period that fits the term.
    fn offer_cost(&mut self, o: &Offer, one_time: bool) {
        if let Some(c) = &o.cost {
            self.non_negative(&c.node.value, "cost");
            match c.node.per {
                Some(per) => self.period_fits(per, one_time),
                None if o.cost_period().is_none() => {
                    let d = Diagnostic::new(
                        "missing-period",
                        "the cost does not say what period it covers",
                        c.node.value.span,
                        "per month, year, term…?",
                    )
                    .with_help(format!(
                        "write the period after it: `cost {} a month`; it can be left out only when the price states one",
                        c.node.value.node.text
                    ));
                    self.push(d);
                }
                None => {}
            }
        }
    }

    /// A markup or margin: it has a cost to start from and a percentage in range.
    fn offer_derive(&mut self, o: &Offer, d: &Spanned<Derive>) {
        if o.cost.is_none() {
            let diag = Diagnostic::new(
                "missing-cost",
                "a markup or margin needs a cost to start from",
                d.span,
                "no cost on this line",
            )
            .with_help("add the cost before it: `cost 17.60 a month markup 25%`");
            self.push(diag);
        }
        match &d.node {
            Derive::Markup(m) if m.value < Decimal::ZERO => {
                let diag = Diagnostic::new(
                    "bad-percent",
                    format!("markup `{}%` is negative", m.text),
                    d.span,
                    "sells below cost",
                )
                .with_help("a markup is zero or more");
                self.push(diag);
            }
            Derive::Margin(m) if m.value < Decimal::ZERO || m.value >= Decimal::ONE_HUNDRED => {
                let diag = Diagnostic::new(
                    "bad-percent",
                    format!("margin `{}%` is out of range", m.text),
                    d.span,
                    "must be at least 0% and below 100%",
                )
                .with_help("a margin is the share of the sell price kept: cost ÷ (1 − margin)");
                self.push(diag);
            }
            _ => {}
        }
    }

    fn period_fits(&mut self, per: Spanned<Period>, one_time: bool) {
        let bad = if one_time {
            !matches!(per.node, Period::Once | Period::Term)
        } else {
            per.node == Period::Once
        };
        if bad {
            let (msg, help) = if one_time {
                (
                    format!("a one-time price is not charged `{}`", per.node.words()),
                    "write one-time amounts with `once`: `1,299.00 once`",
                )
            } else {
                (
                    "a recurring price is not charged `once`".to_string(),
                    "state it per month, quarter, year or term, or use the `one-time` term",
                )
            };
            let d = Diagnostic::new("bad-period", msg, per.span, "period does not fit the term")
                .with_help(help);
            self.push(d);
        }
    }

    fn non_negative(&mut self, n: &Spanned<Number>, what: &str) {
        self.not_absurd(n, what, Decimal::from(MAX_AMOUNT));
        if n.node.value < Decimal::ZERO {
            let d = Diagnostic::new(
                "negative-amount",
                format!("{what} `{}` is negative", n.node.text),
                n.span,
                "below zero",
            )
            .with_help("prices and costs are zero or more; reductions are written as discounts");
            self.push(d);
        }
    }

    /// Amounts past a trillion are typing mistakes, and multiplied by quantities and months they
    /// would outgrow a decimal's 28 digits: refuse them here rather than fail at pricing.
    fn not_absurd(&mut self, n: &Spanned<Number>, what: &str, limit: Decimal) {
        if n.node.value.abs() > limit {
            let d = Diagnostic::new(
                "bad-amount",
                format!("{what} `{}` is too large", n.node.text),
                n.span,
                format!("at most {limit}"),
            )
            .with_help("check the number of digits");
            self.push(d);
        }
    }

    fn whole_number(&mut self, n: &Spanned<Number>, what: &str, zero_ok: bool) {
        let v = n.node.value;
        if v.fract() != Decimal::ZERO || v < Decimal::ZERO || (!zero_ok && v.is_zero()) {
            let d = Diagnostic::new(
                "bad-number",
                format!(
                    "{what} `{}` must be a whole number{}",
                    n.node.text,
                    if zero_ok { "" } else { " above zero" }
                ),
                n.span,
                "not a whole count",
            );
            self.push(d);
        }
    }

    fn bundle(&mut self, b: &'a Bundle) {
        let owner = format!("bundle `{}`", b.sku.node);
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut components: HashMap<&str, Span> = HashMap::new();
        let mut offers = Vec::new();
        for e in &b.entries {
            match &e.node {
                BundleEntry::Category(n) => {
                    self.once(&mut seen, "category", e.span, &owner);
                    self.require_party(PartyKind::Category, n);
                }
                BundleEntry::Includes { quantity, product } => {
                    self.require_product_in(product, false, true);
                    self.not_absurd(quantity, "component quantity", Decimal::from(1_000_000));
                    if quantity.node.value <= Decimal::ZERO {
                        let d = Diagnostic::new(
                            "bad-amount",
                            format!(
                                "component quantity `{}` must be greater than zero",
                                quantity.node.text
                            ),
                            quantity.span,
                            "not a positive quantity",
                        );
                        self.push(d);
                    }
                    if let Some(first) = components.get(product.node.as_str()) {
                        let d = Diagnostic::new(
                            "duplicate",
                            format!("{owner} includes `{}` twice", product.node),
                            e.span,
                            "included again here",
                        )
                        .with_related(*first, "first included here")
                        .with_help("give the total quantity on one line");
                        self.push(d);
                    } else {
                        components.insert(&product.node, e.span);
                    }
                }
                BundleEntry::Sold(_) => {}
                BundleEntry::Offer(o) => {
                    self.offer(o, e.span, None, &owner);
                    offers.push((o.term.node.months(), effective_billing(o), e.span));
                }
            }
        }
        self.bundle_sold(b, &owner);
        if components.is_empty() {
            let d = Diagnostic::new(
                "empty-bundle",
                format!("{owner} includes no products"),
                b.sku.span,
                "nothing to buy",
            )
            .with_help("list its components: `includes 1 M365-BP`");
            self.push(d);
        }
        self.price_lines(&offers, &owner, b.sku.span, "P1Y monthly 89.00 a month");
    }

    fn tiers(&mut self, t: &TierTable) {
        self.tier_block(t);
        if t.rows.is_empty() {
            let d = Diagnostic::new(
                "no-open-tier",
                format!("tier table `{}` has no tiers", t.name.node),
                t.name.span,
                "empty table",
            )
            .with_help("end the table with an open tier: `above 0.03`");
            self.push(d);
            return;
        }
        let open = self.tier_rows(t);
        if open.is_none() {
            if let Some(last) = t.rows.last() {
                let d = Diagnostic::new(
                    "no-open-tier",
                    format!("tier table `{}` has no open last tier", t.name.node),
                    last.span,
                    "quantities above this bound have no price",
                )
                .with_help("end the table with `above PRICE`");
                self.push(d);
            }
        }
    }

    /// A tier table's block size: a package table has a positive one, the others none.
    fn tier_block(&mut self, t: &TierTable) {
        let name = &t.name.node;
        match (t.mode.node, &t.block) {
            (TierMode::Package, None) => {
                let d = Diagnostic::new(
                    "missing-block",
                    format!("package table `{name}` does not say how many units make a block"),
                    t.unit.span,
                    "block size missing",
                )
                .with_help(format!(
                    "write the block size before the unit: `per 1,000 {}`",
                    t.unit.node
                ));
                self.push(d);
            }
            (TierMode::Package, Some(b)) if b.node.value <= Decimal::ZERO => {
                let d = Diagnostic::new(
                    "bad-amount",
                    format!("block size `{}` must be greater than zero", b.node.text),
                    b.span,
                    "not a positive block",
                );
                self.push(d);
            }
            (TierMode::Graduated | TierMode::Volume, Some(b)) => {
                let d = Diagnostic::new(
                    "conflict",
                    format!(
                        "only package tables have a block size, `{name}` is {}",
                        t.mode.node.keyword()
                    ),
                    b.span,
                    "block size on a per-unit table",
                )
                .with_help(format!(
                    "write `per {}`, or make the table `package`",
                    t.unit.node
                ));
                self.push(d);
            }
            _ => {}
        }
    }

    /// A tier table's rows, in order: prices not negative, bounds increasing, the open tier
    /// last. Returns where the open tier is, if there is one.
    fn tier_rows(&mut self, t: &TierTable) -> Option<Span> {
        // The previous bound's value, its text as written (`10,000`) and where.
        let mut previous: Option<(Decimal, &str, Span)> = None;
        let mut open: Option<Span> = None;
        for (i, row) in t.rows.iter().enumerate() {
            if let Some(open_span) = open {
                let d = Diagnostic::new(
                    "tier-after-open",
                    "a tier follows the open `above` tier",
                    row.span,
                    "can never be reached",
                )
                .with_related(open_span, "open tier covers everything above")
                .with_help("`above` must be the last tier");
                self.push(d);
                break;
            }
            if let Some(p) = &row.node.price {
                self.non_negative(p, "tier price");
            }
            if let Some(f) = &row.node.flat {
                self.non_negative(f, "flat fee");
            }
            match &row.node.bound.node {
                TierBound::First(n) | TierBound::UpTo(n) => {
                    self.tier_upper_bound(row, i, n, previous);
                    previous = Some((n.value, n.text.as_str(), row.node.bound.span));
                }
                TierBound::Above(bound) => {
                    open = Some(row.span);
                    self.tier_open_bound(row, bound.as_ref(), previous);
                }
            }
        }
        open
    }

    /// The bound of tier `i` (`first N`, `up to N`): `first` only starts a table, and bounds
    /// increase.
    fn tier_upper_bound(
        &mut self,
        row: &Spanned<TierRow>,
        i: usize,
        n: &Number,
        previous: Option<(Decimal, &str, Span)>,
    ) {
        if matches!(row.node.bound.node, TierBound::First(_)) && i > 0 {
            let d = Diagnostic::new(
                "bad-tier",
                "`first` can only start a tier table",
                row.node.bound.span,
                "not the first tier",
            )
            .with_help(format!("write `up to {}`", n.text));
            self.push(d);
        }
        let (low, low_text) = previous.map(|p| (p.0, p.1)).unwrap_or((Decimal::ZERO, "0"));
        if n.value <= low {
            let mut d = Diagnostic::new(
                "tier-order",
                format!("tier bound `{}` is not above the tier before it", n.text),
                row.node.bound.span,
                format!("must be greater than {low_text}"),
            )
            .with_help("tier bounds are inclusive upper bounds and must increase");
            if let Some((_, _, s)) = previous {
                d = d.with_related(s, "previous bound");
            }
            self.push(d);
        }
    }

    /// The open tier's bound (`above [N]`): it continues from the previous bound, or from 0.
    fn tier_open_bound(
        &mut self,
        row: &Spanned<TierRow>,
        bound: Option<&Number>,
        previous: Option<(Decimal, &str, Span)>,
    ) {
        match (bound, previous) {
            (Some(n), Some((p, ptext, pspan))) if n.value != p => {
                let d = Diagnostic::new(
                    "tier-gap",
                    format!(
                        "`above {}` does not continue from the previous bound {ptext}",
                        n.text
                    ),
                    row.node.bound.span,
                    if n.value > p {
                        "leaves a gap"
                    } else {
                        "overlaps the tier before"
                    },
                )
                .with_related(pspan, "previous bound")
                .with_help(format!("write `above {ptext}` or simply `above`"));
                self.push(d);
            }
            (Some(n), None) if !n.value.is_zero() => {
                let d = Diagnostic::new(
                    "tier-gap",
                    format!(
                        "the first tier starts above {} and leaves the units below uncovered",
                        n.text
                    ),
                    row.node.bound.span,
                    "leaves a gap",
                )
                .with_help("start with `first N free` for an allowance, or write `above`");
                self.push(d);
            }
            _ => {}
        }
    }

    fn coterm(&mut self, c: &Coterm) {
        let owner = format!("co-term policy `{}`", c.name.node);
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for e in &c.entries {
            match &e.node {
                CotermEntry::Anchor(a) => {
                    self.once(&mut seen, "anchor", e.span, &owner);
                    match a {
                        Anchor::Date(d) => self.date(d),
                        Anchor::EndOfExisting(p) => self.require_product(p, true),
                        Anchor::CustomerAnniversary | Anchor::CalendarMonthEnd => {}
                    }
                }
                CotermEntry::Mode(_) => self.once(&mut seen, "mode", e.span, &owner),
                CotermEntry::Prorate(_) => self.once(&mut seen, "prorate", e.span, &owner),
                CotermEntry::Basis(_) => self.once(&mut seen, "basis", e.span, &owner),
                CotermEntry::AppliesTo(t) => {
                    self.target(t);
                    let key = (t.kind.node, t.name.node.clone());
                    if let Some((other, first)) = self.coterm_targets.get(&key) {
                        let d = Diagnostic::new(
                            "ambiguous-coterm",
                            format!(
                                "{} `{}` is given two co-term policies",
                                kind_word(t.kind.node),
                                t.name.node
                            ),
                            e.span,
                            format!("in {owner}"),
                        )
                        .with_related(*first, format!("already in co-term policy `{other}`"))
                        .with_help("each product, vendor, category or bundle follows one policy");
                        self.push(d);
                    } else {
                        self.coterm_targets
                            .insert(key, (c.name.node.clone(), e.span));
                    }
                }
            }
        }
        if !seen.contains_key("anchor") {
            let d = Diagnostic::new(
                "missing-anchor",
                format!("{owner} has no anchor"),
                c.name.span,
                "aligned to what?",
            )
            .with_help("add `anchor customer anniversary`, `anchor calendar month end`, `anchor date YYYY-MM-DD` or `anchor end of existing subscription SKU`");
            self.push(d);
        }
    }

    fn date(&mut self, d: &Spanned<DateLit>) {
        if d.node.value().is_some() {
            return;
        }
        let help = month_length_help(&d.node.0);
        let diag = Diagnostic::new(
            "bad-date",
            format!("`{}` is not a date", d.node.0),
            d.span,
            "no such day",
        )
        .with_help(help);
        self.push(diag);
    }

    fn discount(&mut self, x: &Discount) {
        self.discount_amount(x);
        if let Scope::Target(t) = &x.scope.node {
            self.target(t);
        }
        for c in &x.conditions {
            self.condition(c);
        }
        if let Some(n) = &x.duration {
            self.whole_number(n, "discount duration", false);
        }
    }

    /// A discount's amount: a percentage in range, or a positive amount that lasts for months
    /// only when it is given monthly.
    fn discount_amount(&mut self, x: &Discount) {
        match &x.amount.node {
            DiscountAmount::Percent(p) => {
                if p.value <= Decimal::ZERO || p.value > Decimal::ONE_HUNDRED {
                    let d = Diagnostic::new(
                        "bad-percent",
                        format!("discount `{}%` is out of range", p.text),
                        x.amount.span,
                        "must be above 0% and at most 100%",
                    );
                    self.push(d);
                }
            }
            DiscountAmount::Fixed { value, monthly, .. } => {
                if value.value > Decimal::from(MAX_AMOUNT) {
                    let d = Diagnostic::new(
                        "bad-amount",
                        format!("discount `{}` is too large", value.text),
                        x.amount.span,
                        format!("at most {MAX_AMOUNT}"),
                    )
                    .with_help("check the number of digits");
                    self.push(d);
                }
                if value.value <= Decimal::ZERO {
                    let d = Diagnostic::new(
                        "bad-amount",
                        format!("discount `{}` must be greater than zero", value.text),
                        x.amount.span,
                        "not a positive amount",
                    );
                    self.push(d);
                }
                if let (false, Some(dur)) = (monthly, &x.duration) {
                    let d = Diagnostic::new(
                        "conflict",
                        "a discount given `once` cannot last for months",
                        dur.span,
                        "duration of a one-off discount",
                    )
                    .with_help("remove the duration, or make the amount monthly: `5.00 a month`");
                    self.push(d);
                }
            }
        }
    }

    /// One condition of a discount: declared segments, terms of some length, quantities not
    /// negative, real dates.
    fn condition(&mut self, c: &Spanned<Condition>) {
        match &c.node {
            Condition::Term(terms) => {
                for t in terms {
                    if t.node.months() == Some(0) {
                        let d = Diagnostic::new(
                            "bad-term",
                            format!("term `{}` is empty", t.node),
                            t.span,
                            "zero length",
                        );
                        self.push(d);
                    }
                }
            }
            Condition::Quantity(_, n) if n.node.value < Decimal::ZERO => {
                let d = Diagnostic::new(
                    "negative-amount",
                    format!("quantity `{}` is negative", n.node.text),
                    n.span,
                    "below zero",
                )
                .with_help("a quote line always has a quantity above zero; compare with 0 or more");
                self.push(d);
            }
            Condition::Quantity(..) => {}
            Condition::Date(_, _, d) => self.date(d),
            // A segment no rule declares would silently never match: a typo loses a discount.
            Condition::Segment(names) => {
                for n in names {
                    self.require_party(PartyKind::Segment, n);
                }
            }
            Condition::NewCustomer | Condition::Billing(_) => {}
        }
    }

    fn match_rule(&mut self, m: &MatchRule) {
        match &m.kind {
            MatchRuleKind::Tolerance(n) => {
                if let Some(first) = self.settings.get("match tolerance") {
                    let d = Diagnostic::new(
                        "duplicate",
                        "`match tolerance` is set twice",
                        m.span,
                        "set again here",
                    )
                    .with_related(*first, "first set here")
                    .with_help("a rule set has one match tolerance");
                    self.push(d);
                } else {
                    self.settings.insert("match tolerance", m.span);
                }
                self.non_negative(n, "match tolerance");
            }
            MatchRuleKind::Ignore(class) => {
                if !FINDING_CLASSES.contains(&class.node.as_str()) {
                    let help = match did_you_mean(&class.node, FINDING_CLASSES.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("the classes are {}", FINDING_CLASSES.join(", ")),
                    };
                    let d = Diagnostic::new(
                        "unknown-name",
                        format!("unknown finding class `{}`", class.node),
                        class.span,
                        "not a class of finding",
                    )
                    .with_help(help);
                    self.push(d);
                }
            }
        }
    }

    fn route(&mut self, r: &Route) {
        self.require_party(PartyKind::Distributor, &r.via);
        if let Some(fallback) = self.fallback_route {
            let d = Diagnostic::new(
                "unreachable-route",
                "this route comes after `everything else` and is never used",
                r.span,
                "never reached",
            )
            .with_related(fallback, "every product is already routed here")
            .with_help(
                "routes are tried in written order; move `route everything else` to the end",
            );
            self.push(d);
        }
        match &r.matcher {
            None => {
                if self.fallback_route.is_none() {
                    self.fallback_route = Some(r.span);
                }
            }
            Some(t) => {
                if t.kind.node == TargetKind::Bundle {
                    let d = Diagnostic::new(
                        "bad-route",
                        "bundles are bought as their components and cannot be routed",
                        t.kind.span.to(t.name.span),
                        "a bundle",
                    )
                    .with_help("route the bundle's products, vendors or categories instead");
                    self.push(d);
                } else {
                    self.target(t);
                }
                let key = format!("{} {}", t.kind.node.keyword(), t.name.node);
                if let Some((_, first)) = self.routes_seen.iter().find(|(k, _)| *k == key) {
                    let d = Diagnostic::new(
                        "unreachable-route",
                        format!("`{key}` is routed twice; the second route is never used"),
                        r.span,
                        "never reached",
                    )
                    .with_related(*first, "first match wins")
                    .with_help("remove one of the two routes");
                    self.push(d);
                } else {
                    self.routes_seen.push((key, r.span));
                }
            }
        }
    }

    fn finish(&mut self, files: &[RuleFile]) {
        if !self.currency_seen {
            if let Some(f) = files.first() {
                let d = Diagnostic::new(
                    "missing-currency",
                    "the rule set does not state its currency",
                    Span::new(f.file, 0, 0),
                    "no `currency` line in any file",
                )
                .with_help("add a line such as `currency USD` to one of the rule files");
                self.push(d);
            }
        }
    }
}

/// What a valid rule set allows but probably does not mean, for [`crate::RuleSet::warnings`]:
/// today, a price line that sells below its own cost (`below-cost`).
///
/// Only stated prices are compared. A derived price starts from the cost with a markup or
/// margin of at least 0% (a negative one is an error), so it is never below it; a tiered price
/// has no one unit price to compare (a free allowance is not a loss), so it is not compared.
pub fn warnings(files: &[RuleFile]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for item in files.iter().flat_map(|f| f.items.iter()) {
        let (owner, offers): (&Name, Vec<&Offer>) = match item {
            Item::Product(p) => (
                &p.sku,
                p.entries
                    .iter()
                    .filter_map(|e| match &e.node {
                        ProductEntry::Offer(o) => Some(o),
                        _ => None,
                    })
                    .collect(),
            ),
            Item::Bundle(b) => (
                &b.sku,
                b.entries
                    .iter()
                    .filter_map(|e| match &e.node {
                        BundleEntry::Offer(o) => Some(o),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => continue,
        };
        out.extend(
            offers
                .into_iter()
                .filter_map(|o| below_cost(&owner.node, o)),
        );
    }
    out
}

/// A `below-cost` warning when a price line's stated price is less than its cost over the
/// same period (`264.00 a year` against `cost 22.50 a month` compares 264.00 with 270.00).
fn below_cost(sku: &str, o: &Offer) -> Option<Diagnostic> {
    let Some(Spanned {
        node: PriceSpec::Amount(price),
        ..
    }) = &o.price
    else {
        return None;
    };
    let cost = o.cost.as_ref()?;
    let term = o.term.node.months();
    let price_months = Decimal::from(period_months(price.per.node, term)?);
    let cost_months = Decimal::from(period_months(o.cost_period()?, term)?);
    // Cross-multiplied so that no division rounds: price/pm < cost/cm.
    let (p, c) = (price.value.node.value, cost.node.value.node.value);
    if p.checked_mul(cost_months)? >= c.checked_mul(price_months)? {
        return None;
    }
    let offer = match o.billing {
        Some(b) => format!("{} {}", o.term.node, b.node),
        None => o.term.node.to_string(),
    };
    let cost_per = cost.node.per.map_or(price.per.node, |p| p.node);
    Some(
        Diagnostic::warning(
            "below-cost",
            format!(
                "`{sku}` {offer} sells below its cost: {} {} against a cost of {} {}",
                price.value.node.text,
                price.per.node.words(),
                cost.node.value.node.text,
                cost_per.words()
            ),
            price.value.span,
            "price below cost",
        )
        .with_related(cost.node.value.span, "the cost")
        .with_help("raise the price, or derive it from the cost: `cost … markup 25%`"),
    )
}

/// Months a period covers on an offer of `term` months (`None` one-time); a one-time amount
/// (`once`, or `a term` of a one-time offer) counts as one.
fn period_months(per: Period, term: Option<u32>) -> Option<u32> {
    match (per, term) {
        (Period::Month, _) => Some(1),
        (Period::Quarter, _) => Some(3),
        (Period::Year, _) => Some(12),
        (Period::Term, Some(t)) => Some(t),
        (Period::Term | Period::Once, None) => Some(1),
        (Period::Once, Some(_)) => None,
    }
}

/// The billing an offer is charged on: one-time offers are billed upfront even when unstated.
fn effective_billing(o: &Offer) -> Option<Billing> {
    match (o.term.node, o.billing) {
        (Term::OneTime, _) => Some(Billing::Upfront),
        (_, b) => b.map(|b| b.node),
    }
}

fn dup(what: &str, name: &Name, first: Span) -> Diagnostic {
    Diagnostic::new(
        "duplicate",
        format!("{what} `{}` is defined twice", name.node),
        name.span,
        "defined again here",
    )
    .with_related(first, "first defined here")
    .with_help("rename one of them or remove the copy")
}

/// A help line for an impossible date naming the month's real length.
fn month_length_help(text: &str) -> String {
    let mut it = text.split('-');
    let (Some(y), Some(m)) = (it.next(), it.next()) else {
        return "dates are written YYYY-MM-DD".to_string();
    };
    let (Ok(y), Ok(m)) = (y.parse::<i32>(), m.parse::<u32>()) else {
        return "dates are written YYYY-MM-DD".to_string();
    };
    if !(1..=12).contains(&m) {
        return format!("there is no month {m}; months run from 01 to 12");
    }
    let first = chrono::NaiveDate::from_ymd_opt(y, m, 1);
    let next = if m == 12 {
        chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    match (first, next) {
        (Some(a), Some(b)) => {
            let days = (b - a).num_days();
            format!("{} {y} has {days} days", a.format("%B"))
        }
        _ => "dates are written YYYY-MM-DD".to_string(),
    }
}

fn months_text(n: u32) -> String {
    if n == 1 {
        "1 month".to_string()
    } else {
        format!("{n} months")
    }
}
