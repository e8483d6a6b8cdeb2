// SPDX-License-Identifier: GPL-2.0
/* funnel-nl attribute arguments: PATH=TYPE:VALUE. */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrspec.h"
#include "common/nlnames.h"

#define NLA_TYPE_LIMIT	0x3fff	/* 14 bits: the rest are NLA_F_* flags */

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int all_digits(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Resolve the dotted path in s[0..n) to attribute types. */
static int parse_path(const char *s, size_t n, struct attrspec *spec,
		      char *err, size_t errlen)
{
	const struct funnel_attr_set *set = funnel_attr_set(FUNNEL_SET_FUNNEL);
	const struct funnel_attr_desc *desc;
	char name[64];
	size_t len;
	int type;

	spec->depth = 0;
	if (!n)
		return fail(err, errlen, "bad attribute path");
	while (n) {
		const char *dot = memchr(s, '.', n);

		len = dot ? (size_t)(dot - s) : n;
		if (!len || len >= sizeof(name))
			return fail(err, errlen, "bad attribute path");
		if (spec->depth == ATTRSPEC_DEPTH)
			return fail(err, errlen, "attribute path too deep");
		memcpy(name, s, len);
		name[len] = '\0';
		if (all_digits(name, len)) {
			unsigned long v = strtoul(name, NULL, 10);

			if (v > NLA_TYPE_LIMIT)
				return fail(err, errlen,
					    "attribute number %s too large", name);
			type = (int)v;
		} else if (!set) {
			return fail(err, errlen, "'%s': not in a known nest; "
				    "use a number", name);
		} else {
			type = funnel_attr_lookup(set, name);
			if (type < 0)
				return fail(err, errlen, "unknown attribute '%s' "
					    "in set %s", name, set->name);
		}
		spec->path[spec->depth++] = (uint16_t)type;

		desc = set ? funnel_attr_desc(set, (unsigned int)type) : NULL;
		set = desc && desc->kind == FUNNEL_NLA_NEST ?
			funnel_attr_set(desc->nest) : NULL;
		if (!dot)
			break;
		n -= len + 1;
		s = dot + 1;
		if (!n)
			return fail(err, errlen, "bad attribute path");
	}
	return 0;
}

static int parse_unsigned(const char *v, uint64_t max, uint64_t *out)
{
	char *end;

	if (!*v || *v == '-' || isspace((unsigned char)*v))
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 0);
	if (errno || *end || *out > max)
		return -1;
	return 0;
}

static int parse_signed(const char *v, int64_t min, int64_t max, int64_t *out)
{
	char *end;

	if (!*v || isspace((unsigned char)*v))
		return -1;
	errno = 0;
	*out = strtoll(v, &end, 0);
	if (errno || *end || *out < min || *out > max)
		return -1;
	return 0;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_hex(const char *v, uint8_t *buf, size_t cap, size_t *len)
{
	size_t n = strlen(v);
	int hi, lo;

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		hi = hex_nibble(v[2 * i]);
		lo = hex_nibble(v[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

static int put(uint8_t *buf, size_t cap, const void *p, size_t n, size_t *len)
{
	if (n > cap)
		return -1;
	memcpy(buf, p, n);
	*len = n;
	return 0;
}

/* Encode value v of type t into buf. */
static int encode(const char *t, const char *v, struct attrspec *spec,
		  uint8_t *buf, size_t cap)
{
	uint64_t u;
	int64_t s;

	if (!strcmp(t, "u8") && !parse_unsigned(v, UINT8_MAX, &u)) {
		uint8_t x = (uint8_t)u;

		return put(buf, cap, &x, sizeof(x), &spec->len);
	}
	if (!strcmp(t, "u16") && !parse_unsigned(v, UINT16_MAX, &u)) {
		uint16_t x = (uint16_t)u;

		return put(buf, cap, &x, sizeof(x), &spec->len);
	}
	if (!strcmp(t, "be16") && !parse_unsigned(v, UINT16_MAX, &u)) {
		uint16_t x = htons((uint16_t)u);

		return put(buf, cap, &x, sizeof(x), &spec->len);
	}
	if (!strcmp(t, "u32") && !parse_unsigned(v, UINT32_MAX, &u)) {
		uint32_t x = (uint32_t)u;

		return put(buf, cap, &x, sizeof(x), &spec->len);
	}
	if (!strcmp(t, "be32") && !parse_unsigned(v, UINT32_MAX, &u)) {
		uint32_t x = htonl((uint32_t)u);

		return put(buf, cap, &x, sizeof(x), &spec->len);
	}
	if (!strcmp(t, "u64") && !parse_unsigned(v, UINT64_MAX, &u))
		return put(buf, cap, &u, sizeof(u), &spec->len);
	if (!strcmp(t, "s32") && !parse_signed(v, INT32_MIN, INT32_MAX, &s)) {
		int32_t x = (int32_t)s;

		return put(buf, cap, &x, sizeof(x), &spec->len);
	}
	if (!strcmp(t, "str"))
		return put(buf, cap, v, strlen(v) + 1, &spec->len);
	if (!strcmp(t, "hex"))
		return parse_hex(v, buf, cap, &spec->len);
	if ((!strcmp(t, "flag") || !strcmp(t, "nest")) && !*v) {
		spec->nest = !strcmp(t, "nest");
		spec->len = 0;
		return 0;
	}
	return -1;
}

static int known_type(const char *t)
{
	static const char *const types[] = {
		"u8", "u16", "u32", "u64", "s32", "be16", "be32",
		"str", "flag", "hex", "nest",
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(t, types[i]))
			return 1;
	return 0;
}

int attrspec_parse(const char *arg, struct attrspec *spec, uint8_t *buf,
		   size_t cap, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	const char *colon, *value;
	char type[8];
	size_t tlen;

	memset(spec, 0, sizeof(*spec));
	if (!eq)
		return fail(err, errlen, "'%s': expected NAME=TYPE:VALUE", arg);
	if (parse_path(arg, (size_t)(eq - arg), spec, err, errlen))
		return -1;

	colon = strchr(eq + 1, ':');
	tlen = colon ? (size_t)(colon - eq - 1) : strlen(eq + 1);
	value = colon ? colon + 1 : "";
	if (tlen >= sizeof(type))
		return fail(err, errlen, "'%s': unknown type", arg);
	memcpy(type, eq + 1, tlen);
	type[tlen] = '\0';
	if (!known_type(type))
		return fail(err, errlen, "'%s': unknown type '%s'", arg, type);
	if (encode(type, value, spec, buf, cap))
		return fail(err, errlen, "'%s': bad %s value '%s'", arg, type,
			    value);
	return 0;
}
