package service

import (
	"context"
	"testing"

	"github.com/ccakit/cca/verifier"
)

func TestEmulatedRealmTokens(t *testing.T) {
	e := startEmulatedRealm(t)
	anchors, err := verifier.NewTrustAnchors(verifier.TrustAnchor{Key: e.machine.CPAK()})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(anchors)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		nonce := make([]byte, 48)
		nonce[0] = byte(i)
		tok, err := e.token(nonce)
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(context.Background(), tok, nonce)
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := res.Realm.Check(verifier.CheckFreshness, 0); c.Outcome != verifier.Matched {
			t.Fatalf("token %d: freshness %+v", i, c)
		}
	}
}
