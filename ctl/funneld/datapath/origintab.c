// SPDX-License-Identifier: GPL-2.0
/*
 * The origins of funnel.ko's UDP flows as funneld keeps them, and the
 * flow ids whose origin was announced: see origintab.h.
 */

#include <stdlib.h>
#include <string.h>

#include "funneld/datapath/origintab.h"

struct origintab_ent {
	struct flowtab_node node;	/* by flow id */
	struct origintab_ent *older, *younger;
	struct origin origin;
	uint32_t scan;			/* the last scan that listed it */
};

static struct origintab_ent *ent(struct flowtab_node *n)
{
	return n ? flowtab_entry(n, struct origintab_ent, node) : NULL;
}

void origintab_init(struct origintab *t, uint32_t max)
{
	memset(&t->ids, 0, sizeof(t->ids));
	t->old = t->young = NULL;
	t->max = max ? max : 1;
	t->budget = NULL;
	t->scan = 0;
}

void origintab_set_budget(struct origintab *t, struct flowbudget *b)
{
	/* the flowtab's, set with its buckets at the first put */
	t->budget = b;
}

static void unlink_ent(struct origintab *t, struct origintab_ent *e)
{
	if (e->older)
		e->older->younger = e->younger;
	else
		t->old = e->younger;
	if (e->younger)
		e->younger->older = e->older;
	else
		t->young = e->older;
	e->older = e->younger = NULL;
}

static void link_young(struct origintab *t, struct origintab_ent *e)
{
	e->older = t->young;
	e->younger = NULL;
	if (t->young)
		t->young->younger = e;
	else
		t->old = e;
	t->young = e;
}

int origintab_put(struct origintab *t, uint32_t id, const struct origin *o)
{
	struct origintab_ent *e = NULL;

	if (t->ids.buckets)
		e = ent(flowtab_lookup(&t->ids, id));
	if (e) {
		/* a flow id used again: the new flow's, the youngest */
		e->origin = *o;
		e->scan = t->scan;
		unlink_ent(t, e);
		link_young(t, e);
		return 0;
	}
	/* one more, unless the oldest makes room */
	if (t->ids.count < t->max && !flowbudget_room(t->budget))
		return 1;
	if (!t->ids.buckets) {
		if (flowtab_init(&t->ids, t->max)) {
			flowtab_fini(&t->ids);
			return -1;
		}
		t->ids.budget = t->budget;
	}
	if (t->ids.count >= t->max) {
		e = t->old;
		unlink_ent(t, e);
		flowtab_remove(&t->ids, &e->node);
	} else {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -1;
	}
	e->node.id = id;
	e->origin = *o;
	e->scan = t->scan;
	flowtab_insert(&t->ids, &e->node);
	link_young(t, e);
	return 0;
}

const struct origin *origintab_get(const struct origintab *t, uint32_t id)
{
	struct origintab_ent *e;

	if (!t->ids.buckets)
		return NULL;
	e = ent(flowtab_lookup(&t->ids, id));
	return e ? &e->origin : NULL;
}

bool origintab_take(struct origintab *t, uint32_t id, struct origin *o)
{
	struct origintab_ent *e;

	if (!t->ids.buckets)
		return false;
	e = ent(flowtab_lookup(&t->ids, id));
	if (!e)
		return false;
	*o = e->origin;
	unlink_ent(t, e);
	flowtab_remove(&t->ids, &e->node);
	free(e);
	return true;
}

uint32_t origintab_count(const struct origintab *t)
{
	return t->ids.count;
}

void origintab_scan_begin(struct origintab *t)
{
	t->scan++;
}

void origintab_scan_mark(struct origintab *t, uint32_t id)
{
	struct origintab_ent *e;

	if (!t->ids.buckets)
		return;
	e = ent(flowtab_lookup(&t->ids, id));
	if (e)
		e->scan = t->scan;
}

uint32_t origintab_scan_end(struct origintab *t, bool complete)
{
	struct origintab_ent *e, *next;
	uint32_t n = 0;

	if (!complete) {
		/* the marks of this scan stay: the next one makes them its */
		t->scan--;
		return 0;
	}
	for (e = t->old; e; e = next) {
		next = e->younger;
		/* listed by neither this dump nor the one before */
		if (t->scan - e->scan > 1) {
			unlink_ent(t, e);
			flowtab_remove(&t->ids, &e->node);
			free(e);
			n++;
		}
	}
	return n;
}

void origintab_fini(struct origintab *t)
{
	while (t->old) {
		struct origintab_ent *e = t->old;

		t->old = e->younger;
		free(e);
	}
	t->young = NULL;
	flowtab_fini(&t->ids);
}

/* ---- the ids announced ---- */

struct annset_ent {
	struct flowtab_node node;
	uint32_t scan;			/* the last scan that listed it */
};

static struct annset_ent *aent(struct flowtab_node *n)
{
	return n ? flowtab_entry(n, struct annset_ent, node) : NULL;
}

void annset_init(struct annset *s, uint32_t max)
{
	memset(&s->ids, 0, sizeof(s->ids));
	s->max = max ? max : 1;
	s->scan = 0;
}

void annset_begin(struct annset *s)
{
	s->scan++;
}

bool annset_seen(struct annset *s, uint32_t id)
{
	struct annset_ent *e;

	if (!s->ids.buckets)
		return false;
	e = aent(flowtab_lookup(&s->ids, id));
	if (!e)
		return false;
	e->scan = s->scan;
	return true;
}

int annset_add(struct annset *s, uint32_t id)
{
	struct annset_ent *e;

	if (!s->ids.buckets && flowtab_init(&s->ids, s->max)) {
		flowtab_fini(&s->ids);
		return -1;
	}
	if (s->ids.count >= s->max)
		return -1;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	e->node.id = id;
	e->scan = s->scan;
	flowtab_insert(&s->ids, &e->node);
	return 0;
}

void annset_end(struct annset *s)
{
	struct flowtab_node *n, *tmp;

	flowtab_for_each(&s->ids, n, tmp) {
		struct annset_ent *e = aent(n);

		if (e->scan != s->scan) {
			flowtab_remove(&s->ids, n);
			free(e);
		}
	}
}

uint32_t annset_count(const struct annset *s)
{
	return s->ids.count;
}

void annset_fini(struct annset *s)
{
	struct flowtab_node *n, *tmp;

	flowtab_for_each(&s->ids, n, tmp) {
		flowtab_remove(&s->ids, n);
		free(aent(n));
	}
	flowtab_fini(&s->ids);
}
