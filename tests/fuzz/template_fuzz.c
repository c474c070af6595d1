/* template_fuzz.c — libFuzzer harness: parse + render with tight limits.
 *
 * Input layout: byte 0 picks the syntax mode (lax/strict/strict2) and the
 * strict render flags; the rest is "template\0data-json\0partial-source",
 * the last two optional. The partial is available to render/include under
 * any name. Any crash, leak, hang or sanitizer report is a bug; a template
 * error is a normal outcome. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "template/tpl.h"

static const struct tpl *partial_tpl;

static const struct tpl *fuzz_partial(void *ud, const char *name, size_t len, struct cairn_err *err)
{
	(void)ud;
	(void)name;
	(void)len;
	(void)err;
	return partial_tpl;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t ctl = data[0];
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	const char *z1 = memchr(p, '\0', n);
	size_t tlen = z1 ? (size_t)(z1 - p) : n;
	const char *dsrc = NULL, *psrc = NULL;
	size_t dlen = 0, plen = 0;
	if (z1) {
		dsrc = z1 + 1;
		size_t rest = n - tlen - 1;
		const char *z2 = memchr(dsrc, '\0', rest);
		dlen = z2 ? (size_t)(z2 - dsrc) : rest;
		if (z2) {
			psrc = z2 + 1;
			plen = rest - dlen - 1;
		}
	}
	struct tpl_opts po = {(enum tpl_syntax)(ctl % 3), 0, 0, NULL};
	struct cairn_err err = CAIRN_ERR_INIT;
	struct tpl *t = tpl_parse(p, tlen, &po, &err);
	if (!t)
		return 0;
	struct tpl *pt = NULL;
	if (psrc) {
		struct cairn_err e2 = CAIRN_ERR_INIT;
		pt = tpl_parse(psrc, plen, &po, &e2);
	}
	partial_tpl = pt;
	json_t *d = NULL;
	if (dsrc && dlen)
		d = json_loadb(dsrc, dlen, JSON_DECODE_ANY, NULL);
	struct tpl_render_opts ro;
	memset(&ro, 0, sizeof ro);
	ro.strict_variables = (ctl >> 2) & 1;
	ro.strict_filters = (ctl >> 3) & 1;
	ro.limits.max_steps = 20000;
	ro.limits.max_iterations = 5000;
	ro.limits.max_output = 64 * 1024;
	ro.limits.max_memory = 4 * 1024 * 1024;
	ro.limits.max_depth = 5;
	ro.partial = fuzz_partial;
	ro.now_ms = 1772413200000LL;
	struct buf out;
	buf_init(&out, 128 * 1024);
	cairn_err_clear(&err);
	tpl_render(t, d, &ro, &out, &err);
	buf_release(&out);
	json_decref(d);
	tpl_free(pt);
	tpl_free(t);
	partial_tpl = NULL;
	return 0;
}
