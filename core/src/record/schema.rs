//! The record's schema as numbered migrations, applied in order when the database is opened and
//! checked against what this build knows: a database written by a newer Tenor, or one whose
//! applied migration differs from this build's, is refused rather than guessed at.
//!
//! The SQL is portable (no SQLite-only types or `AUTOINCREMENT`: keys are natural and
//! composite, sequence numbers are given by Tenor), so the same schema can move to Postgres
//! (`BLOB` becomes `BYTEA`).

use super::{RecordError, clock, sha256_hex};
use rusqlite::{OptionalExtension, Transaction};

/// One migration: its version (from 1, without gaps) and its SQL.
struct Migration {
    version: u32,
    sql: &'static str,
}

/// Every migration this build knows, oldest first. Never edit one that has shipped: add
/// another. `documents.change_seq` is 0 for what acceptance made and `n` for what change `n`
/// made; a revision's current documents are, per path, those of the highest `change_seq`.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: "
CREATE TABLE quotes (
    quote TEXT NOT NULL PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE revisions (
    quote TEXT NOT NULL REFERENCES quotes (quote),
    revision INTEGER NOT NULL,
    quote_file TEXT NOT NULL,
    quote_text TEXT NOT NULL,
    quote_sha256 TEXT NOT NULL,
    rules_sha256 TEXT NOT NULL,
    rules_git TEXT,
    fingerprint TEXT NOT NULL,
    priced TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    PRIMARY KEY (quote, revision)
);
CREATE TABLE rule_files (
    quote TEXT NOT NULL,
    revision INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (quote, revision, path),
    FOREIGN KEY (quote, revision) REFERENCES revisions (quote, revision)
);
CREATE TABLE changes (
    quote TEXT NOT NULL,
    revision INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    change_order TEXT NOT NULL,
    request TEXT NOT NULL,
    body BLOB NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (quote, revision, seq),
    UNIQUE (quote, revision, change_order),
    FOREIGN KEY (quote, revision) REFERENCES revisions (quote, revision)
);
CREATE TABLE documents (
    quote TEXT NOT NULL,
    revision INTEGER NOT NULL,
    change_seq INTEGER NOT NULL,
    path TEXT NOT NULL,
    owner TEXT NOT NULL,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (quote, revision, change_seq, path),
    FOREIGN KEY (quote, revision) REFERENCES revisions (quote, revision)
);
CREATE TABLE events (
    quote TEXT NOT NULL REFERENCES quotes (quote),
    seq INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('accept', 'revise', 'change', 'export')),
    detail TEXT NOT NULL,
    PRIMARY KEY (quote, seq),
    FOREIGN KEY (quote, revision) REFERENCES revisions (quote, revision)
);
",
    },
    Migration {
        version: 2,
        sql: MIGRATION_2,
    },
    Migration {
        version: 3,
        sql: MIGRATION_3,
    },
    Migration {
        version: 4,
        sql: MIGRATION_4,
    },
    Migration {
        version: 5,
        sql: MIGRATION_5,
    },
    Migration {
        version: 6,
        sql: MIGRATION_6,
    },
    Migration {
        version: 7,
        sql: MIGRATION_7,
    },
    Migration {
        version: 8,
        sql: MIGRATION_8,
    },
    Migration {
        version: 9,
        sql: MIGRATION_9,
    },
];

/// Customer links (the customer's ids at each plugin's vendor) with their history, and every
/// push and pull: its conversation's exchanges (the request committed before it is sent, the
/// response after), the vendor ids a push stored, and what a pull read. `exchanges.response`
/// is NULL while a request is on its way, and stays NULL when the run was killed then.
const MIGRATION_2: &str = "
CREATE TABLE customer_links (
    customer TEXT NOT NULL,
    plugin TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (customer, plugin, key)
);
CREATE TABLE link_events (
    seq INTEGER NOT NULL PRIMARY KEY,
    customer TEXT NOT NULL,
    plugin TEXT NOT NULL,
    key TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    at TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE TABLE conversations (
    id TEXT NOT NULL PRIMARY KEY,
    direction TEXT NOT NULL CHECK (direction IN ('push', 'pull')),
    plugin TEXT NOT NULL,
    customer TEXT NOT NULL,
    quote TEXT,
    revision INTEGER,
    document TEXT NOT NULL,
    month TEXT,
    state TEXT NOT NULL CHECK (state IN ('open', 'done', 'failed')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    error TEXT
);
CREATE TABLE exchanges (
    conversation TEXT NOT NULL REFERENCES conversations (id),
    seq INTEGER NOT NULL,
    request TEXT NOT NULL,
    response TEXT,
    sent_at TEXT NOT NULL,
    answered_at TEXT,
    PRIMARY KEY (conversation, seq)
);
CREATE TABLE vendor_refs (
    conversation TEXT NOT NULL REFERENCES conversations (id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    line INTEGER,
    PRIMARY KEY (conversation, seq)
);
CREATE TABLE pulled (
    conversation TEXT NOT NULL REFERENCES conversations (id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('order', 'subscription', 'invoice', 'serial')),
    month TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (conversation, seq)
);
";

/// Hardware serial numbers a distributor reported (on its invoices), each recorded once
/// against the sales-order (quote) line it was bought for, keyed by the distributor's plugin,
/// part number and serial (one device); and which PSA push carried each one (claimed when the
/// push's conversation is opened, so a serial is sent by one conversation only).
const MIGRATION_3: &str = "
CREATE TABLE serials (
    plugin TEXT NOT NULL,
    part_number TEXT NOT NULL,
    serial TEXT NOT NULL,
    seq INTEGER NOT NULL UNIQUE,
    quote TEXT NOT NULL,
    revision INTEGER NOT NULL,
    line INTEGER NOT NULL,
    purchase_order TEXT NOT NULL,
    po_line INTEGER NOT NULL,
    pulled_in TEXT NOT NULL REFERENCES conversations (id),
    PRIMARY KEY (plugin, part_number, serial),
    FOREIGN KEY (quote, revision) REFERENCES revisions (quote, revision)
);
CREATE TABLE serial_pushes (
    psa TEXT NOT NULL,
    plugin TEXT NOT NULL,
    part_number TEXT NOT NULL,
    serial TEXT NOT NULL,
    conversation TEXT NOT NULL REFERENCES conversations (id),
    PRIMARY KEY (psa, plugin, part_number, serial),
    FOREIGN KEY (plugin, part_number, serial) REFERENCES serials (plugin, part_number, serial)
);
";

/// Quotes shared with the customer (`tenor share`, `tenor serve`): the record's signing key
/// (one row), each shared revision of a quote with the exact quote and rule texts signed (so
/// the page shows what was signed), what the customer did with a link (viewed, accepted,
/// declined: who, from where, when, against which hash), and each shared revision's one
/// decision, whose primary key makes a second acceptance of the same revision impossible.
const MIGRATION_4: &str = "
CREATE TABLE share_key (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    key BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE shares (
    quote TEXT NOT NULL,
    revision INTEGER NOT NULL,
    quote_file TEXT NOT NULL,
    quote_text TEXT NOT NULL,
    rules TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    PRIMARY KEY (quote, revision)
);
CREATE TABLE share_events (
    quote TEXT NOT NULL,
    revision INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('view', 'accept', 'decline')),
    at TEXT NOT NULL,
    name TEXT,
    email TEXT,
    address TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    PRIMARY KEY (quote, revision, seq),
    FOREIGN KEY (quote, revision) REFERENCES shares (quote, revision)
);
CREATE TABLE share_decisions (
    quote TEXT NOT NULL,
    revision INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('accept', 'decline')),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    address TEXT NOT NULL,
    at TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    accepted_revision INTEGER,
    PRIMARY KEY (quote, revision),
    FOREIGN KEY (quote, revision) REFERENCES shares (quote, revision)
);
";

/// What each push `tenor serve --push` ran after a customer's acceptance came to, appended
/// per push job (`plugin`, `document`; both empty for the `started` row written before the push
/// begins, which alone says a push was cut short, and when it could not be planned at all),
/// so the MSP sees on `/admin` which vendor holds the order, which waits for a start day and
/// which failed and why. The conversations themselves are the push's own tables.
const MIGRATION_5: &str = "
CREATE TABLE share_pushes (
    quote TEXT NOT NULL,
    revision INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    plugin TEXT NOT NULL,
    document TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('started', 'done', 'waiting', 'held', 'failed')),
    detail TEXT NOT NULL,
    PRIMARY KEY (quote, revision, seq),
    FOREIGN KEY (quote, revision) REFERENCES shares (quote, revision)
);
";

/// Every month's reconciliation (`tenor reconcile --month`), each run kept: its document, and
/// its findings tallied per customer and class for the trend (`--since`). `scope` is the
/// customer asked for, or '' for every customer; amounts are decimal strings.
const MIGRATION_6: &str = "
CREATE TABLE reconciliations (
    month TEXT NOT NULL,
    scope TEXT NOT NULL,
    run INTEGER NOT NULL,
    at TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (month, scope, run)
);
CREATE TABLE reconciliation_tallies (
    month TEXT NOT NULL,
    scope TEXT NOT NULL,
    run INTEGER NOT NULL,
    customer TEXT NOT NULL,
    class TEXT NOT NULL,
    findings INTEGER NOT NULL,
    money_at_risk TEXT NOT NULL,
    unknown INTEGER NOT NULL,
    PRIMARY KEY (month, scope, run, customer, class),
    FOREIGN KEY (month, scope, run) REFERENCES reconciliations (month, scope, run)
);
";

/// What a month's reconciliation reads customer by customer, indexed so that each
/// customer's part is found by key instead of by scanning the whole book (which made a month
/// of 5,000 customers quadratic): the revisions by customer (the priced quote's `customer.id`,
/// which pricing copies from the quote; an index on an expression rather than a new column,
/// so nothing written changes; in Postgres the same index is on `((priced::jsonb ->
/// 'customer') ->> 'id')`), the conversations by customer, plugin and what they pushed or
/// pulled (`Record::pulled` and `pulls_done` look them up so, then each pull's rows by key),
/// and by the quote revision they pushed (`Record::pushed_refs`).
const MIGRATION_7: &str = "
CREATE INDEX revisions_by_customer ON revisions (json_extract(priced, '$.customer.id'), quote, revision);
CREATE INDEX conversations_by_customer ON conversations (customer, plugin, document, month);
CREATE INDEX conversations_by_quote ON conversations (quote, revision);
";

/// A quote's log also says when a reconciliation's fixes to the PSA were recorded for it
/// (`tenor reconcile --apply`, event kind `psa-fix`). SQLite cannot widen a CHECK in place:
/// the table is copied into one that allows the new kind, and takes its name.
const MIGRATION_8: &str = "
CREATE TABLE events_7 (
    quote TEXT NOT NULL REFERENCES quotes (quote),
    seq INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('accept', 'revise', 'change', 'export', 'psa-fix')),
    detail TEXT NOT NULL,
    PRIMARY KEY (quote, seq),
    FOREIGN KEY (quote, revision) REFERENCES revisions (quote, revision)
);
INSERT INTO events_7 (quote, seq, revision, at, kind, detail)
    SELECT quote, seq, revision, at, kind, detail FROM events;
DROP TABLE events;
ALTER TABLE events_7 RENAME TO events;
";

/// Bodies stored in pieces (`record::chunks`): a document's pieces after the first (which
/// stays in `documents.body`), and a revision's priced quote or quote text too long for one
/// piece (the priced quote's head stays in `revisions.priced`, for the index on its customer;
/// `quote_text` is then empty). SQLite refuses a value over 1 GB, and a million-line schedule
/// is ten. Pieces here are compressed.
const MIGRATION_9: &str = "
CREATE TABLE document_chunks (
    quote TEXT NOT NULL,
    revision INTEGER NOT NULL,
    change_seq INTEGER NOT NULL,
    path TEXT NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 1),
    bytes BLOB NOT NULL,
    PRIMARY KEY (quote, revision, change_seq, path, seq),
    FOREIGN KEY (quote, revision, change_seq, path)
        REFERENCES documents (quote, revision, change_seq, path)
);
CREATE TABLE revision_chunks (
    quote TEXT NOT NULL,
    revision INTEGER NOT NULL,
    part TEXT NOT NULL CHECK (part IN ('priced', 'quote')),
    seq INTEGER NOT NULL CHECK (seq >= 0),
    bytes BLOB NOT NULL,
    PRIMARY KEY (quote, revision, part, seq),
    FOREIGN KEY (quote, revision) REFERENCES revisions (quote, revision)
);
";

/// The newest schema version this build knows.
pub fn latest() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Checks the applied migrations against this build's and applies the missing ones, inside
/// the caller's (immediate) transaction, so two processes opening a new database at once do
/// not both create it.
pub fn migrate(tx: &Transaction<'_>, path: &str) -> Result<(), RecordError> {
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS tenor_migrations (
            version INTEGER NOT NULL PRIMARY KEY,
            sha256 TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )",
    )?;
    let newest: Option<u32> = tx
        .query_row("SELECT MAX(version) FROM tenor_migrations", [], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    if let Some(found) = newest.filter(|v| *v > latest()) {
        return Err(RecordError::TooNew {
            path: path.into(),
            found,
            known: latest(),
        });
    }
    for m in MIGRATIONS {
        let applied: Option<String> = tx
            .query_row(
                "SELECT sha256 FROM tenor_migrations WHERE version = ?1",
                [m.version],
                |r| r.get(0),
            )
            .optional()?;
        let expected = sha256_hex(m.sql.as_bytes());
        match applied {
            Some(found) if found == expected => {}
            Some(found) => {
                return Err(RecordError::Altered {
                    path: path.into(),
                    version: m.version,
                    found,
                    expected,
                });
            }
            None => {
                tx.execute_batch(m.sql)?;
                tx.execute(
                    "INSERT INTO tenor_migrations (version, sha256, applied_at) VALUES (?1, ?2, ?3)",
                    rusqlite::params![m.version, expected, clock::now()?],
                )?;
            }
        }
    }
    Ok(())
}
