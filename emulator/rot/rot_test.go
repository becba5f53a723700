package rot

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/token"
)

func TestPlatformTokenVerifies(t *testing.T) {
	for _, gen := range []token.Generation{token.GenUnknown, token.Gen1, token.GenLegacy} {
		r, err := New(Config{Generation: gen})
		if err != nil {
			t.Fatal(err)
		}
		challenge := bytes.Repeat([]byte{0x5a}, 32)
		tok, err := r.PlatformToken(challenge)
		if err != nil {
			t.Fatal(err)
		}
		s1, err := token.DecodeSign1(tok, "platform token")
		if err != nil {
			t.Fatal(err)
		}
		if err := s1.Verify(r.CPAK(), nil); err != nil {
			t.Fatalf("%v: %v", gen, err)
		}
		c, err := platform.Decode(s1.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(platform.ValidateOptions{RejectUnknownClaims: true}); err != nil {
			t.Fatal(err)
		}
		want := map[token.Generation]string{token.GenUnknown: token.ProfilePlatform1, token.Gen1: token.ProfilePlatform1,
			token.GenLegacy: token.ProfilePlatformLegacy}[gen]
		if c.Profile != want || !bytes.Equal(c.Challenge, challenge) || c.Lifecycle != 0x3003 || len(c.SwComponents) != 13 {
			t.Fatalf("%v: unexpected claims %+v", gen, c)
		}
	}
}

func TestDefaultKeysAreTheDocumentedOnes(t *testing.T) {
	r, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	scalar, err := r.RealmAttestKey(RAKCurveP384)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(scalar) != TestRAKScalar {
		t.Fatalf("RAK scalar %x is not TestRAKScalar", scalar)
	}
	// Instance id: 0x01 || SHA-256(04 || X || Y) of the CPAK.
	// The uncompressed point is the tail of the SPKI encoding (its BIT
	// STRING), taken here independently of the code under test.
	spki, err := x509.MarshalPKIXPublicKey(r.CPAK())
	if err != nil {
		t.Fatal(err)
	}
	point := spki[len(spki)-97:]
	if point[0] != 4 {
		t.Fatalf("SPKI does not end with an uncompressed point: %x", spki)
	}
	h := sha256.Sum256(point)
	if !bytes.Equal(r.InstanceID(), append([]byte{1}, h[:]...)) {
		t.Fatal("instance id is not derived from the CPAK")
	}
}

func TestLifecycleSettable(t *testing.T) {
	r, _ := New(Config{})
	for _, l := range []platform.Lifecycle{0x5000, 0x4001, 0x3000, 0x0001, 0x6000} {
		if err := r.SetLifecycle(l); err != nil {
			t.Fatal(err)
		}
		tok, err := r.PlatformToken(make([]byte, 48))
		if err != nil {
			t.Fatal(err)
		}
		s1, _ := token.DecodeSign1(tok, "platform token")
		c, _ := platform.Decode(s1.Payload)
		if c.Lifecycle != l {
			t.Fatalf("token lifecycle %v, set %v", c.Lifecycle, l)
		}
	}
	if err := r.SetLifecycle(0x7000); !errors.Is(err, ErrConfig) {
		t.Fatalf("invalid lifecycle accepted: %v", err)
	}
	if r.Lifecycle() != 0x6000 {
		t.Fatal("a refused lifecycle change changed the lifecycle")
	}
}

func TestErrors(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	bad := platform.Lifecycle(0x7000)
	for name, tc := range map[string]struct {
		cfg  Config
		want error
	}{
		"RAK not P-384":        {Config{RAK: p256}, ErrConfig},
		"lifecycle invalid":    {Config{Lifecycle: &bad}, ErrConfig},
		"implementation id 31": {Config{ImplementationID: make([]byte, 31)}, ErrConfig},
		"2.0 generation":       {Config{Generation: token.Gen2}, ErrConfig},
		"empty boot chain":     {Config{BootChain: []Image{}}, ErrConfig},
	} {
		if _, err := New(tc.cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
	r, _ := New(Config{CPAK: p256})
	if _, err := r.RealmAttestKey(1); !errors.Is(err, ErrCurve) {
		t.Errorf("curve 1: %v", err)
	}
	for _, n := range []int{0, 31, 33, 65} {
		if _, err := r.PlatformToken(make([]byte, n)); !errors.Is(err, ErrChallenge) {
			t.Errorf("challenge %d bytes: %v", n, err)
		}
	}
	// A P-256 CPAK signs ES256.
	tok, err := r.PlatformToken(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := token.DecodeSign1(tok, "platform token")
	if err := s1.Verify(&p256.PublicKey, nil); err != nil {
		t.Fatal(err)
	}
}
