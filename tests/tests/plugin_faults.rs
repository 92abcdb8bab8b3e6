//! Plugins that cannot take Tenor down. Each fault plugin (tests/fault-plugins) claims the
//! distributor `ingram` and is loaded beside the real Pax8 and ConnectWise connectors; `tenor`
//! runs as a process (the `tenor-cli` binary of this package) with a 2 s call timeout. For each
//! fault: the error names the plugin and what happened, within the timeout; Tenor's own
//! documents and the other plugins' files are written; the exit code is 1 (a plugin failed);
//! nothing the plugin printed reaches standard output or error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod plugin_support;

use plugin_support::{FIRST_PARTY, Scratch, built, lib_file, plugin_dir};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tenor_core::host::{Host, LOCK_FILE, write_lock};

const TIMEOUT_SECS: u64 = 2;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What a run of `tenor` did.
struct Run {
    code: i32,
    out: String,
    err: String,
    took: Duration,
}

/// Runs `tenor` (this package's build of it) with a 2 s plugin timeout and `env`, and no
/// other `TENOR_PLUGIN_*` setting from the environment of the test.
fn tenor(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tenor-cli"));
    for var in [
        "TENOR_PLUGIN_PATH",
        "TENOR_PLUGIN_TIMEOUT",
        "TENOR_PLUGIN_MAX_RESPONSE",
        "TENOR_PLUGIN_MEMORY",
        "TENOR_PLUGIN_WORKER",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("TENOR_PLUGIN_TIMEOUT", TIMEOUT_SECS.to_string())
        .env("RUST_BACKTRACE", "1")
        .envs(env.iter().copied())
        .args(args);
    let start = Instant::now();
    let o = cmd.output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&o.stdout).into_owned(),
        err: String::from_utf8_lossy(&o.stderr).into_owned(),
        took: start.elapsed(),
    }
}

/// Accepts the example quote (purchase orders for Pax8 and Ingram) with pax8, connectwise and
/// the fault plugin `fault` loaded.
fn accept_with(fault: &str, env: &[(&str, &str)]) -> (Run, Scratch) {
    let dir = plugin_dir(
        &format!("fault-{fault}"),
        &[
            ("tenor_plugin_pax8", "pax8"),
            ("tenor_plugin_connectwise", "connectwise"),
            (&format!("fault_plugin_{fault}"), &format!("fault_{fault}")),
        ],
    );
    let out = Scratch::new(&format!("fault-{fault}-out"));
    let run = accept(&out, Some(&dir), env);
    (run, out)
}

/// Accepts the example quote with the example rules into `out`, with the plugins of `dir`
/// (none given: those of the environment).
fn accept(out: &Scratch, dir: Option<&Scratch>, env: &[(&str, &str)]) -> Run {
    let quote = root().join("rules/quotes/q1001-dental-practice.yaml");
    let rules = root().join("rules");
    // Each run its own record: a shared one would answer "already accepted" with the first
    // run's plugin files.
    let db = format!("{}.db", out.arg());
    tenor_tests::scratch::link_customers(std::path::Path::new(&db));
    let mut args = vec![
        "accept",
        quote.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--out",
        out.arg(),
        "--db",
        &db,
    ];
    if let Some(d) = dir {
        args.extend(["--plugins", d.arg()]);
    }
    tenor(&args, env)
}

/// The other plugins' files and Tenor's own documents are all there.
fn assert_others_complete(out: &Path, run: &Run) {
    for f in [
        "SO-Q-1001.json",
        "PO-Q-1001-pax8.json",
        "PO-Q-1001-ingram.json",
        "SCHED-Q-1001.json",
        "pax8/PO-Q-1001-pax8.pax8-order.json",
        "connectwise/SO-Q-1001.connectwise-sales-order.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing:\n{}", run.err);
    }
    let order: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("pax8/PO-Q-1001-pax8.pax8-order.json")).unwrap(),
    )
    .unwrap();
    // The customer's Pax8 company, from rules/links.yaml: never Tenor's customer id.
    assert_eq!(order["companyId"], "3f0c1e52-7d4b-4a6e-9c1a-2b8e5d7f9a01");
}

/// The fault `fault` ends accept with exit 1 and one error naming the plugin, its file, the
/// operation and `what`, within the timeout; the rest is written.
fn assert_fault(fault: &str, env: &[(&str, &str)], what: &str) {
    let (run, out) = accept_with(fault, env);
    assert_eq!(run.code, 1, "{fault}: exit {}\n{}", run.code, run.err);
    let named = format!(
        "plugin `fault-{fault}` ({}) failed in `render_purchase_order`: {what}",
        lib_file(&format!("fault_{fault}"))
    );
    assert_eq!(
        run.err.matches(&named).count(),
        1,
        "{fault}: want `{named}` once in:\n{}",
        run.err
    );
    assert!(
        run.err.contains("(purchase order PO-Q-1001-ingram)"),
        "{}",
        run.err
    );
    assert!(
        run.took < Duration::from_secs(TIMEOUT_SECS + 8),
        "{fault} took {:?}",
        run.took
    );
    assert!(
        !out.join("ingram/PO-Q-1001-ingram.ingram-order.json")
            .exists()
    );
    assert_others_complete(&out, &run);
    assert!(
        run.out.is_empty() || !run.out.contains("fault-"),
        "{}",
        run.out
    );
}

#[test]
fn a_hanging_plugin_is_killed_after_the_timeout() {
    let start = Instant::now();
    assert_fault(
        "hang",
        &[],
        "did not answer within 2 s; its worker was killed",
    );
    assert!(start.elapsed() >= Duration::from_secs(TIMEOUT_SECS));
}

#[test]
fn an_aborting_plugin_is_named_with_its_signal() {
    assert_fault("abort", &[], "its worker was killed by SIGABRT");
}

#[test]
fn a_segfaulting_plugin_is_named_with_its_signal() {
    assert_fault("segfault", &[], "its worker was killed by SIGSEGV");
}

#[test]
fn a_plugin_that_exits_mid_call_does_not_end_the_run() {
    assert_fault(
        "exit",
        &[],
        "its worker exited with code 0 before answering",
    );
}

#[test]
fn garbage_on_the_protocol_pipe_is_named() {
    assert_fault(
        "garbage",
        &[],
        "wrote garbage on the protocol pipe (a header of ",
    );
}

#[test]
fn a_response_over_the_limit_is_refused_before_it_is_read() {
    // The plugin answers with a body one byte over the limit it reads from the same variable.
    assert_fault(
        "huge",
        &[("TENOR_PLUGIN_MAX_RESPONSE", "1048576")],
        "sent a response of ",
    );
    let (run, _out) = accept_with("huge", &[("TENOR_PLUGIN_MAX_RESPONSE", "1048576")]);
    assert!(
        run.err
            .contains("over the limit of 1 MiB; its worker was killed"),
        "{}",
        run.err
    );
}

#[test]
fn a_plugin_out_of_memory_is_named_with_the_limit() {
    assert_fault(
        "oom",
        &[("TENOR_PLUGIN_MEMORY", "512M")],
        "ran out of memory (the limit is 512 MiB)",
    );
}

#[test]
fn a_panic_reaches_the_user_once_as_tenor_s_error() {
    let (run, out) = accept_with("panic", &[]);
    assert_eq!(run.code, 1, "{}", run.err);
    assert_eq!(
        run.err
            .matches("plugin `fault-panic` failed in `render_purchase_order`: the plugin panicked: deliberate failure rendering PO-Q-1001-ingram")
            .count(),
        1,
        "{}",
        run.err
    );
    // Rust's own panic report (and the backtrace RUST_BACKTRACE=1 asks for) was captured.
    assert_eq!(
        run.err.matches("deliberate failure").count(),
        1,
        "{}",
        run.err
    );
    for raw in ["panicked at", "stack backtrace", "RUST_BACKTRACE"] {
        assert!(
            !run.err.contains(raw),
            "`{raw}` reached the terminal:\n{}",
            run.err
        );
    }
    assert_others_complete(&out, &run);
}

#[test]
fn what_a_plugin_prints_never_reaches_the_output() {
    let (run, out) = accept_with("stdout", &[]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(
        !format!("{}{}", run.out, run.err).contains("noise"),
        "{}\n{}",
        run.out,
        run.err
    );
    assert!(!run.err.contains("fault-stdout on stderr"), "{}", run.err);
    assert!(
        out.join("fault-stdout/PO-Q-1001-ingram.noisy.txt")
            .is_file()
    );
    assert_others_complete(&out, &run);

    // `match --format json` reads the Pax8 order through detection, which asks the noisy
    // plugin first (by file name): standard output is still exactly one JSON document.
    let dir = plugin_dir(
        "fault-stdout-match",
        &[
            ("tenor_plugin_pax8", "pax8"),
            ("fault_plugin_stdout", "fault_stdout"),
        ],
    );
    let quote = root().join("rules/quotes/q1001-dental-practice.yaml");
    let order = out.join("pax8/PO-Q-1001-pax8.pax8-order.json");
    let rules = root().join("rules");
    let m = tenor(
        &[
            "match",
            "--quote",
            quote.to_str().unwrap(),
            "--order",
            order.to_str().unwrap(),
            "--rules",
            rules.to_str().unwrap(),
            "--plugins",
            dir.arg(),
            "--format",
            "json",
        ],
        &[],
    );
    let doc: serde_json::Value = serde_json::from_str(&m.out)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}\n{}", m.out, m.err));
    assert_eq!(doc["schema"], "tenor.match/1", "{}", m.out);
    assert!(
        !m.err.contains("noise") && !m.err.contains("fault-stdout on"),
        "{}",
        m.err
    );
}

#[test]
fn two_plugins_claiming_one_distributor_is_an_error_naming_both() {
    let dir = plugin_dir(
        "claims",
        &[
            ("tenor_plugin_pax8", "pax8"),
            ("tenor_plugin_ingram", "ingram"),
            ("fault_plugin_stdout", "fault_stdout"),
        ],
    );
    let out = Scratch::new("claims-out");
    let run = accept(&out, Some(&dir), &[]);
    assert_eq!(run.code, 1, "{}", run.err);
    let ingram = dir.join(lib_file("ingram"));
    let noisy = dir.join(lib_file("fault_stdout"));
    let line = run
        .err
        .lines()
        .find(|l| l.contains("claims distributor `ingram`"))
        .unwrap_or_else(|| panic!("no claim error in:\n{}", run.err));
    assert!(
        line.contains(&*noisy.to_string_lossy()) && line.contains(&*ingram.to_string_lossy()),
        "{line}"
    );
    // Neither serves `ingram`; Pax8 is unaffected.
    assert!(
        !out.join("ingram/PO-Q-1001-ingram.ingram-order.json")
            .exists()
    );
    assert!(!out.join("fault-stdout/PO-Q-1001-ingram.noisy.txt").exists());
    assert!(out.join("pax8/PO-Q-1001-pax8.pax8-order.json").is_file());
    assert!(out.join("PO-Q-1001-ingram.json").is_file());

    // The same through the host: neither is the distributor's plugin, both are listed.
    let host = Host::load_dir(&dir);
    assert!(host.for_distributor("ingram").is_none());
    assert!(host.for_distributor("pax8").is_some());
    assert_eq!(host.plugins().len(), 3);
}

#[test]
fn a_plugin_directory_that_does_not_exist_is_an_error() {
    let missing = Scratch::new("no-such-dir");
    let run = tenor(&["plugins", "list", "--plugins", missing.arg()], &[]);
    assert_eq!(run.code, 2, "{}", run.err);
    assert!(
        run.err.contains(&format!(
            "the plugin directory {} does not exist",
            missing.arg()
        )),
        "{}",
        run.err
    );
    // A list of directories is refused, saying so; accept stops before writing anything.
    let out = Scratch::new("path-list-out");
    let list = format!("{}:{}", missing.arg(), root().display());
    let run = accept(&out, None, &[("TENOR_PLUGIN_PATH", &list)]);
    assert_eq!(run.code, 2, "{}", run.err);
    assert!(
        run.err.contains("name one directory, not a list"),
        "{}",
        run.err
    );
    assert!(!out.exists());
}

#[test]
fn locked_refuses_a_directory_without_a_lock() {
    let dir = plugin_dir("locked", &[("tenor_plugin_pax8", "pax8")]);
    let run = tenor(
        &["plugins", "list", "--locked", "--plugins", dir.arg()],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.err);
    assert!(
        run.err.contains(LOCK_FILE) && run.err.contains("--locked"),
        "{}",
        run.err
    );
    assert!(!run.out.contains("pax8"), "{}", run.out);
    let run = tenor(
        &["--locked", "plugins", "lock", "--plugins", dir.arg()],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    let run = tenor(
        &[
            "plugins",
            "list",
            "--locked",
            "--plugins",
            dir.arg(),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    let doc: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    assert_eq!(doc["plugins"][0]["name"], "pax8", "{}", run.out);
    // The hash of the bytes loaded, which is the one pinned.
    let lock = tenor_core::host::read_lock(&dir).unwrap().unwrap();
    assert_eq!(doc["plugins"][0]["sha256"], lock.plugins[0].sha256.as_str());
}

/// Swaps the pinned Pax8 library for the Ingram one and back, by rename, as fast as it can,
/// while the host loads the directory: every load either refuses the file as changed or loads
/// the pinned bytes (the plugin that says it is `pax8`, with the pinned hash); never Ingram.
/// `TENOR_LOCK_RACE_TRIES` sets the number of loads (50 by default; the issue asks 1,000).
#[test]
fn the_lock_race_never_loads_an_unpinned_library() {
    let tries: usize = std::env::var("TENOR_LOCK_RACE_TRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let dir = plugin_dir("lock-race", &[("tenor_plugin_pax8", "pax8")]);
    let lock = write_lock(&dir).unwrap();
    let pinned = lock.plugins[0].sha256.clone();
    let target = dir.join(lib_file("pax8"));
    let good = std::fs::read(built("tenor_plugin_pax8")).unwrap();
    let bad = std::fs::read(built("tenor_plugin_ingram")).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (stop, dir, target) = (stop.clone(), dir.to_path_buf(), target.clone());
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for (i, bytes) in [&bad, &good].into_iter().enumerate() {
                    let tmp = dir.join(format!("swap-{i}.tmp"));
                    std::fs::write(&tmp, bytes).unwrap();
                    std::fs::rename(&tmp, &target).unwrap();
                    swaps += 1;
                }
            }
            swaps
        })
    };
    let (mut loaded, mut refused) = (0usize, 0usize);
    for _ in 0..tries {
        let host = Host::load_dir(&dir);
        for p in host.plugins() {
            assert_eq!(p.info.name, "pax8", "an unpinned library was loaded");
            assert_eq!(p.sha256, pinned);
            loaded += 1;
        }
        for f in &host.failures {
            assert!(
                f.message.contains("changed since plugins.lock"),
                "{}",
                f.message
            );
            refused += 1;
        }
        assert_eq!(host.plugins().len() + host.failures.len(), 1);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    eprintln!(
        "lock race: {tries} loads, {loaded} pinned bytes loaded, {refused} refused, {swaps} swaps, 0 unpinned"
    );
    assert_eq!(loaded + refused, tries);
}

/// A plugin that failed when the quote was accepted leaves the revision without its files; the
/// same quote accepted again once the plugin works adds them to that revision (and only them:
/// what was recorded stays byte for byte) instead of answering "nothing changed" for good.
#[test]
fn accepting_again_adds_the_files_a_failed_plugin_left_out() {
    // Its own folders: the abort test runs beside it with `accept_with("abort")`'s.
    let broken = plugin_dir(
        "complete-broken",
        &[
            ("tenor_plugin_pax8", "pax8"),
            ("tenor_plugin_connectwise", "connectwise"),
            ("fault_plugin_abort", "fault_abort"),
        ],
    );
    let out = Scratch::new("complete-out");
    let first = accept(&out, Some(&broken), &[]);
    assert_eq!(first.code, 1, "{}", first.err);
    let ingram_order = out.join("ingram/PO-Q-1001-ingram.ingram-order.json");
    assert!(!ingram_order.exists());
    let pax8_order = out.join("pax8/PO-Q-1001-pax8.pax8-order.json");
    let pax8_before = std::fs::read(&pax8_order).unwrap();

    let fixed = plugin_dir("complete-fixed", FIRST_PARTY);
    let again = accept(&out, Some(&fixed), &[]);
    assert_eq!(again.code, 0, "{}", again.err);
    assert!(
        again.err.contains(
            "added the plugin files it lacked: ingram/PO-Q-1001-ingram.ingram-order.json"
        ),
        "{}",
        again.err
    );
    assert!(ingram_order.is_file(), "{}", again.err);
    assert_eq!(std::fs::read(&pax8_order).unwrap(), pax8_before);
    // Still one revision: the record was completed, not revised.
    let log = tenor(
        &[
            "--db",
            &format!("{}.db", out.arg()),
            "log",
            "Q-1001",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(log.code, 0, "{}", log.err);
    let doc: serde_json::Value = serde_json::from_str(&log.out).unwrap();
    let text = doc.to_string();
    assert!(!text.contains("\"revise\""), "{text}");
    assert!(text.contains("\"completed\""), "{text}");

    // A third time adds nothing.
    let third = accept(&out, Some(&fixed), &[]);
    assert_eq!(third.code, 0, "{}", third.err);
    assert!(third.err.contains("nothing changed"), "{}", third.err);
}
