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

/* Where counter c's bit lives: the allocated bitmap, or the inline one. */
static uint64_t *bit_word(struct cmark *m, uint64_t c, uint64_t *mask)
{
	unsigned int b;

	if (m->bits) {
		b = (unsigned int)(c % CMARK_WINDOW);
		*mask = 1ULL << (b % 64);
		return &m->bits[b / 64];
	}
	b = (unsigned int)(c % CMARK_INLINE);
	*mask = 1ULL << (b % 64);
	return &m->inl[b / 64];
}

static bool bit_test(struct cmark *m, uint64_t c)
{
	uint64_t mask;

	return *bit_word(m, c, &mask) & mask;
}

static void bit_set(struct cmark *m, uint64_t c, bool on)
{
	uint64_t mask;
	uint64_t *w = bit_word(m, c, &mask);

	if (on)
		*w |= mask;
	else
		*w &= ~mask;
}

/*
 * The gap outgrows the inline bits: move them (counters low + 1 .. top,
 * all below low + CMARK_INLINE) to a bitmap of CMARK_WINDOW bits.
 */
static bool bits_grow(struct cmark *m)
{
	uint64_t *inl = m->inl;

	m->bits = calloc(WORDS, sizeof(uint64_t));
	if (!m->bits)
		return false;
	m->nalloc++;
	for (uint64_t c = m->low + 1; c <= m->top; c++) {
		unsigned int b = (unsigned int)(c % CMARK_INLINE);

		if (inl[b / 64] & (1ULL << (b % 64)))
			bit_set(m, c, true);	/* into m->bits */
	}
	memset(inl, 0, sizeof(m->inl));
	return true;
}

enum cmark_verdict cmark_seen(struct cmark *m, uint64_t c, uint64_t now)
{
	uint64_t low = m->low;

	if (!c || c < m->low)
		return CMARK_OK;
	if (c - m->low >= CMARK_WINDOW)
		return CMARK_OVERFLOW;
	if (c == m->low && m->top < c) {
		/* in order, no gap: no bitmap needed */
		m->top = c;
		m->low = c + 1;
	} else {
		if (!m->bits && c - m->low >= CMARK_INLINE && !bits_grow(m))
			return CMARK_NOMEM;
		if (c > m->top)
			m->top = c;
		bit_set(m, c, true);
		while (m->low <= m->top && bit_test(m, m->low)) {
			bit_set(m, m->low, false);
			m->low++;
		}
		if (m->low > m->top && m->bits) {
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
