//! `tenor change`: a seat change recorded against an accepted revision, reported for people.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::render::errors::Problem;
use crate::cli::{db, export, load};
use crate::documents::change::{ChangeOrder, Request};
use crate::record::change::{ChangeError, ChangeOutcome};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::io::Write;
use std::path::PathBuf;
use tenor_dsl::diagnostic::termcolor::NoColor;

/// Arguments of `tenor change`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeArgs {
    /// The quote id.
    pub quote: String,
    /// The revision to amend; the latest when `None`.
    pub revision: Option<u32>,
    /// The line to change (from 1).
    pub line: u32,
    /// The new quantity.
    pub quantity: Decimal,
    /// When the change takes effect.
    pub date: NaiveDate,
    /// Where to export the revision's documents afterwards, if anywhere.
    pub out: Option<PathBuf>,
    /// The rule set (directories or files); empty means `rules`.
    pub rules: Vec<PathBuf>,
    /// The database (`--db`), when given.
    pub db: Option<PathBuf>,
}

/// `tenor change` with human errors: exit 0 when the change was applied (or had been), 1 when
/// it is refused or the input is wrong (the message says why); `Err` when it could not run.
pub fn change_cmd(args: ChangeArgs, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
    let mut err = NoColor::new(err);
    let mut ctx = Ctx::new(out, &mut err, crate::cli::args::ErrorFormat::Human, false);
    crate::cli::reported(change(args, &mut ctx), &mut ctx)
}

/// `tenor change`: records the change and reports it.
pub fn change(args: ChangeArgs, ctx: &mut Ctx<'_>) -> CliResult {
    let rules = load::rules(&args.rules)?;
    let mut record = db::open(args.db.as_deref(), &args.rules)?;
    let req = Request {
        line: args.line,
        quantity: args.quantity,
        date: args.date,
    };
    let outcome = record
        .change(&rules.catalogue, &args.quote, args.revision, &req)
        .map_err(|e| match e {
            ChangeError::Refused(r) => CliError::Refused {
                problems: vec![Problem::new("change", r.message).with_help(r.help)],
                summary: Some("the change was not applied; nothing was written".into()),
            },
            ChangeError::Record(e) => db::error(e),
        })?;
    let revision = match outcome {
        ChangeOutcome::Applied { revision, order } => {
            applied(&order, &args.quote, ctx)?;
            revision
        }
        ChangeOutcome::AlreadyApplied {
            revision,
            id,
            changed_since,
        } => {
            let since = if changed_since {
                " was applied before (later changes followed it)"
            } else {
                " is already applied"
            };
            writeln!(ctx.out, "{id}{since}; nothing written")?;
            revision
        }
    };
    if let Some(out) = &args.out {
        export::export(&mut record, &args.quote, revision, out, false, ctx)?;
    }
    Ok(Exit::Success)
}

/// Reports an applied change: its warnings, then one line on standard output.
fn applied(order: &ChangeOrder, quote: &str, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    for w in &order.warnings {
        ctx.warning(Problem {
            field: Some(format!("lines[{}].quantity", order.line.saturating_sub(1))),
            ..Problem::new("tier-crossed", w.clone())
                .in_file(format!("SO-{quote}.json"))
                .with_help(Some(
                    "prices are locked for the term; billing the new tier sooner takes a new quote"
                        .into(),
                ))
        });
    }
    writeln!(
        ctx.out,
        "{}: line {} `{}` {} → {} from {}; {} charge(s), {} {}",
        order.id,
        order.line,
        order.product,
        order.old_quantity,
        order.new_quantity,
        order.effective,
        order.charges.len(),
        crate::engine::money::money(order.total),
        order.currency
    )?;
    Ok(())
}
