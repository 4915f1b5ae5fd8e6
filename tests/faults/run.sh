#!/usr/bin/env bash
# The quick fault suite, part of `make check` (tests/run.sh runs every
# tests/*/run.sh): a subset of every group of tests/faults/ (FAULTS_QUICK=1),
# two groups at a time.  tests/faults/deep.sh runs them all, for
# `make check-deep`.  docs/reliability.md lists the cases and what each
# expects.  Needs `make faults` (build/fault/vmrun) and `make testguest`;
# each group skips, saying why, where the machine lacks a piece.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/faults/merge.bash
. tests/faults/merge.bash
faults_groups 1 "${FAULTS_JOBS:-2}" kill stall disk links topo journal
