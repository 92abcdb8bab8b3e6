//! The HTTP client: ureq (blocking, rustls), one agent per vendor, the OAuth2 token cached for
//! the run, retries with exponential backoff that honour `Retry-After`.

use super::config::{Auth, VendorConfig};
use super::{SendError, Sender};
use std::time::{Duration, Instant};
use tenor_plugin_sdk::exchange::{Effect, Method, Request, Response};
use ureq::http;

/// The largest response body read (a vendor's invoice list can be long; more is refused).
const BODY_LIMIT: u64 = 64 * 1024 * 1024;

/// A vendor's HTTP client.
pub struct Http {
    config: VendorConfig,
    agent: ureq::Agent,
    token: Option<(String, Instant)>,
    sleep: fn(Duration),
    /// Requests put on the wire (tries included), for the run's report.
    pub sent: u64,
}

/// What one try came to.
enum Try {
    /// An answer to give the plugin.
    Answer(Response),
    /// Worth trying again after this long (429/5xx, a connection refused).
    Again(Duration, String),
    /// The request may have reached the vendor and gave no answer.
    Lost(String),
}

impl Http {
    /// A client for the vendor.
    pub fn new(config: VendorConfig) -> Http {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(config.timeout))
            .max_redirects(0)
            .build()
            .into();
        Http {
            config,
            agent,
            token: None,
            sleep: std::thread::sleep,
            sent: 0,
        }
    }

    /// The full URL of a request: base URL, path, and the query percent-encoded.
    fn url(&self, r: &Request) -> String {
        let mut url = format!("{}{}", self.config.base_url, r.path);
        for (i, (k, v)) in r.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&encode(k));
            url.push('=');
            url.push_str(&encode(v));
        }
        url
    }

    /// The authentication header, getting (and caching) a token when needed.
    fn authorization(&mut self) -> Result<Option<String>, SendError> {
        match &self.config.auth {
            Auth::None => Ok(None),
            Auth::Basic { user, password } => Ok(Some(format!(
                "Basic {}",
                super::base64(format!("{user}:{password}").as_bytes())
            ))),
            Auth::OAuth2 { .. } => {
                if let Some((t, until)) = &self.token
                    && Instant::now() < *until
                {
                    return Ok(Some(format!("Bearer {t}")));
                }
                let (token, lifetime) = self.fetch_token()?;
                self.config.secrets.add(&token);
                let until = Instant::now() + lifetime.saturating_sub(Duration::from_secs(60));
                self.token = Some((token.clone(), until));
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    /// Asks the token endpoint for a token (client credentials or refresh token grant).
    fn fetch_token(&mut self) -> Result<(String, Duration), SendError> {
        let Auth::OAuth2 {
            token_url,
            client_id,
            client_secret,
            refresh_token,
            audience,
            scope,
        } = &self.config.auth
        else {
            return Err(SendError::Config("no OAuth2 configured".into()));
        };
        let mut form: Vec<(&str, &str)> = vec![("client_id", client_id)];
        match (refresh_token, client_secret) {
            (Some(r), _) => form.extend([("grant_type", "refresh_token"), ("refresh_token", r)]),
            (None, Some(s)) => {
                form.extend([("grant_type", "client_credentials"), ("client_secret", s)]);
            }
            (None, None) => return Err(SendError::Config("no OAuth2 secret".into())),
        }
        for (k, v) in [("audience", audience), ("scope", scope)] {
            if let Some(v) = v {
                form.push((k, v));
            }
        }
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let shown = format!("{} (the {} token endpoint)", token_url, self.config.plugin);
        let req = http::Request::post(token_url.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body.join("&"))
            .map_err(|e| SendError::Config(format!("{shown}: {e}")))?;
        self.sent += 1;
        let mut resp = self.agent.run(req).map_err(|e| {
            SendError::NotSent(self.config.secrets.redact(&format!("{shown}: {e}")))
        })?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(1024 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let token = json.get("access_token").and_then(|v| v.as_str());
        match token {
            Some(t) if (200..300).contains(&status) && !t.is_empty() => {
                let secs = json
                    .get("expires_in")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(3600);
                Ok((t.to_string(), Duration::from_secs(secs)))
            }
            _ => Err(SendError::NotSent(format!(
                "{shown} answered {status} without an access token; check {}_CLIENT_ID and its secret",
                self.config.prefix
            ))),
        }
    }

    /// The request as ureq sends it: method, URL, the vendor's headers, the plugin's, auth.
    fn build(
        &mut self,
        r: &Request,
        auth: Option<&str>,
    ) -> Result<http::Request<Vec<u8>>, SendError> {
        let mut b = http::Request::builder()
            .method(method(r.method))
            .uri(self.url(r))
            .header("accept", "application/json");
        for (k, v) in self.config.headers.iter().chain(&r.headers) {
            b = b.header(k.as_str(), v.as_str());
        }
        if self.config.correlation_id {
            b = b.header("IM-CorrelationID", correlation_id());
        }
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        let body = match &r.body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                serde_json::to_vec(v).map_err(|e| SendError::Config(e.to_string()))?
            }
            None => Vec::new(),
        };
        b.body(body)
            .map_err(|e| SendError::Config(self.config.secrets.redact(&e.to_string())))
    }

    /// One try.
    fn try_once(&mut self, r: &Request, attempt: u32) -> Result<Try, SendError> {
        let auth = self.authorization()?;
        let req = self.build(r, auth.as_deref())?;
        self.sent += 1;
        let backoff = self
            .config
            .backoff
            .saturating_mul(2u32.saturating_pow(attempt));
        let mut resp = match self.agent.run(req) {
            Ok(resp) => resp,
            Err(e) => {
                let text = self.config.secrets.redact(&e.to_string());
                return Ok(if never_sent(&e) {
                    Try::Again(backoff, text)
                } else {
                    Try::Lost(text)
                });
            }
        };
        let status = resp.status().as_u16();
        let mut headers = Vec::new();
        for (k, v) in resp.headers() {
            if let Ok(v) = v.to_str() {
                headers.push((k.as_str().to_ascii_lowercase(), v.to_string()));
            }
        }
        let text = match resp
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_string()
        {
            Ok(t) => t,
            Err(e) => return Ok(Try::Lost(self.config.secrets.redact(&e.to_string()))),
        };
        let body = if text.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        };
        let answer = self.config.secrets.redact_response(Response {
            status,
            headers,
            body,
        });
        if status == 401 && self.token.take().is_some() {
            return Ok(Try::Again(
                Duration::ZERO,
                "401: the token was refused".into(),
            ));
        }
        if retryable(status, r.effect) {
            let wait = retry_after(&answer.headers).unwrap_or(backoff);
            return Ok(Try::Again(wait, format!("{status}")));
        }
        Ok(Try::Answer(answer))
    }
}

impl Sender for Http {
    fn send(&mut self, r: &Request) -> Result<Response, SendError> {
        let shown = format!("{} {}", method(r.method).as_str(), self.url(r));
        let mut last = String::new();
        for attempt in 0..=self.config.retries {
            match self.try_once(r, attempt)? {
                Try::Answer(a) => return Ok(a),
                Try::Lost(why) if r.effect == Effect::Create => {
                    return Err(SendError::MaybeSent(format!(
                        "{shown}: {why}; it may have reached {}, so it is not sent again before the plugin looks up what {} holds",
                        self.config.plugin, self.config.plugin
                    )));
                }
                Try::Lost(why) => last = why,
                Try::Again(wait, why) => {
                    if wait > self.config.max_wait {
                        return Err(SendError::NotSent(format!(
                            "{shown}: {why}; {} asks to wait {} s, more than TENOR_HTTP_MAX_WAIT ({} s)",
                            self.config.plugin,
                            wait.as_secs(),
                            self.config.max_wait.as_secs()
                        )));
                    }
                    last = why;
                    if attempt < self.config.retries {
                        (self.sleep)(wait);
                    }
                }
            }
        }
        Err(SendError::NotSent(format!(
            "{shown}: no answer after {} tries (last: {last})",
            self.config.retries + 1
        )))
    }

    fn describe(&self, r: &Request) -> String {
        let mut out = format!("{} {}\n", method(r.method).as_str(), self.url(r));
        out.push_str("  accept: application/json\n");
        for (k, v) in self.config.headers.iter().chain(&r.headers) {
            out.push_str(&format!("  {k}: {}\n", self.config.secrets.redact(v)));
        }
        if self.config.correlation_id {
            out.push_str("  IM-CorrelationID: (a new id per request)\n");
        }
        match &self.config.auth {
            Auth::None => {}
            Auth::Basic { .. } => out.push_str(&format!(
                "  authorization: Basic [redacted: {}_COMPANY+{}_PUBLIC_KEY:{}_PRIVATE_KEY]\n",
                self.config.prefix, self.config.prefix, self.config.prefix
            )),
            Auth::OAuth2 { .. } => out.push_str(&format!(
                "  authorization: Bearer [redacted: a token from {}_TOKEN_URL]\n",
                self.config.prefix
            )),
        }
        if let Some(b) = &r.body {
            out.push_str("  content-type: application/json\n");
            let pretty = serde_json::to_string_pretty(b).unwrap_or_default();
            out.push_str(&self.config.secrets.redact(&pretty));
            out.push('\n');
        }
        out
    }
}

/// True when the failure happened before the request could reach the vendor.
fn never_sent(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
            | ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve)
    ) || matches!(e, ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused)
}

/// Whether an answer is worth another try: 429 and 503 say the vendor did nothing; other
/// 5xx are retried for reads and updates, but a `Create` answered 500 goes back to the plugin
/// (the vendor may have made it before failing).
fn retryable(status: u16, effect: Effect) -> bool {
    match status {
        429 | 503 => true,
        500..=599 => effect != Effect::Create,
        _ => false,
    }
}

/// `Retry-After` as seconds or an HTTP date, if the answer has one.
pub fn retry_after(headers: &[(String, String)]) -> Option<Duration> {
    let (_, v) = headers.iter().find(|(k, _)| k == "retry-after")?;
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let wait = at.timestamp() - i64::try_from(now).ok()?;
    Some(Duration::from_secs(u64::try_from(wait).unwrap_or(0)))
}

fn method(m: Method) -> http::Method {
    match m {
        Method::Get => http::Method::GET,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Patch => http::Method::PATCH,
        Method::Delete => http::Method::DELETE,
    }
}

/// Percent-encodes a query or form value (RFC 3986 unreserved characters kept).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A fresh id for Ingram's `IM-CorrelationID` (32 hex digits, random).
fn correlation_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let h = |v: &str| vec![("retry-after".to_string(), v.to_string())];
        assert_eq!(retry_after(&h("7")), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after(&h("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let later = chrono::DateTime::from_timestamp(now as i64 + 120, 0)
            .unwrap()
            .to_rfc2822();
        let wait = retry_after(&h(&later)).unwrap().as_secs();
        assert!((118..=120).contains(&wait), "{wait}");
        assert_eq!(retry_after(&h("soon")), None);
        assert_eq!(retry_after(&[]), None);
    }

    #[test]
    fn a_create_answered_500_is_not_retried_but_a_read_is() {
        assert!(retryable(500, Effect::Read));
        assert!(!retryable(500, Effect::Create));
        assert!(retryable(429, Effect::Create));
        assert!(!retryable(404, Effect::Read));
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
