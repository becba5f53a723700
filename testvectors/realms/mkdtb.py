#!/usr/bin/env python3
"""Writes the minimal device trees (FDT v17) of the example realms.

Run from the repository root:  python3 testvectors/realms/mkdtb.py

Each DTB describes the realm's RAM, its CPUs and the kernel command line,
as a VMM would generate it; the descriptions load it zero-padded into a
64 KB slot. Nothing here needs dtc.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_END = 1, 2, 3, 9


class FDT:
    def __init__(self):
        self.struct = bytearray()
        self.strings = bytearray()
        self.offsets = {}

    def _pad(self):
        self.struct += bytes(-len(self.struct) % 4)

    def begin(self, name):
        self.struct += struct.pack(">I", FDT_BEGIN_NODE) + name.encode() + b"\0"
        self._pad()

    def end(self):
        self.struct += struct.pack(">I", FDT_END_NODE)

    def prop(self, name, value):
        if name not in self.offsets:
            self.offsets[name] = len(self.strings)
            self.strings += name.encode() + b"\0"
        self.struct += struct.pack(">III", FDT_PROP, len(value), self.offsets[name]) + value
        self._pad()

    def blob(self):
        body = bytes(self.struct) + struct.pack(">I", FDT_END)
        rsvmap = bytes(16)  # an empty memory reservation block
        off_rsvmap = 40
        off_struct = off_rsvmap + len(rsvmap)
        off_strings = off_struct + len(body)
        total = off_strings + len(self.strings)
        header = struct.pack(">10I", 0xD00DFEED, total, off_struct, off_strings, off_rsvmap,
                             17, 16, 0, len(self.strings), len(body))
        return header + rsvmap + body + bytes(self.strings)


def u32(*v):
    return b"".join(struct.pack(">I", x) for x in v)


def u64(*v):
    return b"".join(struct.pack(">Q", x) for x in v)


def s(text):
    return text.encode() + b"\0"


def realm_dtb(ram_base, ram_size, cpus, bootargs, initrd=None):
    f = FDT()
    f.begin("")
    f.prop("compatible", s("linux,dummy-virt"))
    f.prop("#address-cells", u32(2))
    f.prop("#size-cells", u32(2))
    f.begin("chosen")
    f.prop("bootargs", s(bootargs))
    if initrd:
        f.prop("linux,initrd-start", u64(initrd[0]))
        f.prop("linux,initrd-end", u64(initrd[1]))
    f.end()
    f.begin("memory@%x" % ram_base)
    f.prop("device_type", s("memory"))
    f.prop("reg", u64(ram_base, ram_size))
    f.end()
    f.begin("cpus")
    f.prop("#address-cells", u32(1))
    f.prop("#size-cells", u32(0))
    for i in range(cpus):
        f.begin("cpu@%x" % i)
        f.prop("device_type", s("cpu"))
        f.prop("compatible", s("arm,arm-v8"))
        f.prop("enable-method", s("psci"))
        f.prop("reg", u32(i))
        f.end()
    f.end()
    f.begin("psci")
    f.prop("compatible", s("arm,psci-1.0"))
    f.prop("method", s("smc"))
    f.end()
    f.end()
    return f.blob()


def main():
    dtbs = {
        "small.dtb": realm_dtb(0x80000000, 0x10000000, 1, "console=hvc0 earlycon"),
        "qemu-virt.dtb": realm_dtb(0x40000000, 0x20000000, 2, "console=ttyAMA0",
                                   initrd=(0x48000000, 0x48100000)),
    }
    for name, blob in dtbs.items():
        with open(os.path.join(HERE, name), "wb") as out:
            out.write(blob)


if __name__ == "__main__":
    main()
