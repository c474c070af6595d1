#include "core/log.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"

static enum log_level min_level = LOG_INFO;
static int log_fd = 2;

void log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

void log_set_fd(int fd)
{
	log_fd = fd;
}

void log_emit(enum log_level lvl, const char *msg, ...)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	if (lvl < min_level)
		return;
	char ts[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(clock_now_ms(), ts);
	struct buf b;
	buf_init(&b, BUF_MAX_LOG_LINE);
	buf_addf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts, names[lvl]);
	buf_add_json_str(&b, msg, strlen(msg));
	buf_addch(&b, '"');
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		buf_addch(&b, ',');
		buf_addch(&b, '"');
		buf_add_json_str(&b, k, strlen(k));
		buf_adds(&b, "\":\"");
		if (v)
			buf_add_json_str(&b, v, strlen(v));
		buf_addch(&b, '"');
	}
	va_end(ap);
	if (b.overflow) {
		buf_reset(&b);
		buf_addf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"(log line too long)\"", ts, names[lvl]);
	}
	buf_adds(&b, "}\n");
	ssize_t w = write(log_fd, b.ptr, b.len);
	(void)w;
	buf_release(&b);
}
