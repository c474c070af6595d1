/* buf.h — the one growable byte buffer.
 *
 * Invariants:
 *   1. ptr is never NULL after buf_init and always NUL-terminated
 *      (ptr[len] == '\0'), so it can be passed where a C string is wanted.
 *   2. len never exceeds max. An append that would pass max appends nothing,
 *      sets the sticky `overflow` flag and returns -1; later appends are
 *      ignored, so builders stay straight-line and check once at the end.
 *   3. buf_detach is the only way to take the memory; the buffer is empty
 *      and reusable afterwards.
 *
 * Each use names its maximum (see the BUF_MAX_* constants). */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#define BUF_MAX_REQUEST_BODY (512u * 1024u)	    /* Tracking API, after gzip */
#define BUF_MAX_RESPONSE     (64u * 1024u * 1024u)  /* API responses */
#define BUF_MAX_RENDER	     (1024u * 1024u)	    /* one rendered template */
#define BUF_MAX_LOG_LINE     (16u * 1024u)	    /* one JSON log line */
#define BUF_MAX_DEFAULT	     (256u * 1024u * 1024u) /* anything else */

struct buf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max;
	int overflow;
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Returns the memory (NUL-terminated, caller frees) and leaves b empty. */
char *buf_detach(struct buf *b, size_t *len_out);
void buf_reset(struct buf *b);
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
/* Appends everything f has left to read; -1 when that passed the maximum
 * (overflow, sticky as for buf_add), else 0. */
int buf_add_stream(struct buf *b, FILE *f);
int buf_addch(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Appends s as the inside of a JSON string (no quotes), escaping as needed. */
int buf_add_json_str(struct buf *b, const char *s, size_t n);
/* Makes room for n more bytes and returns where they go; call buf_commit
 * with the bytes actually written. NULL if that would pass max. */
char *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);
void buf_truncate(struct buf *b, size_t len);

#endif
