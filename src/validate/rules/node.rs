//! Rules of NUMA node ids written to the kernel: a scheme's `target_node` and a quota goal's
//! `node`, which the kernel parses as a signed `int`.

use crate::diag::{Code, Diagnostic};
use crate::model::wire as model;
use crate::policy::source::KeyPath;

use super::Ctx;

/// The largest node id the kernel reads: `target_nid` and a goal's `nid` are parsed with
/// `kstrtoint()` (mm/damon/sysfs-schemes.c), which refuses anything above `INT_MAX` with
/// ERANGE, so the whole apply would fail at that write.
const NODE_ID_MAX: u32 = i32::MAX as u32;

/// The node ids of a scheme as written.
pub(super) fn written(ctx: &mut Ctx<'_>, wire: &model::Scheme, path: &KeyPath) {
    if let Some(node) = wire.target_node {
        node_id(ctx, node, &path.join("target_node"));
    }
    for (g, goal) in wire.quota.iter().flat_map(|q| q.goals.iter()).enumerate() {
        if let Some(node) = goal.node {
            node_id(ctx, node, &path.join("quota").join("goals").join(g).join("node"));
        }
    }
}

fn node_id(ctx: &mut Ctx<'_>, node: u32, at: &KeyPath) {
    if node <= NODE_ID_MAX {
        return;
    }
    ctx.report(
        Diagnostic::error(
            Code::NodeId,
            format!("node {node} is out of range: the kernel reads a node id as an `int`, at most {NODE_ID_MAX}, and would refuse the write"),
        )
        .label("not a node id")
        .help("write the id of a NUMA node of the machine: the N of /sys/devices/system/node/nodeN"),
        at,
    );
}

#[cfg(test)]
mod tests {
    use super::super::tests::findings;

    #[test]
    fn node_ids_fit_an_int() {
        let migrate = |node: u64| {
            findings(&format!(
                "[target]\nprocess = \"a\"\n[[scheme]]\naction = \"migrate_cold\"\ntarget_node = {node}\n"
            ))
        };
        assert!(migrate(2_147_483_647).is_empty());
        assert_eq!(migrate(2_147_483_648), ["E:node-id"]);
        assert_eq!(migrate(4_294_967_295), ["E:node-id"]);
        let goal = |node: u64| {
            findings(&format!(
                "[target]\nphysical = true\n[[scheme]]\naction = \"pageout\"\n\
                 quota.goals = [{{ metric = \"node_mem_free_bp\", target = \"10%\", node = {node} }}]\n"
            ))
        };
        assert!(goal(1).is_empty());
        assert_eq!(goal(2_147_483_648), ["E:node-id"]);
    }
}
