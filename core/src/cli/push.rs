//! `tenor push QUOTE`: the accepted quote's purchase orders and sales order sent to the
//! vendors through their plugins (see [`crate::push`]); `--dry-run` prints the first request
//! of each conversation and sends nothing.

use crate::cli::Ctx;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::host::Host;
use crate::push::{self, Outcome, PushError};
use crate::transport::{Http, SendError, config};
use std::path::{Path, PathBuf};
use tenor_plugin_sdk::exchange::PushDocument;

/// The arguments of `tenor push`.
pub struct PushArgs {
    /// The quote id.
    pub quote: String,
    /// The revision, else the latest.
    pub revision: Option<u32>,
    /// Send nothing, print the first requests.
    pub dry_run: bool,
    /// Only this plugin.
    pub only: Option<String>,
    /// The plugin directory.
    pub plugins: Option<PathBuf>,
}

/// Loads the plugins for a push or pull; a plugin that failed to load is reported.
pub fn load_host(flag: Option<&Path>, ctx: &mut Ctx<'_>) -> Result<Host, CliError> {
    let dir = crate::host::plugin_dir(flag)
        .ok_or_else(|| CliError::Run("cannot tell where the plugins are: pass --plugins".into()))?;
    let host = Host::load_dir(&dir);
    for f in &host.failures {
        ctx.report(&CliError::Run(format!(
            "plugin {}: {}",
            f.path.display(),
            f.message
        )));
    }
    Ok(host)
}

/// A push or pull error as the command line reports it.
pub fn error(e: PushError) -> CliError {
    match e {
        PushError::Record(r) => db::error(r),
        other => CliError::Run(other.to_string()),
    }
}

/// `tenor push`: exit 0 when every conversation is complete (now or before) or waits for its
/// start day (a wait is not a failure), 1 when one could not be completed (the next run resumes it), 2 when the push could not start.
// Kept whole: it reads as the push's one sequence (open, load, plan, dry run or converse,
// report), each step a few lines of rendering.
pub fn push_cmd(args: &PushArgs, db_flag: Option<&Path>, ctx: &mut Ctx<'_>) -> CliResult {
    let mut record = db::open(db_flag, &[])?;
    let revision = record
        .revision(&args.quote, args.revision)
        .map_err(db::error)?
        .revision;
    let host = load_host(args.plugins.as_deref(), ctx)?;
    let (jobs, notes) =
        push::plan(&record, &host, &args.quote, revision, args.only.as_deref()).map_err(error)?;
    for n in notes {
        ctx.notice("note", n);
    }
    if jobs.is_empty() {
        return Err(CliError::Failed(format!(
            "nothing to push for {} revision {revision}: no loaded plugin pushes its documents",
            args.quote
        )));
    }
    if args.dry_run {
        writeln!(
            ctx.out,
            "dry run: nothing is sent. The first request of each conversation follows; later requests depend on the vendor's answers.\n"
        )?;
    }
    let mut failed = false;
    for (plugin, job) in jobs {
        let Some(p) = host.get(&plugin) else { continue };
        let what = job.conversation.document.clone();
        let serials = serials_by_line(&job.document);
        let sender = if args.dry_run {
            None
        } else {
            match config::from_env(&plugin) {
                Ok(c) => Some(Http::new(c)),
                Err(SendError::Config(m) | SendError::NotSent(m) | SendError::MaybeSent(m)) => {
                    ctx.report(&CliError::Run(m));
                    failed = true;
                    continue;
                }
            }
        };
        let mut sender = sender;
        let outcome = push::run(
            &mut record,
            p,
            job,
            sender
                .as_mut()
                .map(|s| s as &mut dyn crate::transport::Sender),
        );
        match outcome {
            Ok(Outcome::AlreadyDone) => {
                writeln!(ctx.out, "{plugin}: {what} was pushed before; nothing sent")?;
            }
            Ok(Outcome::Done { refs, sent }) => {
                let ids: Vec<String> = refs
                    .iter()
                    .map(|r| format!("{} {}", r.kind, r.id))
                    .collect();
                writeln!(
                    ctx.out,
                    "{plugin}: {what} pushed ({sent} requests): {}{serials}",
                    ids.join(", ")
                )?;
            }
            Ok(Outcome::WouldSend(Some(text))) => {
                writeln!(ctx.out, "{plugin}: {what}: {text}")?;
            }
            Ok(Outcome::Waiting { until, why, sent }) => {
                let now = if sent > 0 {
                    format!(" ({sent} requests sent now)")
                } else {
                    String::new()
                };
                writeln!(
                    ctx.out,
                    "{plugin}: {what}{now} waits until {until}: {why}; run `tenor push {}` on or after that day",
                    args.quote
                )?;
            }
            Ok(Outcome::Held { after }) => {
                writeln!(
                    ctx.out,
                    "{plugin}: {what} is held until {after} is pushed (there is nothing to change before it); run `tenor push {}` again then",
                    args.quote
                )?;
            }
            Ok(Outcome::WouldSend(None)) => {
                writeln!(ctx.out, "{plugin}: {what}: nothing to send")?;
            }
            Err(e) => {
                failed = true;
                ctx.report(&CliError::Run(format!(
                    "{plugin}: {what} was not completed: {e}; run `tenor push {}` again to resume",
                    args.quote
                )));
            }
        }
    }
    Ok(if failed { Exit::Failure } else { Exit::Success })
}

/// A push of serials' serial numbers, a line of text per sales-order line, each after a
/// newline (empty for any other push).
fn serials_by_line(document: &PushDocument) -> String {
    let PushDocument::Serials { serials, .. } = document else {
        return String::new();
    };
    let mut by_line: std::collections::BTreeMap<u32, Vec<&str>> = Default::default();
    for s in serials {
        let line = s
            .line_ref
            .as_deref()
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        by_line.entry(line).or_default().push(&s.serial);
    }
    by_line
        .into_iter()
        .map(|(line, list)| format!("\n  line {line} serial numbers: {}", list.join(", ")))
        .collect()
}
