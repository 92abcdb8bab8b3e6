//! Replaying a push or pull conversation ([`crate::exchange`]) on the plugin's side. A plugin
//! is stateless: each call gets every exchange so far and must work out where it stands. With
//! a [`Conversation`] it writes the whole conversation as straight-line code (read this, then
//! create that with the id read) and each step either finds its answer among the exchanges
//! already made or yields the request to send next ([`Flow::Send`]).
//!
//! A create interrupted after sending (its exchange has no response, or a 5xx or 429 answer
//! that does not say whether the vendor acted) is never sent again blindly: the conversation
//! asks the lookup first and creates again only when the vendor holds nothing.

use serde_json::Value;

use crate::PluginError;
use crate::exchange::{Effect, Exchange, Method, Request, Response};

/// The most times one create is sent in a conversation (each after a lookup found nothing):
/// more means the vendor keeps losing what it is sent, and a person should look.
pub const MAX_CREATES: usize = 3;

/// The result of one step: its answer, or the request to send to get it.
#[derive(Debug)]
pub enum Flow<T> {
    /// The step's answer, from the exchanges already made.
    Have(T),
    /// Send this next.
    Send(Request),
}

/// Takes a step's answer out of a [`Flow`], or returns the request to send from the enclosing
/// function (as `Ok(step(request))`).
#[macro_export]
macro_rules! step {
    ($flow:expr, $send:expr) => {
        match $flow {
            $crate::conversation::Flow::Have(v) => v,
            $crate::conversation::Flow::Send(r) => return Ok($send(r)),
        }
    };
}

/// What an answer to a create that was refused means.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The vendor already holds it (Ingram's duplicate `customerOrderNumber` guard): look it up.
    AlreadyThere,
    /// A real refusal, with the vendor's message.
    Error(String),
}

/// How a create step reads the vendor's answers.
pub struct Create<'f, T> {
    /// The create request.
    pub request: Request,
    /// The read that finds what an interrupted create may have made.
    pub lookup: Request,
    /// The created thing's id(s) from the create's successful answer.
    pub created: &'f dyn Fn(&Value) -> Result<T, PluginError>,
    /// What the lookup found, if it found it.
    pub found: &'f dyn Fn(&Value) -> Result<Option<T>, PluginError>,
    /// What a refused create means.
    pub refused: &'f dyn Fn(&Response) -> Refused,
}

/// The exchanges of a conversation, consumed step by step in the order the plugin asks.
pub struct Conversation<'a> {
    exchanges: &'a [Exchange],
    at: usize,
}

impl<'a> Conversation<'a> {
    /// A conversation that has made these exchanges, oldest first.
    pub fn new(exchanges: &'a [Exchange]) -> Self {
        Conversation { exchanges, at: 0 }
    }

    /// True when every exchange has been consumed by the steps so far.
    pub fn finished(&self) -> bool {
        self.at >= self.exchanges.len()
    }

    /// Refuses a conversation whose exchanges this plugin's steps did not all ask for.
    pub fn all_consumed(&self) -> Result<(), PluginError> {
        match self.exchanges.get(self.at) {
            None => Ok(()),
            Some(e) => Err(PluginError::Invalid(format!(
                "exchange {} ({}) was not asked for by this plugin: the conversation belongs to another document",
                self.at + 1,
                shown(&e.request)
            ))),
        }
    }

    /// The next exchange when it is the answer to `want`; an error when it is another request.
    fn next_for(&mut self, want: &Request) -> Result<Option<&'a Exchange>, PluginError> {
        let Some(e) = self.exchanges.get(self.at) else {
            return Ok(None);
        };
        let r = &e.request;
        if r.method != want.method || r.path != want.path || r.query != want.query {
            return Err(PluginError::Invalid(format!(
                "exchange {} is {} but this plugin asks {} at that point: the conversation belongs to another document or another plugin version",
                self.at + 1,
                shown(r),
                shown(want)
            )));
        }
        self.at += 1;
        Ok(Some(e))
    }

    /// A read (or an idempotent update, or a create that is harmless to repeat, like an empty
    /// cart): its answer's body, resending it when the answer was lost or, for a create, a 5xx
    /// the host does not retry (at most [`MAX_CREATES`] times); an error for an answer that is
    /// not a success.
    pub fn read(&mut self, request: Request) -> Result<Flow<Value>, PluginError> {
        let mut errors = 0;
        loop {
            match self.next_for(&request)? {
                None => return Ok(Flow::Send(request)),
                Some(Exchange { response: None, .. }) => continue,
                Some(Exchange {
                    response: Some(r), ..
                }) if request.effect == Effect::Create
                    && maybe_made(r)
                    && errors + 1 < MAX_CREATES =>
                {
                    errors += 1;
                }
                Some(Exchange {
                    response: Some(r), ..
                }) if success(r) => return Ok(Flow::Have(r.body.clone())),
                Some(Exchange {
                    response: Some(r), ..
                }) => return Err(failed(&request, r)),
            }
        }
    }

    /// A create: the id(s) it made or the lookup found, creating again only after a lookup
    /// that found nothing (and never after the vendor said it already holds it).
    pub fn create<T>(&mut self, c: &Create<'_, T>) -> Result<Flow<T>, PluginError> {
        let mut looking = false;
        let mut refused_as_duplicate = false;
        let mut creates = 0;
        loop {
            let want = if looking { &c.lookup } else { &c.request };
            let Some(e) = self.next_for(want)? else {
                if !looking && creates >= MAX_CREATES {
                    return Err(PluginError::Invalid(format!(
                        "{} was sent {creates} times and the vendor holds nothing: look at the vendor's side before pushing again",
                        shown(&c.request)
                    )));
                }
                return Ok(Flow::Send(want.clone()));
            };
            if !looking {
                creates += 1;
            }
            match (&e.response, looking) {
                // Lost answer: a lost create may have been made, a lost lookup is asked again.
                (None, _) => looking = true,
                (Some(r), false) if success(r) => return (c.created)(&r.body).map(Flow::Have),
                // A server error (or a rate limit the host stopped retrying) says nothing of
                // whether the vendor acted: as a lost answer, look up before creating again.
                (Some(r), false) if maybe_made(r) => looking = true,
                (Some(r), false) => match (c.refused)(r) {
                    Refused::AlreadyThere => {
                        refused_as_duplicate = true;
                        looking = true;
                    }
                    Refused::Error(m) => {
                        return Err(PluginError::Invalid(format!(
                            "{} was refused ({}): {m}",
                            shown(&c.request),
                            r.status
                        )));
                    }
                },
                (Some(r), true) if success(r) => match (c.found)(&r.body)? {
                    Some(v) => return Ok(Flow::Have(v)),
                    None if refused_as_duplicate => {
                        return Err(PluginError::Invalid(format!(
                            "the vendor refused {} as a duplicate but {} finds nothing: look at the vendor's side before pushing again",
                            shown(&c.request),
                            shown(&c.lookup)
                        )));
                    }
                    None => looking = false,
                },
                (Some(r), true) => return Err(failed(&c.lookup, r)),
            }
        }
    }
}

/// True for an answer after which a create may or may not have been made: 5xx, 429.
fn maybe_made(r: &Response) -> bool {
    r.status >= 500 || r.status == 429
}

/// True for a 2xx status.
pub fn success(r: &Response) -> bool {
    (200..300).contains(&r.status)
}

/// The vendor's own words from an error body: `message`, `errors[].message`, or the text.
pub fn vendor_message(body: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = body.get("message").and_then(Value::as_str) {
        parts.push(m.to_string());
    }
    if let Some(errors) = body.get("errors").and_then(Value::as_array) {
        for e in errors {
            match e.get("message").and_then(Value::as_str) {
                Some(m) => parts.push(m.to_string()),
                None => parts.push(e.to_string()),
            }
        }
    }
    if parts.is_empty() {
        return match body {
            Value::String(s) => s.clone(),
            Value::Null => "no body".into(),
            other => other.to_string(),
        };
    }
    parts.join("; ")
}

fn failed(request: &Request, r: &Response) -> PluginError {
    PluginError::Invalid(format!(
        "{} answered {}: {}",
        shown(request),
        r.status,
        vendor_message(&r.body)
    ))
}

/// `GET /path?a=b`, for messages.
pub fn shown(r: &Request) -> String {
    let method = match r.method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
    };
    let query: Vec<String> = r.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if query.is_empty() {
        format!("`{method} {}`", r.path)
    } else {
        format!("`{method} {}?{}`", r.path, query.join("&"))
    }
}

/// A request without body or headers.
pub fn request(
    method: Method,
    path: impl Into<String>,
    effect: Effect,
    purpose: impl Into<String>,
) -> Request {
    Request {
        method,
        path: path.into(),
        query: Vec::new(),
        headers: Vec::new(),
        body: None,
        effect,
        purpose: purpose.into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use super::*;
    use serde_json::json;

    fn get(path: &str) -> Request {
        request(Method::Get, path, Effect::Read, "read")
    }

    fn post(path: &str) -> Request {
        let mut r = request(Method::Post, path, Effect::Create, "create");
        r.body = Some(json!({"a": 1}));
        r
    }

    fn answered(r: Request, status: u16, body: Value) -> Exchange {
        Exchange {
            request: r,
            response: Some(Response {
                status,
                headers: Vec::new(),
                body,
            }),
        }
    }

    fn lost(r: Request) -> Exchange {
        Exchange {
            request: r,
            response: None,
        }
    }

    fn id(v: &Value) -> Result<u64, PluginError> {
        v.get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| PluginError::Invalid("no id".into()))
    }

    fn first(v: &Value) -> Result<Option<u64>, PluginError> {
        Ok(v.as_array()
            .and_then(|a| a.first())
            .and_then(|x| x.get("id"))
            .and_then(Value::as_u64))
    }

    fn never(_: &Response) -> Refused {
        Refused::Error("no".into())
    }

    fn dup(_: &Response) -> Refused {
        Refused::AlreadyThere
    }

    fn run(
        exchanges: &[Exchange],
        refused: &dyn Fn(&Response) -> Refused,
    ) -> Result<Flow<u64>, PluginError> {
        let c = Create {
            request: post("/x"),
            lookup: get("/x/search"),
            created: &id,
            found: &first,
            refused,
        };
        Conversation::new(exchanges).create(&c)
    }

    #[test]
    fn a_fresh_create_is_sent_then_read() {
        assert!(matches!(run(&[], &never).unwrap(), Flow::Send(r) if r.path == "/x"));
        let done = run(&[answered(post("/x"), 201, json!({"id": 7}))], &never).unwrap();
        assert!(matches!(done, Flow::Have(7)));
    }

    #[test]
    fn an_interrupted_create_looks_up_before_creating_again() {
        let e = [lost(post("/x"))];
        assert!(matches!(run(&e, &never).unwrap(), Flow::Send(r) if r.path == "/x/search"));
        let found = [
            lost(post("/x")),
            answered(get("/x/search"), 200, json!([{"id": 9}])),
        ];
        assert!(matches!(run(&found, &never).unwrap(), Flow::Have(9)));
        let none = [lost(post("/x")), answered(get("/x/search"), 200, json!([]))];
        assert!(matches!(run(&none, &never).unwrap(), Flow::Send(r) if r.path == "/x"));
        // A lost lookup is asked again, never the create.
        let again = [lost(post("/x")), lost(get("/x/search"))];
        assert!(matches!(run(&again, &never).unwrap(), Flow::Send(r) if r.path == "/x/search"));
    }

    #[test]
    fn a_server_error_on_a_create_looks_up_before_creating_again() {
        for status in [500, 502, 503, 429] {
            let e = [answered(post("/x"), status, json!({"message": "later"}))];
            assert!(
                matches!(run(&e, &never).unwrap(), Flow::Send(r) if r.path == "/x/search"),
                "{status}"
            );
            // The vendor had made it after all: found, never created twice.
            let made = [
                answered(post("/x"), status, json!({})),
                answered(get("/x/search"), 200, json!([{"id": 4}])),
            ];
            assert!(matches!(run(&made, &never).unwrap(), Flow::Have(4)));
        }
        // A 4xx refusal is the vendor's word: an error, no lookup.
        let e = [answered(post("/x"), 422, json!({"message": "bad"}))];
        assert!(run(&e, &never).is_err());
    }

    #[test]
    fn a_repeatable_create_answered_500_is_sent_again_a_few_times() {
        let failed = || answered(post("/x"), 500, json!({}));
        let mut c = Conversation::new(&[]);
        assert!(matches!(c.read(post("/x")).unwrap(), Flow::Send(_)));
        let once = [failed()];
        assert!(matches!(
            Conversation::new(&once).read(post("/x")).unwrap(),
            Flow::Send(_)
        ));
        let then_ok = [failed(), answered(post("/x"), 201, json!({"id": 3}))];
        assert!(matches!(
            Conversation::new(&then_ok).read(post("/x")).unwrap(),
            Flow::Have(v) if v["id"] == 3
        ));
        let many = [failed(), failed(), failed()];
        assert!(Conversation::new(&many).read(post("/x")).is_err());
        // A read answered 500 is the host's to retry: an error here.
        let read = [answered(get("/a"), 500, json!({}))];
        assert!(Conversation::new(&read).read(get("/a")).is_err());
    }

    #[test]
    fn a_duplicate_refusal_is_read_back_and_never_created_again() {
        let e = [answered(
            post("/x"),
            400,
            json!({"errors": [{"message": "duplicate"}]}),
        )];
        assert!(matches!(run(&e, &dup).unwrap(), Flow::Send(r) if r.path == "/x/search"));
        let none = [e[0].clone(), answered(get("/x/search"), 200, json!([]))];
        let m = run(&none, &dup).unwrap_err().to_string();
        assert!(
            m.contains("refused `POST /x` as a duplicate but `GET /x/search` finds nothing"),
            "{m}"
        );
        let m = run(&e, &never).unwrap_err().to_string();
        assert_eq!(m, "`POST /x` was refused (400): no");
    }

    #[test]
    fn creates_stop_after_three_that_came_to_nothing() {
        let round = [lost(post("/x")), answered(get("/x/search"), 200, json!([]))];
        let e: Vec<Exchange> = round.iter().cycle().take(6).cloned().collect();
        let m = run(&e, &never).unwrap_err().to_string();
        assert!(m.contains("sent 3 times"), "{m}");
    }

    #[test]
    fn an_exchange_the_plugin_did_not_ask_for_is_refused() {
        let m = run(&[answered(get("/other"), 200, json!({}))], &never)
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("exchange 1 is `GET /other` but this plugin asks `POST /x`"),
            "{m}"
        );
        let mut c = Conversation::new(&[]);
        assert!(matches!(c.read(get("/a")).unwrap(), Flow::Send(_)));
        let e = [answered(get("/a"), 500, json!({"message": "boom"}))];
        let m = Conversation::new(&e)
            .read(get("/a"))
            .unwrap_err()
            .to_string();
        assert_eq!(m, "`GET /a` answered 500: boom");
    }
}
