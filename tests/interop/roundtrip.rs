//! policy → damo JSON → policy compiles to the same kernel values: every example policy,
//! every valid fixture and every translated legacy fixture, their targets resolved on a
//! fake host (processes, a cgroup, System RAM, NUMA nodes), so that none needs the real one.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use damo_policy::compile::{self, Compiled};
use damo_policy::host::HostPaths;
use damo_policy::interop::kdamonds::{export as damo_json, import};
use damo_policy::interop::legacy::translate::TargetChoice;
use damo_policy::kernel::Version;
use damo_policy::policy::source::SourceFile;
use damo_policy::validate;

use crate::support::kernel_writes;

/// A host with the processes, cgroup, System RAM and NUMA nodes the policies name, as
/// (file below `root`, content): NUMA nodes 0 and 1 have two 128 MiB memory blocks each.
const HOST_FILES: &[(&str, &str)] = &[
    ("proc/101/comm", "batch-worker\n"),
    ("proc/102/comm", "postgres\n"),
    ("proc/103/comm", "worker\n"),
    ("proc/104/comm", "postgres\n"),
    (
        "proc/iomem",
        "00001000-0009fbff : System RAM\n100000000-43fffffff : System RAM\n",
    ),
    ("cgroup/web.slice/cgroup.procs", "7\n5\n"),
    ("system/memory/block_size_bytes", "8000000\n"),
    ("system/node/node0/memory32/online", "1\n"),
    ("system/node/node0/memory33/online", "1\n"),
    ("system/node/node1/memory40/online", "1\n"),
    ("system/node/node1/memory42/online", "1\n"),
];

pub fn fake_host(root: &Path) -> HostPaths {
    for (path, content) in HOST_FILES {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    HostPaths {
        proc_root: root.join("proc"),
        cgroup_root: root.join("cgroup"),
        system_root: root.join("system"),
    }
}

/// Compiles policy files (validated for the newest kernel) on `host`.
fn compiled(files: &[(String, String)], host: &HostPaths) -> Compiled {
    let policies: Vec<_> = files
        .iter()
        .map(|(name, text)| {
            let outcome =
                validate::validate_file(Arc::new(SourceFile::new(name, text.as_str())), Version::NEWEST_KNOWN);
            outcome.policy.unwrap_or_else(|| {
                panic!(
                    "{name}: {:?}",
                    outcome.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
                )
            })
        })
        .collect();
    compile::compile(&policies, Version::NEWEST_KNOWN, host)
}

/// The policies damo's JSON of `compiled` imports as.
pub fn through_damo_json(json: &str) -> Vec<(String, String)> {
    through_import("exported.json", json)
}

/// The policies a kdamonds tree imports as, read as a file named `name` (`.json`, `.yaml`).
pub fn through_import(name: &str, text: &str) -> Vec<(String, String)> {
    let input = Arc::new(SourceFile::new(name, text));
    let (imported, diags) = import::import(&input, "exported", &TargetChoice::Physical { chosen: false });
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "import: {errors:?}\n{text}");
    let (texts, checked) = import::checked_texts(&imported, Path::new(""), Version::NEWEST_KNOWN);
    assert!(
        checked.iter().all(|d| !d.is_error()),
        "{:?}",
        checked.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
    texts
        .into_iter()
        .map(|(path, text)| (path.display().to_string(), text))
        .collect()
}

fn assert_round_trip(name: &str, files: Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let host = fake_host(dir.path());
    let before = compiled(&files, &host);
    assert!(before.skipped.is_empty(), "{name}: {:?}", before.skipped);
    let json = damo_json::kdamonds(&before);
    let imported = through_damo_json(&json);
    let after = compiled(&imported, &host);
    let writes = |c: &Compiled| -> Vec<(String, String)> {
        compile::sysfs::writes(c, damo_policy::kernel::Layout::new(Version::NEWEST_KNOWN))
            .into_iter()
            .map(|w| (w.file.to_string(), w.value))
            .collect()
    };
    assert_eq!(
        writes(&before),
        writes(&after),
        "{name}: kernel values differ after the round trip\n{json}"
    );
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn example_policies_and_valid_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in [root.join("policies"), root.join("tests/fixtures/valid")] {
        for path in toml_files(&dir)
            .into_iter()
            .filter(|p| !p.ends_with("damo-policy.toml"))
        {
            let text = fs::read_to_string(&path).unwrap();
            // Fixtures for older kernels are checked for the newest here: same values.
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert_round_trip(&name, vec![(name.clone(), text)]);
            count += 1;
        }
    }
    assert!(count >= 10, "only {count} policies");
}

/// All examples at once: kdamond indices and order survive too.
#[test]
fn example_directory_as_one_configuration() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let files: Vec<(String, String)> = toml_files(&root)
        .into_iter()
        .filter(|p| !p.ends_with("damo-policy.toml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    assert_round_trip("policies/", files);
}

#[test]
fn translated_legacy_fixtures() {
    let dir = crate::common::damo_fixtures().join("legacy");
    for name in ["ethp.damos", "every-variant.damos", "tokens.damos"] {
        let text = fs::read_to_string(dir.join(name)).unwrap();
        let translation = crate::support::translate(&text, TargetChoice::Pids(vec![4242]));
        let policy = translation
            .text
            .unwrap_or_else(|| panic!("{name}: {:?}", translation.diagnostics));
        assert_round_trip(name, vec![(format!("{name}.toml"), policy)]);
    }
}

/// damo's own JSON (printed by damo 3.4.3 for people, with rounded units) imports to the
/// values damo stages for it.
#[test]
fn damo_printed_json_imports_to_damo_values() {
    let json = fs::read_to_string(crate::common::damo_fixtures().join("json/damo-args-paddr.json")).unwrap();
    let files = through_damo_json(&json);
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let writes = kernel_writes(&refs, &crate::support::empty_host());
    let value = |leaf: &str| {
        writes
            .iter()
            .find(|(p, _)| p.ends_with(leaf))
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{leaf}"))
    };
    assert_eq!(value("targets/0/regions/0/start"), "4294967296");
    assert_eq!(value("targets/0/regions/0/end"), "17179869184");
    assert_eq!(value("schemes/0/action"), "pageout");
    assert_eq!(value("schemes/0/access_pattern/age/min"), "50");
    assert_eq!(value("schemes/0/quotas/ms"), "10");
    assert_eq!(value("schemes/0/quotas/bytes"), "134217728");
    assert_eq!(value("schemes/0/quotas/goals/0/target_metric"), "some_mem_psi_us");
    assert_eq!(value("schemes/0/quotas/goals/0/target_value"), "10000");
    assert_eq!(value("schemes/0/ops_filters/0/memcg_path"), "/system.slice/app.service");
    assert_eq!(value("schemes/0/watermarks/high"), "800");
    // 50% of 20 samples; damo's `max` percent is unbounded.
    assert_eq!(value("schemes/1/access_pattern/nr_accesses/min"), "10");
    assert_eq!(value("schemes/1/access_pattern/nr_accesses/max"), "4294967295");
    assert_eq!(value("schemes/1/quotas/weights/age_permil"), "3");
}
