// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the "show" and "stats" renderers (ctl/funneld/report/): a snapshot
 * with an outgoing, an incoming and a backing-off carrier, streams, flows,
 * maps and strings that need escaping, rendered in all five formats.
 *
 * JSON is checked with a strict validator here (numbers must be unsigned
 * integers) and, when /usr/bin/python3 is there, against the schema with
 * Python's json module.  The Prometheus text is checked line by line:
 * sample syntax, label escaping, one HELP and one TYPE per family before
 * its samples, no duplicate series, and the values.
 *
 *   test_show            run the tests (TAP with CMOCKA_MESSAGE_OUTPUT=TAP)
 *   test_show --dump     print the five renderings of each test snapshot
 *                        (what show.golden holds)
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include <cmocka.h>

#include "common/fstats.h"
#include "funneld/report/snap.h"

#define PYTHON		"/usr/bin/python3"
#define NODE		"gw\"2\\x\nnode"	/* an incoming peer's node name */
#define REASON		"no service \"web\" at\tpeer \\ here"

/* ---- the snapshot ---- */

static char listens[2][SNAP_ADDR_MAX] = { "0.0.0.0:9899", "[::]:9899" };

static struct snap_peer peers[] = {
	{ .name = "hoster", .host = "192.0.2.1:9899", .carrier = "auto",
	  .principal = "host/hoster@EXAMPLE.COM",
	  .addrs = { "192.0.2.1:9899", "198.51.100.1:9899" }, .n_addrs = 2,
	  .udp_port = 9900 },
	{ .name = "backup", .host = "[fd00::2]:9899", .carrier = "tcp",
	  .addrs = { "[fd00::2]:9899" }, .n_addrs = 1 },
};

static struct snap_service services[] = {
	{ .name = "dns", .proto = "udp", .target = "127.0.0.1:53",
	  .allow = "alice@R,bob@R", .identity = "dns/gw1@EXAMPLE.COM",
	  .opens = 3, .refusals = 1,
	  .last_refusal = "internal-error: service dns (identity dns/gw1@EXAMPLE.COM): keytab /etc/funnel/dns.keytab: No such file or directory" },
	{ .name = "web", .proto = "tcp", .target = "[::1]:80", .proxy = "v2",
	  .plugin = "ldap" },
	{ .name = "rdns", .proto = "udp", .relay = "hoster/dns",
	  .allow = "carol@R", .opens = 2, .relayed = 40, .relay_drops = 1 },
};

static struct snap_map maps[] = {
	{ .proto = "udp", .addr = "127.0.0.1:5300", .peer = "hoster",
	  .service = "dns", .principal = "dns/hoster@EXAMPLE.COM",
	  .stream = 1, .state = "open" },
	{ .proto = "tcp", .addr = "[::1]:8080", .peer = "hoster",
	  .service = "web", .plugin = "ldap", .stream = 0,
	  .state = "refused", .reason = REASON },
	/* no carrier for backup: zero counters */
	{ .proto = "udp", .addr = "127.0.0.1:5301", .peer = "backup",
	  .service = "dns", .identity = "carol@EXAMPLE.COM", .stream = 3,
	  .state = "waiting" },
	/* stream 2 is on the incoming carrier only: zero counters */
	{ .proto = "udp", .addr = "127.0.0.1:5302", .peer = "hoster",
	  .service = "ntp", .stream = 2, .state = "opening" },
};

static struct snap_flow flows1[] = {
	{ .id = 1, .local = "127.0.0.1:40001", .remote = "127.0.0.1:5300",
	  .idle_ms = 1200 },
	{ .id = 2, .local = "127.0.0.1:40002", .remote = "127.0.0.1:5300",
	  .idle_ms = 61000 },
};

static struct snap_flow flows2[] = {
	{ .id = 9, .local = "127.0.0.1:33000", .remote = "127.0.0.1:123",
	  .idle_ms = 5, .origin = "192.0.2.7:51234" },
};

static struct snap_stream streams0[] = {
	{ .id = 1, .service = "dns", .proto = "udp", .addr = "127.0.0.1:5300",
	  .state = "open", .nflows = 2, .flows = flows1, .n_flows = 2 },
	{ .id = 4, .service = "web", .proto = "tcp", .addr = "[::1]:8080",
	  .state = "closed", .reason = "peer reset" },
};

static struct snap_stream streams1[] = {
	{ .id = 2, .service = "ntp", .proto = "udp", .addr = "127.0.0.1:123",
	  .state = "open", .unordered = true, .key_gen = 3, .rekeys = 2,
	  .principal = "alice@FUNNEL.TEST", .nflows = 1, .flows = flows2,
	  .n_flows = 1 },
};

static struct snap_carrier carriers[] = {
	{ .peer = "hoster", .transport = "tcp", .datapath = "kernel",
	  .state = "up", .local = "10.0.0.1:40000", .remote = "192.0.2.1:9899",
	  .peer_node = "hoster.example.com", .kernel_id = 7, .up_ms = 60000,
	  .principal = "funnel/hoster@FUNNEL.TEST",
	  .reconnects = 2, .streams = streams0, .n_streams = 2,
	  .tcp = { .queued = 65536, .queued_peak = 1048576,
		   .reserved = 4194304, .max = 1073741824,
		   .short_windows = 2 } },
	{ .incoming = true, .transport = "tcp", .datapath = "user",
	  .state = "up", .local = "192.0.2.10:9899",
	  .remote = "192.0.2.5:41000", .peer_node = NODE, .up_ms = 999,
	  .marks_ignored = 4, .streams = streams1, .n_streams = 1 },
	{ .peer = "backup", .transport = NULL, .datapath = "user",
	  .state = "backoff", .remote = "[fd00::2]:9899", .reconnects = 5,
	  .next_try_ms = 2500, .last_error = "connect: Connection refused",
	  .pings_missed = 3 },
};

static struct snapshot snap = {
	.version = "0.1.0",
	.datapath = "auto",
	.kernel_available = true,
	.plaintext = true,
	.identity = "host/gw1.example.com@EXAMPLE.COM",
	.uptime_ms = 3723004,		/* 1h02m03s */
	.refused_handshakes = 1,
	.refused_address = 2,
	.refused_principal = 3,
	.refused_streams = 4,
	.tcp = { .queued = 65537, .queued_peak = 2097152, .reserved = 4259840,
		 .max = 4294967296ULL, .short_windows = 3 },
	.listens = listens,
	.n_listens = 2,
	.peers = peers,
	.n_peers = 2,
	.services = services,
	.n_services = 3,
	.maps = maps,
	.n_maps = 4,
	.carriers = carriers,
	.n_carriers = 3,
};

/* Distinct counter values: stream 1 counter i is 100 i + 1, and so on. */
static void fill_stats(void)
{
	for (unsigned int i = 0; i < FSTATS_N; i++) {
		if (!fstats_name(i))
			continue;
		streams0[0].st.v[i] = 100 * i + 1;
		streams0[1].st.v[i] = 10 * i + 3;
		streams1[0].st.v[i] = 1000 * i + 7;
		flows1[0].st.v[i] = i;
	}
	FST(&carriers[0].st, RX_FRAMES) = 120;
	FST(&carriers[0].st, RX_DROP_MALFORMED) = 1;
	FST(&carriers[0].st, RX_ABANDONED) = 2;
	FST(&carriers[0].st, TX_DEFERRED) = 3;
}

static int setup(void **state)
{
	(void)state;
	fill_stats();
	return 0;
}

/* ---- helpers ---- */

typedef void (*render_fn)(FILE *f, const struct snapshot *s);

/* The output of fn for s, NUL-terminated; free() it. */
static char *render(render_fn fn, const struct snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, s);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	return buf;
}

/* The line of text that starts with prefix, or NULL. */
static const char *find_line(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		if (!strncmp(l, prefix, n))
			return l;
		if (!strchr(l, '\n'))
			break;
	}
	return NULL;
}

static bool has_line(const char *text, const char *line)
{
	const char *l = find_line(text, line);

	return l && l[strlen(line)] == '\n';
}

static void assert_has_line(const char *text, const char *line)
{
	if (!has_line(text, line))
		fail_msg("missing line '%s' in:\n%s", line, text);
}

/* Printable ASCII and newlines only, each line without trailing blanks. */
static void assert_clean_text(const char *text)
{
	for (const char *c = text; *c; c++) {
		if (*c == '\n') {
			if (c > text && c[-1] == ' ')
				fail_msg("trailing blank before offset %zu",
					 (size_t)(c - text));
			continue;
		}
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			fail_msg("byte 0x%02x at offset %zu",
				 (unsigned char)*c, (size_t)(c - text));
	}
	assert_true(*text && text[strlen(text) - 1] == '\n');
}

/* ---- a strict JSON validator ---- */

struct jp {
	const char *p;
	int depth;
};

static bool j_value(struct jp *j);

static void j_ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
	       *j->p == '\r')
		j->p++;
}

static bool j_lit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(j->p, lit, n))
		return false;
	j->p += n;
	return true;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool j_string(struct jp *j)
{
	if (*j->p++ != '"')
		return false;
	for (;;) {
		unsigned char c = (unsigned char)*j->p++;

		if (c == '"')
			return true;
		if (c < 0x20)		/* also the end of the text */
			return false;
		if (c != '\\')
			continue;
		c = (unsigned char)*j->p++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++)
				if (!is_hex(*j->p++))
					return false;
		} else if (!c || !strchr("\"\\/bfnrt", c)) {
			return false;
		}
	}
}

/* Only what show.c writes: unsigned integers without leading zeros. */
static bool j_number(struct jp *j)
{
	if (*j->p == '0') {
		j->p++;
	} else if (*j->p >= '1' && *j->p <= '9') {
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	} else {
		return false;
	}
	return !(*j->p == '.' || *j->p == 'e' || *j->p == 'E' ||
		 (*j->p >= '0' && *j->p <= '9'));
}

/* Members or elements up to close; key: object members. */
static bool j_list(struct jp *j, char close, bool key)
{
	j->p++;
	j_ws(j);
	if (*j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		j_ws(j);
		if (key) {
			if (!j_string(j))
				return false;
			j_ws(j);
			if (*j->p++ != ':')
				return false;
		}
		if (!j_value(j))
			return false;
		j_ws(j);
		if (*j->p == close) {
			j->p++;
			return true;
		}
		if (*j->p++ != ',')
			return false;
	}
}

static bool j_value(struct jp *j)
{
	bool ok;

	j_ws(j);
	switch (*j->p) {
	case '{':
	case '[':
		if (++j->depth > 32)
			return false;
		ok = j_list(j, *j->p == '{' ? '}' : ']', *j->p == '{');
		j->depth--;
		return ok;
	case '"':
		return j_string(j);
	case 't':
		return j_lit(j, "true");
	case 'f':
		return j_lit(j, "false");
	case 'n':
		return j_lit(j, "null");
	default:
		return j_number(j);
	}
}

/* One JSON object and a newline, nothing else. */
static void assert_json(const char *text)
{
	struct jp j = { .p = text };

	assert_int_equal(*text, '{');
	if (!j_value(&j))
		fail_msg("bad JSON at offset %zu: '%.40s'",
			 (size_t)(j.p - text), j.p);
	assert_string_equal(j.p, "\n");
}

static void test_validator(void **state)
{
	static const char *const good[] = {
		"{}\n", "{\"a\":[1,0,{\"b\":\"\\u0041\\n\"}],\"c\":true}\n",
		"{ \"a\" : [ ] , \"b\" : null }\n",
	};
	static const char *const bad[] = {
		"{\n", "{}", "{} x\n", "{\"a\":01}\n", "{\"a\":-1}\n",
		"{\"a\":1.5}\n", "{\"a\":[1,]}\n", "{\"a\"}\n", "{a:1}\n",
		"{\"a\":\"\t\"}\n", "{\"a\":\"\\x\"}\n", "{\"a\":tru}\n",
		"{\"a\":1,}\n", "{\"a\":\"x}\n",
	};
	struct jp j;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_json(good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = (struct jp){ .p = bad[i] };
		if (j_value(&j) && !strcmp(j.p, "\n"))
			fail_msg("validator accepts '%s'", bad[i]);
	}
}

/* ---- JSON schema, with Python ---- */

static const char schema_py[] =
"import json, sys\n"
"mode, path = sys.argv[1], sys.argv[2]\n"
"idx = {}\n"
"for kv in sys.argv[3].split(','):\n"
"    k, v = kv.split('=')\n"
"    idx[k] = int(v)\n"
"names = list(idx)\n"
"def nodup(pairs):\n"
"    keys = [k for k, _ in pairs]\n"
"    assert len(keys) == len(set(keys)), keys\n"
"    return dict(pairs)\n"
"with open(path) as f:\n"
"    doc = json.load(f, object_pairs_hook=nodup)\n"
"S = 'S'\n"
"BUF = {'queued': 'u', 'queued_peak': 'u', 'reserved': 'u', 'max': 'u',\n"
"       'short_windows': 'u'}\n"
"FLOW = {'id': 'u', 'local': 's', 'remote': 's', 'idle_ms': 'u', 'stats': S,\n"
"        'origin': 's'}\n"
"STREAM = {'id': 'u', 'service': 's', 'proto': 's', 'addr': 's',\n"
"          'state': 's', 'reason': 's', 'unordered': 'b',\n"
"          'key_generation': 'u', 'rekeys': 'u', 'principal': 's', 'nflows': 'u',\n"
"          'stats': S, 'flows': [FLOW]}\n"
"CARRIER = {'peer': 's', 'incoming': 'b', 'transport': 's',\n"
"           'transport_why': 's', 'paths': 's', 'abandoned': 'u',\n"
"           'datapath': 's', 'state': 's', 'local': 's', 'remote': 's',\n"
"           'peer_node': 's', 'principal': 's', 'kernel_id': 'u', 'up_ms': 'u',\n"
"           'reconnects': 'u', 'next_try_ms': 'u', 'last_error': 's',\n"
"           'pings_missed': 'u', 'marks_ignored': 'u', 'stats': S,\n"
"           'streams': [STREAM],\n"
"           'tcp_buffers': BUF}\n"
"SHOW = {'version': 's', 'datapath': 's', 'kernel_available': 'b',\n"
"        'plaintext': 'b', 'identity': 's', 'uptime_ms': 'u',\n"
"        'listens': ['s'], 'accepts': 's',\n"
"        'peers': [{'name': 's', 'host': 's', 'carrier': 's',\n"
"                   'principal': 's', 'addresses': ['s'],\n"
"                   'udp_port': 'u'}],\n"
"        'services': [{'name': 's', 'proto': 's', 'target': 's',\n"
"                      'allow': 's', 'identity': 's', 'opens': 'u',\n"
"                      'refusals': 'u', 'proxy': 's', 'plugin': 's',\n"
"                      'last_refusal': 's', 'relay': 's',\n"
"                      'relayed_frames': 'u', 'relay_drops': 'u'}],\n"
"        'maps': [{'proto': 's', 'addr': 's', 'peer': 's',\n"
"                  'service': 's', 'identity': 's', 'principal': 's',\n"
"                  'plugin': 's', 'stream': 'u', 'state': 's',\n"
"                  'reason': 's'}],\n"
"        'carriers': [CARRIER], 'schema_version': 'u', 'tcp_buffers': BUF}\n"
"STATS = {'daemon': {'carriers-refused-handshakes': 'u',\n"
"                    'carriers-refused-address': 'u',\n"
"                    'carriers-refused-principal': 'u',\n"
"                    'streams-refused-principal': 'u'},\n"
"         'carriers': [{'peer': 's', 'incoming': 'b', 'remote': 's',\n"
"                       'stats': S, 'streams': [{'id': 'u',\n"
"                       'service': 's', 'stats': S}], 'tcp_buffers': BUF}],\n"
"         'peers': [{'name': 's', 'stats': S}],\n"
"         'maps': [{'proto': 's', 'addr': 's', 'peer': 's',\n"
"                   'service': 's', 'stats': S}], 'tcp_buffers': BUF}\n"
"def check(v, sch, at):\n"
"    if isinstance(sch, dict):\n"
"        assert isinstance(v, dict) and sorted(v) == sorted(sch), (at, v)\n"
"        for k in sch:\n"
"            check(v[k], sch[k], at + '.' + k)\n"
"    elif isinstance(sch, list):\n"
"        assert isinstance(v, list), at\n"
"        for i, x in enumerate(v):\n"
"            check(x, sch[0], '%s[%d]' % (at, i))\n"
"    elif sch == 's':\n"
"        assert type(v) is str, at\n"
"    elif sch == 'b':\n"
"        assert type(v) is bool, at\n"
"    elif sch == 'u':\n"
"        assert type(v) is int and v >= 0, at\n"
"    else:\n"
"        assert isinstance(v, dict) and list(v) == names, (at, v)\n"
"        for k in v:\n"
"            check(v[k], 'u', at + '.' + k)\n"
"def vals(f):\n"
"    return {k: f(idx[k]) for k in names}\n"
"s1 = vals(lambda i: 100 * i + 1)\n"
"s4 = vals(lambda i: 10 * i + 3)\n"
"s2 = vals(lambda i: 1000 * i + 7)\n"
"zero = vals(lambda i: 0)\n"
"node = 'gw\"2\\\\x\\nnode'\n"
"if mode.startswith('show'):\n"
"    check(doc, SHOW, 'show')\n"
"else:\n"
"    check(doc, STATS, 'stats')\n"
"if mode == 'show-fixture':\n"
"    assert doc['version'] == '0.1.0' and doc['datapath'] == 'auto'\n"
"    assert doc['schema_version'] == 9\n"
"    assert doc['tcp_buffers'] == {'queued': 65537, 'queued_peak': 2097152,\n"
"        'reserved': 4259840, 'max': 4294967296, 'short_windows': 3}\n"
"    assert doc['kernel_available'] is True and doc['plaintext'] is True\n"
"    assert doc['uptime_ms'] == 3723004\n"
"    assert doc['listens'] == ['0.0.0.0:9899', '[::]:9899']\n"
"    assert [p['name'] for p in doc['peers']] == ['hoster', 'backup']\n"
"    assert doc['peers'][1]['principal'] == ''\n"
"    assert doc['peers'][0]['addresses'] == ['192.0.2.1:9899', '198.51.100.1:9899']\n"
"    assert doc['peers'][0]['host'] == '192.0.2.1:9899'\n"
"    assert doc['peers'][1]['addresses'] == ['[fd00::2]:9899']\n"
"    assert doc['peers'][0]['udp_port'] == 9900 and doc['peers'][1]['udp_port'] == 0\n"
"    assert doc['services'][0]['allow'] == 'alice@R,bob@R'\n"
"    assert doc['services'][0]['opens'] == 3\n"
"    assert doc['services'][0]['proxy'] == ''\n"
"    assert doc['services'][1]['proxy'] == 'v2'\n"
"    assert doc['services'][0]['identity'] == 'dns/gw1@EXAMPLE.COM'\n"
"    assert doc['services'][1]['identity'] == ''\n"
"    assert doc['services'][0]['plugin'] == ''\n"
"    assert doc['services'][1]['plugin'] == 'ldap'\n"
"    assert doc['services'][0]['last_refusal'].startswith('internal-error: service dns (identity dns/gw1@EXAMPLE.COM): keytab /etc/funnel/dns.keytab: ')\n"
"    assert doc['services'][1]['last_refusal'] == ''\n"
"    assert doc['services'][0]['relay'] == '' and doc['services'][0]['relayed_frames'] == 0\n"
"    assert doc['services'][2]['relay'] == 'hoster/dns' and doc['services'][2]['target'] == ''\n"
"    assert doc['services'][2]['relayed_frames'] == 40 and doc['services'][2]['relay_drops'] == 1\n"
"    m = doc['maps']\n"
"    assert m[0]['principal'] == 'dns/hoster@EXAMPLE.COM'\n"
"    assert m[0]['identity'] == '' and m[1]['principal'] == ''\n"
"    assert m[2]['identity'] == 'carol@EXAMPLE.COM'\n"
"    assert m[0]['plugin'] == '' and m[1]['plugin'] == 'ldap'\n"
"    assert m[1]['reason'] == 'no service \"web\" at\\tpeer \\\\ here', m[1]\n"
"    assert m[0]['stream'] == 1 and m[1]['stream'] == 0\n"
"    c = doc['carriers']\n"
"    assert len(c) == 3\n"
"    assert c[0]['peer'] == 'hoster' and c[0]['incoming'] is False\n"
"    assert c[0]['kernel_id'] == 7 and c[0]['reconnects'] == 2\n"
"    assert c[0]['stats']['rx-frames'] == 120\n"
"    assert c[0]['stats']['rx-drop-malformed'] == 1\n"
"    assert c[0]['stats']['rx-abandoned'] == 2\n"
"    assert c[0]['stats']['tx-deferred'] == 3\n"
"    st = c[0]['streams'][0]\n"
"    assert st['id'] == 1 and st['nflows'] == 2 and st['stats'] == s1\n"
"    assert [f['id'] for f in st['flows']] == [1, 2]\n"
"    assert st['flows'][0]['idle_ms'] == 1200\n"
"    assert st['flows'][0]['stats'] == vals(lambda i: i)\n"
"    assert st['flows'][0]['origin'] == ''\n"
"    assert c[1]['streams'][0]['flows'][0]['origin'] == '192.0.2.7:51234'\n"
"    assert c[0]['streams'][1]['reason'] == 'peer reset'\n"
"    assert c[1]['peer'] == '' and c[1]['incoming'] is True\n"
"    assert c[1]['peer_node'] == node, c[1]['peer_node']\n"
"    assert c[0]['marks_ignored'] == 0 and c[1]['marks_ignored'] == 4\n"
"    assert c[1]['streams'][0]['unordered'] is True\n"
"    assert c[1]['streams'][0]['key_generation'] == 3\n"
"    assert c[1]['streams'][0]['principal'] == 'alice@FUNNEL.TEST'\n"
"    assert c[0]['principal'] == 'funnel/hoster@FUNNEL.TEST'\n"
"    assert c[1]['streams'][0]['stats'] == s2\n"
"    assert c[2]['transport'] == '' and c[2]['local'] == ''\n"
"    assert c[2]['next_try_ms'] == 2500 and c[2]['pings_missed'] == 3\n"
"    assert c[2]['last_error'] == 'connect: Connection refused'\n"
"    assert c[2]['streams'] == []\n"
"    assert c[0]['tcp_buffers'] == {'queued': 65536, 'queued_peak': 1048576,\n"
"        'reserved': 4194304, 'max': 1073741824, 'short_windows': 2}\n"
"    assert c[1]['tcp_buffers']['max'] == 0\n"
"elif mode == 'stats-fixture':\n"
"    assert doc['daemon'] == {'carriers-refused-handshakes': 1,\n"
"                             'carriers-refused-address': 2,\n"
"                             'carriers-refused-principal': 3,\n"
"                             'streams-refused-principal': 4}, doc['daemon']\n"
"    c = doc['carriers']\n"
"    assert [x['peer'] for x in c] == ['hoster', node, 'backup'], c\n"
"    assert [x['incoming'] for x in c] == [False, True, False]\n"
"    assert c[1]['remote'] == '192.0.2.5:41000'\n"
"    assert c[0]['streams'][0] == {'id': 1, 'service': 'dns', 'stats': s1}\n"
"    assert c[1]['streams'][0]['stats'] == s2\n"
"    assert c[0]['tcp_buffers']['short_windows'] == 2\n"
"    assert doc['tcp_buffers']['queued_peak'] == 2097152\n"
"    p = {x['name']: x['stats'] for x in doc['peers']}\n"
"    assert p['hoster'] == {k: s1[k] + s4[k] for k in names}, p\n"
"    assert p['backup'] == zero\n"
"    m = doc['maps']\n"
"    assert [x['addr'] for x in m] == ['127.0.0.1:5300', '[::1]:8080',\n"
"                                      '127.0.0.1:5301', '127.0.0.1:5302']\n"
"    assert m[0]['stats'] == s1\n"
"    assert m[1]['stats'] == zero and m[2]['stats'] == zero\n"
"    assert m[3]['stats'] == zero\n";

/*
 * Check the JSON text against the schema (mode "show" or "stats") and,
 * for the test snapshot (mode "...-fixture"), its values, with Python.
 */
static void python_check(const char *mode, const char *json)
{
	char path[] = "/tmp/test_show.XXXXXX";
	char names[1024] = "", cmd[2048];
	size_t o = 0;
	FILE *p;
	int fd, status;

	if (access(PYTHON, X_OK))
		skip();
	for (unsigned int i = 0; i < FSTATS_N; i++)
		if (fstats_name(i))
			o += (size_t)snprintf(names + o, sizeof(names) - o,
					      "%s%s=%u", o ? "," : "",
					      fstats_name(i), i);
	assert_true(o < sizeof(names));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	snprintf(cmd, sizeof(cmd), PYTHON " - %s %s %s", mode, path, names);
	p = popen(cmd, "w");
	assert_non_null(p);
	fputs(schema_py, p);
	status = pclose(p);
	unlink(path);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("python check '%s' failed (status %d) on:\n%s", mode,
			 status, json);
}

/* ---- Prometheus text exposition format 0.0.4 ---- */

#define PROM_FAMILIES	256
#define PROM_SAMPLES	4096

struct prom {
	char fam[PROM_FAMILIES][128];
	bool help[PROM_FAMILIES], type[PROM_FAMILIES];
	int nfam;
	int cur;			/* family of the last HELP, or -1 */
	char *series[PROM_SAMPLES];	/* "name{labels}", to find doubles */
	int nseries;
};

static bool is_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == ':' || (!first && c >= '0' && c <= '9');
}

/* A metric or label name at *p (label: no ':'); its length, 0 if none. */
static size_t prom_name(const char *p, bool label)
{
	size_t n = 0;

	while (is_name_char(p[n], !n) && !(label && p[n] == ':'))
		n++;
	return n;
}

static int prom_family_index(struct prom *pr, const char *name, size_t len)
{
	for (int i = 0; i < pr->nfam; i++)
		if (strlen(pr->fam[i]) == len && !strncmp(pr->fam[i], name, len))
			return i;
	return -1;
}

/* "# HELP name text" or "# TYPE name type" */
static void prom_comment(struct prom *pr, const char *l, size_t len)
{
	bool help = !strncmp(l, "# HELP ", 7);
	size_t n;
	int i;

	if (!help && strncmp(l, "# TYPE ", 7))
		fail_msg("stray comment '%.*s'", (int)len, l);
	n = prom_name(l + 7, false);
	assert_true(n > 0 && n < 128 && l[7 + n] == ' ' && 8 + n < len);
	i = prom_family_index(pr, l + 7, n);
	if (help) {
		if (i >= 0)
			fail_msg("second HELP of '%.*s'", (int)n, l + 7);
		assert_true(pr->nfam < PROM_FAMILIES);
		i = pr->nfam++;
		memcpy(pr->fam[i], l + 7, n);
		pr->fam[i][n] = '\0';
		pr->help[i] = true;
		pr->cur = i;
		return;
	}
	if (i < 0 || i != pr->cur || pr->type[i])
		fail_msg("TYPE not right after the one HELP: '%.*s'", (int)len, l);
	pr->type[i] = true;
	if (strncmp(l + 8 + n, "counter", len - 8 - n) &&
	    strncmp(l + 8 + n, "gauge", len - 8 - n))
		fail_msg("bad type in '%.*s'", (int)len, l);
}

/* {name="value",...}: returns the length, fails on bad syntax. */
static size_t prom_labels(const char *l, size_t len)
{
	char names[16][64];
	int nnames = 0;
	size_t i = 1, n;

	assert_int_equal(l[0], '{');
	while (i < len && l[i] != '}') {
		if (nnames)
			assert_int_equal(l[i++], ',');
		n = prom_name(l + i, true);
		assert_true(n > 0 && n < 64 && nnames < 16);
		for (int k = 0; k < nnames; k++)
			if (strlen(names[k]) == n && !strncmp(names[k], l + i, n))
				fail_msg("label twice in '%.*s'", (int)len, l);
		memcpy(names[nnames], l + i, n);
		names[nnames++][n] = '\0';
		i += n;
		assert_true(l[i] == '=' && l[i + 1] == '"');
		for (i += 2; i < len && l[i] != '"'; i++)
			if (l[i] == '\\' && !strchr("\\\"n", l[++i]))
				fail_msg("bad escape in '%.*s'", (int)len, l);
		assert_true(i < len);
		i++;		/* the closing quote */
	}
	assert_true(i < len);
	return i + 1;
}

/* name{labels} value */
static void prom_sample(struct prom *pr, const char *l, size_t len)
{
	size_t n = prom_name(l, false), lab;

	if (!n)
		fail_msg("bad sample line '%.*s'", (int)len, l);
	if (pr->cur < 0 || strlen(pr->fam[pr->cur]) != n ||
	    strncmp(pr->fam[pr->cur], l, n) || !pr->type[pr->cur])
		fail_msg("sample outside its family: '%.*s'", (int)len, l);
	lab = l[n] == '{' ? prom_labels(l + n, len - n) : 0;
	assert_true(n + lab + 1 < len && l[n + lab] == ' ');
	for (size_t i = n + lab + 1; i < len; i++)
		if (l[i] < '0' || l[i] > '9')
			fail_msg("bad value in '%.*s'", (int)len, l);
	assert_true(pr->nseries < PROM_SAMPLES);
	pr->series[pr->nseries] = strndup(l, n + lab);
	assert_non_null(pr->series[pr->nseries]);
	pr->nseries++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Checks text; returns the number of families. */
static int assert_prometheus(const char *text)
{
	static struct prom pr;
	const char *l = text, *nl;
	int nfam;

	memset(&pr, 0, sizeof(pr));
	pr.cur = -1;
	assert_true(*text && text[strlen(text) - 1] == '\n');
	for (; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		if (nl == l)
			fail_msg("empty line");
		if (*l == '#')
			prom_comment(&pr, l, (size_t)(nl - l));
		else
			prom_sample(&pr, l, (size_t)(nl - l));
	}
	for (int i = 0; i < pr.nfam; i++)
		assert_true(pr.help[i] && pr.type[i]);
	qsort(pr.series, (size_t)pr.nseries, sizeof(pr.series[0]), cmp_str);
	for (int i = 0; i < pr.nseries; i++) {
		if (i && !strcmp(pr.series[i - 1], pr.series[i]))
			fail_msg("series twice: %s", pr.series[i]);
	}
	for (int i = 0; i < pr.nseries; i++)
		free(pr.series[i]);
	nfam = pr.nfam;
	return nfam;
}

static void test_prom_validator(void **state)
{
	char *t;

	(void)state;
	t = strdup("# HELP a_total x\n# TYPE a_total counter\n"
		   "a_total{x=\"a\\\"b\\\\c\\nd\",y=\"\"} 1\na_total 2\n");
	assert_int_equal(assert_prometheus(t), 1);
	free(t);
}

static unsigned int n_named(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < FSTATS_N; i++)
		n += fstats_name(i) != NULL;
	return n;
}

/* "funnel_<what>_<counter with underscores>_total" */
static void metric(char *buf, size_t len, const char *what, unsigned int i)
{
	int o = snprintf(buf, len, "funnel_%s_%s_total", what, fstats_name(i));

	assert_true(o > 0 && (size_t)o < len);
	for (char *c = buf; *c; c++)
		if (*c == '-')
			*c = '_';
}

static void assert_prom_line(const char *text, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(line));
	assert_has_line(text, line);
}

#define L_HOSTER	"peer=\"hoster\",direction=\"out\",remote=\"192.0.2.1:9899\""
#define L_NODE		"peer=\"gw\\\"2\\\\x\\nnode\",direction=\"in\",remote=\"192.0.2.5:41000\""
#define L_BACKUP	"peer=\"backup\",direction=\"out\",remote=\"[fd00::2]:9899\""
#define L_MAP0		"peer=\"hoster\",service=\"dns\",proto=\"udp\",addr=\"127.0.0.1:5300\""
#define L_MAP1		"peer=\"hoster\",service=\"web\",proto=\"tcp\",addr=\"[::1]:8080\""
#define L_MAP2		"peer=\"backup\",service=\"dns\",proto=\"udp\",addr=\"127.0.0.1:5301\""
#define L_MAP3		"peer=\"hoster\",service=\"ntp\",proto=\"udp\",addr=\"127.0.0.1:5302\""

/* The counter families of stat i have the expected values. */
static void check_prom_counters(const char *t, unsigned int i)
{
	char m[128];
	uint64_t s1 = streams0[0].st.v[i], s4 = streams0[1].st.v[i];

	metric(m, sizeof(m), "carrier", i);
	assert_prom_line(t, "%s{" L_HOSTER "} %" PRIu64, m, carriers[0].st.v[i]);
	assert_prom_line(t, "%s{" L_NODE "} 0", m);
	metric(m, sizeof(m), "stream", i);
	assert_prom_line(t, "%s{" L_HOSTER ",stream=\"1\",service=\"dns\"} %" PRIu64,
			 m, s1);
	assert_prom_line(t, "%s{" L_HOSTER ",stream=\"4\",service=\"web\"} %" PRIu64,
			 m, s4);
	assert_prom_line(t, "%s{" L_NODE ",stream=\"2\",service=\"ntp\"} %" PRIu64,
			 m, streams1[0].st.v[i]);
	metric(m, sizeof(m), "peer", i);
	assert_prom_line(t, "%s{peer=\"hoster\"} %" PRIu64, m, s1 + s4);
	assert_prom_line(t, "%s{peer=\"backup\"} 0", m);
	metric(m, sizeof(m), "map", i);
	assert_prom_line(t, "%s{" L_MAP0 "} %" PRIu64, m, s1);
	assert_prom_line(t, "%s{" L_MAP1 "} 0", m);
	assert_prom_line(t, "%s{" L_MAP2 "} 0", m);
	assert_prom_line(t, "%s{" L_MAP3 "} 0", m);
}

static void test_prometheus(void **state)
{
	char *t = render(stats_prometheus, &snap);

	(void)state;
	/* info, carriers and streams refused, carrier up and reconnects,
	 * stream flows, map open; the TCP buffers of the daemon and of the
	 * carriers (5 each)
	 */
	assert_int_equal(assert_prometheus(t), 17 + 4 * (int)n_named());
	assert_has_line(t, "# TYPE funnel_tcp_queued_bytes gauge");
	assert_has_line(t, "funnel_tcp_queued_bytes 65537");
	assert_has_line(t, "funnel_tcp_buffer_max_bytes 4294967296");
	assert_has_line(t, "# TYPE funnel_tcp_short_windows_total counter");
	assert_has_line(t, "funnel_tcp_short_windows_total 3");
	assert_has_line(t, "funnel_carrier_tcp_queued_peak_bytes{" L_HOSTER "} 1048576");
	assert_has_line(t, "funnel_carrier_tcp_reserved_bytes{" L_HOSTER "} 4194304");
	assert_has_line(t, "funnel_carrier_tcp_short_windows_total{" L_HOSTER "} 2");
	assert_has_line(t, "funnel_carrier_tcp_queued_bytes{" L_BACKUP "} 0");
	assert_has_line(t, "# TYPE funnel_carriers_refused_total counter");
	assert_has_line(t, "funnel_carriers_refused_total{reason=\"handshakes\"} 1");
	assert_has_line(t, "funnel_carriers_refused_total{reason=\"address\"} 2");
	assert_has_line(t, "funnel_carriers_refused_total{reason=\"principal\"} 3");
	assert_has_line(t, "funnel_streams_refused_principal_total 4");
	assert_has_line(t, "# TYPE funnel_info gauge");
	assert_has_line(t, "funnel_info{version=\"0.1.0\",datapath=\"auto\"} 1");
	assert_has_line(t, "funnel_carrier_up{" L_HOSTER "} 1");
	assert_has_line(t, "funnel_carrier_up{" L_NODE "} 1");
	assert_has_line(t, "funnel_carrier_up{" L_BACKUP "} 0");
	assert_has_line(t, "# TYPE funnel_carrier_reconnects_total counter");
	assert_has_line(t, "funnel_carrier_reconnects_total{" L_BACKUP "} 5");
	assert_has_line(t, "# TYPE funnel_carrier_rx_drop_malformed_total counter");
	assert_has_line(t, "funnel_carrier_rx_drop_malformed_total{" L_HOSTER "} 1");
	assert_has_line(t, "# TYPE funnel_carrier_rx_abandoned_total counter");
	assert_has_line(t, "funnel_carrier_rx_abandoned_total{" L_HOSTER "} 2");
	assert_has_line(t, "# TYPE funnel_carrier_tx_deferred_total counter");
	assert_has_line(t, "funnel_carrier_tx_deferred_total{" L_HOSTER "} 3");
	assert_has_line(t, "# TYPE funnel_stream_flows gauge");
	assert_has_line(t, "funnel_stream_flows{" L_HOSTER ",stream=\"1\",service=\"dns\"} 2");
	assert_has_line(t, "funnel_stream_flows{" L_NODE ",stream=\"2\",service=\"ntp\"} 1");
	assert_has_line(t, "funnel_map_open{" L_MAP0 "} 1");
	assert_has_line(t, "funnel_map_open{" L_MAP1 "} 0");
	assert_has_line(t, "funnel_map_open{" L_MAP3 "} 0");
	for (unsigned int i = 0; i < FSTATS_N; i++)
		if (fstats_name(i))
			check_prom_counters(t, i);
	free(t);
}

/* ---- the tests ---- */

static void test_show_json(void **state)
{
	char *t = render(show_json, &snap);

	(void)state;
	assert_json(t);
	assert_non_null(strstr(t, "\"plaintext\":true"));
	assert_non_null(strstr(t, "\"peer_node\":\"gw\\\"2\\\\x\\nnode\""));
	assert_non_null(strstr(t, "\"reason\":\"no service \\\"web\\\" at\\tpeer \\\\ here\""));
	assert_non_null(strstr(t, "\"transport\":\"\""));
	assert_non_null(strstr(t, "\"listens\":[\"0.0.0.0:9899\",\"[::]:9899\"]"));
	assert_non_null(strstr(t, "\"rx-drop-malformed\":1,"));
	assert_non_null(strstr(t, "\"flows-evicted\":0,\"rx-abandoned\":2,\"tx-deferred\":3}"));
	free(t);
}

static void test_show_json_schema(void **state)
{
	char *t = render(show_json, &snap);

	(void)state;
	python_check("show-fixture", t);
	free(t);
}

static void test_stats_json(void **state)
{
	char *t = render(stats_json, &snap);

	(void)state;
	assert_json(t);
	assert_non_null(strstr(t, "{\"daemon\":{\"carriers-refused-handshakes\":1,\"carriers-refused-address\":2,\"carriers-refused-principal\":3,\"streams-refused-principal\":4},\"carriers\":[{\"peer\":\"hoster\","));
	free(t);
}

static void test_stats_json_schema(void **state)
{
	char *t = render(stats_json, &snap);

	(void)state;
	python_check("stats-fixture", t);
	free(t);
}

static void test_stats_text(void **state)
{
	char *t = render(stats_text, &snap);
	/* carriers 3 + streams 3 + peers 2 + maps 4, and 4 of the daemon;
	 * the TCP buffers (5 lines) of the daemon and of 3 carriers
	 */
	unsigned int lines = 0, objects = 12, daemon = 4, buffers = 4 * 5;
	char line[256];

	(void)state;
	assert_clean_text(t);
	for (const char *c = t; *c; c++)
		lines += *c == '\n';
	assert_int_equal(lines, daemon + buffers + objects * n_named());
	assert_has_line(t, "daemon tcp-queued 65537");
	assert_has_line(t, "daemon tcp-short-windows 3");
	assert_has_line(t, "carrier peer=hoster tcp-reserved 4194304");
	assert_has_line(t, "carrier peer=hoster tcp-buffer-max 1073741824");
	assert_has_line(t, "carrier peer=backup tcp-queued-peak 0");
	assert_has_line(t, "daemon carriers-refused-handshakes 1");
	assert_has_line(t, "daemon carriers-refused-address 2");
	assert_has_line(t, "daemon carriers-refused-principal 3");
	assert_has_line(t, "daemon streams-refused-principal 4");
	assert_has_line(t, "carrier peer=hoster rx-frames 120");
	assert_has_line(t, "carrier peer=hoster tx-deferred 3");
	snprintf(line, sizeof(line),
		 "carrier peer=hoster stream=1 service=dns rx-frames %" PRIu64,
		 FST(&streams0[0].st, RX_FRAMES));
	assert_has_line(t, line);
	snprintf(line, sizeof(line),
		 "carrier incoming peer=gw\"2\\x5cx\\x0anode remote=192.0.2.5:41000 stream=2 service=ntp tx-bytes %" PRIu64,
		 FST(&streams1[0].st, TX_BYTES));
	assert_has_line(t, line);
	assert_has_line(t, "carrier peer=backup flows-created 0");
	snprintf(line, sizeof(line), "peer name=hoster rx-bytes %" PRIu64,
		 FST(&streams0[0].st, RX_BYTES) + FST(&streams0[1].st, RX_BYTES));
	assert_has_line(t, line);
	snprintf(line, sizeof(line),
		 "map proto=udp addr=127.0.0.1:5300 peer=hoster service=dns flow-drop-limit %" PRIu64,
		 FST(&streams0[0].st, FLOW_DROP_LIMIT));
	assert_has_line(t, line);
	assert_has_line(t, "map proto=udp addr=127.0.0.1:5302 peer=hoster service=ntp rx-frames 0");
	free(t);
}

/* In the table under title, the column heading col starts where cell does. */
static void assert_aligned(const char *t, const char *title, const char *col,
			   const char *row, const char *cell)
{
	const char *h = find_line(t, title), *r;
	const char *hc, *rc;

	assert_non_null(h);
	h = strchr(h, '\n') + 1;
	r = find_line(h, row);
	assert_non_null(r);
	hc = strstr(h, col);
	rc = strstr(r, cell);
	assert_non_null(hc);
	assert_non_null(rc);
	assert_int_equal(hc - h, rc - r);
}

static void test_show_text(void **state)
{
	char *t = render(show_text, &snap);

	(void)state;
	assert_clean_text(t);
	assert_has_line(t, "funneld 0.1.0, datapath auto (funnel.ko available), up 1h02m03s, PLAINTEXT: carriers are neither authenticated nor encrypted");
	assert_has_line(t, "identity: host/gw1.example.com@EXAMPLE.COM");
	assert_has_line(t, "listen: 0.0.0.0:9899, [::]:9899");
	assert_has_line(t, "tcp buffers: queued 65537 bytes (peak 2097152), windows 4259840 of 4294967296 bytes, 3 short");
	assert_has_line(t, "peers:");
	assert_aligned(t, "peers:", "CARRIER", "  backup", "tcp");
	/* every address of a multihomed peer; its udp-port, "-" without */
	assert_aligned(t, "peers:", "HOST", "  hoster",
		       "192.0.2.1:9899,198.51.100.1:9899");
	assert_aligned(t, "peers:", "UDP PORT", "  hoster", "9900");
	assert_aligned(t, "peers:", "UDP PORT", "  backup", "-");
	assert_aligned(t, "services:", "ALLOW", "  dns", "alice@R");
	assert_aligned(t, "services:", "PROXY", "  web", "v2");
	assert_aligned(t, "services:", "PROXY", "  dns", "-");
	/* the plugin clause, where a row has one */
	assert_aligned(t, "services:", "PLUGIN", "  web", "ldap");
	assert_aligned(t, "services:", "PLUGIN", "  dns", "-       alice@R");
	assert_aligned(t, "maps:", "PLUGIN", "  tcp", "ldap");
	assert_aligned(t, "maps:", "PLUGIN", "  udp    127.0.0.1:5300", "-");
	assert_aligned(t, "maps:", "STATE", "  tcp", "refused");
	assert_aligned(t, "maps:", "REASON", "  tcp", "no service");
	/* the identity and principal clauses, where a row has one */
	assert_aligned(t, "services:", "IDENTITY", "  dns", "dns/gw1@EXAMPLE.COM");
	/* the last refusal with its detail, where a service has one */
	assert_aligned(t, "services:", "LAST REFUSAL", "  dns",
		       "internal-error: service dns (identity dns/gw1@EXAMPLE.COM): keytab /etc/funnel/dns.keytab: No such file or directory");
	assert_aligned(t, "maps:", "PRINCIPAL", "  udp    127.0.0.1:5300",
		       "dns/hoster@EXAMPLE.COM");
	assert_aligned(t, "maps:", "IDENTITY", "  udp    127.0.0.1:5301",
		       "carol@EXAMPLE.COM");
	assert_aligned(t, "maps:", "STATE", "  udp    127.0.0.1:5301",
		       "waiting");
	assert_has_line(t, "carrier hoster: up, tcp 10.0.0.1:40000 -> 192.0.2.1:9899, datapath kernel (id 7)");
	assert_has_line(t, "  node hoster.example.com, peer funnel/hoster@FUNNEL.TEST, up 1m00s, reconnects 2, tcp buffers: queued 65536 (peak 1048576), windows 4194304 of 1073741824, 2 short");
	assert_has_line(t, "  rx 120 frames 0 bytes, tx 0 frames 0 bytes");
	/* rx-abandoned, not a "drop" by name, is listed with them;
	 * tx-deferred (3) is not a drop: not on the line
	 */
	assert_has_line(t, "  drops: rx-drop-malformed 1, rx-abandoned 2");
	assert_has_line(t, "  stream 1 dns udp 127.0.0.1:5300: open, 2 flows");
	assert_has_line(t, "    flow 1 127.0.0.1:40001 -> 127.0.0.1:5300: idle 1.2s, rx 2 frames 3 bytes, tx 4 frames 5 bytes");
	assert_has_line(t, "    flow 2 127.0.0.1:40002 -> 127.0.0.1:5300: idle 1m01s, rx 0 frames 0 bytes, tx 0 frames 0 bytes");
	assert_has_line(t, "  stream 4 web tcp [::1]:8080: closed (peer reset), 0 flows");
	assert_has_line(t, "carrier incoming from gw\"2\\x\\x0anode: up, tcp 192.0.2.10:9899 -> 192.0.2.5:41000, datapath user");
	assert_has_line(t, "  up 999ms, reconnects 0, marks ignored 4");
	assert_has_line(t, "  stream 2 ntp udp 127.0.0.1:123: open, unordered, sealed by alice@FUNNEL.TEST, key generation 3, rekeys 2, 1 flow");
	assert_has_line(t, "    flow 9 127.0.0.1:33000 -> 127.0.0.1:123 from 192.0.2.7:51234: idle 5ms, rx 0 frames 0 bytes, tx 0 frames 0 bytes");
	assert_has_line(t, "carrier backup: backoff, - -> [fd00::2]:9899, datapath user");
	assert_has_line(t, "  reconnects 5, next try in 2.5s, pings missed 3");
	assert_has_line(t, "  last error: connect: Connection refused");
	/* the drops of stream 1: every drop counter, each once */
	assert_non_null(strstr(t, "    drops: rx-drop-malformed 601, "));
	assert_null(strstr(t, "flows-created"));
	assert_null(strstr(t, "tx-deferred"));
	free(t);
}

/* A carrier, stream, map and service with NULL for every string pointer. */
static struct snap_stream nulls_stream = { .id = 1 };
static struct snap_carrier nulls_carrier = { .streams = &nulls_stream,
					     .n_streams = 1 };
static struct snap_map nulls_map = { .stream = 1 };
static struct snap_service nulls_service;
static const struct snapshot nulls_snap = {
	.carriers = &nulls_carrier, .n_carriers = 1,
	.maps = &nulls_map, .n_maps = 1,
	.services = &nulls_service, .n_services = 1,
};

/* A snapshot with nothing in it and NULL for every string pointer. */
static void test_empty(void **state)
{
	struct snapshot s = { 0 };
	char *t;

	(void)state;
	t = render(show_text, &s);
	assert_clean_text(t);
	assert_has_line(t, "funneld -, datapath - (funnel.ko not available), up 0ms");
	assert_has_line(t, "identity: none");
	assert_has_line(t, "listen: none");
	assert_has_line(t, "tcp buffers: queued 0 bytes (peak 0), windows 0 of 0 bytes");
	assert_has_line(t, "peers: none");
	assert_has_line(t, "services: none");
	assert_has_line(t, "maps: none");
	assert_has_line(t, "carriers: none");
	free(t);
	t = render(show_json, &s);
	assert_json(t);
	assert_non_null(strstr(t, "\"listens\":[],\"accepts\":\"\",\"peers\":[],\"services\":[],\"maps\":[],\"carriers\":[],\"schema_version\":9,\"tcp_buffers\":{\"queued\":0,\"queued_peak\":0,\"reserved\":0,\"max\":0,\"short_windows\":0}}"));
	free(t);
	t = render(stats_json, &s);
	assert_string_equal(t, "{\"daemon\":{\"carriers-refused-handshakes\":0,\"carriers-refused-address\":0,\"carriers-refused-principal\":0,\"streams-refused-principal\":0},\"carriers\":[],\"peers\":[],\"maps\":[],\"tcp_buffers\":{\"queued\":0,\"queued_peak\":0,\"reserved\":0,\"max\":0,\"short_windows\":0}}\n");
	free(t);
	t = render(stats_text, &s);
	assert_string_equal(t, "daemon carriers-refused-handshakes 0\n"
			       "daemon carriers-refused-address 0\n"
			       "daemon carriers-refused-principal 0\n"
			       "daemon streams-refused-principal 0\n"
			       "daemon tcp-queued 0\n"
			       "daemon tcp-queued-peak 0\n"
			       "daemon tcp-reserved 0\n"
			       "daemon tcp-buffer-max 0\n"
			       "daemon tcp-short-windows 0\n");
	free(t);
	t = render(stats_prometheus, &s);
	assert_int_equal(assert_prometheus(t), 17 + 4 * (int)n_named());
	assert_has_line(t, "funnel_info{version=\"\",datapath=\"\"} 1");
	free(t);

	/* NULL proto, state, transport ...: rendered as "" (or "-" in text) */
	s = nulls_snap;
	t = render(show_text, &s);
	assert_clean_text(t);
	/* no service or map with a plugin, an identity or a principal,
	 * no service refused: no such column
	 */
	assert_has_line(t, "  NAME  PROTO  TARGET  PROXY  ALLOW  OPENS  REFUSALS");
	assert_has_line(t, "  PROTO  ADDRESS  PEER  SERVICE  STATE  STREAM  REASON");
	free(t);
	t = render(show_json, &s);
	assert_json(t);
	free(t);
	t = render(stats_json, &s);
	assert_json(t);
	free(t);
	t = render(stats_text, &s);
	assert_clean_text(t);
	assert_has_line(t, "map proto=- addr=- peer=- service=- rx-frames 0");
	free(t);
	t = render(stats_prometheus, &s);
	assert_prometheus(t);
	assert_has_line(t, "funnel_map_open{peer=\"\",service=\"\",proto=\"\",addr=\"\"} 0");
	free(t);
}

/*
 * Peer and map counters come from outgoing carriers only, even if an
 * incoming carrier had the peer's name.
 */
static void test_incoming_not_counted(void **state)
{
	static struct snap_stream st = { .id = 1, .service = "dns" };
	static struct snap_carrier c = { .peer = "hoster", .incoming = true,
					 .peer_node = "hoster", .streams = &st,
					 .n_streams = 1 };
	static struct snap_map m = { .peer = "hoster", .stream = 1 };
	struct snapshot s = { .peers = peers, .n_peers = 1, .carriers = &c,
			      .n_carriers = 1, .maps = &m, .n_maps = 1 };
	char *t;

	(void)state;
	FST(&st.st, RX_FRAMES) = 5;
	t = render(stats_text, &s);
	assert_has_line(t, "carrier incoming peer=hoster remote=- stream=1 service=dns rx-frames 5");
	assert_has_line(t, "peer name=hoster rx-frames 0");
	assert_has_line(t, "map proto=- addr=- peer=hoster service=- rx-frames 0");
	free(t);
	t = render(stats_prometheus, &s);
	assert_prometheus(t);
	assert_has_line(t, "funnel_peer_rx_frames_total{peer=\"hoster\"} 0");
	assert_has_line(t, "funnel_map_rx_frames_total{peer=\"hoster\",service=\"\",proto=\"\",addr=\"\"} 0");
	free(t);
}

/*
 * Peer-supplied text that is not UTF-8, with C0, DEL and C1 controls and
 * a cut sequence: every format stays valid UTF-8 (Python decodes it
 * strictly), JSON parses and holds Python's own decoding of the bytes
 * (errors="replace"), Prometheus holds the same in its label values, the
 * text formats carry no control character.
 */
#define NOT_UTF8	"x\xff\xfe\x01\xc2\x9b[31m\xe2\x82 \xed\xa0\x80\x7f|\xc3\xa9"
#define NOT_UTF8_N	12	/* strings of the snapshot below set to it */

static const char utf8_py[] =
"import json, sys\n"
"mode, path = sys.argv[1], sys.argv[2]\n"
"want = bytes.fromhex(sys.argv[3]).decode('utf-8', 'replace')\n"
"n = int(sys.argv[4])\n"
"with open(path, 'rb') as f:\n"
"    text = f.read().decode('utf-8')\n"
"def strings(v):\n"
"    if isinstance(v, dict):\n"
"        for x in v.values():\n"
"            yield from strings(x)\n"
"    elif isinstance(v, list):\n"
"        for x in v:\n"
"            yield from strings(x)\n"
"    elif isinstance(v, str):\n"
"        yield v\n"
"if mode == 'json':\n"
"    got = [x for x in strings(json.loads(text)) if x == want]\n"
"    assert len(got) >= n, (len(got), want, text)\n"
"elif mode == 'prometheus':\n"
"    assert text.count('\"' + want + '\"') >= n, (want, text)\n"
"else:\n"
"    bad = [c for c in text if c != '\\n' and\n"
"           (ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0)]\n"
"    assert not bad, bad\n";

static void utf8_check(const char *mode, const char *text, int n)
{
	char path[] = "/tmp/test_show.XXXXXX";
	char hex[2 * sizeof(NOT_UTF8)] = "", cmd[512];
	FILE *p;
	int fd, status;

	if (access(PYTHON, X_OK))
		skip();
	for (size_t i = 0; i < sizeof(NOT_UTF8) - 1; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)NOT_UTF8[i]);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd), PYTHON " - %s %s %s %d", mode, path, hex,
		 n);
	p = popen(cmd, "w");
	assert_non_null(p);
	fputs(utf8_py, p);
	status = pclose(p);
	unlink(path);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("python check '%s' failed (status %d) on:\n%s", mode,
			 status, text);
}

static struct snap_flow utf8_flow = { .id = 1, .local = NOT_UTF8,
				      .remote = NOT_UTF8, .origin = NOT_UTF8 };
static struct snap_stream utf8_stream = { .id = 1, .service = NOT_UTF8,
					  .proto = "udp", .state = "closed",
					  .reason = NOT_UTF8,
					  .principal = NOT_UTF8,
					  .flows = &utf8_flow, .n_flows = 1,
					  .nflows = 1 };
static struct snap_carrier utf8_carrier = { .incoming = true, .state = "up",
					    .remote = NOT_UTF8,
					    .peer_node = NOT_UTF8,
					    .principal = NOT_UTF8,
					    .last_error = NOT_UTF8,
					    .streams = &utf8_stream,
					    .n_streams = 1 };
static struct snap_map utf8_map = { .proto = "udp", .addr = "127.0.0.1:53",
				    .peer = "p", .service = "s",
				    .state = "refused", .reason = NOT_UTF8 };
static struct snap_peer utf8_peer = { .name = "p", .host = "h:1",
				      .principal = NOT_UTF8,
				      .addrs = { "h:1" }, .n_addrs = 1 };
static const struct snapshot utf8_snap = {
	.identity = NOT_UTF8, .carriers = &utf8_carrier, .n_carriers = 1,
	.maps = &utf8_map, .n_maps = 1, .peers = &utf8_peer, .n_peers = 1,
};

static void test_not_utf8(void **state)
{
	const struct snapshot s = utf8_snap;
	char *t;

	(void)state;
	t = render(show_json, &s);
	assert_json(t);
	utf8_check("json", t, NOT_UTF8_N);
	free(t);
	t = render(stats_json, &s);
	assert_json(t);
	utf8_check("json", t, 3);	/* peer_node, remote, service */
	free(t);
	t = render(stats_prometheus, &s);
	assert_prometheus(t);
	utf8_check("prometheus", t, 3);
	free(t);
	t = render(show_text, &s);
	utf8_check("text", t, 0);
	free(t);
	t = render(stats_text, &s);
	utf8_check("text", t, 0);
	free(t);
}

/* ---- the output as it was: byte for byte ---- */

static const struct {
	const char *name;
	render_fn fn;
} formats[] = {
	{ "show", show_text },
	{ "show --json", show_json },
	{ "stats", stats_text },
	{ "stats --json", stats_json },
	{ "stats --prometheus", stats_prometheus },
};

/*
 * Every snapshot above in every format, each after a "---- " line; the
 * Prometheus text of the fixture only (the others add no sample, and most
 * of that text is the same HELP lines again).
 */
static void dump(FILE *f)
{
	const struct snapshot empty = { 0 };
	const struct {
		const char *name;
		const struct snapshot *s;
	} snaps[] = {
		{ "fixture", &snap },
		{ "empty", &empty },
		{ "nulls", &nulls_snap },
		{ "not-utf8", &utf8_snap },
	};

	fill_stats();
	for (size_t i = 0; i < sizeof(snaps) / sizeof(snaps[0]); i++) {
		for (size_t j = 0; j < sizeof(formats) / sizeof(formats[0]);
		     j++) {
			fprintf(f, "---- %s: %s\n", snaps[i].name,
				formats[j].name);
			formats[j].fn(f, snaps[i].s);
		}
	}
}

static void dump_mem(FILE *f, const struct snapshot *s)
{
	(void)s;
	dump(f);
}

/* The whole of a file, NUL-terminated; free() it. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (!f)
		fail_msg("%s: cannot open", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/*
 * Each format of each snapshot is what show.golden holds: the JSON field
 * names, their order and the text layouts are an interface.  After a
 * change of the output on purpose: test_show --dump > show.golden.
 */
static void test_golden(void **state)
{
	char *want = slurp(SHOW_GOLDEN), *got = render(dump_mem, &snap);
	const char *w = want, *g = got;
	unsigned int line = 1;

	(void)state;
	while (*w && *w == *g) {
		line += *w == '\n';
		w++;
		g++;
	}
	if (*w || *g) {
		while (w > want && w[-1] != '\n') {
			w--;
			g--;
		}
		fail_msg(SHOW_GOLDEN " line %u differs:\nwant: %.*s\ngot:  %.*s",
			 line, (int)strcspn(w, "\n"), w, (int)strcspn(g, "\n"),
			 g);
	}
	free(want);
	free(got);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validator),
		cmocka_unit_test(test_prom_validator),
		cmocka_unit_test(test_show_text),
		cmocka_unit_test(test_show_json),
		cmocka_unit_test(test_show_json_schema),
		cmocka_unit_test(test_stats_text),
		cmocka_unit_test(test_stats_json),
		cmocka_unit_test(test_stats_json_schema),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_incoming_not_counted),
		cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_golden),
	};

	if (argc > 1 && !strcmp(argv[1], "--dump")) {
		dump(stdout);
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, NULL);
}
