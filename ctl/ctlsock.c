// SPDX-License-Identifier: GPL-2.0
/* funneld's control socket (see ctlsock.h). */

#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include "ctlsock.h"
#include "log.h"

#define CTL_REQ_MAX		(STMT_LINE_MAX + 16)
#define CTL_TIMEOUT_MS		5000
#define CTL_CLIENTS_MAX		16

struct ctl_client {
	struct ctl_client *next;
	struct daemon *d;
	int fd;
	size_t len;
	struct loop_timer t;
	char buf[CTL_REQ_MAX];
};

static int ctl_fd = -1;
static char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static unsigned int ctl_clients;
static struct ctl_client *ctl_list;
static struct loop_timer ctl_pause;

static void client_close(struct ctl_client *cl)
{
	struct ctl_client **pp;

	for (pp = &ctl_list; *pp; pp = &(*pp)->next) {
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	}
	loop_timer_cancel(cl->d->loop, &cl->t);
	loop_del(cl->d->loop, cl->fd);
	close(cl->fd);
	free(cl);
	ctl_clients--;
}

static void client_reply(struct ctl_client *cl, const char *text, size_t len)
{
	struct timeval tv = { .tv_sec = CTL_TIMEOUT_MS / 1000 };
	int flags = fcntl(cl->fd, F_GETFL);

	/* replies are small and funnelctl reads them at once: block, with
	 * a bound, rather than keep a queue per client
	 */
	if (flags >= 0)
		fcntl(cl->fd, F_SETFL, flags & ~O_NONBLOCK);
	setsockopt(cl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len) {
		ssize_t n = send(cl->fd, text, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		text += n;
		len -= (size_t)n;
	}
}

/* Run the request line; the reply goes to a memory stream. */
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
		static const char bad[] = "error\nrequest must start with 'text ' or 'json '\n";

		client_reply(cl, bad, sizeof(bad) - 1);
		return;
	}
	line += 5;
	s = malloc(sizeof(*s));
	f = open_memstream(&out, &outlen);
	if (!s || !f) {
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
	if (f) {
		fclose(f);
		f = NULL;
	}
	/* one buffer, one send: "ok" and the output, or "error" and why */
	{
		char *reply = NULL;
		size_t rlen = 0;
		FILE *r = open_memstream(&reply, &rlen);

		if (r) {
			if (!ret) {
				fputs("ok\n", r);
				if (out)
					fwrite(out, 1, outlen, r);
			} else
				fprintf(r, "error\n%s\n", err);
			fclose(r);
			client_reply(cl, reply, rlen);
		}
		free(reply);
	}
	free(out);
	free(s);
}

static void client_io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct ctl_client *cl = arg;
	char *nl;
	ssize_t n;

	(void)l;
	(void)events;
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
		static const char bad[] = "error\nrequest too long or not text\n";

		client_reply(cl, bad, sizeof(bad) - 1);
	} else {
		*nl = '\0';
		client_request(cl);
	}
	client_close(cl);
}

static void client_timeout(struct loop *l, void *arg)
{
	(void)l;
	client_close(arg);
}

static void ctl_accept(struct loop *l, int lfd, uint32_t events, void *arg)
{
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
		if (send(fd, no, sizeof(no) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* nothing more to say */
		}
		close(fd);
		return;
	}
	if (ctl_clients >= CTL_CLIENTS_MAX || !(cl = calloc(1, sizeof(*cl)))) {
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
		if (!connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
		    errno != ECONNREFUSED) {
			close(fd);
			snprintf(err, errlen, "control socket %s: another funneld is running there (use -s)",
				 path);
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
