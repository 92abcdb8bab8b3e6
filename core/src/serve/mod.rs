//! `tenor serve`: the customer's page of a shared quote (lines, schedule, totals, the co-term
//! date in words, Accept and Decline) and the MSP's overview at `/admin`.
//!
//! Safe by default: a link is only its signed fields, each checked before the record is read
//! ([`sign::Link::parse`]); forms carry a CSRF token that must match a `SameSite=Strict`
//! cookie; every response has security headers and no caching; bodies are limited; each link
//! has a rate limit; every string shown is escaped by the templates. The record does the
//! deciding: acceptance is one transaction, so a second or concurrent Accept finds the first.

pub mod pages;
pub mod push;
pub mod sign;

use crate::accepting::{self, Acceptance, AcceptingError, Recorded};
use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::{self, PriceOptions};
use crate::engine::quote::QuoteFile;
use crate::record::shares::{NewDecision, Shared, SharedOutcome};
use crate::record::{Record, RecordError, clock};
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The largest request body taken (a form of a few short fields).
pub const BODY_LIMIT: usize = 8 * 1024;

/// How `tenor serve` runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The record's database.
    pub db: PathBuf,
    /// Where the plugins are, to render the vendors' formats on acceptance; `None` loads none.
    pub plugins: Option<PathBuf>,
    /// The token (or password) for `/admin`; `None` keeps `/admin` closed.
    pub admin_token: Option<String>,
    /// Requests allowed per link per minute.
    pub rate_per_minute: u32,
    /// Push each acceptance to the vendors (through `plugins`) once it is recorded.
    pub push: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the customer's address.
    pub trusted_proxies: Vec<IpAddr>,
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The record could not be opened or read.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The listener or the runtime failed.
    #[error("{0}")]
    Io(String),
}

/// What every handler shares.
struct App {
    opts: ServeOptions,
    key: Vec<u8>,
    /// Per link signature: the start of its current minute and the requests in it.
    hits: Mutex<HashMap<String, (Instant, u32)>>,
    /// With `--push`: the queue of the one thread that pushes acceptances, one at a time
    /// (as `tenor push` runs), so a burst of acceptances is not a burst of vendor calls.
    pushes: Option<std::sync::mpsc::Sender<push::AfterAcceptance>>,
}

/// Serves on `listener` until the process ends.
pub fn serve(listener: std::net::TcpListener, opts: ServeOptions) -> Result<(), ServeError> {
    let key = Record::open(&opts.db)?.share_key()?;
    let pushes = (opts.push && opts.plugins.is_some()).then(|| {
        let (tx, rx) = std::sync::mpsc::channel::<push::AfterAcceptance>();
        std::thread::spawn(move || {
            for job in rx {
                push::push_accepted(&job);
            }
        });
        tx
    });
    let app = Arc::new(App {
        opts,
        key,
        hits: Mutex::new(HashMap::new()),
        pushes,
    });
    let router = Router::new()
        .route("/quote", get(view))
        .route("/quote/accept", post(accept))
        .route("/quote/decline", post(decline))
        .route("/admin", get(admin))
        .fallback(|| async {
            pages::refusal(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing at this address.",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::map_response(secure))
        .with_state(app);
    let io = |e: std::io::Error| ServeError::Io(e.to_string());
    listener.set_nonblocking(true).map_err(io)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(io)?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    })
    .map_err(io)
}

/// Security headers on every response: no framing, no sniffing, no referrer (a link is a
/// secret), no caching, and a content policy allowing only the page's own inline style.
async fn secure(mut res: Response) -> Response {
    let h = res.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in set {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

/// A link's fields as they arrive, each untrusted.
#[derive(serde::Deserialize)]
struct LinkQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    r: String,
    #[serde(default)]
    h: String,
    #[serde(default)]
    e: String,
    #[serde(default)]
    s: String,
}

/// The Accept or Decline form: the link's fields, the CSRF token, who.
#[derive(serde::Deserialize)]
struct DecisionForm {
    #[serde(flatten)]
    link: LinkQuery,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

/// Why a link is refused, each said in plain words on its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A field is missing or not of its form.
    Malformed,
    /// The signature does not match the fields.
    Altered,
    /// No such shared quote.
    Unknown,
    /// The MSP revoked it.
    Revoked,
    /// The quote was shared again, changed, after this link was made.
    Revised,
    /// Its expiry has passed.
    Expired,
    /// Too many requests on this link in the last minute.
    TooMany,
}

impl Refusal {
    /// The status, title and sentence of its page.
    fn page(self) -> Response {
        let (status, title, text) = match self {
            Refusal::Malformed => (
                StatusCode::BAD_REQUEST,
                "This link is incomplete",
                "Part of the link is missing or was changed. Open the link exactly as you received it.",
            ),
            Refusal::Altered => (
                StatusCode::FORBIDDEN,
                "This link has been altered",
                "The link does not match the one your provider sent, so the quote cannot be shown or accepted. Open the link exactly as you received it, or ask your provider for a new one.",
            ),
            Refusal::Unknown => (
                StatusCode::NOT_FOUND,
                "This quote is not available",
                "No quote matches this link. Ask your provider for a new link.",
            ),
            Refusal::Revoked => (
                StatusCode::GONE,
                "This link was withdrawn",
                "Your provider withdrew this link, so the quote can no longer be accepted. Ask them for a new one.",
            ),
            Refusal::Revised => (
                StatusCode::CONFLICT,
                "This quote has been revised",
                "Your provider changed the quote after sending this link, so this version can no longer be accepted. Ask them for the link to the current version.",
            ),
            Refusal::Expired => (
                StatusCode::GONE,
                "This link has expired",
                "The time to accept this quote has passed. Ask your provider for a new link.",
            ),
            Refusal::TooMany => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                "This link was opened too many times in the last minute. Wait a minute and try again.",
            ),
        };
        pages::refusal(status, title, text)
    }
}

impl App {
    /// Counts a request on a link; false once it passes the rate for this minute.
    fn allow(&self, sig: &str) -> bool {
        let Ok(mut hits) = self.hits.lock() else {
            return false;
        };
        let now = Instant::now();
        if hits.len() > 100_000 {
            hits.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let entry = hits.entry(sig.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.opts.rate_per_minute
    }

    /// The shared revision a link names, when the link is sound and may still be used.
    fn check(&self, record: &Record, q: &LinkQuery) -> Result<Result<Shared, Refusal>, ServeFail> {
        let Some(link) = sign::Link::parse(&q.q, &q.r, &q.h, &q.e, &q.s) else {
            return Ok(Err(Refusal::Malformed));
        };
        if !sign::verify(&self.key, &link) {
            return Ok(Err(Refusal::Altered));
        }
        let Some(shared) = record.shared(&link.quote, link.revision)? else {
            return Ok(Err(Refusal::Unknown));
        };
        if shared.content_sha256 != link.hash {
            return Ok(Err(Refusal::Altered));
        }
        if shared.revoked_at.is_some() {
            return Ok(Err(Refusal::Revoked));
        }
        if shared.latest_revision > shared.revision {
            return Ok(Err(Refusal::Revised));
        }
        if now_unix()? > link.expires {
            return Ok(Err(Refusal::Expired));
        }
        Ok(Ok(shared))
    }
}

/// The record's clock in unix seconds (so `TENOR_NOW` fixes expiry in tests).
pub fn now_unix() -> Result<i64, RecordError> {
    let now = clock::now()?;
    chrono::DateTime::parse_from_rfc3339(&now)
        .map(|t| t.timestamp())
        .map_err(|e| RecordError::Clock(format!("{now}: {e}")))
}

/// A failure of the server itself (not of the customer's request): logged, shown as a 500.
#[derive(Debug)]
struct ServeFail(String);

impl From<RecordError> for ServeFail {
    fn from(e: RecordError) -> Self {
        ServeFail(e.to_string())
    }
}

impl IntoResponse for ServeFail {
    fn into_response(self) -> Response {
        eprintln!("tenor serve: {}", self.0);
        pages::refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The quote could not be processed just now. Nothing was accepted. Try again in a moment.",
        )
    }
}

/// A shared quote rebuilt from its stored texts: compiled, priced and made into documents
/// exactly as acceptance will make them.
pub struct Rebuilt {
    /// The compiled rules.
    pub catalogue: Catalogue,
    /// The quote as read.
    pub file: QuoteFile,
    /// The priced quote.
    pub priced: pricing::PricedQuote,
    /// The documents acceptance would record.
    pub accepted: crate::documents::accept::Accepted,
}

/// Rebuilds a shared quote from its texts; an error names what failed (the texts were checked
/// when shared, so this fails only if the engine changed under them).
pub fn rebuild(shared: &Shared) -> Result<Rebuilt, String> {
    let mut sources = tenor_dsl::SourceSet::new();
    for (name, text) in &shared.rules {
        sources.add(name.clone(), text.clone());
    }
    let rules = tenor_dsl::check(&sources).map_err(|d| {
        format!(
            "{}: the shared rules have {} problem(s)",
            shared.quote,
            d.len()
        )
    })?;
    let catalogue = Catalogue::compile(&rules, &sources);
    let file = QuoteFile::parse(&shared.quote_file, &shared.quote_text)
        .map_err(|e| format!("{}: {}", shared.quote, e.message))?;
    let priced = pricing::price(&catalogue, &file.quote, &PriceOptions { explain: false })
        .map_err(|e| {
            format!(
                "{}: the quote no longer prices ({} problem(s))",
                shared.quote,
                e.len()
            )
        })?;
    let fp = crate::documents::accept::fingerprint(&file.quote, &shared.rules);
    let accepted = crate::documents::accept::accept(&catalogue, &file.quote, &priced, &fp)
        .map_err(|e| {
            format!(
                "{}: the quote is refused ({} problem(s))",
                shared.quote,
                e.len()
            )
        })?;
    Ok(Rebuilt {
        catalogue,
        file,
        priced,
        accepted,
    })
}

/// Runs blocking record work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServeFail> + Send + 'static,
) -> Result<T, ServeFail> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServeFail(format!("a worker failed: {e}")))?
}

/// The customer's address: the connection's, or, when it comes from a trusted proxy, the
/// last address of `X-Forwarded-For` (the one that proxy added; earlier ones are the
/// client's word). A header that does not read as an address is ignored.
pub fn client_address(from: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&from) {
        return from;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or(from)
}

/// `GET /quote?…`: the quote, or why the link is refused.
async fn view(
    State(app): State<Arc<App>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<LinkQuery>,
) -> Result<Response, ServeFail> {
    let address = client_address(from.ip(), &headers, &app.opts.trusted_proxies).to_string();
    if !app.allow(&q.s) {
        return Ok(Refusal::TooMany.page());
    }
    blocking(move || {
        let mut record = Record::open(&app.opts.db)?;
        let shared = match app.check(&record, &q)? {
            Ok(s) => s,
            Err(r) => return Ok(r.page()),
        };
        record.share_viewed(
            &shared.quote,
            shared.revision,
            &address,
            &shared.content_sha256,
        )?;
        let decision = record.decision(&shared.quote, shared.revision)?;
        let rebuilt = rebuild(&shared).map_err(ServeFail)?;
        let csrf = random_token()?;
        let mut res = pages::quote(&rebuilt, &shared, &q_string(&q), &csrf, decision.as_ref());
        let cookie = format!("tenor_csrf={csrf}; Path=/quote; HttpOnly; SameSite=Strict");
        let value = HeaderValue::from_str(&cookie).map_err(|e| ServeFail(e.to_string()))?;
        res.headers_mut().insert(header::SET_COOKIE, value);
        Ok(res)
    })
    .await
}

/// The link's (already checked) fields, to carry in the form.
fn q_string(q: &LinkQuery) -> [(&'static str, String); 5] {
    [
        ("q", q.q.clone()),
        ("r", q.r.clone()),
        ("h", q.h.clone()),
        ("e", q.e.clone()),
        ("s", q.s.clone()),
    ]
}

/// 16 random bytes in hex, for a CSRF token.
fn random_token() -> Result<String, ServeFail> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| ServeFail(format!("no randomness: {e}")))?;
    Ok(sign::hex(&b))
}

/// True when the form's CSRF token is the cookie's (compared in constant time).
fn csrf_ok(headers: &HeaderMap, form: &str) -> bool {
    use hmac::digest::Digest;
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix("tenor_csrf="))
        .next();
    match cookie {
        // Equal-length digests compared byte by byte without an early exit.
        Some(c) if form.len() == 32 => {
            let (a, b) = (sha2::Sha256::digest(c), sha2::Sha256::digest(form));
            a.iter()
                .zip(b.iter())
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0
        }
        _ => false,
    }
}

/// The customer's name and email, when both are sound: trimmed, not empty, no control
/// characters, a name of at most 200 characters and an email of at most 254 with one `@`.
fn who(form: &DecisionForm) -> Option<(String, String)> {
    let name = form.name.trim();
    let email = form.email.trim();
    let clean = |s: &str| !s.is_empty() && !s.chars().any(char::is_control);
    let email_ok = email.len() <= 254
        && email.matches('@').count() == 1
        && !email.starts_with('@')
        && !email.ends_with('@')
        && !email.contains(char::is_whitespace);
    (clean(name) && name.chars().count() <= 200 && clean(email) && email_ok)
        .then(|| (name.to_string(), email.to_string()))
}

/// `POST /quote/accept`: the quote accepted, or why not.
async fn accept(
    State(app): State<Arc<App>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<DecisionForm>,
) -> Result<Response, ServeFail> {
    decide(app, from, headers, form, true).await
}

/// `POST /quote/decline`: the quote declined, or why not.
async fn decline(
    State(app): State<Arc<App>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<DecisionForm>,
) -> Result<Response, ServeFail> {
    decide(app, from, headers, form, false).await
}

/// Accept or decline through a link: the link, the CSRF token and the customer's details
/// checked, then one transaction of the record.
// Long: the checks in the order they must run (link, token, details, then the one
// transaction); read top to bottom, they are the argument that nothing is skipped.
async fn decide(
    app: Arc<App>,
    from: SocketAddr,
    headers: HeaderMap,
    form: DecisionForm,
    accepting: bool,
) -> Result<Response, ServeFail> {
    if !app.allow(&form.link.s) {
        return Ok(Refusal::TooMany.page());
    }
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(pages::refusal(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "The page was open too long or came from somewhere else. Open your link again and repeat your choice.",
        ));
    }
    let Some((name, email)) = who(&form) else {
        return Ok(pages::refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Your name and email are needed",
            "Go back and type your full name and your email address: they record who accepted or declined the quote.",
        ));
    };
    blocking(move || {
        let mut record = Record::open(&app.opts.db)?;
        let shared = match app.check(&record, &form.link)? {
            Ok(s) => s,
            Err(r) => return Ok(r.page()),
        };
        let address = client_address(from.ip(), &headers, &app.opts.trusted_proxies).to_string();
        let d = NewDecision {
            quote: &shared.quote,
            revision: shared.revision,
            name: &name,
            email: &email,
            address: &address,
            content_sha256: &shared.content_sha256,
        };
        if !accepting {
            return Ok(match record.decline_shared(&d)? {
                SharedOutcome::Decided(done) => pages::decided(&shared, &done),
                SharedOutcome::Accepted(_) => pages::refusal(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Try again.",
                ),
            });
        }
        let rebuilt = rebuild(&shared).map_err(ServeFail)?;
        let outcome = accepting::accept(
            &mut record,
            &Acceptance {
                catalogue: &rebuilt.catalogue,
                rules: &shared.rules,
                rules_git: None,
                file: &rebuilt.file,
                priced: accepting::Priced::Whole(&rebuilt.priced),
                revise: true,
                plugins: app.opts.plugins.as_deref(),
                decision: Some(d),
            },
        )
        .map_err(|e| match e {
            AcceptingError::Refused(errs) => ServeFail(format!(
                "{}: refused ({} problem(s))",
                shared.quote,
                errs.len()
            )),
            AcceptingError::Write(m) => ServeFail(m),
            AcceptingError::Record(e) => ServeFail::from(e),
        })?;
        for e in outcome.failures.iter().chain(&outcome.plugins.errors) {
            eprintln!("tenor serve: {}: {e}", shared.quote);
        }
        Ok(match outcome.recorded {
            Recorded::Revision(done) => {
                if let (Some(queue), Some(plugins)) = (&app.pushes, app.opts.plugins.clone()) {
                    // After the commit and on the pushing thread: the customer's answer
                    // waits for no vendor, and no push failure can touch the acceptance.
                    let job = push::AfterAcceptance {
                        db: app.opts.db.clone(),
                        plugins,
                        quote: shared.quote.clone(),
                        revision: done.revision,
                        shared_revision: shared.revision,
                    };
                    if queue.send(job).is_err() {
                        eprintln!(
                            "tenor serve: {}: the pushing thread has stopped; run `tenor push {}`",
                            shared.quote, shared.quote
                        );
                    }
                }
                pages::accepted(&shared, &rebuilt, &name, &email, &done)
            }
            Recorded::Decided(done) => pages::decided(&shared, &done),
        })
    })
    .await
}

/// `GET /admin`: every shared quote with its state, behind the configured token (HTTP basic
/// password or bearer token); closed when none is configured.
async fn admin(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, ServeFail> {
    let Some(token) = app.opts.admin_token.clone() else {
        return Ok(pages::refusal(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is nothing at this address.",
        ));
    };
    if !admin_ok(&headers, &token) {
        let mut res = pages::refusal(
            StatusCode::UNAUTHORIZED,
            "Sign in",
            "The MSP's view needs its token.",
        );
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"tenor admin\", charset=\"UTF-8\""),
        );
        return Ok(res);
    }
    blocking(move || {
        let record = Record::open(&app.opts.db)?;
        let rows = record.share_overview()?;
        Ok(pages::admin(&rows, now_unix()?))
    })
    .await
}

/// True when the request carries the admin token: `Bearer TOKEN`, or basic credentials whose
/// password is the token. Compared through digests, without an early exit.
fn admin_ok(headers: &HeaderMap, token: &str) -> bool {
    use hmac::digest::Digest;
    let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let given = if let Some(b) = auth.strip_prefix("Bearer ") {
        b.trim().to_string()
    } else if let Some(b) = auth.strip_prefix("Basic ") {
        match base64_decode(b.trim()).and_then(|v| String::from_utf8(v).ok()) {
            Some(pair) => pair
                .split_once(':')
                .map(|(_, p)| p.to_string())
                .unwrap_or_default(),
            None => return false,
        }
    } else {
        return false;
    };
    let (a, b) = (sha2::Sha256::digest(given), sha2::Sha256::digest(token));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Standard base64 (with padding), for basic credentials.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::client_address;
    use axum::http::{HeaderMap, HeaderValue};
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn the_forwarded_address_counts_only_from_a_trusted_proxy() {
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            HeaderValue::from_static("198.51.100.7, 203.0.113.9"),
        );
        let proxy = ip("10.0.0.2");
        // The proxy appended 203.0.113.9; 198.51.100.7 is what the client claimed.
        assert_eq!(client_address(proxy, &h, &[proxy]), ip("203.0.113.9"));
        assert_eq!(client_address(proxy, &h, &[]), proxy);
        assert_eq!(client_address(ip("10.0.0.3"), &h, &[proxy]), ip("10.0.0.3"));
        let mut bad = HeaderMap::new();
        bad.append("x-forwarded-for", HeaderValue::from_static("not-an-ip"));
        assert_eq!(client_address(proxy, &bad, &[proxy]), proxy);
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }
}
