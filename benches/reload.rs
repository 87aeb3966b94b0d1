//! Hot-reload benchmark of the watching service, in process on the fake kernel:
//!
//! 1. latency from a policy file's write to the `commit` that applies it (median, p99),
//!    beside the baseline measured in the same run: the debounce itself plus one reconcile
//!    called directly;
//! 2. a burst of 1,000 writes within one second: how many reconciles it causes.
//!
//! `cargo bench --bench reload` (`RELOAD_SAMPLES=N` to change the sample count). The idle
//! footprint of the real binary is measured by `benches/watch-idle.sh`.

use std::fs;
use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use damo_policy::host::HostPaths;
use damo_policy::kernel::probe::KernelInfo;
use damo_policy::kernel::{Ops, Version};
use damo_policy::reconcile::Options;
use damo_policy::reconcile::run::{Settings, once};
use damo_policy::reconcile::state::{EngineState, StateStore};
use damo_policy::sysfs::fake::FakeKernel;
use damo_policy::sysfs::{Sysfs, SysfsError};
use damo_policy::watch::{self, DirWatcher, Env, Event, WatchSettings};

const DEBOUNCE: Duration = Duration::from_millis(200);

/// The fake kernel, with the time of every `commit`.
struct Timed {
    kernel: FakeKernel,
    commits: Mutex<Vec<Instant>>,
}

impl Sysfs for Timed {
    fn read(&self, path: &str) -> Result<String, SysfsError> {
        self.kernel.read(path)
    }
    fn write(&self, path: &str, value: &str) -> Result<(), SysfsError> {
        let result = self.kernel.write(path, value);
        if value == "commit" {
            self.commits.lock().unwrap().push(Instant::now());
        }
        result
    }
    fn exists(&self, path: &str) -> bool {
        self.kernel.exists(path)
    }
    fn list(&self, path: &str) -> Result<Vec<String>, SysfsError> {
        self.kernel.list(path)
    }
    fn describe(&self) -> String {
        self.kernel.describe()
    }
    fn busy_deadline(&self) -> Duration {
        self.kernel.busy_deadline()
    }
}

fn policy(age_s: u32) -> String {
    format!(
        "name = \"bench\"\n[target]\nphysical = {{ regions = [{{ start = 4096, end = 1073741824 }}] }}\n\
[[scheme]]\naction = \"pageout\"\naccess_pattern.age = {{ min = \"{age_s}s\" }}\n"
    )
}

fn settings(dir: &Path) -> Settings {
    Settings {
        paths: vec![dir.join("policies")],
        host: HostPaths::default(),
        sysfs_root: dir.join("none"),
        options: Options::default(),
        disable_modules: false,
        strict_permissions: false,
    }
}

fn info() -> KernelInfo {
    KernelInfo {
        release: "7.3".into(),
        version: Version::new(7, 3),
        evidence: "bench".into(),
        avail_ops: vec![Ops::Paddr],
        modules: vec![],
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let samples: usize = std::env::var("RELOAD_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("policies")).unwrap();
    let file = dir.path().join("policies/bench.toml");
    fs::write(&file, policy(1)).unwrap();
    let sysfs = Timed {
        kernel: FakeKernel::new(Version::new(7, 3)),
        commits: Mutex::new(Vec::new()),
    };

    // Baseline: one reconcile, called directly (median of 20).
    let store = StateStore::new(dir.path().join("baseline-state"));
    let mut state = EngineState {
        boot_id: "b".into(),
        ..Default::default()
    };
    once(&settings(dir.path()), &sysfs, &info(), &store, &mut state, true);
    let mut direct: Vec<Duration> = (0..20)
        .map(|i| {
            fs::write(&file, policy(100 + i)).unwrap();
            let start = Instant::now();
            once(&settings(dir.path()), &sysfs, &info(), &store, &mut state, true);
            start.elapsed()
        })
        .collect();
    direct.sort();
    let reconcile = percentile(&direct, 0.5);

    let watch_settings = WatchSettings {
        debounce: DEBOUNCE,
        max_batch: DEBOUNCE * 10,
        resync: Duration::from_secs(3600),
        stop_on_exit: false,
        module_root: dir.path().join("none"),
    };
    // The service goes on from the baseline's record (it reads it back before each reconcile).
    let mut env = Env {
        sysfs: &sysfs,
        info: info(),
        store,
        state,
    };
    let (tx, rx) = mpsc::channel();
    let mut watcher = DirWatcher::new(&dir.path().join("policies"), tx.clone()).unwrap();
    let reconciles = Mutex::new(0usize);
    let service_settings = settings(dir.path());
    let (latencies, burst) = std::thread::scope(|scope| {
        let (settings, watch_settings, reconciles) = (&service_settings, &watch_settings, &reconciles);
        scope.spawn(move || {
            watch::serve(
                settings,
                watch_settings,
                &mut env,
                &rx,
                || watcher.rewatch(),
                |_, _| *reconciles.lock().unwrap() += 1,
            );
        });
        std::thread::sleep(Duration::from_millis(500));

        let mut latencies = Vec::new();
        for i in 0..samples {
            let before = sysfs.commits.lock().unwrap().len();
            let written = Instant::now();
            fs::write(&file, policy(1000 + i as u32)).unwrap();
            let deadline = written + Duration::from_secs(5);
            loop {
                if let Some(at) = sysfs.commits.lock().unwrap().get(before) {
                    latencies.push(*at - written);
                    break;
                }
                assert!(Instant::now() < deadline, "no commit within 5 s");
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(50));
        }

        // 1,000 writes spread over one second.
        std::thread::sleep(DEBOUNCE * 2);
        let start_count = *reconciles.lock().unwrap();
        let start = Instant::now();
        for i in 0..1000u32 {
            fs::write(&file, policy(5000 + i)).unwrap();
            let due = start + Duration::from_micros(u64::from(i) * 1000);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        std::thread::sleep(DEBOUNCE * 3 + Duration::from_millis(500));
        let burst = *reconciles.lock().unwrap() - start_count;
        tx.send(Event::Exit).unwrap();
        (latencies, burst)
    });

    let mut sorted = latencies.clone();
    sorted.sort();
    let (median, p99) = (percentile(&sorted, 0.5), percentile(&sorted, 0.99));
    let baseline = DEBOUNCE + reconcile;
    println!(
        "reload latency, write → commit, {samples} samples, debounce {} ms:",
        DEBOUNCE.as_millis()
    );
    println!(
        "  median {:7.1} ms  (debounce + {:5.1} ms; target < debounce + 20 ms)",
        ms(median),
        ms(median) - ms(DEBOUNCE)
    );
    println!(
        "  p99    {:7.1} ms  (debounce + {:5.1} ms; target < debounce + 100 ms)",
        ms(p99),
        ms(p99) - ms(DEBOUNCE)
    );
    println!(
        "  baseline (same run): debounce + one direct reconcile = {:.1} ms; median / baseline = {:.3}",
        ms(baseline),
        ms(median) / ms(baseline)
    );
    println!("burst of 1000 writes in 1 s: {burst} reconcile(s) (target ≤ 3)");
}
