package main

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// TestInspectGolden compares the text listing of the shipped rel0 vector
// with testdata/inspect-rel0.golden (go test -update rewrites it; read the
// diff before committing it).
func TestInspectGolden(t *testing.T) {
	r := ccatoken(t, nil, "inspect", rel0Vector)
	r.check(t, exitOK)
	golden := filepath.Join("testdata", "inspect-rel0.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := string(readFileT(t, golden))
	if r.stdout != want {
		t.Errorf("inspect output differs from %s (go test -update rewrites it):\n%s", golden, diffLines(want, r.stdout))
	}
}

// diffLines shows the first differing line of two texts.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestInspectVectors checks each shipped vector in each output form for
// what the listing must show.
func TestInspectVectors(t *testing.T) {
	want := map[string][]string{
		"rel0-es384.cbor": {"RMM 1.0-REL0", "tag 399 collection", "ES384, 96-byte signature",
			"ECDSA P-384, COSE_Key, 107 bytes", "0x3003 (secured)", `"SOC_FW_CONFIG"`, "validation: ok"},
		"rel0-es256.cbor": {"ES256, 64-byte signature", "ES384, 96-byte signature"},
		"legacy-es384.cbor": {"legacy (RMM 1.0-EAC5)", `"http://arm.com/CCA-SSD/1.0.0"`,
			"(absent) (a legacy realm token has none)", "ECDSA P-384, raw SEC1 point, 97 bytes"},
		"cmw-es384.cbor": {"CMW collection (tag 907)", "tag 907 CMW collection", `"sha-512"`},
	}
	for _, v := range vectors {
		t.Run(v.file, func(t *testing.T) {
			r := ccatoken(t, nil, "inspect", v.path())
			r.check(t, exitOK)
			for _, s := range append(want[v.file], "2396  implementation id", "44237  realm attestation key (RAK)") {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("text output lacks %q", s)
				}
			}

			r = ccatoken(t, nil, "inspect", "--output", "json", v.path())
			r.check(t, exitOK)
			var doc map[string]json.RawMessage
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
				t.Fatalf("json output: %v", err)
			}
			for _, k := range []string{"generation", "format", "cca-platform-token", "cca-realm-delegated-token", "validation"} {
				if _, ok := doc[k]; !ok {
					t.Errorf("json output lacks %q", k)
				}
			}
			if got := string(doc["format"]); got != `"`+v.format.String()+`"` {
				t.Errorf("format %s, want %q", got, v.format)
			}

			r = ccatoken(t, nil, "inspect", "--output", "diag", v.path())
			r.check(t, exitOK)
			for _, s := range []string{"18([", "<<{1: -", "2401: h'cfe50000'", "2399: ["} {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("diag output lacks %q", s)
				}
			}
			if v.format != evidence.FormatLegacy && !strings.Contains(r.stdout, "44237: <<{") {
				t.Errorf("diag output does not show the COSE_Key embedded")
			}
			if strings.Contains(r.stdout, "<<0") {
				t.Errorf("diag output shows zero bytes as embedded CBOR")
			}
		})
	}
}

// TestInspectInvalid: evidence that decodes but does not validate is still
// listed, with the problem on the last line and on stderr, and exit 1.
func TestInspectInvalid(t *testing.T) {
	raw := resign(t, readFileT(t, rel0Vector), func(p *platform.Claims, r *realm.Claims) {
		p.Lifecycle = 0x7001
		r.ExtensibleMeasurements = r.ExtensibleMeasurements[:3]
	})
	path := writeTemp(t, "invalid.cbor", raw)
	r := ccatoken(t, nil, "inspect", path)
	r.check(t, exitFailed, "invalid evidence", "0x7001")
	for _, s := range []string{"0x7001 (invalid)", "3 measurements", "validation: FAILED: platform token"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	r = ccatoken(t, nil, "inspect", "-O", "json", path)
	r.check(t, exitFailed, "0x7001")
	if !strings.Contains(r.stdout, `"validation": "platform token: invalid claim`) {
		t.Errorf("json output lacks the validation failure:\n%s", r.stdout)
	}
	r = ccatoken(t, nil, "inspect", "-O", "diag", path)
	r.check(t, exitFailed, "0x7001")
	if !strings.Contains(r.stdout, "2395: 28673") {
		t.Errorf("diag output lacks the lifecycle")
	}
}

// TestInspectMixed: a legacy platform token with a 2023 realm token
// (Veraison's test evidence pairs them, no firmware does) is decodable,
// shown by its name, and refused; a 2023 platform token with a
// profile-less realm is shown as mixed.
func TestInspectMixed(t *testing.T) {
	raw := resign(t, readFileT(t, vectors[2].path()), func(_ *platform.Claims, r *realm.Claims) {
		var err error
		r.Profile = token.ProfileRealm1
		if r.PubKey, err = realm.EncodeRAK(loadSigner(t, rakPriv).Public().(*ecdsa.PublicKey), token.Gen1); err != nil {
			t.Fatal(err)
		}
	})
	r := ccatoken(t, nil, "inspect", writeTemp(t, "veraison.cbor", raw))
	r.check(t, exitFailed, "opt-in pairing")
	if !strings.Contains(r.stdout, "evidence:  tag 399 collection, CCA-SSD platform profile, realm 1.0 profile (Veraison's test evidence") {
		t.Errorf("kind not shown by name:\n%s", r.stdout)
	}
	raw = resign(t, readFileT(t, rel0Vector), func(_ *platform.Claims, r *realm.Claims) { r.Profile = "" })
	r = ccatoken(t, nil, "inspect", writeTemp(t, "mixed.cbor", raw))
	r.check(t, exitFailed)
	if !strings.Contains(r.stdout, "evidence:  mixed or unknown") {
		t.Errorf("kind not shown as mixed:\n%s", r.stdout)
	}
}

// withExtras adds a 2.0 claim and an unknown claim to each token.
func withExtras(t *testing.T, raw []byte) []byte {
	enc := func(v any) cbor.RawMessage {
		b, err := token.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return resign(t, raw, func(p *platform.Claims, r *realm.Claims) {
		one := uint64(1)
		p.ClientID = &one
		p.Extra = map[int64]cbor.RawMessage{99999: enc(map[string]any{"vendor": []byte{1, 2}})}
		r.MECPolicy = &realm.MECPolicy{Text: true, Name: "private"}
		r.Extra = map[int64]cbor.RawMessage{-70000: enc("x")}
	})
}

func TestInspectExtraClaims(t *testing.T) {
	path := writeTemp(t, "extras.cbor", withExtras(t, readFileT(t, rel0Vector)))
	r := ccatoken(t, nil, "inspect", path)
	r.check(t, exitOK)
	for _, s := range []string{
		"2394  client id", "1 (Realm Management Security Domain)",
		"99999  unknown claim", `{"vendor": h'0102'}`,
		"44243  MEC policy", "private (text)",
		"-70000  unknown claim",
	} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("output lacks %q:\n%s", s, r.stdout)
		}
	}
	r = ccatoken(t, nil, "inspect", "-O", "json", path)
	r.check(t, exitOK)
	var doc claimsDocument
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.PlatformExtra) != 1 || doc.PlatformExtra[0].Key != 99999 || doc.PlatformExtra[0].Name != "" ||
		doc.PlatformExtra[0].Diag != `{"vendor": h'0102'}` || len(doc.RealmExtra) != 1 {
		t.Errorf("extra claims in JSON: %+v %+v", doc.PlatformExtra, doc.RealmExtra)
	}
	for _, s := range []string{`"cca-platform-client-id": 1`, `"cca-realm-mec-policy": "private"`} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("JSON lacks %s", s)
		}
	}
}

// TestInspectJSONRoundTrip: create, fed inspect's JSON, makes evidence that
// inspect shows identically (only the signatures differ), for each shipped
// vector and for one with extra claims.
func TestInspectJSONRoundTrip(t *testing.T) {
	type input struct{ path, cpak string }
	inputs := map[string]input{}
	for _, v := range vectors {
		inputs[v.file] = input{v.path(), v.cpakPrivate()}
	}
	inputs["extras"] = input{writeTemp(t, "extras.cbor", withExtras(t, readFileT(t, vectors[3].path()))), cpakPriv}
	for name, in := range inputs {
		path := in.path
		t.Run(name, func(t *testing.T) {
			first := ccatoken(t, nil, "inspect", "-O", "json", path)
			first.check(t, exitOK)
			out := filepath.Join(t.TempDir(), "copy.cbor")
			ccatoken(t, []byte(first.stdout), "create", "--claims", "-", "--iak", in.cpak, "--rak", rakPriv, "-o", out).check(t, exitOK)
			second := ccatoken(t, nil, "inspect", "-O", "json", out)
			second.check(t, exitOK)
			if first.stdout != second.stdout {
				t.Errorf("JSON differs after create:\n%s", diffLines(first.stdout, second.stdout))
			}
			a := ccatoken(t, nil, "inspect", path)
			b := ccatoken(t, nil, "inspect", out)
			if a.stdout != b.stdout {
				t.Errorf("text differs after create:\n%s", diffLines(a.stdout, b.stdout))
			}
		})
	}
}

func TestPrettyDiag(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{1: 2}`, `{1: 2}`},
		{`399({44234: h'00', 44241: h'01'})`, `399({44234: h'00', 44241: h'01'})`},
		{`[` + strings.Repeat(`"a, [b]", `, 10) + `1]`, "[\n" + strings.Repeat(`  "a, [b]",`+"\n", 10) + "  1\n]"},
		{`<<{1: -35}>>`, `<<{1: -35}>>`},
		{`[<<` + strings.Repeat(`1, `, 30) + `2>>]`, "[\n  <<\n    " + strings.Repeat("1,\n    ", 30) + "2\n  >>\n]"},
		{`<<18([` + strings.Repeat(`1, `, 30) + `2])>>`, "<<18([\n  " + strings.Repeat("1,\n  ", 30) + "2\n])>>"},
		{`[1, [2`, `[1, [2`},
	} {
		if got := prettyDiag(c.in); got != c.want {
			t.Errorf("prettyDiag(%q) =\n%s\nwant\n%s", c.in, got, c.want)
		}
	}
}

// TestDiagnose: byte strings are shown as embedded CBOR only when they hold
// one map, array or tag.
func TestDiagnose(t *testing.T) {
	for _, c := range []struct{ hex, want string }{
		{"44cfe50000", "h'cfe50000'"}, // a CBOR sequence by accident
		{"420102", "h'0102'"},         // small integers
		{"5820" + strings.Repeat("00", 32), "h'" + strings.Repeat("00", 32) + "'"}, // a zero REM
		{"43a10126", "<<{1: -7}>>"},               // a protected header
		{"44a1012600", "h'a1012600'"},             // a map and trailing bytes
		{"43d24100", "<<18(h'00')>>"},             // a tag
		{"82430102034180", "[h'010203', <<[]>>]"}, // 0x80 is one item, an empty array: embedded
		{"d9018fa0", "399({})"},
		{"a2016161026162", `{1: "a", 2: "b"}`},
		{"9f01ff", "[_ 1]"}, // indefinite length: shown as the decoder shows it
		{"f93c00", "1.0"},
	} {
		b, _ := hexDecode(c.hex)
		got, err := token.Diagnose(b)
		if err != nil || got != c.want {
			t.Errorf("token.Diagnose(%s) = %q, %v; want %q", c.hex, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "5820", "0101", "ff"} {
		b, _ := hexDecode(bad)
		if _, err := token.Diagnose(b); err == nil {
			t.Errorf("token.Diagnose(%s) succeeded", bad)
		}
	}
}

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

// TestInspectShapes: what TF-RMM main emits is shown with its 2.0 claims
// and valid, and its JSON makes the same evidence again; a draft -03
// shape is shown by name and refused; a bare platform token is shown alone.
func TestInspectShapes(t *testing.T) {
	iid := append([]byte{0x01}, bytes.Repeat([]byte{0x9E}, 32)...)
	main := resign(t, readFileT(t, vectors[3].path()), func(_ *platform.Claims, r *realm.Claims) {
		r.Profile, r.InstanceID, r.MECPolicy = token.ProfileRealm2, iid, realm.MECPolicyOf(false)
	})
	path := writeTemp(t, "tfrmm-main.cbor", main)
	r := ccatoken(t, nil, "inspect", path)
	r.check(t, exitOK)
	for _, s := range []string{"evidence:  CMW collection, 2023 platform profile, realm 2.0 profile\n",
		"  256  realm instance id", hex.EncodeToString(iid), "44243  MEC policy", "shared (0)"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("TF-RMM main shape: output lacks %q:\n%s", s, r.stdout)
		}
	}
	first := ccatoken(t, nil, "inspect", "-O", "json", path)
	first.check(t, exitOK)
	for _, s := range []string{`"format": "tfrmm-main"`, `"cca-realm-instance-id": "` + base64.StdEncoding.EncodeToString(iid) + `"`, `"cca-realm-mec-policy": 0`} {
		if !strings.Contains(first.stdout, s) {
			t.Errorf("JSON lacks %s:\n%s", s, first.stdout)
		}
	}
	out := filepath.Join(t.TempDir(), "copy.cbor")
	ccatoken(t, []byte(first.stdout), "create", "--claims", "-", "--iak", cpakPriv, "--rak", rakPriv, "-o", out).check(t, exitOK)
	if second := ccatoken(t, nil, "inspect", "-O", "json", out); second.stdout != first.stdout {
		t.Errorf("JSON differs after create:\n%s", diffLines(first.stdout, second.stdout))
	}

	raw := resign(t, readFileT(t, vectors[3].path()), func(p *platform.Claims, r *realm.Claims) {
		one := uint64(1)
		p.Profile, p.ClientID = token.ProfilePlatform2, &one
		r.Profile = token.ProfileRealm2
	})
	path = writeTemp(t, "gen2.cbor", raw)
	r = ccatoken(t, nil, "inspect", path)
	r.check(t, exitFailed, "draft shapes are refused by default")
	if !strings.HasPrefix(r.stdout, "evidence:  CMW collection, 2024 platform profile, realm 2.0 profile (shape of draft-ffm-rats-cca-token-03") {
		t.Errorf("2.0 evidence shown as %q", strings.SplitN(r.stdout, "\n", 2)[0])
	}
	r = ccatoken(t, nil, "inspect", "-O", "json", path)
	if strings.Contains(r.stdout, `"format"`) {
		t.Errorf("draft evidence has a format in JSON")
	}

	ev, err := evidence.Decode(readFileT(t, rel0Vector))
	if err != nil {
		t.Fatal(err)
	}
	bare := writeTemp(t, "platform.cbor", ev.Collection.Platform)
	r = ccatoken(t, nil, "inspect", bare)
	r.check(t, exitOK)
	for _, s := range []string{"evidence:  bare platform token, 2023 platform profile\n", "platform token (bare COSE_Sign1)", "realm token: none (a bare platform token)"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("bare token: output lacks %q:\n%s", s, r.stdout)
		}
	}
	r = ccatoken(t, nil, "inspect", "-O", "json", bare)
	r.check(t, exitOK)
	if strings.Contains(r.stdout, "cca-realm-delegated-token") {
		t.Errorf("bare token JSON has a realm token:\n%s", r.stdout)
	}
	r = ccatoken(t, nil, "inspect", writeTemp(t, "gen2.hex", []byte(hex.EncodeToString(raw))))
	if !strings.Contains(r.stdout, "input:     hex, decoded to ") {
		t.Errorf("hex input not reported: %q", strings.SplitN(r.stdout, "\n", 3)[1])
	}
}

// TestInspectEscapes: claim strings holding newlines, ANSI escapes and
// bidirectional overrides are printed escaped, on stdout and in the stderr
// line, in every place inspect shows one.
func TestInspectEscapes(t *testing.T) {
	evil := "RMM\n\x1b[2J\x1b[32mresult: TRUSTWORTHY\x1b[0m\r\u202e"
	raw := resign(t, readFileT(t, rel0Vector), func(p *platform.Claims, r *realm.Claims) {
		p.SwComponents[0].MeasurementType = evil
		p.SwComponents[0].Version = evil
		p.SwComponents[0].MeasurementDesc = evil
		p.VerificationService = evil
		p.Extra = map[int64]cbor.RawMessage{99999: cbor.RawMessage(append([]byte{0x78, byte(len(evil))}, evil...))}
		r.MECPolicy = &realm.MECPolicy{Text: true, Name: evil}
		r.PubKeyHashAlgID = evil
	})
	for _, args := range [][]string{{"inspect"}, {"inspect", "-O", "json"}, {"inspect", "-O", "diag"}} {
		r := ccatoken(t, nil, append(args, writeTemp(t, "evil.cbor", raw))...)
		r.check(t, exitFailed)
		for _, out := range []string{r.stdout, r.stderr} {
			if strings.ContainsAny(out, "\x1b\r\u202e") || strings.Contains(out, "\nresult: TRUSTWORTHY") || strings.Contains(out, "\n\x1b") {
				t.Errorf("%v: a claim string printed raw:\n%q", args, out)
			}
		}
		if strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: stderr is not one line: %q", args, r.stderr)
		}
	}
	r := ccatoken(t, nil, "inspect", writeTemp(t, "evil.cbor", raw))
	if !strings.Contains(r.stdout, `"RMM\n\x1b[2J\x1b[32mresult: TRUSTWORTHY\x1b[0m\r\u202e"`) {
		t.Errorf("the type is not shown quoted and escaped:\n%s", r.stdout)
	}
}

// TestInspectJSONOnUndecodableInput: --output json writes one JSON object
// also for input that does not decode (only "validation", the reason), as
// it does for evidence that decodes but does not validate; the status is 1
// and stderr has the reason. Text output stays silent on stdout.
func TestInspectJSONOnUndecodableInput(t *testing.T) {
	raw := readFileT(t, rel0Vector)
	for _, tc := range []struct {
		name  string
		data  []byte
		cause string
	}{
		{"empty", nil, "empty input"},
		{"JSON", []byte(`{"a": 1}`), "it looks like JSON"},
		{"truncated", raw[:100], "unexpected EOF"},
		{"not a tag", []byte{0x01, 0x02, 0xff}, "expected CBOR tag 399"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := writeTemp(t, "token", tc.data)
			r := ccatoken(t, nil, "inspect", "-O", "json", tok)
			r.check(t, exitFailed, tc.cause)
			var doc map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%q", err, r.stdout)
			}
			if v, _ := doc["validation"].(string); len(doc) != 1 || !strings.Contains(v, tc.cause) {
				t.Errorf("JSON %v: want only a validation naming %q", doc, tc.cause)
			}
			if txt := ccatoken(t, nil, "inspect", tok); txt.stdout != "" || txt.code != exitFailed {
				t.Errorf("text: status %d, stdout %q", txt.code, txt.stdout)
			}
		})
	}
}
