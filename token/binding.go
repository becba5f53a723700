package token

import (
	"crypto/subtle"
	"encoding/hex"
	"fmt"
)

// Binding returns the platform challenge that binds a realm token to its
// platform token: the hash, by the algorithm the realm names in claim 44240,
// of the RAK claim (44237) bytes exactly as carried (Arm DEN0137 1.0-REL0,
// realm attestation: the platform token's challenge binds the RAK; TF-RMM
// lib/attestation attestation_key.c attest_setup_platform_token).
func Binding(rakHashAlg string, rakClaim []byte) ([]byte, error) {
	d, err := Digest(rakHashAlg, rakClaim)
	if err != nil {
		return nil, fmt.Errorf("binding: RAK hash algorithm (claim %d): %w", KeyRealmPubKeyHashAlgID, err)
	}
	return d, nil
}

// CheckBinding verifies that platformChallenge binds rakClaim.
func CheckBinding(platformChallenge []byte, rakHashAlg string, rakClaim []byte) error {
	want, err := Binding(rakHashAlg, rakClaim)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(want, platformChallenge) != 1 {
		return fmt.Errorf("%w: platform challenge %s is not %s(RAK claim) = %s",
			ErrBinding, shortHex(platformChallenge), rakHashAlg, shortHex(want))
	}
	return nil
}

// Nonce sizes a relying party may use. The realm challenge is always 64
// bytes (Arm DEN0137 1.0-REL0, RSI_ATTESTATION_TOKEN_INIT); Linux's
// configfs-tsm accepts 32..64 and zero-pads (drivers/virt/coco/arm-cca-guest).
const (
	MinNonceSize  = 32
	ChallengeSize = 64
)

// PadNonce zero-pads a 32..64-byte nonce to the 64-byte realm challenge.
func PadNonce(nonce []byte) ([]byte, error) {
	if len(nonce) < MinNonceSize || len(nonce) > ChallengeSize {
		return nil, fmt.Errorf("%w: nonce of %d bytes; it must be %d to %d bytes", ErrFreshness, len(nonce), MinNonceSize, ChallengeSize)
	}
	out := make([]byte, ChallengeSize)
	copy(out, nonce)
	return out, nil
}

// CheckFreshness verifies that the realm challenge is the relying party's
// nonce, zero-padded to 64 bytes.
func CheckFreshness(realmChallenge, nonce []byte) error {
	want, err := PadNonce(nonce)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(want, realmChallenge) != 1 {
		return fmt.Errorf("%w: realm challenge %s is not the expected nonce %s", ErrFreshness, shortHex(realmChallenge), shortHex(want))
	}
	return nil
}

// shortHex abbreviates long byte strings in messages.
func shortHex(b []byte) string {
	if len(b) <= 16 {
		return hex.EncodeToString(b)
	}
	return hex.EncodeToString(b[:8]) + "…" + hex.EncodeToString(b[len(b)-4:])
}
