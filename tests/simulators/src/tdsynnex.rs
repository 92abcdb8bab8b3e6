//! TD SYNNEX StreamOne Ion v3: refresh-token OAuth (`/oauth/token`, `/oauth/validateAccess`),
//! customers, carts and cart items, checkout into an order, orders and subscriptions read, and
//! a quantity change through an `UPDATE` cart item. Paths and read shapes from
//! `techdata-cloudautomation/StreamOneIonSDKPython` (`StreamOneSDK/client.py`,
//! `StreamOneSDK/v3/README.md`, `v3/orders/orders.py`, `v3/subscriptions/subscriptions.py`);
//! the cart write paths and bodies are not published (README).

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
use serde_json::{Map, Value, json};

use crate::common::{
    App, Problems, Vendor, bearer_ok, enum_field, integer_field, issue_token, lock, num,
    parse_form, parse_object, string_field,
};
use crate::state::{SimState, TdPlan, TdProduct, TdSku};

const BASE: &str = "/api/v3/accounts/{account}";

/// The TD SYNNEX router.
pub fn router() -> Router<App> {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/oauth/validateAccess", post(validate))
        .route(&format!("{BASE}/customers"), get(customers))
        .route(&format!("{BASE}/customers/{{customer}}"), get(customer))
        .route(
            &format!("{BASE}/customers/{{customer}}/carts"),
            post(create_cart),
        )
        .route(
            &format!("{BASE}/customers/{{customer}}/carts/{{cart}}"),
            get(cart),
        )
        .route(
            &format!("{BASE}/customers/{{customer}}/carts/{{cart}}/cartItems"),
            post(add_item),
        )
        .route(
            &format!("{BASE}/customers/{{customer}}/carts/{{cart}}/checkout"),
            post(checkout),
        )
        .route(
            &format!("{BASE}/customers/{{customer}}/orders"),
            get(customer_orders),
        )
        .route(
            &format!("{BASE}/customers/{{customer}}/orders/{{order}}"),
            get(order),
        )
        .route(&format!("{BASE}/orders"), get(account_orders))
        .route(&format!("{BASE}/subscriptions"), get(subscriptions))
        .route(
            &format!("{BASE}/customers/{{customer}}/subscriptions/{{sub}}"),
            get(subscription),
        )
}

/// Error body (not published; Google-API style as Ion's resource names suggest).
fn error(status: StatusCode, problems: &Problems) -> Response {
    let details: Vec<Value> = problems
        .0
        .iter()
        .map(|p| json!({"field": p.field, "description": p.message}))
        .collect();
    crate::common::json(
        status,
        json!({"code": status.as_u16(), "message": problems.first_message(),
               "status": status.canonical_reason(), "details": details}),
    )
}

fn fail(status: StatusCode, field: &str, message: &str) -> Response {
    let mut p = Problems::default();
    p.add(field, message);
    error(status, &p)
}

/// `POST /oauth/token`, form `grant_type=refresh_token&refresh_token=…`: a new access token and
/// a new refresh token (the SDK stores both). Earlier refresh tokens stay valid (simplified).
async fn token(State(app): State<App>, body: Bytes) -> Response {
    let form = parse_form(&String::from_utf8_lossy(&body));
    if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
        return crate::common::json(
            StatusCode::BAD_REQUEST,
            json!({"error": "unsupported_grant_type", "error_description": "grant_type must be refresh_token"}),
        );
    }
    let ok = {
        let w = lock(&app.world);
        let given = form
            .get("refresh_token")
            .map(String::as_str)
            .unwrap_or_default();
        given == w.credentials.tdsynnex_refresh_token || given.starts_with("tdsynnex-refresh-")
    };
    if !ok {
        return crate::common::json(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_grant", "error_description": "refresh_token is not valid"}),
        );
    }
    let access = issue_token(&app, Vendor::Tdsynnex);
    let refresh = access.replace("tdsynnex-token-", "tdsynnex-refresh-");
    crate::common::json(
        StatusCode::OK,
        json!({"access_token": access, "refresh_token": refresh, "token_type": "Bearer", "expires_in": 3600}),
    )
}

/// `POST /oauth/validateAccess`, form `access_token=…`: 200 when valid.
async fn validate(State(app): State<App>, body: Bytes) -> Response {
    let form = parse_form(&String::from_utf8_lossy(&body));
    let token = form.get("access_token").cloned().unwrap_or_default();
    let valid = lock(&app.tokens).get(&token) == Some(&Vendor::Tdsynnex);
    if valid {
        crate::common::json(StatusCode::OK, json!({"valid": true}))
    } else {
        crate::common::json(StatusCode::UNAUTHORIZED, json!({"valid": false}))
    }
}

/// The bearer token and the account in the path.
fn check(app: &App, headers: &HeaderMap, account: &str) -> Result<(), Response> {
    if !bearer_ok(app, headers, Vendor::Tdsynnex) {
        return Err(fail(
            StatusCode::UNAUTHORIZED,
            "Authorization",
            "a valid bearer token is required",
        ));
    }
    let mine = lock(&app.world).tdsynnex.account_id.clone();
    if account != mine {
        return Err(fail(
            StatusCode::FORBIDDEN,
            "accountId",
            &format!("account {account} is not yours"),
        ));
    }
    Ok(())
}

fn customer_json(account: &str, c: &crate::state::TdCustomer) -> Value {
    json!({"id": c.id, "name": format!("accounts/{account}/customers/{}", c.id),
           "customerOrganization": c.customer_organization, "customerName": c.customer_name,
           "customerEmail": c.customer_email, "customerStatus": "ACTIVE", "languageCode": "EN"})
}

async fn customers(
    State(app): State<App>,
    headers: HeaderMap,
    Path(account): Path<String>,
) -> Response {
    if let Err(r) = check(&app, &headers, &account) {
        return r;
    }
    let w = lock(&app.world);
    let list: Vec<Value> = w
        .tdsynnex
        .customers
        .iter()
        .map(|c| customer_json(&account, c))
        .collect();
    crate::common::json(
        StatusCode::OK,
        json!({"customers": list, "nextPageToken": ""}),
    )
}

async fn customer(
    State(app): State<App>,
    headers: HeaderMap,
    Path((account, id)): Path<(String, String)>,
) -> Response {
    if let Err(r) = check(&app, &headers, &account) {
        return r;
    }
    let w = lock(&app.world);
    match w.tdsynnex.customers.iter().find(|c| c.id == id) {
        Some(c) => crate::common::json(StatusCode::OK, customer_json(&account, c)),
        None => fail(
            StatusCode::NOT_FOUND,
            "customerId",
            &format!("customer {id} not found"),
        ),
    }
}

fn known_customer(w: &SimState, id: &str) -> Result<(), Response> {
    if w.tdsynnex.customers.iter().any(|c| c.id == id) {
        Ok(())
    } else {
        Err(fail(
            StatusCode::NOT_FOUND,
            "customerId",
            &format!("customer {id} not found"),
        ))
    }
}

/// `POST …/customers/{c}/carts`: `{displayName?, resellerPo?, customerPo?}`.
async fn create_cart(
    State(app): State<App>,
    headers: HeaderMap,
    Path((account, customer)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Err(r) = check(&app, &headers, &account) {
        return r;
    }
    let obj = if body.is_empty() {
        Ok(Map::new())
    } else {
        parse_object(&body)
    };
    let obj = match obj {
        Ok(o) => o,
        Err(e) => return fail(StatusCode::BAD_REQUEST, "body", &e),
    };
    let mut p = Problems::default();
    let display = string_field(&obj, "", "displayName", false, Some(100), &mut p);
    let reseller_po = string_field(&obj, "", "resellerPo", false, Some(50), &mut p);
    let customer_po = string_field(&obj, "", "customerPo", false, Some(50), &mut p);
    if !p.is_empty() {
        return error(StatusCode::BAD_REQUEST, &p);
    }
    let mut w = lock(&app.world);
    if let Err(r) = known_customer(&w, &customer) {
        return r;
    }
    let id = format!("{}", 50_000 + w.bump());
    let cart = json!({
        "id": id, "name": format!("accounts/{account}/customers/{customer}/carts/{id}"),
        "customerId": customer, "displayName": display, "resellerPo": reseller_po,
        "customerPo": customer_po, "status": "OPEN", "items": [],
    });
    w.tdsynnex.carts.push(cart.clone());
    crate::common::json(StatusCode::OK, cart)
}

fn find_cart<'a>(
    w: &'a mut SimState,
    customer: &str,
    cart: &str,
) -> Result<&'a mut Value, Response> {
    w.tdsynnex
        .carts
        .iter_mut()
        .find(|c| c["id"] == cart && c["customerId"] == customer)
        .ok_or_else(|| {
            fail(
                StatusCode::NOT_FOUND,
                "cartId",
                &format!("cart {cart} not found for customer {customer}"),
            )
        })
}

async fn cart(
    State(app): State<App>,
    headers: HeaderMap,
    Path((account, customer, cart)): Path<(String, String, String)>,
) -> Response {
    if let Err(r) = check(&app, &headers, &account) {
        return r;
    }
    let mut w = lock(&app.world);
    match find_cart(&mut w, &customer, &cart) {
        Ok(c) => crate::common::json(StatusCode::OK, c.clone()),
        Err(r) => r,
    }
}

/// The catalogue entries named by a cart item, or the problems with them.
fn resolve<'a>(
    w: &'a SimState,
    product: &str,
    sku: &str,
    plan: &str,
    p: &mut Problems,
) -> Option<(&'a TdProduct, &'a TdSku, &'a TdPlan)> {
    let Some(prod) = w.tdsynnex.products.iter().find(|x| x.id == product) else {
        p.add(
            "productId",
            format!("productId {product} is not a TD SYNNEX catalogue product"),
        );
        return None;
    };
    let Some(s) = prod.skus.iter().find(|x| x.id == sku) else {
        p.add(
            "skuId",
            format!("skuId {sku} is not a sku of product {product}"),
        );
        return None;
    };
    let Some(pl) = s.plans.iter().find(|x| x.id == plan) else {
        p.add(
            "planId",
            format!("planId {plan} is not a plan of sku {sku}"),
        );
        return None;
    };
    Some((prod, s, pl))
}

/// `POST …/carts/{cart}/cartItems`: `{action, productId, skuId, planId, quantity}`; an
/// `UPDATE` names the `subscriptionId` whose quantity changes.
async fn add_item(
    State(app): State<App>,
    headers: HeaderMap,
    Path((account, customer, cart)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if let Err(r) = check(&app, &headers, &account) {
        return r;
    }
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(e) => return fail(StatusCode::BAD_REQUEST, "body", &e),
    };
    let mut w = lock(&app.world);
    let mut p = Problems::default();
    let action = enum_field(&obj, "", "action", true, &["CREATE", "UPDATE"], &mut p);
    let quantity = integer_field(&obj, "", "quantity", true, 1, &mut p);
    let item = match action.as_deref() {
        Some("UPDATE") => {
            let sub = string_field(&obj, "", "subscriptionId", true, None, &mut p);
            if let Some(s) = &sub
                && !w.tdsynnex.subscriptions.iter().any(|x| {
                    x["subscriptionId"] == s.as_str() && x["customerId"] == customer.as_str()
                })
            {
                p.add(
                    "subscriptionId",
                    format!("subscriptionId {s} is not a subscription of customer {customer}"),
                );
            }
            json!({"action": "UPDATE", "subscriptionId": sub, "quantity": quantity})
        }
        _ => {
            let product = string_field(&obj, "", "productId", true, None, &mut p);
            let sku = string_field(&obj, "", "skuId", true, None, &mut p);
            let plan = string_field(&obj, "", "planId", true, None, &mut p);
            if let (Some(a), Some(b), Some(c)) = (&product, &sku, &plan) {
                resolve(&w, a, b, c, &mut p);
            }
            json!({"action": "CREATE", "productId": product, "skuId": sku, "planId": plan, "quantity": quantity})
        }
    };
    if !p.is_empty() {
        return error(StatusCode::BAD_REQUEST, &p);
    }
    let id = format!("{}", 70_000 + w.bump());
    let cart = match find_cart(&mut w, &customer, &cart) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if cart["status"] != "OPEN" {
        return fail(
            StatusCode::BAD_REQUEST,
            "cartId",
            "the cart is already checked out",
        );
    }
    let mut item = item;
    if let Some(o) = item.as_object_mut() {
        o.insert("id".into(), Value::String(id));
    }
    if let Some(items) = cart.get_mut("items").and_then(Value::as_array_mut) {
        items.push(item.clone());
    }
    crate::common::json(StatusCode::OK, item)
}

/// One subscription from a `CREATE` item (the SDK's subscription read shape).
fn new_subscription(w: &mut SimState, customer: &str, cart: &Value, item: &Value) -> Option<Value> {
    let mut p = Problems::default();
    let (prod, sku, plan) = resolve(
        w,
        item["productId"].as_str()?,
        item["skuId"].as_str()?,
        item["planId"].as_str()?,
        &mut p,
    )?;
    let (prod, sku, plan) = (prod.clone(), sku.clone(), plan.clone());
    let start = w.today();
    let months = match plan.term_duration.as_str() {
        "P1Y" => 12,
        "P3Y" => 36,
        _ => 1,
    };
    let end = crate::common::add_months(start, months);
    let cycle = plan.billing_period.to_lowercase();
    let id = crate::common::uuid_from(0x7d50_0003, w.bump());
    let qty = item["quantity"].as_i64().unwrap_or(0);
    let customer_name = w
        .tdsynnex
        .customers
        .iter()
        .find(|c| c.id == customer)
        .map(|c| c.customer_organization.clone());
    Some(json!({
        "id": format!("{}", w.bump()), "customerId": customer, "subscriptionId": id,
        "subscriptionName": sku.display_name, "ccpProductId": prod.id, "ccpSkuId": sku.id,
        "ccpPlanId": plan.id, "subscriptionProductId": sku.provider_product_id,
        "subscriptionSkuId": sku.provider_sku_id,
        "subscriptionOfferId": format!("{}:{}:{}", sku.provider_product_id, sku.provider_sku_id, plan.term_duration),
        "unitType": "Licenses", "subscriptionTotalLicenses": qty, "subscriptionStatus": "active",
        "subscriptionPurchasedDate": format!("{start}T00:00:00Z"),
        "subscriptionStartDate": format!("{start}T00:00:00Z"),
        "subscriptionEndDate": format!("{end}T00:00:00Z"),
        "cancellationAllowedUntilDate": format!("{}T00:00:00Z", start + chrono::Days::new(7)),
        "subscriptionBillingType": "license", "subscriptionBillingCycle": cycle,
        "subscriptionBillingTerm": plan.term_duration, "renewalDate": format!("{end}T00:00:00Z"),
        "customerName": customer_name, "price": num(plan.price), "cost": num(plan.cost),
        "margin": num(plan.price - plan.cost), "msrp": num(plan.price), "currency": "USD",
        "mfgPartNumber": format!("{}:{}:{}:{}", sku.provider_product_id, sku.provider_sku_id, plan.term_duration,
                                 plan.billing_period.chars().next().unwrap_or('M')),
        "customerPo": cart["customerPo"], "resellerPo": cart["resellerPo"],
    }))
}

/// `POST …/carts/{cart}/checkout`: the cart becomes an order; `CREATE` items become
/// subscriptions, `UPDATE` items change a subscription's licences.
async fn checkout(
    State(app): State<App>,
    headers: HeaderMap,
    Path((account, customer, cart_id)): Path<(String, String, String)>,
) -> Response {
    if let Err(r) = check(&app, &headers, &account) {
        return r;
    }
    let mut w = lock(&app.world);
    let cart = match find_cart(&mut w, &customer, &cart_id) {
        Ok(c) => c.clone(),
        Err(r) => return r,
    };
    if cart["status"] != "OPEN" {
        return fail(
            StatusCode::BAD_REQUEST,
            "cartId",
            &format!("cart {cart_id} is already checked out"),
        );
    }
    let items = cart["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        return fail(
            StatusCode::BAD_REQUEST,
            "items",
            &format!("cart {cart_id} has no items"),
        );
    }
    let order_id = format!("{}", 90_000 + w.bump());
    let mut order_items = Vec::new();
    for item in &items {
        let mut oi = item.clone();
        if item["action"] == "UPDATE" {
            let sub = item["subscriptionId"].clone();
            if let Some(s) = w
                .tdsynnex
                .subscriptions
                .iter_mut()
                .find(|s| s["subscriptionId"] == sub)
            {
                if let Some(o) = s.as_object_mut() {
                    o.insert("subscriptionTotalLicenses".into(), item["quantity"].clone());
                }
            }
        } else if let Some(s) = new_subscription(&mut w, &customer, &cart, item) {
            if let Some(o) = oi.as_object_mut() {
                o.insert("subscriptionId".into(), s["subscriptionId"].clone());
            }
            w.tdsynnex.subscriptions.push(s);
        }
        if let Some(o) = oi.as_object_mut() {
            o.insert("cartItemId".into(), item["id"].clone());
            o.insert(
                "referenceId".into(),
                Value::String(format!("customers/{customer}/carts/{cart_id}")),
            );
            o.insert("status".into(), Value::String("COMPLETED".into()));
            o.remove("id");
        }
        order_items.push(oi);
    }
    let order = json!({
        "id": order_id, "name": format!("accounts/{account}/customers/{customer}/orders/{order_id}"),
        "referenceId": format!("customers/{customer}/carts/{cart_id}"), "customerId": customer,
        "displayName": cart["displayName"], "status": "COMPLETED", "currencyCode": "USD",
        "cartId": cart_id, "resellerPo": cart["resellerPo"], "customerPo": cart["customerPo"],
        "createTime": format!("{}T00:00:00Z", w.today()), "orderItems": order_items,
    });
    w.tdsynnex.orders.push(order.clone());
    if let Ok(c) = find_cart(&mut w, &customer, &cart_id) {
        if let Some(o) = c.as_object_mut() {
            o.insert("status".into(), Value::String("CHECKED_OUT".into()));
        }
    }
    crate::common::json(StatusCode::OK, order)
}

async fn customer_orders(
    State(app): State<App>,
    headers: HeaderMap,
    Path((account, customer)): Path<(String, String)>,
) -> Response {
    if let Err(r) = check(&app, &headers, &account) {
        return r;
    }
    let w = lock(&app.world);
    let list: Vec<Value> = w
        .tdsynnex
        .orders
        .iter()
        .filter(|o| o["customerId"] == customer.as_str())
        .cloned()
        .collect();
    crate::common::json(StatusCode::OK, json!({"orders": list, "nextPageToken": ""}))
}

async fn account_orders(
    State(app): State<App>,
    headers: HeaderMap,
    Path(account): Path<String>,
) -> Response {
    if let Err(r) = check(&app, &headers, &account) {
        return r;
    }
    let w = lock(&app.world);
    crate::common::json(
        StatusCode::OK,
        json!({"orders": w.tdsynnex.orders, "nextPageToken": ""}),
    )
}

async fn order(
    State(app): State<App>,
    headers: HeaderMap,
    Path((account, customer, id)): Path<(String, String, String)>,
) -> Response {
    if let Err(r) = check(&app, &headers, &account) {
        return r;
    }
    let w = lock(&app.world);
    match w
        .tdsynnex
        .orders
        .iter()
        .find(|o| o["id"] == id.as_str() && o["customerId"] == customer.as_str())
    {
        Some(o) => crate::common::json(StatusCode::OK, o.clone()),
        None => fail(
            StatusCode::NOT_FOUND,
            "orderId",
            &format!("order {id} not found"),
        ),
    }
}

/// `GET …/subscriptions` with the SDK's filters and `pagination.limit`/`pagination.offset`;
/// answers `{items}` (an empty page ends the SDK's loop).
async fn subscriptions(
    State(app): State<App>,
    headers: HeaderMap,
    Path(account): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check(&app, &headers, &account) {
        return r;
    }
    let mut p = Problems::default();
    let limit = crate::common::query_number(&q, "pagination.limit", 10, 1000, &mut p);
    let offset = crate::common::query_number(&q, "pagination.offset", 0, usize::MAX, &mut p);
    if !p.is_empty() {
        return error(StatusCode::BAD_REQUEST, &p);
    }
    let filters = [
        ("customerId", "customerId"),
        ("subscriptionId", "subscriptionId"),
        ("subscriptionStatus", "subscriptionStatus"),
        ("ccpProductId", "ccpProductId"),
        ("customerPo", "customerPo"),
        ("resellerPo", "resellerPo"),
    ];
    let w = lock(&app.world);
    let list: Vec<Value> = w
        .tdsynnex
        .subscriptions
        .iter()
        .filter(|s| {
            filters.iter().all(|(param, field)| {
                q.get(*param).is_none_or(|v| {
                    s[*field]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(v))
                })
            })
        })
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    crate::common::json(StatusCode::OK, json!({"items": list}))
}

async fn subscription(
    State(app): State<App>,
    headers: HeaderMap,
    Path((account, customer, id)): Path<(String, String, String)>,
) -> Response {
    if let Err(r) = check(&app, &headers, &account) {
        return r;
    }
    let w = lock(&app.world);
    match w
        .tdsynnex
        .subscriptions
        .iter()
        .find(|s| s["subscriptionId"] == id.as_str() && s["customerId"] == customer.as_str())
    {
        Some(s) => crate::common::json(StatusCode::OK, s.clone()),
        None => fail(
            StatusCode::NOT_FOUND,
            "subscriptionId",
            &format!("subscription {id} not found"),
        ),
    }
}
