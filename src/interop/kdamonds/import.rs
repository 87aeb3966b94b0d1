//! damo's JSON or YAML → policies: a kdamonds tree (`{"kdamonds": [...]}`, or the bare list
//! `damo report damon` prints) gives one policy per context; a `--schemes` list gives one
//! policy for a target chosen on the command line. Both forms arrive here as one JSON value
//! ([`super::document`]).
//!
//! Values are read with damo's own grammar ([`crate::interop::damo_units`]) whether damo printed
//! them for people (`"4.000 KiB"`, `"0.3 %"`, `"1 s"`) or raw, and become policy values
//! through [`crate::interop::scheme::to_wire`]. Findings name the JSON path, for YAML input too
//! (`kdamonds[0].contexts[0].schemes[1].quotas.time_ms`). Like damo, unknown keys are
//! ignored; unlike damo, parts of the tree damo-policy cannot express are reported.

use std::sync::Arc;

use serde_json::Value;

use crate::diag::Diagnostic;
use crate::kernel::keywords::and_list;
use crate::kernel::{FilterType, GoalTuner, Metric, MetricUnit, Ops};
use crate::model::units::UnitError;
use crate::model::wire::{
    self as model, Address, Autotune, Duration, GoalTarget, Monitoring, Percent, Physical, PolicyFile, Raw, Region,
    RegionCount, Target,
};
use crate::policy::source::SourceFile;

use crate::interop::damo_units::{self, MS, US};
use crate::interop::emit::Comments;
use crate::interop::legacy::parse as legacy;
use crate::interop::legacy::translate::TargetChoice;
use crate::interop::scheme::{self, Access, AgeBound, DamoQuota, DamoScheme, DamoWatermarks};

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
    let Some(list) = kdamonds.as_array() else {
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
    let contexts: usize = list
        .iter()
        .map(|k| k.get("contexts").and_then(Value::as_array).map_or(0, Vec::len))
        .sum();
    let mut imported = Vec::new();
    for (k, kdamond) in list.iter().enumerate() {
        let path = format!("kdamonds[{k}]");
        let Some(ctxs) = kdamond.get("contexts").and_then(Value::as_array) else {
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
}

impl Ctx {
    fn error(&mut self, path: &str, message: String, help: &str) {
        self.diags.push(
            Diagnostic::error("import-value", format!("{path}: {message}"))
                .help(help)
                .at(&self.file, None),
        );
    }

    fn warning(&mut self, path: &str, message: String, help: &str) {
        self.diags.push(
            Diagnostic::warning("import-dropped", format!("{path}: {message}"))
                .help(help)
                .at(&self.file, None),
        );
    }

    /// A value read with `parse`; `None` (reported) when it cannot be.
    fn read<T>(
        &mut self,
        value: Option<&Value>,
        path: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, UnitError>,
    ) -> Option<T> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Some(default);
        };
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                self.error(
                    path,
                    format!("expected a number or a string, found `{value}`"),
                    damo_units::NUMBER_HELP,
                );
                return None;
            }
        };
        parse(&text).map_err(|e| self.error(path, e.message, &e.help)).ok()
    }
}

fn schemes_list(ctx: &mut Ctx, items: &[Value], target: &TargetChoice, name: &str) -> Option<(PolicyFile, Comments)> {
    let mut comments = Comments::default();
    let mut schemes = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let (wire, notes) = scheme::to_wire(&damo_scheme(ctx, item, &format!("[{i}]"))?);
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

fn context(ctx: &mut Ctx, context: &Value, path: &str, name: &str) -> Option<(PolicyFile, Comments)> {
    if !context.is_object() {
        ctx.error(
            path,
            format!("expected a context (an object with `ops`, `targets`, `schemes`, …), found `{context}`"),
            IMPORT_HELP,
        );
        return None;
    }
    let mut comments = Comments::default();
    comments.header.push(format!(
        "Imported by `damo-policy import` from {} ({path}).",
        ctx.file.display_path()
    ));
    let ops_name = context.get("ops").and_then(Value::as_str);
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
        context.get("targets"),
        &format!("{path}.targets"),
        ops,
        &mut comments,
    )?;
    let monitoring = monitoring(ctx, context, path)?;
    let mut schemes = Vec::new();
    let empty = Vec::new();
    let list = context.get("schemes").and_then(Value::as_array).unwrap_or(&empty);
    let mut ok = true;
    for (i, item) in list.iter().enumerate() {
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
fn dropped_extras(ctx: &mut Ctx, context: &Value, path: &str) {
    let help = "damo-policy does not manage this; configure it with damo if you need it";
    if context
        .get("pause")
        .and_then(|p| p.as_bool().or_else(|| p.as_str().and_then(damo_units::boolean)))
        == Some(true)
    {
        ctx.warning(
            &format!("{path}.pause"),
            "a paused context is imported running".into(),
            help,
        );
    }
    if context
        .get("probes")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty())
    {
        ctx.warning(&format!("{path}.probes"), "access probes are left out".into(), help);
    }
    let filters = context
        .pointer("/sample_control/sample_filters")
        .and_then(Value::as_array);
    if filters.is_some_and(|f| !f.is_empty()) {
        ctx.warning(
            &format!("{path}.sample_control"),
            "sample filters are left out".into(),
            help,
        );
    }
    let unit = context
        .get("addr_unit")
        .map(|u| u.as_str().map_or_else(|| u.to_string(), str::to_owned));
    if let Some(unit) = unit.filter(|u| damo_units::size_bytes(u).ok() != Some(1)) {
        ctx.error(
            &format!("{path}.addr_unit"),
            format!("address unit `{unit}` cannot be expressed in a policy"),
            "damo-policy writes addr_unit 1; import a context with addr_unit 1",
        );
    }
}

fn targets(ctx: &mut Ctx, value: Option<&Value>, path: &str, ops: Ops, comments: &mut Comments) -> Option<Target> {
    let mut target = Target {
        pids: None,
        process: None,
        cgroup: None,
        physical: None,
        regions: None,
        ops: None,
    };
    let empty = Vec::new();
    let list = value.and_then(Value::as_array).unwrap_or(&empty);
    let mut pids = Vec::new();
    let mut region_lists = Vec::new();
    for (t, item) in list.iter().enumerate() {
        let at = format!("{path}[{t}]");
        let pid = item.get("pid").filter(|p| !p.is_null());
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
        let empty = Vec::new();
        let regions = item.get("regions").and_then(Value::as_array).unwrap_or(&empty);
        let mut ranges = Vec::new();
        for (r, region) in regions.iter().enumerate() {
            let rp = format!("{at}.regions[{r}]");
            let start = ctx.read(region.get("start"), &format!("{rp}.start"), 0, damo_units::count)?;
            let end = ctx.read(region.get("end"), &format!("{rp}.end"), 0, damo_units::count)?;
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

fn monitoring(ctx: &mut Ctx, context: &Value, path: &str) -> Option<Monitoring> {
    let intervals = context.get("intervals");
    let at = |key: &str| format!("{path}.intervals.{key}");
    let time = |ctx: &mut Ctx, key: &str, default: u64| -> Option<Duration> {
        let us = ctx.read(intervals.and_then(|i| i.get(key)), &at(key), Some(default), time_us)?;
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
    let sample = time(ctx, "sample_us", 5_000);
    let aggr = time(ctx, "aggr_us", 100_000);
    let update = time(ctx, "ops_update_us", 1_000_000);
    let goal = intervals.and_then(|i| i.get("intervals_goal"));
    let g = |key: &str| goal.and_then(|g| g.get(key));
    let gp = |key: &str| format!("{path}.intervals.intervals_goal.{key}");
    let aggrs = ctx.read(g("aggrs"), &gp("aggrs"), 0, damo_units::count)?;
    let autotune = if aggrs == 0 {
        None
    } else {
        let access_bp = ctx.read(g("access_bp"), &gp("access_bp"), 0, |t| {
            damo_units::per_percent(t, 100, damo_units::NUMBER_HELP)
        })?;
        let min = ctx.read(g("min_sample_us"), &gp("min_sample_us"), Some(0), time_us)?;
        let max = ctx.read(g("max_sample_us"), &gp("max_sample_us"), Some(0), time_us)?;
        Some(Autotune {
            access: Percent(scheme::bp_text(access_bp)),
            aggregations: Some(aggrs),
            min_sample_interval: min.map(|us| Duration(scheme::human_duration(us))),
            max_sample_interval: max.map(|us| Duration(scheme::human_duration(us))),
        })
    };
    let nr = context.get("nr_regions");
    let min = ctx.read(
        nr.and_then(|n| n.get("min")),
        &format!("{path}.nr_regions.min"),
        10,
        damo_units::count,
    )?;
    let max = ctx.read(
        nr.and_then(|n| n.get("max")),
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
fn damo_scheme(ctx: &mut Ctx, v: &Value, path: &str) -> Option<DamoScheme> {
    // Every key of a scheme has a default, so anything but an object would import as a
    // `stat` scheme nobody wrote.
    if !v.is_object() {
        ctx.error(
            path,
            format!("expected a scheme (an object with `action`, `access_pattern`, …), found `{v}`"),
            IMPORT_HELP,
        );
        return None;
    }
    let before = ctx.diags.iter().filter(|d| d.is_error()).count();
    let p = |key: &str| format!("{path}.{key}");
    let action = ctx.read(
        v.get("action"),
        &p("action"),
        crate::kernel::Action::Stat,
        legacy::action,
    );
    let ap = v.get("access_pattern");
    let pat = |group: &str, bound: &str| ap.and_then(|a| a.get(group)).and_then(|g| g.get(bound));
    let pp = |group: &str, bound: &str| format!("{path}.access_pattern.{group}.{bound}");
    let sz = [
        ctx.read(
            pat("sz_bytes", "min"),
            &pp("sz_bytes", "min"),
            0,
            damo_units::size_bytes,
        ),
        ctx.read(
            pat("sz_bytes", "max"),
            &pp("sz_bytes", "max"),
            damo_units::DAMO_MAX,
            damo_units::size_bytes,
        ),
    ];
    let acc = [
        ctx.read(
            pat("nr_accesses", "min"),
            &pp("nr_accesses", "min"),
            Access::Percent(crate::model::units::Decimal { digits: 0, scale: 0 }),
            access,
        ),
        ctx.read(
            pat("nr_accesses", "max"),
            &pp("nr_accesses", "max"),
            Access::Max,
            access,
        ),
    ];
    let age = [
        ctx.read(pat("age", "min"), &pp("age", "min"), AgeBound::Micros(0), age),
        ctx.read(pat("age", "max"), &pp("age", "max"), AgeBound::Max, age),
    ];
    let apply = ctx.read(v.get("apply_interval_us"), &p("apply_interval_us"), Some(0), time_us);
    let quota = quota(ctx, v.get("quotas"), &p("quotas"));
    let watermarks = watermarks(ctx, v.get("watermarks"), &p("watermarks"));
    let filters = filters(ctx, v.get("filters"), &p("filters"));
    let action = action?;
    let target_nid = if action.is_migration() {
        ctx.read(v.get("target_nid"), &p("target_nid"), None, |t| small(t).map(Some))?
    } else {
        None
    };
    let empty = Vec::new();
    let mut destinations = Vec::new();
    for (d, dest) in v
        .get("dests")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
        .iter()
        .enumerate()
    {
        let dp = format!("{path}.dests[{d}]");
        let id = ctx.read(dest.get("id"), &format!("{dp}.id"), 0, small)?;
        let weight = ctx.read(dest.get("weight"), &format!("{dp}.weight"), 0, small)?;
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
    (ctx.diags.iter().filter(|d| d.is_error()).count() == before).then_some(scheme)
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

/// `"N aggr_intervals"`, or a time (a bare number is µs).
fn age(text: &str) -> Result<AgeBound, UnitError> {
    match text.trim().strip_suffix("aggr_intervals") {
        Some(n) => damo_units::count(n).map(AgeBound::Aggregations),
        None => time_us(text).map(|us| us.map_or(AgeBound::Max, AgeBound::Micros)),
    }
}

fn quota(ctx: &mut Ctx, v: Option<&Value>, path: &str) -> Option<DamoQuota> {
    let Some(v) = v else { return Some(DamoQuota::default()) };
    let p = |key: &str| format!("{path}.{key}");
    let time = ctx.read(v.get("time_ms"), &p("time_ms"), Some(0), time_ms);
    let size = ctx.read(v.get("sz_bytes"), &p("sz_bytes"), 0, damo_units::size_bytes);
    let reset = ctx.read(v.get("reset_interval_ms"), &p("reset_interval_ms"), None, time_ms);
    let w = v.get("weights");
    let weight = |ctx: &mut Ctx, key: &str| {
        ctx.read(w.and_then(|w| w.get(key)), &format!("{path}.weights.{key}"), 0, |t| {
            let n = damo_units::per_percent(t, 10, "weights are permil, or percentages such as \"0.3 %\"")?;
            u32::try_from(n).map_err(|_| UnitError {
                message: format!("`{t}` is larger than the largest weight"),
                help: String::new(),
            })
        })
    };
    let weights = [
        weight(ctx, "sz_permil"),
        weight(ctx, "nr_accesses_permil"),
        weight(ctx, "age_permil"),
    ];
    let charge = ctx.read(
        v.get("fail_charge_denom"),
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
    let goal_tuner = match v.get("goal_tuner").and_then(Value::as_str) {
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
    let empty = Vec::new();
    let mut goals = Vec::new();
    for (g, goal) in v
        .get("goals")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
        .iter()
        .enumerate()
    {
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

fn goal(ctx: &mut Ctx, v: &Value, path: &str) -> Option<model::Goal> {
    // damo's old key names: a `user_input` goal in basis points.
    let old = v.get("target_value_bp").is_some();
    let metric_name = if old {
        Some("user_input")
    } else {
        v.get("metric").and_then(Value::as_str)
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
    if v.get("complement")
        .and_then(|c| c.as_bool().or_else(|| c.as_str().and_then(damo_units::boolean)))
        == Some(true)
    {
        ctx.error(
            &format!("{path}.complement"),
            "complemented goals cannot be expressed in a policy".into(),
            "import the goal without `complement`, or manage it with damo",
        );
        return None;
    }
    let key = if old { "target_value_bp" } else { "target_value" };
    let at = format!("{path}.{key}");
    let target = match metric.unit() {
        MetricUnit::Integer => Raw::Int(ctx.read(v.get(key), &at, 0, damo_units::count)?),
        MetricUnit::Microseconds => {
            let us = ctx.read(v.get(key), &at, Some(0), time_us)?;
            Raw::Text(scheme::human_duration(us.unwrap_or(u64::MAX)))
        }
        MetricUnit::BasisPoints => Raw::Text(scheme::bp_text(ctx.read(v.get(key), &at, 0, |t| {
            damo_units::per_percent(t, 100, damo_units::NUMBER_HELP)
        })?)),
    };
    let node = if metric.needs_node() {
        ctx.read(v.get("nid"), &format!("{path}.nid"), None, |t| small(t).map(Some))?
    } else {
        None
    };
    let cgroup = v
        .get("memcg_path")
        .and_then(Value::as_str)
        .filter(|_| metric.needs_cgroup())
        .map(|p| p.trim_start_matches('/').to_owned());
    Some(model::Goal {
        metric,
        target: GoalTarget(target),
        node,
        cgroup,
    })
}

fn watermarks(ctx: &mut Ctx, v: Option<&Value>, path: &str) -> Option<DamoWatermarks> {
    let Some(v) = v else {
        return Some(DamoWatermarks::default());
    };
    let metric = ctx.read(v.get("metric"), &format!("{path}.metric"), None, legacy::metric)?;
    let permil = |ctx: &mut Ctx, key: &str| {
        ctx.read(v.get(key), &format!("{path}.{key}"), 0, |t| {
            damo_units::per_percent(t, 10, "watermarks are permil, or percentages such as \"50 %\"")
        })
    };
    let (high, mid, low) = (
        permil(ctx, "high_permil"),
        permil(ctx, "mid_permil"),
        permil(ctx, "low_permil"),
    );
    let interval = ctx.read(v.get("interval_us"), &format!("{path}.interval_us"), Some(0), time_us)?;
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

fn filters(ctx: &mut Ctx, v: Option<&Value>, path: &str) -> Option<Vec<model::Filter>> {
    let empty = Vec::new();
    let mut out = Vec::new();
    for (f, item) in v.and_then(Value::as_array).unwrap_or(&empty).iter().enumerate() {
        let fp = format!("{path}[{f}]");
        let kind_name = item.get("filter_type").and_then(Value::as_str).unwrap_or("");
        let Ok(kind) = kind_name.parse::<FilterType>() else {
            ctx.error(
                &format!("{fp}.filter_type"),
                format!("filter type `{kind_name}` cannot be expressed in a policy"),
                &format!("the filter types are {}", and_list(FilterType::keywords())),
            );
            return None;
        };
        let flag = |ctx: &mut Ctx, key: &str, default: bool| {
            ctx.read(item.get(key), &format!("{fp}.{key}"), default, |t| {
                damo_units::boolean(t).ok_or_else(|| UnitError {
                    message: format!("`{t}` is not a boolean"),
                    help: "write true or false".into(),
                })
            })
        };
        let matching = flag(ctx, "matching", true)?;
        let allow = if item.get("allow").is_some() {
            flag(ctx, "allow", false)?
        } else {
            flag(ctx, "filter_pass", false)?
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
                    .get("memcg_path")
                    .and_then(Value::as_str)
                    .map(|p| p.trim_start_matches('/').to_owned())
            }
            FilterType::Addr => {
                let range = item.get("address_range");
                let start = ctx.read(
                    range.and_then(|r| r.get("start")),
                    &format!("{fp}.address_range.start"),
                    0,
                    damo_units::count,
                )?;
                let end = ctx.read(
                    range.and_then(|r| r.get("end")),
                    &format!("{fp}.address_range.end"),
                    0,
                    damo_units::count,
                )?;
                filter.start = Some(Address(Raw::Text(format!("{start:#x}"))));
                filter.end = Some(Address(Raw::Text(format!("{end:#x}"))));
            }
            FilterType::Target => {
                filter.target = Some(ctx.read(
                    item.get("damon_target_idx"),
                    &format!("{fp}.damon_target_idx"),
                    0,
                    small,
                )?)
            }
            FilterType::HugepageSize => {
                let sizes = item.get("hugepage_size").and_then(Value::as_array);
                let bound = |ctx: &mut Ctx, i: usize| {
                    ctx.read(
                        sizes.and_then(|s| s.get(i)),
                        &format!("{fp}.hugepage_size[{i}]"),
                        0,
                        damo_units::size_bytes,
                    )
                };
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
        let outcome = crate::validate::validate_file(Arc::new(SourceFile::new(&path, text.clone())), kernel);
        diags.extend(outcome.diagnostics);
        texts.push((path, text));
    }
    (texts, diags)
}

/// A policy name from a file stem: letters, digits, `.`, `_`, `-`, starting alphanumeric.
pub fn name_from_stem(stem: &str) -> String {
    let cleaned: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = cleaned.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let name: String = trimmed.chars().take(48).collect();
    if name.is_empty() { "imported".to_owned() } else { name }
}
