//! What `tenor pull` stored, sorted into the sides of one quote's match: the distributors'
//! subscriptions and order lines (what was bought), the PSA's invoices (what the customer was
//! billed), the distributors' invoices (what the MSP was charged, at cost) and the PSA's
//! agreement additions (what the PSA will bill). Pure: the command line reads the record.
//!
//! Which rows are this quote's (README, "Matching what was pulled"):
//! - every row was pulled for the quote's customer (the record files pulls by customer);
//! - a plugin is a distributor when the rules buy through it (`bought via NAME`); any other
//!   plugin is the PSA. A subscription that names an agreement is the PSA's whoever sent it;
//! - a row whose vendor id a push of this quote stored is the quote's;
//! - else a row that carries a Tenor reference is the quote's when the reference names one of
//!   its documents (`PO-…`, `SO-…`, `RT-…` or the quote id), another quote's otherwise;
//! - else (Pax8 subscriptions carry no reference) a row is the quote's when its product is
//!   one the quote buys from that distributor (or bills, for the PSA); other rows are set
//!   aside with a note (another quote's, or bought outside Tenor), never reported as extra;
//! - a distributor that gave subscriptions is matched on them (what it holds now, with term,
//!   billing and dates); one that gave only order lines, on those;
//! - of each plugin's subscriptions and order lines, only the latest month pulled counts (a
//!   pull stores the month it was run for on every row it read).

use super::Matcher;
use super::pairing::part_key;
use crate::engine::quote::Quote;
use std::collections::{BTreeMap, BTreeSet};
use tenor_plugin_sdk::docs::{PurchaseOrder, RecurringTemplate};
use tenor_plugin_sdk::exchange::{Subscription, VendorRef};
use tenor_plugin_sdk::{InvoiceLine, OrderLine};

/// One row `tenor pull` stored, read.
#[derive(Clone, Debug, PartialEq)]
pub enum PulledItem {
    /// An order line of a distributor's order.
    Order(OrderLine),
    /// A distributor's subscription, or a PSA's agreement addition.
    Subscription(Subscription),
    /// An invoice line (the PSA's: the customer's; a distributor's: the MSP's cost).
    Invoice(InvoiceLine),
    /// A serial number: not matched.
    Serial,
}

/// A pulled row with where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct PulledInput {
    /// The plugin that pulled it.
    pub plugin: String,
    /// The month the pull was run for, if one.
    pub month: Option<String>,
    /// The row.
    pub item: PulledItem,
}

/// The quote as accepted, for sorting pulled rows: its documents and what its pushes stored.
pub struct Accepted<'a> {
    /// The quote.
    pub quote: &'a Quote,
    /// Its purchase orders.
    pub purchase_orders: &'a [PurchaseOrder],
    /// Its recurring template (the PSA's agreement and additions).
    pub template: Option<&'a RecurringTemplate>,
    /// The vendor ids the quote's pushes stored, by plugin.
    pub refs: &'a [(String, VendorRef)],
}

/// A quote's sides, from what was pulled. A side is `None` when nothing was pulled for it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PulledSides {
    /// What was bought: subscriptions as order lines, or order lines.
    pub orders: Option<Vec<OrderLine>>,
    /// What the customer was billed (the PSA's invoices).
    pub invoices: Option<Vec<InvoiceLine>>,
    /// What the distributors charged the MSP, with the distributor.
    pub cost_invoices: Option<Vec<(String, InvoiceLine)>>,
    /// The PSA's agreement additions, each with its `agreement/addition` key.
    pub additions: Option<Vec<Subscription>>,
    /// The quote line each addition's vendor id was pushed for, by `agreement/addition` key.
    pub addition_lines: BTreeMap<String, u32>,
    /// The distributors something was pulled from on the purchase-order side: only their
    /// purchase orders are matched (another's lines are not reported missing).
    pub bought_from: BTreeSet<String>,
    /// Rows set aside, in words.
    pub notes: Vec<String>,
    /// The distributors' live subscriptions set aside as not this quote's, as (plugin,
    /// subscription): one no quote of the customer claims is on no accepted quote.
    pub aside_subscriptions: Vec<(String, Subscription)>,
}

impl PulledSides {
    /// True when no side holds anything to match.
    pub fn is_empty(&self) -> bool {
        self.orders.is_none()
            && self.invoices.is_none()
            && self.cost_invoices.is_none()
            && self.additions.is_none()
    }
}

/// Whose a row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    Ours,
    Theirs,
    Unknown,
}

/// Sorts the pulled rows of the quote's customer into its sides. `done` names every
/// completed pull as (plugin, what: `orders`, `subscriptions`, `invoices`): a pull that read
/// nothing stored no row, yet its side is matched (every expected line missing from it).
pub fn sides(
    m: &Matcher<'_>,
    acc: &Accepted<'_>,
    rows: &[PulledInput],
    done: &[(String, String)],
) -> PulledSides {
    let mut sorter = Sorter {
        distributors: m
            .catalogue()
            .items
            .iter()
            .flat_map(|it| it.parts.iter().map(|p| p.distributor.as_str()))
            .collect(),
        ours: Ours::new(m, acc),
        customer: &acc.quote.customer.id,
        out: PulledSides::default(),
        aside: BTreeMap::new(),
        bought: BTreeMap::new(),
    };
    for r in latest_months(rows) {
        sorter.take(r);
    }
    sorter.finish(done)
}

/// Rows being sorted into sides.
struct Sorter<'a> {
    /// The plugins the rules buy through.
    distributors: BTreeSet<&'a str>,
    ours: Ours,
    /// The quote's customer.
    customer: &'a str,
    out: PulledSides,
    /// Rows set aside, counted by plugin and what they are.
    aside: BTreeMap<(&'a str, &'static str), usize>,
    /// Per distributor: its subscriptions as order lines, and its order lines.
    bought: BTreeMap<&'a str, (Vec<OrderLine>, Vec<OrderLine>)>,
}

impl<'a> Sorter<'a> {
    /// Files one row on its side, or sets it aside.
    fn take(&mut self, r: &'a PulledInput) {
        let plugin = r.plugin.as_str();
        let buys = self.distributors.contains(plugin);
        match &r.item {
            PulledItem::Subscription(s) if s.agreement.is_some() || !buys => {
                self.take_addition(plugin, s);
            }
            PulledItem::Subscription(s) if is_cancelled(&s.status) => {
                self.set_aside(plugin, "cancelled subscription");
            }
            PulledItem::Subscription(s) => {
                let owner =
                    self.ours
                        .bought(plugin, Some(&s.id), s.reference.as_deref(), &s.part_number);
                if owner == Owner::Ours {
                    let line = subscription_line(self.customer, s);
                    self.bought.entry(plugin).or_default().0.push(line);
                } else {
                    self.set_aside(plugin, "subscription");
                    self.out
                        .aside_subscriptions
                        .push((plugin.to_string(), s.clone()));
                }
            }
            PulledItem::Order(o) if buys => {
                let owner = self.ours.bought(
                    plugin,
                    Some(&o.document),
                    o.reference.as_deref(),
                    &o.part_number,
                );
                if owner == Owner::Ours {
                    self.bought.entry(plugin).or_default().1.push(o.clone());
                } else {
                    self.set_aside(plugin, "order line");
                }
            }
            // The PSA's own sales order (ConnectWise's procurement products) is what Tenor
            // pushed, not a side of the match: nothing to set aside or say.
            PulledItem::Order(_) => {}
            PulledItem::Invoice(i) => self.take_invoice(plugin, buys, i),
            PulledItem::Serial => {}
        }
    }

    fn set_aside(&mut self, plugin: &'a str, what: &'static str) {
        *self.aside.entry((plugin, what)).or_default() += 1;
    }

    /// A PSA addition: the quote's, or set aside.
    fn take_addition(&mut self, plugin: &'a str, s: &Subscription) {
        if self.ours.addition(plugin, s) != Owner::Ours {
            self.set_aside(plugin, "addition");
            return;
        }
        if let Some(line) = self.ours.addition_line(plugin, s) {
            self.out.addition_lines.insert(addition_key(s), line);
        }
        self.out
            .additions
            .get_or_insert_with(Vec::new)
            .push(s.clone());
    }

    /// An invoice line: a distributor's at cost, the PSA's as billed to the customer.
    fn take_invoice(&mut self, plugin: &'a str, buys: bool, i: &InvoiceLine) {
        let owner = if buys {
            self.ours
                .bought(plugin, None, i.reference.as_deref(), &i.part_number)
        } else {
            self.ours.billed(i.reference.as_deref(), &i.part_number)
        };
        match (owner, buys) {
            (Owner::Ours, true) => self
                .out
                .cost_invoices
                .get_or_insert_with(Vec::new)
                .push((plugin.to_string(), i.clone())),
            (Owner::Ours, false) => self
                .out
                .invoices
                .get_or_insert_with(Vec::new)
                .push(i.clone()),
            _ => self.set_aside(plugin, "invoice line"),
        }
    }

    /// The sides, with the pulls that read nothing and the notes on what was set aside.
    fn finish(mut self, done: &'a [(String, String)]) -> PulledSides {
        for (plugin, what) in done {
            match what.as_str() {
                "orders" | "subscriptions" if self.distributors.contains(plugin.as_str()) => {
                    self.bought.entry(plugin.as_str()).or_default();
                }
                "subscriptions" => {
                    self.out.additions.get_or_insert_with(Vec::new);
                }
                _ => {}
            }
        }
        let mut out = self.out;
        for (plugin, (subs, orders)) in self.bought {
            let lines = if subs.is_empty() { orders } else { subs };
            out.bought_from.insert(plugin.to_string());
            out.orders.get_or_insert_with(Vec::new).extend(lines);
        }
        for ((plugin, what), n) in self.aside {
            out.notes.push(format!(
                "{n} pulled {what}{} from {plugin} set aside: not this quote's (another quote's, bought outside Tenor, or no longer held)",
                if n == 1 { "" } else { "s" }
            ));
        }
        out
    }
}

/// Of each plugin's subscriptions and order lines, the rows of the latest month it pulled
/// them for (a month-less pull counts as the earliest); invoices of every month given.
pub fn latest_months(rows: &[PulledInput]) -> Vec<&PulledInput> {
    let kind = |r: &PulledInput| match r.item {
        PulledItem::Order(_) => Some("order"),
        PulledItem::Subscription(_) => Some("subscription"),
        _ => None,
    };
    let mut latest: BTreeMap<(&str, &str), Option<&str>> = BTreeMap::new();
    for r in rows {
        if let Some(k) = kind(r) {
            let e = latest.entry((r.plugin.as_str(), k)).or_insert(None);
            *e = (*e).max(r.month.as_deref());
        }
    }
    rows.iter()
        .filter(|r| match kind(r) {
            Some(k) => latest.get(&(r.plugin.as_str(), k)) == Some(&r.month.as_deref()),
            None => true,
        })
        .collect()
}

/// A status word that says the subscription is no longer held.
fn is_cancelled(status: &str) -> bool {
    matches!(
        status.trim().to_ascii_lowercase().as_str(),
        "cancelled" | "canceled" | "deleted" | "terminated" | "inactive" | "expired"
    )
}

/// The key a ConnectWise push stores an addition under: `agreement/addition`.
pub(super) fn addition_key(s: &Subscription) -> String {
    match &s.agreement {
        Some(a) => format!("{a}/{}", s.id),
        None => s.id.clone(),
    }
}

/// A subscription as an order line: what the distributor holds is what was bought. It was
/// pulled for the quote's customer, so it names no other.
fn subscription_line(customer: &str, s: &Subscription) -> OrderLine {
    OrderLine {
        document: s.id.clone(),
        reference: s.reference.clone(),
        line_ref: None,
        customer: Some(customer.to_string()),
        part_number: s.part_number.clone(),
        quantity: s.quantity,
        term: s.term.clone(),
        billing: s.billing.clone(),
        start: s.start,
        end: s.end,
        unit_cost: s.unit_cost,
        plan: s.plan.clone(),
    }
}

/// What makes a row the quote's: its documents' ids, its pushes' vendor ids, and the products
/// it buys from each distributor and bills through the PSA.
struct Ours {
    /// The quote id and its documents' ids, upper case.
    references: BTreeSet<String>,
    /// (plugin, vendor id) stored by the quote's pushes, with the line when one.
    ids: BTreeMap<(String, String), Option<u32>>,
    /// (distributor, catalogue item) the quote buys.
    bought: BTreeSet<(String, usize)>,
    /// Catalogue items the quote bills through the PSA.
    billed: BTreeSet<usize>,
    /// Part keys the recurring template names (PSA catalogue items and SKUs).
    template_parts: BTreeSet<String>,
    /// Catalogue items by PSA catalogue item, for the PSA's part numbers.
    psa_items: BTreeMap<String, usize>,
    /// The catalogue's items by part number, id and SKU.
    items: BTreeMap<String, usize>,
}

impl Ours {
    fn new(m: &Matcher<'_>, acc: &Accepted<'_>) -> Self {
        let q = &acc.quote.quote;
        let mut references: BTreeSet<String> = [
            q.clone(),
            crate::documents::accept::sales_order_id(q),
            format!("RT-{q}"),
        ]
        .into_iter()
        .map(|s| part_key(&s))
        .collect();
        let mut bought = BTreeSet::new();
        let mut items = BTreeMap::new();
        for po in acc.purchase_orders {
            references.insert(part_key(&po.id));
            for l in &po.lines {
                for p in [Some(&l.part_number), l.distributor_product_id.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    if let Some(i) = m.product_of(p) {
                        bought.insert((po.distributor.clone(), i));
                        items.insert(part_key(p), i);
                    }
                }
                if let Some(i) = m.product_of(&l.product) {
                    bought.insert((po.distributor.clone(), i));
                }
            }
        }
        let mut psa_items = BTreeMap::new();
        for (i, it) in m.catalogue().items.iter().enumerate() {
            if let Some(c) = &it.catalog_item {
                psa_items.entry(part_key(c)).or_insert(i);
            }
        }
        let mut billed = BTreeSet::new();
        let mut template_parts = BTreeSet::new();
        for l in acc.template.iter().flat_map(|t| &t.lines) {
            if let Some(i) = m.product_of(&l.product) {
                billed.insert(i);
            }
            template_parts.insert(part_key(&l.product));
            if let Some(c) = &l.catalog_item {
                template_parts.insert(part_key(c));
            }
        }
        for l in acc.quote.lines.iter() {
            if let Some(i) = m.product_of(&l.product) {
                billed.insert(i);
            }
        }
        let ids = acc
            .refs
            .iter()
            .map(|(p, r)| ((p.clone(), r.id.clone()), r.line))
            .collect();
        Ours {
            references,
            ids,
            bought,
            billed,
            template_parts,
            psa_items,
            items,
        }
    }

    /// Whose a reference says the row is; `Unknown` without one.
    fn by_reference(&self, reference: Option<&str>) -> Owner {
        match reference.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) if self.references.contains(&part_key(r)) => Owner::Ours,
            Some(_) => Owner::Theirs,
            None => Owner::Unknown,
        }
    }

    /// Whose a distributor's row is: by the vendor id a push stored, the reference, then the
    /// product bought from that distributor.
    fn bought(&self, plugin: &str, id: Option<&str>, reference: Option<&str>, part: &str) -> Owner {
        if id.is_some_and(|id| self.ids.contains_key(&(plugin.to_string(), id.to_string()))) {
            return Owner::Ours;
        }
        match self.by_reference(reference) {
            Owner::Unknown => {}
            known => return known,
        }
        let key = part_key(part);
        match self.items.get(&key) {
            Some(i) if self.bought.contains(&(plugin.to_string(), *i)) => Owner::Ours,
            _ => Owner::Unknown,
        }
    }

    /// Whose a PSA invoice line is: by its reference, then by the product the quote bills.
    fn billed(&self, reference: Option<&str>, part: &str) -> Owner {
        match self.by_reference(reference) {
            Owner::Unknown => {}
            known => return known,
        }
        let key = part_key(part);
        let item = self.psa_items.get(&key).or_else(|| self.items.get(&key));
        if self.template_parts.contains(&key) || item.is_some_and(|i| self.billed.contains(i)) {
            Owner::Ours
        } else {
            Owner::Unknown
        }
    }

    /// Whose a PSA addition is: by the `agreement/addition` id a push stored, the reference,
    /// then the product the recurring template bills.
    fn addition(&self, plugin: &str, s: &Subscription) -> Owner {
        if self.addition_line(plugin, s).is_some()
            || self
                .ids
                .contains_key(&(plugin.to_string(), addition_key(s)))
        {
            return Owner::Ours;
        }
        if let Some(a) = &s.agreement {
            // The agreement itself was pushed for this quote: every addition on it is ours.
            if self.ids.contains_key(&(plugin.to_string(), a.clone())) {
                return Owner::Ours;
            }
        }
        match self.by_reference(s.reference.as_deref()) {
            Owner::Unknown => {}
            known => return known,
        }
        if self.template_parts.contains(&part_key(&s.part_number)) {
            Owner::Ours
        } else {
            Owner::Unknown
        }
    }

    /// The quote line a push stored this addition for.
    fn addition_line(&self, plugin: &str, s: &Subscription) -> Option<u32> {
        self.ids
            .get(&(plugin.to_string(), addition_key(s)))
            .copied()
            .flatten()
    }
}

/// A distributor's invoice line as an order line at cost: its units, its unit price (what the
/// distributor charges the MSP) as the unit cost, its term and billing when it states them.
pub(super) fn cost_line(i: &InvoiceLine) -> OrderLine {
    OrderLine {
        document: i.document.clone(),
        reference: i.reference.clone(),
        line_ref: None,
        customer: i.customer.clone(),
        part_number: i.part_number.clone(),
        quantity: i.quantity,
        term: i.term.clone(),
        billing: i.billing.clone(),
        start: None,
        end: None,
        unit_cost: i.unit_price,
        plan: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(plugin: &str, month: Option<&str>, id: &str) -> PulledInput {
        PulledInput {
            plugin: plugin.into(),
            month: month.map(str::to_string),
            item: PulledItem::Subscription(Subscription {
                id: id.into(),
                ..Subscription::default()
            }),
        }
    }

    #[test]
    fn only_the_latest_month_of_each_plugins_subscriptions_counts() {
        let invoice = PulledInput {
            plugin: "pax8".into(),
            month: Some("2026-11".into()),
            item: PulledItem::Invoice(InvoiceLine::default()),
        };
        let rows = vec![
            sub("pax8", Some("2026-11"), "old"),
            sub("pax8", Some("2026-12"), "new"),
            sub("pax8", None, "monthless"),
            sub("tdsynnex", None, "only"),
            invoice,
        ];
        let kept: Vec<String> = latest_months(&rows)
            .into_iter()
            .map(|r| match &r.item {
                PulledItem::Subscription(s) => s.id.clone(),
                _ => "invoice".into(),
            })
            .collect();
        assert_eq!(kept, ["new", "only", "invoice"]);
    }

    #[test]
    fn a_cancelled_subscription_is_not_held() {
        for s in ["Cancelled", " canceled", "DELETED", "Expired"] {
            assert!(is_cancelled(s), "{s}");
        }
        for s in ["Active", "PendingManual", ""] {
            assert!(!is_cancelled(s), "{s}");
        }
    }
}
