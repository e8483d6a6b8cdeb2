// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of json_string() (ctl/common/json.c) and utf8_seq() (ctl/utf8.c):
 * whatever bytes a string holds (it may come from a peer), the JSON text
 * is valid and valid UTF-8.  utf8_seq() is checked on the boundaries of
 * RFC 3629; json_string() on fixed cases, then on thousands of random
 * byte strings, each parsed back by Python's json module and compared
 * with Python's own decoding of the bytes (errors="replace").
 *
 *   test_json        run the tests (TAP with CMOCKA_MESSAGE_OUTPUT=TAP)
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/utf8.h"

#define PYTHON		"/usr/bin/python3"
#define RANDOM_CASES	5000

/* json_string(s) as a string the caller frees */
static char *render(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	json_string(f, s);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_utf8_seq(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		bool valid;
	} cases[] = {
		{ "a", 1, true },
		{ "\x7f", 1, true },
		{ "\xc2\x80", 2, true },		/* U+0080 */
		{ "\xdf\xbf", 2, true },		/* U+07FF */
		{ "\xe0\xa0\x80", 3, true },		/* U+0800 */
		{ "\xe2\x82\xac", 3, true },		/* U+20AC */
		{ "\xed\x9f\xbf", 3, true },		/* U+D7FF */
		{ "\xee\x80\x80", 3, true },		/* U+E000 */
		{ "\xef\xbf\xbf", 3, true },		/* U+FFFF */
		{ "\xf0\x90\x80\x80", 4, true },	/* U+10000 */
		{ "\xf4\x8f\xbf\xbf", 4, true },	/* U+10FFFF */
		{ "\x80", 1, false },			/* lone continuation */
		{ "\xbf\x80", 1, false },
		{ "\xc0\x80", 1, false },		/* overlong NUL */
		{ "\xc1\xbf", 1, false },		/* overlong */
		{ "\xc2", 1, false },			/* cut by the end */
		{ "\xc2\x41", 1, false },		/* cut by ASCII */
		{ "\xe0\x9f\xbf", 1, false },		/* overlong */
		{ "\xe2\x82", 2, false },		/* cut: one subpart */
		{ "\xe2\x82\x41", 2, false },
		{ "\xed\xa0\x80", 1, false },		/* surrogate */
		{ "\xf0\x8f\xbf\xbf", 1, false },	/* overlong */
		{ "\xf0\x90\x80", 3, false },		/* cut */
		{ "\xf4\x90\x80\x80", 1, false },	/* above U+10FFFF */
		{ "\xf5\x80\x80\x80", 1, false },
		{ "\xfe", 1, false },
		{ "\xff", 1, false },
	};
	bool valid;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = utf8_seq(cases[i].s, &valid);

		if (n != cases[i].len || valid != cases[i].valid)
			fail_msg("case %zu: length %zu valid %d, want %zu %d",
				 i, n, valid, cases[i].len, cases[i].valid);
	}
}

static void test_json_string(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "\"\"" },
		{ "plain", "\"plain\"" },
		{ "q\"b\\", "\"q\\\"b\\\\\"" },
		{ "\n\r\t\x01\x1f\x7f", "\"\\n\\r\\t\\u0001\\u001f\\u007f\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d",
		  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d\"" },
		{ "a\xff" "b", "\"a\\ufffdb\"" },
		{ "\xc3(", "\"\\ufffd(\"" },
		{ "\xe2\x82", "\"\\ufffd\"" },
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
		{ "x\xf0\x9f\x90", "\"x\\ufffd\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = render(cases[i].in);

		assert_string_equal(t, cases[i].out);
		free(t);
	}
}

/*
 * A random byte string of 1 to 40 bytes, no NUL, with many of the bytes
 * that make UTF-8 interesting: lead bytes, continuation bytes, controls.
 */
static void random_string(unsigned char *s, unsigned int *seed)
{
	static const unsigned char pick[] = {
		0x01, 0x09, 0x0a, 0x1f, '"', '\\', 'A', 'z', 0x7f,
		0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3,
		0xdf, 0xe0, 0xe2, 0xed, 0xee, 0xef, 0xf0, 0xf3, 0xf4, 0xf5,
		0xfe, 0xff,
	};
	int n = 1 + rand_r(seed) % 40;

	for (int i = 0; i < n; i++) {
		int r = rand_r(seed);

		if (r % 3)
			s[i] = pick[(r / 3) % sizeof(pick)];
		else
			s[i] = (unsigned char)(1 + (r / 3) % 255);
	}
	s[n] = '\0';
}

static const char check_py[] =
"import json, sys\n"
"n = 0\n"
"with open(sys.argv[1], 'rb') as f:\n"
"    for line in f:\n"
"        hexin, out = line.rstrip(b'\\n').split(b'\\t')\n"
"        text = out.decode('utf-8')\n"
"        got = json.loads(text)\n"
"        want = bytes.fromhex(hexin.decode()).decode('utf-8', 'replace')\n"
"        assert got == want, (hexin, text, want)\n"
"        n += 1\n"
"assert n == int(sys.argv[2]), n\n";

/* Random strings: Python parses every output and finds the right text. */
static void test_random_python(void **state)
{
	char path[] = "/tmp/test_json.XXXXXX";
	unsigned char in[64];
	unsigned int seed = 1;
	char cmd[256];
	FILE *f, *p;
	int fd, status;

	(void)state;
	if (access(PYTHON, X_OK))
		skip();
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (int i = 0; i < RANDOM_CASES; i++) {
		random_string(in, &seed);
		for (const unsigned char *c = in; *c; c++)
			fprintf(f, "%02x", *c);
		fputc('\t', f);
		json_string(f, (const char *)in);
		fputc('\n', f);
	}
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), PYTHON " - %s %d", path, RANDOM_CASES);
	p = popen(cmd, "w");
	assert_non_null(p);
	fputs(check_py, p);
	status = pclose(p);
	unlink(path);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("python check failed (status %d)", status);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_seq),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_random_python),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
