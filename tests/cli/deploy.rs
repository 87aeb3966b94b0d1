//! The deployment examples stay true: the Kubernetes ConfigMap's policies pass `check`
//! for the kernel they pin, and the systemd unit is a notify service that reloads on HUP.

use std::fs;

use crate::common::{repo, run};

/// The `data:` entries of a ConfigMap written with `key: |` block scalars.
fn configmap_entries(yaml: &str) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = Vec::new();
    let mut in_data = false;
    for line in yaml.lines() {
        if line == "data:" {
            in_data = true;
        } else if in_data && line.starts_with("  ") && !line.starts_with("    ") {
            let key = line.trim().trim_end_matches('|').trim().trim_end_matches(':');
            entries.push((key.to_owned(), String::new()));
        } else if in_data && let Some((_, body)) = entries.last_mut() {
            body.push_str(line.strip_prefix("    ").unwrap_or(""));
            body.push('\n');
        }
    }
    entries
}

#[test]
fn configmap_policies_pass_check() {
    let yaml = fs::read_to_string(repo().join("deploy/kubernetes/configmap.yaml")).unwrap();
    let entries = configmap_entries(&yaml);
    assert!(
        entries.iter().any(|(k, _)| k == "damo-policy.toml"),
        "the fleet pins its kernel"
    );
    let dir = tempfile::tempdir().unwrap();
    for (key, body) in &entries {
        fs::write(dir.path().join(key), body).unwrap();
    }
    let result = run(dir.path(), &["check", ".", "--deny-warnings"]);
    assert_eq!(result.code, 0, "{}", result.transcript());
    assert!(
        result.stdout.contains("kernel 6.12 (pinned by ./damo-policy.toml)"),
        "{}",
        result.stdout
    );
}

#[test]
fn systemd_unit_is_a_reloadable_notify_service() {
    let unit = fs::read_to_string(repo().join("deploy/damo-policy.service")).unwrap();
    for line in [
        "Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "KillMode=process",
        "ProtectSystem=strict",
        "ProtectKernelTunables=yes",
    ] {
        assert!(unit.lines().any(|l| l == line), "missing `{line}`");
    }
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    assert!(exec.contains("apply --watch"), "{exec}");
    // The DAMON tree stays writable under ProtectSystem=strict.
    assert!(
        unit.lines()
            .any(|l| l.starts_with("ReadWritePaths=") && l.contains("/sys/kernel/mm/damon"))
    );
}
