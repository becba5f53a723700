#!/usr/bin/env python3
"""Known-answer RIMs for realm descriptions, independent of the Go code.

Run from the repository root:  python3 realmbuild/testdata/rim_kat.py
(or with description files as arguments, to print their RIMs:
python3 realmbuild/testdata/rim_kat.py testvectors/realms/*.json)

It writes the descriptions realmbuild/testdata/realms/<name>.json (and the image
files they name) and realmbuild/testdata/rim-kat.txt, which predict_test.go
checks realmbuild.PredictRIM against. Everything here is computed straight from
the layouts of Arm DEN0137 1.0-REL0 (B4.4, C1) with hashlib: RmiRealmParams,
RmiRecParams, and the 256-byte DATA, REC and RIPAS measurement descriptors;
the RTT_INIT_RIPAS decomposition follows the geometry rule of
docs/realm-description.md (largest aligned entry that fits, never above the
starting level; the starting level the deepest one 16 concatenated tables
allow).
"""

import hashlib
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
GRANULE = 4096


def digest(alg, data):
    """A 64-byte measurement slot: the digest, zero-padded."""
    h = hashlib.sha256(data) if alg == "sha-256" else hashlib.sha512(data)
    return h.digest().ljust(64, b"\0")


def size_of(alg):
    return 32 if alg == "sha-256" else 64


def realm_create(alg, flags, s2sz, sve_vl, num_bps, num_wps, pmu_ctrs):
    params = bytearray(GRANULE)
    struct.pack_into("<Q", params, 0x000, flags)
    struct.pack_into("<Q", params, 0x008, s2sz)
    struct.pack_into("<Q", params, 0x010, sve_vl)
    struct.pack_into("<Q", params, 0x018, num_bps)
    struct.pack_into("<Q", params, 0x020, num_wps)
    struct.pack_into("<Q", params, 0x028, pmu_ctrs)
    params[0x030] = 0 if alg == "sha-256" else 1
    return digest(alg, bytes(params))


def desc_head(alg, typ, rim):
    d = bytearray(0x100)
    d[0] = typ
    struct.pack_into("<Q", d, 0x08, 0x100)
    d[0x10:0x10 + size_of(alg)] = rim[:size_of(alg)]
    return d


def ripas(alg, rim, base, top):
    d = desc_head(alg, 2, rim)
    struct.pack_into("<QQ", d, 0x50, base, top)
    return digest(alg, bytes(d))


def data(alg, rim, ipa, measured, granule):
    d = desc_head(alg, 0, rim)
    struct.pack_into("<QQ", d, 0x50, ipa, 1 if measured else 0)
    if measured:
        d[0x60:0xA0] = digest(alg, granule)
    assert len(d) == 0x100
    return digest(alg, bytes(d))


def rec(alg, rim, pc, gprs):
    params = bytearray(GRANULE)
    struct.pack_into("<Q", params, 0x000, 1)  # RUNNABLE
    struct.pack_into("<Q", params, 0x200, pc)
    for i, g in enumerate(gprs):
        struct.pack_into("<Q", params, 0x300 + 8 * i, g)
    d = desc_head(alg, 1, rim)
    d[0x50:0x90] = digest(alg, bytes(params))
    assert len(d) == 0x100
    return digest(alg, bytes(d))


def start_level(s2sz):
    # Deepest level whose entries resolve the bits above it with at most
    # 16 concatenated 512-entry tables.
    for level in (3, 2, 1, 0):
        shift = 12 + 9 * (3 - level)
        if shift < s2sz <= shift + 13:
            return level
    raise ValueError(s2sz)


def ripas_entries(base, top, start):
    out = []
    while base < top:
        for level in range(start, 4):
            size = 1 << (12 + 9 * (3 - level))
            if base % size == 0 and base + size <= top:
                break
        out.append((base, base + size))
        base += size
    return out


def pattern_fill(pattern, size):
    return (pattern * (size // len(pattern) + 1))[:size]


def number(v):
    return "0x%x" % v


def predict(d, files):
    """The RIM of description d (a dict in the JSON form, numbers as "0x"
    strings except in "realm"; file images' contents in files), with the
    number of RIPAS and DATA descriptors."""
    r = d["realm"]
    alg = r["hash_algo"]
    s2sz = r["s2sz"]
    flags = 0
    for bit, key in enumerate(("lpa2", "sve", "pmu")):
        if r.get("flags", {}).get(key):
            flags |= 1 << bit
    rim = realm_create(alg, flags, s2sz, r.get("sve_vl", 0), r["num_bps"],
                       r["num_wps"], r.get("pmu_num_ctrs", 0))
    level = r.get("rtt_level_start", start_level(s2sz))

    n_ripas = 0
    for rng in sorted(d["ram"], key=lambda x: int(x["base"], 16)):
        base, size = int(rng["base"], 16), int(rng["size"], 16)
        for b, t in ripas_entries(base, base + size, level):
            rim = ripas(alg, rim, b, t)
            n_ripas += 1

    def image_bytes(im):
        if "file" in im:
            content = files[im["file"]]
        elif "hex" in im:
            content = bytes.fromhex(im["hex"])
        else:
            content = pattern_fill(bytes.fromhex(im["fill"]), int(im["size"], 16))
        size = max(int(im.get("size", "0x0"), 16), len(content))
        ipa = int(im["ipa"], 16)
        lo = ipa - ipa % GRANULE
        buf = bytearray(ipa - lo) + content + bytes(size - len(content))
        buf += bytes(-len(buf) % GRANULE)
        return lo, bytes(buf)

    images = sorted(d["images"], key=lambda im: int(im["ipa"], 16))
    n_data = 0

    def load(measured):
        nonlocal rim, n_data
        for im in images:
            if im.get("measured", True) != measured:
                continue
            lo, buf = image_bytes(im)
            for off in range(0, len(buf), GRANULE):
                rim = data(alg, rim, lo + off, measured, buf[off:off + GRANULE])
                n_data += 1

    load(True)
    for i, rc in enumerate(d["recs"]):
        if rc.get("runnable", i == 0):
            gprs = [int(g, 16) for g in rc.get("gprs", [])]
            rim = rec(alg, rim, int(rc["pc"], 16), gprs + [0] * (8 - len(gprs)))
    load(False)
    return rim[:size_of(alg)], n_ripas, n_data


def kat(name, d, files):
    """Write description d and its files, return its KAT line."""
    rim, n_ripas, n_data = predict(d, files)
    os.makedirs(os.path.join(HERE, "realms"), exist_ok=True)
    with open(os.path.join(HERE, "realms", name + ".json"), "w") as f:
        json.dump(d, f, indent=2)
        f.write("\n")
    for fname, content in files.items():
        with open(os.path.join(HERE, "realms", fname), "wb") as f:
            f.write(content)
    return "%s %s ripas=%d data=%d %s" % (name, d["realm"]["hash_algo"], n_ripas, n_data, rim.hex())


def main():
    lines = []

    # A small kvmtool-like realm: 256 MB of RAM at 2 GB, a synthetic 64 KB
    # kernel at the base of RAM and a 64 KB DTB slot 2 MB below the end.
    dtb = bytes((i * 37 + 11) & 0xFF for i in range(0x1234))
    lines.append(kat("two-images", {
        "comment": "rim_kat.py: two measured images, sha-256",
        "realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 5, "num_wps": 3,
                  "flags": {"pmu": True}, "pmu_num_ctrs": 6},
        "ram": [{"base": number(0x80000000), "size": number(0x10000000)}],
        "images": [
            {"name": "dtb", "ipa": number(0x8FE00000), "size": number(0x10000), "file": "two-images.dtb"},
            {"name": "kernel", "ipa": number(0x80000000), "fill": "a55a", "size": number(0x10000)},
        ],
        "recs": [{"pc": number(0x80000000), "gprs": [number(0x8FE00000)]}],
    }, {"two-images.dtb": dtb}))

    # sha-512, a level-2 start (s2sz 33: 8 concatenated tables), unaligned
    # RAM heads and tails, an unaligned image, an unmeasured image, an RPV,
    # SVE, and a second REC that is not runnable.
    lines.append(kat("mixed", {
        "comment": "rim_kat.py: sha-512, level-2 start, unaligned RAM and image, unmeasured image, 2 RECs",
        "realm": {"s2sz": 33, "hash_algo": "sha-512", "num_bps": 1, "num_wps": 1,
                  "flags": {"sve": True}, "sve_vl": 3, "vmid": 7,
                  "rpv": "00112233445566778899aabbccddeeff"},
        "ram": [
            {"base": number(0x40000000), "size": number(0x400000)},
            {"base": number(0x7FE000), "size": number(0x1000000 + 0x3000 - 0x7FE000)},
        ],
        "images": [
            {"name": "config", "ipa": number(0x40000000), "fill": "c0", "size": number(0x2000), "measured": False},
            {"name": "blob", "ipa": number(0x800123), "hex": bytes(range(1, 101)).hex()},
            {"name": "boot", "ipa": number(0x7FE000), "hex": "deadbeef" * 300, "size": number(0x1800)},
        ],
        "recs": [
            {"pc": number(0x7FE000), "gprs": [number(x) for x in (1, 2, 3, 4, 5, 6, 7, 0xFFFFFFFFFFFFFFFF)]},
            {"pc": number(0x7FE800), "runnable": False, "mpidr": number(1)},
        ],
    }, {}))

    # The whole PAR of a 40-bit realm as one level-0 entry: rtt_level_start
    # 0 instead of the default 1 (which would give 512 level-1 entries).
    lines.append(kat("level0", {
        "comment": "rim_kat.py: rtt_level_start 0, the whole PAR in one RIPAS descriptor",
        "realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1,
                  "rtt_level_start": 0, "rtt_num_start": 1},
        "ram": [{"base": number(0), "size": number(1 << 39)}],
        "images": [{"name": "entry", "ipa": number(0x1000), "hex": "1f2003d5" * 4}],
        "recs": [{"pc": number(0x1000)}],
    }, {}))

    # s2sz 48 (level-0 start): 512 GB + 1 GB + 2 MB + 4 KB of RAM from 512 GB.
    lines.append(kat("s2sz48", {
        "comment": "rim_kat.py: level-0 start, descriptors at levels 0, 1, 2 and 3",
        "realm": {"s2sz": 48, "hash_algo": "sha-512", "num_bps": 15, "num_wps": 15},
        "ram": [{"base": number(1 << 39), "size": number((1 << 39) + (1 << 30) + (1 << 21) + 4096)}],
        "images": [{"name": "tail", "ipa": number((1 << 40) + (1 << 30) + (1 << 21)), "fill": "ff", "size": number(4096)}],
        "recs": [{"pc": number(1 << 39)}],
    }, {}))

    with open(os.path.join(HERE, "rim-kat.txt"), "w") as f:
        f.write("# Written by rim_kat.py (independent of the Go code): the RIM of each\n")
        f.write("# realms/<name>.json, the number of RIPAS and DATA descriptors.\n")
        f.write("# name hash-algo ripas=N data=N rim-hex\n")
        for line in lines:
            f.write(line + "\n")


def check(paths):
    """Print the RIM of existing description files (testvectors/realms)."""
    for path in paths:
        with open(path) as f:
            d = json.load(f)
        files = {}
        for im in d["images"]:
            if "file" in im:
                with open(os.path.join(os.path.dirname(path), im["file"]), "rb") as f:
                    files[im["file"]] = f.read()
        rim, n_ripas, n_data = predict(d, files)
        print("%s ripas=%d data=%d %s" % (path, n_ripas, n_data, rim.hex()))


if __name__ == "__main__":
    import sys
    if len(sys.argv) > 1:
        check(sys.argv[1:])
    else:
        main()
