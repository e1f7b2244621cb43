// SPDX-License-Identifier: GPL-2.0
/*
 * rdmagate_kabi_test: a small out-of-tree ib_core client, the module the
 * kabi tests build against one kernel's headers and load into others. It
 * registers an IB client (so it imports ib_core's exports and their CRCs),
 * counts the devices it is told about, and unregisters when unloaded.
 */
#include <linux/module.h>
#include <linux/atomic.h>
#include <rdma/ib_verbs.h>

static atomic_t devices = ATOMIC_INIT(0);

static int kabi_test_add(struct ib_device *device)
{
	atomic_inc(&devices);
	pr_info("rdmagate_kabi_test: device %s added\n",
		dev_name(&device->dev));
	return 0;
}

static void kabi_test_remove(struct ib_device *device, void *client_data)
{
	atomic_dec(&devices);
}

static struct ib_client kabi_test_client = {
	.name = "rdmagate_kabi_test",
	.add = kabi_test_add,
	.remove = kabi_test_remove,
};

static int __init kabi_test_init(void)
{
	int ret = ib_register_client(&kabi_test_client);

	if (ret)
		return ret;
	pr_info("rdmagate_kabi_test: registered (%d devices)\n",
		atomic_read(&devices));
	return 0;
}

static void __exit kabi_test_exit(void)
{
	ib_unregister_client(&kabi_test_client);
	pr_info("rdmagate_kabi_test: unregistered\n");
}

module_init(kabi_test_init);
module_exit(kabi_test_exit);
MODULE_DESCRIPTION(
	"rdmagate kABI test: an ib_core client that registers and unregisters");
MODULE_LICENSE("GPL");
