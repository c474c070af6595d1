/* api_segment.c — POST /api/v1/users/{id}/evaluate (api_segment.h). */
#include <string.h>

#include "api/api_segment.h"
#include "api/api.h"
#include "app/app.h"
#include "cond/cond.h"
#include "core/jsonx.h"
#include "segment/segment.h"

void api_user_evaluate(struct http_request *r, void *app)
{
	struct app *a = app;
	struct cairn_err err = CAIRN_ERR_INIT;
	const struct buf *b = http_body(r);
	json_t *req = jsonx_parse(b->ptr, b->len, JSONX_MAX_DEPTH, 1, &err);
	if (!req) {
		http_error(r, &err);
		return;
	}
	const char *key;
	json_t *v;
	json_object_foreach (req, key, v) {
		if (strcmp(key, "condition") && strcmp(key, "event")) {
			http_errorf(
				r, CAIRN_EUNPROC, "unknown_field", key,
				"Unknown field '%s': an evaluate request has \"condition\" and optionally \"event\".",
				key);
			json_decref(req);
			return;
		}
	}
	json_t *cj = json_object_get(req, "condition");
	json_t *event = json_object_get(req, "event");
	struct cond *c = NULL;
	if (!cj) {
		http_errorf(r, CAIRN_EUNPROC, "missing_field", "condition", "condition is required.");
	} else if (event && !json_is_object(event)) {
		http_errorf(r, CAIRN_EUNPROC, "invalid_event", "event", "event must be an object (a message).");
	} else if (!(c = cond_parse_at(cj, "condition", &err))) {
		http_error(r, &err);
	} else {
		/* see every event acknowledged before this request */
		api_read_barrier(a);
		int64_t pid;
		struct seg_ctx sc;
		int rc = store_profile_resolve(a->st, http_workspace(r), http_param(r, 0), &pid, &err);
		if (rc == 0)
			rc = seg_ctx_init(&sc, a->st, http_workspace(r), pid, event, &err);
		if (rc == 0) {
			rc = cond_eval(c, &sc.cond, &err);
			seg_ctx_release(&sc);
		}
		if (rc < 0)
			http_error(r, &err);
		else
			http_json(r, 200, json_pack("{s:b}", "result", rc));
	}
	cond_free(c);
	json_decref(req);
}
