/* arena.h — a memory pool per request or per engine step.
 *
 * Temporaries come from the arena and die with it (arena_release frees all
 * at once). What must outlive it is copied out on purpose. Not thread-safe:
 * an arena belongs to one request or one step. */
#ifndef CORE_ARENA_H
#define CORE_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t used;
	size_t chunk_size;
};

void arena_init(struct arena *a, size_t chunk_size);
void arena_release(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);

#endif
