//! The committed JSON schema matches the wire model, and `damo-policy schema` prints it;
//! the quick reading of it that valid documents pass accepts only what the full validator
//! accepts; the schema and `check` agree on the values of every field kind ([`agreement`]).

#[path = "schema/agreement.rs"]
mod agreement;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;

use damo_policy::policy::source::{self, SourceFile};
use damo_policy::validate::schema;

#[test]
fn committed_schema_is_up_to_date() {
    let generated = damo_policy::validate::schema::generate();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(damo_policy::validate::schema::COMMITTED_PATH);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if generated == committed {
        return;
    }
    if std::env::var_os("DAMO_POLICY_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write the schema");
        return;
    }
    panic!(
        "{} is stale: the policy model changed.\n\
         Regenerate it with `DAMO_POLICY_UPDATE_SCHEMA=1 cargo test --test schema`, \
         then rebuild and review the diff.",
        damo_policy::validate::schema::COMMITTED_PATH
    );
}

/// Every property, in the document and in every definition, carries a description of its own:
/// an editor shows the property's text, not that of a definition it refers to, so a property
/// that only points at a described type (`$ref`, `allOf`) counts as undescribed too.
#[test]
fn every_property_has_a_description() {
    let schema: serde_json::Value = serde_json::from_str(damo_policy::validate::schema::COMMITTED).unwrap();
    let (mut checked, mut missing) = (0, Vec::new());
    walk(&schema, "#", &mut checked, &mut missing);
    assert!(checked > 0, "no property found in the schema");
    assert!(missing.is_empty(), "properties without a description: {missing:#?}");
}

fn walk(node: &serde_json::Value, at: &str, checked: &mut usize, missing: &mut Vec<String>) {
    if let Some(props) = node.get("properties").and_then(|p| p.as_object()) {
        for (key, prop) in props {
            *checked += 1;
            let described = prop["description"].as_str().is_some_and(|text| !text.trim().is_empty());
            if !described {
                missing.push(format!("{at}/properties/{key}"));
            }
        }
    }
    match node {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                walk(child, &format!("{at}/{key}"), checked, missing);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, &format!("{at}/{i}"), checked, missing);
            }
        }
        _ => {}
    }
}

/// Every policy file the repository ships, valid or not (the fixtures of invalid policies
/// reach the schema too, or stop before it).
fn shipped_policies() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut dirs = vec![root.join("tests/fixtures"), root.join("policies")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() > 40, "{files:?}");
    files
}

/// What the quick reading and the full validator say of a document: (quickly accepted,
/// number of errors of the full validator); `None` for text that is not TOML.
fn verdicts(text: &str) -> Option<(bool, usize)> {
    let parsed = source::parse(text).ok()?;
    let file = Arc::new(SourceFile::new("p.toml", text));
    let document = parsed.table.get_ref();
    Some((
        schema::quickly_accepted(document),
        schema::validate_fully(&file, document, &parsed.index).len(),
    ))
}

#[test]
fn shipped_policies_that_pass_the_schema_are_accepted_quickly() {
    for path in shipped_policies() {
        let text = std::fs::read_to_string(&path).unwrap();
        let Some((quick, errors)) = verdicts(&text) else {
            continue;
        };
        assert_eq!(
            quick,
            errors == 0,
            "{}: quickly accepted {quick}, full validator {errors} error(s)",
            path.display()
        );
    }
}

/// Values a mutation puts in place of another: every JSON type, and strings near the
/// schema's patterns, including whitespace the two regex readings disagree on.
fn replacement() -> impl Strategy<Value = toml::Value> {
    use toml::Value as V;
    let text = prop_oneof![
        Just(String::new()),
        "(min|max|[0-9]{1,3}(\\.[0-9])?) ?(KiB|M|G|B|%|s|ms|us|µs|samples|aggrs|aggregations|x)?",
        "(pageout|stat|lru_prio|anon|memcg|free_mem_rate|none|paddr|vaddr|bogus|0x1000|a.b|bad name)",
        "[\\t\\n \u{a0}\u{2003}\u{feff}]{0,2}[0-9]{1,2}(s|%|KiB)[\\t\\n \u{a0}\u{2003}\u{85}]{0,2}",
        "\\PC{0,5}",
    ];
    prop_oneof![
        text.prop_map(V::String),
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(1 << 40),
            Just(i64::MAX),
            any::<i64>()
        ]
        .prop_map(V::Integer),
        prop_oneof![Just(1.0f64), Just(0.5), Just(-0.0)].prop_map(V::Float),
        any::<bool>().prop_map(V::Boolean),
        Just(V::Datetime("1979-05-27T07:32:00Z".parse().unwrap())),
        Just(V::Array(Vec::new())),
        Just(V::Array(vec![V::Integer(1), V::String("a".into())])),
        Just(V::Table(toml::Table::new())),
        Just(V::Table(toml::toml! { min = "1s" })),
    ]
}

/// The tables and arrays of a document, by path, so that a mutation can pick one.
fn containers(value: &toml::Value, path: Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        toml::Value::Table(table) => {
            out.push(path.clone());
            for (key, child) in table {
                let mut child_path = path.clone();
                child_path.push(key.clone());
                containers(child, child_path, out);
            }
        }
        toml::Value::Array(items) => {
            out.push(path.clone());
            for (i, child) in items.iter().enumerate() {
                let mut child_path = path.clone();
                child_path.push(i.to_string());
                containers(child, child_path, out);
            }
        }
        _ => {}
    }
}

fn container_mut<'a>(value: &'a mut toml::Value, path: &[String]) -> &'a mut toml::Value {
    path.iter().fold(value, |value, seg| match value {
        toml::Value::Table(table) => table.get_mut(seg).unwrap(),
        toml::Value::Array(items) => &mut items[seg.parse::<usize>().unwrap()],
        _ => unreachable!("a container path"),
    })
}

/// One change to a document: replace or remove an entry of a table or array, or add an
/// unknown key.
fn mutate(document: &mut toml::Value, at: prop::sample::Index, entry: prop::sample::Index, how: u8, with: toml::Value) {
    let mut all = Vec::new();
    containers(document, Vec::new(), &mut all);
    let container = container_mut(document, &all[at.index(all.len())]);
    match container {
        toml::Value::Table(table) if how == 0 || table.is_empty() => {
            table.insert("bogus".into(), with);
        }
        toml::Value::Table(table) => {
            let key = table.keys().nth(entry.index(table.len())).unwrap().clone();
            if how == 1 {
                table.remove(&key);
            } else {
                table.insert(key, with);
            }
        }
        toml::Value::Array(items) if items.is_empty() => items.push(with),
        toml::Value::Array(items) => {
            let i = entry.index(items.len());
            if how == 1 {
                items.remove(i);
            } else {
                items[i] = with;
            }
        }
        _ => unreachable!("a container"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The quick reading accepts nothing the full validator rejects: its "valid" stands in
    /// for the full validator's.
    #[test]
    fn quick_acceptance_implies_the_full_validators(
        file in prop::sample::select(shipped_policies()),
        mutations in prop::collection::vec(
            (any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0u8..4, replacement()),
            1..4,
        ),
    ) {
        let Ok(mut document) = std::fs::read_to_string(&file).unwrap().parse::<toml::Table>() else { return Ok(()) };
        let mut document = toml::Value::Table(std::mem::take(&mut document));
        for (at, entry, how, with) in mutations {
            mutate(&mut document, at, entry, how, with);
        }
        let text = toml::to_string(&document).unwrap();
        if let Some((quick, errors)) = verdicts(&text) {
            prop_assert!(!quick || errors == 0, "quickly accepted, but the full validator finds {errors} error(s):\n{text}");
        }
    }
}
