# 20-binary.sh: the damo-policy binary, with the libraries copied next to it, runs in the guest,
# and `damo-policy kernel` describes the guest's DAMON.
# Prints: RESULT step=damo_policy_runs status=… exit=<code> output="<first lines>"
#         RESULT step=kernel_command status=… exit=<code> output="<its output>"
# Exit codes 126/127 (cannot execute / loader or library missing) and >= 128 (killed by a
# signal) mean the binary did not run; any other code is the program's own answer.
. /vm/lib.sh

out=$(/bin/damo-policy --version 2>&1)
rc=$?
status=pass
if [ $rc -eq 126 ] || [ $rc -ge 127 ]; then status=fail; fi
result damo_policy_runs $status exit=$rc output="$(quote "$(echo "$out" | head -n 3)")"

DP_STATE=/run/kernel-state
dp kernel
status=fail
[ $DP_RC -eq 0 ] && status=pass
result kernel_command $status exit=$DP_RC output="$(quote "$DP_OUT")"
damon_reset
