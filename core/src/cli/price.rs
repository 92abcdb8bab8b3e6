//! `tenor price` and `tenor explain`: a quote priced, as a table, JSON, YAML or explained.

use crate::cli::Ctx;
use crate::cli::args::{Format, PriceFormat};
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::cli::render::priced_json::{self, Stream};
use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::{
    self, EachLineError, Part, PriceOptions, PricedQuote, Pricer, Progress,
};
use crate::engine::quote::{Quote, QuoteFile};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Loads the rules and prices the quote; `explain` keeps the chain of rules of every charge.
fn priced(
    quote: &Path,
    rules: &[PathBuf],
    explain: bool,
    ctx: &mut Ctx<'_>,
) -> Result<PricedQuote, CliError> {
    let rules = load::rules(rules)?;
    let file = load::quote(quote)?;
    load::price(&rules.catalogue, &file, explain, ctx)
}

/// `tenor price`: the table, JSON or YAML; `explain` prints the explanation instead.
pub fn price(
    quote: &Path,
    rules: &[PathBuf],
    format: PriceFormat,
    explain: bool,
    pretty: bool,
    ctx: &mut Ctx<'_>,
) -> CliResult {
    if explain {
        return explain_cmd(quote, None, rules, Format::Table, ctx);
    }
    // Compact for programs (indenting costs a quarter of a large run), indented for people.
    let pretty = pretty || std::io::stdout().is_terminal();
    if matches!(format, PriceFormat::Json) {
        return match pretty {
            true => stream_pretty(quote, rules, ctx),
            false => stream_json(quote, rules, ctx),
        };
    }
    let priced = priced(quote, rules, false, ctx)?;
    match format {
        PriceFormat::Json => {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut *ctx.out);
            serde_json::to_writer_pretty(&mut w, &priced)?;
            w.write_all(b"\n")?;
            w.flush()?;
        }
        PriceFormat::Yaml => {
            let text = crate::files::yaml::to_string(&priced)?;
            ctx.out.write_all(text.as_bytes())?;
        }
        PriceFormat::Table => {
            let text = crate::cli::render::price::price_table(&priced);
            ctx.out.write_all(text.as_bytes())?;
        }
    }
    Ok(Exit::Success)
}

/// The compact priced quote, each line written as it is priced, so no more than a line is
/// held in memory (a large quote's charges run to hundreds of megabytes). With an error
/// nothing is written: a quote that passes the checks needing no amounts
/// ([`pricing::checks_out`]) is priced once, straight into the output; any other is priced
/// first for its errors ([`stream_twice`]).
fn stream_json(quote: &Path, rules: &[PathBuf], ctx: &mut Ctx<'_>) -> CliResult {
    let rules = load::rules(rules)?;
    let file = load::quote(quote)?;
    let cat = &rules.catalogue;
    let result = match crate::engine::pricing::checks_out(cat, &file.quote) {
        true => stream_once(cat, &file, ctx),
        false => stream_twice(cat, &file, ctx),
    };
    drop_aside(file);
    result
}

/// Drops `value` on a thread of its own: a large quote is hundreds of thousands of small
/// strings, and freeing them took a thirtieth of `tenor price` after its output was written.
/// The process may exit before that thread is done; the memory goes back to the system then.
fn drop_aside<T: Send + 'static>(value: T) {
    // Should no thread start, the value comes back and is dropped here.
    let _ = std::thread::Builder::new().spawn(move || drop(value));
}

/// An error writing the document, reported by its kind as serde_json reported it when it
/// wrote the document, so messages stay as they were.
fn output_error(e: std::io::Error) -> CliError {
    CliError::Output(e.kind().into())
}

/// Lines priced and rendered at a time by one thread: enough that handing the bytes over is
/// nothing beside making them, few enough that little is held.
const PART: usize = 512;

/// A part's bytes, and its figures or why it stopped.
type PartDone = (Vec<u8>, Result<Part, EachLineError<std::io::Error>>);

/// [`stream_json`] of a quote that checks out: the lines in parts of [`PART`], priced and
/// rendered by this thread and, when they price apart ([`pricing::parts_independent`]), a
/// second one taking every other part, each with a pricer of its own; this thread writes
/// the parts in order, so the bytes are those of one run. The totals are summed on the way.
/// Such a quote prices; were a line to fail all the same, the document would stop there,
/// and the quote is priced again to name every problem it has.
fn stream_once(cat: &Catalogue, file: &QuoteFile, ctx: &mut Ctx<'_>) -> CliResult {
    let quote = &file.quote;
    let mut progress =
        crate::cli::progress::Counter::new(quote.lines.len() as u64, "pricing", ctx.progress());
    let mut head = Vec::new();
    priced_json::head_of_quote(&mut head, &cat.currency, quote).map_err(output_error)?;
    ctx.out.write_all(&head).map_err(output_error)?;
    let priced = price_parts(cat, quote, &mut *ctx.out, &mut progress);
    let summary = match priced.map(|p| p.summary(cat, quote)) {
        Ok(Ok(summary)) => summary,
        Err(EachLineError::Sink(e)) => return Err(output_error(e)),
        Err(EachLineError::Price(_)) | Ok(Err(_)) => {
            load::summarize(cat, file, ctx)?;
            return Err(CliError::Run(
                "the quote priced in full but not line by line: the document is cut short".into(),
            ));
        }
    };
    let mut tail = Vec::new();
    priced_json::tail(&mut tail, &summary.totals, &summary.warnings).map_err(output_error)?;
    tail.push(b'\n');
    ctx.out.write_all(&tail)?;
    ctx.out.flush()?;
    ctx.quote_warnings(file, &summary.warnings);
    Ok(Exit::Success)
}

/// The lines of `quote` priced and written to `out` in parts, as [`stream_once`] says, and
/// their figures joined.
fn price_parts(
    cat: &Catalogue,
    quote: &Quote,
    out: &mut dyn Write,
    progress: &mut crate::cli::progress::Counter,
) -> Result<Part, EachLineError<std::io::Error>> {
    let parts = quote.lines.len().div_ceil(PART);
    let two = parts > 1 && pricing::parts_independent(cat);
    std::thread::scope(|s| {
        // The helper runs at most two parts ahead; the buffers it wrote come back to it.
        let (to_write, done) = std::sync::mpsc::sync_channel::<PartDone>(2);
        let (to_reuse, spare) = std::sync::mpsc::channel::<Vec<u8>>();
        if two {
            s.spawn(move || {
                let mut pricer = Pricer::new(cat, quote, PriceOptions::default());
                for k in (1..parts).step_by(2) {
                    let mut b = spare.try_recv().unwrap_or_default();
                    let part = render_part(&mut pricer, k, &mut b, &mut ());
                    if to_write.send((b, part)).is_err() {
                        return;
                    }
                }
            });
        }
        let mut pricer = Pricer::new(cat, quote, PriceOptions::default());
        let (mut sums, mut mine): (Option<Part>, Vec<u8>) = (None, Vec::new());
        for k in 0..parts {
            let (bytes, part) = if two && k % 2 == 1 {
                let (b, part) = done.recv().map_err(|_| helper_gone())?;
                (0..lines_in(quote, k)).for_each(|_| progress.inc());
                (b, part)
            } else {
                let part = render_part(&mut pricer, k, &mut mine, progress);
                (std::mem::take(&mut mine), part)
            };
            let part = part?;
            out.write_all(&bytes).map_err(EachLineError::Sink)?;
            if two && k % 2 == 1 {
                // The helper may have stopped; it then needs no buffer.
                let _ = to_reuse.send(bytes);
            } else {
                mine = bytes;
            }
            match &mut sums {
                Some(s) => s.join(part),
                None => sums = Some(part),
            }
        }
        sums.ok_or_else(helper_gone)
    })
}

/// Why the lines stopped coming from the helper thread, which stops only with an error of
/// its own, sent first.
fn helper_gone() -> EachLineError<std::io::Error> {
    EachLineError::Sink(std::io::Error::other("the second pricing thread stopped"))
}

/// The number of lines in part `k`.
fn lines_in(quote: &Quote, k: usize) -> usize {
    quote.lines.len().saturating_sub(k * PART).min(PART)
}

/// Prices part `k` of the quote's lines into `b` (emptied first), as they read in the whole
/// document (a comma before every line but the quote's first).
fn render_part(
    pricer: &mut Pricer<'_>,
    k: usize,
    b: &mut Vec<u8>,
    progress: &mut dyn Progress,
) -> Result<Part, EachLineError<std::io::Error>> {
    b.clear();
    let start = k * PART;
    let mut lines = priced_json::Lines::after(start);
    pricer.part(start..start + PART, progress, |l| lines.write(b, l))
}

/// [`stream_json`] of a quote with problems, or one that may have: priced once for its errors
/// and figures (which come after the lines, and with an error nothing is written), then again
/// line by line into the output.
fn stream_twice(cat: &Catalogue, file: &QuoteFile, ctx: &mut Ctx<'_>) -> CliResult {
    use crate::engine::pricing::{self, EachLineError, PriceOptions};
    let summary = load::summarize(cat, file, ctx)?;
    let out = output_error;
    // No buffer here: the stream gathers its bytes into large pieces itself.
    let mut w: &mut dyn Write = &mut *ctx.out;
    let mut doc = Stream::of_summary(&mut w, &summary).map_err(out)?;
    pricing::each_line(cat, &file.quote, &PriceOptions::default(), |l| doc.line(l)).map_err(
        |e| match e {
            EachLineError::Sink(e) => out(e),
            EachLineError::Price(_) => {
                CliError::Run("the quote priced once but not the second time".into())
            }
        },
    )?;
    doc.finish(&summary.totals, &summary.warnings)
        .map_err(out)?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(Exit::Success)
}

/// The indented priced quote, each line written as it is priced, as [`stream_json`] does: the
/// document around the lines is rendered once, each line is indented into its place
/// (`documents::streamed`), and the bytes are those of the whole document pretty-printed.
fn stream_pretty(quote: &Path, rules: &[PathBuf], ctx: &mut Ctx<'_>) -> CliResult {
    use crate::documents::streamed::{Frame, element};
    use crate::engine::pricing::{self, EachLineError, PriceOptions};
    let rules = load::rules(rules)?;
    let file = load::quote(quote)?;
    let cat = &rules.catalogue;
    let summary = load::summarize(cat, &file, ctx)?;
    let out = |e: std::io::Error| CliError::Output(e.kind().into());
    let frame = Frame::new(&summary.without_lines(), "lines")
        .ok_or_else(|| CliError::Run("the priced quote has no top-level `lines`".into()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut *ctx.out);
    let (mut scratch, mut one) = (Vec::new(), Vec::new());
    let mut lines = |o: &mut dyn Write| {
        let mut n = 0u64;
        pricing::each_line(cat, &file.quote, &PriceOptions::default(), |l| {
            one.clear();
            element(l, &mut scratch, &mut one)?;
            n += 1;
            o.write_all(&one)
        })
        .map_err(|e| match e {
            EachLineError::Sink(e) => e,
            EachLineError::Price(_) => {
                std::io::Error::other("the quote priced once but not the second time")
            }
        })?;
        Ok(n)
    };
    frame.write(&mut w, &mut lines).map_err(out)?;
    w.write_all(b"\n").map_err(out)?;
    w.flush().map_err(out)?;
    Ok(Exit::Success)
}

/// `tenor explain`: for every charge (or those of line `only`), the rules that made it.
pub fn explain_cmd(
    quote: &Path,
    only: Option<usize>,
    rules: &[PathBuf],
    format: Format,
    ctx: &mut Ctx<'_>,
) -> CliResult {
    let priced = priced(quote, rules, true, ctx)?;
    if let Some(n) = only {
        if n == 0 || n > priced.lines.len() {
            return Err(CliError::Run(format!(
                "the quote has lines 1 to {}; there is no line {n}",
                priced.lines.len()
            )));
        }
    }
    match format {
        Format::Json => {
            let doc = crate::cli::render::explain::explain_document(&priced, only);
            let mut w = std::io::BufWriter::new(&mut *ctx.out);
            serde_json::to_writer_pretty(&mut w, &doc)?;
            w.write_all(b"\n")?;
            w.flush()?;
        }
        Format::Table => {
            let text = crate::cli::render::price::explain(&priced, only);
            ctx.out.write_all(text.as_bytes())?;
        }
    }
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenor_dsl::diagnostic::termcolor::NoColor;

    const RULES: &str = r#"
currency USD
rounding half_even
vendor microsoft "Microsoft"
product BP "Business Premium" {
  vendor microsoft
  P1Y monthly  22.00 a month  cost 17.60
  P1Y annual  264.00 a year   cost 211.20
}
tiers devices graduated per device a month {
  up to 10  45.00
  above     35.00
}
product DEV "Managed device" {
  vendor microsoft
  not bought
  P1Y annual  tiers devices
}
coterm default { anchor customer anniversary; mode stub; prorate daily }
segment nonprofit "Nonprofit organisations"
discount nonprofit: 15% off vendor microsoft when customer segment is nonprofit and quantity at least 5
"#;

    /// A quote of `n` lines of several offers, quantities and starts.
    fn quote_text(n: usize) -> String {
        let lines: Vec<String> = (0..n)
            .map(|i| {
                let (p, b) = [("BP", "monthly"), ("BP", "annual"), ("DEV", "annual")][i % 3];
                format!(
                    r#"{{"product":"{p}","quantity":{},"term":"P1Y","billing":"{b}","start":"2026-{:02}-{:02}"}}"#,
                    1 + i % 37,
                    1 + i % 12,
                    1 + i % 28
                )
            })
            .collect();
        format!(
            r#"{{"quote":"Q-PARTS","date":"2026-01-01","currency":"USD","customer":{{"id":"C","name":"C","segment":"nonprofit","anniversary":"07-01"}},"lines":[{}]}}"#,
            lines.join(",")
        )
    }

    /// Lines priced in parts on two threads make the bytes of the whole quote priced in one
    /// run and written by serde_json, for quotes of fewer lines than a part, of exactly one
    /// and two parts, and of several with a short last part.
    #[test]
    fn a_quote_priced_in_parts_is_the_quote_priced_whole() {
        let mut sources = tenor_dsl::SourceSet::new();
        sources.add("parts.tenor", RULES);
        let rules = tenor_dsl::check(&sources).unwrap();
        let cat = Catalogue::compile(&rules, &sources);
        assert!(pricing::parts_independent(&cat));
        for n in [1, PART - 1, PART, PART + 1, 2 * PART, 5 * PART + 7] {
            let file = QuoteFile::parse("q.json", &quote_text(n)).unwrap();
            assert!(pricing::checks_out(&cat, &file.quote));
            let whole = pricing::price(&cat, &file.quote, &PriceOptions::default()).unwrap();
            let expected = serde_json::to_string(&whole).unwrap() + "\n";
            let (mut out, mut err) = (Vec::new(), NoColor::new(Vec::new()));
            let mut ctx = Ctx::new(
                &mut out,
                &mut err,
                crate::cli::args::ErrorFormat::Human,
                true,
            );
            stream_once(&cat, &file, &mut ctx).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{n} lines");
        }
    }
}
