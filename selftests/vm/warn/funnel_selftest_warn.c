// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for the VM runner's own selftest, never part of
 * funnel.ko.  At load time it either WARNs once (the default), so that
 * the selftest can check that a guest WARN makes a run fail, or, with
 * uaf=1, writes into a kmalloc()ed object after freeing it and then
 * allocates from the same cache again, so that the selftest can check
 * that a run with the memory checkers on (vm/run -d) catches it.
 */
#include <linux/bug.h>
#include <linux/module.h>
#include <linux/slab.h>

static bool uaf;
module_param(uaf, bool, 0444);
MODULE_PARM_DESC(uaf, "write after free instead of WARN");

#define FUNNEL_SELFTEST_OBJ	192
#define FUNNEL_SELFTEST_ROUNDS	64

static noinline void funnel_selftest_uaf(void)
{
	void *objs[FUNNEL_SELFTEST_ROUNDS];
	u8 *p;
	int i;

	p = kmalloc(FUNNEL_SELFTEST_OBJ, GFP_KERNEL);
	if (!p)
		return;
	kfree(p);
	/* the deliberate bug: slub_debug's poison check sees it when the
	 * object is handed out again
	 */
	WRITE_ONCE(p[FUNNEL_SELFTEST_OBJ / 2], 0x42);
	for (i = 0; i < FUNNEL_SELFTEST_ROUNDS; i++)
		objs[i] = kmalloc(FUNNEL_SELFTEST_OBJ, GFP_KERNEL);
	for (i = 0; i < FUNNEL_SELFTEST_ROUNDS; i++)
		kfree(objs[i]);
}

static int __init funnel_selftest_warn_init(void)
{
	if (uaf)
		funnel_selftest_uaf();
	else
		WARN(1, "funnel_selftest_warn: deliberate warning for the VM runner selftest\n");
	return 0;
}

static void __exit funnel_selftest_warn_exit(void)
{
}

module_init(funnel_selftest_warn_init);
module_exit(funnel_selftest_warn_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Funnel VM runner selftest: WARN, or a use-after-free, on load");
