//! `tenor serve` under load, and killed: ignored by default (a minute of two cores), run with
//!
//! ```sh
//! cargo test -p tenor-tests --test serve_load -- --ignored --nocapture --test-threads 1
//! ```
//!
//! (a debug build accepts the 1,000 in about 27 s on this two-core machine; `--release` is
//! faster still).
//!
//! - 1,000 distinct quotes (Q-1001's text under ids `L-0000`…`L-0999`) are shared, then
//!   accepted over loopback by 16 clients at once: all within a minute, every one answered
//!   "Thank you", and the record holds exactly 1,000 decisions and 1,000 revisions, one per
//!   quote.
//! - The same, with the server killed (`SIGKILL`) once 300 acceptances were acknowledged:
//!   every acceptance a client saw acknowledged (a 200 "Thank you" page) is in the record after
//!   the restart; the rest, sent again to the restarted server, end with exactly one
//!   acceptance each (an acceptance committed whose answer was lost says so: "was accepted
//!   by").
//!
//! Each client posts the form as a browser does after opening the page, with a CSRF cookie and
//! the same token in the form (the server checks that the two agree, not where the token came
//! from); opening the page is left out so the figures are those of acceptance.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tenor_core::record::Record;
use tenor_core::record::shares::NewShare;
use tenor_tests::serving::Server;

const CLI: &str = env!("CARGO_BIN_EXE_tenor-cli");
const QUOTES: usize = 1000;
const CLIENTS: usize = 16;
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("serve-load-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Shares `QUOTES` copies of Q-1001 under distinct ids (in process, through the record's own
/// functions, as `tenor share` does): each one's id and link query.
fn share_many(db: &Path) -> Vec<(String, String)> {
    let rules_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let sources = tenor_dsl::load(std::slice::from_ref(&rules_dir)).unwrap();
    let rules: Vec<(String, String)> = sources
        .ids()
        .map(|id| (sources.name(id).to_string(), sources.text(id).to_string()))
        .collect();
    let text =
        std::fs::read_to_string(rules_dir.join("quotes/q1001-dental-practice.yaml")).unwrap();
    assert!(text.contains("\nquote: Q-1001\n"));
    let mut record = Record::open(db).unwrap();
    let key = record.share_key().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let expires = i64::try_from(now.as_secs()).unwrap() + 86_400;
    (0..QUOTES)
        .map(|i| {
            let id = format!("L-{i:04}");
            let quote_text = text.replace("\nquote: Q-1001\n", &format!("\nquote: {id}\n"));
            let shared = record
                .share(&NewShare {
                    quote: &id,
                    quote_file: "q1001-dental-practice.yaml",
                    quote_text: &quote_text,
                    rules: &rules,
                    expires_at: expires,
                })
                .unwrap();
            let link = tenor_core::serve::sign::sign(
                &key,
                &id,
                shared.revision,
                &shared.content_sha256,
                expires,
            );
            (id, link.query())
        })
        .collect()
}

/// What one acceptance request came to.
#[derive(Debug, PartialEq)]
enum Answer {
    /// 200 and "Thank you": this request accepted the quote.
    Accepted,
    /// 200 and "was accepted by": an earlier request had.
    Before,
    /// Anything else (the connection refused or cut, another page).
    Other(String),
}

fn accept(agent: &ureq::Agent, base: &str, query: &str, i: usize) -> Answer {
    let mut fields: Vec<(String, String)> = query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    fields.push(("name".into(), format!("Customer {i}")));
    fields.push(("email".into(), format!("c{i}@load.example")));
    fields.push(("csrf".into(), TOKEN.into()));
    let r = agent
        .post(format!("{base}/quote/accept"))
        .header("Cookie", format!("tenor_csrf={TOKEN}"))
        .send_form(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    match r {
        Ok(mut r) => {
            let status = r.status().as_u16();
            let body = r.body_mut().read_to_string().unwrap_or_default();
            if status == 200 && body.contains("Thank you, ") {
                Answer::Accepted
            } else if status == 200 && body.contains("This quote was accepted by") {
                Answer::Before
            } else {
                Answer::Other(format!("{status}"))
            }
        }
        Err(e) => Answer::Other(e.to_string()),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Sends every acceptance of `todo` from `CLIENTS` threads; `stop` is called after each
/// acknowledged one with the count so far and ends the run when it returns true. Returns each
/// quote's answer.
fn run(
    base: &str,
    todo: &[(usize, &(String, String))],
    stop: &(dyn Fn(usize) -> bool + Sync),
) -> Vec<(String, Answer)> {
    let next = AtomicUsize::new(0);
    let acked = AtomicUsize::new(0);
    let out = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..CLIENTS {
            s.spawn(|| {
                let agent = agent();
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let Some((i, (id, q))) = todo.get(n) else {
                        return;
                    };
                    let a = accept(&agent, base, q, *i);
                    let done = a == Answer::Accepted;
                    out.lock().unwrap().push((id.clone(), a));
                    if done && stop(acked.fetch_add(1, Ordering::SeqCst) + 1) {
                        return;
                    }
                }
            });
        }
    });
    out.into_inner().unwrap()
}

/// The quotes the record holds accepted through a link: (decisions, revisions) per quote.
fn recorded(db: &Path) -> (BTreeSet<String>, i64) {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT quote FROM share_decisions WHERE kind = 'accept'")
        .unwrap();
    let decided: Vec<String> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let n = decided.len();
    let set: BTreeSet<String> = decided.into_iter().collect();
    assert_eq!(set.len(), n, "one decision per quote");
    let revisions: i64 = c
        .query_row("SELECT COUNT(*) FROM revisions", [], |r| r.get(0))
        .unwrap();
    (set, revisions)
}

#[test]
#[ignore = "load: about half a minute of both cores; run with --ignored"]
fn a_thousand_acceptances_of_distinct_quotes_within_a_minute_none_lost() {
    let dir = scratch("thousand");
    let db = dir.join("t.db");
    let links = share_many(&db);
    let server = Server::spawn(Server::command(CLI, &db, &[]));
    let todo: Vec<(usize, &(String, String))> = links.iter().enumerate().collect();
    let t = Instant::now();
    let answers = run(&server.base, &todo, &|_| false);
    let took = t.elapsed();
    let accepted = answers
        .iter()
        .filter(|(_, a)| *a == Answer::Accepted)
        .count();
    let others: Vec<_> = answers
        .iter()
        .filter(|(_, a)| *a != Answer::Accepted)
        .take(5)
        .collect();
    println!(
        "{accepted} acceptances of {QUOTES} distinct quotes by {CLIENTS} clients in {:.1} s ({:.0}/s)",
        took.as_secs_f64(),
        accepted as f64 / took.as_secs_f64()
    );
    assert_eq!(accepted, QUOTES, "not accepted: {others:?}");
    assert!(
        took < Duration::from_secs(60),
        "took {took:?}, more than a minute"
    );
    drop(server);
    let (decided, revisions) = recorded(&db);
    let want: BTreeSet<String> = links.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(decided, want, "every quote accepted once");
    assert_eq!(revisions, QUOTES as i64);
}

// Long: the run, the kill, the check of what was acknowledged, the restart and the rest.
#[test]
#[ignore = "load: about half a minute of both cores; run with --ignored"]
fn kill_9_mid_run_loses_no_acknowledged_acceptance() {
    let dir = scratch("kill");
    let db = dir.join("t.db");
    let links = share_many(&db);
    let server = Mutex::new(Some(Server::spawn(Server::command(CLI, &db, &[]))));
    let base = server.lock().unwrap().as_ref().unwrap().base.clone();
    let todo: Vec<(usize, &(String, String))> = links.iter().enumerate().collect();
    const KILL_AT: usize = 300;
    // At the 300th acknowledgement, SIGKILL: requests in flight are cut wherever they are.
    let first = run(&base, &todo, &|n| {
        if n == KILL_AT
            && let Some(mut s) = server.lock().unwrap().take()
        {
            s.kill();
        }
        n >= KILL_AT
    });
    drop(server);
    let acked: BTreeSet<String> = first
        .iter()
        .filter(|(_, a)| *a == Answer::Accepted)
        .map(|(id, _)| id.clone())
        .collect();
    let cut = first
        .iter()
        .filter(|(_, a)| matches!(a, Answer::Other(_)))
        .count();
    let (after_kill, _) = recorded(&db);
    let lost: Vec<&String> = acked.difference(&after_kill).collect();
    println!(
        "killed after {} acknowledged acceptances ({cut} requests cut in flight or refused \
         after); \
         the record holds {} accepted, {} acknowledged missing",
        acked.len(),
        after_kill.len(),
        lost.len()
    );
    assert!(acked.len() >= KILL_AT);
    assert!(lost.is_empty(), "acknowledged but not recorded: {lost:?}");
    // Restarted on the same record: everything not acknowledged is sent again.
    let restarted = Server::spawn(Server::command(CLI, &db, &[]));
    let again: Vec<(usize, &(String, String))> = todo
        .iter()
        .filter(|(_, (id, _))| !acked.contains(id))
        .copied()
        .collect();
    let second = run(&restarted.base, &again, &|_| false);
    let before = second.iter().filter(|(_, a)| *a == Answer::Before).count();
    let bad: Vec<_> = second
        .iter()
        .filter(|(_, a)| matches!(a, Answer::Other(_)))
        .take(5)
        .collect();
    println!(
        "after the restart: {} sent again, {before} found accepted before (committed, answer lost)",
        again.len()
    );
    assert!(bad.is_empty(), "{bad:?}");
    drop(restarted);
    let (decided, revisions) = recorded(&db);
    assert_eq!(decided.len(), QUOTES, "every quote accepted exactly once");
    assert_eq!(revisions, QUOTES as i64);
}
