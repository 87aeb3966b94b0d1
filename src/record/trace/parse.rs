//! One line of a tracefs `trace_pipe` carrying DAMON's `damon_aggregated` event.
//!
//! The kernel prints (kernels 6.12 through 7.x, `include/trace/events/damon.h`)
//!
//! ```text
//!        kdamond.0-1234    [001] d..1.   523.250012: damon_aggregated: target_id=0 nr_regions=3 4096-8192: 5 12
//! ```
//!
//! that is the task name and pid, the cpu, the flags (whose width depends on the kernel and
//! on the instance's options, and which may be absent), the timestamp, the event name, then
//! `target_id=%lu nr_regions=%u %lu-%lu: %u %u` (start, end, nr_accesses, age). `target_id`
//! is the target's index within its DAMON context, not a pid. Fields a later kernel appends
//! after `age` are ignored. The parser anchors on the event name rather than on column
//! positions, since task names may hold spaces and dashes and the columns vary.
//!
//! It allocates nothing and uses no regular expressions: a recording of 1,000 regions every
//! 100 ms is 10,000 lines a second for as long as it runs.

use memchr::memmem::Finder;

use crate::record::Region;

/// What a line of the pipe holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Event(Event),
    /// `CPU:N [LOST k EVENTS]`: the ring buffer overflowed; `None` when the kernel could
    /// not count them (`[LOST EVENTS]`).
    Lost(Option<u64>),
    /// Anything else (another event, a format this parser does not know).
    Unrecognised,
}

/// One region of one target at the end of one aggregation interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// The event's timestamp: nanoseconds for the kernel's time clocks (printed as
    /// `seconds.microseconds`), the raw count for counter clocks.
    pub timestamp_ns: u64,
    pub target_id: u64,
    pub nr_regions: u32,
    pub region: Region,
}

const EVENT_MARKER: &[u8] = b": damon_aggregated: ";

/// Parses lines; holds the precomputed search for the event name.
pub struct LineParser {
    marker: Finder<'static>,
}

impl Default for LineParser {
    fn default() -> Self {
        Self {
            marker: Finder::new(EVENT_MARKER),
        }
    }
}

impl LineParser {
    /// Parses one line, without its newline.
    pub fn parse(&self, line: &[u8]) -> Line {
        let Some(at) = self.marker.find(line) else {
            return lost_count(line).map_or(Line::Unrecognised, Line::Lost);
        };
        let (Some(timestamp_ns), Some(event)) = (timestamp_ns(&line[..at]), fields(&line[at + EVENT_MARKER.len()..]))
        else {
            return Line::Unrecognised;
        };
        Line::Event(Event { timestamp_ns, ..event })
    }
}

/// The timestamp: the last word before the event marker.
fn timestamp_ns(head: &[u8]) -> Option<u64> {
    let start = head.iter().rposition(|&b| b == b' ').map_or(0, |i| i + 1);
    let word = &head[start..];
    match word.iter().position(|&b| b == b'.') {
        None => Cursor(word).whole_number(),
        Some(dot) => {
            let seconds = Cursor(&word[..dot]).whole_number()?;
            let fraction = &word[dot + 1..];
            if fraction.is_empty() || fraction.len() > 9 {
                return None;
            }
            let scale = 10u64.pow(9 - fraction.len() as u32);
            let fraction_ns = Cursor(fraction).whole_number()? * scale;
            seconds.checked_mul(1_000_000_000)?.checked_add(fraction_ns)
        }
    }
}

/// `target_id=%lu nr_regions=%u %lu-%lu: %u %u`, then anything.
fn fields(text: &[u8]) -> Option<Event> {
    let mut c = Cursor(text);
    c.expect(b"target_id=")?;
    let target_id = c.number()?;
    c.expect(b" nr_regions=")?;
    let nr_regions = u32::try_from(c.number()?).ok()?;
    c.expect(b" ")?;
    let start = c.number()?;
    c.expect(b"-")?;
    let end = c.number()?;
    c.expect(b": ")?;
    let nr_accesses = u32::try_from(c.number()?).ok()?;
    c.expect(b" ")?;
    let age_aggrs = u32::try_from(c.number()?).ok()?;
    if !(c.0.is_empty() || c.0[0] == b' ') || nr_regions == 0 {
        return None;
    }
    Some(Event {
        timestamp_ns: 0,
        target_id,
        nr_regions,
        region: Region {
            start,
            end,
            nr_accesses,
            age_aggrs,
        },
    })
}

/// `CPU:%d [LOST %lu EVENTS]` or `CPU:%d [LOST EVENTS]`, as `trace_pipe` reports an overrun.
fn lost_count(line: &[u8]) -> Option<Option<u64>> {
    let at = memchr::memmem::find(line, b"[LOST ")?;
    if !line.starts_with(b"CPU:") {
        return None;
    }
    let mut c = Cursor(&line[at + b"[LOST ".len()..]);
    if c.expect(b"EVENTS]").is_some() {
        return Some(None);
    }
    let count = c.number()?;
    c.expect(b" EVENTS]")?;
    Some(Some(count))
}

/// A read position in a line.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn expect(&mut self, literal: &[u8]) -> Option<()> {
        self.0 = self.0.strip_prefix(literal)?;
        Some(())
    }

    /// A decimal number of at least one digit; `None` on overflow.
    fn number(&mut self) -> Option<u64> {
        let digits = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let mut value: u64 = 0;
        for &b in &self.0[..digits] {
            value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        self.0 = &self.0[digits..];
        Some(value)
    }

    /// The whole remaining text as a decimal number.
    fn whole_number(&mut self) -> Option<u64> {
        let value = self.number()?;
        self.0.is_empty().then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Line {
        LineParser::default().parse(line.as_bytes())
    }

    fn event(timestamp_ns: u64, target_id: u64, nr_regions: u32, region: [u64; 4]) -> Line {
        Line::Event(Event {
            timestamp_ns,
            target_id,
            nr_regions,
            region: Region {
                start: region[0],
                end: region[1],
                nr_accesses: region[2] as u32,
                age_aggrs: region[3] as u32,
            },
        })
    }

    #[test]
    fn the_kernels_line_with_five_flag_columns() {
        assert_eq!(
            parse(
                "       kdamond.0-1234    [001] d..1.   523.250012: damon_aggregated: \
                 target_id=0 nr_regions=3 94371840000-94476697600: 5 12"
            ),
            event(523_250_012_000, 0, 3, [94_371_840_000, 94_476_697_600, 5, 12])
        );
    }

    #[test]
    fn older_flags_no_flags_and_the_tgid_column() {
        let expected = event(7_000_001_000, 1, 2, [4096, 8192, 0, 0]);
        for head in [
            "kdamond.0-99 [000] ....     7.000001",
            "kdamond.0-99 [000]     7.000001",
            "kdamond.0-99 (     99) [000] .N... 7.000001",
        ] {
            let line = format!("{head}: damon_aggregated: target_id=1 nr_regions=2 4096-8192: 0 0");
            assert_eq!(parse(&line), expected, "{head}");
        }
    }

    #[test]
    fn task_names_with_spaces_dashes_and_the_event_name_itself() {
        for task in ["my worker-thread", "a-b-c", "x: damon_aggregated", "-"] {
            let line = format!("  {task}-42 [003] ..... 1.5: damon_aggregated: target_id=2 nr_regions=1 0-4096: 20 3");
            assert_eq!(parse(&line), event(1_500_000_000, 2, 1, [0, 4096, 20, 3]), "{task}");
        }
    }

    #[test]
    fn counter_clocks_and_nanosecond_fractions() {
        let tail = ": damon_aggregated: target_id=0 nr_regions=1 0-4096: 1 1";
        assert_eq!(
            parse(&format!("k-1 [000] ..... 123456789{tail}")),
            event(123_456_789, 0, 1, [0, 4096, 1, 1])
        );
        assert_eq!(
            parse(&format!("k-1 [000] ..... 2.000000003{tail}")),
            event(2_000_000_003, 0, 1, [0, 4096, 1, 1])
        );
    }

    #[test]
    fn fields_a_later_kernel_appends_are_ignored() {
        assert_eq!(
            parse(
                "kdamond.0-5 [000] ..... 3.000000: damon_aggregated: \
                 target_id=0 nr_regions=1 0-4096: 1 2 8192 17 -1"
            ),
            event(3_000_000_000, 0, 1, [0, 4096, 1, 2])
        );
    }

    #[test]
    fn lost_events() {
        assert_eq!(parse("CPU:1 [LOST 250 EVENTS]"), Line::Lost(Some(250)));
        assert_eq!(parse("CPU:0 [LOST EVENTS]"), Line::Lost(None));
    }

    #[test]
    fn malformed_lines_are_unrecognised() {
        for line in [
            "",
            "# tracer: nop",
            "kdamond.0-5 [000] ..... 3.000000: damos_before_apply: ctx_idx=0 scheme_idx=0",
            "kdamond.0-5 [000] ..... 3.000000: damon_aggregated: target_id=0 nr_regions=1 0-4096: 1",
            "kdamond.0-5 [000] ..... 3.000000: damon_aggregated: target_id=0 nr_regions=1 0-4096: 1 2x",
            "kdamond.0-5 [000] ..... 3.000000: damon_aggregated: target_id=0 nr_regions=0 0-4096: 1 2",
            "kdamond.0-5 [000] ..... 3.: damon_aggregated: target_id=0 nr_regions=1 0-4096: 1 2",
            "kdamond.0-5 [000] ..... x: damon_aggregated: target_id=0 nr_regions=1 0-4096: 1 2",
            "kdamond.0-5 [000] ..... 3.0: damon_aggregated: target_id=0 nr_regions=1 0-99999999999999999999: 1 2",
            "kdamond.0-5 [000] ..... 3.0: damon_aggregated: target_id=0 nr_regions=1 0-4096: 4294967296 2",
            "CPU:0 [LOST many EVENTS]",
            "kdamond [LOST 3 EVENTS]",
        ] {
            assert_eq!(parse(line), Line::Unrecognised, "{line:?}");
        }
    }
}
