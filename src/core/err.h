/* err.h — the one error convention (STYLE §4).
 *
 * A function that can fail on input returns 0 or a negative CAIRN_E* code
 * and fills the caller's struct cairn_err with a one-line message fit for a
 * user, a snake_case code and, for input, the JSON path of the bad field.
 * The first error wins: cairn_err_set leaves an already-set error alone, so
 * calls can chain and the root cause is what the user sees. */
#ifndef CORE_ERR_H
#define CORE_ERR_H

enum cairn_errno {
	CAIRN_OK = 0,
	CAIRN_EINVAL = -1,    /* bad input (HTTP 400) */
	CAIRN_EUNPROC = -2,   /* valid syntax, fails validation (422) */
	CAIRN_EAUTH = -3,     /* no or bad credentials (401) */
	CAIRN_EPERM = -4,     /* not allowed (403) */
	CAIRN_ENOTFOUND = -5, /* (404) */
	CAIRN_ECONFLICT = -6, /* (409) */
	CAIRN_ETOOBIG = -7,   /* (413) */
	CAIRN_ELIMIT = -8,    /* rate limited (429) */
	CAIRN_EIO = -9,	      /* storage or system failure (500) */
	CAIRN_EUNAVAIL = -10, /* shutting down or not ready (503) */
};

struct cairn_err {
	int code;	   /* 0 while unset */
	char slug[48];	   /* snake_case, e.g. "invalid_json" */
	char field[128];   /* JSON path of the offending field, or "" */
	char message[512]; /* one sentence a person can act on */
};

#define CAIRN_ERR_INIT                                                                                                 \
	{                                                                                                              \
		0, "", "", ""                                                                                          \
	}

/* Records an error unless one is already recorded; returns code. */
int cairn_err_set(struct cairn_err *e, int code, const char *slug, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void cairn_err_clear(struct cairn_err *e);
/* HTTP status for an error code. */
int cairn_err_http_status(int code);

#endif
