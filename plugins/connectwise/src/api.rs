//! The conversations with ConnectWise Manage's REST API (see the SDK's `exchange`).
//!
//! A push of the sales documents: the agreement contact (the link's `contact`, else the
//! company's `defaultContact` from `GET /company/companies/{id}`), the billing cycles' ids
//! (`GET /finance/billingCycles`, by name), then each agreement, its additions, the sales order
//! and its products, each create taking the ids of the answers before it. ConnectWise has no
//! idempotency key: a create whose answer was lost is looked up first (agreements by
//! `customerPO` and `name`, additions by product on the agreement, the order by `poNumber`,
//! products by catalogue item on the order) and created again only when nothing is found.
//!
//! A seat change (`PushDocument::Change`) cancels the line's addition on the day before the
//! new quantity is billed and adds one at the new quantity from that day, at the addition's own
//! price: ConnectWise has no dated quantity on an addition, and editing the quantity in place
//! would rebill (or unbill) periods already invoiced at the old one. Serial numbers
//! (`PushDocument::Serials`) are added to the procurement product's `serialNumbers`.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tenor_plugin_sdk::connector::{date_prefix, invalid, value_decimal};
use tenor_plugin_sdk::conversation::{
    Conversation, Create, Flow, Refused, request, vendor_message,
};
use tenor_plugin_sdk::exchange::{
    Accounts, Effect, Method, PullInput, PullKind, PullStep, Pulled, PushDocument, PushInput,
    PushStep, Request, Response, Serial, Subscription, VendorRef,
};
use tenor_plugin_sdk::{PluginError, SalesInput, step};

use crate::{
    AgreementDocument, COMPANY_KEY, CONTACT_KEY, Ids, Reference, agreement_type, documents,
    sales_rep,
};

/// The next step of a push.
pub fn push_step(input: &PushInput) -> Result<PushStep, PluginError> {
    let mut talk = Conversation::new(&input.exchanges);
    let refs = match &input.document {
        PushDocument::Sales { sales } => {
            step!(push_sales(&mut talk, sales, &input.accounts)?, send)
        }
        PushDocument::Change {
            change_order,
            pushed,
        } => step!(push_change(&mut talk, change_order, pushed)?, send),
        PushDocument::Serials { serials, pushed } => {
            step!(push_serials(&mut talk, serials, pushed)?, send)
        }
        PushDocument::Fixes { id, fixes, pushed } => step!(
            crate::fixes::push_fixes(&mut talk, id, fixes, pushed)?,
            send
        ),
        PushDocument::PurchaseOrder { .. } => {
            return Err(invalid(
                "ConnectWise is the PSA: it takes the sales order and agreements, not a distributor's purchase order",
            ));
        }
    };
    talk.all_consumed()?;
    Ok(PushStep::Done { refs })
}

fn send(request: Request) -> PushStep {
    PushStep::Send { request }
}

/// A ConnectWise integer id from the customer's link; refused naming the `tenor link` that
/// sets it.
fn linked_id(accounts: &Accounts, key: &str, customer: &str) -> Result<Option<u64>, PluginError> {
    match accounts.get(key).map(|v| v.trim()) {
        None | Some("") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            invalid(format!(
                "customer {customer}'s ConnectWise `{key}` `{v}` is not a ConnectWise id (a whole number): fix it with `tenor link {customer} --connectwise {key}=ID`"
            ))
        }),
    }
}

/// `"text"` for a `conditions` query; text with a quote in it is refused, not escaped.
fn quoted(text: &str) -> Result<String, PluginError> {
    if text.contains('"') || text.contains('\\') {
        return Err(invalid(format!(
            "`{text}` cannot be looked up in ConnectWise: it holds a quote or backslash"
        )));
    }
    Ok(format!("\"{text}\""))
}

pub(crate) fn get(
    path: impl Into<String>,
    query: Vec<(String, String)>,
    purpose: impl Into<String>,
) -> Request {
    let mut r = request(Method::Get, path, Effect::Read, purpose);
    r.query = query;
    r
}

fn conditions(c: String) -> Vec<(String, String)> {
    vec![("conditions".into(), c), ("pageSize".into(), "1000".into())]
}

fn post(path: impl Into<String>, body: Value, purpose: impl Into<String>) -> Request {
    let mut r = request(Method::Post, path, Effect::Create, purpose);
    r.body = Some(body);
    r
}

/// The `id` of a created record.
fn created_id(v: &Value) -> Result<u64, PluginError> {
    v.get("id").and_then(Value::as_u64).ok_or_else(|| {
        invalid(format!(
            "ConnectWise answered a create without an `id`: {v}"
        ))
    })
}

/// ConnectWise refuses with its own words; nothing it says means "already there".
fn refused(r: &Response) -> Refused {
    Refused::Error(vendor_message(&r.body))
}

/// The first record of a lookup's answer for which `keep` holds.
fn first_match(v: &Value, keep: &dyn Fn(&Value) -> bool) -> Result<Option<u64>, PluginError> {
    let records = v
        .as_array()
        .ok_or_else(|| invalid(format!("ConnectWise answered a lookup with no list: {v}")))?;
    records.iter().find(|r| keep(r)).map(created_id).transpose()
}

/// True when the two JSON numbers (or texts) are the same decimal.
fn same_number(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a.and_then(value_decimal), b.and_then(value_decimal)) {
        (Some(x), Some(y)) => x == y,
        (None, None) => true,
        _ => false,
    }
}

/// True when the two date-times are on the same day (or both absent).
fn same_day(a: Option<&Value>, b: Option<&Value>) -> bool {
    let day = |v: Option<&Value>| v.and_then(Value::as_str).and_then(date_prefix);
    day(a) == day(b)
}

/// Sets `key` of a body object (a body that is no object is left as it is: it was made here
/// from a struct, so it always is one).
pub(crate) fn set(body: &mut Value, key: &str, value: Value) {
    if let Some(o) = body.as_object_mut() {
        o.insert(key.to_string(), value);
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, PluginError> {
    serde_json::to_value(v).map_err(|e| invalid(format!("a ConnectWise body is not JSON: {e}")))
}

/// Creates `body` at `path`, looking up with `lookup` and `keep` after a lost answer.
fn create(
    talk: &mut Conversation<'_>,
    path: String,
    body: Value,
    purpose: String,
    lookup: Request,
    keep: &dyn Fn(&Value) -> bool,
) -> Result<Flow<u64>, PluginError> {
    let found = |v: &Value| first_match(v, keep);
    talk.create(&Create {
        request: post(path, body, purpose),
        lookup,
        created: &created_id,
        found: &found,
        refused: &refused,
    })
}

/// The agreement contact: the link's, else the company's default contact.
fn contact(
    talk: &mut Conversation<'_>,
    accounts: &Accounts,
    company: u64,
    customer: &str,
) -> Result<Flow<u64>, PluginError> {
    if let Some(id) = linked_id(accounts, CONTACT_KEY, customer)? {
        return Ok(Flow::Have(id));
    }
    let read = get(
        format!("/company/companies/{company}"),
        Vec::new(),
        format!("find company {company}'s default contact"),
    );
    let body = step!(talk.read(read)?, Flow::Send);
    body.get("defaultContact")
        .and_then(|c| c.get("id"))
        .and_then(Value::as_u64)
        .map(Flow::Have)
        .ok_or_else(|| {
            invalid(format!(
                "ConnectWise company {company} has no default contact for the agreement: give it one, or link one with `tenor link {customer} --connectwise contact=ID`"
            ))
        })
}

/// The ids of the billing cycles the agreements name.
fn billing_cycles(
    talk: &mut Conversation<'_>,
    names: &[String],
) -> Result<Flow<BTreeMap<String, u64>>, PluginError> {
    let read = get(
        "/finance/billingCycles",
        vec![("pageSize".into(), "1000".into())],
        "find the billing cycles' ids",
    );
    let body = step!(talk.read(read)?, Flow::Send);
    let cycles = body.as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut ids = BTreeMap::new();
    for name in names {
        let id = cycles
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str).is_some_and(|n| n.trim().eq_ignore_ascii_case(name)))
            .and_then(|c| c.get("id"))
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                let known: Vec<&str> = cycles.iter().filter_map(|c| c.get("name").and_then(Value::as_str)).collect();
                invalid(format!(
                    "ConnectWise has no billing cycle named `{name}` (it has: {}): add it in ConnectWise's billing cycles setup",
                    known.join(", ")
                ))
            })?;
        ids.insert(name.clone(), id);
    }
    Ok(Flow::Have(ids))
}

/// The whole push of a sales order and its recurring template.
fn push_sales(
    talk: &mut Conversation<'_>,
    sales: &SalesInput,
    accounts: &Accounts,
) -> Result<Flow<Vec<VendorRef>>, PluginError> {
    let so = &sales.sales_order;
    let customer = so.customer.id.as_str();
    let accounts = if accounts.is_empty() {
        &so.customer.accounts
    } else {
        accounts
    };
    let company = linked_id(accounts, COMPANY_KEY, customer)?.ok_or_else(|| {
        invalid(format!(
            "customer {customer} has no ConnectWise company: link it with `tenor link {customer} --connectwise company=ID`"
        ))
    })?;
    let mut ids = Ids {
        company: Reference::Id { id: company },
        contact: None,
        sales_rep: sales_rep(accounts),
        agreement_type: agreement_type(accounts),
        strict: true,
    };
    // Everything that can be refused is refused before anything is sent.
    let (order, agreements) = documents(sales, &ids)?;
    let mut refs = Vec::new();
    let mut agreement_ids: BTreeMap<String, u64> = BTreeMap::new();
    if !agreements.is_empty() {
        let contact = step!(contact(talk, accounts, company, customer)?, Flow::Send);
        ids.contact = Some(Reference::Id { id: contact });
        let names: Vec<String> = agreements
            .iter()
            .filter_map(|(_, a)| cycle_name(a))
            .collect();
        let cycles = step!(billing_cycles(talk, &names)?, Flow::Send);
        for (_, doc) in &agreements {
            let id = step!(
                push_agreement(talk, doc, &ids, &cycles, &mut refs)?,
                Flow::Send
            );
            agreement_ids.insert(doc.agreement.name.clone(), id);
        }
    }
    let po = quoted(&order.sales_order.po_number)?;
    let order_id = step!(
        create(
            talk,
            "/sales/orders".into(),
            to_value(&order.sales_order)?,
            format!("create the sales order {}", so.id),
            get(
                "/sales/orders",
                conditions(format!("poNumber={po}")),
                format!("look up sales order {} before creating it again", so.id)
            ),
            &|_| true,
        )?,
        Flow::Send
    );
    refs.push(VendorRef {
        kind: "sales_order".into(),
        id: order_id.to_string(),
        line: None,
    });
    let products = step!(
        push_products(talk, &order.products, order_id, &agreement_ids)?,
        Flow::Send
    );
    refs.extend(products);
    Ok(Flow::Have(refs))
}

/// The sales order's product lines, each on the order and the agreement that bills it.
fn push_products(
    talk: &mut Conversation<'_>,
    products: &[crate::ProductBody],
    order_id: u64,
    agreement_ids: &BTreeMap<String, u64>,
) -> Result<Flow<Vec<VendorRef>>, PluginError> {
    let mut refs = Vec::new();
    for p in products {
        let mut body = to_value(p)?;
        set(&mut body, "salesOrder", json!({"id": order_id}));
        if let Some(name) = p.agreement.as_ref().and_then(reference_name) {
            let id = agreement_ids.get(&name).ok_or_else(|| {
                invalid(format!(
                    "line {} is billed by agreement `{name}`, which was not created",
                    p.line
                ))
            })?;
            set(&mut body, "agreement", json!({"id": id}));
        }
        let item = body
            .pointer("/catalogItem/identifier")
            .unwrap_or(&Value::Null)
            .as_str()
            .map(quoted)
            .transpose()?
            .unwrap_or_default();
        let lookup = get(
            "/procurement/products",
            conditions(format!(
                "salesOrder/id={order_id} and catalogItem/identifier={item}"
            )),
            format!(
                "look up line {} on sales order {order_id} before creating it again",
                p.line
            ),
        );
        let want = body.clone();
        let keep = move |r: &Value| {
            same_number(r.get("quantity"), want.get("quantity"))
                && same_number(r.get("price"), want.get("price"))
        };
        let id = step!(
            create(
                talk,
                "/procurement/products".into(),
                body,
                format!("add line {} to sales order {order_id}", p.line),
                lookup,
                &keep
            )?,
            Flow::Send
        );
        refs.push(VendorRef {
            kind: "product".into(),
            id: id.to_string(),
            line: Some(p.line),
        });
    }
    Ok(Flow::Have(refs))
}

fn reference_name(r: &Reference) -> Option<String> {
    match r {
        Reference::Name { name } => Some(name.clone()),
        _ => None,
    }
}

fn cycle_name(a: &AgreementDocument) -> Option<String> {
    reference_name(&a.agreement.billing_cycle)
}

/// One agreement and its additions; the agreement's id.
fn push_agreement(
    talk: &mut Conversation<'_>,
    doc: &AgreementDocument,
    ids: &Ids,
    cycles: &BTreeMap<String, u64>,
    refs: &mut Vec<VendorRef>,
) -> Result<Flow<u64>, PluginError> {
    let a = &doc.agreement;
    let mut body = to_value(a)?;
    set(&mut body, "contact", to_value(&ids.contact)?);
    if let Some(id) = cycle_name(doc).and_then(|n| cycles.get(&n)) {
        set(&mut body, "billingCycle", json!({"id": id}));
    }
    let lookup = get(
        "/finance/agreements",
        conditions(format!(
            "customerPO={} and name={}",
            quoted(&a.customer_po)?,
            quoted(&a.name)?
        )),
        format!("look up agreement `{}` before creating it again", a.name),
    );
    let id = step!(
        create(
            talk,
            "/finance/agreements".into(),
            body,
            format!("create agreement `{}`", a.name),
            lookup,
            &|_| true
        )?,
        Flow::Send
    );
    refs.push(VendorRef {
        kind: "agreement".into(),
        id: id.to_string(),
        line: None,
    });
    for x in &doc.additions {
        let body = to_value(x)?;
        let addition = step!(create_addition(talk, id, body, x.line)?, Flow::Send);
        refs.push(VendorRef {
            kind: if x.discount { "discount" } else { "addition" }.into(),
            id: format!("{id}/{addition}"),
            line: Some(x.line),
        });
    }
    Ok(Flow::Have(id))
}

/// An addition on agreement `agreement`, looked up by product, effective date, quantity and
/// price after a lost answer.
pub(crate) fn create_addition(
    talk: &mut Conversation<'_>,
    agreement: u64,
    body: Value,
    line: u32,
) -> Result<Flow<u64>, PluginError> {
    let item = body
        .pointer("/product/identifier")
        .unwrap_or(&Value::Null)
        .as_str()
        .map(quoted)
        .transpose()?
        .unwrap_or_default();
    let path = format!("/finance/agreements/{agreement}/additions");
    let lookup = get(
        path.clone(),
        conditions(format!("product/identifier={item}")),
        format!("look up line {line}'s addition on agreement {agreement} before creating it again"),
    );
    let want = body.clone();
    let keep = move |r: &Value| {
        same_day(r.get("effectiveDate"), want.get("effectiveDate"))
            && same_day(r.get("cancelledDate"), want.get("cancelledDate"))
            && same_number(r.get("quantity"), want.get("quantity"))
            && same_number(r.get("unitPrice"), want.get("unitPrice"))
    };
    create(
        talk,
        path,
        body,
        format!("add line {line} to agreement {agreement}"),
        lookup,
        &keep,
    )
}

/// The ids of an addition ref (`agreement/addition`).
pub(crate) fn addition_ids(r: &VendorRef) -> Result<(u64, u64), PluginError> {
    let bad = || {
        invalid(format!(
            "addition ref `{}` is not `AGREEMENT/ADDITION`",
            r.id
        ))
    };
    let (a, x) = r.id.split_once('/').ok_or_else(bad)?;
    Ok((a.parse().map_err(|_| bad())?, x.parse().map_err(|_| bad())?))
}

/// A seat change: cancel the line's addition the day before the new quantity is billed and
/// add one from that day at the new quantity.
fn push_change(
    talk: &mut Conversation<'_>,
    change: &Value,
    pushed: &[VendorRef],
) -> Result<Flow<Vec<VendorRef>>, PluginError> {
    let (line, old_quantity, new_quantity, from, last_old) = seat_change(change)?;
    // The line's own addition: the latest after earlier changes (its discount steps are
    // `discount` refs).
    let r = pushed
        .iter()
        .rfind(|r| r.kind == "addition" && r.line == Some(line))
        .ok_or_else(|| {
            invalid(format!(
                "line {line} was never pushed to ConnectWise as an addition: push the quote first"
            ))
        })?;
    let (agreement, addition) = addition_ids(r)?;
    let path = format!("/finance/agreements/{agreement}/additions/{addition}");
    let held = step!(
        talk.read(get(
            path.clone(),
            Vec::new(),
            format!("read line {line}'s addition")
        ))?,
        Flow::Send
    );
    let holds = held.get("quantity").and_then(value_decimal);
    if holds != Some(old_quantity) {
        return Err(invalid(format!(
            "ConnectWise addition {addition} holds {} units, the change is from {old_quantity}: it was changed outside Tenor (or bills a lumped price), so change it by hand",
            holds.map(|q| q.to_string()).unwrap_or_else(|| "no".into())
        )));
    }
    let mut cancel = request(
        Method::Patch,
        path,
        Effect::Update,
        format!("cancel line {line}'s addition after {last_old}"),
    );
    cancel.body = Some(
        json!([{"op": "replace", "path": "cancelledDate", "value": format!("{last_old}T00:00:00Z")}]),
    );
    step!(talk.read(cancel)?, Flow::Send);
    let price = held.get("unitPrice").cloned().unwrap_or(Value::Null);
    let body = successor(&held, amount(new_quantity)?, price, from);
    let id = step!(create_addition(talk, agreement, body, line)?, Flow::Send);
    Ok(Flow::Have(vec![VendorRef {
        kind: "addition".into(),
        id: format!("{agreement}/{id}"),
        line: Some(line),
    }]))
}

/// The addition that follows `held` from `from` (its product, billing, cost and description),
/// at `quantity` and `unit_price`.
pub(crate) fn successor(
    held: &Value,
    quantity: Value,
    unit_price: Value,
    from: NaiveDate,
) -> Value {
    let mut body = json!({
        "product": {"identifier": held.pointer("/product/identifier").cloned().unwrap_or(Value::Null)},
        "billCustomer": held.get("billCustomer").cloned().unwrap_or(json!("Billable")),
        "quantity": quantity,
        "unitPrice": unit_price,
        "effectiveDate": format!("{from}T00:00:00Z"),
        "prorateCurrentPeriodFlag": true,
    });
    for k in ["unitCost", "invoiceDescription"] {
        if let Some(v) = held.get(k).filter(|v| !v.is_null()) {
            set(&mut body, k, v.clone());
        }
    }
    body
}

/// A change order's line, old and new quantity, the first day billed at the new one and the
/// day before it.
fn seat_change(
    change: &Value,
) -> Result<(u32, Decimal, Decimal, NaiveDate, NaiveDate), PluginError> {
    let field = |k: &str| {
        change
            .get(k)
            .ok_or_else(|| invalid(format!("the change order has no `{k}`")))
    };
    let line = field("line")?
        .as_u64()
        .and_then(|l| u32::try_from(l).ok())
        .ok_or_else(|| invalid("the change order's `line` is not a line number"))?;
    let new_quantity = value_decimal(field("new_quantity")?)
        .ok_or_else(|| invalid("the change order's `new_quantity` is not a number"))?;
    let old_quantity = value_decimal(field("old_quantity")?)
        .ok_or_else(|| invalid("the change order's `old_quantity` is not a number"))?;
    let from: NaiveDate = field("billed_from")?
        .as_str()
        .and_then(date_prefix)
        .ok_or_else(|| invalid("the change order's `billed_from` is not a date"))?;
    let last_old = from
        .checked_sub_days(Days::new(1))
        .ok_or_else(|| invalid("bad `billed_from`"))?;
    Ok((line, old_quantity, new_quantity, from, last_old))
}

/// A decimal as a JSON number with its digits.
pub(crate) fn amount(d: Decimal) -> Result<Value, PluginError> {
    d.to_string()
        .parse::<serde_json::Number>()
        .map(Value::Number)
        .map_err(|_| invalid(format!("{d} cannot be written as a JSON number")))
}

/// Serial numbers onto the procurement products of their lines (`serialNumbers`, a string
/// array on ConnectWise's `ProductItem`): each product is read first and written only when it
/// lacks one of them, its own serials kept first (one typed into ConnectWise is not lost), as
/// `[{op: replace, path: serialNumbers, value}]`; the same input always writes the same body,
/// so a write whose answer was lost is sent again as it was.
fn push_serials(
    talk: &mut Conversation<'_>,
    serials: &[Serial],
    pushed: &[VendorRef],
) -> Result<Flow<Vec<VendorRef>>, PluginError> {
    let mut by_line: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for s in serials {
        let line = s
            .line_ref
            .as_deref()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| {
                invalid(format!(
                    "serial `{}` ({}) is recorded against no sales-order line",
                    s.serial, s.part_number
                ))
            })?;
        let list = by_line.entry(line).or_default();
        if !list.contains(&s.serial) {
            list.push(s.serial.clone());
        }
    }
    let mut refs = Vec::new();
    for (line, list) in by_line {
        let r = pushed
            .iter()
            .find(|r| r.kind == "product" && r.line == Some(line))
            .ok_or_else(|| invalid(format!("sales-order line {line} was never pushed to ConnectWise as a product: push the quote first")))?;
        let id: u64 =
            r.id.parse()
                .map_err(|_| invalid(format!("product ref `{}` is not a ConnectWise id", r.id)))?;
        let path = format!("/procurement/products/{id}");
        let held = step!(
            talk.read(get(
                path.clone(),
                Vec::new(),
                format!("read line {line}'s serial numbers")
            ))?,
            Flow::Send
        );
        let mut value = held_serials(&held, id)?;
        let before = value.len();
        for s in list {
            if !value.contains(&s) {
                value.push(s);
            }
        }
        if value.len() > before {
            let mut patch = request(
                Method::Patch,
                path,
                Effect::Update,
                format!("write line {line}'s serial numbers"),
            );
            patch.body = Some(json!([{"op": "replace", "path": "serialNumbers", "value": value}]));
            step!(talk.read(patch)?, Flow::Send);
        }
        refs.push(r.clone());
    }
    Ok(Flow::Have(refs))
}

/// The `serialNumbers` a procurement product holds (none when absent or null).
fn held_serials(product: &Value, id: u64) -> Result<Vec<String>, PluginError> {
    match product.get("serialNumbers") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(list)) => list
            .iter()
            .map(|s| {
                s.as_str().map(str::to_string).ok_or_else(|| {
                    invalid(format!(
                        "product {id}'s `serialNumbers` holds {s}, not a string"
                    ))
                })
            })
            .collect(),
        Some(other) => Err(invalid(format!(
            "product {id}'s `serialNumbers` is {other}, not a list"
        ))),
    }
}

/// The next step of a pull: the additions of every agreement pushed, the sales orders'
/// products, or the month's invoices.
pub fn pull_step(input: &PullInput) -> Result<PullStep, PluginError> {
    let mut talk = Conversation::new(&input.exchanges);
    let pulled = match input.what {
        PullKind::Subscriptions => step!(pull_additions(&mut talk, &input.pushed)?, |request| {
            PullStep::Send { request }
        }),
        PullKind::Orders => step!(pull::orders(&mut talk, &input.pushed)?, |request| {
            PullStep::Send { request }
        }),
        PullKind::Invoices => step!(
            pull::invoices(&mut talk, &input.accounts, input.month.as_deref())?,
            |request| PullStep::Send { request }
        ),
    };
    talk.all_consumed()?;
    Ok(PullStep::Done { pulled })
}

/// Every addition of every agreement pushed, as ConnectWise holds it now.
fn pull_additions(
    talk: &mut Conversation<'_>,
    pushed: &[VendorRef],
) -> Result<Flow<Pulled>, PluginError> {
    let mut pulled = Pulled::default();
    for r in pushed.iter().filter(|r| r.kind == "agreement") {
        let id: u64 = r
            .id
            .parse()
            .map_err(|_| invalid(format!("agreement ref `{}` is not a ConnectWise id", r.id)))?;
        let read = get(
            format!("/finance/agreements/{id}/additions"),
            vec![("pageSize".into(), "1000".into())],
            format!("read agreement {id}'s additions"),
        );
        let body = step!(talk.read(read)?, Flow::Send);
        let list = body
            .as_array()
            .ok_or_else(|| invalid(format!("agreement {id}'s additions are not a list")))?;
        for (i, x) in list.iter().enumerate() {
            pulled.subscriptions.push(subscription(id, i, x)?);
        }
    }
    Ok(Flow::Have(pulled))
}

/// One addition as a subscription: its cancelled date is its last day, so it ends the day after.
fn subscription(agreement: u64, i: usize, x: &Value) -> Result<Subscription, PluginError> {
    let at = format!("agreement {agreement} addition {}", i + 1);
    let number = |k: &str| -> Result<Option<Decimal>, PluginError> {
        match x.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => value_decimal(v)
                .map(Some)
                .ok_or_else(|| invalid(format!("{at}: `{k}` {v} is not an exact number"))),
        }
    };
    let day = |k: &str| x.get(k).and_then(Value::as_str).and_then(date_prefix);
    let end = day("cancelledDate").and_then(|d| d.checked_add_days(Days::new(1)));
    Ok(Subscription {
        id: created_id(x)?.to_string(),
        customer: None,
        reference: None,
        agreement: Some(agreement.to_string()),
        part_number: x
            .pointer("/product/identifier")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| invalid(format!("{at} has no `product.identifier`")))?,
        quantity: number("quantity")?.ok_or_else(|| invalid(format!("{at} has no `quantity`")))?,
        status: x
            .get("agreementStatus")
            .and_then(Value::as_str)
            .unwrap_or(if end.is_some() { "Cancelled" } else { "Active" })
            .to_string(),
        term: None,
        billing: None,
        start: day("effectiveDate"),
        end,
        unit_cost: number("unitCost")?,
        unit_price: number("unitPrice")?,
        plan: None,
    })
}

#[path = "pull.rs"]
mod pull;

#[cfg(test)]
#[path = "api_tests.rs"]
pub(crate) mod tests;
