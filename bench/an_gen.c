/* an_gen.c — the store behind rows 16–17 of `make bench` (analytics): PROFILES
 * profiles and EVENTS timeline rows over the 60 days before NOW, written
 * straight into the state.db of a store made by `cairn init` (plus, through
 * the API, the templates and the published journey `welcome`: see
 * bench/analytics.mjs), together with the rollups cairn's engine would have
 * kept while applying those events, so that the reports can be timed at
 * 10,000,000 events without sending them through HTTP, the log and the
 * engine (~45k events/s: about four minutes of ingest and more of apply).
 *
 *   an_gen STATE_DB PROFILES EVENTS [NOW_MS]     fill; prints one JSON object
 *   an_gen --version                             prints AN_GEN_VERSION
 *
 * Mirrors src/store/store_schema.c (state migrations 1, 2, 10, 12, 16, 17,
 * 19) and what the engine writes (src/analytics/analytics.c,
 * src/store/store_analytics.c, src/journey/journey_engine.c). Profile i
 * (0 ≤ i < PROFILES) is profile_id i + 1, user "an-<i>", in the workspace
 * `cairn init` made. Everything random comes from splitmix64 seeded by the
 * profile index, so a run is reproducible for given arguments and NOW_MS.
 *
 * What a profile does over the window [NOW − 60 d, NOW):
 *   - 2 in 5, drawn at random, sign up in it (Signed Up at a uniform time),
 *     the rest existed before; 7 in 10, drawn at random, are subscribed to
 *     the newsletter.
 *   - emails (channel email; each an Email Sent, opened with a template's
 *     probability after ~5 h, a second open for 3 in 10 of those, clicked
 *     with the template's probability a few minutes after the first open,
 *     a second click for 15 in 100):
 *       welcome-intro / -top3 / -problem-solving / -reviews-offer: the
 *         journey `welcome` (trigger Signed Up; sends at entry, +2 d, +5 d,
 *         +7 d, then it ends), journey_id welcome, node day0-intro …;
 *       newsletter-w01 … -w09: weekly (day 2 + 7k of the window, ~10:00 UTC)
 *         to the subscribed, journey newsletter, node send;
 *       spring-sale-a / -b: an A/B broadcast on day 20 to everyone
 *         (journey spring-sale, node offer, variant a / b);
 *       flash-sale: day 48, the subscribed (journey flash-sale, node offer).
 *   - sessions fill the rest of the profile's share of EVENTS: 7 in 10
 *     clicks are followed by one within a minute, the others start at
 *     uniform times; a session is Page Viewed, 0–4 Product Viewed (1–3
 *     after a click), maybe Product Added, Checkout Started, Order
 *     Completed (revenue 15–200).
 *   - the journey's own events: Journey Entered (entry), Goal Reached (the
 *     first Order Completed within 14 days of entry), Journey Exited (+7 d).
 * Shares of EVENTS follow a fixed activity pattern (0.2× … 3.5× the mean,
 * by i mod 10) times the part of the window the profile existed; each
 * profile's share is taken from what is left, and the last profile (never
 * a sign-up) gets the rest, so the total is EVENTS (a few more only if a
 * profile's emails and journey events alone exceed what is left).
 *
 * Written:
 *   profiles, identities  one each per profile (traits email, plan).
 *   timeline              every event, type track, event_id = its rank by
 *                         (ts, profile): ids in time order, as a log applied
 *                         in order would give; rows inserted in that order
 *                         with both indexes dropped and made again after.
 *   an_msg_daily          sent / opened / clicked per UTC day × channel ×
 *                         journey × node × variant × template: total = every
 *                         occurrence, uniq = the message's first occurrence
 *                         of the metric (what an_msg_seen makes of it).
 *   an_attrib_daily       each Order Completed credited to the message the
 *                         user was sent in the 7 days before it, a clicked
 *                         one first (latest sent first), as store_an_attribute
 *                         picks it; conversions and revenue per day × dims.
 *   jny_instances, jny_entries, jny_node_stats   one instance of `welcome`
 *                         (its live version, read from `journeys`) per
 *                         sign-up: exited (completed) at day7-reviews after
 *                         7 days, else waiting at its wait node; entered /
 *                         exited / converted per node as the journey engine
 *                         counts them.
 * Not written: events.db (the log stays as the API setup left it, so
 * `cairn rebuild --check` cannot reproduce this store: it is a fixture),
 * messages and an_msg_seen (nothing the bench reads uses them), jny_timers
 * (the waiting instances never fire, so serving the kept store sends
 * nothing), jny_steps, seg_daily and the other per-user aggregates.
 * No ANALYZE (cairn never runs it either). Refuses a store that already has
 * profiles. */
#define _GNU_SOURCE
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* bench/analytics.mjs rebuilds the kept store when this changes: bump it
 * whenever the data written here change. */
#define AN_GEN_VERSION "an_gen 3 (60 d; signup p.4, news p.7 weekly, A/B day 20, flash day 48; welcome journey)"

#define DAY_MS	   86400000LL
#define HOUR_MS	   3600000LL
#define MIN_MS	   60000LL
#define WINDOW_D   60
#define ATTRIB_MS  (7 * DAY_MS)
#define GOAL_MS	   (14 * DAY_MS)
#define TXN_ROWS   1000000L
#define MAX_MSGS   32
#define MAX_UEVENTS 100000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state;
static uint64_t rnd(void) /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static void seed(long i, uint64_t stream)
{
	rng_state = 0xa11a1f1c5ULL ^ (stream << 56) ^ ((uint64_t)i * 0x9e3779b97f4a7c15ULL);
}
static double unif(void)
{
	return (double)(rnd() >> 11) * 0x1.0p-53;
}
static int64_t below(int64_t n) /* uniform in [0, n) */
{
	return n > 0 ? (int64_t)(rnd() % (uint64_t)n) : 0;
}
static int64_t expo(int64_t mean)
{
	return (int64_t)(-log(1.0 - unif()) * (double)mean);
}

static sqlite3 *db;

static void die(const char *what)
{
	fprintf(stderr, "an_gen: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
	exit(1);
}

static void exec(const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "an_gen: %s: %s\n", sql, msg ? msg : "?");
		exit(1);
	}
}

static sqlite3_stmt *prep(const char *sql)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		die(sql);
	return s;
}

static void step(sqlite3_stmt *s, const char *what)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		die(what);
	sqlite3_reset(s);
}

/* ---- event names and templates ---------------------------------------------------- */

enum {
	SIGNED_UP,
	EMAIL_SENT,
	EMAIL_OPENED,
	EMAIL_CLICKED,
	PAGE_VIEWED,
	PRODUCT_VIEWED,
	PRODUCT_ADDED,
	CHECKOUT_STARTED,
	ORDER_COMPLETED,
	JOURNEY_ENTERED,
	GOAL_REACHED,
	JOURNEY_EXITED,
	NNAMES
};
static const char *const names[NNAMES] = {
	"Signed Up",	   "Email Sent",	"Email Opened",	   "Email Link Clicked",
	"Page Viewed",	   "Product Viewed",	"Product Added",   "Checkout Started",
	"Order Completed", "Journey Entered",	"Goal Reached",	   "Journey Exited",
};

enum { T_WELCOME = 0, T_NEWS = 4, NNEWS = 9, T_SPRING_A = T_NEWS + NNEWS, T_SPRING_B, T_FLASH, NTPL };
struct tpl {
	char id[32];
	const char *journey, *node, *variant;
	double p_open, p_click;
};
static struct tpl tpls[NTPL];
static const char *const welcome_nodes[4] = {"day0-intro", "day2-top3", "day5-solve", "day7-reviews"};
static const char *const welcome_tpl[4] = {"welcome-intro", "welcome-top3", "welcome-problem-solving",
					   "welcome-reviews-offer"};
static const int64_t welcome_at[4] = {0, 2 * DAY_MS, 5 * DAY_MS, 7 * DAY_MS};
/* the journey's nodes, in order (bench/analytics.mjs publishes the same) */
enum { N_INTRO, N_WAIT2, N_TOP3, N_WAIT3, N_SOLVE, N_WAIT2B, N_REVIEWS, NNODES };
static const char *const nodes[NNODES] = {"day0-intro", "wait-2d",	 "day2-top3",	"wait-3d",
					  "day5-solve", "wait-2d-again", "day7-reviews"};

static void init_tpls(void)
{
	for (int k = 0; k < 4; k++)
		tpls[T_WELCOME + k] = (struct tpl){"", "welcome", welcome_nodes[k], "", 0.55, 0.25};
	for (int k = 0; k < 4; k++)
		snprintf(tpls[T_WELCOME + k].id, sizeof tpls[0].id, "%s", welcome_tpl[k]);
	for (int k = 0; k < NNEWS; k++) {
		tpls[T_NEWS + k] = (struct tpl){"", "newsletter", "send", "", 0.28, 0.18};
		snprintf(tpls[T_NEWS + k].id, sizeof tpls[0].id, "newsletter-w%02d", k + 1);
	}
	tpls[T_SPRING_A] = (struct tpl){"spring-sale-a", "spring-sale", "offer", "a", 0.33, 0.30};
	tpls[T_SPRING_B] = (struct tpl){"spring-sale-b", "spring-sale", "offer", "b", 0.36, 0.24};
	tpls[T_FLASH] = (struct tpl){"flash-sale", "flash-sale", "offer", "", 0.38, 0.32};
}

/* ---- one profile's events --------------------------------------------------------- */

struct uev {
	int64_t ts;
	int name;
	double revenue;
};
struct umsg {
	int tpl;
	int64_t sent, open1, open2, click1, click2;
};

static struct uev uev[MAX_UEVENTS];
static long nu, budget_left;
static int64_t now;

static int emit(int name, int64_t ts, double revenue, int force)
{
	if (ts >= now || nu >= MAX_UEVENTS || (!force && budget_left <= 0))
		return 0;
	uev[nu++] = (struct uev){ts, name, revenue};
	budget_left--;
	return 1;
}

static int uev_cmp(const void *a, const void *b)
{
	const struct uev *x = a, *y = b;
	return x->ts < y->ts ? -1 : x->ts > y->ts ? 1 : x->name - y->name;
}

/* a session from t: returns when it ends or the share is used up */
static void session(int64_t t, int after_click)
{
	if (!emit(PAGE_VIEWED, t, 0, 0))
		return;
	int npv = after_click ? 1 + (int)below(3) : (int)below(5);
	for (int j = 0; j < npv; j++)
		if (!emit(PRODUCT_VIEWED, t += 20000 + below(100000), 0, 0))
			return;
	if (npv > 0 && unif() < (after_click ? 0.40 : 0.22)) {
		if (!emit(PRODUCT_ADDED, t += 15000 + below(120000), 0, 0))
			return;
		if (unif() < 0.55) {
			if (!emit(CHECKOUT_STARTED, t += 30000 + below(180000), 0, 0))
				return;
			if (unif() < 0.75)
				emit(ORDER_COMPLETED, t += 30000 + below(240000), 15 + (double)below(18500) / 100, 0);
		}
	} else if (unif() < 0.5) {
		emit(PAGE_VIEWED, t += 20000 + below(200000), 0, 0);
	}
}

/* ---- global state ----------------------------------------------------------------- */

struct gev {
	int64_t ts;
	uint32_t pid;
	uint8_t name;
};
static int gev_cmp(const void *a, const void *b)
{
	const struct gev *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (int)x->name - (int)y->name;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		puts(AN_GEN_VERSION);
		return 0;
	}
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: an_gen STATE_DB PROFILES EVENTS [NOW_MS]\n       an_gen --version\n");
		return 2;
	}
	const char *path = argv[1];
	long profiles = atol(argv[2]);
	long long events_target = atoll(argv[3]);
	now = argc == 5 ? atoll(argv[4]) : 0;
	if (!now) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	if (profiles <= 0 || profiles > 100000000L || events_target < profiles || events_target > 2000000000LL)
		return 2;
	init_tpls();
	const int64_t w0 = now - WINDOW_D * DAY_MS, day0 = w0 / DAY_MS, ndays = now / DAY_MS - day0 + 1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		die("open (make the store with `cairn init --data DIR` first)");
	sqlite3_busy_timeout(db, 10000);
	sqlite3_stmt *q = prep("SELECT min(workspace_id) FROM workspaces");
	if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_type(q, 0) == SQLITE_NULL)
		die("no workspace (was the store made by `cairn init`?)");
	int64_t ws = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = prep("SELECT (SELECT count(*) FROM profiles) + (SELECT count(*) FROM timeline)");
	if (sqlite3_step(q) != SQLITE_ROW)
		die("counting profiles");
	if (sqlite3_column_int64(q, 0) != 0) {
		fprintf(stderr, "an_gen: %s already has profiles or timeline rows; use a fresh store\n", path);
		return 1;
	}
	sqlite3_finalize(q);
	q = prep("SELECT live_version FROM journeys WHERE workspace_id = ?1 AND journey_id = 'welcome'");
	sqlite3_bind_int64(q, 1, ws);
	if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_int64(q, 0) < 1) {
		fprintf(stderr, "an_gen: no published journey `welcome` in %s (bench/analytics.mjs makes it)\n", path);
		return 1;
	}
	int64_t jversion = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	/* a fresh fixture: a crash means generating it again, so no journal */
	exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576; PRAGMA temp_store=MEMORY;");

	double t0 = now_s();
	/* pass 1: sign-up times and shares of EVENTS */
	int64_t *signup = calloc((size_t)profiles, sizeof *signup);
	double *weight = calloc((size_t)profiles, sizeof *weight);
	unsigned char *subscribed = calloc((size_t)profiles, 1);
	if (!signup || !weight || !subscribed)
		return 1;
	static const double pattern[10] = {0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.5, 3.5};
	double wsum = 0;
	for (long i = 0; i < profiles; i++) {
		seed(i, 1);
		signup[i] = unif() < 0.4 ? w0 + below(WINDOW_D * DAY_MS - 2 * HOUR_MS) : 0;
		if (i == profiles - 1) /* it absorbs the rounding: no journey events after its share */
			signup[i] = 0;
		subscribed[i] = unif() < 0.7;
		int64_t start = signup[i] ? signup[i] : w0;
		weight[i] = pattern[i % 10] * (double)(now - start) / (double)(WINDOW_D * DAY_MS);
		wsum += weight[i];
	}

	size_t gcap = (size_t)(events_target + events_target / 20 + 1000), gn = 0;
	struct gev *g = malloc(gcap * sizeof *g);
	/* rollups in memory: [day][template][metric] */
	enum { M_SENT, M_OPENED, M_CLICKED, NMETRICS };
	static const char *const metrics[NMETRICS] = {"sent", "opened", "clicked"};
	size_t ncell = (size_t)ndays * NTPL;
	int64_t *tot = calloc(ncell * NMETRICS, sizeof *tot), *uni = calloc(ncell * NMETRICS, sizeof *uni);
	int64_t *conv = calloc(ncell, sizeof *conv);
	double *rev = calloc(ncell, sizeof *rev);
	if (!g || !tot || !uni || !conv || !rev)
		return 1;
#define CELL(ts, t) ((size_t)((ts) / DAY_MS - day0) * NTPL + (size_t)(t))
	int64_t nstat[NNODES][3] = {{0}}; /* entered, exited, converted */
	int64_t by_name[NNAMES] = {0}, msgs_sent = 0, attributed = 0, orders = 0;
	int64_t instances = 0, waiting = 0, exited_n = 0, converted_n = 0;
	struct umsg um[MAX_MSGS];

	sqlite3_stmt *ins_profile = prep("INSERT INTO profiles (profile_id, workspace_id, user_id, traits, first_seen,"
					 " last_seen, created_at, updated_at, email) VALUES (?,?,?,?,?,?,?,?,?)");
	sqlite3_stmt *ins_identity = prep("INSERT INTO identities (workspace_id, kind, value, profile_id, first_seen)"
					  " VALUES (?, 'user', ?, ?, ?)");
	sqlite3_stmt *ins_inst = prep(
		"INSERT INTO jny_instances (workspace_id, journey_id, version, profile_id, node, state, wait_event,"
		" variant, entered_at, updated_at, exited_at, exit_reason, converted_at, steps, goal_until)"
		" VALUES (?1, 'welcome', ?2, ?3, ?4, ?5, '', '', ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
	sqlite3_stmt *ins_entry = prep("INSERT INTO jny_entries (workspace_id, journey_id, profile_id, last_entered_at,"
				       " entries) VALUES (?1, 'welcome', ?2, ?3, 1)");
	exec("BEGIN");
	long long left = events_target;
	char uid[32], email[64], traits[128];
	for (long i = 0; i < profiles; i++) {
		seed(i, 2);
		int64_t s = signup[i], start = s ? s : w0;
		long budget = i == profiles - 1 ? (long)left : lround((double)left * weight[i] / wsum);
		wsum -= weight[i];
		if (budget < 0)
			budget = 0;
		budget_left = budget;
		nu = 0;
		/* the emails */
		int nm = 0;
		int64_t steps_at[4] = {0};
		int nsteps = 0; /* welcome send nodes run */
		if (s) {
			emit(SIGNED_UP, s, 0, 1);
			emit(JOURNEY_ENTERED, s + 1000, 0, 1);
			for (int k = 0; k < 4; k++)
				if (s + welcome_at[k] <= now - MIN_MS) {
					steps_at[nsteps++] = s + welcome_at[k];
					um[nm++] = (struct umsg){T_WELCOME + k, s + welcome_at[k] + 2000 + below(28000), 0, 0,
								 0, 0};
				}
		}
		for (int k = 0; k < NNEWS; k++) {
			int64_t t = w0 + (2 + 7 * k) * DAY_MS + 10 * HOUR_MS + below(HOUR_MS);
			if (subscribed[i] && t > start && t < now - MIN_MS)
				um[nm++] = (struct umsg){T_NEWS + k, t, 0, 0, 0, 0};
		}
		int64_t t_spring = w0 + 20 * DAY_MS + 9 * HOUR_MS + below(2 * HOUR_MS);
		if (t_spring > start)
			um[nm++] = (struct umsg){(rnd() & 1) ? T_SPRING_A : T_SPRING_B, t_spring, 0, 0, 0, 0};
		int64_t t_flash = w0 + 48 * DAY_MS + 18 * HOUR_MS + below(HOUR_MS);
		if (subscribed[i] && t_flash > start)
			um[nm++] = (struct umsg){T_FLASH, t_flash, 0, 0, 0, 0};
		int64_t clicks[2 * MAX_MSGS];
		int nclicks = 0;
		for (int m = 0; m < nm; m++) {
			struct umsg *x = &um[m];
			const struct tpl *tp = &tpls[x->tpl];
			emit(EMAIL_SENT, x->sent, 0, 1);
			if (unif() < tp->p_open) {
				int64_t o = x->sent + MIN_MS + expo(5 * HOUR_MS);
				if (emit(EMAIL_OPENED, o, 0, 1)) {
					x->open1 = o;
					if (unif() < 0.30) {
						int64_t o2 = o + expo(12 * HOUR_MS);
						if (emit(EMAIL_OPENED, o2, 0, 1))
							x->open2 = o2;
					}
					if (unif() < tp->p_click) {
						int64_t c = o + 10000 + below(5 * MIN_MS);
						if (emit(EMAIL_CLICKED, c, 0, 1)) {
							x->click1 = clicks[nclicks++] = c;
							if (unif() < 0.15) {
								int64_t c2 = c + below(10 * MIN_MS);
								if (emit(EMAIL_CLICKED, c2, 0, 1))
									x->click2 = clicks[nclicks++] = c2;
							}
						}
					}
				}
			}
		}
		/* sessions: first after clicks (in click order), then at uniform times */
		int64_t span = now - start;
		int64_t margin = span > 2 * HOUR_MS ? HOUR_MS : span / 2;
		int ci = 0;
		while (budget_left > 0 && nu < MAX_UEVENTS - 16) {
			if (ci < nclicks) {
				int64_t c = clicks[ci++];
				if (unif() < 0.7)
					session(c + 5000 + below(55000), 1);
			} else {
				session(start + below(span - margin), 0);
			}
		}
		qsort(uev, (size_t)nu, sizeof *uev, uev_cmp);
		/* the journey: where the instance is, its goal, its end */
		if (s) {
			int64_t goal = 0;
			for (long k = 0; k < nu && !goal; k++)
				if (uev[k].name == ORDER_COMPLETED && uev[k].ts >= s && uev[k].ts <= s + GOAL_MS)
					goal = uev[k].ts;
			int done = nsteps == 4;
			/* entered: each send node run, with the wait after it */
			for (int k = 0; k < nsteps; k++) {
				nstat[2 * k][0]++;
				if (k < 3)
					nstat[2 * k + 1][0]++;
			}
			int at = done ? N_REVIEWS : 2 * (nsteps - 1) + 1; /* the wait it is in */
			if (goal) {
				int gn_ = goal < s + 2 * DAY_MS ? N_WAIT2
					  : goal < s + 5 * DAY_MS ? N_WAIT3
					  : goal < s + 7 * DAY_MS ? N_WAIT2B
								  : N_REVIEWS;
				nstat[gn_][2]++;
				converted_n++;
				emit(GOAL_REACHED, goal + 1, 0, 1);
			}
			int64_t exited_at = done ? s + 7 * DAY_MS : 0;
			if (done) {
				nstat[N_REVIEWS][1]++;
				exited_n++;
				emit(JOURNEY_EXITED, exited_at + 1000, 0, 1);
			} else {
				waiting++;
			}
			instances++;
			sqlite3_bind_int64(ins_inst, 1, ws);
			sqlite3_bind_int64(ins_inst, 2, jversion);
			sqlite3_bind_int64(ins_inst, 3, i + 1);
			sqlite3_bind_text(ins_inst, 4, nodes[at], -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_inst, 5, done ? "exited" : "waiting", -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins_inst, 6, s);
			sqlite3_bind_int64(ins_inst, 7, steps_at[nsteps - 1] > goal ? steps_at[nsteps - 1] : goal);
			sqlite3_bind_int64(ins_inst, 8, exited_at);
			sqlite3_bind_text(ins_inst, 9, done ? "completed" : "", -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins_inst, 10, goal);
			sqlite3_bind_int64(ins_inst, 11, done ? 8 : 2 * nsteps);
			sqlite3_bind_int64(ins_inst, 12, done ? s + GOAL_MS : 0);
			step(ins_inst, "insert instance");
			sqlite3_bind_int64(ins_entry, 1, ws);
			sqlite3_bind_int64(ins_entry, 2, i + 1);
			sqlite3_bind_int64(ins_entry, 3, s);
			step(ins_entry, "insert journey entry");
			qsort(uev, (size_t)nu, sizeof *uev, uev_cmp);
		}
		/* message rollup: each occurrence counts in total, the first of a
		 * metric for a message in uniq */
		for (int m = 0; m < nm; m++) {
			const struct umsg *x = &um[m];
			int64_t at[5] = {x->sent, x->open1, x->open2, x->click1, x->click2};
			int met[5] = {M_SENT, M_OPENED, M_OPENED, M_CLICKED, M_CLICKED};
			int first[5] = {1, 1, 0, 1, 0};
			for (int k = 0; k < 5; k++)
				if (at[k]) {
					size_t c = CELL(at[k], x->tpl) * NMETRICS + (size_t)met[k];
					tot[c]++;
					uni[c] += first[k];
				}
			msgs_sent++;
		}
		/* attribution: the latest message sent in the 7 days before the
		 * order, one clicked before it first */
		for (long k = 0; k < nu; k++) {
			if (uev[k].name != ORDER_COMPLETED)
				continue;
			orders++;
			int64_t t = uev[k].ts;
			int best = -1, best_clicked = 0;
			for (int m = 0; m < nm; m++) {
				if (um[m].sent < t - ATTRIB_MS || um[m].sent > t)
					continue;
				int clicked = um[m].click1 && um[m].click1 < t;
				if (best < 0 || clicked > best_clicked ||
				    (clicked == best_clicked && um[m].sent > um[best].sent))
					best = m, best_clicked = clicked;
			}
			if (best >= 0) {
				conv[CELL(t, um[best].tpl)]++;
				rev[CELL(t, um[best].tpl)] += uev[k].revenue;
				attributed++;
			}
		}
		/* the profile */
		int64_t first_ev = nu ? uev[0].ts : start, last_ev = nu ? uev[nu - 1].ts : start;
		int64_t created = s ? s : w0 - 1 - below(300 * DAY_MS);
		snprintf(uid, sizeof uid, "an-%ld", i);
		snprintf(email, sizeof email, "%s@example.com", uid);
		int tl = snprintf(traits, sizeof traits, "{\"email\":\"%s\",\"plan\":\"%s\"}", email,
				  i % 3 == 0 ? "pro" : "free");
		sqlite3_bind_int64(ins_profile, 1, i + 1);
		sqlite3_bind_int64(ins_profile, 2, ws);
		sqlite3_bind_text(ins_profile, 3, uid, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_profile, 4, traits, tl, SQLITE_STATIC);
		sqlite3_bind_int64(ins_profile, 5, created < first_ev ? created : first_ev);
		sqlite3_bind_int64(ins_profile, 6, last_ev);
		sqlite3_bind_int64(ins_profile, 7, created);
		sqlite3_bind_int64(ins_profile, 8, created);
		sqlite3_bind_text(ins_profile, 9, email, -1, SQLITE_STATIC);
		step(ins_profile, "insert profile");
		sqlite3_bind_int64(ins_identity, 1, ws);
		sqlite3_bind_text(ins_identity, 2, uid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins_identity, 3, i + 1);
		sqlite3_bind_int64(ins_identity, 4, created);
		step(ins_identity, "insert identity");
		/* to the global list */
		if (gn + (size_t)nu > gcap) {
			gcap = (gn + (size_t)nu) * 5 / 4;
			g = realloc(g, gcap * sizeof *g);
			if (!g)
				return 1;
		}
		for (long k = 0; k < nu; k++) {
			g[gn++] = (struct gev){uev[k].ts, (uint32_t)(i + 1), (uint8_t)uev[k].name};
			by_name[uev[k].name]++;
		}
		left -= nu;
		if ((i + 1) % 100000 == 0 || i == profiles - 1)
			fprintf(stderr, "an_gen: %ld profiles, %zu events generated, %.1f s\n", i + 1, gn, now_s() - t0);
	}
	/* journey node counts, rollups */
	sqlite3_stmt *ins_stat = prep("INSERT INTO jny_node_stats (workspace_id, journey_id, version, node, entered,"
				      " exited, converted) VALUES (?1, 'welcome', ?2, ?3, ?4, ?5, ?6)");
	for (int n = 0; n < NNODES; n++) {
		sqlite3_bind_int64(ins_stat, 1, ws);
		sqlite3_bind_int64(ins_stat, 2, jversion);
		sqlite3_bind_text(ins_stat, 3, nodes[n], -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins_stat, 4, nstat[n][0]);
		sqlite3_bind_int64(ins_stat, 5, nstat[n][1]);
		sqlite3_bind_int64(ins_stat, 6, nstat[n][2]);
		step(ins_stat, "insert node stats");
	}
	sqlite3_stmt *ins_msg = prep("INSERT INTO an_msg_daily (workspace_id, day, channel, journey_id, node, variant,"
				     " template_id, metric, total, uniq) VALUES (?1, ?2, 'email', ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	sqlite3_stmt *ins_attr = prep("INSERT INTO an_attrib_daily (workspace_id, day, channel, journey_id, node,"
				      " template_id, conversions, revenue) VALUES (?1, ?2, 'email', ?3, ?4, ?5, ?6, ?7)");
	long long msg_rows = 0, attr_rows = 0;
	for (int64_t d = 0; d < ndays; d++)
		for (int t = 0; t < NTPL; t++) {
			size_t c = (size_t)d * NTPL + (size_t)t;
			for (int m = 0; m < NMETRICS; m++) {
				if (!tot[c * NMETRICS + (size_t)m])
					continue;
				sqlite3_bind_int64(ins_msg, 1, ws);
				sqlite3_bind_int64(ins_msg, 2, day0 + d);
				sqlite3_bind_text(ins_msg, 3, tpls[t].journey, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins_msg, 4, tpls[t].node, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins_msg, 5, tpls[t].variant, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins_msg, 6, tpls[t].id, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins_msg, 7, metrics[m], -1, SQLITE_STATIC);
				sqlite3_bind_int64(ins_msg, 8, tot[c * NMETRICS + (size_t)m]);
				sqlite3_bind_int64(ins_msg, 9, uni[c * NMETRICS + (size_t)m]);
				step(ins_msg, "insert an_msg_daily");
				msg_rows++;
			}
			if (conv[c]) {
				sqlite3_bind_int64(ins_attr, 1, ws);
				sqlite3_bind_int64(ins_attr, 2, day0 + d);
				sqlite3_bind_text(ins_attr, 3, tpls[t].journey, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins_attr, 4, tpls[t].node, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins_attr, 5, tpls[t].id, -1, SQLITE_STATIC);
				sqlite3_bind_int64(ins_attr, 6, conv[c]);
				sqlite3_bind_double(ins_attr, 7, rev[c]);
				step(ins_attr, "insert an_attrib_daily");
				attr_rows++;
			}
		}
	exec("COMMIT");
	double gen_s = now_s() - t0;

	/* the timeline, in time order, without its indexes; then the indexes */
	double t1 = now_s();
	qsort(g, gn, sizeof *g, gev_cmp);
	double sort_s = now_s() - t1;
	char *idx_sql[8];
	int nidx = 0;
	q = prep("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'timeline' AND sql IS NOT NULL");
	char *idx_name[8];
	while (sqlite3_step(q) == SQLITE_ROW && nidx < 8) {
		idx_name[nidx] = strdup((const char *)sqlite3_column_text(q, 0));
		idx_sql[nidx++] = strdup((const char *)sqlite3_column_text(q, 1));
	}
	sqlite3_finalize(q);
	for (int k = 0; k < nidx; k++) {
		char drop[256];
		snprintf(drop, sizeof drop, "DROP INDEX \"%s\"", idx_name[k]);
		exec(drop);
		free(idx_name[k]);
	}
	t1 = now_s();
	sqlite3_stmt *ins_tl = prep("INSERT INTO timeline (workspace_id, profile_id, event_id, type, name, ts)"
				    " VALUES (?1, ?2, ?3, 'track', ?4, ?5)");
	exec("BEGIN");
	for (size_t k = 0; k < gn; k++) {
		sqlite3_bind_int64(ins_tl, 1, ws);
		sqlite3_bind_int64(ins_tl, 2, g[k].pid);
		sqlite3_bind_int64(ins_tl, 3, (int64_t)k + 1);
		sqlite3_bind_text(ins_tl, 4, names[g[k].name], -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins_tl, 5, g[k].ts);
		step(ins_tl, "insert timeline");
		if ((k + 1) % TXN_ROWS == 0) {
			exec("COMMIT; BEGIN");
			fprintf(stderr, "an_gen: %zu timeline rows, %.1f s\n", k + 1, now_s() - t0);
		}
	}
	exec("COMMIT");
	double insert_s = now_s() - t1;
	t1 = now_s();
	for (int k = 0; k < nidx; k++) {
		exec(idx_sql[k]);
		fprintf(stderr, "an_gen: %s, %.1f s\n", idx_sql[k], now_s() - t0);
		free(idx_sql[k]);
	}
	double index_s = now_s() - t1;
	exec("PRAGMA journal_mode=WAL;");
	double secs = now_s() - t0;

	printf("{\"version\":\"%s\",\"workspace_id\":%lld,\"now\":%lld,\"window_start\":%lld,\"profiles\":%ld,"
	       "\"events_target\":%lld,\"events\":%zu,\"journey_version\":%lld,\"by_name\":{",
	       AN_GEN_VERSION, (long long)ws, (long long)now, (long long)w0, profiles, events_target, gn,
	       (long long)jversion);
	for (int n = 0; n < NNAMES; n++)
		printf("%s\"%s\":%lld", n ? "," : "", names[n], (long long)by_name[n]);
	printf("},\"messages\":%lld,\"orders\":%lld,\"attributed\":%lld,\"an_msg_daily_rows\":%lld,"
	       "\"an_attrib_daily_rows\":%lld,\"templates\":%d,\"instances\":%lld,\"waiting\":%lld,\"exited\":%lld,"
	       "\"converted\":%lld,\"gen_seconds\":%.3f,\"sort_seconds\":%.3f,\"insert_seconds\":%.3f,"
	       "\"index_seconds\":%.3f,\"seconds\":%.3f}\n",
	       (long long)msgs_sent, (long long)orders, (long long)attributed, msg_rows, attr_rows, NTPL,
	       (long long)instances, (long long)waiting, (long long)exited_n, (long long)converted_n, gen_s, sort_s,
	       insert_s, index_s, secs);
	sqlite3_finalize(ins_profile), sqlite3_finalize(ins_identity), sqlite3_finalize(ins_inst);
	sqlite3_finalize(ins_entry), sqlite3_finalize(ins_stat), sqlite3_finalize(ins_msg);
	sqlite3_finalize(ins_attr), sqlite3_finalize(ins_tl);
	free(g), free(tot), free(uni), free(conv), free(rev), free(signup), free(weight), free(subscribed);
	if (sqlite3_close(db) != SQLITE_OK)
		die("close");
	return 0;
}
