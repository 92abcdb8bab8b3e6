//! `tenor change`: a seat change applied to accepted documents, reported for people.

use crate::cli::Exit;
use crate::documents::change::{FileError, Outcome, Request, apply_files};
use crate::engine::catalogue::Catalogue;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::io::Write;
use std::path::PathBuf;

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

/// `tenor change`: exit 0 when the change was applied (or had been), 1 when it is refused or
/// the input is wrong (the message says why), 2 when it could not run (`Err`).
pub fn change_cmd(
    args: ChangeArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Exit, String> {
    let io = |e: std::io::Error| e.to_string();
    let rules = if args.rules.is_empty() {
        vec![PathBuf::from("rules")]
    } else {
        args.rules
    };
    let sources = tenor_dsl::load(&rules).map_err(|e| format!("cannot read the rules: {e}"))?;
    if sources.is_empty() {
        let shown: Vec<String> = rules.iter().map(|p| p.display().to_string()).collect();
        return Err(format!("no .tenor files found in {}", shown.join(", ")));
    }
    let cat = match tenor_dsl::check(&sources) {
        Ok(rules) => Catalogue::compile(&rules, &sources),
        Err(diags) => {
            write!(
                err,
                "{}",
                tenor_dsl::diagnostic::render_plain(&sources, &diags)
            )
            .map_err(io)?;
            writeln!(
                err,
                "error: the rules have {} problem(s); run `tenor check` for details",
                diags.len()
            )
            .map_err(io)?;
            return Ok(Exit::Failure);
        }
    };
    let req = Request {
        line: args.line,
        quantity: args.quantity,
        date: args.date,
    };
    match apply_files(&cat, &args.order, &args.out, &req) {
        Ok(Outcome::Applied { order, written }) => {
            for p in &written {
                writeln!(out, "wrote {}", p.display()).map_err(io)?;
            }
            writeln!(
                out,
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
            )
            .map_err(io)?;
            Ok(Exit::Success)
        }
        Ok(Outcome::AlreadyApplied {
            path,
            changed_since,
        }) => {
            if changed_since {
                writeln!(
                    out,
                    "{} was applied before (the documents have changed since); nothing written",
                    path.display()
                )
            } else {
                writeln!(
                    out,
                    "{} is already applied; nothing written",
                    path.display()
                )
            }
            .map_err(io)?;
            Ok(Exit::Success)
        }
        Ok(Outcome::Completed { order, written }) => {
            for p in &written {
                writeln!(out, "wrote {}", p.display()).map_err(io)?;
            }
            writeln!(
                out,
                "{}: the documents did not show this change yet (a run stopped part-way, or the quote was accepted again); applied it as recorded",
                order.id
            )
            .map_err(io)?;
            Ok(Exit::Success)
        }
        Err(FileError::Refused(r)) => {
            writeln!(err, "error: {}", r.message).map_err(io)?;
            if let Some(h) = &r.help {
                writeln!(err, "  help: {h}").map_err(io)?;
            }
            writeln!(
                err,
                "error: the change was not applied; nothing was written"
            )
            .map_err(io)?;
            Ok(Exit::Failure)
        }
        Err(FileError::Io(e)) => Err(e),
    }
}
