//! Wire model → resolved policy: applies the [`defaults`] and converts every human unit to
//! kernel units, reporting each value that cannot be converted (bad unit, overflow, inexact)
//! and warning where the kernel's flooring changes what the user wrote. It judges nothing
//! else: a part of the wrong [`shape`] is left unresolved without a word, and
//! [`super::rules`] reports what is wrong with it and with every converted value.
//!
//! One file per part of a policy: [`target`], [`monitoring`], [`scheme`] (access pattern,
//! quota, watermarks) and [`filter`]; the scalar conversions they share are here.

mod filter;
mod monitoring;
mod scheme;
mod target;

use crate::diag::{Code, Diagnostic};
use crate::kernel::Ops;
use crate::model::defaults;
use crate::model::resolved::{Monitoring, Policy, Range, Scheme, Target};
use crate::model::units::{self, Bound, UnitError};
use crate::model::wire::{self as model, Mode, Raw};
use crate::policy::source::KeyPath;

use super::Ctx;
use super::shape::{self, Selected};

/// What of a policy resolved: each part of the file that was read and converts. Rules judge
/// every part here, so a value that does not convert hides only the findings that depend on
/// it.
pub struct Parts {
    pub name: String,
    pub enabled: bool,
    pub mode: Mode,
    /// The operations set, once the target says which memory is monitored.
    pub ops: Option<Ops>,
    pub target: Option<Target>,
    pub monitoring: Option<Monitoring>,
    /// Each scheme of the wire model, in its order.
    pub schemes: Vec<Option<Scheme>>,
}

impl Parts {
    /// The whole policy, when every part resolved.
    pub fn policy(self, file: String) -> Option<Policy> {
        Some(Policy {
            name: self.name,
            file,
            enabled: self.enabled,
            mode: self.mode,
            ops: self.ops?,
            target: self.target?,
            monitoring: self.monitoring?,
            schemes: self.schemes.into_iter().collect::<Option<Vec<_>>>()?,
        })
    }
}

/// Resolves every part of a policy that was read.
pub fn policy(ctx: &mut Ctx<'_>, wire: &model::PolicyFile) -> Parts {
    let name = wire.name.clone().unwrap_or_else(|| ctx.file.stem());
    let target_read = ctx.reading.target;
    let target = target_read.then(|| target::target(ctx, &wire.target)).flatten();
    let ops = target_read
        .then(|| {
            wire.target.ops.or(match shape::selected(&wire.target)? {
                Selected::Physical(_) => Some(Ops::Paddr),
                _ => Some(Ops::Vaddr),
            })
        })
        .flatten();
    let monitoring = ctx
        .reading
        .monitoring
        .then(|| monitoring::monitoring(ctx, wire.monitoring.as_ref().unwrap_or(&Default::default())))
        .flatten();
    let schemes = wire
        .scheme
        .iter()
        .enumerate()
        .map(|(i, s)| scheme::scheme(ctx, s, i, monitoring.as_ref()))
        .collect();
    Parts {
        name,
        enabled: wire.enabled.unwrap_or(defaults::ENABLED),
        mode: wire.mode.unwrap_or(defaults::MODE),
        ops,
        target,
        monitoring,
        schemes,
    }
}

/// An address as written, or `None` when it is not one below 2^64.
pub(super) fn address_value(raw: &Raw) -> Option<u64> {
    match raw {
        Raw::Int(n) => Some(*n),
        Raw::Text(text) => units::parse_address(text).ok(),
    }
}

fn address(ctx: &mut Ctx<'_>, raw: &Raw, path: &KeyPath) -> Option<u64> {
    let parsed = address_value(raw);
    if parsed.is_none() {
        ctx.report(
            Diagnostic::error(
                Code::BadValue,
                format!("{} is not an address below 2^64", units::echo(&raw.to_string())),
            )
            .help(units::ADDRESS_HELP),
            path,
        );
    }
    parsed
}

fn unit_error(ctx: &mut Ctx<'_>, error: UnitError, path: &KeyPath) {
    ctx.report(
        Diagnostic::error(Code::BadValue, error.message)
            .label("here")
            .help(error.help),
        path,
    );
}

/// A `min`/`max` keyword as the end of `every`, or the converted value.
fn bound_or<T: Copy>(bound: Option<Bound<T>>, every: Range, value: impl FnOnce(T) -> Option<u64>) -> Option<u64> {
    match bound {
        Some(Bound::Min) => Some(every.min),
        Some(Bound::Max) => Some(every.max),
        Some(Bound::Value(v)) => value(v),
        None => None,
    }
}

/// A duration in µs where `min`/`max` have no meaning.
fn duration_us(ctx: &mut Ctx<'_>, wire: Option<&model::Duration>, default_us: u64, path: &KeyPath) -> Option<u64> {
    let Some(wire) = wire else { return Some(default_us) };
    match units::parse_duration_us(&wire.0) {
        Ok(Bound::Value(us)) => Some(us),
        Ok(_) => {
            ctx.report(
                Diagnostic::error(
                    Code::BadValue,
                    format!("`{}` is only meaningful as a range bound", wire.0),
                )
                .help(units::DURATION_HELP),
                path,
            );
            None
        }
        Err(error) => {
            unit_error(ctx, error, path);
            None
        }
    }
}

/// A duration in whole ms, for the kernel files kept in milliseconds.
fn duration_ms(ctx: &mut Ctx<'_>, wire: Option<&model::Duration>, default_ms: u64, path: &KeyPath) -> Option<u64> {
    let us = duration_us(ctx, wire, default_ms * 1000, path)?;
    let text = wire.map_or("", |w| w.0.as_str());
    units::us_to_ms_exact(us, text)
        .map_err(|e| unit_error(ctx, e, path))
        .ok()
}

fn size(ctx: &mut Ctx<'_>, wire: &model::Size, path: &KeyPath) -> Option<Bound<u64>> {
    match &wire.0 {
        Raw::Int(n) => Some(Bound::Value(*n)),
        Raw::Text(text) => units::parse_size(text).map_err(|e| unit_error(ctx, e, path)).ok(),
    }
}

/// A size in bytes where `min`/`max` have no meaning.
fn size_bytes(ctx: &mut Ctx<'_>, wire: &model::Size, path: &KeyPath) -> Option<u64> {
    let every = defaults::SIZE_RANGE;
    bound_or(size(ctx, wire, path), every, Some)
}

/// A range of sizes in bytes; an omitted bound is unbounded.
fn size_range(
    ctx: &mut Ctx<'_>,
    min: Option<&model::Size>,
    max: Option<&model::Size>,
    path: &KeyPath,
) -> Option<Range> {
    let every = defaults::SIZE_RANGE;
    let mut one = |text: Option<&model::Size>, default: u64, at: KeyPath| match text {
        None => Some(default),
        Some(s) => size_bytes(ctx, s, &at),
    };
    let lo = one(min, every.min, path.join("min"));
    let hi = one(max, every.max, path.join("max"));
    Some(Range { min: lo?, max: hi? })
}

/// A percentage in units of `1 / per_percent` percent (10: permil, 100: basis points).
fn percent(ctx: &mut Ctx<'_>, wire: &model::Percent, per_percent: u64, path: &KeyPath) -> Option<u64> {
    units::parse_percent(&wire.0, per_percent)
        .map_err(|e| unit_error(ctx, e, path))
        .ok()
}
