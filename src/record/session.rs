//! One recording from start to end: poll the source, hand every aggregation to the file,
//! sample the memory footprint once a second, report progress, and decide when it ends
//! (the duration, a signal, every target process gone, or an error).
//!
//! The loop knows its source and its files only through [`Source`], [`Sink`] and
//! [`Footprints`], so that it is tested without a kernel; the command wires in the
//! tracepoint or tried-regions source and damo's record files.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::Aggregation;

/// Where aggregations come from.
pub trait Source {
    /// Appends every aggregation that completed since the last call; never blocks for long.
    fn poll(&mut self, out: &mut Vec<Aggregation>) -> Result<(), String>;
}

/// Where aggregations go.
pub trait Sink {
    fn push(&mut self, aggregation: &Aggregation) -> Result<(), String>;
    /// Bytes written so far, for the progress line.
    fn bytes_written(&self) -> u64;
}

/// The memory footprint side file: one sample of the given processes and the system.
pub trait Footprints {
    fn sample(&mut self, pids: &[u32], time_s: f64) -> Result<(), String>;
}

/// Why a recording ended normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `--duration` elapsed.
    Duration,
    /// SIGINT or SIGTERM.
    Signal,
    /// Every target process exited.
    TargetsExited,
}

/// Why a recording ended with an error: the side that failed and what it said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Source(String),
    #[error("{0}")]
    Sink(String),
    #[error("{0}")]
    Footprints(String),
}

/// What a progress line shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub elapsed: Duration,
    pub snapshots: u64,
    /// Regions in the latest snapshot.
    pub regions: usize,
    /// Bytes the file holds so far.
    pub bytes: u64,
}

/// How a recording runs.
pub struct Plan<'a> {
    pub duration: Option<Duration>,
    /// The target processes, whose exit ends the recording; empty for physical memory.
    pub pids: &'a [u32],
    /// Whether a process still runs.
    pub alive: &'a dyn Fn(u32) -> bool,
    /// Set by the signal handlers.
    pub stop: &'a AtomicBool,
    /// Pause between polls of the source.
    pub poll_interval: Duration,
}

/// How often the footprint is sampled and the targets are looked for: damo samples the
/// footprint once a second.
const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);
/// After the last target exits, the kdamond still reports the aggregation it was in; wait
/// this long for it before the last poll.
const DRAIN_GRACE: Duration = Duration::from_millis(300);

/// Runs a recording until it ends; every aggregation the source yielded is in the sink.
pub fn record(
    plan: &Plan<'_>,
    source: &mut dyn Source,
    sink: &mut dyn Sink,
    mut footprints: Option<&mut dyn Footprints>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Ending, Progress), Failure> {
    let started = Instant::now();
    let mut batch = Vec::new();
    let mut shown = Progress::default();
    let mut next_sample = started;
    let ending = loop {
        let now = Instant::now();
        let ending = if plan.stop.load(Ordering::Relaxed) {
            Some(Ending::Signal)
        } else if plan.duration.is_some_and(|d| now.duration_since(started) >= d) {
            Some(Ending::Duration)
        } else {
            None
        };
        if now >= next_sample {
            next_sample += SAMPLE_INTERVAL;
            let live: Vec<u32> = plan.pids.iter().copied().filter(|p| (plan.alive)(*p)).collect();
            if let Some(f) = footprints.as_deref_mut() {
                let time_s = now.duration_since(started).as_secs_f64();
                f.sample(&live, time_s).map_err(Failure::Footprints)?;
            }
            if ending.is_none() && !plan.pids.is_empty() && live.is_empty() {
                std::thread::sleep(DRAIN_GRACE);
                drain(source, sink, &mut batch, &mut shown)?;
                break Ending::TargetsExited;
            }
        }
        drain(source, sink, &mut batch, &mut shown)?;
        shown.elapsed = started.elapsed();
        progress(&shown);
        if let Some(ending) = ending {
            break ending;
        }
        let until_end = plan
            .duration
            .map_or(plan.poll_interval, |d| d.saturating_sub(started.elapsed()));
        std::thread::sleep(plan.poll_interval.min(until_end));
    };
    shown.elapsed = started.elapsed();
    Ok((ending, shown))
}

fn drain(
    source: &mut dyn Source,
    sink: &mut dyn Sink,
    batch: &mut Vec<Aggregation>,
    shown: &mut Progress,
) -> Result<(), Failure> {
    batch.clear();
    source.poll(batch).map_err(Failure::Source)?;
    for aggregation in batch.iter() {
        sink.push(aggregation).map_err(Failure::Sink)?;
        shown.snapshots += 1;
        shown.regions = aggregation.regions.len();
    }
    shown.bytes = sink.bytes_written();
    Ok(())
}

impl Source for super::trace::Instance {
    fn poll(&mut self, out: &mut Vec<Aggregation>) -> Result<(), String> {
        super::trace::Instance::poll(self, out).map_err(|e| e.to_string())
    }
}

impl Source for super::tried::TriedRegions<'_> {
    fn poll(&mut self, out: &mut Vec<Aggregation>) -> Result<(), String> {
        super::tried::TriedRegions::poll(self, out).map_err(|e| e.to_string())
    }
}

impl Sink for super::file::RecordWriter {
    fn push(&mut self, aggregation: &Aggregation) -> Result<(), String> {
        super::file::RecordWriter::push(self, aggregation).map_err(|e| e.to_string())
    }

    fn bytes_written(&self) -> u64 {
        super::file::RecordWriter::bytes_written(self)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::record::Region;

    /// Yields one aggregation per poll, failing at poll `fail_at` if set.
    struct Ticks {
        polls: u64,
        fail_at: Option<u64>,
    }

    impl Source for Ticks {
        fn poll(&mut self, out: &mut Vec<Aggregation>) -> Result<(), String> {
            self.polls += 1;
            if Some(self.polls) == self.fail_at {
                return Err("trace_pipe: read failed".into());
            }
            out.push(Aggregation {
                target_id: 0,
                end_ns: self.polls * 1_000_000,
                regions: vec![Region {
                    start: 0,
                    end: 4096,
                    nr_accesses: 1,
                    age_aggrs: 2,
                }],
            });
            Ok(())
        }
    }

    #[derive(Default)]
    struct Kept {
        ends: Vec<u64>,
        fail_after: Option<usize>,
    }

    impl Sink for Kept {
        fn push(&mut self, a: &Aggregation) -> Result<(), String> {
            if self.fail_after == Some(self.ends.len()) {
                return Err("damon.data: No space left on device".into());
            }
            self.ends.push(a.end_ns);
            Ok(())
        }

        fn bytes_written(&self) -> u64 {
            8 * self.ends.len() as u64
        }
    }

    #[derive(Default)]
    struct Samples(Vec<(Vec<u32>, f64)>);

    impl Footprints for Samples {
        fn sample(&mut self, pids: &[u32], time_s: f64) -> Result<(), String> {
            self.0.push((pids.to_vec(), time_s));
            Ok(())
        }
    }

    fn plan<'a>(pids: &'a [u32], alive: &'a dyn Fn(u32) -> bool, stop: &'a AtomicBool) -> Plan<'a> {
        Plan {
            duration: None,
            pids,
            alive,
            stop,
            poll_interval: Duration::from_millis(5),
        }
    }

    #[test]
    fn the_duration_ends_it_with_every_aggregation_kept_in_order() {
        let stop = AtomicBool::new(false);
        let alive = |_| true;
        let mut p = plan(&[7], &alive, &stop);
        p.duration = Some(Duration::from_millis(60));
        let (mut source, mut sink) = (
            Ticks {
                polls: 0,
                fail_at: None,
            },
            Kept::default(),
        );
        let mut lines = 0;
        let (ending, progress) = record(&p, &mut source, &mut sink, None, &mut |_| lines += 1).unwrap();
        assert_eq!(ending, Ending::Duration);
        assert!(progress.elapsed >= Duration::from_millis(60));
        assert_eq!(sink.ends.len() as u64, source.polls, "nothing polled is lost");
        assert_eq!(progress.snapshots, source.polls);
        assert!(sink.ends.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(progress.regions, 1);
        assert_eq!(progress.bytes, 8 * progress.snapshots, "the sink's count, as it grew");
        assert!(lines > 1);
    }

    #[test]
    fn a_signal_ends_it() {
        let stop = AtomicBool::new(false);
        let alive = |_| true;
        let p = plan(&[7], &alive, &stop);
        let mut source = Ticks {
            polls: 0,
            fail_at: None,
        };
        let mut sink = Kept::default();
        let mut calls = 0;
        let (ending, _) = record(&p, &mut source, &mut sink, None, &mut |_| {
            calls += 1;
            if calls == 3 {
                stop.store(true, Ordering::Relaxed);
            }
        })
        .unwrap();
        assert_eq!(ending, Ending::Signal);
        assert_eq!(sink.ends.len(), 4, "the poll after the signal is still kept");
    }

    #[test]
    fn every_target_exiting_ends_it_after_a_last_poll() {
        let stop = AtomicBool::new(false);
        let checks = Cell::new(0);
        // The process runs at the first check only.
        let alive = |_| {
            checks.set(checks.get() + 1);
            checks.get() == 1
        };
        let p = plan(&[7], &alive, &stop);
        let (mut source, mut sink) = (
            Ticks {
                polls: 0,
                fail_at: None,
            },
            Kept::default(),
        );
        let mut samples = Samples::default();
        let (ending, progress) = record(&p, &mut source, &mut sink, Some(&mut samples), &mut |_| {}).unwrap();
        assert_eq!(ending, Ending::TargetsExited);
        assert_eq!(sink.ends.len() as u64, source.polls);
        assert_eq!(progress.snapshots, source.polls);
        assert_eq!(
            samples.0.len(),
            2,
            "one sample a second: at the start and when it ended"
        );
        assert_eq!(samples.0[0].0, vec![7]);
        assert!(samples.0[1].0.is_empty(), "a gone process is not sampled");
        assert!(samples.0[1].1 >= 1.0);
    }

    #[test]
    fn physical_memory_has_no_process_to_wait_for() {
        let stop = AtomicBool::new(false);
        let alive = |_| false;
        let mut p = plan(&[], &alive, &stop);
        p.duration = Some(Duration::from_millis(30));
        let (ending, _) = record(
            &p,
            &mut Ticks {
                polls: 0,
                fail_at: None,
            },
            &mut Kept::default(),
            None,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(ending, Ending::Duration);
    }

    #[test]
    fn a_source_or_sink_error_ends_it_with_that_error() {
        let stop = AtomicBool::new(false);
        let alive = |_| true;
        let p = plan(&[7], &alive, &stop);
        let failure = record(
            &p,
            &mut Ticks {
                polls: 0,
                fail_at: Some(3),
            },
            &mut Kept::default(),
            None,
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(failure, Failure::Source("trace_pipe: read failed".into()));
        let mut sink = Kept {
            fail_after: Some(2),
            ..Kept::default()
        };
        let failure = record(
            &p,
            &mut Ticks {
                polls: 0,
                fail_at: None,
            },
            &mut sink,
            None,
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(failure, Failure::Sink("damon.data: No space left on device".into()));
        assert_eq!(sink.ends.len(), 2);
    }
}
