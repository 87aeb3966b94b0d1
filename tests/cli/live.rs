//! `plan`, `apply`, `status`, `stop` and `kernel` against a fake kernel kept in a file
//! (`--sysfs-root fake:VERSION:FILE`): the user-facing text of the live commands, and their
//! exit statuses. The same behaviours run on real kernels in the VM suite, `tests/vm/`.

use std::fs;
use std::path::Path;

use crate::common::{Run, run};

pub const COLD: &str = "name = \"cold\"\n[target]\nphysical = { regions = [{ start = \"0x100000000\", end = \"0x140000000\" }] }\n\
[[scheme]]\nname = \"cold\"\naction = \"pageout\"\naccess_pattern.access_rate = { max = \"0%\" }\naccess_pattern.age = { min = \"60s\" }\n";

pub fn setup(version: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["policies", "modules", "cgroup/batch.slice"] {
        fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    fs::write(dir.path().join("version"), version).unwrap();
    dir
}

/// Runs a live command on the directory's fake kernel and record.
pub fn live(dir: &Path, args: &[&str]) -> Run {
    live_as(dir, "state", args)
}

/// The same, with the record of another installation (`state_dir`).
fn live_as(dir: &Path, state_dir: &str, args: &[&str]) -> Run {
    let full = live_args(dir, state_dir, args);
    run(dir, &full.iter().map(String::as_str).collect::<Vec<_>>())
}

/// `args` with the directory's fake kernel, module and cgroup roots and record (`state_dir`):
/// every live command of these tests runs with them, never on the host's DAMON.
pub fn live_args(dir: &Path, state_dir: &str, args: &[&str]) -> Vec<String> {
    let version = fs::read_to_string(dir.join("version")).unwrap();
    let root = format!("fake:{version}:kernel.json");
    let mut full: Vec<&str> = args.to_vec();
    full.extend([
        "--sysfs-root",
        &root,
        "--state-dir",
        state_dir,
        "--module-root",
        "modules",
        "--cgroup-root",
        "cgroup",
    ]);
    full.into_iter().map(str::to_owned).collect()
}

/// A `/proc` of the test's (`proc/`, for `--proc-root proc`) with a boot id, returned.
fn fixture_proc(dir: &Path) -> std::path::PathBuf {
    let proc = dir.join("proc");
    fs::create_dir_all(proc.join("sys/kernel/random")).unwrap();
    fs::write(proc.join("sys/kernel/random/boot_id"), "fixture-boot\n").unwrap();
    proc
}

pub fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join("policies").join(name), text).unwrap();
}

#[test]
fn plan_apply_reapply_change_and_remove() {
    let dir = setup("7.3");
    write(dir.path(), "cold.toml", COLD);
    write(
        dir.path(),
        "hot.toml",
        &COLD.replace("\"cold\"", "\"hot\"").replace("pageout", "stat"),
    );
    let plan = live(dir.path(), &["plan", "policies"]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    insta::assert_snapshot!("fresh_plan", plan.transcript());
    let plan_json = live(dir.path(), &["plan", "policies", "--format", "json"]).stdout;
    let apply = live(dir.path(), &["apply", "policies", "--format", "json"]);
    assert_eq!(apply.code, 0, "{}", apply.transcript());
    // One JSON document: the plan (as `plan --format json` prints it) and the outcome.
    let json: serde_json::Value =
        serde_json::from_str(&apply.stdout).unwrap_or_else(|e| panic!("{e}: {}", apply.stdout));
    let ops = json["ops"].as_array().unwrap().len();
    assert!(ops > 0, "{json}");
    assert_eq!(json["applied"], serde_json::json!({ "writes": ops, "verified": true }));
    let planned: serde_json::Value = serde_json::from_str(&plan_json).unwrap();
    assert_eq!(json["ops"], planned["ops"], "the same ops as the plan");
    assert_eq!(json["kdamonds"], planned["kdamonds"]);
    assert!(planned.get("applied").is_none(), "a plan applies nothing: {planned}");
    // Unchanged: nothing to write.
    let again = live(dir.path(), &["apply", "policies"]);
    insta::assert_snapshot!("unchanged_apply", again.transcript());
    // One field: one write and an online commit.
    write(dir.path(), "cold.toml", &COLD.replace("60s", "90s"));
    let changed = live(dir.path(), &["apply", "policies", "--verbose"]);
    insta::assert_snapshot!("one_field_changed", changed.transcript());
    // A removed policy: only its kdamond stops.
    fs::remove_file(dir.path().join("policies/hot.toml")).unwrap();
    let removed = live(dir.path(), &["apply", "policies"]);
    insta::assert_snapshot!("policy_removed", removed.transcript());
    let status = live(dir.path(), &["status"]);
    insta::assert_snapshot!("status", status.transcript());
    let stop = live(dir.path(), &["stop", "cold"]);
    assert_eq!(stop.code, 0);
    insta::assert_snapshot!("stop", stop.transcript());
    assert_eq!(live(dir.path(), &["stop", "nobody"]).code, 2);
}

#[test]
fn invalid_policies_and_missing_features_write_nothing() {
    let dir = setup("6.12");
    write(
        dir.path(),
        "tuned.toml",
        &COLD.replace("[[scheme]]", "[monitoring]\nautotune = { access = \"4%\" }\n[[scheme]]"),
    );
    let result = live(dir.path(), &["apply", "policies"]);
    assert_eq!(result.code, 1, "{}", result.transcript());
    assert!(
        result.stderr.contains("interval autotuning needs kernel 6.15 or later"),
        "{}",
        result.stderr
    );
    assert!(result.stderr.contains("nothing was written"));
    assert!(!dir.path().join("state/state.json").exists());
}

#[test]
fn another_tools_kdamond_is_refused_and_untouched() {
    let dir = setup("7.3");
    write(dir.path(), "cold.toml", COLD);
    // Another tool (here: another state record) runs a kdamond.
    let other = live_as(dir.path(), "other-tool", &["apply", "policies"]);
    assert_eq!(other.code, 0, "{}", other.transcript());
    let before = fs::read_to_string(dir.path().join("kernel.json")).unwrap();
    let refused = live(dir.path(), &["apply", "policies"]);
    assert_eq!(refused.code, 3);
    assert_eq!(
        fs::read_to_string(dir.path().join("kernel.json")).unwrap(),
        before,
        "untouched"
    );
    insta::assert_snapshot!("foreign_refused", refused.transcript());
    let taken = live(dir.path(), &["apply", "policies", "--takeover"]);
    assert_eq!(taken.code, 0, "{}", taken.transcript());
}

#[test]
fn an_enabled_damon_module_is_explained_then_disabled_on_request() {
    let dir = setup("7.3");
    write(dir.path(), "cold.toml", COLD);
    fs::create_dir_all(dir.path().join("modules/damon_stat/parameters")).unwrap();
    fs::write(dir.path().join("modules/damon_stat/parameters/enabled"), "Y\n").unwrap();
    let refused = live(dir.path(), &["apply", "policies"]);
    assert_eq!(refused.code, 3);
    insta::assert_snapshot!("module_refused", refused.transcript());
    let kernel = live(dir.path(), &["kernel"]);
    assert!(
        kernel
            .stdout
            .contains("module damon_stat: enabled (blocks damo-policy's kdamonds; apply --disable-modules)"),
        "{}",
        kernel.stdout
    );
    let applied = live(dir.path(), &["apply", "policies", "--disable-modules"]);
    assert_eq!(applied.code, 0, "{}", applied.transcript());
    assert!(applied.stderr.contains("disabled the DAMON module `damon_stat`"));
    assert_eq!(
        fs::read_to_string(dir.path().join("modules/damon_stat/parameters/enabled")).unwrap(),
        "N"
    );
}

#[test]
fn a_missing_memcg_keeps_the_previous_configuration() {
    for version in ["6.12", "7.3"] {
        let dir = setup(version);
        let with_filter = |cgroup: &str| format!("{COLD}[[scheme.filter]]\ntype = \"memcg\"\ncgroup = \"{cgroup}\"\n");
        write(dir.path(), "cold.toml", &with_filter("batch.slice"));
        assert_eq!(live(dir.path(), &["apply", "policies"]).code, 0);
        write(dir.path(), "cold.toml", &with_filter("no-such.slice"));
        let failed = live(dir.path(), &["apply", "policies"]);
        assert_eq!(failed.code, 3, "{}", failed.transcript());
        assert!(
            failed.stderr.contains("cgroup `/no-such.slice` not found"),
            "{version}: {}",
            failed.stderr
        );
        assert!(
            failed.stderr.contains("the previous configuration is restored"),
            "{}",
            failed.stderr
        );
        let status = live(dir.path(), &["status", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        assert_eq!(json["policies"][0]["state"], "on", "{version}: still running");
        // In JSON, one document still: the plan, and `applied` null.
        let failed_json = live(dir.path(), &["apply", "policies", "--format", "json"]);
        assert_eq!(failed_json.code, 3, "{}", failed_json.transcript());
        let json: serde_json::Value =
            serde_json::from_str(&failed_json.stdout).unwrap_or_else(|e| panic!("{e}: {}", failed_json.stdout));
        assert!(
            json["applied"].is_null() && json.get("applied").is_some() && !json["ops"].as_array().unwrap().is_empty(),
            "{json}"
        );
        if version == "7.3" {
            insta::assert_snapshot!("memcg_missing", failed.stderr);
        }
    }
}

/// The cold policy with watermarks (active from 5 % free memory up to 15 %, off above 20 %),
/// applied with a `/proc` of the test's (`proc/`) that `meminfo` fills.
fn applied_with_watermarks(version: &str) -> tempfile::TempDir {
    let dir = setup(version);
    let gated = COLD.replace(
        "[[scheme]]\n",
        "[[scheme]]\nwatermarks = { interval = \"5s\", high = \"20%\", mid = \"15%\", low = \"5%\" }\n",
    );
    write(dir.path(), "cold.toml", &gated);
    fixture_proc(dir.path());
    let apply = live(dir.path(), &["apply", "policies", "--proc-root", "proc"]);
    assert_eq!(apply.code, 0, "{}", apply.transcript());
    dir
}

fn meminfo(dir: &Path, free_permil: u64) {
    fs::write(
        dir.join("proc/meminfo"),
        format!("MemTotal:       1000 kB\nMemFree:        {free_permil} kB\n"),
    )
    .unwrap();
}

#[test]
fn status_leaves_a_kdamond_waiting_for_its_watermarks_alone() {
    let dir = applied_with_watermarks("7.3");
    // 90 % free: above the high watermark, the scheme is surely off, and a refresh would
    // wait for the kernel's next watermark check.
    meminfo(dir.path(), 900);
    let status = live(dir.path(), &["status", "--proc-root", "proc"]);
    insta::assert_snapshot!("status_waiting_for_watermarks", status.transcript());
    assert!(
        status.stdout.contains("tried 0 regions"),
        "not refreshed: {}",
        status.stdout
    );
    // 10 % free: between the low and mid watermarks the kernel runs it: refreshed.
    meminfo(dir.path(), 100);
    let status = live(dir.path(), &["status", "--proc-root", "proc"]);
    assert!(!status.stdout.contains("waits for its watermarks"), "{}", status.stdout);
    assert!(
        !status.stdout.contains("tried 0 regions"),
        "refreshed: {}",
        status.stdout
    );
}

#[test]
fn status_on_6_15_refreshes_only_while_a_scheme_is_surely_active() {
    // 6.14 and 6.15 answer a refresh of a kdamond whose schemes are all off only once one
    // activates; between `mid` and `high` user space cannot tell, so no refresh there.
    let dir = applied_with_watermarks("6.15");
    let status_at = |free_permil: u64| {
        meminfo(dir.path(), free_permil);
        live(dir.path(), &["status", "--proc-root", "proc"]).stdout
    };
    let unknown = status_at(170);
    assert!(
        unknown.contains("no scheme is surely active (free memory 170‰ now)") && unknown.contains("tried 0 regions"),
        "{unknown}"
    );
    let active = status_at(100);
    assert!(
        !active.contains("statistics as of") && !active.contains("tried 0 regions"),
        "{active}"
    );
}

#[test]
fn a_watermark_gated_change_on_6_12_plans_a_restart_and_says_why() {
    let dir = applied_with_watermarks("6.12");
    let gated = fs::read_to_string(dir.path().join("policies/cold.toml")).unwrap();
    write(dir.path(), "cold.toml", &gated.replace("60s", "90s"));
    let plan = live(dir.path(), &["plan", "policies", "--proc-root", "proc"]);
    insta::assert_snapshot!("gated_restart_plan", plan.transcript());
    let apply = live(dir.path(), &["apply", "policies", "--proc-root", "proc"]);
    assert!(
        apply.code == 0 && apply.stdout.ends_with("applied: 3 write(s), verified\n"),
        "{}",
        apply.transcript()
    );
}

#[test]
fn status_shows_each_target_process_memory_and_sizes_people_read() {
    let dir = setup("7.3");
    let proc = fixture_proc(dir.path());
    for pid in [4242, 4243] {
        fs::create_dir_all(proc.join(pid.to_string())).unwrap();
        fs::write(proc.join(format!("{pid}/comm")), "batch-worker\n").unwrap();
    }
    fs::write(
        proc.join("4242/status"),
        "Name:\tbatch-worker\nVmRSS:\t    8856 kB\nVmSwap:\t   65620 kB\n",
    )
    .unwrap();
    // 4243's status is unreadable (it may have just exited): its pid alone is shown.
    write(
        dir.path(),
        "worker.toml",
        &COLD.replace(
            "\"cold\"\n[target]\nphysical = { regions = [{ start = \"0x100000000\", end = \"0x140000000\" }] }",
            "\"worker\"\n[target]\nprocess = \"batch-worker\"",
        ),
    );
    let apply = live(dir.path(), &["apply", "policies", "--proc-root", "proc"]);
    assert_eq!(apply.code, 0, "{}", apply.transcript());
    let status = live(dir.path(), &["status", "--proc-root", "proc"]);
    insta::assert_snapshot!("status_process_targets", status.transcript());
    let json = live(dir.path(), &["status", "--proc-root", "proc", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let processes = &json["policies"][0]["processes"];
    assert_eq!(processes.as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(processes[0]["rss_bytes"], 8856 * 1024);
    assert_eq!(processes[0]["swap_bytes"], 65620 * 1024);
    assert_eq!(
        json["policies"][0]["targets"],
        serde_json::json!(["pid 4242", "pid 4243"]),
        "the kernel's targets, plain"
    );
    let sz_tried = json["policies"][0]["schemes"][0]["sz_tried"]
        .as_str()
        .unwrap_or_default();
    assert!(sz_tried.parse::<u64>().is_ok(), "exact bytes in JSON: {json}");
}

#[test]
fn watch_timings_out_of_bounds_are_refused_at_parsing() {
    let dir = setup("7.3");
    for (option, value, range) in [
        ("--resync", "0s", "1s to 24h"),
        ("--resync", "1ms", "1s to 24h"),
        ("--resync", "25h", "1s to 24h"),
        ("--debounce", "99999999999999h", "0s to 10s"),
        ("--debounce", "11s", "0s to 10s"),
    ] {
        let result = live(dir.path(), &["apply", "--watch", "policies", option, value]);
        assert_eq!(result.code, 2, "{option} {value}: {}", result.transcript());
        let message = format!("error: invalid value '{value}' for '{option} <DURATION>': must be from {range}");
        assert!(
            result.stderr.starts_with(&message),
            "{option} {value}: {}",
            result.stderr
        );
        assert!(!dir.path().join("kernel.json").exists(), "nothing ran");
    }
    // The bounds themselves are accepted: the options parse, and the service then refuses
    // the file (it watches a directory) before touching anything.
    write(dir.path(), "cold.toml", COLD);
    for bounds in [
        ["--resync", "1s", "--debounce", "0s"],
        ["--resync", "24h", "--debounce", "10s"],
    ] {
        let result = live(
            dir.path(),
            &[&["apply", "--watch", "policies/cold.toml"][..], &bounds].concat(),
        );
        assert_eq!(result.code, 2, "{}", result.transcript());
        assert!(
            result
                .stderr
                .starts_with("error: policies/cold.toml: --watch takes a directory"),
            "{}",
            result.stderr
        );
    }
}

#[test]
fn options_that_would_be_ignored_are_usage_errors() {
    let dir = setup("7.3");
    write(dir.path(), "cold.toml", COLD);
    // The service's options without --watch, and the report's with it.
    for (args, message) in [
        (
            &["apply", "policies", "--debounce", "1s"][..],
            "the following required arguments were not provided:\n  --watch",
        ),
        (
            &["apply", "policies", "--resync", "10s"],
            "the following required arguments were not provided:\n  --watch",
        ),
        (
            &["apply", "policies", "--stop-on-exit"],
            "the following required arguments were not provided:\n  --watch",
        ),
        (
            &["apply", "--watch", "policies", "--format", "json"],
            "the argument '--watch' cannot be used with '--format <FORMAT>'",
        ),
        (
            &["apply", "--watch", "policies", "-v"],
            "the argument '--watch' cannot be used with '--verbose'",
        ),
    ] {
        let result = live(dir.path(), args);
        assert_eq!(result.code, 2, "{args:?}: {}", result.transcript());
        assert!(result.stderr.contains(message), "{args:?}: {}", result.stderr);
    }
    // `plan` has no service: none of its options exist there.
    for option in ["--watch", "--debounce=1s", "--resync=10s", "--stop-on-exit"] {
        let result = live(dir.path(), &["plan", "policies", option]);
        assert_eq!(result.code, 2, "{option}: {}", result.transcript());
        let name = option.split('=').next().unwrap();
        assert!(
            result
                .stderr
                .starts_with(&format!("error: unexpected argument '{name}' found")),
            "{option}: {}",
            result.stderr
        );
    }
    assert!(!dir.path().join("kernel.json").exists(), "nothing ran");
    let help = live(dir.path(), &["plan", "--help"]).stdout;
    assert!(
        !help.contains("--debounce") && !help.contains("--stop-on-exit"),
        "{help}"
    );
}

#[test]
fn policy_paths_others_can_write_are_a_usage_error() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = setup("7.3");
    write(dir.path(), "cold.toml", COLD);
    let file = dir.path().join("policies/cold.toml");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o666)).unwrap();
    let refused = live(dir.path(), &["apply", "policies"]);
    assert_eq!(
        refused.code,
        2,
        "the user's to fix, not the kernel's refusal (3): {}",
        refused.transcript()
    );
    assert!(
        refused
            .stderr
            .contains("policy paths that users other than root can change"),
        "{}",
        refused.stderr
    );
    assert!(!dir.path().join("state/state.json").exists(), "nothing applied");
    let allowed = live(dir.path(), &["apply", "policies", "--allow-insecure-permissions"]);
    assert_eq!(allowed.code, 0, "{}", allowed.transcript());
}

#[test]
fn every_enabled_module_is_named_in_the_plan() {
    let dir = setup("7.3");
    write(dir.path(), "cold.toml", COLD);
    for module in ["damon_reclaim", "damon_lru_sort", "damon_stat"] {
        fs::create_dir_all(dir.path().join(format!("modules/{module}/parameters"))).unwrap();
        let enabled = if module == "damon_lru_sort" { "N\n" } else { "Y\n" };
        fs::write(dir.path().join(format!("modules/{module}/parameters/enabled")), enabled).unwrap();
    }
    let plan = live(dir.path(), &["plan", "policies", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    insta::assert_snapshot!("plan_two_modules", plan.stderr);
    // With --disable-modules, the plan says what that apply will do first.
    let preview = live(
        dir.path(),
        &["plan", "policies", "--format", "json", "--disable-modules"],
    );
    assert_eq!(preview.code, 0, "{}", preview.transcript());
    insta::assert_snapshot!("plan_two_modules_disabled_by_apply", preview.stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("modules/damon_stat/parameters/enabled")).unwrap(),
        "Y\n",
        "a plan writes nothing"
    );
}

#[test]
fn the_probe_cache_is_per_sysfs_root() {
    let dir = setup("7.3");
    let kernel = live(dir.path(), &["kernel"]);
    assert_eq!(kernel.code, 0, "{}", kernel.transcript());
    assert!(
        kernel.stdout.starts_with("kernel release 7.3; DAMON features of 7.3"),
        "{}",
        kernel.stdout
    );
    // The same record, another root: probed afresh, not the first root's features.
    fs::create_dir(dir.path().join("empty")).unwrap();
    let roots = |sysfs: &str| {
        [
            "kernel",
            "--sysfs-root",
            sysfs,
            "--state-dir",
            "state",
            "--module-root",
            "modules",
        ]
        .map(str::to_owned)
    };
    let empty = run(dir.path(), &roots("empty").each_ref().map(String::as_str));
    assert_eq!(empty.code, 2, "{}", empty.transcript());
    assert!(
        empty.stderr.starts_with("error: no DAMON sysfs interface at"),
        "{}",
        empty.stderr
    );
    let older = run(
        dir.path(),
        &roots("fake:6.12:older.json").each_ref().map(String::as_str),
    );
    assert_eq!(older.code, 0, "{}", older.transcript());
    assert!(
        older.stdout.starts_with("kernel release 6.12; DAMON features of 6.12"),
        "{}",
        older.stdout
    );
    // Each root keeps its own entry: the first one still answers for itself.
    assert!(
        live(dir.path(), &["kernel"])
            .stdout
            .starts_with("kernel release 7.3; DAMON features of 7.3")
    );
    let cache: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("state/kernel.json")).unwrap()).unwrap();
    assert_eq!(cache.as_array().map(Vec::len), Some(2), "{cache}");
}

#[test]
fn stop_waits_for_the_record_writer_then_stops() {
    let dir = setup("7.3");
    write(dir.path(), "cold.toml", COLD);
    let applied = live(dir.path(), &["apply", "policies"]);
    assert_eq!(applied.code, 0, "{}", applied.transcript());
    // Another writer (an apply, the service's reconcile) holds the record.
    let lock = fs::File::create(dir.path().join("state/lock")).unwrap();
    lock.lock().unwrap();
    let mut stop = std::process::Command::new(env!("CARGO_BIN_EXE_damo-policy"))
        .args(live_args(dir.path(), "state", &["stop"]))
        .current_dir(dir.path())
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(stop.try_wait().unwrap().is_none(), "stop waits for the writer");
    assert!(
        fs::read_to_string(dir.path().join("kernel.json"))
            .unwrap()
            .contains("\"on\""),
        "the kdamond still runs"
    );
    lock.unlock().unwrap();
    let stopped = stop.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&stopped.stdout);
    assert_eq!(
        stopped.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&stopped.stderr)
    );
    assert_eq!(stdout, "stopped `cold` (kdamond 0)\n");
    // And without another writer it does not wait for itself.
    assert_eq!(
        live(dir.path(), &["stop"]).stdout,
        "`cold` (kdamond 0) is not running\n"
    );
}

/// The service's status file outlives it: `status` tells a running service from an exited
/// or vanished one, and shows a finding of no file without a made-up location.
#[test]
fn status_tells_whether_the_service_still_runs() {
    let dir = setup("7.3");
    write(dir.path(), "cold.toml", COLD);
    fixture_proc(dir.path());
    assert_eq!(live(dir.path(), &["apply", "policies", "--proc-root", "proc"]).code, 0);
    fs::create_dir_all(dir.path().join("proc/4242")).unwrap();
    let service = |exited: &str| {
        let text = format!(
            "{{\"pid\": 4242, \"generation\": 3, \"last_reload\": \"2026-11-26T01:00:00Z\", \"cause\": \"files\", \"result\": \"unreadable\", \
\"message\": \"policies: no such directory\", \"errors\": [{{\"severity\": \"error\", \"code\": \"io\", \"message\": \"policies: no such directory\"}}]{exited}}}"
        );
        fs::write(dir.path().join("state/status.json"), text).unwrap();
        live(dir.path(), &["status", "--proc-root", "proc"]).stdout
    };
    let running = service("");
    assert!(running.contains("service: pid 4242, generation 3"), "{running}");
    assert!(
        running.contains("\n  policies: no such directory\n") && !running.contains("null"),
        "{running}"
    );
    let exited = service(", \"exited\": \"2026-11-26T01:05:00Z\"");
    assert!(
        exited.contains("service: exited 2026-11-26T01:05:00Z (pid 4242), generation 3"),
        "{exited}"
    );
    fs::remove_dir(dir.path().join("proc/4242")).unwrap();
    let gone = service("");
    assert!(
        gone.contains("service: pid 4242 is gone without exiting cleanly"),
        "{gone}"
    );
}

/// A running kernel newer than any damo-policy knows is used, with a warning, as `check`
/// and `compile` warn for a named or pinned one.
#[test]
fn a_running_kernel_newer_than_known_is_used_with_a_warning() {
    let dir = setup("7.5");
    write(dir.path(), "cold.toml", COLD);
    let plan = live(dir.path(), &["plan", "policies"]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    assert!(
        plan.stderr.starts_with(
            "warning: kernel 7.5 (the running kernel) is newer than the newest kernel damo-policy knows, 7.3"
        ),
        "{}",
        plan.stderr
    );
}

/// `plan` is the dry run of `apply`: a policy whose process is not running fails both alike
/// (exit 2), and neither plans anything for it.
#[test]
fn plan_and_apply_agree_on_a_target_that_is_not_running() {
    let dir = setup("7.3");
    fixture_proc(dir.path());
    write(dir.path(), "cold.toml", COLD);
    write(
        dir.path(),
        "gone.toml",
        "[target]\npids = [4243]\n[[scheme]]\naction = \"stat\"\n",
    );
    let plan = live(dir.path(), &["plan", "policies", "--proc-root", "proc"]);
    let apply = live(dir.path(), &["apply", "policies", "--proc-root", "proc"]);
    assert_eq!(
        (plan.code, apply.code),
        (2, 2),
        "{}\n{}",
        plan.transcript(),
        apply.transcript()
    );
    for run in [&plan, &apply] {
        assert!(
            run.stderr
                .contains("error: policy `gone` (policies/gone.toml): process 4243 is not running"),
            "{}",
            run.transcript()
        );
        assert!(!run.stdout.contains("policy `gone`"), "{}", run.transcript());
    }
}
