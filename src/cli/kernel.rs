//! `damo-policy kernel`: what the live kernel's DAMON supports, and which policy fields
//! that enables.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Args;

use super::live::LiveArgs;
use super::{Output, usage_error};
use crate::kernel::{Action, FilterType, Layout, Metric, Version, features};
use crate::record::trace::{Presence, Tracefs};

#[derive(Debug, Args)]
pub struct KernelArgs {
    #[command(flatten)]
    pub live: LiveArgs,
}

pub fn run(args: &KernelArgs, out: &mut Output) -> ExitCode {
    let live = match args.live.open() {
        Ok(live) => live,
        Err(message) => return usage_error(&message),
    };
    let info = &live.info;
    let version = info.version;
    let _ = writeln!(
        out,
        "kernel release {}; DAMON features of {} ({})",
        info.release, version, info.evidence
    );
    let ops: Vec<&str> = info.avail_ops.iter().map(|o| o.keyword()).collect();
    let _ = writeln!(out, "operations sets: {}", ops.join(", "));
    for module in &info.modules {
        let note = if module.enabled {
            " (blocks damo-policy's kdamonds; apply --disable-modules)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "module {}: {}{note}",
            module.name,
            if module.enabled { "enabled" } else { "disabled" }
        );
    }
    let _ = writeln!(out, "recording sources: {}", recording_sources(&live));
    let mark = |since: Version| if version >= since { "yes" } else { "no " };
    let _ = writeln!(out, "policy fields:");
    for (field, since) in features::policy_keys() {
        let _ = writeln!(out, "  {} {} (since {since})", mark(since), field.key);
    }
    let list = |items: Vec<(&str, Version)>| {
        items
            .into_iter()
            .map(|(k, v)| {
                if version >= v {
                    k.to_owned()
                } else {
                    format!("({k}: {v}+)")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = writeln!(
        out,
        "actions: {}",
        list(Action::ALL.iter().map(|a| (a.keyword(), a.since())).collect())
    );
    let _ = writeln!(
        out,
        "filter types: {}",
        list(FilterType::ALL.iter().map(|f| (f.keyword(), f.since())).collect())
    );
    let _ = writeln!(
        out,
        "goal metrics: {}",
        list(Metric::ALL.iter().map(|m| (m.keyword(), m.since())).collect())
    );
    ExitCode::SUCCESS
}

/// Which sources `record` can read on this kernel: the tracepoint through a private tracefs
/// instance, and a `stat` scheme's tried regions.
fn recording_sources(live: &super::live::Live) -> String {
    let tracepoint = match Tracefs::find(&live.host) {
        Ok(Some(tracefs)) => {
            let sources = tracefs.sources();
            let root = sources.root.display();
            match (sources.event, sources.instances) {
                (Presence::Present, Presence::Present) => format!("tracepoint (tracefs at {root})"),
                (Presence::Denied, _) | (_, Presence::Denied) => format!("(tracepoint: {root} is not readable)"),
                (Presence::Absent, _) => format!("(tracepoint: {root} lacks events/damon/damon_aggregated)"),
                (_, Presence::Absent) => format!("(tracepoint: {root} has no private instances)"),
            }
        }
        Ok(None) => "(tracepoint: tracefs is not mounted)".to_owned(),
        Err(e) => format!("(tracepoint: {e})"),
    };
    let tried = if Layout::new(live.info.version).has_tried_regions() {
        "tried regions"
    } else {
        "(tried regions: 6.2+)"
    };
    format!("{tracepoint}, {tried}")
}
