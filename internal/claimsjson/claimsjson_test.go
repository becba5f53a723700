package claimsjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ccakit/cca/token"
)

type doc struct {
	A *[]byte `json:"a,omitempty"`
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		in      string
		wantErr string // "" for success
		wantA   []byte // after FromOpt
		absent  bool
	}{
		{in: `{}`, absent: true},
		{in: `{"a": ""}`, wantA: []byte{}},
		{in: `{"a": null}`, absent: true},
		{in: `{"a": "AQI="}`, wantA: []byte{1, 2}},
		{in: `{"b": 1}`, wantErr: `test JSON: json: unknown field "b"`},
		{in: `[`, wantErr: "test JSON: unexpected EOF"},
	} {
		var d doc
		err := Decode([]byte(tc.in), &d, "test JSON")
		if tc.wantErr != "" {
			if !errors.Is(err, token.ErrSyntax) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Decode(%s) = %v, want ErrSyntax with %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Decode(%s): %v", tc.in, err)
			continue
		}
		got := FromOpt(d.A)
		if tc.absent != (got == nil) || string(got) != string(tc.wantA) {
			t.Errorf("Decode(%s): FromOpt = %#v, want %#v (absent %v)", tc.in, got, tc.wantA, tc.absent)
		}
	}
}

func TestOptRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{nil, `{}`},
		{[]byte{}, `{"a":""}`},
		{[]byte{1, 2}, `{"a":"AQI="}`},
	} {
		b, err := json.Marshal(doc{A: Opt(tc.in)})
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(Opt(%#v)) = %s, %v; want %s", tc.in, b, err, tc.want)
			continue
		}
		var d doc
		if err := Decode(b, &d, "test JSON"); err != nil {
			t.Fatal(err)
		}
		if got := FromOpt(d.A); (got == nil) != (tc.in == nil) || string(got) != string(tc.in) {
			t.Errorf("round trip of %#v gave %#v", tc.in, got)
		}
	}
}
