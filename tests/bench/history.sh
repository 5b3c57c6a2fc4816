#!/bin/bash
# History cost (make bench): memory per group at each --history setting,
# and the time the daemon takes to answer `cpuacctctl history` over a
# full day for each of 1,000 groups. Needs no root and no mount.
#
#   bash tests/bench/history.sh BUILD/tests/bench/histbench [GROUPS]
set -u
bin=${1:?usage: history.sh HISTBENCH [GROUPS]}
echo "# history bench"
"$bin" "${2:-1000}"
