/* api_common.c — what every handler file shares (api.h). */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "app/app.h"

#define READ_BARRIER_MS	    2000
#define READ_BARRIER_ROUNDS 4

void api_read_barrier(struct app *a)
{
	/* what the engine emits while applying (Tag Added, Segment Entered, …)
	 * lands in the log just after: follow the head a few rounds so a read
	 * also sees the consequences of the writes it follows */
	int64_t head = store_log_head(a->st);
	for (int round = 0; round < READ_BARRIER_ROUNDS; round++) {
		if (engine_wait_applied(a->engine, head, READ_BARRIER_MS / READ_BARRIER_ROUNDS) < 0)
			return;
		int64_t now = store_log_head(a->st);
		if (now == head)
			return;
		head = now;
	}
}

int api_only_keys(const json_t *obj, const char *const *allowed, const char *what, struct cairn_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)obj, k, v) {
		int ok = 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(*a, k);
		if (ok)
			continue;
		char list[256];
		size_t len = 0;
		list[0] = '\0';
		for (const char *const *a = allowed; *a && len < sizeof list; a++) {
			int w = snprintf(list + len, sizeof list - len, "%s%s", a == allowed ? "" : ", ", *a);
			if (w > 0)
				len += (size_t)w;
		}
		return cairn_err_set(err, CAIRN_EUNPROC, "unknown_field", k, "'%s' is not a field of %s; use %s.", k,
				     what, list);
	}
	return 0;
}
