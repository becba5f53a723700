package endorsement

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha512"
	"encoding/hex"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	c "github.com/ccakit/cca/internal/cbortest"
	"github.com/fxamacker/cbor/v2"
)

var update = flag.Bool("update", false, "rewrite testdata/*.cbor and *.diag from the hand-built fixtures")

// render is the CBOR diagnostic notation (RFC 8949 §8) of a CoRIM with
// each CoMID shown embedded (<<…>>, RFC 8610 appendix G.3), in encoded
// order.
func render(t *testing.T, data []byte) string {
	t.Helper()
	dm, err := cbor.DiagOptions{}.DiagMode()
	if err != nil {
		t.Fatal(err)
	}
	out, err := dm.Diagnose(data)
	if err != nil {
		t.Fatal(err)
	}
	var outer cbor.Tag
	if err := cbor.Unmarshal(data, &outer); err != nil {
		t.Fatal(err)
	}
	m := outer.Content.(map[any]any)
	for _, tg := range m[uint64(1)].([]any) {
		inner := tg.(cbor.Tag).Content.([]byte)
		d, err := dm.Diagnose(inner)
		if err != nil {
			t.Fatal(err)
		}
		out = strings.Replace(out, "h'"+hex.EncodeToString(inner)+"'", "<<"+d+">>", 1)
	}
	return out + "\n"
}

// TestEncodeFixtures: the encoders write exactly the hand-built bytes, whose
// diagnostic notation is testdata/<name>.diag (read it to review the
// shapes) and whose bytes are testdata/<name>.cbor (fuzz seeds, golden).
func TestEncodeFixtures(t *testing.T) {
	tests := []struct {
		name string
		got  func() ([]byte, error)
		want []byte
	}{
		{"ta-2025", func() ([]byte, error) { return EncodeTrustAnchors("acme-cpak", wantTA()) }, fixtureTA()},
		{"platform-2025", func() ([]byte, error) { return EncodePlatform("acme-fw", wantPlatform()) }, fixturePlatform()},
		{"realm-2025", func() ([]byte, error) { return EncodeRealm("acme-vm", wantRealm()) }, fixtureRealm()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("encoder output differs from the hand-built bytes:\n got %s\nwant %s", render(t, got), render(t, tt.want))
			}
			cborPath := filepath.Join("testdata", tt.name+".cbor")
			diagPath := filepath.Join("testdata", tt.name+".diag")
			if *update {
				if err := os.WriteFile(cborPath, tt.want, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(diagPath, []byte(render(t, tt.want)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(cborPath)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(golden, tt.want) {
				t.Errorf("%s differs from the hand-built fixture", cborPath)
			}
			diag, err := os.ReadFile(diagPath)
			if err != nil {
				t.Fatal(err)
			}
			if string(diag) != render(t, got) {
				t.Errorf("%s differs:\n%s", diagPath, render(t, got))
			}
		})
	}
}

// TestRoundTrip: what the encoders write decodes to what they were given.
func TestRoundTrip(t *testing.T) {
	nb, na := time.Unix(1767225600, 0).UTC(), time.Unix(1798761600, 0).UTC()
	in := &Endorsements{ID: "round", TrustAnchors: []TrustAnchor{wantTA()}, Platforms: []PlatformReference{wantPlatform()},
		NotBefore: nb, NotAfter: na}
	in.TrustAnchors[0].Vendor, in.TrustAnchors[0].Model = "ACME", "RoadRunner"
	data, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	got := mustDecode(t, data, DecodeOptions{Now: nb.Add(time.Hour)})
	if got.Profile != ProfilePlatform || got.ID != "round" || got.Legacy || !got.NotBefore.Equal(nb) || !got.NotAfter.Equal(na) {
		t.Errorf("envelope: %+v", got)
	}
	clearWhere(got)
	if !reflect.DeepEqual(got.TrustAnchors, in.TrustAnchors) || !reflect.DeepEqual(got.Platforms, in.Platforms) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, in)
	}

	// A component version, written as the profile has it: {0: version}.
	p := wantPlatform()
	p.SwComponents[1].Version = "0.9.1"
	data, err = EncodePlatform("v", p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, c.Cat(c.Int(0), c.Map(c.Int(0), c.Tstr("0.9.1")), c.Int(2))) {
		t.Errorf("no version map in %x", data)
	}
	got = mustDecode(t, data, DecodeOptions{})
	clearWhere(got)
	if !reflect.DeepEqual(got.Platforms, []PlatformReference{p}) {
		t.Errorf("version round trip: %+v", got.Platforms)
	}

	realm := wantRealm()
	realm.RPV = nil
	data, err = EncodeRealm("r", realm)
	if err != nil {
		t.Fatal(err)
	}
	got = mustDecode(t, data, DecodeOptions{})
	clearWhere(got)
	if !reflect.DeepEqual(got.Realms, []RealmReference{realm}) {
		t.Errorf("realm round trip: %+v", got.Realms)
	}
	// The platform configuration's mask, when not given, compares every bit.
	p = wantPlatform()
	p.ConfigMask = nil
	data, err = EncodePlatform("m", p)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustDecode(t, data, DecodeOptions{}); !bytes.Equal(got.Platforms[0].ConfigMask, []byte{0xff, 0xff}) {
		t.Errorf("default mask %x", got.Platforms[0].ConfigMask)
	}
}

func clearWhere(e *Endorsements) {
	for i := range e.TrustAnchors {
		e.TrustAnchors[i].Where = ""
	}
	for i := range e.Platforms {
		e.Platforms[i].Where = ""
	}
	for i := range e.Realms {
		e.Realms[i].Where = ""
	}
}

func TestEncodeErrors(t *testing.T) {
	bad := func(mod func(*Endorsements)) *Endorsements {
		e := &Endorsements{ID: "x", Platforms: []PlatformReference{wantPlatform()}}
		mod(e)
		return e
	}
	tests := []struct {
		name string
		in   *Endorsements
		want string
	}{
		{"no id", bad(func(e *Endorsements) { e.ID = "" }), "needs an id"},
		{"empty", &Endorsements{ID: "x"}, "nothing to encode"},
		{"both profiles", bad(func(e *Endorsements) { e.Realms = []RealmReference{wantRealm()} }), "different profiles"},
		{"short impl id", bad(func(e *Endorsements) { e.Platforms[0].ImplementationID = fxImpl[:31] }), "implementation id is 31 bytes"},
		{"no components", bad(func(e *Endorsements) { e.Platforms[0].SwComponents = nil }), "at least one software component"},
		{"bad alg", bad(func(e *Endorsements) { e.Platforms[0].SwComponents[0].Alg = "md5" }), `"md5"`},
		{"size", bad(func(e *Endorsements) { e.Platforms[0].SwComponents[0].Alg = "sha-512" }), "sha-512 digest is 64 bytes, not 32"},
		{"signer", bad(func(e *Endorsements) { e.Platforms[0].SwComponents[0].SignerID = nil }), "signer id is 0 bytes"},
		{"mask", bad(func(e *Endorsements) { e.Platforms[0].ConfigMask = []byte{1} }), "mask is 1 bytes"},
		{"instance", &Endorsements{ID: "x", TrustAnchors: []TrustAnchor{{ImplementationID: fxImpl, InstanceID: fxImpl, Key: &fxTAKey.PublicKey}}}, "RAND UEID"},
		{"no key", &Endorsements{ID: "x", TrustAnchors: []TrustAnchor{{ImplementationID: fxImpl, InstanceID: fxInst}}}, "no key"},
		{"rpv", &Endorsements{ID: "x", Realms: []RealmReference{{RIM: fxRIM, HashAlg: "sha-384", RPV: []byte{1}}}}, "personalization value is 1 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Encode(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestSignShape checks Sign's output without the decoder or go-cose: the
// COSE_Sign1 layout and headers by hand-built bytes, the signature by
// recomputing Sig_structure (RFC 9052 §4.4) with cbortest and verifying it
// with crypto/ecdsa.
func TestSignShape(t *testing.T) {
	unsigned := fixtureRealm()
	signed, err := Sign(unsigned, fxTAKey, SignOptions{SignerName: "ACME signer",
		NotAfter: time.Unix(1798761600, 0)})
	if err != nil {
		t.Fatal(err)
	}
	meta := c.Map(c.Int(0), c.Map(c.Int(0), c.Tstr("ACME signer")), c.Int(1), c.Map(c.Int(1), c.Tag(1, c.Int(1798761600))))
	prot := c.Map(c.Int(1), c.Int(-35), c.Int(3), c.Tstr("application/rim+cbor"), c.Int(8), c.Bstr(meta))
	prefix := c.Cat(c.Tag(18, c.Head(4, 4)), c.Bstr(prot), c.Map(), c.Bstr(unsigned))
	if !bytes.HasPrefix(signed, prefix) {
		t.Fatalf("signed CoRIM does not start with the expected COSE_Sign1:\n got %x\nwant %x…", signed, prefix)
	}
	sig := signed[len(prefix):]
	if !bytes.Equal(sig[:2], []byte{0x58, 96}) || len(sig) != 98 {
		t.Fatalf("signature item %x", sig)
	}
	tbs := c.Arr(c.Tstr("Signature1"), c.Bstr(prot), c.Bstr(nil), c.Bstr(unsigned))
	h := sha512.Sum384(tbs)
	r, s := new(big.Int).SetBytes(sig[2:50]), new(big.Int).SetBytes(sig[50:])
	if !ecdsa.Verify(&fxTAKey.PublicKey, h[:], r, s) {
		t.Fatal("the signature does not verify over the hand-built Sig_structure")
	}

	if _, err := Sign(unsigned, fxTAKey, SignOptions{}); err == nil {
		t.Error("Sign without a signer name succeeded")
	}
	if _, err := Sign(comidMap("x", rvTriples()), fxTAKey, SignOptions{SignerName: "x"}); err == nil {
		t.Error("Sign of a non-CoRIM succeeded")
	}
}
