//! What the main thread and the helper of [`super::priced_in_runs`] share: the parts read and
//! not yet taken, the buffers to render into again, and which parts each has vouched checks
//! out. The helper vouches for parts from the front (those it prices, and, while it may not
//! render more, those it checks ahead); once the quote is read the main thread takes the rest
//! from the back, one at a time, so that no part is checked twice.

use super::PART;
use crate::engine::quote::{Quote, QuoteLine, Runs};
use rust_decimal::Decimal;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// See the module's documentation.
pub(super) struct Board {
    state: Mutex<State>,
    /// Told of every change of the state.
    ready: Condvar,
}

/// See [`Board`].
#[derive(Default)]
pub(super) struct State {
    /// The quote without its lines, once read.
    head: Option<Arc<Quote>>,
    /// Parts read and not yet taken, in order.
    todo: VecDeque<(usize, Arc<Vec<QuoteLine>>)>,
    /// The whole quote is read (or failed to read).
    read: bool,
    /// The helper is to stop.
    stop: bool,
    /// The bytes the helper may render ahead of what is written.
    ahead: usize,
    /// The bytes the helper has sent and the main thread not yet written.
    pub(super) held: usize,
    /// Buffers written, for the helper to render into again.
    pub(super) spare: Vec<Vec<u8>>,
    /// Parts before this one are the helper's to vouch for.
    front: usize,
    /// Parts from this one on are the main thread's to check; `None` while the quote is read.
    back: Option<usize>,
    /// Parts before this one the helper has vouched for.
    vouched: usize,
    /// The units the helper counted in the parts it vouched for.
    units: Decimal,
    /// A part the helper took does not check out, or the quote's own fields do not.
    refused: bool,
    /// The helper has stopped.
    left: bool,
}

/// What the helper is to do next ([`Board::task`]).
pub(super) enum Task {
    /// Price and render part `k`, `lines`, into the buffer; vouch for it when `claimed`.
    Render {
        k: usize,
        lines: Arc<Vec<QuoteLine>>,
        buffer: Vec<u8>,
        claimed: bool,
    },
    /// Check part `k`, `lines`, and vouch for it.
    Check {
        k: usize,
        lines: Arc<Vec<QuoteLine>>,
    },
}

impl State {
    /// Whether the helper may claim part `k` to vouch for: the next in order, not the main
    /// thread's, and nothing refused.
    fn claimable(&self, k: usize) -> bool {
        k == self.front && !self.refused && self.back.is_none_or(|b| k < b)
    }

    /// The next part to check ahead, when it is read and claimable.
    fn ahead(&self) -> Option<Arc<Vec<QuoteLine>>> {
        let &(first, _) = self.todo.front()?;
        let lines = &self.todo.get(self.front.checked_sub(first)?)?.1;
        self.claimable(self.front).then(|| Arc::clone(lines))
    }

    /// Whether the helper has something to do.
    fn busy(&self) -> bool {
        self.stop || (self.held < self.ahead && !self.todo.is_empty()) || self.ahead().is_some()
    }
}

impl Board {
    /// A board on which the helper renders at most `ahead` bytes ahead of what is written.
    pub(super) fn new(ahead: usize) -> Self {
        Board {
            state: Mutex::new(State {
                ahead,
                ..State::default()
            }),
            ready: Condvar::new(),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking thread has its panic reported by the scope; the state stays usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits while `wait` holds of the state.
    fn wait_while(&self, wait: impl FnMut(&mut State) -> bool) -> MutexGuard<'_, State> {
        self.ready
            .wait_while(self.lock(), wait)
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Tells the other thread the state changed.
    pub(super) fn tell(&self) {
        self.ready.notify_all();
    }

    /// The quote's fields, once read; `None` when it is not to be priced.
    pub(super) fn head(&self) -> Option<Arc<Quote>> {
        let s = self.wait_while(|s| s.head.is_none() && !s.read && !s.stop);
        s.head.clone().filter(|_| !s.stop)
    }

    /// The whole quote is read, in `parts` parts (none when it failed to read): the parts
    /// the helper has not claimed are the main thread's to check from now on.
    pub(super) fn read(&self, parts: usize) {
        let mut s = self.lock();
        s.read = true;
        s.back = Some(parts.max(s.front));
        drop(s);
        self.tell();
    }

    /// The helper's next task: a part to render while it may hold more, else one to check
    /// ahead; waits for one, and `None` once told to stop.
    pub(super) fn task(&self) -> Option<Task> {
        let mut s = self.wait_while(|s| !(s.busy() || (s.read && s.todo.is_empty())));
        if s.stop {
            return None;
        }
        if s.held < s.ahead
            && let Some((k, lines)) = s.todo.pop_front()
        {
            let claimed = s.claimable(k);
            s.front += usize::from(claimed);
            let buffer = s.spare.pop().unwrap_or_default();
            return Some(Task::Render {
                k,
                lines,
                buffer,
                claimed,
            });
        }
        let lines = s.ahead()?;
        let k = s.front;
        s.front += 1;
        Some(Task::Check { k, lines })
    }

    /// The helper's verdict on the part it claimed last, with the units it has counted so far.
    pub(super) fn vouch(&self, fine: bool, units: Decimal) {
        let mut s = self.lock();
        match fine {
            true => {
                s.vouched += 1;
                s.units = units;
            }
            false => s.refused = true,
        }
        drop(s);
        self.tell();
    }

    /// The quote's own fields do not check out: the helper vouches for nothing.
    pub(super) fn refuse(&self) {
        self.vouch(false, Decimal::ZERO);
    }

    /// The helper has stopped (a guard's drop, so that a panic says it too), or none started.
    pub(super) fn left(&self) {
        self.lock().left = true;
        self.tell();
    }

    /// The last part not yet claimed, for the main thread to check; `None` once the parts
    /// left are the helper's, or the helper refused one.
    pub(super) fn claim_back(&self) -> Option<usize> {
        let mut s = self.lock();
        let back = s.back?.checked_sub(1)?;
        (back >= s.front && !s.refused).then(|| {
            s.back = Some(back);
            back
        })
    }

    /// Once the helper has given its verdict on every part it claimed: `None` when it refused
    /// one, else the parts it did not get to (it stopped first) and the units it counted in
    /// the others. No part is claimed after this.
    pub(super) fn vouched(&self) -> Option<(std::ops::Range<usize>, Decimal)> {
        let mut s = self.wait_while(|s| !s.refused && s.vouched < s.front && !s.left);
        s.back = Some(0);
        (!s.refused).then(|| (s.vouched..s.front, s.units))
    }

    /// The next part not taken, if any, for the main thread (which never waits here).
    pub(super) fn take(&self) -> Option<(usize, Arc<Vec<QuoteLine>>)> {
        self.lock().todo.pop_front()
    }

    /// A buffer of the helper's written, to be used again.
    pub(super) fn release(&self, bytes: Vec<u8>) {
        let mut s = self.lock();
        s.held = s.held.saturating_sub(bytes.len());
        s.spare.push(bytes);
        drop(s);
        self.tell();
    }

    /// Tells the helper to stop, dropping the parts it has not taken.
    pub(super) fn stop(&self) {
        let mut s = self.lock();
        s.stop = true;
        s.todo.clear();
        drop(s);
        self.tell();
    }
}

/// The reader's side of the board: the quote's fields and each run, as they are read.
pub(super) struct Feed<'b>(pub(super) &'b Board);

impl Runs for Feed<'_> {
    fn head(&mut self, head: &Quote) {
        self.0.lock().head = Some(Arc::new(head.clone()));
        self.0.tell();
    }

    fn run(&mut self, start: usize, lines: &Arc<Vec<QuoteLine>>) {
        self.0
            .lock()
            .todo
            .push_back((start / PART, Arc::clone(lines)));
        self.0.tell();
    }

    /// The helper may render no more ahead, or there is none: reading the lines on two
    /// threads takes nothing from it.
    fn spare(&self) -> bool {
        let s = self.0.lock();
        s.held >= s.ahead || s.left
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::quote::QuoteFile;

    /// A board holding a byte ahead, with the fields of a quote and `parts` parts read.
    fn board(parts: usize) -> Board {
        let text = r#"{"quote":"Q","date":"2026-01-01","currency":"USD","customer":{"id":"C","name":"C"},"lines":[]}"#;
        let file = QuoteFile::parse("q.json", text).unwrap();
        let board = Board::new(1);
        let mut feed = Feed(&board);
        feed.head(&file.quote);
        for k in 0..parts {
            feed.run(k * PART, &Arc::new(Vec::new()));
        }
        board
    }

    /// The part of a task and whether it is a render claimed, a render not, or a check.
    fn what(task: Option<Task>) -> Option<(usize, &'static str)> {
        task.map(|t| match t {
            Task::Render { k, claimed, .. } => (k, if claimed { "claimed" } else { "render" }),
            Task::Check { k, .. } => (k, "check"),
        })
    }

    /// The helper claims from the front (a render, then checks while it may hold no more);
    /// once read the main thread claims from the back until they meet, and learns the units of
    /// the parts the helper vouched for once it has vouched for all it claimed.
    #[test]
    fn the_threads_claim_each_part_once_from_either_end() {
        let b = board(5);
        assert_eq!(what(b.task()), Some((0, "claimed")));
        b.lock().held = 10;
        b.vouch(true, Decimal::from(3));
        assert_eq!(what(b.task()), Some((1, "check")));
        b.vouch(true, Decimal::from(7));
        assert_eq!(what(b.task()), Some((2, "check")));
        b.read(5);
        assert_eq!(b.claim_back(), Some(4));
        assert_eq!(b.claim_back(), Some(3));
        assert_eq!(b.claim_back(), None);
        b.vouch(true, Decimal::from(9));
        assert_eq!(b.vouched(), Some((3..3, Decimal::from(9))));
        // Nothing is claimed after: the parts rendered now are not vouched for.
        b.lock().held = 0;
        assert_eq!(what(b.task()), Some((1, "render")));
    }

    /// A part the helper refuses ends the claims and the verdict.
    #[test]
    fn a_refused_part_refuses_the_quote() {
        let b = board(3);
        b.lock().held = 10;
        assert_eq!(what(b.task()), Some((0, "check")));
        b.vouch(false, Decimal::ZERO);
        assert!(b.lock().ahead().is_none(), "nothing more is checked ahead");
        b.read(3);
        assert_eq!(b.claim_back(), None);
        assert_eq!(b.vouched(), None);
    }

    /// A helper that stops with a part claimed leaves it to the main thread.
    #[test]
    fn a_part_the_helper_left_is_the_main_threads() {
        let b = board(3);
        b.lock().held = 10;
        assert_eq!(what(b.task()), Some((0, "check")));
        b.vouch(true, Decimal::from(2));
        assert_eq!(what(b.task()), Some((1, "check")));
        b.left();
        b.read(3);
        assert_eq!(b.claim_back(), Some(2));
        assert_eq!(b.claim_back(), None);
        assert_eq!(b.vouched(), Some((1..2, Decimal::from(2))));
    }

    /// The reader is told the helper has time to spare once it may render no more ahead, or
    /// once it has stopped (or none started).
    #[test]
    fn the_helper_spares_time_once_it_may_render_no_more_or_is_gone() {
        let b = board(2);
        assert!(!Feed(&b).spare());
        b.lock().held = 1;
        assert!(Feed(&b).spare());
        b.lock().held = 0;
        b.left();
        assert!(Feed(&b).spare());
    }

    /// While the quote is read the helper checks only the parts read, then waits for more.
    #[test]
    fn the_helper_checks_only_what_is_read() {
        let b = board(1);
        b.lock().held = 10;
        assert_eq!(what(b.task()), Some((0, "check")));
        b.vouch(true, Decimal::ONE);
        let s = b.lock();
        assert!(!s.busy() && !s.read, "nothing to do until more is read");
    }
}
