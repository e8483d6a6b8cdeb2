// SPDX-License-Identifier: GPL-2.0
/*
 * Shell completion.  "funnelctl completion bash" prints a bash
 * completion script; the script asks "funnelctl __complete WORD..." (the
 * words before the cursor) for the candidates, one a line, which come
 * from the tables the statement parser uses (common/grammar.h): the
 * completion is never out of step with the parser of the funnelctl it
 * completes.  A line ":file" asks for file names instead.
 */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/grammar.h"
#include "funnelctl/funnelctl.h"

#define FILE_NAMES	":file"

static const char bash_script[] =
"# bash completion for funnelctl, from \"funnelctl completion bash\".\n"
"# The candidates come from funnelctl itself (funnelctl __complete),\n"
"# from the grammar its statement parser uses.\n"
"_funnelctl()\n"
"{\n"
"\tlocal line=${COMP_LINE:0:COMP_POINT} cur=\n"
"\tlocal -a w cand\n"
"\tread -r -a w <<<\"$line\"\n"
"\t# the word under the cursor; \":\" does not split words here\n"
"\tif [ ${#w[@]} -gt 0 ] && [[ $line != *[[:space:]] ]]; then\n"
"\t\tcur=${w[${#w[@]}-1]}\n"
"\t\tunset 'w[${#w[@]}-1]'\n"
"\tfi\n"
"\tmapfile -t cand < <(\"${w[0]:-funnelctl}\" __complete \"${w[@]:1}\" 2>/dev/null)\n"
"\tif [ \"${cand[0]-}\" = \"" FILE_NAMES "\" ]; then\n"
"\t\tcompopt -o filenames 2>/dev/null\n"
"\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
"\telse\n"
"\t\tmapfile -t COMPREPLY < <(compgen -W \"${cand[*]}\" -- \"$cur\")\n"
"\tfi\n"
"}\n"
"complete -F _funnelctl funnelctl\n";

int cmd_completion(const struct opts *o, int argc, char **argv)
{
	(void)o;
	if (argc != 2 || strcmp(argv[1], "bash"))
		return usage_error("completion: which shell? (bash)");
	fputs(bash_script, stdout);
	return 0;
}

/* What a statement's words allow, less what funnelctl takes out. */
struct filter {
	bool json;		/* --json given: no --prometheus */
};

static void put(const char *word, void *arg)
{
	const struct filter *f = arg;

	if (f->json && !strcmp(word, "--prometheus"))
		return;
	puts(word);
}

static void statement(int argc, char **argv, bool json)
{
	static const char *const output_cmds[] = { "show", "stats" };
	struct filter f = { .json = json };
	bool output = false, prom = false;
	const char *ph;
	char **words;
	int n = 0;

	for (size_t i = 0; i < sizeof(output_cmds) / sizeof(*output_cmds); i++)
		output |= !strcmp(argv[0], output_cmds[i]);
	words = calloc((size_t)argc + 1, sizeof(*words));
	if (!words)
		return;
	/* funnelctl show --json: the --json of set.c */
	for (int i = 0; i < argc; i++) {
		if (output && i && !strcmp(argv[i], "--json"))
			f.json = true;
		else
			words[n++] = argv[i];
		prom |= !strcmp(argv[i], "--prometheus");
	}
	ph = stmt_complete(n, words, put, &f);
	if (ph && !strcmp(ph, "PATH"))
		puts(FILE_NAMES);
	/* --json after words that begin a statement only */
	if (output && n == argc && !f.json && !prom && stmt_fits(n, words))
		puts("--json");
	free(words);
}

int cmd_complete(const struct opts *o, int argc, char **argv)
{
	static const char *const options[] = {
		"-s", "--socket", "--json", "--help",
	};
	bool json = o->json;
	int i = 1;

	/* the options before the command, as main() takes them */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-s") || !strcmp(argv[i], "--socket")) {
			if (++i == argc) {
				puts(FILE_NAMES);
				return 0;
			}
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		}
	}
	if (i == argc) {
		for (size_t k = 0; k < sizeof(options) / sizeof(*options); k++)
			puts(options[k]);
		for (size_t k = 0; command_name(k); k++)
			if (command_name(k)[0] != '_')
				puts(command_name(k));
		stmt_complete(0, NULL, put, &(struct filter){ .json = json });
		return 0;
	}
	if (!strcmp(argv[i], "completion")) {
		if (argc - i == 1)
			puts("bash");
		return 0;
	}
	for (size_t k = 0; command_name(k); k++)
		if (!strcmp(argv[i], command_name(k)))
			return 0;
	statement(argc - i, argv + i, json);
	return 0;
}
