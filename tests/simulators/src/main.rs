//! `tenor-simulators [--state FILE]`: starts the four vendor simulators, prints their base
//! URLs as one JSON line, and serves until the process is stopped.

use std::io::Write;
use std::path::PathBuf;

use tenor_simulators::{Simulators, example_state, load_state};

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut state_file: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--state" => {
                state_file = Some(
                    args.next()
                        .map(PathBuf::from)
                        .ok_or("--state needs a FILE")?,
                );
            }
            "--help" | "-h" => {
                println!(
                    "usage: tenor-simulators [--state FILE]  (JSON or YAML; default: the example state)"
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    let state = match &state_file {
        Some(p) => load_state(p),
        None => example_state(),
    }
    .map_err(|e| e.to_string())?;
    let sims = Simulators::with_state(state).map_err(|e| e.to_string())?;
    let line = serde_json::to_string(sims.urls()).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    drop(out);
    // Serve until the process is stopped (a signal ends it; the servers need no cleanup).
    let _keep = sims;
    loop {
        std::thread::park();
    }
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tenor-simulators: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
