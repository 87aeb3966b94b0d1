//! `damo-policy record`: record what DAMON sees of a target into damo's record format, from
//! a kdamond started (and owned) for the recording or, with `--attach`, from an applied
//! policy's running kdamond.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use clap::{ArgGroup, Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use signal_hook::consts::{SIGINT, SIGTERM};

use super::apply::KERNEL_REFUSED;
use super::live::{Live, LiveArgs};
use super::output::IO_ERROR;
use super::usage_error;
use crate::diag::Renderer;
use crate::host::HostPaths;
use crate::record::file::{
    FootprintWriter, Format, Intervals, RecordHeader, RecordWriter, check_destination, footprint_path,
};
use crate::record::kdamond::{
    self, LiveKernel, MonitoringOverrides, RecordKdamondError, RecordTarget, RecordedKdamond, RegionBounds,
    StartOptions, TargetChoice,
};
use crate::record::session::{Ending, Failure, Footprints, Plan, Progress, record};
use crate::record::trace::{Instance, Presence, TraceError, Tracefs};
use crate::record::tried::TriedRegions;

#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("what")
        .required(true)
        .args(["policy", "pid", "process", "cgroup", "physical", "attach"])
))]
pub struct RecordArgs {
    /// A policy file: record its `[target]` with its `[monitoring]` (its schemes are not
    /// applied).
    #[arg(value_name = "POLICY")]
    pub policy: Option<PathBuf>,
    /// Record this process (repeat for several).
    #[arg(long, value_name = "PID")]
    pub pid: Vec<u32>,
    /// Record every process of this name (`comm`, at most 15 bytes).
    #[arg(long, value_name = "NAME")]
    pub process: Option<String>,
    /// Record the processes of this cgroup (a path below the cgroup v2 mount).
    #[arg(long, value_name = "PATH")]
    pub cgroup: Option<String>,
    /// Record physical memory (the largest System RAM range).
    #[arg(long)]
    pub physical: bool,
    /// Record what the running kdamond of this applied policy sees, changing nothing.
    #[arg(long, value_name = "POLICY_NAME", conflicts_with_all = ["sample_interval", "aggregation_interval", "update_interval", "regions", "disable_modules"])]
    pub attach: Option<String>,
    /// How long to record (`30s`, `10m`); default: until Ctrl-C, SIGTERM, or every target
    /// process exits.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// The record file; `FILE.mem_footprint` is written beside it.
    #[arg(short, long, value_name = "FILE", default_value = "damon.data")]
    pub output: PathBuf,
    /// Record file format, as damo's `--output_type`.
    #[arg(long, value_enum, default_value_t = RecordFormat::JsonCompressed)]
    pub format: RecordFormat,
    /// Overwrite the record file (and its side file) if they exist.
    #[arg(long)]
    pub force: bool,
    /// Sampling interval (default: the policy's, else 5ms).
    #[arg(long, value_name = "DURATION")]
    pub sample_interval: Option<String>,
    /// Aggregation interval (default: the policy's, else 100ms).
    #[arg(long, value_name = "DURATION")]
    pub aggregation_interval: Option<String>,
    /// Interval of the target's memory map updates (default: the policy's, else 1s).
    #[arg(long, value_name = "DURATION")]
    pub update_interval: Option<String>,
    /// Minimum and maximum number of monitoring regions (default: 10,1000).
    #[arg(long, value_name = "MIN,MAX")]
    pub regions: Option<String>,
    /// Where the aggregations come from: DAMON's tracepoint through a private tracefs
    /// instance, or snapshots of a `stat` scheme's tried regions (auto: the tracepoint if
    /// the kernel offers it).
    #[arg(long, value_enum, default_value_t = SourceChoice::Auto)]
    pub source: SourceChoice,
    /// Disable the DAMON modules (damon_reclaim, damon_lru_sort, damon_stat) whose exclusive
    /// kdamond makes the kernel refuse ours.
    #[arg(long)]
    pub disable_modules: bool,
    /// No progress line.
    #[arg(long, short)]
    pub quiet: bool,
    /// The tracefs mount (default: found in the mount table).
    #[arg(long, env = "DAMO_POLICY_TRACEFS_ROOT", value_name = "DIR", hide_short_help = true)]
    pub tracefs_root: Option<PathBuf>,
    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordFormat {
    JsonCompressed,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceChoice {
    Auto,
    Tracepoint,
    TriedRegions,
}

/// How often the tracepoint's buffer is read: events wait in the kernel's buffer (sized for
/// bursts), so ten reads a second keep up with any aggregation interval at little cost.
const TRACE_POLL_INTERVAL: Duration = Duration::from_millis(100);

pub fn run(args: &RecordArgs, renderer: &Renderer) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let live = match args.live.open() {
        Ok(live) => live,
        Err(message) => return usage_error(message),
    };
    let tracefs = match &args.tracefs_root {
        Some(root) => Ok(Some(Tracefs::at(root, &live.host))),
        None => Tracefs::find(&live.host),
    };
    let tracepoint = match (args.source, &tracefs) {
        (SourceChoice::TriedRegions, _) => false,
        (SourceChoice::Tracepoint, _) => true,
        (SourceChoice::Auto, Ok(Some(tracefs))) if tracefs.sources().usable() => true,
        (SourceChoice::Auto, found) => {
            if args.attach.is_some() {
                // Tried regions need a scheme of ours in the kdamond, which --attach never changes.
                return usage_error(format!(
                    "--attach reads DAMON's tracepoint, which is not available here ({}); mount tracefs or record without --attach",
                    unavailable(found)
                ));
            }
            let _ = writeln!(
                err,
                "note: recording from a `stat` scheme's tried regions: DAMON's tracepoint is not available ({})",
                unavailable(found)
            );
            false
        }
    };
    if args.attach.is_some() && !tracepoint {
        return usage_error(
            "--attach reads DAMON's tracepoint: --source tried-regions would add a scheme to the policy's kdamond",
        );
    }
    let tracefs = match (tracepoint, tracefs) {
        (false, _) => None,
        (true, Ok(Some(tracefs))) => Some(tracefs),
        (true, Ok(None)) => {
            return usage_error(TraceError::NotMounted {
                mounts: live.host.proc_root.join("mounts"),
            });
        }
        (true, Err(e)) => return usage_error(e),
    };
    // An existing file is refused before any kdamond starts.
    for path in [args.output.clone(), footprint_path(&args.output)] {
        if let Err(e) = check_destination(&path, args.force) {
            return usage_error(e);
        }
    }

    let mut state = live.state.clone();
    let sysfs = live.kernel.sysfs();
    let (recorded, recording) = match &args.attach {
        Some(policy) => match kdamond::attach(sysfs, &state, policy) {
            Ok(recorded) => (recorded, None),
            Err(e) => return usage_error(e),
        },
        None => {
            let target = match record_target(args) {
                Ok(target) => target,
                Err(message) => return usage_error(message),
            };
            let kernel = LiveKernel {
                sysfs,
                info: &live.info,
                store: &live.store,
                host: &live.host,
            };
            let options = StartOptions {
                disable_modules: args.disable_modules,
                tried_regions: !tracepoint,
            };
            let started = kdamond::start(kernel, &mut state, &target, options);
            let _ = live.kernel.save();
            match started {
                Ok(recording) => {
                    let _ = renderer.write_all(&mut err, &recording.warnings);
                    for module in &recording.disabled_modules {
                        let _ = writeln!(
                            err,
                            "note: disabled the DAMON module {module}, whose kdamond excludes ours"
                        );
                    }
                    if !recording.restarted.is_empty() {
                        let _ = writeln!(
                            err,
                            "warning: restarted the kdamonds of {} to add a kdamond slot (the kernel adds one only while every kdamond is off)",
                            recording.restarted.join(", ")
                        );
                    }
                    (recording.kdamond.clone(), Some(recording))
                }
                Err(e) => {
                    let code = match e {
                        RecordKdamondError::Refused(_) | RecordKdamondError::Failed { .. } => KERNEL_REFUSED,
                        _ => IO_ERROR,
                    };
                    let _ = writeln!(err, "error: {e}");
                    return ExitCode::from(code);
                }
            }
        }
    };

    let outcome = record_from(args, &live, tracefs.as_ref(), &recorded);
    if let Some(recording) = &recording {
        if let Err(e) = kdamond::stop(&live.store, sysfs, &mut state, recording) {
            let _ = writeln!(
                err,
                "error: stopping the recording's kdamond {}: {e}",
                recording.kdamond.slot
            );
        }
        let _ = live.kernel.save();
    }
    match outcome {
        Ok(text) => {
            if !args.quiet {
                let _ = writeln!(err, "{text}");
            }
            ExitCode::SUCCESS
        }
        Err(message) => usage_error(message),
    }
}

/// Why the tracepoint cannot be read, for a note or an error.
fn unavailable(found: &Result<Option<Tracefs>, TraceError>) -> String {
    match found {
        Ok(Some(tracefs)) => {
            let sources = tracefs.sources();
            if sources.event != Presence::Present {
                format!("{} lacks events/damon/damon_aggregated", sources.root.display())
            } else {
                format!("{} cannot make private instances", sources.root.display())
            }
        }
        Ok(None) => "tracefs is not mounted".into(),
        Err(e) => e.to_string(),
    }
}

fn record_target(args: &RecordArgs) -> Result<RecordTarget, String> {
    let choice = if let Some(policy) = &args.policy {
        TargetChoice::PolicyFile(policy.clone())
    } else if !args.pid.is_empty() {
        TargetChoice::Pids(args.pid.clone())
    } else if let Some(name) = &args.process {
        TargetChoice::Process(name.clone())
    } else if let Some(cgroup) = &args.cgroup {
        TargetChoice::Cgroup(cgroup.clone())
    } else {
        TargetChoice::Physical
    };
    let regions = match &args.regions {
        Some(text) => Some(text.parse::<RegionBounds>().map_err(|e| format!("--regions {e}"))?),
        None => None,
    };
    Ok(RecordTarget {
        choice,
        overrides: MonitoringOverrides {
            sample_interval: args.sample_interval.clone(),
            aggregation_interval: args.aggregation_interval.clone(),
            update_interval: args.update_interval.clone(),
            regions,
        },
    })
}

/// Records from `recorded`'s kdamond until the recording ends; the summary line, or what
/// went wrong (the files then removed).
fn record_from(
    args: &RecordArgs,
    live: &Live,
    tracefs: Option<&Tracefs>,
    recorded: &RecordedKdamond,
) -> Result<String, String> {
    let intervals = Intervals {
        sample_us: recorded.intervals.sample_us,
        aggr_us: recorded.intervals.aggr_us,
        ops_update_us: recorded.intervals.update_us,
    };
    let headers = recorded
        .targets
        .iter()
        .map(|t| RecordHeader {
            kdamond_idx: recorded.slot,
            context_idx: 0,
            // The tried-regions source gives each target its own `stat` scheme, in order.
            scheme_idx: tracefs
                .is_none()
                .then(|| usize::try_from(t.target_id).unwrap_or(usize::MAX)),
            target_id: t.target_id,
            intervals,
        })
        .collect();
    let format = match args.format {
        RecordFormat::JsonCompressed => Format::JsonCompressed,
        RecordFormat::Json => Format::Json,
    };
    let mut writer = RecordWriter::create(&args.output, format, args.force, headers).map_err(|e| e.to_string())?;
    let footprints = match FootprintWriter::create(&footprint_path(&args.output), args.force) {
        Ok(f) => f,
        Err(e) => {
            writer.abandon();
            return Err(e.to_string());
        }
    };
    let mut footprints = Sampled {
        writer: footprints,
        host: &live.host,
    };
    let pids: Vec<u32> = recorded.targets.iter().filter_map(|t| t.pid).collect();
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            writer.abandon();
            footprints.writer.abandon();
            return Err(format!("cannot handle signals: {e}"));
        }
    }
    let host = &live.host;
    let alive = |pid: u32| host.is_running(pid);
    let mut plan = Plan {
        duration: args.duration,
        pids: &pids,
        alive: &alive,
        stop: &stop,
        poll_interval: TRACE_POLL_INTERVAL,
    };
    let bar = progress_bar(args.quiet);
    let mut show = |p: &Progress| {
        bar.set_message(format!(
            "{:.1}s · {} snapshots · {} regions · {} written",
            p.elapsed.as_secs_f64(),
            p.snapshots,
            p.regions,
            bytesize::ByteSize(p.bytes).display().iec()
        ));
    };
    let result = match tracefs {
        Some(tracefs) => match Instance::create(tracefs, recorded.kdamond_pid) {
            Ok(mut instance) => {
                let result = record(&plan, &mut instance, &mut writer, Some(&mut footprints), &mut show);
                let loss = instance.buffer_loss().ok();
                let _ = instance.close();
                result.map(|r| (r, loss))
            }
            Err(e) => Err(Failure::Source(e.to_string())),
        },
        None => {
            plan.poll_interval = Duration::ZERO;
            let mut tried = TriedRegions::new(
                live.kernel.sysfs(),
                recorded.slot,
                recorded.targets.len(),
                Instant::now(),
            );
            record(&plan, &mut tried, &mut writer, Some(&mut footprints), &mut show).map(|r| (r, None))
        }
    };
    bar.finish_and_clear();
    let ((ending, progress), loss) = match result {
        Ok(done) => done,
        Err(failure) => {
            writer.abandon();
            footprints.writer.abandon();
            return Err(format!("{failure}; the recording stopped and its files were removed"));
        }
    };
    let summary = match writer.finish() {
        Ok(summary) => summary,
        Err(e) => {
            footprints.writer.abandon();
            return Err(format!("{e}; the recording stopped and its files were removed"));
        }
    };
    footprints.writer.finish().map_err(|e| e.to_string())?;
    let why = match ending {
        Ending::Duration => "--duration elapsed",
        Ending::Signal => "interrupted",
        Ending::TargetsExited => "every target process exited",
    };
    let mut text = format!(
        "recorded {} snapshot{} of {} target{} in {:.1}s into {} ({}, {}); {why}",
        summary.snapshots,
        if summary.snapshots == 1 { "" } else { "s" },
        summary.records,
        if summary.records == 1 { "" } else { "s" },
        progress.elapsed.as_secs_f64(),
        summary.path.display(),
        summary.format,
        bytesize::ByteSize(summary.bytes).display().iec(),
    );
    if let Some(loss) = loss.filter(|l| l.overrun + l.dropped > 0) {
        text.push_str(&format!(
            "\nwarning: the trace buffer lost {} event(s): some snapshots are missing regions (a longer --aggregation-interval or fewer --regions helps)",
            loss.overrun + loss.dropped
        ));
    }
    Ok(text)
}

/// The live line on standard error: only on a terminal, and not with --quiet.
fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} recording {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The footprint side file, sampled through the host's proc root.
struct Sampled<'a> {
    writer: FootprintWriter,
    host: &'a HostPaths,
}

impl Footprints for Sampled<'_> {
    fn sample(&mut self, pids: &[u32], time_s: f64) -> Result<(), String> {
        self.writer.sample(self.host, pids, time_s).map_err(|e| e.to_string())
    }
}
