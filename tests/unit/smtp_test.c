/* smtp_test.c — deliver/smtp against a real SMTP server on loopback.
 *
 * Each test starts python3-aiosmtpd (Debian; its modules load only under
 * /usr/bin/python3) from a small script written here: it listens on an
 * ephemeral port of 127.0.0.1, prints the port, saves each message's bytes
 * as received (after dot-unstuffing, no headers added) to <dir>/msg-N.eml,
 * logs "msg N conn K rcpt …" per message and "conn K" per connection, and
 * answers 451 to RCPT TO addresses starting with "temp" and 550 to those
 * starting with "perm". It offers AUTH (PLAIN, LOGIN) without TLS and
 * accepts user / right-PaSS, without requiring it. The server is killed in the suite's fini (which
 * Criterion runs also after a failed assert) and dies with the test process
 * in any case (PR_SET_PDEATHSIG). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "deliver/email.h"
#include "deliver/smtp.h"

static const char *server_py =
	"import asyncio, os, sys\n"
	"from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword\n"
	"out = sys.argv[1]\n"
	"state = {'conn': 0, 'msg': 0}\n"
	"def log(line):\n"
	"    with open(os.path.join(out, 'log'), 'a') as f:\n"
	"        f.write(line + '\\n')\n"
	"class Handler:\n"
	"    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):\n"
	"        if address.startswith('temp'):\n"
	"            return '451 4.3.0 Mailbox temporarily unavailable, try later'\n"
	"        if address.startswith('perm'):\n"
	"            return '550 5.1.1 <' + address + '>: Recipient address rejected: no such user'\n"
	"        envelope.rcpt_tos.append(address)\n"
	"        return '250 OK'\n"
	"    async def handle_DATA(self, server, session, envelope):\n"
	"        state['msg'] += 1\n"
	"        n = state['msg']\n"
	"        with open(os.path.join(out, 'msg-%d.eml' % n), 'wb') as f:\n"
	"            f.write(envelope.original_content)\n"
	"        log('msg %d conn %d from %s rcpt %s' % (n, session.conn_no, envelope.mail_from,\n"
	"            ','.join(envelope.rcpt_tos)))\n"
	"        return '250 2.0.0 Ok: queued as %d' % n\n"
	"def auth(server, session, envelope, mechanism, data):\n"
	"    ok = isinstance(data, LoginPassword) and data.login == b'user' and data.password == b'right-PaSS'\n"
	"    log('auth %s %s %s' % (mechanism, data.login.decode(), 'ok' if ok else 'refused'))\n"
	"    return AuthResult(success=ok, handled=False)\n"
	"handler = Handler()\n"
	"def factory():\n"
	"    s = SMTP(handler, hostname='localhost', authenticator=auth, auth_require_tls=False)\n"
	"    made = s.connection_made\n"
	"    def connection_made(transport):\n"
	"        state['conn'] += 1\n"
	"        log('conn %d' % state['conn'])\n"
	"        made(transport)\n"
	"        s.session.conn_no = state['conn']\n"
	"    s.connection_made = connection_made\n"
	"    return s\n"
	"async def main():\n"
	"    srv = await asyncio.get_running_loop().create_server(factory, '127.0.0.1', 0)\n"
	"    print(srv.sockets[0].getsockname()[1], flush=True)\n"
	"    await asyncio.Event().wait()\n"
	"asyncio.run(main())\n";

static struct {
	pid_t pid;
	int port;
	char dir[64];
} srv;

static void server_start(void)
{
	snprintf(srv.dir, sizeof srv.dir, "/tmp/cairn-smtp-XXXXXX");
	cr_assert_not_null(mkdtemp(srv.dir));
	char path[128];
	snprintf(path, sizeof path, "%s/server.py", srv.dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(server_py, f);
	fclose(f);

	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		dup2(fds[1], 1);
		char errpath[128];
		snprintf(errpath, sizeof errpath, "%s/stderr", srv.dir);
		FILE *ef = fopen(errpath, "w");
		if (ef)
			dup2(fileno(ef), 2);
		close(fds[0]);
		close(fds[1]);
		execl("/usr/bin/python3", "python3", path, srv.dir, (char *)NULL);
		_exit(127);
	}
	srv.pid = pid;
	close(fds[1]);
	FILE *r = fdopen(fds[0], "r");
	cr_assert_not_null(r);
	char line[32] = "";
	char *got = fgets(line, sizeof line, r);
	fclose(r);
	cr_assert_not_null(got, "the aiosmtpd server did not start (is python3-aiosmtpd installed?)");
	srv.port = (int)strtol(line, NULL, 10);
	cr_assert_gt(srv.port, 0);
}

static void server_stop(void)
{
	if (srv.pid > 0) {
		kill(srv.pid, SIGKILL);
		waitpid(srv.pid, NULL, 0);
		srv.pid = 0;
	}
	if (srv.dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", srv.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", srv.dir);
		srv.dir[0] = '\0';
	}
}

TestSuite(smtp, .init = server_start, .fini = server_stop);

/* A closed port: bound by us, then released. */
static int closed_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t n = sizeof a;
	cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &n), 0);
	close(s);
	return ntohs(a.sin_port);
}

static struct smtp_client *client_for(int port)
{
	char url[64];
	snprintf(url, sizeof url, "smtp://127.0.0.1:%d", port);
	struct smtp_conf conf = {.url = url, .timeout_ms = 5000};
	struct cairn_err e = CAIRN_ERR_INIT;
	struct smtp_client *c = smtp_client_new(&conf, &e);
	cr_assert_not_null(c, "%s", e.message);
	return c;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b;
	buf_init(&b, BUF_MAX_DEFAULT);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_detach(&b, len);
}

static char *server_file(const char *name)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", srv.dir, name);
	size_t len;
	return slurp(path, &len);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void build_message(struct buf *out, const char *to)
{
	struct email_in in = {
		.from = "케언 <news@example.co.kr>",
		.to = to,
		.subject = "주문이 접수되었습니다",
		.html = "<p>Hello,</p>\n<p>.a line that starts with a dot</p>\n.\n<p>bye</p>",
		.text = "Hello,\n.a line that starts with a dot\n.\nbye\n",
		.date_ms = 1774000000000LL,
	};
	struct cairn_err e = CAIRN_ERR_INIT;
	buf_init(out, BUF_MAX_DEFAULT);
	cr_assert_eq(email_build(&in, out, NULL, 0, &e), 0, "%s", e.message);
}

Test(smtp, delivers_built_message_byte_for_byte)
{
	struct buf msg;
	build_message(&msg, "minji@example.com");
	struct smtp_client *c = client_for(srv.port);
	const char *rcpt[] = {"minji@example.com"};
	struct smtp_result r;
	struct cairn_err e = CAIRN_ERR_INIT;
	int rc = smtp_send(c, "bounce@example.co.kr", rcpt, 1, msg.ptr, msg.len, &r, &e);
	cr_assert_eq(rc, 0, "%s", e.message);
	cr_assert_eq(r.cls, SMTP_OK);
	cr_assert_eq(r.code, 250);
	cr_assert(strstr(r.text, "queued as 1") != NULL, "text: %s", r.text);
	cr_assert_eq(e.code, 0);
	smtp_client_free(c);

	char path[128];
	snprintf(path, sizeof path, "%s/msg-1.eml", srv.dir);
	size_t got_len = 0;
	char *got = slurp(path, &got_len);
	cr_assert_not_null(got, "the server saved no message");
	cr_assert_eq(got_len, msg.len, "saved %zu bytes, sent %zu", got_len, msg.len);
	cr_assert(memcmp(got, msg.ptr, msg.len) == 0, "the saved bytes differ from what was sent");

	char *log = server_file("log");
	cr_assert(strstr(log, "from bounce@example.co.kr rcpt minji@example.com") != NULL, "log: %s", log);
	free(log);
	free(got);
	buf_release(&msg);
}

Test(smtp, two_sends_reuse_one_connection)
{
	struct smtp_client *c = client_for(srv.port);
	const char *to[2] = {"a@example.com", "b@example.com"};
	for (int i = 0; i < 2; i++) {
		struct buf msg;
		build_message(&msg, to[i]);
		struct smtp_result r;
		struct cairn_err e = CAIRN_ERR_INIT;
		cr_assert_eq(smtp_send(c, "bounce@example.co.kr", &to[i], 1, msg.ptr, msg.len, &r, &e), 0, "%s",
			     e.message);
		cr_assert_eq(r.cls, SMTP_OK);
		buf_release(&msg);
	}
	smtp_client_free(c);
	char *log = server_file("log");
	cr_assert_not_null(log);
	cr_assert_eq(count(log, "conn 1\n"), 1, "log: %s", log);
	cr_assert_eq(count(log, "conn 2"), 0, "a second connection was opened; log: %s", log);
	cr_assert(strstr(log, "msg 1 conn 1 from bounce@example.co.kr rcpt a@example.com") != NULL, "log: %s", log);
	cr_assert(strstr(log, "msg 2 conn 1 from bounce@example.co.kr rcpt b@example.com") != NULL, "log: %s", log);
	free(log);
}

Test(smtp, several_recipients_in_one_send)
{
	struct buf msg;
	build_message(&msg, "a@example.com");
	struct smtp_client *c = client_for(srv.port);
	const char *rcpt[] = {"a@example.com", "b@example.com", "c@example.com"};
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(smtp_send(c, "", rcpt, 3, msg.ptr, msg.len, NULL, &e), 0, "%s", e.message);
	smtp_client_free(c);
	char *log = server_file("log");
	cr_assert(strstr(log, "from <> rcpt a@example.com,b@example.com,c@example.com") != NULL ||
			  strstr(log, "from  rcpt a@example.com,b@example.com,c@example.com") != NULL,
		  "log: %s", log);
	free(log);
	buf_release(&msg);
}

Test(smtp, rejected_recipient_is_permanent)
{
	struct buf msg;
	build_message(&msg, "perm-nobody@example.com");
	struct smtp_client *c = client_for(srv.port);
	const char *rcpt[] = {"perm-nobody@example.com"};
	struct smtp_result r;
	struct cairn_err e = CAIRN_ERR_INIT;
	int rc = smtp_send(c, "bounce@example.co.kr", rcpt, 1, msg.ptr, msg.len, &r, &e);
	cr_assert_eq(rc, CAIRN_EIO);
	cr_assert_eq(r.cls, SMTP_PERMANENT);
	cr_assert_eq(r.code, 550);
	cr_assert(strstr(r.text, "550 5.1.1") != NULL && strstr(r.text, "no such user") != NULL, "text: %s", r.text);
	cr_assert(strstr(e.message, "permanent") != NULL && strstr(e.message, "no such user") != NULL, "%s", e.message);
	cr_assert_str_eq(e.slug, "smtp_refused");

	/* nothing was delivered; the client still works afterwards */
	char *none = server_file("msg-1.eml");
	cr_assert_null(none);
	const char *ok[] = {"fine@example.com"};
	cairn_err_clear(&e);
	cr_assert_eq(smtp_send(c, "bounce@example.co.kr", ok, 1, msg.ptr, msg.len, &r, &e), 0, "%s", e.message);
	cr_assert_eq(r.cls, SMTP_OK);
	cr_assert_eq(r.code, 250);
	smtp_client_free(c);
	buf_release(&msg);
}

Test(smtp, one_rejected_recipient_fails_the_whole_send)
{
	struct buf msg;
	build_message(&msg, "a@example.com");
	struct smtp_client *c = client_for(srv.port);
	const char *rcpt[] = {"a@example.com", "perm-x@example.com"};
	struct smtp_result r;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(smtp_send(c, "bounce@example.co.kr", rcpt, 2, msg.ptr, msg.len, &r, &e), CAIRN_EIO);
	cr_assert_eq(r.cls, SMTP_PERMANENT);
	cr_assert_eq(r.code, 550);
	smtp_client_free(c);
	char *none = server_file("msg-1.eml");
	cr_assert_null(none, "a message was delivered although a recipient was refused");
	buf_release(&msg);
}

Test(smtp, deferred_recipient_is_transient)
{
	struct buf msg;
	build_message(&msg, "temp-full@example.com");
	struct smtp_client *c = client_for(srv.port);
	const char *rcpt[] = {"temp-full@example.com"};
	struct smtp_result r;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(smtp_send(c, "bounce@example.co.kr", rcpt, 1, msg.ptr, msg.len, &r, &e), CAIRN_EIO);
	cr_assert_eq(r.cls, SMTP_TRANSIENT);
	cr_assert_eq(r.code, 451);
	cr_assert(strstr(r.text, "451 4.3.0") != NULL, "text: %s", r.text);
	cr_assert(strstr(e.message, "retry later") != NULL, "%s", e.message);
	cr_assert_str_eq(e.slug, "smtp_unavailable");
	smtp_client_free(c);
	buf_release(&msg);
}

Test(smtp, connection_refused_is_transient)
{
	int port = closed_port();
	struct smtp_client *c = client_for(port);
	const char *rcpt[] = {"a@example.com"};
	struct smtp_result r;
	struct cairn_err e = CAIRN_ERR_INIT;
	const char *m = "Subject: x\r\n\r\nhi\r\n";
	cr_assert_eq(smtp_send(c, "b@example.com", rcpt, 1, m, strlen(m), &r, &e), CAIRN_EIO);
	cr_assert_eq(r.cls, SMTP_TRANSIENT);
	cr_assert_eq(r.code, 0);
	cr_assert(strstr(r.text, "Connection refused") != NULL, "text: %s", r.text);
	char url[64];
	snprintf(url, sizeof url, "127.0.0.1:%d", port);
	cr_assert(strstr(e.message, url) != NULL && strstr(e.message, "Connection refused") != NULL, "%s", e.message);
	smtp_client_free(c);
}

Test(smtp, starttls_required_but_not_offered_is_permanent)
{
	char url[64];
	snprintf(url, sizeof url, "smtp://127.0.0.1:%d", srv.port);
	struct smtp_conf conf = {.url = url, .starttls = 2, .timeout_ms = 5000};
	struct cairn_err e = CAIRN_ERR_INIT;
	struct smtp_client *c = smtp_client_new(&conf, &e);
	cr_assert_not_null(c, "%s", e.message);
	const char *rcpt[] = {"a@example.com"};
	struct smtp_result r;
	const char *m = "Subject: x\r\n\r\nhi\r\n";
	cr_assert_eq(smtp_send(c, "b@example.com", rcpt, 1, m, strlen(m), &r, &e), CAIRN_EIO);
	cr_assert_eq(r.cls, SMTP_PERMANENT);
	cr_assert(strstr(r.text, "STARTTLS") != NULL, "text: %s", r.text);
	smtp_client_free(c);
	char *none = server_file("msg-1.eml");
	cr_assert_null(none);
}

static int send_as(const char *user, const char *password, struct smtp_result *r, struct cairn_err *e)
{
	char url[64];
	snprintf(url, sizeof url, "smtp://127.0.0.1:%d", srv.port);
	struct smtp_conf conf = {.url = url, .username = user, .password = password, .timeout_ms = 5000};
	struct smtp_client *c = smtp_client_new(&conf, e);
	cr_assert_not_null(c, "%s", e->message);
	const char *rcpt[] = {"a@example.com"};
	const char *m = "Subject: x\r\n\r\nhi\r\n";
	int rc = smtp_send(c, "b@example.com", rcpt, 1, m, strlen(m), r, e);
	smtp_client_free(c);
	return rc;
}

Test(smtp, authenticates_with_username_and_password)
{
	struct smtp_result r;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(send_as("user", "right-PaSS", &r, &e), 0, "%s", e.message);
	cr_assert_eq(r.cls, SMTP_OK);
	char *log = server_file("log");
	cr_assert(strstr(log, " user ok\n") != NULL, "log: %s", log);
	cr_assert(strstr(log, "msg 1 conn 1") != NULL, "log: %s", log);
	free(log);
}

Test(smtp, refused_login_is_permanent_and_never_shows_the_password)
{
	struct smtp_result r;
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_eq(send_as("user", "wrong-s3cret", &r, &e), CAIRN_EIO);
	cr_assert_eq(r.cls, SMTP_PERMANENT);
	cr_assert_eq(r.code, 535, "code %d: %s", r.code, r.text);
	cr_assert(strstr(r.text, "535") != NULL, "text: %s", r.text);
	cr_assert_null(strstr(r.text, "s3cret"), "%s", r.text);
	cr_assert_null(strstr(e.message, "s3cret"), "%s", e.message);
	char *log = server_file("log");
	cr_assert(strstr(log, " user refused\n") != NULL, "log: %s", log);
	cr_assert_null(strstr(log, "msg 1"), "delivered without a login: %s", log);
	free(log);
}

Test(smtp, bad_urls_are_refused)
{
	const char *bad[] = {
		NULL,
		"",
		"http://127.0.0.1:25",
		"smtp://",
		"smtp://127.0.0.1:99999",
		"smtp://127.0.0.1:0",
		"smtp://127.0.0.1:port",
		"smtp://user:pw@127.0.0.1:25",
		"smtp://mail example.com",
		"mail.example.com:25",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct smtp_conf conf = {.url = bad[i]};
		struct cairn_err e = CAIRN_ERR_INIT;
		struct smtp_client *c = smtp_client_new(&conf, &e);
		cr_assert_null(c, "accepted %s", bad[i] ? bad[i] : "(null)");
		cr_assert_eq(e.code, CAIRN_EUNPROC, "%s: code %d", bad[i] ? bad[i] : "(null)", e.code);
		cr_assert_str_eq(e.field, "url", "%s", bad[i] ? bad[i] : "(null)");
		cr_assert_neq(e.message[0], '\0');
		cr_assert_null(strstr(e.message, "pw@"), "%s", e.message);
	}
	const char *good[] = {"smtp://127.0.0.1:2525", "smtps://mail.example.com", "SMTP://mail.example.com:587",
			      "smtp://[::1]:25"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct smtp_conf conf = {.url = good[i], .starttls = 1};
		struct cairn_err e = CAIRN_ERR_INIT;
		struct smtp_client *c = smtp_client_new(&conf, &e);
		cr_assert_not_null(c, "%s refused: %s", good[i], e.message);
		smtp_client_free(c);
	}
	struct smtp_conf tls = {.url = "smtp://127.0.0.1:25", .starttls = 3};
	struct cairn_err e = CAIRN_ERR_INIT;
	cr_assert_null(smtp_client_new(&tls, &e));
	cr_assert_str_eq(e.field, "starttls");
}

Test(smtp, bad_addresses_are_refused_before_sending)
{
	struct smtp_client *c = client_for(srv.port);
	const char *m = "Subject: x\r\n\r\nhi\r\n";
	struct smtp_result r;
	struct cairn_err e = CAIRN_ERR_INIT;
	const char *inj[] = {"a@example.com\r\nRCPT TO:<evil@example.com>"};
	cr_assert_eq(smtp_send(c, "b@example.com", inj, 1, m, strlen(m), &r, &e), CAIRN_EUNPROC);
	cr_assert_str_eq(e.field, "rcpt[0]");
	cr_assert_eq(r.cls, SMTP_PERMANENT);
	cairn_err_clear(&e);
	const char *ok[] = {"a@example.com"};
	cr_assert_eq(smtp_send(c, "b@example.com>", ok, 1, m, strlen(m), &r, &e), CAIRN_EUNPROC);
	cr_assert_str_eq(e.field, "mail_from");
	cairn_err_clear(&e);
	cr_assert_eq(smtp_send(c, "b@example.com", ok, 0, m, strlen(m), &r, &e), CAIRN_EUNPROC);
	smtp_client_free(c);
	char *log = server_file("log");
	cr_assert_null(log, "the server was contacted: %s", log);
}
