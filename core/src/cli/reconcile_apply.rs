//! `tenor reconcile --month M --apply [--yes]`: the month's PSA changes (see
//! [`crate::reconcile::apply`]) shown, then, when confirmed, recorded as fix documents of the
//! quotes they fix and pushed through the PSA's plugin as `tenor push` pushes. A dry run unless
//! `--yes` is given or the person at the terminal answers `y`.

use crate::cli::Ctx;
use crate::cli::args::Format;
use crate::cli::db;
use crate::cli::exit::CliError;
use crate::cli::matching::rebuild_error;
use crate::cli::push::{error as push_error, load_host, run_jobs};
use crate::matching::Side;
use crate::reconcile::Reconciliation;
use crate::reconcile::apply::{self, FixPlan, QuoteSold};
use crate::reconcile::recorded::{Sold, rebuild};
use crate::record::Record;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal};
use std::path::Path;
use tenor_plugin_sdk::exchange::PsaFix;

/// What `--apply` is asked.
pub struct Apply<'a> {
    /// Send without asking.
    pub yes: bool,
    /// The plugin directory.
    pub plugins: Option<&'a Path>,
}

/// The month's fixes, from what each quote with a PSA finding sold.
pub fn planned(record: &Record, done: &Reconciliation) -> Result<FixPlan, CliError> {
    let wanted: BTreeSet<&str> = done
        .report
        .findings
        .iter()
        .filter(|f| f.side == Side::Psa && !f.quote.is_empty())
        .map(|f| f.quote.as_str())
        .collect();
    let mut sold: Vec<(String, Sold, i64)> = Vec::new();
    for (customer, quote, revision) in &done.quotes {
        if !wanted.contains(quote.as_str()) {
            continue;
        }
        let rev = record.revision(quote, Some(*revision)).map_err(db::error)?;
        let s = rebuild(record, &rev).map_err(rebuild_error)?;
        let pull = record
            .latest_pull(customer, &done.month)
            .map_err(db::error)?
            .unwrap_or(0);
        sold.push((quote.clone(), s, pull));
    }
    let by_quote: BTreeMap<String, QuoteSold<'_>> = sold
        .iter()
        .map(|(q, s, pull)| {
            let x = QuoteSold {
                template: &s.accepted.template,
                pull: *pull,
            };
            (q.clone(), x)
        })
        .collect();
    Ok(apply::plan(done, &by_quote))
}

/// The plan as `tenor.reconcile/1` states it under `apply`.
pub fn json(plan: &FixPlan, sent: Option<&[Result<String, CliError>]>) -> serde_json::Value {
    let sent = sent.map(|lines| {
        lines
            .iter()
            .map(|l| match l {
                Ok(t) => serde_json::json!({"ok": true, "message": t}),
                Err(e) => serde_json::json!({"ok": false, "message": e.to_string()}),
            })
            .collect::<Vec<_>>()
    });
    serde_json::json!({
        "documents": plan.documents,
        "by_hand": plan.by_hand.len(),
        "sent": sent,
    })
}

/// The plan for people: each change, then how many findings are left by hand.
pub fn text(plan: &FixPlan) -> String {
    let n: usize = plan.documents.iter().map(|d| d.fixes.len()).sum();
    let mut out = format!(
        "\n--apply: {n} change{} to the PSA\n",
        if n == 1 { "" } else { "s" }
    );
    for d in &plan.documents {
        for f in &d.fixes {
            out.push_str(&format!(
                "  {} line {} {}: {}, from {}\n",
                d.id,
                f.line,
                f.product,
                change_text(f),
                f.effective
            ));
        }
    }
    if !plan.by_hand.is_empty() {
        out.push_str(&format!(
            "Not changed by --apply: {} finding{} (at a distributor, or already invoiced): do what each one's action says.\n",
            plan.by_hand.len(),
            if plan.by_hand.len() == 1 { "" } else { "s" }
        ));
    }
    out
}

/// What a fix changes, in words.
fn change_text(f: &PsaFix) -> String {
    let mut parts = Vec::new();
    if f.restore {
        parts.push(format!(
            "add the addition again, {} × {}",
            f.quantity, f.unit_price
        ));
    }
    if let Some(q) = f.quantity_found {
        parts.push(format!("quantity {q} → {}", f.quantity));
    }
    if let Some(p) = f.unit_price_found {
        parts.push(format!("unit price {p} → {}", f.unit_price));
    }
    parts.join(", ")
}

/// `--apply` after the report: the plan shown (table), sent when confirmed, each conversation's
/// line printed (table) or set in `doc`'s `apply.sent` (JSON); `false` when one was not
/// completed (reported).
pub fn run(
    record: &mut Record,
    plan: &FixPlan,
    a: &Apply<'_>,
    format: Format,
    doc: &mut serde_json::Value,
    ctx: &mut Ctx<'_>,
) -> Result<bool, CliError> {
    let n: usize = plan.documents.iter().map(|d| d.fixes.len()).sum();
    if format == Format::Table {
        ctx.out.write_all(text(plan).as_bytes())?;
    }
    if !confirmed(a, n, ctx)? {
        if n > 0 {
            ctx.status(format_args!(
                "dry run: nothing was sent; rerun with --yes to send these {n} changes"
            ));
        }
        return Ok(true);
    }
    let sent = send(record, plan, a, ctx)?;
    let mut all_done = true;
    for line in &sent {
        match line {
            Ok(t) if format == Format::Table => writeln!(ctx.out, "{t}")?,
            Ok(_) => {}
            Err(e) => {
                all_done = false;
                ctx.report(e);
            }
        }
    }
    if let Some(o) = doc.as_object_mut() {
        o.insert("apply".into(), json(plan, Some(&sent)));
    }
    Ok(all_done)
}

/// True when the changes are to be sent: `--yes`, or `y` from the person at the terminal. A
/// run with no terminal and no `--yes` is a dry run.
pub fn confirmed(a: &Apply<'_>, n: usize, ctx: &mut Ctx<'_>) -> Result<bool, CliError> {
    if a.yes {
        return Ok(true);
    }
    let stdin = std::io::stdin();
    if n == 0 || !stdin.is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(false);
    }
    write!(ctx.err(), "Send these {n} changes to the PSA? [y/N] ")?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// Records each fix document and pushes it to the PSA plugins the quote was pushed to: a line
/// per conversation, `Err` for one not completed (the document stays recorded, and `tenor
/// push QUOTE` resumes it).
pub fn send(
    record: &mut Record,
    plan: &FixPlan,
    a: &Apply<'_>,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<Result<String, CliError>>, CliError> {
    let host = load_host(a.plugins, ctx)?;
    let mut lines = Vec::new();
    for d in &plan.documents {
        let mut body = serde_json::to_vec_pretty(d)?;
        body.push(b'\n');
        let about = serde_json::json!({"month": d.month, "fixes": d.fixes.len()});
        record
            .record_fix((&d.quote, d.revision), &d.path(), &body, &about)
            .map_err(db::error)?;
        let (jobs, notes) =
            crate::push::plan(record, &host, &d.quote, d.revision, None).map_err(push_error)?;
        let before = lines.len();
        lines.extend(
            notes
                .into_iter()
                .filter(|n| n.contains(&d.id))
                .map(|n| Err(CliError::Failed(n))),
        );
        let jobs: Vec<_> = jobs
            .into_iter()
            .filter(|(_, j)| j.conversation.document == d.id)
            .collect();
        if jobs.is_empty() && lines.len() == before {
            lines.push(Err(CliError::Failed(format!(
                "{}: no loaded PSA plugin the quote was pushed to takes it; it is recorded, and `tenor push {}` sends it",
                d.id, d.quote
            ))));
        }
        lines.extend(run_jobs(record, &host, jobs, false, &d.quote));
    }
    Ok(lines)
}
