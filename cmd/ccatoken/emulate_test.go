package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestEmulateThenVerify(t *testing.T) {
	for _, f := range []string{"rel0", "legacy", "cmw", "tfrmm-main"} {
		t.Run(f, func(t *testing.T) {
			dir := t.TempDir()
			tok, cpak := filepath.Join(dir, "t.cbor"), filepath.Join(dir, "cpak.pem")
			nonce := strings.Repeat("5a", 48)
			ccatoken(t, nil, "emulate", "--format", f, "--challenge", nonce, "-o", tok, "--export-cpak", cpak).check(t, exitOK)
			emuRefvals := filepath.Join(vectorDir, rvEmulator)
			r := ccatoken(t, nil, "verify", tok, "--cpak", cpak, "--refvals", emuRefvals, "--nonce", nonce)
			r.check(t, exitOK)
			if !strings.Contains(r.stdout, "result:              TRUSTWORTHY\n") {
				t.Fatalf("verify output:\n%s", r.stdout)
			}
			if f == "tfrmm-main" {
				ins := ccatoken(t, nil, "inspect", tok)
				ins.check(t, exitOK)
				for _, want := range []string{"evidence:  CMW collection, 2023 platform profile, realm 2.0 profile\n", "realm instance id", "MEC policy", "shared (0)"} {
					if !strings.Contains(ins.stdout, want) {
						t.Errorf("inspect lacks %q:\n%s", want, ins.stdout)
					}
				}
			}
			// Another nonce is stale.
			ccatoken(t, nil, "verify", tok, "--cpak", cpak, "--refvals", emuRefvals, "--nonce", strings.Repeat("a5", 48)).check(t, exitFailed, "freshness")
		})
	}
}

func TestEmulateRealmDescriptionAndKeys(t *testing.T) {
	dir := t.TempDir()
	tok, cpak := filepath.Join(dir, "t.cbor"), filepath.Join(dir, "cpak.pem")
	ccatoken(t, nil, "emulate", "--realm", filepath.Join(vectorDir, "realms", "small.json"),
		"--cpak", filepath.Join(vectorDir, "keys", "cpak-p256.pem"), "--rak", filepath.Join(vectorDir, "keys", "rak-p384.pem"),
		"-o", tok, "--export-cpak", cpak).check(t, exitOK)
	ccatoken(t, nil, "verify", tok, "--cpak", filepath.Join(vectorDir, "keys", "cpak-p256.pub.pem"),
		"--allow-missing-nonce-unsafe", "--allow-unknown-platform-unsafe", "--allow-unknown-realm-unsafe").check(t, exitOK)
	// The token's RIM is what measure predicts for the same description.
	m := ccatoken(t, nil, "measure", "--realm", filepath.Join(vectorDir, "realms", "small.json"))
	m.check(t, exitOK)
	ins := ccatoken(t, nil, "inspect", tok)
	ins.check(t, exitOK)
	var rim string
	for _, line := range strings.Split(ins.stdout, "\n") {
		if strings.Contains(line, "initial measurement (RIM)") {
			rim = strings.Fields(line)[len(strings.Fields(line))-1]
		}
	}
	if rim == "" || !strings.Contains(m.stdout, rim) {
		t.Fatalf("token RIM %q is not in measure's output:\n%s", rim, m.stdout)
	}
}

func TestEmulateErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "t.cbor")
	for _, tc := range []struct {
		name  string
		args  []string
		cause string
	}{
		{"format", []string{"--format", "cbor", "-o", out}, "format"},
		{"challenge short", []string{"--challenge", "0011", "-o", out}, "nonce"},
		{"challenge hex", []string{"--challenge", "zz", "-o", out}, ""},
		{"rak not P-384", []string{"--rak", filepath.Join(vectorDir, "keys", "cpak-p256.pem"), "-o", out}, "P-384"},
		{"cpak missing", []string{"--cpak", filepath.Join(dir, "nope.pem"), "-o", out}, "nope.pem"},
		{"realm missing", []string{"--realm", filepath.Join(dir, "nope.json"), "-o", out}, "nope.json"},
		{"args", []string{"extra"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			causes := []string{}
			if tc.cause != "" {
				causes = append(causes, tc.cause)
			}
			ccatoken(t, nil, append([]string{"emulate"}, tc.args...)...).check(t, exitUsage, causes...)
		})
	}
}

func TestDemo(t *testing.T) {
	r := ccatoken(t, nil, "demo")
	r.check(t, exitOK)
	for _, want := range []string{"RMI_REALM_CREATE", "RSI_ATTESTATION_TOKEN_INIT", "✓ initial measurement", "✓ REM 0", "TRUSTWORTHY",
		"refused by the granule protection check", "Result: the token is genuine"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestEmulateKeysFromStdin: a key given as - is read from standard input
// (docs/cli.md: KEY is a file or -), not a nil-reader crash; two - are
// refused.
func TestEmulateKeysFromStdin(t *testing.T) {
	dir := t.TempDir()
	out, pub := filepath.Join(dir, "t.cbor"), filepath.Join(dir, "cpak.pem")
	ccatoken(t, readFileT(t, cpakPriv), "emulate", "--cpak", "-", "-o", out, "--export-cpak", pub).check(t, exitOK)
	if got, want := readFileT(t, pub), readFileT(t, cpakPub); !bytes.Equal(got, want) {
		t.Errorf("exported CPAK is not the one given on standard input:\n%s\nwant\n%s", got, want)
	}
	ccatoken(t, readFileT(t, rakPriv), "emulate", "--rak", "-", "-o", out).check(t, exitOK)
	ccatoken(t, nil, "emulate", "--cpak", "-", "--rak", "-", "-o", out).check(t, exitUsage, "only one of --cpak and --rak")
}

// TestEmulateRealmErrorNamesFile: an invalid realm description is named in
// the error, as measure names it.
func TestEmulateRealmErrorNamesFile(t *testing.T) {
	desc := writeTemp(t, "norecs.json", []byte(strings.Replace(string(readFileT(t, filepath.Join(vectorDir, "realms", "small.json"))),
		`"recs": [`, `"recs": [], "unused": [`, 1)))
	ccatoken(t, nil, "emulate", "--realm", desc, "-o", filepath.Join(t.TempDir(), "t.cbor")).
		check(t, exitUsage, "--realm "+desc+": ")
}

// TestEmulateOutFlag: -o is --out, as in create and measure (where
// --output is the output form); --output FILE is still accepted, and the
// two together are refused.
func TestEmulateOutFlag(t *testing.T) {
	dir := t.TempDir()
	for _, flag := range []string{"--out", "-o", "--output"} {
		out := filepath.Join(dir, strings.TrimLeft(flag, "-")+".cbor")
		r := ccatoken(t, nil, "emulate", flag, out)
		r.check(t, exitOK)
		if len(readFileT(t, out)) == 0 {
			t.Errorf("emulate %s wrote nothing", flag)
		}
	}
	ccatoken(t, nil, "emulate", "--out", filepath.Join(dir, "a"), "--output", filepath.Join(dir, "b")).check(t, exitUsage, "out", "output")
	if help := ccatoken(t, nil, "emulate", "--help").stdout; !strings.Contains(help, "-o, --out FILE") || strings.Contains(help, "--output") {
		t.Errorf("emulate --help does not show -o, --out FILE alone:\n%s", help)
	}
}
