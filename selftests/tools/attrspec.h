/* SPDX-License-Identifier: GPL-2.0 */
/*
 * funnel-nl attribute arguments: PATH=TYPE:VALUE.
 *
 * PATH is an attribute of the "funnel" set by name or number, or a dotted
 * path into nested sets (keyconf.encrypt-dir.key).  TYPE is one of u8,
 * u16, u32, u64, s32 (host byte order), be16, be32 (network byte order),
 * str (NUL-terminated), flag (no value), hex (bytes from hex digits) or
 * nest (an empty nest; nests of dotted paths are made automatically).
 */
#ifndef FUNNEL_ATTRSPEC_H
#define FUNNEL_ATTRSPEC_H

#include <stddef.h>
#include <stdint.h>

#define ATTRSPEC_DEPTH	4

struct attrspec {
	unsigned int depth;		/* components in path */
	uint16_t path[ATTRSPEC_DEPTH];	/* attribute types, outermost first */
	int nest;			/* TYPE was "nest" */
	size_t len;			/* payload bytes written to buf */
};

/*
 * Parse arg; write the attribute payload into buf (cap bytes).  Returns 0,
 * or -1 with a message in err.
 */
int attrspec_parse(const char *arg, struct attrspec *spec, uint8_t *buf,
		   size_t cap, char *err, size_t errlen);

#endif /* FUNNEL_ATTRSPEC_H */
