//! damo's view of a scheme, in damo's units (percent or samples, µs or aggregation
//! intervals, `max` for unbounded), and the one set of rules that turns it into a policy
//! `[[scheme]]` in human units. The one-line translator and the JSON importer both end
//! here, so a damo value means the same in damo-policy whichever way it came in.
//!
//! Where damo and damo-policy write different kernel values for the same meaning, the rule
//! says so in a note that becomes a comment (or a warning) beside the scheme:
//! - damo's unbounded access rates and ages overflow the kernel's 32-bit bounds and wrap;
//!   damo-policy writes the largest bound, 4294967295;
//! - a quota with no time, no size and no goals is inactive, and its reset interval and
//!   weights are ignored by the kernel, so damo's default reset interval (`max`) is omitted;
//! - watermarks with the metric `none` are inactive and are omitted likewise.

use crate::kernel::{Action, GoalTuner, WatermarkMetric};
use crate::model::units::{Decimal, U32_MAX_BOUND};
use crate::model::wire::{self as model, AccessRate, Age, Duration, Percent, RangeOf, Raw, Size};

use super::damo_units::DAMO_MAX;

/// An access-rate bound as damo keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Percent(Decimal),
    Samples(u64),
    /// damo's `max`: unbounded.
    Max,
}

/// An age bound as damo keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeBound {
    Micros(u64),
    Aggregations(u64),
    /// damo's `max`: unbounded.
    Max,
}

/// A DAMOS scheme in damo's units.
#[derive(Debug, Clone, PartialEq)]
pub struct DamoScheme {
    pub action: Action,
    pub sz_bytes: [u64; 2],
    pub nr_accesses: [Access; 2],
    pub age: [AgeBound; 2],
    pub apply_interval_us: u64,
    pub quota: DamoQuota,
    pub watermarks: DamoWatermarks,
    /// Filters, destinations and goals come only from JSON, already in policy form.
    pub filters: Vec<model::Filter>,
    pub target_nid: Option<u32>,
    pub destinations: Vec<model::Destination>,
}

impl Default for DamoScheme {
    /// damo's default scheme: `stat` on every region, no quota, no watermarks.
    fn default() -> Self {
        Self {
            action: Action::Stat,
            sz_bytes: [0, DAMO_MAX],
            nr_accesses: [Access::Percent(Decimal { digits: 0, scale: 0 }), Access::Max],
            age: [AgeBound::Micros(0), AgeBound::Max],
            apply_interval_us: 0,
            quota: DamoQuota::default(),
            watermarks: DamoWatermarks::default(),
            filters: Vec::new(),
            target_nid: None,
            destinations: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DamoQuota {
    pub time_ms: u64,
    pub sz_bytes: u64,
    /// `None`: damo's `max`, a quota that never resets.
    pub reset_interval_ms: Option<u64>,
    /// Size, access rate, age.
    pub weights_permil: [u32; 3],
    pub goals: Vec<model::Goal>,
    pub goal_tuner: Option<GoalTuner>,
}

impl Default for DamoQuota {
    /// damo's default quota: no limit, never reset, no weights.
    fn default() -> Self {
        Self {
            time_ms: 0,
            sz_bytes: 0,
            reset_interval_ms: None,
            weights_permil: [0; 3],
            goals: Vec::new(),
            goal_tuner: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DamoWatermarks {
    /// `None`: damo's metric `none` (the scheme is always active).
    pub metric: Option<WatermarkMetric>,
    pub interval_us: u64,
    pub high_permil: u64,
    pub mid_permil: u64,
    pub low_permil: u64,
}

/// Something the translation wants a reader to know, about a key of the scheme.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// Keys below the scheme, e.g. `["quota", "reset_interval"]`.
    pub key: &'static [&'static str],
    pub text: String,
    /// A warning rather than an explanation.
    pub warning: bool,
}

/// The longest reset interval a policy can write: the kernel keeps milliseconds, the
/// policy's durations are at most 2^64 - 1 µs.
pub const LONGEST_RESET_MS: u64 = u64::MAX / 1000;

/// The policy scheme damo's scheme means, and the notes about its translation.
pub fn to_wire(scheme: &DamoScheme) -> (model::Scheme, Vec<Note>) {
    let mut notes = Vec::new();
    let pattern = model::AccessPattern {
        size: range(
            size_bound(scheme.sz_bytes[0], 0),
            size_bound(scheme.sz_bytes[1], DAMO_MAX),
        ),
        access_rate: range(access_min(scheme.nr_accesses[0]), access_max(scheme.nr_accesses[1])),
        age: range(age_min(scheme.age[0]), age_max(scheme.age[1])),
    };
    let quota = quota(&scheme.quota, &mut notes);
    let watermarks = watermarks(&scheme.watermarks, &mut notes);
    let wire = model::Scheme {
        name: None,
        action: scheme.action,
        access_pattern: (pattern != model::AccessPattern::default()).then_some(pattern),
        apply_interval: (scheme.apply_interval_us > 0).then(|| Duration(human_duration(scheme.apply_interval_us))),
        target_node: scheme.target_nid,
        destinations: (!scheme.destinations.is_empty()).then(|| scheme.destinations.clone()),
        quota,
        watermarks,
        filter: scheme.filters.clone(),
    };
    (wire, notes)
}

fn range<T>(min: Option<T>, max: Option<T>) -> Option<RangeOf<T>> {
    (min.is_some() || max.is_some()).then_some(RangeOf { min, max })
}

fn size_bound(bytes: u64, default: u64) -> Option<Size> {
    (bytes != default).then(|| human_size(bytes))
}

fn access_min(bound: Access) -> Option<AccessRate> {
    match bound {
        Access::Percent(p) if p.digits == 0 => None,
        Access::Samples(0) => None,
        other => access_max(other).or_else(|| Some(AccessRate("max".into()))),
    }
}

/// The kernel's largest bound is what a policy's omitted (or `max`) bound compiles to.
fn access_max(bound: Access) -> Option<AccessRate> {
    match bound {
        Access::Percent(p) => Some(AccessRate(format!("{}%", decimal_text(p)))),
        Access::Samples(U32_MAX_BOUND) | Access::Max => None,
        Access::Samples(n) => Some(AccessRate(format!("{n} sample{}", plural(n)))),
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn age_min(bound: AgeBound) -> Option<Age> {
    match bound {
        AgeBound::Micros(0) | AgeBound::Aggregations(0) => None,
        other => age_max(other).or_else(|| Some(Age("max".into()))),
    }
}

fn age_max(bound: AgeBound) -> Option<Age> {
    match bound {
        AgeBound::Micros(us) => Some(Age(human_duration(us))),
        AgeBound::Aggregations(U32_MAX_BOUND) | AgeBound::Max => None,
        AgeBound::Aggregations(n) => Some(Age(format!("{n} aggregation{}", plural(n)))),
    }
}

fn quota(quota: &DamoQuota, notes: &mut Vec<Note>) -> Option<model::Quota> {
    let active = quota.time_ms > 0 || quota.sz_bytes > 0 || !quota.goals.is_empty();
    if !active && quota.weights_permil == [0; 3] && quota.reset_interval_ms.is_none() && quota.goal_tuner.is_none() {
        // damo's default quota: nothing for the kernel to enforce.
        return None;
    }
    let reset_interval = match quota.reset_interval_ms {
        Some(ms) => Some(Duration(human_ms(ms))),
        None if active => {
            notes.push(Note {
                key: &["quota", "reset_interval"],
                text: "damo's reset interval `max` never resets the quota, which makes it a one-off budget; \
written as the longest interval a policy can hold"
                    .into(),
                warning: true,
            });
            Some(Duration(human_ms(LONGEST_RESET_MS)))
        }
        None => {
            notes.push(Note {
                key: &["quota"],
                text: "the quota limits nothing, so the kernel ignores its reset interval (damo's `max`)".into(),
                warning: false,
            });
            None
        }
    };
    let [size, access_rate, age] = quota.weights_permil;
    Some(model::Quota {
        time: (quota.time_ms > 0).then(|| Duration(human_ms(quota.time_ms))),
        size: (quota.sz_bytes > 0).then(|| human_size(quota.sz_bytes)),
        reset_interval,
        // Explicit: a policy's quota without weights weighs 1/1/1, damo's 0/0/0.
        weights: Some(model::Weights {
            size: Some(size),
            access_rate: Some(access_rate),
            age: Some(age),
        }),
        goals: quota.goals.clone(),
        goal_tuner: quota.goal_tuner,
    })
}

fn watermarks(w: &DamoWatermarks, notes: &mut Vec<Note>) -> Option<model::Watermarks> {
    let Some(metric) = w.metric else {
        if (w.interval_us, w.high_permil, w.mid_permil, w.low_permil) != (0, 0, 0, 0) {
            notes.push(Note {
                key: &["watermarks"],
                text: "damo's watermarks with the metric `none` are inactive: the kernel ignores their interval and thresholds, so they are left out".into(),
                warning: false,
            });
        }
        return None;
    };
    Some(model::Watermarks {
        metric: Some(metric),
        interval: Some(Duration(human_duration(w.interval_us))),
        high: Percent(permil_text(w.high_permil)),
        mid: Percent(permil_text(w.mid_permil)),
        low: Percent(permil_text(w.low_permil)),
    })
}

/// A size in the largest 1024-based unit that holds it exactly; bytes otherwise.
pub fn human_size(bytes: u64) -> Size {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes > 0 {
        for (i, unit) in UNITS.iter().enumerate().rev() {
            let shift = 10 * (i as u32 + 1);
            if bytes.trailing_zeros() >= shift {
                return Size(Raw::Text(format!("{}{unit}", bytes >> shift)));
            }
        }
    }
    // TOML integers stop at 2^63 - 1.
    match i64::try_from(bytes) {
        Ok(_) => Size(Raw::Int(bytes)),
        Err(_) => Size(Raw::Text(bytes.to_string())),
    }
}

/// A duration in the largest unit (d, h, m, s, ms, us) that holds it exactly.
pub fn human_duration(us: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (86_400_000_000, "d"),
        (3_600_000_000, "h"),
        (60_000_000, "m"),
        (1_000_000, "s"),
        (1_000, "ms"),
    ];
    if us == 0 {
        return "0s".into();
    }
    match UNITS.iter().find(|(per, _)| us.is_multiple_of(*per)) {
        Some((per, unit)) => format!("{}{unit}", us / per),
        // The duration parser multiplies each number into nanoseconds of 64 bits: split
        // what would overflow there into seconds and the rest.
        None if us >= HUGE => format!("{}s {}us", us / 1_000_000, us % 1_000_000),
        None => format!("{us}us"),
    }
}

/// Above this, a number of µs or ms overflows 64-bit nanoseconds.
const HUGE: u64 = 1 << 40;

/// Milliseconds in the largest unit (d, h, m, s, ms) that holds them exactly; from ms, so
/// that values beyond 2^64 - 1 µs are still written as they are (and refused by `check`).
pub fn human_ms(ms: u64) -> String {
    match ms.checked_mul(1000) {
        Some(_) if ms >= HUGE && !ms.is_multiple_of(1000) => format!("{}s {}ms", ms / 1000, ms % 1000),
        Some(us) => human_duration(us),
        None => format!("{ms}ms"),
    }
}

/// `12.5` for digits 125, scale 1; trailing fraction zeros dropped.
pub fn decimal_text(value: Decimal) -> String {
    let den = 10u128.pow(value.scale);
    let (whole, frac) = (value.digits / den, value.digits % den);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:0width$}", width = value.scale as usize);
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// A permil value as a percentage: 800 → `80%`, 125 → `12.5%`.
pub fn permil_text(permil: u64) -> String {
    format!(
        "{}%",
        decimal_text(Decimal {
            digits: u128::from(permil),
            scale: 1
        })
    )
}

/// A basis-point value as a percentage: 50 → `0.5%`.
pub fn bp_text(bp: u64) -> String {
    format!(
        "{}%",
        decimal_text(Decimal {
            digits: u128::from(bp),
            scale: 2
        })
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units_are_exact() {
        assert_eq!(human_size(4096), Size(Raw::Text("4KiB".into())));
        assert_eq!(human_size(524_288_000), Size(Raw::Text("500MiB".into())));
        assert_eq!(human_size(1536), Size(Raw::Int(1536)));
        assert_eq!(human_size(u64::MAX - 1), Size(Raw::Text("18446744073709551614".into())));
        assert_eq!(human_duration(5_000_000), "5s");
        assert_eq!(human_duration(1_500_000), "1500ms");
        assert_eq!(human_duration(7), "7us");
        assert_eq!(human_duration(120_000_000), "2m");
        assert_eq!(human_ms(LONGEST_RESET_MS), "18446744073709s 551ms");
        assert_eq!(human_duration(u64::MAX), "18446744073709s 551615us");
        assert_eq!(permil_text(125), "12.5%");
        assert_eq!(permil_text(800), "80%");
        assert_eq!(bp_text(50), "0.5%");
        assert_eq!(decimal_text(Decimal { digits: 1250, scale: 2 }), "12.5");
    }

    #[test]
    fn damo_defaults_need_no_tables() {
        let (wire, notes) = to_wire(&DamoScheme::default());
        assert_eq!((wire.access_pattern, wire.quota, wire.watermarks), (None, None, None));
        assert!(notes.is_empty());
    }
}
