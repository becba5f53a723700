package realmtokens

import (
	"bytes"
	"context"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/verifier"
)

// TestTokensVerify: each token carries its own challenge, and the CoRIMs
// endorse the machine and the realm: the verifier, fed with them, finds
// the tokens trustworthy.
func TestTokensVerify(t *testing.T) {
	r, err := Start(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := r.CoRIMs()
	if err != nil {
		t.Fatal(err)
	}
	var anchors []verifier.TrustAnchor
	var plats []verifier.PlatformReference
	var realms []verifier.RealmReference
	for _, b := range [][]byte{c.Anchors, c.Platform, c.Realm} {
		e, err := endorsement.Decode(b, endorsement.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ta := range e.TrustAnchors {
			anchors = append(anchors, verifier.TrustAnchor{InstanceID: ta.InstanceID, ImplementationID: ta.ImplementationID, Key: ta.Key})
		}
		for _, p := range e.Platforms {
			ref := verifier.PlatformReference{ImplementationID: p.ImplementationID, Config: p.Config, Match: verifier.MatchEachComponent}
			for _, sc := range p.SwComponents {
				ref.SwComponents = append(ref.SwComponents, verifier.SwComponentReference{Type: sc.Type, Value: sc.Value, SignerID: sc.SignerID})
			}
			plats = append(plats, ref)
		}
		for _, rr := range e.Realms {
			realms = append(realms, verifier.RealmReference{InitialMeasurement: rr.RIM, PersonalizationValue: rr.RPV})
		}
	}
	tas, err := verifier.NewTrustAnchors(anchors...)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := verifier.NewReferenceValues(plats, realms)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(tas, verifier.WithReferenceValues(refs))
	if err != nil {
		t.Fatal(err)
	}
	var prev []byte
	for i := range 3 {
		nonce := bytes.Repeat([]byte{byte(i + 1)}, 32+16*i)
		tok, err := r.Token(nonce)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(tok, prev) {
			t.Fatal("two challenges, one token")
		}
		prev = tok
		res, err := v.Verify(context.Background(), tok, nonce)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Trustworthy {
			t.Fatalf("token %d: %s", i, res.Reason())
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Token(make([]byte, 32)); err != ErrClosed {
		t.Fatalf("Token after Close: %v", err)
	}
}
