//! damo's kdamonds tree as types, used both ways: [`super::export`] fills and serializes
//! them, [`super::import`] deserializes them from the JSON value [`super::document`] reads
//! (from JSON or YAML) and judges what it finds.
//!
//! Fields are in damo's key order (`_damon.py` `to_kvpairs`), so that an export reads like
//! damo's own. The types are as lenient as damo's reader, so that import can report each
//! problem at its JSON path instead of failing the whole tree on the first: unknown keys are
//! ignored; a key that is absent is `None` (the importer applies damo's default), while a
//! key written as `null` is present; a leaf ([`DamoValue`]) keeps whatever damo wrote —
//! a number, or a human string such as `"4.000 KiB"`, `"0.3 %"`, `"1 s"` — to be read with
//! damo's grammar; and an object ([`Node`]) or list ([`List`]) of the wrong shape keeps the
//! value found, for the finding to quote. Keys only import reads (damo's older names, the
//! features damo-policy leaves out) are absent from an export.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Number, Value};

/// The whole tree: `{"kdamonds": [...]}`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Tree {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub kdamonds: Option<List<Node<Kdamond>>>,
}

/// A value as damo writes it in the tree: a number, a string (damo's human units), a
/// boolean or `null`; anything else is kept to be quoted in a finding.
#[derive(Debug, Clone, PartialEq)]
pub enum DamoValue {
    Null,
    Bool(bool),
    Number(Number),
    Text(String),
    /// A list or an object where damo writes a scalar.
    Other(Value),
}

impl DamoValue {
    pub fn text(text: impl Into<String>) -> Self {
        DamoValue::Text(text.into())
    }

    /// The value as damo's grammar reads it: a string as written, a number or boolean as
    /// printed; `None` for `null` and for what is not a scalar.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            DamoValue::Text(text) => Some(text.clone()),
            DamoValue::Number(n) => Some(n.to_string()),
            DamoValue::Bool(b) => Some(b.to_string()),
            DamoValue::Null | DamoValue::Other(_) => None,
        }
    }

    /// The string damo wrote, if it wrote one (keywords: `ops`, `metric`, …).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            DamoValue::Text(text) => Some(text),
            _ => None,
        }
    }

    /// A flag written as a boolean or as one of damo's boolean words.
    pub fn as_flag(&self) -> Option<bool> {
        match self {
            DamoValue::Bool(b) => Some(*b),
            DamoValue::Text(text) => crate::interop::damo_units::boolean(text),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, DamoValue::Null)
    }

    /// The value as JSON, to quote it.
    pub fn to_value(&self) -> Value {
        match self {
            DamoValue::Null => Value::Null,
            DamoValue::Bool(b) => Value::Bool(*b),
            DamoValue::Number(n) => Value::Number(n.clone()),
            DamoValue::Text(text) => Value::String(text.clone()),
            DamoValue::Other(value) => value.clone(),
        }
    }
}

impl From<u64> for DamoValue {
    fn from(n: u64) -> Self {
        DamoValue::Number(n.into())
    }
}

impl From<u32> for DamoValue {
    fn from(n: u32) -> Self {
        DamoValue::Number(n.into())
    }
}

impl From<bool> for DamoValue {
    fn from(b: bool) -> Self {
        DamoValue::Bool(b)
    }
}

impl Serialize for DamoValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            DamoValue::Null => serializer.serialize_unit(),
            DamoValue::Bool(b) => serializer.serialize_bool(*b),
            DamoValue::Number(n) => n.serialize(serializer),
            DamoValue::Text(text) => serializer.serialize_str(text),
            DamoValue::Other(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for DamoValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => DamoValue::Null,
            Value::Bool(b) => DamoValue::Bool(b),
            Value::Number(n) => DamoValue::Number(n),
            Value::String(text) => DamoValue::Text(text),
            other => DamoValue::Other(other),
        })
    }
}

/// An object of the tree: its fields when it is one, else the value found in its place.
#[derive(Debug, Clone)]
pub enum Node<T> {
    Object(T),
    Other(Value),
}

impl<T> Node<T> {
    /// The fields; `None` when the value is not an object (it has no keys, as in damo).
    pub fn fields(&self) -> Option<&T> {
        match self {
            Node::Object(fields) => Some(fields),
            Node::Other(_) => None,
        }
    }
}

impl<T: Serialize> Serialize for Node<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Object(fields) => fields.serialize(serializer),
            Node::Other(value) => value.serialize(serializer),
        }
    }
}

impl<'de, T: for<'a> Deserialize<'a>> Deserialize<'de> for Node<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Node::from_value(Value::deserialize(deserializer)?))
    }
}

impl<T: for<'a> Deserialize<'a>> Node<T> {
    /// Only an object has fields: a derived struct would also take a list, by position.
    pub fn from_value(value: Value) -> Self {
        if !value.is_object() {
            return Node::Other(value);
        }
        // The fields are as lenient as this; a failure would keep the value all the same.
        match T::deserialize(&value) {
            Ok(fields) => Node::Object(fields),
            Err(_) => Node::Other(value),
        }
    }
}

/// A list of the tree: its items when it is one, else the value found in its place.
#[derive(Debug, Clone)]
pub enum List<T> {
    Items(Vec<T>),
    Other(Value),
}

impl<T> List<T> {
    /// The items; `None` when the value is not a list.
    pub fn items(&self) -> Option<&[T]> {
        match self {
            List::Items(items) => Some(items),
            List::Other(_) => None,
        }
    }
}

/// The items of a list that may be absent or not a list: none, as damo's reader takes them.
pub fn items<T>(list: Option<&List<T>>) -> &[T] {
    list.and_then(List::items).unwrap_or(&[])
}

impl<T: Serialize> Serialize for List<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            List::Items(items) => items.serialize(serializer),
            List::Other(value) => value.serialize(serializer),
        }
    }
}

impl<'de, T: for<'a> Deserialize<'a>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(List::from_value(Value::deserialize(deserializer)?))
    }
}

impl<T: for<'a> Deserialize<'a>> List<T> {
    pub fn from_value(value: Value) -> Self {
        let Value::Array(values) = value else {
            return List::Other(value);
        };
        // Items are leaves, nodes or lists, which take any value.
        let items: Result<Vec<T>, _> = values.iter().map(T::deserialize).collect();
        match items {
            Ok(items) => List::Items(items),
            Err(_) => List::Other(Value::Array(values)),
        }
    }
}

/// A key that is written, `null` included: serde's `Option` would take `null` for absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// A struct of damo's keys, each optional: absent when not written (import) or not set
/// (export), present when written, `null` included.
macro_rules! damo_struct {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[doc = $doc:literal])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, Serialize, Deserialize)]
        pub struct $name {
            $(
                $(#[doc = $doc])*
                #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }
    };
}

damo_struct! {
    /// One kdamond.
    pub struct Kdamond {
        pub refresh_ms: DamoValue,
        pub contexts: List<Node<Context>>,
    }
}

damo_struct! {
    /// One monitoring context.
    pub struct Context {
        pub ops: DamoValue,
        /// The size of an address unit (damo-policy writes 1).
        pub addr_unit: DamoValue,
        pub targets: List<Node<Target>>,
        pub intervals: Node<Intervals>,
        pub nr_regions: Node<MinMax>,
        pub schemes: List<Node<Scheme>>,
        /// damo features damo-policy leaves out.
        pub pause: DamoValue,
        pub probes: List<Value>,
        pub sample_control: Node<SampleControl>,
    }
}

damo_struct! {
    pub struct SampleControl {
        pub sample_filters: List<Value>,
    }
}

damo_struct! {
    /// A monitoring target: a process (`pid`) or physical memory (`pid` null).
    pub struct Target {
        pub pid: DamoValue,
        pub obsolete: DamoValue,
        pub regions: List<Node<Region>>,
    }
}

damo_struct! {
    /// An address range `[start, end)`.
    pub struct Region {
        pub start: DamoValue,
        pub end: DamoValue,
    }
}

damo_struct! {
    pub struct Intervals {
        pub sample_us: DamoValue,
        pub aggr_us: DamoValue,
        pub ops_update_us: DamoValue,
        pub intervals_goal: Node<IntervalsGoal>,
    }
}

damo_struct! {
    /// The monitoring intervals' auto-tuning goal.
    pub struct IntervalsGoal {
        pub access_bp: DamoValue,
        pub aggrs: DamoValue,
        pub min_sample_us: DamoValue,
        pub max_sample_us: DamoValue,
    }
}

damo_struct! {
    /// A `min`/`max` pair.
    pub struct MinMax {
        pub min: DamoValue,
        pub max: DamoValue,
    }
}

damo_struct! {
    /// One DAMOS scheme.
    pub struct Scheme {
        pub action: DamoValue,
        pub dests: List<Node<Dest>>,
        pub target_nid: DamoValue,
        pub access_pattern: Node<AccessPattern>,
        pub apply_interval_us: DamoValue,
        pub quotas: Node<Quotas>,
        pub watermarks: Node<Watermarks>,
        pub filters: List<Node<Filter>>,
    }
}

damo_struct! {
    /// A migration destination node and its weight.
    pub struct Dest {
        pub id: DamoValue,
        pub weight: DamoValue,
    }
}

damo_struct! {
    pub struct AccessPattern {
        pub sz_bytes: Node<MinMax>,
        pub nr_accesses: Node<MinMax>,
        pub age: Node<MinMax>,
    }
}

damo_struct! {
    pub struct Quotas {
        pub time_ms: DamoValue,
        pub sz_bytes: DamoValue,
        pub reset_interval_ms: DamoValue,
        pub fail_charge_num: DamoValue,
        pub fail_charge_denom: DamoValue,
        pub goals: List<Node<Goal>>,
        pub goal_tuner: DamoValue,
        pub weights: Node<Weights>,
    }
}

damo_struct! {
    /// A quota auto-tuning goal.
    pub struct Goal {
        pub metric: DamoValue,
        pub nid: DamoValue,
        pub memcg_path: DamoValue,
        pub target_value: DamoValue,
        pub current_value: DamoValue,
        /// damo's older name of a `user_input` goal's target, in basis points.
        pub target_value_bp: DamoValue,
        pub complement: DamoValue,
    }
}

damo_struct! {
    pub struct Weights {
        pub sz_permil: DamoValue,
        pub nr_accesses_permil: DamoValue,
        pub age_permil: DamoValue,
    }
}

damo_struct! {
    pub struct Watermarks {
        pub metric: DamoValue,
        pub interval_us: DamoValue,
        pub high_permil: DamoValue,
        pub mid_permil: DamoValue,
        pub low_permil: DamoValue,
    }
}

damo_struct! {
    /// A DAMOS filter; which argument it has depends on its type.
    pub struct Filter {
        pub filter_type: DamoValue,
        pub matching: DamoValue,
        pub allow: DamoValue,
        /// damo's older name of `allow`.
        pub filter_pass: DamoValue,
        pub memcg_path: DamoValue,
        pub address_range: Node<Region>,
        pub damon_target_idx: DamoValue,
        pub hugepage_size: List<DamoValue>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_null_and_wrong_shapes_are_kept_apart() {
        let value = serde_json::json!({
            "ops": "paddr", "addr_unit": null, "targets": 3, "schemes": [{"action": "stat"}, [1]],
            "intervals": [], "unknown": {}
        });
        let context: Node<Context> = Node::from_value(value);
        let context = context.fields().unwrap();
        assert_eq!(context.ops.as_ref().and_then(DamoValue::as_str), Some("paddr"));
        assert_eq!(context.addr_unit, Some(DamoValue::Null));
        assert!(context.pause.is_none());
        assert!(matches!(context.targets, Some(List::Other(Value::Number(_)))));
        assert!(matches!(context.intervals, Some(Node::Other(Value::Array(_)))));
        let schemes = items(context.schemes.as_ref());
        assert!(schemes[0].fields().is_some());
        assert!(matches!(&schemes[1], Node::Other(Value::Array(_))));
    }

    #[test]
    fn leaves_read_as_damo_wrote_them() {
        let leaf = |value: Value| serde_json::from_value::<DamoValue>(value).unwrap();
        assert_eq!(leaf(serde_json::json!("4.000 KiB")).scalar_text().unwrap(), "4.000 KiB");
        assert_eq!(leaf(serde_json::json!(4096)).scalar_text().unwrap(), "4096");
        assert_eq!(leaf(serde_json::json!("yes")).as_flag(), Some(true));
        assert_eq!(leaf(serde_json::json!([1])).scalar_text(), None);
        assert_eq!(serde_json::to_string(&DamoValue::from(5u64)).unwrap(), "5");
    }
}
