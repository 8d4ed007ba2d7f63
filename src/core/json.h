/* json.h: strict JSON (RFC 8259) parsed into a read-only tree in an arena.
 *
 * Why not jansson here: tokens are parsed on every request, and jansson's
 * parser costs about 10 ns per byte (1.8 µs for a typical claims set, more
 * than an HS256 verification itself). This parser builds an immutable tree
 * in the request's arena in one pass. jansson stays for everything parsed
 * at load time (key sets, configuration) and for printing.
 *
 * Strict means: exactly one value with optional white space around it;
 * strings are valid UTF-8 (no overlong forms, no surrogates) with valid
 * escapes, and never contain NUL (so every string is also a C string);
 * objects never repeat a member name; nesting is bounded by max_depth. */
#ifndef KC_CORE_JSON_H
#define KC_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/arena.h"

typedef enum kc_json_type {
	KC_JSON_NULL,
	KC_JSON_FALSE,
	KC_JSON_TRUE,
	KC_JSON_NUMBER,
	KC_JSON_STRING,
	KC_JSON_ARRAY,
	KC_JSON_OBJECT,
} kc_json_type;

typedef enum kc_json_error {
	KC_JSON_OK = 0,
	KC_JSON_ERR_SYNTAX,     /* not JSON, bad UTF-8 or escape, NUL in a string */
	KC_JSON_ERR_DUPLICATE,  /* an object repeats a member name */
	KC_JSON_ERR_DEPTH,      /* nested deeper than max_depth */
	KC_JSON_ERR_NOMEM,      /* the arena could not grow */
} kc_json_error;

typedef struct kc_json kc_json;

/* Parses buf[0..len). The tree lives in the arena until it is cleared; it
 * does not point into buf. Returns NULL and sets *err on failure. */
const kc_json *kc_json_parse(kc_arena *a, const char *buf, size_t len, int max_depth,
    kc_json_error *err);

kc_json_type kc_json_typeof(const kc_json *v);
bool kc_json_is_string(const kc_json *v);
bool kc_json_is_number(const kc_json *v);
bool kc_json_is_object(const kc_json *v);
bool kc_json_is_array(const kc_json *v);

/* NUL-terminated string and its length; NULL if v is not a string. */
const char *kc_json_string(const kc_json *v, size_t *len);
/* True iff v is a string equal to s[0..n). */
bool kc_json_string_equals(const kc_json *v, const char *s, size_t n);
/* The number as a double (0 if not a number). */
double kc_json_number(const kc_json *v);
/* True iff v is a number written as an integer that fits int64; sets *out. */
bool kc_json_integer(const kc_json *v, int64_t *out);

/* Arrays and objects: element count (0 for other types). */
size_t kc_json_size(const kc_json *v);
const kc_json *kc_json_at(const kc_json *array, size_t i);
/* Member lookup by name (NULL if absent or v is not an object). */
const kc_json *kc_json_get(const kc_json *obj, const char *name);
const kc_json *kc_json_getn(const kc_json *obj, const char *name, size_t len);
/* i-th member of an object, in document order. */
const char *kc_json_key_at(const kc_json *obj, size_t i, const kc_json **value);

/* A jansson copy of v for printing (caller decrefs); NULL on OOM. */
json_t *kc_json_to_jansson(const kc_json *v);

#endif
