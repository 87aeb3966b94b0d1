//! `[target]` → [`Target`]: the selector and the address ranges, converted. A target
//! without exactly one selector, or with a physical selector of no known form, has no
//! resolved form (see [`shape`]).

use crate::key_path;
use crate::model::resolved::{AddrRange, Selector, Target};
use crate::model::wire::{self as model, Physical};
use crate::policy::source::KeyPath;
use crate::validate::shape::{self, PhysicalShape, Selected};

use super::{Ctx, address};

pub(super) fn target(ctx: &mut Ctx<'_>, wire: &model::Target) -> Option<Target> {
    let path = key_path!["target"];
    let selected = shape::selected(wire)?;
    let regions = match &wire.regions {
        Some(list) => regions(ctx, list, &path.join("regions"))?,
        None => Vec::new(),
    };
    let selector = match selected {
        Selected::Pids(pids) => Selector::Pids(pids.to_vec()),
        Selected::Process(name) => Selector::Process(name.to_owned()),
        Selected::Cgroup(cgroup) => Selector::Cgroup(cgroup.to_owned()),
        // Process address ranges mean nothing for physical memory: they are left out.
        Selected::Physical(physical) => return self::physical(ctx, physical),
    };
    Some(Target { selector, regions })
}

fn physical(ctx: &mut Ctx<'_>, wire: &Physical) -> Option<Target> {
    let (selector, regions) = match shape::physical(wire)? {
        PhysicalShape::Whole => (Selector::PhysicalWhole, Vec::new()),
        PhysicalShape::Node(node) => (Selector::PhysicalNode(node), Vec::new()),
        PhysicalShape::Regions(list) => (
            Selector::PhysicalRegions,
            regions(ctx, list, &key_path!["target", "physical", "regions"])?,
        ),
    };
    Some(Target { selector, regions })
}

/// Address ranges as written, converted; `None` when an address is not one.
fn regions(ctx: &mut Ctx<'_>, list: &[model::Region], path: &KeyPath) -> Option<Vec<AddrRange>> {
    let mut out = Vec::new();
    for (i, region) in list.iter().enumerate() {
        let at = path.join(i);
        let start = address(ctx, &region.start.0, &at.join("start"));
        let end = address(ctx, &region.end.0, &at.join("end"));
        if let (Some(start), Some(end)) = (start, end) {
            out.push(AddrRange { start, end });
        }
    }
    (out.len() == list.len()).then_some(out)
}
