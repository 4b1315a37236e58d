/*
 * jsonw.h — writing JSON text: a C string as a JSON string literal, and a real number as JSON
 * can hold it. Shared by the result, counterexample and trace writers, which write the rest of
 * their JSON themselves, streamed (their output can be large, and is the same byte for byte
 * from one run to the next).
 */
#ifndef QINVAL_REPORT_JSONW_H
#define QINVAL_REPORT_JSONW_H

#include <stdio.h>

/* s as a JSON string, by jansson's encoder: '"' and '\\' escaped, \b \f \n \r \t, other
 * control characters as \u00XX, the rest (UTF-8) as it is. JSON text is UTF-8 and jansson
 * encodes nothing else: a byte of s that is not part of a UTF-8 sequence is written as U+FFFD
 * (the replacement character), so that every reader, src/cli/json.c first, takes the file. */
void rep_json_string(FILE *out, const char *s);

/* A real number (seconds): six decimals ("0.046123"), or in exponent form beyond 10^15 so that
 * the text stays short ("1.000000e+308"); `null` for infinity and NaN, which JSON cannot
 * express (the reader, src/cli/json.c, takes null for "not known"). Not jansson's encoder: it
 * writes significant digits (%.17g, or a precision that counts digits before the point too),
 * not a fixed number of decimals. */
void rep_json_real(FILE *out, double x);

#endif /* QINVAL_REPORT_JSONW_H */
