package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ccakit/cca/verifier"
)

func loadManifest(t *testing.T) goldenManifest {
	t.Helper()
	var m goldenManifest
	dec := json.NewDecoder(bytes.NewReader(readFileT(t, filepath.Join(vectorDir, manifestFile))))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s: %v", manifestFile, err)
	}
	return m
}

// manifestPolicy maps the manifest's policy flags to verifier.Policy,
// independently of verify's flag table.
func manifestPolicy(t *testing.T, flags []string) verifier.Policy {
	t.Helper()
	var p verifier.Policy
	for _, f := range flags {
		switch f {
		case "--allow-missing-nonce-unsafe":
			p.AllowMissingNonceUnsafe = true
		case "--allow-non-cca-platform-debug-unsafe":
			p.AllowNonCCAPlatformDebugUnsafe = true
		case "--allow-debug-lifecycle-unsafe":
			p.AllowDebugLifecycleUnsafe = true
		case "--allow-mixed-profiles-unsafe":
			p.AllowMixedProfilesUnsafe = true
		case "--allow-unknown-platform-unsafe":
			p.AllowUnknownPlatformUnsafe = true
		case "--allow-unknown-realm-unsafe":
			p.AllowUnknownRealmUnsafe = true
		case "--require-rems":
			p.RequireREMs = true
		case "--reject-unknown-claims":
			p.RejectUnknownClaims = true
		default:
			t.Fatalf("manifest policy flag %q unknown", f)
		}
	}
	return p
}

// TestGoldenManifest checks every vector's every verification as the
// manifest records it, through the CLI (text and json output) and through
// the verifier library.
func TestGoldenManifest(t *testing.T) {
	m := loadManifest(t)
	if len(m.Vectors) < 20 {
		t.Fatalf("only %d vectors", len(m.Vectors))
	}
	sources, formats, failures := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, v := range m.Vectors {
		sources[v.Source] = true
		formats[v.Format+" "+v.PlatformAlg] = true
		tok := readFileT(t, filepath.Join(vectorDir, filepath.FromSlash(v.File)))
		if len(v.Verify) == 0 {
			t.Errorf("%s: no verification", v.Name)
		}
		for i, run := range v.Verify {
			for _, f := range run.Failed {
				failures[f] = true
			}
			t.Run(v.Name+"/"+itoa(i), func(t *testing.T) {
				if (run.Exit == exitOK) != run.Trustworthy || (run.Exit == exitOK) != (len(run.Failed) == 0) {
					t.Fatalf("inconsistent verdict: %+v", run)
				}
				// The CLI, as the manifest's command says.
				args := run.args(vectorDir, v.File)
				if got := "ccatoken " + strings.Join(args, " "); got != strings.ReplaceAll(run.Command, "testvectors/", vectorDir+"/") {
					t.Errorf("command %q, the manifest says %q", got, run.Command)
				}
				r := ccatoken(t, nil, args...)
				var cause []string
				if len(run.Failed) > 0 {
					cause = []string{"not trustworthy"}
				}
				r.check(t, run.Exit, cause...)
				for _, f := range run.Failed {
					if !strings.Contains(r.stdout, "  - "+f+": ") {
						t.Errorf("text output does not give the reason %q:\n%s", f, r.stdout)
					}
				}
				r = ccatoken(t, nil, append(args, "--output", "json")...)
				r.check(t, run.Exit, cause...)
				var res verifier.Result
				if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
					t.Fatal(err)
				}
				if res.Trustworthy != run.Trustworthy || !slices.Equal(failedChecks(&res), run.Failed) {
					t.Errorf("CLI: trustworthy %v, failed %q; manifest: %v, %q", res.Trustworthy, failedChecks(&res), run.Trustworthy, run.Failed)
				}

				// The library.
				var anchors *verifier.TrustAnchors
				var err error
				if run.CPAK != "" {
					anchors, err = verifier.ParseTrustAnchorKey(readFileT(t, filepath.Join(vectorDir, run.CPAK)))
				} else {
					anchors, err = verifier.ParseTrustAnchors(readFileT(t, filepath.Join(vectorDir, run.TrustAnchors)))
				}
				if err != nil {
					t.Fatal(err)
				}
				opts := []verifier.Option{verifier.WithPolicy(manifestPolicy(t, run.Policy))}
				if run.Refvals != "" {
					rv, err := verifier.ParseReferenceValues(readFileT(t, filepath.Join(vectorDir, run.Refvals)))
					if err != nil {
						t.Fatal(err)
					}
					opts = append(opts, verifier.WithReferenceValues(rv))
				}
				vf, err := verifier.New(anchors, opts...)
				if err != nil {
					t.Fatal(err)
				}
				var nonce []byte
				if run.Nonce != "" {
					if nonce, err = hex.DecodeString(run.Nonce); err != nil {
						t.Fatal(err)
					}
				}
				lib, err := vf.Verify(context.Background(), tok, nonce)
				if err != nil {
					t.Fatal(err)
				}
				if lib.Trustworthy != run.Trustworthy || !slices.Equal(failedChecks(lib), run.Failed) {
					t.Errorf("library: trustworthy %v, failed %q; manifest: %v, %q", lib.Trustworthy, failedChecks(lib), run.Trustworthy, run.Failed)
				}
				ar, err := lib.EAR()
				if err != nil {
					t.Fatal(err)
				}
				for name, want := range run.EAR {
					if a := ar.Submods[name]; a == nil || a.Status == nil || a.Status.String() != want {
						t.Errorf("EAR %s: %v, manifest: %s", name, a, want)
					}
				}
			})
		}
	}
	// The set covers what it is meant to.
	for _, want := range []string{"create", "emulator", "mutation"} {
		if !sources[want] {
			t.Errorf("no vector from %s", want)
		}
	}
	for _, f := range []string{"rel0", "legacy", "cmw"} {
		for _, alg := range []string{"ES256", "ES384"} {
			if !formats[f+" "+alg] {
				t.Errorf("no %s vector with an %s platform key", f, alg)
			}
		}
	}
	for _, f := range []string{"platform signature", "realm signature", "realm binding", "realm freshness", "platform lifecycle",
		"realm initial measurement", "realm profile coherence", "platform decode", "platform claims", "platform trust anchor",
		"platform implementation id", "realm REM 0"} {
		if !failures[f] {
			t.Errorf("no vector fails %q", f)
		}
	}
}

// copyVectors copies testvectors/ to a temporary directory.
func copyVectors(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "testvectors")
	err := filepath.WalkDir(vectorDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(vectorDir, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestGoldenCheck: the committed vectors are what golden makes.
func TestGoldenCheck(t *testing.T) {
	t.Parallel()
	r := ccatoken(t, nil, "golden", "--check", "--dir", vectorDir)
	r.check(t, exitOK)
	if !strings.Contains(r.stdout, "up to date") {
		t.Errorf("stdout: %q", r.stdout)
	}
}

// TestGoldenCheckTampered: --check reports, one line each, a re-signed
// emulated token, an emulated token with other claims, a changed
// deterministic token, a changed store and a changed verdict.
func TestGoldenCheckTampered(t *testing.T) {
	t.Parallel()
	dir := copyVectors(t)
	tamper := func(name string, f func([]byte) []byte) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The realm signature of an emulated token: its claims are unchanged,
	// its verdict is not.
	tamper("emulated/rel0-es384.cbor", flipLastBit)
	// Another emulated token in place of one: other claims.
	tamper("emulated/legacy-es256.cbor", func([]byte) []byte { return readFileT(t, filepath.Join(vectorDir, "emulated", "legacy-es384.cbor")) })
	// A created token made from other claims.
	tamper("bad/wrong-rim.cbor", func([]byte) []byte { return readFileT(t, rel0Vector) })
	tamper(rvCreated, func(b []byte) []byte { return bytes.Replace(b, []byte(`"cfe50000"`), []byte(`"cfe50001"`), 1) })
	tamper(manifestFile, func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"exit": 0,`), []byte(`"exit": 1,`), 1)
	})

	r := ccatoken(t, nil, "golden", "--check", "--dir", dir)
	if r.code != exitFailed {
		t.Fatalf("exit status %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	for _, l := range lines {
		if !strings.HasPrefix(l, "ccatoken: ") {
			t.Errorf("stderr line %q", l)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "difference(s)") || !strings.Contains(last, "'ccatoken golden' regenerates") {
		t.Errorf("no summary line: %q", last)
	}
	for _, want := range []string{
		"golden: emulated/rel0-es384.cbor: verification 0 (ccatoken verify testvectors/emulated/rel0-es384.cbor",
		"the file on disk gives trustworthy false, exit 1 (recorded: trustworthy true, exit 0); failed checks [\"realm signature\"]",
		"golden: emulated/legacy-es256.cbor: claim cca-platform-instance-id is",
		"golden: bad/wrong-rim.cbor: differs from what its inputs give: claim cca-realm-initial-measurement is",
		"golden: refvals/created.json: differs from what its inputs give",
		"golden: manifest.json: vector rel0-es384: verification 0: regenerating gives trustworthy true, exit 0 (recorded: trustworthy true, exit 1)",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "emulated/rel0-es384.cbor: claim") {
		t.Errorf("a signature change is reported as a claims change:\n%s", r.stderr)
	}
}

// TestGoldenRegenerate: golden rewrites what is missing and nothing else
// (the emulated tokens' random signatures do not churn), and then --check
// passes.
func TestGoldenRegenerate(t *testing.T) {
	t.Parallel()
	dir := copyVectors(t)
	for _, f := range []string{"bad/binding.cbor", "emulated/cmw-es384.cbor", manifestFile, taEmulator} {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			t.Fatal(err)
		}
	}
	r := ccatoken(t, nil, "golden", "--dir", dir)
	r.check(t, exitOK)
	if !strings.HasSuffix(r.stdout, " 4 written\n") {
		t.Errorf("regenerating 4 missing files: %q", r.stdout)
	}
	ccatoken(t, nil, "golden", "--check", "--dir", dir).check(t, exitOK)
	for _, f := range []string{"bad/binding.cbor", manifestFile, taEmulator} {
		if !bytes.Equal(readFileT(t, filepath.Join(dir, filepath.FromSlash(f))), readFileT(t, filepath.Join(vectorDir, filepath.FromSlash(f)))) {
			t.Errorf("%s is not regenerated byte for byte", f)
		}
	}
	ccatoken(t, nil, "golden", "--dir", filepath.Join(dir, "nothere")).check(t, exitUsage, "not a directory")
}
