#!/usr/bin/env bash
# check_undefined.sh NM OBJECT — the freestanding engine object may leave only the platform
# functions (qi_plat_*) undefined: anything else (memcpy, memset, a libc function, a
# sanitizer or stack-protector hook) means it would not link into a kernel or a bare-metal
# image as it is.
set -u
nm=${1:?usage: check_undefined.sh NM OBJECT}
obj=${2:?usage: check_undefined.sh NM OBJECT}
[ -s "$obj" ] || { echo "FAIL: $obj missing or empty"; exit 1; }
undef=$("$nm" -u "$obj" | awk '{print $NF}')
[ -n "$undef" ] || { echo "FAIL: no undefined symbols at all (expected the qi_plat_* calls)"; exit 1; }
bad=$(printf '%s\n' "$undef" | grep -v '^qi_plat_' || true)
if [ -n "$bad" ]; then
    echo "FAIL: $obj needs symbols other than qi_plat_*:"
    printf '  %s\n' $bad
    exit 1
fi
defined=$("$nm" --defined-only -g "$obj" | awk '{print $NF}' | grep -c '^qi_engine_')
[ "$defined" -ge 5 ] || { echo "FAIL: the qi_engine_* functions are not defined in $obj"; exit 1; }
echo "freestanding: $(printf '%s\n' "$undef" | wc -l) undefined symbols, all qi_plat_*"
