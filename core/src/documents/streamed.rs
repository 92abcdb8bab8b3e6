//! Writing a document whose one array runs to millions of elements (a priced quote's lines, a
//! schedule's charges) without holding it: the document around the array is rendered once,
//! each element is rendered as it is made into a scratch file, and the whole is written out
//! in the exact bytes `serde_json::to_string_pretty` gives the complete document.
//!
//! Pretty JSON indents an element of a top-level array by four spaces and each of its lines
//! by four more than on its own; a string never holds a raw newline, so an element rendered
//! alone is placed by indenting after every newline. The schedule is ordered by bill date and
//! then quote line: lines are priced in order, so charges filed by bill date, each date's in
//! arrival order, are already in that order, and no sort is needed.

use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;

/// How many rendered bytes a spool holds in memory before they go to its scratch file: large
/// enough for few writes, small beside the documents (which run to gigabytes).
const HELD: usize = 4 << 20;

/// As [`HELD`], for a spool of which there may be one per distributor.
const HELD_SMALL: usize = 1 << 20;

/// As [`HELD`], for the dated charges: every date's together (each date's buffer can be up
/// to twice what it holds, so the memory they take is at most twice this).
const HELD_DATED: usize = 8 << 20;

/// A document rendered with its array empty, split where the elements go.
#[derive(Debug)]
pub struct Frame {
    /// Up to and including the array's `[`.
    before: Vec<u8>,
    /// From the array's `]` to the end.
    after: Vec<u8>,
}

impl Frame {
    /// Renders `doc` (its array `key`, a top-level field, empty) and splits it at the array;
    /// `None` when `key` is not an empty top-level array of it.
    pub fn new(doc: &impl Serialize, key: &str) -> Option<Frame> {
        let text = serde_json::to_vec_pretty(doc).ok()?;
        let mark = format!("\n  \"{key}\": []");
        let at = find(&text, mark.as_bytes())? + mark.len() - 1;
        let (before, after) = text.split_at(at);
        Some(Frame {
            before: before.to_vec(),
            after: after.to_vec(),
        })
    }

    /// The document with its array empty.
    pub fn empty(&self) -> Vec<u8> {
        [self.before.as_slice(), self.after.as_slice()].concat()
    }

    /// Writes the document with `elements` (each as [`element`] renders it) in its array.
    pub fn write(
        &self,
        out: &mut dyn Write,
        elements: &mut dyn FnMut(&mut dyn Write) -> io::Result<u64>,
    ) -> io::Result<()> {
        out.write_all(&self.before)?;
        let mut skip = SkipFirst {
            out,
            skipped: false,
        };
        if elements(&mut skip)? > 0 {
            skip.out.write_all(b"\n  ")?;
        }
        skip.out.write_all(&self.after)
    }
}

/// Passes every byte on but the first: the first element's leading comma.
struct SkipFirst<'a> {
    out: &'a mut dyn Write,
    skipped: bool,
}

impl Write for SkipFirst<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match buf.split_first() {
            Some((_, rest)) if !self.skipped => {
                self.skipped = true;
                self.out.write_all(rest)?;
            }
            _ => self.out.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Appends `value` to `out` as an element of a top-level array: a comma, a newline and the
/// value pretty-printed four spaces in. `scratch` is a reused buffer.
pub fn element(value: &impl Serialize, scratch: &mut Vec<u8>, out: &mut Vec<u8>) -> io::Result<()> {
    scratch.clear();
    serde_json::to_writer_pretty(&mut *scratch, value)?;
    out.extend_from_slice(b",\n    ");
    for part in scratch.split_inclusive(|b| *b == b'\n') {
        out.extend_from_slice(part);
        if part.ends_with(b"\n") {
            out.extend_from_slice(b"    ");
        }
    }
    Ok(())
}

/// Elements appended in order to an unnamed scratch file, to be read back once.
#[derive(Debug)]
pub struct Spool {
    file: File,
    limit: usize,
    held: Vec<u8>,
    len: u64,
    count: u64,
}

impl Spool {
    /// An empty spool in a new scratch file (exclusive, unnamed: nothing else can open it).
    pub fn new() -> io::Result<Spool> {
        Self::holding(HELD)
    }

    /// [`Spool::new`] holding less in memory.
    pub fn small() -> io::Result<Spool> {
        Self::holding(HELD_SMALL)
    }

    fn holding(limit: usize) -> io::Result<Spool> {
        Ok(Spool {
            file: tempfile::tempfile()?,
            limit,
            held: Vec::with_capacity(limit),
            len: 0,
            count: 0,
        })
    }

    /// Appends one rendered element.
    pub fn push(&mut self, rendered: &[u8]) -> io::Result<()> {
        // Spilled before it would pass the limit, so the buffer never grows past its size.
        if self.held.len() + rendered.len() > self.limit {
            self.spill()?;
        }
        self.held.extend_from_slice(rendered);
        self.count += 1;
        Ok(())
    }

    /// Writes what is held to the file.
    fn spill(&mut self) -> io::Result<()> {
        self.file.write_all_at(&self.held, self.len)?;
        self.len += self.held.len() as u64;
        self.held.clear();
        Ok(())
    }

    /// Writes every element, in order, to `out`; the number written.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<u64> {
        copy_range(&self.file, 0, self.len, out)?;
        out.write_all(&self.held)?;
        Ok(self.count)
    }
}

/// Copies bytes `[from, from + len)` of `file` to `out` through a bounded buffer.
fn copy_range(file: &File, from: u64, len: u64, out: &mut dyn Write) -> io::Result<()> {
    let mut buf = vec![0u8; (1 << 20).min(usize::try_from(len).unwrap_or(usize::MAX))];
    let mut at = 0u64;
    while at < len {
        let n = usize::try_from(len - at)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let part = buf.get_mut(..n).unwrap_or_default();
        file.read_exact_at(part, from + at)?;
        out.write_all(part)?;
        at += n as u64;
    }
    Ok(())
}

/// Rendered charges filed by bill date, each date's in arrival order, in one scratch file.
#[derive(Debug)]
pub struct Dated {
    file: File,
    len: u64,
    dates: BTreeMap<NaiveDate, Filed>,
    held: usize,
    count: u64,
}

/// One date's charges: the runs already in the file, and what is held.
#[derive(Debug, Default)]
struct Filed {
    runs: Vec<(u64, u64)>,
    held: Vec<u8>,
}

impl Dated {
    /// Nothing filed yet, in a new scratch file.
    pub fn new() -> io::Result<Dated> {
        Ok(Dated {
            file: tempfile::tempfile()?,
            len: 0,
            dates: BTreeMap::new(),
            held: 0,
            count: 0,
        })
    }

    /// Files one rendered charge under its bill date.
    pub fn push(&mut self, date: NaiveDate, rendered: &[u8]) -> io::Result<()> {
        self.dates
            .entry(date)
            .or_default()
            .held
            .extend_from_slice(rendered);
        self.held += rendered.len();
        self.count += 1;
        if self.held >= HELD_DATED {
            self.spill()?;
        }
        Ok(())
    }

    /// Writes every date's held charges to the file as one run each.
    fn spill(&mut self) -> io::Result<()> {
        for filed in self.dates.values_mut() {
            if filed.held.is_empty() {
                continue;
            }
            self.file.write_all_at(&filed.held, self.len)?;
            let n = filed.held.len() as u64;
            filed.runs.push((self.len, n));
            self.len += n;
            filed.held.clear();
        }
        self.held = 0;
        Ok(())
    }

    /// Writes every charge, by bill date, to `out`; the number written.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<u64> {
        for filed in self.dates.values() {
            for (from, len) in &filed.runs {
                copy_range(&self.file, *from, *len, out)?;
            }
            out.write_all(&filed.held)?;
        }
        Ok(self.count)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use serde_json::json;

    fn whole(frame: &Frame, items: &[serde_json::Value]) -> String {
        let mut spool = Spool::new().unwrap();
        let (mut scratch, mut one) = (Vec::new(), Vec::new());
        for v in items {
            one.clear();
            element(v, &mut scratch, &mut one).unwrap();
            spool.push(&one).unwrap();
        }
        let mut out = Vec::new();
        frame.write(&mut out, &mut |o| spool.write_to(o)).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_framed_document_is_what_pretty_printing_the_whole_gives() {
        let items = [
            json!({"a": 1, "b": {"c": [1, 2], "d": "x\ny"}}),
            json!({"a": 2, "b": {"c": [], "d": ""}}),
        ];
        let head = json!({"id": "S", "lines": [], "total": {"n": "3.00"}});
        let frame = Frame::new(&head, "lines").unwrap();
        for n in 0..=items.len() {
            let full = json!({"id": "S", "lines": items[..n], "total": {"n": "3.00"}});
            let expected = serde_json::to_string_pretty(&full).unwrap();
            assert_eq!(whole(&frame, &items[..n]), expected, "{n} elements");
        }
    }

    #[test]
    fn an_array_that_is_not_a_top_level_field_is_no_frame() {
        assert!(Frame::new(&json!({"a": {"lines": []}}), "lines").is_none());
        assert!(Frame::new(&json!({"lines": [1]}), "lines").is_none());
    }

    #[test]
    fn dated_charges_come_out_by_date_each_date_in_arrival_order_across_spills() {
        let mut dated = Dated::new().unwrap();
        let day = |d: u32| NaiveDate::from_ymd_opt(2027, 1, d).unwrap();
        // Enough to spill several times: every date's runs must stay in order.
        let big = vec![b'x'; HELD_DATED / 3];
        let mut expected: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
        for i in 0..12u32 {
            let d = 1 + (i * 7) % 5;
            let mut one = format!("<{i}>").into_bytes();
            if i % 4 == 0 {
                one.extend_from_slice(&big);
            }
            dated.push(day(d), &one).unwrap();
            expected.entry(d).or_default().extend_from_slice(&one);
        }
        let mut out = Vec::new();
        assert_eq!(dated.write_to(&mut out).unwrap(), 12);
        assert_eq!(out, expected.into_values().flatten().collect::<Vec<u8>>());
        assert!(dated.len > 0, "the test spilled to the file");
    }
}
