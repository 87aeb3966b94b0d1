# 80-feature-gate.sh: a policy using a 6.15 feature (interval autotuning) beside a running
# one. Kernels before 6.15 refuse it before any write (exit 1, naming the feature and the
# release); newer kernels run it.
#
# Steps: gate_baseline, gate_apply.
. /vm/lib.sh

DP_STATE=/run/gate-state
DIR=/tmp/gate
mkdir -p $DIR
cp /vm/policies/physical-stat.toml $DIR/

dp apply $DIR
status=fail
[ $DP_RC -eq 0 ] && status=pass
result gate_baseline $status exit=$DP_RC

cp /vm/policies/autotune.toml $DIR/
before=$(kdamonds_summary) digest=$(tree_digest)
dp apply $DIR
unchanged=no
[ "$(kdamonds_summary)" = "$before" ] && [ "$(tree_digest)" = "$digest" ] && unchanged=yes
result gate_apply pass exit=$DP_RC unchanged=$unchanged kdamonds_before="$(quote "$before")" \
    kdamonds_after="$(quote "$(kdamonds_summary)")" message="$(quote "$DP_ERR")"

damon_reset
