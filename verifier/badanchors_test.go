package verifier

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/token"
)

// otherInstance is a platform instance the sample trust anchors do not know.
var otherInstance = append([]byte{0x01}, rep(0xCC, 32)...)

// otherPlatformToken is the sample evidence of the platform otherInstance.
func otherPlatformToken(t *testing.T) []byte {
	t.Helper()
	cpak, _, _, _ := keys()
	p := samplePlatform()
	p.InstanceID = otherInstance
	return build(t, p, sampleRealm(), cpak, evidence.FormatREL0, testNonce)
}

// TestTrustAnchorStoreAllBad: a store whose only entry is bad (the shape of
// rust-ccatoken's ta-02-bad.json: one entry, an off-curve key) loads as a
// store of one unusable entry with its warning; beside a good store, the
// good store's platform verifies and the bad entry's platform fails, its
// result naming the entry.
func TestTrustAnchorStoreAllBad(t *testing.T) {
	cpak, _, _, _ := keys()
	bad, err := ParseTrustAnchors([]byte(fmt.Sprintf(`[{"instance-id": "%x", "implementation-id": %q, "pkey": %s}]`,
		otherInstance, hexImpl, offCurveJWK(t))))
	if err != nil {
		t.Fatalf("a store of one bad entry is refused: %v", err)
	}
	bad = bad.Named("ta-bad.json")
	if w := bad.Warnings(); bad.Len() != 0 || len(w) != 1 || !errors.Is(w[0], ErrStore) ||
		!strings.Contains(w[0].Error(), `ta-bad.json: malformed store: trust anchor 0: "pkey": invalid key: not a valid P-384 public key`) {
		t.Fatalf("Len %d, warnings %q", bad.Len(), w)
	}
	good, err := ParseTrustAnchors([]byte(fmt.Sprintf(`[{"instance-id": "%x", "pkey": %s}]`, testInstanceID, jwkOf(t, cpak.Public()))))
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, CombineTrustAnchors(bad, good.Named("ta-ok.json")), WithReferenceValues(sampleRefs(t)))
	if res := verify(t, v, goodToken(t), testNonce); !res.Trustworthy {
		t.Fatalf("the good store's platform: %q", res.Reasons)
	}
	res := verify(t, v, otherPlatformToken(t), testNonce)
	c, _ := res.Platform.Check(CheckTrustAnchor, 0)
	if res.Trustworthy || c.Outcome != Mismatched ||
		!strings.Contains(c.Detail, "the trust anchor ta-bad.json: trust anchor 0 for this instance is unusable") {
		t.Fatalf("the bad entry's platform: trust anchor check %+v", c)
	}
	// A store of no entries at all is still refused: there is nothing to
	// report against a platform.
	if _, err := ParseTrustAnchors([]byte(`[]`)); !errors.Is(err, ErrStore) {
		t.Errorf("empty store: %v", err)
	}
}

// TestCoRIMTrustAnchorBadKey: in a CoRIM too, an attest-key triple whose key
// cannot be used fails only its platform and is a warning of the store.
func TestCoRIMTrustAnchorBadKey(t *testing.T) {
	cpak, _, other, _ := keys()
	data, err := endorsement.EncodeTrustAnchors("anchors",
		endorsement.TrustAnchor{ImplementationID: testImplID, InstanceID: testInstanceID, Key: cpak.Public()},
		endorsement.TrustAnchor{ImplementationID: testImplID, InstanceID: otherInstance, Key: other.Public()})
	if err != nil {
		t.Fatal(err)
	}
	spoilKey(t, data, other.Public())
	ta, err := ReadTrustAnchors(data, endorsement.DecodeOptions{})
	if err != nil {
		t.Fatalf("a CoRIM with one bad key is refused: %v", err)
	}
	ta = ta.Named("ta.corim")
	if w := ta.Warnings(); ta.Len() != 1 || len(w) != 1 || !errors.Is(w[0], ErrStore) || !strings.Contains(w[0].Error(), "verification-key") {
		t.Fatalf("Len %d, warnings %q", ta.Len(), w)
	}
	v := newVerifier(t, ta, WithReferenceValues(sampleRefs(t)))
	if res := verify(t, v, goodToken(t), testNonce); !res.Trustworthy {
		t.Fatalf("the good key's platform: %q", res.Reasons)
	}
	res := verify(t, v, otherPlatformToken(t), testNonce)
	c, _ := res.Platform.Check(CheckTrustAnchor, 0)
	if res.Trustworthy || c.Outcome != Mismatched || !strings.Contains(c.Detail, "the trust anchor ta.corim: ") ||
		!strings.Contains(c.Detail, "is unusable") {
		t.Fatalf("the bad key's platform: trust anchor check %+v", c)
	}
}

// TestCoRIMBadKeyKeepsReferenceValues: a CoRIM of the platform profile that
// carries reference triples and attest-key triples, one of whose keys cannot
// be used, gives its reference values as it gives its other anchors: read as
// both stores, it locks out only the bad key's platform.
func TestCoRIMBadKeyKeepsReferenceValues(t *testing.T) {
	cpak, _, other, _ := keys()
	data, err := endorsement.Encode(&endorsement.Endorsements{ID: "fleet",
		Platforms: []endorsement.PlatformReference{sampleEndorsedPlatform()},
		TrustAnchors: []endorsement.TrustAnchor{
			{ImplementationID: testImplID, InstanceID: testInstanceID, Key: cpak.Public()},
			{ImplementationID: testImplID, InstanceID: otherInstance, Key: other.Public()},
		}})
	if err != nil {
		t.Fatal(err)
	}
	spoilKey(t, data, other.Public())
	ta, err := ReadTrustAnchors(data, endorsement.DecodeOptions{})
	if err != nil || ta.Len() != 1 || len(ta.Warnings()) != 1 {
		t.Fatalf("trust anchors: %v", err)
	}
	rv, err := ReadReferenceValues(data, endorsement.DecodeOptions{})
	if err != nil {
		t.Fatalf("reference values refused for another triple's bad key: %v", err)
	}
	if p, _ := rv.Len(); p != 1 {
		t.Fatalf("%d platform reference values", p)
	}
	v := newVerifier(t, ta, WithReferenceValues(CombineReferenceValues(rv, sampleRefs(t))))
	if res := verify(t, v, goodToken(t), testNonce); !res.Trustworthy {
		t.Fatalf("the good key's platform: %q", res.Reasons)
	}
}

// spoilKey spoils the PEM of key in a CoRIM in place: a changed base64
// character in its point's coordinates puts it off its curve; the CBOR
// stays well formed.
func spoilKey(t *testing.T, corim []byte, key crypto.PublicKey) {
	t.Helper()
	pemText, err := token.MarshalPublicPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Split(pemText, []byte("\n"))[2]
	at := bytes.Index(corim, line)
	if at < 0 {
		t.Fatalf("the key's PEM is not in the CoRIM")
	}
	if corim[at+10] != 'A' {
		corim[at+10] = 'A'
	} else {
		corim[at+10] = 'B'
	}
}
