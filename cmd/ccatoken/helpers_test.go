package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// result is what one run of the CLI gave.
type result struct {
	code           int
	stdout, stderr string
}

// ccatoken runs the CLI in-process with stdin as standard input.
func ccatoken(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, bytes.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// check fails unless r has the exit status want, and, on failure, exactly
// one "ccatoken: " line on stderr containing every part of cause.
func (r result) check(t *testing.T, want int, cause ...string) {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, want, r.stdout, r.stderr)
	}
	if want == exitOK {
		if r.stderr != "" {
			t.Errorf("stderr on success: %q", r.stderr)
		}
		return
	}
	if !strings.HasPrefix(r.stderr, "ccatoken: ") || !strings.HasSuffix(r.stderr, "\n") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr is not one 'ccatoken: ' line: %q", r.stderr)
	}
	for _, c := range cause {
		if !strings.Contains(r.stderr, c) {
			t.Errorf("stderr %q does not mention %q", r.stderr, c)
		}
	}
	for _, bad := range []string{"panic", "goroutine", ".go:"} {
		if strings.Contains(r.stderr, bad) {
			t.Errorf("stderr looks like a Go crash: %q", r.stderr)
		}
	}
}

// writeTemp writes data to a file in a test's temporary directory.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFileT(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Paths of the shipped vectors and keys.
var (
	rel0Vector   = filepath.Join(vectorDir, "rel0-es384.cbor")
	cpakPriv     = filepath.Join(vectorDir, "keys", "cpak-p384.pem")
	cpakPub      = filepath.Join(vectorDir, "keys", "cpak-p384.pub.pem")
	cpakJWK      = filepath.Join(vectorDir, "keys", "cpak-p384.pub.jwk")
	cpak256Pub   = filepath.Join(vectorDir, "keys", "cpak-p256.pub.pem")
	rakPriv      = filepath.Join(vectorDir, "keys", "rak-p384.pem")
	rakJWKPriv   = filepath.Join(vectorDir, "keys", "rak-p384.jwk")
	rel0Claims   = filepath.Join(vectorDir, "claims", "rel0.json")
	legacyClaims = filepath.Join(vectorDir, "claims", "legacy.json")
	rel0Nonce    = vectors[0].nonce
)

func loadSigner(t *testing.T, path string) crypto.Signer {
	t.Helper()
	k, err := token.ParsePrivateKey(readFileT(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// resign decodes evidence, lets mutate change its claims, and signs the
// result again with the shipped CPAK and RAK without validating: the way to
// make evidence that is well signed but wrong in some other way.
func resign(t *testing.T, raw []byte, mutate func(p *platform.Claims, r *realm.Claims)) []byte {
	t.Helper()
	ev, err := evidence.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	mutate(ev.Platform, ev.Realm)
	pp, err := ev.Platform.Encode()
	if err != nil {
		t.Fatal(err)
	}
	rp, err := ev.Realm.Encode()
	if err != nil {
		t.Fatal(err)
	}
	pt, err := token.SignPayload(pp, loadSigner(t, cpakPriv), nil)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := token.SignPayload(rp, loadSigner(t, rakPriv).(*ecdsa.PrivateKey), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := (&token.Collection{Wrapper: ev.Collection.Wrapper, Platform: pt, Realm: rt}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// panicWriter panics on every write, to exercise the last-resort recover.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("boom") }

var _ io.Writer = panicWriter{}

func openForTest(path string) (*os.File, error) { return os.OpenFile(path, os.O_WRONLY, 0) }
