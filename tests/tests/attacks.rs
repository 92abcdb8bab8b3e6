//! The file-safety attacks of issue 11, each through the `tenor` command line: a quote id that
//! climbs out of `--out`, symlinks planted at the temporary names earlier versions used and at
//! the destination, a plugin that names its file like the sales order, two quotes whose
//! purchase orders share a name, temporary files left by a killed run, `tenor fmt` on a
//! symlinked rule file with its own mode, and the export manifest checked against the files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tenor_core::cli::Exit;
use tenor_tests::scratch::{Scratch, arg as s, link_plugins, tree};
use tenor_tests::{Output, tenor};

/// A fresh scratch directory for one attack, removed when the test ends.
fn scratch(name: &str) -> Scratch {
    Scratch::dir(&format!("attacks-{name}"))
}

/// A plugin directory `<base>/plugins` holding the given libraries under plugin names.
fn plugin_dir(base: &Path, libs: &[(&str, &str)]) -> PathBuf {
    let dir = base.join("plugins");
    link_plugins(&dir, libs);
    dir
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example_quote() -> PathBuf {
    root().join("rules/quotes/q1001-dental-practice.yaml")
}

/// The record of a test's export directory: `<out>.db`, beside it.
fn db_for(out: &Path) -> PathBuf {
    out.with_extension("db")
}

/// `tenor change Q-1001` (line 1 to 30 seats on 2027-06-24) on the record of `out`, exported
/// into `out`.
fn change(out: &Path) -> Output {
    let rules = root().join("rules");
    let db = db_for(out);
    tenor(&[
        "--db",
        s(&db),
        "change",
        "Q-1001",
        "--line",
        "1",
        "--quantity",
        "30",
        "--date",
        "2027-06-24",
        "--rules",
        s(&rules),
        "--out",
        s(out),
    ])
}

/// `tenor --db OUT.db accept QUOTE --rules rules/ --out OUT` with `extra` arguments.
fn accept(quote: &Path, out: &Path, extra: &[&str]) -> Output {
    let rules = root().join("rules");
    let db = db_for(out);
    if !extra.contains(&"--no-plugins") {
        tenor_tests::scratch::link_customers(&db);
    }
    let mut args = vec![
        "--db",
        s(&db),
        "accept",
        s(quote),
        "--rules",
        s(&rules),
        "--out",
        s(out),
    ];
    args.extend(extra);
    tenor(&args)
}

#[test]
fn a_quote_id_that_climbs_out_of_out_is_refused_where_it_is_written() {
    let base = scratch("escape");
    let text = std::fs::read_to_string(example_quote()).unwrap();
    assert!(
        text.contains("\nquote: Q-1001\n"),
        "the example quote moved"
    );
    let text = text.replace("\nquote: Q-1001\n", "\nquote: x/../../escaped\n");
    let line = text.lines().position(|l| l.starts_with("quote:")).unwrap() + 1;
    let quote = base.join("q.yaml");
    std::fs::write(&quote, &text).unwrap();
    let out = base.join("a/b/out");
    // The folders the old file names ran through, so that a write would reach `a/b/`.
    for d in ["SO-x", "PO-x", "SCHED-x", "RT-x", "SUM-x"] {
        std::fs::create_dir_all(out.join(d)).unwrap();
    }
    let before = tree(&base);
    let o = accept(&quote, &out, &["--no-plugins"]);
    assert_eq!(o.exit, Exit::Failure, "{}", o.stderr);
    let at = format!("{}:{line}:8", quote.display());
    assert!(o.stderr.contains(&at), "no {at} in:\n{}", o.stderr);
    assert!(
        o.stderr.contains("`x/../../escaped`") && o.stderr.contains("`/` (character 2)"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("field `quote`"), "{}", o.stderr);
    // The source line, and a caret under the value.
    assert!(o.stderr.contains("quote: x/../../escaped"), "{}", o.stderr);
    assert!(o.stderr.contains("       ^"), "{}", o.stderr);
    assert_eq!(tree(&base), before, "something was written");
    std::fs::remove_dir_all(&base).unwrap();
}

/// A victim file outside the export and symlinks to it at `names` in `dir`.
#[cfg(unix)]
fn plant(dir: &Path, victim: &Path, names: &[String]) {
    std::fs::create_dir_all(dir).unwrap();
    for n in names {
        std::os::unix::fs::symlink(victim, dir.join(n)).unwrap();
    }
}

/// The temporary name `atomic::write` used before issue 11: `.<file>.tenor-tmp-<pid>`.
fn old_temp(file: &str) -> String {
    format!(".{file}.tenor-tmp-{}", std::process::id())
}

#[cfg(unix)]
#[test]
fn symlinks_at_the_old_temporary_names_do_not_redirect_accept() {
    let base = scratch("tmp-links");
    let victim = base.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let out = base.join("out");
    let docs = [
        "SO-Q-1001.json",
        "PO-Q-1001-pax8.json",
        "PO-Q-1001-ingram.json",
        "SCHED-Q-1001.json",
        "RT-Q-1001.json",
        "SUM-Q-1001.json",
        "export.json",
    ];
    let names: Vec<String> = docs.iter().map(|d| old_temp(d)).collect();
    plant(&out, &victim, &names);
    let o = accept(&example_quote(), &out, &["--no-plugins"]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    for d in docs {
        let m = std::fs::symlink_metadata(out.join(d)).unwrap();
        assert!(m.is_file(), "{d} is not a regular file");
    }
    let so: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("SO-Q-1001.json")).unwrap())
            .unwrap();
    assert_eq!(so["schema"], "tenor.sales-order/1");
    std::fs::remove_dir_all(&base).unwrap();
}

#[cfg(unix)]
#[test]
fn a_symlink_at_the_destination_is_refused_or_replaced_never_written_through() {
    let base = scratch("dest-link");
    let victim = base.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let out = base.join("out");
    plant(&out, &victim, &["SCHED-Q-1001.json".to_string()]);
    // A file nobody exported is in the way: refused, nothing written.
    let o = accept(&example_quote(), &out, &["--no-plugins"]);
    assert_eq!(o.exit, Exit::Failure, "{}", o.stderr);
    assert!(
        o.stderr.contains("SCHED-Q-1001.json already exists"),
        "{}",
        o.stderr
    );
    assert_eq!(tree(&out), ["SCHED-Q-1001.json"]);
    // Forced, the symlink itself is replaced by the document.
    let o = accept(&example_quote(), &out, &["--no-plugins", "--force"]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let m = std::fs::symlink_metadata(out.join("SCHED-Q-1001.json")).unwrap();
    assert!(m.is_file());
    std::fs::remove_dir_all(&base).unwrap();
}

#[cfg(unix)]
#[test]
fn symlinks_at_the_old_temporary_names_do_not_redirect_fmt_or_plugins_lock() {
    let base = scratch("tmp-links-fmt");
    let victim = base.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let messy =
        std::fs::read_to_string(tenor_tests::fixtures_dir().join("valid/awkward-layout.tenor"))
            .unwrap();
    let rules = base.join("rules");
    plant(&rules, &victim, &[old_temp("messy.tenor")]);
    let file = rules.join("messy.tenor");
    std::fs::write(&file, &messy).unwrap();
    let o = tenor(&["fmt", s(&file)]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_ne!(std::fs::read_to_string(&file).unwrap(), messy);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");

    let plugins = base.join("plugins");
    plant(&plugins, &victim, &[old_temp(tenor_core::host::LOCK_FILE)]);
    let o = tenor(&["plugins", "lock", "--plugins", s(&plugins)]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let lock = std::fs::read_to_string(plugins.join(tenor_core::host::LOCK_FILE)).unwrap();
    assert!(lock.contains("tenor.plugins-lock/1"), "{lock}");
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_plugin_naming_its_file_like_the_sales_order_stays_in_its_folder() {
    let base = scratch("hijack");
    let plugins = plugin_dir(&base, &[("fault_plugin_hijack", "hijack")]);
    let out = base.join("out");
    let o = accept(&example_quote(), &out, &["--plugins", s(&plugins)]);
    // The plugin's bad files are its failure: exit 1, Tenor's documents written.
    assert_eq!(o.exit, Exit::Failure, "{}", o.stderr);
    let so: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("SO-Q-1001.json")).unwrap())
            .unwrap();
    assert_eq!(so["schema"], "tenor.sales-order/1");
    assert_eq!(
        std::fs::read_to_string(out.join("hijack/SO-Q-1001.json")).unwrap(),
        "{\"hijacked\": true}\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("hijack/note.txt")).unwrap(),
        "first\n"
    );
    assert!(
        o.stderr.contains(
            "plugin `hijack` named a file `../../escaped.json`, which is not a plain file name"
        ),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains("plugin `hijack` named two files `hijack/note.txt`"),
        "{}",
        o.stderr
    );
    // "wrote SO-Q-1001.json" once, not twice.
    let so_path = out.join("SO-Q-1001.json");
    assert_eq!(
        o.stderr
            .matches(&format!("wrote {}\n", so_path.display()))
            .count(),
        1,
        "{}",
        o.stderr
    );
    assert!(!tree(&base).iter().any(|p| p.contains("escaped")));
    std::fs::remove_dir_all(&base).unwrap();
}

/// A starter rule set (`tenor init`) whose distributor is `dist`, and its example quote with
/// the id `id`.
fn starter(base: &Path, dist: &str, id: &str) -> (PathBuf, PathBuf) {
    let rules = base.join(format!("rules-{dist}"));
    let o = tenor(&["init", s(&rules)]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    for f in ["settings.tenor", "products.tenor", "policies.tenor"] {
        let p = rules.join(f);
        let t = std::fs::read_to_string(&p).unwrap();
        assert!(t.contains("pax8"), "{f} no longer names pax8");
        std::fs::write(&p, t.replace("pax8", dist)).unwrap();
    }
    let q = rules.join("quotes/example.yaml");
    let t = std::fs::read_to_string(&q).unwrap();
    let quote = base.join(format!("{id}.yaml"));
    std::fs::write(&quote, t.replace("quote: Q-0001", &format!("quote: {id}"))).unwrap();
    (rules, quote)
}

#[test]
fn two_quotes_whose_purchase_orders_share_a_name_cannot_share_a_folder() {
    let base = scratch("po-collision");
    let (rules_eu, q1) = starter(&base, "eu-pax8", "Q-1");
    let (rules, q1eu) = starter(&base, "pax8", "Q-1-eu");
    let out = base.join("out");
    let db = base.join("tenor.db");
    let run = |q: &Path, r: &Path, extra: &[&str]| {
        let mut args = vec![
            "--db",
            s(&db),
            "accept",
            s(q),
            "--rules",
            s(r),
            "--out",
            s(&out),
            "--no-plugins",
        ];
        args.extend(extra);
        tenor(&args)
    };
    let o = run(&q1, &rules_eu, &[]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let po = out.join("PO-Q-1-eu-pax8.json");
    let first = std::fs::read(&po).unwrap();
    let files = tree(&out);
    for extra in [&[][..], &["--force"]] {
        let o = run(&q1eu, &rules, extra);
        assert_eq!(o.exit, Exit::Failure, "{extra:?}: {}", o.stderr);
        assert!(
            o.stderr
                .contains("holds the export of quote `Q-1`, not `Q-1-eu`"),
            "{}",
            o.stderr
        );
        assert_eq!(std::fs::read(&po).unwrap(), first);
        assert_eq!(tree(&out), files);
    }
    std::fs::remove_dir_all(&base).unwrap();
}

/// A process id that is free: a child that has exited and been waited for.
#[cfg(unix)]
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[cfg(unix)]
#[test]
fn temporary_files_of_a_killed_run_are_removed_a_live_one_is_kept() {
    let base = scratch("stale");
    let out = base.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut live = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let dead = out.join(format!(".tenor-tmp-{}-0123456789abcdef", dead_pid()));
    let old_style = out.join(format!(".SO-Q-1001.json.tenor-tmp-{}", dead_pid()));
    let alive = out.join(format!(".tenor-tmp-{}-0123456789abcdef", live.id()));
    for p in [&dead, &old_style, &alive] {
        std::fs::write(p, vec![b'x'; 1 << 20]).unwrap();
    }
    let o = accept(&example_quote(), &out, &["--no-plugins"]);
    let _ = live.kill();
    let _ = live.wait();
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert!(!dead.exists() && !old_style.exists());
    assert!(
        alive.exists(),
        "a live process's temporary file was removed"
    );
    assert!(
        o.stderr.contains(&format!("removed {}", dead.display())),
        "{}",
        o.stderr
    );
    std::fs::remove_dir_all(&base).unwrap();
}

#[cfg(unix)]
#[test]
fn fmt_keeps_a_symlinked_rule_file_a_symlink_and_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let base = scratch("fmt-link");
    let messy =
        std::fs::read_to_string(tenor_tests::fixtures_dir().join("valid/awkward-layout.tenor"))
            .unwrap();
    let real = base.join("shared/pricing.tenor");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    std::fs::write(&real, &messy).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = base.join("rules/pricing.tenor");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("../shared/pricing.tenor", &link).unwrap();
    let o = tenor(&["fmt", s(&link)]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    let formatted = std::fs::read_to_string(&real).unwrap();
    assert_eq!(formatted, tenor_tests::format_ok("pricing.tenor", &messy));
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640, "mode {mode:o}");
    assert_eq!(tree(&base), ["rules/pricing.tenor", "shared/pricing.tenor"]);
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn the_manifest_lists_every_file_with_its_sha256() {
    let base = scratch("manifest");
    let plugins = plugin_dir(
        &base,
        &[
            ("tenor_plugin_pax8", "pax8"),
            ("tenor_plugin_ingram", "ingram"),
            ("tenor_plugin_connectwise", "connectwise"),
        ],
    );
    let out = base.join("out");
    let o = accept(&example_quote(), &out, &["--plugins", s(&plugins)]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let text = std::fs::read_to_string(out.join("export.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(m["schema"], "tenor.export/1");
    assert_eq!(m["quote"], "Q-1001");
    let listed: Vec<String> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    let mut on_disk = tree(&out);
    on_disk.retain(|p| p != "export.json");
    assert_eq!(
        listed, on_disk,
        "the manifest lists exactly the files, sorted"
    );
    for want in [
        "SO-Q-1001.json",
        "pax8/PO-Q-1001-pax8.pax8-order.json",
        "ingram/PO-Q-1001-ingram.ingram-order.json",
        "connectwise/SO-Q-1001.connectwise-sales-order.json",
    ] {
        assert!(listed.iter().any(|p| p == want), "{want} not in {listed:?}");
    }
    for f in m["files"].as_array().unwrap() {
        let bytes = std::fs::read(out.join(f["path"].as_str().unwrap())).unwrap();
        let hex: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(f["sha256"], hex.as_str(), "{}", f["path"]);
        assert_eq!(f["bytes"], bytes.len(), "{}", f["path"]);
    }
    // The same quote again: byte for byte the same manifest (no timestamps).
    let o = accept(&example_quote(), &out, &["--plugins", s(&plugins)]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(
        std::fs::read_to_string(out.join("export.json")).unwrap(),
        text
    );
    std::fs::remove_dir_all(&base).unwrap();
}

#[cfg(unix)]
#[test]
fn symlinks_at_the_old_temporary_names_do_not_redirect_change() {
    let base = scratch("tmp-links-change");
    let victim = base.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let out = base.join("out");
    let o = accept(&example_quote(), &out, &["--no-plugins"]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let names: Vec<String> = [
        "CO-Q-1001-1-2027-06-24.json",
        "SCHED-Q-1001.json",
        "SO-Q-1001.json",
    ]
    .iter()
    .map(|d| old_temp(d))
    .collect();
    plant(&out, &victim, &names);
    let o = change(&out);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(out.join("CO-Q-1001-1-2027-06-24.json").is_file());
    std::fs::remove_dir_all(&base).unwrap();
}

// With the record, `change` no longer reads the exported files: a sales order edited in the
// export is not what it amends. The attack moves to the record itself: a stored sales order
// rewritten (hash and all) to name the quote `../x` is refused, and nothing is written.
#[test]
fn a_sales_order_edited_to_climb_out_is_refused_by_change() {
    let base = scratch("change-escape");
    let out = base.join("a/out");
    let o = accept(&example_quote(), &out, &["--no-plugins"]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let db = db_for(&out);
    let c = rusqlite::Connection::open(&db).unwrap();
    let text: Vec<u8> = c
        .query_row(
            "SELECT body FROM documents WHERE path = 'SO-Q-1001.json'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let text = String::from_utf8(text).unwrap();
    let edited = text.replace("\"quote\": \"Q-1001\"", "\"quote\": \"../x\"");
    assert_ne!(edited, text);
    let sha: String = Sha256::digest(edited.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    c.execute(
        "UPDATE documents SET body = ?1, sha256 = ?2 WHERE path = 'SO-Q-1001.json'",
        rusqlite::params![edited.as_bytes(), sha],
    )
    .unwrap();
    drop(c);
    let before = tree(&out);
    let o = change(&out);
    assert_eq!(o.exit, Exit::Failure, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("SO-Q-1001.json is the sales order of quote `../x`, not `Q-1001`"),
        "{}",
        o.stderr
    );
    assert_eq!(tree(&out), before);
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_purchase_order_of_a_distributor_no_longer_used_is_removed_by_the_next_export() {
    let base = scratch("po-gone");
    let (via_pax8, q) = starter(&base, "pax8", "Q-1");
    let (via_eu, _) = starter(&base, "eu-pax8", "Q-1");
    let out = base.join("out");
    let db = base.join("record.db");
    let run = |r: &Path, extra: &[&str]| {
        let mut args = vec![
            "accept",
            s(&q),
            "--rules",
            s(r),
            "--out",
            s(&out),
            "--db",
            s(&db),
            "--no-plugins",
        ];
        args.extend(extra);
        tenor(&args)
    };
    assert_eq!(run(&via_pax8, &[]).exit, Exit::Success);
    assert!(out.join("PO-Q-1-pax8.json").is_file());
    // Other rules: refused without --revise (the fingerprint differs), a new revision with it,
    // whose export replaces the first.
    assert_eq!(run(&via_eu, &[]).exit, Exit::Failure);
    let o = run(&via_eu, &["--revise"]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert!(!out.join("PO-Q-1-pax8.json").exists());
    assert!(
        o.stderr.contains(&format!(
            "removed {}",
            out.join("PO-Q-1-pax8.json").display()
        )),
        "{}",
        o.stderr
    );
    assert_eq!(
        tree(&out),
        [
            "PO-Q-1-eu-pax8.json",
            "RT-Q-1.json",
            "SCHED-Q-1.json",
            "SO-Q-1.json",
            "SUM-Q-1.json",
            "export.json"
        ]
    );
    std::fs::remove_dir_all(&base).unwrap();
}

/// A quote nested a megabyte deep (flow brackets, block indentation, JSON arrays) is refused
/// at the line and column where it passes the depth limit, without the YAML parser's
/// quadratic time, and the error does not print the megabyte back.
#[test]
fn a_megabyte_deep_quote_is_refused_where_it_nests_too_deep() {
    let base = scratch("deep");
    let example =
        std::fs::read_to_string(root().join("rules/quotes/q1001-dental-practice.yaml")).unwrap();
    let n = 500_000;
    let deep_block: String = (0..1_000)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    let cases = [
        (
            "flow.yaml",
            format!("{example}extra: {}{}\n", "[".repeat(n), "]".repeat(n)),
            "nests more than 64 levels",
        ),
        (
            "block.yaml",
            format!("{example}extra:\n{deep_block}"),
            "nests more than 64 levels",
        ),
        (
            "deep.json",
            format!("{{\"quote\": {}{}}}", "[".repeat(n), "]".repeat(n)),
            "nests more than 64 levels",
        ),
    ];
    for (name, text, what) in cases {
        let p = base.join(name);
        std::fs::write(&p, &text).unwrap();
        let o = tenor(&["price", s(&p), "--rules", s(&root().join("rules"))]);
        assert_eq!(o.exit, Exit::Failure, "{name}: {}", o.stderr);
        assert!(
            o.stderr.contains(what),
            "{name}: {}",
            &o.stderr[..o.stderr.len().min(2000)]
        );
        assert!(
            o.stderr.contains(&format!("{}:", p.display())),
            "{name}: located"
        );
        assert!(
            o.stderr.len() < 4_000,
            "{name}: {} bytes of error",
            o.stderr.len()
        );
    }
}
