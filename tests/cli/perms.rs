//! `apply` refuses policies that users other than root can change, as sshd's StrictModes:
//! also through a parent directory, and the directory of a file given alone. Against a
//! fake kernel kept in a file, as in `live.rs`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::{Run, run};

const POLICY: &str = "name = \"cold\"\n[target]\nphysical = { regions = [{ start = \"0x100000000\", end = \"0x140000000\" }] }\n\
[[scheme]]\naction = \"pageout\"\n";

fn apply(dir: &Path, path: &str) -> Run {
    run(
        dir,
        &[
            "apply",
            path,
            "--sysfs-root",
            "fake:7.3:kernel.json",
            "--state-dir",
            "state",
            "--module-root",
            "modules",
        ],
    )
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_world_writable_parent_refuses_everything_until_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let parent = dir.path().join("srv");
    fs::create_dir_all(parent.join("policies")).unwrap();
    fs::create_dir(dir.path().join("modules")).unwrap();
    fs::write(parent.join("policies/cold.toml"), POLICY).unwrap();
    chmod(&parent.join("policies"), 0o755);
    chmod(&parent, 0o757);
    let refused = apply(dir.path(), "srv/policies");
    assert_eq!(refused.code, 2, "{}", refused.transcript());
    let expected = format!("{} is writable by everyone (mode 757)", parent.display());
    assert!(refused.stderr.contains(&expected), "{}", refused.transcript());
    assert!(
        refused.stderr.contains(&format!("`chmod o-w {}`", parent.display())),
        "{}",
        refused.transcript()
    );
    assert!(!refused.stdout.contains("applied"), "{}", refused.transcript());
    chmod(&parent, 0o755);
    let applied = apply(dir.path(), "srv/policies");
    assert_eq!(applied.code, 0, "{}", applied.transcript());
}

#[test]
fn a_file_argument_in_a_world_writable_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    fs::create_dir(&shared).unwrap();
    fs::create_dir(dir.path().join("modules")).unwrap();
    fs::write(shared.join("cold.toml"), POLICY).unwrap();
    chmod(&shared.join("cold.toml"), 0o644);
    chmod(&shared, 0o777);
    let refused = apply(dir.path(), "shared/cold.toml");
    assert_eq!(refused.code, 2, "{}", refused.transcript());
    assert!(
        refused
            .stderr
            .contains(&format!("{} is writable by everyone (mode 777)", shared.display())),
        "{}",
        refused.transcript()
    );
    assert!(
        refused.stderr.contains(&format!("`chmod go-w {}`", shared.display())),
        "{}",
        refused.transcript()
    );
    // Sticky, as /tmp: others cannot replace the file, so it is applied.
    chmod(&shared, 0o1777);
    let applied = apply(dir.path(), "shared/cold.toml");
    assert_eq!(applied.code, 0, "{}", applied.transcript());
}
