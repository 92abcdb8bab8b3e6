//! The canonical layout of rule files.
//!
//! The formatter changes only whitespace: two-space indentation, price lines and tier rows
//! aligned in columns, one statement per line, single blank lines kept where the author put
//! them (and always around blocks). Every comment is kept, on its own line or at the end of
//! the line it followed. It re-parses its own output and refuses to hand back text whose syntax
//! tree or comments differ from the input's, so formatting can never change a price.

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::source::SourceSet;

/// Why a file was not formatted.
pub enum FormatError {
    /// The file does not parse; the diagnostics say where.
    Syntax(SourceSet, Vec<Diagnostic>),
    /// The formatted text would not mean the same (a formatter bug; nothing is written).
    Changed(String),
}

/// Formats one file's text, proving that the result parses to the same tree and comments.
pub fn format_source(name: &str, text: &str) -> Result<String, FormatError> {
    let mut sources = SourceSet::new();
    let id = sources.add(name, text);
    let (file, diags) = crate::parse(&sources, id);
    if !diags.is_empty() {
        return Err(FormatError::Syntax(sources, diags));
    }
    let out = format_file(&file, text);
    let mut again = SourceSet::new();
    let id2 = again.add(name, out.clone());
    let (reparsed, diags2) = crate::parse(&again, id2);
    if !diags2.is_empty() {
        return Err(FormatError::Changed(
            "the output does not parse".to_string(),
        ));
    }
    if reparsed.items != file.items {
        let at = file
            .items
            .iter()
            .zip(reparsed.items.iter())
            .position(|(a, b)| a != b)
            .unwrap_or(file.items.len().min(reparsed.items.len()));
        return Err(FormatError::Changed(format!(
            "statement {} differs",
            at + 1
        )));
    }
    let before: Vec<&str> = file.comments.iter().map(|c| c.text.as_str()).collect();
    let after: Vec<&str> = reparsed.comments.iter().map(|c| c.text.as_str()).collect();
    if before != after {
        return Err(FormatError::Changed("comments differ".to_string()));
    }
    Ok(out)
}

/// Renders a parsed file in the canonical layout. `text` is the source it was parsed from,
/// used only to place comments and blank lines.
pub fn format_file(file: &RuleFile, text: &str) -> String {
    let mut f = Formatter {
        text,
        line_starts: line_starts(text),
        comments: &file.comments,
        next_comment: 0,
        out: String::new(),
    };
    f.top_level(&file.items);
    f.remaining_comments(0, None);
    let mut out = f.out;
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// One element of a scope: a statement or a block line, rendered as text lines.
struct Element {
    span: Span,
    /// A block (product, tiers…) is always set apart by blank lines.
    block: bool,
}

struct Formatter<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    comments: &'a [Comment],
    next_comment: usize,
    out: String,
}

impl Formatter<'_> {
    fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// Whether the source has an empty line between two offsets.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        let gap = self.text.get(from..to).unwrap_or("");
        let lines: Vec<&str> = gap.split('\n').collect();
        // The first and last pieces are the rest of `from`'s line and the start of `to`'s line;
        // only whole lines in between can be empty.
        lines.len() > 2
            && lines
                .get(1..lines.len() - 1)
                .is_some_and(|mid| mid.iter().any(|l| l.trim().is_empty()))
    }

    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
    }

    fn blank_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Emits the comments that start before `before` (all of them when `None`) on their own lines.
    /// Returns the end offset of the last comment emitted, if any.
    fn own_line_comments(
        &mut self,
        depth: usize,
        before: Option<usize>,
        mut prev_end: Option<usize>,
    ) -> Option<usize> {
        let mut last = None;
        while let Some(c) = self.comments.get(self.next_comment) {
            if before.is_some_and(|b| c.span.start >= b) {
                break;
            }
            if let Some(p) = prev_end {
                if self.blank_between(p, c.span.start) {
                    self.blank_line();
                }
            }
            self.indent(depth);
            self.out.push('#');
            self.out.push_str(&c.text);
            self.out.push('\n');
            prev_end = Some(c.span.end);
            last = Some(c.span.end);
            self.next_comment += 1;
        }
        last
    }

    fn remaining_comments(&mut self, depth: usize, prev_end: Option<usize>) {
        self.own_line_comments(depth, None, prev_end);
    }

    /// Appends a comment that sits on the same source line as `end` to the current output line.
    /// The comment goes with the element only if no other element starts before it (with
    /// two statements on one line, a comment at its end belongs to the second).
    fn trailing_comment(&mut self, end: usize, next_start: Option<usize>) {
        if let Some(c) = self.comments.get(self.next_comment) {
            if c.span.start >= end
                && next_start.is_none_or(|n| c.span.start < n)
                && self.line_of(c.span.start) == self.line_of(end.saturating_sub(1))
            {
                self.out.push_str("  #");
                self.out.push_str(&c.text);
                self.next_comment += 1;
            }
        }
    }

    /// Lays out a sequence of elements with their comments; `render` writes one element's lines
    /// (without the final newline).
    fn scope(
        &mut self,
        depth: usize,
        elements: &[Element],
        mut scope_start: Option<usize>,
        scope_end: Option<usize>,
        render: &mut dyn FnMut(&mut Self, usize),
    ) {
        let mut prev_block = false;
        for (i, el) in elements.iter().enumerate() {
            let first_comment = self.comments.get(self.next_comment).map(|c| c.span.start);
            let lead_start = match first_comment {
                Some(s) if s < el.span.start => s,
                _ => el.span.start,
            };
            let wants_blank = match scope_start {
                Some(p) => self.blank_between(p, lead_start),
                None => false,
            };
            if i > 0 && (wants_blank || el.block || prev_block) {
                self.blank_line();
            }
            let last = self.own_line_comments(depth, Some(el.span.start), None);
            if let Some(end) = last {
                if self.blank_between(end, el.span.start) {
                    self.blank_line();
                }
            }
            self.indent(depth);
            render(self, i);
            // A comment past the end of the scope (after a block's `}`) is not this element's.
            let next_start = elements.get(i + 1).map(|e| e.span.start).or(scope_end);
            self.trailing_comment(el.span.end, next_start);
            self.out.push('\n');
            scope_start = Some(el.span.end);
            prev_block = el.block;
        }
    }

    fn top_level(&mut self, items: &[Item]) {
        let elements: Vec<Element> = items
            .iter()
            .map(|it| Element {
                span: it.span(),
                block: matches!(
                    it,
                    Item::Product(_) | Item::Bundle(_) | Item::Tiers(_) | Item::Coterm(_)
                ),
            })
            .collect();
        let adjacent: Vec<bool> = items
            .windows(2)
            .map(|w| match w {
                [a, b] => {
                    // A comment anywhere from the first statement's start to the second's
                    // (inside it, or after it) ends up between them once formatted.
                    let (end, start) = (a.span().end, b.span().start);
                    let a_start = a.span().start;
                    !self.blank_between(end, start)
                        && !self
                            .comments
                            .iter()
                            .any(|c| c.span.start > a_start && c.span.start < start)
                }
                _ => false,
            })
            .collect();
        let widths = group_widths(items, &adjacent);
        let mut render = |f: &mut Self, i: usize| {
            if let Some(item) = items.get(i) {
                f.item(item, widths.get(i).copied().unwrap_or(0));
            }
        };
        self.scope(0, &elements, None, None, &mut render);
    }

    fn item(&mut self, item: &Item, width: usize) {
        match item {
            Item::Setting(s) => {
                let line = match &s.kind {
                    SettingKind::Currency(c) => format!("currency {}", c.node),
                    SettingKind::Rounding(r) => format!("rounding {}", r.node.keyword()),
                    SettingKind::PriceStep(n) => format!("price step {}", n.node.text),
                };
                self.out.push_str(&line);
            }
            Item::Party(p) => {
                let head = format!("{} {}", p.kind.node.keyword(), p.name.node);
                match &p.label {
                    Some(l) => self
                        .out
                        .push_str(&format!("{head:<width$}  {}", quote(&l.node))),
                    None => self.out.push_str(&head),
                }
                if p.coterm_none.is_some() {
                    self.out.push_str("  coterm none");
                }
            }
            Item::Route(r) => {
                let m = route_matcher(r);
                self.out
                    .push_str(&format!("route {m:<width$}  via {}", r.via.node));
            }
            Item::Discount(d) => self.out.push_str(&discount_line(d)),
            Item::Match(m) => match &m.kind {
                MatchRuleKind::Tolerance(n) => self
                    .out
                    .push_str(&format!("match tolerance {} per line", n.node.text)),
                MatchRuleKind::Ignore(c) => self.out.push_str(&format!("match ignore {}", c.node)),
            },
            Item::Product(p) => {
                self.out.push_str(&format!(
                    "product {} {} {{",
                    p.sku.node,
                    quote(&p.name.node)
                ));
                let lines: Vec<(Span, String, bool)> = product_lines(p);
                self.block_body(p.span, &lines, p.close);
            }
            Item::Bundle(b) => {
                self.out
                    .push_str(&format!("bundle {} {} {{", b.sku.node, quote(&b.name.node)));
                let lines = bundle_lines(b);
                self.block_body(b.span, &lines, b.close);
            }
            Item::Tiers(t) => {
                let block = match &t.block {
                    Some(n) => format!("{} ", n.node.text),
                    None => String::new(),
                };
                let period = match &t.period {
                    Some(p) => format!(" {}", p.node.words()),
                    None => String::new(),
                };
                self.out.push_str(&format!(
                    "tiers {} {} per {block}{}{period} {{",
                    t.name.node,
                    t.mode.node.keyword(),
                    t.unit.node,
                ));
                let lines = tier_lines(t);
                self.block_body(t.span, &lines, t.close);
            }
            Item::Coterm(c) => {
                self.out.push_str(&format!("coterm {} {{", c.name.node));
                let lines = coterm_lines(c);
                self.block_body(c.span, &lines, c.close);
            }
        }
    }

    /// Writes the inside of a block and its closing brace; the header is already written.
    fn block_body(&mut self, span: Span, lines: &[(Span, String, bool)], close: Span) {
        // A comment on the header line stays there.
        let first_inside = lines.first().map(|l| l.0.start).unwrap_or(close.start);
        self.trailing_comment(span.start + 1, Some(first_inside));
        self.out.push('\n');
        let elements: Vec<Element> = lines
            .iter()
            .map(|(s, _, _)| Element {
                span: *s,
                block: false,
            })
            .collect();
        let mut render = |f: &mut Self, i: usize| {
            if let Some((_, text, _)) = lines.get(i) {
                f.out.push_str(text);
            }
        };
        let header_end = self
            .line_starts
            .get(self.line_of(span.start) + 1)
            .copied()
            .unwrap_or(span.start);
        self.scope(
            1,
            &elements,
            Some(header_end.saturating_sub(1)),
            Some(close.start),
            &mut render,
        );
        let prev_end = lines.last().map(|l| l.0.end);
        self.own_line_comments(1, Some(close.start), prev_end);
        self.out.push('}');
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn target_text(t: &Target) -> String {
    format!("{} {}", t.kind.node.keyword(), t.name.node)
}

fn route_matcher(r: &Route) -> String {
    match &r.matcher {
        Some(t) => target_text(t),
        None => "everything else".to_string(),
    }
}

/// Column widths for runs of one-line statements that read better aligned: consecutive
/// declarations align their labels, consecutive routes their `via`. A run ends at a blank
/// line, a comment or another kind of statement (`adjacent[i]` says whether items i and i+1
/// touch).
fn group_widths(items: &[Item], adjacent: &[bool]) -> Vec<usize> {
    let mut widths = vec![0; items.len()];
    let mut i = 0;
    while i < items.len() {
        let kind = |it: Option<&Item>| match it {
            Some(Item::Party(_)) => 1,
            Some(Item::Route(_)) => 2,
            _ => 0,
        };
        let k = kind(items.get(i));
        if k == 0 {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut w = 0;
        while kind(items.get(j)) == k && (j == i || adjacent.get(j - 1).copied().unwrap_or(false)) {
            let len = match items.get(j) {
                Some(Item::Party(p)) => p.kind.node.keyword().len() + 1 + p.name.node.len(),
                Some(Item::Route(r)) => route_matcher(r).len(),
                _ => 0,
            };
            w = w.max(len);
            j += 1;
        }
        for slot in widths.iter_mut().take(j).skip(i) {
            *slot = w;
        }
        i = j;
    }
    widths
}

fn discount_line(d: &Discount) -> String {
    let mut s = format!("discount {}", d.name.node);
    if let Some(l) = &d.label {
        s.push(' ');
        s.push_str(&quote(&l.node));
    }
    s.push_str(": ");
    match &d.amount.node {
        DiscountAmount::Percent(p) => s.push_str(&format!("{}%", p.text)),
        DiscountAmount::Fixed {
            value,
            per_unit,
            monthly,
        } => {
            s.push_str(&value.text);
            if *per_unit {
                s.push_str(" per unit");
            }
            s.push_str(if *monthly { " a month" } else { " once" });
        }
    }
    s.push_str(" off ");
    match &d.scope.node {
        Scope::Target(t) => s.push_str(&target_text(t)),
        Scope::EveryLine => s.push_str("every line"),
        Scope::Quote => s.push_str("the quote"),
    }
    for (i, c) in d.conditions.iter().enumerate() {
        s.push_str(if i == 0 { " when " } else { " and " });
        s.push_str(&condition_text(&c.node));
    }
    if let Some(n) = &d.duration {
        let unit = if n.node.value == rust_decimal::Decimal::ONE {
            "month"
        } else {
            "months"
        };
        s.push_str(&format!(" for the first {} {unit}", n.node.text));
    }
    s
}

fn condition_text(c: &Condition) -> String {
    match c {
        Condition::Segment(names) => {
            format!("customer segment is {}", or_list(names, |n| n.clone()))
        }
        Condition::NewCustomer => "customer is new".to_string(),
        Condition::Term(terms) => format!("term is {}", or_list(terms, Term::to_string)),
        Condition::Billing(bs) => {
            format!("billing is {}", or_list(bs, |b| b.keyword().to_string()))
        }
        Condition::Quantity(op, n) => format!("quantity {} {}", op.words(), n.node.text),
        Condition::Date(subject, op, d) => format!(
            "{} {} {}",
            match subject {
                DateSubject::Start => "start",
                DateSubject::QuoteDate => "quote date",
            },
            match op {
                DateOp::Before => "before",
                DateOp::From => "from",
            },
            d.node.0
        ),
    }
}

/// The alternatives of a condition, `a or b or c`.
fn or_list<T>(items: &[Spanned<T>], text: impl Fn(&T) -> String) -> String {
    items
        .iter()
        .map(|i| text(&i.node))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Column widths shared by the price lines of one block.
#[derive(Default)]
struct OfferWidths {
    term: usize,
    billing: usize,
    price_num: usize,
    price_per: usize,
    price: usize,
    cost_num: usize,
    cost_per: usize,
    cost: usize,
}

fn amount_parts(a: &Amount) -> (&str, &'static str) {
    (a.value.node.text.as_str(), a.per.node.words())
}

fn cost_parts(c: &Cost) -> (&str, &'static str) {
    (
        c.value.node.text.as_str(),
        c.per.map(|p| p.node.words()).unwrap_or(""),
    )
}

fn offer_widths<'o>(offers: impl Iterator<Item = &'o Offer>) -> OfferWidths {
    let mut w = OfferWidths::default();
    let offers: Vec<&Offer> = offers.collect();
    for o in &offers {
        w.term = w.term.max(o.term.node.to_string().len());
        w.billing = w
            .billing
            .max(o.billing.map(|b| b.node.keyword().len()).unwrap_or(0));
        if let Some(p) = &o.price {
            if let PriceSpec::Amount(a) = &p.node {
                let (n, per) = amount_parts(a);
                w.price_num = w.price_num.max(n.len());
                w.price_per = w.price_per.max(per.len());
            }
        }
        if let Some(c) = &o.cost {
            let (n, per) = cost_parts(&c.node);
            w.cost_num = w.cost_num.max(n.len());
            w.cost_per = w.cost_per.max(per.len());
        }
    }
    for o in &offers {
        let len = match o.price.as_ref().map(|p| &p.node) {
            Some(PriceSpec::Amount(_)) => w.price_num + 1 + w.price_per,
            Some(PriceSpec::Tiers(n)) => "tiers ".len() + n.node.len(),
            None => 0,
        };
        w.price = w.price.max(len);
    }
    if offers.iter().any(|o| o.cost.is_some()) {
        w.cost = "cost ".len() + w.cost_num + 1 + w.cost_per;
    }
    w
}

fn offer_line(o: &Offer, w: &OfferWidths) -> String {
    let mut cols: Vec<String> = Vec::with_capacity(5);
    let term = o.term.node.to_string();
    if w.billing > 0 {
        let b = o.billing.map(|b| b.node.keyword()).unwrap_or("");
        cols.push(format!("{term:<tw$} {b:<bw$}", tw = w.term, bw = w.billing));
    } else {
        cols.push(format!("{term:<tw$}", tw = w.term));
    }
    if w.price > 0 {
        let p = match o.price.as_ref().map(|p| &p.node) {
            Some(PriceSpec::Amount(a)) => {
                let (n, per) = amount_parts(a);
                format!("{n:>nw$} {per:<pw$}", nw = w.price_num, pw = w.price_per)
            }
            Some(PriceSpec::Tiers(n)) => format!("tiers {}", n.node),
            None => String::new(),
        };
        cols.push(format!("{p:<width$}", width = w.price));
    }
    if w.cost > 0 {
        let c = match &o.cost {
            Some(c) => {
                let (n, per) = cost_parts(&c.node);
                format!("cost {n:>nw$} {per:<pw$}", nw = w.cost_num, pw = w.cost_per)
            }
            None => String::new(),
        };
        cols.push(format!("{c:<width$}", width = w.cost));
    }
    if let Some(d) = &o.derive {
        cols.push(match &d.node {
            Derive::Markup(m) => format!("markup {}%", m.text),
            Derive::Margin(m) => format!("margin {}%", m.text),
        });
    }
    cols.join("  ").trim_end().to_string()
}

/// Pads attribute keywords (`vendor`, `unit`…) to one width so their values line up.
fn attribute(key: &str, value: &str, width: usize) -> String {
    if value.is_empty() {
        key.to_string()
    } else {
        format!("{key:<width$} {value}")
    }
}

/// `P1Y monthly via tdsynnex id "…"`, the billing padded to `billing_width` so that a
/// product's plans line up.
fn term_id(t: &TermId, billing_width: usize) -> String {
    let billing = t.billing.map(|b| b.node.keyword()).unwrap_or("");
    let head = if billing_width > 0 {
        format!("{} {billing:<billing_width$}", t.term.node)
    } else {
        t.term.node.to_string()
    };
    format!("{head} via {} id {}", t.distributor.node, quote(&t.id.node))
}

/// `via connectwise as "…"`.
fn sold_value(sold: &Sold) -> String {
    format!("via {} as {}", sold.psa.node, quote(&sold.item.node))
}

fn product_lines(p: &Product) -> Vec<(Span, String, bool)> {
    let plan_billing = p
        .entries
        .iter()
        .filter_map(|e| match &e.node {
            ProductEntry::Plan(t) => t.billing.map(|b| b.node.keyword().len()),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let attrs: Vec<(&str, String)> = p
        .entries
        .iter()
        .filter_map(|e| match &e.node {
            ProductEntry::Vendor(n) => Some(("vendor", n.node.clone())),
            ProductEntry::Unit(n) => Some(("unit", n.node.clone())),
            ProductEntry::Category(n) => Some(("category", n.node.clone())),
            ProductEntry::Part(part) => {
                let mut v = format!(
                    "via {} as {}",
                    part.distributor.node,
                    quote(&part.number.node)
                );
                if let Some(id) = &part.id {
                    v.push_str(&format!(" id {}", quote(&id.node)));
                }
                if let Some(sku) = &part.sku {
                    v.push_str(&format!(" sku {}", quote(&sku.node)));
                }
                Some(("bought", v))
            }
            ProductEntry::Catalog(id) => Some(("catalog", format!("id {}", quote(&id.node)))),
            ProductEntry::Commitment(t) => Some(("commitment", term_id(t, 0))),
            ProductEntry::Plan(t) => Some(("plan", term_id(t, plan_billing))),
            ProductEntry::Sold(sold) => Some(("sold", sold_value(sold))),
            ProductEntry::NotBought => Some(("not bought", String::new())),
            ProductEntry::Cancel(n) => {
                let unit = if n.node.value == rust_decimal::Decimal::ONE {
                    "day"
                } else {
                    "days"
                };
                Some(("cancel", format!("within {} {unit}", n.node.text)))
            }
            ProductEntry::Usage(u) => Some((
                "usage",
                format!("{} by {}", u.metric.node, u.aggregation.node.keyword()),
            )),
            ProductEntry::Minimum(a) => Some((
                "minimum",
                format!("{} {}", a.value.node.text, a.per.node.words()),
            )),
            ProductEntry::Offer(_) => None,
        })
        .collect();
    let width = attrs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, _)| k.len())
        .max()
        .unwrap_or(0);
    let widths = offer_widths(p.entries.iter().filter_map(|e| match &e.node {
        ProductEntry::Offer(o) => Some(o),
        _ => None,
    }));
    let mut attrs = attrs.into_iter();
    p.entries
        .iter()
        .map(|e| {
            let text = match &e.node {
                ProductEntry::Offer(o) => offer_line(o, &widths),
                _ => attrs
                    .next()
                    .map(|(k, v)| attribute(k, &v, width))
                    .unwrap_or_default(),
            };
            (e.span, text, false)
        })
        .collect()
}

fn bundle_lines(b: &Bundle) -> Vec<(Span, String, bool)> {
    let qty_width = b
        .entries
        .iter()
        .filter_map(|e| match &e.node {
            BundleEntry::Includes { quantity, .. } => Some(quantity.node.text.len()),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let widths = offer_widths(b.entries.iter().filter_map(|e| match &e.node {
        BundleEntry::Offer(o) => Some(o),
        _ => None,
    }));
    let key_width = if qty_width > 0 {
        "includes".len()
    } else {
        "category".len()
    };
    b.entries
        .iter()
        .map(|e| {
            let text = match &e.node {
                BundleEntry::Category(n) => attribute("category", &n.node, key_width),
                BundleEntry::Sold(sold) => attribute("sold", &sold_value(sold), key_width),
                BundleEntry::Includes { quantity, product } => attribute(
                    "includes",
                    &format!("{:>qty_width$} {}", quantity.node.text, product.node),
                    key_width,
                ),
                BundleEntry::Offer(o) => offer_line(o, &widths),
            };
            (e.span, text, false)
        })
        .collect()
}

fn tier_lines(t: &TierTable) -> Vec<(Span, String, bool)> {
    let parts: Vec<(&str, String, String, String)> = t
        .rows
        .iter()
        .map(|r| {
            let (kw, n) = match &r.node.bound.node {
                TierBound::First(n) => ("first", n.text.clone()),
                TierBound::UpTo(n) => ("up to", n.text.clone()),
                TierBound::Above(n) => (
                    "above",
                    n.as_ref().map(|n| n.text.clone()).unwrap_or_default(),
                ),
            };
            let price = match &r.node.price {
                Some(p) => p.node.text.clone(),
                None => "free".to_string(),
            };
            let flat = match &r.node.flat {
                Some(f) => format!("plus {} flat", f.node.text),
                None => String::new(),
            };
            (kw, n, price, flat)
        })
        .collect();
    let kw_w = parts.iter().map(|p| p.0.len()).max().unwrap_or(0);
    let n_w = parts.iter().map(|p| p.1.len()).max().unwrap_or(0);
    let p_w = parts.iter().map(|p| p.2.len()).max().unwrap_or(0);
    t.rows
        .iter()
        .zip(parts.iter())
        .map(|(r, (kw, n, price, flat))| {
            let line = format!("{kw:<kw_w$} {n:>n_w$}  {price:>p_w$}  {flat}");
            (r.span, line.trim_end().to_string(), false)
        })
        .collect()
}

fn coterm_lines(c: &Coterm) -> Vec<(Span, String, bool)> {
    let entries: Vec<(&str, String)> = c
        .entries
        .iter()
        .map(|e| match &e.node {
            CotermEntry::Anchor(a) => (
                "anchor",
                match a {
                    Anchor::CustomerAnniversary => "customer anniversary".to_string(),
                    Anchor::Date(d) => format!("date {}", d.node.0),
                    Anchor::EndOfExisting(n) => format!("end of existing subscription {}", n.node),
                    Anchor::CalendarMonthEnd => "calendar month end".to_string(),
                },
            ),
            CotermEntry::Mode(m) => (
                "mode",
                match m {
                    CotermMode::Stub => "stub",
                    CotermMode::Coterminous => "coterminous",
                }
                .to_string(),
            ),
            CotermEntry::Prorate(p) => (
                "prorate",
                match p {
                    Proration::Daily => "daily",
                    Proration::Monthly => "monthly",
                    Proration::None => "none",
                }
                .to_string(),
            ),
            CotermEntry::Basis(b) => (
                "basis",
                match b {
                    DayBasis::Actual => "actual",
                    DayBasis::Thirty => "30",
                }
                .to_string(),
            ),
            CotermEntry::AppliesTo(t) => ("applies to", target_text(t)),
        })
        .collect();
    let width = entries.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    c.entries
        .iter()
        .zip(entries)
        .map(|(e, (k, v))| (e.span, attribute(k, &v, width), false))
        .collect()
}
