//! Schedules remembered across a quote's lines.

use crate::engine::schedule::{self, Coterm, Piece};
use chrono::{Datelike, NaiveDate};

/// Schedules already planned for a quote's lines. A schedule depends only on the start date,
/// term, billing and co-term policy, and the lines of one quote mostly share those (a quote's
/// lines usually start together), so most lines find theirs here instead of redoing the
/// anchored month arithmetic. Direct-mapped: a line whose slot holds another schedule replaces it.
#[derive(Default)]
pub(super) struct Plans {
    /// A power of two of slots: one until the quote proves long, so a pricer made for a line
    /// or two (as three-way matching makes them) does not set up a table it will not use.
    pub(super) slots: Vec<Option<PlanSlot>>,
    /// Lines planned so far.
    pub(super) planned: usize,
}

/// One remembered schedule.
pub(super) struct PlanSlot {
    pub(super) key: PlanKey,
    pub(super) term_start: NaiveDate,
    pub(super) end: NaiveDate,
    pub(super) pieces: Vec<Piece>,
}

/// Everything a schedule depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PlanKey {
    pub(super) start: NaiveDate,
    pub(super) term: u32,
    pub(super) billing: u32,
    pub(super) coterm: Option<Coterm>,
}

/// Sizes a direct-mapped table of remembered lines: one slot until `long` lines have been
/// seen, then `slots` (emptied once, when the quote proves long).
pub(super) fn grow<T>(table: &mut Vec<Option<T>>, seen: usize, long: usize, slots: usize) {
    if seen == long {
        table.clear();
    }
    if table.is_empty() {
        let n = if seen < long { 1 } else { slots };
        table.resize_with(n, || None);
    }
}

impl Plans {
    /// Slots of a long quote's table.
    pub(super) const SLOTS: usize = 1024;
    /// Lines after which a quote counts as long.
    pub(super) const LONG: usize = 16;

    /// [`schedule::plan`] for these inputs: the term's start, the commitment's end and the
    /// billed pieces. Plans that fail are not remembered.
    pub(super) fn plan(
        &mut self,
        start: NaiveDate,
        term: u32,
        billing: u32,
        coterm: Option<Coterm>,
    ) -> Result<(NaiveDate, NaiveDate, &[Piece]), schedule::PlanError> {
        let key = PlanKey {
            start,
            term,
            billing,
            coterm,
        };
        self.planned += 1;
        grow(&mut self.slots, self.planned, Plans::LONG, Plans::SLOTS);
        // Lines mostly differ in start date: spread consecutive days and years over the slots.
        let h = (i64::from(start.year()) * 367 + i64::from(start.ordinal()))
            .wrapping_mul(31)
            .wrapping_add(i64::from(term) * 7 + i64::from(billing));
        let mask = self.slots.len().saturating_sub(1);
        let index = usize::try_from(h.unsigned_abs()).map_or(0, |h| h & mask);
        // The index is masked to the table's size, so the slot is always there.
        let Some(slot) = self.slots.get_mut(index) else {
            return Err(schedule::PlanError("no room to plan the schedule".into()));
        };
        let hit = slot.as_ref().is_some_and(|s| s.key == key);
        if !hit {
            let mut pieces = slot.take().map(|s| s.pieces).unwrap_or_default();
            let (term_start, end) =
                schedule::plan_into(start, term, billing, coterm.as_ref(), &mut pieces)?;
            *slot = Some(PlanSlot {
                key,
                term_start,
                end,
                pieces,
            });
        }
        match slot {
            Some(s) => Ok((s.term_start, s.end, &s.pieces)),
            None => Err(schedule::PlanError("no room to plan the schedule".into())),
        }
    }
}
