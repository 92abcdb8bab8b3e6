//! Reading back what a revision was accepted from, for commands that rebuild it (`tenor match
//! --pulled`): the rule files' texts and every vendor id its pushes stored.

use super::{Record, RecordError};
use rusqlite::params;
use tenor_plugin_sdk::exchange::VendorRef;

impl Record {
    /// The rule files a revision was accepted with, as (path, text), by path.
    pub fn rule_texts(&self, quote: &str, n: u32) -> Result<Vec<(String, String)>, RecordError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT path, body FROM rule_files WHERE quote = ?1 AND revision = ?2 ORDER BY path",
        )?;
        let rows = stmt.query_map(params![quote, n], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every vendor id the completed pushes of a revision stored, with the plugin, in the order
    /// they were pushed.
    pub fn pushed_refs(
        &self,
        quote: &str,
        revision: u32,
    ) -> Result<Vec<(String, VendorRef)>, RecordError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.plugin, r.kind, r.id, r.line FROM vendor_refs r
             JOIN conversations c ON c.id = r.conversation
             WHERE c.quote = ?1 AND c.revision = ?2 AND c.state = 'done'
             ORDER BY c.started_at, r.conversation, r.seq",
        )?;
        let rows = stmt.query_map(params![quote, revision], |r| {
            Ok((
                r.get(0)?,
                VendorRef {
                    kind: r.get(1)?,
                    id: r.get(2)?,
                    line: r.get(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Record {
    /// The (plugin, what) of every completed pull for a customer (`what`: `orders`,
    /// `subscriptions` or `invoices`), of `month` or of none when one is given: a pull that
    /// read nothing stores no row, yet says the vendor holds nothing.
    pub fn pulls_done(
        &self,
        customer: &str,
        month: Option<&str>,
    ) -> Result<Vec<(String, String)>, RecordError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT plugin, document FROM conversations
             WHERE direction = 'pull' AND state = 'done' AND customer = ?1
               AND (?2 IS NULL OR month IS NULL OR month = ?2)
             ORDER BY plugin, document",
        )?;
        let rows = stmt.query_map(params![customer, month], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
