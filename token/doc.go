// Package token is the CCA attestation token layer shared by everything that
// creates, inspects or verifies CCA evidence: the evidence collection (tag 399
// and the CMW tag 907 wrapper), COSE_Sign1 signing and verification with the
// algorithm pinned to the key, strict CBOR decoding for attacker-controlled
// input, key import (PEM, JWK, raw P-384 scalar), COSE_Key and raw-point RAK
// encodings, the platform/realm binding, and the one table of profiles and
// claim keys.
//
// The claim sets themselves live in the platform and realm packages; the
// evidence package puts the pieces together.
package token
