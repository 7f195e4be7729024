// SPDX-License-Identifier: GPL-2.0
/*
 * vmrun_warn: a deliberately broken module for the VM runner's self-test.
 * Its init triggers a kernel WARNING (or, with oops=1, a NULL pointer
 * Oops); tools/testing/vm/selftest.sh checks that vm-run fails such runs.
 */
#include <linux/module.h>
#include <linux/bug.h>

static bool oops;
module_param(oops, bool, 0444);
MODULE_PARM_DESC(oops, "dereference NULL instead of WARN_ON(1)");

static int __init vmrun_warn_init(void)
{
	if (oops) {
		int *volatile p = NULL;

		return *p;
	}
	WARN_ON(1);
	return 0;
}

static void __exit vmrun_warn_exit(void)
{
}

module_init(vmrun_warn_init);
module_exit(vmrun_warn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vm-run self-test: WARN_ON(1) or an Oops at load");
