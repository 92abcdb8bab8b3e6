//! `tenor price` and `tenor explain`: a quote priced, as a table, JSON, YAML or explained.

use crate::cli::Ctx;
use crate::cli::args::{Format, PriceFormat};
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::cli::render::priced_json::Stream;
use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::PricedQuote;
use crate::engine::quote::QuoteFile;
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
    match crate::engine::pricing::checks_out(cat, &file.quote) {
        true => stream_once(cat, &file, ctx),
        false => stream_twice(cat, &file, ctx),
    }
}

/// An error writing the document, reported by its kind as serde_json reported it when it
/// wrote the document, so messages stay as they were.
fn output_error(e: std::io::Error) -> CliError {
    CliError::Output(e.kind().into())
}

/// [`stream_json`] of a quote that checks out: each line priced and written, the totals
/// summed on the way. Such a quote prices; were a line to fail all the same, the document
/// would stop there, and the quote is priced again to name every problem it has.
fn stream_once(cat: &Catalogue, file: &QuoteFile, ctx: &mut Ctx<'_>) -> CliResult {
    use crate::engine::pricing::{self, EachLineError, PriceOptions};
    let lines = file.quote.lines.len() as u64;
    let mut progress = crate::cli::progress::Counter::new(lines, "pricing", ctx.progress());
    let priced = {
        // No buffer here: the stream gathers its bytes into large pieces itself.
        let mut w: &mut dyn Write = &mut *ctx.out;
        let mut doc = Stream::of_quote(&mut w, &cat.currency, &file.quote).map_err(output_error)?;
        let opts = PriceOptions::default();
        match pricing::stream(cat, &file.quote, &opts, &mut progress, |l| doc.line(l)) {
            Ok(summary) => {
                doc.finish(&summary.totals, &summary.warnings)
                    .map_err(output_error)?;
                Some(summary)
            }
            Err(EachLineError::Sink(e)) => return Err(output_error(e)),
            Err(EachLineError::Price(_)) => None,
        }
    };
    let Some(summary) = priced else {
        load::summarize(cat, file, ctx)?;
        return Err(CliError::Run(
            "the quote priced in full but not line by line: the document is cut short".into(),
        ));
    };
    ctx.out.write_all(b"\n")?;
    ctx.out.flush()?;
    ctx.quote_warnings(file, &summary.warnings);
    Ok(Exit::Success)
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
