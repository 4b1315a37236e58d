#!/usr/bin/env bash
# demo.sh — `qinval demo` under both head policies and both descriptor widths: it must exit 0
# and its timeline must show what the hardware model is specified to do: the healthy batch's
# status write, the muted endpoint's lost request, the ITE with its ITESID aborting the wait,
# and after the fence and the clear, the recovery batch's status write and the blocked DMA.
set -u
Q=${1:?usage: demo.sh path/to/qinval}
# Output files of its own, so that two runs at once (two build trees, say) do not mix them.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
expect() { # file pattern what
    grep -Eq -- "$2" "$1" || { echo "FAIL $3 ($1): no line matching /$2/"; fail=1; }
}
for policy in fetch complete; do
    for width in 128 256; do
        out=$T/demo-$policy-$width.txt
        "$Q" demo --head-policy "$policy" --desc-width "$width" >"$out" 2>&1
        rc=$?
        [ $rc = 0 ] || { echo "FAIL demo $policy/$width exited $rc"; fail=1; }
        expect "$out" "status write 0x1 -> " "healthy batch completes"
        expect "$out" "invalidate itag [0-9]+ lost: muted" "muted endpoint drops the request"
        expect "$out" "^ +1\.0000[0-9]+ +iommu +ITE sid=01:00\.0" "ITE one timeout later"
        expect "$out" "wait@[0-9]+ aborted" "ITE aborts the pending wait"
        expect "$out" "FSTS=0x40 \(ITE=1\), ITESID=01:00\.0" "software sees ITE and ITESID"
        expect "$out" "FSTS cleared: ITE" "ITE cleared"
        expect "$out" "status write 0x3 -> " "queue runs again after the clear"
        expect "$out" "DMA write 0x10000 -> 0x3000 blocked via ATC" "fenced ATS DMA blocked"
        if [ "$policy" = fetch ]; then
            expect "$out" "IQH=6, IQT=6" "fetch policy: IQH already past the aborted wait"
        else
            expect "$out" "IQH=4, IQT=6" "complete policy: IQH still on the device-TLB slot"
        fi
    done
done
"$Q" demo --no-itesid >"$T/demo-noitesid.txt" 2>&1
expect "$T/demo-noitesid.txt" "ITESID=none" "older hardware reports no ITESID"
[ $fail = 0 ] && echo "demo: all checks passed"
exit $fail
