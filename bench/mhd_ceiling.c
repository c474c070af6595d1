/* mhd_ceiling.c — ceiling (b) of `make bench`: the least an HTTP server on
 * libmicrohttpd can do per request. Same daemon flags and thread pool as
 * cairn's src/http/http_server.c (internal polling, epoll, turbo, a pool of
 * 2 threads); every request's body is read to the end, then answered
 * 200 {"success":true}. No parsing, no storage.
 *
 *   mhd_ceiling [PORT] [THREADS]      prints "listening on http://127.0.0.1:PORT"
 *
 * Built by bench/run.mjs with
 *   cc -O2 mhd_ceiling.c $(pkg-config --cflags --libs libmicrohttpd) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char ok_body[] = "{\"success\":true}";
static struct MHD_Response *ok_resp;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	static int marker;
	(void)cls, (void)url, (void)method, (void)version, (void)upload_data;
	if (*con_cls == NULL) {
		*con_cls = &marker; /* first call: headers only */
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* body consumed */
		return MHD_YES;
	}
	return MHD_queue_response(conn, MHD_HTTP_OK, ok_resp);
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 0;
	unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	ok_resp = MHD_create_response_from_buffer(sizeof ok_body - 1, (void *)ok_body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(ok_resp, "Content-Type", "application/json; charset=utf-8");
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO, (uint16_t)port, NULL, NULL, on_request,
		NULL, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
		60u, MHD_OPTION_CONNECTION_LIMIT, 4000u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "mhd_ceiling: cannot start the daemon on port %d\n", port);
		return 1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("listening on http://127.0.0.1:%u\n", info ? (unsigned)info->port : (unsigned)port);
	fflush(stdout);
	int sig;
	sigwait(&sigs, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(ok_resp);
	return 0;
}
