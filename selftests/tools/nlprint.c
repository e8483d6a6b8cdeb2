// SPDX-License-Identifier: GPL-2.0
/* Print netlink attributes of the "funnel" family. */

#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include "nlprint.h"

static void print_hex(FILE *f, const uint8_t *p, size_t n)
{
	fputs("hex:", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static void print_string(FILE *f, const char *p, size_t n)
{
	for (size_t i = 0; i < n && p[i]; i++)
		fputc(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?', f);
}

/* Print the value of a known attribute; 0, or -1 if its size is wrong. */
static int print_value(FILE *f, const struct funnel_attr_desc *d,
		       const uint8_t *p, size_t n)
{
	char addr[INET6_ADDRSTRLEN];
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int32_t s32;

	switch (d->kind) {
	case FUNNEL_NLA_U8:
		if (n != 1)
			return -1;
		fprintf(f, "%u", p[0]);
		return 0;
	case FUNNEL_NLA_U16:
		if (n != sizeof(u16))
			return -1;
		memcpy(&u16, p, n);
		fprintf(f, "%u", d->hint == FUNNEL_HINT_BE ? ntohs(u16) : u16);
		return 0;
	case FUNNEL_NLA_U32:
		if (n != sizeof(u32))
			return -1;
		memcpy(&u32, p, n);
		if (d->hint == FUNNEL_HINT_IPV4)
			fputs(inet_ntop(AF_INET, p, addr, sizeof(addr)), f);
		else
			fprintf(f, "%" PRIu32,
				d->hint == FUNNEL_HINT_BE ? ntohl(u32) : u32);
		return 0;
	case FUNNEL_NLA_U64:
		if (n != sizeof(u64))
			return -1;
		memcpy(&u64, p, n);
		fprintf(f, "%" PRIu64, u64);
		return 0;
	case FUNNEL_NLA_S32:
		if (n != sizeof(s32))
			return -1;
		memcpy(&s32, p, n);
		fprintf(f, "%" PRId32, s32);
		return 0;
	case FUNNEL_NLA_STRING:
		print_string(f, (const char *)p, n);
		return 0;
	case FUNNEL_NLA_FLAG:
		fputs("true", f);
		return 0;
	case FUNNEL_NLA_BINARY:
		if (d->hint == FUNNEL_HINT_IPV6 && n == 16)
			fputs(inet_ntop(AF_INET6, p, addr, sizeof(addr)), f);
		else
			print_hex(f, p, n);
		return 0;
	default:
		return -1;
	}
}

void nlprint_attrs(FILE *f, const struct nlattr *head, int len,
		   enum funnel_set_id set, const char *prefix)
{
	const struct funnel_attr_set *s = funnel_attr_set(set);
	const struct funnel_attr_desc *d;
	const struct nlattr *a;
	char sub[256];
	int rem;

	nla_for_each_attr(a, head, len, rem) {
		const uint8_t *p = nla_data(a);
		size_t n = (size_t)nla_len(a);
		int type = nla_type(a);

		d = s ? funnel_attr_desc(s, (unsigned int)type) : NULL;
		if (d && d->kind == FUNNEL_NLA_PAD)
			continue;
		if (d && d->kind == FUNNEL_NLA_NEST) {
			snprintf(sub, sizeof(sub), "%s%s.", prefix, d->name);
			nlprint_attrs(f, nla_data(a), nla_len(a),
				      (enum funnel_set_id)d->nest, sub);
			continue;
		}
		if (d)
			fprintf(f, "%s%s=", prefix, d->name);
		else
			fprintf(f, "%s%d=", prefix, type);
		if (!d || print_value(f, d, p, n))
			print_hex(f, p, n);
		fputc('\n', f);
	}
}
