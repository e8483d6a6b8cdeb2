// SPDX-License-Identifier: GPL-2.0
/*
 * funneld: the Funnel daemon.  Reads the configuration, listens on the
 * control socket for funnelctl, brings carriers up and keeps them up,
 * and runs the control protocol; DATA frames move in funnel.ko, or in
 * funneld's userspace path when the kernel cannot take the carrier.
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <limits.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include "funneld/ctlsock.h"
#include "funneld/carrier/carrier.h"
#include "funneld/daemon.h"
#include "funneld/log.h"
#include "funneld/sdnotify.h"

#ifndef FUNNEL_VERSION
#error "build with -DFUNNEL_VERSION=\"x.y.z\" (see ctl/Makefile)"
#endif

#define PROG			"funneld"
#define DEFAULT_CONFIG		"/etc/funnel/funnel.conf"
#define DEFAULT_SOCKET		"/run/funnel/funneld.sock"
#define DEFAULT_KEEPALIVE_S	10

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [-c CONFIG] [-s SOCKET] [-f] [--datapath auto|kernel|user]\n"
		"               [-l LEVEL] [-n NODE] [--keepalive SECONDS]\n"
		"               [--key-soft-limit FRAMES] [--tcp-window BYTES]\n"
		"               [--buffer-max BYTES] [--carrier-buffer-max BYTES]\n"
		"\n"
		"  -c, --config FILE      configuration (default " DEFAULT_CONFIG ")\n"
		"  -s, --socket PATH      control socket (default " DEFAULT_SOCKET ")\n"
		"  -f, --foreground       stay in the foreground, log to stderr\n"
		"      --datapath MODE    auto (default): funnel.ko if loaded, else\n"
		"                         userspace; kernel or user force one\n"
		"  -l, --log-level LEVEL  error, warning, info (default), debug\n"
		"  -n, --node NAME        node name sent to peers (default: host name)\n"
		"      --keepalive SEC    ping interval, 1..3600 (default %d); a peer\n"
		"                         is dead after 3 unanswered pings\n"
		"      --key-soft-limit N frames sealed with a key before the stream\n"
		"                         is rekeyed, 16..4194304 (default 4194304)\n"
		"      --tcp-window BYTES what a TCP connection may have in flight\n"
		"                         toward this end, 65536..67108864\n"
		"                         (default 4194304)\n"
		"      --buffer-max BYTES the TCP connections' windows of all\n"
		"                         carriers together, 65536..2^40\n"
		"                         (default 4294967296)\n"
		"      --carrier-buffer-max BYTES  the same for one carrier\n"
		"                         (default 1073741824)\n"
		"  -V, --version          print the version\n"
		"  -h, --help             this help\n", DEFAULT_KEEPALIVE_S);
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
	return 2;
}

static void on_signal(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP ignored: change the running configuration with funnelctl");
			continue;
		}
		log_info("signal %u: shutting down", si.ssi_signo);
		loop_stop(l);
	}
}

static int detach(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return chdir("/");
}

/*
 * Tell systemd that funneld is ready (the configuration is loaded, the
 * control socket listens) and start the watchdog pings it asks for.
 */
static void notify_ready(struct daemon *d, const char *sock)
{
	char state[PATH_MAX + 256];	/* sock is at most PATH_MAX + 128 */
	uint64_t wd = sdnotify_watchdog_start(d->loop);
	int ret;

	snprintf(state, sizeof(state), "READY=1\nSTATUS=running, control socket %s",
		 sock);
	ret = sdnotify(state);
	if (ret < 0)
		log_warn("cannot notify systemd ($NOTIFY_SOCKET): %s",
			 strerror(-ret));
	else if (ret && wd)
		log_info("systemd watchdog: a ping every %llu ms",
			 (unsigned long long)wd);
}

enum { OPT_DATAPATH = 256, OPT_KEEPALIVE, OPT_SOFT_LIMIT, OPT_TCP_WINDOW,
       OPT_BUFFER_MAX, OPT_CARRIER_BUFFER_MAX };

/* --buffer-max, --carrier-buffer-max: 64 KiB (one flow) to 1 TiB */
#define BUFFER_MAX_MAX		(1ULL << 40)

/* A byte count in [CTRL_WINDOW_INIT, BUFFER_MAX_MAX]: 0, or -1. */
static int parse_buffer_max(const char *arg, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || !isdigit((unsigned char)arg[0]) ||
	    v < CTRL_WINDOW_INIT || v > BUFFER_MAX_MAX)
		return -1;
	*out = v;
	return 0;
}

/* HELLO's node name is text without control characters. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/*
 * Every flow of the userspace path and every carrier is a descriptor:
 * take the hard limit, not the 1024 of the soft one.
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* detach() changes to /: keep a relative -s path meaning the same. */
static const char *absolute(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return path;
	snprintf(buf, len, "%s/%s", cwd, path);
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "datapath", required_argument, NULL, OPT_DATAPATH },
		{ "log-level", required_argument, NULL, 'l' },
		{ "node", required_argument, NULL, 'n' },
		{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
		{ "key-soft-limit", required_argument, NULL, OPT_SOFT_LIMIT },
		{ "tcp-window", required_argument, NULL, OPT_TCP_WINDOW },
		{ "buffer-max", required_argument, NULL, OPT_BUFFER_MAX },
		{ "carrier-buffer-max", required_argument, NULL,
		  OPT_CARRIER_BUFFER_MAX },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = DEFAULT_CONFIG, *sock = DEFAULT_SOCKET;
	bool config_given = false, fg = false;
	int level = LOG_INFO, opt, sfd, ret;
	struct daemon d = { .dp = DP_AUTO, .ev_fd = -1,
			    .tcp_window = DAEMON_TCP_WINDOW_DEFAULT,
			    .carrier_buffer_max =
				DAEMON_CARRIER_BUFFER_MAX_DEFAULT };
	uint64_t buffer_max = DAEMON_BUFFER_MAX_DEFAULT;
	unsigned long long soft;
	char err[2 * DAEMON_TEXT_MAX];
	sigset_t mask;
	long ka = DEFAULT_KEEPALIVE_S;
	char sockbuf[PATH_MAX + 128];
	char *end;

	while ((opt = getopt_long(argc, argv, "c:s:fl:n:Vh", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			config_given = true;
			break;
		case 's':
			sock = optarg;
			break;
		case 'f':
			fg = true;
			break;
		case OPT_DATAPATH:
			if (!strcmp(optarg, "auto"))
				d.dp = DP_AUTO;
			else if (!strcmp(optarg, "kernel"))
				d.dp = DP_KERNEL;
			else if (!strcmp(optarg, "user"))
				d.dp = DP_USER;
			else
				return usage_error("bad --datapath '%s' (auto, kernel or user)",
						   optarg);
			break;
		case 'l':
			level = log_level_parse(optarg);
			if (level < 0)
				return usage_error("bad log level '%s' (error, warning, info, debug)",
						   optarg);
			break;
		case 'n':
			if (!optarg[0] || strlen(optarg) > CTRL_TEXT_MAX ||
			    !printable(optarg))
				return usage_error("bad node name '%s' (1..%d bytes, no control characters)",
						   optarg, CTRL_TEXT_MAX);
			snprintf(d.node, sizeof(d.node), "%s", optarg);
			break;
		case OPT_KEEPALIVE:
			errno = 0;
			ka = strtol(optarg, &end, 10);
			if (errno || *end || ka < 1 || ka > 3600)
				return usage_error("bad --keepalive '%s' (1..3600 seconds)",
						   optarg);
			break;
		case OPT_SOFT_LIMIT:
			errno = 0;
			soft = strtoull(optarg, &end, 10);
			if (errno || *end || !isdigit((unsigned char)optarg[0]) ||
			    soft < 16 || soft > (1ULL << 22))
				return usage_error("bad --key-soft-limit '%s' (16..4194304 frames)",
						   optarg);
			d.key_soft_limit = soft;
			break;
		case OPT_TCP_WINDOW:
			errno = 0;
			soft = strtoull(optarg, &end, 10);
			if (errno || *end || !isdigit((unsigned char)optarg[0]) ||
			    soft < CTRL_WINDOW_INIT || soft > (64ULL << 20))
				return usage_error("bad --tcp-window '%s' (%u..%llu bytes)",
						   optarg, CTRL_WINDOW_INIT,
						   64ULL << 20);
			d.tcp_window = (uint32_t)soft;
			break;
		case OPT_BUFFER_MAX:
			if (parse_buffer_max(optarg, &buffer_max))
				return usage_error("bad --buffer-max '%s' (%u..%llu bytes)",
						   optarg, CTRL_WINDOW_INIT,
						   BUFFER_MAX_MAX);
			break;
		case OPT_CARRIER_BUFFER_MAX:
			if (parse_buffer_max(optarg, &d.carrier_buffer_max))
				return usage_error("bad --carrier-buffer-max '%s' (%u..%llu bytes)",
						   optarg, CTRL_WINDOW_INIT,
						   BUFFER_MAX_MAX);
			break;
		case 'V':
			printf(PROG " %s\n", FUNNEL_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error("unknown option or missing argument");
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);

	log_init(PROG, 1, level);
	raise_nofile();
	sock = absolute(sock, sockbuf, sizeof(sockbuf));
	if (!d.node[0] && gethostname(d.node, sizeof(d.node) - 1))
		snprintf(d.node, sizeof(d.node), "funneld");
	d.keepalive_ms = (uint32_t)ka * 1000;
	d.flows.max = DAEMON_USER_FLOWS_MAX;
	d.tcp_resv.max = buffer_max;
	d.tcp_buf.max = buffer_max;
	d.loop = loop_new();
	if (!d.loop) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	d.started = loop_now_ms();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	if (d.dp != DP_USER && kpath_open(&d.kp, err, sizeof(err))) {
		if (d.dp == DP_KERNEL) {
			log_err("--datapath kernel: %s", err);
			loop_free(d.loop);
			return 1;
		}
		log_info("userspace data path: %s", err);
	} else {
		log_info("%s data path", d.dp == DP_USER ? "userspace" : "kernel");
	}

	ret = daemon_load(&d, config, config_given, err, sizeof(err));
	if (!ret)
		ret = ctlsock_open(&d, sock, err, sizeof(err));
	if (ret) {
		log_err("%s", err);
		daemon_shutdown(&d);
		ctlsock_close(&d);
		kpath_close(&d.kp);
		loop_free(d.loop);
		return 1;
	}
	if (!fg) {
		if (detach()) {
			log_err("cannot detach: %s", strerror(errno));
			return 1;
		}
		log_init(PROG, 0, level);
	}
	/*
	 * After detach(): a signalfd reports the signals of the process
	 * that registered it with epoll, so the child makes its own.  The
	 * signals are blocked since the start and wait until then.
	 */
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0 || loop_add(d.loop, sfd, EPOLLIN, on_signal, NULL)) {
		log_err("signalfd: %s", strerror(errno));
		daemon_shutdown(&d);
		ctlsock_close(&d);
		kpath_close(&d.kp);
		loop_free(d.loop);
		return 1;
	}
	log_info("funneld %s running (node %s, control socket %s)",
		 FUNNEL_VERSION, d.node, sock);
	/* under systemd (Type=notify): started; the watchdog, if asked for */
	notify_ready(&d, sock);

	ret = loop_run(d.loop);
	if (ret)
		log_err("event loop: %s", strerror(-ret));
	sdnotify("STOPPING=1");
	sdnotify_watchdog_stop(d.loop);
	daemon_shutdown(&d);
	ctlsock_close(&d);
	loop_del(d.loop, sfd);
	close(sfd);
	if (d.ev_fd >= 0)
		loop_del(d.loop, d.ev_fd);
	kpath_close(&d.kp);
	loop_free(d.loop);
	log_info("stopped");
	/* a thread still inside krb5 or getaddrinfo() must not meet the
	 * libraries' exit-time destructors: leave without running them
	 */
	if (d.workers_left) {
		fflush(NULL);
		_exit(ret ? 1 : 0);
	}
	return ret ? 1 : 0;
}
