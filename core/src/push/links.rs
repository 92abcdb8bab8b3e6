//! Customer links as given on the command line (`--set pax8.company=UUID`, `--unset`) or in a
//! `tenor.links/1` file, checked before anything is recorded: ids of Tenor's form for the
//! customer, plugin and key names of letters, digits, `-` and `_`, values without control
//! characters and at most [`MAX_VALUE`] characters, Pax8 ids as uuids.

pub use crate::record::EVERY_CUSTOMER;
use crate::record::{Link, LinkChange};
use serde::Deserialize;

/// Schema of a links file and of `tenor link --format json`.
pub const LINKS: &str = "tenor.links/1";

/// The longest value accepted.
pub const MAX_VALUE: usize = 128;

/// The longest plugin or key name accepted.
const MAX_NAME: usize = 32;

/// A link that cannot be recorded, with where it was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {message}")]
pub struct LinkError {
    /// Where: `--set pax8.company=…`, or `links.yaml: links[2].value`.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

fn err(at: &str, message: impl Into<String>) -> LinkError {
    LinkError {
        at: at.to_string(),
        message: message.into(),
    }
}

fn check_name(at: &str, what: &str, name: &str) -> Result<(), LinkError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        return Ok(());
    }
    Err(err(
        at,
        format!(
            "{what} `{}` must be 1 to {MAX_NAME} lower-case letters, digits, `-` or `_`",
            name.escape_debug()
        ),
    ))
}

/// True for a uuid in its 8-4-4-4-12 hexadecimal form.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Checks one link's every part. The customer is an id of Tenor's form or
/// [`EVERY_CUSTOMER`], for the MSP's own ids at a vendor (its TD SYNNEX account).
pub fn check(at: &str, link: &Link) -> Result<(), LinkError> {
    if link.customer != EVERY_CUSTOMER {
        crate::files::names::validate_id(&link.customer)
            .map_err(|e| err(at, format!("customer: {e}")))?;
    }
    check_name(at, "plugin", &link.plugin)?;
    check_name(at, "key", &link.key)?;
    let v = &link.value;
    if v.is_empty() || v.chars().count() > MAX_VALUE {
        return Err(err(
            at,
            format!("the value must be 1 to {MAX_VALUE} characters"),
        ));
    }
    if v.chars().any(char::is_control) || v.trim() != v {
        return Err(err(
            at,
            format!(
                "the value `{}` has a control character or surrounding spaces",
                v.escape_debug()
            ),
        ));
    }
    if link.plugin == "pax8" && !is_uuid(v) {
        return Err(err(
            at,
            format!("Pax8 ids are uuids (8-4-4-4-12 hex digits); `{v}` is not one"),
        ));
    }
    Ok(())
}

/// The link keys each plugin that declares them reads, by plugin name.
pub type DeclaredKeys = std::collections::BTreeMap<String, Vec<String>>;

/// Every link set for a plugin that declares its keys but does not read this one: a key no
/// connector reads would be recorded and never used.
pub fn check_keys(changes: &[LinkChange], declared: &DeclaredKeys) -> Vec<LinkError> {
    let mut out = Vec::new();
    for c in changes.iter().filter(|c| c.value.is_some()) {
        let Some(keys) = declared.get(&c.plugin) else {
            continue;
        };
        if keys.contains(&c.key) {
            continue;
        }
        let near = tenor_dsl::diagnostic::did_you_mean(&c.key, keys.iter().map(String::as_str))
            .map(|k| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        out.push(err(
            &format!("{}.{} for {}", c.plugin, c.key, c.customer),
            format!(
                "the {} plugin reads no link key `{}`{near}; it reads {}",
                c.plugin,
                c.key,
                keys.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    out
}

/// `--set PLUGIN.KEY=VALUE` for a customer.
pub fn parse_set(customer: &str, arg: &str) -> Result<LinkChange, LinkError> {
    let at = format!("--set {}", arg.escape_debug());
    let (name, value) = arg
        .split_once('=')
        .ok_or_else(|| err(&at, "expected PLUGIN.KEY=VALUE (`pax8.company=…`)"))?;
    let (plugin, key) = name
        .split_once('.')
        .ok_or_else(|| err(&at, "expected PLUGIN.KEY=VALUE (`pax8.company=…`)"))?;
    let link = Link {
        customer: customer.to_string(),
        plugin: plugin.to_string(),
        key: key.to_string(),
        value: value.to_string(),
    };
    check(&at, &link)?;
    Ok(change(link))
}

/// `--unset PLUGIN.KEY` for a customer.
pub fn parse_unset(customer: &str, arg: &str) -> Result<LinkChange, LinkError> {
    let at = format!("--unset {}", arg.escape_debug());
    let (plugin, key) = arg
        .split_once('.')
        .ok_or_else(|| err(&at, "expected PLUGIN.KEY (`pax8.company`)"))?;
    check_name(&at, "plugin", plugin)?;
    check_name(&at, "key", key)?;
    Ok(LinkChange {
        customer: customer.to_string(),
        plugin: plugin.to_string(),
        key: key.to_string(),
        value: None,
    })
}

fn change(l: Link) -> LinkChange {
    LinkChange {
        customer: l.customer,
        plugin: l.plugin,
        key: l.key,
        value: Some(l.value),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schema: String,
    links: Vec<FileLink>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLink {
    customer: String,
    plugin: String,
    key: String,
    value: String,
}

/// The links of a `tenor.links/1` file (YAML or JSON), every one checked; `name` names the
/// file in errors.
pub fn parse_file(name: &str, text: &str) -> Result<Vec<LinkChange>, LinkError> {
    let file: File = crate::files::yaml::from_str(text).map_err(|e| {
        let at = match (e.line, e.column) {
            (Some(l), Some(c)) => format!("{name}:{l}:{c}"),
            _ => name.to_string(),
        };
        err(&at, format!("not a {LINKS} file: {}", e.message))
    })?;
    if file.schema != LINKS {
        return Err(err(
            name,
            format!(
                "schema is `{}`, expected `{LINKS}`",
                file.schema.escape_debug()
            ),
        ));
    }
    let mut out = Vec::with_capacity(file.links.len());
    for (i, l) in file.links.into_iter().enumerate() {
        let link = Link {
            customer: l.customer,
            plugin: l.plugin,
            key: l.key,
            value: l.value,
        };
        check(&format!("{name}: links[{i}]"), &link)?;
        out.push(change(link));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn set_and_unset_read_and_bad_values_are_refused() {
        let c = parse_set(
            "CUST-1",
            "pax8.company=3f0c1e52-7d4b-4a6e-9c1a-2b8e5d7f9a01",
        )
        .unwrap();
        assert_eq!(c.plugin, "pax8");
        assert_eq!(c.key, "company");
        let e = parse_set("CUST-1", "pax8.company=123").unwrap_err();
        assert!(e.message.contains("uuid"), "{e}");
        let e = parse_set("CUST-1", "connectwise.company=a\u{7}b").unwrap_err();
        assert!(e.message.contains("control"), "{e}");
        let long = format!("connectwise.company={}", "9".repeat(MAX_VALUE + 1));
        assert!(parse_set("CUST-1", &long).is_err());
        assert!(parse_set("CUST-1", "connectwise=1").is_err());
        assert!(parse_set("../x", "connectwise.company=1").is_err());
        assert_eq!(parse_unset("C", "cw.company").unwrap().value, None);
    }

    #[test]
    fn a_file_names_the_bad_entry() {
        let text = "schema: tenor.links/1\nlinks:\n  - {customer: C-1, plugin: connectwise, key: company, value: '250'}\n  - {customer: C-1, plugin: pax8, key: company, value: nope}\n";
        let e = parse_file("links.yaml", text).unwrap_err();
        assert_eq!(e.at, "links.yaml: links[1]");
        let e = parse_file("l.yaml", "schema: tenor.links/9\nlinks: []\n").unwrap_err();
        assert!(e.message.contains("tenor.links/1"), "{e}");
        assert!(parse_file("l.yaml", "schema: tenor.links/1\nlinks: []\nx: 1\n").is_err());
    }
}
