// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the control protocol codec (ctl/common/ctrlmsg.c). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/ctrlmsg.h"

static uint8_t buf[70000], buf2[1024];

/* One message of each type, with all attributes it may carry. */
static struct ctrl_msg sample(unsigned int type)
{
	struct ctrl_msg m = { .type = (uint8_t)type };

	switch (type) {
	case CTRL_HELLO:
		m.present = CTRL_BIT(CTRL_A_FEATURES) | CTRL_BIT(CTRL_A_NODE);
		m.features = CTRL_FEAT_GSS | CTRL_FEAT_KERNEL;
		strcpy(m.node, "provider-1.example");
		break;
	case CTRL_OPEN:
		m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_SERVICE) |
			    CTRL_BIT(CTRL_A_PROTO) | CTRL_BIT(CTRL_A_ORDERED);
		m.stream = 65535;
		strcpy(m.service, "radius-auth");
		m.proto = CTRL_PROTO_UDP;
		break;
	case CTRL_OPEN_OK:
		m.present = CTRL_BIT(CTRL_A_STREAM);
		m.stream = 7;
		break;
	case CTRL_OPEN_REFUSED:
	case CTRL_CLOSE:
		m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_REASON) |
			    CTRL_BIT(CTRL_A_TEXT);
		m.stream = 3;
		m.reason = CTRL_R_UNKNOWN_SERVICE;
		strcpy(m.text, "no service named dns");
		break;
	case CTRL_REKEY_DONE:
	case CTRL_REKEY:
		m.present = CTRL_BIT(CTRL_A_STREAM) |
			    CTRL_BIT(CTRL_A_GENERATION);
		m.stream = 9;
		m.generation = 0xfffffffe;
		break;
	case CTRL_WINDOW:
		m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_FLOW) |
			    CTRL_BIT(CTRL_A_CREDIT);
		m.stream = 4;
		m.flow = 0x80000001;
		m.credit = 1U << 20;
		break;
	case CTRL_ORIGIN:
		m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_FLOW) |
			    CTRL_BIT(CTRL_A_ORIGIN);
		m.stream = 5;
		m.flow = 2;
		/* IPv6 [2001:db8::7]:51234 -> [2001:db8::1]:5300 */
		m.origin_len = 40;
		memcpy(m.origin, "\x06\x00\xc8\x22\x14\xb4\x00\x00"
		       "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07"
		       "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 40);
		break;
	case CTRL_MARK:
		m.present = CTRL_BIT(CTRL_A_STREAM) |
			    CTRL_BIT(CTRL_A_GENERATION) |
			    CTRL_BIT(CTRL_A_COUNTER);
		m.stream = 6;
		m.generation = 2;
		m.counter = 1U << 23;
		break;
	default:
		m.present = CTRL_BIT(CTRL_A_NONCE);
		m.nonce = 0x0102030405060708ULL;
		break;
	}
	return m;
}

static void test_roundtrip(void **state)
{
	unsigned int t;

	(void)state;
	for (t = 1; t <= CTRL_TYPE_MAX; t++) {
		struct ctrl_msg m = sample(t), d;
		const char *why = NULL;
		int n = ctrl_encode(&m, buf, sizeof(buf), &why);

		assert_true(n > 0);
		assert_int_equal(ctrl_decode(buf, (size_t)n, &d, &why), 0);
		assert_memory_equal(&m, &d, sizeof(m));
		assert_non_null(ctrl_type_name(t));
	}
	assert_null(ctrl_type_name(0));
	assert_null(ctrl_type_name(CTRL_TYPE_MAX + 1));
	assert_string_equal(ctrl_reason_name(CTRL_R_NOT_AUTHORIZED), "not authorized");
	assert_string_equal(ctrl_reason_name(CTRL_R_INTEGRITY), "integrity");
	assert_null(ctrl_reason_name(999));
}

/* The exact bytes of a PING, as the document describes them. */
static void test_wire_bytes(void **state)
{
	static const uint8_t want[] = {
		1, 6, 0, 0,			/* version, PING, reserved */
		0, 9, 0, 8,			/* NONCE, 8 bytes */
		1, 2, 3, 4, 5, 6, 7, 8,
	};
	struct ctrl_msg m = sample(CTRL_PING);

	(void)state;
	assert_int_equal(ctrl_encode(&m, buf, sizeof(buf), NULL), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

/* Every prefix of a valid message is refused or is itself a valid
 * message; nothing is read past the length given (ASan would see it).
 */
static void test_truncated(void **state)
{
	unsigned int t;

	(void)state;
	for (t = 1; t <= CTRL_TYPE_MAX; t++) {
		struct ctrl_msg m = sample(t), d;
		int n = ctrl_encode(&m, buf, sizeof(buf), NULL), i;

		for (i = 0; i < n; i++) {
			uint8_t copy[512];
			const char *why = NULL;

			memcpy(copy, buf, (size_t)i);
			if (ctrl_decode(copy, (size_t)i, &d, &why)) {
				assert_non_null(why);
				continue;
			}
			/* cut at an attribute boundary after the required
			 * ones: a shorter valid message, which must encode
			 * back to exactly those bytes
			 */
			assert_int_equal(ctrl_encode(&d, buf2, sizeof(buf2), NULL), i);
			assert_memory_equal(buf2, copy, (size_t)i);
		}
	}
}

static int decode_bytes(const uint8_t *b, size_t n, const char **why)
{
	struct ctrl_msg d;

	return ctrl_decode(b, n, &d, why);
}

#define REFUSED(why_sub, ...)						\
	do {								\
		static const uint8_t b_[] = { __VA_ARGS__ };		\
		const char *w_ = NULL;					\
		assert_int_equal(decode_bytes(b_, sizeof(b_), &w_), -1); \
		assert_non_null(strstr(w_, why_sub));			\
	} while (0)

static void test_refused(void **state)
{
	(void)state;
	REFUSED("version", 2, CTRL_PING, 0, 0, 0, 9, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1);
	REFUSED("unknown message type", 1, 0, 0, 0);
	REFUSED("unknown message type", 1, CTRL_TYPE_MAX + 1, 0, 0);
	/* ORIGIN: stream 1, flow 1, then a bad origin value */
	REFUSED("neither 16 nor 40", 1, CTRL_ORIGIN, 0, 0, 0, 3, 0, 2, 0, 1,
		0, 11, 0, 4, 0, 0, 0, 1, 0, 13, 0, 15,
		4, 0, 0, 1, 0, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7);
	REFUSED("family neither 4 nor 6", 1, CTRL_ORIGIN, 0, 0, 0, 3, 0, 2,
		0, 1, 0, 11, 0, 4, 0, 0, 0, 1, 0, 13, 0, 16,
		5, 0, 0, 1, 0, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8);
	REFUSED("does not fit its family", 1, CTRL_ORIGIN, 0, 0, 0, 3, 0, 2,
		0, 1, 0, 11, 0, 4, 0, 0, 0, 1, 0, 13, 0, 16,
		6, 0, 0, 1, 0, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8);
	REFUSED("reserved bytes not 0", 1, CTRL_ORIGIN, 0, 0, 0, 3, 0, 2,
		0, 1, 0, 11, 0, 4, 0, 0, 0, 1, 0, 13, 0, 16,
		4, 1, 0, 1, 0, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8);
	REFUSED("reserved bytes not 0", 1, CTRL_ORIGIN, 0, 0, 0, 3, 0, 2,
		0, 1, 0, 11, 0, 4, 0, 0, 0, 1, 0, 13, 0, 16,
		4, 0, 0, 1, 0, 2, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8);
	REFUSED("required attribute missing", 1, CTRL_ORIGIN, 0, 0,
		0, 3, 0, 2, 0, 1, 0, 11, 0, 4, 0, 0, 0, 1);
	REFUSED("not allowed", 1, CTRL_WINDOW, 0, 0, 0, 3, 0, 2, 0, 4,
		0, 11, 0, 4, 0, 0, 0, 7, 0, 12, 0, 4, 0, 0, 1, 0,
		0, 13, 0, 16, 4, 0, 0, 1, 0, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8);
	/* MARK: stream 6, generation 2, then the counter */
	REFUSED("counter 0", 1, CTRL_MARK, 0, 0, 0, 3, 0, 2, 0, 6,
		0, 10, 0, 4, 0, 0, 0, 2, 0, 15, 0, 4, 0, 0, 0, 0);
	REFUSED("length", 1, CTRL_MARK, 0, 0, 0, 3, 0, 2, 0, 6,
		0, 10, 0, 4, 0, 0, 0, 2, 0, 15, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1);
	REFUSED("required attribute missing", 1, CTRL_MARK, 0, 0,
		0, 3, 0, 2, 0, 6, 0, 10, 0, 4, 0, 0, 0, 2);
	REFUSED("required attribute missing", 1, CTRL_MARK, 0, 0,
		0, 3, 0, 2, 0, 6, 0, 15, 0, 4, 0, 0, 0, 9);
	REFUSED("not allowed", 1, CTRL_MARK, 0, 0, 0, 3, 0, 2, 0, 6,
		0, 10, 0, 4, 0, 0, 0, 2, 0, 15, 0, 4, 0, 0, 0, 9,
		0, 11, 0, 4, 0, 0, 0, 7);
	REFUSED("generation 0", 1, CTRL_MARK, 0, 0, 0, 3, 0, 2, 0, 6,
		0, 10, 0, 4, 0, 0, 0, 0, 0, 15, 0, 4, 0, 0, 0, 9);
	/* WINDOW: stream 4, flow 0 or credit 0 */
	REFUSED("flow id 0", 1, CTRL_WINDOW, 0, 0, 0, 3, 0, 2, 0, 4,
		0, 11, 0, 4, 0, 0, 0, 0, 0, 12, 0, 4, 0, 0, 1, 0);
	REFUSED("credit 0", 1, CTRL_WINDOW, 0, 0, 0, 3, 0, 2, 0, 4,
		0, 11, 0, 4, 0, 0, 0, 7, 0, 12, 0, 4, 0, 0, 0, 0);
	REFUSED("required attribute missing", 1, CTRL_WINDOW, 0, 0,
		0, 3, 0, 2, 0, 4, 0, 11, 0, 4, 0, 0, 0, 7);
	REFUSED("generation 0", 1, CTRL_REKEY_DONE, 0, 0, 0, 3, 0, 2, 0, 1,
		0, 10, 0, 4, 0, 0, 0, 0);
	REFUSED("required attribute missing", 1, CTRL_REKEY_DONE, 0, 0,
		0, 3, 0, 2, 0, 1);
	REFUSED("required", 1, CTRL_PING, 0, 0);
	REFUSED("wrong length", 1, CTRL_PING, 0, 0, 0, 9, 0, 4, 0, 0, 0, 1);
	REFUSED("duplicate", 1, CTRL_OPEN_OK, 0, 0, 0, 3, 0, 2, 0, 1,
		0, 3, 0, 2, 0, 2);
	REFUSED("not allowed", 1, CTRL_OPEN_OK, 0, 0, 0, 3, 0, 2, 0, 1,
		0, 9, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1);
	REFUSED("not marked optional", 1, CTRL_OPEN_OK, 0, 0, 0, 3, 0, 2, 0, 1,
		0, 77, 0, 1, 0);
	REFUSED("stream id 0", 1, CTRL_OPEN_OK, 0, 0, 0, 3, 0, 2, 0, 0);
	REFUSED("reason 0", 1, CTRL_CLOSE, 0, 0, 0, 3, 0, 2, 0, 1, 0, 7, 0, 2, 0, 0);
	REFUSED("neither udp nor tcp", 1, CTRL_OPEN, 0, 0, 0, 3, 0, 2, 0, 1,
		0, 4, 0, 1, 'x', 0, 5, 0, 1, 3, 0, 6, 0, 1, 0);
	REFUSED("ordered", 1, CTRL_OPEN, 0, 0, 0, 3, 0, 2, 0, 1,
		0, 4, 0, 1, 'x', 0, 5, 0, 1, 1, 0, 6, 0, 1, 2);
	/* plugin streams (plugins.md 5.1): PLUGIN is 1 byte, 1..255, on tcp
	 * only; ORDERED 0 on tcp only with it
	 */
	REFUSED("ordered 0 for a tcp stream without a plugin", 1, CTRL_OPEN,
		0, 0, 0, 3, 0, 2, 0, 1, 0, 4, 0, 1, 'x', 0, 5, 0, 1, 2,
		0, 6, 0, 1, 0);
	REFUSED("plugin 0", 1, CTRL_OPEN, 0, 0, 0, 3, 0, 2, 0, 1,
		0, 4, 0, 1, 'x', 0, 5, 0, 1, 2, 0, 6, 0, 1, 0, 0, 14, 0, 1, 0);
	REFUSED("wrong length", 1, CTRL_OPEN_OK, 0, 0, 0, 3, 0, 2, 0, 1,
		0, 14, 0, 2, 0, 1);
	REFUSED("plugin on a udp stream", 1, CTRL_OPEN, 0, 0, 0, 3, 0, 2, 0, 1,
		0, 4, 0, 1, 'x', 0, 5, 0, 1, 1, 0, 6, 0, 1, 1, 0, 14, 0, 1, 1);
	REFUSED("not allowed", 1, CTRL_PING, 0, 0, 0, 9, 0, 8, 0, 0, 0, 0, 0,
		0, 0, 1, 0, 14, 0, 1, 1);
	REFUSED("service name", 1, CTRL_OPEN, 0, 0, 0, 3, 0, 2, 0, 1,
		0, 4, 0, 2, '-', 'x', 0, 5, 0, 1, 1, 0, 6, 0, 1, 0);
	REFUSED("service name", 1, CTRL_OPEN, 0, 0, 0, 3, 0, 2, 0, 1,
		0, 4, 0, 0, 0, 5, 0, 1, 1, 0, 6, 0, 1, 0);
	REFUSED("bad text", 1, CTRL_HELLO, 0, 0, 0, 1, 0, 4, 0, 0, 0, 1,
		0, 2, 0, 3, 'a', 0, 'b');
	REFUSED("bad text", 1, CTRL_HELLO, 0, 0, 0, 1, 0, 4, 0, 0, 0, 1,
		0, 2, 0, 2, 'a', '\n');
	REFUSED("truncated attribute header", 1, CTRL_PING, 0, 0, 0, 9, 0);
	REFUSED("truncated attribute", 1, CTRL_PING, 0, 0, 0, 9, 0, 8, 1, 2);
	REFUSED("required", 1, CTRL_OPEN, 0, 0, 0, 3, 0, 2, 0, 1);
}

/* OPEN of a plugin stream: PLUGIN (14), ORDERED 0 on tcp with it. */
static void test_plugin_open(void **state)
{
	static const uint8_t b[] = {
		1, CTRL_OPEN, 0, 0,
		0, 3, 0, 2, 0, 7,		/* STREAM 7 */
		0, 4, 0, 1, 'x',		/* SERVICE x */
		0, 5, 0, 1, CTRL_PROTO_TCP,
		0, 6, 0, 1, 0,			/* ORDERED 0 */
		0, 14, 0, 1, 1,			/* PLUGIN 1 (ldap) */
	};
	struct ctrl_msg d, m = { .type = CTRL_OPEN_OK, .stream = 7,
				 .plugin = 1 };
	int n;

	(void)state;
	assert_int_equal(ctrl_decode(b, sizeof(b), &d, NULL), 0);
	assert_int_equal(d.plugin, 1);
	assert_int_equal(d.ordered, 0);
	assert_true(d.present & CTRL_BIT(CTRL_A_PLUGIN));
	m.present = CTRL_BIT(CTRL_A_STREAM) | CTRL_BIT(CTRL_A_PLUGIN);
	n = ctrl_encode(&m, buf, sizeof(buf), NULL);
	assert_int_equal(n, 4 + 6 + 5);
	assert_int_equal(buf[11], 14);
	assert_int_equal(buf[14], 1);
	assert_int_equal(CTRL_FEAT_PLUGIN, 0x20);
}

static void test_optional_unknown_skipped(void **state)
{
	static const uint8_t b[] = {
		1, CTRL_PONG, 0xff, 0xff,		/* reserved: ignored */
		0x80, 77, 0, 3, 'a', 'b', 'c',		/* optional, unknown */
		0, 9, 0, 8, 0, 0, 0, 0, 0, 0, 0, 42,
	};
	struct ctrl_msg d;

	(void)state;
	assert_int_equal(ctrl_decode(b, sizeof(b), &d, NULL), 0);
	assert_int_equal(d.type, CTRL_PONG);
	assert_int_equal(d.nonce, 42);
	assert_int_equal(d.present, CTRL_BIT(CTRL_A_NONCE));
}

static void test_text_limits(void **state)
{
	struct ctrl_msg m = sample(CTRL_CLOSE), d;
	const char *why;
	int n;

	(void)state;
	memset(m.text, 'x', CTRL_TEXT_MAX);
	m.text[CTRL_TEXT_MAX] = '\0';
	n = ctrl_encode(&m, buf, sizeof(buf), &why);
	assert_true(n > 0);
	assert_int_equal(ctrl_decode(buf, (size_t)n, &d, &why), 0);
	assert_int_equal(strlen(d.text), CTRL_TEXT_MAX);

	/* 256 bytes of text on the wire: too long */
	buf[0] = 1; buf[1] = CTRL_CLOSE; buf[2] = 0; buf[3] = 0;
	memcpy(buf + 4, (const uint8_t[]){ 0, 3, 0, 2, 0, 1, 0, 7, 0, 2, 0, 1,
					    0, 8, 1, 0 }, 16);
	memset(buf + 20, 'y', 256);
	assert_int_equal(ctrl_decode(buf, 276, &d, &why), -1);
	assert_non_null(strstr(why, "bad text"));

	/* a 64-byte service name is refused by the encoder too */
	m = sample(CTRL_OPEN);
	memset(m.service, 'a', CTRL_SERVICE_MAX);
	m.service[CTRL_SERVICE_MAX] = '\0';
	assert_true(ctrl_encode(&m, buf, sizeof(buf), &why) > 0);
}

static void test_encode_refuses(void **state)
{
	struct ctrl_msg m = sample(CTRL_OPEN);
	const char *why = NULL;

	(void)state;
	m.stream = 0;
	assert_int_equal(ctrl_encode(&m, buf, sizeof(buf), &why), -1);
	m = sample(CTRL_OPEN);
	m.present &= ~CTRL_BIT(CTRL_A_SERVICE);
	assert_int_equal(ctrl_encode(&m, buf, sizeof(buf), &why), -1);
	assert_non_null(strstr(why, "required"));
	m = sample(CTRL_PING);
	m.present |= CTRL_BIT(CTRL_A_STREAM);
	m.stream = 1;
	assert_int_equal(ctrl_encode(&m, buf, sizeof(buf), &why), -1);
	m = sample(CTRL_HELLO);
	assert_int_equal(ctrl_encode(&m, buf, 10, &why), -1);
	assert_non_null(strstr(why, "buffer too small"));
	m.type = 0;
	assert_int_equal(ctrl_encode(&m, buf, sizeof(buf), &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_wire_bytes),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_plugin_open),
		cmocka_unit_test(test_optional_unknown_skipped),
		cmocka_unit_test(test_text_limits),
		cmocka_unit_test(test_encode_refuses),
	};

	return cmocka_run_group_tests_name("ctrlmsg", tests, NULL, NULL);
}
