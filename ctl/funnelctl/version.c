// SPDX-License-Identifier: GPL-2.0
/*
 * "funnelctl version": funnelctl's version, then funnel.ko's, asked
 * directly over generic netlink (info-get), as text or JSON.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <linux/funnel.h>

#include "common/genl.h"
#include "common/info.h"
#include "common/json.h"
#include "common/nlnames.h"
#include "funnelctl/funnelctl.h"

#ifndef FUNNEL_VERSION
#error "build with -DFUNNEL_VERSION=\"x.y.z\" (see ctl/Makefile)"
#endif

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

int cmd_version(const struct opts *o, int argc, char **argv)
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
