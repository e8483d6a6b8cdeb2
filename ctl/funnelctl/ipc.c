// SPDX-License-Identifier: GPL-2.0
/*
 * funnelctl's side of the control socket: one request per connection,
 *
 *   request:  "text STATEMENT\n" or "json STATEMENT\n", then end of file
 *   reply:    "ok\n" or "error\n", then a body up to end of file
 *
 * The body of "ok" goes to standard output; the body of "error" is the
 * message, printed on standard error with exit status 1.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "funnelctl/funnelctl.h"

#define REPLY_MAX		(64U << 20)	/* longest reply of funneld */

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

/*
 * funneld refuses a connection (too many at once, not root) with an
 * "error" reply, and waits for the client to close, 1 s at most; beyond
 * 16 refused clients at a time it closes at once, and a request that
 * reached it after it looked makes the end a reset (unread data)
 * instead of end of file.
 */
static bool reply_is_complete_error(const struct reply *r)
{
	return r->len > 6 && !memcmp(r->buf, "error\n", 6) &&
	       r->buf[r->len - 1] == '\n';
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
			if (errno == ECONNRESET && reply_is_complete_error(r))
				return 0;
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
int daemon_request(const char *path, const char *req, size_t len)
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
