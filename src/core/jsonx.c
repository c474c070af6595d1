#include "core/jsonx.h"

#include "core/clock.h"

json_t *jsonx_loadb(const char *data, size_t len, size_t flags, json_error_t *error)
{
	json_error_t local;
	json_error_t *je = error ? error : &local;
	json_t *v = json_loadb(data, len, flags, je);
	if (!v && json_error_code(je) == json_error_numeric_overflow)
		v = json_loadb(data, len, flags | JSON_DECODE_INT_AS_REAL, je);
	return v;
}

int jsonx_depth(const json_t *v, int limit)
{
	if (limit < 0)
		return 1;
	int max = 0;
	if (json_is_object(v)) {
		const char *k;
		json_t *c;
		json_object_foreach ((json_t *)v, k, c) {
			int d = jsonx_depth(c, limit - 1);
			if (d > max)
				max = d;
			if (max > limit)
				break;
		}
		return max + 1;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *c;
		json_array_foreach (v, i, c) {
			int d = jsonx_depth(c, limit - 1);
			if (d > max)
				max = d;
			if (max > limit)
				break;
		}
		return max + 1;
	}
	return 0;
}

json_t *jsonx_parse(const char *data, size_t len, int max_depth, int want_object, struct cairn_err *err)
{
	json_error_t je;
	if (len == 0) {
		cairn_err_set(err, CAIRN_EINVAL, "invalid_json", "", "The request body is empty; send a JSON object.");
		return NULL;
	}
	json_t *v = jsonx_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		if (json_error_code(&je) == json_error_null_character)
			cairn_err_set(err, CAIRN_EINVAL, "invalid_json", "",
				      "Strings may not contain the NUL character (\\u0000) (line %d, column %d).",
				      je.line, je.column);
		else if (json_error_code(&je) == json_error_invalid_utf8)
			cairn_err_set(err, CAIRN_EINVAL, "invalid_utf8", "",
				      "The body is not valid UTF-8 (at line %d, column %d); send UTF-8 text.", je.line,
				      je.column);
		else
			cairn_err_set(err, CAIRN_EINVAL, "invalid_json", "",
				      "The body is not valid JSON: %s (line %d, column %d).", je.text, je.line,
				      je.column);
		return NULL;
	}
	if (want_object && !json_is_object(v)) {
		cairn_err_set(err, CAIRN_EINVAL, "invalid_json", "", "The body must be a JSON object, not %s.",
			      jsonx_type_name(v));
		json_decref(v);
		return NULL;
	}
	if (max_depth > 0 && jsonx_depth(v, max_depth) > max_depth) {
		cairn_err_set(err, CAIRN_EINVAL, "too_deep", "",
			      "The JSON is nested more than %d levels deep; flatten it.", max_depth);
		json_decref(v);
		return NULL;
	}
	return v;
}

const char *jsonx_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
	return buf_add(data, buffer, size);
}

int jsonx_dump_buf(const json_t *v, struct buf *b)
{
	return json_dump_callback(v, dump_cb, b, JSON_COMPACT | JSON_ENCODE_ANY);
}

const char *jsonx_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

json_t *jsonx_time(int64_t ms)
{
	char t[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(ms, t);
	return json_string(t);
}
