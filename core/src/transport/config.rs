//! A vendor's endpoint and credentials, from environment variables named after the plugin
//! (`TENOR_<PLUGIN>_…`, the plugin's name upper-cased, `-` as `_`):
//!
//! - `_URL`: the API's base URL (required).
//! - OAuth2 (Pax8, Ingram, TD SYNNEX): `_TOKEN_URL`, `_CLIENT_ID`, `_CLIENT_SECRET`, optional
//!   `_AUDIENCE` and `_SCOPE`; or `_REFRESH_TOKEN` instead of the client secret (TD SYNNEX's
//!   StreamOne Ion grants tokens from a refresh token).
//! - ConnectWise: `_COMPANY`, `_PUBLIC_KEY`, `_PRIVATE_KEY` (basic authentication
//!   `company+public:private`) and `_CLIENT_ID` (the `clientId` header).
//! - Ingram: `_CUSTOMER_NUMBER`, `_COUNTRY_CODE`, `_SENDER_ID`, `_APPLICATION_ID` as the
//!   `IM-CustomerNumber`, `IM-CountryCode`, `IM-SenderID`, `IM-ApplicationID` headers of every
//!   request (an `IM-CorrelationID` is made per request; the invoice endpoints require
//!   `IM-ApplicationID`, XI-Resellers-API-Spec.json).
//! - `TENOR_HTTP_TIMEOUT` (seconds per request, default 30), `TENOR_HTTP_RETRIES` (default 4),
//!   `TENOR_HTTP_BACKOFF_MS` (first backoff, doubled each try, default 500),
//!   `TENOR_HTTP_MAX_WAIT` (the longest `Retry-After` honoured, seconds, default 300).

use super::{Secrets, SendError};
use std::time::Duration;

/// How the host authenticates to a vendor.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// Nothing (a local test server).
    None,
    /// OAuth2: a token from `token_url`, by client credentials or a refresh token.
    OAuth2 {
        /// The token endpoint.
        token_url: String,
        /// The client id.
        client_id: String,
        /// The client secret (absent with a refresh token).
        client_secret: Option<String>,
        /// A refresh token, for the `refresh_token` grant.
        refresh_token: Option<String>,
        /// `audience`, if the vendor wants one (Pax8).
        audience: Option<String>,
        /// `scope`, if the vendor wants one.
        scope: Option<String>,
    },
    /// HTTP basic authentication (ConnectWise's `company+public:private`).
    Basic {
        /// `company+public`.
        user: String,
        /// The private key.
        password: String,
    },
}

/// One vendor's configuration.
#[derive(Clone)]
pub struct VendorConfig {
    /// The plugin it is for.
    pub plugin: String,
    /// The variables' prefix (`TENOR_PAX8`).
    pub prefix: String,
    /// The API's base URL, without a trailing `/`.
    pub base_url: String,
    /// How to authenticate.
    pub auth: Auth,
    /// Headers added to every request (ConnectWise's `clientId`, Ingram's `IM-…`).
    pub headers: Vec<(String, String)>,
    /// Whether each request gets a fresh `IM-CorrelationID`.
    pub correlation_id: bool,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Tries after the first.
    pub retries: u32,
    /// The first backoff.
    pub backoff: Duration,
    /// The longest `Retry-After` honoured.
    pub max_wait: Duration,
    /// Every secret value, to redact.
    pub secrets: Secrets,
}

impl std::fmt::Debug for VendorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorConfig")
            .field("plugin", &self.plugin)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// The variables' prefix of a plugin: `TENOR_` and its name upper-cased, `-` as `_`.
pub fn prefix(plugin: &str) -> String {
    format!("TENOR_{}", plugin.to_ascii_uppercase().replace('-', "_"))
}

/// Reads a vendor's configuration through `var` (the environment, or a test's map).
pub fn from_vars(
    plugin: &str,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<VendorConfig, SendError> {
    let prefix = prefix(plugin);
    let get = |suffix: &str| var(&format!("{prefix}_{suffix}")).filter(|v| !v.is_empty());
    let base_url = get("URL").ok_or_else(|| {
        SendError::Config(format!(
            "`{plugin}` has no API address: set {prefix}_URL (and its credentials, see README \"Pushing to the vendors\")"
        ))
    })?;
    check_url(&format!("{prefix}_URL"), &base_url)?;
    let mut secrets = Secrets::default();
    let auth = auth(&prefix, &get, &mut secrets)?;
    let mut headers = Vec::new();
    if let Some(id) = get("CLIENT_ID").filter(|_| matches!(auth, Auth::Basic { .. })) {
        headers.push(("clientId".to_string(), id));
    }
    for (suffix, header) in [
        ("CUSTOMER_NUMBER", "IM-CustomerNumber"),
        ("COUNTRY_CODE", "IM-CountryCode"),
        ("SENDER_ID", "IM-SenderID"),
        ("APPLICATION_ID", "IM-ApplicationID"),
    ] {
        if let Some(v) = get(suffix) {
            headers.push((header.to_string(), v));
        }
    }
    let correlation_id = headers.iter().any(|(h, _)| h.starts_with("IM-"));
    let num = |name: &str, default: u64| -> Result<u64, SendError> {
        match var(name).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| SendError::Config(format!("{name}=`{v}` is not a whole number"))),
        }
    };
    Ok(VendorConfig {
        plugin: plugin.to_string(),
        prefix,
        base_url: base_url.trim_end_matches('/').to_string(),
        auth,
        headers,
        correlation_id,
        timeout: Duration::from_secs(num("TENOR_HTTP_TIMEOUT", 30)?.max(1)),
        retries: u32::try_from(num("TENOR_HTTP_RETRIES", 4)?.min(20)).unwrap_or(4),
        backoff: Duration::from_millis(num("TENOR_HTTP_BACKOFF_MS", 500)?),
        max_wait: Duration::from_secs(num("TENOR_HTTP_MAX_WAIT", 300)?),
        secrets,
    })
}

/// Reads a vendor's configuration from the environment.
pub fn from_env(plugin: &str) -> Result<VendorConfig, SendError> {
    from_vars(plugin, &|name| std::env::var(name).ok())
}

/// The authentication the variables describe.
fn auth(
    prefix: &str,
    get: &dyn Fn(&str) -> Option<String>,
    secrets: &mut Secrets,
) -> Result<Auth, SendError> {
    let missing = |what: &str| {
        SendError::Config(format!(
            "{prefix}_{what} is not set (needed with the other {prefix}_… credentials)"
        ))
    };
    if let Some(token_url) = get("TOKEN_URL") {
        check_url(&format!("{prefix}_TOKEN_URL"), &token_url)?;
        let client_id = get("CLIENT_ID").ok_or_else(|| missing("CLIENT_ID"))?;
        let client_secret = get("CLIENT_SECRET");
        let refresh_token = get("REFRESH_TOKEN");
        if client_secret.is_none() && refresh_token.is_none() {
            return Err(missing("CLIENT_SECRET"));
        }
        for s in [&client_secret, &refresh_token].into_iter().flatten() {
            secrets.add(s);
        }
        return Ok(Auth::OAuth2 {
            token_url,
            client_id,
            client_secret,
            refresh_token,
            audience: get("AUDIENCE"),
            scope: get("SCOPE"),
        });
    }
    if let Some(company) = get("COMPANY") {
        let public = get("PUBLIC_KEY").ok_or_else(|| missing("PUBLIC_KEY"))?;
        let password = get("PRIVATE_KEY").ok_or_else(|| missing("PRIVATE_KEY"))?;
        let user = format!("{company}+{public}");
        secrets.add(&password);
        secrets.add(&super::base64(format!("{user}:{password}").as_bytes()));
        return Ok(Auth::Basic { user, password });
    }
    Ok(Auth::None)
}

/// Refuses a URL that is not `http://` or `https://`, or holds a control character.
fn check_url(name: &str, url: &str) -> Result<(), SendError> {
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok || url.chars().any(char::is_control) {
        return Err(SendError::Config(format!(
            "{name}=`{}` is not an http:// or https:// address",
            url.escape_debug()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;
    use std::collections::BTreeMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| m.get(k).cloned()
    }

    #[test]
    fn connectwise_gets_basic_auth_and_client_id_and_its_secrets_are_known() {
        let c = from_vars(
            "connectwise",
            &vars(&[
                (
                    "TENOR_CONNECTWISE_URL",
                    "https://cw.example/v4_6_release/apis/3.0/",
                ),
                ("TENOR_CONNECTWISE_COMPANY", "acme"),
                ("TENOR_CONNECTWISE_PUBLIC_KEY", "pubkey1"),
                ("TENOR_CONNECTWISE_PRIVATE_KEY", "privkey-secret"),
                ("TENOR_CONNECTWISE_CLIENT_ID", "cid-1"),
            ]),
        )
        .unwrap();
        assert_eq!(c.base_url, "https://cw.example/v4_6_release/apis/3.0");
        assert_eq!(
            c.headers,
            vec![("clientId".to_string(), "cid-1".to_string())]
        );
        assert!(matches!(&c.auth, Auth::Basic { user, .. } if user == "acme+pubkey1"));
        assert_eq!(c.secrets.redact("x privkey-secret y"), "x [redacted] y");
    }

    #[test]
    fn ingram_headers_and_a_missing_secret() {
        let c = from_vars(
            "ingram",
            &vars(&[
                ("TENOR_INGRAM_URL", "https://api.example"),
                ("TENOR_INGRAM_TOKEN_URL", "https://api.example/oauth"),
                ("TENOR_INGRAM_CLIENT_ID", "id"),
                ("TENOR_INGRAM_CLIENT_SECRET", "s3cret-value"),
                ("TENOR_INGRAM_CUSTOMER_NUMBER", "20-222222"),
                ("TENOR_INGRAM_COUNTRY_CODE", "US"),
                ("TENOR_INGRAM_APPLICATION_ID", "tenor-app"),
            ]),
        )
        .unwrap();
        assert!(c.correlation_id);
        assert_eq!(
            c.headers[0],
            ("IM-CustomerNumber".into(), "20-222222".into())
        );
        assert!(
            c.headers
                .contains(&("IM-ApplicationID".into(), "tenor-app".into())),
            "{:?}",
            c.headers
        );
        let e = from_vars(
            "pax8",
            &vars(&[
                ("TENOR_PAX8_URL", "https://api.example"),
                ("TENOR_PAX8_TOKEN_URL", "https://login.example/token"),
                ("TENOR_PAX8_CLIENT_ID", "id"),
            ]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("TENOR_PAX8_CLIENT_SECRET"), "{e}");
        let e = from_vars("pax8", &vars(&[("TENOR_PAX8_URL", "ftp://x")])).unwrap_err();
        assert!(e.to_string().contains("not an http"), "{e}");
    }
}
