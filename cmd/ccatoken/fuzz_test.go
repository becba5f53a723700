package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// fuzzSeeds are the shipped vectors and a few near misses, as seeds.
func fuzzSeeds(f *testing.F) {
	for _, name := range []string{"rel0-es384.cbor", "cmw-es384.cbor", "legacy-es256.cbor", "tfrmm-main-es384.cbor",
		"shapes/bare-platform.cbor", "shapes/draft-2026.cbor", "bad/hostile-strings.cbor", "bad/truncated.cbor"} {
		b, err := os.ReadFile(filepath.Join(vectorDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("0xd9018f"))
	f.Add([]byte("2YGP oA=="))
	f.Add([]byte(`{"cca-platform-token": {}}`))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\n"))
	f.Add([]byte("\xef\xbb\xbfd9 01 8f\r\n"))
	f.Add([]byte{})
}

func removeSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// FuzzDecodeTokenInput: the input-form detection never panics, and what
// it accepts is CBOR bytes in a named form.
func FuzzDecodeTokenInput(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, form, err := decodeTokenInput(data)
		if err != nil {
			if exitCode(err) != exitFailed {
				t.Fatalf("input error %v has exit status %d, want 1", err, exitCode(err))
			}
			return
		}
		if len(b) == 0 || form == "" {
			t.Fatalf("accepted %q as %d bytes of %q", data, len(b), form)
		}
	})
}

// FuzzInspect runs inspect on arbitrary input in every output form: the
// status is 0 or 1, a failure is one "ccatoken: " line, no output carries a
// character a terminal would act on, and JSON output is always JSON.
func FuzzInspect(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, form := range []string{"text", "json", "diag"} {
			var out, errb bytes.Buffer
			code := run([]string{"inspect", "-O", form, "-"}, bytes.NewReader(data), &out, &errb)
			if code != exitOK && code != exitFailed {
				t.Fatalf("inspect -O %s: status %d: %s", form, code, errb.String())
			}
			if code != exitOK && (!strings.HasPrefix(errb.String(), "ccatoken: ") || strings.Count(errb.String(), "\n") != 1) {
				t.Fatalf("inspect -O %s: stderr is not one line: %q", form, errb.String())
			}
			for _, s := range []string{out.String(), errb.String()} {
				if c, bad := unprintable(s); bad {
					t.Fatalf("inspect -O %s writes %U: %q", form, c, s)
				}
			}
			if form == "json" && !jsonValid(out.Bytes()) {
				t.Fatalf("inspect -O json wrote no JSON: %q", out.String())
			}
		}
	})
}

// FuzzParseClaimsDocument: create's claims reader never panics, and what
// it accepts has both token objects.
func FuzzParseClaimsDocument(f *testing.F) {
	for _, name := range []string{"rel0.json", "legacy.json", "cmw.json", "tfrmm-main.json"} {
		b, err := os.ReadFile(filepath.Join(vectorDir, "claims", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"cca-platform-token":{},"cca-realm-delegated-token":{},"cca-platform-extra-claims":[{"key":9,"cbor":"00"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parseClaimsDocument(data)
		if err == nil && (doc.Platform == nil || doc.Realm == nil) {
			t.Fatalf("accepted %q without both token objects", data)
		}
	})
}

// FuzzPrettyDiag: the indentation of diagnostic notation only adds and
// drops white space, whatever the input (unbalanced brackets, quotes).
func FuzzPrettyDiag(f *testing.F) {
	f.Add(`399({44234: h'00', 44241: <<[1, {"a": 'b'}]>>})`)
	f.Add(`{"x": "a, b", [1, [2, <<3>>]]`)
	f.Add(`<<<<"\"">>`)
	f.Fuzz(func(t *testing.T, s string) {
		if got := prettyDiag(s); removeSpace(got) != removeSpace(s) {
			t.Fatalf("prettyDiag(%q) = %q changes more than white space", s, got)
		}
	})
}

func jsonValid(b []byte) bool { return json.Valid(b) }
