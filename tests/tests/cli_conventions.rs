//! Conventions every `tenor` command keeps: `--error-format json` gives one `tenor.error/1`
//! document on standard error; a closed pipe ends quietly with exit 0; status lines go to
//! standard error and `--quiet` silences them; completions, the man page and `tenor init`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use serde_json::Value;
use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tenor_core::cli::{Exit, run};
use tenor_dsl::diagnostic::termcolor::NoColor;
use tenor_tests::{rules_dir, tenor, tenor_binary};

/// Runs `tenor` in-process, writing its output to `out`.
fn tenor_into(args: &[&str], out: &mut dyn Write) -> (Exit, String) {
    let argv: Vec<OsString> = std::iter::once("tenor")
        .chain(args.iter().copied())
        .map(OsString::from)
        .collect();
    let mut err = NoColor::new(Vec::new());
    let exit = run(argv, out, &mut err);
    (exit, String::from_utf8(err.into_inner()).unwrap())
}

/// A fresh directory of its own under cargo's scratch space.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tenor-conventions-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn example_quote() -> PathBuf {
    rules_dir()
        .join("quotes")
        .join("q1001-dental-practice.yaml")
}

/// Standard error as one `tenor.error/1` document; its errors.
fn error_doc(stderr: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(stderr)
        .unwrap_or_else(|e| panic!("stderr is not one JSON document ({e}):\n{stderr}"));
    assert_eq!(doc["schema"], "tenor.error/1", "{doc:#}");
    let errors = doc["errors"].as_array().expect("an errors array").clone();
    assert!(!errors.is_empty(), "{doc:#}");
    for e in &errors {
        assert!(e["code"].is_string() && e["message"].is_string(), "{e:#}");
    }
    errors
}

#[test]
fn every_subcommand_reports_errors_as_one_json_document() {
    let dir = scratch_dir("every");
    std::fs::write(dir.join("taken"), "x").unwrap();
    // A plugin directory holding a library that does not load.
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let junk = format!(
        "{}tenor_plugin_bogus{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    std::fs::write(plugins.join(junk), "not a library").unwrap();
    let missing = s(&dir).to_string() + "/missing";
    let missing = missing.as_str();
    let db = dir.join("empty.db");
    let cases: Vec<Vec<&str>> = vec![
        vec!["check", missing],
        vec!["fmt", missing],
        vec!["price", missing],
        vec!["explain", missing],
        vec!["accept", missing, "--out", s(&dir), "--no-plugins"],
        vec![
            "change",
            "Q-1",
            "--line",
            "1",
            "--quantity",
            "2",
            "--date",
            "2027-01-01",
            "--rules",
            missing,
        ],
        vec!["log", "Q-1", "--db", s(&db)],
        vec!["show", "Q-1", "--db", s(&db)],
        vec!["export", "Q-1", "--out", s(&dir), "--db", s(&db)],
        vec!["rate", missing, "--period", "2027-01"],
        vec!["match", "--quote", missing, "--order", missing],
        vec!["plugins", "list", "--plugins", s(&plugins)],
        vec!["init", s(&dir)],
        vec!["completions", "no-such-shell"],
        vec!["man", "--no-such-flag"],
        vec!["no-such-command"],
    ];
    for mut args in cases {
        args.extend(["--error-format", "json"]);
        let o = tenor(&args);
        assert_ne!(o.exit, Exit::Success, "{args:?}");
        let errors = error_doc(&o.stderr);
        assert!(
            errors.iter().all(|e| e["message"] != ""),
            "{args:?}: {errors:?}"
        );
    }
    // The same flag before the subcommand.
    let o = tenor(&["--error-format", "json", "price", missing]);
    assert_eq!(o.exit, Exit::Error);
    assert_eq!(error_doc(&o.stderr)[0]["code"], "error");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_quote_priced_with_json_errors_names_its_line_and_field() {
    let dir = scratch_dir("bad-quote");
    let quote = dir.join("bad.yaml");
    std::fs::write(
        &quote,
        "quote: Q-BAD\ndate: 2026-11-20\ncurrency: USD\ncustomer:\n  id: C-1\n  name: Bad Co\n  anniversary: 07-01\nlines:\n  - product: NO-SUCH-SKU\n    quantity: 1\n    term: P1Y\n    billing: monthly\n    start: 2026-12-07\n",
    )
    .unwrap();
    let o = tenor(&[
        "price",
        s(&quote),
        "--rules",
        s(&rules_dir()),
        "--format",
        "json",
        "--error-format",
        "json",
    ]);
    assert_eq!(o.exit, Exit::Failure, "{}", o.stderr);
    assert_eq!(o.stdout, "", "nothing priced");
    let errors = error_doc(&o.stderr);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e["code"], "quote");
    assert_eq!(e["file"], s(&quote));
    assert_eq!(e["line"], 9);
    assert_eq!(e["col"], 5);
    assert_eq!(e["field"], "lines[0].product");
    assert!(
        e["message"].as_str().unwrap().contains("NO-SUCH-SKU"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rule_diagnostics_are_json_errors_with_file_line_and_column() {
    let bad = tenor_tests::fixtures_dir()
        .join("invalid")
        .join("tier-order.tenor");
    let o = tenor(&[
        "price",
        s(&example_quote()),
        "--rules",
        s(&bad),
        "--error-format",
        "json",
    ]);
    assert_eq!(o.exit, Exit::Failure);
    let e = &error_doc(&o.stderr)[0];
    assert_eq!(e["code"], "tier-order");
    assert_eq!(e["file"], s(&bad));
    assert_eq!((e["line"].as_u64(), e["col"].as_u64()), (Some(6), Some(3)));
    assert!(e["help"].is_string(), "{e}");
}

#[test]
fn check_with_json_errors_still_prints_its_check_document_on_stdout() {
    let bad = tenor_tests::fixtures_dir()
        .join("invalid")
        .join("tier-order.tenor");
    for flag in ["--error-format", "--format"] {
        let o = tenor(&["check", flag, "json", s(&bad)]);
        assert_eq!(o.exit, Exit::Failure);
        assert_eq!(o.stderr, "");
        let doc: Value = serde_json::from_str(&o.stdout).unwrap();
        assert_eq!(doc["schema"], "tenor.check/1");
    }
}

/// A writer whose reader has gone after `room` bytes, as `| head -c` leaves it.
struct ClosedPipe {
    room: usize,
}

impl Write for ClosedPipe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_closed_pipe_ends_quietly_with_exit_0() {
    let q = example_quote();
    let r = rules_dir();
    for format in ["json", "yaml", "table"] {
        for room in [0, 1, 100] {
            let args = ["price", s(&q), "--rules", s(&r), "--format", format];
            let (exit, stderr) = tenor_into(&args, &mut ClosedPipe { room });
            assert_eq!(exit, Exit::Success, "{format} {room}: {stderr}");
            assert_eq!(stderr, "", "{format} {room}");
        }
    }
    let (exit, stderr) = tenor_into(
        &["explain", s(&q), "--rules", s(&r)],
        &mut ClosedPipe { room: 10 },
    );
    assert_eq!((exit, stderr.as_str()), (Exit::Success, ""));
    let (exit, stderr) = tenor_into(&["check", s(&r)], &mut ClosedPipe { room: 0 });
    assert_eq!((exit, stderr.as_str()), (Exit::Success, ""));
}

#[test]
fn a_real_pipe_closed_after_one_line_ends_quietly_with_exit_0() {
    // A quote big enough that its JSON cannot fit in the pipe's buffer: the binary is still
    // writing when the reader goes.
    let dir = scratch_dir("pipe");
    let rules = dir.join("rules");
    let o = tenor(&["init", s(&rules), "--quiet"]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let mut quote = String::from(
        "quote: Q-PIPE\ndate: 2026-12-01\ncurrency: USD\ncustomer:\n  id: C-1\n  name: Pipe Co\n  anniversary: 01-01\nlines:\n",
    );
    for _ in 0..400 {
        quote.push_str("  - product: ACME-BACKUP\n    quantity: 3\n    term: P1Y\n    billing: monthly\n    start: 2027-01-01\n");
    }
    let qpath = dir.join("big.yaml");
    std::fs::write(&qpath, quote).unwrap();
    let mut child = Command::new(tenor_binary())
        .args([
            "price",
            s(&qpath),
            "--rules",
            s(&rules),
            "--format",
            "json",
            "--pretty",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "{\n");
    // The reader is dropped here: the pipe is closed, as `| head -1` closes it.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn status_lines_go_to_stderr_and_quiet_silences_them() {
    let dir = scratch_dir("quiet");
    let q = example_quote();
    let r = rules_dir();
    let db = dir.join("tenor.db");
    let args = [
        "--db",
        s(&db),
        "accept",
        s(&q),
        "--rules",
        s(&r),
        "--out",
        s(&dir),
        "--no-plugins",
    ];
    let o = tenor(&args);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(o.stdout, "");
    assert!(
        o.stderr.contains("wrote ") && o.stderr.contains("accepted Q-1001"),
        "{}",
        o.stderr
    );
    let mut quiet = args.to_vec();
    quiet.push("--quiet");
    let o = tenor(&quiet);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(o.stdout, "");
    // Status lines and notes go; the quote's warnings stay (Pax8 commits past the customer's
    // end: the example rules say `coterm none`), as `--quiet` never hides a warning.
    for status in ["wrote ", "accepted Q-1001", "recorded Q-1001", "note:"] {
        assert!(!o.stderr.contains(status), "{status}: {}", o.stderr);
    }
    assert_eq!(
        o.stderr.matches("warning[distributor-runs-past]").count(),
        2,
        "{}",
        o.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

const SUBCOMMANDS: [&str; 15] = [
    "check",
    "price",
    "explain",
    "accept",
    "change",
    "log",
    "show",
    "export",
    "rate",
    "match",
    "plugins",
    "fmt",
    "init",
    "completions",
    "man",
];

#[test]
fn completions_are_a_script_naming_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = tenor(&["completions", shell]);
        assert_eq!(o.exit, Exit::Success, "{shell}: {}", o.stderr);
        assert!(o.stdout.contains("tenor"), "{shell}");
        for sub in SUBCOMMANDS {
            assert!(o.stdout.contains(sub), "{shell}: no {sub}");
        }
    }
    let o = tenor(&["completions", "bash"]);
    assert!(o.stdout.contains("complete -F _tenor"), "{}", o.stdout);
}

#[test]
fn the_man_page_describes_every_subcommand() {
    let o = tenor(&["man"]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert!(
        o.stdout.starts_with(".ie") || o.stdout.starts_with(".TH"),
        "{}",
        &o.stdout[..80]
    );
    for sub in SUBCOMMANDS {
        let section = format!(".SH \"TENOR {}\"", sub.to_uppercase());
        assert!(o.stdout.contains(&section), "no section {section}");
    }
    assert!(o.stdout.contains("error\\-format"));
}

#[test]
fn init_writes_a_rule_set_that_checks_clean_and_prices() {
    let dir = scratch_dir("init").join("new-rules");
    let o = tenor(&["init", s(&dir)]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(o.stdout, "");
    for f in [
        "settings.tenor",
        "products.tenor",
        "policies.tenor",
        "README.md",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("tenor check {}", s(&dir))),
        "{readme}"
    );

    let o = tenor(&["check", s(&dir)]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    assert_eq!(o.stderr, "");
    let o = tenor(&["fmt", "--check", s(&dir)]);
    assert_eq!(
        o.exit,
        Exit::Success,
        "the starter is formatted: {}",
        o.stdout
    );

    let quote = dir.join("quotes").join("example.yaml");
    let o = tenor(&["price", s(&quote), "--rules", s(&dir), "--format", "json"]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let p: Value = serde_json::from_str(&o.stdout).unwrap();
    // Both lines start on the anniversary, 2027-01-01: no stub.
    // 10 devices × 10.00 a month; 4 devices × 120.00 a year, cost 7.00 and 84.00.
    let t = &p["totals"];
    assert_eq!(t["first_invoice"], "580.00"); // 100.00 + 480.00
    assert_eq!(t["mrr"], "140.00"); // 100.00 + 480.00 / 12
    assert_eq!(t["contract_value"], "1680.00"); // 12 × 100.00 + 480.00
    assert_eq!(t["cost"], "1176.00"); // 12 × 70.00 + 4 × 84.00
    assert_eq!(t["margin"], "504.00");

    // A second run refuses the directory now that it holds files.
    let o = tenor(&["init", s(&dir)]);
    assert_eq!(o.exit, Exit::Failure);
    assert!(o.stderr.contains("is not empty"), "{}", o.stderr);
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn explain_as_json_is_the_explain_document_of_the_line_asked() {
    let q = example_quote();
    let r = rules_dir();
    let o = tenor(&[
        "explain",
        s(&q),
        "--rules",
        s(&r),
        "--line",
        "4",
        "--format",
        "json",
    ]);
    assert_eq!(o.exit, Exit::Success, "{}", o.stderr);
    let doc: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(doc["schema"], "tenor.explain/1");
    let lines = doc["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "only line 4");
    // Line 4: 28 devices at 40.00 a month from 2026-12-07, stub to 2027-01-01 by day:
    // 28 × 40.00 × 25/31 = 903.2258… → 903.23, and the welcome offer takes 10%: 90.32.
    let stub = &lines[0]["charges"][0];
    assert_eq!(stub["kind"], "stub");
    assert_eq!(stub["amount"], "903.23");
    assert_eq!(stub["proration"]["covered"], 25);
    assert_eq!(stub["proration"]["of"], 31);
    let welcome = stub["discounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "welcome")
        .unwrap();
    assert_eq!(welcome["verdict"], "applied");
    assert_eq!(welcome["amount"], "90.32");
}
