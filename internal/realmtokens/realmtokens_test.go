package realmtokens

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ccakit/cca/emulator"
)

var update = flag.Bool("update", false, "rewrite testdata/*.corim")

func start(t *testing.T) (*Realm, CoRIMs) {
	t.Helper()
	r, err := Start(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	c, err := r.CoRIMs()
	if err != nil {
		t.Fatal(err)
	}
	return r, c
}

// TestTokensVerify: each token carries its own challenge, and the CoRIMs
// endorse the machine and the realm: the verifier, fed with them, finds
// the tokens trustworthy.
func TestTokensVerify(t *testing.T) {
	r, c := start(t)
	v, err := c.Verifier()
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

// TestCoRIMsGolden keeps testdata/ in step: the CoRIMs that endorse the
// emulated machine with its test keys and the default realm of `ccatoken
// emulate`, which docs/serve.md provisions in its walk-through.
func TestCoRIMsGolden(t *testing.T) {
	_, c := start(t)
	for name, b := range map[string][]byte{"emulated-cpak.corim": c.Anchors, "emulated-firmware.corim": c.Platform, "emulated-realm.corim": c.Realm} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./internal/realmtokens -update)", err)
		}
		if !bytes.Equal(b, want) {
			t.Errorf("%s is stale: go test ./internal/realmtokens -update", path)
		}
	}
}
