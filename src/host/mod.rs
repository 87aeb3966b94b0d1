//! Read-only views of the host that targets resolve against: processes by name (`/proc`),
//! cgroup members (`/sys/fs/cgroup`), the largest System RAM range (`/proc/iomem`) and a
//! NUMA node's memory (`/sys/devices/system`). Every root is overridable, so tests and
//! containers can point them at fixtures; nothing here writes.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::resolved::AddrRange;

/// Where the host's pseudo-filesystems are mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPaths {
    pub proc_root: PathBuf,
    pub cgroup_root: PathBuf,
    /// `/sys/devices/system`, for NUMA nodes and memory blocks.
    pub system_root: PathBuf,
}

impl Default for HostPaths {
    fn default() -> Self {
        Self {
            proc_root: PathBuf::from("/proc"),
            cgroup_root: PathBuf::from("/sys/fs/cgroup"),
            system_root: PathBuf::from("/sys/devices/system"),
        }
    }
}

fn with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

fn read(path: &Path) -> io::Result<String> {
    fs::read_to_string(path).map_err(|e| with_path(e, path))
}

impl HostPaths {
    /// Pids of every process whose `comm` is `name`, ascending.
    pub fn pids_by_name(&self, name: &str) -> io::Result<Vec<u32>> {
        let mut pids = Vec::new();
        for entry in fs::read_dir(&self.proc_root).map_err(|e| with_path(e, &self.proc_root))? {
            let entry = entry?;
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            // A process may exit between listing and reading: skip it.
            if let Ok(comm) = fs::read_to_string(entry.path().join("comm"))
                && comm.trim_end_matches('\n') == name
            {
                pids.push(pid);
            }
        }
        pids.sort_unstable();
        Ok(pids)
    }

    /// Pids of the processes in a cgroup v2 group (path below the cgroup mount).
    pub fn cgroup_pids(&self, cgroup: &str) -> io::Result<Vec<u32>> {
        let path = self
            .cgroup_root
            .join(cgroup.trim_start_matches('/'))
            .join("cgroup.procs");
        let mut pids: Vec<u32> = read(&path)?.lines().filter_map(|l| l.trim().parse().ok()).collect();
        pids.sort_unstable();
        Ok(pids)
    }

    /// The largest top-level `System RAM` range of `/proc/iomem`.
    pub fn largest_system_ram(&self) -> io::Result<Option<AddrRange>> {
        Ok(largest_system_ram(&read(&self.proc_root.join("iomem"))?))
    }

    /// The contiguous physical ranges of a NUMA node, from its memory blocks.
    pub fn numa_node_ranges(&self, node: u32) -> io::Result<Vec<AddrRange>> {
        let block_size_path = self.system_root.join("memory/block_size_bytes");
        let block_size = u64::from_str_radix(read(&block_size_path)?.trim(), 16).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", block_size_path.display()),
            )
        })?;
        let node_dir = self.system_root.join(format!("node/node{node}"));
        let mut blocks = Vec::new();
        for entry in fs::read_dir(&node_dir).map_err(|e| with_path(e, &node_dir))? {
            let name = entry?.file_name();
            if let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_prefix("memory"))
                .and_then(|n| n.parse::<u64>().ok())
            {
                blocks.push(id);
            }
        }
        Ok(merge_blocks(blocks, block_size))
    }

    /// Free memory in permil of total memory: DAMOS's `free_mem_rate` watermark metric (the
    /// kernel divides the same two counters that `MemFree` and `MemTotal` show).
    pub fn free_mem_permil(&self) -> io::Result<u64> {
        let text = read(&self.proc_root.join("meminfo"))?;
        let field = |name: &str| {
            text.lines().find_map(|l| {
                l.strip_prefix(name)?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
        };
        match (field("MemFree:"), field("MemTotal:")) {
            (Some(free), Some(total)) if total > 0 => Ok(free.saturating_mul(1000) / total),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "no MemFree/MemTotal in meminfo",
            )),
        }
    }

    /// When process `pid` started, in clock ticks since boot (`/proc/PID/stat` field 22):
    /// with the pid, it names one process even after the pid is reused. `None` when the
    /// process is gone or the file cannot be read.
    pub fn process_start_ticks(&self, pid: u32) -> Option<u64> {
        let stat = fs::read_to_string(self.proc_root.join(pid.to_string()).join("stat")).ok()?;
        // The name (field 2) may hold spaces and parentheses: the fields after it follow the
        // last `)`, starting with field 3.
        let (_, after_name) = stat.rsplit_once(')')?;
        after_name.split_whitespace().nth(22 - 3)?.parse().ok()
    }

    /// Whether process `pid` runs (has its `/proc` directory).
    pub fn is_running(&self, pid: u32) -> bool {
        process_runs(&self.proc_root, pid)
    }

    /// A process's name and memory (`/proc/PID/status`), for showing what a scheme did to it;
    /// `None` when the process is gone or the file unreadable (a kernel thread has no `VmRSS`).
    pub fn process_memory(&self, pid: u32) -> Option<ProcessMemory> {
        let text = fs::read_to_string(self.proc_root.join(pid.to_string()).join("status")).ok()?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
        };
        let kib = |name: &str| field(name)?.strip_suffix("kB")?.trim().parse::<u64>().ok();
        Some(ProcessMemory {
            pid,
            name: field("Name")?.to_owned(),
            rss_bytes: kib("VmRSS")?.saturating_mul(1024),
            swap_bytes: kib("VmSwap").unwrap_or(0).saturating_mul(1024),
        })
    }

    /// A process's sizes from `/proc/PID/statm`, in pages (size, resident, shared, text,
    /// lib, data, dirty); `None` when the process is gone.
    pub fn process_statm_pages(&self, pid: u32) -> Option<[u64; 7]> {
        let text = fs::read_to_string(self.proc_root.join(pid.to_string()).join("statm")).ok()?;
        let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
        let mut pages = [0; 7];
        for page in &mut pages {
            *page = fields.next()??;
        }
        Some(pages)
    }

    /// The fields of `/proc/meminfo` (`MemTotal`, …) with their values, in KiB for those
    /// with a unit.
    pub fn meminfo_kib(&self) -> io::Result<Vec<(String, u64)>> {
        Ok(read(&self.proc_root.join("meminfo"))?
            .lines()
            .filter_map(|line| {
                let (name, value) = line.split_once(':')?;
                let value = value.trim().trim_end_matches("kB").trim().parse().ok()?;
                Some((name.to_owned(), value))
            })
            .collect())
    }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`): kdamonds die with the boot.
    pub fn boot_id(&self) -> io::Result<String> {
        Ok(read(&self.proc_root.join("sys/kernel/random/boot_id"))?
            .trim()
            .to_owned())
    }

    /// The running kernel's release string (`/proc/sys/kernel/osrelease`).
    pub fn kernel_release(&self) -> io::Result<String> {
        Ok(read(&self.proc_root.join("sys/kernel/osrelease"))?.trim().to_owned())
    }
}

/// Whether process `pid` runs, by the `/proc` mounted at `proc_root`.
pub fn process_runs(proc_root: &Path, pid: u32) -> bool {
    proc_root.join(pid.to_string()).is_dir()
}

/// What `/proc/PID/status` says of a process's memory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProcessMemory {
    pub pid: u32,
    pub name: String,
    pub rss_bytes: u64,
    pub swap_bytes: u64,
}

/// Parses `/proc/iomem` text; only top-level (unindented) entries count.
pub fn largest_system_ram(iomem: &str) -> Option<AddrRange> {
    iomem
        .lines()
        .filter(|line| !line.starts_with(' '))
        .filter_map(|line| {
            let (range, name) = line.split_once(" : ")?;
            if name.trim() != "System RAM" {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            let start = u64::from_str_radix(start.trim(), 16).ok()?;
            let end_inclusive = u64::from_str_radix(end.trim(), 16).ok()?;
            // Unprivileged readers see every range as 00000000-00000000.
            if start == 0 && end_inclusive == 0 {
                return None;
            }
            Some(AddrRange {
                start,
                end: end_inclusive.checked_add(1)?,
            })
        })
        .filter(|r| r.end > r.start)
        .max_by_key(|r| r.end - r.start)
}

/// Memory block ids → sorted, merged address ranges.
pub fn merge_blocks(mut blocks: Vec<u64>, block_size: u64) -> Vec<AddrRange> {
    blocks.sort_unstable();
    let mut ranges: Vec<AddrRange> = Vec::new();
    for id in blocks {
        let start = id.saturating_mul(block_size);
        let end = start.saturating_add(block_size);
        match ranges.last_mut() {
            Some(last) if last.end == start => last.end = end,
            _ => ranges.push(AddrRange { start, end }),
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iomem_largest_top_level_system_ram() {
        let iomem = "00000000-00000fff : Reserved\n00001000-0009fbff : System RAM\n\
00100000-bffdffff : System RAM\n  01000000-01ffffff : Kernel code\n\
100000000-23fffffff : System RAM\n";
        assert_eq!(
            largest_system_ram(iomem),
            Some(AddrRange {
                start: 0x1_0000_0000,
                end: 0x2_4000_0000
            })
        );
        assert_eq!(largest_system_ram("00000000-00000000 : System RAM\n"), None);
    }

    #[test]
    fn memory_blocks_merge_into_ranges() {
        let size = 0x800_0000;
        assert_eq!(
            merge_blocks(vec![3, 0, 1, 5], size),
            vec![
                AddrRange {
                    start: 0,
                    end: 2 * size
                },
                AddrRange {
                    start: 3 * size,
                    end: 4 * size
                },
                AddrRange {
                    start: 5 * size,
                    end: 6 * size
                }
            ]
        );
    }

    #[test]
    fn processes_and_cgroups_from_fixture_roots() {
        let dir = tempfile::tempdir().unwrap();
        for (pid, comm) in [(10, "worker"), (7, "worker"), (8, "other")] {
            fs::create_dir_all(dir.path().join(format!("proc/{pid}"))).unwrap();
            fs::write(dir.path().join(format!("proc/{pid}/comm")), format!("{comm}\n")).unwrap();
        }
        fs::create_dir_all(dir.path().join("cg/batch.slice")).unwrap();
        fs::write(dir.path().join("cg/batch.slice/cgroup.procs"), "42\n41\n").unwrap();
        let host = HostPaths {
            proc_root: dir.path().join("proc"),
            cgroup_root: dir.path().join("cg"),
            system_root: dir.path().join("sys"),
        };
        assert_eq!(host.pids_by_name("worker").unwrap(), vec![7, 10]);
        assert_eq!(host.cgroup_pids("/batch.slice").unwrap(), vec![41, 42]);
        assert!(
            host.cgroup_pids("missing")
                .unwrap_err()
                .to_string()
                .contains("missing/cgroup.procs")
        );
    }

    /// The start time follows the last `)`, whatever the name holds.
    #[test]
    fn process_start_time_from_stat() {
        let dir = tempfile::tempdir().unwrap();
        let host = HostPaths {
            proc_root: dir.path().to_path_buf(),
            ..HostPaths::default()
        };
        fs::create_dir_all(dir.path().join("77")).unwrap();
        let fields_3_to_21 = "S 1 77 77 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0";
        fs::write(
            dir.path().join("77/stat"),
            format!("77 (a) b (c) {fields_3_to_21} 123456 9999 300\n"),
        )
        .unwrap();
        assert_eq!(host.process_start_ticks(77), Some(123456));
        assert_eq!(host.process_start_ticks(78), None);
    }

    #[test]
    fn process_memory_from_status() {
        let dir = tempfile::tempdir().unwrap();
        let host = HostPaths {
            proc_root: dir.path().to_path_buf(),
            ..HostPaths::default()
        };
        fs::create_dir_all(dir.path().join("164")).unwrap();
        fs::write(
            dir.path().join("164/status"),
            "Name:\tbatch worker\nVmPeak:\t 80000 kB\nVmRSS:\t    8856 kB\nVmSwap:\t   65620 kB\n",
        )
        .unwrap();
        let memory = host.process_memory(164).unwrap();
        assert_eq!(
            memory,
            ProcessMemory {
                pid: 164,
                name: "batch worker".into(),
                rss_bytes: 8856 * 1024,
                swap_bytes: 65620 * 1024
            }
        );
        // A kernel thread (no VmRSS) and a process that is gone show nothing.
        fs::create_dir_all(dir.path().join("2")).unwrap();
        fs::write(dir.path().join("2/status"), "Name:\tkthreadd\nState:\tS (sleeping)\n").unwrap();
        assert_eq!(host.process_memory(2), None);
        assert_eq!(host.process_memory(99), None);
    }
}
