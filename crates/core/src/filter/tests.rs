use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

fn m(filter: Value, doc: &Value) -> bool {
    Filter::parse(&filter).unwrap().matches(doc)
}

fn event() -> Value {
    json!({
        "body": {
            "type": "order.paid", "amount": 4200, "currency": "eur", "tags": ["vip", "eu"],
            "customer": {"email": "ana@example.com", "country": "PT", "vip": true},
            "items": [{"sku": "a-1", "qty": 2}, {"sku": "b-2", "qty": 1}],
            "note": null, "name": "Ænima ✓"
        },
        "headers": {"content-type": "application/json", "x-github-event": "push"},
        "query": {"env": "prod"},
        "path": "/in/shop"
    })
}

#[test]
fn every_operator_matches_and_misses_as_documented() {
    let e = event();
    let table: &[(Value, bool)] = &[
        (json!({"body": {"type": "order.paid"}}), true),
        (json!({"body": {"type": "order.refunded"}}), false),
        (json!({"body": {"customer": {"country": "PT"}}}), true),
        (json!({"body": {"tags": "vip"}}), true),
        (json!({"body": {"tags": ["eu", "vip"]}}), true),
        (json!({"body": {"tags": ["eu", "us"]}}), false),
        (json!({"body": {"items": {"sku": "b-2"}}}), true),
        (json!({"body": {"amount": 4200.0}}), true),
        (json!({"body": {"type": {"$eq": "order.paid"}}}), true),
        (json!({"body": {"type": {"$neq": "order.paid"}}}), false),
        (json!({"body": {"missing": {"$neq": "x"}}}), true),
        (json!({"body": {"amount": {"$gt": 4199}}}), true),
        (json!({"body": {"amount": {"$gt": 4200}}}), false),
        (json!({"body": {"amount": {"$gte": 4200}}}), true),
        (json!({"body": {"amount": {"$lt": 4200}}}), false),
        (json!({"body": {"amount": {"$lte": 4200}}}), true),
        (json!({"body": {"currency": {"$gt": "dkk"}}}), true),
        (json!({"body": {"currency": {"$in": ["usd", "eur"]}}}), true),
        (json!({"body": {"currency": {"$in": ["usd"]}}}), false),
        (json!({"body": {"currency": {"$nin": ["usd"]}}}), true),
        (json!({"body": {"tags": {"$nin": ["vip"]}}}), false),
        (json!({"body": {"customer": {"$exist": true}}}), true),
        (json!({"body": {"note": {"$exist": true}}}), false),
        (json!({"body": {"nope": {"$exist": false}}}), true),
        (
            json!({"body": {"customer": {"email": {"$regex": "@example\\.com$"}}}}),
            true,
        ),
        (
            json!({"body": {"customer": {"email": {"$regex": "^bob"}}}}),
            false,
        ),
        (json!({"body": {"type": {"$startsWith": "order."}}}), true),
        (json!({"body": {"type": {"$endsWith": ".paid"}}}), true),
        (json!({"body": {"type": {"$endsWith": ".refunded"}}}), false),
        (
            json!({"$and": [{"body": {"type": "order.paid"}}, {"query": {"env": "prod"}}]}),
            true,
        ),
        (
            json!({"$and": [{"body": {"type": "order.paid"}}, {"query": {"env": "dev"}}]}),
            false,
        ),
        (
            json!({"$or": [{"body": {"type": "x"}}, {"headers": {"x-github-event": "push"}}]}),
            true,
        ),
        (
            json!({"$or": [{"body": {"type": "x"}}, {"path": "/in/other"}]}),
            false,
        ),
        (json!({"$not": {"body": {"type": "order.refunded"}}}), true),
        (
            json!({"body": {"amount": {"$gte": 1000, "$lt": 5000}}}),
            true,
        ),
        (
            json!({"path": {"$startsWith": "/in/"}, "headers": {"content-type": "application/json"}}),
            true,
        ),
        (json!({"body": {"name": {"$regex": "Æ"}}}), true),
        (json!({"body": {"items": {"qty": {"$gt": 1}}}}), true),
        (json!({}), true),
    ];
    for (filter, expected) in table {
        assert_eq!(m(filter.clone(), &e), *expected, "{filter}");
    }
}

#[test]
fn bad_filters_say_which_operator_and_where() {
    for (filter, at, words) in [
        (
            json!({"body": {"amount": {"$gtt": 1}}}),
            "/body/amount/$gtt",
            "unknown operator `$gtt`",
        ),
        (json!({"body": {"x": {"$in": 1}}}), "/body/x/$in", "array"),
        (json!({"$or": []}), "/$or", "non-empty array"),
        (
            json!({"a": {"$regex": "("}}),
            "/a/$regex",
            "does not compile",
        ),
        (
            json!({"a": {"$exist": "yes"}}),
            "/a/$exist",
            "true or false",
        ),
        (json!({"a": {"$gt": [1]}}), "/a/$gt", "number or a string"),
    ] {
        let e = Filter::parse(&filter).unwrap_err();
        assert_eq!(e.at, at, "{filter}");
        assert!(e.message.contains(words), "{filter}: {e}");
    }
    assert!(Filter::parse(&json!([1])).is_err(), "an object");
    assert!(
        Filter::parse(&json!("{\"body\": {\"a\": 1}}")).is_ok(),
        "or a JSON string of one"
    );
    let mut deep = json!(1);
    for _ in 0..40 {
        deep = json!({"a": deep});
    }
    assert!(Filter::parse(&deep).unwrap_err().message.contains("deeper"));
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        "[a-z]{0,6}".prop_map(Value::from),
    ]
}

fn doc() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        scalar(),
        prop::collection::vec(scalar(), 0..4).prop_map(Value::from)
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop::collection::btree_map("[a-c]", inner, 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    })
}

proptest! {
    /// An object used as its own filter matches itself.
    #[test]
    fn an_object_matches_itself(d in doc()) {
        if d.is_object() {
            prop_assert!(m(d.clone(), &d));
        }
    }

    /// `$not`, `$and` and `$or` are negation, conjunction and disjunction.
    #[test]
    fn logic_composes(d in doc(), a in doc(), b in doc()) {
        if let (true, true, true) = (d.is_object(), a.is_object(), b.is_object()) {
            let (fa, fb) = (m(a.clone(), &d), m(b.clone(), &d));
            prop_assert_eq!(m(json!({"$not": a.clone()}), &d), !fa);
            prop_assert_eq!(m(json!({"$and": [a.clone(), b.clone()]}), &d), fa && fb);
            prop_assert_eq!(m(json!({"$or": [a, b]}), &d), fa || fb);
        }
    }

    /// `$in` of one scalar is `$eq` of it; `$nin` is its negation.
    #[test]
    fn in_of_one_is_eq(v in scalar(), got in scalar()) {
        let d = json!({"x": got});
        let eq = m(json!({"x": {"$eq": v.clone()}}), &d);
        prop_assert_eq!(m(json!({"x": {"$in": [v.clone()]}}), &d), eq);
        prop_assert_eq!(m(json!({"x": {"$nin": [v]}}), &d), !eq);
    }
}
