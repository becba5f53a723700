package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// TestExitStatus runs a table of failures through every command and checks
// the exit status (1 the evidence failed, 2 usage or unreadable input) and
// that the one stderr line names the cause.
func TestExitStatus(t *testing.T) {
	raw := readFileT(t, rel0Vector)
	dir := t.TempDir()
	tmp := func(name string, data []byte) string {
		t.Helper()
		return writeTemp(t, name, data)
	}
	truncated := tmp("truncated.cbor", raw[:len(raw)-40])
	garbageText := tmp("garbage.txt", []byte("hello, world!\n"))
	garbageBin := tmp("garbage.bin", []byte{0x00, 0xff, 0x13, 0x37, 0x00})
	empty := tmp("empty.cbor", nil)
	badRealmSig := append([]byte(nil), raw...)
	badRealmSig[len(badRealmSig)-1] ^= 0x01
	badRealmSigFile := tmp("badsig.cbor", badRealmSig)
	unbound := tmp("unbound.cbor", resign(t, raw, func(p *platform.Claims, _ *realm.Claims) {
		p.Challenge = bytes.Repeat([]byte{0x42}, 32)
	}))
	invalid := tmp("invalid.cbor", resign(t, raw, func(p *platform.Claims, _ *realm.Claims) {
		p.Lifecycle = 0x9999
	}))
	otherKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	otherPEM, _ := token.MarshalPublicPEM(&otherKey.PublicKey)
	otherCPAK := tmp("other.pub.pem", otherPEM)
	notKey := tmp("notkey.pem", []byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"))
	textKey := tmp("text.key", []byte("this is not a key\n"))

	claims := string(readFileT(t, rel0Claims))
	badJSON := tmp("bad.json", []byte(claims[:200]))
	unknownMember := tmp("unknown.json", []byte(strings.Replace(claims, `"cca-platform-config"`, `"cca-platform-configuration"`, 1)))
	unknownTop := tmp("unknowntop.json", []byte(strings.Replace(claims, `"cca-platform-token"`, `"cca-platform-tokens"`, 1)))
	invalidClaims := tmp("invalid.json", []byte(strings.Replace(claims, `"cca-platform-lifecycle": 12291`, `"cca-platform-lifecycle": 39321`, 1)))
	shortRIM := tmp("shortrim.json", []byte(strings.Replace(claims, `"cca-realm-hash-algo-id": "sha-256"`, `"cca-realm-hash-algo-id": "sha-512"`, 1)))
	noRealm := tmp("norealm.json", []byte(`{"cca-platform-token": {}}`))
	unknownProfile := tmp("unknownprofile.json", []byte(strings.Replace(claims, "tag:arm.com,2023:cca_platform#1.0.0", "tag:example.com,2025:platform#9", 1)))

	create := func(args ...string) []string {
		return append([]string{"create", "--iak", cpakPriv, "--rak", rakPriv, "-o", dir + "/out.cbor"}, args...)
	}
	verify := func(token string, args ...string) []string {
		return append([]string{"verify", token, "--cpak", cpakPub, "--refvals", createdRefvals}, args...)
	}
	nonce64 := rel0Nonce
	cases := []struct {
		name  string
		args  []string
		stdin string
		code  int
		cause []string
	}{
		// Usage.
		{"unknown command", []string{"frobnicate"}, "", 2, []string{`unknown command "frobnicate"`}},
		{"unknown flag", []string{"inspect", "--frob", rel0Vector}, "", 2, []string{"unknown flag: --frob"}},
		{"inspect without TOKEN", []string{"inspect"}, "", 2, []string{"accepts 1 arg"}},
		{"inspect two TOKENs", []string{"inspect", rel0Vector, rel0Vector}, "", 2, []string{"accepts 1 arg"}},
		{"inspect bad --output", []string{"inspect", "-O", "yaml", rel0Vector}, "", 2, []string{"--output", "yaml"}},
		{"verify without --cpak", []string{"verify", rel0Vector}, "", 2, []string{"[cpak trust-anchors]", "required"}},
		{"verify with --cpak and --trust-anchors", []string{"verify", rel0Vector, "--cpak", cpakPub, "--trust-anchors", cpakPub}, "", 2, []string{"[cpak trust-anchors]"}},
		{"create without --claims", []string{"create", "--iak", cpakPriv, "--rak", rakPriv}, "", 2, []string{`"claims" not set`}},
		{"create with an argument", append(create("--claims", rel0Claims), "extra"), "", 2, []string{"unknown command"}},

		// Unreadable input.
		{"missing file", []string{"inspect", dir + "/nothere.cbor"}, "", 2, []string{"nothere.cbor", "no such file"}},
		{"directory as TOKEN", []string{"inspect", dir}, "", 2, []string{"token", "directory"}},
		{"--cpak without value", verify(rel0Vector)[:3:3], "", 2, []string{"needs an argument", "cpak"}},
		{"missing --cpak file", []string{"verify", rel0Vector, "--cpak", dir + "/none.pem"}, "", 2, []string{"--cpak", "none.pem", "no such file"}},
		{"--cpak is not a key (PEM)", []string{"verify", rel0Vector, "--cpak", notKey}, "", 2, []string{"--cpak", "invalid key"}},
		{"--cpak is not a key (text)", []string{"verify", rel0Vector, "--cpak", textKey}, "", 2, []string{"--cpak", "not a PEM or JWK"}},
		{"--cpak is the claims JSON", []string{"verify", rel0Vector, "--cpak", rel0Claims}, "", 2, []string{"--cpak", "JWK"}},
		{"TOKEN and --cpak both stdin", []string{"verify", "-", "--cpak", "-"}, "", 2, []string{"standard input"}},
		{"bad nonce hex", verify(rel0Vector, "--nonce", "xyz"), "", 2, []string{"--nonce", "not hex"}},
		{"odd nonce hex", verify(rel0Vector, "--nonce", nonce64[:63]), "", 2, []string{"--nonce", "not hex"}},
		{"nonce too short", verify(rel0Vector, "--nonce", nonce64[:62]), "", 2, []string{"--nonce", "31 bytes", "32 to 64"}},
		{"nonce too long", verify(rel0Vector, "--nonce", nonce64+"00"), "", 2, []string{"--nonce", "65 bytes"}},
		{"--iak is a public key", create("--claims", rel0Claims, "--iak", cpakPub), "", 2, []string{"--iak", "public key", "private key is needed"}},
		{"--rak is a public JWK", create("--claims", rel0Claims, "--rak", cpakJWK), "", 2, []string{"--rak", "public key"}},
		{"--rak is not a key", create("--claims", rel0Claims, "--rak", textKey), "", 2, []string{"--rak", "invalid key"}},
		{"claims not JSON", create("--claims", badJSON), "", 2, []string{"--claims", "not valid JSON"}},
		{"claims unknown member", create("--claims", unknownMember), "", 2, []string{"--claims", `unknown field "cca-platform-configuration"`}},
		{"claims unknown top-level member", create("--claims", unknownTop), "", 2, []string{"--claims", `unknown field "cca-platform-tokens"`}},
		{"claims without realm token", create("--claims", noRealm), "", 2, []string{"cca-realm-delegated-token"}},
		{"missing claims file", create("--claims", dir+"/none.json"), "", 2, []string{"--claims", "none.json"}},
		{"unknown --format", create("--claims", rel0Claims, "--format", "eat"), "", 2, []string{"--format", `"eat"`}},
		{"--format contradicts the profile", create("--claims", rel0Claims, "--format", "legacy"), "", 2, []string{"--format legacy", "conflicts", "cca_platform#1.0.0"}},
		{"--format contradicts the legacy profile", create("--claims", legacyClaims, "--format", "cmw"), "", 2, []string{"--format cmw", "conflicts", "CCA-SSD"}},
		{"two inputs on stdin", []string{"create", "--claims", "-", "--iak", "-", "--rak", rakPriv}, "", 2, []string{"standard input"}},

		// The evidence (or the claims) failed.
		{"garbage text", []string{"inspect", garbageText}, "", 1, []string{"neither raw CBOR", "hex nor base64"}},
		{"garbage binary", []string{"inspect", garbageBin}, "", 1, []string{"malformed", "tag"}},
		{"empty file", []string{"inspect", empty}, "", 1, []string{"empty input"}},
		{"empty stdin", []string{"inspect", "-"}, "", 1, []string{"empty input"}},
		{"truncated token (inspect)", []string{"inspect", truncated}, "", 1, []string{"malformed"}},
		{"truncated token (verify)", verify(truncated), "", 1, []string{"decode", "malformed"}},
		{"truncated token (diag)", []string{"inspect", "-O", "diag", truncated}, "", 1, []string{"malformed"}},
		{"invalid claims (inspect)", []string{"inspect", invalid}, "", 1, []string{"invalid evidence", "2395", "0x9999"}},
		{"invalid claims (json)", []string{"inspect", "-O", "json", invalid}, "", 1, []string{"invalid evidence", "0x9999"}},
		{"invalid claims (verify)", verify(invalid), "", 1, []string{"claims", "0x9999"}},
		{"wrong key", []string{"verify", rel0Vector, "--cpak", otherCPAK}, "", 1, []string{"platform signature", "signature verification failed"}},
		{"wrong curve", []string{"verify", rel0Vector, "--cpak", cpak256Pub}, "", 1, []string{"platform signature", "ES384", "ES256"}},
		{"bad realm signature", verify(badRealmSigFile), "", 1, []string{"realm signature", "signature verification failed"}},
		{"bad binding", verify(unbound), "", 1, []string{"binding", "mismatch"}},
		{"wrong nonce", verify(rel0Vector, "--nonce", strings.Repeat("ab", 32)), "", 1, []string{"freshness", "nonce mismatch"}},
		{"invalid claims in JSON", create("--claims", invalidClaims), "", 1, []string{"cannot create", "lifecycle", "0x9999"}},
		{"RIM size does not match hash", create("--claims", shortRIM), "", 1, []string{"cannot create", "44238"}},
		{"unknown profile in claims", create("--claims", unknownProfile), "", 1, []string{"profile", "tag:example.com,2025:platform#9"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ccatoken(t, []byte(c.stdin), c.args...).check(t, c.code, c.cause...)
		})
	}
}

// TestSuccessIsQuiet checks status 0 with nothing on stderr for each
// command's plain use.
func TestSuccessIsQuiet(t *testing.T) {
	for _, args := range [][]string{
		{"inspect", rel0Vector},
		{"verify", rel0Vector, "--cpak", cpakPub, "--refvals", createdRefvals, "--nonce", rel0Nonce},
		{"create", "--claims", rel0Claims, "--iak", cpakPriv, "--rak", rakPriv, "--hex"},
		{"--help"},
		{"inspect", "--help"},
		{"--version"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := ccatoken(t, nil, args...)
			r.check(t, exitOK)
			if r.stdout == "" {
				t.Errorf("no output")
			}
		})
	}
}

// TestHelpHasExamples checks that each command's help shows its examples
// and the exit statuses.
func TestHelpHasExamples(t *testing.T) {
	for _, cmd := range []string{"inspect", "create", "verify"} {
		r := ccatoken(t, nil, cmd, "--help")
		r.check(t, exitOK)
		for _, want := range []string{"Examples:", "ccatoken " + cmd, "Exit status"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s --help lacks %q", cmd, want)
			}
		}
	}
}

// TestPanicIsOneLine checks the last-resort recover: a panic anywhere is an
// internal error on one line and exit 2, not a stack trace.
func TestPanicIsOneLine(t *testing.T) {
	var errb bytes.Buffer
	code := run([]string{"inspect", rel0Vector}, nil, panicWriter{}, &errb)
	r := result{code, "", errb.String()}
	r.check(t, exitUsage, "internal error", "boom")
}

func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{token.ErrSignature, 1},
		{token.ErrMalformed, 1},
		{token.ErrKey, 2},
		{usageError(token.ErrSignature), 2},
		{evidenceError(token.ErrKey), 1},
		{bytes.ErrTooLarge, 2},
	} {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

// TestDocs keeps docs/cli.md in step with the commands: every flag is
// documented, and the verify example is what verify prints.
func TestDocs(t *testing.T) {
	doc := string(readFileT(t, "../../docs/cli.md"))
	for _, cmd := range newRootCmd().Commands() {
		if !strings.Contains(doc, "## "+cmd.Name()) {
			t.Errorf("docs/cli.md has no section for %s", cmd.Name())
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Name != "help" && !strings.Contains(doc, "--"+f.Name) {
				t.Errorf("docs/cli.md does not document %s --%s", cmd.Name(), f.Name)
			}
		})
	}
	r := ccatoken(t, nil, "verify", rel0Vector, "--cpak", cpakPub, "--nonce", rel0Nonce)
	if !strings.Contains(doc, strings.ReplaceAll(r.stdout, vectorDir, "testvectors")) {
		t.Errorf("docs/cli.md's verify example is not what verify prints:\n%s", r.stdout)
	}
}

// TestHelpCommand: help COMMAND is COMMAND --help; an unknown topic is a
// usage error (exit 2), as an unknown command is, not "Unknown help topic"
// with status 0.
func TestHelpCommand(t *testing.T) {
	r := ccatoken(t, nil, "help", "verify")
	r.check(t, exitOK)
	if want := ccatoken(t, nil, "verify", "--help").stdout; r.stdout != want {
		t.Errorf("help verify is not verify --help:\n%s", r.stdout)
	}
	ccatoken(t, nil, "help", "bench", "sharing").check(t, exitOK)
	ccatoken(t, nil, "help").check(t, exitOK)
	ccatoken(t, nil, "help", "verfy").check(t, exitUsage, `unknown command "verfy"`)
	ccatoken(t, nil, "help", "bench", "nope").check(t, exitUsage, `unknown command "bench nope"`)
}

// TestFlagPlaceholders: every flag that takes a value shows what it takes
// (KEY, FILE, N, ...) in the help, as docs/cli.md writes it, never a Go
// type name ("string", "stringArray", "int").
func TestFlagPlaceholders(t *testing.T) {
	goTypes := map[string]bool{"string": true, "strings": true, "stringArray": true, "int": true, "int64": true, "duration": true, "uint": true}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Value.Type() == "bool" {
				return
			}
			if name, _ := pflag.UnquoteUsage(f); goTypes[name] {
				t.Errorf("%s --%s shows %q in its help, not what it takes", c.CommandPath(), f.Name, name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd())
}
