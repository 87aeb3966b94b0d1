//! The committed JSON schema matches the wire model, and `damo-policy schema` prints it.

use std::path::Path;

#[test]
fn committed_schema_is_up_to_date() {
    let generated = damo_policy::schema::generate();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(damo_policy::schema::COMMITTED_PATH);
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
        damo_policy::schema::COMMITTED_PATH
    );
}

#[test]
fn every_property_has_a_description() {
    let schema: serde_json::Value = serde_json::from_str(damo_policy::schema::COMMITTED).unwrap();
    let mut missing = Vec::new();
    walk(&schema, "#", &mut missing);
    assert!(missing.is_empty(), "properties without a description: {missing:#?}");
}

fn walk(node: &serde_json::Value, at: &str, missing: &mut Vec<String>) {
    if let Some(props) = node.get("properties").and_then(|p| p.as_object()) {
        for (key, prop) in props {
            let described = prop.get("description").is_some()
                || prop.get("$ref").is_some() && prop.get("description").is_some();
            if !described {
                missing.push(format!("{at}/properties/{key}"));
            }
        }
    }
    match node {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                walk(child, &format!("{at}/{key}"), missing);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, &format!("{at}/{i}"), missing);
            }
        }
        _ => {}
    }
}
