//! Quotes shared with the customer: the signing key, each shared revision (the exact quote and
//! rule texts signed), what the customer did with a link, and the one decision per shared
//! revision. Acceptance through a link records the quote (as `tenor accept` does) and the
//! decision in one transaction, so a second or concurrent acceptance finds the first.

use super::write::{NewRevision, accept_in, rules_sha256};
use super::{Accepted, Record, RecordError, clock, sha256_hex};
use rusqlite::{OptionalExtension, Transaction, params};

/// A quote to share: its texts as they are signed and shown, and when the link expires.
pub struct NewShare<'a> {
    /// The quote id.
    pub quote: &'a str,
    /// The quote file's name.
    pub quote_file: &'a str,
    /// The quote file's text.
    pub quote_text: &'a str,
    /// Each rule file's name and text.
    pub rules: &'a [(String, String)],
    /// Unix seconds after which a link made now cannot be used.
    pub expires_at: i64,
}

/// A shared revision of a quote, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shared {
    /// The quote id.
    pub quote: String,
    /// The shared revision (from 1; a changed quote shared again is the next).
    pub revision: u32,
    /// The quote file's name.
    pub quote_file: String,
    /// The quote file's text.
    pub quote_text: String,
    /// Each rule file's name and text.
    pub rules: Vec<(String, String)>,
    /// SHA-256 of the quote and rule texts ([`content_sha256`]).
    pub content_sha256: String,
    /// The latest expiry given to a link of this revision (unix seconds).
    pub expires_at: i64,
    /// When it was first shared.
    pub created_at: String,
    /// When its links were revoked, if they were.
    pub revoked_at: Option<String>,
    /// The quote's latest shared revision (this one unless it was shared again since).
    pub latest_revision: u32,
}

/// Who decided, from where, against which content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDecision<'a> {
    /// The quote id.
    pub quote: &'a str,
    /// The shared revision decided on.
    pub revision: u32,
    /// The name the customer typed.
    pub name: &'a str,
    /// The email the customer typed.
    pub email: &'a str,
    /// The address the request came from.
    pub address: &'a str,
    /// The content hash the link was signed over.
    pub content_sha256: &'a str,
}

/// A shared revision's recorded decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// `accept` or `decline`.
    pub kind: String,
    /// The name typed.
    pub name: String,
    /// The email typed.
    pub email: String,
    /// Where the request came from.
    pub address: String,
    /// When.
    pub at: String,
    /// The record revision acceptance made (`None` for a decline).
    pub accepted_revision: Option<u32>,
}

/// What accepting through a link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SharedOutcome {
    /// This request accepted the quote.
    Accepted(Accepted),
    /// A decision was already recorded: nothing was written.
    Decided(Decision),
}

/// One line of the MSP's overview of shared quotes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareRow {
    /// The quote id.
    pub quote: String,
    /// The shared revision.
    pub revision: u32,
    /// When it was shared.
    pub created_at: String,
    /// Link expiry (unix seconds).
    pub expires_at: i64,
    /// When revoked, if it was.
    pub revoked_at: Option<String>,
    /// How many times a link was opened.
    pub views: u32,
    /// The decision, if any.
    pub decision: Option<Decision>,
    /// True when a later revision was shared since.
    pub superseded: bool,
    /// What the pushes after its acceptance came to, oldest first.
    pub pushes: Vec<SharePush>,
}

/// How a push after an acceptance ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushState {
    /// The push began (alone, it was cut short: `tenor push` resumes it).
    Started,
    /// The vendor holds it (now or from an earlier run).
    Done,
    /// Held until its start day; `tenor push` on that day sends it.
    Waiting,
    /// Held until the order it changes is pushed.
    Held,
    /// Not completed; `tenor push` resumes it.
    Failed,
}

impl PushState {
    /// The word the record and the pages use.
    pub fn as_str(self) -> &'static str {
        match self {
            PushState::Started => "started",
            PushState::Done => "done",
            PushState::Waiting => "waiting",
            PushState::Held => "held",
            PushState::Failed => "failed",
        }
    }
}

/// One push's outcome after an acceptance through a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharePush {
    /// When it was recorded.
    pub at: String,
    /// The plugin (empty when the push could not be planned).
    pub plugin: String,
    /// The document pushed (empty when the push could not be planned).
    pub document: String,
    /// `started`, `done`, `waiting`, `held` or `failed`.
    pub state: String,
    /// The vendor's ids, the day waited for, or why it failed.
    pub detail: String,
}

/// Something that happened to a shared quote, for `tenor log`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ShareEvent {
    /// The quote id.
    pub quote: String,
    /// The shared revision.
    pub revision: u32,
    /// When.
    pub at: String,
    /// `shared`, `view`, `accept`, `decline`, `revoked` or `push`.
    pub kind: String,
    /// The name typed, for a decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The email typed, for a decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Where the request came from (views and decisions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// A push's plugin, document, state and detail, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// SHA-256 of a quote text and its rule files: what a link is signed over.
pub fn content_sha256(quote_text: &str, rules: &[(String, String)]) -> String {
    let mut all = sha256_hex(quote_text.as_bytes()).into_bytes();
    all.push(0);
    all.extend_from_slice(rules_sha256(rules).as_bytes());
    sha256_hex(&all)
}

impl Record {
    /// The record's signing key for links, made (32 random bytes) the first time it is asked for.
    pub fn share_key(&mut self) -> Result<Vec<u8>, RecordError> {
        self.immediate(|tx| {
            let key: Option<Vec<u8>> = tx
                .query_row("SELECT key FROM share_key WHERE id = 1", [], |r| r.get(0))
                .optional()?;
            if let Some(k) = key {
                return Ok(k);
            }
            let mut k = vec![0u8; 32];
            getrandom::fill(&mut k)
                .map_err(|e| RecordError::Inconsistent(format!("no randomness for a key: {e}")))?;
            tx.execute(
                "INSERT INTO share_key (id, key, created_at) VALUES (1, ?1, ?2)",
                params![k, clock::now()?],
            )?;
            Ok(k)
        })
    }

    /// Stores a quote for sharing: the same texts as its latest shared revision reuse it (the
    /// expiry moved to the later one, a revocation lifted), changed texts are the next revision.
    pub fn share(&mut self, s: &NewShare<'_>) -> Result<Shared, RecordError> {
        let hash = content_sha256(s.quote_text, s.rules);
        let rules =
            serde_json::to_string(s.rules).map_err(|e| RecordError::Inconsistent(e.to_string()))?;
        self.immediate(|tx| {
            let latest: Option<(u32, String)> = tx
                .query_row(
                    "SELECT revision, content_sha256 FROM shares WHERE quote = ?1
                     ORDER BY revision DESC LIMIT 1",
                    [s.quote],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            match latest {
                Some((n, h)) if h == hash => {
                    tx.execute(
                        "UPDATE shares SET expires_at = MAX(expires_at, ?3), revoked_at = NULL
                         WHERE quote = ?1 AND revision = ?2",
                        params![s.quote, n, s.expires_at],
                    )?;
                }
                other => {
                    let n = other.map_or(1, |(n, _)| n + 1);
                    tx.execute(
                        "INSERT INTO shares (quote, revision, quote_file, quote_text, rules,
                             content_sha256, expires_at, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![
                            s.quote,
                            n,
                            s.quote_file,
                            s.quote_text,
                            rules,
                            hash,
                            s.expires_at,
                            clock::now()?
                        ],
                    )?;
                }
            }
            Ok(())
        })?;
        let latest = self.latest_share(s.quote)?;
        latest.ok_or_else(|| RecordError::NoQuote(s.quote.into()))
    }

    /// The latest shared revision of a quote.
    pub fn latest_share(&self, quote: &str) -> Result<Option<Shared>, RecordError> {
        let n: Option<u32> = self.conn.query_row(
            "SELECT MAX(revision) FROM shares WHERE quote = ?1",
            [quote],
            |r| r.get(0),
        )?;
        match n {
            Some(n) => self.shared(quote, n),
            None => Ok(None),
        }
    }

    /// A shared revision of a quote, if it was shared.
    pub fn shared(&self, quote: &str, revision: u32) -> Result<Option<Shared>, RecordError> {
        let row = self
            .conn
            .query_row(
                "SELECT quote_file, quote_text, rules, content_sha256, expires_at, created_at,
                     revoked_at, (SELECT MAX(revision) FROM shares WHERE quote = ?1)
                 FROM shares WHERE quote = ?1 AND revision = ?2",
                params![quote, revision],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, u32>(7)?,
                    ))
                },
            )
            .optional()?;
        let Some((quote_file, quote_text, rules, hash, expires_at, created_at, revoked, latest)) =
            row
        else {
            return Ok(None);
        };
        let rules: Vec<(String, String)> = serde_json::from_str(&rules).map_err(|e| {
            RecordError::Inconsistent(format!("shared {quote} revision {revision}: rules: {e}"))
        })?;
        if content_sha256(&quote_text, &rules) != hash {
            return Err(RecordError::Inconsistent(format!(
                "shared {quote} revision {revision}: its texts no longer match their hash"
            )));
        }
        Ok(Some(Shared {
            quote: quote.into(),
            revision,
            quote_file,
            quote_text,
            rules,
            content_sha256: hash,
            expires_at,
            created_at,
            revoked_at: revoked,
            latest_revision: latest,
        }))
    }

    /// Revokes every link of a quote's shared revisions; how many revisions were revoked.
    pub fn revoke_shares(&mut self, quote: &str) -> Result<usize, RecordError> {
        let now = clock::now()?;
        self.immediate(|tx| {
            Ok(tx.execute(
                "UPDATE shares SET revoked_at = ?2 WHERE quote = ?1 AND revoked_at IS NULL",
                params![quote, now],
            )?)
        })
    }

    /// Logs that a link was opened.
    pub fn share_viewed(
        &mut self,
        quote: &str,
        revision: u32,
        address: &str,
        content_sha256: &str,
    ) -> Result<(), RecordError> {
        self.immediate(|tx| share_event(tx, quote, revision, "view", None, address, content_sha256))
    }

    /// The decision recorded on a shared revision, if any.
    pub fn decision(&self, quote: &str, revision: u32) -> Result<Option<Decision>, RecordError> {
        decision_in(&self.conn, quote, revision)
    }

    /// Records a decline, unless a decision was recorded first (which is returned).
    pub fn decline_shared(&mut self, d: &NewDecision<'_>) -> Result<SharedOutcome, RecordError> {
        self.immediate(|tx| {
            if let Some(done) = decision_in(tx, d.quote, d.revision)? {
                return Ok(SharedOutcome::Decided(done));
            }
            let now = clock::now()?;
            insert_decision(tx, d, "decline", &now, None)?;
            let who = Some((d.name, d.email));
            share_event(
                tx,
                d.quote,
                d.revision,
                "decline",
                who,
                d.address,
                d.content_sha256,
            )?;
            Ok(SharedOutcome::Decided(Decision {
                kind: "decline".into(),
                name: d.name.into(),
                email: d.email.into(),
                address: d.address.into(),
                at: now,
                accepted_revision: None,
            }))
        })
    }

    /// Accepts a shared revision: the quote recorded as [`Record::accept`] does (a changed
    /// quote as the next revision: sharing it was the MSP's word) and the decision, in one
    /// transaction; a decision already recorded is returned and nothing is written.
    pub fn accept_shared(
        &mut self,
        r: &NewRevision<'_>,
        d: &NewDecision<'_>,
    ) -> Result<SharedOutcome, RecordError> {
        self.immediate(|tx| {
            if let Some(done) = decision_in(tx, d.quote, d.revision)? {
                return Ok(SharedOutcome::Decided(done));
            }
            let accepted = accept_in(tx, r, true)?;
            insert_decision(
                tx,
                d,
                "accept",
                &accepted.accepted_at,
                Some(accepted.revision),
            )?;
            let who = Some((d.name, d.email));
            share_event(
                tx,
                d.quote,
                d.revision,
                "accept",
                who,
                d.address,
                d.content_sha256,
            )?;
            Ok(SharedOutcome::Accepted(accepted))
        })
    }

    /// Every shared revision with its views and decision, by quote and revision.
    pub fn share_overview(&self) -> Result<Vec<ShareRow>, RecordError> {
        let mut stmt = self.conn.prepare(
            "SELECT s.quote, s.revision, s.created_at, s.expires_at, s.revoked_at,
                 (SELECT COUNT(*) FROM share_events e
                  WHERE e.quote = s.quote AND e.revision = s.revision AND e.kind = 'view'),
                 (SELECT MAX(revision) FROM shares t WHERE t.quote = s.quote)
             FROM shares s ORDER BY s.quote, s.revision",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, u32>(5)?,
                r.get::<_, u32>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (quote, revision, created_at, expires_at, revoked_at, views, latest) = row?;
            let decision = decision_in(&self.conn, &quote, revision)?;
            let pushes = self.share_pushes(&quote, revision)?;
            out.push(ShareRow {
                quote,
                revision,
                created_at,
                expires_at,
                revoked_at,
                views,
                decision,
                superseded: latest > revision,
                pushes,
            });
        }
        Ok(out)
    }
}

impl Record {
    /// Appends what a push after the acceptance of a shared revision came to.
    pub fn record_share_push(
        &mut self,
        quote: &str,
        revision: u32,
        plugin: &str,
        document: &str,
        state: PushState,
        detail: &str,
    ) -> Result<(), RecordError> {
        let now = clock::now()?;
        self.immediate(|tx| {
            tx.execute(
                "INSERT INTO share_pushes (quote, revision, seq, at, plugin, document, state,
                     detail)
                 VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM share_pushes
                                  WHERE quote = ?1 AND revision = ?2), ?3, ?4, ?5, ?6, ?7)",
                params![
                    quote,
                    revision,
                    now,
                    plugin,
                    document,
                    state.as_str(),
                    detail
                ],
            )?;
            Ok(())
        })
    }

    /// The pushes recorded after a shared revision's acceptance, oldest first.
    pub fn share_pushes(&self, quote: &str, revision: u32) -> Result<Vec<SharePush>, RecordError> {
        let mut stmt = self.conn.prepare(
            "SELECT at, plugin, document, state, detail FROM share_pushes
             WHERE quote = ?1 AND revision = ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![quote, revision], |r| {
            Ok(SharePush {
                at: r.get(0)?,
                plugin: r.get(1)?,
                document: r.get(2)?,
                state: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Everything that happened to shared quotes (one quote's, or all), by quote, then time:
    /// each revision shared (and revoked), each view and decision with who and from where,
    /// and each push after an acceptance.
    // Long: three tables read in turn (shares, share_events, share_pushes), each a query and
    // its mapping, merged by time at the end.
    pub fn share_events(&self, quote: Option<&str>) -> Result<Vec<ShareEvent>, RecordError> {
        let mut out = Vec::new();
        let mut stmt = self.conn.prepare(
            "SELECT quote, revision, created_at, revoked_at FROM shares
             WHERE ?1 IS NULL OR quote = ?1",
        )?;
        let rows = stmt.query_map([quote], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let bare = |quote: &str, revision: u32, at: String, kind: &str| ShareEvent {
            quote: quote.into(),
            revision,
            at,
            kind: kind.into(),
            name: None,
            email: None,
            address: None,
            detail: None,
        };
        for row in rows {
            let (q, revision, created, revoked) = row?;
            out.push(bare(&q, revision, created, "shared"));
            if let Some(at) = revoked {
                out.push(bare(&q, revision, at, "revoked"));
            }
        }
        let mut stmt = self.conn.prepare(
            "SELECT quote, revision, at, kind, name, email, address FROM share_events
             WHERE ?1 IS NULL OR quote = ?1 ORDER BY quote, revision, seq",
        )?;
        let rows = stmt.query_map([quote], |r| {
            Ok(ShareEvent {
                quote: r.get(0)?,
                revision: r.get(1)?,
                at: r.get(2)?,
                kind: r.get(3)?,
                name: r.get(4)?,
                email: r.get(5)?,
                address: r.get(6)?,
                detail: None,
            })
        })?;
        for row in rows {
            out.push(row?);
        }
        let mut stmt = self.conn.prepare(
            "SELECT quote, revision, at, plugin, document, state, detail FROM share_pushes
             WHERE ?1 IS NULL OR quote = ?1 ORDER BY quote, revision, seq",
        )?;
        let rows = stmt.query_map([quote], |r| {
            let (plugin, document, state, detail): (String, String, String, String) =
                (r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?);
            let mut e = bare(&r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, "push");
            e.detail = Some(if plugin.is_empty() {
                format!("{state}: {detail}")
            } else {
                format!("{plugin}: {document} {state}: {detail}")
            });
            Ok(e)
        })?;
        for row in rows {
            out.push(row?);
        }
        // A stable sort keeps each table's own order among events of the same instant.
        out.sort_by(|a, b| (&a.quote, &a.at).cmp(&(&b.quote, &b.at)));
        Ok(out)
    }
}

/// The decision on a shared revision, read on a connection or inside a transaction.
fn decision_in(
    conn: &rusqlite::Connection,
    quote: &str,
    revision: u32,
) -> Result<Option<Decision>, RecordError> {
    Ok(conn
        .query_row(
            "SELECT kind, name, email, address, at, accepted_revision FROM share_decisions
             WHERE quote = ?1 AND revision = ?2",
            params![quote, revision],
            |r| {
                Ok(Decision {
                    kind: r.get(0)?,
                    name: r.get(1)?,
                    email: r.get(2)?,
                    address: r.get(3)?,
                    at: r.get(4)?,
                    accepted_revision: r.get(5)?,
                })
            },
        )
        .optional()?)
}

/// The one decision row of a shared revision (its primary key refuses a second).
fn insert_decision(
    tx: &Transaction<'_>,
    d: &NewDecision<'_>,
    kind: &str,
    at: &str,
    accepted_revision: Option<u32>,
) -> Result<(), RecordError> {
    tx.execute(
        "INSERT INTO share_decisions (quote, revision, kind, name, email, address, at,
             content_sha256, accepted_revision)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            d.quote,
            d.revision,
            kind,
            d.name,
            d.email,
            d.address,
            at,
            d.content_sha256,
            accepted_revision
        ],
    )?;
    Ok(())
}

/// Appends to a shared revision's log of what the customer did.
fn share_event(
    tx: &Transaction<'_>,
    quote: &str,
    revision: u32,
    kind: &str,
    who: Option<(&str, &str)>,
    address: &str,
    content_sha256: &str,
) -> Result<(), RecordError> {
    tx.execute(
        "INSERT INTO share_events (quote, revision, seq, kind, at, name, email, address,
             content_sha256)
         VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM share_events
                          WHERE quote = ?1 AND revision = ?2), ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            quote,
            revision,
            kind,
            clock::now()?,
            who.map(|w| w.0),
            who.map(|w| w.1),
            address,
            content_sha256
        ],
    )?;
    Ok(())
}
