//! Customer links: the customer's ids at each plugin's vendor (`tenor link`), with every change
//! kept as a link event. A plugin is given only its own links (the key namespace is the
//! plugin's name), and only in what the host sends it.

use super::{Record, RecordError, clock};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use std::collections::BTreeMap;

/// The customer name of links that hold for every customer: the MSP's own ids at a vendor
/// (its StreamOne account), which a customer's own link of the same key overrides.
pub const EVERY_CUSTOMER: &str = "*";

/// One link: customer, plugin, key, value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Link {
    /// Tenor's customer id.
    pub customer: String,
    /// The plugin whose vendor holds the id.
    pub plugin: String,
    /// The plugin's key (`company`, `contact`…).
    pub key: String,
    /// The vendor's id.
    pub value: String,
}

/// What one change does: sets a value or removes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkChange {
    /// Tenor's customer id.
    pub customer: String,
    /// The plugin.
    pub plugin: String,
    /// The key.
    pub key: String,
    /// The new value, `None` to remove it.
    pub value: Option<String>,
}

/// What applying some changes did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LinkOutcome {
    /// Links set or changed.
    pub set: usize,
    /// Links removed.
    pub removed: usize,
    /// Changes that changed nothing.
    pub unchanged: usize,
}

impl Record {
    /// Applies every change in one transaction, each one that changes something logged as a
    /// link event naming `source` (`command line`, an imported file).
    pub fn apply_links(
        &mut self,
        changes: &[LinkChange],
        source: &str,
    ) -> Result<LinkOutcome, RecordError> {
        self.immediate(|tx| {
            let mut out = LinkOutcome::default();
            for c in changes {
                apply_in(tx, c, source, &mut out)?;
            }
            Ok(out)
        })
    }

    /// Every link, of one customer or of all, sorted.
    pub fn links(&self, customer: Option<&str>) -> Result<Vec<Link>, RecordError> {
        let mut stmt = self.conn.prepare(
            "SELECT customer, plugin, key, value FROM customer_links
             WHERE ?1 IS NULL OR customer = ?1 ORDER BY customer, plugin, key",
        )?;
        let rows = stmt.query_map(params![customer], |r| {
            Ok(Link {
                customer: r.get(0)?,
                plugin: r.get(1)?,
                key: r.get(2)?,
                value: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The links that hold for one customer: those of [`EVERY_CUSTOMER`], then its own.
    pub fn customer_links(&self, customer: &str) -> Result<Vec<Link>, RecordError> {
        let mut all = self.links(Some(EVERY_CUSTOMER))?;
        all.extend(self.links(Some(customer))?);
        Ok(all)
    }

    /// One plugin's links of one customer, over the links of [`EVERY_CUSTOMER`]: what the
    /// host puts in `Customer::accounts`.
    pub fn accounts(
        &self,
        customer: &str,
        plugin: &str,
    ) -> Result<BTreeMap<String, String>, RecordError> {
        // The customer's own rows sort after `*`'s, so they override in the map.
        let mut stmt = self.conn.prepare(
            "SELECT key, value FROM customer_links WHERE customer IN (?1, ?3) AND plugin = ?2
             ORDER BY customer = ?1, key",
        )?;
        let rows = stmt.query_map(params![customer, plugin, EVERY_CUSTOMER], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many link events the record holds.
    pub fn link_event_count(&self) -> Result<u64, RecordError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM link_events", [], |r| r.get(0))?)
    }
}

/// Applies one change inside the transaction.
fn apply_in(
    tx: &Transaction<'_>,
    c: &LinkChange,
    source: &str,
    out: &mut LinkOutcome,
) -> Result<(), RecordError> {
    let old: Option<String> = tx
        .query_row(
            "SELECT value FROM customer_links WHERE customer = ?1 AND plugin = ?2 AND key = ?3",
            params![c.customer, c.plugin, c.key],
            |r| r.get(0),
        )
        .optional()?;
    if old == c.value {
        out.unchanged += 1;
        return Ok(());
    }
    match &c.value {
        Some(v) => {
            tx.execute(
                "INSERT INTO customer_links (customer, plugin, key, value) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (customer, plugin, key) DO UPDATE SET value = excluded.value",
                params![c.customer, c.plugin, c.key, v],
            )?;
            out.set += 1;
        }
        None => {
            tx.execute(
                "DELETE FROM customer_links WHERE customer = ?1 AND plugin = ?2 AND key = ?3",
                params![c.customer, c.plugin, c.key],
            )?;
            out.removed += 1;
        }
    }
    let seq: i64 = tx.query_row(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM link_events",
        [],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO link_events (seq, customer, plugin, key, old_value, new_value, at, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            seq,
            c.customer,
            c.plugin,
            c.key,
            old,
            c.value,
            clock::now()?,
            source
        ],
    )?;
    Ok(())
}

/// One plugin's keys and values among some links (of one customer, after those of
/// [`EVERY_CUSTOMER`], as [`Record::customer_links`] gives them): a later link of a key wins.
pub fn accounts_of(links: &[Link], plugin: &str) -> BTreeMap<String, String> {
    links
        .iter()
        .filter(|l| l.plugin == plugin)
        .map(|l| (l.key.clone(), l.value.clone()))
        .collect()
}
