//! End to end against the vendor simulators (issue 13): accept → push → the simulators →
//! pull, for the example quotes.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

use tenor_tests::sims::Vendors;

#[test]
fn q1001_pushes_to_the_simulators_without_a_refused_request() {
    let v = Vendors::start("e2e-q1001");
    v.accept("q1001-dental-practice.yaml");
    let push = v.tenor(&["push", "Q-1001"]);
    assert!(push.ok, "{}\n{}", push.stdout, push.stderr);
    assert!(v.refused().is_empty(), "{:?}", v.refused());
}
