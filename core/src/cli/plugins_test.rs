//! `tenor plugins test PLUGIN`: a plugin loaded through the host and run on the SDK's sample
//! documents: its description, its rendering of a sample purchase order (distributor) or of the
//! sample sales order and template (PSA), rendered twice for determinism, and what it reads
//! back from its own rendering matched against the purchase order by the same check
//! `tenor accept` applies. Also where the samples come from: [`sample_set`] accepts the samples'
//! quote against the example rules, and [`sample_documents`] is the text of every sample file.

use crate::cli::Ctx;
use crate::cli::args::Format;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::documents::accept::{self, Accepted, OrderCheck};
use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::{self, PriceOptions, PricedQuote};
use crate::engine::quote::QuoteFile;
use crate::host::{Host, Loaded};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{Capability, Kind, OrderLine, Rendered, SalesInput, TextInput, ops};
use tenor_plugin_sdk::{PROTOCOL_MIN, PROTOCOL_VERSION, samples};

/// Schema of the `--format json` report.
pub const PLUGIN_TEST: &str = "tenor.plugin-test/1";

/// Name of the samples' extra rule file, read before the example rules.
const ROUTES_NAME: &str = "plugins/sdk/samples/source/routes.tenor";

/// Name of the samples' quote.
const QUOTE_NAME: &str = "plugins/sdk/samples/source/quote.yaml";

/// The example rule set the samples are priced with, built into the binary so that
/// `tenor plugins test` runs anywhere (a test checks that it lists every file of `rules/`).
pub const EXAMPLE_RULES: &[(&str, &str)] = &[
    (
        "rules/backup.tenor",
        include_str!("../../../rules/backup.tenor"),
    ),
    (
        "rules/hardware.tenor",
        include_str!("../../../rules/hardware.tenor"),
    ),
    (
        "rules/managed-services.tenor",
        include_str!("../../../rules/managed-services.tenor"),
    ),
    (
        "rules/microsoft-365.tenor",
        include_str!("../../../rules/microsoft-365.tenor"),
    ),
    (
        "rules/policies.tenor",
        include_str!("../../../rules/policies.tenor"),
    ),
    (
        "rules/settings.tenor",
        include_str!("../../../rules/settings.tenor"),
    ),
];

/// The samples' quote accepted against the example rules: what the sample files hold, and
/// what a plugin's read-back is matched against.
pub struct SampleSet {
    /// The compiled rules.
    pub catalogue: Catalogue,
    /// The quote.
    pub quote: QuoteFile,
    /// The quote as priced.
    pub priced: PricedQuote,
    /// Its documents.
    pub accepted: Accepted,
}

/// Prices and accepts the samples' quote, as `tenor accept` does with
/// `--rules plugins/sdk/samples/source/routes.tenor --rules rules` from the repository's root.
pub fn sample_set() -> Result<SampleSet, CliError> {
    let broken = |what: &str, why: String| CliError::Run(format!("the sample {what}: {why}"));
    let mut sources = tenor_dsl::SourceSet::new();
    sources.add(ROUTES_NAME, samples::SOURCE_ROUTES);
    for (name, text) in EXAMPLE_RULES {
        sources.add(*name, *text);
    }
    let texts: Vec<(String, String)> = sources
        .ids()
        .map(|id| (sources.name(id).to_string(), sources.text(id).to_string()))
        .collect();
    let rules = tenor_dsl::check(&sources)
        .map_err(|d| broken("rules", format!("{} problem(s)", d.len())))?;
    let catalogue = Catalogue::compile(&rules, &sources);
    let quote = QuoteFile::parse(QUOTE_NAME, samples::SOURCE_QUOTE)
        .map_err(|e| broken("quote", e.message))?;
    let priced = pricing::price(&catalogue, &quote.quote, &PriceOptions::default())
        .map_err(|e| broken("quote", messages(e.iter().map(|e| &e.message))))?;
    let fp = accept::fingerprint(&quote.quote, &texts);
    let accepted = accept::accept(&catalogue, &quote.quote, &priced, &fp)
        .map_err(|e| broken("quote", messages(e.iter().map(|e| &e.message))))?;
    Ok(SampleSet {
        catalogue,
        quote,
        priced,
        accepted,
    })
}

fn messages<'a>(m: impl Iterator<Item = &'a String>) -> String {
    m.cloned().collect::<Vec<_>>().join("; ")
}

/// Every sample file of `plugins/sdk/samples/` as (file name, text): each purchase order as
/// `tenor accept` writes it, and the PSA's input.
pub fn sample_documents(set: &SampleSet) -> Result<Vec<(String, String)>, CliError> {
    let mut out = Vec::new();
    for po in &set.accepted.purchase_orders {
        out.push((
            format!("purchase-order-{}.json", po.distributor),
            pretty(po)?,
        ));
    }
    let input = SalesInput {
        sales_order: set.accepted.sales_order.clone(),
        template: set.accepted.template.clone(),
    };
    out.push(("sales-input.json".to_string(), pretty(&input)?));
    Ok(out)
}

/// Pretty JSON ending with a newline, as `tenor accept` writes its documents.
fn pretty<T: Serialize>(v: &T) -> Result<String, CliError> {
    let mut text = serde_json::to_string_pretty(v)?;
    text.push('\n');
    Ok(text)
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It passed.
    Pass,
    /// It failed; the detail says why.
    Fail,
    /// It does not apply to this plugin; the detail says why.
    Skip,
}

/// One check and its outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What was checked (`render PO-Q-SAMPLE-pax8`).
    pub name: String,
    /// Pass, fail or skip.
    pub status: Status,
    /// What happened, in words.
    pub detail: String,
}

impl Check {
    fn new(name: impl Into<String>, status: Status, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status,
            detail: detail.into(),
        }
    }
}

/// `tenor plugins test`: exit 0 when every check passes, 1 when one fails.
pub fn plugins_test(
    target: &str,
    dir: Option<PathBuf>,
    format: Format,
    ctx: &mut Ctx<'_>,
) -> CliResult {
    let scratch = Scratch::new();
    let (host, file) = load_target(target, dir, &scratch)?;
    let mut checks = Vec::new();
    let plugin = match find(&host, target, &file) {
        Err(Missing::NotThere(why)) => return Err(CliError::Run(why)),
        Ok(p) => {
            checks.push(Check::new("load", Status::Pass, shown(target, p)));
            run_checks(p, &mut checks)?;
            Some(p)
        }
        Err(Missing::Failed(why)) => {
            checks.push(Check::new("load", Status::Fail, why));
            None
        }
    };
    match format {
        Format::Table => write_table(plugin, target, &checks, ctx)?,
        Format::Json => write_json(plugin, target, &checks, ctx)?,
    }
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    if failed.is_empty() {
        return Ok(Exit::Success);
    }
    Err(CliError::Failed(format!(
        "plugin `{target}` failed {} of {} checks:\n  {}",
        failed.len(),
        checks.len(),
        failed.join("\n  ")
    )))
}

/// Where the plugin was loaded from, as the user named it (not the scratch copy).
fn shown(target: &str, p: &Loaded) -> String {
    if is_path(target) {
        target.to_string()
    } else {
        p.path.display().to_string()
    }
}

/// A temporary plugin directory for a library named by path, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        Scratch(
            std::env::temp_dir().join(format!("tenor-plugin-test-{}-{nanos}", std::process::id())),
        )
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// True when PLUGIN names a file rather than a plugin.
fn is_path(target: &str) -> bool {
    target.contains(['/', std::path::MAIN_SEPARATOR])
        || target.ends_with(std::env::consts::DLL_SUFFIX)
}

/// Loads the plugin directory, or a directory holding only the named library (copied under a
/// plugin file name, so that the host treats it as it would installed). Also returns the file
/// the plugin is expected in.
fn load_target(
    target: &str,
    dir: Option<PathBuf>,
    scratch: &Scratch,
) -> Result<(Host, PathBuf), CliError> {
    if !is_path(target) {
        let dir = crate::host::plugin_dir(dir.as_deref()).ok_or_else(|| {
            CliError::Run("cannot tell where the tenor binary is; pass --plugins DIR".into())
        })?;
        let file = dir.join(plugin_file_name(&target.replace('-', "_")));
        return Ok((Host::load_dir(&dir), file));
    }
    let path = Path::new(target);
    if !path.is_file() {
        return Err(CliError::Run(format!("{target}: no such plugin library")));
    }
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.strip_prefix(std::env::consts::DLL_PREFIX).unwrap_or(n))
        .map(|n| n.strip_suffix(std::env::consts::DLL_SUFFIX).unwrap_or(n))
        .unwrap_or("plugin");
    let name = if stem.starts_with("tenor_plugin_") {
        format!(
            "{}{stem}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )
    } else {
        plugin_file_name(stem)
    };
    let cannot = |e: std::io::Error| CliError::Run(format!("cannot copy {target}: {e}"));
    std::fs::create_dir(&scratch.0).map_err(cannot)?;
    let file = scratch.0.join(name);
    std::fs::copy(path, &file).map_err(cannot)?;
    Ok((Host::load_dir(&scratch.0), file))
}

/// `libtenor_plugin_<name>.so` on this platform.
fn plugin_file_name(name: &str) -> String {
    format!(
        "{}tenor_plugin_{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// Why the plugin under test is not there.
enum Missing {
    /// Its file is not in the directory: the command cannot run (exit 2).
    NotThere(String),
    /// Its file did not load: the first check fails (exit 1).
    Failed(String),
}

/// The plugin under test, or why it did not load.
fn find<'h>(host: &'h Host, target: &str, file: &Path) -> Result<&'h Loaded, Missing> {
    let loaded = if is_path(target) {
        host.plugins().iter().find(|p| p.path == file)
    } else {
        host.get(target)
    };
    if let Some(p) = loaded {
        return Ok(p);
    }
    if let Some(f) = host.failures.iter().find(|f| f.path == file) {
        return Err(Missing::Failed(f.message.clone()));
    }
    let names: Vec<&str> = host
        .plugins()
        .iter()
        .map(|p| p.info.name.as_str())
        .collect();
    Err(Missing::NotThere(format!(
        "no plugin named `{target}` in {} (loaded: {})",
        host.dir.as_deref().unwrap_or(Path::new("?")).display(),
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    )))
}

/// The description check, then the renderings of the plugin's kind.
fn run_checks(p: &Loaded, checks: &mut Vec<Check>) -> Result<(), CliError> {
    checks.push(describe(p));
    match p.info.kind {
        Kind::Distributor => distributor_checks(p, checks),
        Kind::Psa => {
            psa_checks(p, checks);
            Ok(())
        }
    }
}

/// What the plugin says it is, and whether that is consistent.
fn describe(p: &Loaded) -> Check {
    let i = &p.info;
    let caps: Vec<String> = i
        .capabilities
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok())
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let mut problems = Vec::new();
    if i.name.is_empty()
        || !i
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        problems.push(format!(
            "its name `{}` is not letters, digits, `-` and `_`",
            i.name
        ));
    }
    if i.version.is_empty() {
        problems.push("it states no version".to_string());
    }
    if caps.is_empty() {
        problems.push("it lists no capability".to_string());
    }
    let (kind, wanted) = match i.kind {
        Kind::Distributor => ("distributor", Capability::RenderPurchaseOrder),
        Kind::Psa => ("psa", Capability::RenderSales),
    };
    if !p.can(wanted) && !p.can(Capability::ParseInvoice) {
        problems.push(format!(
            "a {kind} plugin that neither renders nor reads invoices"
        ));
    }
    let detail = format!(
        "{} {}, {kind}{}, protocol {} (this tenor speaks {PROTOCOL_MIN} to {PROTOCOL_VERSION}), capabilities: {}",
        i.name,
        i.version,
        i.distributor
            .as_deref()
            .map(|d| format!(" for `{d}`"))
            .unwrap_or_default(),
        i.protocol,
        caps.join(", ")
    );
    if problems.is_empty() {
        Check::new("describe", Status::Pass, detail)
    } else {
        Check::new(
            "describe",
            Status::Fail,
            format!("{detail}: {}", problems.join("; ")),
        )
    }
}

/// Renders a sample purchase order twice and reads the rendering back.
fn distributor_checks(p: &Loaded, checks: &mut Vec<Check>) -> Result<(), CliError> {
    let distributor = p
        .info
        .distributor
        .clone()
        .unwrap_or_else(|| p.info.name.clone());
    let po = samples::purchase_order_for(&distributor)
        .map_err(|e| CliError::Run(format!("the SDK's sample purchase order: {e}")))?;
    let what = if samples::purchase_order(&distributor).is_some() {
        format!("sample {}", po.id)
    } else {
        format!(
            "sample PO for `{}` readdressed to `{distributor}`",
            samples::DEFAULT_DISTRIBUTOR
        )
    };
    let render = format!("render {}", po.id);
    if !p.can(Capability::RenderPurchaseOrder) {
        checks.push(Check::new(
            render,
            Status::Skip,
            "it does not render purchase orders",
        ));
        return Ok(());
    }
    let Some(docs) = rendering(p, ops::RENDER_PURCHASE_ORDER, &po, &render, &what, checks) else {
        return Ok(());
    };
    let back = format!("read back {}", po.id);
    if !p.can(Capability::ParseOrder) {
        checks.push(Check::new(
            back,
            Status::Skip,
            "it cannot read orders back (no parse_order), so `tenor accept` writes its rendering unchecked",
        ));
        return Ok(());
    }
    let set = sample_set()?;
    let matcher = crate::matching::Matcher::new(&set.catalogue);
    let check = crate::matching::ReadBack {
        matcher: &matcher,
        quote: &set.quote.quote,
        priced: &set.priced,
    };
    checks.push(
        read_back(p, &po, &docs, &check).unwrap_or_else(|why| Check::new(&back, Status::Fail, why)),
    );
    Ok(())
}

/// Renders the sample sales order and template twice.
fn psa_checks(p: &Loaded, checks: &mut Vec<Check>) {
    let name = "render SO-Q-SAMPLE and RT-Q-SAMPLE".to_string();
    if !p.can(Capability::RenderSales) {
        checks.push(Check::new(
            name,
            Status::Skip,
            "it does not render sales documents",
        ));
        return;
    }
    match samples::sales_input() {
        Ok(input) => {
            if rendering(
                p,
                ops::RENDER_SALES,
                &input,
                &name,
                "sample sales input",
                checks,
            )
            .is_some()
            {
                checks.push(Check::new(
                    "read back",
                    Status::Skip,
                    "the protocol has no operation reading a PSA's sales documents back",
                ));
            }
        }
        Err(e) => checks.push(Check::new(
            name,
            Status::Fail,
            format!("the SDK's sample: {e}"),
        )),
    }
}

/// Renders `input` twice: a check that it renders (plain file names, some text) and one that
/// the two renderings are the same bytes. The documents when it rendered.
fn rendering<I: Serialize>(
    p: &Loaded,
    op: &str,
    input: &I,
    name: &str,
    what: &str,
    checks: &mut Vec<Check>,
) -> Option<Vec<Rendered>> {
    let docs = match p.call::<_, Vec<Rendered>>(op, input) {
        Ok(d) => d,
        Err(e) => {
            checks.push(Check::new(name, Status::Fail, e));
            return None;
        }
    };
    let files: Vec<String> = docs
        .iter()
        .map(|d| format!("{}.{}", d.name, d.extension))
        .collect();
    let bad: Vec<&String> = docs
        .iter()
        .zip(&files)
        .filter(|(d, _)| !plain(&d.name) || !plain(&d.extension) || d.body.is_empty())
        .map(|(_, f)| f)
        .collect();
    if docs.is_empty() {
        checks.push(Check::new(
            name,
            Status::Fail,
            format!("it rendered no document from the {what}"),
        ));
        return None;
    }
    if !bad.is_empty() {
        let bad: Vec<&str> = bad.iter().map(|s| s.as_str()).collect();
        checks.push(Check::new(
            name,
            Status::Fail,
            format!(
                "not plain file names (letters, digits, `.`, `-`, `_`) or empty: {}",
                bad.join(", ")
            ),
        ));
        return None;
    }
    checks.push(Check::new(
        name,
        Status::Pass,
        format!("{what}: {}", files.join(", ")),
    ));
    let again = p.call::<_, Vec<Rendered>>(op, input);
    let same = matches!(&again, Ok(d) if *d == docs);
    checks.push(Check::new(
        "deterministic",
        if same { Status::Pass } else { Status::Fail },
        if same {
            "rendering it again gave the same bytes".to_string()
        } else {
            "rendering it again gave different documents".to_string()
        },
    ));
    Some(docs)
}

/// Plain file name parts, as `tenor accept` writes them.
fn plain(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Reads every rendered document back and matches the lines against the purchase order.
fn read_back(
    p: &Loaded,
    po: &PurchaseOrder,
    docs: &[Rendered],
    check: &dyn OrderCheck,
) -> Result<Check, String> {
    let mut lines: Vec<OrderLine> = Vec::new();
    for d in docs {
        let text = TextInput {
            text: d.body.clone(),
        };
        let back: Vec<OrderLine> = p
            .call(ops::PARSE_ORDER, &text)
            .map_err(|e| format!("cannot read back {}.{}: {e}", d.name, d.extension))?;
        lines.extend(back);
    }
    let diffs = check.differences(po, &lines);
    if !diffs.is_empty() {
        return Err(format!(
            "it does not read back as the purchase order: {}",
            diffs.join("; ")
        ));
    }
    Ok(Check::new(
        format!("read back {}", po.id),
        Status::Pass,
        format!(
            "{} line(s) read back match the purchase order's {}",
            lines.len(),
            po.lines.len()
        ),
    ))
}

/// The checks as a table.
fn write_table(
    plugin: Option<&Loaded>,
    target: &str,
    checks: &[Check],
    ctx: &mut Ctx<'_>,
) -> Result<(), CliError> {
    let title = plugin.map_or_else(
        || format!("plugin {target}"),
        |p| format!("plugin {} {}", p.info.name, p.info.version),
    );
    writeln!(ctx.out, "{title}")?;
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(vec!["Check", "Result", "Detail"]);
    for c in checks {
        let status = match c.status {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        };
        t.add_row(vec![c.name.clone(), status.to_string(), c.detail.clone()]);
    }
    writeln!(ctx.out, "{t}")?;
    Ok(())
}

/// The checks as the `tenor.plugin-test/1` document.
fn write_json(
    plugin: Option<&Loaded>,
    target: &str,
    checks: &[Check],
    ctx: &mut Ctx<'_>,
) -> Result<(), CliError> {
    let doc = serde_json::json!({
        "schema": PLUGIN_TEST,
        "target": target,
        "plugin": plugin.map(|p| serde_json::json!({
            "name": p.info.name,
            "version": p.info.version,
            "kind": p.info.kind,
            "protocol": p.info.protocol,
            "file": shown(target, p),
        })),
        "passed": checks.iter().all(|c| c.status != Status::Fail),
        "checks": checks,
    });
    writeln!(ctx.out, "{}", serde_json::to_string_pretty(&doc)?)?;
    Ok(())
}
