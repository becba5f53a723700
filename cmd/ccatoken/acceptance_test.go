package main

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// The acceptance runs of issue 9, kept as a regression test: evidence of
// each shape real producers emit (made here with the shipped keys, never
// another project's files), inspected, then verified with trust anchors
// and reference values built from the evidence's own claims, in every
// store form the CLI reads: --cpak, JSON stores, unsigned CoRIMs and a
// signed CoRIM checked with --corim-key. The evidence must be trustworthy
// with no policy flag but the ones each case names.

// acceptanceCase is one shape of evidence.
type acceptanceCase struct {
	name  string
	token func(t *testing.T) []byte
	// kind is the first line of inspect.
	kind string
	// flags are the policy flags the shape needs; a bare platform token
	// has no realm challenge to carry a nonce.
	flags []string
	// refused is the stderr of verify without flags, when flags are needed.
	refused []string
	// inspectRefused: inspect shows the evidence but refuses its claims
	// (with the refused message).
	inspectRefused bool
}

func acceptanceCases() []acceptanceCase {
	const tfrmmMain = vectorDir + "/tfrmm-main-es384.cbor"
	const legacyInCMW = vectorDir + "/shapes/legacy-in-cmw.cbor"
	const legacy = vectorDir + "/legacy-es384.cbor"
	bare := func(path string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			ev, err := evidence.Decode(readFileT(t, path))
			if err != nil {
				t.Fatal(err)
			}
			return ev.Collection.Platform
		}
	}
	file := func(path string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return readFileT(t, path) }
	}
	return []acceptanceCase{
		{name: "TF-RMM main (907, 2023 platform, realm 2.0)", token: file(tfrmmMain),
			kind: "CMW collection, 2023 platform profile, realm 2.0 profile"},
		{name: "tf-m-tools legacy sample (legacy tokens in 907, 2.0 claims in the realm)", token: func(t *testing.T) []byte {
			// tf-m-tools iat-verifier/tests/data/cca_example_token_legacy.cbor
			// carries the realm instance id and the MEC policy in its
			// profile-less realm token.
			return resign(t, readFileT(t, legacyInCMW), func(_ *platform.Claims, r *realm.Claims) {
				r.InstanceID = append([]byte{0x01}, bytes.Repeat([]byte{0x5a}, 32)...)
				r.MECPolicy = realm.MECPolicyOf(true)
			})
		}, kind: "legacy tokens in a CMW collection (tag 907)"},
		{name: "bare 2023 platform token (TF-A's sample, tf-m-tools)", token: bare(tfrmmMain),
			kind: "bare platform token, 2023 platform profile", flags: []string{"--allow-missing-nonce-unsafe"},
			refused: []string{"realm freshness", "--allow-missing-nonce-unsafe"}},
		{name: "bare CCA-SSD platform token (tf-m-tools legacy)", token: bare(legacy),
			kind: "bare platform token, CCA-SSD platform profile", flags: []string{"--allow-missing-nonce-unsafe"},
			refused: []string{"realm freshness", "--allow-missing-nonce-unsafe"}},
		{name: "Veraison's test evidence shape (399, CCA-SSD platform, realm 1.0, 64-byte sha-256 RIM)", token: func(t *testing.T) []byte {
			// veraison/services scheme/arm-cca/test/evidence/cca-good.cbor
			// (evcli's default claims): 64-byte RIM and REMs labelled sha-256.
			return resign(t, readFileT(t, rel0Vector), func(p *platform.Claims, r *realm.Claims) {
				p.Profile = token.ProfilePlatformLegacy
				r.InitialMeasurement = bytes.Repeat([]byte{0x43}, 64)
				for i := range r.ExtensibleMeasurements {
					r.ExtensibleMeasurements[i] = bytes.Repeat([]byte{0x43}, 64)
				}
			})
		}, kind: "tag 399 collection, CCA-SSD platform profile, realm 1.0 profile",
			flags:   []string{"--allow-measurement-size-mismatch-unsafe", "--allow-mixed-profiles-unsafe"},
			refused: []string{"44238", "64 bytes, must be 32", `"sha-256"`, "--allow-measurement-size-mismatch-unsafe"}, inspectRefused: true},
	}
}

func TestAcceptanceRealShapes(t *testing.T) {
	signer, signerKey := newProvisioner(t)
	for _, c := range acceptanceCases() {
		t.Run(c.name, func(t *testing.T) {
			raw := c.token(t)
			tok := writeTemp(t, "evidence.cbor", raw)
			r := ccatoken(t, nil, "inspect", tok)
			if c.inspectRefused {
				r.check(t, exitFailed, c.refused...)
			} else {
				r.check(t, exitOK)
			}
			if !strings.HasPrefix(r.stdout, "evidence:  "+c.kind) {
				t.Errorf("inspect names the evidence %q, want %q", strings.SplitN(r.stdout, "\n", 2)[0], c.kind)
			}

			ev, err := evidence.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			s := acceptanceStores(t, ev, signer)
			base := []string{"verify", tok}
			if ev.Realm != nil {
				base = append(base, "--nonce", hex.EncodeToString(ev.Realm.Challenge))
			}
			if c.refused != nil {
				ccatoken(t, nil, append(base, "--cpak", cpakPub, "--refvals", s.refvalsJSON)...).check(t, exitFailed, c.refused...)
			}
			base = append(base, c.flags...)
			for _, stores := range []struct {
				name string
				args []string
			}{
				{"--cpak and JSON reference values", []string{"--cpak", cpakPub, "--refvals", s.refvalsJSON}},
				{"JSON stores", []string{"--trust-anchors", s.anchorsJSON, "--refvals", s.refvalsJSON}},
				{"CoRIM stores", append([]string{"--trust-anchors", s.anchorsCoRIM, "--refvals", s.platformCoRIM}, s.realmArgs(ev.Realm != nil)...)},
				{"signed CoRIM anchors, mixed reference values", []string{"--trust-anchors", s.anchorsSigned, "--corim-key", signerKey,
					"--refvals", s.platformCoRIM, "--refvals", s.refvalsJSON}},
			} {
				r := ccatoken(t, nil, append(base, stores.args...)...)
				if r.code != exitOK || !strings.Contains(r.stdout, "\nresult:              TRUSTWORTHY\n") {
					t.Errorf("%s: exit %d\n%s%s", stores.name, r.code, r.stdout, r.stderr)
				}
			}
		})
	}
}

// stores are the trust anchors and reference values of one piece of
// evidence, written from its own claims, in each form the CLI reads.
type stores struct {
	anchorsJSON, refvalsJSON                               string
	anchorsCoRIM, anchorsSigned, platformCoRIM, realmCoRIM string
}

// realmArgs are the realm reference values for the CoRIM run: the realm
// CoRIM, or the JSON store when no CoRIM can carry them.
func (s stores) realmArgs(hasRealm bool) []string {
	switch {
	case s.realmCoRIM != "":
		return []string{"--refvals", s.realmCoRIM}
	case hasRealm:
		return []string{"--refvals", s.refvalsJSON}
	}
	return nil
}

// acceptanceStores writes the stores of ev: the JSON ones in rust-ccatoken's
// shape, with every member its serde structs require, and CoRIMs made by the
// endorsement package's encoders (the trust anchors also signed by signer).
func acceptanceStores(t *testing.T, ev *evidence.Evidence, signer *ecdsa.PrivateKey) stores {
	t.Helper()
	var s stores
	pub, err := token.ParsePublicKey(readFileT(t, cpakPub))
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := token.MarshalPublicJWK(pub)
	if err != nil {
		t.Fatal(err)
	}
	p := ev.Platform
	anchors := []map[string]any{{"instance-id": hex.EncodeToString(p.InstanceID),
		"implementation-id": hex.EncodeToString(p.ImplementationID), "pkey": json.RawMessage(jwk)}}
	var sw []map[string]string
	ref := endorsement.PlatformReference{ImplementationID: p.ImplementationID, Config: p.Config}
	for _, c := range p.SwComponents {
		sw = append(sw, map[string]string{"component-type": c.MeasurementType,
			"measurement-value": hex.EncodeToString(c.MeasurementValue), "signer-id": hex.EncodeToString(c.SignerID)})
		ref.SwComponents = append(ref.SwComponents, endorsement.SwComponent{Type: c.MeasurementType,
			Alg: "sha-256", Value: c.MeasurementValue, SignerID: c.SignerID})
	}
	refvals := map[string]any{"platform": []map[string]any{{"implementation-id": hex.EncodeToString(p.ImplementationID),
		"platform-configuration": hex.EncodeToString(p.Config), "sw-components": sw}}}
	if r := ev.Realm; r != nil {
		var rems []string
		var rr endorsement.RealmReference
		for i, m := range r.ExtensibleMeasurements {
			rems = append(rems, hex.EncodeToString(m))
			rr.REMs[i] = m
		}
		entry := map[string]any{"initial-measurement": hex.EncodeToString(r.InitialMeasurement),
			"rak-hash-algorithm": r.PubKeyHashAlgID, "extensible-measurements": rems,
			"personalization-value": hex.EncodeToString(r.PersonalizationValue)}
		if digestSize[r.HashAlgID] == len(r.InitialMeasurement) {
			// ccakit's extra member; rust-ccatoken's stores lack it, and
			// a 64-byte RIM labelled sha-256 can only go without it.
			entry["hash-algo"] = r.HashAlgID
		}
		refvals["realm"] = []map[string]any{entry}
		rr.RIM, rr.HashAlg, rr.RPV = r.InitialMeasurement, r.HashAlgID, r.PersonalizationValue
		if b, err := endorsement.EncodeRealm("acceptance-realm", rr); err == nil {
			s.realmCoRIM = writeTemp(t, "realm.corim", b)
		} else if len(r.InitialMeasurement) == 32 {
			t.Fatal(err)
		} // else the encoder rightly refuses a 64-byte digest labelled sha-256: the JSON store carries it
	}
	s.anchorsJSON = writeTemp(t, "ta.json", must(t)(json.Marshal(anchors)))
	s.refvalsJSON = writeTemp(t, "refvals.json", must(t)(json.Marshal(refvals)))
	ta := must(t)(endorsement.EncodeTrustAnchors("acceptance-cpak", endorsement.TrustAnchor{
		ImplementationID: p.ImplementationID, InstanceID: p.InstanceID, Key: pub}))
	s.anchorsCoRIM = writeTemp(t, "ta.corim", ta)
	s.anchorsSigned = writeTemp(t, "ta-signed.corim", must(t)(endorsement.Sign(ta, signer, endorsement.SignOptions{SignerName: "acceptance"})))
	s.platformCoRIM = writeTemp(t, "platform.corim", must(t)(endorsement.EncodePlatform("acceptance-firmware", ref)))
	return s
}

var digestSize = map[string]int{"sha-256": 32, "sha-512": 64}

// must fails the test on an error and returns the value otherwise.
func must(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

// TestShippedStoresRustShape: every JSON store shipped in testvectors/ (and
// what 'measure -o' wrote there) has the members rust-ccatoken's serde
// structs require (src/store/platformrefvalue.rs, realmrefvalue.rs, cpak.rs:
// no Option), with the sizes they fix, so that rust-ccatoken loads them.
func TestShippedStoresRustShape(t *testing.T) {
	hexOf := func(t *testing.T, where string, v any, size int) {
		t.Helper()
		s, ok := v.(string)
		if !ok {
			t.Errorf("%s: missing or not a string: %v", where, v)
			return
		}
		b, err := hex.DecodeString(s)
		if err != nil || (size > 0 && len(b) != size) {
			t.Errorf("%s: %q is not %d bytes of hex (%v)", where, s, size, err)
		}
	}
	files, err := filepath.Glob(filepath.Join(vectorDir, "refvals", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	realms, _ := filepath.Glob(filepath.Join(vectorDir, "realms", "*.refvalues.json"))
	anchors, _ := filepath.Glob(filepath.Join(vectorDir, "trust-anchors", "*.json"))
	if len(files) == 0 || len(realms) == 0 || len(anchors) == 0 {
		t.Fatalf("no stores found: %v %v %v", files, realms, anchors)
	}
	for _, f := range append(files, realms...) {
		var rv struct {
			Platform []map[string]any `json:"platform"`
			Realm    []map[string]any `json:"realm"`
		}
		if err := json.Unmarshal(readFileT(t, f), &rv); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i, p := range rv.Platform {
			where := fmt.Sprintf("%s: platform[%d]", f, i)
			hexOf(t, where+".implementation-id", p["implementation-id"], 32)
			hexOf(t, where+".platform-configuration", p["platform-configuration"], 0)
			sw, ok := p["sw-components"].([]any)
			if !ok || len(sw) == 0 {
				t.Errorf("%s.sw-components: missing or empty", where)
			}
			for j, c := range sw {
				c, _ := c.(map[string]any)
				hexOf(t, fmt.Sprintf("%s.sw-components[%d].measurement-value", where, j), c["measurement-value"], 0)
				hexOf(t, fmt.Sprintf("%s.sw-components[%d].signer-id", where, j), c["signer-id"], 0)
			}
		}
		for i, r := range rv.Realm {
			where := fmt.Sprintf("%s: realm[%d]", f, i)
			hexOf(t, where+".initial-measurement", r["initial-measurement"], 0)
			hexOf(t, where+".personalization-value", r["personalization-value"], 64)
			if _, ok := r["rak-hash-algorithm"].(string); !ok {
				t.Errorf("%s.rak-hash-algorithm: missing", where)
			}
			rems, _ := r["extensible-measurements"].([]any)
			if len(rems) != 4 {
				t.Errorf("%s.extensible-measurements: %d entries, rust-ccatoken requires 4", where, len(rems))
			}
			for j, m := range rems {
				hexOf(t, fmt.Sprintf("%s.extensible-measurements[%d]", where, j), m, 0)
			}
		}
	}
	for _, f := range anchors {
		var tas []map[string]any
		if err := json.Unmarshal(readFileT(t, f), &tas); err != nil || len(tas) == 0 {
			t.Fatalf("%s: %v (%d entries)", f, err, len(tas))
		}
		for i, ta := range tas {
			where := fmt.Sprintf("%s: [%d]", f, i)
			hexOf(t, where+".instance-id", ta["instance-id"], 33)
			hexOf(t, where+".implementation-id", ta["implementation-id"], 32)
			if _, ok := ta["pkey"].(map[string]any); !ok {
				t.Errorf("%s.pkey: missing or not a JWK object", where)
			}
		}
	}
}
