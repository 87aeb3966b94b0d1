//! damo's JSON or YAML → policies: a kdamonds tree (`{"kdamonds": [...]}`, or the bare list
//! `damo report damon` prints) gives one policy per context; a `--schemes` list gives one
//! policy for a target chosen on the command line. Both forms arrive here as one JSON value
//! ([`super::document`]), read into the tree's types ([`super::format`]), which export writes.
//!
//! Values are read with damo's own grammar ([`crate::interop::damo_units`]) whether damo printed
//! them for people (`"4.000 KiB"`, `"0.3 %"`, `"1 s"`) or raw, and become policy values
//! through [`crate::interop::scheme::to_wire`]. Findings name the JSON path, for YAML input too
//! (`kdamonds[0].contexts[0].schemes[1].quotas.time_ms`). Like damo, unknown keys are
//! ignored; unlike damo, parts of the tree damo-policy cannot express are reported.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;

use crate::diag::{Code, Diagnostic};
use crate::kernel::keywords::and_list;
use crate::kernel::{FilterType, GoalTuner, Metric, MetricUnit, Ops};
use crate::model::units::UnitError;
use crate::model::wire::{
    self as model, Address, Autotune, Duration, GoalTarget, Monitoring, Percent, Physical, PolicyFile, Raw, Region,
    RegionCount, Target,
};
use crate::policy::load::MAX_FILE_BYTES;
use crate::policy::source::SourceFile;

use crate::interop::damo_units::{self, MS, US};
use crate::interop::emit::Comments;
use crate::interop::legacy::parse as legacy;
use crate::interop::legacy::translate::TargetChoice;
use crate::interop::scheme::{self, Access, AgeBound, DamoQuota, DamoScheme, DamoWatermarks};

use super::format::{self, DamoValue, List, Node, items};

/// One policy made from the input.
pub struct Imported {
    /// The policy's name, also its file name without `.toml`.
    pub name: String,
    pub policy: PolicyFile,
    pub comments: Comments,
}

/// Reads `input`; `target` is used for a `--schemes` list, which names none.
pub fn import(input: &Arc<SourceFile>, stem: &str, target: &TargetChoice) -> (Vec<Imported>, Vec<Diagnostic>) {
    let mut ctx = Ctx {
        file: Arc::clone(input),
        diags: Vec::new(),
        errors: 0,
    };
    let value = match super::document::read(input) {
        Ok(value) => value,
        Err(diagnostic) => return (Vec::new(), vec![*diagnostic]),
    };
    let kdamonds = match &value {
        Value::Object(map) if map.contains_key("kdamonds") => value.get("kdamonds").cloned().unwrap_or(Value::Null),
        Value::Array(items) if items.iter().all(|i| i.get("contexts").is_some()) && !items.is_empty() => value.clone(),
        Value::Array(items) if items.is_empty() => {
            ctx.error("$", "the list is empty: there is nothing to import".into(), IMPORT_HELP);
            return (Vec::new(), ctx.diags);
        }
        Value::Array(items) => {
            let policy = schemes_list(&mut ctx, items, target, stem);
            return (
                policy
                    .into_iter()
                    .map(|(policy, comments)| Imported {
                        name: stem.to_owned(),
                        policy,
                        comments,
                    })
                    .collect(),
                ctx.diags,
            );
        }
        _ => {
            ctx.error(
                "$",
                "expected damo's kdamonds tree (an object with `kdamonds`) or a list of schemes".into(),
                IMPORT_HELP,
            );
            return (Vec::new(), ctx.diags);
        }
    };
    let kdamonds = List::<Node<format::Kdamond>>::from_value(kdamonds);
    let Some(list) = kdamonds.items() else {
        ctx.error("kdamonds", "`kdamonds` is not a list".into(), IMPORT_HELP);
        return (Vec::new(), ctx.diags);
    };
    // A kdamonds tree names its own targets: a target given on the command line would be
    // silently ignored.
    let chosen = match target {
        TargetChoice::Pids(_) => Some("--pid"),
        TargetChoice::Process(_) => Some("--process"),
        TargetChoice::Physical { chosen: true } => Some("--physical"),
        TargetChoice::Physical { chosen: false } => None,
    };
    if let Some(option) = chosen {
        ctx.error(
            "kdamonds",
            format!("{option} applies to a list of schemes; a kdamonds tree names its own targets"),
            "leave out the option, or edit the targets in the imported policies",
        );
        return (Vec::new(), ctx.diags);
    }
    let contexts: usize = list.iter().map(|k| contexts_of(k).map_or(0, <[_]>::len)).sum();
    let mut imported = Vec::new();
    for (k, kdamond) in list.iter().enumerate() {
        let path = format!("kdamonds[{k}]");
        let Some(ctxs) = contexts_of(kdamond) else {
            ctx.error(&path, "a kdamond without a `contexts` list".into(), IMPORT_HELP);
            continue;
        };
        for (c, context) in ctxs.iter().enumerate() {
            let name = match (contexts, ctxs.len()) {
                (1, _) => stem.to_owned(),
                (_, 1) => format!("{stem}-{k}"),
                _ => format!("{stem}-{k}-{c}"),
            };
            if let Some((policy, comments)) = self::context(&mut ctx, context, &format!("{path}.contexts[{c}]"), &name)
            {
                imported.push(Imported { name, policy, comments });
            }
        }
    }
    if list.is_empty() {
        ctx.error(
            "kdamonds",
            "the list of kdamonds is empty: there is nothing to import".into(),
            IMPORT_HELP,
        );
    }
    (imported, ctx.diags)
}

const IMPORT_HELP: &str = "`import` reads damo's kdamonds JSON or YAML (`damo args damon --format json|yaml`, \
`damo report damon --format json|yaml`) or a --schemes list of schemes";

/// Where findings go; JSON paths stand in for spans.
struct Ctx {
    file: Arc<SourceFile>,
    diags: Vec<Diagnostic>,
    /// The errors among `diags`, counted as they come: a scheme asks after each whether it
    /// drew one, which a count over `diags` would make quadratic.
    errors: usize,
}

impl Ctx {
    fn error(&mut self, path: &str, message: String, help: &str) {
        self.errors += 1;
        self.diags.push(
            Diagnostic::error(Code::ImportValue, format!("{path}: {message}"))
                .help(help)
                .at(&self.file, None),
        );
    }

    fn warning(&mut self, path: &str, message: String, help: &str) {
        self.diags.push(
            Diagnostic::warning(Code::ImportDropped, format!("{path}: {message}"))
                .help(help)
                .at(&self.file, None),
        );
    }

    /// A warning on a value that is read, but maybe not as damo holds it.
    fn caution(&mut self, path: &str, message: String, help: &str) {
        self.diags.push(
            Diagnostic::warning(Code::ImportValue, format!("{path}: {message}"))
                .help(help)
                .at(&self.file, None),
        );
    }

    /// A size, with a warning when it is damo's rounded print of one (see [`printed_rounded`]).
    fn size(&mut self, value: Option<&DamoValue>, path: &str, default: u64) -> Option<u64> {
        let bytes = self.read(value, path, default, damo_units::size_bytes)?;
        if let Some(text) = value.and_then(DamoValue::as_str).filter(|t| printed_rounded(t)) {
            self.caution(
                path,
                format!(
                    "`{text}` is damo's size printed for people, rounded to three decimals: imported as {bytes} bytes, which is not the size damo holds"
                ),
                "damo's raw print writes exact byte counts: import `damo args damon --format json --raw` (or `damo report damon --raw`) instead",
            );
        }
        Some(bytes)
    }

    /// A value read with `parse`; `None` (reported) when it cannot be.
    fn read<T>(
        &mut self,
        value: Option<&DamoValue>,
        path: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, UnitError>,
    ) -> Option<T> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Some(default);
        };
        let Some(text) = value.scalar_text() else {
            self.error(
                path,
                format!("expected a number or a string, found `{}`", value.to_value()),
                damo_units::NUMBER_HELP,
            );
            return None;
        };
        parse(&text).map_err(|e| self.error(path, e.message, &e.help)).ok()
    }
}

/// A node's keys. A value of another shape has none, as damo finds none in it: every key
/// takes its default.
fn keys<T: Default + Clone>(node: Option<&Node<T>>) -> Cow<'_, T> {
    match node.and_then(Node::fields) {
        Some(fields) => Cow::Borrowed(fields),
        None => Cow::Owned(T::default()),
    }
}

/// Whether a size is damo's print for people (`format_sz`: `'%.3f KiB'` and up) of a size it
/// must have rounded: a number of its unit that is not a whole number of bytes, such as
/// `1.150 GiB` (1234803097.6 bytes; damo held 1234567891). A whole number of bytes
/// (`4.000 KiB`, `1.500 MiB`) is taken as exact, as it usually is.
fn printed_rounded(text: &str) -> bool {
    let text = text.trim();
    damo_units::SIZE_UNITS
        .iter()
        .filter(|(_, shift)| *shift > 0)
        .find_map(|(unit, shift)| text.strip_suffix(unit).map(|number| (number, *shift)))
        .and_then(|(number, shift)| damo_units::number(number).ok().map(|n| (n, shift)))
        .is_some_and(|(n, shift)| {
            n.digits
                .checked_mul(1u128 << shift)
                .is_some_and(|bytes| !bytes.is_multiple_of(10u128.pow(n.scale)))
        })
}

/// Whether a permil value is written as damo's `--raw` print writes it (`format_permil`
/// prints `'%f'`: `"800.000000"`), which nothing else writes.
fn raw_permil(value: Option<&DamoValue>) -> bool {
    value
        .and_then(DamoValue::as_str)
        .and_then(|text| text.split_once('.'))
        .is_some_and(|(whole, fraction)| {
            !whole.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && fraction.len() == 6
                && fraction.bytes().all(|b| b.is_ascii_digit())
        })
}

/// Whether a scheme is damo's `--raw` print (`damo args damon --raw`, damo 3.x). Its quota
/// weights and watermark thresholds are then `'%f'` permil, and damo's printer has a bug
/// there: the times it prints "exactly" (`format_time_{us,ms}_exact`: quota `time_ms` and
/// `reset_interval_ms`, watermark `interval_us`, ages in µs) are converted to nanoseconds
/// before the raw branch prints them, so `time_ms` holds 1001000000 for 1001 ms.
fn is_raw_print(scheme: &format::Scheme) -> bool {
    let weights = fields(fields(scheme.quotas.as_ref()).and_then(|q| q.weights.as_ref()));
    let marks = fields(scheme.watermarks.as_ref());
    weights.is_some_and(|w| {
        [&w.sz_permil, &w.nr_accesses_permil, &w.age_permil]
            .into_iter()
            .any(|v| raw_permil(v.as_ref()))
    }) || marks.is_some_and(|m| {
        [&m.high_permil, &m.mid_permil, &m.low_permil]
            .into_iter()
            .any(|v| raw_permil(v.as_ref()))
    })
}

/// A time of damo's raw print, in nanoseconds where the key names `per_ns` (10^3 for µs,
/// 10^6 for ms): a bare integer is nanoseconds, truncated to the key's unit as damo would
/// have written it; damo's `max` (2^64 - 1 of the unit) stays `max`. A time with a unit
/// is read by `otherwise`.
fn raw_ns(
    text: &str,
    per_ns: u128,
    otherwise: fn(&str) -> Result<Option<u64>, UnitError>,
) -> Result<Option<u64>, UnitError> {
    match damo_units::number(text) {
        Ok(n) if n.scale == 0 => {
            let value = n.digits / per_ns;
            Ok(u64::try_from(value).ok().filter(|v| *v < u64::MAX))
        }
        _ => otherwise(text),
    }
}

/// A kdamond's contexts, if it has a list of them.
fn contexts_of(kdamond: &Node<format::Kdamond>) -> Option<&[Node<format::Context>]> {
    kdamond.fields().and_then(|k| k.contexts.as_ref()).and_then(List::items)
}

/// A node's keys, if it is an object.
fn fields<T>(node: Option<&Node<T>>) -> Option<&T> {
    node.and_then(Node::fields)
}

fn schemes_list(ctx: &mut Ctx, items: &[Value], target: &TargetChoice, name: &str) -> Option<(PolicyFile, Comments)> {
    let mut comments = Comments::default();
    let mut schemes = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item = Node::from_value(item.clone());
        let (wire, notes) = scheme::to_wire(&damo_scheme(ctx, &item, &format!("[{i}]"))?);
        comments.schemes.push(notes.into_iter().map(|n| n.text).collect());
        schemes.push(wire);
    }
    let mut policy_target = Target {
        pids: None,
        process: None,
        cgroup: None,
        physical: None,
        regions: None,
        ops: None,
    };
    match target {
        TargetChoice::Pids(pids) => policy_target.pids = Some(pids.clone()),
        TargetChoice::Process(name) => policy_target.process = Some(name.clone()),
        TargetChoice::Physical { chosen } => {
            policy_target.physical = Some(Physical::Whole(true));
            if !chosen {
                comments.target.push(
                    "A list of schemes names no target (--pid, --process or --physical): physical memory.".into(),
                );
            }
        }
    }
    comments
        .header
        .push("Imported by `damo-policy import` from a list of damo schemes.".into());
    comments
        .monitoring
        .push("damo's default monitoring, with which the schemes' percentages and times convert.".into());
    let monitoring = Monitoring {
        sample_interval: Some(Duration("5ms".into())),
        aggregation_interval: Some(Duration("100ms".into())),
        update_interval: Some(Duration("1s".into())),
        regions: Some(RegionCount {
            min: Some(10),
            max: Some(1000),
        }),
        autotune: None,
    };
    let policy = PolicyFile {
        name: Some(name.to_owned()),
        description: None,
        enabled: None,
        mode: None,
        target: policy_target,
        monitoring: Some(monitoring),
        scheme: schemes,
    };
    Some((policy, comments))
}

fn context(ctx: &mut Ctx, context: &Node<format::Context>, path: &str, name: &str) -> Option<(PolicyFile, Comments)> {
    let context = match context {
        Node::Object(context) => context,
        Node::Other(found) => {
            ctx.error(
                path,
                format!("expected a context (an object with `ops`, `targets`, `schemes`, …), found `{found}`"),
                IMPORT_HELP,
            );
            return None;
        }
    };
    let mut comments = Comments::default();
    comments.header.push(format!(
        "Imported by `damo-policy import` from {} ({path}).",
        ctx.file.display_path()
    ));
    let ops_name = context.ops.as_ref().and_then(DamoValue::as_str);
    let ops = match ops_name.map(str::parse::<Ops>) {
        Some(Ok(ops)) => ops,
        unknown => {
            let message = match unknown {
                Some(Err(error)) => error.to_string(),
                _ => "unknown operations set none".to_owned(),
            };
            ctx.error(
                &format!("{path}.ops"),
                message,
                &format!("the operations sets are {}", and_list(Ops::keywords())),
            );
            return None;
        }
    };
    dropped_extras(ctx, context, path);
    let target = targets(
        ctx,
        context.targets.as_ref(),
        &format!("{path}.targets"),
        ops,
        &mut comments,
    )?;
    let monitoring = monitoring(ctx, context, path)?;
    let mut schemes = Vec::new();
    let mut ok = true;
    for (i, item) in items(context.schemes.as_ref()).iter().enumerate() {
        match damo_scheme(ctx, item, &format!("{path}.schemes[{i}]")) {
            Some(damo) => {
                let (wire, notes) = scheme::to_wire(&damo);
                comments.schemes.push(notes.into_iter().map(|n| n.text).collect());
                schemes.push(wire);
            }
            None => ok = false,
        }
    }
    let policy = PolicyFile {
        name: Some(name.to_owned()),
        description: None,
        enabled: None,
        mode: None,
        target,
        monitoring: Some(monitoring),
        scheme: schemes,
    };
    ok.then_some((policy, comments))
}

/// damo features a policy has no place for: reported, not silently lost.
fn dropped_extras(ctx: &mut Ctx, context: &format::Context, path: &str) {
    let help = "damo-policy does not manage this; configure it with damo if you need it";
    if context.pause.as_ref().and_then(DamoValue::as_flag) == Some(true) {
        ctx.warning(
            &format!("{path}.pause"),
            "a paused context is imported running".into(),
            help,
        );
    }
    if !items(context.probes.as_ref()).is_empty() {
        ctx.warning(&format!("{path}.probes"), "access probes are left out".into(), help);
    }
    let sample_control = fields(context.sample_control.as_ref());
    if !items(sample_control.and_then(|s| s.sample_filters.as_ref())).is_empty() {
        ctx.warning(
            &format!("{path}.sample_control"),
            "sample filters are left out".into(),
            help,
        );
    }
    let unit = context
        .addr_unit
        .as_ref()
        .map(|u| u.as_str().map_or_else(|| u.to_value().to_string(), str::to_owned));
    if let Some(unit) = unit.filter(|u| damo_units::size_bytes(u).ok() != Some(1)) {
        ctx.error(
            &format!("{path}.addr_unit"),
            format!("address unit `{unit}` cannot be expressed in a policy"),
            "damo-policy writes addr_unit 1; import a context with addr_unit 1",
        );
    }
}

fn targets(
    ctx: &mut Ctx,
    value: Option<&List<Node<format::Target>>>,
    path: &str,
    ops: Ops,
    comments: &mut Comments,
) -> Option<Target> {
    let mut target = Target {
        pids: None,
        process: None,
        cgroup: None,
        physical: None,
        regions: None,
        ops: None,
    };
    let list = items(value);
    let mut pids = Vec::new();
    let mut region_lists = Vec::new();
    for (t, item) in list.iter().enumerate() {
        let at = format!("{path}[{t}]");
        let item = keys(Some(item));
        let pid = item.pid.as_ref().filter(|p| !p.is_null());
        match (ops, pid) {
            (Ops::Paddr, _) => {}
            (_, Some(pid)) => pids.push(ctx.read(Some(pid), &format!("{at}.pid"), 0, |t| {
                damo_units::count(t).and_then(|n| {
                    u32::try_from(n).map_err(|_| UnitError {
                        message: format!("`{t}` is not a process id"),
                        help: String::new(),
                    })
                })
            })?),
            (_, None) => {
                ctx.error(
                    &at,
                    "a process target without a `pid`".into(),
                    "vaddr and fvaddr targets are processes: give each a pid",
                );
                return None;
            }
        }
        let mut ranges = Vec::new();
        for (r, region) in items(item.regions.as_ref()).iter().enumerate() {
            let rp = format!("{at}.regions[{r}]");
            let region = keys(Some(region));
            let start = ctx.read(region.start.as_ref(), &format!("{rp}.start"), 0, damo_units::count)?;
            let end = ctx.read(region.end.as_ref(), &format!("{rp}.end"), 0, damo_units::count)?;
            ranges.push(Region {
                start: Address(Raw::Text(format!("{start:#x}"))),
                end: Address(Raw::Text(format!("{end:#x}"))),
            });
        }
        region_lists.push(ranges);
    }
    if region_lists.windows(2).any(|w| w[0] != w[1]) {
        ctx.error(
            path,
            "the targets have different regions; a policy gives all its processes the same".into(),
            "import each target as its own kdamond, or give the targets the same regions",
        );
        return None;
    }
    let regions = region_lists.into_iter().next().unwrap_or_default();
    match ops {
        Ops::Paddr => {
            if list.len() != 1 {
                ctx.error(
                    path,
                    format!("paddr monitors physical memory as one target, found {}", list.len()),
                    "give the paddr context exactly one target",
                );
                return None;
            }
            target.physical = Some(if regions.is_empty() {
                comments
                    .target
                    .push("damo's paddr target without regions spans the first to the last System RAM;".into());
                comments
                    .target
                    .push("a policy's `physical = true` is the largest System RAM range.".into());
                Physical::Whole(true)
            } else {
                Physical::Select(model::PhysicalSelect {
                    numa_node: None,
                    regions: Some(regions),
                })
            });
        }
        _ => {
            if pids.is_empty() {
                ctx.error(
                    path,
                    "a process context without targets".into(),
                    "give the context at least one target with a pid",
                );
                return None;
            }
            target.pids = Some(pids);
            target.regions = (!regions.is_empty()).then_some(regions);
            target.ops = (ops == Ops::Fvaddr).then_some(ops);
        }
    }
    Some(target)
}

fn monitoring(ctx: &mut Ctx, context: &format::Context, path: &str) -> Option<Monitoring> {
    let intervals = keys(context.intervals.as_ref());
    let at = |key: &str| format!("{path}.intervals.{key}");
    let time = |ctx: &mut Ctx, key: &str, value: Option<&DamoValue>, default: u64| -> Option<Duration> {
        let us = ctx.read(value, &at(key), Some(default), time_us)?;
        match us {
            Some(us) => Some(Duration(scheme::human_duration(us))),
            None => {
                ctx.error(
                    &at(key),
                    "`max` is not a monitoring interval".into(),
                    damo_units::TIME_HELP,
                );
                None
            }
        }
    };
    let sample = time(ctx, "sample_us", intervals.sample_us.as_ref(), 5_000);
    let aggr = time(ctx, "aggr_us", intervals.aggr_us.as_ref(), 100_000);
    let update = time(ctx, "ops_update_us", intervals.ops_update_us.as_ref(), 1_000_000);
    let g = keys(intervals.intervals_goal.as_ref());
    let gp = |key: &str| format!("{path}.intervals.intervals_goal.{key}");
    let aggrs = ctx.read(g.aggrs.as_ref(), &gp("aggrs"), 0, damo_units::count)?;
    let autotune = if aggrs == 0 {
        None
    } else {
        let access_bp = ctx.read(g.access_bp.as_ref(), &gp("access_bp"), 0, |t| {
            damo_units::per_percent(t, 100, damo_units::NUMBER_HELP)
        })?;
        let min = ctx.read(g.min_sample_us.as_ref(), &gp("min_sample_us"), Some(0), time_us)?;
        let max = ctx.read(g.max_sample_us.as_ref(), &gp("max_sample_us"), Some(0), time_us)?;
        Some(Autotune {
            access: Percent(scheme::bp_text(access_bp)),
            aggregations: Some(aggrs),
            min_sample_interval: min.map(|us| Duration(scheme::human_duration(us))),
            max_sample_interval: max.map(|us| Duration(scheme::human_duration(us))),
        })
    };
    let nr = keys(context.nr_regions.as_ref());
    let min = ctx.read(
        nr.min.as_ref(),
        &format!("{path}.nr_regions.min"),
        10,
        damo_units::count,
    )?;
    let max = ctx.read(
        nr.max.as_ref(),
        &format!("{path}.nr_regions.max"),
        1000,
        damo_units::count,
    )?;
    Some(Monitoring {
        sample_interval: Some(sample?),
        aggregation_interval: Some(aggr?),
        update_interval: Some(update?),
        regions: Some(RegionCount {
            min: Some(min),
            max: Some(max),
        }),
        autotune,
    })
}

/// One scheme of damo's JSON (`Damos.from_kvpairs`), damo's defaults for what is absent.
fn damo_scheme(ctx: &mut Ctx, v: &Node<format::Scheme>, path: &str) -> Option<DamoScheme> {
    // Every key of a scheme has a default, so anything but an object would import as a
    // `stat` scheme nobody wrote.
    let v = match v {
        Node::Object(v) => v,
        Node::Other(found) => {
            ctx.error(
                path,
                format!("expected a scheme (an object with `action`, `access_pattern`, …), found `{found}`"),
                IMPORT_HELP,
            );
            return None;
        }
    };
    let before = ctx.errors;
    let raw = is_raw_print(v);
    let age = |text: &str| age(text, raw);
    let p = |key: &str| format!("{path}.{key}");
    let action = ctx.read(
        v.action.as_ref(),
        &p("action"),
        crate::kernel::Action::Stat,
        legacy::action,
    );
    let ap = keys(v.access_pattern.as_ref());
    let (sz_bytes, nr_accesses, age_bounds) = (
        keys(ap.sz_bytes.as_ref()),
        keys(ap.nr_accesses.as_ref()),
        keys(ap.age.as_ref()),
    );
    let pp = |group: &str, bound: &str| format!("{path}.access_pattern.{group}.{bound}");
    let sz = [
        ctx.size(sz_bytes.min.as_ref(), &pp("sz_bytes", "min"), 0),
        ctx.size(sz_bytes.max.as_ref(), &pp("sz_bytes", "max"), damo_units::DAMO_MAX),
    ];
    let acc = [
        ctx.read(
            nr_accesses.min.as_ref(),
            &pp("nr_accesses", "min"),
            Access::Percent(crate::model::units::Decimal { digits: 0, scale: 0 }),
            access,
        ),
        ctx.read(nr_accesses.max.as_ref(), &pp("nr_accesses", "max"), Access::Max, access),
    ];
    let age = [
        ctx.read(age_bounds.min.as_ref(), &pp("age", "min"), AgeBound::Micros(0), age),
        ctx.read(age_bounds.max.as_ref(), &pp("age", "max"), AgeBound::Max, age),
    ];
    let apply = ctx.read(v.apply_interval_us.as_ref(), &p("apply_interval_us"), Some(0), time_us);
    let quota = quota(ctx, v.quotas.as_ref(), &p("quotas"), raw);
    let watermarks = watermarks(ctx, v.watermarks.as_ref(), &p("watermarks"), raw);
    let filters = filters(ctx, v.filters.as_ref(), &p("filters"));
    let action = action?;
    let target_nid = if action.is_migration() {
        ctx.read(v.target_nid.as_ref(), &p("target_nid"), None, |t| small(t).map(Some))?
    } else {
        None
    };
    let mut destinations = Vec::new();
    for (d, dest) in items(v.dests.as_ref()).iter().enumerate() {
        let dp = format!("{path}.dests[{d}]");
        let dest = keys(Some(dest));
        let id = ctx.read(dest.id.as_ref(), &format!("{dp}.id"), 0, small)?;
        let weight = ctx.read(dest.weight.as_ref(), &format!("{dp}.weight"), 0, small)?;
        destinations.push(model::Destination {
            node: id,
            weight: Some(weight),
        });
    }
    let apply_interval_us = match apply? {
        Some(us) => us,
        None => {
            ctx.error(
                &p("apply_interval_us"),
                "`max` is not an apply interval".into(),
                damo_units::TIME_HELP,
            );
            return None;
        }
    };
    let scheme = DamoScheme {
        action,
        sz_bytes: [sz[0]?, sz[1]?],
        nr_accesses: [acc[0]?, acc[1]?],
        age: [age[0]?, age[1]?],
        apply_interval_us,
        quota: quota?,
        watermarks: watermarks?,
        filters: filters?,
        target_nid,
        destinations,
    };
    (ctx.errors == before).then_some(scheme)
}

fn small(text: &str) -> Result<u32, UnitError> {
    let n = damo_units::count(text)?;
    u32::try_from(n).map_err(|_| UnitError {
        message: format!("`{text}` is larger than 4294967295"),
        help: String::new(),
    })
}

/// `"N samples"`, or a percentage (damo's default unit).
fn access(text: &str) -> Result<Access, UnitError> {
    match text.trim().strip_suffix("samples") {
        Some(n) => damo_units::count(n).map(Access::Samples),
        None => damo_units::percent(text).map(|p| p.map_or(Access::Max, Access::Percent)),
    }
}

/// A time of a `_us` key; `None` for `max`. damo clamps what it writes to 2^64 - 1, its
/// `max`, so a bare number beyond it is `max` too: `damo args damon --raw` prints ages and
/// quota times in nanoseconds under their µs and ms keys, and its `max` comes back as
/// 1000 (or 10^6) times 2^64 - 1, and 2^64 - 1 itself is `max` as well. Otherwise the value
/// is read as damo reads it.
fn time_us(text: &str) -> Result<Option<u64>, UnitError> {
    clamped(text, damo_units::time_us(text, US))
}

/// A time of a `_ms` key, like [`time_us`].
fn time_ms(text: &str) -> Result<Option<u64>, UnitError> {
    clamped(text, damo_units::time_ms(text, MS))
}

fn clamped(text: &str, parsed: Result<Option<u64>, UnitError>) -> Result<Option<u64>, UnitError> {
    match parsed {
        // 2^64 - 1 itself is damo's `max` as a bare number.
        Ok(Some(u64::MAX)) => Ok(None),
        Err(_) if damo_units::number(text).is_ok_and(|n| n.digits / 10u128.pow(n.scale) >= u128::from(u64::MAX)) => {
            Ok(None)
        }
        other => other,
    }
}

/// `"N aggr_intervals"`, or a time (a bare number is µs, or ns in damo's raw print).
fn age(text: &str, raw: bool) -> Result<AgeBound, UnitError> {
    match text.trim().strip_suffix("aggr_intervals") {
        Some(n) => damo_units::count(n).map(AgeBound::Aggregations),
        None if raw => raw_ns(text, 1_000, time_us).map(|us| us.map_or(AgeBound::Max, AgeBound::Micros)),
        None => time_us(text).map(|us| us.map_or(AgeBound::Max, AgeBound::Micros)),
    }
}

/// A warning on a bare quota time of a million ms or more in whole seconds' worth of
/// nanoseconds (1001000000 for 1001 ms), outside damo's raw print: such a value is most
/// likely nanoseconds from damo's raw print with its permil rewritten, and read as ms it is
/// a quota of days.
fn nanoseconds_maybe(ctx: &mut Ctx, value: Option<&DamoValue>, path: &str, ms: Option<u64>) {
    let bare = value
        .and_then(DamoValue::scalar_text)
        .is_some_and(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()));
    if let Some(ms) = ms.filter(|ms| bare && *ms >= 1_000_000 && ms.is_multiple_of(1_000_000)) {
        ctx.caution(
            path,
            format!(
                "{ms} ms is a quota time of {} hours; damo's raw print writes nanoseconds here (its bug), where this would be {} ms",
                ms / 3_600_000,
                ms / 1_000_000
            ),
            "if this came from `damo … --raw`, write the time in ms (or import damo's print with its permil values as damo wrote them)",
        );
    }
}

fn quota(ctx: &mut Ctx, v: Option<&Node<format::Quotas>>, path: &str, raw: bool) -> Option<DamoQuota> {
    let Some(v) = v else { return Some(DamoQuota::default()) };
    let v = keys(Some(v));
    let p = |key: &str| format!("{path}.{key}");
    let ms: fn(&str) -> Result<Option<u64>, UnitError> = if raw {
        |t| raw_ns(t, 1_000_000, time_ms)
    } else {
        time_ms
    };
    let time = ctx.read(v.time_ms.as_ref(), &p("time_ms"), Some(0), ms);
    if !raw {
        nanoseconds_maybe(ctx, v.time_ms.as_ref(), &p("time_ms"), time.flatten());
    }
    let size = ctx.size(v.sz_bytes.as_ref(), &p("sz_bytes"), 0);
    let reset = ctx.read(v.reset_interval_ms.as_ref(), &p("reset_interval_ms"), None, ms);
    let w = keys(v.weights.as_ref());
    let weight = |ctx: &mut Ctx, key: &str, value: Option<&DamoValue>| {
        ctx.read(value, &format!("{path}.weights.{key}"), 0, |t| {
            let n = damo_units::per_percent(t, 10, "weights are permil, or percentages such as \"0.3 %\"")?;
            u32::try_from(n).map_err(|_| UnitError {
                message: format!("`{t}` is larger than the largest weight"),
                help: String::new(),
            })
        })
    };
    let weights = [
        weight(ctx, "sz_permil", w.sz_permil.as_ref()),
        weight(ctx, "nr_accesses_permil", w.nr_accesses_permil.as_ref()),
        weight(ctx, "age_permil", w.age_permil.as_ref()),
    ];
    let charge = ctx.read(
        v.fail_charge_denom.as_ref(),
        &p("fail_charge_denom"),
        0,
        damo_units::count,
    );
    if charge.is_some_and(|c| c != 0) {
        ctx.warning(
            &p("fail_charge_denom"),
            "the failure charge ratio is left out".into(),
            "damo-policy does not manage it yet",
        );
    }
    let goal_tuner = match v.goal_tuner.as_ref().and_then(DamoValue::as_str) {
        None | Some("consist") => None,
        Some(other) => match other.parse::<GoalTuner>() {
            Ok(tuner) => Some(tuner),
            Err(error) => {
                ctx.error(
                    &p("goal_tuner"),
                    error.to_string(),
                    &format!("the goal tuners are {}", and_list(GoalTuner::keywords())),
                );
                return None;
            }
        },
    };
    let mut goals = Vec::new();
    for (g, goal) in items(v.goals.as_ref()).iter().enumerate() {
        goals.push(self::goal(ctx, goal, &format!("{path}.goals[{g}]"))?);
    }
    let time_ms = match time? {
        Some(ms) => ms,
        None => {
            ctx.error(
                &p("time_ms"),
                "a time quota of `max` limits nothing".into(),
                "write 0 for no time quota",
            );
            return None;
        }
    };
    Some(DamoQuota {
        time_ms,
        sz_bytes: size?,
        reset_interval_ms: reset?,
        weights_permil: [weights[0]?, weights[1]?, weights[2]?],
        goals,
        goal_tuner,
    })
}

fn goal(ctx: &mut Ctx, v: &Node<format::Goal>, path: &str) -> Option<model::Goal> {
    let v = keys(Some(v));
    // damo's old key names: a `user_input` goal in basis points.
    let old = v.target_value_bp.is_some();
    let metric_name = if old {
        Some("user_input")
    } else {
        v.metric.as_ref().and_then(DamoValue::as_str)
    };
    let metric: Metric = match metric_name.and_then(|m| m.parse().ok()) {
        Some(metric) => metric,
        None => {
            ctx.error(
                &format!("{path}.metric"),
                format!(
                    "unknown goal metric {}",
                    metric_name.map_or("(none)".into(), |m| format!("`{m}`"))
                ),
                "see the goal metrics of the policy schema",
            );
            return None;
        }
    };
    if v.complement.as_ref().and_then(DamoValue::as_flag) == Some(true) {
        ctx.error(
            &format!("{path}.complement"),
            "complemented goals cannot be expressed in a policy".into(),
            "import the goal without `complement`, or manage it with damo",
        );
        return None;
    }
    let (key, value) = if old {
        ("target_value_bp", v.target_value_bp.as_ref())
    } else {
        ("target_value", v.target_value.as_ref())
    };
    let at = format!("{path}.{key}");
    let target = match metric.unit() {
        MetricUnit::Integer => Raw::Int(ctx.read(value, &at, 0, damo_units::count)?),
        MetricUnit::Microseconds => {
            let us = ctx.read(value, &at, Some(0), time_us)?;
            Raw::Text(scheme::human_duration(us.unwrap_or(u64::MAX)))
        }
        MetricUnit::BasisPoints => Raw::Text(scheme::bp_text(ctx.read(value, &at, 0, |t| {
            damo_units::per_percent(t, 100, damo_units::NUMBER_HELP)
        })?)),
    };
    let node = if metric.needs_node() {
        ctx.read(v.nid.as_ref(), &format!("{path}.nid"), None, |t| small(t).map(Some))?
    } else {
        None
    };
    let cgroup = v
        .memcg_path
        .as_ref()
        .and_then(DamoValue::as_str)
        .filter(|_| metric.needs_cgroup())
        .map(|p| p.trim_start_matches('/').to_owned());
    Some(model::Goal {
        metric,
        target: GoalTarget(target),
        node,
        cgroup,
    })
}

fn watermarks(ctx: &mut Ctx, v: Option<&Node<format::Watermarks>>, path: &str, raw: bool) -> Option<DamoWatermarks> {
    let Some(v) = v else {
        return Some(DamoWatermarks::default());
    };
    let v = keys(Some(v));
    let metric = ctx.read(v.metric.as_ref(), &format!("{path}.metric"), None, legacy::metric)?;
    let permil = |ctx: &mut Ctx, key: &str, value: Option<&DamoValue>| {
        ctx.read(value, &format!("{path}.{key}"), 0, |t| {
            damo_units::per_percent(t, 10, "watermarks are permil, or percentages such as \"50 %\"")
        })
    };
    let (high, mid, low) = (
        permil(ctx, "high_permil", v.high_permil.as_ref()),
        permil(ctx, "mid_permil", v.mid_permil.as_ref()),
        permil(ctx, "low_permil", v.low_permil.as_ref()),
    );
    let us: fn(&str) -> Result<Option<u64>, UnitError> = if raw { |t| raw_ns(t, 1_000, time_us) } else { time_us };
    let interval = ctx.read(v.interval_us.as_ref(), &format!("{path}.interval_us"), Some(0), us)?;
    let Some(interval_us) = interval else {
        ctx.error(
            &format!("{path}.interval_us"),
            "`max` is not a watermark check interval".into(),
            damo_units::TIME_HELP,
        );
        return None;
    };
    Some(DamoWatermarks {
        metric,
        interval_us,
        high_permil: high?,
        mid_permil: mid?,
        low_permil: low?,
    })
}

fn filters(ctx: &mut Ctx, v: Option<&List<Node<format::Filter>>>, path: &str) -> Option<Vec<model::Filter>> {
    let mut out = Vec::new();
    for (f, item) in items(v).iter().enumerate() {
        let fp = format!("{path}[{f}]");
        let item = keys(Some(item));
        let kind_name = item.filter_type.as_ref().and_then(DamoValue::as_str).unwrap_or("");
        let Ok(kind) = kind_name.parse::<FilterType>() else {
            ctx.error(
                &format!("{fp}.filter_type"),
                format!("filter type `{kind_name}` cannot be expressed in a policy"),
                &format!("the filter types are {}", and_list(FilterType::keywords())),
            );
            return None;
        };
        let flag = |ctx: &mut Ctx, key: &str, value: Option<&DamoValue>, default: bool| {
            ctx.read(value, &format!("{fp}.{key}"), default, |t| {
                damo_units::boolean(t).ok_or_else(|| UnitError {
                    message: format!("`{t}` is not a boolean"),
                    help: "write true or false".into(),
                })
            })
        };
        let matching = flag(ctx, "matching", item.matching.as_ref(), true)?;
        let allow = if item.allow.is_some() {
            flag(ctx, "allow", item.allow.as_ref(), false)?
        } else {
            flag(ctx, "filter_pass", item.filter_pass.as_ref(), false)?
        };
        let mut filter = model::Filter {
            kind,
            matching: Some(matching),
            allow: Some(allow),
            cgroup: None,
            start: None,
            end: None,
            target: None,
            min: None,
            max: None,
        };
        match kind {
            FilterType::Memcg => {
                filter.cgroup = item
                    .memcg_path
                    .as_ref()
                    .and_then(DamoValue::as_str)
                    .map(|p| p.trim_start_matches('/').to_owned())
            }
            FilterType::Addr => {
                let range = keys(item.address_range.as_ref());
                let start = ctx.read(
                    range.start.as_ref(),
                    &format!("{fp}.address_range.start"),
                    0,
                    damo_units::count,
                )?;
                let end = ctx.read(
                    range.end.as_ref(),
                    &format!("{fp}.address_range.end"),
                    0,
                    damo_units::count,
                )?;
                filter.start = Some(Address(Raw::Text(format!("{start:#x}"))));
                filter.end = Some(Address(Raw::Text(format!("{end:#x}"))));
            }
            FilterType::Target => {
                filter.target = Some(ctx.read(
                    item.damon_target_idx.as_ref(),
                    &format!("{fp}.damon_target_idx"),
                    0,
                    small,
                )?)
            }
            FilterType::HugepageSize => {
                let sizes = items(item.hugepage_size.as_ref());
                let bound = |ctx: &mut Ctx, i: usize| ctx.size(sizes.get(i), &format!("{fp}.hugepage_size[{i}]"), 0);
                filter.min = Some(scheme::human_size(bound(ctx, 0)?));
                filter.max = Some(scheme::human_size(bound(ctx, 1)?));
            }
            _ => {}
        }
        out.push(filter);
    }
    Some(out)
}

/// Writes each imported policy as text and validates it for `kernel`, as if it were at
/// `dir/<name>.toml`; findings point into the generated text, which has the spans JSON lacks.
pub fn checked_texts(
    imported: &[Imported],
    dir: &std::path::Path,
    kernel: crate::kernel::Version,
) -> (Vec<(std::path::PathBuf, String)>, Vec<Diagnostic>) {
    let mut texts = Vec::new();
    let mut diags = Vec::new();
    for policy in imported {
        let text = crate::interop::emit::policy_text(&policy.policy, &policy.comments);
        let path = dir.join(format!("{}.toml", policy.name));
        if text.len() as u64 > MAX_FILE_BYTES {
            // `check`, `compile` and `apply` would refuse to read it: refused here, unchecked.
            diags.push(
                Diagnostic::error(
                    Code::FileTooLarge,
                    format!(
                        "{}: the imported policy would be {:.1} MiB ({} schemes), larger than the {} MiB a policy file may be",
                        path.display(),
                        text.len() as f64 / f64::from(1 << 20),
                        policy.policy.scheme.len(),
                        MAX_FILE_BYTES >> 20
                    ),
                )
                .help("`check`, `compile` and `apply` refuse larger policy files: spread the schemes over several contexts, each of which becomes its own policy"),
            );
        } else {
            let outcome = crate::validate::validate_file(Arc::new(SourceFile::new(&path, text.clone())), kernel);
            diags.extend(outcome.diagnostics);
        }
        texts.push((path, text));
    }
    (texts, diags)
}

/// A policy name from a file stem (see [`crate::model::name::from_file_stem`]).
pub fn name_from_stem(stem: &str) -> String {
    crate::model::name::from_file_stem(stem, "imported")
}
