//! Runner of the VM suite (`tests/vm/main.rs`): finds the kernels cached by
//! `tests/vm/fetch-kernels.sh`, builds an initramfs per kernel with `tests/vm/build-initramfs.sh`,
//! boots it under qemu (TCG) with two NUMA nodes (and, when damo is on the host, the host's
//! root exported read-only for the guest to run it), streams the serial console into a log file,
//! enforces a timeout, and parses the guest's `RESULT`, `MEASURE` and `JSON` lines (protocol:
//! `tests/vm/guest/lib.sh`). The guest prints those lines on the console, for people, and on
//! a second serial port that qemu writes to `results.log`, for this parser: kernel messages,
//! which go to the console only, can never split a line there.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Upper bound for one boot, scenarios included. Both kernels run at once on two cores under
/// TCG; a run takes 70–170 s on a quiet or busy host without the crash scenario, which adds
/// 150–210 s (some thirty applies), and the seed scenario alone may wait 90 s for DAMON; so
/// hitting this means the guest hung.
pub const TIMEOUT: Duration = Duration::from_secs(900);

const QEMU: &str = "qemu-system-x86_64";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `$DAMO_POLICY_VM_CACHE`, else `$HOME/.cache/damo-policy-vm`: the fetch script's default.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("DAMO_POLICY_VM_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/damo-policy-vm"),
    }
}

/// Host tools the suite needs and does not find, as human-readable items.
pub fn missing_tools() -> Vec<String> {
    let runs = |program: &str, arg: &str| {
        Command::new(program)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    let mut missing = Vec::new();
    if !runs(QEMU, "--version") {
        missing.push(format!("missing {QEMU} (package qemu-system-x86)"));
    }
    if !runs("cpio", "--version") {
        missing.push("missing cpio (package cpio)".to_string());
    }
    // ldd fails on a static binary; a dynamic busybox would need its libraries in the guest.
    let busybox_static = Command::new("sh")
        .args(["-c", "b=$(command -v busybox) && ! ldd \"$b\" >/dev/null 2>&1"])
        .status()
        .is_ok_and(|s| s.success());
    if !busybox_static {
        missing.push("missing a static busybox (package busybox-static)".to_string());
    }
    missing
}

/// A kernel cache entry: `vmlinuz`, `modules/`, `release`.
pub struct Kernel {
    pub series: &'static str,
    pub dir: PathBuf,
    pub release: String,
}

pub fn find_kernel(series: &'static str) -> Result<Kernel, String> {
    let dir = cache_dir().join(series);
    let release = fs::read_to_string(dir.join("release"))
        .map_err(|_| format!("kernel {series} is not cached in {}", dir.display()))?;
    if !dir.join("vmlinuz").is_file() || !dir.join("modules/load-order").is_file() {
        return Err(format!("kernel cache entry {} is incomplete", dir.display()));
    }
    Ok(Kernel {
        series,
        dir,
        release: release.trim().to_string(),
    })
}

/// One `RESULT` line.
#[derive(Debug)]
pub struct Step {
    pub name: String,
    pub pass: bool,
    /// `status=skip`: why the guest could not run the step (its `reason`).
    pub skipped: Option<String>,
    pub fields: BTreeMap<String, String>,
}

impl Step {
    pub fn field(&self, key: &str) -> &str {
        self.fields.get(key).map_or("", String::as_str)
    }
}

/// What one boot produced.
pub struct VmRun {
    pub series: &'static str,
    pub release: String,
    pub log: PathBuf,
    pub console: String,
    pub steps: Vec<Step>,
    pub measures: BTreeMap<String, String>,
    /// `JSON <name> <document>` lines: command output the guest captured.
    pub documents: BTreeMap<String, String>,
    pub elapsed: Duration,
}

impl VmRun {
    /// Panics with the whole console, so a failing assertion shows what the guest saw.
    pub fn fail(&self, message: &str) -> ! {
        panic!(
            "kernel {} ({}): {message}\n----- guest console ({}) -----\n{}\n----- end of console -----",
            self.series,
            self.release,
            self.log.display(),
            self.console
        )
    }

    pub fn check(&self, condition: bool, message: impl FnOnce() -> String) {
        if !condition {
            self.fail(&message());
        }
    }

    /// The step, which must exist and have passed.
    pub fn passed(&self, name: &str) -> &Step {
        match self.step(name) {
            Some(step) if step.pass => step,
            Some(step) => self.fail(&format!("step {name} failed: {:?}", step.fields)),
            None => self.fail(&format!("step {name} never reported")),
        }
    }

    /// The step of a scenario that runs damo from the host, which must have passed; `None`
    /// when the guest skipped it for want of damo (said on stderr), a failure instead with
    /// `REQUIRE_DAMO=1`, as for the interoperability tests.
    pub fn passed_with_damo(&self, name: &str) -> Option<&Step> {
        let why = match self.step(name) {
            Some(Step { skipped: Some(why), .. }) => why,
            _ => return Some(self.passed(name)),
        };
        if std::env::var_os("REQUIRE_DAMO").is_some_and(|v| v == "1") {
            self.fail(&format!("REQUIRE_DAMO=1 but step {name} was skipped: {why}"));
        }
        // Straight to stderr, which the test harness does not capture: a skip must show.
        let _ = writeln!(std::io::stderr(), "SKIPPED: kernel {} step {name}: {why}", self.series);
        None
    }

    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }

    pub fn measure(&self, name: &str) -> u64 {
        match self.measures.get(name).map(|v| v.parse()) {
            Some(Ok(value)) => value,
            Some(Err(_)) => self.fail(&format!("measure {name} is not a number: {:?}", self.measures[name])),
            None => self.fail(&format!("measure {name} never reported")),
        }
    }

    /// The JSON document the guest reported as `name`.
    pub fn json(&self, name: &str) -> serde_json::Value {
        match self.documents.get(name).map(|text| serde_json::from_str(text)) {
            Some(Ok(value)) => value,
            Some(Err(e)) => self.fail(&format!(
                "document {name} is not JSON ({e}): {:?}",
                self.documents[name]
            )),
            None => self.fail(&format!("document {name} never reported")),
        }
    }
}

/// Splits `key=value key="quoted value"` into a map; text without `=` is ignored.
fn parse_fields(text: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let mut rest = text.trim();
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().rsplit(' ').next().unwrap_or_default().to_string();
        let after = &rest[eq + 1..];
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            },
            None => after.split_once(' ').unwrap_or((after, "")),
        };
        fields.insert(key, value.to_string());
        rest = next.trim_start();
    }
    fields
}

/// What the guest reported: steps, measures and documents.
type Reported = (Vec<Step>, BTreeMap<String, String>, BTreeMap<String, String>);

/// Reads the guest's protocol lines. Markers are searched, not expected at the line start, so
/// that the same parser reads the console (where kernel messages may precede them).
fn parse_results(text: &str) -> Reported {
    let mut steps = Vec::new();
    let mut measures = BTreeMap::new();
    let mut documents = BTreeMap::new();
    for line in text.lines() {
        if let Some(at) = line.find("RESULT step=") {
            let mut fields = parse_fields(&line[at + "RESULT ".len()..]);
            let name = fields.remove("step").unwrap_or_default();
            let status = fields.remove("status");
            let pass = status.as_deref() == Some("pass");
            let skipped = (status.as_deref() == Some("skip")).then(|| fields.remove("reason").unwrap_or_default());
            steps.push(Step {
                name,
                pass,
                skipped,
                fields,
            });
        } else if let Some(at) = line.find("MEASURE ") {
            measures.extend(parse_fields(&line[at + "MEASURE ".len()..]));
        } else if let Some(at) = line.find("JSON ") {
            let rest = &line[at + "JSON ".len()..];
            if let Some((name, document)) = rest.split_once(' ') {
                documents.insert(name.to_string(), document.to_string());
            }
        }
    }
    (steps, measures, documents)
}

/// How to boot.
#[derive(Debug, Clone, Default)]
pub struct BootOptions {
    /// Run only the guest scenarios whose names start with one of these (all when empty).
    pub only: Vec<String>,
    /// Run `/vm/demo.sh` instead of the scenarios.
    pub demo: bool,
    /// damo's executable on the host ([`host_damo`]): the host's root is then exported to the
    /// guest, read-only, for the scenarios that run damo there (`host_damo` in lib.sh).
    pub host_damo: Option<PathBuf>,
}

/// damo on the host, as the interoperability tests find it: `$DAMO_POLICY_DAMO`, else `damo`
/// on `PATH`; made absolute, since the guest runs it by that path in the host's root.
pub fn host_damo() -> Option<PathBuf> {
    let path = std::env::var_os("DAMO_POLICY_DAMO").map(PathBuf::from).or_else(|| {
        let paths = std::env::var_os("PATH")?;
        std::env::split_paths(&paths)
            .map(|dir| dir.join("damo"))
            .find(|p| p.is_file())
    })?;
    std::path::absolute(&path).ok()
}

/// The qemu command line for `kernel` and `initramfs`: 2 CPUs and 1 GiB in two NUMA nodes,
/// node 1 without CPUs (like CXL memory, for the tiering policies); the console on stdout and
/// the results port in `results`.
///
/// Multi-threaded TCG can let one vCPU run code another vCPU has just patched back, so a
/// static key flipped at run time may end in an `Oops: int3` (seen on 6.12 when the CRNG
/// became ready mid-scenario). Hence RDRAND (the CRNG is ready at boot), `tsc=reliable` (no
/// clocksource watchdog flipping the sched-clock key later) and the guest's init taking the
/// memcg key before any scenario runs; [`boot`] still retries once on that signature.
///
/// With [`BootOptions::host_damo`], the host's root is exported read-only over virtio-9p
/// (tag `hostroot`); `multidevs=remap` keeps inode numbers unique across the host's mounts.
pub fn qemu_command(kernel: &Kernel, initramfs: &Path, results: &Path, options: &BootOptions) -> Command {
    let mut qemu = Command::new(QEMU);
    qemu.args(["-accel", "tcg", "-cpu", "qemu64,+rdrand", "-smp", "2", "-m", "1024"])
        .args(["-object", "memory-backend-ram,id=m0,size=512M"])
        .args(["-object", "memory-backend-ram,id=m1,size=512M"])
        .args(["-numa", "node,nodeid=0,cpus=0-1,memdev=m0"])
        .args(["-numa", "node,nodeid=1,memdev=m1"])
        .args(["-nographic", "-no-reboot"])
        // No network card: the guest needs none, and its boot ROM only costs time.
        .args(["-nic", "none"])
        .args(["-serial", "mon:stdio", "-serial"])
        .arg(format!("file:{}", results.display()))
        .arg("-kernel")
        .arg(kernel.dir.join("vmlinuz"))
        .arg("-initrd")
        .arg(initramfs)
        .arg("-append")
        .arg(format!("console=ttyS0 quiet panic=-1 tsc=reliable {}", append(options)));
    if options.host_damo.is_some() {
        qemu.args([
            "-virtfs",
            "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        ]);
    }
    qemu
}

/// Builds the initramfs for `kernel` in `work` with build-initramfs.sh.
pub fn build_initramfs(
    kernel: &Kernel,
    work: &Path,
    damo_policy: &Path,
    damo_workload: &Path,
    host_damo: Option<&Path>,
) -> Result<PathBuf, String> {
    let initramfs = work.join("initramfs.cpio");
    let built = Command::new("bash")
        .arg(repo().join("tests/vm/build-initramfs.sh"))
        .args([&initramfs, &kernel.dir, damo_policy, damo_workload].map(|p| p.as_os_str()))
        .args(host_damo)
        .output()
        .map_err(|e| format!("cannot run build-initramfs.sh: {e}"))?;
    if !built.status.success() {
        return Err(format!(
            "build-initramfs.sh failed:\n{}",
            String::from_utf8_lossy(&built.stderr)
        ));
    }
    Ok(initramfs)
}

/// The kernel command line parameters that pass `options` to the guest's init.
fn append(options: &BootOptions) -> String {
    let mut append = String::new();
    if !options.only.is_empty() {
        append.push_str(&format!("damo.only={}", options.only.join(",")));
    }
    if options.demo {
        append.push_str(" damo.demo=1");
    }
    append
}

/// What an emulator fault looks like on the console: a breakpoint trap inside kernel text that
/// the kernel itself was patching (see [`qemu_command`]). Not a DAMON or damo-policy fault.
const TCG_PATCHING_OOPS: &str = "Oops: int3";

/// Builds the initramfs for `kernel` in `work` and boots it; `Err` carries the console when the
/// guest did not finish its scenarios. A boot lost to the emulator's code-patching race is run
/// again once, from a fresh boot; its console is kept beside the second one.
pub fn boot(
    kernel: &Kernel,
    work: &Path,
    damo_policy: &Path,
    damo_workload: &Path,
    options: &BootOptions,
) -> Result<VmRun, String> {
    let _ = fs::remove_dir_all(work);
    fs::create_dir_all(work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let initramfs = build_initramfs(kernel, work, damo_policy, damo_workload, options.host_damo.as_deref())?;
    match boot_once(kernel, work, &initramfs, options) {
        Err(failure) if failure.contains(TCG_PATCHING_OOPS) => {
            let kept = work.join("console-emulator-fault.log");
            let _ = fs::rename(work.join("console.log"), &kept);
            eprintln!(
                "kernel {}: the emulator's code-patching race oopsed the guest ({}); booting again",
                kernel.series,
                kept.display()
            );
            boot_once(kernel, work, &initramfs, options)
        }
        outcome => outcome,
    }
}

/// One boot of `initramfs` until the guest powers off or [`TIMEOUT`].
fn boot_once(kernel: &Kernel, work: &Path, initramfs: &Path, options: &BootOptions) -> Result<VmRun, String> {
    let log = work.join("console.log");
    let results = work.join("results.log");
    let stderr_log = work.join("qemu-stderr.log");
    let start = Instant::now();
    let _ = fs::remove_file(&results);
    let mut child = qemu_command(kernel, initramfs, &results, options)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(&stderr_log).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot start {QEMU}: {e}"))?;

    // The reader copies each console line to the log as it arrives, so a hung guest still
    // leaves a log to read, and returns the whole console at EOF (qemu's exit or kill).
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut log_file = File::create(&log).map_err(|e| e.to_string())?;
    let reader = thread::spawn(move || {
        let mut console = String::new();
        let mut lines = BufReader::new(stdout);
        let mut raw = Vec::new();
        while lines.read_until(b'\n', &mut raw).is_ok_and(|n| n > 0) {
            let line = String::from_utf8_lossy(&raw).replace('\r', "");
            let _ = log_file.write_all(line.as_bytes());
            console.push_str(&line);
            raw.clear();
        }
        console
    });

    let timed_out = loop {
        match child.try_wait() {
            Ok(Some(_)) => break false,
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break true;
            }
            Ok(None) => thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("waiting for {QEMU}: {e}")),
        }
    };
    let console = reader.join().unwrap_or_default();
    let elapsed = start.elapsed();
    let failure = if timed_out {
        Some(format!("timed out after {}s, qemu killed", TIMEOUT.as_secs()))
    } else if !console.contains("VM-END") {
        Some("the guest stopped before finishing its scenarios (no VM-END)".to_string())
    } else {
        None
    };
    if let Some(why) = failure {
        let stderr = fs::read_to_string(&stderr_log).unwrap_or_default();
        return Err(format!(
            "kernel {} ({}): {why}\n----- guest console ({}) -----\n{console}\n----- qemu stderr -----\n{stderr}",
            kernel.series,
            kernel.release,
            log.display()
        ));
    }
    let reported = fs::read(&results).map_err(|e| format!("{}: {e}", results.display()))?;
    let (steps, measures, documents) = parse_results(&String::from_utf8_lossy(&reported).replace('\r', ""));
    Ok(VmRun {
        series: kernel.series,
        release: kernel.release.clone(),
        log,
        console,
        steps,
        measures,
        documents,
        elapsed,
    })
}

#[test]
fn parses_protocol_lines_among_kernel_noise() {
    let console = "[ 1.2] zram: Added device: zram0\n\
                   RESULT step=probe status=pass avail_operations=vaddr,fvaddr,paddr damon_stat=absent\n\
                   [ 3.4] oops RESULT step=kdamond_on status=fail error=\"/sys/x: write error: Device or resource busy\"\n\
                   RESULT step=damo_version status=skip reason=\"no damo on the host\"\n\
                   MEASURE seed_rss_before_kib=74000\n\
                   JSON status_after {\"policies\": [{\"state\": \"on\"}]}\n";
    let (steps, measures, documents) = parse_results(console);
    assert_eq!(steps.len(), 3);
    assert!(steps[0].pass);
    assert_eq!(steps[0].skipped, None);
    assert_eq!(steps[0].field("avail_operations"), "vaddr,fvaddr,paddr");
    assert_eq!(steps[0].field("damon_stat"), "absent");
    assert!(!steps[1].pass);
    assert_eq!(steps[1].field("error"), "/sys/x: write error: Device or resource busy");
    assert!(!steps[2].pass);
    assert_eq!(steps[2].skipped.as_deref(), Some("no damo on the host"));
    assert_eq!(measures["seed_rss_before_kib"], "74000");
    assert_eq!(documents["status_after"], "{\"policies\": [{\"state\": \"on\"}]}");
}
