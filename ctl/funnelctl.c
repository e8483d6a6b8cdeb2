// SPDX-License-Identifier: GPL-2.0
/*
 * funnelctl: command-line tool for Funnel.
 *
 * Daemon commands (identity, listen, peer, service, map, show, stats) go
 * to funneld over its Unix socket and arrive with the daemon; "version"
 * asks funnel.ko directly over generic netlink.
 */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/funnel.h>

#include "genl.h"
#include "info.h"
#include "json.h"
#include "nlnames.h"

#ifndef FUNNEL_VERSION
#error "build with -DFUNNEL_VERSION=\"x.y.z\" (see ctl/Makefile)"
#endif

#define PROG			"funnelctl"
#define DEFAULT_SOCKET		"/run/funnel/funneld.sock"

#define EXIT_FAIL		1	/* the command failed */
#define EXIT_USAGE		2	/* bad command line */

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
		"commands:\n"
		"  version              versions of " PROG " and of funnel.ko\n");
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
	return usage_error("unknown command '%s'", argv[optind]);
}
