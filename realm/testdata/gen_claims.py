#!/usr/bin/env python3
"""Writes claims.json, the evcli JSON form (veraison/evcli) of
claims_test.go's sample(), with Python's base64 rather than this code. The
RAK is the P-384 base point G (SEC 2 section 2.5.1) as the 107-byte COSE_Key
as TF-RMM attestation_key.c writes it. Run from this directory: python3 gen_claims.py"""
import base64, json

gx = "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7"
gy = "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f"
cose = bytes.fromhex("a401022002215830" + gx + "225830" + gy)
assert len(cose) == 107
b = lambda x: base64.b64encode(x).decode()
doc = {
    "cca-realm-profile": "tag:arm.com,2023:realm#1.0.0",
    "cca-realm-challenge": b(b"\xc0" * 64),
    "cca-realm-personalization-value": b(b"\x50" * 64),
    "cca-realm-initial-measurement": b(b"\x1a" * 32),
    "cca-realm-extensible-measurements": [b(bytes([v]) * 32) for v in (0xE1, 0xE2, 0xE3, 0xE4)],
    "cca-realm-hash-algo-id": "sha-256",
    "cca-realm-public-key": b(cose),
    "cca-realm-public-key-hash-algo-id": "sha-256",
}
with open("claims.json", "w") as f:
    f.write(json.dumps(doc, indent=2) + "\n")
