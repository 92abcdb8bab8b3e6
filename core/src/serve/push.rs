//! `tenor serve --push`: after a customer's acceptance has committed, the accepted revision
//! is pushed to the vendors exactly as `tenor push QUOTE` pushes it ([`crate::push::plan`],
//! then [`crate::push::run`] per job, each vendor configured from its `TENOR_<PLUGIN>_*`
//! variables), and each job's outcome is appended to the shared revision's push log for
//! `/admin` and `tenor log`.
//!
//! It runs after the acceptance's transaction, on its own thread: nothing it does can undo or
//! delay the acceptance, and a push that fails or is cut short (the server killed) is resumed
//! by `tenor push QUOTE`, which finds every exchange so far in the record.

use crate::host::Host;
use crate::push::{self, Outcome};
use crate::record::Record;
use crate::record::shares::PushState;
use crate::transport::{Http, SendError, Sender, config};
use std::path::PathBuf;

/// What to push: the accepted revision, and the shared revision whose log gets the outcomes.
#[derive(Clone, Debug)]
pub struct AfterAcceptance {
    /// The record's database.
    pub db: PathBuf,
    /// The plugin directory.
    pub plugins: PathBuf,
    /// The quote id.
    pub quote: String,
    /// The record revision the acceptance made.
    pub revision: u32,
    /// The shared revision the customer accepted.
    pub shared_revision: u32,
}

/// One job's outcome as recorded: its plugin, document, state and detail.
pub type Pushed = (String, String, PushState, String);

/// Pushes the accepted revision and records every outcome; returns them (also when
/// recording failed, which is reported on standard error: the push itself is in the record's
/// conversations either way).
pub fn push_accepted(a: &AfterAcceptance) -> Vec<Pushed> {
    let outcomes = match Record::open(&a.db) {
        Ok(mut record) => {
            // First, so that a push cut short (the server killed) still shows on `/admin`.
            if let Err(e) = record.record_share_push(
                &a.quote,
                a.shared_revision,
                "",
                "",
                PushState::Started,
                "pushing to the vendors",
            ) {
                eprintln!(
                    "tenor serve: {}: the push start was not recorded: {e}",
                    a.quote
                );
            }
            run_all(&mut record, a)
        }
        Err(e) => vec![failed(format!("the record could not be opened: {e}"))],
    };
    match Record::open(&a.db) {
        Ok(mut record) => {
            for (plugin, document, state, detail) in &outcomes {
                if let Err(e) = record.record_share_push(
                    &a.quote,
                    a.shared_revision,
                    plugin,
                    document,
                    *state,
                    detail,
                ) {
                    eprintln!(
                        "tenor serve: {}: the push outcome was not recorded: {e}",
                        a.quote
                    );
                }
            }
        }
        Err(e) => eprintln!("tenor serve: {}: push outcomes not recorded: {e}", a.quote),
    }
    outcomes
}

/// A failure of the whole push (nothing could be planned).
fn failed(why: String) -> Pushed {
    (String::new(), String::new(), PushState::Failed, why)
}

/// Plans the push of the revision and runs each job, as `tenor push QUOTE` does.
// Long: the CLI's push loop without its rendering: load, plan, then one arm per outcome,
// each turned into the words `/admin` shows.
fn run_all(record: &mut Record, a: &AfterAcceptance) -> Vec<Pushed> {
    if let Err(why) = crate::host::check_dir(&a.plugins) {
        return vec![failed(why)];
    }
    let host = Host::load_dir(&a.plugins);
    let mut out: Vec<Pushed> = host
        .failures
        .iter()
        .map(|f| failed(format!("plugin {}: {}", f.path.display(), f.message)))
        .collect();
    let jobs = match push::plan(record, &host, &a.quote, a.revision, None) {
        Ok((jobs, _notes)) => jobs,
        Err(e) => {
            out.push(failed(format!("the push could not be planned: {e}")));
            return out;
        }
    };
    if jobs.is_empty() {
        out.push(failed(
            "no loaded plugin pushes this quote's documents".to_string(),
        ));
    }
    for (plugin, job) in jobs {
        let what = job.conversation.document.clone();
        let Some(p) = host.get(&plugin) else {
            out.push((plugin, what, PushState::Failed, "not loaded".into()));
            continue;
        };
        let mut sender = match config::from_env(&plugin) {
            Ok(c) => Http::new(c),
            Err(SendError::Config(m) | SendError::NotSent(m) | SendError::MaybeSent(m)) => {
                out.push((plugin, what, PushState::Failed, m));
                continue;
            }
        };
        let (state, detail) = match push::run(record, p, job, Some(&mut sender as &mut dyn Sender))
        {
            Ok(Outcome::AlreadyDone) => (PushState::Done, "pushed before".to_string()),
            Ok(Outcome::Done { refs, .. }) => (
                PushState::Done,
                refs.iter()
                    .map(|r| format!("{} {}", r.kind, r.id))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Ok(Outcome::Waiting { until, why, .. }) => {
                (PushState::Waiting, format!("until {until}: {why}"))
            }
            Ok(Outcome::Held { after }) => (PushState::Held, format!("until {after} is pushed")),
            // Only a dry run shows a request instead of sending it.
            Ok(Outcome::WouldSend(_)) => (PushState::Failed, "nothing was sent".into()),
            Err(e) => (
                PushState::Failed,
                format!("{e}; `tenor push {}` resumes it", a.quote),
            ),
        };
        out.push((plugin, what, state, detail));
    }
    out
}
