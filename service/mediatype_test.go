package service

import (
	"net/http"
	"testing"
)

// TestNegotiate: Accept is read as RFC 9110 §12.5.1 says: all its lines,
// case-insensitive types, the most specific range's weight, q=0 refusing,
// commas inside quoted strings not splitting, empty elements ignored.
func TestNegotiate(t *testing.T) {
	const json = "application/json"
	for _, tc := range []struct {
		name    string
		accept  []string // one entry per Accept line; nil: no Accept field
		offered []string
		want    string
	}{
		{"no Accept", nil, []string{SessionMediaType}, SessionMediaType},
		{"empty Accept", []string{""}, []string{SessionMediaType}, SessionMediaType},
		{"only empty elements", []string{" , ,"}, []string{SessionMediaType}, SessionMediaType},
		{"exact", []string{SessionMediaType}, []string{SessionMediaType}, SessionMediaType},
		{"upper case", []string{"APPLICATION/VND.VERAISON.CHALLENGE-RESPONSE-SESSION+JSON"}, []string{SessionMediaType}, SessionMediaType},
		{"with parameters", []string{SessionMediaType + "; charset=utf-8; q=0.5"}, []string{SessionMediaType}, SessionMediaType},
		{"type wildcard", []string{"application/*"}, []string{SessionMediaType}, SessionMediaType},
		{"full wildcard", []string{"*/*"}, []string{SessionMediaType}, SessionMediaType},
		{"other type", []string{"text/html"}, []string{SessionMediaType}, ""},
		{"second Accept line", []string{"text/html", "*/*"}, []string{SessionMediaType}, SessionMediaType},
		{"empty elements around one", []string{", text/html ,, " + SessionMediaType + ","}, []string{SessionMediaType}, SessionMediaType},
		{"q=0", []string{SessionMediaType + ";q=0"}, []string{SessionMediaType}, ""},
		{"q=0.000", []string{SessionMediaType + "; Q=0.000"}, []string{SessionMediaType}, ""},
		{"q=0 overrides a wildcard", []string{"*/*, " + SessionMediaType + ";q=0"}, []string{SessionMediaType}, ""},
		{"q=0 on type/* overrides */*", []string{"*/*;q=1, application/*;q=0"}, []string{SessionMediaType}, ""},
		{"exact overrides type/* q=0", []string{"application/*;q=0, " + SessionMediaType}, []string{SessionMediaType}, SessionMediaType},
		{"*/*;q=0", []string{"*/*;q=0"}, []string{SessionMediaType}, ""},
		{"malformed weight counts as 1", []string{SessionMediaType + ";q=zero"}, []string{SessionMediaType}, SessionMediaType},
		{"weight above 1 counts as 1", []string{SessionMediaType + ";q=1.5"}, []string{SessionMediaType}, SessionMediaType},
		{"weight with four decimals counts as 1", []string{SessionMediaType + ";q=0.0000"}, []string{SessionMediaType}, SessionMediaType},
		{"comma in a quoted string", []string{`text/plain; x="a, */*;"`}, []string{SessionMediaType}, ""},
		{"escaped quote in a quoted string", []string{`text/plain; x="a\", */*"`}, []string{SessionMediaType}, ""},
		{"a prefix is not a match", []string{"application/vnd.veraison"}, []string{SessionMediaType}, ""},
		{"no subtype", []string{"application"}, []string{SessionMediaType}, ""},
		{"discovery: json", []string{json}, []string{DiscoveryMediaType, json}, json},
		{"discovery: preferred by weight", []string{DiscoveryMediaType + ";q=0.2, " + json + ";q=0.9"}, []string{DiscoveryMediaType, json}, json},
		{"discovery: tie goes to the first offered", []string{"application/*"}, []string{DiscoveryMediaType, json}, DiscoveryMediaType},
		{"discovery: json refused", []string{json + ";q=0, text/html"}, []string{DiscoveryMediaType, json}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, a := range tc.accept {
				h.Add("Accept", a)
			}
			if got := negotiate(h, tc.offered...); got != tc.want {
				t.Fatalf("Accept %q offering %q: %q, want %q", tc.accept, tc.offered, got, tc.want)
			}
		})
	}
}

// TestAcceptOverHTTP: the handlers answer 406 or not as negotiate decides,
// Accept lines as a client sends them.
func TestAcceptOverHTTP(t *testing.T) {
	st := openStore(t, ":memory:")
	ts := startTestServer(t, Config{Store: st, Appraiser: fixedAppraiser{}})
	for _, tc := range []struct {
		accept []string
		status int
	}{
		{[]string{","}, http.StatusCreated},
		{[]string{"text/html", SessionMediaType}, http.StatusCreated},
		{[]string{SessionMediaType + ";q=0"}, http.StatusNotAcceptable},
		{[]string{"*/*", "application/*;q=0"}, http.StatusNotAcceptable},
	} {
		req, err := http.NewRequest("POST", ts.public.URL+PathNewSession, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range tc.accept {
			req.Header.Add("Accept", a)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.status {
			t.Errorf("Accept %q: %d, want %d", tc.accept, res.StatusCode, tc.status)
		}
	}
}
