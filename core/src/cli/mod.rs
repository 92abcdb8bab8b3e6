//! The `tenor` command line: argument parsing, one module per subcommand, the renderers and
//! the exit codes (see [`exit`] and README.md).

pub mod accept;
pub mod args;
pub mod bill;
pub mod change;
pub mod check;
pub mod ctx;
pub mod db;
pub mod diff;
pub mod exit;
pub mod export;
pub mod fmt;
pub mod init;
pub mod link;
pub mod load;
pub mod log;
pub mod manual;
pub mod matching;
pub mod plugins;
pub mod plugins_new;
pub mod plugins_test;
pub mod price;
pub mod problem;
pub mod progress;
pub mod pull;
pub mod push;
pub mod rate;
pub mod reconcile;
pub mod reconcile_apply;
pub mod render;
pub mod renewals;
pub mod share;
pub mod show;
pub mod test;

pub use ctx::Ctx;
pub use exit::{CliError, CliResult, Exit};

use args::{Cli, Command, Format};
use clap::Parser;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use tenor_dsl::diagnostic::termcolor::{ColorChoice, StandardStream, WriteColor};

/// A standard-error stream coloured only when it is a terminal.
pub fn stderr() -> StandardStream {
    let choice = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        ColorChoice::Auto
    } else {
        ColorChoice::Never
    };
    StandardStream::stderr(choice)
}

/// Runs `tenor` with the given arguments (the first is the program name).
pub fn run(args: Vec<OsString>, out: &mut dyn Write, err: &mut dyn WriteColor) -> Exit {
    let format = args::error_format_of(&args);
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // `--help` and `--version`: clap's text is the output.
            let _ = write!(out, "{}", e.render());
            return Exit::Success;
        }
        Err(e) => {
            let mut ctx = Ctx::new(out, err, format, false);
            let e = CliError::Usage(Box::new(e));
            ctx.report(&e);
            ctx.finish();
            return e.exit();
        }
    };
    let mut ctx = Ctx::new(out, err, cli.error_format, cli.quiet);
    let db = cli.db.clone();
    let result = match plugin_options(&cli) {
        Ok(options) => {
            crate::host::with_options(options, || dispatch(cli.command, db.as_deref(), &mut ctx))
        }
        Err(e) => Err(e),
    };
    finish(result, &mut ctx)
}

/// The `tenor` binary: a plugin worker when the host started it as one, else the command line.
pub fn main() -> std::process::ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if crate::host::worker::is_worker(&args) {
        return std::process::ExitCode::from(crate::host::worker::main(&args));
    }
    let mut out = Stdout::new();
    let code = run(args, &mut out, &mut stderr());
    std::process::ExitCode::from(code as u8)
}

/// Standard output, with large writes going straight to its file descriptor when it is not a
/// terminal: `std::io::Stdout` is line-buffered and scans every write for its last newline,
/// which for a 200 MB compact document (no newline at all) was a twentieth of `tenor price`.
struct Stdout {
    std: std::io::Stdout,
    /// A duplicate of the descriptor, `None` on a terminal (kept line by line there).
    raw: Option<std::fs::File>,
}

impl Stdout {
    /// Writes of at least this many bytes bypass the line buffer.
    const LARGE: usize = 1 << 12;

    fn new() -> Self {
        use std::os::fd::AsFd;
        let std = std::io::stdout();
        let raw = match std.is_terminal() {
            true => None,
            false => std
                .as_fd()
                .try_clone_to_owned()
                .ok()
                .map(std::fs::File::from),
        };
        Stdout { std, raw }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.raw {
            Some(raw) if buf.len() >= Stdout::LARGE => {
                // What went through the line buffer comes first.
                self.std.flush()?;
                raw.write(buf)
            }
            _ => self.std.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.std.flush()
    }
}

/// The limits the plugins of this run get (`TENOR_PLUGIN_*`, then the flags), after checking
/// that the plugin directory the command will use exists (and has a lock with `--locked`).
fn plugin_options(cli: &Cli) -> Result<crate::host::Options, CliError> {
    let mut options = crate::host::Options::from_env().map_err(CliError::Run)?;
    if let Some(t) = cli.plugin_timeout {
        options.timeout = t;
    }
    options.locked |= cli.locked;
    let (flag, locking) = match &cli.command {
        Command::Accept {
            plugins,
            no_plugins: false,
            ..
        }
        | Command::Match { plugins, .. }
        | Command::Plugins {
            command: args::PluginsCommand::List { plugins, .. },
        } => (plugins, false),
        Command::Plugins {
            command: args::PluginsCommand::Lock { plugins },
        } => (plugins, true),
        _ => return Ok(options),
    };
    if let Some(dir) = crate::host::plugin_dir(flag.as_deref()) {
        crate::host::check_dir(&dir).map_err(CliError::Run)?;
        if options.locked && !locking && matches!(crate::host::read_lock(&dir), Ok(None)) {
            return Err(CliError::Run(crate::host::missing_lock(&dir)));
        }
    }
    Ok(options)
}

/// The exit code of a run: its own, or its error's, reported (the one place where an error
/// becomes an exit code).
pub fn finish(result: CliResult, ctx: &mut Ctx<'_>) -> Exit {
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            ctx.report(&e);
            e.exit()
        }
    };
    ctx.finish();
    code
}

/// Reports the errors of exit 1 (the input's problems) and returns the others, for callers
/// that turn those into exit 2 themselves.
pub fn reported(result: CliResult, ctx: &mut Ctx<'_>) -> CliResult {
    let result = match result {
        Err(e) if e.exit() == Exit::Failure => {
            ctx.report(&e);
            Ok(Exit::Failure)
        }
        other => other,
    };
    ctx.finish();
    result
}

/// Runs one subcommand; `db` is the `--db` flag.
// Long: one flat arm per subcommand, the dispatch table itself; splitting it would scatter it.
fn dispatch(command: Command, db: Option<&std::path::Path>, ctx: &mut Ctx<'_>) -> CliResult {
    match command {
        Command::Check { paths, format } => {
            let json = format == Format::Json || ctx.json_errors();
            check::check(&paths, json, ctx)
        }
        Command::Fmt { check, paths } => fmt::fmt(&paths, check, ctx),
        Command::Price {
            quote,
            rules,
            format,
            explain,
            pretty,
        } => price::price(&quote, &rules, format, explain, pretty, ctx),
        Command::Explain {
            quote,
            line,
            rules,
            format,
        } => price::explain_cmd(&quote, line, &rules, format, ctx),
        Command::Accept {
            quote,
            out,
            rules,
            revise,
            force,
            plugins,
            no_plugins,
        } => {
            let plugins = if no_plugins {
                None
            } else {
                crate::host::plugin_dir(plugins.as_deref())
            };
            let args = accept::AcceptArgs {
                quote: &quote,
                out: out.as_deref(),
                rules: &rules,
                revise,
                force,
                plugins: plugins.as_deref(),
                db,
            };
            accept::accept_cmd(&args, ctx)
        }
        Command::Share {
            quote,
            rules,
            expires,
            base,
            revoke,
        } => {
            let args = share::ShareArgs {
                quote: &quote,
                rules: &rules,
                expires: &expires,
                base: &base,
                revoke,
                db,
            };
            share::share_cmd(&args, ctx)
        }
        Command::Serve {
            listen,
            plugins,
            admin_token_file,
            rate,
            push,
            trust_proxy,
        } => {
            let args = share::ServeArgs {
                listen: &listen,
                plugins: plugins.as_deref(),
                admin_token_file: admin_token_file.as_deref(),
                rate,
                push,
                trusted_proxies: trust_proxy,
                db,
            };
            share::serve_cmd(&args, ctx)
        }
        Command::Plugins { command } => plugins::plugins_cmd(command, ctx),
        Command::Init { dir } => init::init(&dir, ctx),
        Command::Completions { shell } => manual::completions(shell, ctx),
        Command::Man => manual::man(ctx),
        Command::Test {
            dir,
            rules,
            update,
            yes,
        } => test::test_cmd(&dir, &rules, update, yes, ctx),
        Command::Diff {
            from,
            to,
            quotes,
            accepted,
            format,
        } => {
            let args = diff::DiffArgs {
                from,
                to,
                quotes,
                accepted,
                json: format == Format::Json,
                db,
            };
            diff::diff_cmd(&args, ctx)
        }
        Command::Renewals {
            month,
            rules,
            format,
        } => renewals::renewals_cmd(month.as_deref(), &rules, format == Format::Json, db, ctx),
        Command::Bill {
            month,
            customer,
            rules,
            format,
        } => bill::bill_cmd(&month, customer.as_deref(), &rules, format, db, ctx),
        Command::Reconcile {
            month,
            since,
            html,
            customer,
            rules,
            apply,
            yes,
            plugins,
            format,
        } => match (month, since) {
            (Some(m), _) => reconcile::reconcile_cmd(
                &reconcile::MonthArgs {
                    month: &m,
                    customer: customer.as_deref(),
                    rules: &rules,
                    apply: apply.then_some(reconcile::Apply {
                        yes,
                        plugins: plugins.as_deref(),
                    }),
                    format,
                },
                db,
                ctx,
            ),
            (None, Some(s)) => reconcile::trend_cmd(
                &reconcile::TrendArgs {
                    since: &s,
                    customer: customer.as_deref(),
                    html: html.as_deref(),
                    format,
                },
                db,
                ctx,
            ),
            (None, None) => Err(exit::CliError::Run("give --month or --since".into())),
        },
        other => documents(other, db, ctx),
    }
}

/// Runs the subcommands that work on the record's documents: `match`, `rate`, `change`, `log`,
/// `show` and `export`.
fn documents(command: Command, db: Option<&std::path::Path>, ctx: &mut Ctx<'_>) -> CliResult {
    match command {
        Command::Match {
            id: Some(quote),
            pulled: true,
            month,
            json,
            format,
            ..
        } => {
            let args = matching::PulledArgs {
                quote,
                month,
                json: json || format == Format::Json,
            };
            matching::run_pulled(&args, db, ctx)
        }
        Command::Match {
            quote,
            orders,
            invoices,
            as_plugin,
            rules,
            plugins,
            json,
            format,
            ..
        } => {
            let args = matching::MatchArgs {
                quote: quote.unwrap_or_default(),
                orders,
                invoices,
                as_plugin,
                rules,
                plugins,
                json: json || format == Format::Json,
            };
            matching::run_match(args, ctx)
        }
        Command::Rate {
            usage,
            period,
            rules,
            format,
            skip_bad,
        } => {
            let args = rate::RateArgs {
                usage,
                period,
                rules,
                json: format == Format::Json,
                skip_bad,
            };
            rate::rate(args, ctx)
        }
        Command::Change {
            quote,
            revision,
            line,
            quantity,
            date,
            out,
            rules,
        } => {
            let args = change::ChangeArgs {
                quote,
                revision,
                line,
                quantity,
                date,
                out,
                rules,
                db: db.map(std::path::Path::to_path_buf),
            };
            change::change(args, ctx)
        }
        other => recorded(other, db, ctx),
    }
}

/// Runs the subcommands that read the record: `log`, `show` and `export`.
// Long: one flat match arm per subcommand (argument struct in, command out): splitting it would
// only scatter the dispatch table.
fn recorded(command: Command, db: Option<&std::path::Path>, ctx: &mut Ctx<'_>) -> CliResult {
    match command {
        Command::Log { quote, format } => log::log_cmd(quote.as_deref(), format, db, ctx),
        Command::Link {
            customer,
            mut set,
            pax8,
            ingram,
            tdsynnex,
            connectwise,
            unset,
            import,
            format,
        } => {
            for (plugin, values) in [
                ("pax8", pax8),
                ("ingram", ingram),
                ("tdsynnex", tdsynnex),
                ("connectwise", connectwise),
            ] {
                set.extend(values.into_iter().map(|v| format!("{plugin}.{v}")));
            }
            let args = link::LinkArgs {
                customer,
                set,
                unset,
                import,
                json: format == Format::Json,
            };
            link::link_cmd(&args, db, ctx)
        }
        Command::Push {
            quote,
            revision,
            dry_run,
            only,
            plugins,
        } => {
            let args = push::PushArgs {
                quote,
                revision,
                dry_run,
                only,
                plugins,
            };
            push::push_cmd(&args, db, ctx)
        }
        Command::Pull {
            customer,
            month,
            only,
            plugins,
        } => {
            let args = pull::PullArgs {
                customer,
                month,
                only,
                plugins,
            };
            pull::pull_cmd(&args, db, ctx)
        }
        Command::Show {
            quote,
            revision,
            document,
            format,
        } => {
            let args = show::ShowArgs {
                quote: &quote,
                revision,
                document: document.as_deref(),
                format,
            };
            show::show_cmd(&args, db, ctx)
        }
        Command::Export {
            quote,
            revision,
            out,
            force,
        } => {
            let args = export::ExportArgs {
                quote,
                revision,
                out,
                force,
            };
            export::export_cmd(&args, db, ctx)
        }
        // `documents` sends only the three above here.
        _ => Err(CliError::Run("not a document command".into())),
    }
}
