#include "core/shard.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

static const unsigned char shard_key[crypto_shorthash_KEYBYTES] = "cairn-shard-key";

uint64_t shard_hash(int64_t workspace_id, const char *key, size_t len)
{
	unsigned char small[256];
	unsigned char *in = small;
	size_t n = 8 + len;
	if (n > sizeof small)
		in = xmalloc(n);
	for (int i = 0; i < 8; i++)
		in[i] = (unsigned char)((uint64_t)workspace_id >> (8 * i));
	memcpy(in + 8, key, len);
	unsigned char out[crypto_shorthash_BYTES];
	crypto_shorthash(out, in, n, shard_key);
	if (in != small)
		free(in);
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h |= (uint64_t)out[i] << (8 * i);
	return h;
}

unsigned shard_of(int64_t workspace_id, const char *key, size_t len, unsigned nshards)
{
	if (nshards == 0)
		nshards = SHARD_DEFAULT_COUNT;
	return (unsigned)(shard_hash(workspace_id, key, len) % nshards);
}
