/* shard.h — which shard owns a user.
 *
 * shard = SipHash-2-4(fixed key, workspace_id || user key) mod nshards.
 * The hash is stable across processes, machines and versions: it decides
 * which engine consumer (and later which node) applies a user's events, so
 * changing it is a data migration. */
#ifndef CORE_SHARD_H
#define CORE_SHARD_H

#include <stddef.h>
#include <stdint.h>

#define SHARD_DEFAULT_COUNT 16

uint64_t shard_hash(int64_t workspace_id, const char *key, size_t len);
unsigned shard_of(int64_t workspace_id, const char *key, size_t len, unsigned nshards);

#endif
