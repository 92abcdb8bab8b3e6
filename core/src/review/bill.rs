//! The bill run for the whole book (`tenor bill --month`): every charge of every accepted
//! quote's current invoice schedule whose bill date falls in a month, by customer, then quote,
//! then the schedule's own order (bill date, line), with totals per customer and overall.
//!
//! The bill is read from the stored schedules, not re-priced: the invoice schedule is the
//! record of what is billed when (accepted, then amended by every `tenor change`, whose
//! charges it merges in), and prices are locked for the term, so today's rules have no say.
//! The sales order supplies what the schedule does not hold: each line's unit price, and its
//! quantity (on a charge's bill date, following the recorded seat changes).
//!
//! Rows are handed to a sink as they are read, one quote's schedule in memory at a time: only
//! the list of quotes (with their customer) and the totals are kept.

use super::ReviewError;
use crate::record::bill::Stored;
use crate::record::{Record, RecordError};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// One charge of the bill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillRow<'a> {
    /// The quote id.
    pub quote: &'a str,
    /// Its latest revision, the one billed.
    pub revision: u32,
    /// Customer id.
    pub customer: &'a str,
    /// Customer name.
    pub customer_name: &'a str,
    /// ISO 4217 code.
    pub currency: &'a str,
    /// The quote line.
    pub line: u32,
    /// SKU.
    pub product: &'a str,
    /// The schedule's kind: `stub`, `recurring`, `one_time`, `usage` (an estimate, billed in
    /// arrears), `discount`, `minimum_true_up`, `prorated`, `refund`, `reduction`.
    pub kind: &'a str,
    /// First day covered.
    pub period_start: NaiveDate,
    /// Day after the last day covered.
    pub period_end: NaiveDate,
    /// When it is billed.
    pub bill_date: NaiveDate,
    /// The line's quantity on the bill date (after the seat changes in effect then); absent
    /// for usage charges, which are rated, not counted.
    pub quantity: Option<Decimal>,
    /// The line's unit price for a full billing period, as sold; absent for usage charges.
    pub unit_price: Option<Decimal>,
    /// The charge, as the schedule holds it.
    pub amount: Decimal,
}

/// A customer's total in one currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Total {
    /// Customer id (empty for the overall total).
    pub customer: String,
    /// Customer name.
    pub customer_name: String,
    /// ISO 4217 code.
    pub currency: String,
    /// How many charges.
    pub charges: u64,
    /// Σ their amounts.
    pub amount: Decimal,
}

/// What the bill run hands its sink, in order: a customer's rows, then that customer's
/// totals, and so on; the overall totals are returned by [`bill`].
pub enum BillEvent<'a> {
    /// One charge.
    Row(BillRow<'a>),
    /// The totals of the customer whose rows came last, one per currency.
    Customer(&'a [Total]),
}

/// Why the bill run stopped: the record could not be read, or the sink could not write.
#[derive(Debug, thiserror::Error)]
pub enum BillError {
    /// The record, or one of its documents.
    #[error(transparent)]
    Review(#[from] ReviewError),
    /// The sink (standard output).
    #[error(transparent)]
    Sink(#[from] std::io::Error),
}

impl From<RecordError> for BillError {
    fn from(e: RecordError) -> Self {
        BillError::Review(ReviewError::Record(e))
    }
}

/// The customer of a document, as far as the bill needs it.
#[derive(Deserialize)]
struct Party<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
}

/// The sales order, as far as the bill needs it.
#[derive(Deserialize)]
struct Order<'a> {
    #[serde(borrow)]
    customer: Party<'a>,
    #[serde(default)]
    lines: Vec<OrderLine>,
}

#[derive(Deserialize)]
struct OrderLine {
    line: u32,
    quantity: Decimal,
    unit_price: Decimal,
}

/// The invoice schedule, borrowed from its bytes (a schedule can hold many thousand charges).
#[derive(Deserialize)]
struct Charge<'a> {
    line: u32,
    #[serde(borrow)]
    product: Cow<'a, str>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    period_start: NaiveDate,
    period_end: NaiveDate,
    bill_date: NaiveDate,
    amount: Decimal,
}

/// A recorded seat change's request.
#[derive(Deserialize)]
struct ChangeRequest {
    line: u32,
    quantity: Decimal,
    date: NaiveDate,
}

/// The bill of `[from, to)` (a month), of every customer or of `customer` alone: rows and
/// customer totals go to `sink` as they are read; returns the overall totals, one per
/// currency (none for an empty bill).
pub fn bill(
    record: &Record,
    from: NaiveDate,
    to: NaiveDate,
    customer: Option<&str>,
    sink: &mut dyn FnMut(BillEvent<'_>) -> std::io::Result<()>,
) -> Result<Vec<Total>, BillError> {
    let mut book = Vec::new();
    for (quote, revision) in record.latest_revisions()? {
        let Some(body) = record.document_body(&quote, revision, &so_path(&quote), None)? else {
            continue;
        };
        let order: Order<'_> = read(&body, &quote, revision, "SO")?;
        let id = order.customer.id.into_owned();
        if customer.is_none_or(|c| c == id) {
            book.push((id, quote, revision));
        }
    }
    book.sort();
    let mut overall: BTreeMap<String, (u64, Decimal)> = BTreeMap::new();
    let mut totals: Vec<Total> = Vec::new();
    let mut at = 0;
    while let Some((id, ..)) = book.get(at) {
        let end = book
            .get(at..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.0 == *id)
            .count()
            + at;
        totals.clear();
        for (_, quote, revision) in book.get(at..end).unwrap_or_default() {
            quote_rows(record, quote, *revision, id, (from, to), &mut totals, sink)?;
        }
        if !totals.is_empty() {
            sink(BillEvent::Customer(&totals))?;
        }
        for t in &totals {
            let o = overall.entry(t.currency.clone()).or_default();
            o.0 += t.charges;
            o.1 += t.amount;
        }
        at = end;
    }
    Ok(overall
        .into_iter()
        .map(|(currency, (charges, amount))| Total {
            customer: String::new(),
            customer_name: String::new(),
            currency,
            charges,
            amount,
        })
        .collect())
}

/// `SO-<quote>.json`.
fn so_path(quote: &str) -> String {
    format!("SO-{quote}.json")
}

/// A stored document as `T`, or an error naming it.
fn read<'a, T: Deserialize<'a>>(
    body: &'a [u8],
    quote: &str,
    revision: u32,
    kind: &str,
) -> Result<T, BillError> {
    serde_json::from_slice(body).map_err(|e| {
        BillError::Review(ReviewError::Io(format!(
            "the record's {kind}-{quote}.json of {quote} revision {revision} does not read: {e}"
        )))
    })
}

/// One quote's charges billed in `month` to the sink, added to the customer's `totals`. The
/// schedule is read as it is parsed, charge by charge: whole when it is stored in one piece,
/// else from the record piece by piece (a schedule of millions of charges is never held).
fn quote_rows(
    record: &Record,
    quote: &str,
    revision: u32,
    customer: &str,
    (from, to): (NaiveDate, NaiveDate),
    totals: &mut Vec<Total>,
    sink: &mut dyn FnMut(BillEvent<'_>) -> std::io::Result<()>,
) -> Result<(), BillError> {
    let path = format!("SCHED-{quote}.json");
    let Some(stored) = record.document_stream(quote, revision, &path)? else {
        return Ok(());
    };
    let mut rows = Rows {
        record,
        quote,
        revision,
        customer,
        month: (from, to),
        sink,
        head: None,
        lines: None,
        count: 0,
        sum: Decimal::ZERO,
        failed: None,
    };
    let parsed = match stored {
        Stored::Whole(body) => {
            let mut de = serde_json::Deserializer::from_slice(&body);
            serde::de::DeserializeSeed::deserialize(&mut rows, &mut de).and_then(|()| de.end())
        }
        Stored::Pieces(reader) => {
            let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
            serde::de::DeserializeSeed::deserialize(&mut rows, &mut de).and_then(|()| de.end())
        }
    };
    if let Some(e) = rows.failed.take() {
        return Err(e);
    }
    parsed.map_err(|e| {
        BillError::Review(ReviewError::Io(format!(
            "the record's {path} of {quote} revision {revision} does not read: {e}"
        )))
    })?;
    let Some((currency, name)) = rows.head.take() else {
        return Err(BillError::Review(ReviewError::Io(format!(
            "the record's {path} of {quote} revision {revision} does not read: it names no customer"
        ))));
    };
    if rows.count == 0 {
        return Ok(());
    }
    match totals.iter_mut().find(|t| t.currency == currency) {
        Some(t) => {
            t.charges += rows.count;
            t.amount += rows.sum;
        }
        None => totals.push(Total {
            customer: customer.to_string(),
            customer_name: name,
            currency,
            charges: rows.count,
            amount: rows.sum,
        }),
    }
    totals.sort_by(|a, b| a.currency.cmp(&b.currency));
    Ok(())
}

/// One quote's bill as its schedule is parsed: the schedule's currency and customer name
/// once read (they come before its charges), the lines' quantities once a charge is billed.
struct Rows<'r, 's> {
    record: &'r Record,
    quote: &'r str,
    revision: u32,
    customer: &'r str,
    month: (NaiveDate, NaiveDate),
    sink: &'s mut dyn FnMut(BillEvent<'_>) -> std::io::Result<()>,
    head: Option<(String, String)>,
    lines: Option<Quantities>,
    count: u64,
    sum: Decimal,
    /// Why the parse was stopped, when it was not the document's fault.
    failed: Option<BillError>,
}

impl Rows<'_, '_> {
    /// The schedule's customer, which must be the sales order's.
    fn customer(&mut self, party: &Party<'_>) -> Result<(), BillError> {
        if party.id != self.customer {
            return Err(RecordError::Inconsistent(format!(
                "the record's SCHED-{q}.json of {q} revision {} bills `{}`, its sales order `{}`",
                self.revision,
                party.id,
                self.customer,
                q = self.quote
            ))
            .into());
        }
        Ok(())
    }

    /// One charge of the schedule: a row when it is billed in the month.
    fn charge(&mut self, c: &Charge<'_>) -> Result<(), BillError> {
        let (from, to) = self.month;
        if c.bill_date < from || c.bill_date >= to {
            return Ok(());
        }
        let Some((currency, name)) = &self.head else {
            return Err(RecordError::Inconsistent(format!(
                "the record's SCHED-{q}.json of {q} revision {} lists charges before its customer",
                self.revision,
                q = self.quote
            ))
            .into());
        };
        let lines = match &mut self.lines {
            Some(l) => l,
            None => self
                .lines
                .insert(Quantities::of(self.record, self.quote, self.revision)?),
        };
        // A usage charge (and its minimum's true-up) is rated from usage, not units × price:
        // the line's quantity and unit price would not explain it.
        let rated = matches!(&*c.kind, "usage" | "minimum_true_up");
        self.count += 1;
        self.sum += c.amount;
        (self.sink)(BillEvent::Row(BillRow {
            quote: self.quote,
            revision: self.revision,
            customer: self.customer,
            customer_name: name,
            currency,
            line: c.line,
            product: &c.product,
            kind: &c.kind,
            period_start: c.period_start,
            period_end: c.period_end,
            bill_date: c.bill_date,
            quantity: lines.quantity(c.line, c.bill_date).filter(|_| !rated),
            unit_price: lines.unit_price.get(&c.line).copied().filter(|_| !rated),
            amount: c.amount,
        }))?;
        Ok(())
    }

    /// Keeps why the parse stops, for the caller.
    fn stop<E: serde::de::Error>(&mut self, e: BillError) -> E {
        let message = e.to_string();
        self.failed = Some(e);
        E::custom(message)
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for &mut Rows<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for &mut Rows<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an invoice schedule")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut currency: Option<String> = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "currency" => currency = Some(map.next_value()?),
                "customer" => {
                    let party: Party<'de> = map.next_value()?;
                    if let Err(e) = self.customer(&party) {
                        return Err(self.stop(e));
                    }
                    let Some(c) = currency.clone() else {
                        return Err(serde::de::Error::missing_field("currency"));
                    };
                    self.head = Some((c, party.name.into_owned()));
                }
                "charges" => map.next_value_seed(Charges(&mut *self))?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The schedule's `charges`, each handed to [`Rows::charge`] as it is parsed.
struct Charges<'a, 'r, 's>(&'a mut Rows<'r, 's>);

impl<'de> serde::de::DeserializeSeed<'de> for Charges<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Charges<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the schedule's charges")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(c) = seq.next_element::<Charge<'de>>()? {
            if let Err(e) = self.0.charge(&c) {
                return Err(self.0.stop(e));
            }
        }
        Ok(())
    }
}

/// A quote's lines as the bill shows them: unit prices from the current sales order, and
/// quantities as accepted, changed by each recorded seat change from its date.
struct Quantities {
    accepted: BTreeMap<u32, Decimal>,
    unit_price: BTreeMap<u32, Decimal>,
    /// (line, from, quantity), by date then order recorded.
    changes: Vec<(u32, NaiveDate, Decimal)>,
}

impl Quantities {
    fn of(record: &Record, quote: &str, revision: u32) -> Result<Quantities, BillError> {
        let path = so_path(quote);
        let changes = record.changes(quote, revision)?;
        let seq = if changes.is_empty() { None } else { Some(0) };
        let body = record
            .document_body(quote, revision, &path, seq)?
            .unwrap_or_default();
        let order: Order<'_> = if body.is_empty() {
            Order {
                customer: Party {
                    id: Cow::Borrowed(""),
                    name: Cow::Borrowed(""),
                },
                lines: Vec::new(),
            }
        } else {
            read(&body, quote, revision, "SO")?
        };
        let mut steps = Vec::with_capacity(changes.len());
        for c in changes {
            let r: ChangeRequest = serde_json::from_value(c.request).map_err(|e| {
                BillError::Review(ReviewError::Io(format!(
                    "the record's change {} of {quote} revision {revision} does not read: {e}",
                    c.change_order
                )))
            })?;
            steps.push((r.line, r.date, r.quantity));
        }
        steps.sort_by_key(|s| s.1);
        Ok(Quantities {
            accepted: order.lines.iter().map(|l| (l.line, l.quantity)).collect(),
            unit_price: order.lines.iter().map(|l| (l.line, l.unit_price)).collect(),
            changes: steps,
        })
    }

    /// The line's quantity on `day`: the last change in effect by then, else as accepted.
    fn quantity(&self, line: u32, day: NaiveDate) -> Option<Decimal> {
        self.changes
            .iter()
            .rev()
            .find(|(l, from, _)| *l == line && *from <= day)
            .map(|c| c.2)
            .or_else(|| self.accepted.get(&line).copied())
    }
}
