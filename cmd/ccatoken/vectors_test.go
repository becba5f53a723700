package main

// The shipped test vectors (testvectors/) are made and checked by
// internal/testvectors (go test ./internal/testvectors [-update]). The
// tests here run every verification the manifest records through the CLI.
//
//	go test ./cmd/ccatoken -update
//
// rewrites the golden files in testdata/.

import (
	"encoding/json"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/internal/testvectors"
	"github.com/ccakit/cca/internal/textsafe"
	"github.com/ccakit/cca/verifier"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const vectorDir = "../../testvectors"

// vector is one of the created, trustworthy vectors.
type vector struct {
	file, claims, cpak string
	format             evidence.Format
	nonce              string
	anchors            string // its trust-anchor store
}

var vectors = func() []vector {
	var vs []vector
	for _, c := range testvectors.CreatedVectors {
		vs = append(vs, vector{c.File, c.Claims, c.CPAK, c.Format, c.Nonce, c.TrustAnchors()})
	}
	return vs
}()

func (v vector) path() string        { return filepath.Join(vectorDir, v.file) }
func (v vector) cpakPrivate() string { return filepath.Join(vectorDir, "keys", v.cpak+".pem") }
func (v vector) cpakPEM() string     { return filepath.Join(vectorDir, "keys", v.cpak+".pub.pem") }
func (v vector) cpakJWK() string     { return filepath.Join(vectorDir, "keys", v.cpak+".pub.jwk") }

// trustAnchors is the trust-anchor store of the vector's CPAK.
func (v vector) trustAnchors() string { return filepath.Join(vectorDir, v.anchors) }

// Stores of the shipped vectors.
var (
	createdRefvals  = filepath.Join(vectorDir, testvectors.RVCreated)
	rvEmulator      = testvectors.RVEmulator
	rvEmulatorRealm = testvectors.RVEmulatorRealm
	taEmulator      = testvectors.TAEmulator
)

// TestManifestCLI runs every verification the manifest records through the
// CLI, as its command says, in text and JSON output, and compares the
// verdict with the manifest's. (internal/testvectors checks the same
// verdicts through the verifier library.)
func TestManifestCLI(t *testing.T) {
	for _, v := range loadManifest(t).Vectors {
		for i, run := range v.Verify {
			t.Run(v.Name+"/"+itoa(i), func(t *testing.T) {
				args := run.Args(vectorDir, v.File)
				if got := "ccatoken " + strings.Join(args, " "); got != strings.ReplaceAll(run.Command, "testvectors/", vectorDir+"/") {
					t.Errorf("command %q, the manifest says %q", got, run.Command)
				}
				r := ccatoken(t, nil, args...)
				r.stderr = checkWarnings(t, r.stderr, run.Warnings)
				var cause []string
				if len(run.Failed) > 0 {
					cause = []string{"not trustworthy"}
				}
				r.check(t, run.Exit, cause...)
				for _, f := range run.Failed {
					// Check names carry attacker-controlled component
					// types: the text output escapes them.
					if !strings.Contains(r.stdout, "  - "+textsafe.Escape(f)+": ") {
						t.Errorf("text output does not give the reason %q:\n%s", f, r.stdout)
					}
				}
				// No output lets a token's strings drive the terminal.
				if strings.ContainsAny(r.stdout+r.stderr, "\x1b\r\x07") {
					t.Errorf("raw control characters in the output:\n%q\n%q", r.stdout, r.stderr)
				}
				r = ccatoken(t, nil, append(args, "--output", "json")...)
				r.stderr = checkWarnings(t, r.stderr, run.Warnings)
				r.check(t, run.Exit, cause...)
				var res verifier.Result
				if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
					t.Fatal(err)
				}
				if res.Trustworthy != run.Trustworthy || !slices.Equal(testvectors.FailedChecks(&res), run.Failed) {
					t.Errorf("CLI: trustworthy %v, failed %q; manifest: %v, %q", res.Trustworthy, testvectors.FailedChecks(&res), run.Trustworthy, run.Failed)
				}
			})
		}
	}
}

// checkWarnings checks that stderr begins with one warning line for each
// unusable trust-anchor entry the manifest records, naming it, and returns
// the rest of stderr.
func checkWarnings(t *testing.T, stderr string, warnings []string) string {
	t.Helper()
	for _, w := range warnings {
		line, rest, _ := strings.Cut(stderr, "\n")
		file, msg, _ := strings.Cut(w, ": ")
		if !strings.HasPrefix(line, "ccatoken verify: warning: --trust-anchors: ") || !strings.Contains(line, file) || !strings.Contains(line, msg) {
			t.Errorf("stderr %q: no warning %q", stderr, w)
		}
		stderr = rest
	}
	return stderr
}

// manifestVector is a vector of the manifest.
type manifestVector = testvectors.Vector

func loadManifest(t *testing.T) *testvectors.Manifest {
	t.Helper()
	m, err := testvectors.LoadManifest(vectorDir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
