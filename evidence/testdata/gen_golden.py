#!/usr/bin/env python3
"""Writes the *.diag goldens of golden_test.go from first principles.

Independent of the Go code under test: the values are those of
fixtures_test.go (samplePlatform, sampleRealm) with the RAK = the P-384 base
point G (private scalar 1; SEC 2 section 2.5.1), laid out as
TF-RMM's attestation_token.c writes, the binding computed with hashlib.
Run from this directory: python3 gen_golden.py
"""
import hashlib

gx = "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7"
gy = "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f"
cose = bytes.fromhex("a4 01 02 20 02 21 58 30".replace(" ", "") + gx + "225830" + gy)  # 107 bytes, section 4.4
raw = bytes.fromhex("04" + gx + gy)  # 97 bytes, EAC5


def h(b, n):
    return "h'" + ("%02x" % b) * n + "'"


def realm(rak, profile):
    parts = ["10: " + h(0xC0, 64), "44235: " + h(0x50, 64), "44237: " + rak,
             '44236: "sha-256"', '44240: "sha-256"']
    if profile:
        parts.append('265: "%s"' % profile)
    parts += ["44238: " + h(0x1A, 32),
              "44239: [" + ", ".join(h(v, 32) for v in (0xE1, 0xE2, 0xE3, 0xE4)) + "]"]
    return "{" + ", ".join(parts) + "}\n"


def platform(profile, rak):
    parts = ['265: "%s"' % profile, "10: h'%s'" % hashlib.sha256(rak).hexdigest(),
             "2396: " + h(0xAA, 32), "256: h'01" + "bb" * 32 + "'", "2401: h'cfe50000'",
             "2395: 12291", '2402: "sha-256"',
             '2400: "https://veraison.example/.well-known/veraison/verification"',
             '2399: [{1: "RSE_BL1_2", 2: %s, 5: %s, 6: "sha-256"}, {1: "RMM", 2: %s, 4: "1.0.0", 5: %s, 6: "sha-256"}]'
             % (h(0x11, 32), h(0x21, 32), h(0x12, 32), h(0x22, 32))]
    return "{" + ", ".join(parts) + "}\n"


cose_diag = "<<{1: 2, -1: 2, -2: h'%s', -3: h'%s'}>>" % (gx, gy)
files = {
    "realm-rel0.diag": realm(cose_diag, "tag:arm.com,2023:realm#1.0.0"),
    "realm-legacy.diag": realm("h'04%s%s'" % (gx, gy), None),
    "platform-rel0.diag": platform("tag:arm.com,2023:cca_platform#1.0.0", cose),
    "platform-legacy.diag": platform("http://arm.com/CCA-SSD/1.0.0", raw),
}
for name, text in files.items():
    with open(name, "w") as f:
        f.write(text)
