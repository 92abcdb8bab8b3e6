//! A Pax8 connector built against the previous SDK (`tenor-plugin-sdk-previous`, payload
//! protocol 1): today's host must still load it, send it purchase orders that carry fields added
//! since, and read back what it renders. It writes every field the three-way match compares, so
//! `tenor accept`'s read-back check proves its output right.

use tenor_plugin_sdk_previous::connector::{Problems, check_purchase_order, invalid};
use tenor_plugin_sdk_previous::docs::PurchaseOrder;
use tenor_plugin_sdk_previous::{
    Capability, OrderLine, Plugin, PluginError, PluginInfo, Rendered, exact_decimal,
};

/// The distributor it serves.
pub const DISTRIBUTOR: &str = "pax8";

/// The header of its CSV order.
pub const HEADER: &str = "order,line,customer,part,quantity,term,billing,start,end,unit_cost";

/// The old-protocol connector.
#[derive(Default)]
pub struct OldProto;

impl Plugin for OldProto {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "oldproto".into(),
            ..PluginInfo::distributor(
                DISTRIBUTOR,
                env!("CARGO_PKG_VERSION"),
                &[Capability::RenderPurchaseOrder, Capability::ParseOrder],
            )
        }
    }

    fn render_purchase_order(&self, po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        check_purchase_order(po, DISTRIBUTOR)?;
        let mut body = format!("{HEADER}\n");
        for l in &po.lines {
            let cost = l.unit_cost.map(|c| c.to_string()).unwrap_or_default();
            body.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{cost}\n",
                po.id,
                l.line,
                po.customer.id,
                l.part_number,
                l.quantity,
                l.term,
                l.billing,
                l.first_term_start,
                l.commitment_end
            ));
        }
        Ok(vec![Rendered::new(
            format!("{}.oldproto", po.id),
            "csv",
            body,
        )])
    }

    fn parse_order(&self, text: &str) -> Result<Vec<OrderLine>, PluginError> {
        let mut rows = text.lines();
        if rows.next() != Some(HEADER) {
            return Err(invalid("not an oldproto order: the header is missing"));
        }
        let mut problems = Problems::default();
        let lines: Vec<OrderLine> = rows
            .enumerate()
            .filter_map(|(i, row)| problems.note(order_line(i + 2, row)))
            .collect();
        problems.or_value(Some(lines))
    }
}

/// One CSV row as an order line; `n` is its row number, for errors.
fn order_line(n: usize, row: &str) -> Result<OrderLine, PluginError> {
    let f: Vec<&str> = row.split(',').collect();
    let [
        order,
        line,
        customer,
        part,
        quantity,
        term,
        billing,
        start,
        end,
        cost,
    ] = f.as_slice()
    else {
        return Err(invalid(format!(
            "row {n}: expected 10 fields, found {}",
            f.len()
        )));
    };
    let bad = |what: &str, v: &str| invalid(format!("row {n}: {what} `{v}` is not valid"));
    Ok(OrderLine {
        document: order.to_string(),
        reference: Some(order.to_string()),
        line_ref: Some(line.to_string()),
        customer: Some(customer.to_string()),
        part_number: part.to_string(),
        quantity: exact_decimal(quantity).ok_or_else(|| bad("quantity", quantity))?,
        term: Some(term.to_string()),
        billing: Some(billing.to_string()),
        start: Some(start.parse().map_err(|_| bad("start", start))?),
        end: Some(end.parse().map_err(|_| bad("end", end))?),
        unit_cost: match *cost {
            "" => None,
            c => Some(exact_decimal(c).ok_or_else(|| bad("unit cost", c))?),
        },
    })
}

tenor_plugin_sdk_previous::export_plugin!(OldProto);
