// SPDX-License-Identifier: GPL-2.0
/* funneld's control socket (see ctlsock.h). */

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "funneld/ctlsock.h"
#include "funneld/log.h"

#define CTL_REQ_MAX		(STMT_LINE_MAX + 16)
/* a client that sends or reads nothing for this long is dropped */
#define CTL_TIMEOUT_MS		5000
#define CTL_CLIENTS_MAX		16
/* refused clients whose request funneld waits for, and for how long */
#define CTL_REFUSING_MAX	16
#define CTL_REFUSING_MS		1000
#define STR_(x)			#x
#define STR(x)			STR_(x)
/* one reply, and the replies of all clients still to be sent */
#define CTL_REPLY_MAX		(16U << 20)
#define CTL_OUT_MAX		(64U << 20)

/*
 * A client reads its request into buf, then gets its reply from out:
 * sent without blocking, the rest on EPOLLOUT, then the connection
 * closes.  A short reply (an error) is written in buf, which the request
 * no longer needs; a long one is allocated and counted in ctl_out.
 *
 * A client refused at accept (too many clients, wrong uid) is told why
 * at once, and the connection closes once the client has closed its end
 * (or after CTL_REFUSING_MS): what it sent meanwhile is read and
 * dropped.  Closing a Unix socket with data unread makes the client's
 * read fail with ECONNRESET instead of seeing the end of the reply, and
 * a request may land just after the refusal.
 */
struct ctl_client {
	struct ctl_client *next;
	struct daemon *d;
	int fd;
	bool refused;		/* counted in ctl_refusing, not ctl_clients */
	size_t len;		/* request bytes in buf */
	char *out;		/* the reply, NULL while reading the request */
	size_t out_len, out_off;
	struct loop_timer t;
	char buf[CTL_REQ_MAX];
};

static int ctl_fd = -1;
static char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static unsigned int ctl_clients;
static unsigned int ctl_refusing;
static struct ctl_client *ctl_list;
static struct loop_timer ctl_pause;
static size_t ctl_out;		/* bytes of allocated replies */

static void client_close(struct ctl_client *cl)
{
	struct ctl_client **pp;

	for (pp = &ctl_list; *pp; pp = &(*pp)->next) {
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	}
	if (cl->out && cl->out != cl->buf) {
		ctl_out -= cl->out_len;
		free(cl->out);
	}
	loop_timer_cancel(cl->d->loop, &cl->t);
	loop_del(cl->d->loop, cl->fd);
	close(cl->fd);
	if (cl->refused)
		ctl_refusing--;
	else
		ctl_clients--;
	free(cl);
}

/*
 * Send what the socket takes of the reply; close the client when all of
 * it is sent or the socket failed, else wait for EPOLLOUT.  cl may be
 * gone on return.
 */
static void client_flush(struct ctl_client *cl)
{
	struct loop *l = cl->d->loop;
	bool progress = false;
	ssize_t n;

	while (cl->out_off < cl->out_len) {
		n = send(cl->fd, cl->out + cl->out_off,
			 cl->out_len - cl->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (progress && !cl->refused)
				loop_timer_arm(l, &cl->t, CTL_TIMEOUT_MS);
			loop_mod(l, cl->fd, EPOLLOUT);
			return;
		}
		if (n <= 0)
			break;
		cl->out_off += (size_t)n;
		progress = true;
	}
	if (cl->refused && cl->out_off == cl->out_len &&
	    !shutdown(cl->fd, SHUT_WR)) {
		/* told why: wait for the client's end (client_io) */
		loop_mod(l, cl->fd, EPOLLIN);
		return;
	}
	client_close(cl);
}

/* Reply with the text in cl->buf ("error\n..."): it is short. */
__attribute__((format(printf, 2, 3)))
static void client_error(struct ctl_client *cl, const char *fmt, ...)
{
	va_list ap;
	int n;

	memcpy(cl->buf, "error\n", 6);
	va_start(ap, fmt);
	n = vsnprintf(cl->buf + 6, sizeof(cl->buf) - 7, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	else if ((size_t)n > sizeof(cl->buf) - 8)
		n = (int)(sizeof(cl->buf) - 8);
	cl->buf[6 + n] = '\n';
	cl->out = cl->buf;
	cl->out_len = 6 + (size_t)n + 1;
	cl->out_off = 0;
	client_flush(cl);
}

/* Reply with buf (len bytes, malloc'd, taken over), within the bounds. */
static void client_reply(struct ctl_client *cl, char *buf, size_t len)
{
	if (len > CTL_REPLY_MAX) {
		free(buf);
		client_error(cl, "the reply (%zu bytes) is longer than funneld sends (%u MiB)",
			     len, CTL_REPLY_MAX >> 20);
		return;
	}
	if (ctl_out + len > CTL_OUT_MAX) {
		free(buf);
		log_warn("control socket: %zu bytes of replies wait for their readers: a request refused",
			 ctl_out);
		client_error(cl, "funneld is busy: %zu bytes of replies wait for slow readers; try again",
			     ctl_out);
		return;
	}
	ctl_out += len;
	cl->out = buf;
	cl->out_len = len;
	cl->out_off = 0;
	client_flush(cl);
}

/* Run the request line; reply "ok" and the output, or "error" and why. */
static void client_request(struct ctl_client *cl)
{
	struct daemon *d = cl->d;
	char err[DAEMON_TEXT_MAX] = "";
	char *line = cl->buf, *out = NULL;
	size_t outlen = 0;
	struct stmt *s;
	bool json;
	FILE *f;
	int ret = -1;

	if (!strncmp(line, "text ", 5)) {
		json = false;
	} else if (!strncmp(line, "json ", 5)) {
		json = true;
	} else {
		client_error(cl, "request must start with 'text ' or 'json '");
		return;
	}
	line += 5;
	s = malloc(sizeof(*s));
	f = open_memstream(&out, &outlen);
	if (!s || !f || fputs("ok\n", f) < 0) {
		snprintf(err, sizeof(err), "out of memory");
	} else if (stmt_parse_line(line, s, err, sizeof(err))) {
		/* err says what */
	} else if (s->kind == STMT_EMPTY) {
		snprintf(err, sizeof(err), "empty request");
	} else if (json && stmt_json_refusal(s)) {
		snprintf(err, sizeof(err), "%s", stmt_json_refusal(s));
	} else {
		ret = daemon_apply(d, s, false, json, f, err, sizeof(err));
		if (ret)
			log_info("funnelctl %s: refused: %s", line, err);
		else if (s->kind != STMT_SHOW && s->kind != STMT_STATS)
			log_info("funnelctl %s", line);
	}
	free(s);
	if (f && fclose(f) && !ret) {
		snprintf(err, sizeof(err), "out of memory");
		ret = -1;
	}
	if (ret) {
		free(out);
		client_error(cl, "%s", err);	/* err is shorter than buf */
		return;
	}
	client_reply(cl, out, outlen);
}

static void client_io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct ctl_client *cl = arg;
	char *nl;
	ssize_t n;

	(void)l;
	(void)events;
	if (cl->refused && cl->out_off == cl->out_len) {
		/* refused: what it sends is dropped, its end closes ours */
		n = recv(fd, cl->buf, sizeof(cl->buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		cl->len += n > 0 ? (size_t)n : 0;
		if (n <= 0 || cl->len > CTL_REQ_MAX)
			client_close(cl);
		return;
	}
	if (cl->out) {
		client_flush(cl);
		return;
	}
	n = recv(fd, cl->buf + cl->len, sizeof(cl->buf) - 1 - cl->len,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(cl);
		return;
	}
	cl->len += (size_t)n;
	cl->buf[cl->len] = '\0';
	nl = memchr(cl->buf, '\n', cl->len);
	if (!nl && cl->len < sizeof(cl->buf) - 1)
		return;
	if (!nl || memchr(cl->buf, '\0', (size_t)(nl - cl->buf))) {
		client_error(cl, "request too long or not text");
		return;
	}
	*nl = '\0';
	client_request(cl);
}

static void client_timeout(struct loop *l, void *arg)
{
	struct ctl_client *cl = arg;

	(void)l;
	if (cl->out && !cl->refused)
		log_warn("control socket: a client read nothing for %d s: dropped with %zu of %zu bytes of its reply unsent",
			 CTL_TIMEOUT_MS / 1000, cl->out_len - cl->out_off,
			 cl->out_len);
	client_close(cl);
}

/*
 * Say why and close, without blocking, when no more refused clients may
 * wait (CTL_REFUSING_MAX) or memory is short.  What the client sent (a
 * request at most) is read first; a request that lands later makes its
 * read end in ECONNRESET after the reply (funnelctl takes a complete
 * "error" reply as the answer).
 */
static void refuse_now(int fd, const char *msg, size_t len)
{
	char sink[4096];
	size_t got = 0;
	ssize_t n;

	while (got < CTL_REQ_MAX &&
	       (n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	if (send(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* nothing more to say */
	}
	close(fd);
}

/* Say why (msg, len < CTL_REQ_MAX) and close once the client has. */
static void refuse(struct daemon *d, int fd, const char *msg, size_t len)
{
	struct ctl_client *cl = NULL;

	if (ctl_refusing < CTL_REFUSING_MAX)
		cl = calloc(1, sizeof(*cl));
	if (!cl) {
		refuse_now(fd, msg, len);
		return;
	}
	cl->d = d;
	cl->fd = fd;
	cl->refused = true;
	loop_timer_init(&cl->t, client_timeout, cl);
	if (loop_add(d->loop, fd, EPOLLIN, client_io, cl)) {
		free(cl);
		refuse_now(fd, msg, len);
		return;
	}
	ctl_refusing++;
	cl->next = ctl_list;
	ctl_list = cl;
	loop_timer_arm(d->loop, &cl->t, CTL_REFUSING_MS);
	memcpy(cl->buf, msg, len);
	cl->out = cl->buf;
	cl->out_len = len;
	client_flush(cl);
}

static void ctl_accept(struct loop *l, int lfd, uint32_t events, void *arg)
{
	static const char busy[] = "error\ntoo many control connections at once ("
		STR(CTL_CLIENTS_MAX) "): try again\n";
	struct daemon *d = arg;
	struct ctl_client *cl;
	struct ucred cred = { .uid = (uid_t)-1 };
	socklen_t len = sizeof(cred);
	int fd;

	(void)events;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* level-triggered: do not spin until an fd is free */
			loop_mod(l, lfd, 0);
			loop_timer_arm(l, &ctl_pause, 1000);
		}
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		static const char no[] = "error\npermission denied: only root may control funneld\n";

		log_warn("control socket: refused uid %u", (unsigned int)cred.uid);
		refuse(d, fd, no, sizeof(no) - 1);
		return;
	}
	if (ctl_clients >= CTL_CLIENTS_MAX) {
		refuse(d, fd, busy, sizeof(busy) - 1);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(fd);
		return;
	}
	cl->d = d;
	cl->fd = fd;
	loop_timer_init(&cl->t, client_timeout, cl);
	if (loop_add(l, fd, EPOLLIN, client_io, cl)) {
		close(fd);
		free(cl);
		return;
	}
	ctl_clients++;
	cl->next = ctl_list;
	ctl_list = cl;
	loop_timer_arm(l, &cl->t, CTL_TIMEOUT_MS);
}

static void ctl_resume(struct loop *l, void *arg)
{
	(void)arg;
	if (ctl_fd >= 0)
		loop_mod(l, ctl_fd, EPOLLIN);
}

static int mkdir_parent(const char *path)
{
	char dir[sizeof(ctl_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

int ctlsock_open(struct daemon *d, const char *path, char *err,
		 size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	loop_timer_init(&ctl_pause, ctl_resume, NULL);
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (mkdir_parent(path)) {
		snprintf(err, errlen, "control socket %s: cannot create its directory: %s",
			 path, strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/*
	 * A socket file nobody answers on is left over from a funneld that
	 * died: replace it.  Anything else at the path is not ours.
	 */
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			close(fd);
			snprintf(err, errlen, "control socket %s: exists and is not a socket",
				 path);
			return -1;
		}
		if (!connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
			close(fd);
			snprintf(err, errlen, "control socket %s: another funneld is running there (use -s)",
				 path);
			return -1;
		}
		if (errno != ECONNREFUSED) {
			snprintf(err, errlen, "control socket %s: cannot tell whether a funneld is running there: %s",
				 path, strerror(errno));
			close(fd);
			return -1;
		}
		unlink(path);
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	{
		mode_t old = umask(0177);
		int ret = bind(fd, (struct sockaddr *)&sun, sizeof(sun));

		umask(old);
		if (ret) {
			snprintf(err, errlen, "control socket %s: %s", path,
				 strerror(errno));
			close(fd);
			return -1;
		}
	}
	if (listen(fd, 16) ||
	    loop_add(d->loop, fd, EPOLLIN, ctl_accept, d)) {
		snprintf(err, errlen, "control socket %s: %s", path,
			 strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	ctl_fd = fd;
	snprintf(ctl_path, sizeof(ctl_path), "%s", path);
	return 0;
}

void ctlsock_close(struct daemon *d)
{
	while (ctl_list)
		client_close(ctl_list);
	loop_timer_cancel(d->loop, &ctl_pause);
	if (ctl_fd < 0)
		return;
	loop_del(d->loop, ctl_fd);
	close(ctl_fd);
	unlink(ctl_path);
	ctl_fd = -1;
}
