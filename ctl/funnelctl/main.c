// SPDX-License-Identifier: GPL-2.0
/*
 * funnelctl: command-line tool for Funnel.  "version" asks funnel.ko
 * (version.c); every other command is a statement that funneld applies
 * (set.c, ipc.c).
 */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "funnelctl/funnelctl.h"

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
		"  peer add NAME HOST[,HOST...][:PORT] [carrier auto|sctp|sctp-udp|tcp]\n"
		"           [udp-port PORT] [principal P]\n"
		"  peer del NAME\n"
		"  service add NAME udp|tcp TARGET:PORT [allow PRINCIPAL[,PRINCIPAL...]]\n"
		"              [identity PRINCIPAL keytab PATH]\n"
		"  service del NAME\n"
		"  map add udp|tcp [ADDR:]PORT peer NAME service NAME\n"
		"          [identity PRINCIPAL keytab PATH] [principal P]\n"
		"  map del udp|tcp [ADDR:]PORT\n"
		"  show                            peers, carriers, streams, flows, counters\n"
		"  stats [--prometheus]            counters (Prometheus text format)\n"
		"  plaintext                       carriers without GSS: no authentication,\n"
		"                                  no encryption (needed on both ends)\n"
		"IPv6 addresses go in brackets: [fd00::1]:9899.\n"
		"\n"
		"other commands:\n"
		"  version                         versions of " PROG " and of funnel.ko\n"
		"  completion bash                 a bash completion script for " PROG "\n");
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(try '" PROG " --help')\n");
	return EXIT_USAGE;
}

static const struct {
	const char *name;
	int (*fn)(const struct opts *o, int argc, char **argv);
} commands[] = {
	{ "version", cmd_version },
	{ "completion", cmd_completion },
	{ "__complete", cmd_complete },
};

const char *command_name(size_t i)
{
	return i < sizeof(commands) / sizeof(commands[0]) ?
		commands[i].name : NULL;
}

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
