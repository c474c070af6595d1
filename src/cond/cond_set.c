/* cond_set.c — evaluating a condition over many users at once (cond.h,
 * "set evaluation").
 *
 * Three-valued: for every node the provider's leaves give two bitsets, YES
 * (holds for sure) and MAYBE (may hold: the caller decides those users one
 * by one with cond_eval). all / any / not combine them exactly:
 *
 *   all:  yes = ∧ yes_i            possible = ∧ (yes_i ∨ maybe_i)
 *   any:  yes = ∨ yes_i            possible = ∨ (yes_i ∨ maybe_i)
 *   not:  yes = live ∧ ¬possible   maybe    = maybe
 *
 * with maybe = possible ∧ ¬yes. A leaf the provider cannot answer is MAYBE
 * for every live user, so the result is always a correct bracket of the
 * truth, and exact (no MAYBE) when every leaf was answered exactly. */
#include <stdlib.h>
#include <string.h>

#include "cond/cond_int.h"
#include "core/xalloc.h"

struct set_eval {
	const struct cond_set_provider *p;
	int64_t now_ms;
	struct cairn_err *err;
};

static int eval_set(struct set_eval *se, const struct cond *c, uint64_t *yes, uint64_t *maybe);

static int eval_leaf(struct set_eval *se, const struct cond *c, uint64_t *yes, uint64_t *maybe)
{
	const struct cond_set_provider *p = se->p;
	struct cond_dep d;
	cond_dep_fill(c, 0, &d);
	memset(yes, 0, p->nwords * sizeof *yes);
	memset(maybe, 0, p->nwords * sizeof *maybe);
	int rc = p->leaf ? p->leaf(p->arg, &d, se->now_ms, yes, maybe, se->err) : 1;
	if (rc < 0)
		return rc;
	if (rc > 0) { /* unanswered: everyone may match */
		memset(yes, 0, p->nwords * sizeof *yes);
		memcpy(maybe, p->live, p->nwords * sizeof *maybe);
		return 0;
	}
	for (size_t w = 0; w < p->nwords; w++) { /* keep the bracket inside live, yes ∩ maybe = ∅ */
		yes[w] &= p->live[w];
		maybe[w] &= p->live[w] & ~yes[w];
	}
	return 0;
}

static int eval_group(struct set_eval *se, const struct cond *c, uint64_t *yes, uint64_t *maybe)
{
	size_t nw = se->p->nwords;
	int is_all = c->kind == COND_ALL;
	uint64_t *ky = xmalloc(nw * sizeof *ky), *km = xmalloc(nw * sizeof *km);
	/* yes and maybe hold "yes" and "possible" while combining */
	for (size_t w = 0; w < nw; w++)
		yes[w] = maybe[w] = is_all ? se->p->live[w] : 0;
	int rc = 0;
	for (size_t i = 0; i < c->nkids && rc == 0; i++) {
		rc = eval_set(se, c->kids[c->order[i]], ky, km);
		uint64_t any = 0;
		for (size_t w = 0; rc == 0 && w < nw; w++) {
			if (is_all) {
				yes[w] &= ky[w];
				maybe[w] &= ky[w] | km[w];
				any |= maybe[w];
			} else {
				yes[w] |= ky[w];
				maybe[w] |= ky[w] | km[w];
			}
		}
		if (rc == 0 && is_all && !any)
			break; /* nobody can match: the rest cannot change that */
	}
	for (size_t w = 0; w < nw; w++)
		maybe[w] &= ~yes[w];
	free(ky);
	free(km);
	return rc;
}

static int eval_set(struct set_eval *se, const struct cond *c, uint64_t *yes, uint64_t *maybe)
{
	switch (c->kind) {
	case COND_ALL:
	case COND_ANY: return eval_group(se, c, yes, maybe);
	case COND_NOT: {
		int rc = eval_set(se, c->kids[0], yes, maybe);
		for (size_t w = 0; rc == 0 && w < se->p->nwords; w++)
			yes[w] = se->p->live[w] & ~(yes[w] | maybe[w]);
		return rc;
	}
	default: return eval_leaf(se, c, yes, maybe);
	}
}

int cond_eval_set(const struct cond *c, const struct cond_set_provider *p, int64_t now_ms, uint64_t *yes,
		  uint64_t *maybe, struct cairn_err *err)
{
	struct cairn_err local = CAIRN_ERR_INIT;
	struct set_eval se = {p, now_ms, err ? err : &local};
	return eval_set(&se, c, yes, maybe);
}

/* ---- leaf helpers for providers ------------------------------------------ */

int cond_leaf_test_value(const struct cond *leaf, const json_t *value, int64_t now_ms)
{
	return leaf->has_cmp && cond_cmp_test(&leaf->cmp, value, now_ms);
}

int cond_leaf_test_event(const struct cond *leaf, int64_t count, double sum)
{
	if ((leaf->has_count || !leaf->has_sum) && !cond_event_count_ok(leaf, count))
		return 0;
	return leaf->has_sum ? cond_cmp_test_num(&leaf->sum, sum) : 1;
}

void cond_leaf_event_window(const struct cond *leaf, int64_t now_ms, int64_t *since_ms, int64_t *until_ms)
{
	*since_ms = 0;
	if (leaf->has_within) {
		int64_t since = cond_sat_sub(now_ms, leaf->within.ms);
		*since_ms = since > 0 ? since : 0;
	}
	*until_ms = now_ms;
}

int cond_event_count_ok(const struct cond *leaf, int64_t count)
{
	return leaf->has_count ? cond_cmp_test_num(&leaf->count, (double)count) : count >= 1;
}
