//! Loading shared by the subcommands: rule sets (checked and compiled) and quotes (read,
//! parsed and priced), each failure a typed [`CliError`].

use crate::cli::Ctx;
use crate::cli::exit::CliError;
use crate::cli::progress;
use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::{self, PriceOptions, PricedQuote, PricedSummary};
use crate::engine::quote::{QuoteError, QuoteFile};
use std::path::{Path, PathBuf};
use tenor_dsl::SourceSet;

/// The rule files named by `paths`; none found is an error.
pub fn sources(paths: &[PathBuf]) -> Result<SourceSet, CliError> {
    let sources = tenor_dsl::load(paths).map_err(|e| CliError::Run(e.to_string()))?;
    if sources.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(CliError::Run(format!(
            "no .tenor files found in {}",
            shown.join(", ")
        )));
    }
    Ok(sources)
}

/// A compiled rule set with each file's name and text (for fingerprints).
pub struct Rules {
    /// The compiled catalogue.
    pub catalogue: Catalogue,
    /// Each file's name and text.
    pub texts: Vec<(String, String)>,
}

/// Loads, checks and compiles a rule set; `rules` when `paths` is empty.
pub fn rules(paths: &[PathBuf]) -> Result<Rules, CliError> {
    let default = [PathBuf::from("rules")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let sources = sources(paths)?;
    let texts = sources
        .ids()
        .map(|id| (sources.name(id).to_string(), sources.text(id).to_string()))
        .collect();
    match tenor_dsl::check(&sources) {
        Ok(rules) => Ok(Rules {
            catalogue: Catalogue::compile(&rules, &sources),
            texts,
        }),
        Err(diags) => {
            let summary = format!(
                "the rules have {} problem(s); run `tenor check` for details",
                diags.len()
            );
            Err(CliError::Rules {
                sources,
                diags,
                summary,
            })
        }
    }
}

/// Reads and parses a quote file.
pub fn quote(path: &Path) -> Result<QuoteFile, CliError> {
    let (name, text) = quote_text(path)?;
    parsed(name, text)
}

/// A quote file's name (as errors give it) and text, not yet parsed.
pub fn quote_text(path: &Path) -> Result<(String, String), CliError> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((name, text)),
        Err(e) => Err(CliError::Run(format!("cannot read the quote {name}: {e}"))),
    }
}

/// The quote file `name` of `text`, parsed, as [`quote`] reads it.
pub fn parsed(name: String, text: String) -> Result<QuoteFile, CliError> {
    QuoteFile::parse_owned(&name, text).map_err(|(e, text)| CliError::Quote {
        errors: vec![*e],
        file: Some((name, text)),
    })
}

/// Prices a parsed quote, with a progress bar when the context allows one; the quote's
/// warnings (a line starting before the quote's date) are reported to `ctx`, located at their
/// field, whatever `--quiet` says.
pub fn price(
    cat: &Catalogue,
    file: &QuoteFile,
    explain: bool,
    ctx: &mut Ctx<'_>,
) -> Result<PricedQuote, CliError> {
    let progress = ctx.progress();
    let priced = pricing::price_with_progress(
        cat,
        &file.quote,
        &PriceOptions { explain },
        &mut progress::Counter::new(file.quote.lines.len() as u64, "pricing", progress),
    )
    .map_err(|errors| quote_errors(file, errors))?;
    ctx.quote_warnings(file, &priced.warnings);
    Ok(priced)
}

/// [`price`] keeping none of the lines (for writing them as they are priced again, with
/// [`pricing::each_line`]): the same progress, errors and warnings.
pub fn summarize(
    cat: &Catalogue,
    file: &QuoteFile,
    ctx: &mut Ctx<'_>,
) -> Result<PricedSummary, CliError> {
    let progress = ctx.progress();
    let summary = pricing::summarize(
        cat,
        &file.quote,
        &PriceOptions::default(),
        &mut progress::Counter::new(file.quote.lines.len() as u64, "pricing", progress),
    )
    .map_err(|errors| quote_errors(file, errors))?;
    ctx.quote_warnings(file, &summary.warnings);
    Ok(summary)
}

/// The quote's pricing errors, each located at its field.
fn quote_errors(file: &QuoteFile, errors: Vec<pricing::PriceError>) -> CliError {
    CliError::Quote {
        errors: errors
            .into_iter()
            .map(|e| file.error(&e.field, e.message, e.help))
            .collect::<Vec<QuoteError>>(),
        file: Some((file.name.clone(), file.text.clone())),
    }
}

/// A review's error as the command line's: rule diagnostics and located quote problems as
/// they are for `price`, the record's as for `log`.
pub fn review_error(e: crate::review::ReviewError) -> CliError {
    use crate::review::ReviewError;
    match e {
        ReviewError::Rules {
            sources,
            diags,
            summary,
        } => CliError::Rules {
            sources,
            diags,
            summary,
        },
        ReviewError::File { file, text, errors } => CliError::Quote {
            file: Some((file, text)),
            errors,
        },
        ReviewError::Io(m) => CliError::Run(m),
        ReviewError::Record(e) => crate::cli::db::error(e),
    }
}
