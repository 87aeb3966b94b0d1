//! A directory laid out like the kernel's tracefs, for tests of recording without root or
//! a DAMON kernel. The kernel fills a new instance with its files and removes them with it;
//! here [`tracefs`] gives a [`Tracefs`] that does both by hand. `trace_pipe` is a regular
//! file: a test appends the kernel's lines to it and polls read them.

use std::fs;
use std::io;
use std::path::Path;

use super::Tracefs;
use super::tracefs::{EVENT_DIR, Emulation};
use crate::host::HostPaths;

/// Cpus of the fake machine, each with a `per_cpu/cpuN/stats`.
pub const FAKE_CPUS: usize = 2;

/// Lays out a tracefs root in `root` (an existing directory): the top-level buffer's
/// files, `instances/`, and DAMON's event when `with_damon_event`.
pub fn lay_out(root: &Path, with_damon_event: bool) -> io::Result<()> {
    lay_out_buffer(root, with_damon_event)?;
    fs::create_dir(root.join("instances"))
}

/// A [`Tracefs`] over a fake tree made by [`lay_out`].
pub fn tracefs(root: &Path, host: &HostPaths) -> Tracefs {
    let mut tracefs = Tracefs::at(root, host);
    tracefs.emulation = Some(Emulation {
        lay_out_instance: |path| lay_out_buffer(path, true),
    });
    tracefs
}

/// The files of one ring buffer (the top level or an instance), as the kernel shows them.
fn lay_out_buffer(dir: &Path, with_damon_event: bool) -> io::Result<()> {
    let files = [
        ("trace_pipe", ""),
        ("buffer_size_kb", "1408\n"),
        ("trace_clock", "[local] global counter uptime perf mono mono_raw boot\n"),
        ("tracing_on", "1\n"),
        ("events/enable", "0\n"),
    ];
    for (name, content) in files {
        write(&dir.join(name), content)?;
    }
    if with_damon_event {
        write(&dir.join(EVENT_DIR).join("enable"), "0\n")?;
        write(&dir.join(EVENT_DIR).join("filter"), "none\n")?;
    }
    for cpu in 0..FAKE_CPUS {
        let stats = "entries: 0\noverrun: 0\ncommit overrun: 0\nbytes: 0\ndropped events: 0\n";
        write(&dir.join(format!("per_cpu/cpu{cpu}/stats")), stats)?;
    }
    Ok(())
}

fn write(path: &Path, content: &str) -> io::Result<()> {
    fs::create_dir_all(path.parent().expect("a file below the root"))?;
    fs::write(path, content)
}
