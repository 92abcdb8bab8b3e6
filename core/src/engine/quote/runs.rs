//! A JSON quote read with its lines handed over in runs as they are read, so that pricing may
//! start before the last line is read: the JSON reader of [`QuoteFile::parse`], the fields
//! of the quote taken one at a time instead of all at once, and the lines skimmed, then read
//! on two threads. It reads a quote exactly as
//! [`QuoteFile::parse`] does, or not at all: any problem, and the caller reads the text the
//! usual way, for an error that names its line and field.

use super::{Quote, QuoteFile, QuoteLine};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};

/// Where [`QuoteFile::read_runs`] hands what it reads.
pub trait Runs {
    /// The quote with no lines: called once, before any run, as soon as its fields are read
    /// (after its lines, when they come first).
    fn head(&mut self, head: &Quote);
    /// The next run of lines, the first at 0-based position `start`.
    fn run(&mut self, start: usize, lines: &Arc<Vec<QuoteLine>>);
    /// Whether the lines left are better read on two threads: the runs' taker has time to
    /// spare. Not by default.
    fn spare(&self) -> bool {
        false
    }
}

/// A quote read by [`QuoteFile::read_runs`]: its fields, and its lines in runs.
pub struct QuoteRuns {
    name: String,
    text: String,
    /// The quote with no lines.
    pub head: Quote,
    /// Its lines, in runs of the length asked for (the last may be shorter).
    pub runs: Vec<Arc<Vec<QuoteLine>>>,
}

impl QuoteRuns {
    /// The quote file, its lines in one list (a copy of those still shared).
    pub fn into_file(self) -> QuoteFile {
        let mut quote = self.head;
        quote.lines = Vec::with_capacity(self.runs.iter().map(|r| r.len()).sum());
        for run in self.runs {
            match Arc::try_unwrap(run) {
                Ok(lines) => quote.lines.extend(lines),
                Err(shared) => quote.lines.extend_from_slice(&shared),
            }
        }
        QuoteFile {
            name: self.name,
            text: self.text,
            quote,
            positions: std::sync::OnceLock::new(),
        }
    }
}

impl QuoteFile {
    /// This quote's lines handed to `runs` in runs of `len` (its head first), as
    /// [`QuoteFile::read_runs`] hands those of a quote it reads.
    pub fn into_runs(self, len: usize, runs: &mut dyn Runs) -> QuoteRuns {
        let mut head = self.quote;
        let lines = std::mem::take(&mut head.lines);
        runs.head(&head);
        let mut kept: Vec<Arc<Vec<QuoteLine>>> = Vec::new();
        let mut lines = lines.into_iter().peekable();
        let mut start = 0;
        while lines.peek().is_some() {
            let run = Arc::new(lines.by_ref().take(len.max(1)).collect::<Vec<_>>());
            runs.run(start, &run);
            start += run.len();
            kept.push(run);
        }
        QuoteRuns {
            name: self.name,
            text: self.text,
            head,
            runs: kept,
        }
    }

    /// A JSON quote read as [`QuoteFile::parse_owned`] reads it, its lines handed to `runs` in
    /// runs of `len` as they are read. With any problem (and for YAML) the text comes back,
    /// to be read the usual way: what was handed to `runs` is then to be forgotten.
    pub fn read_runs(
        name: &str,
        text: String,
        len: usize,
        runs: &mut dyn Runs,
    ) -> Result<QuoteRuns, String> {
        if !text.trim_start().starts_with('{') || len == 0 {
            return Err(text);
        }
        let read = {
            let mut de = serde_json::Deserializer::from_str(&text);
            let visitor = QuoteVisitor {
                len,
                sink: runs,
                runs: Vec::new(),
            };
            de::Deserializer::deserialize_map(&mut de, visitor).and_then(|q| de.end().map(|()| q))
        };
        match read {
            Ok((head, runs)) if crate::files::names::validate_id(&head.quote).is_ok() => {
                Ok(QuoteRuns {
                    name: name.to_string(),
                    text,
                    head,
                    runs,
                })
            }
            _ => Err(text),
        }
    }
}

/// The fields of a quote, as its derived reader names them.
const FIELDS: &[&str] = &["quote", "date", "currency", "customer", "lines"];

/// Reads the quote's mapping, as the derived reader of [`Quote`] does (every field once, no
/// other), handing its lines over on the way.
struct QuoteVisitor<'s> {
    len: usize,
    sink: &'s mut dyn Runs,
    runs: Vec<Arc<Vec<QuoteLine>>>,
}

/// Sets a field read once; a second time is an error, as it is to the derived reader.
fn once<T, E: de::Error>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), E> {
    match slot.replace(value) {
        None => Ok(()),
        Some(_) => Err(E::duplicate_field(name)),
    }
}

impl<'de> Visitor<'de> for QuoteVisitor<'_> {
    type Value = (Quote, Vec<Arc<Vec<QuoteLine>>>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct Quote")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut quote, mut currency): (Option<String>, Option<String>) = (None, None);
        let (mut date, mut customer) = (None, None);
        let (mut lines, mut told) = (false, false);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "quote" => once(&mut quote, "quote", map.next_value()?)?,
                "date" => once(&mut date, "date", map.next_value()?)?,
                "currency" => once(&mut currency, "currency", map.next_value()?)?,
                "customer" => once(&mut customer, "customer", map.next_value()?)?,
                "lines" if !lines => {
                    lines = true;
                    if let (Some(q), Some(d), Some(c), Some(cu)) =
                        (&quote, date, &currency, &customer)
                    {
                        self.sink.head(&head(q, d, c, cu));
                        told = true;
                    }
                    map.next_value_seed(LinesSeed {
                        len: self.len,
                        sink: told.then_some(&mut *self.sink),
                        runs: &mut self.runs,
                    })?;
                }
                "lines" => return Err(de::Error::duplicate_field("lines")),
                other => return Err(de::Error::unknown_field(other, FIELDS)),
            }
        }
        let missing = |name| move || de::Error::missing_field(name);
        let head = Quote {
            quote: quote.ok_or_else(missing("quote"))?,
            date: date.ok_or_else(missing("date"))?,
            currency: currency.ok_or_else(missing("currency"))?,
            customer: customer.ok_or_else(missing("customer"))?,
            lines: Vec::new(),
        };
        if !lines {
            return Err(missing("lines")());
        }
        if !told {
            self.sink.head(&head);
            let mut start = 0;
            for run in &self.runs {
                self.sink.run(start, run);
                start += run.len();
            }
        }
        Ok((head, self.runs))
    }
}

/// The quote without its lines, from its fields read so far.
fn head(quote: &str, date: chrono::NaiveDate, currency: &str, customer: &super::Customer) -> Quote {
    Quote {
        quote: quote.to_string(),
        date,
        currency: currency.to_string(),
        customer: customer.clone(),
        lines: Vec::new(),
    }
}

/// Reads the list of lines in runs, handing each to `sink` (when the quote's fields are known)
/// and keeping it in `runs`.
struct LinesSeed<'a> {
    len: usize,
    sink: Option<&'a mut dyn Runs>,
    runs: &'a mut Vec<Arc<Vec<QuoteLine>>>,
}

impl LinesSeed<'_> {
    fn hand(&mut self, start: &mut usize, run: Vec<QuoteLine>) {
        let run = Arc::new(run);
        if let Some(sink) = self.sink.as_mut() {
            sink.run(*start, &run);
        }
        *start += run.len();
        self.runs.push(run);
    }
}

impl<'de> DeserializeSeed<'de> for LinesSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // As the derived reader reads a `Vec`.
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LinesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    /// The lines are read a run at a time, in the list, until `sink` has time to spare
    /// ([`Runs::spare`]); from then on each run's lines are only skimmed here, their texts
    /// taken whole, and read into lines here or by a helper thread ([`Readers`]). Runs are
    /// handed over in order either way. Skimming adds about a sixth to reading, so it pays
    /// only where the other thread would otherwise wait. A line's text reads as it reads in
    /// the list: the same reader, and nesting too deep for the list is refused by the skim.
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let len = self.len;
        std::thread::scope(|scope| {
            let mut readers = Readers::new(scope);
            let (mut k, mut start) = (0, 0);
            loop {
                let n = match self.sink.as_ref().is_some_and(|s| s.spare()) {
                    true => readers.read(k, next_run(&mut seq, len)?),
                    false => readers.done(k, next_run(&mut seq, len)?),
                };
                if n == 0 {
                    break;
                }
                k += 1;
                self.hand_ready(&mut readers, &mut start, false)?;
                if n < len {
                    break;
                }
            }
            self.hand_ready(&mut readers, &mut start, true)
        })
    }
}

/// The next `len` elements of `seq`, fewer at its end.
fn next_run<'de, A: SeqAccess<'de>, T: de::Deserialize<'de>>(
    seq: &mut A,
    len: usize,
) -> Result<Vec<T>, A::Error> {
    let mut run = Vec::with_capacity(len);
    while run.len() < len {
        match seq.next_element()? {
            Some(x) => run.push(x),
            None => break,
        }
    }
    Ok(run)
}

impl LinesSeed<'_> {
    /// Hands over the runs read, in order, as far as they are read; `all` waits for the rest.
    fn hand_ready<E: de::Error>(
        &mut self,
        readers: &mut Readers<'_, '_, '_>,
        start: &mut usize,
        all: bool,
    ) -> Result<(), E> {
        while let Some(run) = readers.next(all) {
            self.hand(start, run.map_err(E::custom)?);
        }
        Ok(())
    }
}

/// The lines of a run, or the error reading one of them.
type Read = Result<Vec<QuoteLine>, serde_json::Error>;

/// Reads runs of lines' texts into lines, handing them to a helper thread (started with the
/// first, so that a quote read whole in the list starts none) while it has fewer than two
/// waiting, and reading the others on the calling thread; gives them back in order, with the
/// runs read already.
struct Readers<'scope, 'env, 'de> {
    scope: &'scope std::thread::Scope<'scope, 'env>,
    /// To the helper, once started.
    to_helper: Option<Sender<(usize, Vec<&'de RawValue>)>>,
    from_helper: Option<Receiver<(usize, Read)>>,
    /// Runs with the helper and not yet back.
    out: usize,
    /// Runs read and not yet given back, by number.
    done: BTreeMap<usize, Read>,
    /// The next run to give back.
    next: usize,
}

impl<'scope, 'env, 'de> Readers<'scope, 'env, 'de> {
    /// Readers with no helper yet, which is started in `scope`.
    fn new(scope: &'scope std::thread::Scope<'scope, 'env>) -> Self {
        Readers {
            scope,
            to_helper: None,
            from_helper: None,
            out: 0,
            done: BTreeMap::new(),
            next: 0,
        }
    }

    /// Run `k`, read already; its length.
    fn done(&mut self, k: usize, lines: Vec<QuoteLine>) -> usize {
        let n = lines.len();
        if n > 0 {
            self.done.insert(k, Ok(lines));
        }
        n
    }

    /// Reads run `k`, `texts`, on the helper while it has fewer than two waiting, else here;
    /// its length.
    fn read(&mut self, k: usize, texts: Vec<&'de RawValue>) -> usize
    where
        'de: 'scope,
    {
        let n = texts.len();
        if n == 0 {
            return 0;
        }
        let texts = match self.out < 2 {
            true => match self.helper().send((k, texts)) {
                Ok(()) => {
                    self.out += 1;
                    return n;
                }
                // No thread started: read here.
                Err(std::sync::mpsc::SendError((_, texts))) => texts,
            },
            false => texts,
        };
        self.done.insert(k, read_lines(&texts));
        n
    }

    /// Where to send runs for the helper, started the first time.
    fn helper(&mut self) -> &Sender<(usize, Vec<&'de RawValue>)>
    where
        'de: 'scope,
    {
        self.to_helper.get_or_insert_with(|| {
            let (to, texts) = std::sync::mpsc::channel::<(usize, Vec<&'de RawValue>)>();
            let (back, from) = std::sync::mpsc::channel();
            self.from_helper = Some(from);
            // Should no thread start, its receiver is dropped and every send fails.
            let _ = std::thread::Builder::new().spawn_scoped(self.scope, move || {
                for (k, run) in texts {
                    if back.send((k, read_lines(&run))).is_err() {
                        return;
                    }
                }
            });
            to
        })
    }

    /// The next run in order, once read: `None` while it is not (when `all`, waited for,
    /// and `None` once every run is given back).
    fn next(&mut self, all: bool) -> Option<Read> {
        loop {
            if let Some(run) = self.done.remove(&self.next) {
                self.next += 1;
                return Some(run);
            }
            let from = self.from_helper.as_ref().filter(|_| self.out > 0)?;
            let got = match all {
                true => from.recv().map_err(|_| TryRecvError::Disconnected),
                false => from.try_recv(),
            };
            match got {
                Ok((k, run)) => {
                    self.out -= 1;
                    self.done.insert(k, run);
                }
                Err(TryRecvError::Empty) => return None,
                // The helper stopped (a panic, reported by the scope) with runs unread.
                Err(TryRecvError::Disconnected) => {
                    self.out = 0;
                    let stopped = std::io::Error::other("the thread reading lines stopped");
                    return Some(Err(serde_json::Error::io(stopped)));
                }
            }
        }
    }
}

/// The lines of their texts, each read as the list of lines reads it.
fn read_lines(texts: &[&RawValue]) -> Read {
    texts
        .iter()
        .map(|t| serde_json::from_str(t.get()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a reader handed over: the head's id, then each run's start and length. It has
    /// time to spare once `spare_from` runs are handed over.
    struct Seen {
        got: Vec<String>,
        runs: usize,
        spare_from: usize,
    }

    impl Seen {
        fn new(spare_from: usize) -> Self {
            Seen {
                got: Vec::new(),
                runs: 0,
                spare_from,
            }
        }
    }

    impl Runs for Seen {
        fn head(&mut self, head: &Quote) {
            assert!(head.lines.is_empty());
            self.got.push(head.quote.clone());
        }
        fn run(&mut self, start: usize, lines: &Arc<Vec<QuoteLine>>) {
            self.got.push(format!("{start}+{}", lines.len()));
            self.runs += 1;
        }
        fn spare(&self) -> bool {
            self.runs >= self.spare_from
        }
    }

    /// When the taker of the runs has time to spare: never (every line read in the list),
    /// from the start (every line skimmed), and from the second or fourth run on.
    const SPARE: [usize; 4] = [usize::MAX, 0, 1, 3];

    /// `text` read in runs of `len`, the taker sparing time from run `spare_from` on; what
    /// it was handed.
    fn read(text: &str, len: usize, spare_from: usize) -> (Result<QuoteRuns, String>, Vec<String>) {
        let mut seen = Seen::new(spare_from);
        let runs = QuoteFile::read_runs("q.json", text.to_string(), len, &mut seen);
        (runs, seen.got)
    }

    /// Whether `text` comes back as text, whenever the taker has time to spare.
    fn given_back(text: &str, len: usize) -> bool {
        SPARE
            .iter()
            .all(|&from| read(text, len, from).0.err().as_deref() == Some(text))
    }

    fn line(i: usize) -> String {
        format!(
            r#"{{"product":"P{i}","quantity":{},"term":"P1Y","billing":"annual","start":"2026-01-{:02}"}}"#,
            1 + i,
            1 + i % 28
        )
    }

    fn quote(n: usize) -> String {
        let lines: Vec<String> = (0..n).map(line).collect();
        format!(
            r#"{{"quote":"Q-1","date":"2026-01-01","currency":"USD","customer":{{"id":"C","name":"N"}},"lines":[{}]}}"#,
            lines.join(",")
        )
    }

    /// The quote read in runs, as one file, in the bytes the usual reader's quote serializes
    /// to, and what was handed over; the same whenever the taker has time to spare.
    fn both(text: &str, len: usize) -> Option<(String, Vec<String>)> {
        let mut each = SPARE.iter().map(|&from| {
            let (runs, seen) = read(text, len, from);
            let file = runs.ok()?.into_file();
            let usual = QuoteFile::parse("q.json", text).unwrap();
            let quote = serde_json::to_string(&file.quote).unwrap();
            assert_eq!(quote, serde_json::to_string(&usual.quote).unwrap());
            assert_eq!(file.text, text);
            Some((quote, seen))
        });
        let first = each.next().flatten();
        for other in each {
            assert_eq!(other, first, "the same however the lines are read");
        }
        first
    }

    #[test]
    fn lines_come_in_runs_of_the_length_asked_for_the_head_first() {
        let (_, seen) = both(&quote(7), 3).unwrap();
        assert_eq!(seen, ["Q-1", "0+3", "3+3", "6+1"]);
        let (_, seen) = both(&quote(6), 3).unwrap();
        assert_eq!(seen, ["Q-1", "0+3", "3+3"]);
        let (_, seen) = both(&quote(0), 3).unwrap();
        assert_eq!(seen, ["Q-1"]);
    }

    #[test]
    fn a_quote_read_whole_is_handed_over_in_the_same_runs() {
        for n in [0, 1, 5, 6, 7] {
            let mut whole = Seen::new(0);
            let file = QuoteFile::parse("q.yaml", &quote(n)).unwrap();
            let expected = serde_json::to_string(&file.quote).unwrap();
            let runs = file.into_runs(3, &mut whole);
            assert_eq!(both(&quote(n), 3).map(|(_, seen)| seen), Some(whole.got));
            assert_eq!(
                serde_json::to_string(&runs.into_file().quote).unwrap(),
                expected
            );
        }
    }

    #[test]
    fn lines_before_the_fields_they_need_are_handed_over_at_the_end() {
        let text = format!(
            r#"{{"lines":[{},{}],"customer":{{"id":"C","name":"N"}},"currency":"USD","date":"2026-01-01","quote":"Q-1"}}"#,
            line(0),
            line(1)
        );
        let (_, seen) = both(&text, 1).unwrap();
        assert_eq!(seen, ["Q-1", "0+1", "1+1"]);
        // Escaped keys are the same keys.
        let escaped = quote(2).replacen("\"quote\"", "\"\\u0071uote\"", 1);
        assert!(both(&escaped, 1).is_some());
    }

    /// Every quote the usual JSON reader refuses is left to it, so that its error is the
    /// located one; and YAML is never read here.
    #[test]
    fn anything_the_usual_reader_refuses_comes_back_as_text() {
        let good = quote(2);
        let bad = [
            good.replacen("\"currency\":\"USD\",", "\"currency\":\"USD\",\"currency\":\"EUR\",", 1),
            good.replacen("\"lines\":[", "\"lines\":[],\"lines\":[", 1),
            good.replacen("\"currency\":\"USD\",", "\"curency\":\"USD\",", 1),
            good.replacen("\"currency\":\"USD\",", "", 1),
            good.replacen("\"quantity\":1", "\"qty\":1", 1),
            good.replacen("\"quote\":\"Q-1\"", "\"quote\":\"../x\"", 1),
            good.replacen("\"2026-01-01\"", "\"2026-02-30\"", 1),
            good.clone() + " x",
            good.replacen("]}", "]", 1),
            r#"{"quote":"Q-1","date":"2026-01-01","currency":"USD","customer":{"id":"C","name":"N"}}"#.to_string(),
            good.replacen("\"lines\":[", "\"lines\":null,\"z\":[", 1),
            "quote: Q-1\n".to_string(),
        ];
        for text in bad {
            assert!(given_back(&text, 1), "{text}");
        }
        // The same quote with spaces and a trailing newline reads.
        let spaced = good.replace(",\"", ", \"").replace(":", ": ") + "\n";
        assert!(both(&spaced, 1).is_some());
    }

    /// Runs read in the list or skimmed, then read on either thread, come back in order, as
    /// the usual reader reads them.
    #[test]
    fn runs_read_on_two_threads_come_back_in_order() {
        for (n, len) in [(100, 1), (100, 7), (1000, 3), (2, 1)] {
            let (_, seen) = both(&quote(n), len).unwrap();
            let mut expected = vec!["Q-1".to_string()];
            expected.extend(
                (0..n.div_ceil(len)).map(|k| format!("{}+{}", k * len, len.min(n - k * len))),
            );
            assert_eq!(seen, expected, "{n} lines in runs of {len}");
        }
    }

    /// A line the usual reader refuses, wherever it is (read here or by the helper), and the
    /// quote comes back as text.
    #[test]
    fn a_bad_line_anywhere_gives_the_text_back() {
        let n = 40;
        for bad in 0..n {
            let lines: Vec<String> = (0..n)
                .map(|i| match i == bad {
                    true => line(i).replacen("\"quantity\"", "\"qty\"", 1),
                    false => line(i),
                })
                .collect();
            let text = quote(0).replacen("[]", &format!("[{}]", lines.join(",")), 1);
            assert!(QuoteFile::parse("q.json", &text).is_err());
            assert!(given_back(&text, 3), "line {bad}");
        }
    }

    /// Nesting too deep for the usual reader, in a line: refused as the usual reader refuses
    /// it (by the skim, before the line's text is read alone).
    #[test]
    fn nesting_too_deep_in_a_line_gives_the_text_back() {
        let deep = format!("{}1{}", "[".repeat(127), "]".repeat(127));
        let text = quote(5).replacen("\"quantity\":5", &format!("\"quantity\":{deep}"), 1);
        assert!(QuoteFile::parse("q.json", &text).is_err());
        assert!(given_back(&text, 1));
    }

    proptest::proptest! {
        /// A quote with characters deleted, doubled or put in: whenever it reads in runs, the
        /// usual reader reads the same quote (`both` asserts it).
        #[test]
        fn a_damaged_quote_reads_in_runs_only_as_the_usual_reader_reads_it(
            edits in proptest::collection::vec((0usize..400, 0usize..3, 0usize..12), 1..4),
            len in 1usize..4,
        ) {
            let mut text = quote(3).into_bytes();
            for (at, how, what) in edits {
                let at = at % text.len();
                let c = b"{}[],:\"0 1-e"[what];
                match how {
                    0 => { text.remove(at); }
                    1 => text.insert(at, text[at]),
                    _ => text.insert(at, c),
                }
            }
            if let Ok(text) = String::from_utf8(text) {
                let _ = both(&text, len);
            }
        }
    }
}
