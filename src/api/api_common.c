/* api_common.c — what every handler file shares (api.h). */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "app/app.h"

#define READ_BARRIER_MS	    2000
#define READ_BARRIER_ROUNDS 4

void api_read_barrier(struct app *a)
{
	/* the log as it is now, then what the engine emitted while applying it
	 * (Tag Added, Segment Entered, …) — and what that emitted — so a read
	 * also sees the consequences of the writes it follows; never chasing
	 * the head, which other clients keep moving */
	int64_t id = store_log_head(a->st);
	for (int round = 0; round < READ_BARRIER_ROUNDS && id > 0; round++) {
		if (engine_wait_applied(a->engine, id, READ_BARRIER_MS / READ_BARRIER_ROUNDS) < 0)
			return;
		int64_t next = engine_emitted_after(a->engine, id);
		if (next <= id)
			return;
		id = next;
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
