//! `tenor reconcile --month YYYY-MM [--customer C] [--format table|json]`: the month's
//! reconciliation (see [`crate::reconcile`]) as the match's table or `tenor.reconcile/1`.

use crate::cli::Ctx;
use crate::cli::args::Format;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::matching::rebuild_error;
use crate::cli::reconcile_apply;
pub use crate::cli::reconcile_apply::Apply;
use crate::engine::money::money;
use crate::reconcile::{self, Ask, RECONCILE};
use crate::record::reconciled::MonthTallies;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::Path;

/// What `tenor reconcile --month` is asked.
pub struct MonthArgs<'a> {
    /// The month, `YYYY-MM`.
    pub month: &'a str,
    /// Only this customer.
    pub customer: Option<&'a str>,
    /// The rules in force (`--rules DIR`): what a renewal is billed and bought at; none given,
    /// the rules of the latest acceptance in the record.
    pub rules: &'a [std::path::PathBuf],
    /// `--apply`: the PSA changes shown, and sent when confirmed.
    pub apply: Option<Apply<'a>>,
    /// Table or JSON.
    pub format: Format,
}

/// `tenor reconcile`: exit 0 when everything agrees, 1 with findings (or a change of
/// `--apply` not completed); no record or a bad month is an error (exit 2).
pub fn reconcile_cmd(args: &MonthArgs<'_>, db_flag: Option<&Path>, ctx: &mut Ctx<'_>) -> CliResult {
    let (month, customer, rules) = (args.month, args.customer, args.rules);
    if !is_month(month) {
        return Err(CliError::Run(format!(
            "`--month {month}` is not a month: write YYYY-MM (2027-01)"
        )));
    }
    let path = db::path(db_flag, &[]);
    if !path.is_file() {
        return Err(CliError::Run(format!(
            "there is no record at {}: accept, push and pull first, or pass --db",
            path.display()
        )));
    }
    let mut record = db::open(db_flag, &[])?;
    // Only when given: without them the record's latest rule set is in force.
    let in_force = if rules.is_empty() {
        None
    } else {
        Some(crate::cli::load::rules(rules)?)
    };
    let ask = Ask {
        month,
        customer,
        rules: in_force.as_ref().map(|r| &r.catalogue),
    };
    let done = reconcile::month(&record, &ask).map_err(rebuild_error)?;
    let report = &done.report;
    let mut doc = month_json(&done);
    let plan = match &args.apply {
        Some(_) => Some(reconcile_apply::planned(&record, &done)?),
        None => None,
    };
    if let (Some(p), Some(o)) = (&plan, doc.as_object_mut()) {
        o.insert("apply".into(), reconcile_apply::json(p, None));
    }
    // Every run is kept: the trend reads each month's latest.
    let run = record
        .record_reconciliation(
            month,
            customer.unwrap_or_default(),
            &doc,
            &reconcile::tallies(report),
        )
        .map_err(db::error)?;
    ctx.status(format_args!(
        "reconciliation of {month} recorded (run {run})"
    ));
    if args.format == Format::Table {
        writeln!(
            ctx.out,
            "{}: {} quotes reconciled",
            done.month,
            done.quotes.len()
        )?;
        ctx.out
            .write_all(crate::cli::render::matching::table(report).as_bytes())?;
    }
    let mut verdict = crate::cli::matching::verdict(report);
    if let (Some(a), Some(p)) = (&args.apply, &plan) {
        if !reconcile_apply::run(&mut record, p, a, args.format, &mut doc, ctx)? {
            verdict = Exit::Failure;
        }
    }
    if args.format == Format::Json {
        let mut text = serde_json::to_string_pretty(&doc)?;
        text.push('\n');
        ctx.out.write_all(text.as_bytes())?;
    }
    Ok(verdict)
}

/// The `tenor.reconcile/1` document of a month: the report, the quotes, each finding's action.
fn month_json(done: &reconcile::Reconciliation) -> serde_json::Value {
    let report = &done.report;
    let mut doc = report.to_json();
    if let Some(o) = doc.as_object_mut() {
        o.insert("schema".into(), RECONCILE.into());
        o.insert("month".into(), done.month.clone().into());
        let quotes: Vec<serde_json::Value> = done
            .quotes
            .iter()
            .map(|(c, q, r)| serde_json::json!({"customer": c, "quote": q, "revision": r}))
            .collect();
        o.insert("quotes".into(), quotes.into());
        // Each finding says what to do, in the same order as the report's findings.
        let first = chrono::NaiveDate::parse_from_str(&format!("{}-01", done.month), "%Y-%m-%d")
            .unwrap_or_default();
        if let Some(list) = o.get_mut("findings").and_then(|f| f.as_array_mut()) {
            for (doc_f, f) in list.iter_mut().zip(&report.findings) {
                if let Some(m) = doc_f.as_object_mut() {
                    m.insert("action".into(), reconcile::action(f, first).into());
                }
            }
        }
    }
    doc
}

/// Schema of `tenor reconcile --since --format json`.
pub const TREND: &str = "tenor.reconcile-trend/1";

/// What `tenor reconcile --since` is asked.
pub struct TrendArgs<'a> {
    /// From this month on, `YYYY-MM`.
    pub since: &'a str,
    /// The reconciliations run for this customer (else those of every customer).
    pub customer: Option<&'a str>,
    /// Also write the HTML report here.
    pub html: Option<&'a Path>,
    /// Table or JSON.
    pub format: Format,
}

/// One month of the trend, summed from its tallies.
struct TrendMonth<'a> {
    m: &'a MonthTallies,
    findings: u32,
    money: Decimal,
    unknown: u32,
    by_customer: BTreeMap<&'a str, Decimal>,
    by_class: BTreeMap<&'a str, Decimal>,
}

fn summed(m: &MonthTallies) -> TrendMonth<'_> {
    let mut t = TrendMonth {
        m,
        findings: 0,
        money: Decimal::ZERO,
        unknown: 0,
        by_customer: BTreeMap::new(),
        by_class: BTreeMap::new(),
    };
    for x in &m.tallies {
        t.findings += x.findings;
        t.money += x.money_at_risk;
        t.unknown += x.unknown;
        *t.by_customer.entry(x.customer.as_str()).or_default() += x.money_at_risk;
        *t.by_class.entry(x.class.as_str()).or_default() += x.money_at_risk;
    }
    t
}

/// `tenor reconcile --since`: the months' latest runs as a trend; exit 0 (a trend is a report,
/// not a check). No month recorded is an error naming `tenor reconcile --month`.
pub fn trend_cmd(args: &TrendArgs<'_>, db_flag: Option<&Path>, ctx: &mut Ctx<'_>) -> CliResult {
    let since = args.since;
    if !is_month(since) {
        return Err(CliError::Run(format!(
            "`--since {since}` is not a month: write YYYY-MM (2027-01)"
        )));
    }
    let path = db::path(db_flag, &[]);
    if !path.is_file() {
        return Err(CliError::Run(format!(
            "there is no record at {}: reconcile a month first (`tenor reconcile --month YYYY-MM`)",
            path.display()
        )));
    }
    let record = db::open(db_flag, &[])?;
    let scope = args.customer.unwrap_or_default();
    let months = record
        .reconciliation_trend(since, scope)
        .map_err(db::error)?;
    if months.is_empty() {
        return Err(CliError::Run(format!(
            "no month from {since} on was reconciled{}: run `tenor reconcile --month YYYY-MM{}` first",
            args.customer
                .map(|c| format!(" for {c}"))
                .unwrap_or_default(),
            args.customer
                .map(|c| format!(" --customer {c}"))
                .unwrap_or_default(),
        )));
    }
    let sums: Vec<TrendMonth<'_>> = months.iter().map(summed).collect();
    let doc = trend_json(since, scope, &sums);
    if let Some(file) = args.html {
        let page = crate::cli::render::reconcile::page(&doc);
        crate::files::atomic::write(file, page.as_bytes())
            .map_err(|e| CliError::Run(format!("cannot write {}: {e}", file.display())))?;
        ctx.status(format_args!("wrote {}", file.display()));
    }
    match args.format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&doc)?;
            text.push('\n');
            ctx.out.write_all(text.as_bytes())?;
        }
        Format::Table => {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header([
                "Month",
                "Run",
                "Findings",
                "Money at risk",
                "Amount unknown",
                "By class",
            ]);
            for s in &sums {
                let classes: Vec<String> = s
                    .by_class
                    .iter()
                    .map(|(c, m)| format!("{c} {}", money(*m)))
                    .collect();
                t.add_row([
                    s.m.month.clone(),
                    s.m.run.to_string(),
                    s.findings.to_string(),
                    money(s.money),
                    s.unknown.to_string(),
                    classes.join(", "),
                ]);
            }
            writeln!(ctx.out, "{t}")?;
        }
    }
    Ok(Exit::Success)
}

/// The `tenor.reconcile-trend/1` document: per month its totals, per customer and per class.
fn trend_json(since: &str, scope: &str, sums: &[TrendMonth<'_>]) -> serde_json::Value {
    let months: Vec<serde_json::Value> = sums
        .iter()
        .map(|s| {
            let map = |m: &BTreeMap<&str, Decimal>| -> serde_json::Map<String, serde_json::Value> {
                m.iter()
                    .map(|(k, v)| ((*k).to_string(), amount(*v).into()))
                    .collect()
            };
            serde_json::json!({
                "month": s.m.month,
                "run": s.m.run,
                "at": s.m.at,
                "findings": s.findings,
                "money_at_risk": amount(s.money),
                "unknown": s.unknown,
                "by_customer": map(&s.by_customer),
                "by_class": map(&s.by_class),
            })
        })
        .collect();
    serde_json::json!({
        "schema": TREND,
        "since": since,
        "customer": if scope.is_empty() { serde_json::Value::Null } else { scope.into() },
        "months": months,
    })
}

/// An amount as a document states it: a plain decimal string with at least two decimals.
fn amount(mut v: Decimal) -> String {
    if v.scale() < 2 {
        v.rescale(2);
    }
    v.to_string()
}

/// True for a month written `YYYY-MM`.
fn is_month(s: &str) -> bool {
    s.len() == 7 && chrono::NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").is_ok()
}
