/*
 * json.h — a small JSON reader for the CLI's files (src/report/jsonw.c writes them): `qinval
 * replay` reads counterexample and result files with it, `qinval merge` reads the results of
 * sharded checks. The reader builds a tree (RFC 8259: objects, arrays, strings, numbers, true,
 * false, null), refuses duplicate keys, nesting deeper than JSON_MAX_DEPTH, more than
 * JSON_MAX_VALUES values and numbers beyond a double's range, and reports every problem as one line
 * with its line and column. The typed getters turn a missing or mistyped member into one line
 * naming the key.
 */
#ifndef QINVAL_CLI_JSON_H
#define QINVAL_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH  32
#define JSON_MAX_BYTES  (64u << 20)
#define JSON_MAX_VALUES (4u << 20) /* bounds the tree's memory whatever the text */

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

typedef struct json_value {
    enum json_type type;
    bool boolean; /* BOOL */
    bool is_u64;  /* NUMBER: an integer in [0, 2^64) without fraction or exponent, in u64 */
    size_t len;   /* ARRAY, OBJECT: how many items */
    union {
        struct { /* NUMBER */
            double number;
            uint64_t u64;
        };
        char *string; /* STRING: decoded, NUL-terminated (a \u0000 escape is refused) */
        struct {      /* ARRAY, OBJECT */
            struct json_value *items;
            char **keys; /* OBJECT: the key of each item */
        };
    };
} json_value;

/* Parse text[0..len) as one JSON value. Returns the tree, or NULL with "line L, column C: what"
 * in err. */
json_value *json_parse(const char *text, size_t len, char *err, size_t errlen);
/* Read and parse a file ("-": standard input). On error, err names the file. */
json_value *json_parse_file(const char *path, char *err, size_t errlen);
void json_free(json_value *v);

const char *json_type_name(enum json_type t);
/* The member `key` of an object, or NULL. */
const json_value *json_get(const json_value *obj, const char *key);

/* Typed members of an object: 0, or -1 with "missing 'key'" or "'key' must be ..." in err. */
int json_get_string(const json_value *obj, const char *key, const char **out, char *err,
                    size_t errlen);
int json_get_u64(const json_value *obj, const char *key, uint64_t *out, char *err, size_t errlen);
/* A non-negative number of seconds, or null (a time not known: NaN), as src/report/jsonw.c's
 * rep_json_real writes them. */
int json_get_seconds(const json_value *obj, const char *key, double *out, char *err, size_t errlen);
int json_get_bool(const json_value *obj, const char *key, bool *out, char *err, size_t errlen);
int json_get_typed(const json_value *obj, const char *key, enum json_type type,
                   const json_value **out, char *err, size_t errlen);
/* An array of strings, at most max of them: *out gets a NULL-terminated array (to free) of
 * pointers into the tree, *n their count. */
int json_get_strings(const json_value *obj, const char *key, size_t max, const char ***out,
                     size_t *n, char *err, size_t errlen);

#endif /* QINVAL_CLI_JSON_H */
