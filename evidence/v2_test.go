package evidence

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/token"
)

// The 2.0-profile extras (token-formats.md §1), with the names the claims
// table must give them.
var (
	v2PlatformExtras = map[int64]struct {
		val  []byte
		name string
	}{
		2394: {cInt(7), "client id"},
		2403: {cBstr([]byte("manufacturing data")), "manufacturing config"},
		2405: {cBstr(rep(0x5A, 48)), "TBB RoT public key"},
	}
	v2RealmExtras = map[int64]struct {
		val  []byte
		name string
	}{
		256:   {cBstr(append([]byte{0x01}, rep(0x9E, 32)...)), "realm instance id"},
		44243: {cInt(0), "MEC policy"},
	}
)

// v2Spec is valid 2.0-profile evidence in wrapper w with platform profile
// prof, carrying all the extras.
func v2Spec(t testing.TB, w token.Wrapper, prof string) *spec {
	s := newSpec(t, FormatCMW)
	s.wrapper = w
	s.plat.set(token.KeyProfile, cTstr(prof))
	s.realm.set(token.KeyProfile, cTstr(token.ProfileRealm2))
	for _, k := range token.SortedKeys(v2PlatformExtras) {
		s.plat.set(k, v2PlatformExtras[k].val)
	}
	for _, k := range token.SortedKeys(v2RealmExtras) {
		s.realm.set(k, v2RealmExtras[k].val)
	}
	return s
}

func TestProfile2Tokens(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wrapper token.Wrapper
		prof    string
		mutate  func(testing.TB, *spec)
		strict  error // the RejectUnknownClaims verdict
	}{
		{name: "cca_platform#2.0.0 in 907", wrapper: token.Wrapper907, prof: token.ProfilePlatform2},
		{name: "platform#2.0.0 in 907", wrapper: token.Wrapper907, prof: token.ProfilePlatform2Alt},
		{name: "cca_platform#2.0.0 in 399", wrapper: token.Wrapper399, prof: token.ProfilePlatform2},
		{name: "17-byte UEID instance id", wrapper: token.Wrapper907, prof: token.ProfilePlatform2,
			mutate: setP(token.KeyInstanceID, cBstr(append([]byte{0x01}, rep(0xBB, 16)...)))},
		{name: "unknown platform claim", wrapper: token.Wrapper907, prof: token.ProfilePlatform2,
			mutate: setP(9999, cTstr("?")), strict: token.ErrSyntax},
		{name: "unknown realm claim", wrapper: token.Wrapper907, prof: token.ProfilePlatform2,
			mutate: setR(-70000, cTrue), strict: token.ErrSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := v2Spec(t, tc.wrapper, tc.prof)
			if tc.mutate != nil {
				tc.mutate(t, s)
			}
			raw := s.build(t)
			ev, err := decodeAndRunLegs(raw, s.cpak, legOptions{Nonce: nonce})
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			k := ev.Kind()
			if k.Wrapper != tc.wrapper || k.Platform != token.Gen2 || k.Realm != token.Gen2 || !k.Coherent() {
				t.Errorf("kind %+v (%v), want %v with 2.0 profiles", k, k, tc.wrapper)
			}
			if k.Platform == token.Gen1 || k.Realm == token.Gen1 || ev.Platform.Generation() == token.Gen1 || ev.Realm.Generation() == token.Gen1 {
				t.Errorf("2.0 evidence reported as 1.0")
			}
			checkExtras(t, token.SetPlatform, ev.Platform.Extra, v2PlatformExtras)
			checkExtras(t, token.SetRealm, ev.Realm.Extra, v2RealmExtras)
			err = ev.Validate(ValidateOptions{RejectUnknownClaims: true})
			if !errors.Is(err, tc.strict) || (tc.strict == nil) != (err == nil) {
				t.Errorf("RejectUnknownClaims: %v, want %v", err, tc.strict)
			}
		})
	}
}

func checkExtras(t *testing.T, set token.ClaimSet, got map[int64]cbor.RawMessage, want map[int64]struct {
	val  []byte
	name string
}) {
	t.Helper()
	for k, w := range want {
		if !bytes.Equal(got[k], w.val) {
			t.Errorf("%v claim %d: Extra has % x, want % x", set, k, got[k], w.val)
		}
		c, ok := token.LookupClaim(set, k)
		if !ok || c.Name != w.name || c.Gen != token.Gen2 {
			t.Errorf("%v claim %d: table says %+v, want %q of generation 2.0", set, k, c, w.name)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			if _, known := token.LookupClaim(set, k); known {
				t.Errorf("%v claim %d is unexpected but named in the table", set, k)
			}
		}
	}
}

// TestProfile2Mixed: a 2.0 token with a 1.0 partner is incoherent both ways,
// and 2.0 claims are not 1.0 claims.
func TestProfile2Mixed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		platProf string
		realProf string
	}{
		{"2.0 platform, 1.0 realm", token.ProfilePlatform2, token.ProfileRealm1},
		{"1.0 platform, 2.0 realm", token.ProfilePlatform1, token.ProfileRealm2},
		{"2.0 alt platform, 1.0 realm", token.ProfilePlatform2Alt, token.ProfileRealm1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := v2Spec(t, token.Wrapper907, tc.platProf)
			s.realm.set(token.KeyProfile, cTstr(tc.realProf))
			raw := s.build(t)
			_, err := decodeAndRunLegs(raw, s.cpak, legOptions{Nonce: nonce})
			checkErr(t, err, token.ErrProfile, legValidate, []string{"mixed"})
			_, err = decodeAndRunLegs(raw, s.cpak, legOptions{Nonce: nonce, ValidateOptions: ValidateOptions{AllowMixedProfilesUnsafe: true}})
			checkErr(t, err, nil, "", nil)
			// The 1.0 side must reject the 2.0 claims it carries when strict.
			_, err = decodeAndRunLegs(raw, s.cpak, legOptions{Nonce: nonce,
				ValidateOptions: ValidateOptions{AllowMixedProfilesUnsafe: true, RejectUnknownClaims: true}})
			checkErr(t, err, token.ErrSyntax, legValidate, []string{"is not defined by"})
		})
	}
}

// TestKindString: each coherent kind has its own description, and an
// incoherent one says so.
func TestKindString(t *testing.T) {
	kinds := []Kind{
		{token.Wrapper399, token.GenLegacy, token.GenLegacy},
		{token.Wrapper399, token.Gen1, token.Gen1},
		{token.Wrapper907, token.Gen1, token.Gen1},
		{token.Wrapper907, token.Gen2, token.Gen2},
		{token.Wrapper399, token.Gen2, token.Gen2},
	}
	var seen []string
	for _, k := range kinds {
		if !k.Coherent() {
			t.Errorf("%+v not coherent", k)
		}
		s := k.String()
		if slices.Contains(seen, s) || bytes.Contains([]byte(s), []byte("mixed")) {
			t.Errorf("%+v: description %q repeated or says mixed", k, s)
		}
		seen = append(seen, s)
	}
	for _, k := range []Kind{
		{token.Wrapper907, token.GenLegacy, token.GenLegacy},
		{token.Wrapper399, token.Gen1, token.GenLegacy},
		{token.Wrapper399, token.GenUnknown, token.GenUnknown},
		{token.Wrapper907, token.Gen2, token.Gen1},
	} {
		if k.Coherent() || !bytes.Contains([]byte(k.String()), []byte("mixed or unknown")) {
			t.Errorf("%+v: coherent %v, %q", k, k.Coherent(), k.String())
		}
	}
}
