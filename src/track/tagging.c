/* tagging.c — auto-tagging rules (placeholder: no rules yet). */
#include "track/tagging.h"

int trk_tagging_apply(struct store *st, const struct store_event *ev, int64_t profile_id, struct cairn_err *err)
{
	return 0;
}

int trk_tagging_tick(struct store *st, int64_t now_ms, struct cairn_err *err)
{
	return 0;
}
