/* xalloc.h — allocation that never returns NULL.
 *
 * Out of memory is not an error a caller can handle well, so these abort
 * with a message instead (STYLE §5). Callers never test the result. */
#ifndef CORE_XALLOC_H
#define CORE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Grows *p (an array of *cap elements of size elem) to hold at least need
 * elements, doubling; updates *cap. */
void xgrow(void **p, size_t *cap, size_t need, size_t elem);

#endif
