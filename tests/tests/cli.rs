//! The `tenor` command line, run in-process through `tenor_core::cli::run`: exit codes, the
//! summary line, `file:line:col` in human output, the JSON document, and `fmt` / `fmt --check`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::path::{Path, PathBuf};
use tenor_core::cli::Exit;
use tenor_tests::{fixtures_dir, format_ok, rules_dir, tenor};

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn invalid(name: &str) -> PathBuf {
    fixtures_dir().join("invalid").join(name)
}

/// A fresh directory of its own under cargo's scratch space for integration tests.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tenor-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn check_on_the_example_rules_succeeds_with_a_one_line_summary() {
    let rules = rules_dir();
    let o = tenor(&["check", path_str(&rules)]);
    assert_eq!(o.exit, Exit::Success, "stderr:\n{}", o.stderr);
    assert_eq!(o.stderr, "");
    assert_eq!(
        o.stdout.lines().count(),
        1,
        "one summary line expected:\n{}",
        o.stdout
    );
    assert!(o.stdout.starts_with("ok: "), "{}", o.stdout);
    let files = std::fs::read_dir(&rules)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "tenor")
        })
        .count();
    assert!(
        o.stdout.starts_with(&format!("ok: {files} files, ")),
        "{}",
        o.stdout
    );
}

#[test]
fn check_on_an_invalid_file_fails_naming_file_line_and_column() {
    let path = invalid("tier-order.tenor");
    let o = tenor(&["check", path_str(&path)]);
    assert_eq!(
        o.exit,
        Exit::Failure,
        "stdout:\n{}\nstderr:\n{}",
        o.stdout,
        o.stderr
    );
    assert_eq!(o.stdout, "", "nothing on stdout when checking fails");
    assert!(
        o.stderr.contains(&format!("{}:6:3", path.display())),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("error[tier-order]"), "{}", o.stderr);
    assert!(
        o.stderr.trim_end().ends_with("error: 1 problem in 1 file"),
        "{}",
        o.stderr
    );
}

#[test]
fn check_reports_every_problem_of_a_file() {
    let path = invalid("many-errors.tenor");
    let o = tenor(&["check", path_str(&path)]);
    assert_eq!(o.exit, Exit::Failure);
    let shown = path.display().to_string();
    for at in ["8:10", "12:7", "13:36", "18:3", "22:15", "26:21", "29:1"] {
        assert!(
            o.stderr.contains(&format!("{shown}:{at}")),
            "missing {at} in:\n{}",
            o.stderr
        );
    }
    assert!(
        o.stderr.contains("error: 8 problems in 1 file"),
        "{}",
        o.stderr
    );
}

#[test]
fn check_json_reports_diagnostics_with_line_and_column() {
    let path = invalid("tier-order.tenor");
    let o = tenor(&["check", "--error-format", "json", path_str(&path)]);
    assert_eq!(o.exit, Exit::Failure, "stderr:\n{}", o.stderr);
    let doc: serde_json::Value =
        serde_json::from_str(&o.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["schema"], "tenor.check/1");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["files"], 1);
    let diags = doc["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{doc:#}");
    let d = &diags[0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "tier-order");
    assert_eq!(d["file"], path_str(&path));
    // `  up to  1,000  0.04` on line 6: the bound `up to  1,000` runs from column 3 to 15.
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(6), Some(3))
    );
    assert_eq!(
        (d["end_line"].as_u64(), d["end_column"].as_u64()),
        (Some(6), Some(15))
    );
    assert_eq!(
        d["message"],
        "tier bound `1,000` is not above the tier before it"
    );
    assert!(d["help"].as_str().is_some_and(|h| !h.is_empty()), "{d:#}");
}

#[test]
fn check_json_counts_a_clean_rule_set() {
    let o = tenor(&["check", "--error-format", "json", path_str(&rules_dir())]);
    assert_eq!(o.exit, Exit::Success, "stderr:\n{}", o.stderr);
    let doc: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(doc["schema"], "tenor.check/1");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["diagnostics"].as_array().map(Vec::len), Some(0));
    assert!(
        doc["summary"]["products"].as_u64().is_some_and(|n| n > 0),
        "{doc:#}"
    );
}

#[test]
fn check_json_on_a_rule_set_of_two_files_names_the_file_of_each_problem() {
    let dir = invalid("duplicate-across-files");
    let o = tenor(&["check", "--error-format", "json", path_str(&dir)]);
    assert_eq!(o.exit, Exit::Failure);
    let doc: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(doc["files"], 2);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "duplicate");
    assert_eq!(d["file"], path_str(&dir.join("b.tenor")));
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(2), Some(9))
    );
}

#[test]
fn check_json_on_a_syntax_error_gives_its_position() {
    let path = invalid("unterminated-string.tenor");
    let o = tenor(&["check", "--error-format", "json", path_str(&path)]);
    assert_eq!(o.exit, Exit::Failure);
    let doc: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "syntax");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(7), Some(17))
    );
}

#[test]
fn fmt_check_on_the_example_rules_passes() {
    let o = tenor(&["fmt", "--check", path_str(&rules_dir())]);
    assert_eq!(
        o.exit,
        Exit::Success,
        "stdout:\n{}\nstderr:\n{}",
        o.stdout,
        o.stderr
    );
    assert_eq!(o.stdout, "");
}

#[test]
fn fmt_check_names_a_messy_file_and_fmt_fixes_it() {
    let dir = scratch_dir("fmt");
    let messy =
        std::fs::read_to_string(fixtures_dir().join("valid").join("awkward-layout.tenor")).unwrap();
    let path = dir.join("messy.tenor");
    std::fs::write(&path, &messy).unwrap();
    let shown = path.display().to_string();

    let o = tenor(&["fmt", "--check", path_str(&path)]);
    assert_eq!(o.exit, Exit::Failure, "stderr:\n{}", o.stderr);
    assert_eq!(o.stdout, format!("would reformat {shown}\n"));
    assert!(
        o.stderr.contains("1 of 1 files would change"),
        "{}",
        o.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        messy,
        "--check must not write"
    );

    let o = tenor(&["fmt", path_str(&path)]);
    assert_eq!(o.exit, Exit::Success, "stderr:\n{}", o.stderr);
    assert_eq!(o.stdout, "");
    assert_eq!(o.stderr, format!("formatted {shown}\n"));
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, format_ok("messy.tenor", &messy));

    let o = tenor(&["fmt", "--check", path_str(&path)]);
    assert_eq!(
        o.exit,
        Exit::Success,
        "stdout:\n{}\nstderr:\n{}",
        o.stdout,
        o.stderr
    );
    assert_eq!(o.stdout, "");

    let o = tenor(&["check", path_str(&path)]);
    assert_eq!(
        o.exit,
        Exit::Success,
        "the formatted file must still check:\n{}",
        o.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fmt_refuses_a_file_that_does_not_parse_and_leaves_it_alone() {
    let dir = scratch_dir("fmt-broken");
    let broken = std::fs::read_to_string(invalid("missing-brace.tenor")).unwrap();
    let path = dir.join("broken.tenor");
    std::fs::write(&path, &broken).unwrap();
    let o = tenor(&["fmt", path_str(&path)]);
    assert_ne!(o.exit, Exit::Success);
    assert!(
        o.stderr.contains(&format!("{}:7:48", path.display())),
        "{}",
        o.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        broken,
        "a broken file must not be rewritten"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_path_cannot_run() {
    let missing = fixtures_dir().join("no-such-rules");
    for args in [vec!["check"], vec!["fmt", "--check"], vec!["fmt"]] {
        let mut args = args;
        args.push(path_str(&missing));
        let o = tenor(&args);
        assert_eq!(
            o.exit,
            Exit::Error,
            "{args:?}: stdout:\n{}\nstderr:\n{}",
            o.stdout,
            o.stderr
        );
        assert!(o.stderr.contains("no-such-rules"), "{args:?}: {}", o.stderr);
    }
}

#[test]
fn a_folder_without_rule_files_cannot_run() {
    let dir = scratch_dir("empty");
    let o = tenor(&["check", path_str(&dir)]);
    assert_eq!(o.exit, Exit::Error, "{}", o.stderr);
    assert!(o.stderr.contains("no .tenor files"), "{}", o.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_cannot_run() {
    let o = tenor(&["chekc"]);
    assert_eq!(o.exit, Exit::Error);
    assert!(!o.stderr.is_empty());
    let o = tenor(&["check", "--error-format", "yaml", path_str(&rules_dir())]);
    assert_eq!(o.exit, Exit::Error);
}
