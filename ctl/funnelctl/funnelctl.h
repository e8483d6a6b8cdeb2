/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside funnelctl: main.c parses the options and picks the command;
 * version.c asks funnel.ko; set.c turns a statement into a request and
 * ipc.c sends it to funneld and prints the reply.
 */
#ifndef FUNNELCTL_H
#define FUNNELCTL_H

#include <stddef.h>

#define PROG			"funnelctl"
#define DEFAULT_SOCKET		"/run/funnel/funneld.sock"

#define EXIT_FAIL		1	/* the command failed */
#define EXIT_USAGE		2	/* bad command line */

struct opts {
	const char *socket;	/* used by daemon commands */
	int json;
};

/* main.c: a message and "(try --help)" on stderr; returns EXIT_USAGE. */
__attribute__((format(printf, 1, 2)))
int usage_error(const char *fmt, ...);

/* main.c: the commands that are not statements, i = 0... until NULL. */
const char *command_name(size_t i);

/*
 * complete.c: "funnelctl completion bash" (the script) and "funnelctl
 * __complete WORD..." (what may follow WORDs; used by the script).
 */
int cmd_completion(const struct opts *o, int argc, char **argv);
int cmd_complete(const struct opts *o, int argc, char **argv);

/* version.c: "funnelctl version" (funnel.ko over generic netlink). */
int cmd_version(const struct opts *o, int argc, char **argv);

/* set.c: every other command, a statement for funneld. */
int cmd_statement(const struct opts *o, int argc, char **argv);

/*
 * ipc.c: send one request (len bytes) to funneld over the Unix socket at
 * path, print the reply; the exit status.
 */
int daemon_request(const char *path, const char *req, size_t len);

#endif /* FUNNELCTL_H */
