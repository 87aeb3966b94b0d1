# 20-binary.sh: the damo-policy binary, with the libraries copied next to it, runs in the guest.
# Prints: RESULT step=damo_policy_runs status=… exit=<code> output="<first lines>"
# Exit codes 126/127 (cannot execute / loader or library missing) and >= 128 (killed by a
# signal) mean the binary did not run; any other code is the program's own answer.
. /vm/lib.sh

out=$(/bin/damo-policy --version 2>&1)
rc=$?
status=pass
if [ $rc -eq 126 ] || [ $rc -ge 127 ]; then status=fail; fi
result damo_policy_runs $status exit=$rc output="$(quote "$(echo "$out" | head -n 3)")"
