//! The JSON filter dialect that Hookdeck, Convoy and Outpost share: one
//! engine for outbound endpoints, forwarding routes and inbox search.
//!
//! A filter is a JSON object matched against a document (for a received
//! webhook `{"body", "headers", "query", "path"}`, header names lower-case;
//! for a message `{"body"}`):
//! - a plain value matches an equal value, or an array holding one;
//! - an object matches field by field, nested objects nested fields;
//! - an array matches an array holding a match for each of its elements;
//! - operators: `$eq $neq $gt $gte $lt $lte $in $nin $exist $regex
//!   $startsWith $endsWith` on a value, `$and $or $not` over filters.
//!
//! [`Filter::parse`] validates once, when a filter is saved, naming the bad
//! operator and where it is; matching never fails.

use regex::Regex;
use serde_json::{Map, Value};

/// Deepest nesting a filter may have.
const MAX_DEPTH: usize = 32;
/// Longest `$regex` pattern.
const MAX_REGEX: usize = 512;

/// A filter that does not parse, with where (a JSON pointer into the filter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter at `{at}`: {message}")]
pub struct FilterError {
    pub at: String,
    pub message: String,
}

/// A validated filter, ready to match.
#[derive(Debug, Clone)]
pub struct Filter {
    source: Value,
    root: Node,
}

impl PartialEq for Filter {
    fn eq(&self, other: &Filter) -> bool {
        self.source == other.source
    }
}

impl Eq for Filter {}

#[derive(Debug, Clone)]
enum Node {
    /// A plain value: equal, or held by an array.
    Literal(Value),
    /// Each field's node matches that field (missing fields are `None`).
    Fields(Vec<(String, Node)>),
    /// Each element matches some element of an array.
    Contains(Vec<Node>),
    Op(Op),
    /// All of these (an object mixing fields and operators).
    All(Vec<Node>),
}

#[derive(Debug, Clone)]
enum Op {
    Eq(Value),
    Neq(Value),
    Cmp(std::cmp::Ordering, bool, Value),
    In(Vec<Value>),
    Nin(Vec<Value>),
    Exist(bool),
    Regex(Regex),
    StartsWith(String),
    EndsWith(String),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

impl Filter {
    /// Validates `filter` (an object, or a JSON string holding one).
    pub fn parse(filter: &Value) -> Result<Filter, FilterError> {
        let filter = match filter {
            Value::String(s) => serde_json::from_str(s).map_err(|e| FilterError {
                at: String::new(),
                message: format!("not JSON: {e}"),
            })?,
            other => other.clone(),
        };
        if !filter.is_object() {
            return Err(FilterError {
                at: String::new(),
                message: "a filter is a JSON object, like {\"body\": {\"type\": \"order.paid\"}}"
                    .into(),
            });
        }
        let root = node(&filter, "", 0)?;
        Ok(Filter {
            source: filter,
            root,
        })
    }

    /// The filter as it was written.
    pub fn as_json(&self) -> &Value {
        &self.source
    }

    /// Whether `doc` matches.
    pub fn matches(&self, doc: &Value) -> bool {
        eval(&self.root, Some(doc))
    }
}

fn err(at: &str, message: impl Into<String>) -> FilterError {
    FilterError {
        at: if at.is_empty() { "/".into() } else { at.into() },
        message: message.into(),
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn node(f: &Value, at: &str, depth: usize) -> Result<Node, FilterError> {
    if depth > MAX_DEPTH {
        return Err(err(at, format!("nested deeper than {MAX_DEPTH} levels")));
    }
    match f {
        Value::Object(map) => object(map, at, depth),
        Value::Array(list) => list
            .iter()
            .enumerate()
            .map(|(i, v)| node(v, &format!("{at}/{i}"), depth + 1))
            .collect::<Result<_, _>>()
            .map(Node::Contains),
        other => Ok(Node::Literal(other.clone())),
    }
}

fn object(map: &Map<String, Value>, at: &str, depth: usize) -> Result<Node, FilterError> {
    let mut all = Vec::new();
    let mut fields = Vec::new();
    for (k, v) in map {
        let here = format!("{at}/{}", escape(k));
        if k.starts_with('$') {
            all.push(Node::Op(op(k, v, &here, depth)?));
        } else {
            fields.push((k.clone(), node(v, &here, depth + 1)?));
        }
    }
    if !fields.is_empty() {
        all.push(Node::Fields(fields));
    }
    Ok(match all.len() {
        1 => all.remove(0),
        _ => Node::All(all),
    })
}

fn filters(v: &Value, at: &str, depth: usize, name: &str) -> Result<Vec<Node>, FilterError> {
    match v {
        Value::Array(list) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, f)| node(f, &format!("{at}/{i}"), depth + 1))
            .collect(),
        _ => Err(err(
            at,
            format!("{name} takes a non-empty array of filters"),
        )),
    }
}

fn op(name: &str, v: &Value, at: &str, depth: usize) -> Result<Op, FilterError> {
    use std::cmp::Ordering::{Greater, Less};
    let comparable = |v: &Value| match v {
        Value::Number(_) | Value::String(_) => Ok(v.clone()),
        _ => Err(err(
            at,
            format!("{name} compares with a number or a string"),
        )),
    };
    let text = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(err(at, format!("{name} takes a string"))),
    };
    let list = |v: &Value| match v {
        Value::Array(l) => Ok(l.clone()),
        _ => Err(err(at, format!("{name} takes an array of values"))),
    };
    Ok(match name {
        "$eq" => Op::Eq(v.clone()),
        "$neq" => Op::Neq(v.clone()),
        "$gt" => Op::Cmp(Greater, false, comparable(v)?),
        "$gte" => Op::Cmp(Greater, true, comparable(v)?),
        "$lt" => Op::Cmp(Less, false, comparable(v)?),
        "$lte" => Op::Cmp(Less, true, comparable(v)?),
        "$in" => Op::In(list(v)?),
        "$nin" => Op::Nin(list(v)?),
        "$exist" => match v {
            Value::Bool(b) => Op::Exist(*b),
            _ => return Err(err(at, "$exist takes true or false")),
        },
        "$regex" => {
            let pattern = text(v)?;
            if pattern.len() > MAX_REGEX {
                return Err(err(at, format!("$regex is at most {MAX_REGEX} characters")));
            }
            Op::Regex(
                regex::RegexBuilder::new(&pattern)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| err(at, format!("$regex does not compile: {e}")))?,
            )
        }
        "$startsWith" => Op::StartsWith(text(v)?),
        "$endsWith" => Op::EndsWith(text(v)?),
        "$and" => Op::And(filters(v, at, depth, name)?),
        "$or" => Op::Or(filters(v, at, depth, name)?),
        "$not" => Op::Not(Box::new(node(v, at, depth + 1)?)),
        other => {
            return Err(err(
                at,
                format!(
                    "unknown operator `{other}`; use one of $eq $neq $gt $gte $lt $lte $in $nin \
                     $exist $regex $startsWith $endsWith $and $or $not"
                ),
            ))
        }
    })
}

/// Equal as JSON, numbers by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// `want` equals `got`, or `got` is an array holding it.
fn equal_or_held(want: &Value, got: Option<&Value>) -> bool {
    match got {
        Some(Value::Array(items)) if !want.is_array() => items.iter().any(|i| same(want, i)),
        Some(g) => same(want, g),
        None => false,
    }
}

fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Whether `got` (or, for an array, any of its items) satisfies `test`.
fn any_item(got: Option<&Value>, test: impl Fn(&Value) -> bool) -> bool {
    match got {
        Some(Value::Array(items)) => items.iter().any(&test),
        Some(v) => test(v),
        None => false,
    }
}

fn eval(n: &Node, got: Option<&Value>) -> bool {
    match n {
        Node::Literal(want) => equal_or_held(want, got),
        Node::Fields(fields) => fields.iter().all(|(k, f)| {
            let child = match got {
                Some(Value::Object(map)) => map.get(k),
                Some(Value::Array(items)) => {
                    // A field of an array matches if any element's field does.
                    return items
                        .iter()
                        .any(|i| eval(f, i.as_object().and_then(|m| m.get(k))));
                }
                _ => None,
            };
            eval(f, child)
        }),
        Node::Contains(wants) => match got {
            Some(Value::Array(items)) => {
                wants.iter().all(|w| items.iter().any(|i| eval(w, Some(i))))
            }
            _ => false,
        },
        Node::All(nodes) => nodes.iter().all(|n| eval(n, got)),
        Node::Op(op) => eval_op(op, got),
    }
}

fn eval_op(op: &Op, got: Option<&Value>) -> bool {
    match op {
        Op::Eq(want) => equal_or_held(want, got),
        Op::Neq(want) => !equal_or_held(want, got),
        Op::Cmp(dir, or_equal, bound) => any_item(got, |v| {
            order(v, bound).is_some_and(|o| o == *dir || (*or_equal && o.is_eq()))
        }),
        Op::In(list) => any_item(got, |v| list.iter().any(|w| same(v, w))),
        Op::Nin(list) => !any_item(got, |v| list.iter().any(|w| same(v, w))),
        Op::Exist(want) => got.is_some_and(|v| !v.is_null()) == *want,
        Op::Regex(re) => any_item(got, |v| v.as_str().is_some_and(|s| re.is_match(s))),
        Op::StartsWith(p) => any_item(got, |v| {
            v.as_str().is_some_and(|s| s.starts_with(p.as_str()))
        }),
        Op::EndsWith(p) => any_item(got, |v| v.as_str().is_some_and(|s| s.ends_with(p.as_str()))),
        Op::And(nodes) => nodes.iter().all(|n| eval(n, got)),
        Op::Or(nodes) => nodes.iter().any(|n| eval(n, got)),
        Op::Not(n) => !eval(n, got),
    }
}

#[cfg(test)]
mod tests;
