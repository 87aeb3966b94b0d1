//! Refusing policy files that someone other than root can change, as sshd's StrictModes
//! does: the engine runs as root and its policies steer kernel memory management.
//!
//! What a path names is decided by every directory it is looked up in, so the check walks
//! the path from `/` as the kernel resolves it: each directory looked up in (the ancestors,
//! and those a symbolic link leads through — a Kubernetes ConfigMap's files are symlinks
//! through `..data` to a `..TIMESTAMP` directory), and what it finally names, must be owned
//! by root (or the engine's own user) and writable by no one else. An ancestor that others
//! may write is still safe with the sticky bit (`/tmp`): they cannot rename or remove
//! entries they do not own. A policy directory is not: anyone could add a policy to it.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// A path others can write, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insecure {
    pub path: PathBuf,
    pub reason: String,
    /// The commands that make it safe, each in backquotes.
    pub fix: String,
}

impl std::fmt::Display for Insecure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}; fix it with {}, or pass --allow-insecure-permissions",
            self.path.display(),
            self.reason,
            self.fix
        )
    }
}

/// The user the engine runs as: files it owns are as trusted as root's.
fn own_uid() -> u32 {
    fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0)
}

/// What a checked path is to the policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Role {
    /// A directory a policy path is looked up in.
    Ancestor,
    /// A policy directory: its entries are the policies.
    PolicyDir,
    /// A policy file (the file a symlink resolves to).
    File,
}

/// Symbolic links followed for one path at most, as the kernel's `MAXSYMLINKS`.
const MAX_LINKS: usize = 40;

struct Checker {
    uid: u32,
    checked: HashSet<(PathBuf, Role)>,
    out: Vec<Insecure>,
}

impl Checker {
    fn check(&mut self, path: &Path, role: Role) {
        if !self.checked.insert((path.to_path_buf(), role)) {
            return;
        }
        // `path` is resolved (no symbolic links in it), so this is the entry itself.
        let Ok(meta) = fs::metadata(path) else { return };
        let mode = meta.mode();
        let mut reasons = Vec::new();
        let mut fixes = Vec::new();
        if meta.uid() != 0 && meta.uid() != self.uid {
            reasons.push(format!("is owned by uid {}, not root", meta.uid()));
            fixes.push(format!("`chown root {}`", path.display()));
        }
        let sticky_dir = meta.is_dir() && mode & 0o1000 != 0;
        if mode & 0o022 != 0 && !(role == Role::Ancestor && sticky_dir) {
            let who = if mode & 0o002 != 0 { "everyone" } else { "its group" };
            let bits = match mode & 0o022 {
                0o002 => "o-w",
                0o020 => "g-w",
                _ => "go-w",
            };
            let consequence = match role {
                Role::Ancestor => ", so others can replace the policies below it",
                Role::PolicyDir => ", so others can add, replace or remove policies in it",
                Role::File => "",
            };
            reasons.push(format!("is writable by {who} (mode {:o}){consequence}", mode & 0o7777));
            fixes.push(match role {
                // Sticky, as /tmp is: others keep creating entries but cannot move these.
                Role::Ancestor => format!("`chmod {bits} {0}` (or `chmod +t {0}`, as /tmp has)", path.display()),
                _ => format!("`chmod {bits} {}`", path.display()),
            });
        }
        if !reasons.is_empty() && !self.out.iter().any(|i| i.path == path) {
            let fix = fixes.join(" and ");
            self.out.push(Insecure {
                path: path.to_path_buf(),
                reason: reasons.join(" and "),
                fix,
            });
        }
    }

    /// Checks every directory `path` is looked up in, then what it names as `role`.
    fn check_path(&mut self, path: &Path, role: Role) {
        let Some(walk) = resolve(path) else { return };
        for dir in &walk.looked_up_in {
            self.check(dir, Role::Ancestor);
        }
        self.check(&walk.target, role);
    }
}

/// A path resolved as the kernel does: the directories names were looked up in, in order
/// (symbolic links resolved), and the entry it names.
struct Walk {
    looked_up_in: Vec<PathBuf>,
    target: PathBuf,
}

enum Step {
    Root,
    Parent,
    Name(OsString),
}

fn steps(path: &Path) -> impl DoubleEndedIterator<Item = Step> + '_ {
    path.components().filter_map(|c| match c {
        Component::RootDir | Component::Prefix(_) => Some(Step::Root),
        Component::CurDir => None,
        Component::ParentDir => Some(Step::Parent),
        Component::Normal(name) => Some(Step::Name(name.to_owned())),
    })
}

/// `None` when the path does not resolve (missing, a loop): reading it reports that.
fn resolve(path: &Path) -> Option<Walk> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let mut pending: Vec<Step> = steps(&absolute).rev().collect();
    let mut current = PathBuf::from("/");
    let mut looked_up_in: Vec<PathBuf> = Vec::new();
    let mut links = 0;
    while let Some(step) = pending.pop() {
        match step {
            Step::Root => current = PathBuf::from("/"),
            // `current` holds no symbolic links, so its parent is the lexical one.
            Step::Parent => {
                current.pop();
            }
            Step::Name(name) => {
                if looked_up_in.last() != Some(&current) {
                    looked_up_in.push(current.clone());
                }
                let next = current.join(&name);
                if fs::symlink_metadata(&next).ok()?.file_type().is_symlink() {
                    links += 1;
                    if links > MAX_LINKS {
                        return None;
                    }
                    // The link's own directory was looked up in; its target continues from there.
                    pending.extend(steps(&fs::read_link(&next).ok()?).rev());
                } else {
                    current = next;
                }
            }
        }
    }
    Some(Walk {
        looked_up_in,
        target: current,
    })
}

/// Every path among `dirs` (policy directories), `files` (policy files), the directories
/// they are looked up in from `/` and what their symbolic links lead to, that users other
/// than root (and the engine's own user) can change.
pub fn insecure(dirs: &[PathBuf], files: &[PathBuf]) -> Vec<Insecure> {
    let mut checker = Checker {
        uid: own_uid(),
        checked: HashSet::new(),
        out: Vec::new(),
    };
    for dir in dirs {
        checker.check_path(dir, Role::PolicyDir);
    }
    for file in files {
        checker.check_path(file, Role::File);
    }
    checker.out
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
        assert!(
            found[0].to_string().contains("writable by everyone (mode 666)"),
            "{}",
            found[0]
        );
        assert!(found[0].to_string().contains("--allow-insecure-permissions"));
    }

    fn mkdir(path: &Path, mode: u32) {
        fs::create_dir_all(path).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    fn policy(path: &Path) {
        fs::write(path, "").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
    }

    /// A parent others can write could swap the whole policy directory: refused, naming
    /// the parent and the fix; with the sticky bit (as /tmp) it is safe.
    #[test]
    fn a_world_writable_parent_is_insecure_unless_sticky() {
        let dir = tempfile::tempdir().unwrap();
        let parent = dir.path().join("srv");
        let policies = parent.join("policies");
        // `chmod o+w` of a usual directory.
        mkdir(&parent, 0o757);
        mkdir(&policies, 0o755);
        let file = policies.join("p.toml");
        policy(&file);
        let found = insecure(std::slice::from_ref(&policies), std::slice::from_ref(&file));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, parent);
        let text = found[0].to_string();
        assert!(
            text.contains("is writable by everyone (mode 757), so others can replace the policies below it"),
            "{text}"
        );
        assert!(text.contains(&format!("`chmod o-w {}`", parent.display())), "{text}");
        fs::set_permissions(&parent, fs::Permissions::from_mode(0o777)).unwrap();
        let found = insecure(std::slice::from_ref(&policies), std::slice::from_ref(&file));
        assert!(
            found[0]
                .to_string()
                .contains(&format!("`chmod go-w {}`", parent.display())),
            "{}",
            found[0]
        );
        fs::set_permissions(&parent, fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(insecure(std::slice::from_ref(&policies), std::slice::from_ref(&file)).is_empty());
        // A group-writable grandparent counts too.
        fs::set_permissions(&parent, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o770)).unwrap();
        let found = insecure(&[policies], &[file]);
        assert_eq!(
            found.iter().map(|i| i.path.clone()).collect::<Vec<_>>(),
            [dir.path().to_path_buf()]
        );
        assert!(
            found[0]
                .to_string()
                .contains(&format!("`chmod g-w {}`", dir.path().display())),
            "{}",
            found[0]
        );
    }

    /// A file given alone is looked up in its directory: one others can write is refused,
    /// a sticky one (a file in /tmp) is not. A policy directory must not be world-writable
    /// even when sticky: anyone could add a policy to it.
    #[test]
    fn a_file_argument_in_a_world_writable_directory_is_insecure() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        mkdir(&shared, 0o757);
        let file = shared.join("p.toml");
        policy(&file);
        let found = insecure(&[], std::slice::from_ref(&file));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, shared);
        assert!(
            found[0]
                .to_string()
                .contains(&format!("`chmod o-w {}`", shared.display())),
            "{}",
            found[0]
        );
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o1757)).unwrap();
        assert!(insecure(&[], std::slice::from_ref(&file)).is_empty());
        let found = insecure(std::slice::from_ref(&shared), &[file]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .to_string()
                .contains("others can add, replace or remove policies in it"),
            "{}",
            found[0]
        );
    }

    /// A Kubernetes ConfigMap: `p.toml -> ..data/p.toml`, `..data -> ..2026_01_01_00_00_00.1`.
    /// Safe as mounted; the timestamped directory the links lead through is checked too.
    #[test]
    fn configmap_symlinks_are_followed_through_their_directories() {
        let dir = tempfile::tempdir().unwrap();
        let policies = dir.path().join("policies");
        let stamp = policies.join("..2026_01_01_00_00_00.1");
        mkdir(&policies, 0o755);
        mkdir(&stamp, 0o755);
        policy(&stamp.join("p.toml"));
        std::os::unix::fs::symlink("..2026_01_01_00_00_00.1", policies.join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/p.toml", policies.join("p.toml")).unwrap();
        let file = policies.join("p.toml");
        assert!(insecure(std::slice::from_ref(&policies), std::slice::from_ref(&file)).is_empty());
        fs::set_permissions(&stamp, fs::Permissions::from_mode(0o777)).unwrap();
        let found = insecure(&[policies], &[file]);
        assert_eq!(found.iter().map(|i| i.path.clone()).collect::<Vec<_>>(), [stamp]);
    }
}
