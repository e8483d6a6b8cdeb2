// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the LDAP message framer (ctl/common/ldapber.c):
 * LLVMFuzzerTestOneInput() splits the input into LDAPMessages as funneld
 * would split what a socket gives, and aborts when an invariant breaks:
 *   - split from the whole input, and from the input arriving in chunks
 *     (sizes taken from the input), it yields the same messages, then the
 *     same end (need more, or the same error with the same reason);
 *   - every message starts with 0x30, is 7 bytes at least, has a
 *     messageID in 0..2^31-1 and a known protocolOp, parses alone to the
 *     same length, id and op, is refused under a limit one byte shorter,
 *     and each prefix of it (those the header is cut in, and the
 *     longest) is "need more" with a need beyond the prefix, its header
 *     matching once known;
 *   - an error has a reason and stays that error as more bytes come;
 *   - a direction (ldap_dir_next(), as client and as service) that left
 *     LDAP stays out of it;
 *   - the frames ldap_pack() makes of a direction hold the messages
 *     ldap_dir_next() reads one by one, the first any message and the
 *     others free ones of its key, within the room and the credit given
 *     (plugins.md 5.3), the direction after a frame as after them.
 *
 * Default build: linked with fuzz_main.c, a program that runs the target
 * over each file named on the command line (or stdin).  With clang
 * -fsanitize=fuzzer, build with -DFUNNEL_LIBFUZZER so that libFuzzer
 * provides main().
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ldapber.h"
#include "fuzz_main.h"

#define check(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_ldapber: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* A limit small enough that the inputs reach it. */
#define FUZZ_MAX	4096

struct outcome {
	uint64_t digest;		/* FNV-1a over lengths, ids, ops */
	size_t msgs;
	enum ldapber_status end;	/* NEED_MORE or ERR */
	char why[LDAPBER_WHY_MAX];
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* What a message alone says, and its prefixes. */
static void check_msg(const uint8_t *p, const struct ldapber_msg *m)
{
	struct ldapber_msg again, pm;
	char why[LDAPBER_WHY_MAX];
	size_t cuts[] = { 1, 2, 3, 6, 9, 12, 16, m->len - 1 };

	check(p[0] == 0x30);
	check(m->len >= LDAPBER_MIN_LEN && m->len <= FUZZ_MAX);
	check(m->hdr);
	check(m->id <= 0x7fffffff);
	check(strcmp(ldap_op_name(m->op), "?"));
	check((m->op_tag & 0x1f) == m->op);
	check(m->op != LDAP_OP_ABANDON_REQ ||
	      (m->abandon_id >= 0 && m->abandon_id <= 0x7fffffff));
	check(m->result >= -1);

	check(ldapber_parse(p, m->len, m->len, &again, why, sizeof(why)) ==
	      LDAPBER_MSG);
	check(again.len == m->len && again.id == m->id && again.op == m->op);
	check(ldapber_parse(p, m->len, m->len - 1, &again, why,
			    sizeof(why)) == LDAPBER_ERR);
	check(why[0]);

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		size_t k = cuts[i];

		if (k >= m->len)
			continue;
		check(ldapber_parse(p, k, FUZZ_MAX, &pm, why, sizeof(why)) ==
		      LDAPBER_NEED_MORE);
		check(pm.need > k && pm.need <= m->len);
		check(!pm.len || pm.len == m->len);
		if (pm.hdr)
			check(pm.need == m->len && pm.id == m->id &&
			      pm.op == m->op);
	}
}

/*
 * Split data as a reader of a socket would: the bytes arrive in chunks
 * of sizes drawn from seed (0: all at once) and are parsed from the
 * first byte not yet taken.
 */
static void split(const uint8_t *data, size_t size, uint32_t seed,
		  struct outcome *out)
{
	size_t have = 0, off = 0;
	struct ldapber_msg m;
	enum ldapber_status st = LDAPBER_NEED_MORE;

	memset(out, 0, sizeof(*out));
	out->digest = 0xcbf29ce484222325ULL;
	for (;;) {
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			have += (seed >> 8) % (seed & 0x100 ? 5 : 300) + 1;
		} else {
			have = size;
		}
		if (have > size)
			have = size;
		while ((st = ldapber_parse(data + off, have - off, FUZZ_MAX,
					   &m, out->why, sizeof(out->why))) ==
		       LDAPBER_MSG) {
			check(m.len <= have - off);
			if (!seed)
				check_msg(data + off, &m);
			out->digest = fnv(out->digest, &m.len, sizeof(m.len));
			out->digest = fnv(out->digest, &m.id, sizeof(m.id));
			out->digest = fnv(out->digest, &m.op, sizeof(m.op));
			out->msgs++;
			off += m.len;
		}
		if (st == LDAPBER_ERR) {
			struct ldapber_msg later;
			char why[LDAPBER_WHY_MAX];

			check(out->why[0]);
			/* the same error with every byte there is */
			check(ldapber_parse(data + off, size - off, FUZZ_MAX,
					    &later, why, sizeof(why)) ==
			      LDAPBER_ERR);
			check(!strcmp(why, out->why));
			break;
		}
		check(m.need > have - off);
		if (have == size)
			break;
	}
	out->end = st;
	if (st != LDAPBER_ERR)
		out->why[0] = '\0';
}

/* One direction through ldap_dir_next(): opaque stays opaque. */
static void dir_walk(const uint8_t *data, size_t size, bool from_service)
{
	struct ldap_dir d = { .from_service = from_service };
	struct ldapber_msg m;
	char why[LDAPBER_WHY_MAX];
	size_t off = 0;

	while (off < size) {
		enum ldapber_status st = ldap_dir_next(&d, data + off,
						       size - off, FUZZ_MAX,
						       &m, why, sizeof(why));

		if (st == LDAPBER_OPAQUE) {
			check(d.opaque && m.len == size - off);
			check(ldap_dir_next(&d, data, size, FUZZ_MAX, &m, why,
					    sizeof(why)) == LDAPBER_OPAQUE);
			return;
		}
		if (st != LDAPBER_MSG)
			return;
		check(ldap_op_is_request(m.op) != from_service);
		check(m.id || m.op == LDAP_OP_EXT_RESP);
		off += m.len;
	}
}

/*
 * One direction in frames as tpath.c makes them (ldap_pack()): each
 * frame is the messages ldap_dir_next() reads one by one, the first any
 * message, the others free ones of its key; within room and credit; the
 * direction after the frame as after those messages.
 */
static void pack_walk(const uint8_t *data, size_t size, bool from_service,
		      size_t room, uint64_t credit)
{
	struct ldap_dir d = { .from_service = from_service }, e;
	struct ldapber_msg m, one;
	struct ldap_pack pk;
	char why[LDAPBER_WHY_MAX];
	size_t off = 0, sub;
	uint32_t key;

	while (off < size) {
		if (ldap_dir_next(&d, data + off, size - off,
				  LDAPBER_MAX_DEFAULT, &m, why,
				  sizeof(why)) != LDAPBER_MSG)
			return;
		e = d;
		ldap_pack(&d, data + off, size - off, &m, room, credit, 256,
			  &pk);
		check(pk.len >= m.len && pk.len <= size - off && pk.msgs >= 1);
		check(pk.msgs == 1 ||
		      (pk.len <= room &&
		       (pk.len < 256 ? 256 : pk.len) <= credit));
		check(pk.msgs == 1 || pk.order == LDAP_ORDER_FREE ||
		      pk.order == (LDAP_ORDER_FREE | LDAP_ORDER_LAST));
		sub = m.len;
		for (unsigned int i = 1; i < pk.msgs; i++) {
			check(ldap_dir_next(&e, data + off + sub,
					    size - off - sub,
					    LDAPBER_MAX_DEFAULT, &one, why,
					    sizeof(why)) == LDAPBER_MSG);
			check(!(ldap_msg_order(&one, true, &key) &
				LDAP_ORDER_BARRIER) && key == pk.key);
			sub += one.len;
		}
		check(sub == pk.len);
		check(e.may_leave == d.may_leave && e.opaque == d.opaque);
		off += pk.len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, chunked;
	uint32_t seed = 0x9e3779b9u ^ (uint32_t)size;

	split(data, size, 0, &whole);
	for (size_t i = 0; i < size && i < 4; i++)
		seed = seed * 31 + data[i];
	split(data, size, seed | 1, &chunked);
	check(whole.msgs == chunked.msgs);
	check(whole.digest == chunked.digest);
	check(whole.end == chunked.end);
	check(!strcmp(whole.why, chunked.why));

	dir_walk(data, size, false);
	dir_walk(data, size, true);
	pack_walk(data, size, false, 65495, UINT64_MAX);
	pack_walk(data, size, true, 64 + seed % 512, 256 + (seed >> 9) % 512);
	return 0;
}
