/*
 * ktap.h — KTAP version 1 output (the kernel's test result format, Documentation/dev-tools/
 * ktap.rst), so kernel CI systems can read qinval's verdicts: a version line, a plan "1..N",
 * one "ok N name" or "not ok N name" per test, diagnostic lines starting with "#", and
 * subtests indented by two spaces per level (the document's rule) with their own version line
 * and plan, followed by their parent's result line.
 */
#ifndef QINVAL_REPORT_KTAP_H
#define QINVAL_REPORT_KTAP_H

#include <stdbool.h>
#include <stdio.h>

/* "KTAP version 1", then for a subtest with a name "# Subtest: name" (where KUnit writes it,
 * before the plan), then the plan "1..ntests", at a nesting depth (0: top level). */
void rep_ktap_begin(FILE *out, unsigned depth, const char *name, unsigned ntests);
/* Diagnostic lines: every line of `text` as "# line" (a '#' inside stays text). */
void rep_ktap_diag(FILE *out, unsigned depth, const char *text);
/* A result line. `name` must not contain '#' or a newline (replaced by '_' if it does);
 * `skip`, if non-NULL, adds the "# SKIP reason" directive. */
void rep_ktap_result(FILE *out, unsigned depth, bool ok, unsigned number, const char *name,
                     const char *skip);

#endif /* QINVAL_REPORT_KTAP_H */
