//! ConnectWise Manage (PSA): basic auth `company+public:private` plus a `clientId` header;
//! companies, contacts, billing cycles, agreements and their additions, sales orders,
//! procurement products (with serial numbers) and invoices. Field lists and required fields
//! from `ai-connor/connectwise` (`model_agreement.go`, `model_addition.go`, `model_order.go`,
//! `model_product_item.go`, `model_invoice.go`); enums from
//! `spinen/connectwise-finance-php-client`.

#![allow(
    clippy::indexing_slicing,
    reason = "indexing a serde_json::Value reads Null for a missing key or a non-container; it never panics"
)]
#![allow(
    clippy::result_large_err,
    reason = "the error is the HTTP response a handler answers with at once; it is never stored"
)]

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::common::{
    App, Problems, array_field, at, bool_field, cents, date_field, enum_field, header, lock,
    month_end, num, number_field, object_field, parse_date, parse_object, string_field,
};
use crate::state::SimState;

mod fields;
use fields::{ADDITION_FIELDS, AGREEMENT_FIELDS, ORDER_FIELDS, PRODUCT_ITEM_FIELDS};

const BILLABLE: &[&str] = &["Billable", "DoNotBill", "NoCharge"];
const BILLABLE_OPTION: &[&str] = &["Billable", "DoNotBill", "NoCharge", "NoDefault"];
const INVOICING_CYCLE: &[&str] = &["CalendarYear", "ContractYear"];
const BILL_TIME: &[&str] = &["Billable", "DoNotBill", "NoCharge", "NoDefault"];

/// The ConnectWise router.
pub fn router() -> Router<App> {
    Router::new()
        .route("/company/companies", get(companies))
        .route("/company/companies/{id}", get(company))
        .route("/company/contacts", get(contacts))
        .route("/finance/billingCycles", get(billing_cycles))
        .route(
            "/finance/agreements",
            get(agreements).post(create_agreement),
        )
        .route("/finance/agreements/{id}", get(agreement))
        .route(
            "/finance/agreements/{id}/additions",
            get(additions).post(create_addition),
        )
        .route(
            "/finance/agreements/{id}/additions/{aid}",
            get(addition).patch(patch_addition),
        )
        .route("/sales/orders", get(sales_orders).post(create_sales_order))
        .route("/sales/orders/{id}", get(sales_order))
        .route("/procurement/products", get(products).post(create_product))
        .route(
            "/procurement/products/{id}",
            get(product).patch(patch_product),
        )
        .route("/finance/invoices", get(invoices))
        .route("/finance/invoices/{id}", get(invoice))
}

/// ConnectWise's error body: `{code, message, errors[{code, message, resource, field}]}`.
fn error(status: StatusCode, resource: &str, problems: &Problems) -> Response {
    let errors: Vec<Value> = problems
        .0
        .iter()
        .map(|p| {
            let code = if p.message.ends_with("is required") {
                "NullOrMissingField"
            } else {
                "InvalidField"
            };
            json!({"code": code, "message": p.message, "resource": resource, "field": p.field})
        })
        .collect();
    let code = if status == StatusCode::NOT_FOUND {
        "NotFound"
    } else if status == StatusCode::UNAUTHORIZED {
        "Unauthorized"
    } else {
        "InvalidObject"
    };
    let message = if status == StatusCode::BAD_REQUEST {
        format!("{resource} object is invalid")
    } else {
        problems.first_message()
    };
    crate::common::json(
        status,
        json!({"code": code, "message": message, "errors": errors}),
    )
}

fn fail(status: StatusCode, resource: &str, field: &str, message: &str) -> Response {
    let mut p = Problems::default();
    p.add(field, message);
    error(status, resource, &p)
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.trim_end_matches('=').bytes() {
        let v = alphabet.iter().position(|&a| a == c)?;
        buf = (buf << 6) | u32::try_from(v).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buf >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// Basic auth `company+public:private` and the `clientId` header.
fn check(app: &App, headers: &HeaderMap) -> Result<(), Response> {
    let creds = lock(&app.world).credentials.clone();
    let expected = format!(
        "{}+{}:{}",
        creds.connectwise_company, creds.connectwise_public_key, creds.connectwise_private_key
    );
    let given = header(headers, "authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(decode_base64)
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    if given.as_deref() != Some(expected.as_str()) {
        return Err(fail(
            StatusCode::UNAUTHORIZED,
            "auth",
            "Authorization",
            "basic authentication company+publicKey:privateKey is required",
        ));
    }
    if header(headers, "clientId") != Some(creds.connectwise_client_id.as_str()) {
        return Err(fail(
            StatusCode::UNAUTHORIZED,
            "auth",
            "clientId",
            "a valid clientId header is required",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------- conditions

/// One `field op value` of a `conditions=` query.
struct Cond {
    path: String,
    op: String,
    value: CondValue,
}

enum CondValue {
    Text(String),
    Number(Decimal),
    Date(String),
    Bool(bool),
    Null,
}

/// Parses `a/b = "x" and c >= [2027-01-01] and d = 5`.
fn parse_conditions(s: &str) -> Result<Vec<Cond>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let skip = |i: &mut usize| {
        while chars.get(*i).is_some_and(|c| c.is_whitespace()) {
            *i += 1;
        }
    };
    loop {
        skip(&mut i);
        let start = i;
        while chars
            .get(i)
            .is_some_and(|c| c.is_alphanumeric() || *c == '/' || *c == '_')
        {
            i += 1;
        }
        let path: String = chars.get(start..i).unwrap_or_default().iter().collect();
        if path.is_empty() {
            return Err(format!("conditions: expected a field at character {start}"));
        }
        skip(&mut i);
        let ops = ["!=", ">=", "<=", "=", ">", "<"];
        let op = ops
            .iter()
            .find(|op| {
                op.chars()
                    .enumerate()
                    .all(|(k, c)| chars.get(i + k) == Some(&c))
            })
            .ok_or_else(|| format!("conditions: expected an operator after {path}"))?;
        i += op.len();
        skip(&mut i);
        let value = parse_value(&chars, &mut i)?;
        out.push(Cond {
            path,
            op: (*op).to_string(),
            value,
        });
        skip(&mut i);
        if i >= chars.len() {
            return Ok(out);
        }
        let word: String = chars.get(i..i + 3).unwrap_or_default().iter().collect();
        if !word.eq_ignore_ascii_case("and") {
            return Err(format!(
                "conditions: expected 'and' at character {i} (only 'and' is simulated)"
            ));
        }
        i += 3;
    }
}

/// One value: `"text"` (with `\\` escapes), `[date]`, `true`, `false`, `null` or a number.
fn parse_value(chars: &[char], i: &mut usize) -> Result<CondValue, String> {
    let value = match chars.get(*i) {
        Some('"') => {
            let mut text = String::new();
            *i += 1;
            loop {
                match chars.get(*i) {
                    None => return Err("conditions: unterminated string".into()),
                    Some('\\') => {
                        text.extend(chars.get(*i + 1));
                        *i += 2;
                    }
                    Some('"') => {
                        *i += 1;
                        break;
                    }
                    Some(c) => {
                        text.push(*c);
                        *i += 1;
                    }
                }
            }
            CondValue::Text(text)
        }
        Some('[') => {
            let end = (*i..chars.len())
                .find(|&k| chars.get(k) == Some(&']'))
                .ok_or("conditions: unterminated date")?;
            let text: String = chars.get(*i + 1..end).unwrap_or_default().iter().collect();
            *i = end + 1;
            CondValue::Date(text)
        }
        _ => {
            let start = *i;
            while chars.get(*i).is_some_and(|c| !c.is_whitespace()) {
                *i += 1;
            }
            let word: String = chars.get(start..*i).unwrap_or_default().iter().collect();
            match word.as_str() {
                "true" => CondValue::Bool(true),
                "false" => CondValue::Bool(false),
                "null" => CondValue::Null,
                w => CondValue::Number(
                    w.parse()
                        .map_err(|_| format!("conditions: {w:?} is not a value (quote strings)"))?,
                ),
            }
        }
    };
    Ok(value)
}

fn lookup<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('/')
        .fold(v, |v, k| v.get(k).unwrap_or(&Value::Null))
}

fn cond_holds(entity: &Value, c: &Cond) -> bool {
    use std::cmp::Ordering;
    let v = lookup(entity, &c.path);
    let ord: Option<Ordering> = match &c.value {
        CondValue::Text(t) => v.as_str().map(|s| s.to_lowercase().cmp(&t.to_lowercase())),
        CondValue::Number(n) => v
            .as_number()
            .and_then(crate::common::decimal_of)
            .map(|d| d.cmp(n)),
        CondValue::Date(d) => v
            .as_str()
            .map(|s| s.get(..10).unwrap_or(s).cmp(d.get(..10).unwrap_or(d))),
        CondValue::Bool(b) => v.as_bool().map(|x| x.cmp(b)),
        CondValue::Null => Some(if v.is_null() {
            Ordering::Equal
        } else {
            Ordering::Greater
        }),
    };
    match (c.op.as_str(), ord) {
        ("=", Some(o)) => o == Ordering::Equal,
        ("!=", Some(o)) => o != Ordering::Equal,
        ("!=", None) => true,
        (">", Some(o)) => o == Ordering::Greater,
        ("<", Some(o)) => o == Ordering::Less,
        (">=", Some(o)) => o != Ordering::Less,
        ("<=", Some(o)) => o != Ordering::Greater,
        _ => false,
    }
}

/// A list answer: `conditions=` filtered, `page` (from 1) and `pageSize` (≤1000) applied.
fn list(items: Vec<Value>, q: &HashMap<String, String>, resource: &str) -> Response {
    let conds = match q.get("conditions").map(|c| parse_conditions(c)).transpose() {
        Ok(c) => c.unwrap_or_default(),
        Err(e) => return fail(StatusCode::BAD_REQUEST, resource, "conditions", &e),
    };
    let mut p = Problems::default();
    let page = crate::common::query_number(q, "page", 1, usize::MAX, &mut p).max(1);
    let size = crate::common::query_number(q, "pageSize", 25, 1000, &mut p);
    if !p.is_empty() {
        return error(StatusCode::BAD_REQUEST, resource, &p);
    }
    let found: Vec<Value> = items
        .into_iter()
        .filter(|e| conds.iter().all(|c| cond_holds(e, c)))
        .collect();
    crate::common::json(
        StatusCode::OK,
        Value::Array(crate::common::page_of(&found, page - 1, size)),
    )
}

// ---------------------------------------------------------------- references

fn company_ref(w: &SimState, id: i64) -> Value {
    w.connectwise.companies.iter().find(|c| c.id == id).map_or(
        Value::Null,
        |c| json!({"id": c.id, "identifier": c.identifier, "name": c.name}),
    )
}

/// Resolves a reference `{id|identifier|name}` against `(id, identifier, name)` candidates:
/// every key given must match the same entry.
fn resolve_ref(
    obj: &Map<String, Value>,
    key: &str,
    keys: &[&str],
    required: bool,
    candidates: &[(i64, String, String)],
    p: &mut Problems,
) -> Option<i64> {
    let r = object_field(obj, "", key, required, p)?;
    let given: Vec<(&str, &Value)> = keys
        .iter()
        .filter_map(|k| r.get(*k).map(|v| (*k, v)))
        .collect();
    if given.is_empty() {
        p.add(key, format!("{key} needs one of {}", keys.join("|")));
        return None;
    }
    if let Some(v) = r.get("id")
        && !v.is_i64()
    {
        p.add(
            at(key, "id"),
            format!(
                "{key}.id must be an integer, got {}",
                crate::common::kind(v)
            ),
        );
        return None;
    }
    let hit = candidates.iter().find(|(id, ident, name)| {
        given.iter().all(|(k, v)| match *k {
            "id" => v.as_i64() == Some(*id),
            "identifier" => v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(ident)),
            _ => v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(name)),
        })
    });
    match hit {
        Some((id, _, _)) => Some(*id),
        None => {
            p.add(
                key,
                format!("{key} {} does not exist", Value::Object(r.clone())),
            );
            None
        }
    }
}

fn unknown_fields(obj: &Map<String, Value>, known: &[&str], p: &mut Problems) {
    for k in obj.keys() {
        if !known.contains(&k.as_str()) {
            p.add(k, format!("{k} is not a field of this object"));
        }
    }
}

fn companies_of(w: &SimState) -> Vec<(i64, String, String)> {
    w.connectwise
        .companies
        .iter()
        .map(|c| (c.id, c.identifier.clone(), c.name.clone()))
        .collect()
}

fn named(list: &[crate::state::CwNamed]) -> Vec<(i64, String, String)> {
    list.iter()
        .map(|n| (n.id, n.name.clone(), n.name.clone()))
        .collect()
}

fn by_id(list: &[Value], id: i64) -> Option<&Value> {
    list.iter().find(|v| v["id"] == id)
}

/// A read of one thing: auth checked, then `pick` answers (none: 404 with `missing`).
fn read_one(
    app: &App,
    headers: &HeaderMap,
    resource: &str,
    missing: &str,
    pick: impl FnOnce(&SimState) -> Option<Value>,
) -> Response {
    if let Err(r) = check(app, headers) {
        return r;
    }
    let found = pick(&lock(&app.world));
    match found {
        Some(v) => crate::common::json(StatusCode::OK, v),
        None => fail(StatusCode::NOT_FOUND, resource, "id", missing),
    }
}

/// A read of a list: auth checked, then `pick` lists, filtered and paged by [`list`].
fn read_list(
    app: &App,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    resource: &str,
    pick: impl FnOnce(&SimState) -> Vec<Value>,
) -> Response {
    if let Err(r) = check(app, headers) {
        return r;
    }
    let items = pick(&lock(&app.world));
    list(items, q, resource)
}

// ---------------------------------------------------------------- reads

async fn companies(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check(&app, &headers) {
        return r;
    }
    let items: Vec<Value> = {
        let w = lock(&app.world);
        w.connectwise
            .companies
            .iter()
            .map(|c| {
                let contact = c.default_contact_id.and_then(|id| w.connectwise.contacts.iter().find(|x| x.id == id));
                json!({"id": c.id, "identifier": c.identifier, "name": c.name,
                       "status": {"id": 1, "name": "Active"},
                       "defaultContact": contact.map(|x| json!({"id": x.id, "name": format!("{} {}", x.first_name, x.last_name)}))})
            })
            .collect()
    };
    list(items, &q, "company")
}

async fn company(State(app): State<App>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    if let Err(r) = check(&app, &headers) {
        return r;
    }
    let w = lock(&app.world);
    match company_ref(&w, id) {
        Value::Null => fail(
            StatusCode::NOT_FOUND,
            "company",
            "id",
            &format!("company {id} not found"),
        ),
        c => crate::common::json(StatusCode::OK, c),
    }
}

async fn contacts(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check(&app, &headers) {
        return r;
    }
    let items: Vec<Value> = {
        let w = lock(&app.world);
        w.connectwise
            .contacts
            .iter()
            .map(|c| {
                let default = w
                    .connectwise
                    .companies
                    .iter()
                    .any(|co| co.default_contact_id == Some(c.id));
                json!({"id": c.id, "firstName": c.first_name, "lastName": c.last_name,
                       "company": company_ref(&w, c.company_id), "defaultFlag": default})
            })
            .collect()
    };
    list(items, &q, "contact")
}

async fn billing_cycles(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    read_list(&app, &headers, &q, "billingCycle", |w| {
        w.connectwise
            .billing_cycles
            .iter()
            .filter_map(|b| serde_json::to_value(b).ok())
            .collect()
    })
}

// ---------------------------------------------------------------- agreements

/// Checks an agreement body; returns it with its references resolved.
fn check_agreement(w: &SimState, obj: &Map<String, Value>, p: &mut Problems) -> Map<String, Value> {
    unknown_fields(obj, AGREEMENT_FIELDS, p);
    let mut out = obj.clone();
    string_field(obj, "", "name", true, Some(100), p);
    if let Some(t) = resolve_ref(
        obj,
        "type",
        &["id", "name"],
        true,
        &named(&w.connectwise.agreement_types),
        p,
    ) {
        out.insert("type".into(), by_named(&w.connectwise.agreement_types, t));
    }
    let company = resolve_ref(
        obj,
        "company",
        &["id", "identifier", "name"],
        true,
        &companies_of(w),
        p,
    );
    if let Some(c) = company {
        out.insert("company".into(), company_ref(w, c));
    }
    check_contact(w, obj, company, &mut out, p);
    check_agreement_scalars(obj, p);
    if obj.contains_key("billingCycle")
        && let Some(b) = resolve_ref(
            obj,
            "billingCycle",
            &["id", "name"],
            false,
            &named(&w.connectwise.billing_cycles),
            p,
        )
    {
        out.insert(
            "billingCycle".into(),
            by_named(&w.connectwise.billing_cycles, b),
        );
    }
    if let Some(t) = object_field(obj, "", "billingTerms", false, p)
        && !t.get("id").is_some_and(Value::is_i64)
    {
        p.add("billingTerms.id", "billingTerms.id must be an integer");
    }
    if obj.contains_key("parentAgreement") {
        let parents: Vec<(i64, String, String)> = w
            .connectwise
            .agreements
            .iter()
            .filter_map(|a| {
                a["id"].as_i64().map(|id| {
                    (
                        id,
                        String::new(),
                        a["name"].as_str().unwrap_or_default().to_string(),
                    )
                })
            })
            .collect();
        resolve_ref(obj, "parentAgreement", &["id"], false, &parents, p);
    }
    out
}

/// The agreement's contact must exist and belong to its company.
fn check_contact(
    w: &SimState,
    obj: &Map<String, Value>,
    company: Option<i64>,
    out: &mut Map<String, Value>,
    p: &mut Problems,
) {
    let contacts: Vec<(i64, String, String)> = w
        .connectwise
        .contacts
        .iter()
        .map(|c| {
            (
                c.id,
                String::new(),
                format!("{} {}", c.first_name, c.last_name)
                    .trim()
                    .to_string(),
            )
        })
        .collect();
    if let Some(ct) = resolve_ref(obj, "contact", &["id", "name"], true, &contacts, p) {
        let contact = w.connectwise.contacts.iter().find(|c| c.id == ct);
        match (contact, company) {
            (Some(x), Some(c)) if x.company_id != c => {
                p.add(
                    "contact",
                    format!("contact {ct} does not belong to company {c}"),
                );
            }
            (Some(x), _) => {
                out.insert(
                    "contact".into(),
                    json!({"id": x.id, "name": format!("{} {}", x.first_name, x.last_name).trim()}),
                );
            }
            _ => {}
        }
    }
}

/// The agreement's plain fields: lengths, dates, flags, enums, numbers.
fn check_agreement_scalars(obj: &Map<String, Value>, p: &mut Problems) {
    string_field(obj, "", "customerPO", false, Some(50), p);
    date_field(obj, "", "startDate", false, p);
    date_field(obj, "", "endDate", false, p);
    date_field(obj, "", "billStartDate", false, p);
    for flag in [
        "noEndingDateFlag",
        "prorateFlag",
        "invoiceProratedAdditionsFlag",
        "cancelledFlag",
        "taxable",
        "oneTimeFlag",
    ] {
        bool_field(obj, "", flag, p);
    }
    enum_field(obj, "", "invoicingCycle", false, INVOICING_CYCLE, p);
    for key in ["billTime", "billExpenses", "billProducts"] {
        enum_field(obj, "", key, false, BILL_TIME, p);
    }
    number_field(obj, "", "billAmount", false, p);
    string_field(obj, "", "invoiceDescription", false, Some(4000), p);
    if let Some(c) = object_field(obj, "", "currency", false, p)
        && !c.get("id").is_some_and(Value::is_i64)
    {
        p.add("currency.id", "currency.id must be an integer");
    }
}

fn by_named(list: &[crate::state::CwNamed], id: i64) -> Value {
    list.iter()
        .find(|n| n.id == id)
        .map_or(Value::Null, |n| json!({"id": n.id, "name": n.name}))
}

async fn create_agreement(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check(&app, &headers) {
        return r;
    }
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(e) => return fail(StatusCode::BAD_REQUEST, "agreement", "body", &e),
    };
    let mut w = lock(&app.world);
    let mut p = Problems::default();
    let mut out = check_agreement(&w, &obj, &mut p);
    if !p.is_empty() {
        return error(StatusCode::BAD_REQUEST, "agreement", &p);
    }
    let id = i64::try_from(100 + w.bump()).unwrap_or_default();
    out.insert("id".into(), Value::from(id));
    out.insert("agreementStatus".into(), Value::from("Active"));
    let v = Value::Object(out);
    w.connectwise.agreements.push(v.clone());
    crate::common::json(StatusCode::CREATED, v)
}

async fn agreements(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    read_list(&app, &headers, &q, "agreement", |w| {
        w.connectwise.agreements.clone()
    })
}

async fn agreement(State(app): State<App>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    read_one(
        &app,
        &headers,
        "agreement",
        &format!("agreement {id} not found"),
        |w| by_id(&w.connectwise.agreements, id).cloned(),
    )
}

// ---------------------------------------------------------------- additions

/// The read-only figures of an addition: `billedQuantity`, `extPrice`, `extCost`, `margin`.
fn with_figures(a: &Value) -> Value {
    let mut a = a.clone();
    let d = |k: &str| {
        a.get(k)
            .and_then(Value::as_number)
            .and_then(crate::common::decimal_of)
            .unwrap_or_default()
    };
    let billed = (d("quantity") - d("lessIncluded")).max(Decimal::ZERO);
    let ext_price = cents(billed * d("unitPrice"));
    let ext_cost = cents(billed * d("unitCost"));
    if let Some(o) = a.as_object_mut() {
        o.insert("billedQuantity".into(), num(billed));
        o.insert("extPrice".into(), num(ext_price));
        o.insert("extCost".into(), num(ext_cost));
        o.insert("margin".into(), num(ext_price - ext_cost));
    }
    a
}

const READ_ONLY: &[&str] = &[
    "id",
    "agreementId",
    "billedQuantity",
    "extPrice",
    "extCost",
    "margin",
    "prorateCost",
    "proratePrice",
    "extendedProrateCost",
    "extendedProratePrice",
    "agreementStatus",
    "_info",
];

fn check_addition(w: &SimState, obj: &Map<String, Value>, p: &mut Problems) -> Map<String, Value> {
    unknown_fields(obj, ADDITION_FIELDS, p);
    let mut out = obj.clone();
    let items: Vec<(i64, String, String)> = w
        .connectwise
        .catalog_items
        .iter()
        .map(|c| (c.id, c.identifier.clone(), c.description.clone()))
        .collect();
    if let Some(id) = resolve_ref(obj, "product", &["id", "identifier"], true, &items, p)
        && let Some(c) = w.connectwise.catalog_items.iter().find(|c| c.id == id)
    {
        out.insert(
            "product".into(),
            json!({"id": c.id, "identifier": c.identifier, "description": c.description}),
        );
    }
    enum_field(obj, "", "billCustomer", true, BILLABLE, p);
    for key in ["quantity", "lessIncluded", "unitPrice", "unitCost"] {
        number_field(obj, "", key, false, p);
    }
    date_field(obj, "", "effectiveDate", false, p);
    date_field(obj, "", "cancelledDate", false, p);
    bool_field(obj, "", "prorateCurrentPeriodFlag", p);
    bool_field(obj, "", "taxableFlag", p);
    string_field(obj, "", "invoiceDescription", false, Some(6000), p);
    string_field(obj, "", "description", false, None, p);
    string_field(obj, "", "serialNumber", false, None, p);
    for k in READ_ONLY {
        out.remove(*k);
    }
    out
}

fn agreement_exists(w: &SimState, id: i64) -> Result<(), Response> {
    if by_id(&w.connectwise.agreements, id).is_some() {
        Ok(())
    } else {
        Err(fail(
            StatusCode::NOT_FOUND,
            "agreement",
            "id",
            &format!("agreement {id} not found"),
        ))
    }
}

async fn create_addition(
    State(app): State<App>,
    headers: HeaderMap,
    Path(agreement): Path<i64>,
    body: Bytes,
) -> Response {
    if let Err(r) = check(&app, &headers) {
        return r;
    }
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(e) => return fail(StatusCode::BAD_REQUEST, "addition", "body", &e),
    };
    let mut w = lock(&app.world);
    if let Err(r) = agreement_exists(&w, agreement) {
        return r;
    }
    let mut p = Problems::default();
    let mut out = check_addition(&w, &obj, &mut p);
    if !p.is_empty() {
        return error(StatusCode::BAD_REQUEST, "addition", &p);
    }
    let id = i64::try_from(5000 + w.bump()).unwrap_or_default();
    out.insert("id".into(), Value::from(id));
    out.insert("agreementId".into(), Value::from(agreement));
    let v = Value::Object(out);
    w.connectwise.additions.push(v.clone());
    crate::common::json(StatusCode::CREATED, with_figures(&v))
}

async fn additions(
    State(app): State<App>,
    headers: HeaderMap,
    Path(agreement): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check(&app, &headers) {
        return r;
    }
    let items: Vec<Value> = {
        let w = lock(&app.world);
        if let Err(r) = agreement_exists(&w, agreement) {
            return r;
        }
        w.connectwise
            .additions
            .iter()
            .filter(|a| a["agreementId"] == agreement)
            .map(with_figures)
            .collect()
    };
    list(items, &q, "addition")
}

async fn addition(
    State(app): State<App>,
    headers: HeaderMap,
    Path((agreement, id)): Path<(i64, i64)>,
) -> Response {
    if let Err(r) = check(&app, &headers) {
        return r;
    }
    let w = lock(&app.world);
    match w
        .connectwise
        .additions
        .iter()
        .find(|a| a["id"] == id && a["agreementId"] == agreement)
    {
        Some(a) => crate::common::json(StatusCode::OK, with_figures(a)),
        None => fail(
            StatusCode::NOT_FOUND,
            "addition",
            "id",
            &format!("addition {id} not found on agreement {agreement}"),
        ),
    }
}

/// Applies a JSON Patch (`[{op: replace|add, path, value}]`) to a stored object's fields.
fn apply_patch(
    stored: &Value,
    body: &[u8],
    known: &[&str],
    p: &mut Problems,
) -> Map<String, Value> {
    let mut obj = stored.as_object().cloned().unwrap_or_default();
    for k in READ_ONLY {
        obj.remove(*k);
    }
    let ops = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(ops)) => ops,
        _ => {
            p.add(
                "body",
                "a PATCH body is a JSON Patch array [{op, path, value}]",
            );
            return obj;
        }
    };
    for (i, op) in ops.iter().enumerate() {
        let field = format!("[{i}]");
        let Some(o) = op.as_object() else {
            p.add(
                &field,
                format!("{field} must be an object {{op, path, value}}"),
            );
            continue;
        };
        let kind = enum_field(o, &field, "op", true, &["replace", "add", "remove"], p);
        let path = string_field(o, &field, "path", true, None, p)
            .map(|s| s.trim_start_matches('/').to_string());
        let (Some(kind), Some(path)) = (kind, path) else {
            continue;
        };
        if READ_ONLY.contains(&path.as_str()) || !known.contains(&path.as_str()) {
            p.add(&path, format!("{path} cannot be patched"));
            continue;
        }
        if kind == "remove" {
            obj.remove(&path);
        } else {
            obj.insert(path, o.get("value").cloned().unwrap_or(Value::Null));
        }
    }
    obj
}

async fn patch_addition(
    State(app): State<App>,
    headers: HeaderMap,
    Path((agreement, id)): Path<(i64, i64)>,
    body: Bytes,
) -> Response {
    if let Err(r) = check(&app, &headers) {
        return r;
    }
    let mut w = lock(&app.world);
    let Some(pos) = w
        .connectwise
        .additions
        .iter()
        .position(|a| a["id"] == id && a["agreementId"] == agreement)
    else {
        return fail(
            StatusCode::NOT_FOUND,
            "addition",
            "id",
            &format!("addition {id} not found on agreement {agreement}"),
        );
    };
    let stored = w
        .connectwise
        .additions
        .get(pos)
        .cloned()
        .unwrap_or_default();
    let mut p = Problems::default();
    let merged = apply_patch(&stored, &body, ADDITION_FIELDS, &mut p);
    let mut out = if p.is_empty() {
        check_addition(&w, &merged, &mut p)
    } else {
        merged
    };
    if !p.is_empty() {
        return error(StatusCode::BAD_REQUEST, "addition", &p);
    }
    out.insert("id".into(), Value::from(id));
    out.insert("agreementId".into(), Value::from(agreement));
    let v = Value::Object(out);
    if let Some(slot) = w.connectwise.additions.get_mut(pos) {
        *slot = v.clone();
    }
    crate::common::json(StatusCode::OK, with_figures(&v))
}

// ---------------------------------------------------------------- sales orders

fn check_sales_order(
    w: &SimState,
    obj: &Map<String, Value>,
    p: &mut Problems,
) -> Map<String, Value> {
    unknown_fields(obj, ORDER_FIELDS, p);
    let mut out = obj.clone();
    let companies = companies_of(w);
    if let Some(c) = resolve_ref(
        obj,
        "company",
        &["id", "identifier", "name"],
        true,
        &companies,
        p,
    ) {
        out.insert("company".into(), company_ref(w, c));
    }
    if let Some(s) = resolve_ref(
        obj,
        "status",
        &["id", "name"],
        true,
        &named(&w.connectwise.order_statuses),
        p,
    ) {
        out.insert("status".into(), by_named(&w.connectwise.order_statuses, s));
    }
    let members: Vec<(i64, String, String)> = w
        .connectwise
        .members
        .iter()
        .map(|m| (m.id, m.identifier.clone(), m.name.clone()))
        .collect();
    if let Some(m) = resolve_ref(
        obj,
        "salesRep",
        &["id", "identifier", "name"],
        true,
        &members,
        p,
    ) && let Some(x) = w.connectwise.members.iter().find(|x| x.id == m)
    {
        out.insert(
            "salesRep".into(),
            json!({"id": x.id, "identifier": x.identifier, "name": x.name}),
        );
    }
    for key in ["billToCompany", "shipToCompany"] {
        if obj.contains_key(key)
            && let Some(c) = resolve_ref(
                obj,
                key,
                &["id", "identifier", "name"],
                false,
                &companies,
                p,
            )
        {
            out.insert(key.into(), company_ref(w, c));
        }
    }
    date_field(obj, "", "orderDate", false, p);
    date_field(obj, "", "dueDate", false, p);
    string_field(obj, "", "poNumber", false, Some(50), p);
    string_field(obj, "", "notes", false, None, p);
    string_field(obj, "", "description", false, None, p);
    for k in [
        "id",
        "productIds",
        "invoiceIds",
        "total",
        "subTotal",
        "taxTotal",
        "_info",
    ] {
        out.remove(k);
    }
    out
}

async fn create_sales_order(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check(&app, &headers) {
        return r;
    }
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(e) => return fail(StatusCode::BAD_REQUEST, "order", "body", &e),
    };
    let mut w = lock(&app.world);
    let mut p = Problems::default();
    let mut out = check_sales_order(&w, &obj, &mut p);
    if !p.is_empty() {
        return error(StatusCode::BAD_REQUEST, "order", &p);
    }
    let id = i64::try_from(300 + w.bump()).unwrap_or_default();
    out.insert("id".into(), Value::from(id));
    if !out.contains_key("orderDate") {
        out.insert(
            "orderDate".into(),
            Value::from(format!("{}T00:00:00Z", w.today())),
        );
    }
    out.insert("productIds".into(), json!([]));
    out.insert("invoiceIds".into(), json!([]));
    let v = Value::Object(out);
    w.connectwise.sales_orders.push(v.clone());
    crate::common::json(StatusCode::CREATED, v)
}

async fn sales_orders(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    read_list(&app, &headers, &q, "order", |w| {
        w.connectwise.sales_orders.clone()
    })
}

async fn sales_order(State(app): State<App>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    read_one(
        &app,
        &headers,
        "order",
        &format!("sales order {id} not found"),
        |w| by_id(&w.connectwise.sales_orders, id).cloned(),
    )
}

// ---------------------------------------------------------------- procurement products

fn check_product(w: &SimState, obj: &Map<String, Value>, p: &mut Problems) -> Map<String, Value> {
    unknown_fields(obj, PRODUCT_ITEM_FIELDS, p);
    let mut out = obj.clone();
    let items: Vec<(i64, String, String)> = w
        .connectwise
        .catalog_items
        .iter()
        .map(|c| (c.id, c.identifier.clone(), c.description.clone()))
        .collect();
    if let Some(id) = resolve_ref(obj, "catalogItem", &["id", "identifier"], true, &items, p)
        && let Some(c) = w.connectwise.catalog_items.iter().find(|c| c.id == id)
    {
        out.insert(
            "catalogItem".into(),
            json!({"id": c.id, "identifier": c.identifier}),
        );
    }
    enum_field(obj, "", "billableOption", true, BILLABLE_OPTION, p);
    for key in ["quantity", "price", "cost"] {
        number_field(obj, "", key, false, p);
    }
    string_field(obj, "", "description", false, Some(2000), p);
    string_field(obj, "", "vendorSku", false, None, p);
    let ids = |list: &[Value]| -> Vec<(i64, String, String)> {
        list.iter()
            .filter_map(|v| {
                v["id"]
                    .as_i64()
                    .map(|id| (id, String::new(), String::new()))
            })
            .collect()
    };
    if obj.contains_key("agreement") {
        resolve_ref(
            obj,
            "agreement",
            &["id"],
            false,
            &ids(&w.connectwise.agreements),
            p,
        );
    }
    if obj.contains_key("salesOrder") {
        resolve_ref(
            obj,
            "salesOrder",
            &["id"],
            false,
            &ids(&w.connectwise.sales_orders),
            p,
        );
    }
    if let Some(serials) = array_field(obj, "", "serialNumbers", false, p) {
        for (i, s) in serials.iter().enumerate() {
            if !s.is_string() {
                p.add(
                    format!("serialNumbers[{i}]"),
                    format!("serialNumbers[{i}] must be a string"),
                );
            }
        }
    }
    for k in ["id", "extPrice", "extCost", "margin", "invoice", "_info"] {
        out.remove(k);
    }
    out
}

fn with_product_figures(v: &Value) -> Value {
    let mut v = v.clone();
    let d = |k: &str| {
        v.get(k)
            .and_then(Value::as_number)
            .and_then(crate::common::decimal_of)
            .unwrap_or_default()
    };
    let (ext_price, ext_cost) = (
        cents(d("quantity") * d("price")),
        cents(d("quantity") * d("cost")),
    );
    if let Some(o) = v.as_object_mut() {
        o.insert("extPrice".into(), num(ext_price));
        o.insert("extCost".into(), num(ext_cost));
    }
    v
}

async fn create_product(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check(&app, &headers) {
        return r;
    }
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(e) => return fail(StatusCode::BAD_REQUEST, "product", "body", &e),
    };
    let mut w = lock(&app.world);
    let mut p = Problems::default();
    let mut out = check_product(&w, &obj, &mut p);
    if !p.is_empty() {
        return error(StatusCode::BAD_REQUEST, "product", &p);
    }
    let id = i64::try_from(7000 + w.bump()).unwrap_or_default();
    out.insert("id".into(), Value::from(id));
    if let Some(so) = out.get("salesOrder").and_then(|s| s["id"].as_i64())
        && let Some(order) = w
            .connectwise
            .sales_orders
            .iter_mut()
            .find(|o| o["id"] == so)
        && let Some(list) = order.get_mut("productIds").and_then(Value::as_array_mut)
    {
        list.push(Value::from(id));
    }
    let v = Value::Object(out);
    w.connectwise.products.push(v.clone());
    crate::common::json(StatusCode::CREATED, with_product_figures(&v))
}

async fn products(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    read_list(&app, &headers, &q, "product", |w| {
        w.connectwise
            .products
            .iter()
            .map(with_product_figures)
            .collect()
    })
}

async fn product(State(app): State<App>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    read_one(
        &app,
        &headers,
        "product",
        &format!("product {id} not found"),
        |w| by_id(&w.connectwise.products, id).map(with_product_figures),
    )
}

/// `PATCH /procurement/products/{id}`: how serial numbers reach the PSA (`serialNumbers`).
async fn patch_product(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    if let Err(r) = check(&app, &headers) {
        return r;
    }
    let mut w = lock(&app.world);
    let Some(pos) = w.connectwise.products.iter().position(|v| v["id"] == id) else {
        return fail(
            StatusCode::NOT_FOUND,
            "product",
            "id",
            &format!("product {id} not found"),
        );
    };
    let stored = w.connectwise.products.get(pos).cloned().unwrap_or_default();
    let invoice = stored.get("invoice").cloned();
    let mut p = Problems::default();
    let merged = apply_patch(&stored, &body, PRODUCT_ITEM_FIELDS, &mut p);
    let mut out = if p.is_empty() {
        check_product(&w, &merged, &mut p)
    } else {
        merged
    };
    if !p.is_empty() {
        return error(StatusCode::BAD_REQUEST, "product", &p);
    }
    out.insert("id".into(), Value::from(id));
    if let Some(inv) = invoice {
        out.insert("invoice".into(), inv);
    }
    let v = Value::Object(out);
    if let Some(slot) = w.connectwise.products.get_mut(pos) {
        *slot = v.clone();
    }
    crate::common::json(StatusCode::OK, with_product_figures(&v))
}

// ---------------------------------------------------------------- invoices

async fn invoices(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    read_list(&app, &headers, &q, "invoice", |w| {
        w.connectwise.invoices.clone()
    })
}

async fn invoice(State(app): State<App>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    read_one(
        &app,
        &headers,
        "invoice",
        &format!("invoice {id} not found"),
        |w| by_id(&w.connectwise.invoices, id).cloned(),
    )
}

/// Months between bills of a billing cycle, by its name.
fn cycle_months(name: &str) -> u32 {
    match name.to_ascii_lowercase().as_str() {
        "quarterly" => 3,
        "semi-annual" | "semiannual" | "biannual" => 6,
        "annual" | "annually" | "yearly" => 12,
        "biennial" => 24,
        "triennial" => 36,
        _ => 1,
    }
}

fn date_of(v: &Value, key: &str) -> Option<NaiveDate> {
    v.get(key).and_then(Value::as_str).and_then(parse_date)
}

/// The start of an agreement's `k`th billing period: whole cycles from its bill start,
/// each counted from the anchor itself so that a month-end anchor keeps its day.
fn period_start(anchor: NaiveDate, months: u32, k: i64) -> Option<NaiveDate> {
    let span = u32::try_from(k.unsigned_abs())
        .ok()?
        .checked_mul(months)
        .map(chrono::Months::new)?;
    if k >= 0 {
        anchor.checked_add_months(span)
    } else {
        anchor.checked_sub_months(span)
    }
}

/// The billing period `[start, end)` of an agreement that holds `day`: ConnectWise bills a
/// cycle at a time from the agreement's `billStartDate`, and the part before it (from
/// `startDate`) as the share of the cycle that ends there.
fn period_holding(
    anchor: NaiveDate,
    months: u32,
    day: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    use chrono::Datelike;
    let apart = (i64::from(day.year()) - i64::from(anchor.year())) * 12 + i64::from(day.month())
        - i64::from(anchor.month());
    let mut k = apart.div_euclid(i64::from(months.max(1)));
    while period_start(anchor, months, k)? > day {
        k -= 1;
    }
    while period_start(anchor, months, k + 1)? <= day {
        k += 1;
    }
    Some((
        period_start(anchor, months, k)?,
        period_start(anchor, months, k + 1)?,
    ))
}

/// The amount one addition bills for the agreement's period `[from, to)`, if it bills: its
/// extended price, or its share by days when it starts inside the period and its
/// `prorateCurrentPeriodFlag` is set (an addition without it bills its whole price, as a
/// discount step already worked out for the part it covers does).
fn addition_amount(
    x: &Value,
    agreement: &Value,
    from: NaiveDate,
    to: NaiveDate,
) -> Option<Decimal> {
    if x["billCustomer"] != "Billable" {
        return None;
    }
    let begin = date_of(agreement, "startDate");
    let effective = date_of(x, "effectiveDate").or(begin).unwrap_or(from);
    if effective >= to || date_of(x, "cancelledDate").is_some_and(|c| c < from) {
        return None;
    }
    let full = with_figures(x)["extPrice"]
        .as_number()
        .and_then(crate::common::decimal_of)
        .unwrap_or_default();
    if effective > from && x["prorateCurrentPeriodFlag"] == true {
        let share =
            Decimal::from((to - effective).num_days()) / Decimal::from((to - from).num_days());
        Some(cents(full * share))
    } else {
        Some(full)
    }
}

/// The billing periods of an agreement whose first billed day falls in the month starting
/// `first`, each with that day: the invoice is dated on it.
fn periods_due(a: &Value, first: NaiveDate) -> Vec<(NaiveDate, NaiveDate, NaiveDate)> {
    let last = month_end(first);
    let months = cycle_months(a["billingCycle"]["name"].as_str().unwrap_or("Monthly"));
    let Some(begin) = date_of(a, "startDate") else {
        return Vec::new();
    };
    let anchor = date_of(a, "billStartDate").unwrap_or(begin);
    let ends = date_of(a, "endDate");
    let mut out = Vec::new();
    let mut day = begin.max(first);
    while day <= last {
        let Some((from, to)) = period_holding(anchor, months, day) else {
            break;
        };
        let billed = from.max(begin);
        if billed >= first && billed <= last && ends.is_none_or(|e| billed <= e) {
            out.push((from, to, billed));
        }
        day = to;
    }
    out
}

/// Agreement invoices for the month starting `start` (one per agreement and billing period
/// whose first billed day falls in it, from its additions), and a `Standard` invoice per sales
/// order placed by the month's end with billable products not yet invoiced.
pub fn bill(w: &mut SimState, start: NaiveDate) -> Vec<String> {
    let mut ids = Vec::new();
    for a in w.connectwise.agreements.clone() {
        let Some(aid) = a["id"].as_i64() else {
            continue;
        };
        if a["cancelledFlag"] == true {
            continue;
        }
        for (from, to, billed) in periods_due(&a, start) {
            let amounts: Vec<Decimal> = w
                .connectwise
                .additions
                .iter()
                .filter(|x| x["agreementId"] == aid)
                .filter_map(|x| addition_amount(x, &a, from, to))
                .collect();
            if amounts.is_empty() {
                continue;
            }
            let subtotal: Decimal = amounts.iter().copied().sum();
            let id = i64::try_from(800 + w.bump()).unwrap_or_default();
            w.connectwise.invoices.push(json!({
                "id": id, "invoiceNumber": format!("INV{id}"), "type": "Agreement",
                "company": a["company"], "date": format!("{billed}T00:00:00Z"),
                "customerPO": a["customerPO"], "subtotal": num(subtotal), "total": num(subtotal),
                "salesTax": 0, "agreementAmount": num(subtotal), "productTotal": 0,
                "agreement": {"id": aid, "name": a["name"]}, "currency": {"id": 1, "isoCode": "USD"},
            }));
            ids.push(format!("INV{id}"));
        }
    }
    ids.extend(bill_sales_orders(w, start));
    ids
}

fn bill_sales_orders(w: &mut SimState, start: NaiveDate) -> Vec<String> {
    let end = month_end(start);
    let mut ids = Vec::new();
    for o in w.connectwise.sales_orders.clone() {
        let Some(oid) = o["id"].as_i64() else {
            continue;
        };
        if date_of(&o, "orderDate").is_some_and(|d| d > end) {
            continue;
        }
        let lines: Vec<usize> = w
            .connectwise
            .products
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p["salesOrder"]["id"] == oid
                    && p.get("invoice").is_none_or(Value::is_null)
                    && p["billableOption"] == "Billable"
            })
            .map(|(i, _)| i)
            .collect();
        if lines.is_empty() {
            continue;
        }
        let id = i64::try_from(800 + w.bump()).unwrap_or_default();
        let number = format!("INV{id}");
        let mut total = Decimal::ZERO;
        for i in lines {
            if let Some(p) = w.connectwise.products.get_mut(i) {
                total += with_product_figures(p)["extPrice"]
                    .as_number()
                    .and_then(crate::common::decimal_of)
                    .unwrap_or_default();
                if let Some(m) = p.as_object_mut() {
                    m.insert("invoice".into(), json!({"id": id, "identifier": number}));
                }
            }
        }
        w.connectwise.invoices.push(json!({
            "id": id, "invoiceNumber": number, "type": "Standard", "company": o["company"],
            "date": format!("{}T00:00:00Z", start.max(date_of(&o, "orderDate").unwrap_or(start))),
            "customerPO": o["poNumber"], "subtotal": num(total), "total": num(total), "salesTax": 0,
            "agreementAmount": 0, "productTotal": num(total), "salesOrder": {"id": oid},
            "currency": {"id": 1, "isoCode": "USD"},
        }));
        if let Some(list) = w
            .connectwise
            .sales_orders
            .iter_mut()
            .find(|x| x["id"] == oid)
            .and_then(|x| x.get_mut("invoiceIds"))
            .and_then(Value::as_array_mut)
        {
            list.push(Value::from(id));
        }
        ids.push(number);
    }
    ids
}
