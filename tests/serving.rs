//! `tenor serve` as the serve, browser and load tests run it: a child process on a free
//! loopback port, its address read from the first line it prints, killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `tenor serve`.
pub struct Server {
    /// The process.
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// `CLI --db DB serve --listen 127.0.0.1:0 EXTRA…` on the real clock (no `TENOR_NOW`).
    pub fn command(cli: &str, db: &Path, extra: &[&str]) -> Command {
        let mut cmd = Command::new(cli);
        cmd.arg("--db")
            .arg(db)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("TENOR_NOW");
        cmd
    }

    /// Starts `cmd` (a `tenor serve`) and waits for the address it prints.
    pub fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tenor serve starts");
        let mut line = String::new();
        let read = child
            .stdout
            .take()
            .map(|out| BufReader::new(out).read_line(&mut line));
        let server = Server {
            child,
            base: line.trim().to_string(),
        };
        assert!(
            matches!(read, Some(Ok(_))) && server.base.starts_with("http://127.0.0.1:"),
            "tenor serve printed `{line}`"
        );
        server
    }

    /// Kills it at once (SIGKILL on Unix), as a crash would, and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
