// SPDX-License-Identifier: GPL-2.0
/*
 * funnelctl: command-line tool for Funnel.
 *
 * "version" asks funnel.ko directly over generic netlink.  Every other
 * command is a statement (stmt.h): funnelctl parses it, so that a bad
 * command fails here with exit status 2, and sends its canonical form to
 * funneld over the Unix socket, one request per connection:
 *
 *   request:  "text STATEMENT\n" or "json STATEMENT\n", then end of file
 *   reply:    "ok\n" or "error\n", then a body up to end of file
 *
 * The body of "ok" goes to standard output; the body of "error" is the
 * message, printed on standard error with exit status 1.
 */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <linux/funnel.h>

#include "common/genl.h"
#include "common/info.h"
#include "common/json.h"
#include "common/nlnames.h"
#include "common/stmt.h"

#ifndef FUNNEL_VERSION
#error "build with -DFUNNEL_VERSION=\"x.y.z\" (see ctl/Makefile)"
#endif

#define PROG			"funnelctl"
#define DEFAULT_SOCKET		"/run/funnel/funneld.sock"

#define EXIT_FAIL		1	/* the command failed */
#define EXIT_USAGE		2	/* bad command line */

#define REPLY_MAX		(64U << 20)	/* longest reply of funneld */

struct opts {
	const char *socket;	/* used by daemon commands */
	int json;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [-s SOCKET] [--json] COMMAND [ARGS...]\n"
		"\n"
		"options:\n"
		"  -s, --socket SOCKET  funneld control socket (used by daemon commands;\n"
		"                       default " DEFAULT_SOCKET ")\n"
		"      --json           machine-readable output\n"
		"  -h, --help           show this help\n"
		"\n"
		"commands (sent to funneld; the statements of funnel.conf):\n"
		"  identity PRINCIPAL keytab PATH  local identity, initiating and accepting\n"
		"  listen [ADDR]:PORT              accept carriers\n"
		"  peer add NAME HOST[:PORT] [carrier auto|sctp|sctp-udp|tcp] [principal P]\n"
		"  peer del NAME\n"
		"  service add NAME udp|tcp TARGET:PORT [allow PRINCIPAL[,PRINCIPAL...]]\n"
		"  service del NAME\n"
		"  map add udp|tcp [ADDR:]PORT peer NAME service NAME\n"
		"  map del udp|tcp [ADDR:]PORT\n"
		"  show                            peers, carriers, streams, flows, counters\n"
		"  stats [--prometheus]            counters (Prometheus text format)\n"
		"  plaintext                       carriers without GSS: no authentication,\n"
		"                                  no encryption (needed on both ends)\n"
		"IPv6 addresses go in brackets: [fd00::1]:9899.\n"
		"\n"
		"other commands:\n"
		"  version                         versions of " PROG " and of funnel.ko\n");
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(try '" PROG " --help')\n");
	return EXIT_USAGE;
}

static void print_module_text(const struct funnel_info *info)
{
	char caps[128];

	funnel_caps_format(info->caps, ",", caps, sizeof(caps));
	printf("funnel.ko %s (wire %u, caps %s)\n",
	       info->version[0] ? info->version : "unknown", info->wire, caps);
}

static void print_json(const struct funnel_info *info)
{
	const char *name;
	int first = 1;

	fputs("{\"funnelctl\":", stdout);
	json_string(stdout, FUNNEL_VERSION);
	if (!info) {
		fputs(",\"module\":null}\n", stdout);
		return;
	}
	fputs(",\"module\":{\"version\":", stdout);
	json_string(stdout, info->version);
	printf(",\"wire\":%u,\"caps\":[", info->wire);
	for (unsigned int bit = 0; bit < 32; bit++) {
		if (!(info->caps & (1U << bit)))
			continue;
		name = funnel_cap_name(bit);
		if (!first)
			fputc(',', stdout);
		first = 0;
		if (name) {
			json_string(stdout, name);
		} else {
			char other[16];

			snprintf(other, sizeof(other), "bit%u", bit);
			json_string(stdout, other);
		}
	}
	fputs("]}}\n", stdout);
}

/*
 * The module could not be asked: finish stdout first, then say why.
 * what is NULL when the family does not exist.
 */
static void report_version_error(int json, const char *what, int err,
				 const char *extack)
{
	if (json)
		print_json(NULL);
	fflush(stdout);
	if (!what)
		fprintf(stderr, PROG ": funnel kernel module is not loaded; "
			"run: modprobe funnel\n");
	else
		fprintf(stderr, PROG ": %s: %s%s%s\n", what, strerror(-err),
			extack[0] ? ": " : "", extack);
}

static int cmd_version(const struct opts *o, int argc, char **argv)
{
	struct funnel_genl g;
	struct funnel_info info;
	int json = o->json;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else
			return usage_error("version: unexpected argument '%s'",
					   argv[i]);
	}

	if (!json) {
		printf(PROG " %s\n", FUNNEL_VERSION);
		fflush(stdout);
	}

	err = funnel_genl_open(&g);
	if (err) {
		report_version_error(json, err == -ENOENT ? NULL :
				     "cannot open generic netlink", err, "");
		return EXIT_FAIL;
	}
	err = funnel_info_get(&g, &info);
	if (err) {
		report_version_error(json, "cannot query funnel.ko", err,
				     funnel_genl_extack(&g));
		funnel_genl_close(&g);
		return EXIT_FAIL;
	}
	funnel_genl_close(&g);

	if (json)
		print_json(&info);
	else
		print_module_text(&info);
	if (info.has_wire && info.wire != FUNNEL_WIRE_VERSION)
		fprintf(stderr, PROG ": warning: funnel.ko speaks wire version "
			"%u, " PROG " wire version %u\n",
			info.wire, FUNNEL_WIRE_VERSION);
	return 0;
}

/* ---- daemon commands ---- */

struct reply {
	char *buf;
	size_t len;
	size_t cap;
};

/*
 * Connect to funneld; returns the socket, or -1 after a message: exit
 * status in *status.
 */
static int daemon_connect(const char *path, int *status)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*status = usage_error("socket path too long (max %zu bytes): '%s'",
				      sizeof(sun.sun_path) - 1, path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, PROG ": socket: %s\n", strerror(errno));
		*status = EXIT_FAIL;
		return -1;
	}
	err = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	/* Interrupted, the connection goes on: wait for it by trying again. */
	while (err && errno == EINTR)
		err = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (err && errno != EISCONN) {
		fprintf(stderr, PROG ": cannot reach funneld at %s: %s "
			"(is funneld running? -s selects another socket)\n",
			path, strerror(errno));
		close(fd);
		*status = EXIT_FAIL;
		return -1;
	}
	return fd;
}

/* Send len bytes; 0 or -errno.  No SIGPIPE when funneld has gone. */
static int send_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Make room for more of the reply; 0, -ENOMEM or -EFBIG. */
static int reply_grow(struct reply *r)
{
	size_t cap;
	char *p;

	if (r->len < r->cap)
		return 0;
	if (r->cap > REPLY_MAX)
		return -EFBIG;
	cap = r->cap ? r->cap * 2 : 4096;
	if (cap > (size_t)REPLY_MAX + 1)
		cap = (size_t)REPLY_MAX + 1;
	p = realloc(r->buf, cap);
	if (!p)
		return -ENOMEM;
	r->buf = p;
	r->cap = cap;
	return 0;
}

/* Read the reply up to end of file: 0, -errno or -EFBIG (too long). */
static int read_reply(int fd, struct reply *r)
{
	ssize_t n;
	int err;

	for (;;) {
		err = reply_grow(r);
		if (err)
			return err;
		n = read(fd, r->buf + r->len, r->cap - r->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			return 0;
		r->len += (size_t)n;
		if (r->len > REPLY_MAX)
			return -EFBIG;
	}
}

/* "ok" or "error" line: print what the body says; the exit status. */
static int handle_reply(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);
	size_t slen, blen;
	const char *body;

	if (!nl) {
		fprintf(stderr, PROG ": funneld closed the connection %s\n",
			len ? "early (incomplete reply)" : "without a reply");
		return EXIT_FAIL;
	}
	slen = (size_t)(nl - buf);
	body = nl + 1;
	blen = len - slen - 1;
	if (slen == 2 && !memcmp(buf, "ok", 2)) {
		fwrite(body, 1, blen, stdout);
		return 0;
	}
	if (slen == 5 && !memcmp(buf, "error", 5)) {
		while (blen && body[blen - 1] == '\n')
			blen--;
		if (blen)
			fprintf(stderr, PROG ": %.*s\n", (int)blen, body);
		else
			fprintf(stderr, PROG ": funneld reported an error without a message\n");
		return EXIT_FAIL;
	}
	fprintf(stderr, PROG ": unexpected reply from funneld: '");
	for (size_t i = 0; i < slen && i < 64; i++)
		fputc(buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '?', stderr);
	fprintf(stderr, "%s' (expected 'ok' or 'error')\n",
		slen > 64 ? "..." : "");
	return EXIT_FAIL;
}

/* One request and its reply; the exit status. */
static int daemon_request(const char *path, const char *req, size_t len)
{
	struct reply r = { 0 };
	int fd, status, serr, err;

	fd = daemon_connect(path, &status);
	if (fd < 0)
		return status;
	serr = send_all(fd, req, len);
	if (!serr && shutdown(fd, SHUT_WR))
		serr = -errno;
	/* Even when sending failed, funneld may have said why. */
	err = read_reply(fd, &r);
	close(fd);
	if (err == -EFBIG)
		fprintf(stderr, PROG ": reply from funneld is too long (more than %u MiB)\n",
			REPLY_MAX >> 20);
	else if (err)
		fprintf(stderr, PROG ": cannot read the reply of funneld: %s\n",
			strerror(-err));
	else if (serr && !r.len)
		fprintf(stderr, PROG ": cannot send to funneld: %s\n",
			strerror(-serr));
	if (err || (serr && !r.len))
		status = EXIT_FAIL;
	else
		status = handle_reply(r.buf ? r.buf : "", r.len);
	free(r.buf);
	return status;
}

/*
 * Words of the statement: argv without "--json" for show and stats
 * ("funnelctl show --json" as "funnelctl --json show").
 */
static int statement_words(int argc, char **argv, char **words, bool *json)
{
	bool output = !strcmp(argv[0], "show") || !strcmp(argv[0], "stats");
	int n = 0;

	for (int i = 0; i < argc; i++) {
		if (output && i && !strcmp(argv[i], "--json"))
			*json = true;
		else
			words[n++] = argv[i];
	}
	return n;
}

static int cmd_statement(const struct opts *o, int argc, char **argv)
{
	static struct stmt st;		/* 13 KiB: not on the stack */
	static char line[STMT_LINE_MAX + 16];
	char err[512], **words;
	bool json = o->json;
	int n, len, off;

	words = calloc((size_t)argc + 1, sizeof(*words));
	if (!words) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_FAIL;
	}
	n = statement_words(argc, argv, words, &json);
	if (stmt_parse_argv(n, words, &st, err, sizeof(err))) {
		free(words);
		fprintf(stderr, PROG ": %s\n", err);
		return EXIT_USAGE;
	}
	free(words);
	if (st.kind == STMT_EMPTY)
		return usage_error("missing command");
	if (json && stmt_json_refusal(&st))
		return usage_error("%s", stmt_json_refusal(&st));
	off = snprintf(line, sizeof(line), "%s ", json ? "json" : "text");
	len = stmt_format(&st, line + off, sizeof(line) - (size_t)off - 1);
	if (len < 0 || (size_t)len >= sizeof(line) - (size_t)off - 1) {
		fprintf(stderr, PROG ": cannot format the command\n");
		return EXIT_FAIL;
	}
	len += off;
	line[len++] = '\n';
	return daemon_request(o->socket, line, (size_t)len);
}

static const struct {
	const char *name;
	int (*fn)(const struct opts *o, int argc, char **argv);
} commands[] = {
	{ "version", cmd_version },
};

static int finish(int status)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, PROG ": write error on standard output: %s\n",
			strerror(errno));
		return EXIT_FAIL;
	}
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .socket = DEFAULT_SOCKET };
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.socket = optarg;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'h':
			usage(stdout);
			return finish(0);
		case ':':
			return usage_error("option '%s' needs an argument",
					   argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("missing command");

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return finish(commands[i].fn(&o, argc - optind,
						     argv + optind));
	return finish(cmd_statement(&o, argc - optind, argv + optind));
}
