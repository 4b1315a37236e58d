/*
 * jsonw.h — writing JSON text: a C string as a JSON string literal (quotes, backslashes and
 * control characters escaped). Shared by the result, counterexample and trace writers.
 */
#ifndef QINVAL_REPORT_JSONW_H
#define QINVAL_REPORT_JSONW_H

#include <stdio.h>

void rep_json_string(FILE *out, const char *s);

#endif /* QINVAL_REPORT_JSONW_H */
