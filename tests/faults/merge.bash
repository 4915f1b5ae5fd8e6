# shellcheck shell=bash
# faults_groups QUICK JOBS GROUP...: run the fault groups (tests/faults/g_*.sh),
# JOBS at a time, with FAULTS_QUICK=QUICK, and print their TAP as one
# stream, renumbered, each group headed by a comment with its time.
# Returns non-zero when a check failed (TODO checks aside) or a group
# exited non-zero.
faults_groups() {
	local quick=$1 jobs=$2 g tmp rc=0 n=0 fails=0 line f
	shift 2
	tmp=$(mktemp -d /tmp/vmrt-faults.XXXXXX)
	for g; do
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
		(
			start=$(date +%s)
			FAULTS_QUICK=$quick "tests/faults/g_$g.sh" >"$tmp/$g.tap" 2>"$tmp/$g.stderr"
			echo "$? $(($(date +%s) - start))" >"$tmp/$g.rc"
		) &
	done
	wait
	for g; do
		f=$tmp/$g.tap
		read -r grc secs <"$tmp/$g.rc"
		echo "# --- group $g (tests/faults/g_$g.sh, ${secs}s)"
		while IFS= read -r line; do
			case $line in
			"ok "[0-9]* | "not ok "[0-9]*)
				n=$((n + 1))
				case $line in *"# TODO"*) ;; not*) fails=$((fails + 1)) ;; esac
				echo "$line" | sed -E "s/^(not )?ok [0-9]+/\1ok $n/"
				;;
			1..*) ;;
			*) echo "$line" ;;
			esac
		done <"$f"
		if [ "$grc" != 0 ]; then
			rc=1
			echo "# group $g exited with status $grc; its stderr ends with:"
			tail -5 "$tmp/$g.stderr" | sed 's/^/#   /'
		fi
	done
	rm -rf "$tmp"
	echo "1..$n"
	[ "$fails" -eq 0 ] && [ "$rc" -eq 0 ]
}
