//! The compact `tenor.priced-quote/1` document, written byte by byte: the same bytes as
//! `serde_json::to_writer` of the [`PricedQuote`], in a fraction of the time.
//!
//! A large priced quote is mostly keys, dates and amounts. Through serde every key is checked
//! for characters to escape, every date and amount is formatted into a string and then checked
//! again, and writing took three quarters of `tenor price --format json`. Here keys are
//! constants, dates and amounts are formatted straight into the buffer, and only the strings
//! that come from the rules or the quote are checked; anything unusual (a string needing
//! escapes, a year past 9999) is handed to serde_json, so the bytes stay its bytes.

use crate::engine::pricing::{
    self, Charge, PriceWarning, PricedLine, PricedQuote, PricedSummary, Totals,
};
use crate::engine::quote::Quote;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::io::{self, Write};

/// Writes `q` as compact JSON, exactly as `serde_json::to_writer(w, q)` would.
pub fn write_priced_quote<W: Write>(w: &mut W, q: &PricedQuote) -> io::Result<()> {
    let head = Head {
        schema: q.schema,
        quote: &q.quote,
        date: q.date,
        currency: &q.currency,
        customer: (&q.customer.id, &q.customer.name),
    };
    let mut s = Stream::start(w, &head)?;
    for l in &q.lines {
        s.line(l)?;
    }
    s.finish(&q.totals, &q.warnings)
}

/// What comes before the lines.
struct Head<'a> {
    schema: &'static str,
    quote: &'a str,
    date: NaiveDate,
    currency: &'a str,
    /// The customer's id and name.
    customer: (&'a str, &'a str),
}

/// The document written as its lines come: [`Stream::start`], a [`Stream::line`] for each line
/// in order, then [`Stream::finish`]; the same bytes as [`write_priced_quote`] of the whole
/// priced quote, with only the line being written in memory.
pub struct Stream<'w, W: Write> {
    w: &'w mut W,
    /// Bytes not yet written: filled a line at a time, written in large pieces.
    b: Vec<u8>,
    lines: Lines,
}

/// The last two dates written, as their bytes: a charge's period start is mostly the previous
/// charge's period end, and its bill date and its discount's dates repeat them, so most dates
/// are copied rather than taken apart into year, month and day again.
#[derive(Default)]
struct Dates {
    memo: [Option<(NaiveDate, [u8; 12])>; 2],
    /// The slot to replace next.
    next: usize,
}

impl Dates {
    /// Writes `d` as [`date`] does.
    fn write(&mut self, b: &mut Vec<u8>, d: NaiveDate) -> io::Result<()> {
        for (day, bytes) in self.memo.iter().flatten() {
            if *day == d {
                b.extend_from_slice(bytes);
                return Ok(());
            }
        }
        let at = b.len();
        date(b, d)?;
        let written = b.get(at..).and_then(|w| <[u8; 12]>::try_from(w).ok());
        // A date that went to chrono (a year past 9999) has another length and is not kept.
        if let (Some(bytes), Some(slot)) = (written, self.memo.get_mut(self.next)) {
            *slot = Some((d, bytes));
            self.next = (self.next + 1) % 2;
        }
        Ok(())
    }
}

impl<'w, W: Write> Stream<'w, W> {
    /// Writes what comes before the lines of the quote `s` sums up.
    pub fn of_summary(w: &'w mut W, s: &PricedSummary) -> io::Result<Self> {
        let head = Head {
            schema: s.schema,
            quote: &s.quote,
            date: s.date,
            currency: &s.currency,
            customer: (&s.customer.id, &s.customer.name),
        };
        Stream::start(w, &head)
    }

    /// Writes what comes before the lines of `quote` priced in `currency`, as
    /// [`Stream::of_summary`] of its summary would (for lines written before it is summed up).
    pub fn of_quote(w: &'w mut W, currency: &str, quote: &Quote) -> io::Result<Self> {
        Stream::start(w, &Head::of_quote(currency, quote))
    }

    fn start(w: &'w mut W, h: &Head<'_>) -> io::Result<Self> {
        let mut b = Vec::with_capacity(2 * Stream::<W>::CHUNK);
        head(&mut b, h)?;
        Ok(Stream {
            w,
            b,
            lines: Lines::default(),
        })
    }

    /// Bytes gathered before they are written.
    const CHUNK: usize = 1 << 16;

    /// Writes the next line.
    pub fn line(&mut self, l: &PricedLine) -> io::Result<()> {
        self.lines.write(&mut self.b, l)?;
        // Large pieces: the writer may be standard output itself, with no buffer of its own.
        if self.b.len() >= Stream::<W>::CHUNK {
            self.w.write_all(&self.b)?;
            self.b.clear();
        }
        Ok(())
    }

    /// Writes the totals and warnings that close the document.
    pub fn finish(mut self, t: &Totals, warnings: &[PriceWarning]) -> io::Result<()> {
        tail(&mut self.b, t, warnings)?;
        self.w.write_all(&self.b)
    }
}

/// The lines of a document, written one after another into buffers of the caller's (the
/// pieces of [`Stream`], for a caller that writes the bytes elsewhere, or on another thread):
/// the document is [`head_of_quote`], each line through [`Lines::write`], then [`tail`].
#[derive(Default)]
pub struct Lines {
    count: usize,
    dates: Dates,
}

impl Lines {
    /// Lines that follow `n` lines written before (elsewhere: by another thread).
    pub fn after(n: usize) -> Self {
        Lines {
            count: n,
            dates: Dates::default(),
        }
    }

    /// Appends the next line to `b`.
    pub fn write(&mut self, b: &mut Vec<u8>, l: &PricedLine) -> io::Result<()> {
        if self.count > 0 {
            b.push(b',');
        }
        self.count += 1;
        line(b, &mut self.dates, l)
    }
}

/// Appends what comes before the lines of `quote` priced in `currency` to `b`.
pub fn head_of_quote(b: &mut Vec<u8>, currency: &str, quote: &Quote) -> io::Result<()> {
    head(b, &Head::of_quote(currency, quote))
}

impl<'a> Head<'a> {
    /// What comes before the lines of `quote` priced in `currency`.
    fn of_quote(currency: &'a str, quote: &'a Quote) -> Self {
        Head {
            schema: pricing::SCHEMA,
            quote: &quote.quote,
            date: quote.date,
            currency,
            customer: (&quote.customer.id, &quote.customer.name),
        }
    }
}

/// Appends what comes before the lines to `b`.
fn head(b: &mut Vec<u8>, h: &Head<'_>) -> io::Result<()> {
    b.extend_from_slice(b"{\"schema\":");
    string(b, h.schema)?;
    b.extend_from_slice(b",\"quote\":");
    string(b, h.quote)?;
    b.extend_from_slice(b",\"date\":");
    date(b, h.date)?;
    b.extend_from_slice(b",\"currency\":");
    string(b, h.currency)?;
    b.extend_from_slice(b",\"customer\":{\"id\":");
    string(b, h.customer.0)?;
    b.extend_from_slice(b",\"name\":");
    string(b, h.customer.1)?;
    b.extend_from_slice(b"},\"lines\":[");
    Ok(())
}

/// Appends the totals and warnings that close the document to `b`.
pub fn tail(b: &mut Vec<u8>, t: &Totals, warnings: &[PriceWarning]) -> io::Result<()> {
    b.extend_from_slice(b"],\"totals\":{\"first_invoice\":");
    decimal(b, t.first_invoice);
    b.extend_from_slice(b",\"mrr\":");
    decimal(b, t.mrr);
    b.extend_from_slice(b",\"arr\":");
    decimal(b, t.arr);
    b.extend_from_slice(b",\"contract_value\":");
    decimal(b, t.contract_value);
    b.extend_from_slice(b",\"cost\":");
    decimal(b, t.cost);
    b.extend_from_slice(b",\"margin\":");
    decimal(b, t.margin);
    b.push(b'}');
    if !warnings.is_empty() {
        b.extend_from_slice(b",\"warnings\":[");
        for (i, wn) in warnings.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            warning(b, wn)?;
        }
        b.push(b']');
    }
    b.push(b'}');
    Ok(())
}

/// One priced line, fields in the order `PricedLine` declares them.
fn line(b: &mut Vec<u8>, dates: &mut Dates, l: &PricedLine) -> io::Result<()> {
    b.extend_from_slice(b"{\"line\":");
    integer(b, l.line);
    b.extend_from_slice(b",\"product\":");
    string(b, &l.product)?;
    b.extend_from_slice(b",\"name\":");
    string(b, &l.name)?;
    if l.bundle {
        b.extend_from_slice(b",\"bundle\":true");
    }
    b.extend_from_slice(b",\"quantity\":");
    decimal(b, l.quantity);
    b.extend_from_slice(b",\"term\":");
    string(b, &l.term)?;
    b.extend_from_slice(b",\"billing\":");
    string(b, l.billing)?;
    if let Some(c) = &l.coterm {
        b.extend_from_slice(b",\"coterm\":");
        string(b, c)?;
    }
    b.extend_from_slice(b",\"start\":");
    dates.write(b, l.start)?;
    b.extend_from_slice(b",\"term_start\":");
    dates.write(b, l.term_start)?;
    b.extend_from_slice(b",\"end\":");
    dates.write(b, l.end)?;
    b.extend_from_slice(b",\"first_charge\":");
    decimal(b, l.first_charge);
    b.extend_from_slice(b",\"recurring\":");
    decimal(b, l.recurring);
    b.extend_from_slice(b",\"mrr\":");
    decimal(b, l.mrr);
    b.extend_from_slice(b",\"charges\":[");
    for (i, c) in l.charges.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        charge(b, dates, c)?;
    }
    b.extend_from_slice(b"]}");
    Ok(())
}

/// One charge, fields in the order `Charge` declares them.
fn charge(b: &mut Vec<u8>, dates: &mut Dates, c: &Charge) -> io::Result<()> {
    b.extend_from_slice(b"{\"kind\":\"");
    b.extend_from_slice(c.kind.as_str().as_bytes());
    b.extend_from_slice(b"\",\"period_start\":");
    dates.write(b, c.period_start)?;
    b.extend_from_slice(b",\"period_end\":");
    dates.write(b, c.period_end)?;
    b.extend_from_slice(b",\"bill_date\":");
    dates.write(b, c.bill_date)?;
    b.extend_from_slice(b",\"amount\":");
    decimal(b, c.amount);
    b.extend_from_slice(b",\"cost\":");
    decimal(b, c.cost);
    if let Some(r) = &c.rule {
        b.extend_from_slice(b",\"rule\":");
        string(b, r)?;
    }
    b.push(b'}');
    Ok(())
}

/// One warning, fields in the order `PriceWarning` declares them.
fn warning(b: &mut Vec<u8>, w: &PriceWarning) -> io::Result<()> {
    b.extend_from_slice(b"{\"code\":");
    string(b, w.code)?;
    b.extend_from_slice(b",\"field\":");
    string(b, &w.field)?;
    b.extend_from_slice(b",\"message\":");
    string(b, &w.message)?;
    if let Some(h) = &w.help {
        b.extend_from_slice(b",\"help\":");
        string(b, h)?;
    }
    b.push(b'}');
    Ok(())
}

/// A JSON string: as it is between quotes when serde_json would escape nothing in it (no
/// control character, quote or backslash), else serde_json's own escaping.
fn string(b: &mut Vec<u8>, s: &str) -> io::Result<()> {
    if !needs_escape(s.as_bytes()) {
        b.push(b'"');
        b.extend_from_slice(s.as_bytes());
        b.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(b, s).map_err(io::Error::other)
    }
}

/// Whether serde_json would escape a byte of `s`: a control character, a quote or a
/// backslash. Eight bytes at a time: for each word, whether any byte is below 0x20, or is zero
/// once xored with `"` or `\` (exact tests: borrows only start at a byte that qualifies, and
/// bytes of 0x80 and above never count).
fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH != 0;
    let mut words = s.chunks_exact(8);
    for w in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(w);
        let x = u64::from_ne_bytes(bytes);
        if below(x, 0x20)
            || below(x ^ (ONES * u64::from(b'"')), 1)
            || below(x ^ (ONES * u64::from(b'\\')), 1)
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&c| c < 0x20 || c == b'"' || c == b'\\')
}

/// A date as `"YYYY-MM-DD"`, as chrono writes it; years outside 0 to 9999 go to chrono.
fn date(b: &mut Vec<u8>, d: NaiveDate) -> io::Result<()> {
    let (y, m, day) = (d.year(), d.month(), d.day());
    let y = match u32::try_from(y) {
        Ok(y) if y <= 9999 => y,
        _ => return serde_json::to_writer(b, &d).map_err(io::Error::other),
    };
    let digit = |n: u32| b'0' + u8::try_from(n % 10).unwrap_or(0);
    b.extend_from_slice(&[
        b'"',
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(day / 10),
        digit(day),
        b'"',
    ]);
    Ok(())
}

/// "00" to "99": the digits of a number are written two at a time.
#[allow(
    clippy::indexing_slicing,
    reason = "a constant evaluated at compile time; `i` stays within the table"
)]
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Digits of a number, written from [`Digits::END`] of a buffer of zeros towards its start,
/// with room before them for a decimal's point, sign and quote and after them for its quote.
struct Digits {
    buf: [u8; 96],
    /// Where the digits start.
    pos: usize,
}

impl Digits {
    /// Where the digits end: room for 39 digits and 3 more bytes before, 1 after.
    const END: usize = 48;

    /// Bytes copied out at once by [`Digits::append`]: more than any number written here
    /// (a 39-digit integer, or a decimal's sign, point, 29 digits or 28 places and quotes).
    const WINDOW: usize = 48;

    fn new() -> Self {
        Digits {
            buf: [b'0'; 96],
            pos: Digits::END,
        }
    }

    /// Appends the bytes from where the digits start to `last` (inclusive) to `b`. A window of
    /// fixed length is copied and what follows the number cut off: the compiler copies that in
    /// a few moves, where a copy of the number's own length was a library call for each.
    fn append(&self, b: &mut Vec<u8>, last: usize) {
        let len = (last + 1).saturating_sub(self.pos);
        let at = b.len();
        let window = self.buf.get(self.pos..self.pos + Digits::WINDOW);
        match window.and_then(|w| <&[u8; Digits::WINDOW]>::try_from(w).ok()) {
            Some(w) if len <= Digits::WINDOW => {
                b.extend_from_slice(w);
                b.truncate(at + len);
            }
            _ => b.extend_from_slice(self.buf.get(self.pos..=last).unwrap_or_default()),
        }
    }

    /// Puts `byte` before what is there.
    fn put_byte(&mut self, byte: u8) {
        self.pos = self.pos.saturating_sub(1);
        self.set(self.pos, byte);
    }

    /// Sets the byte at `at`.
    fn set(&mut self, at: usize, byte: u8) {
        if let Some(slot) = self.buf.get_mut(at) {
            *slot = byte;
        }
    }

    /// Puts `n`'s digits before those already there (none for zero).
    fn put_u64(&mut self, mut n: u64) {
        while n >= 100 {
            self.pair(n % 100);
            n /= 100;
        }
        if n >= 10 {
            self.pair(n);
        } else if n > 0 {
            self.pos = self.pos.saturating_sub(1);
            if let Some(slot) = self.buf.get_mut(self.pos) {
                *slot = b'0' + u8::try_from(n).unwrap_or(0);
            }
        }
    }

    /// Puts a number of up to 39 digits: 64-bit pieces of 19 digits (dividing a 128-bit
    /// number is a library call; a 64-bit division by a constant is a multiply).
    fn put_u128(&mut self, n: u128) {
        const E19: u128 = 10_000_000_000_000_000_000;
        match u64::try_from(n) {
            Ok(n) => self.put_u64(n),
            Err(_) => {
                let end = self.pos;
                self.put_u64(u64::try_from(n % E19).unwrap_or(0));
                // The low piece keeps its leading zeros.
                self.pos = end.saturating_sub(19);
                self.put_u128(n / E19);
            }
        }
    }

    fn pair(&mut self, p: u64) {
        let p = usize::try_from(p).unwrap_or(0) * 2;
        self.pos = self.pos.saturating_sub(2);
        if let (Some(to), Some(from)) = (
            self.buf.get_mut(self.pos..self.pos + 2),
            PAIRS.get(p..p + 2),
        ) {
            to.copy_from_slice(from);
        }
    }
}

/// A line number, as serde_json writes an integer.
fn integer(b: &mut Vec<u8>, n: usize) {
    let mut d = Digits::new();
    d.put_u64(u64::try_from(n).unwrap_or(u64::MAX));
    // Zero has no digits: its `0` is the buffer's.
    d.pos = d.pos.min(Digits::END - 1);
    d.append(b, Digits::END - 1);
}

/// A decimal as the quoted string rust_decimal serializes: a `-` for any negative value
/// (negative zero too), the mantissa's digits with the point `scale` places from the right,
/// zeros filling in up to the point, `0` before a point with no whole digits.
fn decimal(b: &mut Vec<u8>, d: Decimal) {
    // A mantissa is under 2⁹⁶, 29 digits at most; the scale at most 28. The string is made in
    // place and copied once: the buffer is zeros, so the zeros filling in up to the point are
    // there already.
    let mut m = Digits::new();
    let end = Digits::END;
    let scale = usize::try_from(d.scale()).unwrap_or(0).min(28);
    let point = end - scale;
    let n = d.mantissa().unsigned_abs();
    let places = u32::try_from(scale).ok().and_then(|s| 10u64.checked_pow(s));
    match (u64::try_from(n), places) {
        (Ok(n), Some(p)) if scale > 0 => {
            // The places, then the point, then the whole digits before it. Amounts mostly have
            // two places: a division by a constant is a multiply.
            let (whole, places) = match scale {
                2 => (n / 100, n % 100),
                _ => (n / p, n % p),
            };
            m.put_u64(places);
            m.pos = point - 1;
            m.set(point - 1, b'.');
            match whole {
                0 => m.pos -= 1,
                w => m.put_u64(w),
            }
        }
        _ => {
            m.put_u128(n);
            if scale == 0 {
                // A zero has no digits: its `0` is the buffer's.
                m.pos = m.pos.min(end - 1);
            } else if m.pos < point {
                // Whole digits: moved one place towards the start for the point.
                m.buf.copy_within(m.pos..point, m.pos - 1);
                m.pos -= 1;
                m.set(point - 1, b'.');
            } else {
                m.set(point - 1, b'.');
                m.pos = point - 2;
            }
        }
    }
    if d.is_sign_negative() {
        m.put_byte(b'-');
    }
    m.put_byte(b'"');
    m.set(end, b'"');
    m.append(b, end);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn serde_decimal(d: Decimal) -> String {
        serde_json::to_string(&d).unwrap()
    }

    fn ours(d: Decimal) -> String {
        let mut b = Vec::new();
        decimal(&mut b, d);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn decimals_as_rust_decimal_writes_them() {
        let mut cases = vec![
            Decimal::ZERO,
            Decimal::new(0, 2),
            Decimal::new(-0, 2),
            -Decimal::new(0, 2),
            -Decimal::ZERO,
            Decimal::new(5, 2),
            Decimal::new(-5, 2),
            Decimal::new(1230, 2),
            Decimal::new(-330, 2),
            Decimal::new(7, 28),
            Decimal::MAX,
            Decimal::MIN,
            Decimal::from_i128_with_scale(i128::from(i64::MAX), 28),
        ];
        cases.push(Decimal::new(12345, 0));
        for d in cases {
            assert_eq!(ours(d), serde_decimal(d), "{d:?}");
        }
    }

    #[test]
    fn example_quotes_as_serde_json_writes_them() {
        let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../rules"));
        let sources = tenor_dsl::load(std::slice::from_ref(&dir)).unwrap();
        let rules = tenor_dsl::check(&sources).unwrap();
        let cat = crate::engine::catalogue::Catalogue::compile(&rules, &sources);
        let mut seen = 0;
        for entry in std::fs::read_dir(dir.join("quotes")).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.display().to_string();
            let Ok(file) = crate::engine::quote::QuoteFile::parse(&name, &text) else {
                continue;
            };
            let opts = crate::engine::pricing::PriceOptions::default();
            let Ok(priced) = crate::engine::pricing::price(&cat, &file.quote, &opts) else {
                continue;
            };
            let mut b = Vec::new();
            write_priced_quote(&mut b, &priced).unwrap();
            let expected = serde_json::to_string(&priced).unwrap();
            assert_eq!(String::from_utf8(b).unwrap(), expected, "{name}");
            // Streamed: figures from a pass keeping no line, the lines priced again.
            let summary =
                crate::engine::pricing::summarize(&cat, &file.quote, &opts, &mut ()).unwrap();
            let mut b = Vec::new();
            let mut doc = Stream::of_summary(&mut b, &summary).unwrap();
            crate::engine::pricing::each_line(&cat, &file.quote, &opts, |l| doc.line(l)).unwrap();
            doc.finish(&summary.totals, &summary.warnings).unwrap();
            assert_eq!(String::from_utf8(b).unwrap(), expected, "{name} streamed");
            // In one pass: the head from the quote, the figures summed as the lines go.
            assert!(
                crate::engine::pricing::checks_out(&cat, &file.quote),
                "{name}"
            );
            let mut b = Vec::new();
            let mut doc = Stream::of_quote(&mut b, &cat.currency, &file.quote).unwrap();
            let summary =
                crate::engine::pricing::stream(&cat, &file.quote, &opts, &mut (), |l| doc.line(l))
                    .unwrap();
            doc.finish(&summary.totals, &summary.warnings).unwrap();
            assert_eq!(
                String::from_utf8(b).unwrap(),
                expected,
                "{name} in one pass"
            );
            seen += 1;
        }
        assert!(seen >= 3, "priced {seen} example quotes");
    }

    proptest! {
        #[test]
        fn any_decimal_as_rust_decimal_writes_it(
            lo in any::<u32>(), mid in any::<u32>(), hi in any::<u32>(),
            neg in any::<bool>(), scale in 0u32..=28,
        ) {
            let d = Decimal::from_parts(lo, mid, hi, neg, scale);
            prop_assert_eq!(ours(d), serde_decimal(d));
        }

        #[test]
        fn any_small_decimal_as_rust_decimal_writes_it(
            m in 0i64..100_000, neg in any::<bool>(), scale in 0u32..=28,
        ) {
            let d = Decimal::new(if neg { -m } else { m }, scale);
            prop_assert_eq!(ours(d), serde_decimal(d));
        }

        /// Mantissas of 64 bits, which take the way of places first, then the whole digits;
        /// each number appended after others as after nothing.
        #[test]
        fn any_64_bit_decimal_as_rust_decimal_writes_it(
            ms in prop::collection::vec((any::<u64>(), any::<bool>(), 0u32..=28), 1..6),
        ) {
            let mut b = Vec::new();
            let mut expected = String::new();
            for (m, neg, scale) in ms {
                let d = Decimal::from_i128_with_scale(i128::from(m) * if neg { -1 } else { 1 }, scale);
                prop_assert_eq!(ours(d), serde_decimal(d));
                decimal(&mut b, d);
                integer(&mut b, usize::try_from(m % 1000).unwrap());
                expected += &serde_decimal(d);
                expected += &(m % 1000).to_string();
            }
            prop_assert_eq!(String::from_utf8(b).unwrap(), expected);
        }

        #[test]
        fn any_line_number_as_serde_json_writes_it(n in any::<usize>()) {
            let mut b = Vec::new();
            integer(&mut b, n);
            prop_assert_eq!(String::from_utf8(b).unwrap(), serde_json::to_string(&n).unwrap());
        }

        #[test]
        fn any_bytes_need_escaping_as_one_at_a_time_says(
            s in proptest::collection::vec(prop_oneof![any::<u8>(), Just(b'"'), Just(b'\\'), 0u8..0x21], 0..40)
        ) {
            let slow = s.iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\');
            prop_assert_eq!(needs_escape(&s), slow);
        }

        #[test]
        fn any_string_as_serde_json_writes_it(s in any::<String>()) {
            let mut b = Vec::new();
            string(&mut b, &s).unwrap();
            prop_assert_eq!(String::from_utf8(b).unwrap(), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn any_date_as_chrono_writes_it(days in -1_000_000i32..4_000_000) {
            let d = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
            let mut b = Vec::new();
            date(&mut b, d).unwrap();
            prop_assert_eq!(String::from_utf8(b).unwrap(), serde_json::to_string(&d).unwrap());
        }
    }
}
