#!/usr/bin/env bash
# domains.sh — every value of every parameter domain of the catalog is one the scenario takes:
# for each scenario, each item of its [sweep] lines and of the built-in domains it does not name
# (a range LO..HI: LO, HI and a value between), `qinval check --driver qinval --set KEY=VALUE`
# alone exits 0 or 1 (a verdict), never 2 (refused) or 3. QINVAL_DOMAIN_EXECUTIONS sets the
# executions per check (default 20); QINVAL_DOMAIN_STRICT=1 also fails on a violation (exit 1),
# to look for the engine's violations with a larger budget.
set -u
Q=$(realpath "${1:?usage: domains.sh path/to/qinval}")
here=$(cd "$(dirname "$0")" && pwd)
catalog=$here/../../scenarios
execs=${QINVAL_DOMAIN_EXECUTIONS:-20}
strict=${QINVAL_DOMAIN_STRICT:-0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
checks=0

# The built-in domains, as src/check/scenario.c's builtin_domains (test_scenario.c checks that
# list against the loader's).
builtins='head_policy = fetch complete
itesid = 1 0
desc_width = 128 256
fetch_window = 1 8 64
strict_reserved = 1 0
ite_discard = 1 0'

# The [sweep] lines of a scenario file, comments and blanks dropped, as "key = items".
sweep_lines() {
    awk '/^[ \t]*\[/ { s = ($0 ~ /^[ \t]*\[sweep\][ \t]*(#.*)?$/); next }
         s { sub(/#.*/, ""); if ($0 ~ /=/) print }' "$1"
}

# The values to try for one item: a word as is, a range LO..HI as LO, HI and their midpoint.
item_values() {
    case "$1" in
    *..*)
        local lo=${1%%..*} hi=${1##*..}
        echo "$lo"
        [ "$hi" != "$lo" ] && echo "$hi"
        [ $(((lo + hi) / 2)) != "$lo" ] && [ $(((lo + hi) / 2)) != "$hi" ] && echo $(((lo + hi) / 2))
        ;;
    *) echo "$1" ;;
    esac
}

check_value() { # scenario key value
    "$Q" check --driver qinval --scenario "$1" --set "$2=$3" --executions "$execs" \
        >"$work/out" 2>"$work/err"
    local rc=$?
    checks=$((checks + 1))
    if [ $rc -eq 0 ] || { [ $rc -eq 1 ] && [ "$strict" != 1 ]; }; then
        [ $rc -eq 1 ] && echo "note: $1 $2=$3: $(grep -m1 '^FAIL' "$work/out")"
        return
    fi
    echo "FAIL: qinval check --driver qinval --scenario $1 --set $2=$3 --executions $execs:" \
        "exit $rc: $(head -c 300 "$work/err") $(grep -m1 '^FAIL' "$work/out")"
    fail=1
}

for file in "$catalog"/*.scn; do
    scn=$(basename "$file" .scn)
    own=$(sweep_lines "$file")
    [ -n "$own" ] || { echo "FAIL: $scn has no [sweep] section"; fail=1; }
    named=$(echo "$own" | awk -F= '{ gsub(/[ \t]/, "", $1); print $1 }')
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        key=$(echo "${line%%=*}" | tr -d ' \t')
        case "$own" in *"$line"*) ;; *) echo "$named" | grep -qx "$key" && continue ;; esac
        for item in ${line#*=}; do
            for v in $(item_values "$item"); do
                check_value "$scn" "$key" "$v"
            done
        done
    done < <(printf '%s\n%s\n' "$own" "$builtins")
done
echo "domains: $checks checks of $execs executions"
exit $fail
