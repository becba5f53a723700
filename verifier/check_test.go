package verifier

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCheckName: a check's name shows the component type exactly as the
// token or the store carries it: a trailing "\r" or spaces are not trimmed
// away (they would hide what the token says); only an empty type leaves
// the name without one.
func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		check Check
		want  string
	}{
		{Check{ID: CheckSwComponent, Index: 1, Subject: "RMM"}, "sw component #1 RMM"},
		{Check{ID: CheckSwComponent, Index: 1, Subject: "RMM\r"}, "sw component #1 RMM\r"},
		{Check{ID: CheckSwComponent, Index: 2, Subject: " RMM "}, "sw component #2  RMM "},
		{Check{ID: CheckSwComponent, Index: 3, Subject: "\t"}, "sw component #3 \t"},
		{Check{ID: CheckSwComponent, Index: 4}, "sw component #4"},
		{Check{ID: CheckSwComponentAbsent, Subject: "BL2\n"}, "expected sw component BL2\n"},
		{Check{ID: CheckSwComponentAbsent}, "expected sw component"},
		{Check{ID: CheckREM, Index: 2, Subject: "ignored"}, "REM 2"},
		{Check{ID: CheckLifecycle}, "lifecycle"},
	} {
		if got := tc.check.Name(); got != tc.want {
			t.Errorf("%+v: Name %q, want %q", tc.check, got, tc.want)
		}
	}
}

// TestCheckJSONRefusesUnknown: a check read back from JSON must name a
// known check and one of the three outcomes; anything else is an error,
// not a check that neither passes nor fails as its writer meant.
func TestCheckJSONRefusesUnknown(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"known", `{"check": "REM", "index": 2, "outcome": "not-checked", "required": true}`, ""},
		{"unknown outcome", `{"check": "REM", "outcome": "passed"}`, `unknown outcome "passed"`},
		{"outcome not a string", `{"check": "REM", "outcome": 1}`, "cannot unmarshal number"},
		{"unknown check", `{"check": "rems", "outcome": "matched"}`, `unknown check "rems"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Check
			err := json.Unmarshal([]byte(tc.json), &c)
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want == "" && (c.ID != CheckREM || c.Index != 2 || c.Outcome != NotChecked || c.Passed()):
				t.Fatalf("read %+v", c)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
