#!/usr/bin/env bash
# tutorial.sh — docs/tutorial.md cannot rot: every ```console block in it is re-run and its
# output compared with the document. In a block, a line "$ COMMAND" is run with bash in one
# scratch directory shared by all blocks (build/qinval there is the qinval under test), with
# stderr merged into stdout; the lines after it, up to the next "$ " line or the end of the
# block, are its expected output. Wall-clock durations ("0.046 s" in PASS, FAIL and KTAP lines)
# differ from run to run and are compared as "#.### s"; everything else must match exactly.
# Blocks fenced as ```sh (building, opening a browser) are not run.
set -u
Q=$(realpath "${1:?usage: tutorial.sh path/to/qinval [tutorial.md]}")
doc=$(realpath "${2:-$(dirname "$0")/../../docs/tutorial.md}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build"
ln -s "$Q" "$work/build/qinval"
fail=0 ncmd=0

normalise() { sed -E 's/[0-9]+\.[0-9]{3} s([),]|$)/#.### s\1/g'; }

check_command() { # command expected-output-file
    ncmd=$((ncmd + 1))
    (cd "$work" && bash -c "$1" >"$work/.actual" 2>&1)
    if ! diff <(normalise <"$2") <(normalise <"$work/.actual") >"$work/.diff"; then
        echo "FAIL: the output of \`$1\` is not what docs/tutorial.md shows:"
        head -20 "$work/.diff"
        fail=1
    fi
}

in_block=0 cmd="" exp="$work/.expected"
while IFS= read -r line || [ -n "$line" ]; do
    if [ $in_block = 0 ]; then
        [ "$line" = '```console' ] && in_block=1 cmd=""
        continue
    fi
    if [ "$line" = '```' ] || [[ $line == '$ '* ]]; then
        [ -n "$cmd" ] && check_command "$cmd" "$exp"
        cmd="" && : >"$exp"
        if [ "$line" = '```' ]; then in_block=0; else cmd=${line#\$ }; fi
        continue
    fi
    printf '%s\n' "$line" >>"$exp"
done <"$doc"
[ $in_block = 0 ] || { echo "FAIL: an unterminated console block"; fail=1; }
[ $ncmd -ge 5 ] || { echo "FAIL: only $ncmd commands found in $doc"; fail=1; }
[ $fail = 0 ] && echo "tutorial: $ncmd commands give the outputs the document shows"
exit $fail
