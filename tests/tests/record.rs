//! The record (issue 11): accepting records a revision once; a changed quote needs `--revise`;
//! every revision stays readable; `change` refuses a revision whose stored documents disagree
//! (the attack of a sales order left beside another acceptance's schedule); the schema is
//! checked on open; `log` and `show` read it; parallel `tenor accept` processes on one database
//! never lose or duplicate a record.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use tenor_core::cli::Exit;
use tenor_core::record::Record;
use tenor_tests::scratch::{Scratch, arg as s};
use tenor_tests::{Output, rules_dir, tenor, tenor_binary};

/// A fresh scratch directory for one test, removed when the test ends.
fn scratch(name: &str) -> Scratch {
    Scratch::dir(&format!("record-{name}"))
}

fn example() -> PathBuf {
    rules_dir().join("quotes/q1001-dental-practice.yaml")
}

/// Q-1001 with its first line's 25 seats replaced by `seats` (and its id by `id`), in `dir`.
fn variant(dir: &Path, id: &str, seats: u32) -> PathBuf {
    let text = std::fs::read_to_string(example()).unwrap();
    assert!(text.contains("quantity: 25\n") && text.contains("quote: Q-1001\n"));
    let text = text
        .replacen("quantity: 25\n", &format!("quantity: {seats}\n"), 1)
        .replace("quote: Q-1001\n", &format!("quote: {id}\n"));
    let p = dir.join(format!("{id}-{seats}.yaml"));
    std::fs::write(&p, text).unwrap();
    p
}

/// `tenor --db DB accept QUOTE --no-plugins …` in-process.
fn accept(db: &Path, quote: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "--db",
        s(db),
        "accept",
        s(quote),
        "--rules",
        s(rules_dir().as_path()),
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    args.push("--no-plugins".into());
    args.extend(extra.iter().map(|x| x.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tenor(&refs)
}

fn ok(o: &Output) {
    assert_eq!(o.exit, Exit::Success, "{}\n{}", o.stdout, o.stderr);
}

#[test]
fn the_same_quote_twice_is_one_revision_and_a_changed_one_needs_revise() {
    let dir = scratch("revise");
    let db = dir.join("tenor.db");
    ok(&accept(&db, &example(), &[]));
    let again = accept(&db, &example(), &[]);
    ok(&again);
    assert!(again.stderr.contains("nothing changed"), "{}", again.stderr);
    let r = Record::open(&db).unwrap();
    assert_eq!(r.revisions("Q-1001").unwrap().len(), 1);
    let first_docs = r.documents("Q-1001", 1).unwrap();
    assert_eq!(
        first_docs.len(),
        6,
        "SO, SCHED, RT, SUM and two purchase orders"
    );
    drop(r);

    let edited = variant(&dir, "Q-1001", 30);
    let refused = accept(&db, &edited, &[]);
    assert_eq!(refused.exit, Exit::Failure);
    assert!(
        refused.stderr.contains(
            "quote `Q-1001` was accepted before (revision 1) from a different quote or rules"
        ) && refused.stderr.contains("pass --revise"),
        "{}",
        refused.stderr
    );
    let r = Record::open(&db).unwrap();
    assert_eq!(
        r.revisions("Q-1001").unwrap().len(),
        1,
        "refused: nothing recorded"
    );
    drop(r);

    ok(&accept(&db, &edited, &["--revise"]));
    ok(&accept(&db, &edited, &["--revise"]));
    let r = Record::open(&db).unwrap();
    let revs = r.revisions("Q-1001").unwrap();
    assert_eq!(revs.iter().map(|v| v.revision).collect::<Vec<_>>(), [1, 2]);
    assert_ne!(revs[0].fingerprint, revs[1].fingerprint);
    assert_eq!(
        r.documents("Q-1001", 1).unwrap(),
        first_docs,
        "revision 1 stays as it was"
    );
    let so2: Value = serde_json::from_slice(&doc_body(&r, "Q-1001", 2, "SO-Q-1001.json")).unwrap();
    assert_eq!(so2["lines"][0]["quantity"], "30");
    // The quote as written, and its hash.
    let (_, text) = r.revision_texts("Q-1001", 2).unwrap();
    assert_eq!(text, std::fs::read_to_string(&edited).unwrap());
    assert_eq!(
        revs[1].quote_sha256,
        tenor_core::record::sha256_hex(text.as_bytes())
    );
    let rule_files = r.rule_files("Q-1001", 2).unwrap();
    assert_eq!(rule_files.len(), tenor_tests::rule_files().len());
    assert_eq!(r.integrity_check().unwrap(), "ok");
}

// The rules' git commit is recorded only when they are committed and clean; rules copied into
// an ignored folder (target/tmp, inside this work tree) are not in any commit.
#[test]
fn the_rules_git_commit_is_recorded_only_for_committed_rules() {
    let dir = scratch("git");
    let copy = dir.join("rules");
    std::fs::create_dir_all(&copy).unwrap();
    for f in tenor_tests::rule_files() {
        let name = f.0.strip_prefix("rules/").unwrap();
        std::fs::write(copy.join(name), f.1).unwrap();
    }
    assert_eq!(tenor_core::record::git::rules_revision(&copy), None);
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(rules_dir())
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let clean =
        git(&["status", "--porcelain", "--ignored", "--", "."]).is_some_and(|s| s.is_empty());
    let expected = git(&["rev-parse", "HEAD"]).filter(|_| clean);
    assert_eq!(
        tenor_core::record::git::rules_revision(&rules_dir()),
        expected
    );
    if let Some(head) = &expected {
        assert_eq!(head.len(), 40, "{head}");
    }
}

fn doc_body(r: &Record, quote: &str, rev: u32, path: &str) -> Vec<u8> {
    r.documents(quote, rev)
        .unwrap()
        .into_iter()
        .find(|d| d.path == path)
        .unwrap_or_else(|| panic!("{path} is not recorded"))
        .body
}

fn sql(db: &Path, statement: &str, params: &[&dyn rusqlite::ToSql]) {
    let c = rusqlite::Connection::open(db).unwrap();
    c.execute(statement, params).unwrap();
}

fn change(db: &Path, extra: &[&str]) -> Output {
    let rules = rules_dir();
    let mut args = vec![
        "--db",
        s(db),
        "change",
        "Q-1001",
        "--rules",
        s(&rules),
        "--line",
        "1",
        "--quantity",
        "27",
        "--date",
        "2027-02-10",
    ];
    args.extend(extra);
    tenor(&args)
}

// Issue 11's attack: `accept --force` killed between writing the schedule and the sales order
// left the old sales order beside the new schedule, and `change` amended the mismatched pair.
// The record writes both in one transaction (record_kill.rs kills it); here the pair is made
// to disagree by hand, and `change` must refuse it and record nothing.
#[test]
fn change_refuses_an_old_sales_order_beside_a_new_schedule() {
    let dir = scratch("mismatch");
    let db = dir.join("tenor.db");
    ok(&accept(&db, &example(), &[]));
    ok(&accept(&db, &variant(&dir, "Q-1001", 30), &["--revise"]));
    let old_so = doc_body(&Record::open(&db).unwrap(), "Q-1001", 1, "SO-Q-1001.json");
    // Revision 2's sales order replaced by revision 1's, hash and all: only the pairing shows.
    sql(
        &db,
        "UPDATE documents SET body = ?1, sha256 = ?2 WHERE quote = 'Q-1001' AND revision = 2 AND path = 'SO-Q-1001.json'",
        &[&old_so, &tenor_core::record::sha256_hex(&old_so)],
    );
    let o = change(&db, &[]);
    assert_eq!(o.exit, Exit::Failure, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("the recorded documents of quote `Q-1001` revision 2 disagree")
            && o.stderr.contains("are not each other's"),
        "{}",
        o.stderr
    );
    let r = Record::open(&db).unwrap();
    assert!(
        r.changes("Q-1001", 2).unwrap().is_empty(),
        "nothing recorded"
    );
    drop(r);

    // A stored document whose bytes are not the ones hashed is refused too.
    sql(
        &db,
        "UPDATE documents SET body = CAST('{}' AS BLOB) WHERE quote = 'Q-1001' AND revision = 1 AND path = 'SCHED-Q-1001.json'",
        &[],
    );
    let o = change(&db, &["--revision", "1"]);
    assert_eq!(o.exit, Exit::Failure, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("SCHED-Q-1001.json does not match the sha256 recorded with it"),
        "{}",
        o.stderr
    );
}

#[test]
fn a_database_from_a_newer_tenor_or_with_an_altered_migration_is_refused() {
    let dir = scratch("schema");
    let db = dir.join("tenor.db");
    drop(Record::open(&db).unwrap());
    sql(
        &db,
        "INSERT INTO tenor_migrations (version, sha256, applied_at) VALUES (99, 'x', 'then')",
        &[],
    );
    let e = Record::open(&db).err().expect("refused").to_string();
    let known = tenor_core::record::schema::latest();
    assert!(
        e.contains(&format!(
            "has schema version 99, newer than this tenor knows ({known})"
        )),
        "{e}"
    );
    let o = tenor(&["--db", s(&db), "log"]);
    assert_eq!(o.exit, Exit::Error, "{}", o.stderr);
    assert!(
        o.stderr.contains("newer than this tenor knows"),
        "{}",
        o.stderr
    );

    sql(&db, "DELETE FROM tenor_migrations WHERE version = 99", &[]);
    sql(
        &db,
        "UPDATE tenor_migrations SET sha256 = 'abc' WHERE version = 1",
        &[],
    );
    let e = Record::open(&db).err().expect("refused").to_string();
    assert!(
        e.contains("applied a migration 1 that differs from this tenor's (sha256 abc, expected "),
        "{e}"
    );
}

/// Q-1001 accepted and exported into `out`, then line 1 changed to 27 seats.
fn accepted_and_changed(name: &str) -> (Scratch, PathBuf, PathBuf) {
    let dir = scratch(name);
    let db = dir.join("tenor.db");
    let out = dir.join("out");
    ok(&accept(&db, &example(), &["--out", s(&out)]));
    ok(&change(&db, &[]));
    (dir, db, out)
}

#[test]
fn log_reads_the_history() {
    let (_dir, db, _) = accepted_and_changed("log");
    let o = tenor(&["--db", s(&db), "log", "Q-1001", "--format", "json"]);
    ok(&o);
    let log: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(log["schema"], "tenor.log/1");
    let q = &log["quotes"][0];
    assert_eq!(q["quote"], "Q-1001");
    let kinds: Vec<&str> = q["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["accept", "export", "change"]);
    assert_eq!(
        q["events"][1]["detail"]["files"].as_array().unwrap().len(),
        6
    );
    assert_eq!(
        q["revisions"][0]["changes"][0]["change_order"],
        "CO-Q-1001-1-2027-02-10"
    );
    let table = tenor(&["--db", s(&db), "log"]);
    ok(&table);
    assert!(
        table
            .stdout
            .contains("CO-Q-1001-1-2027-02-10: line 1 to 27 from 2027-02-10"),
        "{}",
        table.stdout
    );
}

#[test]
fn show_and_export_read_the_current_documents() {
    let (dir, db, out) = accepted_and_changed("show");
    // The current sales order is the amended one; `show --document` prints its bytes.
    let o = tenor(&[
        "--db",
        s(&db),
        "show",
        "Q-1001",
        "--document",
        "sales-order",
    ]);
    ok(&o);
    let so: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(so["lines"][0]["quantity"], "27");
    let exported = std::fs::read_to_string(out.join("SO-Q-1001.json")).unwrap();
    assert_ne!(o.stdout, exported, "the export was made before the change");
    let o = tenor(&["--db", s(&db), "show", "Q-1001", "--format", "json"]);
    ok(&o);
    let shown: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(shown["schema"], "tenor.show/1");
    assert_eq!(shown["revision"]["revision"], 1);
    assert_eq!(
        shown["documents"].as_array().unwrap().len(),
        7,
        "and the change order"
    );
    let o = tenor(&[
        "--db",
        s(&db),
        "show",
        "Q-1001",
        "--document",
        "purchase-order",
    ]);
    assert_eq!(o.exit, Exit::Failure, "two purchase orders: ambiguous");
    let o = tenor(&["--db", s(&db), "show", "Q-NONE"]);
    assert_eq!(o.exit, Exit::Error);
    assert!(
        o.stderr.contains("no quote `Q-NONE` in the record"),
        "{}",
        o.stderr
    );

    // `export` writes the current documents: the amended sales order and the change order.
    let again = dir.join("again");
    ok(&tenor(&[
        "--db",
        s(&db),
        "export",
        "Q-1001",
        "--out",
        s(&again),
    ]));
    let so_now = std::fs::read(again.join("SO-Q-1001.json")).unwrap();
    assert_eq!(so_now, o_bytes(&db, "SO-Q-1001.json"));
    assert!(again.join("CO-Q-1001-1-2027-02-10.json").exists());
}

fn o_bytes(db: &Path, path: &str) -> Vec<u8> {
    doc_body(&Record::open(db).unwrap(), "Q-1001", 1, path)
}

/// Spawns `tenor --db DB accept QUOTE …` as a process, with a fixed clock.
fn spawn_accept(db: &Path, quote: &Path, revise: bool) -> std::process::Child {
    let mut c = Command::new(tenor_binary());
    c.args(["--quiet", "--db", s(db), "accept", s(quote), "--rules"])
        .arg(rules_dir())
        .arg("--no-plugins")
        .env("TENOR_NOW", "2026-01-01T00:00:00Z")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if revise {
        c.arg("--revise");
    }
    c.spawn().unwrap()
}

// Issue 11, build 5: parallel processes on one database. Four accept the same quote (one
// revision, one accept event), four accept four other quotes (each recorded once), and four
// revise one quote with four different seat counts (revisions 1 to 4, none lost or doubled).
#[test]
fn parallel_accepts_never_lose_or_duplicate_a_record() {
    let dir = scratch("parallel");
    let db = dir.join("tenor.db");
    let mut jobs = Vec::new();
    for _ in 0..4 {
        jobs.push(spawn_accept(&db, &example(), false));
    }
    for i in 0..4 {
        jobs.push(spawn_accept(
            &db,
            &variant(&dir, &format!("Q-P{i}"), 25),
            false,
        ));
    }
    for seats in [26, 27, 28, 29] {
        jobs.push(spawn_accept(&db, &variant(&dir, "Q-REV", seats), true));
    }
    for j in jobs {
        let out = j.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let r = Record::open(&db).unwrap();
    assert_eq!(
        r.quotes().unwrap(),
        ["Q-1001", "Q-P0", "Q-P1", "Q-P2", "Q-P3", "Q-REV"]
    );
    for q in ["Q-1001", "Q-P0", "Q-P1", "Q-P2", "Q-P3"] {
        assert_eq!(r.revisions(q).unwrap().len(), 1, "{q}");
        let events = r.events(Some(q)).unwrap();
        assert_eq!(events.len(), 1, "{q}: {events:?}");
        assert_eq!(events[0].at, "2026-01-01T00:00:00Z");
        assert_eq!(r.documents(q, 1).unwrap().len(), 6, "{q}");
    }
    let revs = r.revisions("Q-REV").unwrap();
    assert_eq!(
        revs.iter().map(|v| v.revision).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    let mut seats: Vec<String> = (1..=4)
        .map(|n| {
            let so: Value =
                serde_json::from_slice(&doc_body(&r, "Q-REV", n, "SO-Q-REV.json")).unwrap();
            so["lines"][0]["quantity"].as_str().unwrap().to_string()
        })
        .collect();
    seats.sort();
    assert_eq!(seats, ["26", "27", "28", "29"], "each revision once");
    assert_eq!(r.integrity_check().unwrap(), "ok");
    drop(r);
}
