// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the extended ACK parser (ctl/common/extack.c). */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <linux/genetlink.h>

#include "common/extack.h"

/* A netlink message under construction, 4-byte aligned. */
static union {
	struct nlmsghdr nlh;
	uint8_t b[4096];
} m;
static size_t mlen;

static void msg_start(uint16_t type, uint16_t flags)
{
	memset(&m, 0, sizeof(m));
	m.nlh.nlmsg_type = type;
	m.nlh.nlmsg_flags = flags;
	mlen = NLMSG_HDRLEN;
}

static void msg_put(const void *p, size_t n)
{
	assert_true(mlen + NLMSG_ALIGN(n) <= sizeof(m.b));
	memcpy(m.b + mlen, p, n);
	mlen += NLMSG_ALIGN(n);
}

/* Append an attribute; returns its offset. */
static size_t msg_attr(uint16_t type, const void *p, size_t n)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + n),
			    .nla_type = type };
	size_t at = mlen;

	assert_true(mlen + NLA_ALIGN(NLA_HDRLEN + n) <= sizeof(m.b));
	memcpy(m.b + mlen, &a, sizeof(a));
	if (n)
		memcpy(m.b + mlen + NLA_HDRLEN, p, n);
	mlen += NLA_ALIGN(NLA_HDRLEN + n);
	return at;
}

static size_t msg_u32(uint16_t type, uint32_t v)
{
	return msg_attr(type, &v, sizeof(v));
}

static void msg_end(void)
{
	m.nlh.nlmsg_len = (uint32_t)mlen;
}

/* NLMSG_ERROR header with the request header (and payload if !capped). */
static void put_error(int error, uint32_t req_len, int capped)
{
	struct nlmsgerr e = { .error = error };
	uint8_t payload[64];

	e.msg.nlmsg_len = req_len;
	e.msg.nlmsg_type = 0x20;
	msg_put(&e, sizeof(e));
	if (!capped) {
		assert_true(req_len - sizeof(e.msg) <= sizeof(payload));
		memset(payload, 0xee, sizeof(payload));
		msg_put(payload, req_len - sizeof(e.msg));
	}
}

static void test_error_uncapped(void **state)
{
	struct funnel_extack ext;

	(void)state;
	msg_start(NLMSG_ERROR, NLM_F_ACK_TLVS);
	put_error(-EINVAL, 38, 0);	/* odd length: TLVs are aligned */
	msg_attr(NLMSGERR_ATTR_MSG, "bad stream id", 14);
	msg_u32(NLMSGERR_ATTR_OFFS, 24);
	msg_end();

	assert_int_equal(funnel_extack_parse(&m.nlh, mlen, &ext), 0);
	assert_int_equal(ext.error, -EINVAL);
	assert_string_equal(ext.msg, "bad stream id");
	assert_true(ext.has_offs);
	assert_int_equal(ext.offs, 24);
	assert_false(ext.has_miss_type);
	assert_int_equal(ext.bad_attr, -1);
}

static void test_error_capped_missing(void **state)
{
	struct funnel_extack ext;

	(void)state;
	msg_start(NLMSG_ERROR, NLM_F_ACK_TLVS | NLM_F_CAPPED);
	put_error(-EINVAL, 1000, 1);	/* length of the request, not here */
	msg_u32(NLMSGERR_ATTR_MISS_TYPE, 4);
	msg_u32(NLMSGERR_ATTR_MISS_NEST, 32);
	msg_end();

	assert_int_equal(funnel_extack_parse(&m.nlh, mlen, &ext), 0);
	assert_int_equal(ext.error, -EINVAL);
	assert_string_equal(ext.msg, "");
	assert_true(ext.has_miss_type);
	assert_int_equal(ext.miss_type, 4);
	assert_true(ext.has_miss_nest);
	assert_int_equal(ext.miss_nest, 32);
	assert_false(ext.has_offs);
}

static void test_error_without_tlvs(void **state)
{
	struct funnel_extack ext;

	(void)state;
	msg_start(NLMSG_ERROR, 0);
	put_error(-EPERM, 20, 0);
	msg_end();
	assert_int_equal(funnel_extack_parse(&m.nlh, mlen, &ext), 0);
	assert_int_equal(ext.error, -EPERM);
	assert_string_equal(ext.msg, "");
}

static void test_ack_with_warning(void **state)
{
	struct funnel_extack ext;

	(void)state;
	msg_start(NLMSG_ERROR, NLM_F_ACK_TLVS | NLM_F_CAPPED);
	put_error(0, 20, 1);
	msg_attr(NLMSGERR_ATTR_MSG, "deprecated", 11);
	msg_end();
	assert_int_equal(funnel_extack_parse(&m.nlh, mlen, &ext), 0);
	assert_int_equal(ext.error, 0);
	assert_string_equal(ext.msg, "deprecated");
}

static void test_done(void **state)
{
	struct funnel_extack ext;
	int err = -ENOENT;

	(void)state;
	msg_start(NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS);
	msg_put(&err, sizeof(err));
	msg_attr(NLMSGERR_ATTR_MSG, "carrier went away", 18);
	msg_end();
	assert_int_equal(funnel_extack_parse(&m.nlh, mlen, &ext), 0);
	assert_int_equal(ext.error, -ENOENT);
	assert_string_equal(ext.msg, "carrier went away");

	/* Positive errno values are normalised. */
	err = ENOENT;
	msg_start(NLMSG_DONE, NLM_F_MULTI);
	msg_put(&err, sizeof(err));
	msg_end();
	assert_int_equal(funnel_extack_parse(&m.nlh, mlen, &ext), 0);
	assert_int_equal(ext.error, -ENOENT);
}

static void test_malformed(void **state)
{
	struct funnel_extack ext;
	char long_msg[600];
	struct nlattr *a;

	(void)state;
	/* Not an error or done message. */
	msg_start(0x20, 0);
	msg_u32(1, 1);
	msg_end();
	assert_int_equal(funnel_extack_parse(&m.nlh, mlen, &ext), -EINVAL);

	/* Too short for struct nlmsgerr. */
	msg_start(NLMSG_ERROR, 0);
	msg_end();
	assert_int_equal(funnel_extack_parse(&m.nlh, mlen, &ext), -EINVAL);
	assert_int_equal(funnel_extack_parse(&m.nlh, 4, &ext), -EINVAL);

	/* Request length beyond the message. */
	msg_start(NLMSG_ERROR, NLM_F_ACK_TLVS);
	put_error(-EINVAL, 20, 0);
	msg_end();
	((struct nlmsgerr *)(m.b + NLMSG_HDRLEN))->msg.nlmsg_len = 4000;
	assert_int_equal(funnel_extack_parse(&m.nlh, mlen, &ext), -EINVAL);

	/* Request length below a header. */
	((struct nlmsgerr *)(m.b + NLMSG_HDRLEN))->msg.nlmsg_len = 3;
	assert_int_equal(funnel_extack_parse(&m.nlh, mlen, &ext), -EINVAL);

	/* A TLV running past the end is ignored, earlier ones are kept. */
	msg_start(NLMSG_ERROR, NLM_F_ACK_TLVS | NLM_F_CAPPED);
	put_error(-EINVAL, 20, 1);
	msg_u32(NLMSGERR_ATTR_OFFS, 40);
	a = (struct nlattr *)(m.b + msg_attr(NLMSGERR_ATTR_MSG, "x", 2));
	a->nla_len = 200;
	msg_end();
	assert_int_equal(funnel_extack_parse(&m.nlh, mlen, &ext), 0);
	assert_true(ext.has_offs);
	assert_string_equal(ext.msg, "");

	/* A message too long for the buffer is cut, and NUL-terminated. */
	memset(long_msg, 'a', sizeof(long_msg));
	msg_start(NLMSG_ERROR, NLM_F_ACK_TLVS | NLM_F_CAPPED);
	put_error(-EINVAL, 20, 1);
	msg_attr(NLMSGERR_ATTR_MSG, long_msg, sizeof(long_msg));
	msg_end();
	assert_int_equal(funnel_extack_parse(&m.nlh, mlen, &ext), 0);
	assert_int_equal(strlen(ext.msg), FUNNEL_EXTACK_MSG_MAX - 1);

	/* The buffer length given wins over a larger nlmsg_len. */
	msg_start(NLMSG_ERROR, NLM_F_ACK_TLVS | NLM_F_CAPPED);
	put_error(-EINVAL, 20, 1);
	msg_attr(NLMSGERR_ATTR_MSG, "hidden", 7);
	msg_end();
	assert_int_equal(funnel_extack_parse(&m.nlh, NLMSG_HDRLEN +
					     sizeof(struct nlmsgerr), &ext), 0);
	assert_int_equal(ext.error, -EINVAL);
	assert_string_equal(ext.msg, "");

	/* An OFFS attribute too short to hold a u32. */
	msg_start(NLMSG_ERROR, NLM_F_ACK_TLVS | NLM_F_CAPPED);
	put_error(-EINVAL, 20, 1);
	msg_attr(NLMSGERR_ATTR_OFFS, "ab", 2);
	msg_end();
	assert_int_equal(funnel_extack_parse(&m.nlh, mlen, &ext), 0);
	assert_false(ext.has_offs);
}

static void test_locate(void **state)
{
	struct genlmsghdr gh = { .cmd = 5, .version = 1 };
	struct funnel_extack ext;
	size_t a_top, a_nest, a_inner, a_last;
	struct nlattr *nest;

	(void)state;
	/* Request: attribute 4, nest 24 { 2, 3 }, attribute 6. */
	msg_start(0x20, NLM_F_REQUEST);
	msg_put(&gh, sizeof(gh));
	a_top = msg_u32(4, 1);
	a_nest = msg_attr(24 | NLA_F_NESTED, NULL, 0);
	msg_u32(2, 0);
	a_inner = msg_u32(3, 7);
	nest = (struct nlattr *)(m.b + a_nest);
	nest->nla_len = (uint16_t)(mlen - a_nest);
	a_last = msg_u32(6, 9);
	msg_end();

	funnel_extack_clear(&ext);
	ext.has_offs = 1;
	ext.offs = (uint32_t)a_top;
	funnel_extack_locate(&m.nlh, mlen, GENL_HDRLEN, &ext);
	assert_int_equal(ext.bad_attr, 4);
	assert_int_equal(ext.bad_nested, -1);

	ext.offs = (uint32_t)a_inner;
	funnel_extack_locate(&m.nlh, mlen, GENL_HDRLEN, &ext);
	assert_int_equal(ext.bad_attr, 24);
	assert_int_equal(ext.bad_nested, 3);

	ext.offs = (uint32_t)a_nest;
	funnel_extack_locate(&m.nlh, mlen, GENL_HDRLEN, &ext);
	assert_int_equal(ext.bad_attr, 24);
	assert_int_equal(ext.bad_nested, -1);

	ext.offs = (uint32_t)a_last + NLA_HDRLEN;	/* into its payload */
	funnel_extack_locate(&m.nlh, mlen, GENL_HDRLEN, &ext);
	assert_int_equal(ext.bad_attr, 6);

	ext.offs = (uint32_t)mlen + 100;
	funnel_extack_locate(&m.nlh, mlen, GENL_HDRLEN, &ext);
	assert_int_equal(ext.bad_attr, -1);

	ext.offs = 2;	/* inside the netlink header */
	funnel_extack_locate(&m.nlh, mlen, GENL_HDRLEN, &ext);
	assert_int_equal(ext.bad_attr, -1);

	funnel_extack_clear(&ext);
	ext.has_miss_type = 1;
	ext.miss_type = 1;
	ext.has_miss_nest = 1;
	ext.miss_nest = (uint32_t)a_nest;
	funnel_extack_locate(&m.nlh, mlen, GENL_HDRLEN, &ext);
	assert_int_equal(ext.miss_in, 24);
	assert_int_equal(ext.bad_attr, -1);

	/* A request shorter than its headers. */
	funnel_extack_locate(&m.nlh, 10, GENL_HDRLEN, &ext);
	assert_int_equal(ext.miss_in, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_uncapped),
		cmocka_unit_test(test_error_capped_missing),
		cmocka_unit_test(test_error_without_tlvs),
		cmocka_unit_test(test_ack_with_warning),
		cmocka_unit_test(test_done),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_locate),
	};

	return cmocka_run_group_tests_name("extack", tests, NULL, NULL);
}
