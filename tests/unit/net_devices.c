/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `vmrun devices` discovery (vmr_net_devices) against a fake sysfs tree:
 * libpci reads the PCI devices from it, NICs and USB devices come from its
 * class/net and bus/usb, and passthrough viability follows the IOMMU groups.
 */
#include "tests/net/fakesys.h"

#include "net/net.h"
#include "tests/lib/tap.h"

static struct vmr_config cfg;

static const json_t *find(const json_t *arr, const char *key, const char *val)
{
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i,
			   v) if (streq(json_string_value(json_object_get(v, key)), val)) return v;
	return NULL;
}

static const char *s(const json_t *o, const char *key)
{
	const char *r = json_string_value(json_object_get(o, key));

	return r ? r : "(null)";
}

int main(void)
{
	static const struct fake_dev devs[] = {
	    {.bdf = "0000:01:00.0",
	     .driver = "ixgbe",
	     .native = "ixgbe",
	     .group = 10,
	     .netdev = "enp1s0f0",
	     .mac = "a4:bf:01:cc:75:96",
	     .totalvfs = 8,
	     .vf_driver = "ixgbevf",
	     .id = "8086:10fb"},
	    {.bdf = "0000:05:00.0",
	     .driver = "nouveau",
	     .native = "nouveau",
	     .group = 14,
	     .class = "0x030000",
	     .id = "10de:1eb8"},
	    {.bdf = "0000:05:00.1",
	     .driver = "snd_hda_intel",
	     .native = "snd_hda_intel",
	     .group = 14,
	     .class = "0x040300",
	     .id = "10de:10f8"},
	    {.bdf = "0000:00:1c.0",
	     .driver = "pcieport",
	     .native = "pcieport",
	     .group = 14,
	     .class = "0x060400",
	     .id = "8086:a110"},
	    {.bdf = "0000:06:00.0",
	     .driver = "vfio-pci",
	     .native = "e1000e",
	     .group = 15,
	     .id = "8086:10d3"},
	};
	struct vmr_error *err = NULL;
	const json_t *v, *nics, *pci, *sriov, *usb;
	json_t *d = NULL;

	fake_init();
	fake_driver_add("ixgbe");
	fake_driver_add("vfio-pci");
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++)
		fake_add(&devs[i]);
	fake_put("3\n", "bus/pci/devices/0000:01:00.0/sriov_numvfs");
	fake_put("1\n", "bus/usb/devices/1-2/busnum");
	fake_put("4\n", "bus/usb/devices/1-2/devnum");
	fake_put("0781\n", "bus/usb/devices/1-2/idVendor");
	fake_put("5567\n", "bus/usb/devices/1-2/idProduct");
	fake_put("Cruzer Blade\n", "bus/usb/devices/1-2/product");
	fake_put("SanDisk\n", "bus/usb/devices/1-2/manufacturer");
	fake_put("1\n", "bus/usb/devices/1-2:1.0/busnum");
	cfg.sysfs_root = fake.root;
	cfg.dev_root = fake.dev; /* the vfio nodes made for QEMU go there, not in /dev */

	is_int(vmr_net_devices(&cfg, &d, &err), 0, "discovery on the fake tree succeeds");
	if (err) {
		char *t = vmr_error_text(err);
		tap_diag("%s", t);
		free(t);
	}
	nics = json_object_get(d, "nics");
	pci = json_object_get(d, "pci");
	sriov = json_object_get(d, "sriov");
	usb = json_object_get(d, "usb");

	v = find(nics, "name", "enp1s0f0");
	ok(v != NULL, "the NIC is listed");
	is_str(s(v, "mac"), "a4:bf:01:cc:75:96", "with its MAC");
	is_str(s(v, "driver"), "ixgbe", "its driver");
	is_str(s(v, "pci"), "0000:01:00.0", "its PCI address");
	is_str(s(v, "state"), "up", "and its state");

	is_int((long long)json_array_size(sriov), 1, "one SR-IOV PF");
	v = json_array_get(sriov, 0);
	is_str(s(v, "pci"), "0000:01:00.0", "the PF's address");
	is_str(s(v, "ifname"), "enp1s0f0", "its interface");
	is_int(json_integer_value(json_object_get(v, "numvfs")), 3, "VFs in use");
	is_int(json_integer_value(json_object_get(v, "totalvfs")), 8, "VFs in total");

	is_int((long long)json_array_size(pci), 4, "four PCI devices (the bridge is left out)");
	ok(!find(pci, "pci", "0000:00:1c.0"), "no PCI bridge");
	is_str(s(json_array_get(pci, 0), "pci"), "0000:01:00.0", "sorted by address");
	v = find(pci, "pci", "0000:05:00.0");
	is_str(s(v, "id"), "10de:1eb8", "the GPU's vendor:device from libpci");
	is_str(s(v, "class"), "0300", "its class from libpci");
	is_int(json_integer_value(json_object_get(v, "iommu_group")), 14, "its IOMMU group");
	ok(json_is_false(json_object_get(v, "passthrough")), "it is not viable alone");
	is_str(s(v, "why"),
	       "'0000:05:00.0' shares IOMMU group 14 with '0000:05:00.1', which is "
	       "bound to 'snd_hda_intel'",
	       "because of its audio function");
	v = find(pci, "pci", "0000:06:00.0");
	ok(json_is_true(json_object_get(v, "passthrough")),
	   "a device alone in its group is viable");
	is_str(s(v, "driver"), "vfio-pci", "and shows its driver");

	is_int((long long)json_array_size(usb), 1, "one USB device (interfaces are left out)");
	v = json_array_get(usb, 0);
	is_int(json_integer_value(json_object_get(v, "bus")), 1, "USB bus");
	is_int(json_integer_value(json_object_get(v, "dev")), 4, "USB device number");
	is_str(s(v, "id"), "0781:5567", "vendor:product");
	is_str(s(v, "product"), "Cruzer Blade", "product name");
	json_decref(d);
	d = NULL;

	/* a root without a PCI bus is not an error: nothing to list */
	cfg.sysfs_root = "/nonexistent-vmrun-sysfs";
	is_int(vmr_net_devices(&cfg, &d, &err), 0, "an empty root lists nothing");
	is_int((long long)json_array_size(json_object_get(d, "pci")), 0, "no PCI devices");
	json_decref(d);
	vmr_error_free(err);
	fake_cleanup();
	return tap_done();
}
