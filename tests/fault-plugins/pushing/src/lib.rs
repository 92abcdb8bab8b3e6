//! A connector for the push tests' stub vendor, serving the `pax8` distributor of the example
//! rules: it orders a purchase order with `POST /orders` (its reference the PO id), and when
//! that request has no recorded answer, or the vendor answered 5xx, it looks the order up by
//! reference (`GET /orders?reference=…`) before ordering again, as the protocol requires.

use serde_json::{Value, json};
use tenor_plugin_sdk::connector::invalid;
use tenor_plugin_sdk::exchange::{
    Effect, Exchange, Method, PullInput, PullKind, PullStep, Pulled, PushDocument, PushInput,
    PushStep, Request, VendorRef,
};
use tenor_plugin_sdk::{Capability, OrderLine, Plugin, PluginError, PluginInfo};

/// The connector.
#[derive(Default)]
pub struct Pushing;

fn lookup(reference: &str) -> Request {
    Request {
        method: Method::Get,
        path: "/orders".into(),
        query: vec![("reference".into(), reference.into())],
        headers: Vec::new(),
        body: None,
        effect: Effect::Read,
        purpose: format!("look up the order of {reference}"),
    }
}

/// The order id in a lookup's answer, if the vendor holds one.
fn found(body: &Value) -> Option<String> {
    body.get("orders")?
        .get(0)?
        .get("id")?
        .as_str()
        .map(str::to_string)
}

fn done(id: String) -> PushStep {
    PushStep::Done {
        refs: vec![VendorRef {
            kind: "order".into(),
            id,
            line: None,
        }],
    }
}

impl Plugin for Pushing {
    fn info(&self) -> PluginInfo {
        let mut info = PluginInfo::distributor(
            "stubvendor",
            env!("CARGO_PKG_VERSION"),
            &[Capability::Push, Capability::Pull],
        );
        info.distributor = Some("pax8".into());
        info
    }

    fn push_step(&self, input: &PushInput) -> Result<PushStep, PluginError> {
        let PushDocument::PurchaseOrder { purchase_order: po } = &input.document else {
            return Ok(PushStep::Done { refs: Vec::new() });
        };
        let company = input.accounts.get("company").ok_or_else(|| {
            invalid(format!(
                "no stubvendor company for {}: run `tenor link {} --set stubvendor.company=ID`",
                po.customer.id, po.customer.id
            ))
        })?;
        let create = Request {
            method: Method::Post,
            path: "/orders".into(),
            query: Vec::new(),
            headers: vec![("X-Reference".into(), po.id.clone())],
            body: Some(json!({
                "reference": po.id,
                "company": company,
                "lines": po.lines.iter().map(|l| json!({
                    "part": l.part_number, "quantity": l.quantity.to_string()
                })).collect::<Vec<_>>(),
            })),
            effect: Effect::Create,
            purpose: format!("create the order for {}", po.id),
        };
        let Some(Exchange { request, response }) = input.exchanges.last() else {
            return Ok(PushStep::Send { request: create });
        };
        match (request.effect, response) {
            (Effect::Create, None) => Ok(PushStep::Send {
                request: lookup(&po.id),
            }),
            (Effect::Create, Some(r)) if r.status >= 500 => Ok(PushStep::Send {
                request: lookup(&po.id),
            }),
            (Effect::Create, Some(r)) if (200..300).contains(&r.status) => {
                let id = r.body.get("id").and_then(Value::as_str).unwrap_or_default();
                Ok(done(id.to_string()))
            }
            (Effect::Read, Some(r)) if r.status == 200 => match found(&r.body) {
                Some(id) => Ok(done(id)),
                None => Ok(PushStep::Send { request: create }),
            },
            (_, None) => Ok(PushStep::Send {
                request: lookup(&po.id),
            }),
            (_, Some(r)) => Err(invalid(format!(
                "the vendor answered {} to `{}`: {}",
                r.status, request.purpose, r.body
            ))),
        }
    }

    fn pull_step(&self, input: &PullInput) -> Result<PullStep, PluginError> {
        if input.what != PullKind::Orders {
            return Ok(PullStep::Done {
                pulled: Pulled::default(),
            });
        }
        let Some(order) = input.pushed.iter().find(|r| r.kind == "order") else {
            return Ok(PullStep::Done {
                pulled: Pulled::default(),
            });
        };
        let Some(last) = input.exchanges.last().and_then(|e| e.response.as_ref()) else {
            return Ok(PullStep::Send {
                request: Request {
                    method: Method::Get,
                    path: format!("/orders/{}", order.id),
                    query: Vec::new(),
                    headers: Vec::new(),
                    body: None,
                    effect: Effect::Read,
                    purpose: format!("read order {}", order.id),
                },
            });
        };
        let mut pulled = Pulled::default();
        let lines = last.body.get("lines").and_then(Value::as_array);
        for (i, l) in lines.into_iter().flatten().enumerate() {
            let part = l.get("part").and_then(Value::as_str).unwrap_or_default();
            let quantity = l
                .get("quantity")
                .and_then(Value::as_str)
                .and_then(|q| q.parse().ok())
                .unwrap_or_default();
            pulled.orders.push(OrderLine {
                document: order.id.clone(),
                line_ref: Some((i + 1).to_string()),
                part_number: part.to_string(),
                quantity,
                ..OrderLine::default()
            });
        }
        Ok(PullStep::Done { pulled })
    }
}

tenor_plugin_sdk::export_plugin!(Pushing);
