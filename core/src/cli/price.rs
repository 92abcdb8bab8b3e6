//! `tenor price` and `tenor explain`: a quote priced, as a table, JSON, YAML or explained.

use crate::cli::Ctx;
use crate::cli::args::{Format, PriceFormat};
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::cli::render::priced_json::Stream;
use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::PricedQuote;
use crate::engine::quote::{QuoteFile, Runs};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

mod runs;

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

/// The compact priced quote, each line written as it is priced, so that little more than
/// the quote is held in memory (a large quote's charges run to hundreds of megabytes). With
/// an error nothing is written. A quote that passes the checks needing no amounts
/// ([`pricing::checks_out`]) is priced once, straight into the output, in parts on two
/// threads while it is read ([`runs`]); any other is priced first for its errors
/// ([`stream_twice`]).
fn stream_json(quote: &Path, rules: &[PathBuf], ctx: &mut Ctx<'_>) -> CliResult {
    let rules = load::rules(rules)?;
    let (name, text) = load::quote_text(quote)?;
    stream_text(&rules.catalogue, name, text, ctx)
}

/// [`stream_json`] of the quote file `name` of text `text`.
fn stream_text(cat: &Catalogue, name: String, text: String, ctx: &mut Ctx<'_>) -> CliResult {
    stream_holding(cat, name, text, runs::AHEAD, ctx)
}

/// [`stream_text`], the helper rendering at most `ahead` bytes ahead of what is written.
fn stream_holding(
    cat: &Catalogue,
    name: String,
    text: String,
    ahead: usize,
    ctx: &mut Ctx<'_>,
) -> CliResult {
    let read = |sink: &mut dyn Runs| QuoteFile::read_runs(&name, text, runs::PART, sink);
    let text = match runs::priced_in_runs(cat, read, ahead, ctx) {
        Ok(result) => return result,
        // YAML, or JSON with a problem: read the usual way, for the error it names.
        Err(text) => text,
    };
    let file = load::parsed(name, text)?;
    runs::priced_in_runs(cat, |sink| Ok(file.into_runs(runs::PART, sink)), ahead, ctx)
        .unwrap_or_else(|_| Err(CliError::Run("the quote read could not be priced".into())))
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
mod tests;
