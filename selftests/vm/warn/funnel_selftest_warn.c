// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: triggers one kernel WARN at load time so that the VM
 * runner's own selftest can check that a guest WARN makes a run fail.
 * Never part of funnel.ko.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init funnel_selftest_warn_init(void)
{
	WARN(1, "funnel_selftest_warn: deliberate warning for the VM runner selftest\n");
	return 0;
}

static void __exit funnel_selftest_warn_exit(void)
{
}

module_init(funnel_selftest_warn_init);
module_exit(funnel_selftest_warn_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Funnel VM runner selftest: WARN on load");
