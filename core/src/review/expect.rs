//! Expectation files (`rules/tests/*.yaml`, documented in `rules/tests/README.md`): quotes and
//! the figures, charges, discounts or error an admin expects of them, checked against a rule
//! set. A failure names what was expected, what came out and the rule lines that made it.

use super::rules::{RuleBook, read_quote};
use super::{Figures, ReviewError, charge_rules};
use crate::engine::pricing::{self, ChargeKind, PriceOptions, PricedQuote};
use crate::engine::quote::{QuoteError, QuoteFile};
use crate::files::yaml::{self, Positions};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// An expectation file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    tests: Vec<TestDoc>,
}

/// One test: a quote and what it must give.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestDoc {
    name: String,
    quote: QuoteRef,
    expect: ExpectDoc,
}

/// The path of a quote file (relative to the expectation file) or the quote written inline.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum QuoteRef {
    Path(String),
    Inline(serde_yaml::Mapping),
}

/// What a test expects.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectDoc {
    first_invoice: Option<Decimal>,
    mrr: Option<Decimal>,
    arr: Option<Decimal>,
    contract_value: Option<Decimal>,
    margin: Option<Decimal>,
    #[serde(default)]
    charges: Vec<ChargeDoc>,
    #[serde(default)]
    fires: Vec<String>,
    #[serde(default)]
    does_not_fire: Vec<String>,
    error: Option<ErrorDoc>,
}

/// A charge: what quote line `line` bills on `date` (net), or only its discount `discount`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChargeDoc {
    line: usize,
    date: NaiveDate,
    discount: Option<String>,
    amount: Decimal,
}

/// An expected error: at `field` (`lines[0].product`), its message containing `message`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorDoc {
    field: Option<String>,
    message: Option<String>,
}

/// One expectation not met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What was checked (`first invoice`, `line 4 on 2026-12-07`, `discount welcome`).
    pub what: String,
    /// What the test says.
    pub expected: String,
    /// What the rules gave.
    pub got: String,
    /// The rule lines (`file:line`) that made what came out.
    pub rules: Vec<String>,
    /// Why, when the engine says (a discount's reason for not firing).
    pub note: Option<String>,
    /// Where the expectation is written in the test file (line, column).
    pub at: Option<(usize, usize)>,
}

/// A value of the test file that `--update` would rewrite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// 1-based line and column of the value.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The value as written.
    pub old: String,
    /// The value the rules give.
    pub new: String,
}

/// The outcome of one test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The test's name.
    pub name: String,
    /// Every expectation not met (none: passed).
    pub failures: Vec<Failure>,
    /// The values `--update` would rewrite.
    pub updates: Vec<Update>,
    /// Failures `--update` cannot write (an error expected, a discount list).
    pub not_updatable: usize,
}

/// One expectation file and its tests' outcomes.
#[derive(Clone, Debug)]
pub struct FileRun {
    /// The file's name.
    pub file: String,
    /// Its text.
    pub text: String,
    /// Its tests in written order; empty when the file has problems.
    pub outcomes: Vec<Outcome>,
    /// Problems of the file itself, located; its tests were not run.
    pub errors: Vec<QuoteError>,
}

/// Every expectation file of a run.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Files by path.
    pub files: Vec<FileRun>,
}

impl Run {
    /// Tests that passed.
    pub fn passed(&self) -> usize {
        self.outcomes().filter(|o| o.failures.is_empty()).count()
    }

    /// Tests that failed, counting each file with problems as one.
    pub fn failed(&self) -> usize {
        let broken = self.files.iter().filter(|f| !f.errors.is_empty()).count();
        self.outcomes().filter(|o| !o.failures.is_empty()).count() + broken
    }

    fn outcomes(&self) -> impl Iterator<Item = &Outcome> {
        self.files.iter().flat_map(|f| f.outcomes.iter())
    }
}

/// The expectation files (`.yaml`, `.yml`) under `dir` (or `dir` itself, a file), sorted.
pub fn test_files(dir: &Path) -> Result<Vec<PathBuf>, ReviewError> {
    if dir.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ReviewError::Io(format!("cannot read {}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(ReviewError::Io(format!(
            "no expectation files (*.yaml) in {}",
            dir.display()
        )));
    }
    Ok(files)
}

/// Runs every test of every file against `rules`.
pub fn run(files: &[PathBuf], rules: &RuleBook) -> Result<Run, ReviewError> {
    let mut run = Run::default();
    for path in files {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ReviewError::Io(format!("cannot read {name}: {e}")))?;
        run.files.push(run_file(path, name, text, rules));
    }
    Ok(run)
}

/// A file's tests, or its problems when it does not read.
fn run_file(path: &Path, name: String, text: String, rules: &RuleBook) -> FileRun {
    let mut file = FileRun {
        file: name,
        text,
        outcomes: Vec::new(),
        errors: Vec::new(),
    };
    let doc: FileDoc = match yaml::from_str(&file.text) {
        Ok(d) => d,
        Err(e) => {
            file.errors.push(QuoteError {
                file: file.file.clone(),
                line: e.line,
                column: e.column,
                field: String::new(),
                message: e.message,
                help: Some("see rules/tests/README.md for the format".into()),
            });
            return file;
        }
    };
    let pos = Positions::of(&file.text);
    let base = path.parent().unwrap_or(Path::new("."));
    let mut quotes = Vec::new();
    for (i, t) in doc.tests.iter().enumerate() {
        let at = |field: &str, message: String, help: Option<String>| {
            located(
                &file.file,
                &pos,
                &format!("tests[{i}].{field}"),
                message,
                help,
            )
        };
        file.errors.extend(check_test(t, rules, &at));
        match resolve(t, base, &file.file, i) {
            Ok(q) => quotes.push(q),
            Err(e) => file.errors.push(at("quote", e, None)),
        }
    }
    if file.errors.is_empty() {
        for (i, (t, q)) in doc.tests.iter().zip(quotes).enumerate() {
            file.outcomes
                .push(run_test(t, q, rules, &pos, &file.text, i));
        }
    }
    file
}

/// A problem at `field` of an expectation file.
fn located(
    file: &str,
    pos: &Positions,
    field: &str,
    message: String,
    help: Option<String>,
) -> QuoteError {
    let p = pos.get(field);
    QuoteError {
        file: file.to_string(),
        line: p.map(|p| p.0),
        column: p.map(|p| p.1),
        field: field.to_string(),
        message,
        help,
    }
}

/// What is wrong with a test as written, before it runs: nothing to check, an error expected
/// together with figures, a discount the rules do not have, a discount both fired and not.
fn check_test(
    t: &TestDoc,
    rules: &RuleBook,
    at: &dyn Fn(&str, String, Option<String>) -> QuoteError,
) -> Vec<QuoteError> {
    let mut errors = Vec::new();
    let e = &t.expect;
    let figures = [e.first_invoice, e.mrr, e.arr, e.contract_value, e.margin];
    let checks_price = figures.iter().any(Option::is_some)
        || !e.charges.is_empty()
        || !e.fires.is_empty()
        || !e.does_not_fire.is_empty();
    match (&e.error, checks_price) {
        (None, false) => errors.push(at(
            "expect",
            format!("test `{}` expects nothing", t.name),
            Some("give figures (first_invoice, mrr, …), charges, fires or an error".into()),
        )),
        (Some(_), true) => errors.push(at(
            "expect.error",
            "a test expects either an error or figures, not both".into(),
            None,
        )),
        _ => {}
    }
    let known = |d: &str| d == "manual" || rules.catalogue.discounts.iter().any(|r| &*r.name == d);
    let lists = [("fires", &e.fires), ("does_not_fire", &e.does_not_fire)];
    for (key, names) in lists {
        for (j, d) in names.iter().enumerate() {
            if !known(d) {
                errors.push(at(
                    &format!("expect.{key}[{j}]"),
                    format!("the rules have no discount `{d}`"),
                    Some(discount_names(rules)),
                ));
            }
        }
    }
    for (j, d) in e.does_not_fire.iter().enumerate() {
        if e.fires.contains(d) {
            errors.push(at(
                &format!("expect.does_not_fire[{j}]"),
                format!("discount `{d}` is expected both to fire and not to fire"),
                None,
            ));
        }
    }
    for (j, c) in e.charges.iter().enumerate() {
        if let Some(d) = c.discount.as_deref().filter(|d| !known(d)) {
            errors.push(at(
                &format!("expect.charges[{j}].discount"),
                format!("the rules have no discount `{d}`"),
                Some(discount_names(rules)),
            ));
        }
    }
    errors
}

/// `discounts in the rules: a, b, manual`.
fn discount_names(rules: &RuleBook) -> String {
    let mut names: Vec<&str> = rules.catalogue.discounts.iter().map(|r| &*r.name).collect();
    names.push("manual");
    format!("discounts in the rules: {}", names.join(", "))
}

/// A test's quote as a file: read from its path, or the inline quote written out as YAML.
/// A quote that does not parse is kept as its error, which the test may expect.
fn resolve(
    t: &TestDoc,
    base: &Path,
    file: &str,
    i: usize,
) -> Result<Result<QuoteFile, Box<QuoteError>>, String> {
    match &t.quote {
        QuoteRef::Path(p) => {
            let path = base.join(p);
            if !path.is_file() {
                return Err(format!("there is no quote file {}", path.display()));
            }
            match read_quote(&path) {
                Ok(q) => Ok(Ok(q)),
                Err(ReviewError::File { errors, .. }) => match errors.into_iter().next() {
                    Some(e) => Ok(Err(Box::new(e))),
                    None => Err(format!("the quote {} does not read", path.display())),
                },
                Err(e) => Err(e.to_string()),
            }
        }
        QuoteRef::Inline(m) => {
            let text = serde_yaml::to_string(m).map_err(|e| e.to_string())?;
            let name = format!("{file}#tests[{i}].quote");
            Ok(QuoteFile::parse(&name, &text))
        }
    }
}

/// Runs one test: prices its quote with explanations and checks every expectation.
fn run_test(
    t: &TestDoc,
    quote: Result<QuoteFile, Box<QuoteError>>,
    rules: &RuleBook,
    pos: &Positions,
    text: &str,
    i: usize,
) -> Outcome {
    let mut out = Outcome {
        name: t.name.clone(),
        failures: Vec::new(),
        updates: Vec::new(),
        not_updatable: 0,
    };
    let priced = quote.and_then(|q| {
        pricing::price(&rules.catalogue, &q.quote, &PriceOptions { explain: true })
            .map_err(|errs| Box::new(joined(&q, errs)))
    });
    let base = format!("tests[{i}].expect");
    match (&t.expect.error, priced) {
        (Some(want), Err(got)) => check_error(want, &got, &mut out, pos, &base),
        (Some(_), Ok(p)) => out.failures.push(Failure {
            what: "error".into(),
            expected: "the quote to be refused".into(),
            got: format!("a priced quote, first invoice {}", p.totals.first_invoice),
            rules: Vec::new(),
            note: None,
            at: pos.get(&format!("{base}.error")),
        }),
        (None, Err(got)) => out.failures.push(Failure {
            what: "the quote".into(),
            expected: "to price".into(),
            got: got.to_string(),
            rules: Vec::new(),
            note: None,
            at: pos.get(&format!("tests[{i}].quote")),
        }),
        (None, Ok(p)) => check_priced(&t.expect, &p, &mut out, pos, text, &base),
    }
    out.not_updatable = out.failures.len().saturating_sub(out.updates.len());
    out
}

/// Every pricing problem of a quote as one error at the first one's field: an expected error
/// is searched for in all of them.
fn joined(q: &QuoteFile, errs: Vec<pricing::PriceError>) -> QuoteError {
    let all: Vec<QuoteError> = errs
        .into_iter()
        .map(|e| q.error(&e.field, e.message, e.help))
        .collect();
    let message = all
        .iter()
        .map(|e| e.message.clone())
        .collect::<Vec<_>>()
        .join("; ");
    match all.into_iter().next() {
        Some(first) => QuoteError { message, ..first },
        None => q.error("", "the quote does not price", None),
    }
}

/// An expected error against the one the quote gave.
fn check_error(want: &ErrorDoc, got: &QuoteError, out: &mut Outcome, pos: &Positions, base: &str) {
    let field_ok = want.field.as_ref().is_none_or(|f| *f == got.field);
    let message_ok = want
        .message
        .as_ref()
        .is_none_or(|m| got.message.to_lowercase().contains(&m.to_lowercase()));
    if field_ok && message_ok {
        return;
    }
    let expected = match (&want.field, &want.message) {
        (Some(f), Some(m)) => format!("an error at `{f}` saying `{m}`"),
        (Some(f), None) => format!("an error at `{f}`"),
        (None, Some(m)) => format!("an error saying `{m}`"),
        (None, None) => "an error".into(),
    };
    out.failures.push(Failure {
        what: "error".into(),
        expected,
        got: format!("`{}`: {}", got.field, got.message),
        rules: Vec::new(),
        note: None,
        at: pos.get(&format!("{base}.error")),
    });
}

/// Figures, charges and discounts against the priced quote.
fn check_priced(
    e: &ExpectDoc,
    p: &PricedQuote,
    out: &mut Outcome,
    pos: &Positions,
    text: &str,
    base: &str,
) {
    let got = Figures::of(&p.totals);
    let wanted = [
        ("first_invoice", e.first_invoice),
        ("mrr", e.mrr),
        ("arr", e.arr),
        ("contract_value", e.contract_value),
        ("margin", e.margin),
    ];
    for ((key, want), (_, have)) in wanted.iter().zip(got.named()) {
        let Some(want) = want else { continue };
        if *want != have {
            let field = format!("{base}.{key}");
            out.failures.push(Failure {
                what: key.replace('_', " "),
                expected: shown(*want, have),
                got: have.to_string(),
                rules: figure_rules(p, key),
                note: None,
                at: pos.get(&field),
            });
            push_update(out, pos, text, &field, have);
        }
    }
    for (j, c) in e.charges.iter().enumerate() {
        check_charge(c, p, out, pos, text, &format!("{base}.charges[{j}]"));
    }
    check_discounts(e, p, out, pos, base);
}

/// An expected amount as the got one is written (`-90.3` read from `-90.30` shown `-90.30`).
fn shown(want: Decimal, have: Decimal) -> String {
    let mut w = want;
    if w.scale() < have.scale() {
        w.rescale(have.scale());
    }
    w.to_string()
}

/// The rule lines behind a figure: those of every charge it sums.
fn figure_rules(p: &PricedQuote, key: &str) -> Vec<String> {
    let first = p
        .lines
        .iter()
        .flat_map(|l| l.charges.iter())
        .map(|c| c.bill_date)
        .min();
    let mut at: Vec<String> = Vec::new();
    for l in &p.lines {
        for c in &l.charges {
            let counts = match key {
                "first_invoice" => Some(c.bill_date) == first,
                "mrr" | "arr" => {
                    l.billing_months > 0
                        && matches!(c.kind, ChargeKind::Recurring | ChargeKind::Discount)
                }
                _ => true,
            };
            if counts {
                for a in charge_rules(l, c) {
                    if !at.contains(&a) {
                        at.push(a);
                    }
                }
            }
        }
    }
    at
}

/// One named charge: what a line bills on a date (net, or one discount of it).
fn check_charge(
    c: &ChargeDoc,
    p: &PricedQuote,
    out: &mut Outcome,
    pos: &Positions,
    text: &str,
    field: &str,
) {
    let what = match &c.discount {
        Some(d) => format!("line {} on {}, discount {d}", c.line, c.date),
        None => format!("line {} on {}", c.line, c.date),
    };
    let Some(line) = p.lines.iter().find(|l| l.line == c.line) else {
        out.failures.push(Failure {
            what,
            expected: c.amount.to_string(),
            got: format!("no line {} (the quote has {})", c.line, p.lines.len()),
            rules: Vec::new(),
            note: None,
            at: pos.get(field),
        });
        return;
    };
    let picked: Vec<_> = line
        .charges
        .iter()
        .filter(|ch| ch.bill_date == c.date)
        .filter(|ch| match &c.discount {
            Some(d) => ch.kind == ChargeKind::Discount && ch.rule.as_deref() == Some(d.as_str()),
            None => true,
        })
        .collect();
    let have: Decimal = picked.iter().map(|ch| ch.amount).sum();
    if picked.is_empty() || have != c.amount {
        let mut rules: Vec<String> = Vec::new();
        for a in picked.iter().flat_map(|ch| charge_rules(line, ch)) {
            if !rules.contains(&a) {
                rules.push(a);
            }
        }
        let got = match picked.is_empty() {
            true => "nothing billed that day".to_string(),
            false => have.to_string(),
        };
        out.failures.push(Failure {
            what,
            expected: shown(c.amount, have),
            got,
            rules,
            note: None,
            at: pos.get(&format!("{field}.amount")),
        });
        if !picked.is_empty() {
            push_update(out, pos, text, &format!("{field}.amount"), have);
        }
    }
}

/// Discounts that must, or must not, fire on some charge of the quote.
fn check_discounts(e: &ExpectDoc, p: &PricedQuote, out: &mut Outcome, pos: &Positions, base: &str) {
    let verdicts: Vec<_> = p
        .lines
        .iter()
        .flat_map(|l| l.charges.iter())
        .filter_map(|c| c.detail())
        .flat_map(|d| d.verdicts.iter())
        .collect();
    let fired = |d: &str| verdicts.iter().any(|v| v.applied && &*v.rule == d);
    let lists = [
        (true, "fires", &e.fires),
        (false, "does_not_fire", &e.does_not_fire),
    ];
    for (must, key, names) in lists {
        for (j, d) in names.iter().enumerate() {
            if fired(d) == must {
                continue;
            }
            // The verdict that shows it: the first that fired, or the first that did not.
            let shown = verdicts.iter().find(|v| &*v.rule == d && v.applied != must);
            out.failures.push(Failure {
                what: format!("discount {d}"),
                expected: if must { "fires" } else { "does not fire" }.into(),
                got: if must { "did not fire" } else { "fired" }.into(),
                rules: shown.and_then(|v| v.at.clone()).into_iter().collect(),
                note: shown.map(|v| v.why.clone()),
                at: pos.get(&format!("{base}.{key}[{j}]")),
            });
        }
    }
}

/// Records that the scalar at `field` would become `new` under `--update`.
fn push_update(out: &mut Outcome, pos: &Positions, text: &str, field: &str, new: Decimal) {
    let Some((line, column)) = pos.value(field) else {
        return;
    };
    let Some(src) = text.lines().nth(line.saturating_sub(1)) else {
        return;
    };
    let old: String = src
        .chars()
        .skip(column.saturating_sub(1))
        .take_while(|c| !c.is_whitespace() && *c != '#' && *c != ',' && *c != '}')
        .collect();
    if old.is_empty() {
        return;
    }
    out.updates.push(Update {
        line,
        column,
        old,
        new: new.to_string(),
    });
}

/// The file's text with every update written in place (comments and layout kept).
pub fn apply_updates(text: &str, updates: &[&Update]) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    for u in updates {
        let Some(l) = lines.get_mut(u.line.saturating_sub(1)) else {
            continue;
        };
        let chars: Vec<char> = l.chars().collect();
        let start = u.column.saturating_sub(1);
        let end = start + u.old.chars().count();
        let same = chars
            .get(start..end)
            .is_some_and(|s| s.iter().copied().eq(u.old.chars()));
        if same {
            let before: String = chars.iter().take(start).collect();
            let after: String = chars.iter().skip(end).collect();
            *l = format!("{before}{}{after}", u.new);
        }
    }
    lines.join("\n")
}
