//! `tenor share` (a quote stored for the customer and a signed link to it printed) and
//! `tenor serve` (the pages those links open).

use crate::cli::Ctx;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::record::shares::NewShare;
use crate::serve::{self, ServeOptions, sign};
use std::path::{Path, PathBuf};

/// The arguments of `tenor share`.
pub struct ShareArgs<'a> {
    /// The quote file (or, with `revoke`, the quote id).
    pub quote: &'a Path,
    /// The rule set.
    pub rules: &'a [PathBuf],
    /// How long the link may be used (`14d`, `36h`, `90m`).
    pub expires: &'a str,
    /// The start of the link.
    pub base: &'a str,
    /// Withdraw the quote's links instead.
    pub revoke: bool,
    /// The database (`--db`), when given.
    pub db: Option<&'a Path>,
}

/// `tenor share`: the quote checked (it must price and be acceptable), stored with its rule
/// texts, and its signed link printed on standard output.
pub fn share_cmd(args: &ShareArgs<'_>, ctx: &mut Ctx<'_>) -> CliResult {
    if args.revoke {
        let id = args.quote.display().to_string();
        let mut record = db::open(args.db, args.rules)?;
        let n = record.revoke_shares(&id).map_err(db::error)?;
        if n == 0 {
            return Err(CliError::Run(format!(
                "no open link of quote `{id}` to revoke"
            )));
        }
        ctx.status(format_args!(
            "revoked the links of {id} ({n} shared version(s))"
        ));
        return Ok(Exit::Success);
    }
    let secs = duration_secs(args.expires)?;
    let rules = load::rules(args.rules)?;
    let file = load::quote(args.quote)?;
    let priced = load::price(&rules.catalogue, &file, false, ctx)?;
    let fp = crate::documents::accept::fingerprint(&file.quote, &rules.texts);
    if let Err(errors) =
        crate::documents::accept::accept(&rules.catalogue, &file.quote, &priced, &fp)
    {
        let why: Vec<String> = errors.into_iter().map(|e| e.message).collect();
        return Err(CliError::Run(format!(
            "quote {} cannot be accepted, so it is not shared: {}",
            file.quote.quote,
            why.join("; ")
        )));
    }
    if sign::Link::parse(
        &file.quote.quote,
        "1",
        &"0".repeat(64),
        "0",
        &"0".repeat(64),
    )
    .is_none()
    {
        return Err(CliError::Run(format!(
            "quote id `{}` cannot go in a link: use letters, digits, `.`, `_` and `-` (at most 64)",
            file.quote.quote
        )));
    }
    let mut record = db::open(args.db, args.rules)?;
    let now = serve::now_unix().map_err(db::error)?;
    let expires_at = now.saturating_add(secs);
    let shared = record
        .share(&NewShare {
            quote: &file.quote.quote,
            quote_file: &file.name,
            quote_text: &file.text,
            rules: &rules.texts,
            expires_at,
        })
        .map_err(db::error)?;
    let key = record.share_key().map_err(db::error)?;
    let link = sign::sign(
        &key,
        &shared.quote,
        shared.revision,
        &shared.content_sha256,
        expires_at,
    );
    writeln!(
        ctx.out,
        "{}/quote?{}",
        args.base.trim_end_matches('/'),
        link.query()
    )?;
    ctx.status(format_args!(
        "shared {} version {}; the link expires at {}",
        shared.quote,
        shared.revision,
        chrono::DateTime::from_timestamp(expires_at, 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    ));
    Ok(Exit::Success)
}

/// Seconds in `14d`, `36h` or `90m` (a positive whole number and a unit).
fn duration_secs(s: &str) -> Result<i64, CliError> {
    let bad = || {
        CliError::Run(format!(
            "--expires `{s}` is not a duration: write a whole number and d, h or m (`14d`)"
        ))
    };
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| bad())?;
    let per = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        _ => return Err(bad()),
    };
    if n <= 0 || n > 3650 * 86_400 / per {
        return Err(bad());
    }
    Ok(n * per)
}

/// The arguments of `tenor serve`.
pub struct ServeArgs<'a> {
    /// The address to listen on.
    pub listen: &'a str,
    /// Where the plugins are, if any are to render on acceptance.
    pub plugins: Option<&'a Path>,
    /// The file holding the admin token.
    pub admin_token_file: Option<&'a Path>,
    /// Requests per link per minute.
    pub rate: u32,
    /// Push each acceptance to the vendors.
    pub push: bool,
    /// Reverse proxies trusted for `X-Forwarded-For`.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The database (`--db`), when given.
    pub db: Option<&'a Path>,
}

/// `tenor serve`: prints its address (`http://HOST:PORT`) on standard output, then serves
/// until stopped.
pub fn serve_cmd(args: &ServeArgs<'_>, ctx: &mut Ctx<'_>) -> CliResult {
    let admin_token = match args.admin_token_file {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .map_err(|e| {
                    CliError::Run(format!("cannot read the admin token {}: {e}", p.display()))
                })?
                .trim()
                .to_string(),
        ),
        None => std::env::var("TENOR_ADMIN_TOKEN").ok(),
    }
    .filter(|t| !t.is_empty());
    if admin_token.as_ref().is_some_and(|t| t.len() < 16) {
        return Err(CliError::Run(
            "the admin token must be at least 16 characters".into(),
        ));
    }
    // Pushing needs the connectors: found where `tenor push` finds them when not given.
    let plugins = if args.push {
        let dir = crate::host::plugin_dir(args.plugins).ok_or_else(|| {
            CliError::Run("--push: cannot tell where the plugins are: pass --plugins".into())
        })?;
        crate::host::check_dir(&dir).map_err(|e| CliError::Run(format!("--push: {e}")))?;
        Some(dir)
    } else {
        args.plugins.map(Path::to_path_buf)
    };
    let listener = std::net::TcpListener::bind(args.listen)
        .map_err(|e| CliError::Run(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener.local_addr()?;
    let opts = ServeOptions {
        db: db::path(args.db, &[]),
        plugins,
        admin_token,
        rate_per_minute: args.rate,
        push: args.push,
        trusted_proxies: args.trusted_proxies.clone(),
    };
    writeln!(ctx.out, "http://{addr}")?;
    ctx.out.flush()?;
    serve::serve(listener, opts).map_err(|e| CliError::Run(e.to_string()))?;
    Ok(Exit::Success)
}
