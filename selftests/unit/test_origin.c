// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of flow origins and the PROXY protocol v2 header
 * (ctl/common/origin.c, wire-format.md section 6.1).
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/origin.h"

static struct sockaddr_storage sa4(const char *a, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (void *)&ss;

	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, a, &in->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage sa6(const char *a, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *in6 = (void *)&ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, a, &in6->sin6_addr), 1);
	return ss;
}

/* The exact bytes of an IPv4 origin, and back. */
static void test_v4(void **state)
{
	static const uint8_t want[16] = {
		4, 0, 0xc8, 0x22, 0x14, 0xb4, 0, 0,	/* 51234, 5300 */
		192, 0, 2, 7, 10, 0, 0, 2,
	};
	struct sockaddr_storage src = sa4("192.0.2.7", 51234),
				dst = sa4("10.0.0.2", 5300), back;
	uint8_t out[ORIGIN_LEN_MAX];
	struct origin o;
	char text[ORIGIN_FORMAT_MAX];

	(void)state;
	assert_int_equal(origin_encode((void *)&src, (void *)&dst, out), 16);
	assert_memory_equal(out, want, 16);
	assert_int_equal(origin_parse(out, 16, &o, NULL), 0);
	assert_int_equal(o.family, AF_INET);
	assert_int_equal(o.sport, 51234);
	assert_int_equal(o.dport, 5300);
	origin_sockaddr(&o, 0, &back);
	assert_memory_equal(&back, &src, sizeof(struct sockaddr_in));
	origin_sockaddr(&o, 1, &back);
	assert_memory_equal(&back, &dst, sizeof(struct sockaddr_in));
	origin_format_src(&o, text, sizeof(text));
	assert_string_equal(text, "192.0.2.7:51234");
}

static void test_v6(void **state)
{
	struct sockaddr_storage src = sa6("2001:db8::7", 443),
				dst = sa6("2001:db8::1", 8443), back;
	uint8_t out[ORIGIN_LEN_MAX];
	struct origin o;
	char text[ORIGIN_FORMAT_MAX];

	(void)state;
	assert_int_equal(origin_encode((void *)&src, (void *)&dst, out), 40);
	assert_int_equal(out[0], 6);
	assert_int_equal(origin_parse(out, 40, &o, NULL), 0);
	assert_int_equal(o.family, AF_INET6);
	origin_sockaddr(&o, 0, &back);
	assert_memory_equal(&back, &src, sizeof(struct sockaddr_in6));
	origin_sockaddr(&o, 1, &back);
	assert_memory_equal(&back, &dst, sizeof(struct sockaddr_in6));
	origin_format_src(&o, text, sizeof(text));
	assert_string_equal(text, "[2001:db8::7]:443");
	/* the longest text fits */
	src = sa6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535);
	assert_int_equal(origin_encode((void *)&src, (void *)&dst, out), 40);
	assert_int_equal(origin_parse(out, 40, &o, NULL), 0);
	origin_format_src(&o, text, sizeof(text));
	assert_string_equal(text,
			    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535");
}

/* An IPv4 client of a dual-stack listener is family 4. */
static void test_v4mapped(void **state)
{
	struct sockaddr_storage src = sa6("::ffff:192.0.2.7", 51234),
				dst = sa6("::ffff:127.0.0.1", 5300),
				real6 = sa6("::1", 5300);
	uint8_t out[ORIGIN_LEN_MAX];
	struct origin o;
	char text[ORIGIN_FORMAT_MAX];

	(void)state;
	assert_int_equal(origin_encode((void *)&src, (void *)&dst, out), 16);
	assert_int_equal(origin_parse(out, 16, &o, NULL), 0);
	origin_format_src(&o, text, sizeof(text));
	assert_string_equal(text, "192.0.2.7:51234");
	/* mapped and real IPv6 together: both IPv6 */
	assert_int_equal(origin_encode((void *)&src, (void *)&real6, out), 40);
	/* neither IPv4 nor IPv6: nothing */
	src.ss_family = AF_UNIX;
	assert_int_equal(origin_encode((void *)&src, (void *)&dst, out), -1);
}

#define REFUSED(why_sub, ...)						\
	do {								\
		static const uint8_t b_[] = { __VA_ARGS__ };		\
		const char *w_ = NULL;					\
		struct origin o_;					\
		assert_int_equal(origin_parse(b_, sizeof(b_), &o_, &w_), -1); \
		assert_non_null(w_);					\
		assert_non_null(strstr(w_, why_sub));			\
	} while (0)

#define A4	1, 2, 3, 4, 5, 6, 7, 8
#define A16	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16

/* Every malformed origin is refused, with its reason. */
static void test_malformed(void **state)
{
	struct origin o;
	uint8_t big[41] = { 6 };

	(void)state;
	assert_int_equal(origin_parse(big, 0, &o, NULL), -1);
	assert_int_equal(origin_parse(big, 41, &o, NULL), -1);
	REFUSED("neither 16 nor 40", 4, 0, 0, 1, 0, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7);
	REFUSED("neither 16 nor 40", 4, 0, 0, 1, 0, 2, 0, 0, A4, 9);
	REFUSED("neither 16 nor 40", 6, 0, 0, 1, 0, 2, 0, 0, A16, A16, 1);
	REFUSED("family neither 4 nor 6", 0, 0, 0, 1, 0, 2, 0, 0, A4);
	REFUSED("family neither 4 nor 6", 5, 0, 0, 1, 0, 2, 0, 0, A4);
	REFUSED("family neither 4 nor 6", 41, 0, 0, 1, 0, 2, 0, 0, A16, A16);
	REFUSED("does not fit its family", 6, 0, 0, 1, 0, 2, 0, 0, A4);
	REFUSED("does not fit its family", 4, 0, 0, 1, 0, 2, 0, 0, A16, A16);
	REFUSED("reserved bytes not 0", 4, 1, 0, 1, 0, 2, 0, 0, A4);
	REFUSED("reserved bytes not 0", 4, 0, 0, 1, 0, 2, 1, 0, A4);
	REFUSED("reserved bytes not 0", 6, 0, 0, 1, 0, 2, 0, 0x80, A16, A16);
	/* every length but 16 and 40 */
	for (size_t len = 0; len <= sizeof(big); len++) {
		big[0] = len == 16 ? 4 : 6;
		assert_int_equal(origin_parse(big, len, &o, NULL),
				 len == 16 || len == 40 ? 0 : -1);
	}
}

/* The PROXY v2 headers, byte for byte (proxy-protocol.txt 2.2). */
static void test_proxy_header(void **state)
{
	static const uint8_t want4[28] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
		0x55, 0x49, 0x54, 0x0a,			/* signature */
		0x21, 0x11, 0x00, 0x0c,			/* PROXY, TCP4, 12 */
		192, 0, 2, 7, 10, 0, 0, 2,		/* src, dst */
		0xc8, 0x22, 0x14, 0xb4,			/* 51234, 5300 */
	};
	static const uint8_t local[16] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
		0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00,
	};
	struct sockaddr_storage src = sa4("192.0.2.7", 51234),
				dst = sa4("10.0.0.2", 5300);
	uint8_t enc[ORIGIN_LEN_MAX], out[PROXY_V2_HDR_MAX];
	struct origin o = { 0 };

	(void)state;
	assert_int_equal(proxy_v2_header(NULL, out), 16);
	assert_memory_equal(out, local, 16);
	assert_int_equal(proxy_v2_header(&o, out), 16);
	assert_memory_equal(out, local, 16);

	assert_int_equal(origin_encode((void *)&src, (void *)&dst, enc), 16);
	assert_int_equal(origin_parse(enc, 16, &o, NULL), 0);
	assert_int_equal(proxy_v2_header(&o, out), 28);
	assert_memory_equal(out, want4, 28);

	src = sa6("2001:db8::7", 51234);
	dst = sa6("2001:db8::1", 5300);
	assert_int_equal(origin_encode((void *)&src, (void *)&dst, enc), 40);
	assert_int_equal(origin_parse(enc, 40, &o, NULL), 0);
	assert_int_equal(proxy_v2_header(&o, out), 52);
	assert_memory_equal(out, want4, 12);
	assert_int_equal(out[12], 0x21);
	assert_int_equal(out[13], 0x21);		/* TCP over IPv6 */
	assert_int_equal(out[14], 0);
	assert_int_equal(out[15], 36);
	assert_memory_equal(out + 16, enc + 8, 32);	/* src, dst */
	assert_memory_equal(out + 48, "\xc8\x22\x14\xb4", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_v4mapped),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_proxy_header),
	};

	return cmocka_run_group_tests_name("origin", tests, NULL, NULL);
}
