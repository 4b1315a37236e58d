/*
 * json.h — the JSON reader of the CLI's files (src/report/jsonw.c writes them): `qinval
 * replay` reads counterexample and result files with it, `qinval merge` reads the results of
 * sharded checks. jansson parses (src/cli/json.c says why jansson); the reader hands callers a
 * read-only tree (RFC 8259: objects, arrays, strings, numbers, true, false, null) whose numbers
 * keep every integer from 0 to 2^64-1 exact. It refuses duplicate keys, nesting deeper than
 * JSON_MAX_DEPTH, more than JSON_MAX_VALUES values, numbers beyond a double's range, \u0000
 * and text that is not UTF-8, and reports every problem as one line with its line and column.
 * The typed getters turn a missing or mistyped member into one line naming the key.
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

/* JV_, not JSON_: jansson's names (JSON_NULL, JSON_OBJECT, ...) are other constants. */
enum jv_type { JV_NULL, JV_BOOL, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT };

/* A node of the tree. Strings and keys point into the parsed document; the whole tree is
 * freed at once, by json_free() of the root. */
typedef struct json_value {
    enum jv_type type;
    bool boolean; /* BOOL */
    bool is_u64;  /* NUMBER: an integer in [0, 2^64) without fraction or exponent, in u64 */
    size_t len;   /* ARRAY, OBJECT: how many items */
    union {
        struct { /* NUMBER */
            double number;
            uint64_t u64;
        };
        const char *string; /* STRING: decoded UTF-8, NUL-terminated (\u0000 is refused) */
        struct {            /* ARRAY, OBJECT */
            struct json_value *items;
            const char **keys; /* OBJECT: the key of each item, in the order of the text */
        };
    };
} json_value;

/* Parse text[0..len) as one JSON value. Returns the tree, or NULL with "line L, column C: what"
 * in err. */
json_value *json_parse(const char *text, size_t len, char *err, size_t errlen);
/* Read and parse a file ("-": standard input). On error, err names the file. */
json_value *json_parse_file(const char *path, char *err, size_t errlen);
/* Free a tree json_parse() or json_parse_file() returned (its root only; NULL is fine). */
void json_free(json_value *v);

const char *json_type_name(enum jv_type t);
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
int json_get_typed(const json_value *obj, const char *key, enum jv_type type,
                   const json_value **out, char *err, size_t errlen);
/* An array of strings, at most max of them: *out gets a NULL-terminated array (to free) of
 * pointers into the tree, *n their count. */
int json_get_strings(const json_value *obj, const char *key, size_t max, const char ***out,
                     size_t *n, char *err, size_t errlen);

#endif /* QINVAL_CLI_JSON_H */
