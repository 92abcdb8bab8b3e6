//! `tenor plugins new NAME`: a connector crate to start from, which builds where it stands
//! (a workspace of its own), loads as a plugin (a cdylib named `tenor_plugin_<name>`) and
//! passes `tenor plugins test`. The files come from the templates in `cli/scaffold/`; the same
//! arguments give the same bytes.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use std::path::{Path, PathBuf};

/// The arguments of `tenor plugins new`.
#[derive(clap::Args)]
pub struct NewArgs {
    /// The plugin's name: letters, digits, `-` and `_`, starting with a letter (`acme`); a
    /// distributor plugin serves the distributor of that name in the rule files
    pub name: String,
    /// Where to write the crate (must not exist, or be empty; default: NAME)
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// What the plugin connects to
    #[arg(long, value_enum, default_value_t = NewKind::Distributor)]
    pub kind: NewKind,
    /// The tenor-plugin-sdk crate to depend on (default: the one this tenor was built from)
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

/// The kinds of plugin `tenor plugins new` scaffolds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum NewKind {
    /// Renders purchase orders and reads them back
    Distributor,
    /// Renders the sales order and recurring template
    Psa,
}

/// The SDK beside the sources this binary was built from.
const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/sdk");

/// `tenor plugins new`: writes the crate; refuses a bad name or a directory holding anything.
pub fn plugins_new(args: &NewArgs, ctx: &mut Ctx<'_>) -> CliResult {
    check_name(&args.name)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    refuse_non_empty(&dir)?;
    let sdk = sdk_path(args.sdk.as_deref())?;
    for (path, text) in files(&args.name, args.kind, &sdk) {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| CliError::Run(format!("cannot create {}: {e}", parent.display())))?;
        }
        crate::files::atomic::write(&path, text.as_bytes())
            .map_err(|e| CliError::Run(format!("cannot write {}: {e}", path.display())))?;
        ctx.status(format_args!("wrote {}", path.display()));
    }
    ctx.status(format_args!(
        "next: cd {} && cargo test && cargo build && tenor plugins test target/debug/{}",
        dir.display(),
        lib_file(&ident(&args.name))
    ));
    Ok(Exit::Success)
}

/// A name fit for a crate, a library file and a distributor in the rule files.
fn check_name(name: &str) -> Result<(), CliError> {
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if starts_with_letter && plain && name.len() <= 64 {
        return Ok(());
    }
    Err(CliError::Failed(format!(
        "`{name}` is not a plugin name: use at most 64 letters, digits, `-` and `_`, starting with a letter (no path separators; pass --dir to choose where the crate goes)"
    )))
}

/// Refuses a directory that holds anything, or a file in its place.
fn refuse_non_empty(dir: &Path) -> Result<(), CliError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            Some(_) => Err(CliError::Failed(format!(
                "{} is not empty; tenor plugins new writes only into a new or empty directory",
                dir.display()
            ))),
            None => Ok(()),
        },
        Err(_) if dir.exists() => Err(CliError::Failed(format!(
            "{} exists and is not a directory",
            dir.display()
        ))),
        Err(_) => Ok(()),
    }
}

/// The SDK crate to depend on, as an absolute path (the crate may be anywhere).
fn sdk_path(flag: Option<&Path>) -> Result<String, CliError> {
    let given = flag.unwrap_or(Path::new(BUILT_SDK));
    let is_sdk = std::fs::read_to_string(given.join("Cargo.toml"))
        .is_ok_and(|t| t.contains("name = \"tenor-plugin-sdk\""));
    if !is_sdk {
        return Err(CliError::Run(format!(
            "{} is not the tenor-plugin-sdk crate; pass --sdk PATH (the `plugins/sdk` folder of Tenor's sources)",
            given.display()
        )));
    }
    let abs = std::fs::canonicalize(given)
        .map_err(|e| CliError::Run(format!("cannot resolve {}: {e}", given.display())))?;
    abs.to_str()
        .map(|s| s.replace('\\', "/"))
        .ok_or_else(|| CliError::Run(format!("{} is not valid UTF-8", abs.display())))
}

/// The crate's files: (path under the crate, text).
fn files(name: &str, kind: NewKind, sdk: &str) -> Vec<(&'static str, String)> {
    let (kind_word, lib, test, notes) = match kind {
        NewKind::Distributor => (
            "distributor",
            include_str!("scaffold/distributor.rs.in"),
            include_str!("scaffold/distributor_test.rs.in"),
            "It serves the distributor `{{name}}` of the rule files: `distributor {{name}} \"…\"`, \
             `bought via {{name}} as \"PART\"` on each product, `route … via {{name}}`; \
             `tenor accept` then writes `PO-<quote>-{{name}}.{{name}}.csv` beside Tenor's own \
             purchase order, after checking that it reads back as that purchase order.",
        ),
        NewKind::Psa => (
            "psa",
            include_str!("scaffold/psa.rs.in"),
            include_str!("scaffold/psa_test.rs.in"),
            "Every PSA plugin renders each accepted quote's sales order and recurring template: \
             `tenor accept` writes `RT-<quote>.{{name}}.csv` beside Tenor's own documents.",
        ),
    };
    let id = ident(name);
    let fill = |t: &str| {
        t.replace("{{kind_notes}}", notes)
            .replace("{{name}}", name)
            .replace("{{ident}}", &id)
            .replace("{{type}}", &type_name(name))
            .replace("{{kind}}", kind_word)
            .replace("{{sdk}}", sdk)
            .replace("{{lib_file}}", &lib_file(&id))
    };
    vec![
        ("Cargo.toml", fill(include_str!("scaffold/Cargo.toml.in"))),
        (".gitignore", fill(include_str!("scaffold/gitignore.in"))),
        ("README.md", fill(include_str!("scaffold/README.md.in"))),
        ("src/lib.rs", fill(lib)),
        ("tests/samples.rs", fill(test)),
    ]
}

/// The name as a Rust identifier (`my-dist` → `my_dist`).
fn ident(name: &str) -> String {
    name.replace('-', "_")
}

/// The name as a type (`my-dist` → `MyDist`).
fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The library file cargo builds for the crate on this platform.
fn lib_file(ident: &str) -> String {
    format!(
        "{}tenor_plugin_{ident}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain() {
        for ok in ["acme", "my-dist", "a_1", "Acme2"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1acme", "a/b", "..", "a b", "a.b", "é", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_names_derived_from_a_plugin_name() {
        assert_eq!(ident("my-dist"), "my_dist");
        assert_eq!(type_name("my-dist_x"), "MyDistX");
        assert_eq!(type_name("acme"), "Acme");
    }

    #[test]
    fn every_placeholder_is_filled_and_the_output_is_deterministic() {
        for kind in [NewKind::Distributor, NewKind::Psa] {
            let a = files("my-dist", kind, "/sdk");
            assert_eq!(a, files("my-dist", kind, "/sdk"));
            for (path, text) in &a {
                for p in [
                    "{{name}}",
                    "{{ident}}",
                    "{{type}}",
                    "{{kind",
                    "{{sdk}}",
                    "{{lib_file}}",
                ] {
                    assert!(!text.contains(p), "{path} still holds {p}");
                }
            }
            let cargo = &a.iter().find(|(p, _)| *p == "Cargo.toml").map(|f| &f.1);
            assert!(
                cargo.is_some_and(|t| t.contains("name = \"tenor_plugin_my_dist\"")
                    && t.contains("path = \"/sdk\"")
                    && t.contains("[workspace]"))
            );
        }
    }
}
