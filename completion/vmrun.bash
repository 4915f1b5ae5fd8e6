# bash completion for vmrun.
#
# The candidates come from vmrun itself: `vmrun __complete CWORD WORD...`
# (cmd/complete.c) knows the verbs, options and argument kinds from the same
# tables as `vmrun VERB --help`, the guests of the topology on the command
# line, the running guests and the QMP commands of a running guest.  This
# function only joins --option=value back into one word, calls it and turns
# its answer into COMPREPLY.
_vmrun() {
	local -a words=() out=()
	local cword=0 i w cur joined=0

	# COMP_WORDBREAKS splits "--opt=value" into "--opt" "=" "value"
	for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == "=" && ${#words[@]} -gt 1 && ${words[-1]} == --* && ${words[-1]} != *=* ]]; then
			words[-1]+="="
			joined=1
		elif [[ $joined == 1 && ${words[-1]} == --*= ]]; then
			words[-1]+=$w
			joined=0
		else
			words+=("$w")
			joined=0
		fi
		[[ $i == "$COMP_CWORD" ]] && cword=$((${#words[@]} - 1))
	done
	[[ $cword -ge ${#words[@]} ]] && words+=("")
	cur=${words[cword]}
	[[ $cur == --*=* ]] && cur=${cur#*=}

	mapfile -t out < <("${words[0]}" __complete "$cword" "${words[@]:0:cword+1}" 2>/dev/null)
	COMPREPLY=()
	case ${out[0]-} in
	:files)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	:yaml)
		compopt -o filenames 2>/dev/null
		while IFS= read -r w; do
			[[ -d $w || $w == *.yaml || $w == *.yml ]] && COMPREPLY+=("$w")
		done < <(compgen -f -- "$cur")
		;;
	:dirs)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		;;
	*)
		for w in "${out[@]}"; do COMPREPLY+=("${w%%$'\t'*}"); done
		;;
	esac
}
complete -F _vmrun vmrun
