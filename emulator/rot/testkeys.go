package rot

// Fixed test keys of the emulated platform, used when Config leaves a key
// nil so that a zero Config boots a machine whose tokens verify against a
// known CPAK. They are published here and are therefore worthless as
// secrets: never provision them on anything that matters.
//
// Both are raw big-endian P-384 private scalars, the form in which EL3
// hands the RAK to the RMM (TF-RMM rmm-spec-v1.0-rel0
// lib/attestation/src/attestation_key.c). They were generated for
// ccakit with crypto/ecdsa and are not any vendor's sample keys.
const (
	// TestCPAKScalar is the platform attestation key (CPAK) scalar.
	TestCPAKScalar = "672c6a074276311110c8ac9c8c9515d63a52f84439d8e6e2b1bddd82bb70933325b3ad73eae97a4597071dcb2946c7d5"
	// TestRAKScalar is the realm attestation key (RAK) scalar.
	TestRAKScalar = "009852855857178ced7fcc11bab8789612fea45f282cb8d0120f3622478dc09ce454310a5c3d3eb774f2b2d41dc19b22"
)
