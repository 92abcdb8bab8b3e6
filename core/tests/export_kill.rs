//! `tenor accept --force` killed with SIGKILL at random moments while it replaces an export,
//! half of the kills while the files are being written: the folder always holds a whole
//! manifest (the previous export's or the new one's, never a third), every file is wholly the
//! old or the new version, a new manifest is only there when every file it lists is written,
//! and a rerun completes with the same bytes as an uninterrupted run and leaves no temporary
//! file behind.
//!
//! `TENOR_KILL_TRIES` kills (default 4), `TENOR_KILL_LINES` quote lines (default 1,000; each
//! bills 12 monthly charges).
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn tenor(args: &[&Path]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tenor"));
    c.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

fn run(cmd: &mut Command) {
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A quote of `lines` one-year lines billed monthly, every line of `quantity` devices.
fn quote(id: &str, lines: usize, quantity: u32) -> String {
    let mut q = format!(
        "quote: {id}\ndate: 2026-12-01\ncurrency: USD\ncustomer:\n  id: C-1\n  name: Kill Co\n  anniversary: 01-01\nlines:\n"
    );
    for _ in 0..lines {
        q.push_str(&format!(
            "  - product: ACME-BACKUP\n    quantity: {quantity}\n    term: P1Y\n    billing: monthly\n    start: 2027-01-01\n"
        ));
    }
    q
}

/// Every file below `dir`, relative, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, at: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(at).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for (rel, bytes) in files(from) {
        std::fs::write(to.join(rel), bytes).unwrap();
    }
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A small deterministic generator: the seed is printed, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}

/// Waits until a run writing into `out` has created its first temporary file (it has started
/// writing), or has ended; true when it is writing.
fn wait_for_writing(child: &mut std::process::Child, out: &Path) -> bool {
    loop {
        let writing = std::fs::read_dir(out).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".tenor-tmp-")
        });
        if writing {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Which state a killed run left: its manifest was the old one or the new one.
fn check_after_kill(
    out: &Path,
    old: &BTreeMap<String, Vec<u8>>,
    new: &BTreeMap<String, Vec<u8>>,
) -> &'static str {
    let now = files(out);
    let manifest = now.get("export.json").expect("the manifest is gone");
    let mixed = now
        .iter()
        .any(|(rel, b)| old.get(rel) != Some(b) && new.get(rel) == Some(b));
    let state = if Some(manifest) == old.get("export.json") {
        if mixed {
            "old manifest, some files already new"
        } else {
            "old manifest, untouched"
        }
    } else if Some(manifest) == new.get("export.json") {
        "new manifest"
    } else {
        panic!("a third manifest:\n{}", String::from_utf8_lossy(manifest));
    };
    for (rel, bytes) in &now {
        if rel.contains(".tenor-tmp-") {
            continue; // the killed run's: removed by the next run
        }
        assert!(
            old.get(rel) == Some(bytes) || new.get(rel) == Some(bytes),
            "{rel} is neither the old nor the new version ({state})"
        );
    }
    if state == "new manifest" {
        // Written last: every file it lists is there, with its hash.
        let m: serde_json::Value = serde_json::from_slice(manifest).unwrap();
        for f in m["files"].as_array().unwrap() {
            let rel = f["path"].as_str().unwrap();
            let bytes = now.get(rel).unwrap_or_else(|| panic!("{rel} is missing"));
            assert_eq!(f["sha256"], sha(bytes).as_str(), "{rel}");
        }
    }
    state
}

#[test]
fn an_export_killed_at_any_moment_is_old_or_new_and_a_rerun_completes_it() {
    let tries = env_count("TENOR_KILL_TRIES", 4);
    let lines = env_count("TENOR_KILL_LINES", 1_000);
    let base =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("export-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let rules = base.join("rules");
    run(tenor(&[Path::new("init"), &rules]).arg("--quiet"));
    let (v1, v2) = (base.join("v1.yaml"), base.join("v2.yaml"));
    std::fs::write(&v1, quote("Q-KILL", lines, 3)).unwrap();
    std::fs::write(&v2, quote("Q-KILL", lines, 4)).unwrap();
    // Each run records into a fresh database: this test is about the export directory (the
    // record's own kill test is tests/tests/record_kill.rs), and a fresh record makes every run
    // a first accept whose export replaces the folder's.
    let runs = std::cell::Cell::new(0u32);
    let accept = |q: &Path, out: &Path| {
        runs.set(runs.get() + 1);
        let db = base.join(format!("record-{}.db", runs.get()));
        let mut c = tenor(&[Path::new("accept"), q, Path::new("--rules"), &rules]);
        c.arg("--db")
            .arg(db)
            .arg("--out")
            .arg(out)
            .args(["--no-plugins", "--force", "--quiet"]);
        c
    };
    let (ref_old, ref_new) = (base.join("ref-old"), base.join("ref-new"));
    run(&mut accept(&v1, &ref_old));
    copy_dir(&ref_old, &ref_new);
    let started = Instant::now();
    let mut child = accept(&v2, &ref_new).spawn().unwrap();
    assert!(wait_for_writing(&mut child, &ref_new));
    let writing = Instant::now();
    assert!(child.wait().unwrap().success());
    let (clean, window) = (started.elapsed(), writing.elapsed());
    let (old, new) = (files(&ref_old), files(&ref_new));
    assert_ne!(old.get("export.json"), new.get("export.json"));

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("seed {seed}, {tries} kills within {clean:?}, writing for the last {window:?}");
    let mut rng = Lcg(seed);
    let out = base.join("out");
    let mut states: BTreeMap<&str, usize> = BTreeMap::new();
    for i in 0..tries {
        copy_dir(&ref_old, &out);
        let mut child = accept(&v2, &out).spawn().unwrap();
        // Every other kill lands while files are being written (pricing takes most of a run).
        let span = if i % 2 == 0 {
            clean
        } else {
            wait_for_writing(&mut child, &out);
            window
        };
        std::thread::sleep(Duration::from_micros(rng.next(span.as_micros() as u64)));
        let _ = child.kill();
        let finished = child.wait().unwrap().success();
        let state = check_after_kill(&out, &old, &new);
        *states
            .entry(if finished {
                "finished before the kill"
            } else {
                state
            })
            .or_default() += 1;
        run(&mut accept(&v2, &out));
        assert_eq!(
            files(&out),
            new,
            "the rerun differs from an uninterrupted run"
        );
    }
    eprintln!("{states:?}");
    std::fs::remove_dir_all(&base).unwrap();
}
