//! Refusing policy files that someone other than root can change, as sshd's StrictModes
//! does: the engine runs as root and its policies steer kernel memory management. Symbolic
//! links are followed (a Kubernetes ConfigMap's files are symlinks through `..data`), and
//! what they point to — and the directory holding it — must pass the same check.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A path others can write, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insecure {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for Insecure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}; fix it with `chown root {0}; chmod go-w {0}`, or pass --allow-insecure-permissions",
            self.path.display(),
            self.reason
        )
    }
}

/// The user the engine runs as: files it owns are as trusted as root's.
fn own_uid() -> u32 {
    fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0)
}

fn check(path: &Path, uid: u32, out: &mut Vec<Insecure>) {
    let Ok(meta) = fs::metadata(path) else { return };
    let reason = if meta.uid() != 0 && meta.uid() != uid {
        Some(format!("is owned by uid {}, not root", meta.uid()))
    } else if meta.mode() & 0o022 != 0 {
        Some(format!("is writable by {} (mode {:o})", if meta.mode() & 0o002 != 0 { "everyone" } else { "its group" }, meta.mode() & 0o7777))
    } else {
        None
    };
    if let Some(reason) = reason
        && !out.iter().any(|i| i.path == path)
    {
        out.push(Insecure { path: path.to_path_buf(), reason });
    }
}

/// Every path among `dirs`, `files`, their symlink targets and the targets' directories
/// that others can write.
pub fn insecure(dirs: &[PathBuf], files: &[PathBuf]) -> Vec<Insecure> {
    let uid = own_uid();
    let mut out = Vec::new();
    for dir in dirs {
        check(dir, uid, &mut out);
    }
    for file in files {
        // A symlink's own mode means nothing: check what it resolves to, and where.
        match fs::symlink_metadata(file) {
            Ok(m) if m.file_type().is_symlink() => {
                if let Ok(target) = fs::canonicalize(file) {
                    check(&target, uid, &mut out);
                    if let Some(parent) = target.parent() {
                        check(parent, uid, &mut out);
                    }
                }
            }
            _ => check(file, uid, &mut out),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn group_or_world_writable_files_and_link_targets_are_insecure() {
        let dir = tempfile::tempdir().unwrap();
        let policies = dir.path().join("policies");
        let data = dir.path().join("data");
        fs::create_dir(&policies).unwrap();
        fs::create_dir(&data).unwrap();
        for d in [&policies, &data] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
        }
        let good = policies.join("good.toml");
        fs::write(&good, "").unwrap();
        fs::set_permissions(&good, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(insecure(std::slice::from_ref(&policies), std::slice::from_ref(&good)).is_empty());

        let target = data.join("linked.toml");
        fs::write(&target, "").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o666)).unwrap();
        let link = policies.join("linked.toml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let found = insecure(&[policies], &[good, link]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].to_string().contains("writable by everyone (mode 666)"), "{}", found[0]);
        assert!(found[0].to_string().contains("--allow-insecure-permissions"));
    }
}
