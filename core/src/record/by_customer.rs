//! Reading the book customer by customer (`tenor reconcile --month`): which customers hold an
//! accepted quote, and one customer's latest revisions, through the index on the priced
//! quote's customer (migration 7), so a run over the whole book holds one customer's quotes
//! at a time. The statements run once per customer or quote are prepared once
//! (`prepare_cached`), as are those of the other reads a month runs per customer: preparing
//! them again was an eighth of a month's time.

use super::read::{REVISION_COLUMNS, revision_row};
use super::{Record, RecordError, RevisionInfo};

/// A revision that is its quote's latest (the bill's and the reconciliation's view).
const LATEST: &str =
    "r.revision = (SELECT MAX(x.revision) FROM revisions x WHERE x.quote = r.quote)";

impl Record {
    /// Every customer whose quote's latest revision is for them, sorted; a latest revision
    /// whose priced quote names no customer is an error (the record is not sound).
    pub fn quoted_customers(&self) -> Result<Vec<String>, RecordError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT json_extract(r.priced, '$.customer.id') AS customer, MIN(r.quote)
             FROM revisions r WHERE {LATEST}
             GROUP BY customer ORDER BY customer"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            match row? {
                (Some(c), _) => out.push(c),
                (None, quote) => {
                    return Err(RecordError::Inconsistent(format!(
                        "the priced quote recorded for {quote} names no customer"
                    )));
                }
            }
        }
        Ok(out)
    }

    /// The latest revision of every quote of `customer`, by quote.
    pub fn latest_revisions_of(&self, customer: &str) -> Result<Vec<RevisionInfo>, RecordError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {REVISION_COLUMNS} FROM revisions r
             WHERE json_extract(r.priced, '$.customer.id') = ?1 AND {LATEST}
             ORDER BY r.quote"
        ))?;
        let rows = stmt.query_map([customer], revision_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The quote text of a revision alone ([`Record::revision_texts`] also reads the priced
    /// quote, the largest text of a revision, which a rebuild makes again).
    pub fn quote_text(&self, quote: &str, n: u32) -> Result<String, RecordError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT quote_text FROM revisions WHERE quote = ?1 AND revision = ?2",
        )?;
        let text = stmt.query_row(rusqlite::params![quote, n], |r| r.get(0))?;
        let key = (quote, n, super::chunks::Part::Quote);
        super::chunks::revision_part(&self.conn, key, text)
    }

    /// The latest acceptance: of every quote's latest revision, the one accepted last (the
    /// greater quote id when two share a time); its rules are the rules in force.
    pub fn latest_acceptance(&self) -> Result<Option<RevisionInfo>, RecordError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {REVISION_COLUMNS} FROM revisions r WHERE {LATEST}
             ORDER BY r.accepted_at DESC, r.quote DESC LIMIT 1"
        ))?;
        let mut rows = stmt.query_map([], revision_row)?;
        Ok(rows.next().transpose()?)
    }

    /// The first and the last quote id with a revision, in quote order (`None`: no quote).
    pub fn quote_bounds(&self) -> Result<Option<(String, String)>, RecordError> {
        let (lo, hi): (Option<String>, Option<String>) =
            self.conn
                .query_row("SELECT MIN(quote), MAX(quote) FROM revisions", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        Ok(lo.zip(hi))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails on any error")]
mod tests {
    use super::*;
    use crate::record::NewRevision;

    /// Records revision `fp` of `quote`, priced for `customer` (`None`: a priced quote that
    /// names none).
    fn accept(record: &mut Record, quote: &str, customer: Option<&str>, fp: &str) {
        let priced = match customer {
            Some(c) => format!(r#"{{"customer": {{"id": "{c}", "name": "x"}}}}"#),
            None => "{}".to_string(),
        };
        let rules = vec![("rules/r.tenor".to_string(), "currency USD\n".to_string())];
        record
            .accept(
                &NewRevision {
                    quote,
                    quote_file: "q.yaml",
                    quote_text: "",
                    rules: &rules,
                    rules_git: None,
                    fingerprint: fp,
                    priced: crate::record::PricedBody::Text(&priced),
                    documents: &[],
                    streamed: &[],
                },
                true,
            )
            .unwrap();
    }

    #[test]
    fn a_customers_quotes_are_their_latest_revisions_for_that_customer() {
        let dir = std::env::temp_dir().join(format!("tenor-by-customer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tenor.db");
        let mut record = Record::open(&path).unwrap();
        assert_eq!(record.quote_bounds().unwrap(), None);
        accept(&mut record, "Q-2", Some("CUST-B"), "f1");
        accept(&mut record, "Q-1", Some("CUST-B"), "f2");
        accept(&mut record, "Q-3", Some("CUST-A"), "f3");
        // Q-3 revised for another customer: it is CUST-C's now, and CUST-A has none.
        accept(&mut record, "Q-3", Some("CUST-C"), "f4");
        assert_eq!(record.quoted_customers().unwrap(), ["CUST-B", "CUST-C"]);
        let of = |c: &str| -> Vec<(String, u32)> {
            let revs = record.latest_revisions_of(c).unwrap();
            revs.into_iter().map(|r| (r.quote, r.revision)).collect()
        };
        assert_eq!(of("CUST-B"), [("Q-1".into(), 1), ("Q-2".into(), 1)]);
        assert_eq!(of("CUST-C"), [("Q-3".into(), 2)]);
        assert!(of("CUST-A").is_empty());
        assert_eq!(
            record.quote_bounds().unwrap(),
            Some(("Q-1".into(), "Q-3".into()))
        );
        // A latest revision whose priced quote names no customer is not passed over.
        accept(&mut record, "Q-4", None, "f5");
        let e = record.quoted_customers().unwrap_err().to_string();
        assert!(e.contains("Q-4"), "{e}");
        drop(record);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
