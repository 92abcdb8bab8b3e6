//! What the four simulators share: the shared world behind a lock, field validation over JSON
//! bodies, money and dates, deterministic ids, and the fault layer every router goes through.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};

use crate::state::SimState;

/// The four vendors simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// Pax8 Partner API.
    Pax8,
    /// Ingram Micro Reseller API v6.
    Ingram,
    /// TD SYNNEX StreamOne Ion v3.
    Tdsynnex,
    /// ConnectWise Manage (PSA).
    Connectwise,
}

impl Vendor {
    /// The vendor's key in the binary's JSON line and in the state file.
    pub fn key(self) -> &'static str {
        match self {
            Vendor::Pax8 => "pax8",
            Vendor::Ingram => "ingram",
            Vendor::Tdsynnex => "tdsynnex",
            Vendor::Connectwise => "connectwise",
        }
    }
}

/// What an injected fault does to the request it catches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer 429 with `Retry-After: secs`, without acting.
    TooManyRequests {
        /// The `Retry-After` header's seconds.
        retry_after_secs: u64,
    },
    /// Answer 500 without acting.
    ServerError,
    /// Wait this long before handling the request (longer than a client's timeout).
    Delay(Duration),
    /// Start the response, then drop the connection, without acting.
    Drop,
    /// Perform the request (the order is placed), then drop the connection mid-response.
    ActThenDrop,
}

/// A fault armed for the next `times` requests that match `method` and `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The simulator it applies to.
    pub vendor: Vendor,
    /// HTTP method to match (`POST`…), or `*` for any.
    pub method: String,
    /// Exact request path, or a prefix ending in `*`.
    pub path: String,
    /// What happens.
    pub kind: FaultKind,
    /// How many matching requests it catches before it is spent.
    pub times: u32,
}

impl Fault {
    fn matches(&self, vendor: Vendor, method: &Method, path: &str) -> bool {
        let method_ok = self.method == "*" || self.method.eq_ignore_ascii_case(method.as_str());
        let path_ok = match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => self.path == path,
        };
        self.vendor == vendor && method_ok && path_ok && self.times > 0
    }
}

/// One request as the simulator received it, kept for tests to inspect.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Received {
    /// The simulator that received it.
    pub vendor: Vendor,
    /// HTTP method.
    pub method: String,
    /// Path with query.
    pub path: String,
    /// The status answered (0 when the connection was dropped before any status).
    pub status: u16,
}

/// Everything the servers share: the world, armed faults, issued tokens, the request log.
#[derive(Debug, Default)]
pub struct Shared {
    /// The simulated vendors' data.
    pub world: Mutex<SimState>,
    /// Faults armed by tests.
    pub faults: Mutex<Vec<Fault>>,
    /// Bearer tokens issued, per vendor.
    pub tokens: Mutex<HashMap<String, Vendor>>,
    /// Every request received, in order.
    pub log: Mutex<Vec<Received>>,
}

/// Locks a mutex, carrying on with the data if a handler panicked while holding it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The state every router's handlers get.
pub type App = Arc<Shared>;

/// The most a request body may hold (the largest real one is a few kilobytes).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The fault layer: consumes a matching fault and applies it; logs every request.
pub async fn fault_layer(
    State((shared, vendor)): State<(App, Vendor)>,
    req: Request,
    next: Next,
) -> Response {
    let req = match read_whole(req).await {
        Ok(req) => req,
        Err(too_large) => return too_large,
    };
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let full = req
        .uri()
        .path_and_query()
        .map_or(path.clone(), |p| p.as_str().to_string());
    let fault = {
        let mut faults = lock(&shared.faults);
        faults
            .iter_mut()
            .find(|f| f.matches(vendor, &method, &path))
            .map(|f| {
                f.times -= 1;
                f.kind.clone()
            })
    };
    let response = match fault {
        None => next.run(req).await,
        Some(FaultKind::TooManyRequests { retry_after_secs }) => {
            let mut r = (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert("retry-after", v);
            }
            r
        }
        Some(FaultKind::ServerError) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
        Some(FaultKind::Delay(d)) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        Some(FaultKind::Drop) => dropped(StatusCode::OK),
        Some(FaultKind::ActThenDrop) => {
            let done = next.run(req).await;
            dropped(done.status())
        }
    };
    let status = response.status().as_u16();
    lock(&shared.log).push(Received {
        vendor,
        method: method.to_string(),
        path: full,
        status,
    });
    response
}

/// The request with its body read to the end before anything answers it. A handler that
/// takes no body (a checkout, a 404, a fault) would otherwise answer before the body has
/// arrived; the server then closes the connection after answering, and a client that sent
/// its next request on it sees the peer gone. A vendor's front server reads every body.
async fn read_whole(req: Request) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Err(_) => Err((StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large").into_response()),
    }
}

/// A response whose body breaks off: a first chunk, then an error that makes the server
/// abort the connection, so the client never reads a complete answer.
fn dropped(status: StatusCode) -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"{\"partial\":")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated drop",
        )),
    ];
    let body = Body::from_stream(stream_of(chunks));
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r
}

/// A stream over a fixed list, without pulling in a stream crate.
fn stream_of<T: Send + 'static>(items: Vec<T>) -> impl futures_core::Stream<Item = T> + Send {
    struct Iter<T>(std::vec::IntoIter<T>);
    impl<T> Unpin for Iter<T> {}
    impl<T> futures_core::Stream for Iter<T> {
        type Item = T;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<T>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Iter(items.into_iter())
}

/// A JSON response with a status.
pub fn json(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// A field the request got wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field's path in the body (`lineItems[0].quantity`), or a header's name.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// The problems found in one request, in the order the fields were checked.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// Records a problem with a field.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }

    /// True when nothing was found wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first problem's message, for error bodies that carry a single message.
    pub fn first_message(&self) -> String {
        self.0
            .first()
            .map_or_else(String::new, |p| p.message.clone())
    }
}

/// Parses a request body as a JSON object, or says why not.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("the request body must be a JSON object".to_string()),
        Err(e) => Err(format!("the request body is not valid JSON: {e}")),
    }
}

/// Joins a parent path and a key into a field path.
pub fn at(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// A string field: checks presence, type and maximum length.
pub fn string_field(
    obj: &Map<String, Value>,
    parent: &str,
    key: &str,
    required: bool,
    max: Option<usize>,
    p: &mut Problems,
) -> Option<String> {
    let field = at(parent, key);
    match obj.get(key) {
        None | Some(Value::Null) => {
            if required {
                p.add(&field, format!("{field} is required"));
            }
            None
        }
        Some(Value::String(s)) => {
            if let Some(max) = max
                && s.chars().count() > max
            {
                p.add(
                    &field,
                    format!(
                        "{field} must be at most {max} characters (got {})",
                        s.chars().count()
                    ),
                );
            }
            if required && s.trim().is_empty() {
                p.add(&field, format!("{field} is required"));
            }
            Some(s.clone())
        }
        Some(other) => {
            p.add(
                &field,
                format!("{field} must be a string, got {}", kind(other)),
            );
            None
        }
    }
}

/// A number field: must be a JSON number (a string holding digits is refused).
pub fn number_field(
    obj: &Map<String, Value>,
    parent: &str,
    key: &str,
    required: bool,
    p: &mut Problems,
) -> Option<Decimal> {
    let field = at(parent, key);
    match obj.get(key) {
        None | Some(Value::Null) => {
            if required {
                p.add(&field, format!("{field} is required"));
            }
            None
        }
        Some(Value::Number(n)) => match decimal_of(n) {
            Some(d) => Some(d),
            None => {
                p.add(
                    &field,
                    format!("{field} is not a number this API reads: {n}"),
                );
                None
            }
        },
        Some(other) => {
            p.add(
                &field,
                format!("{field} must be a number, got {}", kind(other)),
            );
            None
        }
    }
}

/// A whole-number field (quantities), at least `min`.
pub fn integer_field(
    obj: &Map<String, Value>,
    parent: &str,
    key: &str,
    required: bool,
    min: i64,
    p: &mut Problems,
) -> Option<i64> {
    let field = at(parent, key);
    let d = number_field(obj, parent, key, required, p)?;
    if !d.fract().is_zero() {
        p.add(&field, format!("{field} must be a whole number, got {d}"));
        return None;
    }
    let Ok(n) = i64::try_from(d.trunc().mantissa() / 10i128.pow(d.scale())) else {
        p.add(&field, format!("{field} is out of range: {d}"));
        return None;
    };
    if n < min {
        p.add(&field, format!("{field} must be at least {min}, got {n}"));
        return None;
    }
    Some(n)
}

/// A boolean field.
pub fn bool_field(
    obj: &Map<String, Value>,
    parent: &str,
    key: &str,
    p: &mut Problems,
) -> Option<bool> {
    let field = at(parent, key);
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            p.add(
                &field,
                format!("{field} must be a boolean, got {}", kind(other)),
            );
            None
        }
    }
}

/// A string field restricted to an enumeration.
pub fn enum_field(
    obj: &Map<String, Value>,
    parent: &str,
    key: &str,
    required: bool,
    allowed: &[&str],
    p: &mut Problems,
) -> Option<String> {
    let s = string_field(obj, parent, key, required, None, p)?;
    if allowed.contains(&s.as_str()) {
        Some(s)
    } else {
        let field = at(parent, key);
        p.add(
            &field,
            format!("{field} must be one of {}, got {s:?}", allowed.join(", ")),
        );
        None
    }
}

/// An object field.
pub fn object_field<'a>(
    obj: &'a Map<String, Value>,
    parent: &str,
    key: &str,
    required: bool,
    p: &mut Problems,
) -> Option<&'a Map<String, Value>> {
    let field = at(parent, key);
    match obj.get(key) {
        None | Some(Value::Null) => {
            if required {
                p.add(&field, format!("{field} is required"));
            }
            None
        }
        Some(Value::Object(m)) => Some(m),
        Some(other) => {
            p.add(
                &field,
                format!("{field} must be an object, got {}", kind(other)),
            );
            None
        }
    }
}

/// An array field.
pub fn array_field<'a>(
    obj: &'a Map<String, Value>,
    parent: &str,
    key: &str,
    required: bool,
    p: &mut Problems,
) -> Option<&'a Vec<Value>> {
    let field = at(parent, key);
    match obj.get(key) {
        None | Some(Value::Null) => {
            if required {
                p.add(&field, format!("{field} is required"));
            }
            None
        }
        Some(Value::Array(a)) => {
            if required && a.is_empty() {
                p.add(&field, format!("{field} must not be empty"));
            }
            Some(a)
        }
        Some(other) => {
            p.add(
                &field,
                format!("{field} must be an array, got {}", kind(other)),
            );
            None
        }
    }
}

/// A date or date-time string field, read as its date.
pub fn date_field(
    obj: &Map<String, Value>,
    parent: &str,
    key: &str,
    required: bool,
    p: &mut Problems,
) -> Option<NaiveDate> {
    let s = string_field(obj, parent, key, required, None, p)?;
    match parse_date(&s) {
        Some(d) => Some(d),
        None => {
            let field = at(parent, key);
            p.add(
                &field,
                format!("{field} must be an ISO 8601 date or date-time, got {s:?}"),
            );
            None
        }
    }
}

/// Reads `2026-12-07` or `2026-12-07T00:00:00Z` (any time and offset) as a date.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let day = s.get(..10)?;
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let rest = s.get(10..)?;
    if rest.is_empty() || rest.starts_with('T') {
        Some(d)
    } else {
        None
    }
}

/// The JSON type's name, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// True for the 8-4-4-4-12 hexadecimal form.
pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    parts.len() == 5
        && parts
            .iter()
            .zip(lens)
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A deterministic uuid from a namespace tag and a counter.
pub fn uuid_from(tag: u32, n: u64) -> String {
    format!("{tag:08x}-0000-4000-8000-{n:012x}")
}

/// Reads a JSON number's text as a Decimal, never through f64.
pub fn decimal_of(n: &serde_json::Number) -> Option<Decimal> {
    let text = n.to_string();
    Decimal::from_str(&text)
        .ok()
        .or_else(|| Decimal::from_scientific(&text).ok())
}

/// A Decimal as a JSON number with the same digits.
pub fn num(d: Decimal) -> Value {
    serde_json::Number::from_str(&d.normalize().to_string()).map_or(Value::Null, Value::Number)
}

/// Rounds money half up to cents.
pub fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The first day of the month `YYYY-MM`.
pub fn month_start(month: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()
}

/// Adds whole months to a date (end of month clamps).
pub fn add_months(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_add_months(Months::new(months)).unwrap_or(d)
}

/// The last day of the month containing `d`.
pub fn month_end(d: NaiveDate) -> NaiveDate {
    let first = d.with_day(1).unwrap_or(d);
    add_months(first, 1).pred_opt().unwrap_or(d)
}

/// The number of days from `a` to `b`, both included.
pub fn days_inclusive(a: NaiveDate, b: NaiveDate) -> i64 {
    (b - a).num_days() + 1
}

/// Reads a header as text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The bearer token of an `Authorization` header, if it is one this vendor issued.
pub fn bearer_ok(shared: &Shared, headers: &HeaderMap, vendor: Vendor) -> bool {
    let Some(token) = header(headers, "authorization").and_then(|h| h.strip_prefix("Bearer "))
    else {
        return false;
    };
    lock(&shared.tokens).get(token) == Some(&vendor)
}

/// Issues a new bearer token for a vendor.
pub fn issue_token(shared: &Shared, vendor: Vendor) -> String {
    let mut tokens = lock(&shared.tokens);
    let token = format!("{}-token-{}", vendor.key(), tokens.len() + 1);
    tokens.insert(token.clone(), vendor);
    token
}

/// Reads a urlencoded form (`a=b&c=d`), decoding `+` and `%XX`.
pub fn parse_form(text: &str) -> HashMap<String, String> {
    text.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(b);
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A page of a list: `page` counted from `first_page`, `size` items each.
pub fn page_of<T: Clone>(items: &[T], page: usize, size: usize) -> Vec<T> {
    items
        .iter()
        .skip(page.saturating_mul(size))
        .take(size)
        .cloned()
        .collect()
}

/// A query parameter as a number, with a default; garbage is a problem.
pub fn query_number(
    q: &HashMap<String, String>,
    key: &str,
    default: usize,
    max: usize,
    p: &mut Problems,
) -> usize {
    match q.get(key) {
        None => default,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n <= max => n,
            _ => {
                p.add(
                    key,
                    format!("{key} must be a whole number up to {max}, got {v:?}"),
                );
                default
            }
        },
    }
}
