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
    for line in run_jobs(&mut record, &host, jobs, args.dry_run, &args.quote) {
        match line {
            Ok(text) => writeln!(ctx.out, "{text}")?,
            Err(e) => {
                failed = true;
                ctx.report(&e);
            }
        }
    }
    Ok(if failed { Exit::Failure } else { Exit::Success })
}

/// Runs each job (`dry_run`: shows its first request), a line of what it came to each: `Err`
/// for one that could not be completed (the next run resumes it). `quote` is named in the
/// advice to run `tenor push` again.
pub fn run_jobs(
    record: &mut crate::record::Record,
    host: &Host,
    jobs: Vec<(String, push::Job)>,
    dry_run: bool,
    quote: &str,
) -> Vec<Result<String, CliError>> {
    let mut lines = Vec::new();
    for (plugin, job) in jobs {
        let Some(p) = host.get(&plugin) else { continue };
        let what = job.conversation.document.clone();
        let serials = serials_by_line(&job.document);
        let mut sender = None;
        if !dry_run {
            match config::from_env(&plugin) {
                Ok(c) => sender = Some(Http::new(c)),
                Err(SendError::Config(m) | SendError::NotSent(m) | SendError::MaybeSent(m)) => {
                    lines.push(Err(CliError::Run(m)));
                    continue;
                }
            }
        }
        let outcome = push::run(
            record,
            p,
            job,
            sender
                .as_mut()
                .map(|s| s as &mut dyn crate::transport::Sender),
        );
        lines.push(match outcome {
            Ok(o) => Ok(outcome_line(&plugin, &what, &serials, o, quote)),
            Err(e) => Err(CliError::Run(format!(
                "{plugin}: {what} was not completed: {e}; run `tenor push {quote}` again to resume"
            ))),
        });
    }
    lines
}

/// What one conversation came to, in a line.
fn outcome_line(plugin: &str, what: &str, serials: &str, o: Outcome, quote: &str) -> String {
    match o {
        Outcome::AlreadyDone => format!("{plugin}: {what} was pushed before; nothing sent"),
        Outcome::Done { refs, sent } => {
            let ids: Vec<String> = refs
                .iter()
                .map(|r| format!("{} {}", r.kind, r.id))
                .collect();
            format!(
                "{plugin}: {what} pushed ({sent} requests): {}{serials}",
                ids.join(", ")
            )
        }
        Outcome::WouldSend(Some(text)) => format!("{plugin}: {what}: {text}"),
        Outcome::Waiting { until, why, sent } => {
            let now = if sent > 0 {
                format!(" ({sent} requests sent now)")
            } else {
                String::new()
            };
            format!(
                "{plugin}: {what}{now} waits until {until}: {why}; run `tenor push {quote}` on or after that day"
            )
        }
        Outcome::Held { after } => format!(
            "{plugin}: {what} is held until {after} is pushed (there is nothing to change before it); run `tenor push {quote}` again then"
        ),
        Outcome::WouldSend(None) => format!("{plugin}: {what}: nothing to send"),
    }
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
