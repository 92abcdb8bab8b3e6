//! The rules language against its folder of examples (`tests/fixtures/dsl/`).
//!
//! - Every `invalid/` fixture (a file, or a folder read as one rule set) must fail `check`; its
//!   rendered diagnostics are snapshot together with the numbered source, and its first
//!   diagnostic must match the hand-written table below (code and `file:line:col`).
//! - Every `valid/` fixture must pass `check`; its summary and syntax tree are snapshot.
//! - Spans of every valid file (fixtures and `rules/`) keep their invariants: in bounds, in order,
//!   children inside parents, and each name and number span covers exactly the text it holds.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use tenor_dsl::ast::*;
use tenor_dsl::diagnostic::render_plain;
use tenor_dsl::{Diagnostic, SourceSet};
use tenor_tests::{Case, all_valid_files, cases, numbered};

/// What each invalid fixture must report first: (fixture, diagnostic code, `line:col`; for a
/// folder, `file:line:col` within it).
///
/// Written by hand from the fixture text, not copied from the output, so that a change in
/// where or what the checker reports shows up here even when snapshots are accepted in bulk.
/// Every fixture in `invalid/` must have a row, and every row a fixture.
const EXPECTED: &[(&str, &str, &str)] = &[
    // ---- syntax
    ("bad-number-european.tenor", "bad-number", "12:18"),
    ("bad-number.tenor", "bad-number", "12:35"),
    ("many-syntax-errors.tenor", "syntax", "10:22"),
    ("missing-brace.tenor", "syntax", "7:48"),
    ("amount-too-large.tenor", "bad-amount", "10:16"),
    ("number-too-large.tenor", "bad-number", "12:16"),
    ("term-too-long.tenor", "bad-term", "12:3"),
    ("unknown-keyword-in-block.tenor", "syntax", "8:3"),
    ("unknown-keyword.tenor", "syntax", "7:1"),
    ("unterminated-string.tenor", "syntax", "7:17"),
    // ---- names
    ("unknown-anchor-subscription.tenor", "unknown-name", "16:39"),
    ("unknown-bundle-component.tenor", "unknown-name", "26:14"),
    ("unknown-category.tenor", "unknown-name", "11:12"),
    ("unknown-coterm-target.tenor", "unknown-name", "18:22"),
    ("unknown-discount-bundle.tenor", "unknown-name", "15:33"),
    ("unknown-distributor.tenor", "unknown-name", "11:14"),
    ("unknown-route-distributor.tenor", "unknown-name", "16:29"),
    ("unknown-route-vendor.tenor", "unknown-name", "17:14"),
    // `non-profit` is the word after `customer segment is ` on line 7.
    ("unknown-segment.tenor", "unknown-name", "7:71"),
    // `nonprofit` after `... and customer segment is ` on line 6.
    ("undeclared-segments.tenor", "unknown-name", "6:95"),
    ("unknown-tier-table.tenor", "unknown-name", "19:22"),
    ("unknown-vendor.tenor", "unknown-name", "8:10"),
    ("bundle-in-bundle.tenor", "bundle-not-allowed", "23:14"),
    (
        "discount-product-is-bundle.tenor",
        "bundle-not-allowed",
        "21:43",
    ),
    // ---- settings
    ("duplicate-setting.tenor", "duplicate", "5:1"),
    ("lowercase-currency.tenor", "unknown-currency", "2:10"),
    ("missing-currency.tenor", "missing-currency", "1:1"),
    ("unknown-currency.tenor", "unknown-currency", "2:10"),
    ("zero-price-step.tenor", "bad-amount", "3:12"),
    // ---- duplicates
    ("duplicate-across-files", "duplicate", "b.tenor:2:9"),
    ("duplicate-component.tenor", "duplicate", "17:3"),
    ("duplicate-coterm-entry.tenor", "duplicate", "8:3"),
    ("duplicate-coterm.tenor", "duplicate", "20:8"),
    ("duplicate-discount.tenor", "duplicate", "16:10"),
    ("duplicate-entry.tenor", "duplicate", "11:3"),
    ("duplicate-offer.tenor", "duplicate-offer", "14:3"),
    ("duplicate-part.tenor", "duplicate", "11:3"),
    ("duplicate-sku-bundle.tenor", "duplicate", "15:8"),
    ("duplicate-tier-table.tenor", "duplicate", "11:7"),
    ("duplicate-vendor.tenor", "duplicate", "6:8"),
    ("duplicate-segment.tenor", "duplicate", "6:9"),
    ("pax8-id-not-uuid.tenor", "bad-id", "10:42"),
    ("missing-commitment.tenor", "missing-id", "11:3"),
    ("duplicate-commitment.tenor", "duplicate", "13:3"),
    ("commitment-unpriced-term.tenor", "misplaced", "13:14"),
    ("commitment-not-bought-there.tenor", "misplaced", "10:3"),
    ("coterm-none-not-distributor.tenor", "misplaced", "6:32"),
    ("tdsynnex-microsoft-id.tenor", "bad-id", "10:49"),
    ("missing-plan.tenor", "missing-id", "10:3"),
    ("duplicate-sold.tenor", "duplicate", "11:3"),
    // ---- products and price lines
    ("bad-term.tenor", "bad-term", "12:3"),
    ("billing-longer-than-term.tenor", "bad-billing", "13:7"),
    ("billing-not-dividing-term.tenor", "bad-billing", "13:8"),
    ("cancel-fraction.tenor", "bad-number", "11:17"),
    ("cost-without-period.tenor", "missing-period", "19:43"),
    ("margin-100.tenor", "bad-percent", "12:31"),
    ("markup-without-cost.tenor", "missing-cost", "12:13"),
    ("minimum-once.tenor", "bad-period", "12:17"),
    ("minimum-without-usage.tenor", "conflict", "11:3"),
    ("missing-billing.tenor", "missing-billing", "12:3"),
    ("missing-price.tenor", "missing-price", "13:3"),
    ("negative-cost.tenor", "negative-amount", "12:35"),
    ("negative-markup.tenor", "bad-percent", "12:31"),
    ("negative-minimum.tenor", "negative-amount", "12:11"),
    ("negative-price.tenor", "negative-amount", "12:16"),
    ("not-bought-with-part.tenor", "conflict", "11:3"),
    ("one-time-billed-monthly.tenor", "bad-billing", "11:12"),
    ("one-time-price-monthly.tenor", "bad-period", "11:22"),
    ("price-and-markup.tenor", "conflict", "12:48"),
    ("product-no-offers.tenor", "no-offers", "7:9"),
    ("recurring-price-once.tenor", "bad-period", "11:23"),
    ("unit-mismatch.tenor", "unit-mismatch", "17:22"),
    // ---- bundles
    ("bundle-no-offers.tenor", "no-offers", "15:8"),
    ("component-zero-quantity.tenor", "bad-amount", "16:12"),
    ("empty-bundle.tenor", "empty-bundle", "6:8"),
    // ---- tier tables
    ("block-on-graduated.tenor", "conflict", "4:36"),
    ("empty-tier-table.tenor", "no-open-tier", "4:7"),
    ("first-not-first.tenor", "bad-tier", "6:3"),
    ("negative-flat-fee.tenor", "negative-amount", "5:25"),
    ("negative-tier-price.tenor", "negative-amount", "6:17"),
    ("no-open-tier.tenor", "no-open-tier", "6:3"),
    ("package-without-block.tenor", "missing-block", "4:33"),
    ("tier-after-open.tenor", "tier-after-open", "7:3"),
    ("tier-gap-first.tenor", "tier-gap", "5:3"),
    ("tier-gap.tenor", "tier-gap", "7:3"),
    ("tier-order.tenor", "tier-order", "6:3"),
    ("tier-overlap.tenor", "tier-gap", "7:3"),
    ("zero-block.tenor", "bad-amount", "4:33"),
    // ---- co-term policies
    ("ambiguous-coterm.tenor", "ambiguous-coterm", "15:3"),
    ("impossible-anchor-date.tenor", "bad-date", "5:16"),
    ("missing-anchor.tenor", "missing-anchor", "4:8"),
    // ---- discounts
    ("discount-duration-fraction.tenor", "bad-number", "4:68"),
    (
        "discount-negative-quantity.tenor",
        "negative-amount",
        "4:59",
    ),
    ("discount-over-100.tenor", "bad-percent", "6:41"),
    ("discount-zero-amount.tenor", "bad-amount", "4:36"),
    ("discount-zero-term.tenor", "bad-term", "4:60"),
    ("impossible-discount-date.tenor", "bad-date", "15:91"),
    ("impossible-month.tenor", "bad-date", "4:73"),
    ("once-discount-with-duration.tenor", "conflict", "14:78"),
    // ---- routes
    ("route-to-bundle.tenor", "bad-route", "21:7"),
    ("route-twice.tenor", "unreachable-route", "18:1"),
    ("unreachable-route.tenor", "unreachable-route", "19:1"),
    // ---- several problems at once
    ("many-errors.tenor", "unknown-name", "8:10"),
];

/// Fixtures that deliberately hold several problems, with the least number they must report.
const SEVERAL: &[(&str, usize)] = &[("many-errors.tenor", 4), ("many-syntax-errors.tenor", 3)];

/// Runs `f` for every case, collecting failures so that one broken fixture does not hide the rest.
fn for_each_case(group: &str, mut f: impl FnMut(&Case)) {
    let mut failed = Vec::new();
    for case in cases(group) {
        if catch_unwind(AssertUnwindSafe(|| f(&case))).is_err() {
            failed.push(format!("{group}/{}", case.name));
        }
    }
    assert!(
        failed.is_empty(),
        "failed fixtures:\n  {}",
        failed.join("\n  ")
    );
}

fn check_fails(case: &Case) -> (SourceSet, Vec<Diagnostic>) {
    let sources = case.sources();
    match tenor_dsl::check(&sources) {
        Ok(_) => panic!("invalid/{} passed `check`", case.name),
        Err(diags) => {
            assert!(
                !diags.is_empty(),
                "invalid/{}: check failed without a diagnostic",
                case.name
            );
            (sources, diags)
        }
    }
}

#[test]
fn invalid_fixtures_fail_and_their_diagnostics_are_snapshot() {
    for_each_case("invalid", |case| {
        let (sources, diags) = check_fails(case);
        let rendered = render_plain(&sources, &diags);
        assert!(
            !rendered.contains(env!("CARGO_MANIFEST_DIR")),
            "diagnostics name a machine path:\n{rendered}"
        );
        let mut body = String::new();
        for (name, text) in &case.files {
            body.push_str(&format!("── {name}\n{}\n", numbered(text)));
        }
        body.push_str(&format!(
            "── tenor check: {} problem(s)\n{rendered}",
            diags.len()
        ));
        insta::with_settings!({ description => format!("invalid/{}", case.name), omit_expression => true }, {
            insta::assert_snapshot!(case.snapshot_name("invalid"), body);
        });
    });
}

#[test]
fn every_invalid_fixture_has_a_hand_written_expectation() {
    let fixtures: BTreeSet<String> = cases("invalid").into_iter().map(|c| c.name).collect();
    let table: BTreeSet<String> = EXPECTED.iter().map(|(n, _, _)| (*n).to_string()).collect();
    assert_eq!(
        table.len(),
        EXPECTED.len(),
        "a fixture is listed twice in EXPECTED"
    );
    let missing: Vec<&String> = fixtures.difference(&table).collect();
    let stale: Vec<&String> = table.difference(&fixtures).collect();
    assert!(
        missing.is_empty(),
        "invalid fixtures without a row in EXPECTED: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "rows in EXPECTED without a fixture: {stale:?}"
    );
}

#[test]
fn invalid_fixtures_report_the_expected_first_diagnostic() {
    let mut wrong = Vec::new();
    for case in cases("invalid") {
        let Some((_, code, at)) = EXPECTED.iter().find(|(n, _, _)| *n == case.name) else {
            continue; // reported by every_invalid_fixture_has_a_hand_written_expectation
        };
        let (sources, diags) = check_fails(&case);
        let first = &diags[0];
        let at = if case.name.ends_with(".tenor") {
            format!("invalid/{}:{at}", case.name)
        } else {
            format!("invalid/{}/{at}", case.name)
        };
        let got = (first.code, sources.locate(first.span));
        if got != (*code, at.clone()) {
            wrong.push(format!(
                "{}: expected {code} at {at}, got {} at {}",
                case.name, got.0, got.1
            ));
        }
        let least = SEVERAL
            .iter()
            .find(|(n, _)| *n == case.name)
            .map(|(_, k)| *k);
        match least {
            Some(k) if diags.len() < k => {
                wrong.push(format!(
                    "{}: expected at least {k} problems, got {}",
                    case.name,
                    diags.len()
                ));
            }
            None if diags.len() != 1 => wrong.push(format!(
                "{}: a fixture should show one problem, got {}: {:?}",
                case.name,
                diags.len(),
                diags.iter().map(|d| d.code).collect::<Vec<_>>()
            )),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The harness names files itself; `tenor_dsl::load` (what `tenor check` uses) must read the
/// same fixture into the same diagnostics, in the same order, at the same places.
#[test]
fn load_reads_each_fixture_as_the_harness_does() {
    let summary = |sources: &SourceSet, diags: &[Diagnostic]| -> Vec<String> {
        diags
            .iter()
            .map(|d| {
                let lc = sources.line_col(d.span.file, d.span.start);
                let file = sources
                    .name(d.span.file)
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or("");
                format!("{file}:{}:{} {} {}", lc.line, lc.column, d.code, d.message)
            })
            .collect()
    };
    for_each_case("invalid", |case| {
        let (sources, diags) = check_fails(case);
        let path = tenor_tests::fixtures_dir().join("invalid").join(&case.name);
        let loaded = tenor_dsl::load(&[path]).unwrap();
        assert_eq!(loaded.len(), case.files.len());
        let again = match tenor_dsl::check(&loaded) {
            Ok(_) => panic!("invalid/{} passes when read by load()", case.name),
            Err(d) => d,
        };
        assert_eq!(summary(&loaded, &again), summary(&sources, &diags));
    });
}

#[test]
fn many_errors_are_reported_together_in_source_order() {
    let case = cases("invalid")
        .into_iter()
        .find(|c| c.name == "many-errors.tenor")
        .unwrap();
    let (sources, diags) = check_fails(&case);
    let codes: BTreeSet<&str> = diags.iter().map(|d| d.code).collect();
    for code in [
        "unknown-name",
        "bad-billing",
        "negative-amount",
        "tier-order",
        "bad-date",
        "bad-percent",
        "unreachable-route",
    ] {
        assert!(
            codes.contains(code),
            "many-errors.tenor should report `{code}`, got {codes:?}"
        );
    }
    let lines: Vec<usize> = diags
        .iter()
        .map(|d| sources.line_col(d.span.file, d.span.start).line)
        .collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "diagnostics are not in source order");
}

#[test]
fn diagnostic_spans_lie_inside_their_files() {
    for_each_case("invalid", |case| {
        let (sources, diags) = check_fails(case);
        for d in &diags {
            let spans = std::iter::once(&d.span).chain(d.related.iter().map(|(s, _)| s));
            for s in spans {
                let text = sources.text(s.file);
                assert!(
                    s.start <= s.end && s.end <= text.len(),
                    "{}: span {s:?} out of bounds",
                    case.name
                );
                assert!(
                    text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
                    "{}: span {s:?} splits a character",
                    case.name
                );
            }
            assert!(
                !d.message.ends_with('.'),
                "{}: message ends with a period: {}",
                case.name,
                d.message
            );
            // Lowercase, as the style guide asks; an acronym (`SKU`) may open the sentence.
            let first_word = d.message.split(' ').next().unwrap_or("");
            assert!(
                !first_word.starts_with(char::is_uppercase)
                    || first_word.chars().all(|c| c.is_ascii_uppercase()),
                "{}: message starts with a capital: {}",
                case.name,
                d.message
            );
        }
    });
}

#[test]
fn valid_fixtures_pass_and_their_summary_and_tree_are_snapshot() {
    for_each_case("valid", |case| {
        let sources = case.sources();
        let rules = match tenor_dsl::check(&sources) {
            Ok(r) => r,
            Err(diags) => panic!(
                "valid/{} fails:\n{}",
                case.name,
                render_plain(&sources, &diags)
            ),
        };
        let summary = tenor_dsl::summary(&rules);
        let ast: serde_json::Value = if rules.files.len() == 1 {
            serde_json::to_value(&rules.files[0].items).unwrap()
        } else {
            let by_file: serde_json::Map<String, serde_json::Value> = rules
                .files
                .iter()
                .map(|f| {
                    (
                        sources.name(f.file).to_string(),
                        serde_json::to_value(&f.items).unwrap(),
                    )
                })
                .collect();
            serde_json::Value::Object(by_file)
        };
        let name = case.snapshot_name("valid");
        insta::with_settings!({ description => format!("valid/{}", case.name), omit_expression => true }, {
            insta::assert_json_snapshot!(format!("{name}__summary"), summary);
            insta::assert_snapshot!(format!("{name}__ast"), tenor_tests::pretty_json(&ast));
        });
    });
}

// ------------------------------------------------------------------ span invariants

/// Collects span violations of one parsed file.
struct Spans<'t> {
    name: &'t str,
    text: &'t str,
    problems: Vec<String>,
}

impl Spans<'_> {
    fn fail(&mut self, what: &str, span: Span, why: &str) {
        let shown = self
            .text
            .get(span.start..span.end)
            .unwrap_or("<out of bounds>");
        self.problems.push(format!(
            "{}: {what} {}..{} `{shown}`: {why}",
            self.name, span.start, span.end
        ));
    }

    fn slice(&self, s: Span) -> Option<&str> {
        (s.start <= s.end)
            .then(|| self.text.get(s.start..s.end))
            .flatten()
    }

    /// In bounds, on character boundaries, and inside `parent`.
    fn inside(&mut self, what: &str, s: Span, parent: Span) {
        if self.slice(s).is_none() {
            self.fail(what, s, "out of bounds or splits a character");
        } else if s.start < parent.start || s.end > parent.end {
            self.fail(
                what,
                s,
                &format!("outside its parent {}..{}", parent.start, parent.end),
            );
        }
    }

    /// Each span after the one before, not overlapping it.
    fn ordered(&mut self, what: &str, spans: &[Span]) {
        for w in spans.windows(2) {
            if w[1].start < w[0].end {
                self.fail(
                    what,
                    w[1],
                    &format!("starts before the previous one ends at {}", w[0].end),
                );
            }
        }
    }

    fn exact(&mut self, what: &str, s: Span, parent: Span, expected: &str) {
        self.inside(what, s, parent);
        if let Some(got) = self.slice(s) {
            if got != expected {
                self.fail(what, s, &format!("should cover `{expected}`"));
            }
        }
    }

    fn name(&mut self, n: &Name, parent: Span) {
        self.exact("name", n.span, parent, &n.node);
    }

    fn number(&mut self, n: &Spanned<Number>, parent: Span) {
        self.exact("number", n.span, parent, &n.node.text);
    }

    fn quoted(&mut self, s: &Spanned<String>, parent: Span) {
        self.inside("quoted name", s.span, parent);
        if let Some(got) = self.slice(s.span) {
            if !(got.len() >= 2 && got.starts_with('"') && got.ends_with('"')) {
                self.fail("quoted name", s.span, "should cover the quotes");
            }
        }
    }

    fn starts_with(&mut self, what: &str, s: Span, word: &str) {
        if !self.slice(s).is_some_and(|t| t.starts_with(word)) {
            self.fail(what, s, &format!("should start with `{word}`"));
        }
    }

    fn block(&mut self, what: &str, span: Span, close: Span, entries: &[Span]) {
        self.exact("closing brace", close, span, "}");
        if close.end != span.end {
            self.fail(what, span, "does not end at its closing brace");
        }
        let body = Span::new(span.file, span.start, close.start);
        for e in entries {
            self.inside("entry", *e, body);
        }
        self.ordered("entry", entries);
    }

    fn target(&mut self, t: &Target, parent: Span) {
        self.exact("target kind", t.kind.span, parent, t.kind.node.keyword());
        self.name(&t.name, parent);
    }

    fn offer(&mut self, o: &Offer, line: Span) {
        self.exact("term", o.term.span, line, &o.term.node.to_string());
        if let Some(b) = &o.billing {
            self.exact("billing", b.span, line, b.node.keyword());
        }
        if let Some(p) = &o.price {
            self.inside("price", p.span, line);
            match &p.node {
                PriceSpec::Amount(a) => {
                    self.number(&a.value, p.span);
                    self.inside("period", a.per.span, p.span);
                }
                PriceSpec::Tiers(n) => self.name(n, p.span),
            }
        }
        if let Some(c) = &o.cost {
            self.starts_with("cost", c.span, "cost");
            self.inside("cost", c.span, line);
            self.number(&c.node.value, c.span);
            if let Some(per) = &c.node.per {
                self.inside("cost period", per.span, c.span);
            }
        }
        if let Some(d) = &o.derive {
            self.inside("markup or margin", d.span, line);
        }
        let parts: Vec<Span> = [
            Some(o.term.span),
            o.billing.map(|b| b.span),
            o.price.as_ref().map(|p| p.span),
            o.cost.as_ref().map(|c| c.span),
            o.derive.as_ref().map(|d| d.span),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.ordered("price line part", &parts);
    }

    fn item(&mut self, item: &Item) {
        let span = item.span();
        match item {
            Item::Setting(s) => self.setting(s, span),
            Item::Party(p) => self.party(p, span),
            Item::Product(p) => self.product(p, span),
            Item::Bundle(b) => self.bundle(b, span),
            Item::Tiers(t) => self.tiers(t, span),
            Item::Coterm(c) => self.coterm(c, span),
            Item::Discount(d) => self.discount(d, span),
            Item::Route(r) => self.route(r, span),
            Item::Match(m) => self.match_rule(m, span),
        }
    }

    /// A setting starts with its keyword and holds its value.
    fn setting(&mut self, s: &Setting, span: Span) {
        match &s.kind {
            SettingKind::Currency(c) => {
                self.starts_with("setting", span, "currency");
                self.name(c, span);
            }
            SettingKind::Rounding(r) => {
                self.starts_with("setting", span, "rounding");
                self.exact("rounding mode", r.span, span, r.node.keyword());
            }
            SettingKind::PriceStep(n) => {
                self.starts_with("setting", span, "price");
                self.number(n, span);
            }
        }
    }

    /// A declaration starts with its kind and holds its name and label.
    fn party(&mut self, p: &Party, span: Span) {
        self.exact("party kind", p.kind.span, span, p.kind.node.keyword());
        self.starts_with("declaration", span, p.kind.node.keyword());
        self.name(&p.name, span);
        if let Some(l) = &p.label {
            self.quoted(l, span);
        }
    }

    /// A product block holds its SKU, name and lines, and each line its parts.
    fn product(&mut self, p: &Product, span: Span) {
        self.starts_with("product", span, "product");
        self.name(&p.sku, span);
        self.quoted(&p.name, span);
        let entries: Vec<Span> = p.entries.iter().map(|e| e.span).collect();
        self.block("product", span, p.close, &entries);
        for e in &p.entries {
            let s = e.span;
            match &e.node {
                ProductEntry::Vendor(n) | ProductEntry::Unit(n) | ProductEntry::Category(n) => {
                    self.name(n, s)
                }
                ProductEntry::Part(part) => {
                    self.name(&part.distributor, s);
                    self.quoted(&part.number, s);
                    if let Some(id) = &part.id {
                        self.quoted(id, s);
                    }
                    if let Some(sku) = &part.sku {
                        self.quoted(sku, s);
                    }
                }
                ProductEntry::Catalog(id) => self.quoted(id, s),
                ProductEntry::Commitment(t) | ProductEntry::Plan(t) => {
                    self.inside("term", t.term.span, s);
                    if let Some(b) = &t.billing {
                        self.exact("billing", b.span, s, b.node.keyword());
                    }
                    self.name(&t.distributor, s);
                    self.quoted(&t.id, s);
                }
                ProductEntry::Sold(sold) => {
                    self.starts_with("entry", s, "sold");
                    self.name(&sold.psa, s);
                    self.quoted(&sold.item, s);
                }
                ProductEntry::NotBought => self.starts_with("entry", s, "not"),
                ProductEntry::Cancel(n) => self.number(n, s),
                ProductEntry::Usage(u) => {
                    self.name(&u.metric, s);
                    self.exact(
                        "aggregation",
                        u.aggregation.span,
                        s,
                        u.aggregation.node.keyword(),
                    );
                }
                ProductEntry::Minimum(a) => {
                    self.number(&a.value, s);
                    self.inside("period", a.per.span, s);
                }
                ProductEntry::Offer(o) => self.offer(o, s),
            }
        }
    }

    /// A bundle block holds its SKU, name and lines, and each line its parts.
    fn bundle(&mut self, b: &Bundle, span: Span) {
        self.starts_with("bundle", span, "bundle");
        self.name(&b.sku, span);
        self.quoted(&b.name, span);
        let entries: Vec<Span> = b.entries.iter().map(|e| e.span).collect();
        self.block("bundle", span, b.close, &entries);
        for e in &b.entries {
            match &e.node {
                BundleEntry::Category(n) => self.name(n, e.span),
                BundleEntry::Sold(sold) => {
                    self.name(&sold.psa, e.span);
                    self.quoted(&sold.item, e.span);
                }
                BundleEntry::Includes { quantity, product } => {
                    self.number(quantity, e.span);
                    self.name(product, e.span);
                }
                BundleEntry::Offer(o) => self.offer(o, e.span),
            }
        }
    }

    /// A tier table holds its name, mode, block, unit, period and rows.
    fn tiers(&mut self, t: &TierTable, span: Span) {
        self.starts_with("tier table", span, "tiers");
        self.name(&t.name, span);
        self.exact("tier mode", t.mode.span, span, t.mode.node.keyword());
        if let Some(b) = &t.block {
            self.number(b, span);
        }
        self.name(&t.unit, span);
        if let Some(p) = &t.period {
            self.inside("period", p.span, span);
        }
        let rows: Vec<Span> = t.rows.iter().map(|r| r.span).collect();
        self.block("tier table", span, t.close, &rows);
        for r in &t.rows {
            self.inside("tier bound", r.node.bound.span, r.span);
            if let Some(p) = &r.node.price {
                self.number(p, r.span);
            }
            if let Some(f) = &r.node.flat {
                self.number(f, r.span);
            }
        }
    }

    /// A co-term policy holds its name and lines.
    fn coterm(&mut self, c: &Coterm, span: Span) {
        self.starts_with("co-term policy", span, "coterm");
        self.name(&c.name, span);
        let entries: Vec<Span> = c.entries.iter().map(|e| e.span).collect();
        self.block("co-term policy", span, c.close, &entries);
        for e in &c.entries {
            match &e.node {
                CotermEntry::Anchor(Anchor::Date(d)) => {
                    self.exact("date", d.span, e.span, &d.node.0)
                }
                CotermEntry::Anchor(Anchor::EndOfExisting(n)) => self.name(n, e.span),
                CotermEntry::AppliesTo(t) => self.target(t, e.span),
                _ => {}
            }
        }
    }

    /// A discount holds its parts in written order, its conditions inside it.
    fn discount(&mut self, d: &Discount, span: Span) {
        self.starts_with("discount", span, "discount");
        self.name(&d.name, span);
        if let Some(l) = &d.label {
            self.quoted(l, span);
        }
        self.inside("discount amount", d.amount.span, span);
        self.inside("discount scope", d.scope.span, span);
        if let Scope::Target(t) = &d.scope.node {
            self.target(t, d.scope.span);
        }
        let conds: Vec<Span> = d.conditions.iter().map(|c| c.span).collect();
        for c in &d.conditions {
            self.inside("condition", c.span, span);
            match &c.node {
                Condition::Segment(names) => names.iter().for_each(|n| self.name(n, c.span)),
                Condition::Term(terms) => {
                    for t in terms {
                        self.exact("term", t.span, c.span, &t.node.to_string());
                    }
                }
                Condition::Billing(bs) => {
                    for b in bs {
                        self.exact("billing", b.span, c.span, b.node.keyword());
                    }
                }
                Condition::Quantity(_, n) => self.number(n, c.span),
                Condition::Date(_, _, date) => self.exact("date", date.span, c.span, &date.node.0),
                Condition::NewCustomer => self.exact("condition", c.span, span, "customer is new"),
            }
        }
        self.ordered("condition", &conds);
        if let Some(n) = &d.duration {
            self.number(n, span);
        }
        let mut parts = vec![d.name.span, d.amount.span, d.scope.span];
        parts.extend(conds.first());
        self.ordered("discount part", &parts);
    }

    /// A route holds its matcher, then its distributor.
    fn route(&mut self, r: &Route, span: Span) {
        self.starts_with("route", span, "route");
        self.inside("route matcher", r.matcher_span, span);
        if let Some(t) = &r.matcher {
            self.target(t, r.matcher_span);
        } else if !self
            .slice(r.matcher_span)
            .is_some_and(|m| m.starts_with("everything") && m.ends_with("else"))
        {
            self.fail(
                "route matcher",
                r.matcher_span,
                "should cover `everything else`",
            );
        }
        self.name(&r.via, span);
        if r.via.span.start < r.matcher_span.end {
            self.fail("route distributor", r.via.span, "comes before the matcher");
        }
    }

    /// A match rule holds its tolerance or finding class.
    fn match_rule(&mut self, m: &MatchRule, span: Span) {
        self.starts_with("match", span, "match");
        match &m.kind {
            tenor_dsl::ast::MatchRuleKind::Tolerance(n) => self.inside("tolerance", n.span, span),
            tenor_dsl::ast::MatchRuleKind::Ignore(c) => self.name(c, span),
        }
    }
}

#[test]
fn spans_of_valid_files_are_in_bounds_ordered_and_nested() {
    let mut problems = Vec::new();
    for (name, text) in all_valid_files() {
        let mut sources = SourceSet::new();
        let id = sources.add(name.clone(), text.clone());
        let (file, diags) = tenor_dsl::parse(&sources, id);
        assert!(
            diags.is_empty(),
            "{name} does not parse:\n{}",
            render_plain(&sources, &diags)
        );
        let whole = Span::new(id, 0, text.len());
        let mut v = Spans {
            name: &name,
            text: &text,
            problems: Vec::new(),
        };
        for item in &file.items {
            v.inside("statement", item.span(), whole);
            if item.span().file != id {
                v.fail("statement", item.span(), "names the wrong file");
            }
            v.item(item);
        }
        let items: Vec<Span> = file.items.iter().map(Item::span).collect();
        v.ordered("statement", &items);
        for c in &file.comments {
            v.exact("comment", c.span, whole, &format!("#{}", c.text));
            for item in &file.items {
                let s = item.span();
                if c.span.start >= s.start && c.span.end <= s.end {
                    // Comments inside blocks are fine; a comment must never cut a statement's
                    // words apart, which the name and number checks above would catch.
                    continue;
                }
                if c.span.start < s.end && c.span.end > s.start {
                    v.fail("comment", c.span, "overlaps a statement");
                }
            }
        }
        let comments: Vec<Span> = file.comments.iter().map(|c| c.span).collect();
        v.ordered("comment", &comments);
        problems.extend(v.problems);
    }
    assert!(
        problems.is_empty(),
        "span invariants broken:\n{}",
        problems.join("\n")
    );
}
