package platform_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/token"
)

// goldenClaims is testdata/claims.json written as Go values. The JSON file
// is the evcli form (veraison/evcli), written by testdata/gen_claims.py
// with Python's base64 module, not with this package.
func goldenClaims() *platform.Claims {
	ch := make([]byte, 32)
	for i := range ch {
		ch[i] = byte(i)
	}
	return &platform.Claims{
		Profile:          "tag:arm.com,2023:cca_platform#1.0.0",
		Challenge:        ch,
		ImplementationID: rep(0xAA, 32),
		InstanceID:       append([]byte{0x01}, rep(0xBB, 32)...),
		Config:           []byte{0xCF, 0xE5, 0x00, 0x00},
		Lifecycle:        0x3003,
		SwComponents: []platform.SwComponent{
			{MeasurementType: "RMM", MeasurementValue: rep(0x12, 32), Version: "1.0.0", SignerID: rep(0x22, 32), MeasurementDesc: "sha-256"},
			{MeasurementValue: rep(0x13, 48), SignerID: rep(0x23, 64)},
		},
		VerificationService: "https://veraison.example/v",
		HashAlgID:           "sha-256",
	}
}

func TestJSONGolden(t *testing.T) {
	golden, err := os.ReadFile("testdata/claims.json")
	if err != nil {
		t.Fatal(err)
	}
	var c platform.Claims
	if err := json.Unmarshal(golden, &c); err != nil {
		t.Fatal(err)
	}
	want := goldenClaims()
	if !sameClaims(&c, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", c, *want)
	}
	if err := c.Validate(platform.ValidateOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(golden, &exp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("MarshalJSON\n%s\nwant\n%s", out, golden)
	}
}

// sameClaims compares the exported claims.
func sameClaims(a, b *platform.Claims) bool {
	return a.Profile == b.Profile && bytes.Equal(a.Challenge, b.Challenge) && bytes.Equal(a.ImplementationID, b.ImplementationID) &&
		bytes.Equal(a.InstanceID, b.InstanceID) && bytes.Equal(a.Config, b.Config) && a.Lifecycle == b.Lifecycle &&
		reflect.DeepEqual(a.SwComponents, b.SwComponents) && a.VerificationService == b.VerificationService && a.HashAlgID == b.HashAlgID
}

func TestJSONRoundTrip(t *testing.T) {
	for _, c := range []*platform.Claims{goldenClaims(), sample(), func() *platform.Claims {
		c := sample()
		c.VerificationService, c.Lifecycle = "", 0
		return c
	}()} {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back platform.Claims
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !sameClaims(&back, c) {
			t.Fatalf("round trip of %s", b)
		}
		if err := back.Validate(platform.ValidateOptions{}); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
}

func TestJSONRejects(t *testing.T) {
	golden, err := os.ReadFile("testdata/claims.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, old, new, msg string
	}{
		{"unknown member", `"cca-platform-lifecycle"`, `"cca-platform-nonsense": 1, "cca-platform-lifecycle"`, "cca-platform-nonsense"},
		{"misspelt member", `"cca-platform-lifecycle"`, `"cca-platform-lifecyle"`, "cca-platform-lifecyle"},
		{"unknown sw component member", `"version": "1.0.0"`, `"versoin": "1.0.0"`, "versoin"},
		{"bad base64", `"z+UAAA=="`, `"z+UAAA="`, "platform claims JSON"},
		{"lifecycle as text", `12291`, `"0x3003"`, "platform claims JSON"},
		{"negative lifecycle", `12291`, `-1`, "platform claims JSON"},
	} {
		in := strings.Replace(string(golden), tc.old, tc.new, 1)
		if in == string(golden) {
			t.Fatalf("%s: mutation did not apply", tc.name)
		}
		var c platform.Claims
		err := json.Unmarshal([]byte(in), &c)
		if !errors.Is(err, token.ErrSyntax) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want ErrSyntax containing %q", tc.name, err, tc.msg)
		}
	}
}

// TestJSONPresence: a member left out of the JSON is a missing claim.
func TestJSONPresence(t *testing.T) {
	for _, tc := range []struct {
		member string
		err    error
	}{
		{"cca-platform-lifecycle", token.ErrMissingClaim},
		{"cca-platform-config", token.ErrMissingClaim},
		{"cca-platform-sw-components", token.ErrMissingClaim},
		{"cca-platform-service-indicator", nil},
	} {
		var m map[string]json.RawMessage
		golden, _ := os.ReadFile("testdata/claims.json")
		if err := json.Unmarshal(golden, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, tc.member)
		b, _ := json.Marshal(m)
		var c platform.Claims
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		err := c.Validate(platform.ValidateOptions{})
		if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.member)) {
			t.Errorf("without %s: %v, want %v", tc.member, err, tc.err)
		}
	}
}
