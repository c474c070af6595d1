/* seg_live.c — live segments (placeholder: no segments yet). */
#include "segment/seg_live.h"

int seg_live_apply(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err)
{
	return 0;
}

int seg_live_tick(struct store *st, int64_t now_ms, struct cairn_err *err)
{
	return 0;
}
