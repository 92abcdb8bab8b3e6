//! `tenor pull`: the vendors' orders, subscriptions and invoices of the month read into the
//! record for every customer with an accepted quote (see [`crate::push::pull`]).

use crate::cli::Ctx;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::push::{error, load_host};
use crate::push::pull;
use crate::transport::{Http, config};
use std::path::{Path, PathBuf};

/// The arguments of `tenor pull`.
pub struct PullArgs {
    /// Only this customer.
    pub customer: Option<String>,
    /// The invoices' month.
    pub month: Option<String>,
    /// Only this plugin.
    pub only: Option<String>,
    /// The plugin directory.
    pub plugins: Option<PathBuf>,
}

/// `tenor pull`: exit 0 when every pull completed, 1 when one failed (reported).
pub fn pull_cmd(args: &PullArgs, db_flag: Option<&Path>, ctx: &mut Ctx<'_>) -> CliResult {
    if let Some(m) = &args.month
        && chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_err()
    {
        return Err(CliError::Run(format!("--month `{m}` is not YYYY-MM")));
    }
    let mut record = db::open(db_flag, &[])?;
    let host = load_host(args.plugins.as_deref(), ctx)?;
    let jobs = pull::plan(
        &record,
        &host,
        args.customer.as_deref(),
        args.month.as_deref(),
        args.only.as_deref(),
    )
    .map_err(error)?;
    if jobs.is_empty() {
        return Err(CliError::Failed(
            "nothing to pull: no loaded plugin pulls for a linked or pushed customer".into(),
        ));
    }
    let mut failed = false;
    for job in &jobs {
        let Some(p) = host.get(&job.plugin) else {
            continue;
        };
        let what = format!("{:?}", job.input.what).to_lowercase();
        let result = config::from_env(&job.plugin)
            .map_err(|e| crate::push::PushError::Vendor {
                plugin: job.plugin.clone(),
                message: e.to_string(),
            })
            .and_then(|c| pull::run(&mut record, p, job, &mut Http::new(c)));
        match result {
            Ok(n) => {
                writeln!(
                    ctx.out,
                    "{}: {} {what}: {} order lines, {} subscriptions, {} invoice lines, {} serials ({} requests)",
                    job.plugin,
                    job.customer,
                    n.orders,
                    n.subscriptions,
                    n.invoices,
                    n.serials,
                    n.sent
                )?;
                serials_report(&n, ctx)?;
            }
            Err(e) => {
                failed = true;
                ctx.report(&CliError::Run(format!(
                    "{} {what} of {}: {e}",
                    job.plugin, job.customer
                )));
            }
        }
    }
    Ok(if failed { Exit::Failure } else { Exit::Success })
}

/// The serials a pull recorded against their sales-order lines, one a line; those recorded
/// before against another line, and those that fit no line, as warnings.
fn serials_report(n: &pull::PullCounts, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    for s in &n.recorded.new {
        writeln!(
            ctx.out,
            "  serial {} ({}) recorded against {} line {} ({} line {})",
            s.key.serial, s.key.part_number, s.quote, s.line, s.purchase_order, s.po_line
        )?;
    }
    if n.recorded.known > 0 {
        writeln!(
            ctx.out,
            "  {} serials were recorded before",
            n.recorded.known
        )?;
    }
    for (read, held) in &n.recorded.elsewhere {
        ctx.notice(
            "warning",
            format!(
                "serial {} ({}) is on {} line {} for {} line {}, but was recorded before against {} line {}: kept as it was",
                read.key.serial,
                read.key.part_number,
                read.purchase_order,
                read.po_line,
                read.quote,
                read.line,
                held.quote,
                held.line
            ),
        );
    }
    for w in &n.warnings {
        ctx.notice("warning", w.clone());
    }
    Ok(())
}
