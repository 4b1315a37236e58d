# ktap_check.awk — checks a text against the rules of KTAP version 1 (the kernel's
# Documentation/dev-tools/ktap.rst) and prints a summary the tests compare:
#   "ktap ok: T top-level tests (F not ok), S subtests, R subtest results"
# or "ktap error: line N: what" (and exits 1). Rules checked: the version line first; a plan
# "1..N" after each version line (before any result); results "ok N name" / "not ok N name"
# numbered 1, 2, ... with N matching the plan at the end, names without "#" (what follows a
# "#" is a directive or diagnostic data); diagnostics start with "#" and are no deeper than
# the test they are in; two spaces per nesting level; a subtest starts with its own version
# line one level deeper and is closed by its parent's result line.
function fail(what) { printf "ktap error: line %d: %s\n", NR, what; bad = 1; exit 1 }
function close_level(d) {
    if (plan[d] < 0) fail("a test level without a plan")
    if (count[d] != plan[d]) fail("plan 1.." plan[d] " but " count[d] " results")
}
BEGIN { depth = -1; top = 0; topfail = 0; subtests = 0; subresults = 0 }
{
    line = $0
    n = match(line, /^ */); ind = RLENGTH
    if (ind % 2) fail("indentation of " ind " spaces is not a multiple of two")
    d = ind / 2; body = substr(line, ind + 1)
    if (body == "") next
    if (body ~ /^KTAP version 1$/) {
        if (d != depth + 1) fail("version line at level " d " inside level " depth)
        depth = d; plan[d] = -1; count[d] = 0
        if (d > 0) subtests++
        next
    }
    if (depth < 0) fail("the first line is not \"KTAP version 1\"")
    if (body ~ /^#/) { if (d > depth) fail("diagnostic deeper than the current test"); next }
    if (body ~ /^1\.\.[0-9]+$/) {
        if (d != depth || plan[d] >= 0) fail("a plan out of place")
        if (count[d] > 0) fail("the plan comes after results")
        plan[d] = substr(body, 4) + 0
        next
    }
    if (body ~ /^(not )?ok [0-9]+( |$)/) {
        if (d > depth) fail("a result deeper than the current test")
        while (depth > d) { close_level(depth); depth-- }
        if (plan[d] < 0) fail("a result before the plan")
        rest = body; sub(/^(not )?ok /, "", rest)
        num = rest; sub(/[^0-9].*$/, "", num)
        if (num + 0 != count[d] + 1) fail("result number " num ", expected " count[d] + 1)
        count[d]++
        if (d == 0) { top++; if (body ~ /^not ok/) topfail++ } else subresults++
        next
    }
    fail("not a KTAP line: " body)
}
END {
    if (bad) exit 1
    if (depth < 0) { print "ktap error: empty input"; exit 1 }
    if (depth > 0) { NR = NR; fail("a subtest was never closed by its parent's result") }
    close_level(0)
    printf "ktap ok: %d top-level tests (%d not ok), %d subtests, %d subtest results\n", top, topfail, subtests, subresults
}
