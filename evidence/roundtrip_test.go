package evidence

import (
	"bytes"
	"crypto/elliptic"
	"errors"
	"testing"

	"github.com/ccakit/cca/token"
)

func TestRoundTrip(t *testing.T) {
	curves := []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()}
	for _, f := range []Format{FormatREL0, FormatLegacy, FormatCMW} {
		for _, pc := range curves {
			for _, rc := range curves {
				for _, h := range []string{token.SHA256, token.SHA512} {
					name := f.String() + "/iak-" + pc.Params().Name + "/rak-" + rc.Params().Name + "/" + h
					t.Run(name, func(t *testing.T) {
						iak, rak := newKey(t, pc), newKey(t, rc)
						p, r := samplePlatform(), sampleRealm(h)
						raw, err := Create(p, r, iak, rak, f, nil)
						if err != nil {
							t.Fatalf("Create: %v", err)
						}
						ev, err := decodeAndRunLegs(raw, &iak.PublicKey, legOptions{Nonce: r.Challenge})
						if err != nil {
							t.Fatalf("decode and legs: %v", err)
						}
						k := ev.Kind()
						if k.Wrapper != f.Wrapper() || k.Platform != f.Generation() || k.Realm != f.Generation() || !k.Coherent() {
							t.Fatalf("kind %+v, want wrapper %v generation %v", k, f.Wrapper(), f.Generation())
						}
						// The decoded claims are the ones given, plus what Create fills.
						if !bytes.Equal(ev.Realm.InitialMeasurement, r.InitialMeasurement) ||
							!bytes.Equal(ev.Platform.ImplementationID, p.ImplementationID) ||
							len(ev.Platform.SwComponents) != 2 || ev.Platform.SwComponents[1].Version != "1.0.0" {
							t.Fatalf("claims changed in the round trip")
						}
						want, _ := token.Binding("sha-256", ev.Realm.PubKey)
						if !bytes.Equal(ev.Platform.Challenge, want) {
							t.Fatalf("platform challenge is not the binding")
						}
						// Re-encoding the decoded claims reproduces the signed payloads.
						pb, _ := ev.Platform.Encode()
						rb, _ := ev.Realm.Encode()
						if !bytes.Equal(pb, ev.PlatformSign1.Payload) || !bytes.Equal(rb, ev.RealmSign1.Payload) {
							t.Fatalf("decode/encode is not the identity on payloads")
						}
						// And the wrong key fails the platform leg.
						other := newKey(t, pc)
						if err := runLegs(ev, &other.PublicKey, legOptions{}); !errors.Is(err, token.ErrSignature) || failedLeg(err) != legPlatformSignature {
							t.Fatalf("verify with another key: %v", err)
						}
					})
				}
			}
		}
	}
}

func TestRAKEncodingSizes(t *testing.T) {
	rak := newKey(t, elliptic.P384())
	for _, tc := range []struct {
		f    Format
		size int
	}{{FormatREL0, 107}, {FormatLegacy, 97}, {FormatCMW, 107}} {
		raw, err := Create(samplePlatform(), sampleRealm(token.SHA256), newKey(t, elliptic.P384()), rak, tc.f, nil)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Realm.PubKey) != tc.size {
			t.Errorf("%v: RAK claim is %d bytes, want %d", tc.f, len(ev.Realm.PubKey), tc.size)
		}
	}
}
