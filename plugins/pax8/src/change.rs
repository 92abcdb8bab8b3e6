//! A seat change (`PushDocument::Change`): the quote line's Pax8 subscriptions take the new
//! quantity (`PUT /subscriptions/{id}` with `quantity`, the spec's only way to change one;
//! no `startDate`: a future one is not supported, so with the host's `today` given a change
//! effective later waits ([`PushStep::Wait`]) and is pushed by a run on or after that day). A line bought as several subscriptions (a bundle's parts) scales each by the
//! change: its quantity as Pax8 holds it (`GET /subscriptions/{id}`) × new ÷ old. A line with
//! no Pax8 subscription is not Pax8's: nothing is sent.

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tenor_plugin_sdk::connector::{invalid, value_decimal};
use tenor_plugin_sdk::conversation::{Conversation, request};
use tenor_plugin_sdk::exchange::{Effect, Method, PushInput, PushStep, VendorRef};
use tenor_plugin_sdk::{PluginError, step};

/// The change order's line, old and new quantities.
fn change_of(change: &Value) -> Result<(u32, Decimal, Decimal), PluginError> {
    let line = change
        .get("line")
        .and_then(Value::as_u64)
        .and_then(|l| u32::try_from(l).ok())
        .ok_or_else(|| invalid("the change order's `line` is not a line number"))?;
    let qty = |k: &str| {
        change
            .get(k)
            .and_then(value_decimal)
            .ok_or_else(|| invalid(format!("the change order's `{k}` is not a number")))
    };
    Ok((line, qty("old_quantity")?, qty("new_quantity")?))
}

/// The next step of pushing a seat change.
pub(crate) fn step(
    input: &PushInput,
    change: &Value,
    pushed: &[VendorRef],
) -> Result<PushStep, PluginError> {
    let (line, old, new) = change_of(change)?;
    if let Some(until) = tenor_plugin_sdk::connector::change_not_before(input, change)? {
        return Ok(PushStep::Wait {
            until,
            why: "Pax8 takes no future-dated seat changes".into(),
        });
    }
    if old <= Decimal::ZERO {
        return Err(invalid(format!(
            "the change order's `old_quantity` {old} is not above zero"
        )));
    }
    let subs: Vec<&VendorRef> = pushed
        .iter()
        .filter(|r| r.kind == "subscription" && r.line == Some(line))
        .collect();
    let mut talk = Conversation::new(&input.exchanges);
    let send = |request| PushStep::Send { request };
    let mut refs = Vec::new();
    for sub in subs {
        let path = format!("/subscriptions/{}", sub.id);
        let held = step!(
            talk.read(request(
                Method::Get,
                path.clone(),
                Effect::Read,
                format!("read subscription {}'s quantity", sub.id)
            ))?,
            send
        );
        let now = held
            .get("quantity")
            .and_then(value_decimal)
            .ok_or_else(|| invalid(format!("Pax8 subscription {} has no `quantity`", sub.id)))?;
        let want = (now * new / old).normalize();
        let whole = i64::try_from(want.trunc().mantissa())
            .ok()
            .filter(|_| want.fract().is_zero() && want >= Decimal::ONE)
            .ok_or_else(|| {
                invalid(format!(
                    "line {line}: subscription {} would hold {want} seats ({now} × {new} ÷ {old}): \
                     not a whole number of at least 1",
                    sub.id
                ))
            })?;
        let mut put = request(
            Method::Put,
            path,
            Effect::Update,
            format!("set subscription {} to {whole} seats", sub.id),
        );
        put.body = Some(json!({"quantity": whole}));
        step!(talk.read(put)?, send);
        refs.push(sub.clone());
    }
    talk.all_consumed()?;
    Ok(PushStep::Done { refs })
}
