//! Pax8 Partner API: OAuth2 client credentials, companies, products and their commitment
//! dependencies, orders (with `isMock`), subscriptions (PUT to change the quantity), invoices
//! and their paged items. Shapes from `api-evangelist/pax8` `openapi/pax8-*-api-openapi.yml`.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::common::{
    App, Problems, Vendor, add_months, array_field, bearer_ok, cents, date_field, days_inclusive,
    enum_field, integer_field, issue_token, lock, month_end, number_field, page_of, parse_object,
    query_number, string_field, uuid_from,
};
use crate::state::{
    Pax8Invoice, Pax8Order, Pax8OrderLine, Pax8Product, Pax8SubCommitment, Pax8Subscription,
    SimState,
};

/// Billing terms (`CreateLineItem.billingTerm`).
pub const BILLING_TERMS: &[&str] = &[
    "Monthly",
    "Annual",
    "2-Year",
    "3-Year",
    "One-Time",
    "Trial",
    "Activation",
];
const ORDERED_BY: &[&str] = &["Pax8 Partner", "Customer", "Pax8"];
const UUID_TAG_ORDER: u32 = 0x9a80_0001;
const UUID_TAG_LINE: u32 = 0x9a80_0002;
const UUID_TAG_SUB: u32 = 0x9a80_0003;
const UUID_TAG_INVOICE: u32 = 0x9a80_0004;
const UUID_TAG_ITEM: u32 = 0x9a80_0005;

/// The Pax8 router.
pub fn router() -> Router<App> {
    Router::new()
        .route("/token", post(token))
        .route("/oauth/token", post(token))
        .route("/companies", get(companies))
        .route("/companies/{id}", get(company))
        .route("/products/{id}", get(product))
        .route("/products/{id}/dependencies", get(dependencies))
        .route("/orders", post(create_order).get(orders))
        .route("/orders/{id}", get(order))
        .route("/subscriptions", get(subscriptions))
        .route(
            "/subscriptions/{id}",
            get(subscription).put(update_subscription),
        )
        .route("/invoices", get(invoices))
        .route("/invoices/{id}", get(invoice))
        .route("/invoices/{id}/items", get(invoice_items))
}

/// The `Error` schema: `{type, message, instance, status, details[]}`.
fn error(status: StatusCode, uri: &Uri, message: &str, problems: &Problems) -> Response {
    let details: Vec<Value> = problems
        .0
        .iter()
        .map(|p| json!({"type": "validation", "message": p.message, "instance": p.field, "status": status.as_u16()}))
        .collect();
    crate::common::json(
        status,
        json!({
            "type": status.canonical_reason().unwrap_or("Error"),
            "message": message,
            "instance": uri.path(),
            "status": status.as_u16(),
            "details": details,
        }),
    )
}

fn unauthorized(uri: &Uri) -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        uri,
        "a valid bearer token is required (POST /token with client credentials)",
        &Problems::default(),
    )
}

fn not_found(uri: &Uri, what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        uri,
        &format!("{what} not found"),
        &Problems::default(),
    )
}

/// A page in Pax8's `{content, page}` envelope.
fn paged(items: &[Value], q: &HashMap<String, String>, uri: &Uri) -> Response {
    let mut p = Problems::default();
    let page = query_number(q, "page", 0, usize::MAX, &mut p);
    let size = query_number(q, "size", 10, 200, &mut p);
    if !p.is_empty() || size == 0 {
        return error(StatusCode::BAD_REQUEST, uri, "invalid paging", &p);
    }
    let total = items.len();
    crate::common::json(
        StatusCode::OK,
        json!({
            "content": page_of(items, page, size),
            "page": {"size": size, "totalElements": total, "totalPages": total.div_ceil(size), "number": page},
        }),
    )
}

fn to_json<T: serde::Serialize>(t: &T) -> Option<Value> {
    serde_json::to_value(t).ok()
}

/// A read of one thing: the token checked, then `pick` answers (none: 404 naming `what`).
fn read_one(
    app: &App,
    headers: &HeaderMap,
    uri: &Uri,
    what: &str,
    pick: impl FnOnce(&SimState) -> Option<Value>,
) -> Response {
    if !bearer_ok(app, headers, Vendor::Pax8) {
        return unauthorized(uri);
    }
    let found = pick(&lock(&app.world));
    match found {
        Some(v) => crate::common::json(StatusCode::OK, v),
        None => not_found(uri, what),
    }
}

/// A read of a list: the token checked, then `pick` lists, paged as `{content, page}`.
fn read_page(
    app: &App,
    headers: &HeaderMap,
    uri: &Uri,
    q: &HashMap<String, String>,
    pick: impl FnOnce(&SimState) -> Vec<Value>,
) -> Response {
    if !bearer_ok(app, headers, Vendor::Pax8) {
        return unauthorized(uri);
    }
    let items = pick(&lock(&app.world));
    paged(&items, q, uri)
}

/// `POST /token`: `{client_id, client_secret, audience, grant_type}` (TokenRequest).
async fn token(State(app): State<App>, body: Bytes) -> Response {
    let denied = crate::common::json(
        StatusCode::UNAUTHORIZED,
        json!({"error": "access_denied", "error_description": "Unauthorized"}),
    );
    // Pax8's token endpoint (an Auth0 tenant) takes the grant as JSON or as a form.
    let obj = match parse_object(&body) {
        Ok(obj) => obj,
        Err(_) => crate::common::parse_form(&String::from_utf8_lossy(&body))
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    };
    if obj.is_empty() {
        return denied;
    }
    let mut p = Problems::default();
    let id = string_field(&obj, "", "client_id", true, None, &mut p);
    let secret = string_field(&obj, "", "client_secret", true, None, &mut p);
    let audiences = [
        "https://api.pax8.com",
        "api://p8p.client",
        "api://provisioning",
        "api://usage",
    ];
    enum_field(&obj, "", "audience", true, &audiences, &mut p);
    enum_field(
        &obj,
        "",
        "grant_type",
        true,
        &["client_credentials"],
        &mut p,
    );
    if !p.is_empty() {
        return crate::common::json(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": p.first_message()}),
        );
    }
    let ok = {
        let w = lock(&app.world);
        id.as_deref() == Some(w.credentials.pax8_client_id.as_str())
            && secret.as_deref() == Some(w.credentials.pax8_client_secret.as_str())
    };
    if !ok {
        return denied;
    }
    let token = issue_token(&app, Vendor::Pax8);
    crate::common::json(
        StatusCode::OK,
        json!({"access_token": token, "expires_in": 86400, "token_type": "Bearer"}),
    )
}

async fn companies(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    read_page(&app, &headers, &uri, &q, |w| {
        w.pax8.companies.iter().filter_map(to_json).collect()
    })
}

async fn company(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    read_one(&app, &headers, &uri, "company", |w| {
        w.pax8
            .companies
            .iter()
            .find(|c| c.id == id)
            .and_then(to_json)
    })
}

fn product_json(p: &Pax8Product) -> Value {
    json!({
        "id": p.id, "name": p.name, "vendorName": p.vendor_name, "sku": p.sku,
        "requiresCommitment": p.requires_commitment,
    })
}

async fn product(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    read_one(&app, &headers, &uri, "product", |w| {
        w.pax8
            .products
            .iter()
            .find(|p| p.id == id)
            .map(product_json)
    })
}

/// `GET /products/{id}/dependencies`: `{commitmentDependencies[], productDependencies[]}`.
async fn dependencies(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    if !bearer_ok(&app, &headers, Vendor::Pax8) {
        return unauthorized(&uri);
    }
    let w = lock(&app.world);
    let Some(p) = w.pax8.products.iter().find(|p| p.id == id) else {
        return not_found(&uri, "product");
    };
    let commitments: Vec<Value> = p
        .commitments
        .iter()
        .map(|c| {
            json!({"id": c.id, "term": c.term, "autoRenew": true,
                   "allowForQuantityIncrease": true, "allowForQuantityDecrease": false,
                   "allowForEarlyCancellation": false, "cancellationFeeApplied": false,
                   "isTransferable": true})
        })
        .collect();
    crate::common::json(
        StatusCode::OK,
        json!({"commitmentDependencies": commitments, "productDependencies": []}),
    )
}

/// Months a commitment or upfront billing term lasts.
fn term_months(term: &str) -> Option<u32> {
    match term {
        "Monthly" => Some(1),
        "1-Year" | "Annual" => Some(12),
        "2-Year" => Some(24),
        "3-Year" => Some(36),
        _ => None,
    }
}

/// `parentSubscriptionId` must exist; `provisioningDetails[]` are `{key, values[]}`.
fn check_links(w: &SimState, obj: &Map<String, Value>, at: &str, p: &mut Problems) {
    string_field(obj, at, "parentSubscriptionId", false, None, p).inspect(|id| {
        if !w.pax8.subscriptions.iter().any(|s| &s.id == id) {
            p.add(
                format!("{at}.parentSubscriptionId"),
                format!("{at}.parentSubscriptionId {id} is not a subscription"),
            );
        }
    });
    if let Some(details) = array_field(obj, at, "provisioningDetails", false, p) {
        for (j, d) in details.iter().enumerate() {
            let dat = format!("{at}.provisioningDetails[{j}]");
            match d.as_object() {
                Some(d) => {
                    string_field(d, &dat, "key", true, None, p);
                    array_field(d, &dat, "values", true, p);
                }
                None => p.add(&dat, format!("{dat} must be an object {{key, values[]}}")),
            }
        }
    }
}

/// The commitment term sent: required when the product requires one, one of the product's,
/// and at least as long as the billing term.
fn check_commitment(
    product: &Pax8Product,
    commitment_id: Option<&str>,
    billing_term: &str,
    at: &str,
    p: &mut Problems,
) -> Option<(String, String)> {
    let commitment = match (commitment_id, product.requires_commitment) {
        (None, true) => {
            p.add(
                format!("{at}.commitmentTermId"),
                format!(
                    "{at}.commitmentTermId is required: product {} requires a commitment",
                    product.id
                ),
            );
            None
        }
        (None, false) => None,
        (Some(id), _) => match product.commitments.iter().find(|c| c.id == id) {
            Some(c) => Some((c.id.clone(), c.term.clone())),
            None => {
                p.add(
                    format!("{at}.commitmentTermId"),
                    format!(
                        "{at}.commitmentTermId {id} is not a commitment term of product {}",
                        product.id
                    ),
                );
                None
            }
        },
    };
    // The spec: pick a commitment "whose term represents an equal or greater time than the
    // desired billingTerm".
    if let (Some((_, term)), Some(bill)) = (&commitment, term_months(billing_term))
        && term_months(term).is_some_and(|t| t < bill)
    {
        p.add(
            format!("{at}.billingTerm"),
            format!("{at}.billingTerm {billing_term} is longer than the commitment term {term}"),
        );
    }
    commitment
}

/// One order line, checked; what the order will create when it is valid.
struct LineDraft {
    product_id: String,
    quantity: i64,
    billing_term: String,
    commitment: Option<(String, String)>,
    start: NaiveDate,
    start_text: String,
    cost: Decimal,
    price: Decimal,
}

/// Checks one `lineItems[i]` against the spec and the catalogue (every rule names its field).
fn check_line(
    w: &SimState,
    obj: &Map<String, Value>,
    at: &str,
    p: &mut Problems,
) -> Option<LineDraft> {
    let before = p.0.len();
    number_field(obj, at, "lineItemNumber", true, p);
    let product_id = string_field(obj, at, "productId", true, None, p);
    let quantity = integer_field(obj, at, "quantity", true, 1, p);
    let billing_term = enum_field(obj, at, "billingTerm", true, BILLING_TERMS, p);
    let commitment_id = string_field(obj, at, "commitmentTermId", false, None, p);
    let start = date_field(obj, at, "provisionStartDate", false, p);
    check_links(w, obj, at, p);
    let today = w.today();
    if let Some(s) = start
        && s > today
    {
        p.add(
            format!("{at}.provisionStartDate"),
            format!(
                "{at}.provisionStartDate {s} is in the future: scheduled orders are not supported"
            ),
        );
    }
    let product = product_id.as_ref().and_then(|id| {
        let found = w.pax8.products.iter().find(|pr| &pr.id == id);
        if found.is_none() {
            p.add(
                format!("{at}.productId"),
                format!("{at}.productId {id} is not a Pax8 product"),
            );
        }
        found
    })?;
    let billing_term = billing_term?;
    let commitment = check_commitment(product, commitment_id.as_deref(), &billing_term, at, p);
    let commit_term = commitment.as_ref().map(|(_, t)| t.clone());
    let price = product
        .prices
        .iter()
        .find(|pr| pr.billing_term == billing_term && pr.commitment_term == commit_term);
    if price.is_none() && (commitment.is_some() || !product.requires_commitment) {
        p.add(
            format!("{at}.billingTerm"),
            format!(
                "{at}.billingTerm {billing_term} with commitment {} is not offered for product {}",
                commit_term.as_deref().unwrap_or("none"),
                product.id
            ),
        );
    }
    if p.0.len() > before {
        return None;
    }
    let price = price?;
    let start = start.unwrap_or(today);
    Some(LineDraft {
        product_id: product.id.clone(),
        quantity: quantity?,
        billing_term,
        commitment,
        start,
        start_text: obj
            .get("provisionStartDate")
            .and_then(Value::as_str)
            .map_or_else(|| format!("{start}T00:00:00Z"), str::to_string),
        cost: price.cost,
        price: price.price,
    })
}

/// Checks a whole `CreateOrder` body.
fn check_order(
    w: &SimState,
    obj: &Map<String, Value>,
    p: &mut Problems,
) -> Option<(String, Vec<LineDraft>)> {
    let company = string_field(obj, "", "companyId", true, None, p);
    if let Some(c) = &company
        && !w.pax8.companies.iter().any(|co| &co.id == c)
    {
        p.add(
            "companyId",
            format!("companyId {c} is not a company of this partner"),
        );
    }
    enum_field(obj, "", "orderedBy", false, ORDERED_BY, p);
    if let Some(email) = string_field(obj, "", "orderedByUserEmail", false, None, p)
        && !email.contains('@')
    {
        p.add(
            "orderedByUserEmail",
            format!("orderedByUserEmail {email:?} is not an email address"),
        );
    }
    let lines = array_field(obj, "", "lineItems", true, p)?;
    let mut numbers = Vec::new();
    let mut drafts = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let at = format!("lineItems[{i}]");
        let Some(l) = line.as_object() else {
            p.add(&at, format!("{at} must be an object"));
            continue;
        };
        numbers.push(l.get("lineItemNumber").map(Value::to_string));
        if let Some(d) = check_line(w, l, &at, p) {
            drafts.push(d);
        }
    }
    for (i, line) in lines.iter().enumerate() {
        if let Some(parent) = line.get("parentLineItemNumber")
            && !numbers.contains(&Some(parent.to_string()))
        {
            p.add(
                format!("lineItems[{i}].parentLineItemNumber"),
                format!("lineItems[{i}].parentLineItemNumber {parent} is not a line of this order"),
            );
        }
    }
    if p.is_empty() {
        Some((company?, drafts))
    } else {
        None
    }
}

/// Places a checked order: the order and one subscription per line.
fn place(
    w: &mut SimState,
    company: String,
    drafts: Vec<LineDraft>,
    obj: &Map<String, Value>,
) -> Pax8Order {
    let order_id = uuid_from(UUID_TAG_ORDER, w.bump());
    let mut lines = Vec::new();
    for d in drafts {
        let sub_id = uuid_from(UUID_TAG_SUB, w.bump());
        let commitment = d.commitment.as_ref().map(|(id, term)| Pax8SubCommitment {
            id: id.clone(),
            term: term.clone(),
            end_date: add_months(d.start, term_months(term).unwrap_or(1))
                .pred_opt()
                .unwrap_or(d.start),
        });
        w.pax8.subscriptions.push(Pax8Subscription {
            id: sub_id.clone(),
            company_id: company.clone(),
            product_id: d.product_id.clone(),
            quantity: d.quantity,
            status: "Active".into(),
            billing_term: d.billing_term.clone(),
            end_date: commitment.as_ref().map(|c| c.end_date),
            commitment_term: commitment,
            start_date: d.start,
            price: d.price,
            partner_cost: d.cost,
        });
        lines.push(Pax8OrderLine {
            id: uuid_from(UUID_TAG_LINE, w.bump()),
            product_id: d.product_id,
            subscription_id: sub_id,
            commitment_term_id: d.commitment.map(|(id, _)| id),
            provision_start_date: d.start_text,
            billing_term: d.billing_term,
            quantity: d.quantity,
        });
    }
    let order = Pax8Order {
        id: order_id,
        company_id: company,
        created_date: w.today(),
        ordered_by: obj
            .get("orderedBy")
            .and_then(Value::as_str)
            .map(str::to_string),
        ordered_by_user_email: obj
            .get("orderedByUserEmail")
            .and_then(Value::as_str)
            .map(str::to_string),
        is_scheduled: false,
        line_items: lines,
    };
    w.pax8.orders.push(order.clone());
    order
}

/// `POST /orders[?isMock=true]`: 422 naming every field wrong; `isMock` validates only.
async fn create_order(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if !bearer_ok(&app, &headers, Vendor::Pax8) {
        return unauthorized(&uri);
    }
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(e) => return error(StatusCode::BAD_REQUEST, &uri, &e, &Problems::default()),
    };
    let mock = q.get("isMock").is_some_and(|v| v == "true");
    let mut w = lock(&app.world);
    let mut p = Problems::default();
    let Some((company, drafts)) = check_order(&w, &obj, &mut p) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &uri,
            &p.first_message(),
            &p,
        );
    };
    if mock {
        let mut echo = obj.clone();
        echo.insert("isScheduled".into(), Value::Bool(false));
        drop(drafts);
        let _ = company;
        return crate::common::json(StatusCode::OK, Value::Object(echo));
    }
    let order = place(&mut w, company, drafts, &obj);
    crate::common::json(
        StatusCode::OK,
        serde_json::to_value(order).unwrap_or_default(),
    )
}

async fn orders(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let company = q.get("companyId").cloned();
    read_page(&app, &headers, &uri, &q, |w| {
        w.pax8
            .orders
            .iter()
            .filter(|o| company.as_ref().is_none_or(|c| c == &o.company_id))
            .filter_map(to_json)
            .collect()
    })
}

async fn order(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    read_one(&app, &headers, &uri, "order", |w| {
        w.pax8.orders.iter().find(|o| o.id == id).and_then(to_json)
    })
}

/// `GET /subscriptions` with the spec's filters `companyId`, `productId`, `status`, `billingTerm`.
async fn subscriptions(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let f = |k: &str| q.get(k).cloned();
    let (company, product, status, term) = (
        f("companyId"),
        f("productId"),
        f("status"),
        f("billingTerm"),
    );
    read_page(&app, &headers, &uri, &q, |w| {
        w.pax8
            .subscriptions
            .iter()
            .filter(|s| company.as_ref().is_none_or(|v| v == &s.company_id))
            .filter(|s| product.as_ref().is_none_or(|v| v == &s.product_id))
            .filter(|s| status.as_ref().is_none_or(|v| v == &s.status))
            .filter(|s| term.as_ref().is_none_or(|v| v == &s.billing_term))
            .filter_map(to_json)
            .collect()
    })
}

async fn subscription(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    read_one(&app, &headers, &uri, "subscription", |w| {
        w.pax8
            .subscriptions
            .iter()
            .find(|s| s.id == id)
            .and_then(to_json)
    })
}

/// `PUT /subscriptions/{id}`: at least one of price, billingTerm, quantity, startDate; 422 for
/// an invalid update (a future start date is "NOT supported").
async fn update_subscription(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if !bearer_ok(&app, &headers, Vendor::Pax8) {
        return unauthorized(&uri);
    }
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(e) => return error(StatusCode::BAD_REQUEST, &uri, &e, &Problems::default()),
    };
    let mut w = lock(&app.world);
    let today = w.today();
    let Some(sub) = w.pax8.subscriptions.iter_mut().find(|s| s.id == id) else {
        return not_found(&uri, "subscription");
    };
    let mut p = Problems::default();
    let price = number_field(&obj, "", "price", false, &mut p);
    let term = enum_field(&obj, "", "billingTerm", false, BILLING_TERMS, &mut p);
    let quantity = integer_field(&obj, "", "quantity", false, 1, &mut p);
    let start = date_field(&obj, "", "startDate", false, &mut p);
    if p.is_empty() && price.is_none() && term.is_none() && quantity.is_none() && start.is_none() {
        p.add(
            "quantity",
            "at least one of price, billingTerm, quantity, startDate is required",
        );
    }
    if let Some(s) = start
        && s > today
    {
        p.add(
            "startDate",
            format!("startDate {s} is in the future: not supported"),
        );
    }
    if !p.is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &uri,
            &p.first_message(),
            &p,
        );
    }
    if let Some(v) = price {
        sub.price = v;
    }
    if let Some(v) = term {
        sub.billing_term = v;
    }
    if let Some(v) = quantity {
        sub.quantity = v;
    }
    if let Some(v) = start {
        sub.start_date = v;
    }
    crate::common::json(
        StatusCode::OK,
        serde_json::to_value(&*sub).unwrap_or_default(),
    )
}

fn invoice_json(i: &Pax8Invoice) -> Value {
    let mut v = serde_json::to_value(i).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("items");
        o.insert("carriedBalance".into(), json!(0));
    }
    v
}

async fn invoices(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let status = q.get("status").cloned();
    read_page(&app, &headers, &uri, &q, |w| {
        w.pax8
            .invoices
            .iter()
            .filter(|i| status.as_ref().is_none_or(|v| v == &i.status))
            .map(invoice_json)
            .collect()
    })
}

async fn invoice(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    read_one(&app, &headers, &uri, "invoice", |w| {
        w.pax8
            .invoices
            .iter()
            .find(|i| i.id == id)
            .map(invoice_json)
    })
}

/// `GET /invoices/{id}/items`: paged `{content, page}`, no invoice id inside an item.
async fn invoice_items(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !bearer_ok(&app, &headers, Vendor::Pax8) {
        return unauthorized(&uri);
    }
    let items = {
        let w = lock(&app.world);
        match w.pax8.invoices.iter().find(|i| i.id == id) {
            Some(i) => i.items.clone(),
            None => return not_found(&uri, "invoice"),
        }
    };
    paged(&items, &q, &uri)
}

// ---------------------------------------------------------------- billing

/// The charge of one subscription on the invoice dated `date`, if any: `(type, start, end,
/// fraction of the unit price)`.
///
/// The invoice dated D (the 1st of a month) covers: `Monthly` — the month starting D in full
/// (`subscription`), plus, for a subscription that started after the previous invoice date, a
/// `prorate` item from its start to D − 1; `Annual`, `2-Year`, `3-Year`, `One-Time` — the whole
/// period up front, on the first invoice on or after the period's start (each anniversary
/// for `Annual` within the commitment).
fn charges(s: &Pax8Subscription, date: NaiveDate) -> Vec<(String, NaiveDate, NaiveDate, Decimal)> {
    let prev = add_months(date, 0)
        .checked_sub_months(chrono::Months::new(1))
        .unwrap_or(date);
    let ends = s.end_date;
    let mut out = Vec::new();
    if s.status != "Active" {
        return out;
    }
    if s.billing_term == "Monthly" {
        if s.start_date > prev && s.start_date < date {
            let month_last = date.pred_opt().unwrap_or(date);
            let days = Decimal::from(days_inclusive(s.start_date, month_last));
            let in_month = Decimal::from(days_inclusive(prev, month_last));
            out.push(("prorate".into(), s.start_date, month_last, days / in_month));
        }
        if s.start_date <= date && ends.is_none_or(|e| e >= date) {
            out.push(("subscription".into(), date, month_end(date), Decimal::ONE));
        }
        return out;
    }
    let months = match s.billing_term.as_str() {
        "Annual" => 12,
        "2-Year" => 24,
        "3-Year" => 36,
        "One-Time" => 0,
        _ => return out,
    };
    let mut period = s.start_date;
    loop {
        if period > date || ends.is_some_and(|e| period > e) {
            break;
        }
        if period > prev && period <= date {
            let end = if months == 0 {
                period
            } else {
                add_months(period, months).pred_opt().unwrap_or(period)
            };
            let kind = if months == 0 {
                "one-time"
            } else {
                "subscription"
            };
            out.push((kind.into(), period, end, Decimal::ONE));
        }
        if months == 0 {
            break;
        }
        period = add_months(period, months);
    }
    out
}

fn term_label(term: &str) -> &str {
    match term {
        "3-Year" => "3 Year",
        "2-Year" => "2 Year",
        other => other,
    }
}

/// Issues the invoice dated the 1st of `month` for every company's subscriptions.
pub fn bill(w: &mut SimState, date: NaiveDate) -> Option<String> {
    let subs = w.pax8.subscriptions.clone();
    let mut items = Vec::new();
    let mut total = Decimal::ZERO;
    for s in &subs {
        let company = w
            .pax8
            .companies
            .iter()
            .find(|c| c.id == s.company_id)
            .cloned();
        let product = w
            .pax8
            .products
            .iter()
            .find(|p| p.id == s.product_id)
            .cloned();
        for (kind, start, end, fraction) in charges(s, date) {
            let qty = Decimal::from(s.quantity);
            let cost_total = cents(s.partner_cost * qty * fraction);
            let sub_total = cents(s.price * qty * fraction);
            total += cost_total;
            let id = uuid_from(UUID_TAG_ITEM, w.bump());
            items.push(json!({
                "id": id,
                "companyId": s.company_id,
                "companyName": company.as_ref().map(|c| c.name.clone()),
                "externalId": company.as_ref().and_then(|c| c.external_id.clone()),
                "productId": s.product_id,
                "productName": product.as_ref().map(|p| p.name.clone()),
                "sku": product.as_ref().map(|p| p.sku.clone()),
                "description": product.as_ref().map(|p| p.name.clone()),
                "subscriptionId": s.id,
                "type": kind,
                "startPeriod": start.to_string(),
                "endPeriod": end.to_string(),
                "quantity": s.quantity,
                "term": term_label(&s.billing_term),
                "rateType": "flat",
                "chargeType": "per",
                "price": crate::common::num(s.price),
                "subTotal": crate::common::num(sub_total),
                "cost": crate::common::num(s.partner_cost),
                "costTotal": crate::common::num(cost_total),
                "total": crate::common::num(cost_total),
                "amountDue": crate::common::num(cost_total),
                "billingFee": 0,
                "salesTax": 0,
                "currencyCode": "USD",
            }));
        }
    }
    if items.is_empty() {
        return None;
    }
    let id = uuid_from(UUID_TAG_INVOICE, w.bump());
    let invoice = Pax8Invoice {
        id: id.clone(),
        invoice_date: date,
        due_date: date + chrono::Days::new(14),
        status: "Unpaid".into(),
        total,
        balance: total,
        currency_code: "USD".into(),
        partner_name: w.pax8.partner_name.clone(),
        items,
    };
    w.pax8.invoices.push(invoice);
    Some(id)
}
