//! `tenor change`: a seat change applied to accepted documents, reported for people.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::cli::render::errors::Problem;
use crate::documents::change::{FileError, Outcome, Request, apply_files};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::io::Write;
use std::path::PathBuf;
use tenor_dsl::diagnostic::termcolor::NoColor;

/// Arguments of `tenor change`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeArgs {
    /// The sales order (`SO-<quote>.json`); its schedule is read from beside it.
    pub order: PathBuf,
    /// The line to change (from 1).
    pub line: u32,
    /// The new quantity.
    pub quantity: Decimal,
    /// When the change takes effect.
    pub date: NaiveDate,
    /// Where to write the change order and the amended documents.
    pub out: PathBuf,
    /// The rule set (directories or files); empty means `rules`.
    pub rules: Vec<PathBuf>,
}

/// `tenor change` with human errors: exit 0 when the change was applied (or had been), 1 when
/// it is refused or the input is wrong (the message says why); `Err` when it could not run.
pub fn change_cmd(args: ChangeArgs, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
    let mut err = NoColor::new(err);
    let mut ctx = Ctx::new(out, &mut err, crate::cli::args::ErrorFormat::Human, false);
    crate::cli::reported(change(args, &mut ctx), &mut ctx)
}

/// `tenor change`: applies the change and reports it.
pub fn change(args: ChangeArgs, ctx: &mut Ctx<'_>) -> CliResult {
    let rules = load::rules(&args.rules)?;
    let req = Request {
        line: args.line,
        quantity: args.quantity,
        date: args.date,
    };
    match apply_files(&rules.catalogue, &args.order, &args.out, &req) {
        Ok(Outcome::Applied { order, written }) => {
            wrote(&written, ctx);
            for w in &order.warnings {
                ctx.warning(Problem {
                    field: Some(format!("lines[{}].quantity", order.line.saturating_sub(1))),
                    ..Problem::new("tier-crossed", w.clone())
                        .in_file(args.order.display().to_string())
                        .with_help(Some(
                            "prices are locked for the term; billing the new tier sooner takes a new quote".into(),
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
        }
        Ok(Outcome::AlreadyApplied {
            path,
            changed_since,
        }) => {
            let since = if changed_since {
                " was applied before (the documents have changed since)"
            } else {
                " is already applied"
            };
            writeln!(ctx.out, "{}{since}; nothing written", path.display())?;
        }
        Ok(Outcome::Completed { order, written }) => {
            wrote(&written, ctx);
            writeln!(
                ctx.out,
                "{}: the documents did not show this change yet (a run stopped part-way, or the quote was accepted again); applied it as recorded",
                order.id
            )?;
        }
        Err(FileError::Refused(r)) => {
            return Err(CliError::Refused {
                problems: vec![Problem::new("change", r.message).with_help(r.help)],
                summary: Some("the change was not applied; nothing was written".into()),
            });
        }
        Err(FileError::Io(e)) => return Err(CliError::Run(e)),
    }
    Ok(Exit::Success)
}

/// A `wrote …` status line for each file written.
fn wrote(written: &[PathBuf], ctx: &mut Ctx<'_>) {
    for p in written {
        ctx.status(format_args!("wrote {}", p.display()));
    }
}
