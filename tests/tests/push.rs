//! `tenor push` and `tenor pull` against a tiny stub vendor written here with std::net (not
//! the simulators): the test plugin `stubvendor` (tests/fault-plugins/pushing) orders Q-1001's
//! Pax8 purchase order with `POST /orders` and looks the order up by reference before it
//! orders again. The stub counts every request, creates orders, and can answer 429 with
//! `Retry-After`, 500, or stall after creating (a timeout), on the requests a test names.
//!
//! The kill test (`kill -9` of `tenor push` at a random moment, then a rerun: exactly one
//! order) runs 3 times by default; `TENOR_PUSH_KILLS=25` runs the figure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod plugin_support;

use plugin_support::{Scratch, plugin_dir};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tenor_tests::{rules_dir, tenor_binary};

const SECRET: &str = "client-secret-9f8e7d6c5b4a";
const TOKEN: &str = "access-token-1a2b3c4d5e6f";
const COMPANY: &str = "STUB-COMPANY-17";

/// How the stub answers one request (by method and its number among that method's).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// 429 with `Retry-After: N`, nothing done.
    TooMany(u64),
    /// 500, nothing done.
    Error,
    /// Creates the order, then says nothing for this long (past the client's timeout).
    Stall(Duration),
    /// Creates the order, waits this long, then answers (so that a kill can land).
    Slow(Duration),
}

/// One request as the stub got it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    target: String,
    headers: String,
    body: String,
    /// For a POST /orders: whether the record held the request, still unanswered, when the
    /// stub got it.
    recorded_before: Option<bool>,
}

#[derive(Default)]
struct State {
    seen: Vec<Seen>,
    orders: Vec<(String, String, String)>,
    faults: Vec<(String, usize, Fault)>,
    db: Option<PathBuf>,
}

/// The stub vendor on 127.0.0.1 (an ephemeral port), one thread per connection.
struct Stub {
    url: String,
    state: Arc<Mutex<State>>,
}

impl Stub {
    fn start(faults: Vec<(&str, usize, Fault)>, db: Option<&Path>) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            faults: faults
                .into_iter()
                .map(|(m, n, f)| (m.to_string(), n, f))
                .collect(),
            db: db.map(Path::to_path_buf),
            ..State::default()
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Stub { url, state }
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    fn count(&self, method: &str, prefix: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.target.starts_with(prefix))
            .count()
    }

    fn orders(&self) -> Vec<(String, String, String)> {
        self.state.lock().unwrap().orders.clone()
    }
}

/// Whether the record holds a `POST /orders` exchange without a response.
fn unanswered_in_record(db: &Path) -> bool {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT COUNT(*) FROM exchanges WHERE response IS NULL AND request LIKE '%\"POST\"%'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        > 0
}

fn read_request(stream: &TcpStream) -> Option<(String, String, String, String)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = String::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        if h.trim().is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
        headers.push_str(&h);
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some((
        method,
        target,
        headers,
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

fn answer(mut stream: &TcpStream, status: u16, extra: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let Some((method, target, headers, body)) = read_request(&stream) else {
        return;
    };
    let (fault, recorded_before) = {
        let mut s = state.lock().unwrap();
        let n = s.seen.iter().filter(|x| x.method == method).count() + 1;
        let fault = s
            .faults
            .iter()
            .find(|(m, k, _)| *m == method && *k == n)
            .map(|f| f.2);
        let recorded_before = (method == "POST" && target == "/orders")
            .then(|| s.db.as_deref().is_some_and(unanswered_in_record));
        s.seen.push(Seen {
            method: method.clone(),
            target: target.clone(),
            headers,
            body: body.clone(),
            recorded_before,
        });
        (fault, recorded_before)
    };
    let _ = recorded_before;
    match fault {
        Some(Fault::TooMany(secs)) => {
            return answer(&stream, 429, &format!("retry-after: {secs}\r\n"), "{}");
        }
        Some(Fault::Error) => return answer(&stream, 500, "", "{\"error\":\"boom\"}"),
        _ => {}
    }
    let reply = route(state, &method, &target, &body);
    match fault {
        Some(Fault::Stall(d)) => {
            std::thread::sleep(d);
            return;
        }
        Some(Fault::Slow(d)) => std::thread::sleep(d),
        _ => {}
    }
    answer(&stream, reply.0, "", &reply.1);
}

fn route(state: &Mutex<State>, method: &str, target: &str, body: &str) -> (u16, String) {
    let mut s = state.lock().unwrap();
    match (method, target) {
        ("POST", "/token") => (
            200,
            format!("{{\"access_token\":\"{TOKEN}\",\"expires_in\":3600}}"),
        ),
        ("POST", "/orders") => {
            let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
            let reference = v["reference"].as_str().unwrap_or_default().to_string();
            let id = format!("ORD-{}", s.orders.len() + 1);
            s.orders.push((id.clone(), reference, body.to_string()));
            (201, format!("{{\"id\":\"{id}\"}}"))
        }
        ("GET", t) if t.starts_with("/orders?reference=") => {
            let reference = t.trim_start_matches("/orders?reference=");
            let found: Vec<String> = s
                .orders
                .iter()
                .filter(|o| o.1 == reference)
                .map(|o| format!("{{\"id\":\"{}\"}}", o.0))
                .collect();
            (200, format!("{{\"orders\":[{}]}}", found.join(",")))
        }
        ("GET", t) if t.starts_with("/orders/") => {
            let id = t.trim_start_matches("/orders/");
            match s.orders.iter().find(|o| o.0 == id) {
                Some(o) => (200, o.2.clone()),
                None => (404, "{}".into()),
            }
        }
        _ => (404, "{}".into()),
    }
}

/// A record with Q-1001 accepted and its customer linked to the stub's company.
struct Setup {
    scratch: Scratch,
    plugins: Scratch,
}

impl Setup {
    fn new(name: &str) -> Setup {
        let scratch = Scratch::new(&format!("push-{name}"));
        std::fs::create_dir_all(&scratch).unwrap();
        let plugins = plugin_dir(
            &format!("push-{name}-plugins"),
            &[("fault_plugin_pushing", "stubvendor")],
        );
        let s = Setup { scratch, plugins };
        let quote = rules_dir().join("quotes/q1001-dental-practice.yaml");
        let rules = rules_dir();
        let out = s.tenor(
            &[
                "accept",
                quote.to_str().unwrap(),
                "--no-plugins",
                "--rules",
                rules.to_str().unwrap(),
            ],
            &[],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let set = format!("stubvendor.company={COMPANY}");
        let out = s.tenor(&["link", "CUST-0042", "--set", &set], &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        s
    }

    fn db(&self) -> PathBuf {
        self.scratch.join("tenor.db")
    }

    fn command(&self, args: &[&str], env: &[(&str, String)]) -> Command {
        let mut c = Command::new(tenor_binary());
        c.arg("--db").arg(self.db()).args(args);
        c.env("TENOR_PLUGIN_PATH", self.plugins.path());
        c.env("TENOR_HTTP_BACKOFF_MS", "10");
        for (k, v) in env {
            c.env(k, v);
        }
        c.stdin(Stdio::null());
        c
    }

    fn tenor(&self, args: &[&str], env: &[(&str, String)]) -> Output {
        self.command(args, env).output().unwrap()
    }

    fn push(&self, stub: &Stub, extra: &[(&str, String)]) -> Output {
        let mut env = vendor_env(stub);
        env.extend(extra.iter().cloned());
        self.tenor(&["push", "Q-1001", "--only", "stubvendor"], &env)
    }
}

fn vendor_env(stub: &Stub) -> Vec<(&'static str, String)> {
    vec![
        ("TENOR_STUBVENDOR_URL", stub.url.clone()),
        ("TENOR_STUBVENDOR_TOKEN_URL", format!("{}/token", stub.url)),
        ("TENOR_STUBVENDOR_CLIENT_ID", "tenor-tests".into()),
        ("TENOR_STUBVENDOR_CLIENT_SECRET", SECRET.into()),
    ]
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_push_records_each_request_before_sending_it_orders_once_and_keeps_no_secret() {
    let s = Setup::new("once");
    let stub = Stub::start(Vec::new(), Some(&s.db()));
    let out = s.push(&stub, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let orders = stub.orders();
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0].1, "PO-Q-1001-pax8");
    assert!(
        orders[0].2.contains(COMPANY),
        "the link reached the plugin: {}",
        orders[0].2
    );
    let posts: Vec<Seen> = stub
        .seen()
        .into_iter()
        .filter(|x| x.target == "/orders")
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].recorded_before,
        Some(true),
        "the request was in the record first"
    );
    assert!(
        posts[0]
            .headers
            .contains(&format!("authorization: Bearer {TOKEN}")),
        "{}",
        posts[0].headers
    );
    let token = stub
        .seen()
        .into_iter()
        .find(|x| x.target == "/token")
        .unwrap();
    assert!(
        token.body.contains(SECRET),
        "the token request carries the secret"
    );
    // A rerun sends nothing.
    let before = stub.seen().len();
    let again = s.push(&stub, &[]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("pushed before; nothing sent"));
    assert_eq!(stub.seen().len(), before, "a completed push sends nothing");
    // Neither the secret nor the token is anywhere in the record's files.
    for f in std::fs::read_dir(&s.scratch).unwrap().flatten() {
        let bytes = std::fs::read(f.path()).unwrap();
        for secret in [SECRET, TOKEN] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds {secret}",
                f.path().display()
            );
        }
    }
    let conn = rusqlite::Connection::open(s.db()).unwrap();
    let id: String = conn
        .query_row("SELECT id FROM vendor_refs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(id, orders[0].0);
}

#[test]
fn a_429_is_retried_after_its_retry_after() {
    let s = Setup::new("429");
    let stub = Stub::start(vec![("POST", 2, Fault::TooMany(1))], None);
    let started = Instant::now();
    let out = s.push(&stub, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(stub.count("POST", "/orders"), 2, "{:?}", stub.seen());
    assert_eq!(stub.orders().len(), 1);
}

#[test]
fn a_500_on_a_create_makes_the_plugin_look_up_and_a_500_on_a_read_is_retried() {
    let s = Setup::new("500");
    // POST 1 is the token; POST 2 the order (500, nothing made); GET 1 the lookup (500,
    // retried); GET 2 finds nothing; POST 3 orders.
    let stub = Stub::start(
        vec![("POST", 2, Fault::Error), ("GET", 1, Fault::Error)],
        None,
    );
    let out = s.push(&stub, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(stub.count("GET", "/orders?reference="), 2);
    assert_eq!(stub.count("POST", "/orders"), 2);
    assert_eq!(stub.orders().len(), 1);
}

#[test]
fn a_create_that_timed_out_is_not_sent_again_before_the_plugin_looks_up() {
    let s = Setup::new("timeout");
    let stub = Stub::start(
        vec![("POST", 2, Fault::Stall(Duration::from_secs(3)))],
        None,
    );
    let out = s.push(&stub, &[("TENOR_HTTP_TIMEOUT", "1".into())]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(stub.count("POST", "/orders"), 1, "{:?}", stub.seen());
    assert_eq!(stub.count("GET", "/orders?reference="), 1);
    assert_eq!(stub.orders().len(), 1);
    let conn = rusqlite::Connection::open(s.db()).unwrap();
    let unanswered: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM exchanges WHERE response IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        unanswered, 1,
        "the timed-out create stays without an answer"
    );
}

#[test]
fn a_dry_run_sends_nothing_and_shows_the_request_without_secrets() {
    let s = Setup::new("dry");
    let stub = Stub::start(Vec::new(), None);
    let mut env = vendor_env(&stub);
    env.push(("TENOR_HTTP_BACKOFF_MS", "10".into()));
    let out = s.tenor(&["push", "Q-1001", "--dry-run"], &env);
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("dry run: nothing is sent"), "{shown}");
    assert!(
        shown.contains(&format!("POST {}/orders", stub.url)),
        "{shown}"
    );
    assert!(
        shown.contains("\"reference\": \"PO-Q-1001-pax8\""),
        "{shown}"
    );
    assert!(shown.contains("authorization: Bearer [redacted"), "{shown}");
    assert!(!shown.contains(SECRET));
    assert_eq!(
        stub.seen().len(),
        0,
        "a dry run sends nothing, not even for a token"
    );
}

#[test]
fn a_pull_reads_the_pushed_order_back_into_the_record() {
    let s = Setup::new("pull");
    let stub = Stub::start(Vec::new(), None);
    assert!(s.push(&stub, &[]).status.success());
    let out = s.tenor(&["pull", "--only", "stubvendor"], &vendor_env(&stub));
    assert!(out.status.success(), "{}", text(&out));
    let conn = rusqlite::Connection::open(s.db()).unwrap();
    let rows: Vec<String> = conn
        .prepare("SELECT body FROM pulled WHERE kind = 'order' ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let sent: serde_json::Value = serde_json::from_str(&stub.orders()[0].2).unwrap();
    assert_eq!(rows.len(), sent["lines"].as_array().unwrap().len());
    let first: serde_json::Value = serde_json::from_str(&rows[0]).unwrap();
    assert_eq!(first["part_number"], sent["lines"][0]["part"]);
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn a_push_killed_at_any_moment_and_run_again_orders_exactly_once() {
    let runs = env_num("TENOR_PUSH_KILLS", 3);
    let mut seed = env_num("TENOR_PUSH_SEED", 0x9e37_79b9_7f4a_7c15) | 1;
    let setup = Setup::new("kill");
    let base = std::fs::read(setup.db()).unwrap();
    let mut killed_mid = 0;
    for run in 0..runs {
        let _ = std::fs::remove_file(setup.db().with_extension("db-wal"));
        let _ = std::fs::remove_file(setup.db().with_extension("db-shm"));
        std::fs::write(setup.db(), &base).unwrap();
        let stub = Stub::start(
            vec![("POST", 2, Fault::Slow(Duration::from_millis(300)))],
            None,
        );
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let moment = Duration::from_millis(seed % 900);
        let mut child = setup
            .command(
                &["push", "Q-1001", "--only", "stubvendor"],
                &vendor_env(&stub),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(moment);
        if child.try_wait().unwrap().is_none() {
            killed_mid += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let out = setup.push(&stub, &[]);
        assert!(
            out.status.success(),
            "run {run} ({moment:?}): {}",
            text(&out)
        );
        assert_eq!(
            stub.orders().len(),
            1,
            "run {run}, killed at {moment:?}: {:?}",
            stub.seen()
        );
    }
    eprintln!("{runs} runs, {killed_mid} killed before the push ended");
}

#[test]
fn links_import_list_and_refuse_bad_values_each_change_an_event() {
    let scratch = Scratch::new("push-links");
    std::fs::create_dir_all(&scratch).unwrap();
    let db = scratch.join("tenor.db");
    let tenor = |args: &[&str]| {
        Command::new(tenor_binary())
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .unwrap()
    };
    let file = rules_dir().join("links.yaml");
    let out = tenor(&["link", "--import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let out = tenor(&["link", "CUST-0042", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], "tenor.links/1");
    let given = std::fs::read_to_string(&file).unwrap();
    let expected = given
        .lines()
        .filter(|l| l.contains("customer: CUST-0042"))
        .count();
    assert_eq!(doc["links"].as_array().unwrap().len(), expected);
    let bad = tenor(&["link", "CUST-0042", "--pax8", "company=42"]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("uuid"));
    let out = tenor(&[
        "link",
        "CUST-0042",
        "--connectwise",
        "company=999",
        "--unset",
        "ingram.end_user_id",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let events: i64 = conn
        .query_row("SELECT COUNT(*) FROM link_events", [], |r| r.get(0))
        .unwrap();
    let imported = given.lines().filter(|l| l.contains("customer:")).count() as i64;
    assert_eq!(
        events,
        imported + 2,
        "every change is an event; the refused one none"
    );
    let old: String = conn
        .query_row(
            "SELECT old_value FROM link_events WHERE new_value = '999'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, "250");
}

#[test]
fn a_link_for_every_customer_is_given_to_each_and_the_customers_own_overrides_it() {
    let scratch = Scratch::dir("push-every-customer");
    let db = scratch.join("tenor.db");
    let tenor = |args: &[&str]| {
        let out = Command::new(tenor_binary())
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    };
    tenor(&["link", "*", "--tdsynnex", "account=9100"]);
    tenor(&["link", "*", "--ingram", "unit_price=request"]);
    tenor(&["link", "C-1", "--tdsynnex", "customer=700113"]);
    tenor(&[
        "link",
        "C-2",
        "--tdsynnex",
        "customer=700114",
        "--tdsynnex",
        "account=9200",
    ]);
    let r = tenor_core::record::Record::open(&db).unwrap();
    let pairs = |c: &str, p: &str| {
        r.accounts(c, p)
            .unwrap()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pairs("C-1", "tdsynnex"),
        ["account=9100", "customer=700113"]
    );
    assert_eq!(
        pairs("C-2", "tdsynnex"),
        ["account=9200", "customer=700114"]
    );
    assert_eq!(pairs("C-3", "tdsynnex"), ["account=9100"]);
    assert_eq!(pairs("C-1", "ingram"), ["unit_price=request"]);
    assert!(pairs("C-1", "pax8").is_empty());
}
