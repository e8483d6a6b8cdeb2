// SPDX-License-Identifier: GPL-2.0
/*
 * Key bytes do not outlive a netlink request: kpath.c builds key-new and
 * stream-new requests with the stream's keys in libnl message buffers,
 * and every one of those buffers must be wiped before libnl frees it, on
 * every path (sent and answered, refused by the kernel, failed while
 * being built).
 *
 * The test links the real kpath.c, genl.c and libnl, and talks to the
 * real kernel: the requests go to the generic netlink controller
 * ("nlctrl", which every kernel has, funnel.ko is not needed), which
 * refuses them.  The linker wraps two libnl functions (-Wl,--wrap):
 * nl_send_auto() checks that the request being sent holds the key (so
 * the test can fail), nlmsg_free() records whether the whole buffer it
 * frees is zero.
 *
 *   test_kpath       run the tests (TAP with CMOCKA_MESSAGE_OUTPUT=TAP)
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include <linux/funnel.h>

#include "funneld/datapath/kpath.h"

static uint8_t enc_key[FUNNEL_KEY_LEN], dec_key[FUNNEL_KEY_LEN];
static uint8_t enc_salt[FUNNEL_SALT_LEN], dec_salt[FUNNEL_SALT_LEN];

static const struct kpath_key key = {
	.id = 1,
	.enc_key = enc_key, .enc_salt = enc_salt,
	.dec_key = dec_key, .dec_salt = dec_salt,
};

static int sends, sends_with_key;	/* nl_send_auto() calls */
static int frees, frees_dirty;		/* nlmsg_free() calls */

static bool contains(const uint8_t *buf, size_t len, const uint8_t *pat,
		     size_t plen)
{
	for (size_t i = 0; i + plen <= len; i++)
		if (!memcmp(buf + i, pat, plen))
			return true;
	return false;
}

int __real_nl_send_auto(struct nl_sock *sk, struct nl_msg *msg);
int __wrap_nl_send_auto(struct nl_sock *sk, struct nl_msg *msg);
int __wrap_nl_send_auto(struct nl_sock *sk, struct nl_msg *msg)
{
	const uint8_t *buf = (const uint8_t *)nlmsg_hdr(msg);
	size_t len = nlmsg_hdr(msg)->nlmsg_len;

	sends++;
	if (contains(buf, len, enc_key, sizeof(enc_key)) &&
	    contains(buf, len, dec_key, sizeof(dec_key)) &&
	    contains(buf, len, enc_salt, sizeof(enc_salt)))
		sends_with_key++;
	return __real_nl_send_auto(sk, msg);
}

void __real_nlmsg_free(struct nl_msg *msg);
void __wrap_nlmsg_free(struct nl_msg *msg);
void __wrap_nlmsg_free(struct nl_msg *msg)
{
	const uint8_t *buf;
	size_t len;

	if (msg) {
		buf = (const uint8_t *)nlmsg_hdr(msg);
		len = nlmsg_get_max_size(msg);
		frees++;
		for (size_t i = 0; i < len; i++) {
			if (buf[i]) {
				frees_dirty++;
				break;
			}
		}
	}
	__real_nlmsg_free(msg);
}

static struct kpath k;

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < FUNNEL_KEY_LEN; i++) {
		enc_key[i] = (uint8_t)(0xa0 + i);
		dec_key[i] = (uint8_t)(0x40 + i);
	}
	memcpy(enc_salt, "\xe1\xe2\xe3\xe4", FUNNEL_SALT_LEN);
	memcpy(dec_salt, "\xd1\xd2\xd3\xd4", FUNNEL_SALT_LEN);
	/* "nlctrl" stands in for "funnel": it refuses funnel's commands */
	if (funnel_genl_open_family(&k.g, "nlctrl"))
		return -1;
	k.open = true;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kpath_close(&k);
	return 0;
}

static void reset(void)
{
	sends = sends_with_key = frees = frees_dirty = 0;
}

/* key-new, sent with the key, refused by the kernel: buffer wiped */
static void test_key_new_sent(void **state)
{
	char err[256];
	int ret;

	(void)state;
	reset();
	ret = kpath_key_new(&k, 1, 1, FUNNEL_KEY_SLOT_SECONDARY, &key, err,
			    sizeof(err));
	assert_true(ret < 0);
	assert_int_equal(sends, 1);
	assert_int_equal(sends_with_key, 1);
	assert_int_equal(frees, 1);
	assert_int_equal(frees_dirty, 0);
}

/* stream-new with its first key, sent and refused: buffer wiped */
static void test_stream_new_sent(void **state)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	char err[256];
	int ret;

	(void)state;
	reset();
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(5300);
	ret = kpath_stream_new(&k, 1, 1, FUNNEL_STREAM_UDP_LISTEN, true, 0, &ss,
			       &key, err, sizeof(err));
	assert_true(ret < 0);
	assert_int_equal(sends_with_key, 1);
	assert_int_equal(frees, 1);
	assert_int_equal(frees_dirty, 0);
}

/*
 * stream-new that fails while being built (an address family it cannot
 * put), after the key went in: never sent, buffer wiped
 */
static void test_stream_new_unsent(void **state)
{
	struct sockaddr_storage ss = { .ss_family = AF_UNIX };
	char err[256];
	int ret;

	(void)state;
	reset();
	ret = kpath_stream_new(&k, 1, 1, FUNNEL_STREAM_UDP_LISTEN, true, 0, &ss,
			       &key, err, sizeof(err));
	assert_int_equal(ret, -EMSGSIZE);
	assert_int_equal(sends, 0);
	assert_int_equal(frees, 1);
	assert_int_equal(frees_dirty, 0);
}

/* a request without a key is wiped too (nothing to tell them apart) */
static void test_key_del(void **state)
{
	char err[256];

	(void)state;
	reset();
	assert_true(kpath_key_del(&k, 1, 1, FUNNEL_KEY_SLOT_SECONDARY, err,
				  sizeof(err)) < 0);
	assert_int_equal(sends, 1);
	assert_int_equal(sends_with_key, 0);
	assert_int_equal(frees, 1);
	assert_int_equal(frees_dirty, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_new_sent),
		cmocka_unit_test(test_stream_new_sent),
		cmocka_unit_test(test_stream_new_unsent),
		cmocka_unit_test(test_key_del),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
