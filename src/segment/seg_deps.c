/* seg_deps.c — which events can change a condition's value, so that live
 * segments and condition rules re-evaluate a user only when it matters.
 * Time alone is handled elsewhere (due tables and ticks). */
#include <string.h>

#include "segment/segment.h"

/* The events each computed trait is derived from (NULL = any event). */
static const struct {
	const char *prefix;
	const char *events[3];
} computed_sources[] = {
	{"consecutive_unopened_emails", {"Email Sent", "Email Opened", "Email Link Clicked"}},
	{"email_", {"Email Sent", "Email Opened", "Email Link Clicked"}},
	{"open_rate", {"Email Sent", "Email Opened", NULL}},
	{"click_rate", {"Email Sent", "Email Link Clicked", NULL}},
	{"order_", {"Order Completed", NULL, NULL}},
	{"revenue_", {"Order Completed", NULL, NULL}},
	{"last_order", {"Order Completed", NULL, NULL}},
	{"days_since_last_order", {"Order Completed", NULL, NULL}},
};

struct dep_scan {
	const struct store_event *ev;
	int is_track, hit;
};

static int named(const struct store_event *ev, const char *name)
{
	return ev->name && name && !strcmp(ev->name, name);
}

static int visit(void *arg, const struct cond_dep *d)
{
	struct dep_scan *s = arg;
	const struct store_event *ev = s->ev;
	const char *t = ev->type ? ev->type : "";
	int hit = 0;
	switch (d->kind) {
	case COND_TRAIT: hit = !strcmp(t, "identify") || !strcmp(t, "alias") || !strcmp(t, "lifecycle"); break;
	case COND_PROPERTY:
		hit = !d->in_where; /* the current event itself */
		break;
	case COND_EVENT: hit = s->is_track && named(ev, d->name); break;
	case COND_TAG: hit = !strcmp(t, "tags") || named(ev, "Tag Added") || named(ev, "Tag Removed"); break;
	case COND_CONSENT: hit = !strcmp(t, "identify") || !strcmp(t, "consent"); break;
	case COND_SEGMENT: hit = named(ev, "Segment Entered") || named(ev, "Segment Exited"); break;
	case COND_COMPUTED: {
		hit = 1; /* unknown or any-event traits (first/last seen) */
		for (size_t i = 0; i < sizeof computed_sources / sizeof computed_sources[0]; i++) {
			if (strncmp(d->name, computed_sources[i].prefix, strlen(computed_sources[i].prefix)))
				continue;
			hit = 0;
			for (int k = 0; k < 3 && computed_sources[i].events[k]; k++)
				hit |= s->is_track && named(ev, computed_sources[i].events[k]);
			break;
		}
		break;
	}
	default:
		hit = 1; /* scores and anything new: stay safe */
		break;
	}
	s->hit |= hit;
	return s->hit; /* stop at the first dependency that matches */
}

int seg_cond_depends_on(const struct cond *c, const struct store_event *ev)
{
	struct dep_scan s = {.ev = ev, .is_track = ev->type && !strcmp(ev->type, "track"), .hit = 0};
	/* a merge (alias) can change anything about the survivor */
	if (ev->type && !strcmp(ev->type, "alias"))
		return 1;
	cond_visit(c, visit, &s);
	return s.hit;
}
