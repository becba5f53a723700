package sqlstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ccakit/cca/service/store"
	"github.com/ccakit/cca/verifier"
)

// TestAddEndorsementsText: labels that PostgreSQL's text type cannot hold
// (NUL, invalid UTF-8) are stored with U+FFFD in their place instead of
// failing the submission, on every database; the CoRIM's bytes are kept as
// they are.
func TestAddEndorsementsText(t *testing.T) {
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			inst := append([]byte{0x01}, randomBytes(t, 32)...)
			id := fmt.Sprintf("nul\x00in-id-%x", inst[1:9])
			p := &store.Provisioned{
				MediaType: "application/rim+cbor", Profile: "tag:arm.com,2025:cca_platform#1.0.0",
				CoRIMID: id, Body: append([]byte(id), inst...),
				TrustAnchors: []verifier.TrustAnchor{{InstanceID: inst, ImplementationID: randomBytes(t, 32),
					Key: &key.PublicKey, Where: "CoRIM " + id + ", bad UTF-8 \xff\xfe"}},
			}
			if err := st[0].AddEndorsements(ctx, p); err != nil {
				t.Fatalf("AddEndorsements: %v", err)
			}
			got, err := st[1].TrustAnchors(ctx, inst, nil)
			if err != nil || len(got) != 1 {
				t.Fatalf("TrustAnchors: %d, %v", len(got), err)
			}
			want := "database: CoRIM nul\uFFFDin-id-" + fmt.Sprintf("%x", inst[1:9]) + ", bad UTF-8 \uFFFD"
			if got[0].Where != want || strings.ContainsRune(got[0].Where, 0) {
				t.Fatalf("Where %q, want %q", got[0].Where, want)
			}
		})
	}
}

// TestExpiredCoRIM: the endorsements of a CoRIM whose validity has ended
// are no longer looked up (trust anchors, platform and realm reference
// values alike), those of a CoRIM without an end or still valid are, and
// the generation moves when a CoRIM expires, so that a cache of the
// lookups forgets them.
func TestExpiredCoRIM(t *testing.T) {
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			now := time.Now().Truncate(time.Millisecond)
			clock := now
			for _, s := range st {
				s.Now = func() time.Time { return clock }
			}
			inst := append([]byte{0x01}, randomBytes(t, 32)...)
			impl, rim := randomBytes(t, 32), randomBytes(t, 32)
			add := func(notAfter time.Time) {
				t.Helper()
				body := randomBytes(t, 16)
				p := &store.Provisioned{MediaType: "application/rim+cbor", CoRIMID: fmt.Sprintf("%x", body), Body: body, NotAfter: notAfter,
					TrustAnchors: []verifier.TrustAnchor{{InstanceID: inst, Key: &key.PublicKey, Where: "ta"}},
					Platforms:    []verifier.PlatformReference{{ImplementationID: impl, Where: "platform"}},
					Realms:       []verifier.RealmReference{{InitialMeasurement: rim, Where: "realm"}}}
				if err := st[0].AddEndorsements(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			count := func() [3]int {
				t.Helper()
				tas, err1 := st[1].TrustAnchors(ctx, inst, nil)
				prs, err2 := st[1].PlatformReferences(ctx, impl)
				rrs, err3 := st[1].RealmReferences(ctx, rim)
				if err := errors.Join(err1, err2, err3); err != nil {
					t.Fatal(err)
				}
				return [3]int{len(tas), len(prs), len(rrs)}
			}
			add(time.Time{})            // no end
			add(now.Add(time.Hour))     // ends in an hour
			add(now.Add(2 * time.Hour)) // ends in two
			if got := count(); got != [3]int{3, 3, 3} {
				t.Fatalf("before any expiry: %v lookups, want 3 of each", got)
			}
			g0, err := st[0].Generation(ctx)
			if err != nil {
				t.Fatal(err)
			}
			clock = now.Add(time.Hour) // the end itself: expired
			if got := count(); got != [3]int{2, 2, 2} {
				t.Fatalf("an hour later: %v lookups, want 2 of each", got)
			}
			g1, err := st[1].Generation(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// (> rather than +1: a PostgreSQL database is shared with
			// other tests' CoRIMs.)
			if g1 == g0 || g1.Expired <= g0.Expired {
				t.Fatalf("generation %+v then %+v: the expiry did not move it", g0, g1)
			}
			clock = now.Add(3 * time.Hour)
			if got := count(); got != [3]int{1, 1, 1} {
				t.Fatalf("three hours later: %v lookups, want the CoRIM without an end only", got)
			}
		})
	}
}
