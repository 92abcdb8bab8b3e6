//! Pairing lines in stages, each a hash lookup, and the keys part numbers are filed under.

use super::Sold;
use super::words::BillWord;
use crate::engine::catalogue::Billing;
use rust_decimal::Decimal;
use std::hash::Hash;
use tenor_plugin_sdk::docs::{PurchaseOrder, PurchaseOrderLine};
use tenor_plugin_sdk::{InvoiceLine, OrderLine};

/// An expected purchase-order line.
pub(super) struct Exp<'a> {
    pub(super) po: &'a PurchaseOrder,
    pub(super) l: &'a PurchaseOrderLine,
    pub(super) item: Option<usize>,
    pub(super) term: Option<u32>,
    pub(super) months: Option<u32>,
    /// The billing frequency the line states, read once.
    pub(super) billing: Option<Billing>,
    pub(super) sold: Option<usize>,
}

/// An order line read back.
pub(super) struct Got<'a> {
    pub(super) o: &'a OrderLine,
    pub(super) item: Option<usize>,
    /// `None` when the document does not say (or says something unreadable).
    pub(super) term: Option<Option<u32>>,
    /// The billing word, read once; `None` when absent or unreadable.
    pub(super) billing: Option<BillWord>,
    pub(super) line_ref: Option<u32>,
}

/// An invoice line read back, with credits for the same period folded in.
pub(super) struct Inv<'a> {
    pub(super) i: &'a InvoiceLine,
    pub(super) amount: Decimal,
    pub(super) item: Option<usize>,
    pub(super) term: Option<Option<u32>>,
    /// The billing word, read once; `None` when absent or unreadable.
    pub(super) billing: Option<BillWord>,
}

/// A hash map on rustc's Fx hash for the matcher's own tables: keys are part numbers and small
/// tuples, read from the MSP's own files, so SipHash's resistance to chosen keys buys nothing
/// and costs a third of the pairing time.
pub(super) type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// One pairing stage: every free left entry is filed under its key (first come, first out),
/// then each free right entry takes the first left entry filed under its own key.
pub(super) fn pair_stage<K: Hash + Eq>(
    left_free: &mut [bool],
    right_free: &mut [bool],
    left_key: impl Fn(usize) -> Option<K>,
    right_key: impl Fn(usize) -> Option<K>,
    pairs: &mut Vec<(usize, usize)>,
) {
    let free_left = left_free.iter().filter(|f| **f).count();
    let free_right = right_free.iter().filter(|f| **f).count();
    if free_left == 0 || free_right == 0 {
        return;
    }
    // A typical quote pairs a handful of lines: scanning beats building a table. Same result:
    // each right entry, in order, takes the first free left entry with its key.
    if free_left.saturating_mul(free_right) <= 256 {
        let mut keys: Vec<(usize, Option<K>)> = left_free
            .iter()
            .enumerate()
            .filter(|(_, f)| **f)
            .map(|(i, _)| (i, left_key(i)))
            .collect();
        for (j, free) in right_free.iter_mut().enumerate() {
            if !*free {
                continue;
            }
            let Some(k) = right_key(j) else { continue };
            if let Some(slot) = keys.iter_mut().find(|(_, lk)| lk.as_ref() == Some(&k)) {
                let i = slot.0;
                slot.1 = None;
                if let Some(l) = left_free.get_mut(i) {
                    *l = false;
                }
                *free = false;
                pairs.push((i, j));
            }
        }
        return;
    }
    const NONE: usize = usize::MAX;
    // Key → (head, tail) of a queue threaded through `next`: no allocation per key.
    // Sized once: a huge quote would otherwise rehash its table a dozen times.
    let mut heads = FxMap::with_capacity_and_hasher(free_left, Default::default());
    let mut next = vec![NONE; left_free.len()];
    for (i, free) in left_free.iter().enumerate() {
        if !*free {
            continue;
        }
        let Some(k) = left_key(i) else { continue };
        match heads.get_mut(&k) {
            Some((_, tail)) => {
                if let Some(n) = next.get_mut(*tail) {
                    *n = i;
                }
                *tail = i;
            }
            None => {
                heads.insert(k, (i, i));
            }
        }
    }
    for (j, free) in right_free.iter_mut().enumerate() {
        if !*free {
            continue;
        }
        let Some(k) = right_key(j) else { continue };
        let Some(slot) = heads.get_mut(&k) else {
            continue;
        };
        let i = slot.0;
        if i == NONE {
            continue;
        }
        slot.0 = next.get(i).copied().unwrap_or(NONE);
        if let Some(l) = left_free.get_mut(i) {
            *l = false;
        }
        *free = false;
        pairs.push((i, j));
    }
}

/// What a part number is filed under: trimmed, upper case (distributors differ in case).
pub(super) fn part_key(s: &str) -> String {
    s.trim().to_ascii_uppercase()
}

/// The pairs found, and which entries on each side are still free.
pub(super) struct Paired {
    pub(super) pairs: Vec<(usize, usize)>,
    pub(super) left_free: Vec<bool>,
    pub(super) right_free: Vec<bool>,
}

/// Pairs expected purchase-order lines with order lines read back: the document's own line
/// reference first, then every attribute, then all but one, down to the product alone.
// Long on purpose: eight stages in their order of precedence, each keyed by a tuple of a
// different type, so they cannot be a loop over one list; read top to bottom it is the rule.
pub(super) fn pair_orders(exp: &[Exp], got: &[Got]) -> Paired {
    let mut ef = vec![true; exp.len()];
    let mut gf: Vec<bool> = got.iter().map(|g| g.item.is_some()).collect();
    let mut pairs = Vec::new();
    let e = |i: usize| exp.get(i);
    let g = |j: usize| got.get(j);
    pair_stage(
        &mut ef,
        &mut gf,
        |i| e(i).and_then(|x| Some((x.item?, x.l.line))),
        |j| g(j).and_then(|x| Some((x.item?, x.line_ref?))),
        &mut pairs,
    );
    pair_stage(
        &mut ef,
        &mut gf,
        |i| {
            e(i).and_then(|x| {
                Some((
                    x.item?,
                    x.l.quantity,
                    x.term,
                    x.months,
                    x.l.first_term_start,
                ))
            })
        },
        |j| {
            g(j).and_then(|x| {
                let t = x.term?;
                let m = x.billing?.months(t);
                Some((x.item?, x.o.quantity, t, m, x.o.start?))
            })
        },
        &mut pairs,
    );
    pair_stage(
        &mut ef,
        &mut gf,
        |i| e(i).and_then(|x| Some((x.item?, x.l.quantity, x.term, x.l.first_term_start))),
        |j| g(j).and_then(|x| Some((x.item?, x.o.quantity, x.term?, x.o.start?))),
        &mut pairs,
    );
    pair_stage(
        &mut ef,
        &mut gf,
        |i| e(i).and_then(|x| Some((x.item?, x.term, x.l.first_term_start))),
        |j| g(j).and_then(|x| Some((x.item?, x.term?, x.o.start?))),
        &mut pairs,
    );
    pair_stage(
        &mut ef,
        &mut gf,
        |i| e(i).and_then(|x| Some((x.item?, x.l.quantity, x.l.first_term_start))),
        |j| g(j).and_then(|x| Some((x.item?, x.o.quantity, x.o.start?))),
        &mut pairs,
    );
    pair_stage(
        &mut ef,
        &mut gf,
        |i| e(i).and_then(|x| Some((x.item?, x.l.quantity, x.term))),
        |j| g(j).and_then(|x| Some((x.item?, x.o.quantity, x.term?))),
        &mut pairs,
    );
    pair_stage(
        &mut ef,
        &mut gf,
        |i| e(i).and_then(|x| Some((x.item?, x.l.quantity))),
        |j| g(j).and_then(|x| Some((x.item?, x.o.quantity))),
        &mut pairs,
    );
    pair_stage(
        &mut ef,
        &mut gf,
        |i| e(i).and_then(|x| x.item),
        |j| g(j).and_then(|x| x.item),
        &mut pairs,
    );
    Paired {
        pairs,
        left_free: ef,
        right_free: gf,
    }
}

/// Pairs sold lines with invoice lines: the first period exactly, then its start, then the
/// quantity, then the product.
pub(super) fn pair_invoices(sold: &[Sold], inv: &[Inv]) -> Paired {
    let mut sf = vec![true; sold.len()];
    let mut jf: Vec<bool> = inv.iter().map(|x| x.item.is_some()).collect();
    let mut pairs = Vec::new();
    let s = |i: usize| sold.get(i);
    let v = |j: usize| inv.get(j);
    pair_stage(
        &mut sf,
        &mut jf,
        |i| {
            s(i).and_then(|x| {
                let first = x.pl.charges.first()?;
                Some((x.item?, x.pl.quantity, first.period_start, first.period_end))
            })
        },
        |j| v(j).and_then(|x| Some((x.item?, x.i.quantity, x.i.period_start?, x.i.period_end?))),
        &mut pairs,
    );
    pair_stage(
        &mut sf,
        &mut jf,
        |i| s(i).and_then(|x| Some((x.item?, x.pl.quantity, x.pl.start))),
        |j| v(j).and_then(|x| Some((x.item?, x.i.quantity, x.i.period_start?))),
        &mut pairs,
    );
    pair_stage(
        &mut sf,
        &mut jf,
        |i| s(i).and_then(|x| Some((x.item?, x.pl.start))),
        |j| v(j).and_then(|x| Some((x.item?, x.i.period_start?))),
        &mut pairs,
    );
    pair_stage(
        &mut sf,
        &mut jf,
        |i| s(i).and_then(|x| Some((x.item?, x.pl.quantity))),
        |j| v(j).and_then(|x| Some((x.item?, x.i.quantity))),
        &mut pairs,
    );
    pair_stage(
        &mut sf,
        &mut jf,
        |i| s(i).and_then(|x| x.item),
        |j| v(j).and_then(|x| x.item),
        &mut pairs,
    );
    Paired {
        pairs,
        left_free: sf,
        right_free: jf,
    }
}

/// Later invoices of a line already paired (the next month, a credit, a duplicate) join its
/// stream: by product, preferring the sold line whose commitment covers the period and whose
/// quantity agrees.
pub(super) fn join_streams(sold: &[Sold], inv: &[Inv], paired: &mut Paired) {
    if !paired.right_free.iter().any(|f| *f) {
        return;
    }
    let mut by_item: FxMap<usize, Vec<usize>> = FxMap::default();
    for (k, s) in sold.iter().enumerate() {
        if let Some(it) = s.item {
            by_item.entry(it).or_default().push(k);
        }
    }
    for (j, free) in paired.right_free.iter_mut().enumerate() {
        let Some(x) = inv.get(j) else { continue };
        if !*free {
            continue;
        }
        let Some(cands) = x.item.and_then(|it| by_item.get(&it)) else {
            continue;
        };
        let covers = |s: &Sold| {
            x.i.period_start
                .is_some_and(|d| d >= s.pl.start && d < s.pl.end.max(s.pl.start))
        };
        let score = |k: &usize| {
            sold.get(*k).map_or(0, |s| {
                u8::from(covers(s)) * 2 + u8::from(s.pl.quantity == x.i.quantity)
            })
        };
        // The first of the best; a product sold on very many lines is not scanned whole.
        let best = cands
            .iter()
            .take(64)
            .copied()
            .fold(None::<(usize, u8)>, |acc, k| {
                let sc = score(&k);
                match acc {
                    Some((_, b)) if b >= sc => acc,
                    _ => Some((k, sc)),
                }
            });
        if let Some((k, _)) = best {
            paired.pairs.push((k, j));
            *free = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn decimal_keys_ignore_scale() {
        let mut free_l = vec![true];
        let mut free_r = vec![true];
        let mut pairs = Vec::new();
        let l = [Decimal::new(500, 1)];
        let r = [Decimal::new(50, 0)];
        pair_stage(
            &mut free_l,
            &mut free_r,
            |i| l.get(i).copied(),
            |j| r.get(j).copied(),
            &mut pairs,
        );
        assert_eq!(pairs, vec![(0, 0)]);
    }
}
