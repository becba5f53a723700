package sqlstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

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
