/* jsonx.h — jansson helpers shared by every module that reads JSON input.
 *
 * jsonx_parse is the one entry point for untrusted JSON: it rejects invalid
 * UTF-8 and syntax errors with line/column, nesting deeper than max_depth and
 * (optionally) non-object roots, filling err with a message a person can act
 * on. Returns a new reference or NULL. */
#ifndef CORE_JSONX_H
#define CORE_JSONX_H

#include <jansson.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define JSONX_MAX_DEPTH 32

json_t *jsonx_parse(const char *data, size_t len, int max_depth, int want_object, struct cairn_err *err);
/* json_loadb that also takes integers beyond 64 bits (JavaScript's
 * JSON.stringify(1e19) writes them): on a numeric overflow it parses again
 * with every number as a real. Strings with \u0000 are refused (C strings
 * downstream would be cut). error may be NULL. */
json_t *jsonx_loadb(const char *data, size_t len, size_t flags, json_error_t *error);
/* Deepest nesting of arrays/objects in v (a scalar is 0). Stops at limit+1. */
int jsonx_depth(const json_t *v, int limit);
/* Typed getters: NULL/def when absent or of another type. */
const char *jsonx_str(const json_t *obj, const char *key);
/* Appends the compact JSON of v to b. */
int jsonx_dump_buf(const json_t *v, struct buf *b);
/* Returns "string", "number", "object", … for messages. */
const char *jsonx_type_name(const json_t *v);
/* A JSON string holding an RFC 3339 time for ms. New reference. */
json_t *jsonx_time(int64_t ms);

#endif
