// SPDX-License-Identifier: GPL-2.0
/* Unit tests of funnel-nl's PATH=TYPE:VALUE parser and the name tables. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <linux/funnel.h>

#include "attrspec.h"
#include "common/nlnames.h"

static uint8_t buf[64];
static char err[256];
static struct attrspec spec;

static int parse(const char *arg)
{
	memset(buf, 0x5a, sizeof(buf));
	err[0] = '\0';
	return attrspec_parse(arg, &spec, buf, sizeof(buf), err, sizeof(err));
}

static void parse_ok(const char *arg, unsigned int depth, size_t len)
{
	if (parse(arg))
		fail_msg("'%s' refused: %s", arg, err);
	assert_int_equal(spec.depth, depth);
	assert_int_equal(spec.len, len);
}

static void parse_fails(const char *arg, const char *why)
{
	if (!parse(arg))
		fail_msg("'%s' accepted", arg);
	if (!strstr(err, why))
		fail_msg("'%s': message '%s' lacks '%s'", arg, err, why);
}

static void test_integers(void **state)
{
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int32_t s32;

	(void)state;
	parse_ok("carrier-id=u32:1", 1, 4);
	assert_int_equal(spec.path[0], FUNNEL_A_CARRIER_ID);
	memcpy(&u32, buf, 4);
	assert_int_equal(u32, 1);

	parse_ok("stream-id=u16:0", 1, 2);
	assert_int_equal(spec.path[0], FUNNEL_A_STREAM_ID);
	memcpy(&u16, buf, 2);
	assert_int_equal(u16, 0);

	parse_ok("sock-fd=s32:-1", 1, 4);
	memcpy(&s32, buf, 4);
	assert_int_equal(s32, -1);
	parse_ok("sock-fd=s32:-2147483648", 1, 4);
	parse_fails("sock-fd=s32:2147483648", "bad s32 value");

	parse_ok("stream-kind=u32:0x10", 1, 4);
	memcpy(&u32, buf, 4);
	assert_int_equal(u32, 16);
	parse_ok("flow-max=u32:4294967295", 1, 4);
	parse_fails("flow-max=u32:4294967296", "bad u32 value");
	parse_fails("flow-max=u32:-1", "bad u32 value");
	parse_fails("flow-max=u32:", "bad u32 value");
	parse_fails("flow-max=u32:12abc", "bad u32 value");
	parse_fails("flow-max=u32: 1", "bad u32 value");

	parse_ok("30=u8:255", 1, 1);
	assert_int_equal(spec.path[0], 30);
	assert_int_equal(buf[0], 255);
	parse_fails("30=u8:256", "bad u8 value");

	parse_ok("keyconf.soft-limit=u64:18446744073709551615", 2, 8);
	memcpy(&u64, buf, 8);
	assert_true(u64 == UINT64_MAX);
}

static void test_big_endian(void **state)
{
	(void)state;
	parse_ok("local-port=be16:53", 1, 2);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[1], 53);
	parse_ok("remote-ipv4=be32:0x7f000001", 1, 4);
	assert_int_equal(buf[0], 0x7f);
	assert_int_equal(buf[3], 0x01);
	parse_fails("local-port=be16:65536", "bad be16 value");
}

static void test_strings_flags_hex(void **state)
{
	(void)state;
	parse_ok("version=str:abc", 1, 4);
	assert_memory_equal(buf, "abc", 4);
	parse_ok("version=str:", 1, 1);
	assert_int_equal(buf[0], 0);
	parse_ok("version=str:a:b=c", 1, 6);
	assert_memory_equal(buf, "a:b=c", 6);

	parse_ok("unordered=flag", 1, 0);
	assert_int_equal(spec.path[0], FUNNEL_A_UNORDERED);
	assert_false(spec.nest);
	parse_ok("unordered=flag:", 1, 0);
	parse_fails("unordered=flag:1", "bad flag value");

	parse_ok("local-ipv6=hex:000102030405060708090a0b0c0d0eFF", 1, 16);
	assert_int_equal(buf[1], 1);
	assert_int_equal(buf[15], 0xff);
	parse_ok("local-ipv6=hex:", 1, 0);
	parse_fails("local-ipv6=hex:abc", "bad hex value");
	parse_fails("local-ipv6=hex:zz", "bad hex value");
	/* Larger than the buffer. */
	parse_fails("local-ipv6=hex:"
		    "00000000000000000000000000000000000000000000000000000000"
		    "00000000000000000000000000000000000000000000000000000000"
		    "000000000000000000", "bad hex value");
	parse_ok("local-ipv6=hex:"
		 "00000000000000000000000000000000000000000000000000000000"
		 "00000000000000000000000000000000000000000000000000000000"
		 "00000000000000", 1, 63);
}

static void test_paths(void **state)
{
	(void)state;
	parse_ok("keyconf.encrypt-dir.key=hex:0011", 3, 2);
	assert_int_equal(spec.path[0], FUNNEL_A_KEYCONF);
	assert_int_equal(spec.path[1], FUNNEL_A_KEYCONF_ENCRYPT_DIR);
	assert_int_equal(spec.path[2], FUNNEL_A_KEYDIR_KEY);

	parse_ok("keyconf.decrypt-dir.salt=hex:01020304", 3, 4);
	assert_int_equal(spec.path[1], FUNNEL_A_KEYCONF_DECRYPT_DIR);
	assert_int_equal(spec.path[2], FUNNEL_A_KEYDIR_SALT);

	parse_ok("stats.rx-frames=u64:1", 2, 8);
	assert_int_equal(spec.path[1], FUNNEL_A_STATS_RX_FRAMES);

	parse_ok("keyconf=nest", 1, 0);
	assert_true(spec.nest);
	assert_int_equal(spec.path[0], FUNNEL_A_KEYCONF);
	parse_fails("keyconf=nest:x", "bad nest value");

	parse_ok("24.9=u32:1", 2, 4);	/* numbers all the way */
	assert_int_equal(spec.path[0], 24);
	assert_int_equal(spec.path[1], 9);
	parse_ok("carrier-id.5=u32:1", 2, 4);
	parse_ok("0=u32:1", 1, 4);
	parse_ok("16383=u8:1", 1, 1);
	parse_fails("16384=u8:1", "too large");

	parse_fails("carrier-id.slot=u32:1", "not in a known nest");
	parse_fails("keyconf.key=hex:00", "unknown attribute 'key' in set keyconf");
	parse_fails("nosuch=u32:1", "unknown attribute 'nosuch' in set funnel");
	parse_fails("keyconf..slot=u32:1", "bad attribute path");
	parse_fails(".slot=u32:1", "bad attribute path");
	parse_fails("keyconf.=u32:1", "bad attribute path");
	parse_fails("=u32:1", "bad attribute path");
	parse_fails("1.2.3.4.5=u32:1", "too deep");
	parse_ok("1.2.3.4=u32:1", 4, 4);
}

static void test_syntax(void **state)
{
	(void)state;
	parse_fails("carrier-id", "expected NAME=TYPE:VALUE");
	parse_fails("carrier-id=u33:1", "unknown type 'u33'");
	parse_fails("carrier-id=1", "unknown type '1'");
	parse_fails("carrier-id=verylongtype:1", "unknown type");
}

static void test_cmd_names(void **state)
{
	(void)state;
	assert_int_equal(funnel_cmd_lookup("info-get"), FUNNEL_CMD_INFO_GET);
	assert_int_equal(funnel_cmd_lookup("stream-new"), FUNNEL_CMD_STREAM_NEW);
	assert_int_equal(funnel_cmd_lookup("key-expire-ntf"),
			 FUNNEL_CMD_KEY_EXPIRE_NTF);
	assert_int_equal(funnel_cmd_lookup("nope"), -1);
	assert_int_equal(funnel_cmd_lookup(""), -1);
	assert_string_equal(funnel_cmd_name(FUNNEL_CMD_KEY_SWAP), "key-swap");
	assert_null(funnel_cmd_name(0));
	assert_null(funnel_cmd_name(FUNNEL_CMD_MAX + 1));
	assert_null(funnel_cmd_name(100000));
	assert_int_equal(funnel_cmd_max(), FUNNEL_CMD_MAX);
}

static void test_attr_tables(void **state)
{
	const struct funnel_attr_set *s = funnel_attr_set(FUNNEL_SET_FUNNEL);
	const struct funnel_attr_desc *d;

	(void)state;
	assert_null(funnel_attr_set(FUNNEL_SET_COUNT));
	assert_string_equal(s->name, "funnel");
	assert_int_equal(s->max, FUNNEL_A_MAX);
	assert_null(funnel_attr_desc(s, 0));
	assert_null(funnel_attr_desc(s, FUNNEL_A_MAX + 1));
	d = funnel_attr_desc(s, FUNNEL_A_LOCAL_IPV4);
	assert_non_null(d);
	assert_int_equal(d->kind, FUNNEL_NLA_U32);
	assert_int_equal(d->hint, FUNNEL_HINT_IPV4);
	d = funnel_attr_desc(s, FUNNEL_A_KEYCONF);
	assert_int_equal(d->kind, FUNNEL_NLA_NEST);
	assert_int_equal(d->nest, FUNNEL_SET_KEYCONF);
	assert_int_equal(funnel_attr_lookup(s, "pad"), FUNNEL_A_PAD);
	assert_int_equal(funnel_attr_lookup(s, "rx-frames"), -1);
	assert_string_equal(funnel_nla_kind_name(FUNNEL_NLA_BINARY), "binary");
	assert_string_equal(funnel_nla_kind_name((enum funnel_nla_kind)200), "?");
}

static void test_caps_format(void **state)
{
	char out[64], tiny[8];

	(void)state;
	funnel_caps_format(FUNNEL_CAP_AES_256_GCM | FUNNEL_CAP_IPV6, ",",
			   out, sizeof(out));
	assert_string_equal(out, "aes-256-gcm,ipv6");
	funnel_caps_format(FUNNEL_CAP_IPV6, ",", out, sizeof(out));
	assert_string_equal(out, "ipv6");
	funnel_caps_format(0, ",", out, sizeof(out));
	assert_string_equal(out, "none");
	funnel_caps_format(0x80000001, " ", out, sizeof(out));
	assert_string_equal(out, "aes-256-gcm bit31");
	assert_int_equal(funnel_caps_format(3, ",", tiny, sizeof(tiny)),
			 (int)strlen("aes-256-gcm,ipv6"));
	assert_string_equal(tiny, "aes-256");
	assert_string_equal(funnel_cap_name(0), "aes-256-gcm");
	assert_string_equal(funnel_cap_name(1), "ipv6");
	assert_string_equal(funnel_cap_name(2), "sctp");
	assert_null(funnel_cap_name(3));
	assert_null(funnel_cap_name(40));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_big_endian),
		cmocka_unit_test(test_strings_flags_hex),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_cmd_names),
		cmocka_unit_test(test_attr_tables),
		cmocka_unit_test(test_caps_format),
	};

	return cmocka_run_group_tests_name("attrspec", tests, NULL, NULL);
}
