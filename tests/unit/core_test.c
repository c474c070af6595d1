/* core_test.c — buffers, errors, clock, config, shard, arena, JSON input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/jsonx.h"
#include "core/shard.h"

Test(core_buf, appends_and_stays_nul_terminated)
{
	struct buf b;
	buf_init(&b, 64);
	cr_assert_str_eq(b.ptr, "");
	buf_adds(&b, "안녕");
	buf_addf(&b, " %d", 42);
	cr_assert_str_eq(b.ptr, "안녕 42");
	cr_assert_eq(b.len, strlen("안녕 42"));
	size_t n;
	char *p = buf_detach(&b, &n);
	cr_assert_str_eq(p, "안녕 42");
	cr_assert_eq(b.len, 0);
	free(p);
	buf_release(&b);
}

Test(core_buf, maximum_is_sticky)
{
	struct buf b;
	buf_init(&b, 8);
	cr_assert_eq(buf_adds(&b, "12345"), 0);
	cr_assert_eq(buf_adds(&b, "6789"), -1);
	cr_assert(b.overflow);
	cr_assert_eq(buf_adds(&b, "x"), -1, "appends after an overflow are refused");
	cr_assert_str_eq(b.ptr, "12345");
	buf_reset(&b);
	cr_assert_eq(buf_adds(&b, "ok"), 0);
	buf_release(&b);
}

Test(core_buf, json_escaping)
{
	struct buf b;
	buf_init(&b, 0);
	const char s[] = "a\"b\\c\n\x01";
	buf_add_json_str(&b, s, sizeof s - 1);
	cr_assert_str_eq(b.ptr, "a\\\"b\\\\c\\n\\u0001");
	buf_release(&b);
}

Test(core_buf, large_formatted_append)
{
	struct buf b;
	buf_init(&b, 0);
	char big[1000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	buf_addf(&b, "<%s>", big);
	cr_assert_eq(b.len, 1001);
	buf_release(&b);
}

Test(core_err, first_error_wins)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(cairn_err_set(&e, CAIRN_EINVAL, "bad", "a.b", "first %d", 1), CAIRN_EINVAL);
	cairn_err_set(&e, CAIRN_EIO, "io", "", "second");
	cr_assert_str_eq(e.message, "first 1");
	cr_assert_str_eq(e.field, "a.b");
	cr_assert_eq(cairn_err_http_status(e.code), 400);
	cr_assert_eq(cairn_err_http_status(CAIRN_ETOOBIG), 413);
	cr_assert_eq(cairn_err_http_status(CAIRN_EAUTH), 401);
}

Test(core_clock, rfc3339_round_trip_and_offsets)
{
	int64_t ms;
	cr_assert_eq(clock_parse_rfc3339("2026-03-02T10:00:00+09:00", &ms), 0);
	char out[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(ms, out);
	cr_assert_str_eq(out, "2026-03-02T01:00:00.000Z");
	cr_assert_eq(clock_parse_rfc3339("2026-03-02T01:00:00.5Z", &ms), 0);
	clock_format_rfc3339(ms, out);
	cr_assert_str_eq(out, "2026-03-02T01:00:00.500Z");
	cr_assert_eq(clock_parse_rfc3339("2024-02-29", &ms), 0);
	clock_format_rfc3339(ms, out);
	cr_assert_str_eq(out, "2024-02-29T00:00:00.000Z");
	clock_format_rfc3339(-1, out);
	cr_assert_str_eq(out, "1969-12-31T23:59:59.999Z");
	cr_assert_eq(clock_parse_rfc3339("2026-13-01T00:00:00Z", &ms), -1);
	cr_assert_eq(clock_parse_rfc3339("yesterday", &ms), -1);
	cr_assert_eq(clock_parse_rfc3339("2026-01-01T00:00:00Zjunk", &ms), -1);
}

Test(core_clock, virtual_clock_moves_only_when_told)
{
	clock_virtual_start(1000);
	cr_assert(clock_is_virtual());
	cr_assert_eq(clock_now_ms(), 1000);
	cr_assert_eq(clock_virtual_advance(500), 1500);
	cr_assert_eq(clock_virtual_set(1200), 1500, "never backwards");
	cr_assert_eq(clock_virtual_set(86400000), 86400000);
}

Test(core_config, flags_beat_env_beat_file_beat_defaults)
{
	char path[] = "/tmp/cairn-config-XXXXXX";
	int fd = mkstemp(path);
	const char toml[] = "# cairn\ndata = \"/from/file\"\nlisten = \"127.0.0.1:1111\"\nthreads = 3\n";
	cr_assert_eq(write(fd, toml, sizeof toml - 1), (ssize_t)(sizeof toml - 1));
	close(fd);
	struct cairn_config c;
	struct cairn_err e = CAIRN_ERR_INIT;
	config_init(&c);
	cr_assert_str_eq(c.listen, "127.0.0.1:8080");
	cr_assert_eq(config_set(&c, "data", "/from/flag", &e), 0);
	cr_assert_eq(config_set(&c, "config", path, &e), 0);
	setenv("CAIRN_LISTEN", "127.0.0.1:2222", 1);
	cr_assert_eq(config_load_env_and_file(&c, config_key_bit("data") | config_key_bit("config"), &e), 0, "%s",
		     e.message);
	unsetenv("CAIRN_LISTEN");
	cr_assert_str_eq(c.data_dir, "/from/flag");
	cr_assert_str_eq(c.listen, "127.0.0.1:2222");
	cr_assert_eq(c.threads, 3);
	config_release(&c);
	unlink(path);
}

Test(core_config, bad_values_are_refused)
{
	struct cairn_config c;
	struct cairn_err e = CAIRN_ERR_INIT;
	config_init(&c);
	cr_assert_lt(config_set(&c, "threads", "many", &e), 0);
	cr_assert(strstr(e.message, "threads"));
	cairn_err_clear(&e);
	cr_assert_lt(config_set(&c, "colour", "blue", &e), 0);
	config_release(&c);
	char *host;
	int port;
	cr_assert_eq(config_split_listen("0.0.0.0:80", &host, &port), 0);
	cr_assert_str_eq(host, "0.0.0.0");
	cr_assert_eq(port, 80);
	free(host);
	cr_assert_eq(config_split_listen("nope", &host, &port), -1);
}

Test(core_shard, stable_and_spread)
{
	unsigned counts[16] = {0};
	cr_assert_eq(shard_hash(1, "user-1", 6), shard_hash(1, "user-1", 6));
	cr_assert_neq(shard_hash(1, "user-1", 6), shard_hash(2, "user-1", 6), "workspace is part of the key");
	for (int i = 0; i < 16000; i++) {
		char k[32];
		int n = snprintf(k, sizeof k, "user-%d", i);
		counts[shard_of(1, k, (size_t)n, 16)]++;
	}
	for (int i = 0; i < 16; i++)
		cr_assert(counts[i] > 800 && counts[i] < 1200, "shard %d has %u", i, counts[i]);
}

Test(core_arena, many_small_and_one_big)
{
	struct arena a;
	arena_init(&a, 128);
	char *s = arena_strdup(&a, "hello");
	for (int i = 0; i < 100; i++)
		memset(arena_alloc(&a, 24), i, 24);
	char *big = arena_alloc(&a, 10000);
	memset(big, 1, 10000);
	cr_assert_str_eq(s, "hello");
	arena_release(&a);
}

Test(core_jsonx, rejects_bad_input_with_position)
{
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_null(jsonx_parse("{\"a\":", 5, 32, 1, &e));
	cr_assert_str_eq(e.slug, "invalid_json");
	cr_assert(strstr(e.message, "line 1"));
	cairn_err_clear(&e);
	cr_assert_null(jsonx_parse("{\"a\":\"\xff\"}", 9, 32, 1, &e));
	cr_assert_str_eq(e.slug, "invalid_utf8");
	cairn_err_clear(&e);
	cr_assert_null(jsonx_parse("[1]", 3, 32, 1, &e));
	cairn_err_clear(&e);
	char deep[200];
	for (int i = 0; i < 100; i++) {
		deep[i] = '[';
		deep[199 - i] = ']';
	}
	cr_assert_null(jsonx_parse(deep, 200, 32, 0, &e));
	cr_assert_str_eq(e.slug, "too_deep");
	json_t *ok = jsonx_parse("{\"이름\":\"김\"}", strlen("{\"이름\":\"김\"}"), 32, 1, &e);
	cr_assert_not_null(ok);
	json_decref(ok);
}
