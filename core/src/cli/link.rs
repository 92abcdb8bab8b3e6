//! `tenor link`: a customer's ids at the vendors (`--set PLUGIN.KEY=VALUE`, `--unset
//! PLUGIN.KEY`, `--import FILE`), every change a link event in the record; without changes,
//! the links as a table or the `tenor.links/1` document.

use crate::cli::Ctx;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::render::errors::Problem;
use crate::push::links::{self, LINKS, LinkError};
use std::path::{Path, PathBuf};

/// The arguments of `tenor link`.
pub struct LinkArgs {
    /// The customer.
    pub customer: Option<String>,
    /// `PLUGIN.KEY=VALUE`s.
    pub set: Vec<String>,
    /// `PLUGIN.KEY`s.
    pub unset: Vec<String>,
    /// A `tenor.links/1` file.
    pub import: Option<PathBuf>,
    /// `--format json`.
    pub json: bool,
}

/// The link keys each installed plugin declares (none when the plugin directory cannot be
/// told): what `tenor link` checks a set key against.
fn declared_keys() -> links::DeclaredKeys {
    let Some(dir) = crate::host::plugin_dir(None) else {
        return links::DeclaredKeys::new();
    };
    crate::host::Host::load_dir(&dir)
        .plugins()
        .iter()
        .filter(|p| !p.info.link_keys.is_empty())
        .map(|p| (p.info.name.clone(), p.info.link_keys.clone()))
        .collect()
}

fn refused(e: LinkError) -> CliError {
    CliError::Refused {
        problems: vec![Problem::new("link", e.to_string())],
        summary: Some("no link was changed".into()),
    }
}

/// `tenor link`: exit 0; a bad link is refused (exit 1) and nothing is changed.
pub fn link_cmd(args: &LinkArgs, db_flag: Option<&Path>, ctx: &mut Ctx<'_>) -> CliResult {
    let mut changes = Vec::new();
    let mut source = "command line".to_string();
    if !args.set.is_empty() || !args.unset.is_empty() {
        let Some(customer) = &args.customer else {
            return Err(CliError::Run(
                "--set and --unset need the customer: `tenor link CUSTOMER --set pax8.company=…`"
                    .into(),
            ));
        };
        for s in &args.set {
            changes.push(links::parse_set(customer, s).map_err(refused)?);
        }
        for u in &args.unset {
            changes.push(links::parse_unset(customer, u).map_err(refused)?);
        }
    }
    if let Some(file) = &args.import {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(file)
            .map_err(|e| CliError::Run(format!("cannot read {name}: {e}")))?;
        changes.extend(links::parse_file(&name, &text).map_err(refused)?);
        source = format!("import {name}");
    }
    let sets = changes.iter().any(|c| c.value.is_some());
    let unread = if sets {
        links::check_keys(&changes, &declared_keys())
    } else {
        Vec::new()
    };
    if !unread.is_empty() {
        return Err(CliError::Refused {
            problems: unread
                .into_iter()
                .map(|e| Problem::new("link", e.to_string()))
                .collect(),
            summary: Some("no link was changed".into()),
        });
    }
    let mut record = db::open(db_flag, &[])?;
    if !changes.is_empty() {
        let done = record.apply_links(&changes, &source).map_err(db::error)?;
        ctx.status(format_args!(
            "links: {} set, {} removed, {} unchanged",
            done.set, done.removed, done.unchanged
        ));
        return Ok(Exit::Success);
    }
    let all = record.links(args.customer.as_deref()).map_err(db::error)?;
    if args.json {
        let doc = serde_json::json!({"schema": LINKS, "links": all});
        writeln!(ctx.out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::NOTHING);
        t.set_header(["customer", "plugin", "key", "value"]);
        for l in &all {
            t.add_row([&l.customer, &l.plugin, &l.key, &l.value]);
        }
        writeln!(ctx.out, "{t}")?;
    }
    Ok(Exit::Success)
}
