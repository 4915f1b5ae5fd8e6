# shellcheck shell=bash
# TAP helpers for shell tests: source this file.
#   ok COND_STATUS "what"; is "$got" "$want" "what"; skip "why" "what"; done_testing
#   todo COND_STATUS "known bug" "what": a check a known, reported product bug
#   makes fail; TAP's TODO directive, so it is listed but not counted as a
#   failure (tests/run.sh), and "ok ... # TODO" says the bug is gone
# ok, is and todo return 1 when the check failed, so a diagnostic can
# follow: `ok $? "what" || sed 's/^/# /' log`.
TAP_N=0
TAP_FAILED=0
ok() { # ok STATUS DESCRIPTION   (STATUS 0 = pass)
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then echo "ok $TAP_N - $2"; else
		echo "not ok $TAP_N - $2"; TAP_FAILED=$((TAP_FAILED + 1))
		return 1
	fi
}
is() { # is GOT WANT DESCRIPTION
	TAP_N=$((TAP_N + 1))
	if [ "$1" = "$2" ]; then echo "ok $TAP_N - $3"; else
		echo "not ok $TAP_N - $3"; TAP_FAILED=$((TAP_FAILED + 1))
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
		return 1
	fi
}
skip() { # skip WHY DESCRIPTION
	TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $2 # SKIP $1"
}
todo() { # todo STATUS BUG DESCRIPTION
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then echo "ok $TAP_N - $3 # TODO $2"; else
		echo "not ok $TAP_N - $3 # TODO $2"
		return 1
	fi
}
diag() { printf '# %s\n' "$*"; }
done_testing() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }
