/* seg_aggregates.c — the engine's applier for per-user aggregates
 * (segment.h invariants 1–3). Budget: one UPSERT per track event, two for
 * the three email events; the event's JSON is parsed only when its bytes
 * mention "revenue". */
#include <string.h>

#include "core/jsonx.h"
#include "segment/segment.h"
#include "store/store_segment.h"

static enum store_seg_streak streak_of(const char *name)
{
	if (!strcmp(name, "Email Sent"))
		return STORE_SEG_STREAK_INC;
	if (!strcmp(name, "Email Opened") || !strcmp(name, "Email Link Clicked"))
		return STORE_SEG_STREAK_RESET;
	return STORE_SEG_STREAK_KEEP;
}

/* properties.revenue of the event, or 0 without parsing when the bytes
 * cannot hold it. */
static double revenue_of(const struct store_event *ev)
{
	if (!ev->body || !memmem(ev->body, ev->body_len, "\"revenue\"", 9))
		return 0;
	json_t *msg = jsonx_loadb(ev->body, ev->body_len, 0, NULL);
	double r = store_seg_revenue_of(json_object_get(msg, "properties"));
	json_decref(msg);
	return r;
}

int seg_apply_event(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err)
{
	if (!profile_id || !ev->type || strcmp(ev->type, "track") || !ev->name)
		return 0;
	return store_seg_apply(st, ev->workspace_id, profile_id, ev->name, ev->ts, revenue_of(ev), streak_of(ev->name),
			       err);
}

json_t *seg_computed_json(struct store *st, int64_t ws, int64_t profile_id, int64_t now_ms, struct cairn_err *err)
{
	return store_seg_computed_json(st, ws, profile_id, now_ms, err);
}

int seg_rfm_tick(struct store *st, int64_t now_ms, struct cairn_err *err)
{
	return store_seg_rfm_run(st, now_ms, err);
}
