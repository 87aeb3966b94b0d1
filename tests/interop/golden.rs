//! damo's golden vectors (damonitor/damo `tests/unit/test_damo_scheme_dbgfs_conversion.py`,
//! once `tests/convert_schemes`): each line, translated and compiled with damo's default
//! intervals (5 ms / 100 ms / 1 s), writes the kernel values damo staged for it.
//!
//! Where damo's value is not what the kernel keeps, the test says so and checks that both
//! mean the same:
//! - damo computes in floats: its `max` access rate at 5/100 ms is 3689348814741910528
//!   samples, exact integer math gives 3689348814741910323. Neither fits the kernel's
//!   32-bit bound, which keeps them modulo 2^32 (858993664 for damo's). damo-policy writes
//!   the largest bound, 4294967295. Every one of them is above the 20 samples an
//!   aggregation interval has: all mean "unbounded".
//! - damo's `max` age is 184467440737095 aggregation intervals, kept as 2890341191 (nine
//!   years of 100 ms intervals); damo-policy writes 4294967295: both unbounded.
//! - damo's default quota is 0 ms / 0 bytes per `max` ms. A quota limiting neither time nor
//!   size, with no goals, is inactive and the kernel never reads its reset interval;
//!   damo-policy writes 0 there.

use damo_policy::interop::legacy::translate::TargetChoice;

use crate::roundtrip::fake_host;
use crate::support::{kernel_writes, scheme_leaves, translate};

const U: u64 = u64::MAX;
/// What damo-policy writes for an unbounded access rate or age.
const UNBOUNDED: u64 = u32::MAX as u64;

/// The kernel values damo staged for one scheme (its sysfs table in the reference).
#[derive(Clone, Copy)]
struct Damo {
    sz: [u64; 2],
    nr_accesses: [u64; 2],
    age: [u64; 2],
    action: &'static str,
    quota: [u64; 3],
    weights: [u64; 3],
    watermarks: (&'static str, [u64; 4]),
}

const NO_WATERMARKS: (&str, [u64; 4]) = ("none", [0; 4]);

fn pageout(quota: [u64; 3], weights: [u64; 3]) -> Damo {
    Damo {
        sz: [4096, U],
        nr_accesses: [0, 0],
        age: [50, 184_467_440_737_095],
        action: "pageout",
        quota,
        weights,
        watermarks: NO_WATERMARKS,
    }
}

/// The kernel's view of a 32-bit access pattern bound damo wrote.
fn kept_by_kernel(value: u64) -> u64 {
    value % (1 << 32)
}

/// Checks one translated scheme against damo's staged values.
fn assert_same(line: &str, target: TargetChoice, damo: &[Damo]) {
    let translation = translate(line, target);
    let text = translation
        .text
        .unwrap_or_else(|| panic!("{line}: {:?}", translation.diagnostics));
    assert!(translation.diagnostics.iter().all(|d| !d.is_error()), "{line}");
    // Physical memory resolves to a fake System RAM range; processes need no host.
    let host = tempfile::tempdir().unwrap();
    let writes = kernel_writes(&[("golden.toml", &text)], &fake_host(host.path()));
    for (s, damo) in damo.iter().enumerate() {
        let ours = scheme_leaves(&writes, s);
        let get = |leaf: &str| -> u64 { ours[leaf].parse().unwrap_or_else(|_| panic!("{leaf} = {}", ours[leaf])) };
        assert_eq!(ours["action"], damo.action, "{line}");
        assert_eq!(
            [get("access_pattern/sz/min"), get("access_pattern/sz/max")],
            damo.sz,
            "{line}: sizes"
        );
        for (dir, damo_range, per_aggr) in [("nr_accesses", damo.nr_accesses, 20), ("age", damo.age, 0)] {
            for (i, bound) in ["min", "max"].iter().enumerate() {
                let value = get(&format!("access_pattern/{dir}/{bound}"));
                if damo_range[i] > UNBOUNDED {
                    // damo's unbounded value: wrapped by the kernel, still beyond reach.
                    assert_eq!(value, UNBOUNDED, "{line}: {dir} {bound}");
                    assert!(kept_by_kernel(damo_range[i]) > per_aggr, "{line}: {dir} {bound}");
                } else {
                    assert_eq!(value, damo_range[i], "{line}: {dir} {bound}");
                }
            }
        }
        let quota = [get("quotas/ms"), get("quotas/bytes"), get("quotas/reset_interval_ms")];
        if damo.quota[..2] == [0, 0] {
            assert_eq!(quota[..2], [0, 0], "{line}: an inactive quota stays inactive");
        } else {
            assert_eq!(quota, damo.quota, "{line}: quota");
        }
        let weights = ["sz_permil", "nr_accesses_permil", "age_permil"].map(|w| get(&format!("quotas/weights/{w}")));
        assert_eq!(weights, damo.weights, "{line}: weights");
        let marks = ["interval_us", "high", "mid", "low"].map(|w| get(&format!("watermarks/{w}")));
        assert_eq!(
            (ours["watermarks/metric"].as_str(), marks),
            damo.watermarks,
            "{line}: watermarks"
        );
    }
}

fn physical() -> TargetChoice {
    TargetChoice::Physical { chosen: false }
}

fn process() -> TargetChoice {
    TargetChoice::Pids(vec![4242])
}

#[test]
fn prcl_and_pprcl() {
    assert_same(
        "# proactive reclaim\n4K max min min 5s max pageout\n",
        physical(),
        &[pageout([0, 0, U], [0; 3])],
    );
}

#[test]
fn darc1() {
    assert_same(
        "4K max min min 5s max pageout 500M 1s\n",
        physical(),
        &[pageout([0, 524_288_000, 1000], [0; 3])],
    );
}

#[test]
fn darc2() {
    assert_same(
        "4K max min min 5s max pageout 500M 1s 0 3 7\n",
        physical(),
        &[pageout([0, 524_288_000, 1000], [0, 3, 7])],
    );
}

#[test]
fn pdarc1_and_pdarc2() {
    for (size, bytes) in [("1G", 1u64 << 30), ("5G", 5 << 30), ("10G", 10 << 30)] {
        assert_same(
            &format!("4K max min min 5s max pageout {size} 1s\n"),
            physical(),
            &[pageout([0, bytes, 1000], [0; 3])],
        );
        assert_same(
            &format!("4K max min min 5s max pageout {size} 1s 0 3 7\n"),
            physical(),
            &[pageout([0, bytes, 1000], [0, 3, 7])],
        );
    }
}

#[test]
fn ethp() {
    let hot = Damo {
        sz: [0, U],
        nr_accesses: [1, 3_689_348_814_741_910_528],
        age: [0, 184_467_440_737_095],
        action: "hugepage",
        quota: [0, 0, U],
        weights: [0; 3],
        watermarks: NO_WATERMARKS,
    };
    let cold = Damo {
        sz: [2_097_152, U],
        nr_accesses: [0, 0],
        age: [70, 184_467_440_737_095],
        action: "nohugepage",
        ..hot
    };
    assert_same(
        "# ethp\nmin max 5 max min max hugepage\n2M max min min 7s max nohugepage\n",
        process(),
        &[hot, cold],
    );
}

#[test]
fn eighteen_fields_time_quota_first() {
    let damo = Damo {
        sz: [2_097_152, U],
        nr_accesses: [1, 3_689_348_814_741_910_528],
        age: [0, 184_467_440_737_095],
        action: "hugepage",
        quota: [10, 1_073_741_824, 1000],
        weights: [1, 2, 3],
        watermarks: ("free_mem_rate", [5_000_000, 800, 500, 200]),
    };
    assert_same(
        "2M max 5 max min max hugepage 10ms 1G 1s 1 2 3 free_mem_rate 5s 800 500 200\n",
        process(),
        &[damo],
    );
}

#[test]
fn seventeen_fields_size_quota_and_watermarks() {
    let damo = Damo {
        watermarks: ("free_mem_rate", [1_000_000, 900, 600, 100]),
        ..pageout([0, 524_288_000, 1000], [0, 3, 7])
    };
    assert_same(
        "4K max min min 5s max pageout 500M 1s 0 3 7 FREE_MEM_RATE 1s 900 600 100\n",
        physical(),
        &[damo],
    );
}

#[test]
fn token_grammar() {
    let cold = Damo {
        sz: [1234, 1536],
        nr_accesses: [2, 10],
        age: [15, 1200],
        action: "cold",
        quota: [0, 0, U],
        weights: [0; 3],
        watermarks: NO_WATERMARKS,
    };
    let willneed = Damo {
        sz: [4096, 1 << 30],
        nr_accesses: [0, 2],
        age: [1, 36_000],
        action: "willneed",
        quota: [0, 0, U],
        weights: [0; 3],
        watermarks: NO_WATERMARKS,
    };
    assert_same(
        "1,234 1.5K 12.5 50% 1.5s 2m COLD\n4KiB 1GB 0 10 100ms 1h willneed\n",
        process(),
        &[cold, willneed],
    );
}

/// damo truncates what the kernel cannot hold: a fraction of a byte, of a millisecond of
/// quota time; exact arithmetic truncates the same way, without float artifacts.
#[test]
fn truncation_matches_damo() {
    let damo = Damo {
        sz: [1331, U],
        nr_accesses: [0, 0],
        age: [0, 184_467_440_737_095],
        action: "pageout",
        quota: [1, 102, 2],
        weights: [0; 3],
        watermarks: ("free_mem_rate", [1, 1000, 500, 0]),
    };
    let line = "1.3K max min min 5 max pageout 1500us 0.1K 2.9ms 0 0 0 free_mem_rate 1500ns 1000 500 0\n";
    assert_same(line, physical(), &[damo]);
}
