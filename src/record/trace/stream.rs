//! From the bytes of `trace_pipe` to whole [`Aggregation`]s.
//!
//! The kernel emits one event per region, target after target, at the end of every
//! aggregation interval; each event carries its target's `nr_regions`. Bytes arrive in
//! reads of any size, so a line may be cut between two reads and one target's events may
//! span many reads: both carry over. An aggregation is complete when `nr_regions` events of
//! one target have arrived in address order. A lost-events report, a change of target or of
//! `nr_regions`, or an address going back before all are in means events went missing: the
//! incomplete aggregation is dropped and counted, never passed on as if it were whole.

use super::parse::{Event, Line, LineParser};
use crate::record::{Aggregation, Region};

/// A line longer than this without a newline is not the kernel's: dropped, not buffered.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// Regions reserved up front for one aggregation: enough for DAMON's usual maximum of
/// 1,000 without growing, without trusting a huge `nr_regions` from a damaged line.
const MAX_RESERVED_REGIONS: usize = 4096;

/// What the stream held besides complete aggregations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Events the kernel reported lost (`[LOST n EVENTS]`).
    pub lost_events: u64,
    /// Lost-event reports without a count (`[LOST EVENTS]`).
    pub lost_reports_uncounted: u64,
    /// Aggregations begun but never completed (events of them went missing).
    pub incomplete_aggregations: u64,
    /// Lines that were neither the event nor a lost-events report.
    pub unrecognised_lines: u64,
}

/// Parses and groups a byte stream; feed it reads in order.
#[derive(Default)]
pub struct StreamParser {
    lines: LineParser,
    /// The start of a line whose end has not arrived yet.
    partial_line: Vec<u8>,
    /// Inside a line too long to be the kernel's: its bytes are dropped up to its newline.
    skipping_overlong_line: bool,
    pending: Option<Pending>,
    stats: StreamStats,
}

/// One target's events of the aggregation being received.
struct Pending {
    target_id: u64,
    nr_regions: u32,
    end_ns: u64,
    regions: Vec<Region>,
}

impl StreamParser {
    pub fn stats(&self) -> StreamStats {
        self.stats
    }

    /// Consumes `bytes`, appending every aggregation they complete to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<Aggregation>) {
        if !self.partial_line.is_empty() || self.skipping_overlong_line {
            let Some(newline) = memchr::memchr(b'\n', bytes) else {
                self.keep_partial(bytes);
                return;
            };
            self.keep_partial(&bytes[..newline]);
            if !self.skipping_overlong_line {
                let line = std::mem::take(&mut self.partial_line);
                self.line(&line, out);
                // Hand the buffer back so that its capacity is reused.
                self.partial_line = line;
                self.partial_line.clear();
            }
            self.skipping_overlong_line = false;
            bytes = &bytes[newline + 1..];
        }
        let mut line_start = 0;
        for newline in memchr::memchr_iter(b'\n', bytes) {
            self.line(&bytes[line_start..newline], out);
            line_start = newline + 1;
        }
        self.keep_partial(&bytes[line_start..]);
    }

    fn keep_partial(&mut self, bytes: &[u8]) {
        if self.skipping_overlong_line {
            return;
        }
        if self.partial_line.len() + bytes.len() > MAX_LINE_BYTES {
            self.partial_line.clear();
            self.skipping_overlong_line = true;
            self.stats.unrecognised_lines += 1;
            return;
        }
        self.partial_line.extend_from_slice(bytes);
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<Aggregation>) {
        match self.lines.parse(line) {
            Line::Event(event) => self.event(event, out),
            Line::Lost(count) => {
                match count {
                    Some(n) => self.stats.lost_events += n,
                    None => self.stats.lost_reports_uncounted += 1,
                }
                self.drop_pending();
            }
            Line::Unrecognised => self.stats.unrecognised_lines += 1,
        }
    }

    fn event(&mut self, event: Event, out: &mut Vec<Aggregation>) {
        let continues = self.pending.as_ref().is_some_and(|p| {
            p.target_id == event.target_id
                && p.nr_regions == event.nr_regions
                && p.regions.last().is_none_or(|last| event.region.start >= last.end)
        });
        if !continues {
            self.drop_pending();
        }
        let pending = self.pending.get_or_insert_with(|| Pending {
            target_id: event.target_id,
            nr_regions: event.nr_regions,
            // The kernel emits a target's events back to back when the aggregation ends:
            // the first one's time is the end of the interval.
            end_ns: event.timestamp_ns,
            regions: Vec::with_capacity((event.nr_regions as usize).min(MAX_RESERVED_REGIONS)),
        });
        pending.regions.push(event.region);
        if pending.regions.len() == pending.nr_regions as usize {
            let done = self.pending.take().expect("just filled");
            out.push(Aggregation {
                target_id: done.target_id,
                end_ns: done.end_ns,
                regions: done.regions,
            });
        }
    }

    fn drop_pending(&mut self) {
        if self.pending.take().is_some() {
            self.stats.incomplete_aggregations += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's lines for one target's aggregation: regions of 4 KiB from `base`.
    fn aggregation_lines(seconds: u64, target_id: u64, base: u64, nr_regions: u32) -> String {
        (0..u64::from(nr_regions))
            .map(|i| {
                let start = base + i * 4096;
                format!(
                    "       kdamond.0-321     [000] ..... {seconds:>5}.000100: damon_aggregated: \
                     target_id={target_id} nr_regions={nr_regions} {start}-{}: {} {}\n",
                    start + 4096,
                    i % 20,
                    i
                )
            })
            .collect()
    }

    fn feed_all(parser: &mut StreamParser, chunks: &[&[u8]]) -> Vec<Aggregation> {
        let mut out = Vec::new();
        for chunk in chunks {
            parser.feed(chunk, &mut out);
        }
        out
    }

    #[test]
    fn one_target_split_at_every_byte_boundary() {
        let text = aggregation_lines(5, 0, 1 << 20, 3) + &aggregation_lines(6, 0, 1 << 20, 3);
        let whole = feed_all(&mut StreamParser::default(), &[text.as_bytes()]);
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0].end_ns, 5_000_100_000);
        assert_eq!(whole[1].end_ns, 6_000_100_000);
        assert_eq!(
            whole[0].regions[2],
            Region {
                start: (1 << 20) + 8192,
                end: (1 << 20) + 12288,
                nr_accesses: 2,
                age_aggrs: 2,
            }
        );
        for cut in 0..text.len() {
            let (a, b) = text.as_bytes().split_at(cut);
            let mut parser = StreamParser::default();
            assert_eq!(feed_all(&mut parser, &[a, b]), whole, "cut at {cut}");
            assert_eq!(parser.stats(), StreamStats::default());
        }
    }

    #[test]
    fn an_aggregation_completes_only_with_its_last_region() {
        let text = aggregation_lines(1, 0, 0, 4);
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut parser = StreamParser::default();
        let mut out = Vec::new();
        for line in &lines[..3] {
            parser.feed(line.as_bytes(), &mut out);
            assert!(out.is_empty());
        }
        parser.feed(lines[3].as_bytes(), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].regions.len(), 4);
    }

    #[test]
    fn several_targets_one_aggregation_each() {
        let text =
            aggregation_lines(2, 0, 0, 2) + &aggregation_lines(2, 1, 1 << 30, 3) + &aggregation_lines(2, 2, 1 << 40, 1);
        let out = feed_all(&mut StreamParser::default(), &[text.as_bytes()]);
        let shape: Vec<(u64, usize)> = out.iter().map(|a| (a.target_id, a.regions.len())).collect();
        assert_eq!(shape, [(0, 2), (1, 3), (2, 1)]);
    }

    #[test]
    fn lost_events_drop_the_aggregation_they_cut() {
        let first = aggregation_lines(1, 0, 0, 4);
        let cut: String = first.split_inclusive('\n').take(2).collect();
        let text = cut + "CPU:0 [LOST 9 EVENTS]\n" + &aggregation_lines(2, 0, 0, 4);
        let mut parser = StreamParser::default();
        let out = feed_all(&mut parser, &[text.as_bytes()]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].end_ns, 2_000_100_000);
        let stats = parser.stats();
        assert_eq!((stats.lost_events, stats.incomplete_aggregations), (9, 1));
    }

    #[test]
    fn a_silent_loss_is_caught_by_the_address_going_back() {
        // The tail of the first aggregation and the head of the second are gone without a
        // report; the third is whole.
        let first: String = aggregation_lines(1, 0, 0, 4).split_inclusive('\n').take(2).collect();
        let second: String = aggregation_lines(2, 0, 0, 4).split_inclusive('\n').skip(3).collect();
        let text = first + &second + &aggregation_lines(3, 0, 0, 4);
        let mut parser = StreamParser::default();
        let out = feed_all(&mut parser, &[text.as_bytes()]);
        assert_eq!(out.iter().map(|a| a.end_ns).collect::<Vec<_>>(), [3_000_100_000]);
        assert_eq!(parser.stats().incomplete_aggregations, 1);
    }

    #[test]
    fn other_lines_are_counted_and_skipped() {
        let text = "garbage\n".to_owned() + &aggregation_lines(1, 0, 0, 1);
        let mut parser = StreamParser::default();
        assert_eq!(feed_all(&mut parser, &[text.as_bytes()]).len(), 1);
        assert_eq!(parser.stats().unrecognised_lines, 1);
    }

    #[test]
    fn an_endless_line_is_not_buffered() {
        let mut parser = StreamParser::default();
        let junk = vec![b'x'; MAX_LINE_BYTES / 2 + 1];
        let tail = aggregation_lines(1, 0, 0, 1);
        let out = feed_all(&mut parser, &[&junk, &junk, b"\n", tail.as_bytes()]);
        assert_eq!(out.len(), 1);
        assert_eq!(parser.stats().unrecognised_lines, 1);
        assert!(parser.partial_line.capacity() <= MAX_LINE_BYTES);
    }
}
