//! Library-level helpers: translate text, compile a policy text to its kernel writes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use damo_policy::compile::{self, sysfs};
use damo_policy::host::HostPaths;
use damo_policy::interop::legacy::translate::{self, Options, TargetChoice, Translation};
use damo_policy::kernel::{Layout, Version};
use damo_policy::policy::source::SourceFile;
use damo_policy::validate;

/// Translates legacy text for `target`, checked for the newest kernel.
pub fn translate(damos: &str, target: TargetChoice) -> Translation {
    let input = Arc::new(SourceFile::new("test.damos", damos));
    let options = Options {
        target,
        name: None,
        kernel: Version::NEWEST_KNOWN,
        output: PathBuf::from("translated.toml"),
    };
    translate::translate(&input, &options)
}

/// A host with nothing on it: policies with explicit pids or regions need none.
pub fn empty_host() -> HostPaths {
    HostPaths {
        proc_root: "/nonexistent/proc".into(),
        cgroup_root: "/nonexistent/cgroup".into(),
        system_root: "/nonexistent/system".into(),
    }
}

/// The sysfs writes (path → value) of policy texts compiled together, in order.
pub fn kernel_writes(policies: &[(&str, &str)], host: &HostPaths) -> Vec<(String, String)> {
    let kernel = Version::NEWEST_KNOWN;
    let mut resolved = Vec::new();
    for (name, text) in policies {
        let outcome = validate::validate_file(Arc::new(SourceFile::new(*name, *text)), kernel);
        let errors: Vec<_> = outcome
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.message.clone())
            .collect();
        assert!(errors.is_empty(), "{name} does not validate: {errors:?}\n{text}");
        resolved.push(outcome.policy.expect("a valid policy"));
    }
    let compiled = compile::compile(&resolved, kernel, host);
    assert!(compiled.skipped.is_empty(), "not compiled: {:?}", compiled.skipped);
    let writes: Vec<(String, String)> = sysfs::writes(&compiled, Layout::new(kernel))
        .into_iter()
        .map(|w| (w.file.to_string(), w.value))
        .collect();
    // `compile --format sysfs` prints the same writes through its own sink.
    let mut printed = Vec::new();
    sysfs::print(&compiled, Layout::new(kernel), &mut printed).unwrap();
    let lines: String = writes.iter().map(|(path, value)| format!("{path} {value}\n")).collect();
    assert_eq!(String::from_utf8(printed).unwrap(), lines);
    writes
}

/// The leaves of scheme `s` of kdamond 0 (`access_pattern/sz/min` → value).
pub fn scheme_leaves(writes: &[(String, String)], s: usize) -> BTreeMap<String, String> {
    let prefix = format!("kdamonds/0/contexts/0/schemes/{s}/");
    writes
        .iter()
        .filter_map(|(p, v)| p.strip_prefix(&prefix).map(|leaf| (leaf.to_owned(), v.clone())))
        .collect()
}
