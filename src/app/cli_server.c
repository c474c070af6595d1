/* cli_server.c — `cairn init`, `cairn serve`, `cairn migrate`. */
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_access.h"
#include "app/app.h"
#include "cli.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "deliver/provider.h"
#include "deliver/secret.h"
#include "journey/journey_engine.h"
#include "segment/seg_index.h"
#include "store/store_journey.h"

/* Options every server command shares; returns 0, 2 (usage) or 1. */
enum {
	OPT_DATA = 1000,
	OPT_LISTEN,
	OPT_CONFIG,
	OPT_THREADS,
	OPT_VCLOCK,
	OPT_LOGLEVEL,
	OPT_WORKSPACE,
	OPT_EMAIL,
	OPT_ROTATE,
	OPT_DEMO,
	OPT_SHARDS,
	OPT_PUBLIC_URL
};

static const struct option common_opts[] = {
	{"data", required_argument, NULL, OPT_DATA},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"shards", required_argument, NULL, OPT_SHARDS},
	{"virtual-clock", required_argument, NULL, OPT_VCLOCK},
	{"log-level", required_argument, NULL, OPT_LOGLEVEL},
	{"public-url", required_argument, NULL, OPT_PUBLIC_URL},
	{"workspace", required_argument, NULL, OPT_WORKSPACE},
	{"owner-email", required_argument, NULL, OPT_EMAIL},
	{"rotate", no_argument, NULL, OPT_ROTATE},
	{"demo", no_argument, NULL, OPT_DEMO},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct server_args {
	struct cairn_config cfg;
	const char *workspace;
	const char *owner_email;
	int rotate;
	int demo;
};

static int parse_args(int argc, char **argv, const char *usage, struct server_args *sa)
{
	config_init(&sa->cfg);
	sa->workspace = "default";
	sa->owner_email = "owner@cairn.local";
	sa->rotate = 0;
	sa->demo = 0;
	unsigned set = 0;
	struct cairn_err err = CAIRN_ERR_INIT;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", common_opts, NULL)) != -1) {
		const char *key = NULL;
		switch (c) {
		case OPT_DATA: key = "data"; break;
		case OPT_LISTEN: key = "listen"; break;
		case OPT_CONFIG: key = "config"; break;
		case OPT_THREADS: key = "threads"; break;
		case OPT_SHARDS: key = "shards"; break;
		case OPT_VCLOCK: key = "virtual_clock"; break;
		case OPT_LOGLEVEL: key = "log_level"; break;
		case OPT_PUBLIC_URL: key = "public_url"; break;
		case OPT_WORKSPACE: sa->workspace = optarg; continue;
		case OPT_EMAIL: sa->owner_email = optarg; continue;
		case OPT_ROTATE: sa->rotate = 1; continue;
		case OPT_DEMO: sa->demo = 1; continue;
		case 'h':
			fputs(usage, stdout);
			config_release(&sa->cfg);
			return 3;
		default:
			fprintf(stderr, "cairn %s: unknown or incomplete option '%s'\n%s", argv[0], argv[optind - 1],
				usage);
			config_release(&sa->cfg);
			return 2;
		}
		if (config_set(&sa->cfg, key, optarg, &err) < 0) {
			fprintf(stderr, "cairn %s: %s\n%s", argv[0], err.message, usage);
			config_release(&sa->cfg);
			return 2;
		}
		set |= config_key_bit(key);
	}
	if (optind < argc) {
		fprintf(stderr, "cairn %s: unexpected argument '%s'\n%s", argv[0], argv[optind], usage);
		config_release(&sa->cfg);
		return 2;
	}
	if (config_load_env_and_file(&sa->cfg, set, &err) < 0) {
		fprintf(stderr, "cairn %s: %s\n", argv[0], err.message);
		config_release(&sa->cfg);
		return 1;
	}
	if (!strcmp(sa->cfg.log_level, "debug"))
		log_set_level(LOG_DEBUG);
	else if (!strcmp(sa->cfg.log_level, "warn"))
		log_set_level(LOG_WARN);
	else if (!strcmp(sa->cfg.log_level, "error"))
		log_set_level(LOG_ERROR);
	return 0;
}

static int start(int rc)
{
	return rc == 3 ? 0 : rc;
}

/* A few customers for the demo workspace: Tracking API messages applied
 * through the log and the engine like any others. */
static const char *const demo_messages[] = {
	"{\"type\":\"identify\",\"userId\":\"demo-1\",\"traits\":{\"name\":\"김민준\",\"email\":\"minjun@example.kr\","
	"\"phone\":\"+821012345678\",\"timezone\":\"Asia/Seoul\",\"locale\":\"ko-KR\",\"plan\":\"pro\","
	"\"consent\":{\"email\":\"subscribed\",\"sms\":\"subscribed\",\"kakao\":\"subscribed\"}}}",
	"{\"type\":\"identify\",\"userId\":\"demo-2\",\"traits\":{\"name\":\"이서연\",\"email\":\"seoyeon@example.kr\","
	"\"timezone\":\"Asia/Seoul\",\"locale\":\"ko-KR\",\"plan\":\"free\",\"consent\":{\"email\":\"subscribed\"}}}",
	"{\"type\":\"identify\",\"userId\":\"demo-3\",\"traits\":{\"name\":\"Alex Kim\",\"email\":\"alex@example.com\","
	"\"timezone\":\"America/Los_Angeles\",\"locale\":\"en-US\",\"consent\":{\"email\":\"unsubscribed\"}}}",
	"{\"type\":\"track\",\"userId\":\"demo-1\",\"event\":\"Order Completed\",\"properties\":{\"revenue\":25800,"
	"\"currency\":\"KRW\"}}",
	"{\"type\":\"track\",\"userId\":\"demo-1\",\"event\":\"Email Link Clicked\",\"properties\":{\"link_kind\":"
	"\"content\",\"link_topic\":\"marketing\"}}",
	"{\"type\":\"track\",\"userId\":\"demo-2\",\"event\":\"Email Sent\"}",
	"{\"type\":\"track\",\"userId\":\"demo-2\",\"event\":\"Email Sent\"}",
	"{\"type\":\"track\",\"userId\":\"demo-2\",\"event\":\"Email Sent\"}",
	"{\"type\":\"track\",\"userId\":\"demo-3\",\"event\":\"Product Viewed\",\"properties\":{\"sku\":\"TEA-01\"}}",
};

/* A live journey for the demo: a sign-up gets a welcome SMS, then an
 * e-mail two days later (advertising, so quiet hours apply). */
static const char demo_journey[] =
	"{\"name\":\"Demo welcome\",\"trigger\":{\"type\":\"event\",\"event\":\"Signed Up\"},"
	"\"exit_on\":[{\"event\":\"Order Completed\"}],\"nodes\":["
	"{\"id\":\"hello\",\"type\":\"send\",\"channel\":\"sms\",\"template\":{\"text\":"
	"\"{{ user.name | default: \\\"고객\\\" }}님, 가입을 환영합니다!\"},\"next\":\"wait2\"},"
	"{\"id\":\"wait2\",\"type\":\"wait\",\"duration\":{\"days\":2},\"next\":\"tips\"},"
	"{\"id\":\"tips\",\"type\":\"send\",\"channel\":\"email\",\"template\":{\"subject\":"
	"\"{{ user.name }}님을 위한 시작 가이드\",\"html\":\"<p>처음 3일을 알차게 보내는 방법</p>\"},"
	"\"next\":\"done\"},{\"id\":\"done\",\"type\":\"exit\"}]}";

static int load_demo_journey(struct store *st, int64_t ws, int64_t now, struct cairn_err *err)
{
	int rc = store_journey_create(st, ws, "demo-welcome", "Demo welcome", demo_journey, now, err);
	if (rc == CAIRN_ECONFLICT) { /* loaded before: nothing to do */
		cairn_err_clear(err);
		return 0;
	}
	int64_t version;
	struct jny_problems probs;
	if (rc == 0)
		rc = jny_publish(st, ws, "demo-welcome", now, &version, &probs, err);
	jny_problems_release(&probs);
	return rc;
}

/* The demo's providers: file outboxes, so the journey's messages are
 * "sent" into <data>/outbox/<channel>.jsonl with nothing to configure. */
static int load_demo_providers(struct store *st, int64_t ws, int64_t now, struct cairn_err *err)
{
	static const char *const bodies[] = {
		"{\"channel\":\"email\",\"type\":\"file\",\"name\":\"Demo email outbox\","
		"\"from\":\"Cairn Demo <hello@demo.cairn.local>\",\"sender_info\":\"Cairn Demo, Seoul, 02-000-0000\"}",
		"{\"channel\":\"sms\",\"type\":\"file\",\"name\":\"Demo SMS outbox\"}",
	};
	struct store_dlv_provider *have = NULL;
	size_t n = 0;
	if (store_dlv_providers(st, ws, NULL, &have, &n, err) < 0)
		return CAIRN_EIO;
	for (size_t i = 0; i < n; i++)
		store_dlv_provider_release(&have[i]);
	free(have);
	for (size_t i = 0; n == 0 && i < sizeof bodies / sizeof bodies[0]; i++) {
		json_t *b = json_loads(bodies[i], 0, NULL);
		struct store_dlv_provider row;
		char *shown = NULL;
		int rc = dlv_provider_from_json(b, NULL, ws, now, &row, &shown, err);
		json_decref(b);
		free(shown);
		if (rc == 0)
			rc = store_dlv_provider_put(st, &row, err);
		store_dlv_provider_release(&row);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int load_demo(struct store *st, int64_t ws, int64_t now, struct cairn_err *err)
{
	if (load_demo_journey(st, ws, now, err) < 0 || load_demo_providers(st, ws, now, err) < 0)
		return err->code ? err->code : CAIRN_EIO;
	struct buf body;
	buf_init(&body, 0);
	buf_adds(&body, "{\"batch\":[");
	for (size_t i = 0; i < sizeof demo_messages / sizeof demo_messages[0]; i++)
		buf_addf(&body, "%s%s", i ? "," : "", demo_messages[i]);
	buf_adds(&body, "]}");
	struct ingest_batch b;
	int rc = ingest_parse(INGEST_BATCH, body.ptr, body.len, now, &b, err);
	if (rc == 0) {
		struct store_event *evs = xcalloc(b.n, sizeof *evs);
		unsigned char *dup = xcalloc(b.n, 1);
		ingest_batch_events(&b, ws, 0, now, evs);
		rc = store_log_append(st, evs, b.n, dup, err);
		free(evs);
		free(dup);
		ingest_batch_release(&b);
	}
	buf_release(&body);
	if (rc == 0)
		rc = engine_catch_up(st, err);
	return rc;
}

static const char init_usage[] =
	"usage: cairn init [--data DIR] [--listen HOST:PORT] [--workspace NAME] [--owner-email EMAIL] [--rotate]\n"
	"                  [--demo]\n"
	"Creates the store with a workspace, a write key, a secret key and an owner login, and prints them as one\n"
	"JSON object. On an existing workspace it refuses, unless --rotate: then it issues new keys and a new\n"
	"owner password (the old keys stop working) and prints them. It never deletes data.\n"
	"--demo also loads a few example customers and their events (Korean names, orders, emails) into a new\n"
	"workspace, through the same log and engine as the Tracking API, and a live journey, demo-welcome\n"
	"(a sign-up gets a welcome SMS, then an e-mail two days later), with file providers for email and SMS\n"
	"(messages are written to DIR/outbox/<channel>.jsonl).\n";

int cli_init(int argc, char **argv)
{
	struct server_args sa;
	int rc = parse_args(argc, argv, init_usage, &sa);
	if (rc)
		return start(rc);
	if (sodium_init() < 0)
		return 1;
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store *st = store_open(sa.cfg.data_dir, &err);
	if (!st) {
		fprintf(stderr, "cairn init: %s\n", err.message);
		config_release(&sa.cfg);
		return 1;
	}
	int64_t ws, now = clock_now_ms();
	int exists = store_workspace_find(st, sa.workspace, &ws, &err) == 0;
	cairn_err_clear(&err);
	if (exists && !sa.rotate) {
		fprintf(stderr,
			"cairn init: %s already holds a workspace '%s'; nothing was changed. Use --rotate to issue new "
			"keys "
			"and a new owner password for it.\n",
			sa.cfg.data_dir, sa.workspace);
		store_close(st);
		config_release(&sa.cfg);
		return 1;
	}
	char *wk = app_key_new("wk"), *sk = app_key_new("sk"), *pw = app_password_new();
	char pwhash[crypto_pwhash_STRBYTES];
	unsigned char h[32];
	rc = 0;
	if (!exists)
		rc = store_workspace_create(st, sa.workspace, now, &ws, &err);
	if (rc == 0) {
		app_key_hash(wk, h);
		char prefix[8]; /* the first characters, to tell keys apart in listings */
		snprintf(prefix, sizeof prefix, "%.7s", wk);
		rc = store_key_add(st, ws, STORE_KEY_WRITE, h, prefix, 1, now, &err);
	}
	if (rc == 0) {
		app_key_hash(sk, h);
		char prefix[8];
		snprintf(prefix, sizeof prefix, "%.7s", sk);
		rc = store_key_add(st, ws, STORE_KEY_SECRET, h, prefix, 1, now, &err);
	}
	if (rc == 0 && crypto_pwhash_str(pwhash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
					 crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		rc = cairn_err_set(&err, CAIRN_EIO, "hash_failed", "",
				   "Cannot hash the owner password (out of memory?).");
	if (rc == 0)
		rc = store_member_put(st, ws, sa.owner_email, pwhash, "owner", now, &err);
	if (rc == 0 && sa.demo && !exists)
		rc = load_demo(st, ws, now, &err);
	if (rc == 0) {
		json_t *out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s+}", "workspace", sa.workspace, "write_key", wk,
					"secret_key", sk, "owner_email", sa.owner_email, "owner_password", pw, "url",
					"http://", sa.cfg.listen);
		char *text = json_dumps(out, JSON_COMPACT);
		printf("%s\n", text);
		free(text);
		json_decref(out);
	} else {
		fprintf(stderr, "cairn init: %s\n", err.message);
	}
	free(wk);
	free(sk);
	free(pw);
	store_close(st);
	config_release(&sa.cfg);
	return rc == 0 ? 0 : 1;
}

static const char serve_usage[] =
	"usage: cairn serve [--data DIR] [--listen HOST:PORT] [--config FILE] [--threads N] [--shards N]\n"
	"                   [--virtual-clock RFC3339] [--log-level debug|info|warn|error]\n"
	"                   [--public-url URL]  (how recipients reach tracking and unsubscribe links)\n"
	"Runs the HTTP server and the engine. Prints 'listening on http://HOST:PORT' once ready;\n"
	"SIGTERM or SIGINT drains requests in flight and exits 0.\n";

static void notify_engine(int64_t head, void *arg)
{
	engine_notify(arg, head);
}

/* The dispatcher committed outcomes: the engine forwards their events to
 * the log and applies them (Email Sent may move a journey on). The engine
 * thread does the appending, so the dispatcher's thread stays on the wire. */
static void delivery_committed(void *arg)
{
	struct app *a = arg;
	engine_forward_soon(a->engine);
}

int cli_serve(int argc, char **argv)
{
	struct server_args sa;
	int rc = parse_args(argc, argv, serve_usage, &sa);
	if (rc)
		return start(rc);
	if (sodium_init() < 0)
		return 1;
	struct cairn_err err = CAIRN_ERR_INIT;
	if (sa.cfg.virtual_clock) {
		int64_t t;
		if (clock_parse_rfc3339(sa.cfg.virtual_clock, &t) < 0) {
			fprintf(stderr, "cairn serve: --virtual-clock needs an RFC 3339 time such as "
					"2026-03-02T10:00:00+09:00\n");
			config_release(&sa.cfg);
			return 2;
		}
		clock_virtual_start(t);
	}
	char *host = NULL;
	int port = 0;
	if (config_split_listen(sa.cfg.listen, &host, &port) < 0) {
		fprintf(stderr, "cairn serve: --listen needs HOST:PORT, not '%s'\n", sa.cfg.listen);
		config_release(&sa.cfg);
		return 2;
	}
	/* signals are taken by sigwait below, not by any thread */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct app a;
	memset(&a, 0, sizeof a);
	a.cfg = &sa.cfg;
	pthread_mutex_init(&a.key_lock, NULL);
	pthread_mutex_init(&a.login_lock, NULL);
	a.st = store_open(sa.cfg.data_dir, &err);
	if (!a.st) {
		fprintf(stderr, "cairn serve: %s\n", err.message);
		free(host);
		config_release(&sa.cfg);
		return 1;
	}
	store_checkpointer_start(a.st);
	struct seg_index *ix = seg_index_attach(a.st); /* before the engine commits anything */
	a.engine = engine_new(a.st);
	a.writer = ingest_writer_new(a.st, notify_engine, a.engine);
	if (dlv_secret_init(sa.cfg.data_dir, &err) < 0) {
		fprintf(stderr, "cairn serve: %s\n", err.message);
		ingest_writer_free(a.writer);
		engine_free(a.engine);
		seg_index_detach(ix);
		store_close(a.st);
		free(host);
		config_release(&sa.cfg);
		return 1;
	}

	struct http_server_opts ho = {
		.host = host,
		.port = port,
		.threads = sa.cfg.threads,
		.routes = app_routes,
		.nroutes = app_nroutes,
		.app = &a,
		.auth = app_auth,
		.session = app_session,
		.fallback = api_web_file,
	};
	struct http_server *srv = http_server_new(&ho, &err);
	if (!srv) {
		fprintf(stderr, "cairn serve: %s\n", err.message);
		rc = 1;
	} else {
		/* the dispatcher starts once the port is known (the default public
		 * URL names it) and before "listening" (requests may use it) */
		char public_url[300];
		if (sa.cfg.public_url)
			snprintf(public_url, sizeof public_url, "%s", sa.cfg.public_url);
		else
			snprintf(public_url, sizeof public_url, "http://%s:%d", host, http_server_port(srv));
		struct dlv_opts dopts = {.public_url = public_url,
					 .data_dir = sa.cfg.data_dir,
					 .on_commit = delivery_committed,
					 .arg = &a};
		a.dlv = dlv_dispatcher_new(a.st, &dopts);
		char port_s[16];
		snprintf(port_s, sizeof port_s, "%d", http_server_port(srv));
		log_info("listening", "host", host, "port", port_s, NULL);
		printf("listening on http://%s:%d\n", host, http_server_port(srv));
		fflush(stdout);
		int sig;
		sigwait(&sigs, &sig);
		log_info("shutting down", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
		http_server_free(srv);
	}
	dlv_dispatcher_free(a.dlv);
	ingest_writer_free(a.writer);
	engine_free(a.engine);
	seg_index_detach(ix);
	store_close(a.st);
	pthread_mutex_destroy(&a.key_lock);
	pthread_mutex_destroy(&a.login_lock);
	free(host);
	config_release(&sa.cfg);
	return rc;
}

static const char migrate_usage[] = "usage: cairn migrate [--data DIR]\n"
				    "Brings the store's schema up to date and prints the versions.\n";

int cli_migrate(int argc, char **argv)
{
	struct server_args sa;
	int rc = parse_args(argc, argv, migrate_usage, &sa);
	if (rc)
		return start(rc);
	struct cairn_err err = CAIRN_ERR_INIT;
	struct store *st = store_open(sa.cfg.data_dir, &err);
	if (!st) {
		fprintf(stderr, "cairn migrate: %s\n", err.message);
		config_release(&sa.cfg);
		return 1;
	}
	int sv, ev;
	store_schema_versions(st, &sv, &ev);
	printf("{\"state_schema\":%d,\"events_schema\":%d}\n", sv, ev);
	store_close(st);
	config_release(&sa.cfg);
	return 0;
}
