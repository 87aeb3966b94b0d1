//! The tree `import` reads, as one JSON value whichever form damo wrote it in: JSON, or YAML
//! (`damo args damon --format yaml`, which damo reads back as well), so both share one import.
//!
//! A `.yaml` or `.yml` file is YAML. Anything else is JSON, unless it is not JSON, does not
//! start like JSON (`{`, `[`), and is a YAML mapping or list: standard input and files named
//! otherwise are recognised by content.
//! A file that is neither keeps the JSON error, which for damo's one-line schemes points to
//! `translate`.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::diag::{Code, Diagnostic};
use crate::policy::source::SourceFile;

use super::yaml;

/// `input`'s tree, or the located reason it has none.
pub fn read(input: &Arc<SourceFile>) -> Result<Value, Box<Diagnostic>> {
    let yaml = || {
        yaml::parse(&input.text).map_err(|error| {
            let diagnostic = Diagnostic::error(Code::ImportYaml, error.message)
                .label("here")
                .help(YAML_HELP);
            Box::new(diagnostic.at(input, Some(error.offset..error.offset)))
        })
    };
    if is_yaml_path(&input.path) {
        return yaml();
    }
    let json_error = match serde_json::from_str(&input.text) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    // What starts like JSON was meant as JSON (`Infinity`, a trailing comma): its error says
    // more than a YAML reading, which would turn what JSON refused into strings.
    if input.text.trim_start().starts_with(['{', '[']) {
        return Err(Box::new(not_json(input, &json_error)));
    }
    match yaml() {
        Ok(value) if value.is_object() || value.is_array() => Ok(value),
        Err(diagnostic) => Err(diagnostic),
        _ => Err(Box::new(not_json(input, &json_error))),
    }
}

const YAML_HELP: &str = "`import` reads damo's YAML as damo does: a kdamonds tree (`damo args damon --format yaml`) \
or a --schemes list, of plain mappings, lists and scalars";

fn is_yaml_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

fn not_json(input: &Arc<SourceFile>, error: &serde_json::Error) -> Diagnostic {
    let offset = offset_of(&input.text, error.line(), error.column());
    let help = if input.text.trim_start().starts_with(|c: char| c.is_ascii_alphanumeric()) {
        "damo's one-line schemes are read by `damo-policy translate`; `import` reads damo's JSON or YAML"
    } else {
        "`import` reads damo's JSON or YAML: a kdamonds tree (`damo args damon --format json`) or a --schemes list"
    };
    Diagnostic::error(Code::ImportJson, format!("not JSON: {error}"))
        .label("here")
        .help(help)
        .at(input, Some(offset..offset))
}

/// 0-based byte offset of a 1-based line and column.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(name: &str, text: &str) -> Result<Value, Box<Diagnostic>> {
        read(&Arc::new(SourceFile::new(name, text.to_owned())))
    }

    #[test]
    fn what_starts_like_json_is_judged_as_json() {
        let error = read_text("tree.json", "{\"kdamonds\": [], \"x\": Infinity}").unwrap_err();
        assert_eq!(error.code, Code::ImportJson, "{error:?}");
        // By content: block YAML is YAML; a `.yaml` file is YAML whatever it starts with.
        assert!(read_text("-", "kdamonds:\n- state: on\n").unwrap().is_object());
        assert!(read_text("tree.yaml", "{kdamonds: []}").unwrap().is_object());
    }
}
