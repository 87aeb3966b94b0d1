# 60-foreign.sh: kdamonds damo-policy did not start are never changed. A kdamond written
# directly into sysfs (as another tool would) makes `plan` and `apply` refuse (exit 3) and
# name it, and it keeps running untouched; `stop` leaves it alone. Then the same with the
# other tool's kdamond in a slot damo-policy had freed: `stop` turns off only the owned
# kdamond, and apply refuses again; and once more with the other tool's kdamond started in
# the slot of damo-policy's stopped kdamond.
#
# Steps: foreign_setup, foreign_plan, foreign_apply, foreign_stop, foreign_spare_setup,
# foreign_spare_stop, foreign_spare_apply, foreign_reused_apply. Document: foreign_reused_status.
. /vm/lib.sh

DP_STATE=/run/foreign-state
DIR=/tmp/foreign
mkdir -p $DIR
cp /vm/policies/physical-stat.toml $DIR/

# start_foreign SLOT PID: another tool's vaddr kdamond on process PID in slot SLOT (the slot
# must exist and be off), with one stat scheme.
start_foreign() {
    _k=$ADMIN/kdamonds/$1
    sysfs_write $_k/contexts/nr_contexts 1 &&
        sysfs_write $_k/contexts/0/operations vaddr &&
        sysfs_write $_k/contexts/0/targets/nr_targets 1 &&
        sysfs_write $_k/contexts/0/targets/0/pid_target $2 &&
        sysfs_write $_k/contexts/0/schemes/nr_schemes 1 &&
        sysfs_write $_k/contexts/0/schemes/0/action stat &&
        sysfs_write $_k/state on
}

sleep 1000 &
SLEEPER=$!
sysfs_write $ADMIN/kdamonds/nr_kdamonds 1 && start_foreign 0 $SLEEPER
rc=$?
FOREIGN_PID=$(kd 0 pid)
before=$(kdamonds_summary) digest=$(tree_digest)
status=fail
[ $rc -eq 0 ] && [ "$(kd 0 state)" = on ] && status=pass
result foreign_setup $status kdamond_pid=$FOREIGN_PID error="$(quote "$SYSFS_ERROR")"

dp plan $DIR
status=fail
[ $DP_RC -eq 3 ] && [ "$(kdamonds_summary)" = "$before" ] && [ "$(tree_digest)" = "$digest" ] && status=pass
result foreign_plan $status exit=$DP_RC message="$(quote "$DP_ERR")"

dp apply $DIR
status=fail
[ $DP_RC -eq 3 ] && [ "$(kdamonds_summary)" = "$before" ] && [ "$(tree_digest)" = "$digest" ] && status=pass
result foreign_apply $status exit=$DP_RC kdamond_pid=$FOREIGN_PID kdamonds_before="$(quote "$before")" \
    kdamonds_after="$(quote "$(kdamonds_summary)")" message="$(quote "$DP_ERR")"

dp stop
status=fail
[ $DP_RC -eq 0 ] && [ "$(kdamonds_summary)" = "$before" ] && status=pass
result foreign_stop $status exit=$DP_RC kdamonds="$(quote "$(kdamonds_summary)")" output="$(quote "$DP_OUT")"
damon_reset

# damo-policy runs two policies, then drops one: its slot is off and spare.
cp /vm/policies/physical-stat.toml $DIR/second.toml
sed -i 's/name = "physical-stat"/name = "second"/' $DIR/second.toml
dp apply $DIR && rm $DIR/second.toml && dp apply $DIR
rc=$?
OURS=$(kd 0 pid)
# The other tool starts its kdamond in that slot.
start_foreign 1 $SLEEPER
FOREIGN_PID=$(kd 1 pid)
status=fail
[ $rc -eq 0 ] && [ "$(kd 0 state)" = on ] && [ "$(kd 1 state)" = on ] && status=pass
result foreign_spare_setup $status kdamonds="$(quote "$(kdamonds_summary)")" error="$(quote "$SYSFS_ERROR")"

dp stop
status=fail
[ $DP_RC -eq 0 ] && [ "$(kd 0 state)" = off ] && [ "$(kd 1 state)" = on ] && [ "$(kd 1 pid)" = "$FOREIGN_PID" ] && status=pass
result foreign_spare_stop $status exit=$DP_RC kdamonds="$(quote "$(kdamonds_summary)")" output="$(quote "$DP_OUT")"

# Adding a policy would take the free slot: the other tool's kdamond runs there now.
cp /vm/policies/physical-stat.toml $DIR/third.toml
sed -i 's/name = "physical-stat"/name = "third"/' $DIR/third.toml
before=$(kdamonds_summary) digest=$(tree_digest)
dp apply $DIR
status=fail
[ $DP_RC -eq 3 ] && [ "$(kdamonds_summary)" = "$before" ] && [ "$(tree_digest)" = "$digest" ] && status=pass
result foreign_spare_apply $status exit=$DP_RC kdamonds_before="$(quote "$before")" \
    kdamonds_after="$(quote "$(kdamonds_summary)")" message="$(quote "$DP_ERR")"

# Ours is stopped; the other tool reconfigures that slot and starts its kdamond there (another
# pid than the one damo-policy recorded): it is not ours any more.
rm $DIR/third.toml
start_foreign 0 $SLEEPER
before=$(kdamonds_summary) digest=$(tree_digest)
dp apply $DIR
status=fail
[ $DP_RC -eq 3 ] && [ "$(kdamonds_summary)" = "$before" ] && [ "$(tree_digest)" = "$digest" ] && status=pass
result foreign_reused_apply $status exit=$DP_RC kdamonds_before="$(quote "$before")" \
    kdamonds_after="$(quote "$(kdamonds_summary)")" message="$(quote "$DP_ERR")"
dp status --format json && echo "$DP_OUT" >/tmp/foreign-status.json && json foreign_reused_status /tmp/foreign-status.json

kill $SLEEPER
damon_reset
