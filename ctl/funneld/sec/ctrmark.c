// SPDX-License-Identifier: GPL-2.0
/* Counter marks: see ctrmark.h. */
#include <stdlib.h>
#include <string.h>

#include "funneld/sec/ctrmark.h"

#define WORDS	(CMARK_WINDOW / 64)

void cmark_init(struct cmark *m)
{
	memset(m, 0, sizeof(*m));
	m->low = 1;
}

void cmark_free(struct cmark *m)
{
	free(m->bits);
	m->bits = NULL;
}

static bool bit_test(const struct cmark *m, uint64_t c)
{
	unsigned int b = (unsigned int)(c % CMARK_WINDOW);

	return m->bits[b / 64] & (1ULL << (b % 64));
}

static void bit_set(struct cmark *m, uint64_t c, bool on)
{
	unsigned int b = (unsigned int)(c % CMARK_WINDOW);

	if (on)
		m->bits[b / 64] |= 1ULL << (b % 64);
	else
		m->bits[b / 64] &= ~(1ULL << (b % 64));
}

enum cmark_verdict cmark_seen(struct cmark *m, uint64_t c, uint64_t now)
{
	uint64_t low = m->low;

	if (!c || c < m->low)
		return CMARK_OK;
	if (c - m->low >= CMARK_WINDOW)
		return CMARK_OVERFLOW;
	if (c > m->top)
		m->top = c;
	if (c == m->low && m->top == c) {
		/* in order, no gap: no bitmap needed */
		m->low = c + 1;
	} else {
		if (!m->bits) {
			m->bits = calloc(WORDS, sizeof(uint64_t));
			if (!m->bits)
				return CMARK_NOMEM;
		}
		bit_set(m, c, true);
		while (m->low <= m->top && bit_test(m, m->low)) {
			bit_set(m, m->low, false);
			m->low++;
		}
		if (m->low > m->top) {
			/* caught up: every bit is clear again */
			free(m->bits);
			m->bits = NULL;
		}
	}
	if (m->mark && m->low > low) {
		if (m->low > m->mark)
			m->mark = 0;
		else
			m->deadline = now + m->wait;
	}
	return CMARK_OK;
}

bool cmark_mark(struct cmark *m, uint64_t c, uint64_t now, uint64_t wait_ms)
{
	if (!c || m->low > c)
		return true;
	if (!m->mark)
		m->deadline = now + wait_ms;
	if (c > m->mark)
		m->mark = c;
	m->wait = wait_ms;
	return false;
}

bool cmark_expired(const struct cmark *m, uint64_t now)
{
	return m->mark && now >= m->deadline;
}
