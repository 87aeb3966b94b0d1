//! The stable identifiers of every finding (`error[range-order]`): one enum, so a code is
//! written once, cannot be misspelt at a call site, and the whole list can be shown. The
//! kebab-case text is part of the output contract (JSON for CI bots, the service's log).

use std::fmt;

use serde::{Serialize, Serializer};

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $text:literal,)*) => {
        /// What a diagnostic is about.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Code {
            /// Every code, in the order they are declared.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The identifier as shown: `range-order`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    // Reading files and directories.
    /// A file or directory cannot be read.
    IoError = "io-error",
    /// A file holds binary data.
    BinaryFile = "binary-file",
    /// A file is not UTF-8 text.
    NotUtf8 = "not-utf8",
    /// A file is larger than the engine reads.
    FileTooLarge = "file-too-large",
    /// A policy file's name cannot be used (not UTF-8, or not a valid policy name).
    FileName = "file-name",
    /// A directory holds no policy files.
    NoPolicies = "no-policies",
    /// The project file `damo-policy.toml` is wrong.
    ProjectFile = "project-file",
    // The file's syntax and the schema.
    /// The text is not TOML.
    TomlSyntax = "toml-syntax",
    /// A key the schema does not know.
    UnknownKey = "unknown-key",
    /// A required key is missing.
    MissingKey = "missing-key",
    /// A value of the wrong type.
    WrongType = "wrong-type",
    /// A keyword the schema does not know.
    UnknownKeyword = "unknown-keyword",
    /// A value outside what its key allows.
    OutOfRange = "out-of-range",
    /// A value that cannot be read or converted (a bad unit, an overflow, an inexact value).
    BadValue = "bad-value",
    /// A policy or scheme name that is not allowed.
    BadName = "bad-name",
    // Semantic rules.
    /// Two policies or two schemes of a policy share a name.
    DuplicateName = "duplicate-name",
    /// A process listed twice.
    DuplicatePid = "duplicate-pid",
    /// No target selector, or several.
    TargetSelector = "target-selector",
    /// Monitoring regions where the operations set does not take them.
    RegionsPlacement = "regions-placement",
    /// `fvaddr` without the regions it monitors.
    FvaddrRegions = "fvaddr-regions",
    /// A target the operations set cannot monitor.
    OpsTarget = "ops-target",
    /// A range whose minimum exceeds its maximum.
    RangeOrder = "range-order",
    /// Address ranges that overlap.
    RegionOverlap = "region-overlap",
    /// Monitoring intervals in the wrong order.
    IntervalOrder = "interval-order",
    /// Too few monitoring regions.
    RegionCount = "region-count",
    /// A cgroup path the kernel would not resolve.
    CgroupPath = "cgroup-path",
    /// An action the operations set does not implement.
    ActionOps = "action-ops",
    /// Watermarks not in the order high ≥ mid ≥ low.
    WatermarkOrder = "watermark-order",
    /// A scheme that can never match anything.
    NeverMatches = "never-matches",
    /// A quota whose reset interval makes it inert.
    QuotaReset = "quota-reset",
    /// A quota goal missing the argument its metric needs, or given one it ignores.
    GoalArgument = "goal-argument",
    /// A quota goal's target out of range or in the wrong unit.
    GoalTarget = "goal-target",
    /// A quota goal the kernel ignores.
    GoalIgnored = "goal-ignored",
    /// A filter argument that does not fit its type.
    FilterArgument = "filter-argument",
    /// A filter type the operations set does not implement.
    FilterOps = "filter-ops",
    /// A target filter naming a target that does not exist.
    FilterTarget = "filter-target",
    /// A migration without a usable destination.
    MigrateDestination = "migrate-destination",
    /// A migration whose destinations cannot receive anything.
    NeverMigrates = "never-migrates",
    /// A value the kernel floors to zero.
    RoundsToZero = "rounds-to-zero",
    /// A NUMA node id the kernel cannot read (it parses node ids as `int`).
    NodeId = "node-id",
    /// A size quota the kernel cannot use: below one page, or 0 (which means no limit).
    QuotaSize = "quota-size",
    /// A time quota longer than its reset interval, which it can never reach.
    QuotaTime = "quota-time",
    /// A process name no process can have (`comm` holds 15 bytes).
    ProcessName = "process-name",
    /// An interval autotuning target outside what access rates can be.
    AutotuneTarget = "autotune-target",
    /// An apply interval the kernel rounds to whole sampling intervals.
    ApplyInterval = "apply-interval",
    /// Schemes that undo each other on the same memory (`hugepage` and `nohugepage`).
    ContradictorySchemes = "contradictory-schemes",
    /// A policy without schemes: it monitors and does nothing with what it sees.
    NoSchemes = "no-schemes",
    /// Something the target kernel lacks.
    KernelFeature = "kernel-feature",
    // damo's formats.
    /// A legacy scheme file with no schemes.
    LegacyEmpty = "legacy-empty",
    /// A legacy scheme line with the wrong number of fields.
    LegacyFields = "legacy-fields",
    /// A comment after a legacy scheme, which damo does not allow.
    LegacyInlineComment = "legacy-inline-comment",
    /// A file that is not damo's legacy scheme format.
    LegacyNotSchemes = "legacy-not-schemes",
    /// A legacy field value that cannot be read.
    LegacyValue = "legacy-value",
    /// A note on a translated scheme, where damo and damo-policy differ.
    TranslateNote = "translate-note",
    /// Input that is not JSON.
    ImportJson = "import-json",
    /// Input that is not YAML.
    ImportYaml = "import-yaml",
    /// A value of damo's tree that cannot be imported.
    ImportValue = "import-value",
    /// A part of damo's tree that damo-policy cannot express, left out.
    ImportDropped = "import-dropped",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_kebab_case_identifiers() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.split('-')
                    .all(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
                "{text}"
            );
        }
    }
}
