//! Bugs once found in `tenor-dsl` and `tenor-core` by the fixture, formatter and fuzz tests,
//! each as the smallest input that showed it, so they stay fixed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use tenor_core::cli::{Exit, run};
use tenor_dsl::diagnostic::render_plain;
use tenor_dsl::diagnostic::termcolor::NoColor;
use tenor_dsl::{Diagnostic, SourceSet};
use tenor_tests::format_ok;

fn check(text: &str) -> (SourceSet, Result<(), Vec<Diagnostic>>) {
    let mut sources = SourceSet::new();
    sources.add("bug.tenor", text);
    let result = tenor_dsl::check(&sources).map(|_| ());
    (sources, result)
}

fn diagnostics(text: &str) -> (SourceSet, Vec<Diagnostic>) {
    match check(text) {
        (sources, Err(diags)) => (sources, diags),
        (_, Ok(())) => panic!("expected problems, but this checks clean:\n{text}"),
    }
}

/// A clean product around one price line, to test a number or term in isolation.
fn product_with(line: &str) -> String {
    format!(
        "currency USD\nvendor contoso\nproduct SVC \"Service\" {{\n  vendor contoso\n  unit user\n  not bought\n  {line}\n}}\n"
    )
}

// ------------------------------------------------------------------ formatter

/// Alignment groups (runs of declarations or routes) end at a comment, and the formatter
/// itself moves a comment that ends a line of two statements up to the first of them, between
/// the two; the second run then aligns differently. Found by `never_panics.rs`.
#[test]

fn a_comment_after_two_statements_on_one_line_formats_stably() {
    let text = "vendor microsoft \"Microsoft\" distributor ingram \"Ingram Micro\" # note\n";
    let once = format_ok("bug.tenor", text);
    let twice = format_ok("bug.tenor", &once);
    assert_eq!(twice, once);
}

/// The comment also changes what it annotates: written after `rounding`, it ends up after
/// `currency`.
#[test]

fn a_comment_ending_a_line_stays_with_the_statement_it_follows() {
    let out = format_ok(
        "bug.tenor",
        "currency USD; rounding half_even # banker's rounding\n",
    );
    assert_eq!(
        out,
        "currency USD\nrounding half_even  # banker's rounding\n"
    );
}

/// Same cause: a comment inside a statement written over two lines is moved after it, where on
/// the next run it splits an alignment group. Found by `never_panics.rs`.
#[test]

fn a_comment_inside_a_statement_formats_stably() {
    let text = "distributor pax8 # note\n\"Pax8\"\ndistributor ingram \"Ingram Micro\"\n";
    let once = format_ok("bug.tenor", text);
    let twice = format_ok("bug.tenor", &once);
    assert_eq!(twice, once);
}

// ------------------------------------------------------------------ numbers and terms

/// `Decimal::from_str` rounds digits beyond 28 significant places instead of failing, so the
/// parser's "too large or too precise" check never sees them: the price silently becomes 36.
#[test]

fn an_over_precise_price_is_reported_not_rounded() {
    let (_, diags) = diagnostics(&product_with(
        "P1Y monthly 36.00000000000000000000000000001 a month",
    ));
    assert_eq!(diags[0].code, "bad-number", "{diags:?}");
}

/// The same rounding turns a tiny positive step into zero, and the message then blames the
/// author for a zero they did not write.
#[test]

fn a_tiny_price_step_is_not_called_zero() {
    let (_, diags) = diagnostics("currency USD\nprice step 0.00000000000000000000000000001\n");
    assert_eq!(diags[0].code, "bad-number", "{diags:?}");
}

/// Terms are capped at 1200 *units*, whatever the unit: `P1201M` (100 years and a month) is
/// refused as "longer than 100 years" while `P1200Y` (1200 years) is accepted.
#[test]

fn a_term_of_1200_years_is_too_long() {
    let (_, diags) = diagnostics(&product_with("P1200Y monthly 1.00 a month"));
    assert_eq!(diags[0].code, "bad-term", "{diags:?}");
}

// ------------------------------------------------------------------ spans

/// A span ends at the last token pest reports as a pair, so the literal `%` is left out:
/// the caret under `150%` covers `150`, and under `margin 20%` covers `margin 20`.
#[test]

fn a_percentage_span_covers_the_percent_sign() {
    let text = "currency USD\ndiscount d: 150% off every line\n";
    let (sources, diags) = diagnostics(text);
    let d = &diags[0];
    assert_eq!(d.code, "bad-percent");
    assert_eq!(&sources.text(d.span.file)[d.span.start..d.span.end], "150%");
}

// ------------------------------------------------------------------ syntax errors

/// Grammar rule names leak into "expected …" lists: `p part` (the part-number line) and
/// `party kind` (vendor, distributor, psa, category).
#[test]

fn syntax_errors_do_not_name_grammar_rules() {
    for text in [
        "currency USD\nprodcut X \"X\" {\n}\n",
        "currency USD\nvendor v\nproduct X \"X\" {\n  vendr v\n}\n",
    ] {
        let (sources, diags) = diagnostics(text);
        let shown = render_plain(&sources, &diags);
        assert!(
            !shown.contains("p part") && !shown.contains("party kind"),
            "{shown}"
        );
    }
}

/// Recovery splits the file before every line that starts in column 1 with a statement word,
/// even inside a block. A block entry written at column 1 (legal: layout is free) then turns
/// one real error elsewhere into three, the first claiming "end of file" in the middle of it.
#[test]

fn an_unindented_entry_does_not_produce_false_syntax_errors() {
    let text = "currency USD\nvendor microsoft \"Microsoft\"\nproduct A \"A\" {\nvendor microsoft\n  unit user\n  P1Y monthly 3.00 a month\n}\nroute vendor microsoft via\n";
    let (sources, diags) = diagnostics(text);
    let lines: Vec<usize> = diags
        .iter()
        .map(|d| sources.line_col(d.span.file, d.span.start).line)
        .collect();
    assert!(
        lines.iter().all(|l| *l >= 8),
        "only the route on line 8 is broken:\n{}",
        render_plain(&sources, &diags)
    );
}

// ------------------------------------------------------------------ help texts

/// `product SEC` where `SEC` is a bundle, in a discount (also a route or `applies to`), gets the
/// help written for bundles inside bundles.
#[test]

fn a_bundle_named_as_a_product_in_a_discount_gets_fitting_help() {
    let text = "currency USD\nvendor contoso\nproduct MDB \"Defender\" {\n  vendor contoso\n  unit user\n  not bought\n  P1Y monthly 3.00 a month\n}\nbundle SEC \"Security\" {\n  includes 1 MDB\n  P1Y monthly 5.00 a month\n}\ndiscount d: 10% off product SEC\n";
    let (_, diags) = diagnostics(text);
    let help = diags[0].help.clone().unwrap_or_default();
    assert!(!help.contains("bundles cannot contain bundles"), "{help}");
    assert!(
        help.contains("bundle SEC"),
        "should suggest `bundle SEC`: {help}"
    );
}

/// A negative quantity in a discount condition is told that "prices and costs are zero or more".
#[test]

fn a_negative_quantity_gets_fitting_help() {
    let (_, diags) =
        diagnostics("currency USD\ndiscount v: 5% off every line when quantity at least -10\n");
    let help = diags[0].help.clone().unwrap_or_default();
    assert!(!help.contains("prices and costs"), "{help}");
}

/// Bounds are printed as bare decimals in tier messages: the author wrote `10,000`, the message
/// says `10000` and suggests writing `above 10000`.
#[test]

fn tier_messages_print_bounds_as_written() {
    let text = "currency USD\ntiers t graduated per GB a month {\n  up to 10,000 0.05\n  above 12,000 0.03\n}\n";
    let (sources, diags) = diagnostics(text);
    let shown = render_plain(&sources, &diags);
    assert!(!shown.contains("10000"), "{shown}");
}

// ------------------------------------------------------------------ command line

/// README: exit 1 means "the input has problems (diagnostics printed)", 2 "the command could
/// not run". `tenor fmt` on a file that does not parse prints its diagnostics and exits 2.
#[test]

fn fmt_on_a_file_that_does_not_parse_exits_1() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("known-bugs-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.tenor");
    std::fs::write(&path, "currency USD\nproduct X \"X\" {\n").unwrap();
    let mut out = Vec::new();
    let mut err = NoColor::new(Vec::new());
    let args = vec!["tenor".into(), "fmt".into(), path.clone().into_os_string()];
    let exit = run(args, &mut out, &mut err);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(exit, Exit::Failure);
}

/// `parse_term` once sliced the term by byte index and panicked on `P1é`.
#[test]
fn a_term_with_a_multibyte_character_is_an_error_not_a_panic() {
    for t in ["P1é", "Pé", "é", "P1€Y", "P"] {
        assert!(tenor_core::engine::pricing::parse_term(t).is_err(), "{t}");
    }
    assert_eq!(tenor_core::engine::pricing::parse_term("P3Y"), Ok(Some(36)));
    assert_eq!(
        tenor_core::engine::pricing::parse_term("one-time"),
        Ok(None)
    );
}
