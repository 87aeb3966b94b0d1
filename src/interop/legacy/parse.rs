//! damo's legacy one-line scheme format (`.damos` files): lines → fields → [`DamoScheme`]s.
//!
//! Grammar (damo's `_damo_deprecated.py`): every stripped line that is not blank and does
//! not start with `#` is one scheme of 7, 9, 12, 17 or 18 whitespace-separated fields; the
//! count selects the layout ([`layout`]). Unlike damo, which stops at the first bad line
//! with "wrong input field", every bad line and field is reported, located, at once.

use std::ops::Range;
use std::sync::Arc;

use crate::diag::{Code, Diagnostic};
use crate::kernel::{Action, WatermarkMetric};
use crate::model::units::UnitError;
use crate::policy::source::SourceFile;

use crate::interop::damo_units::{self, MS, US};
use crate::interop::scheme::{Access, AgeBound, DamoScheme};

/// What a field of a line means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    MinSize,
    MaxSize,
    MinAccess,
    MaxAccess,
    MinAge,
    MaxAge,
    Action,
    QuotaTime,
    QuotaSize,
    ResetInterval,
    WeightSize,
    WeightAccess,
    WeightAge,
    Metric,
    Interval,
    High,
    Mid,
    Low,
}

use Role::*;

const PATTERN: [Role; 7] = [MinSize, MaxSize, MinAccess, MaxAccess, MinAge, MaxAge, Action];
const WEIGHTS: [Role; 3] = [WeightSize, WeightAccess, WeightAge];
const WATERMARKS: [Role; 5] = [Metric, Interval, High, Mid, Low];

/// The layout for a field count: 7, 9 (size quota), 12 (weights), 17 (watermarks), or 18,
/// where the time quota comes first and the size quota follows it.
pub fn layout(count: usize) -> Option<Vec<Role>> {
    let quota = [QuotaSize, ResetInterval];
    let parts: Vec<&[Role]> = match count {
        7 => vec![&PATTERN],
        9 => vec![&PATTERN, &quota],
        12 => vec![&PATTERN, &quota, &WEIGHTS],
        17 => vec![&PATTERN, &quota, &WEIGHTS, &WATERMARKS],
        18 => vec![&PATTERN, &[QuotaTime], &quota, &WEIGHTS, &WATERMARKS],
        _ => return None,
    };
    Some(parts.concat())
}

impl Role {
    /// The field's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            MinSize => "min-size",
            MaxSize => "max-size",
            MinAccess => "min-access-rate",
            MaxAccess => "max-access-rate",
            MinAge => "min-age",
            MaxAge => "max-age",
            Action => "action",
            QuotaTime => "time-quota",
            QuotaSize => "size-quota",
            ResetInterval => "quota-reset-interval",
            WeightSize => "size-weight",
            WeightAccess => "access-rate-weight",
            WeightAge => "age-weight",
            Metric => "watermark-metric",
            Interval => "watermark-interval",
            High => "high-watermark",
            Mid => "mid-watermark",
            Low => "low-watermark",
        }
    }

    /// The key of the policy scheme the field becomes.
    pub fn key(self) -> &'static [&'static str] {
        match self {
            MinSize => &["access_pattern", "size", "min"],
            MaxSize => &["access_pattern", "size", "max"],
            MinAccess => &["access_pattern", "access_rate", "min"],
            MaxAccess => &["access_pattern", "access_rate", "max"],
            MinAge => &["access_pattern", "age", "min"],
            MaxAge => &["access_pattern", "age", "max"],
            Action => &["action"],
            QuotaTime => &["quota", "time"],
            QuotaSize => &["quota", "size"],
            ResetInterval => &["quota", "reset_interval"],
            WeightSize => &["quota", "weights", "size"],
            WeightAccess => &["quota", "weights", "access_rate"],
            WeightAge => &["quota", "weights", "age"],
            Metric => &["watermarks", "metric"],
            Interval => &["watermarks", "interval"],
            High => &["watermarks", "high"],
            Mid => &["watermarks", "mid"],
            Low => &["watermarks", "low"],
        }
    }
}

/// The accepted forms, for field-count errors.
pub const FORMS_HELP: &str = "damo's one-line schemes have 7, 9, 12, 17 or 18 fields:
  7:  min-size max-size min-access-rate max-access-rate min-age max-age action
  9:  the 7 fields, size-quota quota-reset-interval
  12: the 9 fields, size-weight access-rate-weight age-weight
  17: the 12 fields, watermark-metric watermark-interval high mid low
  18: the 7 fields, time-quota size-quota quota-reset-interval, the 3 weights, the 5 watermark fields";

/// One field of a line, and where it is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub text: String,
    pub span: Range<usize>,
}

/// A scheme line: its 1-based number, its span (stripped) and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub number: usize,
    pub span: Range<usize>,
    pub fields: Vec<Field>,
}

/// A line that parsed, with the role of each of its fields.
#[derive(Debug, Clone)]
pub struct LegacyScheme {
    pub line: Line,
    pub roles: Vec<Role>,
    pub scheme: DamoScheme,
}

/// The scheme lines of a text: stripped, blank and `#` lines skipped, split on whitespace.
pub fn scheme_lines(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut offset = 0;
    for (index, raw) in text.split('\n').enumerate() {
        let start = offset;
        offset += raw.len() + 1;
        let stripped = raw.trim_matches(is_python_space);
        if stripped.is_empty() || stripped.starts_with('#') {
            continue;
        }
        let lead = raw.len() - raw.trim_start_matches(is_python_space).len();
        let span = start + lead..start + lead + stripped.len();
        let mut fields = Vec::new();
        let mut field_start = None;
        for (i, c) in raw.char_indices().chain(std::iter::once((raw.len(), ' '))) {
            match (is_python_space(c), field_start) {
                (false, None) => field_start = Some(i),
                (true, Some(s)) => {
                    fields.push(Field {
                        text: raw[s..i].to_owned(),
                        span: start + s..start + i,
                    });
                    field_start = None;
                }
                _ => {}
            }
        }
        lines.push(Line {
            number: index + 1,
            span,
            fields,
        });
    }
    lines
}

/// Whitespace as Python's `str.split()` sees it: Unicode whitespace and the separators
/// U+001C..U+001F, which Rust does not count.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Parses every scheme line of `file`; the diagnostics cover every bad line and field.
pub fn parse(file: &Arc<SourceFile>) -> (Vec<LegacyScheme>, Vec<Diagnostic>) {
    let lines = scheme_lines(&file.text);
    let mut diags = Vec::new();
    // No scheme field ends with `:` or is a lone `-`: such a first line is YAML's.
    let form = lines.first().and_then(|line| match line.fields[0].text.as_str() {
        text if text.starts_with(['{', '[']) => Some((line, "JSON")),
        text if text.ends_with(':') || text == "-" || text == "---" => Some((line, "YAML")),
        _ => None,
    });
    if let Some((first, form)) = form {
        diags.push(
            Diagnostic::error(
                Code::LegacyNotSchemes,
                format!("this looks like {form}, not damo's one-line scheme format"),
            )
            .label(format!("{form} starts here"))
            .help("damo's JSON or YAML (a kdamonds file or a --schemes list) is read by `damo-policy import`")
            .at(file, Some(first.span.start..first.span.start + 1)),
        );
        return (Vec::new(), diags);
    }
    if lines.is_empty() {
        diags.push(
            Diagnostic::error(Code::LegacyEmpty, "no schemes: the input has no scheme lines")
                .help(format!(
                    "{FORMS_HELP}\nblank lines and lines starting with `#` are skipped"
                ))
                .at(file, Some(0..0)),
        );
        return (Vec::new(), diags);
    }
    let mut schemes = Vec::new();
    for line in lines {
        if let Some(hash) = line.fields.iter().find(|f| f.text.starts_with('#')) {
            diags.push(
                Diagnostic::error(
                    Code::LegacyInlineComment,
                    "a comment after a scheme is not part of damo's format",
                )
                .label("damo reads this and the rest of the line as more fields")
                .help(
                    "damo skips only lines that start with `#`; move the comment to a line of its own above the scheme",
                )
                .at(file, Some(hash.span.start..line.span.end)),
            );
            continue;
        }
        let Some(roles) = layout(line.fields.len()) else {
            diags.push(
                Diagnostic::error(
                    Code::LegacyFields,
                    format!("expected 7, 9, 12, 17 or 18 fields, found {}", line.fields.len()),
                )
                .label(format!("{} fields", line.fields.len()))
                .help(FORMS_HELP)
                .at(file, Some(line.span.clone())),
            );
            continue;
        };
        let before = diags.len();
        let scheme = scheme(file, &line, &roles, &mut diags);
        if diags.len() == before {
            schemes.push(LegacyScheme { line, roles, scheme });
        }
    }
    (schemes, diags)
}

/// Reads the fields of one line by their roles, reporting each bad field.
fn scheme(file: &Arc<SourceFile>, line: &Line, roles: &[Role], diags: &mut Vec<Diagnostic>) -> DamoScheme {
    let mut s = DamoScheme::default();
    for (field, role) in line.fields.iter().zip(roles) {
        let text = field.text.as_str();
        let result: Result<(), UnitError> = (|| {
            match role {
                MinSize | MaxSize => s.sz_bytes[usize::from(*role == MaxSize)] = damo_units::size_bytes(text)?,
                MinAccess | MaxAccess => {
                    s.nr_accesses[usize::from(*role == MaxAccess)] =
                        damo_units::percent(text)?.map_or(Access::Max, Access::Percent)
                }
                MinAge | MaxAge => {
                    s.age[usize::from(*role == MaxAge)] =
                        damo_units::time_us(text, US)?.map_or(AgeBound::Max, AgeBound::Micros)
                }
                Action => s.action = action(text)?,
                QuotaTime => s.quota.time_ms = finite(damo_units::time_ms(text, MS)?, text, "time quota")?,
                QuotaSize => s.quota.sz_bytes = damo_units::size_bytes(text)?,
                ResetInterval => s.quota.reset_interval_ms = damo_units::time_ms(text, MS)?,
                WeightSize | WeightAccess | WeightAge => {
                    let i = [WeightSize, WeightAccess, WeightAge]
                        .iter()
                        .position(|r| r == role)
                        .unwrap_or(0);
                    s.quota.weights_permil[i] = weight(text)?;
                }
                Metric => s.watermarks.metric = metric(text)?,
                Interval => {
                    s.watermarks.interval_us = finite(damo_units::time_us(text, US)?, text, "watermark interval")?
                }
                High => s.watermarks.high_permil = damo_units::integer(text, PERMIL_HELP)?,
                Mid => s.watermarks.mid_permil = damo_units::integer(text, PERMIL_HELP)?,
                Low => s.watermarks.low_permil = damo_units::integer(text, PERMIL_HELP)?,
            }
            Ok(())
        })();
        if let Err(error) = result {
            diags.push(
                Diagnostic::error(Code::LegacyValue, error.message)
                    .label(format!("field {} ({})", field_number(line, field), role.name()))
                    .help(error.help)
                    .at(file, Some(field.span.clone())),
            );
        }
    }
    s
}

fn field_number(line: &Line, field: &Field) -> usize {
    line.fields.iter().position(|f| f == field).map_or(0, |i| i + 1)
}

const PERMIL_HELP: &str = "watermarks are whole numbers in permil (‰) of free memory, such as 500 for 50%";
const WEIGHT_HELP: &str = "weights are whole numbers (permil), such as 0, 3 or 7";

fn finite(value: Option<u64>, text: &str, what: &str) -> Result<u64, UnitError> {
    value.ok_or_else(|| UnitError {
        message: format!("`{text}` is not a {what}: `max` would limit nothing"),
        help: "write a finite time; for no time quota write 0".into(),
    })
}

fn weight(text: &str) -> Result<u32, UnitError> {
    let value = damo_units::integer(text, WEIGHT_HELP)?;
    u32::try_from(value).map_err(|_| UnitError {
        message: format!("`{text}` is larger than the kernel's largest weight (4294967295)"),
        help: WEIGHT_HELP.into(),
    })
}

/// damo lowercases the action and, in the one-line format, does not check it; the kernel
/// refused unknown ones only when the scheme was installed. Here they are errors.
pub fn action(text: &str) -> Result<Action, UnitError> {
    let lower = text.to_lowercase();
    lower.parse().map_err(|_| {
        let hint = if lower == "hot" {
            " (`hot` of damo 1.3.1-1.3.3 became `lru_prio`)"
        } else {
            ""
        };
        UnitError {
            message: format!("unknown action `{text}`{hint}"),
            help: "the actions are willneed, cold, pageout, hugepage, nohugepage, collapse, lru_prio, lru_deprio, \
migrate_hot, migrate_cold and stat (any case)"
                .into(),
        }
    })
}

/// damo's watermark metrics, lowercased: `none` (always active) and `free_mem_rate`.
pub fn metric(text: &str) -> Result<Option<WatermarkMetric>, UnitError> {
    match text.to_lowercase().as_str() {
        "none" => Ok(None),
        lower => lower.parse::<WatermarkMetric>().map(Some).map_err(|_| UnitError {
            message: format!("unknown watermark metric `{text}`"),
            help: "the watermark metrics are `none` (always active) and `free_mem_rate`".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_comments_and_keep_spans() {
        let text = "# c\n\n  4K max\tmin  min 5s max pageout  \r\n   # indented comment\n";
        let lines = scheme_lines(text);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].number, 3);
        assert_eq!(lines[0].fields.len(), 7);
        assert_eq!(&text[lines[0].fields[2].span.clone()], "min");
        assert_eq!(&text[lines[0].span.clone()], "4K max\tmin  min 5s max pageout");
    }

    #[test]
    fn layouts_by_count() {
        assert_eq!(layout(7).unwrap().len(), 7);
        assert_eq!(layout(18).unwrap()[7], QuotaTime);
        assert_eq!(layout(17).unwrap()[7], QuotaSize);
        assert!(layout(8).is_none());
    }

    #[test]
    fn actions_and_metrics() {
        assert_eq!(action("COLD"), Ok(Action::Cold));
        assert_eq!(action("lru_prio"), Ok(Action::LruPrio));
        assert!(action("hot").unwrap_err().message.contains("lru_prio"));
        assert!(action("bogus").is_err());
        assert_eq!(metric("FREE_MEM_RATE"), Ok(Some(WatermarkMetric::FreeMemRate)));
        assert!(metric("psi").is_err());
    }
}
