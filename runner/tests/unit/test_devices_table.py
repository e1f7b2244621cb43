"""A provider's device match table (stacks/devices_table.py), found in a
stripped library by its shape, and a removed provider whose devices a
provider of the new stack matches: replaced (info), not removed. Crafted
providers are built here with rdma-core's own struct verbs_match_ent."""
import subprocess
import tempfile
import unittest
from pathlib import Path

from rdmagate.abi import symbols
from rdmagate.stacks import devices_table
from tests.support import build_library

MATCH = """
#include <stdint.h>
struct verbs_match_ent {
	void *driver_data;
	union { const char *modalias; uint64_t driver_id; } u;
	uint16_t vendor;
	uint16_t device;
	uint8_t kind;
};
#define DRIVER_ID(id) { .u.driver_id = (id), .kind = 3 }
#define PCI(v, d) { .vendor = (v), .device = (d), .kind = 1 }
#define NAME(s) { .u.modalias = "rdma_device:*N" s "*", .kind = 2 }
const struct verbs_match_ent *provider_table(void);
static const struct verbs_match_ent hca_table[] = { %s {} };
const struct verbs_match_ent *provider_table(void) { return hca_table; }
static const uint64_t other_data[] = { 7, 1, 0x8086, 0, 0, 0 };
const uint64_t *provider_other(void) { return other_data; }
"""


def provider(directory: Path, name: str, entries: str) -> Path:
    path = build_library(directory / f"lib{name}-rdmav34.so",
                         {"IBVERBS_PRIVATE_34": ["provider_table", "provider_other"]},
                         source=MATCH % entries)
    subprocess.run(["strip", "--strip-all", str(path)], check=True)
    return path


class MatchTable(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="rdmagate-devices-"))
        self.addCleanup(subprocess.run, ["rm", "-rf", str(self.dir)])

    def test_driver_ids_and_pci_ids_of_a_stripped_provider(self):
        # no pointer in the table: it is in .rodata, as i40iw's is
        path = provider(self.dir, "old", "DRIVER_ID(9), PCI(0x8086, 0x37d0), "
                        "PCI(0x8086, 0x37d2),")
        self.assertEqual(devices_table.of(path),
                         {"driver_ids": [9], "pci": ["8086:37d0", "8086:37d2"]})

    def test_a_table_with_a_name_match_is_relocated_data_and_read_too(self):
        path = provider(self.dir, "new", "DRIVER_ID(14), NAME(\"new\"), PCI(0x15b3, 0x1017),")
        self.assertEqual(devices_table.of(path), {"driver_ids": [14], "pci": ["15b3:1017"]})

    def test_a_name_match_alone_is_not_a_table(self):
        self.assertIsNone(devices_table.of(provider(self.dir, "rxe", "NAME(\"rxe\"),")))

    def test_a_table_whose_padding_is_not_zero_is_not_taken(self):
        data = devices_table.ENTRY.pack(0, 9, 0, 0, devices_table.DRIVER_ID, b"\0\0\0") + \
            devices_table.SENTINEL
        self.assertEqual(len(devices_table.tables(data)), 1)
        bad = devices_table.ENTRY.pack(0, 9, 0, 0, devices_table.DRIVER_ID, b"\0\1\0") + \
            devices_table.SENTINEL
        self.assertEqual(devices_table.tables(bad), [])


class ProviderReplaced(unittest.TestCase):
    """symbols' provider rule on inventories whose tables are given."""
    OLD = {"driver_ids": [9], "pci": ["8086:37d0", "8086:37d2"]}

    def findings(self, new_tables: dict) -> dict:
        a = {"libraries": {"libibverbs": {}}, "providers": {"old": {"devices": self.OLD}}}
        b = {"libraries": {"libibverbs": {}},
             "providers": {name: {"devices": t} for name, t in new_tables.items()}}
        return {f.library: (f.kind, f.severity, f.detail) for f in symbols._providers(a, b)}

    def test_a_provider_matching_every_device_replaces_it(self):
        found = self.findings({"new": {"driver_ids": [9],
                                       "pci": ["8086:1593", "8086:37d0", "8086:37d2"]}})
        kind, severity, detail = found["provider old"]
        self.assertEqual((kind, severity), ("provider replaced", "info"))
        self.assertIn("the new stack's new matches every device it did (2 PCI ids, kernel "
                      "driver id 9)", detail)

    def test_a_device_no_provider_matches_keeps_it_removed(self):
        found = self.findings({"new": {"driver_ids": [9], "pci": ["8086:37d0"]}})
        self.assertEqual(found["provider old"][:2], ("provider removed", "breaking"))

    def test_a_table_not_known_keeps_it_removed(self):
        found = self.findings({"new": None})
        self.assertEqual(found["provider old"][:2], ("provider removed", "breaking"))


if __name__ == "__main__":
    unittest.main()
