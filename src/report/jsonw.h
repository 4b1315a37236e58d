/*
 * jsonw.h — writing JSON text: a C string as a JSON string literal (quotes, backslashes and
 * control characters escaped), and a real number as JSON can hold it. Shared by the result,
 * counterexample and trace writers.
 */
#ifndef QINVAL_REPORT_JSONW_H
#define QINVAL_REPORT_JSONW_H

#include <stdio.h>

void rep_json_string(FILE *out, const char *s);

/* A real number (seconds): six decimals ("0.046123"), or in exponent form beyond 10^15 so that
 * the text stays short ("1.000000e+308"); `null` for infinity and NaN, which JSON cannot
 * express (the reader, src/cli/json.c, takes null for "not known"). */
void rep_json_real(FILE *out, double x);

#endif /* QINVAL_REPORT_JSONW_H */
