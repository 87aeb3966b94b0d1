//! `damo-workload`: a process with known memory access patterns, for end-to-end tests of
//! DAMON policies (in the spirit of damo's `masim`).
//!
//! ```text
//! damo-workload [--name NAME] [--cold SIZE]... [--hot SIZE]... [--cools-after SIZE:DURATION]...
//!               [--phased SIZE:DURATION]... [--gap SIZE]... [--report-every DURATION]
//!               [--report-file PATH] [--duration DURATION]
//! ```
//!
//! - `--cold SIZE`: a region whose pages are each written once at start, then never touched.
//! - `--hot SIZE`: a region whose pages are all written again and again for the whole run.
//! - `--cools-after SIZE:DURATION`: hot until DURATION after start, then left alone (cold).
//! - `--phased SIZE:DURATION`: the `--phased` regions take turns being hot, in the order
//!   given, each for its DURATION, then round again (as damo's own test workloads do); the
//!   others are left alone meanwhile. Two of them, e.g.
//!   `--phased 100M:2s --gap 64M --phased 100M:2s`, give a recording whose hot range moves
//!   every two seconds, at sizes DAMON tells apart within a few aggregations.
//! - `--gap SIZE`: SIZE of address space between the regions given before and after it that
//!   stays unmapped (reserved while the regions are allocated, then freed), as between a real
//!   program's mappings. DAMON's regions then meet an unmapped hole, not each other, where a
//!   cold region borders a hot one: a random split anywhere in the hole separates them.
//!
//! Sizes take `K`, `M`, `G` suffixes (powers of 1024); durations `ms`, `s`, `m` (bare = seconds).
//! The process runs until `--duration` elapses, or until it is killed.
//!
//! **Process name.** `--name NAME` writes `/proc/self/comm`, the name that `ps`, `pidof` and
//! process-name policies see (the kernel truncates it to 15 bytes). Running the binary through a
//! symlink or copy with the wanted file name gives the same result, since the kernel takes the
//! initial comm from the executed file's name.
//!
//! **Reports.** Once every cold region is written it prints `READY pid=<pid> name=<comm>`. With
//! `--report-every`, it prints a line
//! `REPORT name=<comm> t=<secs> rss_kib=<VmRSS> swap_kib=<VmSwap> <region>_kib=… <region>_resident_kib=… <region>_swap_kib=…`
//! per period, regions being named `cold0`, `hot0`, `cooling0`, …; per-region figures come from
//! `/proc/self/pagemap`. `--report-file PATH` also keeps the latest line in PATH (replaced
//! atomically, so readers never see half a line). Reports are periodic only: std has no safe way
//! to handle SIGUSR1.
//!
//! **Phases.** With `--phased` regions, each region's addresses are printed before READY as
//! `REGION label=<region> start=0x<hex> end=0x<hex>`, a line `PHASE t=<secs> hot=<region>` is
//! printed whenever the turn passes (the first at t=0.0), and reports end with
//! `phase=<region>`, the region hot when the report was made.

use std::fmt::Write as _;
use std::fs;
use std::hint::black_box;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::process::ExitCode;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// x86_64 base page size; the pagemap has one 8-byte entry per page of this size.
const PAGE: usize = 4096;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Cold,
    Hot,
    Cooling,
    /// Hot during its turn of the cycle of phased regions.
    Phased,
    /// Not a region: address space left unmapped between its neighbours.
    Gap,
}

struct Region {
    label: String,
    kind: Kind,
    /// Backing storage, one page larger than asked so that a page-aligned window fits.
    buf: Vec<u8>,
    /// Start of the page-aligned window inside `buf`.
    offset: usize,
    len: usize,
    /// For `Cooling`: time after start when the region stops being touched; for `Phased`:
    /// the length of its turn.
    duration: Duration,
    /// For `Phased`: when its turn starts within the cycle.
    turn_offset: Duration,
}

impl Region {
    fn new(label: String, kind: Kind, len: usize, duration: Duration) -> Self {
        // Zeroed allocations of this size are fresh anonymous mappings: no page is resident
        // before the first write below.
        let buf = vec![0u8; len + PAGE];
        let addr = buf.as_ptr() as usize;
        let offset = (PAGE - addr % PAGE) % PAGE;
        Self {
            label,
            kind,
            buf,
            offset,
            len,
            duration,
            turn_offset: Duration::ZERO,
        }
    }

    /// Writes one byte in every page, which marks each page accessed (and dirty).
    fn touch(&mut self) {
        let window = &mut self.buf[self.offset..self.offset + self.len];
        for i in (0..window.len()).step_by(PAGE) {
            window[i] = window[i].wrapping_add(1);
        }
        black_box(window);
    }

    /// `cycle`: the sum of every phased region's turn.
    fn is_hot(&self, elapsed: Duration, cycle: Duration) -> bool {
        match self.kind {
            Kind::Cold => false,
            Kind::Hot => true,
            Kind::Cooling => elapsed < self.duration,
            Kind::Phased => {
                let at = Duration::from_nanos((elapsed.as_nanos() % cycle.as_nanos()) as u64);
                self.turn_offset <= at && at < self.turn_offset + self.duration
            }
            Kind::Gap => false,
        }
    }

    fn address_range(&self) -> (usize, usize) {
        let start = self.buf.as_ptr() as usize + self.offset;
        (start, start + self.len)
    }

    /// Resident and swapped bytes of the window, from the pagemap's present (63) and swapped (62) bits.
    fn residency(&self, pagemap: &mut fs::File) -> std::io::Result<(usize, usize)> {
        let start = self.buf.as_ptr() as usize + self.offset;
        let mut entries = vec![0u8; self.len / PAGE * 8];
        pagemap.seek(SeekFrom::Start((start / PAGE * 8) as u64))?;
        pagemap.read_exact(&mut entries)?;
        let (mut resident, mut swapped) = (0, 0);
        for entry in entries.chunks_exact(8) {
            let bits = u64::from_le_bytes(entry.try_into().expect("chunks of 8"));
            if bits >> 63 & 1 == 1 {
                resident += PAGE;
            } else if bits >> 62 & 1 == 1 {
                swapped += PAGE;
            }
        }
        Ok((resident, swapped))
    }
}

struct Options {
    name: Option<String>,
    regions: Vec<(Kind, usize, Duration)>,
    report_every: Option<Duration>,
    report_file: Option<PathBuf>,
    duration: Option<Duration>,
}

fn parse_size(text: &str) -> Result<usize, String> {
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let shift = match unit {
        "" => 0,
        "K" | "k" | "KiB" => 10,
        "M" | "m" | "MiB" => 20,
        "G" | "g" | "GiB" => 30,
        _ => return Err(format!("bad size unit in {text:?} (use K, M or G)")),
    };
    let n: usize = digits.parse().map_err(|_| format!("bad size {text:?}"))?;
    let bytes = n << shift;
    if bytes == 0 || !bytes.is_multiple_of(PAGE) {
        return Err(format!("size {text:?} must be a non-zero multiple of {PAGE} bytes"));
    }
    Ok(bytes)
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("bad duration {text:?} (e.g. 500ms, 10s, 2m)");
    let (number, scale_ms) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000)
    } else {
        (text, 1000)
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    Ok(Duration::from_millis(n * scale_ms))
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut opts = Options {
        name: None,
        regions: Vec::new(),
        report_every: None,
        report_file: None,
        duration: None,
    };
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--name" => opts.name = Some(value),
            "--cold" => opts.regions.push((Kind::Cold, parse_size(&value)?, Duration::ZERO)),
            "--hot" => opts.regions.push((Kind::Hot, parse_size(&value)?, Duration::ZERO)),
            "--cools-after" => {
                let (size, after) = value
                    .split_once(':')
                    .ok_or_else(|| format!("--cools-after wants SIZE:DURATION, got {value:?}"))?;
                opts.regions
                    .push((Kind::Cooling, parse_size(size)?, parse_duration(after)?));
            }
            "--phased" => {
                let (size, turn) = value
                    .split_once(':')
                    .ok_or_else(|| format!("--phased wants SIZE:DURATION, got {value:?}"))?;
                let turn = parse_duration(turn)?;
                if turn.is_zero() {
                    return Err(format!("--phased {value}: the turn must be longer than zero"));
                }
                opts.regions.push((Kind::Phased, parse_size(size)?, turn));
            }
            "--gap" => opts.regions.push((Kind::Gap, parse_size(&value)?, Duration::ZERO)),
            "--report-every" => opts.report_every = Some(parse_duration(&value)?),
            "--report-file" => opts.report_file = Some(PathBuf::from(value)),
            "--duration" => opts.duration = Some(parse_duration(&value)?),
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    if opts.regions.iter().all(|(kind, _, _)| *kind == Kind::Gap) {
        return Err("give at least one of --cold, --hot, --cools-after, --phased".into());
    }
    Ok(opts)
}

/// A `kB` field of /proc/self/status (VmRSS, VmSwap), in KiB.
fn status_kib(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn comm() -> String {
    fs::read_to_string("/proc/self/comm")
        .map(|c| c.trim_end().to_string())
        .unwrap_or_default()
}

fn report(regions: &[Region], elapsed: Duration, phase: Option<&str>, file: Option<&PathBuf>) -> std::io::Result<()> {
    let status = fs::read_to_string("/proc/self/status")?;
    let mut line = format!(
        "REPORT name={} t={:.1} rss_kib={} swap_kib={}",
        comm(),
        elapsed.as_secs_f64(),
        status_kib(&status, "VmRSS"),
        status_kib(&status, "VmSwap"),
    );
    let mut pagemap = fs::File::open("/proc/self/pagemap")?;
    for r in regions {
        let (resident, swapped) = r.residency(&mut pagemap)?;
        let label = &r.label;
        write!(
            line,
            " {label}_kib={} {label}_resident_kib={} {label}_swap_kib={}",
            r.len / 1024,
            resident / 1024,
            swapped / 1024
        )
        .expect("writing to a String");
    }
    if let Some(phase) = phase {
        write!(line, " phase={phase}").expect("writing to a String");
    }
    println!("{line}");
    if let Some(path) = file {
        let tmp = path.with_extension("tmp");
        fs::write(&tmp, format!("{line}\n"))?;
        fs::rename(&tmp, path)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(opts) => opts,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("damo-workload: {msg}");
            }
            eprintln!(
                "usage: damo-workload [--name NAME] [--cold SIZE]... [--hot SIZE]... \
                 [--cools-after SIZE:DURATION]... [--phased SIZE:DURATION]... [--gap SIZE]... \
                 [--report-every DURATION] [--report-file PATH] [--duration DURATION]"
            );
            return if msg.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    if let Some(name) = &opts.name {
        // Set before anything else so that every later observer sees the final name.
        if let Err(err) = fs::write("/proc/self/comm", name) {
            eprintln!("damo-workload: cannot set process name to {name:?}: {err}");
            return ExitCode::FAILURE;
        }
    }

    let mut counts = [0usize; 5];
    let mut regions: Vec<Region> = opts
        .regions
        .iter()
        .map(|&(kind, len, duration)| {
            let (prefix, n) = match kind {
                Kind::Cold => ("cold", &mut counts[0]),
                Kind::Hot => ("hot", &mut counts[1]),
                Kind::Cooling => ("cooling", &mut counts[2]),
                Kind::Phased => ("phased", &mut counts[3]),
                Kind::Gap => ("gap", &mut counts[4]),
            };
            let label = format!("{prefix}{n}");
            *n += 1;
            Region::new(label, kind, len, duration)
        })
        .collect();
    // Allocations this large are mappings of their own, placed one after the other: freeing
    // a gap's (never touched) mapping leaves a hole between its neighbours.
    regions.retain(|r| r.kind != Kind::Gap);
    let mut cycle = Duration::ZERO;
    for region in regions.iter_mut().filter(|r| r.kind == Kind::Phased) {
        region.turn_offset = cycle;
        cycle += region.duration;
    }
    let phased = !cycle.is_zero();

    // Every region is written once up front, so all of it is resident when READY is printed.
    for region in &mut regions {
        region.touch();
    }
    if phased {
        for region in regions.iter().filter(|r| r.kind == Kind::Phased) {
            let (start, end) = region.address_range();
            println!("REGION label={} start={start:#x} end={end:#x}", region.label);
        }
    }
    let start = Instant::now();
    println!("READY pid={} name={}", std::process::id(), comm());

    let mut next_report = start;
    let mut hot_phase: Option<usize> = None;
    loop {
        let elapsed = start.elapsed();
        if opts.duration.is_some_and(|d| elapsed >= d) {
            return ExitCode::SUCCESS;
        }
        let phase_now = regions
            .iter()
            .position(|r| r.kind == Kind::Phased && r.is_hot(elapsed, cycle));
        if phase_now != hot_phase
            && let Some(index) = phase_now
        {
            println!("PHASE t={:.1} hot={}", elapsed.as_secs_f64(), regions[index].label);
            hot_phase = phase_now;
        }
        let mut any_hot = false;
        for region in regions.iter_mut().filter(|r| r.is_hot(elapsed, cycle)) {
            region.touch();
            any_hot = true;
        }
        if let Some(every) = opts.report_every
            && Instant::now() >= next_report
        {
            let phase = hot_phase.map(|index| regions[index].label.as_str());
            if let Err(err) = report(&regions, start.elapsed(), phase, opts.report_file.as_ref()) {
                eprintln!("damo-workload: report failed: {err}");
                return ExitCode::FAILURE;
            }
            next_report += every;
        }
        if any_hot {
            // No pause between passes: every sample DAMON takes of a hot page must find it
            // accessed, or a few idle-looking samples let hot and cold memory merge into one
            // region. Yielding still lets other work of the same CPU run.
            std::thread::yield_now();
        } else {
            // With nothing hot left only reports remain to do, so wake up rarely.
            sleep(Duration::from_millis(50));
        }
    }
}
