/* store_access.h — who may use a workspace: members' logins, the web app's
 * sessions and the API keys (listing, creating, revoking).
 *
 * A session is stored by the hash of its cookie token (the token itself
 * never touches the disk) with the CSRF token the app echoes on changes;
 * sessions survive a restart and end at expires_at or on logout. */
#ifndef STORE_STORE_ACCESS_H
#define STORE_STORE_ACCESS_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

struct store_member {
	int64_t member_id, workspace_id;
	char *email, *role, *password_hash, *workspace;
};
void store_member_release(struct store_member *m);

/* The member with this email (the oldest if several workspaces have one):
 * 0, or CAIRN_ENOTFOUND. */
int store_member_find(struct store *st, const char *email, struct store_member *m, struct cairn_err *err);
/* The member by id, with the workspace name. */
int store_member_get(struct store *st, int64_t member_id, struct store_member *m, struct cairn_err *err);

int store_session_put(struct store *st, const unsigned char hash[32], int64_t ws, int64_t member_id, const char *csrf,
		      int64_t now, int64_t expires_at, struct cairn_err *err);
/* A live session: 0 with *ws, *member_id and csrf (≤ 63 chars), or
 * CAIRN_ENOTFOUND (unknown or expired at now). */
int store_session_get(struct store *st, const unsigned char hash[32], int64_t now, int64_t *ws, int64_t *member_id,
		      char csrf[64], struct cairn_err *err);
int store_session_delete(struct store *st, const unsigned char hash[32], struct cairn_err *err);

/* {"data":[{id, kind: write|secret, prefix, created_at, revoked_at}]}, newest first. */
json_t *store_keys_json(struct store *st, int64_t ws, struct cairn_err *err);
/* A new key (its hash) beside the others: *id. */
int store_key_create(struct store *st, int64_t ws, enum store_key_kind kind, const unsigned char hash[32],
		     const char *prefix, int64_t now, int64_t *id, struct cairn_err *err);
/* Revokes key id of ws: 0, CAIRN_ENOTFOUND, or CAIRN_ECONFLICT when it is the
 * workspace's last live key of its kind. */
int store_key_revoke(struct store *st, int64_t ws, int64_t id, int64_t now, struct cairn_err *err);

#endif
