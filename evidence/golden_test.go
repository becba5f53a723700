package evidence

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"os"
	"strings"
	"testing"

	"github.com/ccakit/cca/token"
)

// TestCreateGolden compares the claims Create signs, in CBOR diagnostic
// notation, with testdata/*.diag. Those files are written by
// testdata/gen_golden.py from the sample values and TF-RMM's attestation_token.c, not
// from this code; the RAK is the P-384 base point (private scalar 1), so
// its COSE_Key and the binding can be worked out by hand.
func TestCreateGolden(t *testing.T) {
	rak, err := ecdsa.ParseRawPrivateKey(elliptic.P384(), append(make([]byte, 47), 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f         Format
		plat, rlm string
	}{
		{FormatREL0, "platform-rel0.diag", "realm-rel0.diag"},
		{FormatCMW, "platform-rel0.diag", "realm-rel0.diag"},
		{FormatLegacy, "platform-legacy.diag", "realm-legacy.diag"},
	} {
		t.Run(tc.f.String(), func(t *testing.T) {
			raw, err := Create(samplePlatform(), sampleRealm(token.SHA256), fixedKey(t, elliptic.P384(), 0x11), rak, tc.f, nil)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range []struct {
				file    string
				payload []byte
			}{{tc.plat, ev.PlatformSign1.Payload}, {tc.rlm, ev.RealmSign1.Payload}} {
				want, err := os.ReadFile("testdata/" + g.file)
				if err != nil {
					t.Fatal(err)
				}
				got, err := token.Diagnose(g.payload)
				if err != nil {
					t.Fatal(err)
				}
				if got != strings.TrimSpace(string(want)) {
					t.Errorf("%s:\n got %s\nwant %s", g.file, got, want)
				}
			}
		})
	}
}
