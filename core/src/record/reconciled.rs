//! Every month's reconciliation, kept: `tenor reconcile --month` records each run, and
//! `tenor reconcile --since` reads the latest run of each month back as a trend.

use super::{Record, RecordError, clock};
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;
use std::str::FromStr;

/// One customer's findings of one class in a reconciliation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    /// The customer's id.
    pub customer: String,
    /// The finding class (`quantity`, `missing_line`…).
    pub class: String,
    /// Findings.
    pub findings: u32,
    /// Their known money at risk, as counted in the totals.
    pub money_at_risk: Decimal,
    /// Findings whose amount is unknown.
    pub unknown: u32,
}

/// A month's tallies, from its latest run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthTallies {
    /// `YYYY-MM`.
    pub month: String,
    /// Which run of the month it is (from 1).
    pub run: u32,
    /// When it ran.
    pub at: String,
    /// Per customer and class, sorted.
    pub tallies: Vec<Tally>,
}

impl Record {
    /// Records one run of a month's reconciliation (`scope`: the customer asked for, or ''),
    /// its document and tallies in one transaction; returns the run's number.
    pub fn record_reconciliation(
        &mut self,
        month: &str,
        scope: &str,
        body: &serde_json::Value,
        tallies: &[Tally],
    ) -> Result<u32, RecordError> {
        let text = serde_json::to_string(body)
            .map_err(|e| RecordError::Inconsistent(format!("reconciliation: {e}")))?;
        self.immediate(|tx| {
            let last: Option<u32> = tx.query_row(
                "SELECT MAX(run) FROM reconciliations WHERE month = ?1 AND scope = ?2",
                params![month, scope],
                |r| r.get(0),
            )?;
            let run = last.unwrap_or(0) + 1;
            tx.execute(
                "INSERT INTO reconciliations (month, scope, run, at, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![month, scope, run, clock::now()?, text],
            )?;
            for t in tallies {
                tx.execute(
                    "INSERT INTO reconciliation_tallies
                         (month, scope, run, customer, class, findings, money_at_risk, unknown)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        month,
                        scope,
                        run,
                        t.customer,
                        t.class,
                        t.findings,
                        t.money_at_risk.to_string(),
                        t.unknown
                    ],
                )?;
            }
            Ok(run)
        })
    }

    /// The latest run of each month from `since` (`YYYY-MM`) on, for `scope`, in month order.
    pub fn reconciliation_trend(
        &self,
        since: &str,
        scope: &str,
    ) -> Result<Vec<MonthTallies>, RecordError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.month, r.run, r.at FROM reconciliations r
             WHERE r.scope = ?1 AND r.month >= ?2
               AND r.run = (SELECT MAX(run) FROM reconciliations x
                            WHERE x.month = r.month AND x.scope = r.scope)
             ORDER BY r.month",
        )?;
        let runs: Vec<(String, u32, String)> = stmt
            .query_map(params![scope, since], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut tallies = self.conn.prepare(
            "SELECT customer, class, findings, money_at_risk, unknown FROM reconciliation_tallies
             WHERE month = ?1 AND scope = ?2 AND run = ?3 ORDER BY customer, class",
        )?;
        let mut out = Vec::with_capacity(runs.len());
        for (month, run, at) in runs {
            let rows: Vec<(String, String, u32, String, u32)> = tallies
                .query_map(params![month, scope, run], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<Result<_, _>>()?;
            let mut list = Vec::with_capacity(rows.len());
            for (customer, class, findings, money, unknown) in rows {
                let money_at_risk = Decimal::from_str(&money).map_err(|e| {
                    RecordError::Inconsistent(format!(
                        "reconciliation {month} run {run}: `{money}`: {e}"
                    ))
                })?;
                list.push(Tally {
                    customer,
                    class,
                    findings,
                    money_at_risk,
                    unknown,
                });
            }
            out.push(MonthTallies {
                month,
                run,
                at,
                tallies: list,
            });
        }
        Ok(out)
    }

    /// The document of a month's latest run for `scope`, if it ran.
    pub fn reconciliation(
        &self,
        month: &str,
        scope: &str,
    ) -> Result<Option<serde_json::Value>, RecordError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM reconciliations WHERE month = ?1 AND scope = ?2
                 ORDER BY run DESC LIMIT 1",
                params![month, scope],
                |r| r.get(0),
            )
            .optional()?;
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| RecordError::Inconsistent(format!("reconciliation {month}: {e}")))
        })
        .transpose()
    }
}
