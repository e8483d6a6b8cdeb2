// SPDX-License-Identifier: GPL-2.0
/*
 * funnel-nl: low-level client of the "funnel" generic netlink family for
 * the selftests.  It sends exactly what it is told, so tests can check
 * that funnel.ko refuses missing, out-of-range and unknown attributes.
 *
 *   funnel-nl info
 *   funnel-nl raw [--dump] CMD [PATH=TYPE:VALUE...]
 *   funnel-nl monitor [COUNT [SECONDS]]
 *
 * Exit status: 0 success, 1 the kernel (or netlink) refused, 2 bad usage.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include <linux/funnel.h>

#include "attrspec.h"
#include "common/genl.h"
#include "common/info.h"
#include "common/nlnames.h"
#include "nlprint.h"

#define PROG		"funnel-nl"
#define EXIT_FAIL	1
#define EXIT_USAGE	2

static uint8_t scratch[65536];

/* --family: talk to another family (to test this tool); numbers only. */
static const char *family = FUNNEL_FAMILY_NAME;
static int foreign;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--family NAME] info\n"
		"       " PROG " [--family NAME] raw [--dump] CMD [PATH=TYPE:VALUE...]\n"
		"       " PROG " monitor [COUNT [SECONDS]]\n"
		"\n"
		"CMD   a command of Documentation/netlink/specs/funnel.yaml (info-get,\n"
		"      carrier-new, stream-new, ...) or a number\n"
		"PATH  an attribute name or number (carrier-id, stream-id, 7, ...);\n"
		"      nested: keyconf.encrypt-dir.key\n"
		"TYPE  u8 u16 u32 u64 s32 be16 be32 str flag hex nest\n"
		"      (flag and nest take no value: unordered=flag)\n"
		"\n"
		"raw prints \"ok\" and any reply attributes as NAME=VALUE lines\n"
		"(one block per object for --dump), or the kernel's error and\n"
		"extended ACK message on stderr with exit status 1.\n"
		"\n"
		"--family sends to another generic netlink family (tests of this\n"
		"tool use nlctrl); give commands and attributes as numbers.\n"
		"\n"
		"monitor prints \"ready\", then each notification of the \"events\"\n"
		"group as \"event=NAME\" and NAME=VALUE lines, a blank line after\n"
		"each; it stops after COUNT events (0: no limit) or SECONDS\n"
		"(default 60), with exit status 0 if it saw COUNT events.\n");
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(try '" PROG " --help')\n", stderr);
	return EXIT_USAGE;
}

/* Name of attribute type in set (or its number) into buf. */
static const char *attr_name(enum funnel_set_id set, int type, char *buf,
			     size_t len)
{
	const struct funnel_attr_set *s = funnel_attr_set(set);
	const struct funnel_attr_desc *d;

	d = s && type >= 0 ? funnel_attr_desc(s, (unsigned int)type) : NULL;
	if (d && !foreign)
		snprintf(buf, len, "%s", d->name);
	else
		snprintf(buf, len, "%d", type);
	return buf;
}

/* Nested set of a top-level attribute, or FUNNEL_SET_COUNT. */
static enum funnel_set_id nest_of(int type)
{
	const struct funnel_attr_desc *d;

	d = type > 0 ? funnel_attr_desc(funnel_attr_set(FUNNEL_SET_FUNNEL),
					(unsigned int)type) : NULL;
	if (d && d->kind == FUNNEL_NLA_NEST)
		return (enum funnel_set_id)d->nest;
	return FUNNEL_SET_COUNT;
}

/* "MESSAGE; missing attribute X; bad attribute Y" from the extack. */
static void describe_extack(const struct funnel_extack *e, char *out,
			    size_t len)
{
	char outer[32], inner[32];
	size_t used;

	snprintf(out, len, "%s", e->msg);
	if (e->has_miss_type) {
		used = strlen(out);
		if (e->miss_in >= 0)
			snprintf(out + used, len - used,
				 "%smissing attribute %s.%s",
				 used ? "; " : "",
				 attr_name(FUNNEL_SET_FUNNEL, e->miss_in, outer,
					   sizeof(outer)),
				 attr_name(nest_of(e->miss_in),
					   (int)e->miss_type, inner,
					   sizeof(inner)));
		else
			snprintf(out + used, len - used,
				 "%smissing attribute %s", used ? "; " : "",
				 attr_name(FUNNEL_SET_FUNNEL, (int)e->miss_type,
					   outer, sizeof(outer)));
	}
	if (e->bad_attr >= 0) {
		used = strlen(out);
		attr_name(FUNNEL_SET_FUNNEL, e->bad_attr, outer, sizeof(outer));
		if (e->bad_nested >= 0)
			snprintf(out + used, len - used,
				 "%sbad attribute %s.%s", used ? "; " : "",
				 outer, attr_name(nest_of(e->bad_attr),
						  e->bad_nested, inner,
						  sizeof(inner)));
		else
			snprintf(out + used, len - used, "%sbad attribute %s",
				 used ? "; " : "", outer);
	}
}

static void report(const char *what, int err, const struct funnel_extack *e)
{
	char msg[FUNNEL_EXTACK_MSG_MAX + 128];

	describe_extack(e, msg, sizeof(msg));
	fprintf(stderr, PROG ": %s: %s%s%s\n", what, strerror(-err),
		msg[0] ? ": " : "", msg);
}

static int open_family(struct funnel_genl *g)
{
	int err = funnel_genl_open_family(g, family);

	if (!err)
		return 0;
	fprintf(stderr, PROG ": generic netlink family \"%s\": %s%s\n",
		family, strerror(-err),
		err == -ENOENT ? " (funnel.ko not loaded)" : "");
	return EXIT_FAIL;
}

static int cmd_info(int argc, char **argv)
{
	struct funnel_genl g;
	struct funnel_info info;
	char caps[128];
	int err;

	if (argc != 1)
		return usage_error("info: unexpected argument '%s'", argv[1]);
	if (open_family(&g))
		return EXIT_FAIL;
	err = funnel_info_get(&g, &info);
	if (err) {
		report("info-get", err, &g.ext);
		funnel_genl_close(&g);
		return EXIT_FAIL;
	}
	funnel_genl_close(&g);
	funnel_caps_format(info.caps, ",", caps, sizeof(caps));
	printf("version=%s\n", info.version);
	printf("wire-version=%u\n", info.wire);
	printf("caps=%s\n", caps);
	return 0;
}

struct replies {
	FILE *out;
	unsigned int count;
};

static int on_reply(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct replies *r = arg;
	struct genlmsghdr *gh;

	if (!genlmsg_valid_hdr(nlh, 0))
		return -EBADMSG;
	gh = nlmsg_data(nlh);
	if (r->count++)
		fputc('\n', r->out);
	nlprint_attrs(r->out, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0),
		      foreign ? FUNNEL_SET_COUNT : FUNNEL_SET_FUNNEL, "");
	return 0;
}

/* Add the attributes; consecutive paths share their enclosing nests. */
static int put_attrs(struct nl_msg *msg, char **args, int n)
{
	struct nlattr *open[ATTRSPEC_DEPTH];
	uint16_t open_type[ATTRSPEC_DEPTH];
	unsigned int depth = 0, keep, leaf;
	struct attrspec spec;
	char err[256];

	for (int i = 0; i < n; i++) {
		if (attrspec_parse(args[i], &spec, scratch, sizeof(scratch),
				   err, sizeof(err)))
			return usage_error("%s", err);
		leaf = spec.depth - 1;
		keep = 0;
		while (keep < depth && keep < leaf &&
		       open_type[keep] == spec.path[keep])
			keep++;
		while (depth > keep)
			nla_nest_end_keep_empty(msg, open[--depth]);
		while (depth < leaf) {
			open[depth] = nla_nest_start(msg, NLA_F_NESTED |
						     spec.path[depth]);
			if (!open[depth])
				goto too_big;
			open_type[depth] = spec.path[depth];
			depth++;
		}
		if (spec.nest) {
			struct nlattr *nest = nla_nest_start(msg, NLA_F_NESTED |
							     spec.path[leaf]);

			if (!nest)
				goto too_big;
			nla_nest_end_keep_empty(msg, nest);
		} else if (nla_put(msg, spec.path[leaf], (int)spec.len,
				   scratch) < 0) {
			goto too_big;
		}
	}
	while (depth)
		nla_nest_end_keep_empty(msg, open[--depth]);
	return 0;
too_big:
	fprintf(stderr, PROG ": attributes do not fit in one message\n");
	return EXIT_FAIL;
}

static int parse_cmd(const char *s, uint8_t *cmd)
{
	char *end;
	long v;
	int c = funnel_cmd_lookup(s);

	if (c >= 0) {
		*cmd = (uint8_t)c;
		return 0;
	}
	v = strtol(s, &end, 0);
	if (!*s || *end || v < 0 || v > 255)
		return -1;
	*cmd = (uint8_t)v;
	return 0;
}

static int cmd_raw(int argc, char **argv)
{
	struct replies r = { 0 };
	struct attrspec spec;
	struct funnel_genl g;
	const char *cmdname = NULL;
	char **attrs, err[256];
	char *text = NULL;
	size_t textlen = 0;
	struct nl_msg *req;
	int dump = 0, nattrs = 0, ret;
	uint8_t cmd = 0;

	attrs = calloc((size_t)argc, sizeof(*attrs));
	if (!attrs)
		return EXIT_FAIL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dump")) {
			dump = 1;
		} else if (!cmdname) {
			cmdname = argv[i];
			if (parse_cmd(cmdname, &cmd)) {
				free(attrs);
				return usage_error("raw: unknown command '%s'",
						   cmdname);
			}
		} else {
			/* Check every argument before talking to the kernel. */
			if (attrspec_parse(argv[i], &spec, scratch,
					   sizeof(scratch), err, sizeof(err))) {
				free(attrs);
				return usage_error("%s", err);
			}
			attrs[nattrs++] = argv[i];
		}
	}
	if (!cmdname) {
		free(attrs);
		return usage_error("raw: missing command");
	}
	if (funnel_cmd_name(cmd) && !foreign)
		cmdname = funnel_cmd_name(cmd);

	ret = open_family(&g);
	if (ret)
		goto out_free;
	ret = EXIT_FAIL;
	req = funnel_genl_msg(&g, cmd, dump ? NLM_F_DUMP : 0);
	if (!req)
		goto out_close;
	ret = put_attrs(req, attrs, nattrs);
	if (ret) {
		funnel_genl_msg_free(req);
		goto out_close;
	}
	r.out = open_memstream(&text, &textlen);
	if (!r.out) {
		funnel_genl_msg_free(req);
		ret = EXIT_FAIL;
		goto out_close;
	}
	ret = funnel_genl_request(&g, req, on_reply, &r);
	fclose(r.out);
	if (ret) {
		report(cmdname, ret, &g.ext);
		ret = EXIT_FAIL;
	} else {
		printf("ok\n%s", text);
	}
	free(text);
out_close:
	funnel_genl_close(&g);
out_free:
	free(attrs);
	return ret;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	unsigned int *count = arg;
	struct genlmsghdr *gh;
	const char *name;

	if (!genlmsg_valid_hdr(nlh, 0))
		return NL_SKIP;
	gh = nlmsg_data(nlh);
	name = funnel_cmd_name(gh->cmd);
	if (name)
		printf("event=%s\n", name);
	else
		printf("event=%u\n", gh->cmd);
	nlprint_attrs(stdout, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0),
		      FUNNEL_SET_FUNNEL, "");
	printf("\n");
	fflush(stdout);
	(*count)++;
	return NL_OK;
}

static int cmd_monitor(int argc, char **argv)
{
	unsigned long want = 0, secs = 60;
	unsigned int count = 0;
	struct funnel_genl g;
	struct timeval tv;
	time_t end;
	char *e;
	int grp, err;

	if (argc > 1) {
		want = strtoul(argv[1], &e, 10);
		if (*e || !*argv[1])
			return usage_error("monitor: bad count '%s'", argv[1]);
	}
	if (argc > 2) {
		secs = strtoul(argv[2], &e, 10);
		if (*e || !*argv[2] || !secs)
			return usage_error("monitor: bad seconds '%s'", argv[2]);
	}
	if (argc > 3)
		return usage_error("monitor: unexpected argument '%s'", argv[3]);
	if (open_family(&g))
		return EXIT_FAIL;
	grp = genl_ctrl_resolve_grp(g.sk, FUNNEL_FAMILY_NAME,
				    FUNNEL_MCGRP_EVENTS);
	err = grp < 0 ? grp : nl_socket_add_membership(g.sk, grp);
	if (err < 0) {
		fprintf(stderr, PROG ": cannot join the events group: %s\n",
			nl_geterror(err));
		funnel_genl_close(&g);
		return EXIT_FAIL;
	}
	nl_socket_disable_seq_check(g.sk);
	nl_socket_modify_cb(g.sk, NL_CB_VALID, NL_CB_CUSTOM, on_event, &count);
	tv = (struct timeval){ .tv_sec = 0, .tv_usec = 200000 };
	setsockopt(nl_socket_get_fd(g.sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	printf("ready\n");
	fflush(stdout);
	end = time(NULL) + (time_t)secs;
	while ((!want || count < want) && time(NULL) < end)
		nl_recvmsgs_default(g.sk);
	funnel_genl_close(&g);
	return !want || count >= want ? 0 : EXIT_FAIL;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "--family")) {
		family = argv[2];
		foreign = strcmp(family, FUNNEL_FAMILY_NAME) != 0;
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		return usage_error("missing command");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(argv[1], "raw"))
		return cmd_raw(argc - 1, argv + 1);
	if (!strcmp(argv[1], "monitor"))
		return cmd_monitor(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", argv[1]);
}
