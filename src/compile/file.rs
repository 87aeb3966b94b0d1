//! The typed address of a DAMON sysfs file: the numbered directory it is in ([`Node`]: which
//! kdamond, scheme, target, goal, filter or destination) and its name there (the leaf).
//!
//! Compile emits writes addressed this way and every later stage (plan, apply, restore, the
//! explanation of a refused write, status) asks the address what it is about instead of
//! splitting a path string. The path string exists only where a file is opened or shown:
//! [`File`]'s `Display` renders it relative to `/sys/kernel/mm/damon/admin`.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::kernel::defaults::Child;

/// Which of a scheme's filter directories: the one of kernels before 6.15, or the core and
/// operations-set directories that replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FilterDir {
    Filters,
    Core,
    Ops,
}

impl FilterDir {
    pub fn dir_name(self) -> &'static str {
        match self {
            FilterDir::Filters => "filters",
            FilterDir::Core => "core_filters",
            FilterDir::Ops => "ops_filters",
        }
    }

    /// The count file of this directory, relative to its scheme.
    pub fn nr_leaf(self) -> &'static str {
        match self {
            FilterDir::Filters => "filters/nr_filters",
            FilterDir::Core => "core_filters/nr_filters",
            FilterDir::Ops => "ops_filters/nr_filters",
        }
    }
}

/// A directory of the tree: the admin root's `kdamonds/` or one numbered directory below it.
/// Every kdamond has exactly one context, `contexts/0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// `kdamonds/`
    Kdamonds,
    /// `kdamonds/K/`
    Kdamond { kdamond: usize },
    /// `kdamonds/K/contexts/0/`
    Context { kdamond: usize },
    /// `…/contexts/0/targets/T/`
    Target { kdamond: usize, target: usize },
    /// `…/targets/T/regions/R/`
    Region {
        kdamond: usize,
        target: usize,
        region: usize,
    },
    /// `…/contexts/0/schemes/S/`
    Scheme { kdamond: usize, scheme: usize },
    /// `…/schemes/S/quotas/goals/G/`
    Goal { kdamond: usize, scheme: usize, goal: usize },
    /// `…/schemes/S/<filters|core_filters|ops_filters>/F/`
    Filter {
        kdamond: usize,
        scheme: usize,
        dir: FilterDir,
        filter: usize,
    },
    /// `…/schemes/S/dests/D/`
    Dest { kdamond: usize, scheme: usize, dest: usize },
}

impl Node {
    /// The file `leaf` in this directory.
    pub fn file(self, leaf: &'static str) -> File {
        File { node: self, leaf }
    }

    /// The kdamond this directory configures (none for `kdamonds/` itself).
    pub fn kdamond(self) -> Option<usize> {
        match self {
            Node::Kdamonds => None,
            Node::Kdamond { kdamond }
            | Node::Context { kdamond }
            | Node::Target { kdamond, .. }
            | Node::Region { kdamond, .. }
            | Node::Scheme { kdamond, .. }
            | Node::Goal { kdamond, .. }
            | Node::Filter { kdamond, .. }
            | Node::Dest { kdamond, .. } => Some(kdamond),
        }
    }

    /// The scheme this directory belongs to, if any.
    pub fn scheme(self) -> Option<usize> {
        match self {
            Node::Scheme { scheme, .. }
            | Node::Goal { scheme, .. }
            | Node::Filter { scheme, .. }
            | Node::Dest { scheme, .. } => Some(scheme),
            _ => None,
        }
    }

    /// The kind of numbered directory this is (what an `nr_*` file creates).
    pub fn kind(self) -> Option<Child> {
        Some(match self {
            Node::Kdamonds => return None,
            Node::Kdamond { .. } => Child::Kdamond,
            Node::Context { .. } => Child::Context,
            Node::Target { .. } => Child::Target,
            Node::Region { .. } => Child::Region,
            Node::Scheme { .. } => Child::Scheme,
            Node::Goal { .. } => Child::Goal,
            Node::Filter { .. } => Child::Filter,
            Node::Dest { .. } => Child::Dest,
        })
    }

    /// The directory this one is numbered in, and the `nr_*` leaf there that creates it.
    pub fn created_by(self) -> Option<File> {
        let (node, leaf) = match self {
            Node::Kdamonds => return None,
            Node::Kdamond { .. } => (Node::Kdamonds, "nr_kdamonds"),
            Node::Context { kdamond } => (Node::Kdamond { kdamond }, "contexts/nr_contexts"),
            Node::Target { kdamond, .. } => (Node::Context { kdamond }, "targets/nr_targets"),
            Node::Region { kdamond, target, .. } => (Node::Target { kdamond, target }, "regions/nr_regions"),
            Node::Scheme { kdamond, .. } => (Node::Context { kdamond }, "schemes/nr_schemes"),
            Node::Goal { kdamond, scheme, .. } => (Node::Scheme { kdamond, scheme }, "quotas/goals/nr_goals"),
            Node::Filter {
                kdamond, scheme, dir, ..
            } => (Node::Scheme { kdamond, scheme }, dir.nr_leaf()),
            Node::Dest { kdamond, scheme, .. } => (Node::Scheme { kdamond, scheme }, "dests/nr_dests"),
        };
        Some(File { node, leaf })
    }

    /// Whether this directory is (re)created by a write to the `nr_*` file `nr_file`: it or
    /// one of the numbered directories above it is among the children that file makes.
    pub fn recreated_by(self, nr_file: File) -> bool {
        let mut node = self;
        while let Some(creator) = node.created_by() {
            if creator == nr_file {
                return true;
            }
            node = creator.node;
        }
        false
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Node::Kdamonds => f.write_str("kdamonds"),
            Node::Kdamond { kdamond } => write!(f, "kdamonds/{kdamond}"),
            Node::Context { kdamond } => write!(f, "kdamonds/{kdamond}/contexts/0"),
            Node::Target { kdamond, target } => write!(f, "{}/targets/{target}", Node::Context { kdamond }),
            Node::Region {
                kdamond,
                target,
                region,
            } => {
                write!(f, "{}/regions/{region}", Node::Target { kdamond, target })
            }
            Node::Scheme { kdamond, scheme } => write!(f, "{}/schemes/{scheme}", Node::Context { kdamond }),
            Node::Goal { kdamond, scheme, goal } => {
                write!(f, "{}/quotas/goals/{goal}", Node::Scheme { kdamond, scheme })
            }
            Node::Filter {
                kdamond,
                scheme,
                dir,
                filter,
            } => {
                write!(f, "{}/{}/{filter}", Node::Scheme { kdamond, scheme }, dir.dir_name())
            }
            Node::Dest { kdamond, scheme, dest } => write!(f, "{}/dests/{dest}", Node::Scheme { kdamond, scheme }),
        }
    }
}

/// One file: a leaf name (which may pass through plain subdirectories, such as
/// `quotas/weights/sz_permil`) in a numbered directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct File {
    pub node: Node,
    pub leaf: &'static str,
}

impl File {
    pub const NR_KDAMONDS: File = File {
        node: Node::Kdamonds,
        leaf: "nr_kdamonds",
    };

    /// `kdamonds/K/<leaf>`: `state`, `pid`, `refresh_ms`.
    pub fn kdamond(kdamond: usize, leaf: &'static str) -> File {
        File {
            node: Node::Kdamond { kdamond },
            leaf,
        }
    }

    /// `kdamonds/K/state`, where `on`, `off`, `commit` and the other commands go.
    pub fn state(kdamond: usize) -> File {
        File::kdamond(kdamond, "state")
    }

    /// The file's own name: the last part of its leaf (`sz_permil` of
    /// `quotas/weights/sz_permil`).
    pub fn name(self) -> &'static str {
        self.leaf.rsplit_once('/').map_or(self.leaf, |(_, name)| name)
    }

    /// Whether this is a kdamond's `state` file.
    pub fn is_state(self) -> bool {
        matches!(self.node, Node::Kdamond { .. }) && self.leaf == "state"
    }

    /// The children this file creates when written, if it is an `nr_*` count file
    /// (`weights/nr_accesses_permil` is a leaf, `nr_regions/min` a bound): the kind of the
    /// first directory below this file's that names it as its creator.
    pub fn creates(self) -> Option<Child> {
        let candidates: &[Node] = match self.node {
            Node::Kdamonds => &[Node::Kdamond { kdamond: 0 }],
            Node::Kdamond { kdamond } => &[Node::Context { kdamond }],
            Node::Context { kdamond } => &[Node::Target { kdamond, target: 0 }, Node::Scheme { kdamond, scheme: 0 }],
            Node::Target { kdamond, target } => &[Node::Region {
                kdamond,
                target,
                region: 0,
            }],
            Node::Scheme { kdamond, scheme } => &[
                Node::Goal {
                    kdamond,
                    scheme,
                    goal: 0,
                },
                Node::Filter {
                    kdamond,
                    scheme,
                    dir: FilterDir::Filters,
                    filter: 0,
                },
                Node::Filter {
                    kdamond,
                    scheme,
                    dir: FilterDir::Core,
                    filter: 0,
                },
                Node::Filter {
                    kdamond,
                    scheme,
                    dir: FilterDir::Ops,
                    filter: 0,
                },
                Node::Dest {
                    kdamond,
                    scheme,
                    dest: 0,
                },
            ],
            Node::Region { .. } | Node::Goal { .. } | Node::Filter { .. } | Node::Dest { .. } => &[],
        };
        candidates
            .iter()
            .find(|child| child.created_by() == Some(self))
            .and_then(|child| child.kind())
    }
}

impl fmt::Display for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.node, self.leaf)
    }
}

/// Shown (plan JSON, logs) as the path it stands for.
impl Serialize for File {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_render_as_their_sysfs_paths() {
        assert_eq!(File::NR_KDAMONDS.to_string(), "kdamonds/nr_kdamonds");
        assert_eq!(File::state(2).to_string(), "kdamonds/2/state");
        let filter = Node::Filter {
            kdamond: 1,
            scheme: 3,
            dir: FilterDir::Ops,
            filter: 0,
        };
        assert_eq!(
            filter.file("memcg_path").to_string(),
            "kdamonds/1/contexts/0/schemes/3/ops_filters/0/memcg_path"
        );
        let region = Node::Region {
            kdamond: 0,
            target: 1,
            region: 2,
        };
        assert_eq!(
            region.file("end").to_string(),
            "kdamonds/0/contexts/0/targets/1/regions/2/end"
        );
        let goal = Node::Goal {
            kdamond: 0,
            scheme: 4,
            goal: 1,
        };
        assert_eq!(
            goal.file("nid").to_string(),
            "kdamonds/0/contexts/0/schemes/4/quotas/goals/1/nid"
        );
    }

    #[test]
    fn count_files_name_their_children_and_what_they_recreate() {
        let scheme = Node::Scheme { kdamond: 0, scheme: 2 };
        let nr_goals = scheme.file("quotas/goals/nr_goals");
        assert_eq!(nr_goals.creates(), Some(Child::Goal));
        assert_eq!(scheme.file("ops_filters/nr_filters").creates(), Some(Child::Filter));
        assert_eq!(scheme.file("action").creates(), None);
        let context = Node::Context { kdamond: 0 };
        assert_eq!(context.file("monitoring_attrs/nr_regions/min").creates(), None);
        assert!(
            Node::Goal {
                kdamond: 0,
                scheme: 2,
                goal: 0
            }
            .recreated_by(nr_goals)
        );
        assert!(
            !Node::Goal {
                kdamond: 0,
                scheme: 1,
                goal: 0
            }
            .recreated_by(nr_goals)
        );
        assert!(!scheme.recreated_by(nr_goals));
        // A count higher up recreates everything below it.
        let nr_schemes = context.file("schemes/nr_schemes");
        assert!(
            Node::Dest {
                kdamond: 0,
                scheme: 5,
                dest: 1
            }
            .recreated_by(nr_schemes)
        );
        assert!(!Node::Target { kdamond: 0, target: 0 }.recreated_by(nr_schemes));
        assert!(
            Node::Region {
                kdamond: 3,
                target: 0,
                region: 0
            }
            .recreated_by(File::NR_KDAMONDS)
        );
        // Filters of the other directory are not recreated.
        let legacy = scheme.file("filters/nr_filters");
        assert!(
            !Node::Filter {
                kdamond: 0,
                scheme: 2,
                dir: FilterDir::Core,
                filter: 0
            }
            .recreated_by(legacy)
        );
        assert!(
            Node::Filter {
                kdamond: 0,
                scheme: 2,
                dir: FilterDir::Filters,
                filter: 0
            }
            .recreated_by(legacy)
        );
    }
}
