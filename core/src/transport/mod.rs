//! Sending a plugin's requests to its vendor: the base URL and credentials come from the
//! environment ([`config`]), the host adds authentication (OAuth2 client credentials with the
//! token cached for the run, or ConnectWise's API keys and `clientId`), a per-request timeout,
//! and retries with exponential backoff on 429, 5xx and connection errors, honouring
//! `Retry-After` ([`http`]). A `Create` whose request may have reached the vendor (the
//! connection dropped after sending, a timeout waiting for the answer) is never sent again
//! blindly: [`SendError::MaybeSent`] goes back to the plugin as an exchange without a response,
//! and the plugin looks up what the vendor holds before creating anything again.
//!
//! Secrets never leave this module: the recorded request is the plugin's (which carries none),
//! and every error, response and dry-run text passes through [`Secrets::redact`].

pub mod config;
pub mod http;

pub use config::{Auth, VendorConfig};
pub use http::Http;

use tenor_plugin_sdk::exchange::{Request, Response};

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The vendor cannot have seen the request (no connection, or it answered 429/5xx every
    /// try): safe to send again later.
    #[error("{0}")]
    NotSent(String),
    /// The request may have reached the vendor (the connection dropped after sending, or the
    /// answer timed out): the plugin must look up before it creates again.
    #[error("{0}")]
    MaybeSent(String),
    /// The vendor is not configured (a variable missing or malformed).
    #[error("{0}")]
    Config(String),
}

/// Something that sends a plugin's requests: the HTTP client, or a test's stand-in.
pub trait Sender {
    /// Sends one request (with retries where safe) and returns the vendor's answer.
    fn send(&mut self, request: &Request) -> Result<Response, SendError>;

    /// The request as it would go on the wire (method, URL, headers with every secret
    /// replaced, body), for `--dry-run`.
    fn describe(&self, request: &Request) -> String;
}

/// Values that must never be written anywhere: replaced by `[redacted]` in any text.
#[derive(Clone, Default)]
pub struct Secrets(Vec<String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} values)", self.0.len())
    }
}

impl Secrets {
    /// Adds a secret (values shorter than 4 characters would redact too much, and are kept
    /// whole anyway: they are refused as credentials by [`config`]).
    pub fn add(&mut self, value: &str) {
        if !value.is_empty() && !self.0.iter().any(|v| v == value) {
            self.0.push(value.to_string());
            // Longest first, so that a secret containing another is replaced whole.
            self.0.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    /// `text` with every secret replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.0 {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "[redacted]");
            }
        }
        out
    }

    /// A response with every secret replaced in its headers and body.
    pub fn redact_response(&self, mut r: Response) -> Response {
        for (_, v) in &mut r.headers {
            *v = self.redact(v);
        }
        let text = r.body.to_string();
        let clean = self.redact(&text);
        if clean != text {
            r.body = serde_json::from_str(&clean).unwrap_or(serde_json::Value::String(clean));
        }
        r
    }
}

/// Standard base64 (RFC 4648, with padding), for HTTP basic authentication.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = [18u32, 12, 6, 0].map(|s| {
            let i = usize::try_from((n >> s) & 63).unwrap_or(0);
            ALPHABET.get(i).map_or('=', |c| char::from(*c))
        });
        let keep = chunk.len() + 1;
        for (i, c) in chars.into_iter().enumerate() {
            out.push(if i < keep { c } else { '=' });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn base64_matches_the_rfc_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn redaction_replaces_every_secret_longest_first() {
        let mut s = Secrets::default();
        s.add("abc123");
        s.add("abc123xyz");
        assert_eq!(
            s.redact("token abc123xyz and abc123."),
            "token [redacted] and [redacted]."
        );
        let r = s.redact_response(Response {
            status: 200,
            headers: vec![("x-echo".into(), "abc123".into())],
            body: serde_json::json!({"token": "abc123xyz"}),
        });
        assert_eq!(r.headers[0].1, "[redacted]");
        assert_eq!(r.body, serde_json::json!({"token": "[redacted]"}));
    }
}
