//! `tenor price --format json` of a quote priced in runs of lines while it is read: the main
//! thread reads the quote, handing its lines over in runs of [`PART`]; a helper thread prices
//! and renders runs as they come, and once the quote is read both do, the main thread writing
//! the runs in order, so the bytes are those of one run. Nothing is written until the whole
//! quote is read and checks out ([`Checks`]): with an error nothing is written.

use super::{drop_aside, output_error, stream_twice};
use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::cli::progress::Counter;
use crate::cli::render::priced_json;
use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::{
    self, Checks, EachLineError, Part, PriceOptions, PricedSummary, Pricer,
};
use crate::engine::quote::{QuoteLine, QuoteRuns, Runs};
use board::{Board, Feed, Task};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::mpsc::{Receiver, Sender};

mod board;

/// Lines priced and rendered at a time by one thread: enough that handing the bytes over is
/// nothing beside making them, few enough that little is held.
pub(super) const PART: usize = 512;

/// The bytes the helper may render ahead of what is written. While the quote is read nothing
/// is written: this bounds what is held then, whatever the quote's size.
pub(super) const AHEAD: usize = 32 << 20;

/// Parts the main thread may price ahead of the one it writes next, while the helper is
/// still on that one.
const OWN_AHEAD: usize = 4;

/// A part's bytes, its figures or why it stopped, and whether the helper priced it.
type Done = (Vec<u8>, PartResult, bool);

/// Prices the quote `read` reads (handing its lines to the [`Runs`] it is given) and writes
/// it, the helper rendering at most `ahead` bytes ahead of what is written ([`AHEAD`]): `Err`
/// with the text when `read` gives it back unread.
pub(super) fn priced_in_runs(
    cat: &Catalogue,
    read: impl FnOnce(&mut dyn Runs) -> Result<QuoteRuns, String>,
    ahead: usize,
    ctx: &mut Ctx<'_>,
) -> Result<CliResult, String> {
    let board = Board::new(ahead);
    let (to_main, done) = std::sync::mpsc::channel();
    let (runs, priced) = std::thread::scope(|s| {
        let board = &board;
        match pricing::parts_independent(cat) {
            true => drop(s.spawn(move || help(cat, board, &to_main))),
            // With no helper the main thread prices every part, in order, with one pricer.
            false => {
                drop(to_main);
                board.left();
            }
        }
        let runs = read(&mut Feed(board));
        board.read(runs.as_ref().map_or(0, |r| r.runs.len()));
        let priced = runs
            .as_ref()
            .ok()
            .map(|r| write_runs(cat, r, board, &done, ctx));
        board.stop();
        (runs, priced)
    });
    // The buffers written, tens of megabytes: unmapping them took a twentieth of the run.
    drop_aside(std::mem::take(&mut board.lock().spare));
    let runs = runs?;
    Ok(match priced {
        Some(Priced::Written(summary)) if !summary.warnings.is_empty() => {
            ctx.quote_warnings(&runs.into_file(), &summary.warnings);
            Ok(Exit::Success)
        }
        Some(Priced::Written(_)) => {
            drop_aside(runs);
            Ok(Exit::Success)
        }
        Some(Priced::Failed(e)) => Err(e),
        Some(Priced::CutShort) => cut_short(cat, runs, ctx),
        Some(Priced::Unchecked) | None => stream_twice(cat, &runs.into_file(), ctx),
    })
}

/// How [`write_runs`] ended.
enum Priced {
    /// The document is written; its figures.
    Written(PricedSummary),
    /// Nothing is written: the quote does not check out (it may have errors).
    Unchecked,
    /// A line failed after the quote checked out: the document stops there.
    CutShort,
    /// Writing failed.
    Failed(CliError),
}

/// A quote that checked out but did not price line by line: every problem it has, and the
/// document cut short.
fn cut_short(cat: &Catalogue, runs: QuoteRuns, ctx: &mut Ctx<'_>) -> CliResult {
    load::summarize(cat, &runs.into_file(), ctx)?;
    Err(CliError::Run(
        "the quote priced in full but not line by line: the document is cut short".into(),
    ))
}

/// Writes the priced quote of `runs`, read in full, when it checks out: the head, the parts
/// in order, then the figures.
fn write_runs(
    cat: &Catalogue,
    runs: &QuoteRuns,
    board: &Board,
    done: &Receiver<(usize, Vec<u8>, PartResult)>,
    ctx: &mut Ctx<'_>,
) -> Priced {
    let mut ready = BTreeMap::new();
    if !checked(cat, runs, board, &mut ready, done) {
        return Priced::Unchecked;
    }
    let total = runs.runs.iter().map(|r| r.len() as u64).sum();
    let mut progress = Counter::new(total, "pricing", ctx.progress());
    let mut head = Vec::new();
    let written = priced_json::head_of_quote(&mut head, &cat.currency, &runs.head)
        .and_then(|()| ctx.out.write_all(&head));
    if let Err(e) = written {
        return Priced::Failed(output_error(e));
    }
    let mut w = Writer {
        cat,
        runs,
        board,
        done,
        ready,
        out: &mut *ctx.out,
        progress: &mut progress,
        room: 0,
    };
    let summary = match w.parts().map(|p| p.summary(cat, &runs.head)) {
        Ok(Ok(summary)) => summary,
        Err(EachLineError::Sink(e)) => return Priced::Failed(output_error(e)),
        Err(EachLineError::Price(_)) | Ok(Err(_)) => return Priced::CutShort,
    };
    let mut tail = Vec::new();
    let written = priced_json::tail(&mut tail, &summary.totals, &summary.warnings)
        .and_then(|()| {
            tail.push(b'\n');
            ctx.out.write_all(&tail)
        })
        .and_then(|()| ctx.out.flush());
    match written {
        Ok(()) => Priced::Written(summary),
        Err(e) => Priced::Failed(e.into()),
    }
}

/// A part's figures, or why it stopped.
type PartResult = Result<Part, EachLineError<std::io::Error>>;

/// True when the quote read checks out, as [`pricing::checks_out`] says. The helper has
/// vouched for the parts from the front; the others are taken from the back until they meet
/// its: the lines of parts it has priced already are only counted (a line that prices checks
/// out), the others checked. The parts priced so far go to `ready`.
fn checked(
    cat: &Catalogue,
    runs: &QuoteRuns,
    board: &Board,
    ready: &mut BTreeMap<usize, Done>,
    done: &Receiver<(usize, Vec<u8>, PartResult)>,
) -> bool {
    let Some(mut checks) = Checks::new(cat, &runs.head) else {
        return false;
    };
    let mut check = |k: usize, ready: &mut BTreeMap<usize, Done>| {
        while let Ok((j, b, part)) = done.try_recv() {
            ready.insert(j, (b, part, true));
        }
        let Some(run) = runs.runs.get(k) else {
            return false;
        };
        match ready.get(&k) {
            Some((_, Ok(_), _)) => checks.count(run),
            _ => checks.lines(k * PART, run),
        }
    };
    if runs.runs.is_empty() {
        return false;
    }
    while let Some(k) = board.claim_back() {
        if !check(k, ready) {
            return false;
        }
    }
    // The units are summed in any order: a running sum under the bound at the end was under
    // it all along.
    let Some((left, units)) = board.vouched() else {
        return false;
    };
    left.into_iter().all(|k| check(k, ready)) && checks.join(units)
}

/// The main thread's side of writing the parts once the quote is read.
struct Writer<'a, 'o> {
    cat: &'a Catalogue,
    runs: &'a QuoteRuns,
    board: &'a Board,
    done: &'a Receiver<(usize, Vec<u8>, PartResult)>,
    /// Parts priced and not yet written.
    ready: BTreeMap<usize, Done>,
    out: &'o mut dyn Write,
    progress: &'o mut Counter,
    /// The room to make in a buffer before a part is rendered into it ([`render`]).
    room: usize,
}

impl Writer<'_, '_> {
    /// Writes every part in order, pricing those the helper has not taken, and joins their
    /// figures.
    fn parts(&mut self) -> PartResult {
        let mut pricer = Pricer::new(self.cat, &self.runs.head, PriceOptions::default());
        let (mut sums, mut spare): (Option<Part>, Vec<Vec<u8>>) = (None, Vec::new());
        for k in 0..self.runs.runs.len() {
            let (bytes, part, helpers) = self.next(k, &mut pricer, &mut spare)?;
            let part = part?;
            self.out.write_all(&bytes).map_err(EachLineError::Sink)?;
            (0..self.runs.runs.get(k).map_or(0, |r| r.len())).for_each(|_| self.progress.inc());
            match helpers {
                true => self.board.release(bytes),
                false => spare.push(bytes),
            }
            match &mut sums {
                Some(s) => s.join(part),
                None => sums = Some(part),
            }
        }
        sums.ok_or_else(helper_gone)
    }

    /// Part `k`, priced: by the helper (waited for when it has taken it), else here, along
    /// with the parts after it the helper has not taken while it is on an earlier one.
    fn next(
        &mut self,
        k: usize,
        pricer: &mut Pricer<'_>,
        spare: &mut Vec<Vec<u8>>,
    ) -> Result<Done, EachLineError<std::io::Error>> {
        loop {
            if let Some(d) = self.ready.remove(&k) {
                return Ok(d);
            }
            while let Ok((j, b, part)) = self.done.try_recv() {
                self.ready.insert(j, (b, part, true));
            }
            if self.ready.contains_key(&k) {
                continue;
            }
            let own = self.ready.values().filter(|d| !d.2).count();
            match (own < OWN_AHEAD).then(|| self.board.take()).flatten() {
                Some((j, lines)) => {
                    let mut b = spare.pop().unwrap_or_default();
                    let part = render(pricer, j, &lines, &mut b, &mut self.room);
                    self.ready.insert(j, (b, part, false));
                }
                None => {
                    let (j, b, part) = self.done.recv().map_err(|_| helper_gone())?;
                    self.ready.insert(j, (b, part, true));
                }
            }
        }
    }
}

/// Why the lines stopped coming from the helper thread, which stops only with an error of
/// its own, sent first.
fn helper_gone() -> EachLineError<std::io::Error> {
    EachLineError::Sink(std::io::Error::other("the second pricing thread stopped"))
}

/// Prices part `k`, `lines`, into `b` (emptied first), as they read in the whole document (a
/// comma before every line but the quote's first). `room` is the room to make in `b` first:
/// an eighth more than the largest part so far, so that a buffer seldom grows while it is
/// written (growing a buffer this size moves its pages and stops both threads to do it).
fn render(
    pricer: &mut Pricer<'_>,
    k: usize,
    lines: &[QuoteLine],
    b: &mut Vec<u8>,
    room: &mut usize,
) -> PartResult {
    b.clear();
    b.reserve(*room);
    let start = k * PART;
    let mut doc = priced_json::Lines::after(start);
    let part = pricer.run(start, lines, &mut (), |l| doc.write(b, l));
    *room = (*room).max(b.len() + b.len() / 8);
    part
}

/// The helper thread: once the quote's fields are read, prices the parts it takes from the
/// board, each into a buffer sent to the main thread, and while it may hold no more, checks
/// the parts read ahead; until there are none left or it is told to stop. It vouches for the
/// parts it claimed as it goes ([`Board::vouch`]).
fn help(cat: &Catalogue, board: &Board, to_main: &Sender<(usize, Vec<u8>, PartResult)>) {
    let _leaving = Leaving(board);
    let Some(head) = board.head() else {
        return;
    };
    let Some(mut checks) = Checks::new(cat, &head) else {
        return board.refuse();
    };
    let mut pricer = Pricer::new(cat, &head, PriceOptions::default());
    let mut room = 0;
    while let Some(task) = board.task() {
        match task {
            Task::Render {
                k,
                lines,
                mut buffer,
                claimed,
            } => {
                let part = render(&mut pricer, k, &lines, &mut buffer, &mut room);
                board.lock().held += buffer.len();
                if claimed {
                    // A line that prices checks out; one that does not is checked as the main
                    // thread would, so that the verdict is the same.
                    let fine = match &part {
                        Ok(_) => checks.count(&lines),
                        Err(_) => checks.lines(k * PART, &lines),
                    };
                    board.vouch(fine, checks.units());
                }
                if to_main.send((k, buffer, part)).is_err() {
                    return;
                }
            }
            Task::Check { k, lines } => {
                let fine = checks.lines(k * PART, &lines);
                board.vouch(fine, checks.units());
            }
        }
    }
}

/// Says on the board that the helper has stopped, however it stops.
struct Leaving<'b>(&'b Board);

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        self.0.left();
    }
}
