//! A guard for event-type JSON Schemas: a schema whose references can recurse
//! without consuming any of the instance (`{"allOf": [{"$ref": "#"}]}`, or two
//! `$defs` that refer to each other through `allOf`) makes a validator loop
//! until the stack or memory runs out. Such a schema is refused, saying where.
//!
//! Subschemas that apply to the same instance (`allOf`, `anyOf`, `oneOf`,
//! `not`, `if`/`then`/`else`, `dependentSchemas`, `$ref`, `$dynamicRef`,
//! `$recursiveRef`) are the edges of a graph; a cycle among them is the
//! defect. Keywords that descend into a part of the instance (`properties`,
//! `items`, …) consume input, so recursion through them ends with the payload.

use std::collections::HashMap;

use serde_json::Value;

/// The most subschemas a schema may hold (a guard on the work of checking).
const MAX_NODES: usize = 20_000;

/// Why a schema cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("the schema recurses without consuming input: {path} leads back to {target} (a validator would never stop); refer to it only under properties, items or the like")]
    Recursion { path: String, target: String },
    #[error("the schema has more than {MAX_NODES} subschemas")]
    TooLarge,
}

/// Checks that no chain of in-place applicators and references loops.
pub fn check_recursion(schema: &Value) -> Result<(), SchemaError> {
    let anchors = anchors(schema);
    let mut state: HashMap<String, Mark> = HashMap::new();
    visit(schema, "", schema, &anchors, &mut state)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    OnPath,
    Done,
}

fn visit(
    root: &Value,
    at: &str,
    node: &Value,
    anchors: &HashMap<String, String>,
    state: &mut HashMap<String, Mark>,
) -> Result<(), SchemaError> {
    if state.get(at) == Some(&Mark::Done) {
        return Ok(());
    }
    if state.len() >= MAX_NODES {
        return Err(SchemaError::TooLarge);
    }
    state.insert(at.to_string(), Mark::OnPath);
    for (path, target) in in_place(at, node, anchors) {
        let Some(next) = root.pointer(&target) else {
            continue;
        };
        if state.get(&target) == Some(&Mark::OnPath) {
            return Err(SchemaError::Recursion {
                path: shown(&path),
                target: shown(&target),
            });
        }
        visit(root, &target, next, anchors, state)?;
    }
    state.insert(at.to_string(), Mark::Done);
    Ok(())
}

fn shown(pointer: &str) -> String {
    if pointer.is_empty() {
        "the schema's root".into()
    } else {
        format!("`{pointer}`")
    }
}

/// The subschemas applied to the same instance as `node`, as (where the edge
/// is, the pointer it leads to).
fn in_place(at: &str, node: &Value, anchors: &HashMap<String, String>) -> Vec<(String, String)> {
    let Value::Object(map) = node else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(list)) = map.get(key) {
            for i in 0..list.len() {
                let p = format!("{at}/{key}/{i}");
                out.push((p.clone(), p));
            }
        }
    }
    for key in ["not", "if", "then", "else"] {
        if map.contains_key(key) {
            let p = format!("{at}/{key}");
            out.push((p.clone(), p));
        }
    }
    if let Some(Value::Object(deps)) = map.get("dependentSchemas") {
        for k in deps.keys() {
            let p = format!("{at}/dependentSchemas/{}", escape(k));
            out.push((p.clone(), p));
        }
    }
    for key in ["$ref", "$dynamicRef", "$recursiveRef"] {
        if let Some(Value::String(r)) = map.get(key) {
            if let Some(target) = resolve(r, anchors) {
                out.push((format!("{at}/{key}"), target));
            }
        }
    }
    out
}

/// A local reference as a JSON pointer: `#`, `#/a/b`, or `#anchor`.
fn resolve(reference: &str, anchors: &HashMap<String, String>) -> Option<String> {
    let fragment = reference.strip_prefix('#')?;
    if fragment.is_empty() || fragment.starts_with('/') {
        let decoded = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
        return Some(decoded.into_owned());
    }
    anchors.get(fragment).cloned()
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Every `$anchor` and `$dynamicAnchor` in the document, to the pointer of
/// the subschema that declares it.
fn anchors(root: &Value) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut stack = vec![(String::new(), root)];
    while let Some((at, v)) = stack.pop() {
        if out.len() > MAX_NODES {
            break;
        }
        match v {
            Value::Object(map) => {
                for key in ["$anchor", "$dynamicAnchor"] {
                    if let Some(Value::String(a)) = map.get(key) {
                        out.entry(a.clone()).or_insert_with(|| at.clone());
                    }
                }
                for (k, child) in map {
                    stack.push((format!("{at}/{}", escape(k)), child));
                }
            }
            Value::Array(list) => {
                for (i, child) in list.iter().enumerate() {
                    stack.push((format!("{at}/{i}"), child));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn recursion_without_consuming_input_is_refused() {
        for bad in [
            json!({"type": "object", "allOf": [{"$ref": "#"}]}),
            json!({"allOf": [{"$ref": "#"}]}),
            json!({"$defs": {"a": {"allOf": [{"$ref": "#/$defs/b"}]}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}),
            json!({"$defs": {"x": {"$anchor": "me", "not": {"$ref": "#me"}}}, "$ref": "#/$defs/x"}),
            json!({"$ref": "#"}),
        ] {
            assert!(
                matches!(check_recursion(&bad), Err(SchemaError::Recursion { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn recursion_through_the_instance_is_fine() {
        for good in [
            json!({"type": "object", "properties": {"child": {"$ref": "#"}}}),
            json!({"$defs": {"node": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}, "$ref": "#/$defs/node"}),
            json!({"type": "object", "required": ["id"], "allOf": [{"properties": {"id": {"type": "string"}}}]}),
            json!({"$ref": "https://example.com/other.json"}),
            json!(true),
        ] {
            assert_eq!(check_recursion(&good), Ok(()), "{good}");
        }
    }

    #[test]
    fn the_error_says_where() {
        let e = check_recursion(&json!({"allOf": [{"$ref": "#"}]})).unwrap_err();
        let said = e.to_string();
        assert!(
            said.contains("`/allOf/0/$ref`") && said.contains("root"),
            "{said}"
        );
    }
}
