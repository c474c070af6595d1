#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

static char empty_str[1];

void buf_init(struct buf *b, size_t max)
{
	b->ptr = empty_str;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : BUF_MAX_DEFAULT;
	b->overflow = 0;
}

void buf_release(struct buf *b)
{
	if (b->cap)
		free(b->ptr);
	buf_init(b, b->max);
}

char *buf_detach(struct buf *b, size_t *len_out)
{
	char *p;
	if (len_out)
		*len_out = b->len;
	if (b->cap) {
		p = b->ptr;
	} else {
		p = xmalloc(1);
		p[0] = '\0';
	}
	buf_init(b, b->max);
	return p;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->overflow = 0;
	if (b->cap)
		b->ptr[0] = '\0';
}

static int grow(struct buf *b, size_t extra)
{
	if (b->overflow)
		return -1;
	if (extra > b->max - b->len) {
		b->overflow = 1;
		return -1;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t c = b->cap ? b->cap : 64;
	while (c < need)
		c *= 2;
	if (b->cap) {
		b->ptr = xrealloc(b->ptr, c);
	} else {
		b->ptr = xmalloc(c);
		b->ptr[0] = '\0';
	}
	b->cap = c;
	return 0;
}

char *buf_reserve(struct buf *b, size_t n)
{
	if (grow(b, n) < 0)
		return NULL;
	return b->ptr + b->len;
}

void buf_commit(struct buf *b, size_t n)
{
	b->len += n;
	b->ptr[b->len] = '\0';
}

void buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->ptr[len] = '\0';
	}
}

int buf_add_stream(struct buf *b, FILE *f)
{
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_add(b, chunk, n) < 0)
			return -1;
	return b->overflow ? -1 : 0;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return b->overflow ? -1 : 0;
	if (grow(b, n) < 0)
		return -1;
	memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	char small[256];
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(small, sizeof small, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof small)
		return buf_add(b, small, (size_t)n);
	if (grow(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

int buf_add_json_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[7];
		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c < 0x20) {
			u[0] = '\\';
			u[1] = 'u';
			u[2] = '0';
			u[3] = '0';
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
			u[6] = '\0';
			esc = u;
		}
		if (esc) {
			buf_add(b, s + start, i - start);
			buf_adds(b, esc);
			start = i + 1;
		}
	}
	return buf_add(b, s + start, n - start);
}
