// SPDX-License-Identifier: GPL-2.0
/*
 * Every command but version is a statement (common/stmt.h): funnelctl
 * parses it, so that a bad command fails here with exit status 2, and
 * sends its canonical form to funneld.
 */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/stmt.h"
#include "funnelctl/funnelctl.h"

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

int cmd_statement(const struct opts *o, int argc, char **argv)
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
