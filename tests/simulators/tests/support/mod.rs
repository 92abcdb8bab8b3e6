//! A blocking client for the tests (ureq 3, as the host uses), one per vendor's auth.

#![allow(dead_code, reason = "each test file uses the helpers it needs")]
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test support: a failed request or a missing field is a failed test"
)]

use std::time::Duration;

use serde_json::Value;
use tenor_simulators::Simulators;

/// An agent that answers every status (no error for 4xx/5xx) and times out after `secs`.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// A status and its JSON body (Null when the body is not JSON).
pub type Answer = (u16, Value);

fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut r = r.expect("request");
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A client holding the base URL and the headers every request carries.
pub struct Client {
    pub base: String,
    pub headers: Vec<(String, String)>,
    pub agent: ureq::Agent,
}

impl Client {
    pub fn new(base: &str, headers: &[(&str, &str)]) -> Self {
        Client {
            base: base.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            agent: agent(Duration::from_secs(10)),
        }
    }

    /// A GET; the query after `?` is encoded here (`conditions=customerPO="X"` as written).
    pub fn get(&self, path: &str) -> Answer {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let mut req = self.agent.get(format!("{}{path}", self.base));
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            req = req.query(k, v);
        }
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        answer(req.call())
    }

    fn with_body(&self, method: &str, path: &str, body: &Value) -> Answer {
        let url = format!("{}{path}", self.base);
        let text = body.to_string();
        let mut req = match method {
            "PUT" => self.agent.put(&url),
            "PATCH" => self.agent.patch(&url),
            _ => self.agent.post(&url),
        };
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        answer(
            req.header("content-type", "application/json")
                .send(text.as_str()),
        )
    }

    pub fn post(&self, path: &str, body: &Value) -> Answer {
        self.with_body("POST", path, body)
    }

    pub fn put(&self, path: &str, body: &Value) -> Answer {
        self.with_body("PUT", path, body)
    }

    pub fn patch(&self, path: &str, body: &Value) -> Answer {
        self.with_body("PATCH", path, body)
    }

    /// A raw POST (for faults: the caller sees the transport error).
    pub fn try_post(&self, path: &str, body: &Value) -> Result<u16, ureq::Error> {
        let mut req = self.agent.post(format!("{}{path}", self.base));
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let mut r = req
            .header("content-type", "application/json")
            .send(body.to_string().as_str())?;
        r.body_mut().read_to_string()?;
        Ok(r.status().as_u16())
    }
}

pub fn form(agent: &ureq::Agent, url: &str, fields: &[(&str, &str)]) -> Answer {
    answer(agent.post(url).send_form(fields.iter().copied()))
}

/// A Pax8 client with a token from `POST /token`.
pub fn pax8(sims: &Simulators) -> Client {
    let c = Client::new(&sims.urls().pax8, &[]);
    let (status, body) = c.post(
        "/token",
        &serde_json::json!({"client_id": "pax8-client", "client_secret": "pax8-secret",
                            "audience": "https://api.pax8.com", "grant_type": "client_credentials"}),
    );
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().expect("token").to_string();
    Client::new(
        &sims.urls().pax8,
        &[("Authorization", &format!("Bearer {token}"))],
    )
}

/// An Ingram client with a token and the `IM-*` headers.
pub fn ingram(sims: &Simulators) -> Client {
    let a = agent(Duration::from_secs(5));
    let url = format!(
        "{}/oauth/oauth20/token?grant_type=client_credentials&client_id=ingram-client&client_secret=ingram-secret",
        sims.urls().ingram
    );
    let (status, body) = answer(a.get(&url).call());
    assert_eq!(status, 200, "{body}");
    let token = format!("Bearer {}", body["access_token"].as_str().expect("token"));
    Client::new(
        &sims.urls().ingram,
        &[
            ("Authorization", &token),
            ("IM-CustomerNumber", "20-222222"),
            ("IM-CountryCode", "US"),
            ("IM-CorrelationID", "corr-0001"),
            ("IM-SenderID", "tenor"),
            ("IM-ApplicationID", "tenor-app"),
        ],
    )
}

/// A TD SYNNEX client with an access token from the refresh token.
pub fn tdsynnex(sims: &Simulators) -> Client {
    let a = agent(Duration::from_secs(5));
    let (status, body) = form(
        &a,
        &format!("{}/oauth/token", sims.urls().tdsynnex),
        &[
            ("grant_type", "refresh_token"),
            ("redirect_uri", "http://localhost/"),
            ("refresh_token", "tdsynnex-refresh"),
        ],
    );
    assert_eq!(status, 200, "{body}");
    let token = format!("Bearer {}", body["access_token"].as_str().expect("token"));
    Client::new(
        &format!("{}/api/v3/accounts/4711", sims.urls().tdsynnex),
        &[("Authorization", &token)],
    )
}

/// `base64("tenormsp+cw-public:cw-private")`.
pub const CW_BASIC: &str = "Basic dGVub3Jtc3ArY3ctcHVibGljOmN3LXByaXZhdGU=";

/// A ConnectWise client with basic auth and the clientId header.
pub fn connectwise(sims: &Simulators) -> Client {
    Client::new(
        &sims.urls().connectwise,
        &[("Authorization", CW_BASIC), ("clientId", "cw-client-id")],
    )
}

/// The message of every ConnectWise / Ingram / Pax8 error body, joined, for `contains` checks.
pub fn messages(body: &Value) -> String {
    let mut out = vec![body["message"].as_str().unwrap_or_default().to_string()];
    for key in ["errors", "details"] {
        for e in body[key].as_array().into_iter().flatten() {
            out.push(e.to_string());
            for f in e["fields"].as_array().into_iter().flatten() {
                out.push(f.to_string());
            }
        }
    }
    out.join(" | ")
}
