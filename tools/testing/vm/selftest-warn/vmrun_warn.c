// SPDX-License-Identifier: GPL-2.0
/*
 * vmrun_warn: a deliberately broken module for the VM runner's self-test.
 * Its init triggers a kernel WARNING; tools/testing/vm/selftest.sh checks
 * that vm-run fails a run that loads it.
 */
#include <linux/module.h>
#include <linux/bug.h>

static int __init vmrun_warn_init(void)
{
	WARN_ON(1);
	return 0;
}

static void __exit vmrun_warn_exit(void)
{
}

module_init(vmrun_warn_init);
module_exit(vmrun_warn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vm-run self-test: WARN_ON(1) at load");
