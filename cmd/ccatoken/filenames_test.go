package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// hostileName is a file name that would print a line of its own, clear the
// screen and reverse what follows if it reached a terminal as it is.
const hostileName = "t\x1b[2J\nresult: TRUSTWORTHY\u202e"

// escapedHostile is hostileName as textsafe.Escape writes it.
const escapedHostile = `t\x1b[2J\nresult: TRUSTWORTHY\u202e`

// unprintable reports the first rune of s that a terminal would act on.
func unprintable(s string) (rune, bool) {
	for _, r := range s {
		if r != '\n' && r != ' ' && !unicode.IsPrint(r) {
			return r, true
		}
	}
	return 0, false
}

// TestHostileFileNames: file names are attacker-controlled too (a name
// taken from an archive, an image name in a realm description). Every
// message that names one, on standard error or standard output, escapes
// it.
func TestHostileFileNames(t *testing.T) {
	dir := t.TempDir()
	hostile := filepath.Join(dir, hostileName)
	garbage := hostile + ".txt"
	if err := os.WriteFile(garbage, []byte("not a key, a store or a description\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	realmDesc := filepath.Join(dir, "realm.json")
	desc := strings.Replace(string(readFileT(t, filepath.Join(vectorDir, "realms", "small.json"))),
		`"small.dtb"`, `"dtb\u001b[2J\n\u202e.bin"`, 1)
	if err := os.WriteFile(realmDesc, []byte(desc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		want  int
		cause string
	}{
		{"inspect missing", []string{"inspect", hostile}, exitUsage, escapedHostile},
		{"verify --cpak", []string{"verify", rel0Vector, "--cpak", garbage}, exitUsage, escapedHostile},
		{"verify --trust-anchors", []string{"verify", rel0Vector, "--trust-anchors", garbage}, exitUsage, escapedHostile},
		{"verify --refvals", []string{"verify", rel0Vector, "--cpak", cpakPub, "--refvals", garbage}, exitUsage, escapedHostile},
		{"verify --ear-key", []string{"verify", rel0Vector, "--cpak", cpakPub, "-O", "ear-jwt", "--ear-key", garbage}, exitUsage, escapedHostile},
		{"create --claims", []string{"create", "--claims", garbage, "--iak", cpakPriv, "--rak", rakPriv, "--hex"}, exitUsage, escapedHostile},
		{"create --iak", []string{"create", "--claims", rel0Claims, "--iak", garbage, "--rak", rakPriv, "--hex"}, exitUsage, escapedHostile},
		{"create -o", []string{"create", "--claims", rel0Claims, "--iak", cpakPriv, "--rak", rakPriv, "-o", filepath.Join(hostile, "x")}, exitUsage, escapedHostile},
		{"measure --realm", []string{"measure", "--realm", garbage}, exitUsage, escapedHostile},
		// realmbuild's message quotes the name as it is: the last defence
		// escapes it (its line break is flattened like any other).
		{"measure image file", []string{"measure", "--realm", realmDesc}, exitUsage, `dtb\x1b[2J ; \u202e.bin`},
		{"emulate --rak", []string{"emulate", "--rak", garbage, "-o", filepath.Join(dir, "e.cbor")}, exitUsage, escapedHostile},
		{"emulate --export-cpak", []string{"emulate", "-o", filepath.Join(dir, "e.cbor"), "--export-cpak", filepath.Join(hostile, "x")}, exitUsage, escapedHostile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ccatoken(t, nil, tc.args...)
			r.check(t, tc.want, tc.cause)
			if c, bad := unprintable(r.stderr); bad {
				t.Errorf("stderr carries %U: %q", c, r.stderr)
			}
		})
	}

	// Standard output names the files written.
	out := hostile + ".cbor"
	for _, args := range [][]string{
		{"create", "--claims", rel0Claims, "--iak", cpakPriv, "--rak", rakPriv, "-o", out},
		{"measure", "--realm", filepath.Join(vectorDir, "realms", "small.json"), "-o", hostile + ".json", "--corim", hostile + ".corim"},
		{"emulate", "-o", out},
	} {
		t.Run(args[0]+" output", func(t *testing.T) {
			r := ccatoken(t, nil, args...)
			r.check(t, exitOK)
			if !strings.Contains(r.stdout, escapedHostile) {
				t.Errorf("stdout does not name the file escaped:\n%s", r.stdout)
			}
			if c, bad := unprintable(r.stdout); bad {
				t.Errorf("stdout carries %U: %q", c, r.stdout)
			}
			if strings.Contains(r.stdout, "\nresult: TRUSTWORTHY") {
				t.Errorf("a file name printed a line of its own:\n%s", r.stdout)
			}
		})
	}
	// measure's text output names the description.
	desc2 := hostile + ".json"
	if err := os.WriteFile(desc2, readFileT(t, filepath.Join(vectorDir, "realms", "small.json")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "small.dtb"), readFileT(t, filepath.Join(vectorDir, "realms", "small.dtb")), 0o644); err != nil {
		t.Fatal(err)
	}
	r := ccatoken(t, nil, "measure", "--realm", desc2)
	r.check(t, exitOK)
	if !strings.Contains(r.stdout, "realm:                 "+filepath.Join(dir, escapedHostile)+".json\n") {
		t.Errorf("measure does not name the description escaped:\n%s", r.stdout)
	}
}
