/* log.h — one JSON object per line on stderr.
 *
 *   log_info("listening", "url", url, NULL);
 *   -> {"ts":"2026-…Z","level":"info","msg":"listening","url":"http://…"}
 *
 * Arguments after msg are key/value string pairs ending with NULL. Values
 * are escaped; a line is written with one write(2) so lines from threads
 * never interleave. */
#ifndef CORE_LOG_H
#define CORE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
void log_set_fd(int fd);
void log_emit(enum log_level lvl, const char *msg, ...) __attribute__((sentinel));

#define log_debug(...) log_emit(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_emit(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_emit(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_emit(LOG_ERROR, __VA_ARGS__)

#endif
