//! Tenor's TD SYNNEX StreamOne Ion connector (v3). A purchase order becomes a cart under
//! `accounts/{accountId}/customers/{customerId}/` with one `CREATE` item per line (TD SYNNEX's
//! own `productId`, `skuId` and `planId`, from the rules), checked out by `push_step`; orders
//! and subscriptions are read back in StreamOne's shapes ([`cart`]). Billing arrives as a CSV
//! report whose columns TD SYNNEX does not publish: this connector defines them (see
//! `README.md` and [`columns`]).

pub mod cart;
mod pull;
mod push;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;
use tenor_plugin_sdk::connector::{invalid, period_end, read_json};
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::exchange::{PullInput, PullStep, PushInput, PushStep};
use tenor_plugin_sdk::{
    Capability, InvoiceLine, OrderLine, Plugin, PluginError, PluginInfo, Rendered,
};

/// The distributor name this connector serves in rule files.
pub const DISTRIBUTOR: &str = "tdsynnex";
/// The only cart action Tenor writes: a new subscription.
pub const CREATE: &str = "CREATE";

/// The TD SYNNEX connector.
#[derive(Default)]
pub struct Connector;

/// A StreamOne billing cycle (`subscriptionBillingCycle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cycle {
    /// `monthly`, plan letter `M`.
    Monthly,
    /// `annual`, plan letter `A`.
    Annual,
    /// `triennial`, plan letter `T`: three years billed at once.
    Triennial,
}

impl Cycle {
    /// StreamOne's word for the cycle.
    pub fn word(self) -> &'static str {
        match self {
            Cycle::Monthly => "monthly",
            Cycle::Annual => "annual",
            Cycle::Triennial => "triennial",
        }
    }

    /// The cycle's letter in a plan id or `mfgPartNumber` (assumed: `M` is confirmed, `A` and
    /// `T` follow it).
    pub fn letter(self) -> &'static str {
        match self {
            Cycle::Monthly => "M",
            Cycle::Annual => "A",
            Cycle::Triennial => "T",
        }
    }

    /// Tenor's billing frequency for the cycle: a triennial cycle bills the whole three-year
    /// term at its start, which Tenor calls `upfront`.
    pub fn tenor_billing(self) -> &'static str {
        match self {
            Cycle::Monthly => "monthly",
            Cycle::Annual => "annual",
            Cycle::Triennial => "upfront",
        }
    }

    /// Reads StreamOne's word for a cycle, in any case.
    pub fn from_word(word: &str) -> Option<Cycle> {
        match word.trim().to_ascii_lowercase().as_str() {
            "monthly" => Some(Cycle::Monthly),
            "annual" | "annually" => Some(Cycle::Annual),
            "triennial" => Some(Cycle::Triennial),
            _ => None,
        }
    }

    /// Reads a cycle's plan letter, in any case.
    pub fn from_letter(letter: &str) -> Option<Cycle> {
        match letter.trim().to_ascii_uppercase().as_str() {
            "M" => Some(Cycle::Monthly),
            "A" => Some(Cycle::Annual),
            "T" => Some(Cycle::Triennial),
            _ => None,
        }
    }

    /// True when StreamOne bills this cycle for a `term`: never a cycle longer than the term.
    fn fits(self, term: &str) -> bool {
        matches!(
            (term, self),
            (_, Cycle::Monthly) | ("P1Y" | "P3Y", Cycle::Annual) | ("P3Y", Cycle::Triennial)
        )
    }
}

/// Tenor term → StreamOne `subscriptionBillingTerm`: the commitments StreamOne sells.
pub fn billing_term(term: &str) -> Result<&'static str, PluginError> {
    match term {
        "P1M" => Ok("P1M"),
        "P1Y" => Ok("P1Y"),
        "P3Y" => Ok("P3Y"),
        "one-time" => Err(invalid(
            "TD SYNNEX StreamOne sells subscriptions: a `one-time` line cannot be a cart item; route it to another distributor",
        )),
        other => Err(invalid(format!(
            "TD SYNNEX StreamOne has no `{other}` commitment (only P1M, P1Y and P3Y)"
        ))),
    }
}

/// StreamOne `subscriptionBillingTerm` (any case) → Tenor term.
pub fn tenor_term(term: &str) -> Option<&'static str> {
    match term.trim().to_ascii_uppercase().as_str() {
        "P1M" => Some("P1M"),
        "P1Y" => Some("P1Y"),
        "P3Y" => Some("P3Y"),
        _ => None,
    }
}

/// Tenor (term, billing) → StreamOne billing cycle, per the term table. `upfront` is the whole
/// term at once: a month for P1M, a year for P1Y, three years (`triennial`) for P3Y.
pub fn billing_cycle(term: &str, billing: &str) -> Result<Cycle, PluginError> {
    let term = billing_term(term)?;
    let cycle = match (term, billing) {
        (_, "monthly") | ("P1M", "upfront") => Some(Cycle::Monthly),
        ("P1Y", "annual" | "upfront") | ("P3Y", "annual") => Some(Cycle::Annual),
        ("P3Y", "upfront") => Some(Cycle::Triennial),
        _ => None,
    };
    cycle.ok_or_else(|| {
        invalid(format!(
            "TD SYNNEX StreamOne has no billing cycle for {term} billed `{billing}` (it bills monthly, annual or, for P3Y, triennial)"
        ))
    })
}

/// Reads a plan id `TERM:CYCLE` back into a Tenor term and cycle.
pub fn parse_plan(plan: &str) -> Option<(&'static str, Cycle)> {
    let (term, letter) = plan.split_once(':')?;
    let term = tenor_term(term)?;
    let cycle = Cycle::from_letter(letter)?;
    cycle.fits(term).then_some((term, cycle))
}

/// `PRODUCT:SKU` into its two ids, both non-empty and without spaces.
fn split_part(part: &str) -> Option<(String, String)> {
    let (product, sku) = part.split_once(':')?;
    let ok = |s: &str| !s.is_empty() && !s.contains(|c: char| c == ':' || c.is_whitespace());
    (ok(product) && ok(sku)).then(|| (product.to_string(), sku.to_string()))
}

impl Plugin for Connector {
    fn info(&self) -> PluginInfo {
        PluginInfo::distributor(
            DISTRIBUTOR,
            env!("CARGO_PKG_VERSION"),
            &[
                Capability::RenderPurchaseOrder,
                Capability::ParseOrder,
                Capability::ParseInvoice,
                Capability::Detect,
                Capability::Push,
                Capability::Pull,
            ],
        )
        .with_link_keys(&[cart::ACCOUNT, cart::CUSTOMER])
    }

    fn render_purchase_order(&self, po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        let body = cart::cart_body(po, &po.customer.accounts)?;
        Ok(vec![Rendered::json(
            format!("{}.tdsynnex-cart", po.id),
            &body,
        )?])
    }

    fn parse_order(&self, text: &str) -> Result<Vec<OrderLine>, PluginError> {
        let v: Value = read_json(text, "a TD SYNNEX StreamOne order or cart")?;
        cart::order_lines(&v)
    }

    fn push_step(&self, input: &PushInput) -> Result<PushStep, PluginError> {
        push::step(input)
    }

    fn pull_step(&self, input: &PullInput) -> Result<PullStep, PluginError> {
        pull::step(input)
    }

    fn parse_invoice(&self, text: &str) -> Result<Vec<InvoiceLine>, PluginError> {
        let mut rows = records(text)?.into_iter();
        let Some((header_row, header)) = rows.next() else {
            return Err(invalid(format!(
                "the TD SYNNEX billing CSV is empty; it needs a header row naming {}",
                columns::REQUIRED.join(", ")
            )));
        };
        let table = Header::read(header_row, &header)?;
        rows.map(|(n, fields)| table.row(n, &fields).and_then(|r| invoice_line(&r)))
            .collect()
    }

    fn detect(&self, text: &str) -> bool {
        if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(text) {
            let items = o.get("items").and_then(Value::as_array);
            let items = items.or_else(|| o.get("orderItems").and_then(Value::as_array));
            return o.contains_key("resellerPo")
                || o.contains_key("orderItems")
                    && items.is_some_and(|i| i.iter().all(|it| it.get("planId").is_some()));
        }
        // A billing CSV: its header names this connector's key columns.
        let first = text
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap_or_default();
        let names: Vec<String> = first
            .split(',')
            .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
            .collect();
        [columns::INVOICE_NUMBER, columns::MFG_PART_NUMBER]
            .iter()
            .all(|c| names.iter().any(|n| n == c))
    }
}

/// The billing CSV's columns, named in its header row (any order, any case; columns not listed
/// here are ignored, so a full StreamOne export can be read as it is).
pub mod columns {
    /// Required: the invoice number (→ the invoice line's document).
    pub const INVOICE_NUMBER: &str = "invoice_number";
    /// Required: the invoice date, `YYYY-MM-DD`.
    pub const INVOICE_DATE: &str = "invoice_date";
    /// Optional: the end customer's id at TD SYNNEX.
    pub const CUSTOMER_ID: &str = "customer_id";
    /// Optional: the cart name or PO number the order was placed with (the Tenor PO id).
    pub const ORDER_REFERENCE: &str = "order_reference";
    /// Optional: StreamOne's subscription id (kept in the description).
    pub const SUBSCRIPTION_ID: &str = "subscription_id";
    /// Required: `PRODUCT:SKU` or the subscription's `PRODUCT:SKU:TERM:CYCLE`.
    pub const MFG_PART_NUMBER: &str = "mfg_part_number";
    /// Optional: what the line says.
    pub const DESCRIPTION: &str = "description";
    /// Required: units billed, a decimal number.
    pub const QUANTITY: &str = "quantity";
    /// Optional: price of one unit, a decimal number.
    pub const UNIT_PRICE: &str = "unit_price";
    /// Required: amount of the line, a decimal number (negative for credits).
    pub const AMOUNT: &str = "amount";
    /// Optional: first day billed, `YYYY-MM-DD`.
    pub const PERIOD_START: &str = "period_start";
    /// Optional: last day billed (inclusive), `YYYY-MM-DD`.
    pub const PERIOD_END: &str = "period_end";
    /// Optional: `P1M`, `P1Y` or `P3Y`.
    pub const BILLING_TERM: &str = "billing_term";
    /// Optional: `monthly`, `annual` or `triennial`.
    pub const BILLING_CYCLE: &str = "billing_cycle";

    /// Columns the header must name.
    pub const REQUIRED: [&str; 5] = [
        INVOICE_NUMBER,
        INVOICE_DATE,
        MFG_PART_NUMBER,
        QUANTITY,
        AMOUNT,
    ];
    /// Every column the connector reads, in the order the README lists them.
    pub const ALL: [&str; 14] = [
        INVOICE_NUMBER,
        INVOICE_DATE,
        CUSTOMER_ID,
        ORDER_REFERENCE,
        SUBSCRIPTION_ID,
        MFG_PART_NUMBER,
        DESCRIPTION,
        QUANTITY,
        UNIT_PRICE,
        AMOUNT,
        PERIOD_START,
        PERIOD_END,
        BILLING_TERM,
        BILLING_CYCLE,
    ];
}

/// Where each known column sits in the billing CSV.
struct Header {
    /// Column name → field index, for the columns present.
    at: Vec<(&'static str, usize)>,
    /// Fields a row must have.
    width: usize,
}

impl Header {
    fn read(row: usize, names: &[String]) -> Result<Header, PluginError> {
        let names: Vec<String> = names
            .iter()
            .map(|n| n.trim().to_ascii_lowercase())
            .collect();
        let mut at = Vec::new();
        for col in columns::ALL {
            let mut found = names
                .iter()
                .enumerate()
                .filter(|(_, n)| *n == col)
                .map(|(i, _)| i);
            if let Some(i) = found.next() {
                if found.next().is_some() {
                    return Err(invalid(format!(
                        "TD SYNNEX billing CSV row {row}: column `{col}` appears twice in the header"
                    )));
                }
                at.push((col, i));
            }
        }
        let missing: Vec<&str> = columns::REQUIRED
            .into_iter()
            .filter(|c| !at.iter().any(|(name, _)| name == c))
            .collect();
        if !missing.is_empty() {
            return Err(invalid(format!(
                "TD SYNNEX billing CSV row {row}: the header has no {} column; a header row naming {} is required",
                missing
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                columns::REQUIRED.join(", ")
            )));
        }
        Ok(Header {
            at,
            width: names.len(),
        })
    }

    fn row<'a>(&'a self, n: usize, fields: &'a [String]) -> Result<Row<'a>, PluginError> {
        if fields.len() != self.width {
            return Err(invalid(format!(
                "TD SYNNEX billing CSV row {n}: {} fields where the header has {}",
                fields.len(),
                self.width
            )));
        }
        Ok(Row {
            n,
            fields,
            header: self,
        })
    }
}

/// One data row of the billing CSV, read by column name.
struct Row<'a> {
    /// Row number as a spreadsheet shows it (the header is row 1).
    n: usize,
    fields: &'a [String],
    header: &'a Header,
}

impl Row<'_> {
    /// The trimmed value of a column; `None` when the column is absent or the cell empty.
    fn get(&self, col: &str) -> Option<&str> {
        let (_, i) = self.header.at.iter().find(|(name, _)| *name == col)?;
        Some(self.fields.get(*i)?.trim()).filter(|v| !v.is_empty())
    }

    fn bad(&self, col: &str, why: impl std::fmt::Display) -> PluginError {
        invalid(format!(
            "TD SYNNEX billing CSV row {}, column `{col}`: {why}",
            self.n
        ))
    }

    fn required(&self, col: &str) -> Result<&str, PluginError> {
        self.get(col).ok_or_else(|| self.bad(col, "is empty"))
    }

    /// A cell read with `read`, which says what it expected when the cell does not fit.
    fn parse<T>(
        &self,
        col: &str,
        read: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<Option<T>, PluginError> {
        self.get(col)
            .map(|v| read(v).ok_or_else(|| self.bad(col, format!("`{v}` is not {expected}"))))
            .transpose()
    }

    fn money(&self, col: &str) -> Result<Option<Decimal>, PluginError> {
        self.parse(
            col,
            |v| Decimal::from_str_exact(v).ok(),
            "an exact decimal number",
        )
    }

    fn date(&self, col: &str) -> Result<Option<NaiveDate>, PluginError> {
        self.parse(
            col,
            |v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok(),
            "a date (YYYY-MM-DD)",
        )
    }
}

/// One billing row as an invoice line.
fn invoice_line(r: &Row<'_>) -> Result<InvoiceLine, PluginError> {
    use columns::*;
    let document = r.required(INVOICE_NUMBER)?.to_string();
    let date = r
        .date(INVOICE_DATE)?
        .ok_or_else(|| r.bad(INVOICE_DATE, "is empty"))?;
    let mfg = r.required(MFG_PART_NUMBER)?;
    let (part_number, plan) = split_mfg(mfg).ok_or_else(|| {
        r.bad(
            MFG_PART_NUMBER,
            format!("`{mfg}` is not `PRODUCT:SKU` or `PRODUCT:SKU:TERM:CYCLE`"),
        )
    })?;
    let quantity = r
        .money(QUANTITY)?
        .ok_or_else(|| r.bad(QUANTITY, "is empty"))?;
    let amount = r.money(AMOUNT)?.ok_or_else(|| r.bad(AMOUNT, "is empty"))?;
    let term = r.parse(BILLING_TERM, tenor_term, "`P1M`, `P1Y` or `P3Y`")?;
    let cycle = r.parse(
        BILLING_CYCLE,
        Cycle::from_word,
        "`monthly`, `annual` or `triennial`",
    )?;
    // The part number's own plan and the term and cycle columns must tell the same story.
    if let Some((plan_term, plan_cycle)) = plan {
        if term.is_some_and(|t| t != plan_term) {
            return Err(r.bad(
                BILLING_TERM,
                format!("disagrees with `{mfg}` in `{MFG_PART_NUMBER}`"),
            ));
        }
        if cycle.is_some_and(|c| c != plan_cycle) {
            return Err(r.bad(
                BILLING_CYCLE,
                format!("disagrees with `{mfg}` in `{MFG_PART_NUMBER}`"),
            ));
        }
    }
    let term = term.or(plan.map(|(t, _)| t));
    let cycle = cycle.or(plan.map(|(_, c)| c));
    if let (Some(t), Some(c)) = (term, cycle) {
        if !c.fits(t) {
            return Err(r.bad(
                BILLING_CYCLE,
                format!("`{}` does not fit a {t} term", c.word()),
            ));
        }
    }
    let period_start = r.date(PERIOD_START)?;
    // The report prints the last day billed; Tenor's periods end the day after.
    let period_end = r
        .date(PERIOD_END)?
        .map(|d| period_end(d).ok_or_else(|| r.bad(PERIOD_END, "is out of range")))
        .transpose()?;
    if let (Some(s), Some(e)) = (period_start, period_end) {
        if e <= s {
            return Err(r.bad(PERIOD_END, format!("ends before `{PERIOD_START}` {s}")));
        }
    }
    Ok(InvoiceLine {
        serial_numbers: Vec::new(),
        document,
        reference: r.get(ORDER_REFERENCE).map(str::to_string),
        customer: r.get(CUSTOMER_ID).map(str::to_string),
        part_number,
        description: description(r.get(DESCRIPTION), r.get(SUBSCRIPTION_ID)),
        quantity,
        unit_price: r.money(UNIT_PRICE)?,
        amount,
        period_start,
        period_end,
        term: term.map(str::to_string),
        billing: cycle.map(|c| c.tenor_billing().to_string()),
        date: Some(date),
    })
}

/// `InvoiceLine` has no field for the subscription id, so it is kept in the description, where
/// a person reading a finding can look it up at StreamOne.
fn description(text: Option<&str>, subscription: Option<&str>) -> String {
    match (text, subscription) {
        (Some(t), Some(s)) => format!("{t} (subscription {s})"),
        (Some(t), None) => t.to_string(),
        (None, Some(s)) => format!("subscription {s}"),
        (None, None) => String::new(),
    }
}

/// `PRODUCT:SKU` or `PRODUCT:SKU:TERM:CYCLE` → the part number `PRODUCT:SKU` (as the rules
/// write it, so it matches the purchase order) and the plan, if the part carries one.
fn split_mfg(mfg: &str) -> Option<(String, Option<(&'static str, Cycle)>)> {
    let mut segments = mfg.splitn(3, ':');
    let (product, sku) = (segments.next()?, segments.next()?);
    let part = format!("{product}:{sku}");
    split_part(&part)?;
    match segments.next() {
        None => Some((part, None)),
        Some(plan) => Some((part, Some(parse_plan(plan)?))),
    }
}

/// Splits CSV text into records of fields, each with its row number as a spreadsheet shows it
/// (the first record is row 1; blank lines count but are skipped). RFC 4180: fields separated
/// by commas; a field in double quotes may hold commas, line breaks and doubled quotes (`""`);
/// lines end with LF or CRLF; a leading byte-order mark (spreadsheet exports) is ignored.
fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, PluginError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bad = |row: usize, why: &str| invalid(format!("TD SYNNEX billing CSV row {row}: {why}"));
    let mut out = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut row = 1;
    // Whether the current field was quoted, and whether we are inside its quotes.
    let (mut quoted, mut inside) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if inside {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => inside = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !quoted => (quoted, inside) = (true, true),
            '"' => {
                return Err(bad(
                    row,
                    "a double quote inside an unquoted field (quote the whole field and double the quote)",
                ));
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                quoted = false;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                record.push(std::mem::take(&mut field));
                quoted = false;
                let blank = matches!(record.as_slice(), [only] if only.is_empty());
                let done = std::mem::take(&mut record);
                if !blank {
                    out.push((row, done));
                }
                row += 1;
            }
            _ if quoted => return Err(bad(row, "text after a closing double quote")),
            c => field.push(c),
        }
    }
    if inside {
        return Err(bad(row, "a double quote is never closed"));
    }
    if quoted || !field.is_empty() || !record.is_empty() {
        record.push(field);
        out.push((row, record));
    }
    Ok(out)
}

tenor_plugin_sdk::export_plugin!(Connector);

#[cfg(test)]
mod cart_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<impl std::fmt::Debug, PluginError>) -> String {
        match r {
            Err(PluginError::Invalid(m)) => m,
            other => panic!("expected an Invalid error, got {other:?}"),
        }
    }

    #[test]
    fn terms_and_cycles_map_both_ways() {
        for (term, billing, plan, back) in [
            ("P1M", "monthly", "P1M:M", "monthly"),
            ("P1M", "upfront", "P1M:M", "monthly"),
            ("P1Y", "monthly", "P1Y:M", "monthly"),
            ("P1Y", "annual", "P1Y:A", "annual"),
            ("P1Y", "upfront", "P1Y:A", "annual"),
            ("P3Y", "monthly", "P3Y:M", "monthly"),
            ("P3Y", "annual", "P3Y:A", "annual"),
            ("P3Y", "upfront", "P3Y:T", "upfront"),
        ] {
            let cycle = billing_cycle(term, billing).unwrap();
            assert_eq!(format!("{term}:{}", cycle.letter()), plan);
            let (t, c) = parse_plan(plan).unwrap();
            assert_eq!((t, c.tenor_billing()), (term, back));
        }
        assert!(billing_cycle("P1M", "annual").is_err());
        assert!(billing_cycle("P2Y", "monthly").is_err());
        assert_eq!(parse_plan("p1y:a"), Some(("P1Y", Cycle::Annual)));
        assert_eq!(parse_plan("P1M:A"), None);
        assert_eq!(parse_plan("P1Y:T"), None);
        assert_eq!(Cycle::from_word("Triennial"), Some(Cycle::Triennial));
    }

    const CSV: &str = "invoice_number,invoice_date,customer_id,order_reference,subscription_id,mfg_part_number,description,quantity,unit_price,amount,period_start,period_end,billing_term,billing_cycle\r\n\
        INV-5001,2026-12-08,TD-778,PO-Q-1001-tdsynnex,SUB-1,CFQ7TTC0LCHC:0002,Microsoft 365 Business Premium,12,17.60,211.20,2026-12-07,2027-01-06,P1Y,monthly\r\n\
        INV-5001,2026-12-08,TD-778,PO-Q-1001-tdsynnex,SUB-2,CFQ7TTC0LFLX:0001:P3Y:T,\"Microsoft 365 E3, \"\"3 year\"\" prepaid\",5,1036.80,5184.00,2026-12-07,2029-12-06,,\r\n\
        INV-5001,2026-12-08,TD-778,,,CFQ7TTC0LH18:0001,,0.5,0.0375,-0.01875,,,P1M,Monthly\r\n";

    #[test]
    fn reads_the_billing_csv_exactly() {
        let lines = Connector.parse_invoice(CSV).unwrap();
        assert_eq!(lines.len(), 3);
        let l = &lines[0];
        assert_eq!(l.document, "INV-5001");
        assert_eq!(l.date, NaiveDate::from_ymd_opt(2026, 12, 8));
        assert_eq!(l.customer.as_deref(), Some("TD-778"));
        assert_eq!(l.reference.as_deref(), Some("PO-Q-1001-tdsynnex"));
        assert_eq!(l.part_number, "CFQ7TTC0LCHC:0002");
        assert_eq!(
            l.description,
            "Microsoft 365 Business Premium (subscription SUB-1)"
        );
        assert_eq!(l.quantity, Decimal::from(12));
        assert_eq!(l.unit_price.unwrap().to_string(), "17.60");
        assert_eq!(l.amount.to_string(), "211.20");
        assert_eq!(l.period_start, NaiveDate::from_ymd_opt(2026, 12, 7));
        // The last day billed, 2027-01-06, ends Tenor's half-open period the day after.
        assert_eq!(l.period_end, NaiveDate::from_ymd_opt(2027, 1, 7));
        assert_eq!(
            (l.term.as_deref(), l.billing.as_deref()),
            (Some("P1Y"), Some("monthly"))
        );
        // A quoted field keeps its comma and quotes; the plan comes from the part number.
        let l = &lines[1];
        assert_eq!(l.part_number, "CFQ7TTC0LFLX:0001");
        assert_eq!(
            l.description,
            "Microsoft 365 E3, \"3 year\" prepaid (subscription SUB-2)"
        );
        assert_eq!(
            (l.term.as_deref(), l.billing.as_deref()),
            (Some("P3Y"), Some("upfront"))
        );
        let l = &lines[2];
        assert_eq!(l.reference, None);
        assert_eq!(l.description, "");
        assert_eq!(l.quantity.to_string(), "0.5");
        assert_eq!(l.unit_price.unwrap().to_string(), "0.0375");
        assert_eq!(l.amount.to_string(), "-0.01875");
        assert_eq!(l.billing.as_deref(), Some("monthly"));
        assert!(Connector.detect(CSV));
    }

    #[test]
    fn columns_may_come_in_any_order_with_others_between() {
        let text = "\u{feff}Amount,Region,MFG_Part_Number,Quantity,Invoice_Date,Invoice_Number\n\
            \"1,049.00\",EU,A:1,1,2026-12-01,I-1\n";
        // Thousands separators are not exact decimal numbers: the row and column are named.
        let m = message(Connector.parse_invoice(text));
        assert_eq!(
            m,
            "TD SYNNEX billing CSV row 2, column `amount`: `1,049.00` is not an exact decimal number"
        );
        let lines = Connector
            .parse_invoice(&text.replace("\"1,049.00\"", "1049.00"))
            .unwrap();
        assert_eq!(lines[0].amount.to_string(), "1049.00");
        assert_eq!(lines[0].part_number, "A:1");
        assert_eq!(lines[0].term, None);
    }

    #[test]
    fn a_bad_row_is_named_by_row_number_and_field() {
        let bad =
            |from: &str, to: &str| message(Connector.parse_invoice(&CSV.replacen(from, to, 1)));
        assert_eq!(
            bad("211.20", "211.2O"),
            "TD SYNNEX billing CSV row 2, column `amount`: `211.2O` is not an exact decimal number"
        );
        assert_eq!(
            bad("0.5,0.0375", ",0.0375"),
            "TD SYNNEX billing CSV row 4, column `quantity`: is empty"
        );
        assert!(
            bad("2026-12-07,2029-12-06", "2026-12-07,06/12/2029").starts_with(
                "TD SYNNEX billing CSV row 3, column `period_end`: `06/12/2029` is not a date"
            )
        );
        assert!(
            bad("P1M,Monthly", "P1M,weekly")
                .starts_with("TD SYNNEX billing CSV row 4, column `billing_cycle`: `weekly`")
        );
        assert!(
            bad("P1M,Monthly", "P1M,annual")
                .contains("row 4, column `billing_cycle`: `annual` does not fit a P1M term")
        );
        assert!(
            bad(
                "prepaid\",5,1036.80,5184.00,2026-12-07,2029-12-06,,",
                "prepaid\",5,1036.80,5184.00,2026-12-07,2029-12-06,P1Y,"
            )
            .contains("row 3, column `billing_term`: disagrees with `CFQ7TTC0LFLX:0001:P3Y:T`")
        );
        assert!(
            bad("CFQ7TTC0LH18:0001", "CFQ7TTC0LH18")
                .contains("row 4, column `mfg_part_number`: `CFQ7TTC0LH18` is not")
        );
        assert!(
            bad("2027-01-06", "2026-12-01").contains("row 2, column `period_end`: ends before")
        );
        assert_eq!(
            bad(",P1Y,monthly\r\n", ",P1Y\r\n"),
            "TD SYNNEX billing CSV row 2: 13 fields where the header has 14"
        );
    }

    #[test]
    fn the_header_is_required() {
        assert!(message(Connector.parse_invoice("")).contains("is empty; it needs a header row"));
        let m = message(Connector.parse_invoice("INV-1,2026-12-01,A:1,1,10.00\n"));
        assert!(
            m.starts_with(
                "TD SYNNEX billing CSV row 1: the header has no `invoice_number`, `invoice_date`"
            ),
            "{m}"
        );
        let m =
            message(Connector.parse_invoice(
                "invoice_number,invoice_date,mfg_part_number,quantity,amount,amount\n",
            ));
        assert!(m.contains("column `amount` appears twice"), "{m}");
    }

    #[test]
    fn csv_quoting_rules() {
        let h = "invoice_number,invoice_date,mfg_part_number,quantity,amount\n";
        // Blank lines count as rows but are skipped; a line break inside quotes stays in its field.
        let lines = Connector
            .parse_invoice(&format!("{h}\n\"I\n1\",2026-12-01,A:1,1,1.00"))
            .unwrap();
        assert_eq!(lines[0].document, "I\n1");
        let m = message(Connector.parse_invoice(&format!("{h}\nI-1,2026-12-01,A:1,1,x")));
        assert!(m.starts_with("TD SYNNEX billing CSV row 3,"), "{m}");
        assert!(
            message(Connector.parse_invoice(&format!("{h}I-1,2026-12-01,\"A:1,1,1")))
                .contains("row 2: a double quote is never closed")
        );
        assert!(
            message(Connector.parse_invoice(&format!("{h}I-1,2026-\"12,A:1,1,1\n")))
                .contains("row 2: a double quote inside an unquoted field")
        );
        assert!(
            message(Connector.parse_invoice(&format!("{h}I-1,\"2026-12-01\"x,A:1,1,1\n")))
                .contains("row 2: text after a closing double quote")
        );
        assert_eq!(
            records("a,\"\"\n").unwrap(),
            vec![(1, vec!["a".to_string(), String::new()])]
        );
    }

    #[test]
    fn detects_only_tdsynnex_documents() {
        assert!(Connector.detect(r#"{"displayName":"PO-1","resellerPo":"PO-1","items":[]}"#));
        assert!(Connector.detect("invoice_number,mfg_part_number\n"));
        assert!(!Connector.detect(r#"{"customerOrderNumber":"PO-1","lines":[]}"#));
        assert!(!Connector.detect(r#"{"displayName":"x","items":[{"sku":"y"}]}"#));
        assert!(!Connector.detect("invoice_number,sku,amount\n"));
        assert!(!Connector.detect(""));
    }

    #[test]
    fn info_lists_what_it_does() {
        let info = Connector.info();
        assert_eq!(info.name, "tdsynnex");
        assert_eq!(info.distributor.as_deref(), Some("tdsynnex"));
        assert_eq!(info.capabilities.len(), 6);
    }
}
