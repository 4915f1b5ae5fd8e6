#!/usr/bin/env bash
# The whole fault suite, for `make check-deep` (tests/deep.sh): every case
# of every group of tests/faults/, the Docker ones included (which start a
# private dockerd), two groups at a time.  tests/faults/run.sh is its quick
# subset.  docs/reliability.md lists the cases.
#
#   tests/faults/deep.sh [GROUP...]   (default: all of them)
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/faults/merge.bash
. tests/faults/merge.bash
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(kill docker stall disk links topo journal)
faults_groups 0 "${FAULTS_JOBS:-2}" "${groups[@]}"
