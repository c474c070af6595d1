/* config.h — server configuration: flags > environment > file > defaults.
 *
 * The file (--config FILE or CAIRN_CONFIG) is JSON, or TOML restricted to
 * `key = value` lines (strings, integers, booleans; '#' comments; [tables]
 * prefix keys with "table."). Keys are the long flag names with '-' or '_':
 * data, listen, threads, shards, log_level, virtual_clock. */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include "core/err.h"

struct cairn_config {
	char *data_dir;	     /* --data, CAIRN_DATA, default ./cairn-data */
	char *listen;	     /* --listen, CAIRN_LISTEN, default 127.0.0.1:8080 */
	char *config_file;   /* --config, CAIRN_CONFIG */
	char *virtual_clock; /* --virtual-clock RFC3339, CAIRN_VIRTUAL_CLOCK */
	char *log_level;     /* --log-level, CAIRN_LOG_LEVEL, default info */
	char *public_url;    /* --public-url, CAIRN_PUBLIC_URL: how recipients reach this server
				(tracking and unsubscribe links); default http://LISTEN */
	int threads;	     /* --threads, CAIRN_THREADS, default 2 */
	int shards;	     /* --shards, CAIRN_SHARDS, default 16 */
};

void config_init(struct cairn_config *c);
void config_release(struct cairn_config *c);
/* Sets one key by name ("data", "listen", …); -1 and err for unknown keys or
 * bad values. */
int config_set(struct cairn_config *c, const char *key, const char *value, struct cairn_err *err);
/* Fills c from the environment, then the file named by c->config_file or
 * CAIRN_CONFIG, without overriding keys already set by flags (set_mask). */
int config_load_env_and_file(struct cairn_config *c, unsigned set_mask, struct cairn_err *err);
/* Bit for a key in set_mask, or 0 for an unknown key. */
unsigned config_key_bit(const char *key);
/* Splits "host:port"; 0 or -1. */
int config_split_listen(const char *listen, char **host, int *port);

#endif
