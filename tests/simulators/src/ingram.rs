//! Ingram Micro Reseller API v6: OAuth2 client credentials, the `IM-*` headers, order create
//! (duplicate `customerOrderNumber` refused), order detail v6.1, order search, invoice search
//! and invoice detail v6.1 with serial numbers on hardware lines. Shapes from
//! `ingrammicro-xvantage/xi-sdk-openapispec` `openapispec/unified/XI-Resellers-API-Spec.json`.

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
use axum::routing::{get, post};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::common::{
    App, Problems, Vendor, array_field, bearer_ok, bool_field, header, integer_field, issue_token,
    lock, month_end, num, number_field, object_field, parse_form, parse_object, string_field,
};
use crate::state::SimState;

/// The Ingram router.
pub fn router() -> Router<App> {
    Router::new()
        .route("/oauth/oauth20/token", get(token).post(token))
        .route("/resellers/v6/orders", post(create_order))
        .route("/resellers/v6/orders/search", get(search_orders))
        .route("/resellers/v6.1/orders/{number}", get(order))
        .route("/resellers/v6/invoices", get(search_invoices))
        .route("/resellers/v6.1/invoices/{number}", get(invoice))
}

/// The spec's `ErrorResponse`: `{errors[{id, type, message, fields[{field, value, message}]}]}`.
fn error(
    status: StatusCode,
    correlation: &str,
    problems: &Problems,
    values: &Map<String, Value>,
) -> Response {
    let fields: Vec<Value> = problems
        .0
        .iter()
        .map(|p| {
            let value = values.get(&p.field).map_or_else(String::new, |v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            json!({"field": p.field, "value": value, "message": p.message})
        })
        .collect();
    crate::common::json(
        status,
        json!({"errors": [{
            "id": correlation,
            "type": if status == StatusCode::UNAUTHORIZED { "/errors/unauthorized" } else { "/errors/validation-failed" },
            "message": problems.first_message(),
            "fields": fields,
        }]}),
    )
}

fn fail(status: StatusCode, field: &str, message: &str) -> Response {
    let mut p = Problems::default();
    p.add(field, message);
    error(status, "", &p, &Map::new())
}

/// `/oauth/oauth20/token`: client credentials in the query (as the spec has it) or a form body.
async fn token(
    State(app): State<App>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let mut params = q;
    params.extend(parse_form(&String::from_utf8_lossy(&body)));
    if params.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return crate::common::json(
            StatusCode::BAD_REQUEST,
            json!({"message": "grant_type must be client_credentials"}),
        );
    }
    let ok = {
        let w = lock(&app.world);
        params.get("client_id") == Some(&w.credentials.ingram_client_id)
            && params.get("client_secret") == Some(&w.credentials.ingram_client_secret)
    };
    if !ok {
        return crate::common::json(
            StatusCode::UNAUTHORIZED,
            json!({"message": "invalid client credentials"}),
        );
    }
    let token = issue_token(&app, Vendor::Ingram);
    crate::common::json(
        StatusCode::OK,
        json!({"access_token": token, "token_type": "Bearer", "expires_in": "86399"}),
    )
}

/// Checks the bearer token and the `IM-*` headers (`IM-ApplicationID` where the spec requires
/// it); returns the correlation id or the error response.
fn check_headers(app: &App, headers: &HeaderMap, application_id: bool) -> Result<String, Response> {
    if !bearer_ok(app, headers, Vendor::Ingram) {
        return Err(fail(
            StatusCode::UNAUTHORIZED,
            "Authorization",
            "a valid bearer token is required",
        ));
    }
    let customer = lock(&app.world).ingram.customer_number.clone();
    let mut p = Problems::default();
    let mut values = Map::new();
    let mut required = vec![
        ("IM-CustomerNumber", 10),
        ("IM-CountryCode", 2),
        ("IM-CorrelationID", 32),
    ];
    if application_id {
        required.push(("IM-ApplicationID", 32));
    }
    for (name, max) in required {
        match header(headers, name) {
            None => p.add(name, format!("{name} header is required")),
            Some(v) => {
                values.insert(name.into(), Value::String(v.into()));
                if v.is_empty() || v.chars().count() > max {
                    p.add(name, format!("{name} must be 1 to {max} characters"));
                }
            }
        }
    }
    if let Some(sender) = header(headers, "IM-SenderID")
        && sender.chars().count() > 32
    {
        p.add("IM-SenderID", "IM-SenderID must be at most 32 characters");
    }
    if let Some(c) = header(headers, "IM-CustomerNumber")
        && c != customer
    {
        p.add(
            "IM-CustomerNumber",
            format!("IM-CustomerNumber {c} is not this reseller ({customer})"),
        );
    }
    if let Some(c) = header(headers, "IM-CountryCode")
        && !(c.len() == 2 && c.chars().all(|ch| ch.is_ascii_uppercase()))
    {
        p.add("IM-CountryCode", "IM-CountryCode is not valid");
    }
    let correlation = header(headers, "IM-CorrelationID")
        .unwrap_or_default()
        .to_string();
    if p.is_empty() {
        Ok(correlation)
    } else {
        Err(error(StatusCode::BAD_REQUEST, &correlation, &p, &values))
    }
}

/// Address blocks: the spec's lengths; in the US and CA the end user's address is required.
fn check_address(obj: &Map<String, Value>, at: &str, end_user: bool, us: bool, p: &mut Problems) {
    let need = end_user && us;
    let fields: [(&str, Option<usize>, bool); 12] = [
        ("addressId", Some(10), false),
        ("endUserId", None, false),
        ("contact", Some(70), false),
        ("companyName", Some(40), false),
        ("addressLine1", Some(70), need),
        ("addressLine2", Some(70), false),
        ("addressLine3", Some(70), false),
        ("city", Some(25), need),
        ("state", Some(3), need),
        ("postalCode", Some(10), need),
        ("countryCode", Some(10), false),
        ("email", None, false),
    ];
    for (key, max, required) in fields {
        if key == "addressId" && end_user || key == "endUserId" && !end_user {
            continue;
        }
        string_field(obj, at, key, required, max, p);
    }
    string_field(obj, at, "phoneNumber", false, None, p);
}

/// A checked line: `(customerLineNumber, part, quantity, requested unit price)`.
type Line = (String, String, i64, Option<Decimal>);

fn check_lines(lines: &[Value], p: &mut Problems) -> Vec<Line> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let at = format!("lines[{i}]");
        let Some(l) = line.as_object() else {
            p.add(&at, format!("{at} must be an object"));
            continue;
        };
        let number = string_field(l, &at, "customerLineNumber", true, Some(3), p);
        if let Some(n) = &number {
            match n.parse::<u32>() {
                Ok(v) if (1..=884).contains(&v) => {
                    if seen.contains(n) {
                        p.add(
                            format!("{at}.customerLineNumber"),
                            format!("{at}.customerLineNumber {n} is not unique"),
                        );
                    }
                    seen.push(n.clone());
                }
                _ => p.add(
                    format!("{at}.customerLineNumber"),
                    format!("{at}.customerLineNumber must be numeric 1-884, got {n:?}"),
                ),
            }
        }
        let part = string_field(l, &at, "ingramPartNumber", true, Some(18), p);
        let qty = integer_field(l, &at, "quantity", true, 1, p);
        let price = number_field(l, &at, "unitPrice", false, p);
        string_field(l, &at, "notes", false, None, p);
        string_field(l, &at, "specialBidNumber", false, Some(36), p);
        if let (Some(n), Some(part), Some(q)) = (number, part, qty) {
            out.push((n, part, q, price));
        }
    }
    out
}

/// Validates an order body; returns the checked lines and whether duplicates are allowed.
fn check_order(
    obj: &Map<String, Value>,
    us: bool,
    p: &mut Problems,
) -> (Option<String>, Vec<Line>, bool) {
    let number = string_field(obj, "", "customerOrderNumber", true, Some(35), p);
    string_field(obj, "", "endCustomerOrderNumber", false, None, p);
    string_field(obj, "", "notes", false, None, p);
    string_field(obj, "", "billToAddressId", false, Some(10), p);
    string_field(obj, "", "specialBidNumber", false, None, p);
    bool_field(obj, "", "acceptBackOrder", p);
    if let Some(s) = object_field(obj, "", "shipToInfo", false, p) {
        check_address(s, "shipToInfo", false, us, p);
    }
    if let Some(e) = object_field(obj, "", "endUserInfo", false, p) {
        check_address(e, "endUserInfo", true, us, p);
    }
    let mut allow_duplicate = false;
    if let Some(attrs) = array_field(obj, "", "additionalAttributes", false, p) {
        for (i, a) in attrs.iter().enumerate() {
            let at = format!("additionalAttributes[{i}]");
            let Some(a) = a.as_object() else {
                p.add(&at, format!("{at} must be an object"));
                continue;
            };
            let name = string_field(a, &at, "attributeName", true, None, p);
            let value = string_field(a, &at, "attributeValue", true, None, p);
            if name.as_deref() == Some("allowDuplicateCustomerOrderNumber") {
                allow_duplicate = value.as_deref() == Some("true");
            }
        }
    }
    let lines = array_field(obj, "", "lines", false, p)
        .map(|l| check_lines(l, p))
        .unwrap_or_default();
    (number, lines, allow_duplicate)
}

/// Places the order; unknown parts go to `rejectedLineItems`.
fn place(
    w: &mut SimState,
    obj: &Map<String, Value>,
    number: &str,
    lines: &[Line],
) -> (Value, usize) {
    let order_number = format!("20-{:05}", w.bump());
    let today = w.today();
    let mut detail_lines = Vec::new();
    let mut create_lines = Vec::new();
    let mut rejected = Vec::new();
    let mut total = Decimal::ZERO;
    for (n, part, qty, _requested) in lines {
        let Some(product) = w
            .ingram
            .products
            .iter()
            .find(|p| &p.ingram_part_number == part)
            .cloned()
        else {
            rejected.push(json!({"customerLineNumber": n, "ingramPartNumber": part, "quantityOrdered": qty,
                                 "rejectCode": "EF", "rejectReason": format!("ingramPartNumber {part} is not a valid part")}));
            continue;
        };
        let line_number = format!("{:03}", detail_lines.len() + 1);
        let ext = product.unit_price * Decimal::from(*qty);
        total += ext;
        detail_lines.push(json!({
            "subOrderNumber": format!("{order_number}-11"), "ingramOrderLineNumber": line_number,
            "customerLineNumber": n, "lineStatus": "Shipped", "ingramPartNumber": part,
            "vendorPartNumber": product.vendor_part_number, "partDescription": product.description,
            "unitPrice": num(product.unit_price), "extendedPrice": num(ext), "taxAmount": 0,
            "currencyCode": "USD", "quantityOrdered": qty, "quantityConfirmed": qty, "quantityBackOrdered": 0,
        }));
        create_lines.push(json!({
            "subOrderNumber": format!("{order_number}-11"), "ingramLineNumber": line_number,
            "customerLineNumber": n, "lineStatus": "Processing", "ingramPartNumber": part,
            "vendorPartNumber": product.vendor_part_number, "unitPrice": num(product.unit_price),
            "extendedUnitPrice": num(ext), "quantityOrdered": qty, "quantityConfirmed": qty, "quantityBackOrdered": 0,
        }));
    }
    let accepted = create_lines.len();
    if accepted > 0 {
        w.ingram.orders.push(json!({
            "ingramOrderNumber": order_number, "ingramOrderDate": today.to_string(),
            "orderType": "S", "customerOrderNumber": number,
            "endCustomerOrderNumber": obj.get("endCustomerOrderNumber"),
            "orderStatus": "Shipped", "orderTotal": num(total), "orderSubTotal": num(total),
            "freightCharges": 0, "currencyCode": "USD", "totalTax": 0,
            "shipToInfo": obj.get("shipToInfo"), "endUserInfo": obj.get("endUserInfo"),
            "lines": detail_lines,
        }));
    }
    let response = json!({
        "customerOrderNumber": number,
        "endCustomerOrderNumber": obj.get("endCustomerOrderNumber"),
        "purchaseOrderTotal": num(total),
        "orders": [{
            "numberOfLines": accepted, "ingramOrderNumber": if accepted > 0 { Value::from(order_number) } else { Value::Null },
            "ingramOrderDate": today.to_string(), "orderType": "S", "orderTotal": num(total),
            "freightCharges": 0, "currencyCode": "USD", "orderSplit": false,
            "lines": create_lines, "rejectedLineItems": rejected,
        }],
    });
    (response, accepted)
}

/// `POST /resellers/v6/orders`: 201, 207 when some lines are rejected, 400 otherwise.
async fn create_order(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let correlation = match check_headers(&app, &headers, false) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(e) => return fail(StatusCode::BAD_REQUEST, "body", &e),
    };
    let us = matches!(header(&headers, "IM-CountryCode"), Some("US" | "CA"));
    let mut p = Problems::default();
    let (number, lines, allow_duplicate) = check_order(&obj, us, &mut p);
    let mut w = lock(&app.world);
    if let Some(n) = &number
        && !allow_duplicate
        && w.ingram
            .orders
            .iter()
            .any(|o| o["customerOrderNumber"] == n.as_str())
    {
        p.add(
            "customerOrderNumber",
            format!("customerOrderNumber {n} already exists: duplicate orders are not allowed"),
        );
    }
    let Some(number) = number.filter(|_| p.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, &correlation, &p, &obj);
    };
    if lines.is_empty() {
        p.add(
            "lines",
            "lines is required: an order needs at least one line",
        );
        return error(StatusCode::BAD_REQUEST, &correlation, &p, &obj);
    }
    let (response, accepted) = place(&mut w, &obj, &number, &lines);
    let status = if accepted == 0 {
        StatusCode::BAD_REQUEST
    } else if accepted < lines.len() {
        StatusCode::MULTI_STATUS
    } else {
        StatusCode::CREATED
    };
    crate::common::json(status, response)
}

async fn order(State(app): State<App>, headers: HeaderMap, Path(number): Path<String>) -> Response {
    if let Err(r) = check_headers(&app, &headers, false) {
        return r;
    }
    let w = lock(&app.world);
    match w
        .ingram
        .orders
        .iter()
        .find(|o| o["ingramOrderNumber"] == number.as_str())
    {
        Some(o) => crate::common::json(StatusCode::OK, o.clone()),
        None => fail(
            StatusCode::NOT_FOUND,
            "ordernumber",
            &format!("order {number} not found"),
        ),
    }
}

/// `GET /resellers/v6/orders/search?customerOrderNumber=`: how a client looks an order up
/// before ordering again.
async fn search_orders(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check_headers(&app, &headers, false) {
        return r;
    }
    let w = lock(&app.world);
    let found: Vec<Value> = w
        .ingram
        .orders
        .iter()
        .filter(|o| q.get("customerOrderNumber").is_none_or(|n| o["customerOrderNumber"] == n.as_str()))
        .filter(|o| q.get("ingramOrderNumber").is_none_or(|n| o["ingramOrderNumber"] == n.as_str()))
        .map(|o| {
            json!({"ingramOrderNumber": o["ingramOrderNumber"], "ingramOrderDate": o["ingramOrderDate"],
                   "customerOrderNumber": o["customerOrderNumber"], "orderStatus": o["orderStatus"],
                   "orderTotal": o["orderTotal"], "currencyCode": o["currencyCode"]})
        })
        .collect();
    crate::common::json(
        StatusCode::OK,
        json!({"recordsFound": found.len(), "pageSize": 25, "pageNumber": 1, "orders": found}),
    )
}

async fn search_invoices(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check_headers(&app, &headers, true) {
        return r;
    }
    let w = lock(&app.world);
    let found: Vec<Value> = w
        .ingram
        .invoices
        .iter()
        .filter(|i| q.get("customerOrderNumber").is_none_or(|n| i["customerOrderNumber"] == n.as_str()))
        .filter(|i| q.get("orderNumber").is_none_or(|n| i["ingramOrderNumber"] == n.as_str()))
        // The spec's `invoiceFromDate`/`invoiceToDate` (inclusive, `YYYY-MM-DD`).
        .filter(|i| {
            let day = i["invoiceDate"].as_str().unwrap_or_default();
            q.get("invoiceFromDate").is_none_or(|f| day >= f.as_str())
                && q.get("invoiceToDate").is_none_or(|t| day <= t.as_str())
        })
        .map(|i| {
            json!({"invoiceNumber": i["invoiceNumber"], "invoiceStatus": i["invoiceStatus"],
                   "invoiceDate": i["invoiceDate"], "invoiceDueDate": i["invoiceDueDate"],
                   "erpOrderNumber": i["ingramOrderNumber"], "customerOrderNumber": i["customerOrderNumber"],
                   "invoicedAmountDue": i["summary"]["totals"]["invoicedAmountDue"],
                   "orderCreateDate": i["orderCreateDate"]})
        })
        .collect();
    crate::common::json(
        StatusCode::OK,
        json!({"invoices": found.clone(), "recordsFound": found.len(), "pageSize": 25, "pageNumber": 1}),
    )
}

async fn invoice(
    State(app): State<App>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Response {
    if let Err(r) = check_headers(&app, &headers, true) {
        return r;
    }
    let w = lock(&app.world);
    match w
        .ingram
        .invoices
        .iter()
        .find(|i| i["invoiceNumber"] == number.as_str())
    {
        Some(i) => crate::common::json(StatusCode::OK, i.clone()),
        None => fail(
            StatusCode::NOT_FOUND,
            "invoiceNumber",
            &format!("invoice {number} not found"),
        ),
    }
}

/// Invoices every order placed up to the end of the month of `start` not invoiced yet: one
/// invoice per order, its lines at the order's prices, a serial number per unit of a
/// serialized (hardware) part. Dated the order's date, or the month's first day if earlier.
pub fn bill(w: &mut SimState, start: NaiveDate) -> Vec<String> {
    let end = month_end(start);
    let orders: Vec<Value> = w
        .ingram
        .orders
        .iter()
        .filter(|o| {
            o["ingramOrderDate"]
                .as_str()
                .and_then(crate::common::parse_date)
                .is_some_and(|d| d <= end)
                && !w
                    .ingram
                    .invoiced_orders
                    .iter()
                    .any(|n| o["ingramOrderNumber"] == n.as_str())
        })
        .cloned()
        .collect();
    let mut ids = Vec::new();
    for o in orders {
        let ordered = o["ingramOrderDate"]
            .as_str()
            .and_then(crate::common::parse_date)
            .unwrap_or(start);
        let date = ordered.max(start);
        let number = format!("{}", 9_000_000 + w.bump());
        let mut lines = Vec::new();
        let mut total = Decimal::ZERO;
        for l in o["lines"].as_array().cloned().unwrap_or_default() {
            let part = l["ingramPartNumber"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let serialized = w
                .ingram
                .products
                .iter()
                .any(|p| p.ingram_part_number == part && p.serialized);
            let qty = l["quantityConfirmed"].as_i64().unwrap_or(0);
            let serials: Vec<Value> = if serialized {
                (0..qty)
                    .map(|_| json!({"serialNumber": format!("SN{}{:06}", part, w.bump())}))
                    .collect()
            } else {
                Vec::new()
            };
            let ext = l["extendedPrice"]
                .as_number()
                .and_then(crate::common::decimal_of)
                .unwrap_or_default();
            total += ext;
            lines.push(json!({
                "ingramLineNumber": l["ingramOrderLineNumber"], "customerLineNumber": l["customerLineNumber"],
                "ingramPartNumber": part, "vendorPartNumber": l["vendorPartNumber"],
                "productDescription": l["partDescription"], "quantity": qty,
                "unitPrice": l["unitPrice"], "extendedPrice": l["extendedPrice"], "taxAmount": 0,
                "currencyCode": "USD", "serialNumbers": serials,
            }));
        }
        let count = lines.len();
        w.ingram.invoices.push(json!({
            "invoiceNumber": number, "invoiceStatus": "OPEN", "invoiceDate": date.to_string(),
            "invoiceDueDate": (date + chrono::Days::new(30)).to_string(),
            "orderCreateDate": o["ingramOrderDate"], "customerOrderNumber": o["customerOrderNumber"],
            "endCustomerOrderNumber": o["endCustomerOrderNumber"], "ingramOrderNumber": o["ingramOrderNumber"],
            "lines": lines,
            "summary": {"lines": count, "miscCharges": [], "totals": {
                "netInvoiceAmount": num(total), "discountAmount": 0, "totalTaxAmount": 0,
                "invoicedAmountDue": num(total), "freightAmount": 0}},
        }));
        if let Some(n) = o["ingramOrderNumber"].as_str() {
            w.ingram.invoiced_orders.push(n.to_string());
        }
        ids.push(number);
    }
    ids
}
