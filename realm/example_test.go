package realm_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// A realm claims set of the shape TF-RMM main emits (the realm 2.0
// profile, with the realm instance id and the MEC policy; here the one
// testvectors/claims/tfrmm-main.json gives) is decoded from the realm
// token's payload and validated; RAK gives the key that signs the token.
func ExampleDecode() {
	data, err := os.ReadFile("../testvectors/tfrmm-main-es384.cbor")
	if err != nil {
		fmt.Println(err)
		return
	}
	coll, err := token.DecodeCollection(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	sign1, err := token.DecodeSign1(coll.Realm, "realm token")
	if err != nil {
		fmt.Println(err)
		return
	}
	claims, err := realm.Decode(sign1.Payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("profile:", claims.Profile)
	fmt.Println("valid:", claims.Validate(realm.ValidateOptions{}))
	fmt.Println("RIM:", claims.HashAlgID, hex.EncodeToString(claims.InitialMeasurement[:8]))
	fmt.Println("instance id:", len(claims.InstanceID), "bytes, type", claims.InstanceID[0])
	private, err := claims.MECPolicy.Private()
	fmt.Println("MEC policy private:", private, err)
	rak, err := claims.RAK()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("RAK:", token.DescribeKey(rak), "verifies:", sign1.Verify(rak, nil) == nil)
	// Output:
	// profile: tag:arm.com,2024:realm#2.0.0
	// valid: <nil>
	// RIM: sha-256 a4db57ca47a952f3
	// instance id: 33 bytes, type 1
	// MEC policy private: false <nil>
	// RAK: ECDSA P-384 verifies: true
}

// The RIM starts as the hash of the measured realm parameters, a
// zero-filled RmiRealmParams holding flags, s2sz, sve_vl, num_bps, num_wps,
// pmu_num_ctrs and hash_algo (RMI_REALM_CREATE; Arm DEN0137 1.0-REL0 A7.1).
// The flags are measured whole: TF-RMM main also measures the MEC policy
// of flags0 bits [8:7] (app/attestation/rmm_stub/src/rim.c,
// measurement_realm_params_measure copies realm_params->flags0), so a
// realm that asks for a private MEC has another RIM. The expected values
// are SHA-256 of the 4096-byte structure, computed independently.
func ExampleInitialRIM() {
	p := realm.RealmParams{S2SZ: 40, NumBPS: 5, NumWPS: 3, HashAlgo: realm.HashSHA256}
	shared := realm.InitialRIM(p)
	p.Flags = 1 << 7 // MEC policy private (TF-RMM main RMI_REALM_FLAGS0_MEC_POLICY)
	private := realm.InitialRIM(p)
	fmt.Println(hex.EncodeToString(shared[:32]))
	fmt.Println(hex.EncodeToString(private[:32]))
	// Output:
	// f33498f22eed8d51fb28b95769b27275a8c69a469e26b0050f1e809c4e0146b4
	// 297e61c30308fefcaf264e9824b29947d02f004b469bca81aaa1723271340ad8
}

// ExtendDataDigest takes the content hash from a caller that hashed the
// granule itself, here while streaming it in pieces; the RIM is the one
// ExtendData gives.
func ExampleMeasurement_ExtendDataDigest() {
	p := realm.RealmParams{S2SZ: 40, HashAlgo: realm.HashSHA256}
	granule := bytes.Repeat([]byte{0xA5}, realm.GranuleSize)
	whole, streamed := realm.InitialRIM(p), realm.InitialRIM(p)
	whole.ExtendData(p.HashAlgo, 0x4000_0000, realm.MeasureContent, granule)
	h := sha256.New()
	for off := 0; off < len(granule); off += 512 {
		h.Write(granule[off : off+512])
	}
	streamed.ExtendDataDigest(p.HashAlgo, 0x4000_0000, realm.MeasureContent, h.Sum(nil))
	fmt.Println(whole == streamed)
	// Output: true
}
