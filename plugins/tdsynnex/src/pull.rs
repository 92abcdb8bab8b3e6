//! Pulling from StreamOne Ion: the customer's subscriptions and the orders a push stored.
//! Billing arrives as a CSV report (`BILLING_REPORTS`) whose columns TD SYNNEX does not
//! publish: it is read with `parse_invoice` from the file, not pulled.

use serde_json::Value;
use tenor_plugin_sdk::PluginError;
use tenor_plugin_sdk::connector::invalid;
use tenor_plugin_sdk::exchange::{Effect, Method, PullInput, PullKind, PullStep, Pulled, Request};

use crate::cart::{customer_root, order_lines, subscriptions};

fn get(path: String, purpose: String) -> PullStep {
    PullStep::Send {
        request: Request {
            method: Method::Get,
            path,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            effect: Effect::Read,
            purpose,
        },
    }
}

fn answer<'i>(input: &'i PullInput, path: &str) -> Option<&'i Value> {
    input
        .exchanges
        .iter()
        .find(|e| e.request.path == path)
        .and_then(|e| e.response.as_ref())
        .map(|r| &r.body)
}

/// The next step of a pull.
pub(crate) fn step(input: &PullInput) -> Result<PullStep, PluginError> {
    if let Some(last) = input.exchanges.last() {
        match &last.response {
            None => {
                return Ok(PullStep::Send {
                    request: last.request.clone(),
                });
            }
            Some(r) if !(200..300).contains(&r.status) => {
                return Err(invalid(format!(
                    "TD SYNNEX answered {} to `{}`: {}",
                    r.status, last.request.purpose, r.body
                )));
            }
            Some(_) => {}
        }
    }
    let root = customer_root(&input.accounts, "this customer")?;
    let mut pulled = Pulled::default();
    match input.what {
        PullKind::Subscriptions => {
            let path = format!("{root}/subscriptions");
            let Some(body) = answer(input, &path) else {
                return Ok(get(
                    path,
                    "read the customer's TD SYNNEX subscriptions".into(),
                ));
            };
            pulled.subscriptions = subscriptions(body)?;
        }
        PullKind::Orders => {
            for r in input.pushed.iter().filter(|r| r.kind == "order") {
                let path = format!("{root}/orders/{}", r.id);
                let Some(body) = answer(input, &path) else {
                    return Ok(get(path, format!("read TD SYNNEX order {}", r.id)));
                };
                pulled.orders.extend(order_lines(body)?);
            }
        }
        PullKind::Invoices => {
            return Err(invalid(
                "TD SYNNEX publishes billing as a CSV report (BILLING_REPORTS) without an API \
                 shape: download it and read it as an invoice file",
            ));
        }
    }
    Ok(PullStep::Done { pulled })
}
