//! The durable record of accepted quotes: an embedded SQLite database holding every revision
//! of every quote (the quote as written, the rule files, the priced result), every document
//! made from it (Tenor's and the plugins'), the seat changes applied since, and a log of
//! events (accept, revise, change, export).
//!
//! Every write is one immediate transaction (`BEGIN IMMEDIATE`): it takes the write lock
//! before reading, so two processes never decide on the same state, and a process killed
//! part-way leaves the database as it was before. The database runs in WAL mode with foreign
//! keys on and a busy timeout; its schema is checked (and migrated) when it is opened, see
//! [`schema`]. The record knows nothing of the command line: it returns typed values and
//! [`RecordError`]s.

pub mod accepted;
pub mod bill;
pub mod by_customer;
pub mod change;
pub mod chunks;
pub mod clock;
pub mod exchange;
pub mod fixes;
pub mod git;
pub mod links;
pub mod read;
pub mod reconciled;
pub mod schema;
pub mod serials;
pub mod shares;
pub mod write;

use rusqlite::{Connection, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;

pub use exchange::{Conversation, NewConversation, PulledRow};
pub use links::{EVERY_CUSTOMER, Link, LinkChange, LinkOutcome};
pub use read::{ChangeInfo, Event, RevisionInfo, StoredDocument};
pub use serials::{LineSerial, RecordedSerial, SerialBatch, SerialKey, SerialsRecorded};
pub use write::{Accepted, Document, NewRevision, PricedBody, StreamedDocument};

/// The environment variable naming the database when `--db` is not given.
pub const TENOR_DB: &str = "TENOR_DB";

/// How long a process waits for another's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// How many times a transaction is started again when SQLite still says the database is busy
/// after the timeout (or at once, when waiting could deadlock).
const BUSY_RETRIES: u32 = 5;

/// Why the record could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The database file could not be opened or set up.
    #[error("cannot open the record {path}: {message}")]
    Open {
        /// The database file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The database was written by a newer Tenor.
    #[error(
        "the record {path} has schema version {found}, newer than this tenor knows ({known}); use a newer tenor"
    )]
    TooNew {
        /// The database file.
        path: String,
        /// Its newest migration.
        found: u32,
        /// This build's newest.
        known: u32,
    },
    /// A migration applied to the database is not this build's.
    #[error(
        "the record {path} applied a migration {version} that differs from this tenor's (sha256 {found}, expected {expected})"
    )]
    Altered {
        /// The database file.
        path: String,
        /// The migration.
        version: u32,
        /// The hash recorded in the database.
        found: String,
        /// This build's hash of its SQL.
        expected: String,
    },
    /// A different quote or rules was already accepted under this quote id.
    #[error(
        "quote `{quote}` was accepted before (revision {revision}) from a different quote or rules"
    )]
    Changed {
        /// The quote id.
        quote: String,
        /// Its latest revision.
        revision: u32,
    },
    /// No quote of this id is recorded.
    #[error("no quote `{0}` in the record")]
    NoQuote(String),
    /// The quote has no such revision.
    #[error("quote `{quote}` has no revision {revision}")]
    NoRevision {
        /// The quote id.
        quote: String,
        /// The revision asked for.
        revision: u32,
    },
    /// The revision's stored documents disagree with each other or with their hashes.
    #[error("{0}")]
    Inconsistent(String),
    /// `TENOR_NOW` is not a time, or the system clock is before 1970.
    #[error("{0}")]
    Clock(String),
    /// SQLite failed.
    #[error("the record: {0}")]
    Db(#[from] rusqlite::Error),
}

/// An open record.
pub struct Record {
    conn: Connection,
}

impl Record {
    /// Opens (creating when missing) the database at `path`: WAL, foreign keys on, a busy
    /// timeout, and the schema checked and migrated.
    pub fn open(path: &Path) -> Result<Record, RecordError> {
        let shown = path.display().to_string();
        let open_err = |e: rusqlite::Error| RecordError::Open {
            path: shown.clone(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| RecordError::Open {
                path: shown.clone(),
                message: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Setting WAL takes a lock of its own; retried like any write.
        let mut record = Record { conn };
        record.with_retries(|c| {
            c.pragma_update(None, "journal_mode", "WAL")?;
            c.pragma_update(None, "foreign_keys", "ON")?;
            c.pragma_update(None, "synchronous", "FULL")
        })?;
        record.immediate(|tx| schema::migrate(tx, &shown))?;
        Ok(record)
    }

    /// SQLite's own check of the file: `ok` when it is sound.
    pub fn integrity_check(&self) -> Result<String, RecordError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Runs `f` in one immediate transaction and commits it; started again (a bounded number
    /// of times) when SQLite reports the database busy.
    fn immediate<T>(
        &mut self,
        mut f: impl FnMut(&Transaction<'_>) -> Result<T, RecordError>,
    ) -> Result<T, RecordError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let mut run = |conn: &mut Connection| -> Result<T, RecordError> {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let value = f(&tx)?;
                tx.commit()?;
                Ok(value)
            };
            match run(&mut self.conn) {
                Err(RecordError::Db(e)) if is_busy(&e) && tries < BUSY_RETRIES => continue,
                other => return other,
            }
        }
    }

    /// Runs `f` on the connection, again when SQLite reports the database busy.
    fn with_retries(
        &mut self,
        f: impl Fn(&Connection) -> rusqlite::Result<()>,
    ) -> Result<(), RecordError> {
        let mut tries = 0;
        loop {
            tries += 1;
            match f(&self.conn) {
                Err(e) if is_busy(&e) && tries < BUSY_RETRIES => continue,
                other => return Ok(other?),
            }
        }
    }
}

/// True when SQLite failed because another connection holds a lock.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// SHA-256 of `bytes`, in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::files::export::hex_digest(&Sha256::digest(bytes))
}

/// Where the database is when neither `--db` nor `TENOR_DB` says: `tenor.db` in the parent
/// of the rule set's directory (beside `rules/`), or in the current directory when the rule
/// set is a bare relative name with no parent.
pub fn default_path(rules: &Path) -> std::path::PathBuf {
    let dir = if rules.is_file() {
        rules.parent().and_then(Path::parent)
    } else {
        rules.parent()
    };
    match dir {
        Some(d) if !d.as_os_str().is_empty() => d.join("tenor.db"),
        _ => std::path::PathBuf::from("tenor.db"),
    }
}
