#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

int cairn_err_set(struct cairn_err *e, int code, const char *slug, const char *field, const char *fmt, ...)
{
	if (!e || e->code)
		return code;
	e->code = code;
	copy_str(e->slug, sizeof e->slug, slug);
	copy_str(e->field, sizeof e->field, field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return code;
}

void cairn_err_clear(struct cairn_err *e)
{
	memset(e, 0, sizeof *e);
}

int cairn_err_http_status(int code)
{
	switch (code) {
	case CAIRN_EINVAL: return 400;
	case CAIRN_EUNPROC: return 422;
	case CAIRN_EAUTH: return 401;
	case CAIRN_EPERM: return 403;
	case CAIRN_ENOTFOUND: return 404;
	case CAIRN_ECONFLICT: return 409;
	case CAIRN_ETOOBIG: return 413;
	case CAIRN_ELIMIT: return 429;
	case CAIRN_EUNAVAIL: return 503;
	default: return 500;
	}
}
