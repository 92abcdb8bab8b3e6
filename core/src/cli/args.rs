//! The command line's grammar: every subcommand, flag and value, as clap definitions.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `tenor`: its global flags and one subcommand.
#[derive(Parser)]
#[command(
    name = "tenor",
    version,
    about = "Quote-to-cash rules engine for managed service providers"
)]
pub struct Cli {
    /// How to report errors: for people, or one `tenor.error/1` JSON document on standard error
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Human)]
    pub error_format: ErrorFormat,
    /// Print no progress bars and no `wrote …` lines
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Refuse to load plugins from a directory that has no `plugins.lock`
    #[arg(long, global = true)]
    pub locked: bool,
    /// Seconds a plugin call may take before its worker is killed (default: `TENOR_PLUGIN_TIMEOUT`, else 30)
    #[arg(long, global = true, value_name = "SECS", value_parser = seconds)]
    pub plugin_timeout: Option<std::time::Duration>,
    /// The record's database (default: `TENOR_DB`, else `tenor.db` beside the rules directory)
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Check rule files and report every problem with its file:line:col
    Check {
        /// Rule files or directories (every `.tenor` file below them)
        #[arg(default_value = "rules")]
        paths: Vec<PathBuf>,
        /// Output format (`json`: the `tenor.check/1` document)
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Price a quote: every charge of the commitment, and the totals
    Price {
        /// The quote file (YAML or JSON)
        quote: PathBuf,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = PriceFormat::Table)]
        format: PriceFormat,
        /// Show, for every charge, the rules that made it
        #[arg(long)]
        explain: bool,
        /// Indent the JSON (it is compact unless standard output is a terminal)
        #[arg(long)]
        pretty: bool,
    },
    /// Explain every charge of a quote: offer, tiers, proration, discounts, with rule locations
    Explain {
        /// The quote file (YAML or JSON)
        quote: PathBuf,
        /// Only this quote line (1-based)
        #[arg(long)]
        line: Option<usize>,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
        /// Output format: the text, or the `tenor.explain/1` document
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Accept a quote: record it with its sales order, purchase orders, invoice schedule,
    /// recurring template and summary, and export them with --out
    Accept {
        /// The quote file (YAML or JSON)
        quote: PathBuf,
        /// Export the recorded documents into this directory
        #[arg(long)]
        out: Option<PathBuf>,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
        /// Record a changed quote or rules under an accepted quote id as its next revision
        #[arg(long)]
        revise: bool,
        /// Let the export replace files in --out that no earlier export listed
        #[arg(long, requires = "out")]
        force: bool,
        /// Plugin directory (default: `TENOR_PLUGIN_PATH`, else next to the tenor binary)
        #[arg(long)]
        plugins: Option<PathBuf>,
        /// Write only Tenor's own documents, loading no plugins
        #[arg(long, conflicts_with = "plugins")]
        no_plugins: bool,
    },
    /// Share a quote with the customer: store it and print a signed link to its page
    Share {
        /// The quote file (YAML or JSON)
        quote: PathBuf,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
        /// How long the link may be used: `14d`, `36h`, `90m`
        #[arg(long, default_value = "14d")]
        expires: String,
        /// Where `tenor serve` is reached, the start of the link
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base: String,
        /// Withdraw every link of this quote instead (QUOTE is then the quote id)
        #[arg(long)]
        revoke: bool,
    },
    /// Serve the customers' pages of shared quotes (Accept, Decline) and the MSP's `/admin`
    Serve {
        /// The address to listen on (port 0: any free port, printed on standard error)
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Plugin directory, to render the vendors' formats on acceptance
        #[arg(long)]
        plugins: Option<PathBuf>,
        /// A file holding the token (or basic-auth password) for `/admin`; else
        /// `TENOR_ADMIN_TOKEN`; without either, `/admin` is closed
        #[arg(long)]
        admin_token_file: Option<PathBuf>,
        /// Requests allowed per link per minute
        #[arg(long, default_value_t = 60)]
        rate: u32,
        /// After each acceptance is recorded, push it to the vendors as `tenor push` does
        /// (plugins from `--plugins`, else `TENOR_PLUGIN_PATH`, else beside `tenor`)
        #[arg(long)]
        push: bool,
        /// A reverse proxy's address (repeatable): from it, the customer's address recorded
        /// is the last one of `X-Forwarded-For`
        #[arg(long, value_name = "IP")]
        trust_proxy: Vec<std::net::IpAddr>,
    },
    /// Change the quantity of an accepted subscription line from a date: record a change order
    /// and the amended invoice schedule and sales order
    Change {
        /// The quote id
        quote: String,
        /// The revision to amend (default: the latest)
        #[arg(long)]
        revision: Option<u32>,
        /// The sales order line (1-based)
        #[arg(long)]
        line: u32,
        /// The new quantity
        #[arg(long)]
        quantity: rust_decimal::Decimal,
        /// When the change takes effect (YYYY-MM-DD)
        #[arg(long)]
        date: chrono::NaiveDate,
        /// Export the revision's documents into this directory afterwards
        #[arg(long)]
        out: Option<PathBuf>,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
    },
    /// Run the expectation files: each quote's expected figures, charges, discounts or error
    Test {
        /// An expectation file, or a directory of them (`*.yaml`)
        #[arg(default_value = "rules/tests")]
        dir: PathBuf,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
        /// Show the values the rules now give and write them into the files after review
        #[arg(long)]
        update: bool,
        /// With --update: write without asking
        #[arg(long, requires = "update")]
        yes: bool,
    },
    /// Price every quote under old and new rules: what moves, with the rule lines responsible
    Diff {
        /// The old rules: a git revision of the --to directory, or a directory
        #[arg(long, value_name = "REV|DIR")]
        from: String,
        /// The new rules (a directory)
        #[arg(long, default_value = "rules")]
        to: PathBuf,
        /// Quote files or directories (default: rules/quotes/)
        #[arg(conflicts_with = "accepted")]
        quotes: Vec<PathBuf>,
        /// Every accepted quote in the record (latest revision) instead of quote files
        #[arg(long)]
        accepted: bool,
        /// Output format (`json`: the `tenor.diff/1` document)
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The record's subscriptions renewing in a month, priced for their next term
    Renewals {
        /// The month, YYYY-MM (default: this month)
        #[arg(long)]
        month: Option<String>,
        /// Today's rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
        /// Output format (`json`: the `tenor.renewals/1` document)
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Bill a month: every charge of every accepted quote billed in it, with totals
    Bill {
        /// The month, YYYY-MM
        #[arg(long)]
        month: String,
        /// Only this customer's charges
        #[arg(long)]
        customer: Option<String>,
        /// The rule set, only to find the record beside it (`tenor.db`)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
        /// Output format (`json`: the `tenor.bill/1` document; `csv`: one row per charge)
        #[arg(long, value_enum, default_value_t = BillFormat::Table)]
        format: BillFormat,
    },
    /// Reconcile a month: every accepted quote against what `tenor pull` read that month,
    /// and every distributor subscription on no accepted quote
    Reconcile {
        /// The month, YYYY-MM (each run is kept in the record)
        #[arg(long, required_unless_present = "since", conflicts_with = "since")]
        month: Option<String>,
        /// The trend instead: money at risk per month, customer and class, from this month
        /// (YYYY-MM) on, as the months' latest runs recorded it
        #[arg(long)]
        since: Option<String>,
        /// With --since: also write the trend as a self-contained HTML report to FILE
        #[arg(long, value_name = "FILE", requires = "since")]
        html: Option<PathBuf>,
        /// Only this customer
        #[arg(long)]
        customer: Option<String>,
        /// The rules in force: what a renewal is billed and bought at (a price is locked for
        /// the term; a new one applies at the next renewal). Default: the rules of the latest
        /// acceptance in the record
        #[arg(long, value_name = "DIR", conflicts_with = "since")]
        rules: Vec<PathBuf>,
        /// With --month: show the changes that make the PSA bill what was sold again, and send
        /// them through the PSA's plugin when confirmed (a dry run unless --yes or answered y)
        #[arg(long, requires = "month")]
        apply: bool,
        /// With --apply: send the changes without asking
        #[arg(long, requires = "apply")]
        yes: bool,
        /// With --apply: the plugin directory (default: `TENOR_PLUGIN_PATH`, else beside `tenor`)
        #[arg(long, requires = "apply")]
        plugins: Option<PathBuf>,
        /// Output format (`json`: the `tenor.reconcile/1` document)
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Link a customer to its ids at the vendors (`--set pax8.company=UUID`), or list links
    Link {
        /// The customer id (default: list every customer's links)
        customer: Option<String>,
        /// Set a link: PLUGIN.KEY=VALUE (`pax8.company=…`, `connectwise.contact=…`)
        #[arg(long = "set", value_name = "PLUGIN.KEY=VALUE")]
        set: Vec<String>,
        /// Set a Pax8 link: KEY=VALUE (`company=UUID`)
        #[arg(long, value_name = "KEY=VALUE")]
        pax8: Vec<String>,
        /// Set an Ingram Micro link: KEY=VALUE
        #[arg(long, value_name = "KEY=VALUE")]
        ingram: Vec<String>,
        /// Set a TD SYNNEX link: KEY=VALUE (`customer=ID`)
        #[arg(long, value_name = "KEY=VALUE")]
        tdsynnex: Vec<String>,
        /// Set a ConnectWise link: KEY=VALUE (`company=ID`, `contact=ID`)
        #[arg(long, value_name = "KEY=VALUE")]
        connectwise: Vec<String>,
        /// Remove a link: PLUGIN.KEY
        #[arg(long = "unset", value_name = "PLUGIN.KEY")]
        unset: Vec<String>,
        /// Import a `tenor.links/1` file (YAML or JSON)
        #[arg(long, value_name = "FILE")]
        import: Option<PathBuf>,
        /// Output format (`json`: the `tenor.links/1` document)
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Send an accepted quote's purchase orders and sales order to the vendors' APIs
    Push {
        /// The quote id
        quote: String,
        /// The revision (default: the latest)
        #[arg(long)]
        revision: Option<u32>,
        /// Print the first request of each conversation and send nothing
        #[arg(long)]
        dry_run: bool,
        /// Only this plugin
        #[arg(long, value_name = "PLUGIN")]
        only: Option<String>,
        /// The plugin directory (default: `TENOR_PLUGIN_PATH`, else beside `tenor`)
        #[arg(long)]
        plugins: Option<PathBuf>,
    },
    /// Read the vendors' orders, subscriptions and invoices of the month into the record
    Pull {
        /// Only this customer
        #[arg(long)]
        customer: Option<String>,
        /// The invoices' month (YYYY-MM); without it no invoices are read
        #[arg(long, value_name = "YYYY-MM")]
        month: Option<String>,
        /// Only this plugin
        #[arg(long, value_name = "PLUGIN")]
        only: Option<String>,
        /// The plugin directory (default: `TENOR_PLUGIN_PATH`, else beside `tenor`)
        #[arg(long)]
        plugins: Option<PathBuf>,
    },
    /// The record's history: revisions, changes and exports of one quote or of all
    Log {
        /// The quote id (default: every quote)
        quote: Option<String>,
        /// Output format (`json`: the `tenor.log/1` document)
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One recorded revision of a quote, or one of its documents
    Show {
        /// The quote id
        quote: String,
        /// The revision (default: the latest)
        #[arg(long)]
        revision: Option<u32>,
        /// Print only this document, as recorded: a kind (`sales-order`) or a file name
        #[arg(long)]
        document: Option<String>,
        /// Output format (`json`: the `tenor.show/1` document)
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Write a recorded revision's current documents into a directory
    Export {
        /// The quote id
        quote: String,
        /// The revision (default: the latest)
        #[arg(long)]
        revision: Option<u32>,
        /// Where to write them
        #[arg(long)]
        out: PathBuf,
        /// Replace files in --out that no earlier export listed
        #[arg(long)]
        force: bool,
    },
    /// Rate a month of usage records (CSV) through the metered products' tiers
    Rate {
        /// The usage file: CSV with the header customer,product,metric,quantity,timestamp
        usage: PathBuf,
        /// The month to rate, YYYY-MM
        #[arg(long)]
        period: String,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Report bad rows on standard error and rate the rest
        #[arg(long)]
        skip_bad: bool,
    },
    /// Prove that what was sold, bought and billed agree, and price every disagreement
    Match {
        /// With --pulled: the quote id, as accepted in the record
        #[arg(requires = "pulled")]
        id: Option<String>,
        /// Match the accepted quote against what `tenor pull` stored (no files)
        #[arg(long, requires = "id", conflicts_with_all = ["quote", "orders", "invoices", "as_plugin"])]
        pulled: bool,
        /// With --pulled: only the invoices of this month, YYYY-MM
        #[arg(long, requires = "pulled")]
        month: Option<String>,
        /// The same as `--format json`
        #[arg(long)]
        json: bool,
        /// The quote (what was sold)
        #[arg(long, required_unless_present = "pulled")]
        quote: Option<PathBuf>,
        /// Purchase orders (Tenor's or a distributor's own, read through its plugin)
        #[arg(long = "order")]
        orders: Vec<PathBuf>,
        /// Invoices (Tenor's schedule, a distributor's or the PSA's, through its plugin)
        #[arg(long = "invoice")]
        invoices: Vec<PathBuf>,
        /// Read vendor documents with this plugin instead of detecting it
        #[arg(long = "as")]
        as_plugin: Option<String>,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
        /// Plugin directory (default: `TENOR_PLUGIN_PATH`, else next to the tenor binary)
        #[arg(long)]
        plugins: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List, pin, scaffold or test plugins
    Plugins {
        /// `list`, `lock`, `new` or `test`.
        #[command(subcommand)]
        command: PluginsCommand,
    },
    /// Rewrite rule files in the canonical layout, keeping comments
    Fmt {
        /// Write nothing; exit 1 naming the files that would change
        #[arg(long)]
        check: bool,
        /// Rule files or directories (every `.tenor` file below them)
        #[arg(default_value = "rules")]
        paths: Vec<PathBuf>,
    },
    /// Start a rule set: settings, a product, a co-term policy, a route and an example quote
    Init {
        /// Where to write it (must not exist, or be empty)
        #[arg(default_value = "rules")]
        dir: PathBuf,
    },
    /// Print a shell completion script
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff)
    Man,
}

/// The subcommands of `tenor plugins`.
#[derive(Subcommand)]
pub enum PluginsCommand {
    /// Show each plugin's name, version, kind, capabilities and file
    List {
        /// Plugin directory (default: `TENOR_PLUGIN_PATH`, else next to the tenor binary)
        #[arg(long)]
        plugins: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Pin every plugin file by its SHA-256 in `plugins.lock`; changed or unknown files are
    /// then refused
    Lock {
        /// Plugin directory (default: `TENOR_PLUGIN_PATH`, else next to the tenor binary)
        #[arg(long)]
        plugins: Option<PathBuf>,
    },
    /// Scaffold a connector crate: Cargo.toml, the SDK's trait implemented, a test rendering a
    /// sample purchase order, a README
    New(crate::cli::plugins_new::NewArgs),
    /// Run a plugin on the SDK's sample documents and check that what it renders reads back
    Test {
        /// A plugin's name in the plugin directory, or the path of a plugin library
        plugin: String,
        /// Plugin directory (default: `TENOR_PLUGIN_PATH`, else next to the tenor binary)
        #[arg(long)]
        plugins: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// Output formats of the commands that print a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable table
    Table,
    /// JSON (`tenor.check/1`, `tenor.explain/1`, `tenor.usage-rating/1`, `tenor.match/1`,
    /// `tenor.plugins/1`, `tenor.plugin-test/1`)
    Json,
}

/// Output formats of `bill`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BillFormat {
    /// A readable table, per customer
    Table,
    /// The `tenor.bill/1` document
    Json,
    /// One row per charge, with a header
    Csv,
}

/// Output formats of `price`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PriceFormat {
    /// A readable table
    Table,
    /// JSON (`tenor.priced-quote/1`), amounts as decimal strings
    Json,
    /// The same document as YAML
    Yaml,
}

/// How errors are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ErrorFormat {
    /// Source line and caret, for people
    Human,
    /// One `tenor.error/1` JSON document on standard error, for editors and CI
    Json,
}

/// The error format asked for on a command line that may not parse, so that even a usage
/// error can be reported as JSON.
pub fn error_format_of(args: &[std::ffi::OsString]) -> ErrorFormat {
    let mut it = args.iter().filter_map(|a| a.to_str());
    while let Some(a) = it.next() {
        let value = match a.strip_prefix("--error-format") {
            Some("") => it.next(),
            Some(v) => v.strip_prefix('='),
            None => None,
        };
        if value == Some("json") {
            return ErrorFormat::Json;
        }
    }
    ErrorFormat::Human
}

/// A number of seconds (`30`, `2.5`) for `--plugin-timeout`.
fn seconds(text: &str) -> Result<std::time::Duration, String> {
    crate::host::options::parse_seconds(text)
        .ok_or_else(|| format!("`{text}` is not a positive number of seconds (such as 30 or 2.5)"))
}

/// The clap command, for completions and the man page.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
