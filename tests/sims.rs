//! The vendor simulators as the end-to-end tests use them: the four started on 127.0.0.1 with
//! the example state, a record with the example customers linked, the first-party connectors
//! in a plugin directory, and `tenor` run as a child process with the `TENOR_<PLUGIN>_*`
//! variables that point each connector at its simulator (a process each, so that parallel tests
//! never share an environment).

use crate::scratch::{FIRST_PARTY, Scratch, arg, link_customers, plugin_dir};
use std::path::{Path, PathBuf};
use std::process::Command;
use tenor_simulators::{Received, Simulators, state::Credentials};

/// The `tenor` command line the runs use, found once per test process: the package's
/// `tenor-cli` (the same `main`), which cargo builds beside the integration tests, else the
/// `tenor` binary ([`crate::tenor_binary`] runs `cargo build` on each call, and its feature set
/// differs from the tests' build, so it relinks: seconds per run).
fn binary() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test binary's path");
        let cli = exe
            .parent()
            .and_then(Path::parent)
            .map(|d| d.join(format!("tenor-cli{}", std::env::consts::EXE_SUFFIX)));
        match cli {
            Some(c) if c.exists() => c,
            _ => crate::tenor_binary(),
        }
    })
}

/// The variable that fixes Tenor's clock.
const TENOR_NOW: &str = "TENOR_NOW";

/// Q-1001's start day (rules/quotes/q1001-dental-practice.yaml).
fn q1001_start() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date")
}

/// Noon of `day` as `TENOR_NOW` takes it (noon: far from either end of the day).
fn now(day: chrono::NaiveDate) -> String {
    format!("{day}T12:00:00Z")
}

/// Simulators, a linked record and the connectors, for one test.
pub struct Vendors {
    /// The running simulators.
    pub sims: Simulators,
    /// The test's scratch directory (its record is `dir.db()`).
    pub dir: Scratch,
    plugins: Scratch,
    extra_env: Vec<(String, String)>,
}

/// What one `tenor` run did.
#[derive(Debug)]
pub struct Run {
    /// True when it exited 0.
    pub ok: bool,
    /// Its exit code (None when killed).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Vendors {
    /// Starts the simulators with the example state and links the example customers.
    pub fn start(name: &str) -> Vendors {
        let sims = Simulators::start().expect("the simulators start");
        let dir = Scratch::dir(&format!("sims-{name}"));
        link_customers(&dir.db());
        let plugins = plugin_dir(&format!("sims-{name}-plugins"), FIRST_PARTY);
        let today = sims.with_world(|w| w.today());
        let mut v = Vendors {
            sims,
            dir,
            plugins,
            extra_env: Vec::new(),
        };
        // Tenor's clock is the simulators' day, so that what `tenor push` holds for its start
        // day and what the vendors start agree.
        v.set_env(TENOR_NOW, &now(today));
        v
    }

    /// Moves the simulators' day and Tenor's clock (`TENOR_NOW`) to `day` together.
    pub fn set_today(&mut self, day: chrono::NaiveDate) {
        self.sims.set_today(day);
        self.set_env(TENOR_NOW, &now(day));
    }

    /// The record.
    pub fn db(&self) -> PathBuf {
        self.dir.db()
    }

    /// The plugin directory.
    pub fn plugins(&self) -> &Path {
        &self.plugins
    }

    /// Sets (or overrides) an environment variable of every later run.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.extra_env.retain(|(n, _)| n != name);
        self.extra_env.push((name.to_string(), value.to_string()));
    }

    /// The variables that point each connector at its simulator, with the credentials the
    /// simulators accept.
    pub fn env(&self) -> Vec<(String, String)> {
        let u = self.sims.urls();
        let c = Credentials::default();
        let mut v: Vec<(String, String)> = [
            ("TENOR_PAX8_URL", u.pax8.clone()),
            ("TENOR_PAX8_TOKEN_URL", format!("{}/token", u.pax8)),
            ("TENOR_PAX8_CLIENT_ID", c.pax8_client_id),
            ("TENOR_PAX8_CLIENT_SECRET", c.pax8_client_secret),
            ("TENOR_PAX8_AUDIENCE", "https://api.pax8.com".to_string()),
            ("TENOR_INGRAM_URL", u.ingram.clone()),
            (
                "TENOR_INGRAM_TOKEN_URL",
                format!("{}/oauth/oauth20/token", u.ingram),
            ),
            ("TENOR_INGRAM_CLIENT_ID", c.ingram_client_id),
            ("TENOR_INGRAM_CLIENT_SECRET", c.ingram_client_secret),
            ("TENOR_INGRAM_CUSTOMER_NUMBER", "20-222222".to_string()),
            ("TENOR_INGRAM_COUNTRY_CODE", "US".to_string()),
            ("TENOR_INGRAM_SENDER_ID", "tenor-tests".to_string()),
            ("TENOR_INGRAM_APPLICATION_ID", "tenor-tests".to_string()),
            // StreamOne Ion's v3 paths sit under `/api/v3` (the SDK's `{base_url}/api/v3/…`);
            // the connector's paths start at `/accounts/…`.
            ("TENOR_TDSYNNEX_URL", format!("{}/api/v3", u.tdsynnex)),
            (
                "TENOR_TDSYNNEX_TOKEN_URL",
                format!("{}/oauth/token", u.tdsynnex),
            ),
            ("TENOR_TDSYNNEX_CLIENT_ID", "tenor".to_string()),
            ("TENOR_TDSYNNEX_REFRESH_TOKEN", c.tdsynnex_refresh_token),
            ("TENOR_CONNECTWISE_URL", u.connectwise.clone()),
            ("TENOR_CONNECTWISE_COMPANY", c.connectwise_company),
            ("TENOR_CONNECTWISE_PUBLIC_KEY", c.connectwise_public_key),
            ("TENOR_CONNECTWISE_PRIVATE_KEY", c.connectwise_private_key),
            ("TENOR_CONNECTWISE_CLIENT_ID", c.connectwise_client_id),
            // Short waits: a test must not sleep through a simulated Retry-After of minutes.
            ("TENOR_HTTP_TIMEOUT", "5".to_string()),
            ("TENOR_HTTP_BACKOFF_MS", "20".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (n, val) in &self.extra_env {
            v.retain(|(k, _)| k != n);
            v.push((n.clone(), val.clone()));
        }
        v
    }

    /// `tenor --db DB ARGS…` as a child process with [`Vendors::env`], not yet started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(binary());
        cmd.arg("--db").arg(self.db()).args(args);
        cmd.env("TENOR_PLUGIN_PATH", self.plugins());
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `tenor --db DB ARGS…` to its end.
    pub fn tenor(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().expect("tenor runs");
        Run {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Q-1001 accepted and pushed on its start day, 2026-12-07: where the reconciliation
    /// tests' months begin.
    pub fn with_q1001_pushed(name: &str) -> Vendors {
        let mut v = Vendors::start(name);
        v.accept("q1001-dental-practice.yaml");
        v.set_today(q1001_start());
        let push = v.tenor(&["push", "Q-1001"]);
        assert!(push.ok, "{}\n{}", push.stdout, push.stderr);
        v
    }

    /// Month `m` (`YYYY-MM`) billed by the simulators on its first day (Q-1001's start day in
    /// its first month) and pulled; panics with tenor's words when the pull fails.
    pub fn bill_and_pull(&mut self, m: &str) {
        let first = chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
            .expect("a YYYY-MM month");
        self.set_today(first.max(q1001_start()));
        self.sims.bill(m).expect("the simulators bill the month");
        let pull = self.tenor(&["pull", "--month", m]);
        assert!(pull.ok, "{m}: {}", pull.stderr);
    }

    /// Accepts an example quote (`rules/quotes/NAME`) with the example rules, its documents
    /// exported under the scratch directory; panics with tenor's words when it fails.
    pub fn accept(&self, quote: &str) -> Run {
        let q = crate::rules_dir().join("quotes").join(quote);
        let out = self.dir.join(format!("out-{quote}"));
        let rules = crate::rules_dir();
        let run = self.tenor(&[
            "accept",
            arg(&q),
            "--rules",
            arg(&rules),
            "--out",
            arg(&out),
        ]);
        assert!(run.ok, "accept {quote}:\n{}", run.stderr);
        run
    }

    /// Accepts a quote file with another rule set (a directory), its documents exported under
    /// the scratch directory; panics with tenor's words when it fails.
    pub fn accept_with(&self, quote: &Path, rules: &Path) -> Run {
        let name = quote
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let out = self.dir.join(format!("out-{name}"));
        let run = self.tenor(&[
            "accept",
            arg(quote),
            "--rules",
            arg(rules),
            "--out",
            arg(&out),
        ]);
        assert!(run.ok, "accept {name}:\n{}", run.stderr);
        run
    }

    /// Every request the simulators answered with a 4xx or 5xx status.
    pub fn refused(&self) -> Vec<Received> {
        self.sims
            .received()
            .into_iter()
            .filter(|r| r.status >= 400)
            .collect()
    }
}
