//! `[[scheme.filter]]` → [`Filter`]: the argument of the filter's type, converted. A filter
//! with an argument of another type, without the one its type needs, or with an empty
//! address range has no resolved form; `rules` says what is wrong.

use crate::kernel::FilterType;
use crate::model::defaults;
use crate::model::resolved::{AddrRange, Filter, FilterArg};
use crate::model::wire as model;
use crate::policy::source::KeyPath;
use crate::validate::shape;

use super::{Ctx, address, size_range};

pub(super) fn filter(ctx: &mut Ctx<'_>, wire: &model::Filter, path: &KeyPath) -> Option<Filter> {
    let arg = argument(ctx, wire, path);
    if !shape::stray_filter_arguments(wire).is_empty() {
        return None;
    }
    Some(Filter {
        kind: wire.kind,
        matching: wire.matching.unwrap_or(defaults::FILTER_MATCHING),
        allow: wire.allow.unwrap_or(defaults::FILTER_ALLOW),
        arg: arg?,
    })
}

fn argument(ctx: &mut Ctx<'_>, wire: &model::Filter, path: &KeyPath) -> Option<FilterArg> {
    match wire.kind {
        FilterType::Memcg => wire.cgroup.clone().map(FilterArg::Memcg),
        FilterType::Addr => {
            let (start, end) = (wire.start.as_ref()?, wire.end.as_ref()?);
            let start = address(ctx, &start.0, &path.join("start"));
            let end = address(ctx, &end.0, &path.join("end"));
            let (start, end) = (start?, end?);
            (start < end).then_some(FilterArg::Addr(AddrRange { start, end }))
        }
        FilterType::Target => wire.target.map(FilterArg::Target),
        FilterType::HugepageSize => {
            let range = size_range(ctx, wire.min.as_ref(), wire.max.as_ref(), path);
            if wire.min.is_none() && wire.max.is_none() {
                return None;
            }
            range.map(FilterArg::HugepageSize)
        }
        _ => Some(FilterArg::None),
    }
}
