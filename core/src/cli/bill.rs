//! `tenor bill --month YYYY-MM [--customer C] [--format table|json|csv]`: every charge of the
//! record's accepted quotes billed in a month, by customer and quote, with totals per customer
//! and overall. Rows are written as the record is read (see [`crate::review::bill`]).

use crate::cli::Ctx;
use crate::cli::args::BillFormat;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load::review_error;
use crate::engine::money::money;
use crate::review::bill::{self, BillError, BillEvent, BillRow, Total};
use crate::review::renewals::month_bounds;
use rust_decimal::Decimal;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `tenor bill`: exit 0, also for a month with nothing billed; a bad month or no record is an
/// error (exit 2).
pub fn bill_cmd(
    month: &str,
    customer: Option<&str>,
    rule_paths: &[PathBuf],
    format: BillFormat,
    db_flag: Option<&Path>,
    ctx: &mut Ctx<'_>,
) -> CliResult {
    let valid = month.len() == 7 && month.as_bytes().get(4) == Some(&b'-');
    let Some((from, to)) = month_bounds(month).filter(|_| valid) else {
        return Err(CliError::Run(format!(
            "`--month {month}` is not a month: write YYYY-MM (2027-01)"
        )));
    };
    let path = db::path(db_flag, rule_paths);
    if !path.is_file() {
        return Err(CliError::Run(format!(
            "there is no record at {}: accept a quote first, or pass --db",
            path.display()
        )));
    }
    let record = db::open(db_flag, rule_paths)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut *ctx.out);
    let mut writer: Box<dyn BillWriter + '_> = match format {
        BillFormat::Table => Box::new(TableWriter::default()),
        BillFormat::Json => Box::new(JsonWriter::default()),
        BillFormat::Csv => Box::new(CsvWriter),
    };
    writer.start(&mut out, month, customer)?;
    let totals = {
        let mut sink = |e: BillEvent<'_>| match e {
            BillEvent::Row(r) => writer.row(&mut out, &r),
            BillEvent::Customer(t) => writer.customer(&mut out, t),
        };
        match bill::bill(&record, from, to, customer, &mut sink) {
            Ok(t) => t,
            Err(BillError::Sink(e)) => return Err(CliError::Output(e)),
            Err(BillError::Review(e)) => return Err(review_error(e)),
        }
    };
    writer.end(&mut out, month, &totals)?;
    out.flush()?;
    Ok(Exit::Success)
}

/// One output format, written as the rows come.
trait BillWriter {
    /// Before the first row.
    fn start(
        &mut self,
        out: &mut dyn Write,
        month: &str,
        customer: Option<&str>,
    ) -> std::io::Result<()>;
    /// One charge.
    fn row(&mut self, out: &mut dyn Write, r: &BillRow<'_>) -> std::io::Result<()>;
    /// A customer's totals, after its rows.
    fn customer(&mut self, out: &mut dyn Write, totals: &[Total]) -> std::io::Result<()>;
    /// The overall totals, after every row.
    fn end(&mut self, out: &mut dyn Write, month: &str, totals: &[Total]) -> std::io::Result<()>;
}

/// The table: a block per customer, its charges, its totals; the overall totals last.
#[derive(Default)]
struct TableWriter {
    /// The customer whose block is open.
    current: Option<String>,
}

fn opt(v: Option<Decimal>) -> String {
    v.map_or_else(|| "—".to_string(), |d| d.to_string())
}

impl BillWriter for TableWriter {
    fn start(
        &mut self,
        out: &mut dyn Write,
        month: &str,
        customer: Option<&str>,
    ) -> std::io::Result<()> {
        match customer {
            Some(c) => writeln!(out, "bill {month}, customer {c}"),
            None => writeln!(out, "bill {month}"),
        }
    }

    fn row(&mut self, out: &mut dyn Write, r: &BillRow<'_>) -> std::io::Result<()> {
        if self.current.as_deref() != Some(r.customer) {
            self.current = Some(r.customer.to_string());
            writeln!(out)?;
            writeln!(out, "{}  {}", r.customer, r.customer_name)?;
            writeln!(
                out,
                "  {:<12} {:>4}  {:<16} {:<15} {:<23}  {:<10} {:>8} {:>12} {:>14}",
                "quote",
                "line",
                "product",
                "kind",
                "period",
                "billed",
                "qty",
                "unit price",
                "amount"
            )?;
        }
        writeln!(
            out,
            "  {:<12} {:>4}  {:<16} {:<15} {} – {}  {} {:>8} {:>12} {:>14}",
            r.quote,
            r.line,
            r.product,
            r.kind,
            r.period_start,
            r.period_end,
            r.bill_date,
            opt(r.quantity),
            r.unit_price.map_or_else(|| "—".to_string(), money),
            money(r.amount)
        )
    }

    fn customer(&mut self, out: &mut dyn Write, totals: &[Total]) -> std::io::Result<()> {
        for t in totals {
            writeln!(
                out,
                "  total {} {} ({} charge{}): {}",
                t.customer,
                t.currency,
                t.charges,
                if t.charges == 1 { "" } else { "s" },
                money(t.amount)
            )?;
        }
        Ok(())
    }

    fn end(&mut self, out: &mut dyn Write, month: &str, totals: &[Total]) -> std::io::Result<()> {
        writeln!(out)?;
        if totals.is_empty() {
            return writeln!(out, "nothing is billed in {month}");
        }
        for t in totals {
            writeln!(
                out,
                "total {month} {} ({} charge{}): {}",
                t.currency,
                t.charges,
                if t.charges == 1 { "" } else { "s" },
                money(t.amount)
            )?;
        }
        Ok(())
    }
}

/// A charge of the `tenor.bill/1` document.
#[derive(Serialize)]
struct JsonRow<'a> {
    customer: &'a str,
    customer_name: &'a str,
    quote: &'a str,
    revision: u32,
    line: u32,
    product: &'a str,
    kind: &'a str,
    period_start: chrono::NaiveDate,
    period_end: chrono::NaiveDate,
    bill_date: chrono::NaiveDate,
    quantity: Option<Decimal>,
    unit_price: Option<Decimal>,
    amount: Decimal,
    currency: &'a str,
}

/// A total of the `tenor.bill/1` document.
#[derive(Serialize)]
struct JsonTotal<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    customer: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    customer_name: &'a str,
    currency: &'a str,
    charges: u64,
    amount: Decimal,
}

impl<'a> From<&'a Total> for JsonTotal<'a> {
    fn from(t: &'a Total) -> Self {
        JsonTotal {
            customer: &t.customer,
            customer_name: &t.customer_name,
            currency: &t.currency,
            charges: t.charges,
            amount: t.amount,
        }
    }
}

/// `tenor.bill/1`: `charges` (one a line, as they come), then `customers` and `totals`.
#[derive(Default)]
struct JsonWriter {
    rows: u64,
    /// Every customer's totals (one entry per customer and currency: small).
    customers: Vec<Total>,
}

fn json_err(e: serde_json::Error) -> std::io::Error {
    e.into()
}

impl BillWriter for JsonWriter {
    fn start(
        &mut self,
        out: &mut dyn Write,
        month: &str,
        customer: Option<&str>,
    ) -> std::io::Result<()> {
        write!(out, "{{\"schema\": \"tenor.bill/1\", \"month\": ")?;
        serde_json::to_writer(&mut *out, month).map_err(json_err)?;
        if let Some(c) = customer {
            write!(out, ", \"customer\": ")?;
            serde_json::to_writer(&mut *out, c).map_err(json_err)?;
        }
        write!(out, ",\n\"charges\": [")
    }

    fn row(&mut self, out: &mut dyn Write, r: &BillRow<'_>) -> std::io::Result<()> {
        out.write_all(if self.rows == 0 { b"\n" } else { b",\n" })?;
        self.rows += 1;
        let row = JsonRow {
            customer: r.customer,
            customer_name: r.customer_name,
            quote: r.quote,
            revision: r.revision,
            line: r.line,
            product: r.product,
            kind: r.kind,
            period_start: r.period_start,
            period_end: r.period_end,
            bill_date: r.bill_date,
            quantity: r.quantity,
            unit_price: r.unit_price,
            amount: r.amount,
            currency: r.currency,
        };
        serde_json::to_writer(&mut *out, &row).map_err(json_err)
    }

    fn customer(&mut self, _out: &mut dyn Write, totals: &[Total]) -> std::io::Result<()> {
        self.customers.extend_from_slice(totals);
        Ok(())
    }

    fn end(&mut self, out: &mut dyn Write, _month: &str, totals: &[Total]) -> std::io::Result<()> {
        write!(out, "],\n\"customers\": ")?;
        let customers: Vec<JsonTotal<'_>> = self.customers.iter().map(JsonTotal::from).collect();
        serde_json::to_writer(&mut *out, &customers).map_err(json_err)?;
        write!(out, ",\n\"totals\": ")?;
        let totals: Vec<JsonTotal<'_>> = totals.iter().map(JsonTotal::from).collect();
        serde_json::to_writer(&mut *out, &totals).map_err(json_err)?;
        writeln!(out, "}}")
    }
}

/// CSV: a header, then one row per charge; totals are the sums of its `amount` column.
struct CsvWriter;

/// A CSV field, quoted when it holds a comma, a quote, a line break or edge spaces.
fn csv_field(out: &mut dyn Write, s: &str) -> std::io::Result<()> {
    let needs = s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ');
    if needs {
        write!(out, "\"{}\"", s.replace('"', "\"\""))
    } else {
        out.write_all(s.as_bytes())
    }
}

impl BillWriter for CsvWriter {
    fn start(&mut self, out: &mut dyn Write, _: &str, _: Option<&str>) -> std::io::Result<()> {
        writeln!(
            out,
            "customer,customer_name,quote,revision,line,product,kind,period_start,period_end,bill_date,quantity,unit_price,amount,currency"
        )
    }

    fn row(&mut self, out: &mut dyn Write, r: &BillRow<'_>) -> std::io::Result<()> {
        csv_field(out, r.customer)?;
        out.write_all(b",")?;
        csv_field(out, r.customer_name)?;
        out.write_all(b",")?;
        csv_field(out, r.quote)?;
        write!(out, ",{},{},", r.revision, r.line)?;
        csv_field(out, r.product)?;
        out.write_all(b",")?;
        csv_field(out, r.kind)?;
        write!(out, ",{},{},{},", r.period_start, r.period_end, r.bill_date)?;
        if let Some(q) = r.quantity {
            write!(out, "{q}")?;
        }
        out.write_all(b",")?;
        if let Some(p) = r.unit_price {
            write!(out, "{p}")?;
        }
        write!(out, ",{},", r.amount)?;
        csv_field(out, r.currency)?;
        out.write_all(b"\n")
    }

    fn customer(&mut self, _: &mut dyn Write, _: &[Total]) -> std::io::Result<()> {
        Ok(())
    }

    fn end(&mut self, _: &mut dyn Write, _: &str, _: &[Total]) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_they_must_be() {
        let mut v = Vec::new();
        for s in ["plain", "Smith, Jones & Co", "the \"best\"", " edge"] {
            csv_field(&mut v, s).unwrap_or_default();
            v.push(b'|');
        }
        assert_eq!(
            String::from_utf8_lossy(&v),
            "plain|\"Smith, Jones & Co\"|\"the \"\"best\"\"\"|\" edge\"|"
        );
    }
}
