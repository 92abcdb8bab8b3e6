//! Seat changes on an accepted subscription (`tenor change`): a new quantity for one sales-order
//! line from a date, written as a change order (`CO-<quote>-<line>-<date>.json`,
//! `tenor.change-order/1`) with the invoice schedule and the sales order amended to match.
//!
//! The rules (DOMAIN.md, "Quantity changes in mid-term"; CHANGES.md explains each choice):
//! - Billing periods are read back from the accepted schedule, never re-derived, so anchored
//!   month ends stay exactly as accepted.
//! - Added seats are billed from the change date to the end of its billing period, prorated by
//!   the line's co-term policy, then at the full price for every later period of the commitment.
//!   Prices are locked for the term: the sales order's unit price, not the current rules'.
//! - A decrease is refunded by day inside the product's cancellation window, counted from when
//!   the seats were added; outside it, it is refused until renewal. A product without a window
//!   drops the seats from its next billing period, without a refund.
//! - Every charge is computed exactly and rounded once, in the rule set's mode.
//! - The change order records the digests of the documents it was applied to and of the
//!   documents it made; the record (`crate::record::change`) keeps it with them, in one
//!   transaction, so running it again is a no-op.

use crate::engine::calendar::{self, Anchor};
use crate::engine::catalogue::{
    Catalogue, DayBasis, DiscountAmount, DiscountRule, Offer, Price, Proration, Sellable, TierMode,
};
use crate::engine::pricing::muldiv;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tenor_plugin_sdk::docs::{
    self, InvoiceSchedule, SalesOrder, SalesOrderLine, ScheduledCharge, Timing,
};

/// Schema of [`ChangeOrder`].
pub const CHANGE_ORDER: &str = "tenor.change-order/1";

/// Whether a change adds or removes seats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// More seats than before.
    Increase,
    /// Fewer seats than before.
    Decrease,
}

/// SHA-256 digests, in hex, of a sales order file and its schedule file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentDigests {
    /// Of `SO-<quote>.json`.
    pub sales_order: String,
    /// Of `SCHED-<quote>.json`.
    pub schedule: String,
}

/// A quantity change on one line of an accepted sales order, with the charges it adds to the
/// invoice schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeOrder {
    /// Always [`CHANGE_ORDER`].
    pub schema: String,
    /// `CO-<quote>-<line>-<date>`.
    pub id: String,
    /// The sales order changed.
    pub sales_order: String,
    /// The quote it was accepted from.
    pub quote: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Who is billed.
    pub customer: docs::Customer,
    /// The sales order line (from 1).
    pub line: u32,
    /// SKU of the line.
    pub product: String,
    /// Increase or decrease.
    pub kind: ChangeKind,
    /// Units before the change.
    pub old_quantity: Decimal,
    /// Units after the change.
    pub new_quantity: Decimal,
    /// The date of the change.
    pub effective: NaiveDate,
    /// The first day billed at the new quantity (a decrease without a cancellation window waits
    /// for the next billing period).
    pub billed_from: NaiveDate,
    /// The locked price of one unit for one billing period: the price the line was sold at.
    pub unit_price: Decimal,
    /// The end of the commitment (exclusive), when the line renews.
    pub renewal: NaiveDate,
    /// The product's cancellation window in days, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_days: Option<u32>,
    /// The charges added to the schedule: prorated and recurring charges of added seats, or the
    /// refund and reductions of removed ones, each followed by its discounts.
    pub charges: Vec<ScheduledCharge>,
    /// The sum of the charges.
    pub total: Decimal,
    /// How much a full billing period of the line changes, net of lasting discounts.
    pub recurring_change: Decimal,
    /// Why the charges are what they are, in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What the change does that is probably not what was meant (the new quantity falls in
    /// another volume tier, but the locked rate stays until renewal).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Digests of the documents the change was applied to.
    pub applied_to: DocumentDigests,
    /// Digests of the documents the change made.
    pub result: DocumentDigests,
}

/// What to change: a line's new quantity from a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// The sales order line (from 1).
    pub line: u32,
    /// The new quantity.
    pub quantity: Decimal,
    /// When it takes effect.
    pub date: NaiveDate,
}

/// Why a change was not made: the input is wrong or the change is not allowed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// What is wrong.
    pub message: String,
    /// What to do instead.
    pub help: Option<String>,
}

impl Refusal {
    fn new(message: impl Into<String>) -> Self {
        Refusal {
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The documents of an applied change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed {
    /// The change order (its digests are filled in when it is written).
    pub order: ChangeOrder,
    /// The amended sales order.
    pub sales_order: SalesOrder,
    /// The amended invoice schedule.
    pub schedule: InvoiceSchedule,
}

/// `CO-<quote>-<line>-<date>`.
pub fn change_order_id(quote: &str, line: u32, date: NaiveDate) -> String {
    format!("CO-{quote}-{line}-{date}")
}

/// Works out a change against the accepted documents and returns them amended. `history` holds
/// the change orders already applied to the order (any line; others are ignored); it tells when
/// seats were added, for the cancellation window.
pub fn apply(
    cat: &Catalogue,
    so: &SalesOrder,
    schedule: &InvoiceSchedule,
    history: &[ChangeOrder],
    req: &Request,
) -> Result<Changed, Refusal> {
    let order = plan(cat, so, schedule, history, req)?;
    let schedule = amend_schedule(schedule, &order, cat.minor_units);
    let sales_order = amend_order(cat, so, &schedule, &order)?;
    Ok(Changed {
        order,
        sales_order,
        schedule,
    })
}

/// The schedule with a change's charges merged in bill-date order (after the charges already
/// billed on the same date for the same line) and its total updated.
pub fn amend_schedule(
    schedule: &InvoiceSchedule,
    order: &ChangeOrder,
    minor_units: u32,
) -> InvoiceSchedule {
    let mut s = schedule.clone();
    s.charges.extend(order.charges.iter().cloned());
    // Stable: what was there keeps its order, the change's charges follow their own order.
    s.charges.sort_by_key(|c| (c.bill_date, c.line));
    s.total = with_scale(schedule.total + order.total, minor_units);
    s
}

/// The sales order with a change applied: the line's quantity, recurring charge, contract value
/// and cost, and the order's totals. The fingerprint is kept: it names the quote and rules the
/// order was accepted from. `schedule` is the schedule (before or after the change: the first
/// bill dates are the same) that dates the first invoice.
pub fn amend_order(
    cat: &Catalogue,
    so: &SalesOrder,
    schedule: &InvoiceSchedule,
    order: &ChangeOrder,
) -> Result<SalesOrder, Refusal> {
    let minor = cat.minor_units;
    let mut so = so.clone();
    let first_bill = schedule.charges.iter().map(|c| c.bill_date).min();
    let line_first_bill = schedule
        .charges
        .iter()
        .filter(|c| c.line == order.line)
        .map(|c| c.bill_date)
        .min();
    let billed_on = |d: Option<NaiveDate>| -> Decimal {
        order
            .charges
            .iter()
            .filter(|c| Some(c.bill_date) == d)
            .map(|c| c.amount)
            .sum()
    };
    let amount = order.total;
    let cost: Decimal = order.charges.iter().map(|c| c.cost).sum();
    let Some(line) = so.lines.iter_mut().find(|l| l.line == order.line) else {
        return Err(Refusal::new(format!(
            "`{}` has no line {}",
            so.id, order.line
        )));
    };
    let months = Decimal::from(billing_months(line).map_err(Refusal::new)?);
    let old_mrr = cat.round(line.recurring / months);
    line.quantity = order.new_quantity;
    line.recurring = with_scale(line.recurring + order.recurring_change, minor);
    let new_mrr = cat.round(line.recurring / months);
    line.contract_value = with_scale(line.contract_value + amount, minor);
    line.cost = with_scale(line.cost + cost, minor);
    line.first_charge = with_scale(line.first_charge + billed_on(line_first_bill), minor);
    let t = &mut so.totals;
    t.first_invoice = with_scale(t.first_invoice + billed_on(first_bill), minor);
    t.contract_value = with_scale(t.contract_value + amount, minor);
    t.cost = with_scale(t.cost + cost, minor);
    t.margin = with_scale(t.contract_value - t.cost, minor);
    t.mrr = with_scale(t.mrr + new_mrr - old_mrr, minor);
    t.arr = with_scale(t.mrr * Decimal::from(12), minor);
    Ok(so)
}

/// Months in one billing period of a recurring line (the whole term when billed upfront).
fn billing_months(line: &SalesOrderLine) -> Result<u32, String> {
    let term = crate::engine::pricing::parse_term(&line.term)?.ok_or_else(|| {
        format!(
            "line {} (`{}`) is a one-time charge; only subscriptions have seats to change",
            line.line, line.product
        )
    })?;
    let billing = crate::engine::pricing::parse_billing(&line.billing)?;
    Ok(billing.months().unwrap_or(term))
}

fn with_scale(mut v: Decimal, minor: u32) -> Decimal {
    if v.scale() < minor {
        v.rescale(minor);
    }
    // No `-0.00` in a document: a zero reads the same whichever side it came from.
    if v.is_zero() {
        v.set_sign_positive(true);
    }
    v
}

fn too_large() -> Refusal {
    Refusal::new("the change is too large to compute exactly")
}

/// A share of a whole billing period, exact as numerator and denominator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Share {
    num: i64,
    den: i64,
}

impl Share {
    const WHOLE: Share = Share { num: 1, den: 1 };
}

/// One billing piece of the line as accepted, with the discounts it received.
#[derive(Clone, Debug)]
struct Piece {
    start: NaiveDate,
    end: NaiveDate,
    bill_date: NaiveDate,
    /// The prorated first piece of a stub (less than its billing period).
    stub: bool,
    /// The piece's charge before discounts.
    gross: Decimal,
    /// The discounts of the piece, in the order they were taken: (rule, amount taken off).
    discounts: Vec<(String, Decimal)>,
}

/// The line's pieces as accepted: for each billing period, the first stub or recurring charge
/// of the line in schedule order (later charges of the same period are earlier changes), with
/// the discount charges that follow it.
fn accepted_pieces(schedule: &InvoiceSchedule, line: u32) -> Vec<Piece> {
    let charges = &schedule.charges;
    let mut pieces: Vec<Piece> = Vec::new();
    for (i, c) in charges.iter().enumerate() {
        if c.line != line || !(c.kind == "stub" || c.kind == "recurring") {
            continue;
        }
        if pieces.iter().any(|p| p.end == c.period_end) {
            continue;
        }
        let discounts = charges
            .iter()
            .skip(i + 1)
            .take_while(|d| {
                d.line == line
                    && d.kind == "discount"
                    && d.bill_date == c.bill_date
                    && d.period_end == c.period_end
            })
            .map(|d| (d.rule.as_deref().unwrap_or_default().to_string(), -d.amount))
            .collect();
        pieces.push(Piece {
            start: c.period_start,
            end: c.period_end,
            bill_date: c.bill_date,
            stub: c.kind == "stub",
            gross: c.amount,
            discounts,
        });
    }
    pieces.sort_by_key(|p| p.start);
    pieces
}

/// The co-term policy's proration as it applies to the line.
#[derive(Clone, Copy, Debug)]
struct LinePolicy {
    proration: Proration,
    basis: DayBasis,
}

fn day_count(basis: DayBasis, from: NaiveDate, to: NaiveDate) -> i64 {
    match basis {
        DayBasis::Actual => calendar::actual_days(from, to),
        DayBasis::Thirty => calendar::days_30(from, to),
    }
}

/// Everything about the line that the change needs, resolved once.
struct Line<'a> {
    cat: &'a Catalogue,
    line: &'a SalesOrderLine,
    months: u32,
    policy: LinePolicy,
    pieces: Vec<Piece>,
    /// The day of month the billing boundaries intend (31 for month ends); candidates in order
    /// of preference when the schedule cannot tell (every boundary a month end).
    days: Vec<u32>,
    /// The quantity the line was accepted with (before any change order).
    accepted_quantity: Decimal,
    unit_price: Decimal,
    /// Cost of one unit for one billing period, from the rules.
    unit_cost: Decimal,
}

impl<'a> Line<'a> {
    /// The line's context, read from the rules and the accepted schedule, and the offer the
    /// line is sold under if the rules still have it.
    fn resolve(
        cat: &'a Catalogue,
        line: &'a SalesOrderLine,
        item: &'a Sellable,
        schedule: &InvoiceSchedule,
        months: u32,
        accepted_quantity: Decimal,
    ) -> Result<(Self, Option<&'a Offer>), Refusal> {
        let policy = line_policy(cat, line)?;
        let pieces = accepted_pieces(schedule, line.line);
        check_tiles(schedule, line, &pieces)?;
        let days = anchor_days(&pieces);
        let term = crate::engine::pricing::parse_term(&line.term)
            .ok()
            .flatten()
            .unwrap_or(months);
        let billing = crate::engine::pricing::parse_billing(&line.billing).map_err(Refusal::new)?;
        let offer = item.offer(Some(term), billing);
        let unit_cost = offer
            .and_then(|o| o.cost)
            .map(|c| c.for_months(months))
            .unwrap_or(Decimal::ZERO);
        let ctx = Line {
            cat,
            line,
            months,
            policy,
            pieces,
            days,
            accepted_quantity,
            unit_price: line.unit_price,
            unit_cost,
        };
        Ok((ctx, offer))
    }

    /// A full period's charge for `k` seats, net of lasting discounts, for the recurring
    /// figures.
    fn recurring_net(&self, k: Decimal) -> Result<Decimal, Refusal> {
        let mut recurring = self.round_share(k, self.unit_price, Share::WHOLE)?;
        if let Some(last) = self.pieces.last() {
            for (name, _) in &last.discounts {
                let rule = self.rule(name)?;
                if rule.duration_months.is_some() {
                    continue;
                }
                if let Some(x) =
                    self.discount(rule, recurring, k, Share::WHOLE, (last.start, last.end))?
                {
                    recurring -= x;
                }
            }
        }
        Ok(recurring)
    }

    /// The date `n` billing boundaries of `day` before `boundary`, month by month.
    fn months_before(day: u32, boundary: NaiveDate, n: u32) -> Option<NaiveDate> {
        Anchor::intending(boundary.year(), boundary.month(), day)?.plus_months(-i64::from(n))
    }

    /// The whole billing period a piece belongs to: a stub's is the period that ends where it
    /// ends (DOMAIN.md, Proration). When the boundaries do not show the anchor's day, the stub
    /// as accepted decides; failing that, the month end.
    fn period_start(&self, piece: &Piece) -> Result<NaiveDate, Refusal> {
        if !piece.stub {
            return Ok(piece.start);
        }
        let mut candidates: Vec<(u32, NaiveDate)> = Vec::new();
        for &d in &self.days {
            let w = Self::months_before(d, piece.end, self.months).ok_or_else(too_large)?;
            if !candidates.iter().any(|c| c.1 == w) {
                candidates.push((d, w));
            }
        }
        if let [(_, only)] = candidates.as_slice() {
            return Ok(*only);
        }
        let mut reproducing = Vec::new();
        for &(d, w) in &candidates {
            let share = self.billed_share(d, w, piece.start, piece.end);
            let gross = self.round_share(self.accepted_quantity, self.unit_price, share)?;
            if gross == piece.gross {
                reproducing.push(w);
            }
        }
        match (reproducing.as_slice(), candidates.first()) {
            ([only], _) => Ok(*only),
            (_, Some((_, w))) => Ok(*w),
            (_, None) => Err(too_large()),
        }
    }

    /// The day the boundaries of this piece's grid intend (the first candidate).
    fn grid_day(&self) -> u32 {
        self.days.first().copied().unwrap_or(31)
    }

    /// The share of the whole period `[w, end)` billed for `[from, end)` under the policy.
    fn billed_share(&self, day: u32, w: NaiveDate, from: NaiveDate, end: NaiveDate) -> Share {
        if from <= w {
            return Share::WHOLE;
        }
        match self.policy.proration {
            Proration::None => Share::WHOLE,
            Proration::Daily => Share {
                num: day_count(self.policy.basis, from, end),
                den: day_count(self.policy.basis, w, end),
            },
            Proration::Monthly => {
                // Each started month counts whole: count anchored months back from the end.
                let mut months = 0u32;
                let mut m = end;
                while m > from && months < self.months {
                    months += 1;
                    m = match Self::months_before(day, end, months) {
                        Some(d) => d,
                        None => break,
                    };
                }
                Share {
                    num: i64::from(months),
                    den: i64::from(self.months),
                }
            }
        }
    }

    /// The share refunded for `[from, end)` of the period `[w, end)`: always by day.
    fn refund_share(&self, w: NaiveDate, from: NaiveDate, end: NaiveDate) -> Share {
        if from <= w {
            return Share::WHOLE;
        }
        Share {
            num: day_count(self.policy.basis, from, end),
            den: day_count(self.policy.basis, w, end),
        }
    }

    fn round_share(&self, units: Decimal, per: Decimal, share: Share) -> Result<Decimal, Refusal> {
        muldiv(
            &[units, per, Decimal::from(share.num)],
            &[Decimal::from(share.den)],
        )
        .map(|x| self.cat.round(x))
        .ok_or_else(too_large)
    }

    /// A discount rule's amount for a charge of `units` over `[from, to)` whose gross (after
    /// the discounts before it) is `running`; `None` when the rule does not grow with seats (a
    /// fixed amount for the line, or once), so it is not extended to changed seats. The same
    /// arithmetic as pricing: exact, rounded once.
    fn discount(
        &self,
        rule: &DiscountRule,
        running: Decimal,
        units: Decimal,
        share: Share,
        (from, to): (NaiveDate, NaiveDate),
    ) -> Result<Option<Decimal>, Refusal> {
        let (inside, all) = match rule.duration_months {
            None => (1, 1),
            Some(months) => {
                let window_end = calendar::add_months(self.line.start, i64::from(months))
                    .ok_or_else(too_large)?;
                let a = from.max(self.line.start);
                let b = to.min(window_end);
                if b <= a {
                    return Ok(Some(self.cat.round(Decimal::ZERO)));
                }
                let inside = calendar::actual_days(a, b);
                let all = calendar::actual_days(from, to);
                if inside >= all { (1, 1) } else { (inside, all) }
            }
        };
        let (inside, all) = (Decimal::from(inside), Decimal::from(all));
        match rule.amount {
            DiscountAmount::Percent(_) => muldiv(&[running, rule.factor, inside], &[all])
                .map(|x| Some(self.cat.round(x)))
                .ok_or_else(too_large),
            DiscountAmount::Fixed {
                value,
                per_unit: true,
                monthly: true,
            } => muldiv(
                &[
                    value,
                    units,
                    Decimal::from(self.months),
                    Decimal::from(share.num),
                    inside,
                ],
                &[Decimal::from(share.den), all],
            )
            .map(|x| Some(self.cat.round(x).min(running.max(Decimal::ZERO))))
            .ok_or_else(too_large),
            DiscountAmount::Fixed { .. } => Ok(None),
        }
    }

    /// The discount rule a piece's discount charge names, refused when the rules cannot say
    /// what it was (a manual discount, or a rule no longer written).
    fn rule(&self, name: &str) -> Result<&DiscountRule, Refusal> {
        if name == "manual" {
            return Err(Refusal::new(format!(
                "line {} was sold with a manual discount from the quote, which the sales order does not record",
                self.line.line
            ))
            .help("change the quantity by re-quoting the line, or adjust the schedule by hand"));
        }
        self.cat
            .discounts
            .iter()
            .find(|r| &*r.name == name)
            .ok_or_else(|| {
                Refusal::new(format!(
                    "line {} was sold with discount `{name}`, which the rules no longer define",
                    self.line.line
                ))
                .help(format!(
                    "the changed seats keep the line's discounts; restore `discount {name}` as it was when the quote was accepted"
                ))
            })
    }

    /// The charges for `units` seats over `[from, piece.end)` of `piece`'s period, billed on
    /// `bill`: the gross charge of `kind`, then the discounts the piece was sold with, carried
    /// over after checking that the rules still give what the piece received (so the locked
    /// price is kept). Amounts are positive; a decrease negates them.
    #[allow(
        clippy::too_many_arguments,
        reason = "the facts of one charge, passed where they are known"
    )]
    fn seat_charges(
        &self,
        units: Decimal,
        piece: &Piece,
        whole_start: NaiveDate,
        from: NaiveDate,
        bill: NaiveDate,
        share: Share,
        kind: &str,
        with_cost: bool,
    ) -> Result<Vec<ScheduledCharge>, Refusal> {
        let zero = self.cat.round(Decimal::ZERO);
        let gross = self.round_share(units, self.unit_price, share)?;
        let cost = if with_cost {
            self.round_share(units, self.unit_cost, share)?
        } else {
            zero
        };
        let charge =
            |kind: &str, amount: Decimal, cost: Decimal, rule: Option<String>| ScheduledCharge {
                line: self.line.line,
                product: self.line.product.as_str().into(),
                kind: kind.to_string().into(),
                period_start: from,
                period_end: piece.end,
                bill_date: bill,
                timing: Timing::Advance,
                amount,
                cost,
                rule: rule.map(Into::into),
            };
        let mut out = vec![charge(kind, gross, cost, None)];
        let accepted_share = if piece.stub {
            self.billed_share(self.grid_day(), whole_start, piece.start, piece.end)
        } else {
            Share::WHOLE
        };
        let mut running_then = piece.gross;
        let mut running = gross;
        for (name, taken) in &piece.discounts {
            let rule = self.rule(name)?;
            let then = self.discount(
                rule,
                running_then,
                self.accepted_quantity,
                accepted_share,
                (piece.start, piece.end),
            )?;
            if let Some(expected) = then {
                if expected != *taken {
                    return Err(Refusal::new(format!(
                        "line {} was sold with {taken} off its {}–{} charge by discount `{name}`, but the rules' `{name}` now gives {expected}",
                        self.line.line, piece.start, piece.end
                    ))
                    .help(format!(
                        "the changed seats keep the price the line was sold at; restore `discount {name}` as it was when the quote was accepted, or adjust the schedule by hand"
                    )));
                }
            }
            running_then -= *taken;
            if let Some(d) = self.discount(rule, running, units, share, (from, piece.end))? {
                if !d.is_zero() {
                    running -= d;
                    out.push(charge("discount", -d, zero, Some(name.clone())));
                }
            }
        }
        Ok(out)
    }
}

/// Seats still inside their cancellation window: lots of seats by the date they were added.
fn seat_lots(
    line: &SalesOrderLine,
    accepted: Decimal,
    history: &[&ChangeOrder],
) -> Option<Vec<(NaiveDate, Decimal)>> {
    let mut lots = vec![(line.start, accepted)];
    for h in history {
        match h.kind {
            ChangeKind::Increase => lots.push((h.billed_from, h.new_quantity - h.old_quantity)),
            ChangeKind::Decrease => {
                // The newest seats go first: their window closes last.
                let mut left = h.old_quantity - h.new_quantity;
                while left > Decimal::ZERO {
                    let last = lots.last_mut()?;
                    let take = left.min(last.1);
                    last.1 -= take;
                    left -= take;
                    if last.1.is_zero() {
                        lots.pop();
                    }
                }
            }
        }
    }
    let total: Decimal = lots.iter().map(|l| l.1).sum();
    (total == line.quantity).then_some(lots)
}

/// Works out the change order (without digests).
fn plan(
    cat: &Catalogue,
    so: &SalesOrder,
    schedule: &InvoiceSchedule,
    history: &[ChangeOrder],
    req: &Request,
) -> Result<ChangeOrder, Refusal> {
    check_documents(cat, so, schedule)?;
    let line = order_line(so, req.line)?;
    let months = billing_months(line).map_err(Refusal::new)?;
    let item = seat_item(cat, line)?;
    let (old, new, d) = (line.quantity, req.quantity, req.date);
    check_request(line, new, d)?;
    let mine = line_history(so, line, history, d)?;
    let accepted_quantity = mine.first().map(|h| h.old_quantity).unwrap_or(old);
    let (ctx, offer) = Line::resolve(cat, line, item, schedule, months, accepted_quantity)?;
    let mut notes: Vec<String> = price_note(cat, line, offer, months).into_iter().collect();
    let Some(current) = ctx.pieces.iter().position(|p| p.start <= d && d < p.end) else {
        return Err(Refusal::new(format!(
            "no billing period of line {} contains {d}",
            line.line
        )));
    };
    let kind = if new > old {
        ChangeKind::Increase
    } else {
        ChangeKind::Decrease
    };
    let Some(piece) = ctx.pieces.get(current) else {
        return Err(too_large());
    };
    let at = At {
        ctx: &ctx,
        date: d,
        seats: (new - old).abs(),
        piece,
        whole_start: ctx.period_start(piece)?,
        later: ctx.pieces.get(current + 1..).unwrap_or_default(),
    };
    let (charges, billed_from) = match (kind, item.cancel_days) {
        (ChangeKind::Increase, _) => (at.increase(&mut notes)?, d),
        (ChangeKind::Decrease, Some(n)) => (at.cancel(n, &mine, &mut notes)?, d),
        (ChangeKind::Decrease, None) => at.reduce_from_next_period(item.bought, &mut notes)?,
    };
    notes.extend(discount_notes(cat, &ctx.pieces, d));
    let recurring = ctx.recurring_net(at.seats)?;
    let recurring_change = with_scale(
        match kind {
            ChangeKind::Increase => recurring,
            ChangeKind::Decrease => -recurring,
        },
        cat.minor_units,
    );
    let total = with_scale(charges.iter().map(|c| c.amount).sum(), cat.minor_units);
    Ok(ChangeOrder {
        schema: CHANGE_ORDER.to_string(),
        id: change_order_id(&so.quote, line.line, d),
        sales_order: so.id.clone(),
        quote: so.quote.clone(),
        currency: so.currency.clone(),
        customer: so.customer.clone(),
        line: line.line,
        product: line.product.clone(),
        kind,
        old_quantity: old,
        new_quantity: new,
        effective: d,
        billed_from,
        unit_price: line.unit_price,
        renewal: line.end,
        cancel_days: item.cancel_days,
        charges,
        total,
        recurring_change,
        notes,
        warnings: Vec::from_iter(tier_warning(cat, line, offer, accepted_quantity, new)),
        applied_to: DocumentDigests::default(),
        result: DocumentDigests::default(),
    })
}

/// Line `n` of the sales order.
fn order_line(so: &SalesOrder, n: u32) -> Result<&SalesOrderLine, Refusal> {
    so.lines.iter().find(|l| l.line == n).ok_or_else(|| {
        Refusal::new(format!(
            "`{}` has lines 1 to {}; there is no line {n}",
            so.id,
            so.lines.len(),
        ))
    })
}

/// Refuses a sales order and schedule that are not each other's, or priced in another currency
/// than the rules.
fn check_documents(
    cat: &Catalogue,
    so: &SalesOrder,
    schedule: &InvoiceSchedule,
) -> Result<(), Refusal> {
    if so.schema != docs::SALES_ORDER {
        return Err(Refusal::new(format!(
            "`{}` is a `{}` document, not a sales order (`{}`)",
            so.id,
            so.schema,
            docs::SALES_ORDER
        )));
    }
    if schedule.schema != docs::INVOICE_SCHEDULE || schedule.sales_order != so.id {
        return Err(Refusal::new(format!(
            "`{}` is not the invoice schedule of `{}`",
            schedule.id, so.id
        )));
    }
    if so.currency != cat.currency {
        return Err(Refusal::new(format!(
            "`{}` is in `{}` but the rules price in `{}`",
            so.id, so.currency, cat.currency
        ))
        .help("pass the rule set the order was accepted with (--rules)"));
    }
    Ok(())
}

/// The product the line sells, refused when the rules no longer define it or it is billed by
/// usage rather than by seat.
fn seat_item<'c>(cat: &'c Catalogue, line: &SalesOrderLine) -> Result<&'c Sellable, Refusal> {
    let Some((_, item)) = cat.item(&line.product) else {
        return Err(Refusal::new(format!(
            "line {} sells `{}`, which the rules no longer define",
            line.line, line.product
        ))
        .help("the rules say whether the product has a cancellation window; restore the product"));
    };
    if item.usage.is_some() {
        return Err(Refusal::new(format!(
            "line {} (`{}`) is billed by usage; its quantity is not seats",
            line.line, line.product
        )));
    }
    Ok(item)
}

/// Refuses a new quantity that is negative or the same, or a date outside the commitment.
fn check_request(line: &SalesOrderLine, new: Decimal, d: NaiveDate) -> Result<(), Refusal> {
    let old = line.quantity;
    if new < Decimal::ZERO {
        return Err(Refusal::new(format!(
            "the quantity must be zero or more, not {new}"
        )));
    }
    if new == old {
        return Err(Refusal::new(format!(
            "line {} already has {old} × `{}`; nothing to change",
            line.line, line.product
        )));
    }
    if d < line.start || d >= line.end {
        return Err(Refusal::new(format!(
            "{d} is outside line {}'s commitment [{}, {})",
            line.line, line.start, line.end
        ))
        .help(format!(
            "a change must fall on or after the start, {}, and before the renewal, {}",
            line.start, line.end
        )));
    }
    Ok(())
}

/// The change orders already applied to the line, oldest first; refused when one is dated on
/// or after `d`.
fn line_history<'h>(
    so: &SalesOrder,
    line: &SalesOrderLine,
    history: &'h [ChangeOrder],
    d: NaiveDate,
) -> Result<Vec<&'h ChangeOrder>, Refusal> {
    let mut mine: Vec<&ChangeOrder> = history
        .iter()
        .filter(|h| h.sales_order == so.id && h.line == line.line)
        .collect();
    mine.sort_by(|a, b| a.effective.cmp(&b.effective).then_with(|| a.id.cmp(&b.id)));
    if let Some(later) = mine.iter().rev().find(|h| h.effective >= d) {
        return Err(Refusal::new(format!(
            "line {} already has a change on {} (`{}`); a change cannot be dated on or before it",
            line.line, later.effective, later.id
        ))
        .help(format!(
            "date this change after {}, or undo the later one first",
            later.effective
        )));
    }
    Ok(mine)
}

/// The co-term policy's proration for the line (daily, by actual days, without one).
fn line_policy(cat: &Catalogue, line: &SalesOrderLine) -> Result<LinePolicy, Refusal> {
    let Some(name) = &line.coterm else {
        return Ok(LinePolicy {
            proration: Proration::Daily,
            basis: DayBasis::Actual,
        });
    };
    match cat.policy(name).and_then(|i| cat.policies.get(i)) {
        Some(p) => Ok(LinePolicy {
            proration: p.proration,
            basis: p.basis,
        }),
        None => Err(Refusal::new(format!(
            "line {} was co-termed with policy `{name}`, which the rules no longer define",
            line.line
        ))
        .help(format!(
            "the change is prorated as the policy says; restore `coterm {name}`"
        ))),
    }
}

/// Refuses a schedule whose pieces of the line do not run, without gaps, from its start to its
/// end.
fn check_tiles(
    schedule: &InvoiceSchedule,
    line: &SalesOrderLine,
    pieces: &[Piece],
) -> Result<(), Refusal> {
    let tiles = pieces.first().map(|p| p.start) == Some(line.start)
        && pieces.last().map(|p| p.end) == Some(line.end)
        && pieces.windows(2).all(|w| match w {
            [a, b] => a.end == b.start,
            _ => true,
        });
    if tiles {
        return Ok(());
    }
    Err(Refusal::new(format!(
        "the schedule `{}` does not bill line {} from {} to {} in whole periods",
        schedule.id, line.line, line.start, line.end
    ))
    .help("change orders work on the schedule `tenor accept` wrote; re-accept the quote"))
}

/// The anchor's day of month: any boundary short of its month's end is the day itself; when
/// every one is a month end, the month end is meant (or the stub decides, see
/// [`Line::period_start`]), so the candidates run from the highest day seen to 31.
fn anchor_days(pieces: &[Piece]) -> Vec<u32> {
    let boundaries = pieces
        .iter()
        .filter(|p| !p.stub)
        .map(|p| p.start)
        .chain(pieces.iter().map(|p| p.end));
    let mut exact = None;
    let mut highest = 1;
    for b in boundaries {
        let dim = calendar::days_in_month(b.year(), b.month()).unwrap_or(31);
        if b.day() < dim {
            exact = Some(b.day());
        }
        highest = highest.max(b.day());
    }
    match exact {
        Some(day) => vec![day],
        None => (highest..=31).rev().collect(),
    }
}

/// Why the changed seats are priced as they are: the locked price against the rules' current
/// one, a tiered price, or an offer the rules no longer have.
fn price_note(
    cat: &Catalogue,
    line: &SalesOrderLine,
    offer: Option<&Offer>,
    months: u32,
) -> Option<String> {
    match offer.map(|o| &o.price) {
        Some(Price::Flat(rate)) => {
            let now = rate.for_months(months);
            (now != line.unit_price).then(|| format!(
                "prices are locked for the term: the rules now price `{}` {} {} at {}, the line keeps {} until renewal on {}",
                line.product,
                line.term,
                line.billing,
                cat.round(now),
                line.unit_price,
                line.end
            ))
        }
        Some(Price::Tiered(_)) => Some(format!(
            "tiered price: the changed seats are priced at the line's unit price as sold, {}; tiers are worked out again at renewal on {}",
            line.unit_price, line.end
        )),
        None => Some(format!(
            "the rules no longer offer `{}` {} {}: the changed seats keep the line's price, {}, and cost nothing to the MSP here",
            line.product, line.term, line.billing, line.unit_price
        )),
    }
}

/// A warning when a line priced through a volume table changes to a quantity in another tier
/// than the one it was accepted in (`accepted`): prices are locked for the term, so the rate
/// sold stays, and the new tier's price applies from renewal.
fn tier_warning(
    cat: &Catalogue,
    line: &SalesOrderLine,
    offer: Option<&Offer>,
    accepted: Decimal,
    new: Decimal,
) -> Option<String> {
    let Some(Price::Tiered(i)) = offer.map(|o| &o.price) else {
        return None;
    };
    let table = cat.tiers.get(*i)?;
    if table.mode != TierMode::Volume || new <= Decimal::ZERO {
        return None;
    }
    let row_of = |q: Decimal| {
        table
            .rows
            .iter()
            .position(|r| r.upper.is_none_or(|u| q <= u))
    };
    let (was, now) = (row_of(accepted)?, row_of(new)?);
    if was == now {
        return None;
    }
    Some(format!(
        "line {} `{}`: {new} falls in the tier {} of `{}`, not the tier {} that {accepted} was sold in; the locked rate, {}, stays until renewal on {}, when the tier price applies",
        line.line,
        line.product,
        tier_words(table, now)?,
        table.name,
        tier_words(table, was)?,
        line.unit_price,
        line.end
    ))
}

/// Row `i` of a tier table in words: `above 50 at 35.00`, `up to 50 at 40.00`.
fn tier_words(table: &crate::engine::catalogue::TierTable, i: usize) -> Option<String> {
    let row = table.rows.get(i)?;
    let bound = match row.upper {
        Some(u) => format!("up to {u}"),
        None => match i.checked_sub(1).and_then(|p| table.rows.get(p)) {
            Some(prev) => format!("above {}", prev.upper.unwrap_or_default()),
            None => "of every quantity".to_string(),
        },
    };
    Some(format!("`{bound}` at {}", row.price))
}

/// What each discount of the periods the change touches does to the changed seats (a discount
/// of an earlier period is not its business).
fn discount_notes(cat: &Catalogue, pieces: &[Piece], d: NaiveDate) -> Vec<String> {
    pieces
        .iter()
        .filter(|p| p.end > d)
        .flat_map(|p| p.discounts.iter().map(|x| x.0.as_str()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter_map(|name| {
            let rule = cat.discounts.iter().find(|r| &*r.name == name)?;
            Some(match rule.amount {
                DiscountAmount::Percent(_) | DiscountAmount::Fixed { per_unit: true, monthly: true, .. } => format!(
                    "discount `{name}` applies to the changed seats as the line was sold with it"
                ),
                DiscountAmount::Fixed { .. } => format!(
                    "discount `{name}` is a fixed amount that does not grow with seats: the changed seats do not change it"
                ),
            })
        })
        .collect()
}

/// A change at its date: the line, the seats added or removed, and the billing piece the date
/// falls in.
struct At<'l, 'a> {
    ctx: &'l Line<'a>,
    /// The change's date.
    date: NaiveDate,
    /// Seats added or removed.
    seats: Decimal,
    /// The piece of the line's schedule that holds the date.
    piece: &'l Piece,
    /// The start of `piece`'s whole billing period.
    whole_start: NaiveDate,
    /// The pieces after `piece`.
    later: &'l [Piece],
}

impl At<'_, '_> {
    /// The charges of added seats: the rest of the current period, prorated by the policy, then
    /// every later period in full.
    fn increase(&self, notes: &mut Vec<String>) -> Result<Vec<ScheduledCharge>, Refusal> {
        let (ctx, d, k, piece) = (self.ctx, self.date, self.seats, self.piece);
        let share = ctx.billed_share(ctx.grid_day(), self.whole_start, d, piece.end);
        let first_kind = if d > self.whole_start {
            "prorated"
        } else {
            "recurring"
        };
        let charges = self.first_and_later(share, first_kind, "recurring")?;
        let periods = self.later.len();
        notes.push(if periods == 0 {
            format!(
                "{k} seat(s) added on {d} co-term with the line: billed for [{d}, {}), its last billing period before renewal",
                piece.end
            )
        } else {
            format!(
                "{k} seat(s) added on {d} co-term with the line: billed for [{d}, {}), then for each of the {periods} billing period(s) to renewal on {}",
                piece.end, ctx.line.end
            )
        });
        Ok(charges)
    }

    /// The charges for the seats over the rest of the current period at `share` (of
    /// `first_kind`), then over every later period in full (of `later_kind`), as sold.
    fn first_and_later(
        &self,
        share: Share,
        first_kind: &str,
        later_kind: &str,
    ) -> Result<Vec<ScheduledCharge>, Refusal> {
        let (ctx, d, k) = (self.ctx, self.date, self.seats);
        let mut charges = ctx.seat_charges(
            k,
            self.piece,
            self.whole_start,
            d,
            d,
            share,
            first_kind,
            true,
        )?;
        for p in self.later {
            charges.extend(ctx.seat_charges(
                k,
                p,
                p.start,
                p.start,
                p.bill_date,
                Share::WHOLE,
                later_kind,
                true,
            )?);
        }
        Ok(charges)
    }

    /// The charges of seats removed inside the product's `n`-day cancellation window: the rest
    /// of the current period refunded by day, every later period reduced; refused for seats
    /// whose window has closed.
    fn cancel(
        &self,
        n: u32,
        mine: &[&ChangeOrder],
        notes: &mut Vec<String>,
    ) -> Result<Vec<ScheduledCharge>, Refusal> {
        let (ctx, d, piece) = (self.ctx, self.date, self.piece);
        let line = ctx.line;
        let lots = match seat_lots(line, ctx.accepted_quantity, mine) {
            Some(l) => l,
            None => {
                notes.push(format!(
                    "the change orders of line {} do not add up to its quantity, {}; every seat is taken as added on {}",
                    line.line, line.quantity, line.start
                ));
                vec![(line.start, line.quantity)]
            }
        };
        check_window(line, &lots, n, d, self.seats)?;
        let share = ctx.refund_share(self.whole_start, d, piece.end);
        let first_kind = if d > self.whole_start {
            "refund"
        } else {
            "reduction"
        };
        let charges = negate(self.first_and_later(share, first_kind, "reduction")?);
        notes.push(format!(
            "inside the {n}-day cancellation window: [{d}, {}) is refunded by day and every later billing period is reduced",
            piece.end
        ));
        Ok(charges)
    }

    /// The charges of seats removed from a product without a cancellation window: the period
    /// already billed stands, the seats go from the next one, nothing is refunded. Returns them
    /// and the first day billed at the new quantity.
    fn reduce_from_next_period(
        &self,
        bought: bool,
        notes: &mut Vec<String>,
    ) -> Result<(Vec<ScheduledCharge>, NaiveDate), Refusal> {
        let (ctx, d, piece) = (self.ctx, self.date, self.piece);
        let line = ctx.line;
        let from: Vec<&Piece> = ctx.pieces.iter().filter(|p| p.start >= d).collect();
        let Some(first) = from.first() else {
            return Err(Refusal::new(format!(
                "`{}` has no cancellation window and line {}'s last billing period, [{}, {}), is already billed; seats can be reduced at renewal on {}",
                line.product, line.line, piece.start, piece.end, line.end
            )));
        };
        let billed_from = first.start;
        // What the MSP buys stays bought: without a window the distributor does not refund
        // either, so only services the MSP delivers itself stop costing.
        let with_cost = !bought;
        let mut charges = Vec::new();
        for p in &from {
            let w = ctx.period_start(p)?;
            let share = if p.stub {
                ctx.billed_share(ctx.grid_day(), w, p.start, p.end)
            } else {
                Share::WHOLE
            };
            charges.extend(negate(ctx.seat_charges(
                self.seats,
                p,
                w,
                p.start,
                p.bill_date,
                share,
                "reduction",
                with_cost,
            )?));
        }
        notes.push(format!(
            "`{}` has no cancellation window: the seats are billed until {}, the end of the period already billed, and reduced from then to renewal on {}; nothing is refunded",
            line.product, billed_from, line.end
        ));
        if bought {
            notes.push(format!(
                "the MSP's purchase of `{}` is not reduced before renewal, so the cost stays",
                line.product
            ));
        }
        Ok((charges, billed_from))
    }
}

/// Refuses removing `k` seats on `d` when fewer than `k` are still inside their `n`-day
/// cancellation window.
fn check_window(
    line: &SalesOrderLine,
    lots: &[(NaiveDate, Decimal)],
    n: u32,
    d: NaiveDate,
    k: Decimal,
) -> Result<(), Refusal> {
    let closes = |added: NaiveDate| {
        added
            .checked_add_days(chrono::Days::new(u64::from(n)))
            .unwrap_or(NaiveDate::MAX)
    };
    let open: Decimal = lots
        .iter()
        .filter(|(added, _)| d < closes(*added))
        .map(|l| l.1)
        .sum();
    if open >= k {
        return Ok(());
    }
    let closed = lots
        .iter()
        .rev()
        .find(|(added, _)| d >= closes(*added))
        .map(|l| l.0)
        .unwrap_or(line.start);
    let window = format!(
        "the cancellation window for {} on line {} closed on {} ({n} days after {closed})",
        line.product,
        line.line,
        closes(closed)
    );
    let message = if open.is_zero() {
        format!("{window}; seats can be reduced at renewal on {}", line.end)
    } else {
        format!(
            "only {open} of the {k} seats can still be cancelled on {d}: {window}; the rest can be reduced at renewal on {}",
            line.end
        )
    };
    Err(Refusal::new(message).help(format!(
        "{} can be cancelled within {n} days of being added; to reduce now, change to {} or more",
        line.product,
        line.quantity - open
    )))
}

/// The same charges with the opposite sign: what a decrease takes back.
fn negate(charges: Vec<ScheduledCharge>) -> Vec<ScheduledCharge> {
    charges
        .into_iter()
        .map(|mut c| {
            for v in [&mut c.amount, &mut c.cost] {
                // A zero stays `0.00`, never `-0.00`.
                if !v.is_zero() {
                    *v = -*v;
                }
            }
            c
        })
        .collect()
}

/// A document as Tenor writes it: pretty JSON and a newline, the same bytes as `tenor
/// accept`'s.
pub fn document_bytes<T: Serialize>(doc: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(doc)?;
    text.push('\n');
    Ok(text.into_bytes())
}
