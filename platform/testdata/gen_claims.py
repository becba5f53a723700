#!/usr/bin/env python3
"""Writes claims.json, the evcli JSON form (veraison/evcli) of
json_test.go's goldenClaims, with Python's base64 rather than this code.
Run from this directory: python3 gen_claims.py"""
import base64, json

b = lambda x: base64.b64encode(x).decode()
doc = {
    "cca-platform-profile": "tag:arm.com,2023:cca_platform#1.0.0",
    "cca-platform-challenge": b(bytes(range(32))),
    "cca-platform-implementation-id": b(b"\xaa" * 32),
    "cca-platform-instance-id": b(b"\x01" + b"\xbb" * 32),
    "cca-platform-config": b(bytes([0xCF, 0xE5, 0, 0])),
    "cca-platform-lifecycle": 0x3003,
    "cca-platform-sw-components": [
        {"measurement-type": "RMM", "measurement-value": b(b"\x12" * 32), "version": "1.0.0",
         "signer-id": b(b"\x22" * 32), "measurement-description": "sha-256"},
        {"measurement-value": b(b"\x13" * 48), "signer-id": b(b"\x23" * 64)},
    ],
    "cca-platform-service-indicator": "https://veraison.example/v",
    "cca-platform-hash-algo-id": "sha-256",
}
with open("claims.json", "w") as f:
    f.write(json.dumps(doc, indent=2) + "\n")
