//! YAML → the JSON value it stands for, read as damo reads its YAML (PyYAML's `safe_load`,
//! YAML 1.1): plain scalars resolve to null, booleans (`yes`, `off`, ...), integers and
//! decimals, anything else and quoted scalars are strings; anchors, aliases and `<<` merges
//! are followed; tags that are not plain data (`!!python/...`) are refused, as `safe_load`
//! refuses them.
//!
//! Numbers reach serde_json as the digits they are written with, so a number in damo's YAML
//! becomes exactly the value it has in damo's JSON: 2^64 - 1 stays an integer. Errors carry
//! the byte offset of what they are about; the syntax is saphyr's YAML parser's.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput, Tag};
use serde_json::{Map, Number, Value};

/// Collections nested deeper are refused, as serde_json refuses such JSON.
const MAX_DEPTH: usize = 128;

/// Values that aliases may copy in all: each alias copies its anchor's whole value, so a few
/// nested aliases could otherwise grow a small file into an unbounded tree.
const ALIAS_BUDGET: usize = 100_000;

/// Why `text` is not a YAML document damo could read, and where.
#[derive(Debug, PartialEq)]
pub struct YamlError {
    pub offset: usize,
    pub message: String,
}

/// The one document of `text` (`null` when there is none) as a JSON value.
pub fn parse(text: &str) -> Result<Value, YamlError> {
    let mut reader = Reader {
        text,
        events: Parser::new_from_str(text),
        anchors: HashMap::new(),
        alias_budget: ALIAS_BUDGET,
    };
    reader.stream()
}

struct Reader<'a> {
    text: &'a str,
    events: Parser<'a, StrInput<'a>>,
    /// Anchored values by the parser's anchor id, once complete, with their height.
    anchors: HashMap<usize, (Value, usize)>,
    alias_budget: usize,
}

impl<'a> Reader<'a> {
    fn stream(&mut self) -> Result<Value, YamlError> {
        let mut document = None;
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamEnd => return Ok(document.unwrap_or(Value::Null)),
                Event::DocumentStart(_) if document.is_some() => {
                    return Err(self.error(span, "a second YAML document: damo reads a file of one".into()));
                }
                Event::DocumentStart(_) => {
                    let (event, span) = self.next()?;
                    document = Some(self.node(event, span, 0)?);
                }
                _ => {}
            }
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.events.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => Err(self.scan_error(&error)),
            None => Err(YamlError {
                offset: self.text.len(),
                message: "unexpected end of the YAML stream".into(),
            }),
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span, depth: usize) -> Result<Value, YamlError> {
        if depth > MAX_DEPTH {
            return Err(self.error(span, format!("YAML nested deeper than {MAX_DEPTH} levels")));
        }
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => (self.scalar(&text, style, tag.as_deref(), span)?, anchor),
            Event::SequenceStart(anchor, tag) => {
                self.collection_tag(tag.as_deref(), "seq", span)?;
                (self.sequence(depth)?, anchor)
            }
            Event::MappingStart(anchor, tag) => {
                self.collection_tag(tag.as_deref(), "map", span)?;
                (self.mapping(depth)?, anchor)
            }
            Event::Alias(id) => return self.alias(id, span, depth),
            other => return Err(self.error(span, format!("unexpected YAML event {other:?}"))),
        };
        // The parser numbers anchors from 1; 0 is none. The kept copy counts against the
        // budget as an alias's does: nested anchors would otherwise copy unchecked.
        if anchor > 0 {
            self.charge(size(&value), span)?;
            self.anchors.insert(anchor, (value.clone(), height(&value)));
        }
        Ok(value)
    }

    fn sequence(&mut self, depth: usize) -> Result<Value, YamlError> {
        let mut items = Vec::new();
        loop {
            match self.next()? {
                (Event::SequenceEnd, _) => return Ok(Value::Array(items)),
                (event, span) => items.push(self.node(event, span, depth + 1)?),
            }
        }
    }

    fn mapping(&mut self, depth: usize) -> Result<Value, YamlError> {
        let mut map = Map::new();
        let mut merges = Vec::new();
        loop {
            let key = match self.next()? {
                (Event::MappingEnd, _) => break,
                (Event::Scalar(text, ScalarStyle::Plain, _, None), _) if text == "<<" => None,
                (Event::Scalar(text, ..), _) => Some(text.into_owned()),
                (_, span) => {
                    return Err(self.error(span, "a mapping key that is not a scalar: JSON keys are strings".into()));
                }
            };
            let (event, span) = self.next()?;
            let value = self.node(event, span, depth + 1)?;
            match key {
                Some(key) => {
                    map.insert(key, value);
                }
                None => merges.push((value, span)),
            }
        }
        // `<<: *defaults` (or a list of them) adds the keys the mapping does not set itself;
        // as in PyYAML, the first mapping of a list wins, and a later `<<` key wins over an
        // earlier one.
        for (value, span) in merges.into_iter().rev() {
            let sources = match value {
                Value::Array(items) => items,
                other => vec![other],
            };
            for source in sources {
                let Value::Object(source) = source else {
                    return Err(self.error(span, "`<<` merges mappings, and this is not one".into()));
                };
                for (key, value) in source {
                    map.entry(key).or_insert(value);
                }
            }
        }
        Ok(Value::Object(map))
    }

    fn scalar(&self, text: &str, style: ScalarStyle, tag: Option<&Tag>, span: Span) -> Result<Value, YamlError> {
        match tag {
            None if style == ScalarStyle::Plain => Ok(plain(text)),
            None => Ok(Value::String(text.to_owned())),
            Some(tag) if core(tag, &["str"]) => Ok(Value::String(text.to_owned())),
            Some(tag) if core(tag, &["int", "float", "bool", "null"]) => Ok(plain(text)),
            Some(tag) => Err(self.tag_error(tag, span)),
        }
    }

    fn collection_tag(&self, tag: Option<&Tag>, kind: &str, span: Span) -> Result<(), YamlError> {
        match tag {
            Some(tag) if !core(tag, &[kind]) => Err(self.tag_error(tag, span)),
            _ => Ok(()),
        }
    }

    fn alias(&mut self, id: usize, span: Span, depth: usize) -> Result<Value, YamlError> {
        let Some((size, height)) = self.anchors.get(&id).map(|(value, height)| (size(value), *height)) else {
            return Err(self.error(span, "an alias to an anchor whose value is not complete here".into()));
        };
        // An alias puts its anchor's whole depth below this point.
        if depth + height > MAX_DEPTH {
            return Err(self.error(
                span,
                format!("YAML nested deeper than {MAX_DEPTH} levels (through aliases)"),
            ));
        }
        self.charge(size, span)?;
        Ok(self.anchors[&id].0.clone())
    }

    fn charge(&mut self, values: usize, span: Span) -> Result<(), YamlError> {
        match self.alias_budget.checked_sub(values) {
            Some(left) => {
                self.alias_budget = left;
                Ok(())
            }
            None => Err(self.error(
                span,
                format!("anchors and aliases copy more than {ALIAS_BUDGET} values in all"),
            )),
        }
    }

    fn tag_error(&self, tag: &Tag, span: Span) -> YamlError {
        let shown = if tag.is_yaml_core_schema() {
            format!("!!{}", tag.suffix)
        } else {
            format!("{}{}", tag.handle, tag.suffix)
        };
        self.error(
            span,
            format!("YAML tag `{shown}` is not plain data, and damo's own YAML reader refuses it too"),
        )
    }

    fn error(&self, span: Span, message: String) -> YamlError {
        YamlError {
            offset: byte_offset(self.text, span.start.index()),
            message,
        }
    }

    fn scan_error(&self, error: &ScanError) -> YamlError {
        YamlError {
            offset: byte_offset(self.text, error.marker().index()),
            message: format!("invalid YAML: {}", error.info()),
        }
    }
}

/// Whether `tag` is one of the core schema's `!!name` tags.
fn core(tag: &Tag, names: &[&str]) -> bool {
    tag.is_yaml_core_schema() && names.contains(&tag.suffix.as_str())
}

/// The parser counts characters; diagnostics count bytes.
fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices().nth(chars).map_or(text.len(), |(offset, _)| offset)
}

/// How many levels of collections `value` has (0 for a scalar).
fn height(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(height).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(height).max().unwrap_or(0),
        _ => 0,
    }
}

/// How many values `value` is, itself included.
fn size(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(size).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(size).sum::<usize>(),
        _ => 1,
    }
}

/// A plain scalar as PyYAML's resolver (YAML 1.1) reads it.
fn plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Value::Bool(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Value::Bool(false),
        _ => number(text).map_or_else(|| Value::String(text.to_owned()), Value::Number),
    }
}

/// YAML 1.1's integers (decimal, `0x`, `0b`, octal `0`; `_` groups digits) and decimals
/// (`1.5`, `.5`, `1.0e+3`), written as JSON and read by serde_json, so they become the number
/// JSON makes of them. What is neither (`1e3`, `.inf`, `1:30`, `4,096`) stays a string, as in
/// PyYAML (which reads `.inf` and `1:30` as numbers that damo's values are never).
fn number(text: &str) -> Option<Number> {
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.strip_prefix('+').unwrap_or(text)),
    };
    // PyYAML's shapes: a digit first (a decimal may start with `.` and a digit, unsigned),
    // `_` only among digits, and none in an exponent.
    let first_ok = unsigned.starts_with(|c: char| c.is_ascii_digit())
        || (sign.is_empty() && text == unsigned && unsigned.starts_with(['.']));
    let exponent_has_underscore = unsigned.split_once(['e', 'E']).is_some_and(|(_, e)| e.contains('_'));
    if !first_ok || exponent_has_underscore || unsigned.starts_with("._") {
        return None;
    }
    let digits = unsigned.replace('_', "");
    // JSON's `-0` is a float; YAML's is the integer 0.
    let sign = if digits.bytes().all(|b| b == b'0' || b == b'x' || b == b'b') {
        ""
    } else {
        sign
    };
    let radix = match digits.as_bytes() {
        [b'0', b'x', ..] => Some((&digits[2..], 16)),
        [b'0', b'b', ..] => Some((&digits[2..], 2)),
        [b'0', rest @ ..] if !rest.is_empty() && !rest.contains(&b'.') => Some((&digits[1..], 8)),
        _ => None,
    };
    if let Some((body, radix)) = radix {
        // `from_str_radix` takes a sign of its own, which YAML does not allow after a prefix.
        let n = u64::from_str_radix(body, radix)
            .ok()
            .filter(|_| !body.starts_with('+'))?;
        return serde_json::from_str(&format!("{sign}{n}")).ok();
    }
    let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let (mantissa, exponent) = match digits.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (digits.as_str(), None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let exponent_ok =
        exponent.is_none_or(|e| fraction.is_some() && e.len() > 1 && e.starts_with(['+', '-']) && is_digits(&e[1..]));
    let has_digits = !whole.is_empty() || fraction.is_some_and(|f| !f.is_empty());
    if !(is_digits(whole) && fraction.is_none_or(is_digits) && has_digits && exponent_ok) {
        return None;
    }
    // JSON wants one digit before the point and one after it, and no leading zeros.
    let whole = match whole.trim_start_matches('0') {
        "" => "0",
        trimmed => trimmed,
    };
    let fraction = fraction.map_or(String::new(), |f| format!(".{}", if f.is_empty() { "0" } else { f }));
    let exponent = exponent.map_or(String::new(), |e| format!("e{e}"));
    serde_json::from_str(&format!("{sign}{whole}{fraction}{exponent}")).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn scalars_resolve_as_pyyaml_resolves_them() {
        let scalars = [
            "~",
            "null",
            "''",
            "yes",
            "Off",
            "'true'",
            "18446744073709551615",
            "-5",
            "0x1f",
            "0b101",
            "017",
            "1_000",
            "1.5",
            ".5",
            "1.",
            "1.0e+3",
            "1e3",
            ".inf",
            "1:30",
            "'4.000 KiB'",
            "4,096",
            "0.3 %",
            "max",
            "09",
        ];
        let text: String = scalars.iter().map(|s| format!("- {s}\n")).collect();
        let expected = json!([
            null,
            null,
            "",
            true,
            false,
            "true",
            u64::MAX,
            -5,
            31,
            5,
            15,
            1000,
            1.5,
            0.5,
            1.0,
            1000.0,
            "1e3",
            ".inf",
            "1:30",
            "4.000 KiB",
            "4,096",
            "0.3 %",
            "max",
            "09"
        ]);
        assert_eq!(parse(&text), Ok(expected));
    }

    #[test]
    fn numbers_are_the_numbers_json_makes() {
        for digits in [
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "0.1",
            "123456789012345678901234",
        ] {
            let yaml = parse(&format!("n: {digits}")).unwrap();
            let json: Value = serde_json::from_str(&format!("{{\"n\": {digits}}}")).unwrap();
            assert_eq!(yaml, json, "{digits}");
        }
        assert!(parse("n: 18446744073709551615").unwrap()["n"].is_u64());
    }

    #[test]
    fn anchors_aliases_and_merges() {
        let text = "q: &q {time_ms: 10, sz_bytes: 1}\na: *q\nb: {<<: *q, sz_bytes: 2}\nc: {<<: [{x: 1}, {x: 2}]}\n";
        let expected = json!({"q": {"time_ms": 10, "sz_bytes": 1}, "a": {"time_ms": 10, "sz_bytes": 1},
                              "b": {"time_ms": 10, "sz_bytes": 2}, "c": {"x": 1}});
        assert_eq!(parse(text), Ok(expected));
    }

    #[test]
    fn edge_scalars_and_merges_follow_pyyaml() {
        let text = "- -.5\n- +.5\n- _1\n- ._5\n- 1.0e+1_0\n- -0\n- -0x0\n- -1_0\n";
        assert_eq!(
            parse(text),
            Ok(json!(["-.5", "+.5", "_1", "._5", "1.0e+1_0", 0, 0, -10]))
        );
        let later_wins = "a: &a {x: 1}\nb: &b {x: 2}\nc: {<<: *a, <<: *b}\n";
        assert_eq!(parse(later_wins).unwrap()["c"], json!({"x": 2}));
    }

    #[test]
    fn anchors_cannot_grow_past_the_limits() {
        // Each level anchors a list holding the previous level twice: small text, 2^n values.
        let mut text = String::from("a0: &a0 [1, 1]\n");
        for i in 1..40 {
            text.push_str(&format!("a{i}: &a{i} [*a{}, *a{}]\n", i - 1, i - 1));
        }
        assert!(parse(&text).unwrap_err().message.contains("values in all"));
        // Depth through aliases: each anchor wraps the previous one in 20 brackets.
        let mut text = String::from("d0: &d0 1\n");
        for i in 1..10 {
            text.push_str(&format!(
                "d{i}: &d{i} {}*d{}{}\n",
                "[".repeat(20),
                i - 1,
                "]".repeat(20)
            ));
        }
        assert!(parse(&text).unwrap_err().message.contains("nested deeper"));
    }

    #[test]
    fn errors_are_located() {
        let at = |text: &str| parse(text).unwrap_err().offset;
        assert_eq!(at("a: [1, 2\nb: 3\n"), 10);
        assert_eq!(at("é: !!python/object:foo {}\n"), 4);
        assert_eq!(at("a: 1\n---\nb: 2\n"), 5);
        assert_eq!(at("a: &a [*a]\n"), 7);
        assert_eq!(at(&format!("{}1{}", "[".repeat(200), "]".repeat(200))), 129);
        let laughs: String = (1..8)
            .map(|i| format!("l{i}: &l{i} [{}]\n", vec![format!("*l{}", i - 1); 10].join(", ")))
            .collect();
        assert!(
            parse(&format!("l0: &l0 [x]\n{laughs}"))
                .unwrap_err()
                .message
                .contains("aliases copy")
        );
    }

    #[test]
    fn an_empty_stream_is_null() {
        assert_eq!(parse(""), Ok(Value::Null));
        assert_eq!(parse("# nothing\n"), Ok(Value::Null));
    }
}
