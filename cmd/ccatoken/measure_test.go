package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/realmbuild"
	"github.com/ccakit/cca/verifier"
)

// The example realms and the reference values they give (written by
// 'measure --output json'; their RIMs were also computed independently by
// realmbuild/testdata/rim_kat.py).
var measureExamples = []struct {
	name, rim string
}{
	{"small", "2460ecf90c80e265b8819b3b2f7257ff1964329cd32401b9df55761ff9eb884e"},
	{"qemu-virt", "59343ec54b53ed22bf117dd23dbecee2a7c48d05448b220026362d3727dfa1fb5adb25fbd24ef76f83afc5b07c101fcb1b77ec0a596dd34e3d32da2e6ec9e923"},
}

func examplePath(name, ext string) string {
	return filepath.Join("..", "..", "testvectors", "realms", name+ext)
}

func TestMeasureExamples(t *testing.T) {
	for _, ex := range measureExamples {
		t.Run(ex.name, func(t *testing.T) {
			desc := examplePath(ex.name, ".json")
			r := ccatoken(t, nil, "measure", "--realm", desc)
			r.check(t, exitOK)
			if !strings.Contains(r.stdout, "initial measurement:   "+ex.rim+"\n") {
				t.Errorf("text output lacks the RIM:\n%s", r.stdout)
			}

			r = ccatoken(t, nil, "measure", "--realm", desc, "--output", "json")
			r.check(t, exitOK)
			if want := string(readFileT(t, examplePath(ex.name, ".refvalues.json"))); r.stdout != want {
				t.Errorf("json output:\n%s\nwant (testvectors/realms/%s.refvalues.json):\n%s", r.stdout, ex.name, want)
			}
			// Every member rust-ccatoken's realm entries require, and
			// nothing else; the REMs zero.
			type entry struct {
				RIM     string   `json:"initial-measurement"`
				Hash    string   `json:"hash-algo"`
				RAKHash string   `json:"rak-hash-algorithm"`
				REMs    []string `json:"extensible-measurements"`
				RPV     string   `json:"personalization-value"`
			}
			var rv struct {
				Realm []entry `json:"realm"`
			}
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&rv); err != nil || len(rv.Realm) != 1 {
				t.Fatalf("reference values: %v %+v", err, rv)
			}
			e := rv.Realm[0]
			zero := strings.Repeat("0", len(ex.rim))
			if e.RIM != ex.rim || len(e.RPV) != 128 || e.RAKHash != "sha-256" || !slices.Equal(e.REMs, []string{zero, zero, zero, zero}) {
				t.Errorf("entry %+v", e)
			}
			if want := map[int]string{64: "sha-256", 128: "sha-512"}[len(ex.rim)]; e.Hash != want {
				t.Errorf("hash-algo %q, want %q", e.Hash, want)
			}

			// -o writes the same, with the flags' RAK hash and REM.
			out := filepath.Join(t.TempDir(), "rv.json")
			rem1 := strings.Repeat("ab", len(ex.rim)/2)
			r2 := ccatoken(t, nil, "measure", "--realm", desc, "-o", out, "--rak-hash-algo", "sha-512", "--rem", "1="+rem1)
			r2.check(t, exitOK)
			if !strings.HasSuffix(r2.stdout, "wrote reference values to "+out+"\n") {
				t.Errorf("no 'wrote' line:\n%s", r2.stdout)
			}
			var w struct {
				Realm []entry `json:"realm"`
			}
			if err := json.Unmarshal(readFileT(t, out), &w); err != nil || len(w.Realm) != 1 {
				t.Fatalf("-o wrote: %v %+v", err, w)
			}
			e.RAKHash, e.REMs[1] = "sha-512", rem1
			if !reflect.DeepEqual(w.Realm[0], e) {
				t.Errorf("-o entry %+v, want %+v", w.Realm[0], e)
			}
			if _, err := verifier.ParseReferenceValues(readFileT(t, out)); err != nil {
				t.Errorf("the verifier does not read what -o wrote: %v", err)
			}

			r = ccatoken(t, nil, "measure", "--realm", desc, "-O", "plan")
			r.check(t, exitOK)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if !strings.HasPrefix(lines[0], "0 REALM_CREATE ") || !strings.HasSuffix(lines[len(lines)-1], " rim="+ex.rim) {
				t.Errorf("plan output: first %q last %q", lines[0], lines[len(lines)-1])
			}
		})
	}
}

// TestMeasureStdin: "-" reads the description from standard input; image
// files are then relative to the current directory.
func TestMeasureStdin(t *testing.T) {
	desc := `{"realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},
	  "ram": [{"base": "0x0", "size": "0x200000"}],
	  "images": [{"name": "entry", "ipa": "0x1000", "hex": "1f2003d5"}],
	  "recs": [{"pc": "0x1000"}]}`
	r := ccatoken(t, []byte(desc), "measure", "--realm", "-", "--output", "json")
	r.check(t, exitOK)
	if !strings.Contains(r.stdout, `"initial-measurement": "`) {
		t.Errorf("output:\n%s", r.stdout)
	}
	r = ccatoken(t, []byte(strings.Replace(desc, `"hex": "1f2003d5"`, `"file": "no-such-image.bin"`, 1)), "measure", "--realm", "-")
	r.check(t, exitUsage, "--realm -", "images[0].file", "no-such-image.bin")
}

func TestMeasureErrors(t *testing.T) {
	small := examplePath("small", ".json")
	bad := writeTemp(t, "bad.json", []byte(strings.Replace(string(readFileT(t, small)), `"s2sz": 40`, `"s2sz": 40, "ipa_bits": 40`, 1)))
	outside := writeTemp(t, "outside.json", []byte(strings.Replace(string(readFileT(t, small)), `"0x8fe00000", "file"`, `"0x90000000", "file"`, 1)))
	noImage := writeTemp(t, "noimage.json", readFileT(t, small)) // small.dtb is not beside it
	// A size that would allocate a terabyte, in a realm large enough to
	// place it: a clear error, not an out-of-memory crash.
	huge := writeTemp(t, "huge.json", []byte(`{"realm": {"s2sz": 48, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},
	  "ram": [{"base": "0x0", "size": "0x400000000000"}],
	  "images": [{"name": "kernel", "ipa": "0x0", "fill": "00", "size": "0xffffffffff"}],
	  "recs": [{"pc": "0x0"}]}`))
	// Image files: a device, and a (sparse) file over the limit, each
	// refused before it is read.
	fileImage := func(name, file string) string {
		return writeTemp(t, name, []byte(`{"realm": {"s2sz": 40, "hash_algo": "sha-256", "num_bps": 1, "num_wps": 1},
	  "ram": [{"base": "0x0", "size": "0x80000000"}],
	  "images": [{"name": "kernel", "ipa": "0x0", "file": "`+file+`"}],
	  "recs": [{"pc": "0x0"}]}`))
	}
	sparse := filepath.Join(t.TempDir(), "sparse.img")
	if err := os.WriteFile(sparse, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sparse, realmbuild.MaxImagesSize+1); err != nil {
		t.Fatal(err)
	}
	device, tooBig := fileImage("device.json", "/dev/zero"), fileImage("big.json", sparse)
	for _, c := range []struct {
		name  string
		args  []string
		cause []string
	}{
		{"no --realm", []string{"measure"}, []string{`required flag(s) "realm" not set`}},
		{"argument", []string{"measure", "--realm", small, "extra"}, []string{"unknown command"}},
		{"bad output", []string{"measure", "--realm", small, "--output", "yaml"}, []string{`--output "yaml": want text, json or plan`}},
		{"bad rak hash", []string{"measure", "--realm", small, "--rak-hash-algo", "md5"}, []string{`--rak-hash-algo "md5"`}},
		{"bad REM index", []string{"measure", "--realm", small, "--rem", "4=00"}, []string{`--rem "4=00": want I=HEX with I from 0 to 3`}},
		{"REM without index", []string{"measure", "--realm", small, "--rem", "00"}, []string{`--rem "00"`}},
		{"REM of the wrong size", []string{"measure", "--realm", small, "--rem", "0=abcd"}, []string{`--rem "0=abcd": want 32 bytes of hex (sha-256`}},
		{"REM twice", []string{"measure", "--realm", small, "--rem", "2=" + strings.Repeat("00", 32), "--rem", "2=" + strings.Repeat("11", 32)}, []string{"REM[2] is given twice"}},
		{"missing file", []string{"measure", "--realm", "nope.json"}, []string{"--realm: nope.json: no such file or directory"}},
		{"unknown member", []string{"measure", "--realm", bad}, []string{"realm description", `unknown field "ipa_bits"`}},
		{"image outside RAM", []string{"measure", "--realm", outside}, []string{`images[1]: "dtb"`, "is not inside guest RAM"}},
		{"image file missing", []string{"measure", "--realm", noImage}, []string{"images[1].file", "small.dtb: no such file or directory"}},
		{"image of 40 bits", []string{"measure", "--realm", huge}, []string{`images[0]: "kernel" (0xffffffffff bytes)`, "more than the limit of 0x40000000 (MaxImagesSize)"}},
		{"image file a device", []string{"measure", "--realm", device}, []string{"images[0].file", "/dev/zero is not a regular file"}},
		{"image file too large", []string{"measure", "--realm", tooBig}, []string{"images[0].file", "sparse.img is 1073741825 bytes, more than the limit of 1073741824"}},
		{"unwritable -o", []string{"measure", "--realm", small, "-o", filepath.Join(t.TempDir(), "no", "dir", "rv.json")}, []string{"-o:", "no such file or directory"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := ccatoken(t, nil, c.args...)
			r.check(t, exitUsage, c.cause...)
			if r.stdout != "" {
				t.Errorf("stdout on failure: %q", r.stdout)
			}
		})
	}
	if _, err := os.Stat("nope.json"); err == nil {
		t.Fatal("nope.json exists")
	}
}

// TestMeasureCoRIM: --corim writes the realm's reference values as a CoRIM
// of the CCA realm profile, carrying what -o writes (RIM, RPV, the REMs
// given with --rem), and a token of the emulated machine built from the same
// description verifies against it, read back by --refvals.
func TestMeasureCoRIM(t *testing.T) {
	dir := t.TempDir()
	desc := filepath.Join(vectorDir, "realms", "small.json")
	nonce := strings.Repeat("5a", 64)
	tok, cpak := filepath.Join(dir, "t.cbor"), filepath.Join(dir, "cpak.pem")
	ccatoken(t, nil, "emulate", "--realm", desc, "--format", "tfrmm-main", "--challenge", nonce,
		"-o", tok, "--export-cpak", cpak).check(t, exitOK)
	ev, err := evidence.Decode(readFileT(t, tok))
	if err != nil {
		t.Fatal(err)
	}
	rem0 := hex.EncodeToString(ev.Realm.ExtensibleMeasurements[0]) // the realm's software extends REM 0

	corim, js := filepath.Join(dir, "realm.corim"), filepath.Join(dir, "realm.json")
	r := ccatoken(t, nil, "measure", "--realm", desc, "--rem", "0="+rem0, "--corim", corim, "-o", js)
	r.check(t, exitOK)
	if !strings.Contains(r.stdout, "wrote the reference values as a CoRIM to "+corim+"\n") {
		t.Errorf("text output does not say where the CoRIM went:\n%s", r.stdout)
	}
	e, err := endorsement.Decode(readFileT(t, corim), endorsement.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Profile != endorsement.ProfileRealm || len(e.Realms) != 1 || len(e.Platforms) != 0 || len(e.TrustAnchors) != 0 {
		t.Fatalf("CoRIM %q: %d realms, %d platforms, %d trust anchors", e.Profile, len(e.Realms), len(e.Platforms), len(e.TrustAnchors))
	}
	var rv struct {
		Realm []struct {
			RIM  string   `json:"initial-measurement"`
			Hash string   `json:"hash-algo"`
			REMs []string `json:"extensible-measurements"`
			RPV  string   `json:"personalization-value"`
		} `json:"realm"`
	}
	if err := json.Unmarshal(readFileT(t, js), &rv); err != nil || len(rv.Realm) != 1 {
		t.Fatalf("%v %+v", err, rv)
	}
	got, want := e.Realms[0], rv.Realm[0]
	if hex.EncodeToString(got.RIM) != want.RIM || got.HashAlg != want.Hash || hex.EncodeToString(got.RPV) != want.RPV {
		t.Errorf("CoRIM realm %x %s %x, -o wrote %s %s %s", got.RIM, got.HashAlg, got.RPV, want.RIM, want.Hash, want.RPV)
	}
	for i, m := range got.REMs {
		if hex.EncodeToString(m) != want.REMs[i] {
			t.Errorf("REM %d: CoRIM %x, -o wrote %s", i, m, want.REMs[i])
		}
	}
	if !bytes.Equal(got.RIM, ev.Realm.InitialMeasurement) {
		t.Errorf("CoRIM RIM %x, token RIM %x", got.RIM, ev.Realm.InitialMeasurement)
	}

	// The platform's reference values from the shipped store, the realm's
	// from the CoRIM alone.
	var platformOnly map[string]json.RawMessage
	if err := json.Unmarshal(readFileT(t, filepath.Join(vectorDir, "refvals", "emulator.json")), &platformOnly); err != nil {
		t.Fatal(err)
	}
	delete(platformOnly, "realm")
	plat := writeTemp(t, "platform.json", must(t)(json.Marshal(platformOnly)))
	ccatoken(t, nil, "verify", tok, "--cpak", cpak, "--refvals", plat, "--refvals", corim, "--nonce", nonce).check(t, exitOK)
	// Without the REM the realm reached, REM 0 is a mismatch.
	ccatoken(t, nil, "measure", "--realm", desc, "--corim", corim).check(t, exitOK)
	ccatoken(t, nil, "verify", tok, "--cpak", cpak, "--refvals", plat, "--refvals", corim, "--nonce", nonce).check(t, exitFailed, "realm REM 0")

	ccatoken(t, nil, "measure", "--realm", desc, "--corim", filepath.Join(dir, "no", "such", "dir", "x.corim")).check(t, exitUsage, "--corim")
}
