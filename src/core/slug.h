/* slug.h — the ids clients choose or get for resources (templates,
 * segments, tagging rules): "[a-z0-9][a-z0-9_-]*", bounded. */
#ifndef CORE_SLUG_H
#define CORE_SLUG_H

#include <stddef.h>

/* 1 when s is a valid id of at most max characters. */
int slug_valid(const char *s, size_t max);
/* "At risk (KR)" → "at-risk-kr" (at most 48 characters) into out[n];
 * fallback (may be "") when nothing ASCII is left. */
void slug_from_name(const char *name, const char *fallback, char *out, size_t n);
/* Appends "-" and 6 random [a-z0-9] (n is out's size, at least 9). */
void slug_add_suffix(char *id, size_t n);

#endif
