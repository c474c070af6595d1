/* cond_int.h — internals shared by the files of the cond module.
 *
 * Tree layout: every node is a struct cond. Composite nodes (all/any/not)
 * own their children; leaves own a struct cond_cmp (an operator and its
 * pre-digested operand). Strings are owned copies; json values are deep
 * copies owned by the node, never shared with the caller's JSON, so the tree
 * is immutable and thread-safe once built (cond.h invariant 1). */
#ifndef COND_COND_INT_H
#define COND_COND_INT_H

#include <jansson.h>
#include <stdint.h>

#include "cond/cond.h"
#include "core/buf.h"

/* The operators, in table order (cond_op.c). */
enum cond_op {
	COND_OP_NONE = -1,
	COND_OP_EQ = 0,
	COND_OP_NE,
	COND_OP_GT,
	COND_OP_GTE,
	COND_OP_LT,
	COND_OP_LTE,
	COND_OP_IN,
	COND_OP_NOT_IN,
	COND_OP_CONTAINS,
	COND_OP_STARTS_WITH,
	COND_OP_ENDS_WITH,
	COND_OP_EXISTS,
	COND_OP_NOT_EXISTS,
	COND_OP_BETWEEN,
	COND_OP_BEFORE,
	COND_OP_AFTER,
	COND_OP_WITHIN_LAST,
	COND_OP_NOT_WITHIN_LAST,
	COND_OP__COUNT
};

/* Shapes an operand may take (cond_op_def.operand). */
enum cond_operand {
	COND_OPD_NONE,	   /* no value: exists, not_exists */
	COND_OPD_SCALAR,   /* string, number or boolean */
	COND_OPD_ORDERED,  /* string or number */
	COND_OPD_LIST,	   /* non-empty array of scalars */
	COND_OPD_TEXT,	   /* string */
	COND_OPD_RANGE,	   /* [low, high]: two numbers or two strings */
	COND_OPD_DATE,	   /* RFC 3339 string or epoch milliseconds */
	COND_OPD_DURATION, /* {"weeks","days","hours","minutes"} */
};

/* Where an operator may appear. */
#define COND_IN_VALUE  1u /* trait, property, computed */
#define COND_IN_NUMBER 2u /* count, sum, score, percentile: numbers only */

/* One row of the operator table: the single description that drives
 * parsing, validation, evaluation and docs/conditions.md. */
struct cond_op_def {
	const char *name;
	enum cond_op op;
	enum cond_operand operand;
	unsigned where;		  /* COND_IN_* */
	enum cond_op negation_of; /* COND_OP_NONE, or the positive twin this negates */
	const char *example;	  /* an operand for messages, e.g. "[10, 20]" */
};

const struct cond_op_def *cond_op_find(const char *name);
const struct cond_op_def *cond_op_get(enum cond_op op);
/* Appends "eq, ne, gt, …", the operators allowed in `where` (COND_IN_*). */
void cond_op_list(unsigned where, struct buf *out);

/* A parsed scalar operand, digested once so evaluation does no parsing. */
struct cond_val {
	json_t *json; /* owned deep copy */
	int is_num;   /* number, or a string holding a plain decimal number */
	double num;
	int is_int; /* a JSON integer (compared exactly against integers) */
	json_int_t ival;
	int is_date; /* RFC 3339 string, or a number read as epoch ms */
	int64_t date_ms;
};

/* A duration as written (for round trips) and in ms. */
struct cond_dur {
	json_int_t weeks, days, hours, minutes;
	int64_t ms;
};

/* An operator and its operand. */
struct cond_cmp {
	const struct cond_op_def *def;
	struct cond_val v[2];  /* SCALAR/ORDERED/TEXT/DATE: v[0]; RANGE: v[0], v[1] */
	struct cond_val *list; /* LIST */
	size_t nlist;
	struct cond_dur dur; /* DURATION */
};

struct cond {
	enum cond_kind kind;
	/* all / any / not */
	struct cond **kids;
	size_t nkids;
	size_t *order; /* evaluation order of kids, cheapest first */
	/* leaves */
	char *name; /* trait/property path, event, segment, tag, channel, score, computed */
	int has_cmp;
	struct cond_cmp cmp; /* trait, property, computed, score value */
	/* event */
	struct cond *where;
	char *where_key; /* cond_to_text(where) or "" */
	int has_count;	 /* `count` given */
	struct cond_cmp count;
	int has_sum;
	char *sum_property;
	struct cond_cmp sum;
	int has_within;
	struct cond_dur within;
	/* consent */
	char *consent_is;
	/* score */
	int has_percentile;
	struct cond_cmp percentile;
	int cost; /* relative evaluation cost, for `order` */
};

/* Saturating arithmetic on times, so hostile epoch values cannot overflow. */
static inline int64_t cond_sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

static inline int64_t cond_sat_sub(int64_t a, int64_t b)
{
	return b == INT64_MIN ? cond_sat_add(cond_sat_add(a, INT64_MAX), 1) : cond_sat_add(a, -b);
}

/* Reads a value by path from obj: the whole path as one key first, then
 * split on '.' into nested object keys. NULL when absent. */
const json_t *cond_lookup(const json_t *obj, const char *path);
/* Applies cmp to an actual value (NULL or JSON null = missing). 1 or 0. */
int cond_cmp_test(const struct cond_cmp *cmp, const json_t *actual, int64_t now_ms);
/* The same for a number (counts, sums, scores): cmp comes from a
 * COND_IN_NUMBER position, so its operands are numbers. */
int cond_cmp_test_num(const struct cond_cmp *cmp, double actual);
/* The struct cond_dep of leaf c, as cond_visit hands it out. */
void cond_dep_fill(const struct cond *c, int in_where, struct cond_dep *d);
/* An event leaf's count test: its `count` operator, or "at least once". */
int cond_event_count_ok(const struct cond *leaf, int64_t count);
/* Reads a date: RFC 3339 string or number of epoch ms. 0 and *ms, or -1. */
int cond_read_date(const json_t *v, int64_t *ms);
/* Reads a number: JSON number or a string of a plain decimal number. */
int cond_read_num(const json_t *v, double *out);

#endif
