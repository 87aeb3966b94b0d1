//! Concrete fixes for diagnostics of the schema layer: for a value of the wrong type, the
//! line to write, derived from the type the schema expects and the value given
//! (`pids = "1234"` → write `pids = [1234]`); and the schema nodes at a key, which also
//! give the keys a table allows for did-you-mean.

use std::sync::OnceLock;

use jsonschema::JsonType;
use jsonschema::error::TypeKind;
use serde_json::Value;

use crate::model::units;
use crate::policy::source::{KeyPath, Seg};

/// The committed schema, parsed once for messages.
pub(super) fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(super::COMMITTED).unwrap_or_default())
}

/// The schema nodes that may describe the value at `path`, following `$ref`, `allOf`,
/// `anyOf` and `oneOf`.
pub(super) fn nodes_at<'s>(root: &'s Value, node: &'s Value, path: &[Seg], out: &mut Vec<&'s Value>) {
    let node = resolve_ref(root, node);
    for combinator in ["allOf", "anyOf", "oneOf"] {
        for branch in node.get(combinator).and_then(Value::as_array).into_iter().flatten() {
            nodes_at(root, branch, path, out);
        }
    }
    match path.split_first() {
        None => out.push(node),
        Some((Seg::Key(k), rest)) => {
            if let Some(child) = node.get("properties").and_then(|p| p.get(k.as_ref())) {
                nodes_at(root, child, rest, out);
            }
        }
        Some((Seg::Index(_), rest)) => {
            if let Some(child) = node.get("items") {
                nodes_at(root, child, rest, out);
            }
        }
    }
}

fn resolve_ref<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(pointer) => root.pointer(pointer).map_or(node, |n| resolve_ref(root, n)),
        None => node,
    }
}

/// The JSON types the items of the array at `path` may have.
fn item_types(path: &KeyPath) -> Vec<String> {
    let root = schema();
    let mut nodes = Vec::new();
    nodes_at(root, root, &path.0, &mut nodes);
    let mut items = Vec::new();
    for node in nodes.iter().filter_map(|n| n.get("items")) {
        nodes_at(root, node, &[], &mut items);
    }
    items
        .iter()
        .flat_map(|item| match item.get("type") {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(ts)) => ts.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
            _ if item.get("properties").is_some() => vec!["object".to_owned()],
            _ => Vec::new(),
        })
        .collect()
}

/// Keys whose value is a duration, a percentage.
const DURATION_KEYS: &[&str] = &[
    "sample_interval",
    "aggregation_interval",
    "update_interval",
    "apply_interval",
    "time",
    "reset_interval",
    "interval",
    "min_sample_interval",
    "max_sample_interval",
];
const PERCENT_KEYS: &[&str] = &["high", "mid", "low", "access"];

/// The longest value a fix writes out; a longer one is elided.
const LITERAL_CHARS: usize = 40;

/// `value` as TOML, or `…` if it is too long to repeat.
fn literal(value: &Value) -> String {
    let text = match value {
        Value::String(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        other => other.to_string(),
    };
    if text.chars().count() > LITERAL_CHARS || value.is_object() {
        "…".to_owned()
    } else {
        text
    }
}

/// Help for a value of the wrong type: the line to write where the value says what was meant,
/// else how values of this key are written.
pub(super) fn type_help(path: &KeyPath, kind: &TypeKind, value: Option<&Value>) -> String {
    let expects = |wanted: JsonType| match kind {
        TypeKind::Single(t) => *t == wanted,
        TypeKind::Multiple(set) => set.iter().any(|t| t == wanted),
    };
    let key = match path.0.last() {
        Some(Seg::Key(k)) => Some(k.as_ref()),
        _ => None,
    };
    // `key = value`, or the value alone for an item of an array.
    let write = |value: String| match key {
        Some(key) => format!("write `{key} = {value}`"),
        None => format!("write `{value}`"),
    };
    let whole = |s: &str| s.trim().parse::<u64>().ok();
    let fix = match value {
        Some(Value::Object(_)) if expects(JsonType::Array) => Some(list_of_tables(key)),
        Some(_) if expects(JsonType::Array) && is_list_of_tables(path) => Some(list_of_tables(key)),
        Some(Value::String(s)) if expects(JsonType::Array) => {
            let items = item_types(path);
            Some(match whole(s) {
                Some(n) if items.iter().any(|t| t == "integer") => write(format!("[{n}]")),
                _ => write(format!("[{}]", literal(&Value::String(s.clone())))),
            })
        }
        Some(v @ (Value::Number(_) | Value::Bool(_))) if expects(JsonType::Array) => {
            Some(write(format!("[{}]", literal(v))))
        }
        Some(Value::String(s)) if expects(JsonType::Integer) && whole(s).is_some() => Some(format!(
            "{}, without quotes",
            write(whole(s).unwrap_or_default().to_string())
        )),
        Some(Value::Number(n)) if expects(JsonType::Integer) && !expects(JsonType::String) && n.is_f64() => {
            let whole = n.as_f64().unwrap_or_default().trunc();
            Some(format!(
                "{}: a whole number, without a decimal point",
                write(format!("{whole}"))
            ))
        }
        Some(Value::String(s)) if expects(JsonType::Boolean) && matches!(s.trim(), "true" | "false") => {
            Some(format!("{}, without quotes", write(s.trim().to_owned())))
        }
        Some(Value::Number(_)) if expects(JsonType::Boolean) => Some(format!(
            "{} or `{}`",
            write("true".to_owned()),
            write("false".to_owned())
                .trim_start_matches("write `")
                .trim_end_matches('`')
        )),
        Some(v @ Value::Number(_)) if expects(JsonType::String) => Some(match key {
            Some(k) if DURATION_KEYS.contains(&k) => format!(
                "{}: a duration is a string with its unit, such as \"5ms\", \"100us\", \"60s\", \"1m 30s\"",
                write(format!("\"{v}ms\""))
            ),
            Some(k) if PERCENT_KEYS.contains(&k) => format!(
                "{}: a percentage is a string such as \"40%\" or \"12.5%\"",
                write(format!("\"{v}%\""))
            ),
            Some("min" | "max") => "write the bound in the unit of its range, as a string: \"4KiB\", \"5%\", \
\"60s\", or \"min\" / \"max\""
                .to_owned(),
            _ => format!("{}, in quotes", write(format!("\"{v}\""))),
        }),
        Some(Value::Array(_)) if expects(JsonType::Object) => Some(match key {
            Some(key) => format!("`{key}` is one table, not a list: write `[{key}]` or `{key} = {{ … }}`"),
            None => "write one table: `{ … }`".to_owned(),
        }),
        _ => None,
    };
    fix.unwrap_or_else(|| by_key(path, key))
}

/// Whether the array at `path` holds tables.
fn is_list_of_tables(path: &KeyPath) -> bool {
    let items = item_types(path);
    !items.is_empty() && items.iter().all(|t| t == "object")
}

/// How to write a list of tables.
fn list_of_tables(key: Option<&str>) -> String {
    match key {
        Some("scheme") => "each scheme is a `[[scheme]]` table: write `[[scheme]]`, with double brackets".to_owned(),
        Some("filter") => {
            "each filter is a `[[scheme.filter]]` table: write `[[scheme.filter]]`, with double brackets".to_owned()
        }
        Some(key) => format!("`{key}` is a list of tables: write `{key} = [{{ … }}]`"),
        None => "write a list of tables: `[{ … }]`".to_owned(),
    }
}

/// How values of the key at `path` are written, for a value that says nothing of its intent.
fn by_key(path: &KeyPath, key: Option<&str>) -> String {
    match key {
        Some("physical") => "write `physical = true`, `physical = { numa_node = 0 }` or \
`physical = { regions = [{ start = \"0x100000000\", end = \"0x200000000\" }] }`"
            .to_owned(),
        Some("size") if path.0.len() > 2 => units::SIZE_HELP.to_owned(),
        Some("min" | "max") => "write the bound in the unit of its range, as a string: \"4KiB\", \
\"5%\", \"60s\", or \"min\" / \"max\""
            .to_owned(),
        Some(k) if DURATION_KEYS.contains(&k) => format!("durations are strings: {}", units::DURATION_HELP),
        Some(k) if PERCENT_KEYS.contains(&k) => format!("percentages are strings: {}", units::PERCENT_HELP),
        Some("scheme") => "each scheme is a `[[scheme]]` table".to_owned(),
        Some("filter") => "each filter is a `[[scheme.filter]]` table".to_owned(),
        _ => "see the schema's description of this key".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_path;

    fn help(path: KeyPath, expected: JsonType, value: Value) -> String {
        type_help(&path, &TypeKind::Single(expected), Some(&value))
    }

    #[test]
    fn a_fix_is_derived_from_the_expected_type_and_the_value() {
        let pids = key_path!["target", "pids"];
        assert_eq!(
            help(pids, JsonType::Array, Value::from("1234")),
            "write `pids = [1234]`"
        );
        let regions = key_path!["monitoring", "regions", "min"];
        assert_eq!(
            help(regions, JsonType::Integer, Value::from("10")),
            "write `min = 10`, without quotes"
        );
        let enabled = key_path!["enabled"];
        assert_eq!(
            help(enabled, JsonType::Boolean, Value::from("true")),
            "write `enabled = true`, without quotes"
        );
        let interval = key_path!["monitoring", "sample_interval"];
        assert!(help(interval, JsonType::String, Value::from(5)).starts_with("write `sample_interval = \"5ms\"`"));
        let goals = key_path!["scheme", 0, "quota", "goals"];
        assert_eq!(
            help(goals, JsonType::Array, serde_json::json!({"metric": "user_input"})),
            "`goals` is a list of tables: write `goals = [{ … }]`"
        );
        let regions = key_path!["target", "regions"];
        assert_eq!(
            help(regions, JsonType::Array, Value::from(5)),
            "`regions` is a list of tables: write `regions = [{ … }]`"
        );
    }

    #[test]
    fn a_long_value_is_not_repeated_in_a_fix() {
        let process = key_path!["target", "pids"];
        let long = "7".repeat(1000);
        assert_eq!(help(process, JsonType::Array, Value::from(long)), "write `pids = […]`");
    }
}
