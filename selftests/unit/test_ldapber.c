// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the LDAP message framer (ctl/common/ldapber.c,
 * Documentation/plugins.md section 6): messages captured from slapd 2.5
 * and OpenLDAP's ldapsearch, ldapcompare (both directions of one
 * connection, as they came), messages built by hand from RFC 4511 and
 * X.690, every error with its reason, and the direction rules (TLS after
 * StartTLS, a SASL layer after a bind).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/ldapber.h"

/*
 * One connection of "ldapsearch -x -D cn=admin,... -w secret -E
 * pr=2/noprompt '(uid=u*)' cn mail" against slapd with five entries:
 * what the client sent (BindRequest, three SearchRequests with the
 * paged results control, UnbindRequest) and what slapd answered.
 */
static const uint8_t search_c[] = {
	0x30, 0x2d, 0x02, 0x01, 0x01, 0x60, 0x28, 0x02, 0x01, 0x03, 0x04, 0x1b,
	0x63, 0x6e, 0x3d, 0x61, 0x64, 0x6d, 0x69, 0x6e, 0x2c, 0x64, 0x63, 0x3d,
	0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2c, 0x64, 0x63, 0x3d, 0x74,
	0x65, 0x73, 0x74, 0x80, 0x06, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x30,
	0x6f, 0x02, 0x01, 0x02, 0x63, 0x45, 0x04, 0x1c, 0x6f, 0x75, 0x3d, 0x70,
	0x65, 0x6f, 0x70, 0x6c, 0x65, 0x2c, 0x64, 0x63, 0x3d, 0x65, 0x78, 0x61,
	0x6d, 0x70, 0x6c, 0x65, 0x2c, 0x64, 0x63, 0x3d, 0x74, 0x65, 0x73, 0x74,
	0x0a, 0x01, 0x02, 0x0a, 0x01, 0x00, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00,
	0x01, 0x01, 0x00, 0xa4, 0x0a, 0x04, 0x03, 0x75, 0x69, 0x64, 0x30, 0x03,
	0x80, 0x01, 0x75, 0x30, 0x0a, 0x04, 0x02, 0x63, 0x6e, 0x04, 0x04, 0x6d,
	0x61, 0x69, 0x6c, 0xa0, 0x23, 0x30, 0x21, 0x04, 0x16, 0x31, 0x2e, 0x32,
	0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x31, 0x33, 0x35, 0x35, 0x36, 0x2e,
	0x31, 0x2e, 0x34, 0x2e, 0x33, 0x31, 0x39, 0x04, 0x07, 0x30, 0x05, 0x02,
	0x01, 0x02, 0x04, 0x00, 0x30, 0x77, 0x02, 0x01, 0x03, 0x63, 0x45, 0x04,
	0x1c, 0x6f, 0x75, 0x3d, 0x70, 0x65, 0x6f, 0x70, 0x6c, 0x65, 0x2c, 0x64,
	0x63, 0x3d, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2c, 0x64, 0x63,
	0x3d, 0x74, 0x65, 0x73, 0x74, 0x0a, 0x01, 0x02, 0x0a, 0x01, 0x00, 0x02,
	0x01, 0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00, 0xa4, 0x0a, 0x04, 0x03,
	0x75, 0x69, 0x64, 0x30, 0x03, 0x80, 0x01, 0x75, 0x30, 0x0a, 0x04, 0x02,
	0x63, 0x6e, 0x04, 0x04, 0x6d, 0x61, 0x69, 0x6c, 0xa0, 0x2b, 0x30, 0x29,
	0x04, 0x16, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x31,
	0x33, 0x35, 0x35, 0x36, 0x2e, 0x31, 0x2e, 0x34, 0x2e, 0x33, 0x31, 0x39,
	0x04, 0x0f, 0x30, 0x0d, 0x02, 0x01, 0x02, 0x04, 0x08, 0x04, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x77, 0x02, 0x01, 0x04, 0x63, 0x45,
	0x04, 0x1c, 0x6f, 0x75, 0x3d, 0x70, 0x65, 0x6f, 0x70, 0x6c, 0x65, 0x2c,
	0x64, 0x63, 0x3d, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2c, 0x64,
	0x63, 0x3d, 0x74, 0x65, 0x73, 0x74, 0x0a, 0x01, 0x02, 0x0a, 0x01, 0x00,
	0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00, 0xa4, 0x0a, 0x04,
	0x03, 0x75, 0x69, 0x64, 0x30, 0x03, 0x80, 0x01, 0x75, 0x30, 0x0a, 0x04,
	0x02, 0x63, 0x6e, 0x04, 0x04, 0x6d, 0x61, 0x69, 0x6c, 0xa0, 0x2b, 0x30,
	0x29, 0x04, 0x16, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31,
	0x31, 0x33, 0x35, 0x35, 0x36, 0x2e, 0x31, 0x2e, 0x34, 0x2e, 0x33, 0x31,
	0x39, 0x04, 0x0f, 0x30, 0x0d, 0x02, 0x01, 0x02, 0x04, 0x08, 0x06, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x05, 0x02, 0x01, 0x05, 0x42,
	0x00,
};

static const uint8_t search_s[] = {
	0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00,
	0x04, 0x00, 0x30, 0x57, 0x02, 0x01, 0x02, 0x64, 0x52, 0x04, 0x23, 0x75,
	0x69, 0x64, 0x3d, 0x75, 0x30, 0x2c, 0x6f, 0x75, 0x3d, 0x70, 0x65, 0x6f,
	0x70, 0x6c, 0x65, 0x2c, 0x64, 0x63, 0x3d, 0x65, 0x78, 0x61, 0x6d, 0x70,
	0x6c, 0x65, 0x2c, 0x64, 0x63, 0x3d, 0x74, 0x65, 0x73, 0x74, 0x30, 0x2b,
	0x30, 0x0e, 0x04, 0x02, 0x63, 0x6e, 0x31, 0x08, 0x04, 0x06, 0x55, 0x73,
	0x65, 0x72, 0x20, 0x30, 0x30, 0x19, 0x04, 0x04, 0x6d, 0x61, 0x69, 0x6c,
	0x31, 0x11, 0x04, 0x0f, 0x75, 0x30, 0x40, 0x65, 0x78, 0x61, 0x6d, 0x70,
	0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x30, 0x57, 0x02, 0x01, 0x02,
	0x64, 0x52, 0x04, 0x23, 0x75, 0x69, 0x64, 0x3d, 0x75, 0x31, 0x2c, 0x6f,
	0x75, 0x3d, 0x70, 0x65, 0x6f, 0x70, 0x6c, 0x65, 0x2c, 0x64, 0x63, 0x3d,
	0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2c, 0x64, 0x63, 0x3d, 0x74,
	0x65, 0x73, 0x74, 0x30, 0x2b, 0x30, 0x0e, 0x04, 0x02, 0x63, 0x6e, 0x31,
	0x08, 0x04, 0x06, 0x55, 0x73, 0x65, 0x72, 0x20, 0x31, 0x30, 0x19, 0x04,
	0x04, 0x6d, 0x61, 0x69, 0x6c, 0x31, 0x11, 0x04, 0x0f, 0x75, 0x31, 0x40,
	0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73, 0x74,
	0x30, 0x39, 0x02, 0x01, 0x02, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00,
	0x04, 0x00, 0xa0, 0x2b, 0x30, 0x29, 0x04, 0x16, 0x31, 0x2e, 0x32, 0x2e,
	0x38, 0x34, 0x30, 0x2e, 0x31, 0x31, 0x33, 0x35, 0x35, 0x36, 0x2e, 0x31,
	0x2e, 0x34, 0x2e, 0x33, 0x31, 0x39, 0x04, 0x0f, 0x30, 0x0d, 0x02, 0x01,
	0x00, 0x04, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30,
	0x57, 0x02, 0x01, 0x03, 0x64, 0x52, 0x04, 0x23, 0x75, 0x69, 0x64, 0x3d,
	0x75, 0x32, 0x2c, 0x6f, 0x75, 0x3d, 0x70, 0x65, 0x6f, 0x70, 0x6c, 0x65,
	0x2c, 0x64, 0x63, 0x3d, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2c,
	0x64, 0x63, 0x3d, 0x74, 0x65, 0x73, 0x74, 0x30, 0x2b, 0x30, 0x0e, 0x04,
	0x02, 0x63, 0x6e, 0x31, 0x08, 0x04, 0x06, 0x55, 0x73, 0x65, 0x72, 0x20,
	0x32, 0x30, 0x19, 0x04, 0x04, 0x6d, 0x61, 0x69, 0x6c, 0x31, 0x11, 0x04,
	0x0f, 0x75, 0x32, 0x40, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e,
	0x74, 0x65, 0x73, 0x74, 0x30, 0x57, 0x02, 0x01, 0x03, 0x64, 0x52, 0x04,
	0x23, 0x75, 0x69, 0x64, 0x3d, 0x75, 0x33, 0x2c, 0x6f, 0x75, 0x3d, 0x70,
	0x65, 0x6f, 0x70, 0x6c, 0x65, 0x2c, 0x64, 0x63, 0x3d, 0x65, 0x78, 0x61,
	0x6d, 0x70, 0x6c, 0x65, 0x2c, 0x64, 0x63, 0x3d, 0x74, 0x65, 0x73, 0x74,
	0x30, 0x2b, 0x30, 0x0e, 0x04, 0x02, 0x63, 0x6e, 0x31, 0x08, 0x04, 0x06,
	0x55, 0x73, 0x65, 0x72, 0x20, 0x33, 0x30, 0x19, 0x04, 0x04, 0x6d, 0x61,
	0x69, 0x6c, 0x31, 0x11, 0x04, 0x0f, 0x75, 0x33, 0x40, 0x65, 0x78, 0x61,
	0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x30, 0x39, 0x02,
	0x01, 0x03, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00, 0xa0,
	0x2b, 0x30, 0x29, 0x04, 0x16, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30,
	0x2e, 0x31, 0x31, 0x33, 0x35, 0x35, 0x36, 0x2e, 0x31, 0x2e, 0x34, 0x2e,
	0x33, 0x31, 0x39, 0x04, 0x0f, 0x30, 0x0d, 0x02, 0x01, 0x00, 0x04, 0x08,
	0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x57, 0x02, 0x01,
	0x04, 0x64, 0x52, 0x04, 0x23, 0x75, 0x69, 0x64, 0x3d, 0x75, 0x34, 0x2c,
	0x6f, 0x75, 0x3d, 0x70, 0x65, 0x6f, 0x70, 0x6c, 0x65, 0x2c, 0x64, 0x63,
	0x3d, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2c, 0x64, 0x63, 0x3d,
	0x74, 0x65, 0x73, 0x74, 0x30, 0x2b, 0x30, 0x0e, 0x04, 0x02, 0x63, 0x6e,
	0x31, 0x08, 0x04, 0x06, 0x55, 0x73, 0x65, 0x72, 0x20, 0x34, 0x30, 0x19,
	0x04, 0x04, 0x6d, 0x61, 0x69, 0x6c, 0x31, 0x11, 0x04, 0x0f, 0x75, 0x34,
	0x40, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73,
	0x74, 0x30, 0x31, 0x02, 0x01, 0x04, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04,
	0x00, 0x04, 0x00, 0xa0, 0x23, 0x30, 0x21, 0x04, 0x16, 0x31, 0x2e, 0x32,
	0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x31, 0x33, 0x35, 0x35, 0x36, 0x2e,
	0x31, 0x2e, 0x34, 0x2e, 0x33, 0x31, 0x39, 0x04, 0x07, 0x30, 0x05, 0x02,
	0x01, 0x00, 0x04, 0x00,
};

/* "30 0c 02 01 01" -> bytes; returns the length. */
static size_t hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned int b;

	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		assert_true(sscanf(s, "%2x", &b) == 1);
		assert_true(n < cap);
		out[n++] = (uint8_t)b;
		s += 2;
	}
	return n;
}

/* Parse the hex message whole: LDAPBER_MSG of all its bytes. */
static void parse_whole(const char *h, struct ldapber_msg *m)
{
	uint8_t b[256];
	size_t n = hex(h, b, sizeof(b));
	char why[LDAPBER_WHY_MAX];

	assert_int_equal(ldapber_parse(b, n, LDAPBER_MAX_DEFAULT, m, why,
				       sizeof(why)), LDAPBER_MSG);
	assert_int_equal(m->len, n);
	assert_true(m->hdr);
}

/* Every message of a stream, in order; checks each prefix of each. */
static size_t split(const uint8_t *p, size_t n, struct ldapber_msg *out,
		    size_t max_out)
{
	size_t off = 0, k = 0;
	struct ldapber_msg m;
	char why[LDAPBER_WHY_MAX];

	while (off < n) {
		size_t len;

		assert_int_equal(ldapber_parse(p + off, n - off, 0, &m, why,
					       sizeof(why)), LDAPBER_MSG);
		len = m.len;
		/* each shorter prefix: need more, never an error */
		for (size_t i = 0; i < len; i++) {
			struct ldapber_msg pm;

			assert_int_equal(ldapber_parse(p + off, i, 0, &pm, why,
						       sizeof(why)),
					 LDAPBER_NEED_MORE);
			assert_true(pm.need > i);
			assert_true(pm.need <= len);
			assert_true(pm.len == 0 || pm.len == len);
			if (pm.hdr) {
				assert_int_equal(pm.need, len);
				assert_int_equal(pm.id, m.id);
				assert_int_equal(pm.op, m.op);
			}
		}
		assert_true(k < max_out);
		out[k++] = m;
		off += len;
	}
	return k;
}

static void test_captured_streams(void **state)
{
	static const uint8_t c_ops[] = { 0, 3, 3, 3, 2 };
	static const uint32_t c_ids[] = { 1, 2, 3, 4, 5 };
	static const uint8_t s_ops[] = { 1, 4, 4, 5, 4, 4, 5, 4, 5 };
	static const uint32_t s_ids[] = { 1, 2, 2, 2, 3, 3, 3, 4, 4 };
	static const size_t s_lens[] = { 14, 89, 89, 59, 89, 89, 59, 89, 51 };
	struct ldapber_msg m[16];
	size_t k;

	(void)state;
	k = split(search_c, sizeof(search_c), m, 16);
	assert_int_equal(k, 5);
	for (size_t i = 0; i < k; i++) {
		assert_int_equal(m[i].op, c_ops[i]);
		assert_int_equal(m[i].id, c_ids[i]);
		assert_true(ldap_op_is_request(m[i].op));
	}
	assert_false(m[0].sasl);		/* a simple bind */
	assert_string_equal(ldap_op_name(m[1].op), "SearchRequest");

	k = split(search_s, sizeof(search_s), m, 16);
	assert_int_equal(k, 9);
	for (size_t i = 0; i < k; i++) {
		assert_int_equal(m[i].op, s_ops[i]);
		assert_int_equal(m[i].id, s_ids[i]);
		assert_int_equal(m[i].len, s_lens[i]);
		assert_false(ldap_op_is_request(m[i].op));
		/* a resultCode for BindResponse and SearchResultDone only */
		assert_int_equal(m[i].result,
				 m[i].op == LDAP_OP_SEARCH_ENTRY ? -1 : 0);
	}
}

/* Single messages captured from ldapcompare, StartTLS, a size limit. */
static void test_captured_messages(void **state)
{
	struct ldapber_msg m;

	(void)state;
	/* ldapcompare uid=u1,... cn:"User 1": CompareRequest, compareTrue */
	parse_whole("30 38 02 01 02 6e 33 04 23 75 69 64 3d 75 31 2c 6f 75 3d 70"
		    " 65 6f 70 6c 65 2c 64 63 3d 65 78 61 6d 70 6c 65 2c 64 63 3d"
		    " 74 65 73 74 30 0c 04 02 63 6e 04 06 55 73 65 72 20 31", &m);
	assert_int_equal(m.op, LDAP_OP_COMPARE_REQ);
	assert_int_equal(m.op_tag, 0x6e);
	assert_int_equal(m.id, 2);
	parse_whole("30 0c 02 01 02 6f 07 0a 01 06 04 00 04 00", &m);
	assert_int_equal(m.op, LDAP_OP_COMPARE_RESP);
	assert_int_equal(m.result, 6);			/* compareTrue */

	/* ldapsearch -ZZ: StartTLS, refused with protocolError (2) */
	parse_whole("30 1d 02 01 01 77 18 80 16 31 2e 33 2e 36 2e 31 2e 34 2e 31"
		    " 2e 31 34 36 36 2e 32 30 30 33 37", &m);
	assert_int_equal(m.op, LDAP_OP_EXT_REQ);
	assert_true(m.starttls);
	parse_whole("30 2a 02 01 01 78 25 0a 01 02 04 00 04 1e 75 6e 73 75 70 70"
		    " 6f 72 74 65 64 20 65 78 74 65 6e 64 65 64 20 6f 70 65 72 61"
		    " 74 69 6f 6e", &m);
	assert_int_equal(m.op, LDAP_OP_EXT_RESP);
	assert_int_equal(m.result, 2);
	/* another extended operation (Who am I?) is not StartTLS */
	parse_whole("30 1e 02 01 01 77 19 80 17 31 2e 33 2e 36 2e 31 2e 34 2e 31"
		    " 2e 34 32 30 33 2e 31 2e 31 31 2e 33", &m);
	assert_false(m.starttls);

	/* anonymous bind; ldapsearch -z 1: sizeLimitExceeded (4) */
	parse_whole("30 0c 02 01 01 60 07 02 01 03 04 00 80 00", &m);
	assert_int_equal(m.op, LDAP_OP_BIND_REQ);
	assert_false(m.sasl);
	parse_whole("30 0c 02 01 02 65 07 0a 01 04 04 00 04 00", &m);
	assert_int_equal(m.result, 4);
	parse_whole("30 05 02 01 03 42 00", &m);
	assert_int_equal(m.op, LDAP_OP_UNBIND_REQ);
	assert_int_equal(m.op_tag, 0x42);
}

/* Built from RFC 4511 and X.690: forms BER allows. */
static void test_built(void **state)
{
	struct ldapber_msg m;

	(void)state;
	/* long-form lengths with leading zeros, as Active Directory sends */
	parse_whole("30 84 00 00 00 10 02 01 01 61 84 00 00 00 07 0a 01 00 04 00"
		    " 04 00", &m);
	assert_int_equal(m.op, LDAP_OP_BIND_RESP);
	assert_int_equal(m.result, 0);
	parse_whole("30 81 07 02 01 07 42 82 00 00", &m);
	assert_int_equal(m.id, 7);
	/* messageIDs: 0 (notice), 255 (00 ff is minimal), 2^31 - 1 */
	parse_whole("30 0c 02 01 00 78 07 0a 01 34 04 00 04 00", &m);
	assert_int_equal(m.id, 0);
	assert_int_equal(m.result, 52);			/* unavailable */
	parse_whole("30 06 02 02 00 ff 42 00", &m);
	assert_int_equal(m.id, 255);
	parse_whole("30 08 02 04 7f ff ff ff 42 00", &m);
	assert_int_equal(m.id, 0x7fffffff);
	/* AbandonRequest of operation 0x1234; DelRequest (primitive) */
	parse_whole("30 07 02 01 09 50 02 12 34", &m);
	assert_int_equal(m.op, LDAP_OP_ABANDON_REQ);
	assert_int_equal(m.abandon_id, 0x1234);
	parse_whole("30 0a 02 01 09 4a 05 64 63 3d 78 31", &m);
	assert_int_equal(m.op, LDAP_OP_DEL_REQ);
	/* SASL bind (GSSAPI); IntermediateResponse; SearchResultReference */
	parse_whole("30 14 02 01 01 60 0f 02 01 03 04 00 a3 08 04 06 47 53 53 41"
		    " 50 49", &m);
	assert_true(m.sasl);
	parse_whole("30 07 02 01 04 79 02 80 00", &m);
	assert_int_equal(m.op, LDAP_OP_INTERMEDIATE);
	parse_whole("30 0b 02 01 04 73 06 04 04 6c 64 61 70", &m);
	assert_int_equal(m.op, LDAP_OP_SEARCH_REF);
	/* controls, then a component of a later version (high tag number) */
	parse_whole("30 0e 02 01 03 42 00 a0 00 bf 81 01 03 01 02 03", &m);
	assert_int_equal(m.len, 16);
	/* the limit: a message of exactly max bytes is taken */
	{
		uint8_t b[16];
		size_t n = hex("30 05 02 01 01 42 00", b, sizeof(b));
		char why[LDAPBER_WHY_MAX];

		assert_int_equal(ldapber_parse(b, n, 7, &m, why, sizeof(why)),
				 LDAPBER_MSG);
	}
	assert_string_equal(ldap_op_name(LDAP_OP_SEARCH_ENTRY),
			    "SearchResultEntry");
	assert_string_equal(ldap_op_name(17), "?");
	assert_string_equal(ldap_op_name(1000), "?");
}

/* A header known before the message is whole: its length, id, op. */
static void test_need_more(void **state)
{
	uint8_t b[8] = { 0x30, 0x84, 0x00, 0x01, 0x00, 0x00, 0x02, 0x01 };
	struct ldapber_msg m;
	char why[LDAPBER_WHY_MAX];

	(void)state;
	assert_int_equal(ldapber_parse(b, 0, 0, &m, why, sizeof(why)),
			 LDAPBER_NEED_MORE);
	assert_int_equal(m.need, 1);
	assert_int_equal(ldapber_parse(b, 3, 0, &m, why, sizeof(why)),
			 LDAPBER_NEED_MORE);
	assert_false(m.hdr);
	assert_int_equal(m.need, 6);	/* the 4 length octets */
	assert_int_equal(m.len, 0);
	assert_int_equal(ldapber_parse(b, 8, 0, &m, why, sizeof(why)),
			 LDAPBER_NEED_MORE);
	assert_false(m.hdr);
	assert_int_equal(m.len, 0x10006);	/* known from the 6 first */
	assert_int_equal(m.need, 9);
	{
		/* a 64 KiB + 6 byte SearchResultEntry: its header suffices */
		uint8_t h[16];
		size_t n = hex("30 84 00 01 00 00 02 01 05 64 84 00 00 ff f5",
			       h, sizeof(h));

		assert_int_equal(ldapber_parse(h, n, 0, &m, why, sizeof(why)),
				 LDAPBER_NEED_MORE);
		assert_true(m.hdr);
		assert_int_equal(m.len, 0x10006);
		assert_int_equal(m.need, 0x10006);
		assert_int_equal(m.id, 5);
		assert_int_equal(m.op, LDAP_OP_SEARCH_ENTRY);
		/* over a limit of 64 KiB: refused from its header */
		assert_int_equal(ldapber_parse(h, 6, 65536, &m, why,
					       sizeof(why)), LDAPBER_ERR);
		assert_string_equal(why,
				    "message of 65542 bytes over the limit of 65536");
	}
}

struct bad {
	const char *hex;
	const char *why;
};

/* Every error, with its reason; each as soon as the bytes show it. */
static void test_errors(void **state)
{
	static const struct bad bad[] = {
		{ "31 05 02 01 01 42 00",
		  "LDAPMessage tag 0x31 is not a SEQUENCE (0x30)" },
		{ "16",
		  "LDAPMessage tag 0x16 is not a SEQUENCE (0x30): a TLS record? (ldaps takes a plain tcp service)" },
		{ "30 80",
		  "indefinite length (0x80) after tag 0x30 (LDAPMessage): LDAP takes definite lengths only" },
		{ "30 ff", "reserved length octet 0xff after tag 0x30 (LDAPMessage)" },
		{ "30 85", "length of LDAPMessage in 5 octets (0x85): at most 4" },
		{ "30 fe", "length of LDAPMessage in 126 octets (0xfe): at most 4" },
		{ "30 84 ff ff ff ff",
		  "message of 4294967301 bytes over the limit of 16777216" },
		{ "30 03 02 01 01",
		  "message of 5 bytes: shorter than any LDAPMessage (7)" },
		{ "30 05 04 01 01 42 00",
		  "messageID tag 0x04 is not an INTEGER (0x02)" },
		{ "30 06 1f 81 01 00 42 00",
		  "messageID tag 0x1f is not an INTEGER (0x02)" },
		{ "30 06 02 00 42 00 a0 00",
		  "messageID is empty (an INTEGER has 1 octet at least)" },
		{ "30 0a 02 05",
		  "messageID of 5 octets: out of range 0..2^31-1" },
		{ "30 05 02 01 80 42 00",
		  "messageID is negative (first octet 0x80): out of range 0..2^31-1" },
		{ "30 08 02 04 80 00 00 00 42 00",
		  "messageID is negative (first octet 0x80): out of range 0..2^31-1" },
		{ "30 06 02 02 00 05 42 00",
		  "messageID is not minimal (leading 0x00 before 0x05)" },
		{ "30 05 02 09",
		  "truncated messageID: 9 bytes, 3 left in its container" },
		{ "30 05 02 84 00 00 00",
		  "truncated length of messageID" },
		{ "30 05 02 80",
		  "indefinite length (0x80) after tag 0x02 (messageID): LDAP takes definite lengths only" },
		{ "30 05 02 01 01 71 00", "unknown protocolOp tag 0x71" },
		{ "30 05 02 01 01 5a 00", "unknown protocolOp tag 0x5a" },
		{ "30 05 02 01 01 57 00",
		  "ExtendedRequest (tag 0x57) is primitive: it must be constructed" },
		{ "30 05 02 01 01 a0 00",
		  "unknown protocolOp tag 0xa0 (not [APPLICATION n])" },
		{ "30 05 02 01 01 30 00",
		  "unknown protocolOp tag 0x30 (not [APPLICATION n])" },
		{ "30 06 02 01 01 7f 20 00",
		  "unknown protocolOp tag 0x7f (high tag number form)" },
		{ "30 05 02 01 01 62 00",
		  "UnbindRequest (tag 0x62) is constructed: it must be primitive" },
		{ "30 05 02 01 01 43 00",
		  "SearchRequest (tag 0x43) is primitive: it must be constructed" },
		{ "30 05 02 01 01 70 00",
		  "AbandonRequest (tag 0x70) is constructed: it must be primitive" },
		{ "30 05 02 01 01 60 05",
		  "truncated protocolOp: 5 bytes, 0 left in its container" },
		{ "30 03 02 01 01 42 00",
		  "message of 5 bytes: shorter than any LDAPMessage (7)" },
		{ "30 06 02 01 01 42 01 00",
		  "UnbindRequest of 1 octets: it is empty (NULL)" },
		{ "30 07 02 01 02 50 02 00 01",
		  "AbandonRequest's messageID is not minimal (leading 0x00 before 0x01)" },
		{ "30 05 02 01 02 50 00",
		  "AbandonRequest's messageID is empty (an INTEGER has 1 octet at least)" },
		{ "30 06 02 01 02 50 01 ff",
		  "AbandonRequest's messageID is negative (first octet 0xff): out of range 0..2^31-1" },
		{ "30 06 02 01 01 42 00 a0",
		  "truncated controls: no room for its length" },
		{ "30 07 02 01 01 42 00 a0 05",
		  "truncated controls: 5 bytes, 0 left in its container" },
		{ "30 09 02 01 01 42 00 a0 00 04 03",
		  "truncated component after controls: 3 bytes, 0 left in its container" },
		{ "30 08 02 01 01 42 00 1f 80 01",
		  "controls tag number with a leading zero octet (0x80)" },
		{ "30 0b 02 01 01 42 00 1f 81 81 81 81 01",
		  "controls tag number in more than 4 octets" },
		{ "30 06 02 01 01 42 00 1f",
		  "truncated controls tag" },
	};
	char why[LDAPBER_WHY_MAX];
	struct ldapber_msg m;
	uint8_t b[64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = hex(bad[i].hex, b, sizeof(b));

		if (ldapber_parse(b, n, LDAPBER_MAX_DEFAULT, &m, why,
				  sizeof(why)) != LDAPBER_ERR)
			fail_msg("'%s' was taken", bad[i].hex);
		if (strcmp(why, bad[i].why))
			fail_msg("'%s': '%s', expected '%s'", bad[i].hex, why,
				 bad[i].why);
	}
	/* a reason is cut to the room given, and NULL is no room */
	{
		char small[8];
		size_t n = hex("30 80", b, sizeof(b));

		assert_int_equal(ldapber_parse(b, n, 0, &m, small,
					       sizeof(small)), LDAPBER_ERR);
		assert_string_equal(small, "indefin");
		assert_int_equal(ldapber_parse(b, n, 0, &m, NULL, 0),
				 LDAPBER_ERR);
	}
}

/* One direction: request/response and messageID 0 rules. */
static void dir_err(bool from_service, const char *h, const char *want)
{
	struct ldap_dir d = { .from_service = from_service };
	struct ldapber_msg m;
	char why[LDAPBER_WHY_MAX];
	uint8_t b[64];
	size_t n = hex(h, b, sizeof(b));

	assert_int_equal(ldap_dir_next(&d, b, n, 0, &m, why, sizeof(why)),
			 LDAPBER_ERR);
	assert_string_equal(why, want);
}

static enum ldapber_status dir_step(struct ldap_dir *d, const char *h,
				    struct ldapber_msg *m)
{
	char why[LDAPBER_WHY_MAX];
	uint8_t b[64];
	size_t n = hex(h, b, sizeof(b));
	return ldap_dir_next(d, b, n, 0, m, why, sizeof(why));
}

static void test_direction(void **state)
{
	struct ldapber_msg m;
	struct ldap_dir d = { .from_service = true };

	(void)state;
	dir_err(true, "30 05 02 01 01 42 00",
		"UnbindRequest (messageID 1) from the service: it sends responses");
	dir_err(false, "30 0c 02 01 02 65 07 0a 01 04 04 00 04 00",
		"SearchResultDone (messageID 2) from the client: it sends requests");
	dir_err(false, "30 05 02 01 00 42 00",
		"UnbindRequest with messageID 0: only an unsolicited notification (ExtendedResponse) has it");
	dir_err(true, "30 0c 02 01 00 65 07 0a 01 04 04 00 04 00",
		"SearchResultDone with messageID 0: only an unsolicited notification (ExtendedResponse) has it");
	/* known from the header alone: the rest need not have come */
	dir_err(true, "30 84 00 01 00 00 02 01 05 63 84 00 00 ff f5",
		"SearchRequest (messageID 5) from the service: it sends responses");
	/* a Notice of Disconnection from the service is taken */
	assert_int_equal(dir_step(&d, "30 0c 02 01 00 78 07 0a 01 34 04 00 04 00",
				  &m), LDAPBER_MSG);
	assert_int_equal(m.id, 0);
	/* an entry, split: need more, then the message */
	assert_int_equal(dir_step(&d, "30 0b 02 01 04 73 06 04", &m),
			 LDAPBER_NEED_MORE);
	assert_true(m.hdr);
	assert_int_equal(dir_step(&d, "30 0b 02 01 04 73 06 04 04 6c 64 61 70",
				  &m), LDAPBER_MSG);
}

/* TLS after StartTLS, a SASL layer after a bind: plugins.md 6.3. */
static void test_leave_ldap(void **state)
{
	static const char *const tls = "16 03 01 02 00 01 00 01 fc 03 03";
	static const char *const sasl = "00 00 00 3c 05 04 06 ff 00 0c";
	static const char *const starttls =
		"30 1d 02 01 01 77 18 80 16 31 2e 33 2e 36 2e 31 2e 34 2e 31"
		" 2e 31 34 36 36 2e 32 30 30 33 37";
	static const char *const bind_ok =
		"30 0c 02 01 01 61 07 0a 01 00 04 00 04 00";
	static const char *const bind_fail =
		"30 0c 02 01 01 61 07 0a 01 31 04 00 04 00";
	static const char *const ext_fail =
		"30 0c 02 01 01 78 07 0a 01 02 04 00 04 00";
	static const char *const compare =
		"30 0c 02 01 02 6e 07 04 00 30 03 04 01 61";
	struct ldapber_msg m;
	struct ldap_dir c = { 0 }, s = { .from_service = true };

	(void)state;
	/* client: TLS bytes only right after a StartTLS request */
	assert_int_equal(dir_step(&c, tls, &m), LDAPBER_ERR);
	assert_int_equal(dir_step(&c, starttls, &m), LDAPBER_MSG);
	assert_true(c.may_leave);
	assert_int_equal(dir_step(&c, tls, &m), LDAPBER_OPAQUE);
	assert_int_equal(m.len, 11);
	assert_true(c.opaque);
	/* and for good: even what looks like LDAP is plain bytes now */
	assert_int_equal(dir_step(&c, compare, &m), LDAPBER_OPAQUE);
	assert_int_equal(m.len, 14);

	/* client: StartTLS refused, LDAP goes on, TLS is an error again */
	memset(&c, 0, sizeof(c));
	assert_int_equal(dir_step(&c, starttls, &m), LDAPBER_MSG);
	assert_int_equal(dir_step(&c, compare, &m), LDAPBER_MSG);
	assert_false(c.may_leave);
	assert_int_equal(dir_step(&c, tls, &m), LDAPBER_ERR);

	/* client: a SASL buffer after a SASL bind, not after a simple one */
	memset(&c, 0, sizeof(c));
	assert_int_equal(dir_step(&c, "30 0c 02 01 01 60 07 02 01 03 04 00 80 00",
				  &m), LDAPBER_MSG);
	assert_int_equal(dir_step(&c, sasl, &m), LDAPBER_ERR);
	memset(&c, 0, sizeof(c));
	assert_int_equal(dir_step(&c, "30 14 02 01 01 60 0f 02 01 03 04 00 a3 08"
				      " 04 06 47 53 53 41 50 49", &m),
			 LDAPBER_MSG);
	assert_int_equal(dir_step(&c, sasl, &m), LDAPBER_OPAQUE);

	/* service: after a successful BindResponse or ExtendedResponse */
	assert_int_equal(dir_step(&s, bind_fail, &m), LDAPBER_MSG);
	assert_int_equal(dir_step(&s, sasl, &m), LDAPBER_ERR);
	memset(&s, 0, sizeof(s));
	s.from_service = true;
	assert_int_equal(dir_step(&s, ext_fail, &m), LDAPBER_MSG);
	assert_int_equal(dir_step(&s, tls, &m), LDAPBER_ERR);
	memset(&s, 0, sizeof(s));
	s.from_service = true;
	assert_int_equal(dir_step(&s, bind_ok, &m), LDAPBER_MSG);
	assert_int_equal(dir_step(&s, bind_ok, &m), LDAPBER_MSG);  /* LDAP */
	assert_int_equal(dir_step(&s, sasl, &m), LDAPBER_OPAQUE);
	/* an empty buffer decides nothing */
	memset(&c, 0, sizeof(c));
	assert_int_equal(dir_step(&c, starttls, &m), LDAPBER_MSG);
	assert_int_equal(ldap_dir_next(&c, NULL, 0, 0, &m, NULL, 0),
			 LDAPBER_NEED_MORE);
	assert_false(c.opaque);
}

/* ---- which messages share a frame (ldap_pack(), plugins.md 5.3) ---- */

#define E2 "30 0c 02 01 02 64 07 04 01 78 30 02 30 00 "	/* entry, id 2 */
#define E3 "30 0c 02 01 03 64 07 04 01 78 30 02 30 00 "	/* entry, id 3 */
#define R2 "30 0a 02 01 02 73 05 04 03 6c 64 61 "		/* reference */
#define D2 "30 0c 02 01 02 65 07 0a 01 00 04 00 04 00 "	/* done, id 2 */
#define B2 "30 0c 02 01 02 61 07 0a 01 00 04 00 04 00 "	/* BindResponse */
#define C4 "30 0c 02 01 04 6f 07 0a 01 06 04 00 04 00 "	/* CompareResponse */

/*
 * The frame that starts at the first message of hex h (read by
 * ldap_dir_next() as tpath.c does), then ldap_pack() with room, credit
 * and cost_min; *d is the direction after it.
 */
static struct ldap_pack pack(struct ldap_dir *d, const char *h, size_t room,
			     uint64_t credit, size_t cost_min)
{
	char why[LDAPBER_WHY_MAX];
	struct ldapber_msg m;
	struct ldap_pack pk;
	uint8_t b[512];
	size_t n = hex(h, b, sizeof(b));

	assert_int_equal(ldap_dir_next(d, b, n, LDAPBER_MAX_DEFAULT, &m, why,
				       sizeof(why)), LDAPBER_MSG);
	memset(&pk, 0xa5, sizeof(pk));
	ldap_pack(d, b, n, &m, room, credit, cost_min, &pk);
	assert_true(pk.len >= m.len && pk.len <= n);
	return pk;
}

static void test_pack(void **state)
{
	struct ldap_dir d = { .from_service = true };
	struct ldap_dir c = { .from_service = false };
	char why[LDAPBER_WHY_MAX];
	struct ldapber_msg m;
	struct ldap_pack pk;
	uint8_t b[64];
	size_t n;

	(void)state;
	/* a search's entries, references and its done: one frame, LAST */
	pk = pack(&d, E2 E2 R2 E2 D2 E2, 65503, UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 5);
	assert_int_equal(pk.len, 14 * 4 + 12);
	assert_int_equal(pk.key, 2);
	assert_int_equal(pk.order, LDAP_ORDER_FREE | LDAP_ORDER_LAST);
	/* entries of one operation, not done: FREE */
	pk = pack(&d, E2 E2 E2, 65503, UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 3);
	assert_int_equal(pk.order, LDAP_ORDER_FREE);
	/* mixed operations: another key ends the frame */
	pk = pack(&d, E2 E3 E2, 65503, UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 1);
	assert_int_equal(pk.len, 14);
	pk = pack(&d, E2 E2 C4 E2, 65503, UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 2);
	assert_int_equal(pk.key, 2);
	/* an operation's last message goes first: alone */
	pk = pack(&d, C4 C4, 65503, UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 1);
	assert_int_equal(pk.order, LDAP_ORDER_FREE | LDAP_ORDER_LAST);
	pk = pack(&d, D2 E2, 65503, UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 1);
	/* a barrier: alone, and never after others, even of its key; the
	 * direction stays where the frame ends (a BindResponse of success
	 * not taken: the next byte may not leave LDAP yet)
	 */
	pk = pack(&d, B2 E2, 65503, UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 1);
	assert_int_equal(pk.order, LDAP_ORDER_BARRIER);
	d.may_leave = false;
	pk = pack(&d, E2 E2 B2, 65503, UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 2);
	assert_false(d.may_leave);
	assert_false(d.opaque);
	/* malformed BER after good messages: they go, it is left */
	pk = pack(&d, E2 E2 "30 80 02 01 02", 65503, UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 2);
	assert_int_equal(pk.len, 28);
	n = hex("30 80 02 01 02", b, sizeof(b));
	assert_int_equal(ldap_dir_next(&d, b, n, LDAPBER_MAX_DEFAULT, &m, why,
				       sizeof(why)), LDAPBER_ERR);
	/* a message cut at the end of what was peeked: left */
	pk = pack(&d, E2 E2 "30 0c 02 01 02 64", 65503, UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 2);
	/* a message larger than a frame (its header only here): left */
	pk = pack(&d, E2 "30 84 00 01 00 00 02 01 02 64 84 00 00 ff f5", 65503,
		  UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 1);
	/* a message larger than what is left of the frame: the next frame */
	pk = pack(&d, E2 E2 E2 E2, 41, UINT64_MAX, 0);
	assert_int_equal(pk.msgs, 2);
	pk = pack(&d, E2 E2 E2 E2, 42, UINT64_MAX, 0);
	assert_int_equal(pk.msgs, 3);
	pk = pack(&d, E2 E2, 14, UINT64_MAX, 0);
	assert_int_equal(pk.msgs, 1);
	/* credit short: a frame costs max(bytes, cost_min) */
	pk = pack(&d, E2 E2 E2, 65503, 256, 256);
	assert_int_equal(pk.msgs, 3);	/* 42 bytes cost 256 */
	pk = pack(&d, E2 E2 E2, 65503, 255, 256);
	assert_int_equal(pk.msgs, 1);	/* the first: the caller's */
	pk = pack(&d, E2 E2 E2, 65503, 28, 0);
	assert_int_equal(pk.msgs, 2);
	pk = pack(&d, E2 E2 E2, 65503, 27, 0);
	assert_int_equal(pk.msgs, 1);
	/* requests: an AbandonRequest is keyed by what it abandons, so it
	 * follows a DelRequest of messageID 5 in its frame; a request of
	 * another messageID does not
	 */
	pk = pack(&c, "30 08 02 01 05 4a 03 61 3d 62 30 06 02 01 06 50 01 05",
		  65503, UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 2);
	assert_int_equal(pk.key, 5);
	pk = pack(&c, "30 08 02 01 05 4a 03 61 3d 62 30 08 02 01 06 4a 03 61 3d 62",
		  65503, UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 1);
	/* a request of the wrong direction after a good one: left */
	pk = pack(&c, "30 08 02 01 05 4a 03 61 3d 62 " E2, 65503, UINT64_MAX,
		  256);
	assert_int_equal(pk.msgs, 1);
	/* an UnbindRequest: a barrier */
	pk = pack(&c, "30 05 02 01 07 42 00 30 05 02 01 07 42 00", 65503,
		  UINT64_MAX, 256);
	assert_int_equal(pk.msgs, 1);
	assert_int_equal(pk.order, LDAP_ORDER_BARRIER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured_streams),
		cmocka_unit_test(test_captured_messages),
		cmocka_unit_test(test_built),
		cmocka_unit_test(test_need_more),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_leave_ldap),
		cmocka_unit_test(test_pack),
	};

	return cmocka_run_group_tests_name("ldapber", tests, NULL, NULL);
}
