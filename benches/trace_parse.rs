//! Parse throughput of the tracepoint source: a synthetic `trace_pipe` stream of 36,000
//! aggregations of 1,000 regions (an hour at DAMON's 100 ms aggregation interval), fed in
//! the 4,095-byte reads the kernel's pipe returns, through line parsing and grouping into
//! aggregations.
//!
//! Baseline in the same run: splitting the same bytes, in the same reads, into lines and
//! nothing more — the floor for any reader of a line stream.
//!
//! `cargo bench --bench trace_parse` (`TRACE_AGGREGATIONS=N` to change the count).

use std::hint::black_box;
use std::time::{Duration, Instant};

use damo_policy::record::trace::StreamParser;

const REGIONS: u64 = 1000;
/// Distinct aggregations generated; the stream repeats them.
const DISTINCT: u64 = 100;
/// What one read(2) of `trace_pipe` returns at most (a page, less the terminator).
const READ_BYTES: usize = 4095;

/// DISTINCT aggregations of one target, as the kernel prints them.
fn stream() -> Vec<u8> {
    let mut text = String::new();
    for aggregation in 0..DISTINCT {
        let seconds = 500 + aggregation / 10;
        let micros = aggregation % 10 * 100_000 + 12;
        let mut start: u64 = 0x7f3a_1c00_0000;
        for region in 0..REGIONS {
            let end = start + 4096 * (1 + (region * 7919 + aggregation) % 512);
            text.push_str(&format!(
                "       kdamond.0-1234    [001] d..1. {seconds:5}.{micros:06}: damon_aggregated: \
                 target_id=0 nr_regions={REGIONS} {start}-{end}: {} {}\n",
                (region + aggregation) % 21,
                region % 300
            ));
            start = end;
        }
    }
    text.into_bytes()
}

fn parse(bytes: &[u8], repeats: u64) -> (Duration, u64) {
    let mut parser = StreamParser::default();
    let mut out = Vec::new();
    let mut aggregations = 0;
    let started = Instant::now();
    for _ in 0..repeats {
        for read in bytes.chunks(READ_BYTES) {
            parser.feed(read, &mut out);
            aggregations += out.len() as u64;
            // The recorder hands each aggregation to the writer and lets it go.
            out.clear();
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(parser.stats().incomplete_aggregations, 0);
    (elapsed, aggregations)
}

fn split_lines(bytes: &[u8], repeats: u64) -> (Duration, u64) {
    let mut lines = 0u64;
    let mut line_bytes = 0u64;
    let mut partial = 0usize;
    let started = Instant::now();
    for _ in 0..repeats {
        for read in black_box(bytes).chunks(READ_BYTES) {
            let mut line_start = 0;
            for newline in memchr::memchr_iter(b'\n', read) {
                line_bytes += (partial + newline - line_start) as u64;
                partial = 0;
                lines += 1;
                line_start = newline + 1;
            }
            partial += read.len() - line_start;
        }
    }
    black_box(line_bytes);
    (started.elapsed(), lines)
}

fn main() {
    let total: u64 = std::env::var("TRACE_AGGREGATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(36_000);
    let repeats = total.div_ceil(DISTINCT);
    let bytes = stream();
    let lines = repeats * DISTINCT * REGIONS;
    let megabytes = (bytes.len() as u64 * repeats) as f64 / 1e6;
    println!(
        "stream: {} aggregations x {REGIONS} regions = {lines} lines, {megabytes:.0} MB, in {READ_BYTES}-byte reads",
        repeats * DISTINCT
    );

    let (baseline, counted) = split_lines(&bytes, repeats);
    assert_eq!(counted, lines);
    let (parsing, aggregations) = parse(&bytes, repeats);
    assert_eq!(aggregations, repeats * DISTINCT);

    let rate = |d: Duration| lines as f64 / d.as_secs_f64();
    println!(
        "line split (baseline): {:>7.3} s  {:>6.1} M lines/s  {:>6.0} MB/s",
        baseline.as_secs_f64(),
        rate(baseline) / 1e6,
        megabytes / baseline.as_secs_f64()
    );
    println!(
        "parse + group:         {:>7.3} s  {:>6.1} M lines/s  {:>6.0} MB/s  ({:.1}x the baseline's time)",
        parsing.as_secs_f64(),
        rate(parsing) / 1e6,
        megabytes / parsing.as_secs_f64(),
        parsing.as_secs_f64() / baseline.as_secs_f64()
    );
    println!(
        "an hour of recording (1,000 regions every 100 ms) costs {:.2} s of parsing",
        parsing.as_secs_f64() * 36_000.0 / (repeats * DISTINCT) as f64
    );
}
