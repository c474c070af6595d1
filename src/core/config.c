#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"

struct key_def {
	const char *name;
	const char *env;
	size_t str_off; /* offset of char* field, or SIZE_MAX */
	size_t int_off; /* offset of int field, or SIZE_MAX */
	int min, max;
};

#define NOINT ((size_t)-1)
static const struct key_def keys[] = {
	{"data", "CAIRN_DATA", offsetof(struct cairn_config, data_dir), NOINT, 0, 0},
	{"listen", "CAIRN_LISTEN", offsetof(struct cairn_config, listen), NOINT, 0, 0},
	{"config", "CAIRN_CONFIG", offsetof(struct cairn_config, config_file), NOINT, 0, 0},
	{"virtual_clock", "CAIRN_VIRTUAL_CLOCK", offsetof(struct cairn_config, virtual_clock), NOINT, 0, 0},
	{"log_level", "CAIRN_LOG_LEVEL", offsetof(struct cairn_config, log_level), NOINT, 0, 0},
	{"public_url", "CAIRN_PUBLIC_URL", offsetof(struct cairn_config, public_url), NOINT, 0, 0},
	{"threads", "CAIRN_THREADS", NOINT, offsetof(struct cairn_config, threads), 1, 64},
	{"shards", "CAIRN_SHARDS", NOINT, offsetof(struct cairn_config, shards), 1, 4096},
};
#define NKEYS (sizeof keys / sizeof keys[0])

void config_init(struct cairn_config *c)
{
	memset(c, 0, sizeof *c);
	c->data_dir = xstrdup("./cairn-data");
	c->listen = xstrdup("127.0.0.1:8080");
	c->log_level = xstrdup("info");
	c->threads = 2;
	c->shards = 16;
}

void config_release(struct cairn_config *c)
{
	free(c->data_dir);
	free(c->listen);
	free(c->config_file);
	free(c->virtual_clock);
	free(c->log_level);
	free(c->public_url);
	memset(c, 0, sizeof *c);
}

static const struct key_def *find_key(const char *key)
{
	char norm[64];
	size_t n = strlen(key);
	if (n >= sizeof norm)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		norm[i] = key[i] == '-' ? '_' : key[i];
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, norm) == 0)
			return &keys[i];
	return NULL;
}

unsigned config_key_bit(const char *key)
{
	const struct key_def *k = find_key(key);
	return k ? 1u << (k - keys) : 0;
}

int config_set(struct cairn_config *c, const char *key, const char *value, struct cairn_err *err)
{
	const struct key_def *k = find_key(key);
	if (!k)
		return cairn_err_set(err, CAIRN_EINVAL, "unknown_option", key, "Unknown option '%s'.", key);
	if (k->str_off != NOINT) {
		char **slot = (char **)((char *)c + k->str_off);
		free(*slot);
		*slot = xstrdup(value);
		return 0;
	}
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < k->min || v > k->max)
		return cairn_err_set(err, CAIRN_EINVAL, "bad_option", key,
				     "Option '%s' needs a whole number from %d to %d, not '%s'.", k->name, k->min,
				     k->max, value);
	*(int *)((char *)c + k->int_off) = (int)v;
	return 0;
}

static int load_json(struct cairn_config *c, json_t *root, unsigned set_mask, struct cairn_err *err)
{
	const char *key;
	json_t *v;
	json_object_foreach (root, key, v) {
		char num[32];
		const char *s;
		if (json_is_string(v)) {
			s = json_string_value(v);
		} else if (json_is_integer(v)) {
			snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
			s = num;
		} else {
			return cairn_err_set(err, CAIRN_EINVAL, "bad_config", key,
					     "Config key '%s' must be a string or a number.", key);
		}
		if (set_mask & config_key_bit(key))
			continue;
		if (config_set(c, key, s, err) < 0)
			return -1;
	}
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int load_toml(struct cairn_config *c, char *text, const char *path, unsigned set_mask, struct cairn_err *err)
{
	int lineno = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char *l = trim(line);
		if (!*l || *l == '#' || *l == '[')
			continue;
		char *eq = strchr(l, '=');
		if (!eq)
			return cairn_err_set(err, CAIRN_EINVAL, "bad_config", "", "%s:%d: expected 'key = value'.",
					     path, lineno);
		*eq = '\0';
		char *k = trim(l), *v = trim(eq + 1);
		size_t vn = strlen(v);
		if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0]) {
			v[vn - 1] = '\0';
			v++;
		}
		if (set_mask & config_key_bit(k))
			continue;
		if (config_set(c, k, v, err) < 0)
			return -1;
	}
	return 0;
}

int config_load_env_and_file(struct cairn_config *c, unsigned set_mask, struct cairn_err *err)
{
	/* environment beats the file: apply env first and mark it as set */
	for (size_t i = 0; i < NKEYS; i++) {
		const char *v = getenv(keys[i].env);
		unsigned bit = 1u << i;
		if (!v || !*v || (set_mask & bit))
			continue;
		if (config_set(c, keys[i].name, v, err) < 0)
			return -1;
		set_mask |= bit;
	}
	if (!c->config_file)
		return 0;
	FILE *f = fopen(c->config_file, "rb");
	if (!f)
		return cairn_err_set(err, CAIRN_EINVAL, "bad_config", "", "Cannot open config file %s: %s.",
				     c->config_file, strerror(errno));
	struct buf b;
	buf_init(&b, 1024 * 1024);
	buf_add_stream(&b, f); /* past 1 MiB: cut, as before */
	fclose(f);
	int rc;
	const char *p = b.ptr;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '{') {
		json_error_t je;
		json_t *root = json_loads(b.ptr, 0, &je);
		if (!root)
			rc = cairn_err_set(err, CAIRN_EINVAL, "bad_config", "", "%s:%d:%d: %s.", c->config_file,
					   je.line, je.column, je.text);
		else
			rc = load_json(c, root, set_mask, err);
		json_decref(root);
	} else {
		rc = load_toml(c, b.ptr, c->config_file, set_mask, err);
	}
	buf_release(&b);
	return rc;
}

int config_split_listen(const char *listen, char **host, int *port)
{
	const char *colon = strrchr(listen, ':');
	if (!colon)
		return -1;
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end || p < 0 || p > 65535)
		return -1;
	*host = xstrndup(listen, (size_t)(colon - listen));
	*port = (int)p;
	return 0;
}
