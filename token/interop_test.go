package token

import (
	"encoding/hex"
	"testing"
)

// Known-answer values from real firmware, not from this code:
//   - fvpRAKScalar is the FVP sample realm attestation key that TF-A hands the
//     RMM (ARM-software/arm-trusted-firmware
//     plat/arm/board/fvp/fvp_realm_attest_key.c, sample_delegated_key);
//   - fvpPlatformChallenge is the challenge claim (10) of TF-A's FVP sample
//     platform token (plat/arm/board/fvp/fvp_plat_attest_token.c), which
//     RMM 1.0-REL0 firmware binds to that RAK (TF-RMM attestation_key.c).
//
// Reproducing the challenge from the scalar proves that our COSE_Key
// encoding of a RAK is byte-identical to TF-RMM's (t_cose) encoding, since
// the hash covers the exact bytes.
const (
	fvpRAKScalar         = "2011c7f03cee4325176e524f033c0ce1e21a76e6c1a4f0b839aa1df61e0e8a5c8a05740f9b69efa7eb1a4185bd117f68"
	fvpPlatformChallenge = "0d22e08a98469058486318283489bdb36f09dbefeb1864df433fa6e54ea2d711"
)

func TestFVPSampleBinding(t *testing.T) {
	scalar, _ := hex.DecodeString(fvpRAKScalar)
	k, err := P384FromScalar(scalar)
	if err != nil {
		t.Fatal(err)
	}
	coseKey, err := EncodeCOSEKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(coseKey) != 107 {
		t.Fatalf("COSE_Key is %d bytes, want 107", len(coseKey))
	}
	got, err := Binding(SHA256, coseKey)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != fvpPlatformChallenge {
		t.Fatalf("SHA-256(COSE_Key(FVP RAK)) = %x, want the FVP platform token challenge %s", got, fvpPlatformChallenge)
	}
	// The same token's challenge is what CheckBinding accepts.
	want, _ := hex.DecodeString(fvpPlatformChallenge)
	if err := CheckBinding(want, SHA256, coseKey); err != nil {
		t.Fatal(err)
	}
}
