//! `tenor plugins list` and `tenor plugins lock`; `new` and `test` are in their own files.

use crate::cli::Ctx;
use crate::cli::args::{Format, PluginsCommand};
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::host::{Host, Loaded};
use std::path::{Path, PathBuf};

/// `tenor plugins …`: exit 1 when a plugin failed to load.
pub fn plugins_cmd(cmd: PluginsCommand, ctx: &mut Ctx<'_>) -> CliResult {
    match cmd {
        PluginsCommand::List { plugins, format } => list(&dir_of(plugins)?, format, ctx),
        PluginsCommand::Lock { plugins } => {
            let dir = dir_of(plugins)?;
            let lock = crate::host::write_lock(&dir)?;
            for e in &lock.plugins {
                writeln!(ctx.out, "{}  {}", e.sha256, e.file)?;
            }
            ctx.status(format_args!(
                "wrote {}",
                dir.join(crate::host::LOCK_FILE).display()
            ));
            Ok(Exit::Success)
        }
        PluginsCommand::New(args) => crate::cli::plugins_new::plugins_new(&args, ctx),
        PluginsCommand::Test {
            plugin,
            plugins,
            format,
        } => crate::cli::plugins_test::plugins_test(&plugin, plugins, format, ctx),
    }
}

/// The plugin directory: the flag, `TENOR_PLUGIN_PATH`, or next to the binary.
fn dir_of(flag: Option<PathBuf>) -> Result<PathBuf, CliError> {
    crate::host::plugin_dir(flag.as_deref()).ok_or_else(|| {
        CliError::Run("cannot tell where the tenor binary is; pass --plugins DIR".into())
    })
}

/// `tenor plugins list`: the loaded plugins as a table or `tenor.plugins/1` JSON.
fn list(dir: &Path, format: Format, ctx: &mut Ctx<'_>) -> CliResult {
    let host = Host::load_dir(dir);
    match format {
        Format::Table => {
            writeln!(ctx.out, "plugins in {}", dir.display())?;
            writeln!(ctx.out, "{}", table(&host))?;
        }
        Format::Json => {
            let plugins: Vec<serde_json::Value> = host
                .plugins()
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "name": p.info.name,
                        "version": p.info.version,
                        "kind": kind(p),
                        "capabilities": capabilities(p),
                        "link_keys": p.info.link_keys,
                        "file": p.path.display().to_string(),
                        "sha256": p.sha256,
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "schema": "tenor.plugins/1",
                "dir": dir.display().to_string(),
                "plugins": plugins,
            });
            writeln!(ctx.out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
    }
    for f in &host.failures {
        ctx.report(&CliError::Run(format!(
            "plugin {}: {}",
            f.path.display(),
            f.message
        )));
    }
    Ok(if host.failures.is_empty() {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// The plugins as a table.
fn table(host: &Host) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(vec!["Name", "Version", "Kind", "Capabilities", "File"]);
    for p in host.plugins() {
        t.add_row(vec![
            p.info.name.clone(),
            p.info.version.clone(),
            kind(p).to_string(),
            capabilities(p).join(", "),
            p.path.display().to_string(),
        ]);
    }
    t
}

/// `distributor` or `psa`.
fn kind(p: &Loaded) -> &'static str {
    match p.info.kind {
        tenor_plugin_sdk::Kind::Distributor => "distributor",
        tenor_plugin_sdk::Kind::Psa => "psa",
    }
}

/// The plugin's capabilities by their wire names.
fn capabilities(p: &Loaded) -> Vec<String> {
    p.info
        .capabilities
        .iter()
        .map(|c| {
            serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect()
}
