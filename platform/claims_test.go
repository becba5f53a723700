package platform_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/token"
)

func rep(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

// Minimal hand-rolled CBOR (RFC 8949 §3), independent of the encoder under
// test.
func cHead(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n <= 0xff:
		return []byte{m | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	}
	return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
}
func cInt(n int64) []byte {
	if n >= 0 {
		return cHead(0, uint64(n))
	}
	return cHead(1, uint64(-1-n))
}
func cBstr(b []byte) []byte { return append(cHead(2, uint64(len(b))), b...) }
func cTstr(s string) []byte { return append(cHead(3, uint64(len(s))), s...) }
func cArr(items ...[]byte) []byte {
	return append(cHead(4, uint64(len(items))), bytes.Join(items, nil)...)
}
func cMap(kv ...[]byte) []byte { return append(cHead(5, uint64(len(kv)/2)), bytes.Join(kv, nil)...) }

// sample is a valid 1.0 platform claims set built in code.
func sample() *platform.Claims {
	return &platform.Claims{
		Profile:          "tag:arm.com,2023:cca_platform#1.0.0",
		Challenge:        rep(0x0C, 32),
		ImplementationID: rep(0xAA, 32),
		InstanceID:       append([]byte{0x01}, rep(0xBB, 32)...),
		Config:           []byte{0xCF, 0xE5, 0x00, 0x00},
		Lifecycle:        0x3003,
		SwComponents: []platform.SwComponent{
			{MeasurementType: "RMM", MeasurementValue: rep(0x12, 32), Version: "1.0.0", SignerID: rep(0x22, 32), MeasurementDesc: "sha-256"},
		},
		VerificationService: "https://veraison.example/v",
		HashAlgID:           "sha-256",
	}
}

// sampleCBOR is sample() encoded by hand, in the order of TF-A's sample
// token (TF-A plat/arm/board/fvp/fvp_plat_attest_token.c).
func sampleCBOR() []byte {
	return cMap(
		cInt(265), cTstr("tag:arm.com,2023:cca_platform#1.0.0"),
		cInt(10), cBstr(rep(0x0C, 32)),
		cInt(2396), cBstr(rep(0xAA, 32)),
		cInt(256), cBstr(append([]byte{0x01}, rep(0xBB, 32)...)),
		cInt(2401), cBstr([]byte{0xCF, 0xE5, 0x00, 0x00}),
		cInt(2395), cInt(0x3003),
		cInt(2402), cTstr("sha-256"),
		cInt(2400), cTstr("https://veraison.example/v"),
		cInt(2399), cArr(cMap(cInt(1), cTstr("RMM"), cInt(2), cBstr(rep(0x12, 32)), cInt(4), cTstr("1.0.0"),
			cInt(5), cBstr(rep(0x22, 32)), cInt(6), cTstr("sha-256"))),
	)
}

func TestEncodeGolden(t *testing.T) {
	got, err := sample().Encode()
	if err != nil {
		t.Fatal(err)
	}
	if want := sampleCBOR(); !bytes.Equal(got, want) {
		t.Fatalf("Encode\n got %x\nwant %x", got, want)
	}
}

func TestDecode(t *testing.T) {
	c, err := platform.Decode(sampleCBOR())
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	if c.Profile != want.Profile || !bytes.Equal(c.Challenge, want.Challenge) || !bytes.Equal(c.InstanceID, want.InstanceID) ||
		!bytes.Equal(c.ImplementationID, want.ImplementationID) || !bytes.Equal(c.Config, want.Config) || c.Lifecycle != want.Lifecycle ||
		!reflect.DeepEqual(c.SwComponents, want.SwComponents) || c.VerificationService != want.VerificationService ||
		c.HashAlgID != want.HashAlgID || c.Extra != nil {
		t.Fatalf("decoded %+v", c)
	}
	if c.Generation() != token.Gen1 {
		t.Errorf("generation %v", c.Generation())
	}
	if err := c.Validate(platform.ValidateOptions{RejectUnknownClaims: true}); err != nil {
		t.Fatal(err)
	}
	// What was carried re-encodes byte for byte.
	if b, err := c.Encode(); err != nil || !bytes.Equal(b, sampleCBOR()) {
		t.Fatalf("re-encoded %x, %v", b, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	comp := func(kv ...[]byte) []byte { return cArr(cMap(kv...)) }
	for _, tc := range []struct {
		name string
		in   []byte
		err  error
		msg  string
	}{
		{"not a map", cArr(), token.ErrMalformed, "expected a map"},
		{"profile as int", cMap(cInt(265), cInt(1)), token.ErrSyntax, "platform claim 265 (cca-platform-profile)"},
		{"challenge as text", cMap(cInt(10), cTstr("x")), token.ErrSyntax, "platform claim 10"},
		{"lifecycle as text", cMap(cInt(2395), cTstr("secured")), token.ErrSyntax, "platform claim 2395"},
		{"sw components as a map", cMap(cInt(2399), cMap()), token.ErrSyntax, "platform claim 2399"},
		{"sw component not a map", cMap(cInt(2399), cArr(cArr())), token.ErrMalformed, "software component 0"},
		{"sw component missing value", cMap(cInt(2399), comp(cInt(5), cBstr(rep(1, 32)))), token.ErrMissingClaim, "measurement value (2)"},
		{"sw component missing signer", cMap(cInt(2399), comp(cInt(2), cBstr(rep(1, 32)))), token.ErrMissingClaim, "signer id (5)"},
		{"sw component unknown key", cMap(cInt(2399), comp(cInt(2), cBstr(rep(1, 32)), cInt(5), cBstr(rep(1, 32)), cInt(9), cInt(0))), token.ErrSyntax, "unexpected key 9"},
		{"sw component LFA flag as integer", cMap(cInt(2399), comp(cInt(2), cBstr(rep(1, 32)), cInt(5), cBstr(rep(1, 32)), cInt(7), cInt(0))), token.ErrSyntax, "software component claim 7 (lfa-supported)"},
		{"client id as text", cMap(cInt(2394), cTstr("RMSD")), token.ErrSyntax, "platform claim 2394 (cca-platform-client-id)"},
		{"peer signers as bytes", cMap(cInt(2406), cBstr(nil)), token.ErrSyntax, "platform claim 2406 (cca-platform-peer-signers): expected an array of byte strings"},
		{"tbb rotpk as bytes", cMap(cInt(2405), cBstr(nil)), token.ErrSyntax, "platform claim 2405"},
		{"extension as a map", cMap(cInt(2404), cMap()), token.ErrSyntax, "platform claim 2404"},
		{"sw component type as bstr", cMap(cInt(2399), comp(cInt(1), cBstr(nil), cInt(2), cBstr(rep(1, 32)), cInt(5), cBstr(rep(1, 32)))), token.ErrSyntax, "software component 0"},
		{"sw component value as array", cMap(cInt(2399), comp(cInt(2), cArr(cInt(1)), cInt(5), cBstr(rep(1, 32)))), token.ErrSyntax, "expected a byte string, found array"},
		{"sw component null signer", cMap(cInt(2399), comp(cInt(2), cBstr(rep(1, 32)), cInt(5), []byte{0xf6})), token.ErrSyntax, "null"},
	} {
		_, err := platform.Decode(tc.in)
		if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %v containing %q", tc.name, err, tc.err, tc.msg)
		}
	}
}

// draft03 makes the claims a draft-ffm-rats-cca-token-03 platform token
// (2024 profile) with its 2.0 claims.
func draft03(c *platform.Claims) {
	one := uint64(1)
	c.Profile = "tag:arm.com,2024:cca_platform#2.0.0"
	c.ClientID = &one
	c.ManufacturingConfig = []byte("manufactured")
	name, idx := "CM", int64(0)
	c.TBBRoTPK = []platform.TBBRoTPK{{Name: &name, ActiveArrayIndex: &idx, Index: &idx, Hash: rep(0x5A, 48)}}
	c.PeerSigners = [][]byte{rep(0x70, 32)}
	c.DiscreteTPMBinding = []byte("tpm")
}

// draft04 makes the claims a draft-ffm-rats-cca-token-04 2.1.0 platform
// token with every platform claim.
func draft04(c *platform.Claims) {
	draft03(c)
	c.Profile, c.Challenge, c.WorkloadBinding = "tag:arm.com,2026:cca_platform#2.1.0", nil, rep(0xB1, 32)
	ide, proto, typ, enc := true, "spdm-1.2.3", "cxl-type-3", uint64(1)
	c.Extension = []platform.ExtensionDevice{{HashAlgID: "sha-384", DeviceMeasurementsDigest: rep(1, 48), CertificateChainDigest: rep(2, 48),
		UsesIDE: &ide, Protocol: &proto, VCADigest: rep(3, 48), DeviceType: &typ, EncryptionType: &enc}}
	lfa := false
	c.SwComponents[0].LFASupported = &lfa
	c.SwComponents[0].CountersignerIDs = [][]byte{rep(0xC5, 32)}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(c *platform.Claims)
		opts   platform.ValidateOptions
		err    error
		msg    string
	}{
		{name: "valid"},
		{name: "legacy profile", mutate: func(c *platform.Claims) { c.Profile = "http://arm.com/CCA-SSD/1.0.0" }},
		{name: "2.0 profile", mutate: draft03},
		{name: "2.0 profile without client id", mutate: func(c *platform.Claims) { draft03(c); c.ClientID = nil },
			err: token.ErrMissingClaim, msg: "platform claim 2394 (cca-platform-client-id)"},
		{name: "client id 2", mutate: func(c *platform.Claims) { draft03(c); *c.ClientID = 2 }, err: token.ErrSyntax, msg: "platform claim 2394 (cca-platform-client-id): 2, must be 1"},
		{name: "2.0 profile, 17-byte UEID", mutate: func(c *platform.Claims) {
			draft03(c)
			c.InstanceID = append([]byte{0x01}, rep(1, 16)...)
		}},
		{name: "2.0 profile, EUI-64 UEID", mutate: func(c *platform.Claims) {
			draft03(c)
			c.InstanceID = append([]byte{0x02}, rep(1, 8)...)
		}},
		{name: "2.0 profile, 18-byte RAND UEID", mutate: func(c *platform.Claims) {
			draft03(c)
			c.InstanceID = append([]byte{0x01}, rep(1, 17)...)
		}, err: token.ErrSyntax, msg: "platform claim 256"},
		{name: "no-source profile platform#2.0.0", mutate: func(c *platform.Claims) { draft03(c); c.Profile = "tag:arm.com,2024:platform#2.0.0" },
			err: token.ErrProfile, msg: "unknown platform profile"},
		{name: "2026, every claim, strict", mutate: draft04, opts: platform.ValidateOptions{RejectUnknownClaims: true}},
		{name: "2026 with a challenge", mutate: func(c *platform.Claims) { draft04(c); c.Challenge = rep(1, 32) }, err: token.ErrSyntax,
			msg: "platform claim 10 (cca-platform-challenge): must not appear with profile \"tag:arm.com,2026:cca_platform#2.1.0\""},
		{name: "2026 HESRAK with a challenge", mutate: func(c *platform.Claims) {
			draft04(c)
			c.Profile, c.Extension, c.Challenge = "tag:arm.com,2026:cca_platform#2.0.0;HESRAK", nil, rep(1, 64)
		}},
		{name: "2026 without workload binding", mutate: func(c *platform.Claims) { draft04(c); c.WorkloadBinding = nil }, err: token.ErrMissingClaim, msg: "platform claim 2408"},
		{name: "2026 workload binding 20 bytes", mutate: func(c *platform.Claims) { draft04(c); c.WorkloadBinding = rep(1, 20) }, err: token.ErrSyntax, msg: "platform claim 2408 (cca-platform-workload-binding): 20 bytes"},
		{name: "workload binding in 1.0", mutate: func(c *platform.Claims) { c.WorkloadBinding = rep(1, 32) }, err: token.ErrSyntax,
			msg: "platform claim 2408 (cca-platform-workload-binding): profile \"tag:arm.com,2023:cca_platform#1.0.0\" binds through claim 10"},
		{name: "extension in 2024, strict", mutate: func(c *platform.Claims) { d := sample(); draft04(d); draft03(c); c.Extension = d.Extension },
			opts: platform.ValidateOptions{RejectUnknownClaims: true}, err: token.ErrSyntax, msg: "platform claim 2404 (cca-platform-extension) is not defined by profile"},
		{name: "extension without VCA digest", mutate: func(c *platform.Claims) { draft04(c); c.Extension[0].VCADigest = nil }, err: token.ErrSyntax,
			msg: `platform claim 2404 (cca-platform-extension): device 0: protocol "spdm-1.2.3" needs a VCA digest (6)`},
		{name: "extension cxl without encryption type", mutate: func(c *platform.Claims) { draft04(c); c.Extension[0].EncryptionType = nil }, err: token.ErrSyntax,
			msg: `device type "cxl-type-3" needs an encryption type (8)`},
		{name: "extension encryption type 3", mutate: func(c *platform.Claims) { draft04(c); *c.Extension[0].EncryptionType = 3 }, err: token.ErrSyntax, msg: "encryption type (8) 3"},
		{name: "extension without IDE flag", mutate: func(c *platform.Claims) { draft04(c); c.Extension[0].UsesIDE = nil }, err: token.ErrSyntax, msg: "no IDE flag (4)"},
		{name: "tbb rotpk without hash", mutate: func(c *platform.Claims) { draft04(c); c.TBBRoTPK[0].Hash = nil }, err: token.ErrSyntax, msg: "entry 0: hash (4) is 0 bytes"},
		{name: "peer signers empty", mutate: func(c *platform.Claims) { draft04(c); c.PeerSigners = [][]byte{} }, err: token.ErrSyntax, msg: "platform claim 2406 (cca-platform-peer-signers): empty array"},
		{name: "countersigner 20 bytes", mutate: func(c *platform.Claims) { draft04(c); c.SwComponents[0].CountersignerIDs[0] = rep(1, 20) }, err: token.ErrSyntax,
			msg: "software component 0: countersigner id 0 (8) is 20 bytes"},
		{name: "sw component key 7 in 1.0, strict", mutate: func(c *platform.Claims) { t := true; c.SwComponents[0].LFASupported = &t },
			opts: platform.ValidateOptions{RejectUnknownClaims: true}, err: token.ErrSyntax, msg: "software component 0: key 7 is not defined by profile"},
		{name: "manufacturing config in 1.0, strict", mutate: func(c *platform.Claims) { c.ManufacturingConfig = []byte("m") },
			opts: platform.ValidateOptions{RejectUnknownClaims: true}},
		{name: "manufacturing config in legacy, strict", mutate: func(c *platform.Claims) {
			c.Profile, c.ManufacturingConfig = "http://arm.com/CCA-SSD/1.0.0", []byte("m")
		},
			opts: platform.ValidateOptions{RejectUnknownClaims: true}, err: token.ErrSyntax, msg: "platform claim 2403 (cca-platform-manufacturing-config) is not defined"},
		{name: "48-byte challenge", mutate: func(c *platform.Claims) { c.Challenge = rep(1, 48) }},
		{name: "64-byte challenge", mutate: func(c *platform.Claims) { c.Challenge = rep(1, 64) }},
		{name: "no verification service", mutate: func(c *platform.Claims) { c.VerificationService = "" }},
		{name: "no config (empty)", mutate: func(c *platform.Claims) { c.Config = nil }},
		{name: "sha-512 sw component", mutate: func(c *platform.Claims) {
			c.SwComponents[0].MeasurementValue, c.SwComponents[0].SignerID = rep(1, 64), rep(2, 48)
		}},
		{name: "profile missing", mutate: func(c *platform.Claims) { c.Profile = "" }, err: token.ErrMissingClaim, msg: "platform claim 265"},
		{name: "unknown profile", mutate: func(c *platform.Claims) { c.Profile = "tag:arm.com,2023:cca_platform#1.0.1" }, err: token.ErrProfile, msg: "unknown platform profile"},
		{name: "realm profile", mutate: func(c *platform.Claims) { c.Profile = "tag:arm.com,2023:realm#1.0.0" }, err: token.ErrProfile, msg: "realm profile"},
		{name: "challenge missing", mutate: func(c *platform.Claims) { c.Challenge = nil }, err: token.ErrMissingClaim, msg: "platform claim 10"},
		{name: "challenge 33 bytes", mutate: func(c *platform.Claims) { c.Challenge = rep(1, 33) }, err: token.ErrSyntax, msg: "33 bytes, must be 32, 48 or 64"},
		{name: "implementation id missing", mutate: func(c *platform.Claims) { c.ImplementationID = nil }, err: token.ErrMissingClaim, msg: "platform claim 2396"},
		{name: "implementation id 31 bytes", mutate: func(c *platform.Claims) { c.ImplementationID = rep(1, 31) }, err: token.ErrSyntax, msg: "31 bytes, must be 32"},
		{name: "implementation id 33 bytes", mutate: func(c *platform.Claims) { c.ImplementationID = rep(1, 33) }, err: token.ErrSyntax, msg: "33 bytes"},
		{name: "instance id missing", mutate: func(c *platform.Claims) { c.InstanceID = nil }, err: token.ErrMissingClaim, msg: "platform claim 256"},
		{name: "instance id 32 bytes", mutate: func(c *platform.Claims) { c.InstanceID = rep(1, 32) }, err: token.ErrSyntax, msg: "got 32 bytes"},
		{name: "instance id type 0x02", mutate: func(c *platform.Claims) { c.InstanceID[0] = 2 }, err: token.ErrSyntax, msg: "starting 0x02"},
		{name: "instance id empty", mutate: func(c *platform.Claims) { c.InstanceID = []byte{} }, err: token.ErrSyntax, msg: "got 0 bytes"},
		{name: "lifecycle 0x7000", mutate: func(c *platform.Claims) { c.Lifecycle = 0x7000 }, err: token.ErrSyntax, msg: "0x7000 is in no lifecycle range"},
		{name: "sw components empty", mutate: func(c *platform.Claims) { c.SwComponents = nil }, err: token.ErrSyntax, msg: "empty array"},
		{name: "measurement value 20 bytes", mutate: func(c *platform.Claims) { c.SwComponents[0].MeasurementValue = rep(1, 20) }, err: token.ErrSyntax, msg: "measurement value (2) is 20 bytes"},
		{name: "signer id missing", mutate: func(c *platform.Claims) { c.SwComponents[0].SignerID = nil }, err: token.ErrSyntax, msg: "signer id (5) is 0 bytes"},
		{name: "hash algorithm missing", mutate: func(c *platform.Claims) { c.HashAlgID = "" }, err: token.ErrMissingClaim, msg: "platform claim 2402"},
		{name: "hash algorithm sha3-256", mutate: func(c *platform.Claims) { c.HashAlgID = "sha3-256" }},
		{name: "hash algorithm unknown", mutate: func(c *platform.Claims) { c.HashAlgID = "md5" }, err: token.ErrSyntax, msg: `"md5" is not an IANA hash algorithm name`},
		{name: "hash algorithm escaped", mutate: func(c *platform.Claims) { c.HashAlgID = "sha\n\x1b[31m" }, err: token.ErrSyntax, msg: `"sha\n\x1b[31m" is not an IANA hash algorithm name`},
		{name: "profile escaped", mutate: func(c *platform.Claims) { c.Profile = "tag:\r\u202e" }, err: token.ErrProfile, msg: `unknown platform profile "tag:\r\u202e"`},
		{name: "unknown claim tolerated", mutate: func(c *platform.Claims) { c.Extra = map[int64]cbor.RawMessage{-75000: cInt(1)} }},
		{name: "unknown claim, strict", mutate: func(c *platform.Claims) { c.Extra = map[int64]cbor.RawMessage{-75000: cInt(1)} },
			opts: platform.ValidateOptions{RejectUnknownClaims: true}, err: token.ErrSyntax, msg: "platform claim -75000 is not defined"},
		{name: "2.0 claim in 1.0, strict", mutate: func(c *platform.Claims) { one := uint64(1); c.ClientID = &one },
			opts: platform.ValidateOptions{RejectUnknownClaims: true}, err: token.ErrSyntax, msg: "platform claim 2394 (cca-platform-client-id) is not defined by profile"},
		{name: "2.0 claims in 2.0, strict", mutate: draft03, opts: platform.ValidateOptions{RejectUnknownClaims: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sample()
			if tc.mutate != nil {
				tc.mutate(c)
			}
			err := c.Validate(tc.opts)
			if tc.err == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v containing %q", err, tc.err, tc.msg)
			}
		})
	}
}

// TestValidateLifecycle runs Validate over the lifecycle range boundaries
// (draft-ffm-rats-cca-token-04 §4.5.2): the first and last value of each state's range
// and the values just outside.
func TestValidateLifecycle(t *testing.T) {
	valid := []platform.Lifecycle{0x0000, 0x00ff, 0x1000, 0x10ff, 0x2000, 0x20ff, 0x3000, 0x30ff, 0x4000, 0x40ff, 0x5000, 0x50ff, 0x6000, 0x60ff}
	invalid := []platform.Lifecycle{0x0100, 0x0fff, 0x1100, 0x1fff, 0x2100, 0x3100, 0x4100, 0x5100, 0x6100, 0x7000, 0xffff, 0x30ff0, 0x13000}
	for _, l := range valid {
		c := sample()
		c.Lifecycle = l
		if err := c.Validate(platform.ValidateOptions{}); err != nil {
			t.Errorf("0x%04x: %v", uint64(l), err)
		}
	}
	for _, l := range invalid {
		c := sample()
		c.Lifecycle = l
		err := c.Validate(platform.ValidateOptions{})
		if !errors.Is(err, token.ErrSyntax) || !strings.Contains(err.Error(), fmt.Sprintf("platform claim 2395 (cca-platform-lifecycle): 0x%x is in no lifecycle range", uint64(l))) {
			t.Errorf("0x%x: %v", uint64(l), err)
		}
	}
}

// TestValidatePresence: for a decoded token, what was absent is missing
// and what was present but empty is invalid, claim by claim.
func TestValidatePresence(t *testing.T) {
	without := func(key int64) []byte {
		m, err := token.DecodeClaimsMap(sampleCBOR(), token.SetPlatform)
		if err != nil {
			t.Fatal(err)
		}
		var pairs []token.ClaimPair
		for _, k := range token.SortedKeys(m.Claims) {
			if k != key {
				pairs = append(pairs, token.ClaimPair{Key: k, Value: m.Claims[k]})
			}
		}
		b, _ := token.EncodeClaims(pairs)
		return b
	}
	with := func(key int64, v []byte) []byte {
		b := without(key)
		return append(append(append(cHead(5, uint64(b[0]&0x1f)+1), b[1:]...), cInt(key)...), v...)
	}
	for _, tc := range []struct {
		name string
		in   []byte
		err  error
		msg  string
	}{
		{"config absent", without(2401), token.ErrMissingClaim, "platform claim 2401"},
		{"config empty", with(2401, cBstr(nil)), nil, ""},
		{"lifecycle absent", without(2395), token.ErrMissingClaim, "platform claim 2395"},
		{"lifecycle 0", with(2395, cInt(0)), nil, ""},
		{"sw components absent", without(2399), token.ErrMissingClaim, "platform claim 2399"},
		{"sw components empty", with(2399, cArr()), token.ErrSyntax, "empty array"},
		{"service absent", without(2400), nil, ""},
		{"service empty", with(2400, cTstr("")), token.ErrSyntax, "platform claim 2400"},
		{"profile absent", without(265), token.ErrMissingClaim, "platform claim 265"},
		{"profile empty", with(265, cTstr("")), token.ErrSyntax, "platform claim 265 (cca-platform-profile): empty string"},
		{"hash algorithm absent", without(2402), token.ErrMissingClaim, "platform claim 2402"},
		{"hash algorithm empty", with(2402, cTstr("")), token.ErrSyntax, "platform claim 2402 (cca-platform-hash-algo-id): empty string"},
		{"challenge absent", without(10), token.ErrMissingClaim, "platform claim 10"},
		{"challenge empty", with(10, cBstr(nil)), token.ErrSyntax, "0 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := platform.Decode(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Validate(platform.ValidateOptions{})
			if tc.err == nil {
				if err != nil {
					t.Fatal(err)
				}
			} else if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v containing %q", err, tc.err, tc.msg)
			}
			// Re-encoding keeps what was carried and nothing else, so the
			// verdict is the same.
			b, err := c.Encode()
			if err != nil {
				t.Fatal(err)
			}
			c2, err := platform.Decode(b)
			if err != nil {
				t.Fatalf("re-encoded claims do not decode: %v", err)
			}
			if !reflect.DeepEqual(c, c2) {
				t.Fatalf("re-decoded\n%+v\nwant\n%+v", c2, c)
			}
		})
	}
}

// TestEncodeDecodedThenSet: a claim the token lacked and the caller set
// afterwards is encoded.
func TestEncodeDecodedThenSet(t *testing.T) {
	m, _ := token.DecodeClaimsMap(sampleCBOR(), token.SetPlatform)
	delete(m.Claims, token.KeyChallenge)
	var pairs []token.ClaimPair
	for _, k := range token.SortedKeys(m.Claims) {
		pairs = append(pairs, token.ClaimPair{Key: k, Value: m.Claims[k]})
	}
	b, _ := token.EncodeClaims(pairs)
	c, err := platform.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	c.Challenge = rep(0x0D, 32)
	enc, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := platform.Decode(enc)
	if err != nil || !bytes.Equal(c2.Challenge, rep(0x0D, 32)) {
		t.Fatalf("challenge set after decoding was lost: %v", err)
	}
}

func TestGeneration(t *testing.T) {
	for prof, want := range map[string]token.Generation{
		"http://arm.com/CCA-SSD/1.0.0":        token.GenLegacy,
		"tag:arm.com,2023:cca_platform#1.0.0": token.Gen1,
		"tag:arm.com,2024:cca_platform#2.0.0": token.Gen2,
		"tag:arm.com,2024:platform#2.0.0":     token.GenUnknown, // spelt by no source
		"tag:arm.com,2026:cca_platform#2.0.0": token.Gen2026,
		"tag:arm.com,2023:realm#1.0.0":        token.GenUnknown,
		"":                                    token.GenUnknown,
	} {
		if got := (&platform.Claims{Profile: prof}).Generation(); got != want {
			t.Errorf("%q: %v, want %v", prof, got, want)
		}
	}
}

// TestDraftRoundTrip: a draft -04 platform claims set with every claim
// survives CBOR and JSON.
func TestDraftRoundTrip(t *testing.T) {
	for _, mutate := range []func(*platform.Claims){draft03, draft04} {
		c := sample()
		mutate(c)
		if err := c.Validate(platform.ValidateOptions{RejectUnknownClaims: true}); err != nil {
			t.Fatal(err)
		}
		enc, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		d, err := platform.Decode(enc)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Validate(platform.ValidateOptions{RejectUnknownClaims: true}); err != nil {
			t.Fatal(err)
		}
		enc2, err := d.Encode()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("CBOR round trip (%v)", err)
		}
		j, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"cca-platform-client-id", "cca-platform-tbb-rotpk", "cca-platform-peer-signers"} {
			if !strings.Contains(string(j), `"`+name+`"`) {
				t.Errorf("JSON has no %s: %s", name, j)
			}
		}
		var back platform.Claims
		if err := json.Unmarshal(j, &back); err != nil {
			t.Fatal(err)
		}
		enc3, err := back.Encode()
		if err != nil || !bytes.Equal(enc, enc3) {
			t.Fatalf("JSON round trip (%v): %s", err, j)
		}
	}
}

// TestSwComponentDecodeErrorsNameTheClaim: a decode error inside a
// software component says which claim and which component, as the
// validation errors do.
func TestSwComponentDecodeErrorsNameTheClaim(t *testing.T) {
	ok := [][]byte{cInt(2), cBstr(rep(1, 32)), cInt(5), cBstr(rep(1, 32))}
	second := func(kv ...[]byte) []byte { return cMap(cInt(2399), cArr(cMap(ok...), cMap(kv...))) }
	const where = "platform claim 2399 (cca-platform-sw-components): software component 1"
	for _, tc := range []struct {
		name string
		in   []byte
		err  error
	}{
		{"not a map", cMap(cInt(2399), cArr(cMap(ok...), cArr())), token.ErrMalformed},
		{"text key", second(cTstr("k"), cInt(0)), token.ErrMalformed},
		{"type as bstr", second(append([][]byte{cInt(1), cBstr(nil)}, ok...)...), token.ErrSyntax},
		{"unknown key", second(append([][]byte{cInt(9), cInt(0)}, ok...)...), token.ErrSyntax},
		{"no measurement value", second(cInt(5), cBstr(rep(1, 32))), token.ErrMissingClaim},
		{"no signer id", second(cInt(2), cBstr(rep(1, 32))), token.ErrMissingClaim},
	} {
		_, err := platform.Decode(tc.in)
		if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), where) {
			t.Errorf("%s: %v, want %v containing %q", tc.name, err, tc.err, where)
		}
	}
}
