package testvectors

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testvectors/ from its inputs (then check it)")

// dir is the repository's test-vector directory.
const dir = "../../testvectors"

// The set of dir, made once for the tests that only read it.
var (
	shippedOnce sync.Once
	shipped     *Set
	shippedErr  error
)

func shippedSet(t *testing.T) *Set {
	t.Helper()
	shippedOnce.Do(func() { shipped, shippedErr = Generate(dir, *update) })
	if shippedErr != nil {
		t.Fatal(shippedErr)
	}
	return shipped
}

// TestUpToDate: testvectors/ is what its inputs give (with -update: after
// writing what changed). This is the check CI runs.
func TestUpToDate(t *testing.T) {
	s := shippedSet(t)
	if *update {
		n, err := s.Write()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d vectors, %d files, %d written", dir, len(s.manifest.Vectors), len(s.files), n)
	}
	diffs := s.Check()
	for _, d := range diffs {
		t.Error(d)
	}
	if len(diffs) > 0 {
		t.Logf("%d difference(s); 'go test ./internal/testvectors -update' regenerates testvectors/ (review the diff)", len(diffs))
	}
}

// TestManifestCovers: the set covers what it is meant to, and each
// recorded verdict is consistent.
func TestManifestCovers(t *testing.T) {
	m, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Vectors) < 20 {
		t.Fatalf("only %d vectors", len(m.Vectors))
	}
	sources, formats, failures := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, v := range m.Vectors {
		sources[v.Source] = true
		formats[v.Format+" "+v.PlatformAlg] = true
		if len(v.Verify) == 0 {
			t.Errorf("%s: no verification", v.Name)
		}
		for _, run := range v.Verify {
			for _, f := range run.Failed {
				failures[f] = true
			}
			if (run.Exit == ExitTrustworthy) != run.Trustworthy || run.Trustworthy != (len(run.Failed) == 0) {
				t.Errorf("%s: inconsistent verdict: %+v", v.Name, run)
			}
			if _, err := Policy(run.Policy); err != nil {
				t.Errorf("%s: %v", v.Name, err)
			}
		}
	}
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
	// Today's producers' shapes, and the shapes that are refused.
	for _, f := range []string{"tfrmm-main ES384", "legacy-cmw ES384", "bare ES384", "draft ES384"} {
		if !formats[f] {
			t.Errorf("no %s vector", f)
		}
	}
	corim := false
	for _, v := range m.Vectors {
		for _, run := range v.Verify {
			corim = corim || strings.HasSuffix(run.TrustAnchors, ".corim") && len(run.AlsoRefvals) > 0 && run.Trustworthy
		}
	}
	if !corim {
		t.Error("no vector is trustworthy from CoRIM stores alone")
	}
	for _, f := range []string{"platform signature", "realm signature", "realm binding", "realm freshness", "platform lifecycle",
		"realm initial measurement", "realm profile coherence", "platform decode", "platform claims", "platform trust anchor",
		"platform implementation id", "realm REM 0", "realm claims", "realm MEC policy"} {
		if !failures[f] {
			t.Errorf("no vector fails %q", f)
		}
	}
}

// TestREADME keeps the README's tables in step with the vectors.
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range CreatedVectors {
		for _, s := range []string{v.File, v.Claims, v.CPAK + ".pub.pem", v.Nonce} {
			if !bytes.Contains(readme, []byte(s)) {
				t.Errorf("README.md does not mention %s (vector %s)", s, v.File)
			}
		}
	}
	m, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range m.Vectors {
		if !bytes.Contains(readme, []byte("`"+v.File+"`")) {
			t.Errorf("README.md does not mention %s", v.File)
		}
	}
}

// copyVectors copies testvectors/ to a temporary directory.
func copyVectors(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "testvectors")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
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

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCheckTampered: Check reports, one line each, a re-signed emulated
// token, an emulated token with other claims, a changed deterministic
// token, a changed store and a changed verdict.
func TestCheckTampered(t *testing.T) {
	if *update {
		t.Skip("-update rewrites testvectors/")
	}
	t.Parallel()
	cp := copyVectors(t)
	tamper := func(name string, f func([]byte) []byte) {
		p := filepath.Join(cp, filepath.FromSlash(name))
		if err := os.WriteFile(p, f(readFile(t, p)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The realm signature of an emulated token: its claims are unchanged,
	// its verdict is not.
	tamper("emulated/rel0-es384.cbor", flipLastBit)
	// Another emulated token in place of one: other claims.
	tamper("emulated/legacy-es256.cbor", func([]byte) []byte { return readFile(t, filepath.Join(dir, "emulated", "legacy-es384.cbor")) })
	// A created token made from other claims.
	tamper("bad/wrong-rim.cbor", func([]byte) []byte { return readFile(t, filepath.Join(dir, "rel0-es384.cbor")) })
	tamper(RVCreated, func(b []byte) []byte { return bytes.Replace(b, []byte(`"cfe50000"`), []byte(`"cfe50001"`), 1) })
	tamper(ManifestFile, func(b []byte) []byte { return bytes.Replace(b, []byte(`"exit": 0,`), []byte(`"exit": 1,`), 1) })

	s, err := Generate(cp, false)
	if err != nil {
		t.Fatal(err)
	}
	diffs := s.Check()
	all := strings.Join(diffs, "\n")
	for _, want := range []string{
		"emulated/rel0-es384.cbor: verification 0 (ccatoken verify testvectors/emulated/rel0-es384.cbor",
		"the file on disk gives trustworthy false, exit 1 (recorded: trustworthy true, exit 0); failed checks [\"realm signature\"]",
		"emulated/legacy-es256.cbor: claim cca-platform-instance-id is",
		"bad/wrong-rim.cbor: differs from what its inputs give: claim cca-realm-initial-measurement is",
		"refvals/created.json: differs from what its inputs give",
		"manifest.json: vector rel0-es384: verification 0: regenerating gives trustworthy true, exit 0 (recorded: trustworthy true, exit 1)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("Check does not report %q:\n%s", want, all)
		}
	}
	for _, d := range diffs {
		if strings.Contains(d, "\n") {
			t.Errorf("a difference of more than one line: %q", d)
		}
	}
	if strings.Contains(all, "emulated/rel0-es384.cbor: claim") {
		t.Errorf("a signature change is reported as a claims change:\n%s", all)
	}
}

// TestRegenerate: Write rewrites what is missing and nothing else (the
// emulated tokens' random signatures do not churn), and then Check passes.
func TestRegenerate(t *testing.T) {
	if *update {
		t.Skip("-update rewrites testvectors/")
	}
	t.Parallel()
	cp := copyVectors(t)
	removed := []string{"bad/binding.cbor", "emulated/cmw-es384.cbor", ManifestFile, TAEmulator}
	for _, f := range removed {
		if err := os.Remove(filepath.Join(cp, filepath.FromSlash(f))); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Generate(cp, false)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Write(); err != nil || n != len(removed) {
		t.Fatalf("Write: %d written, %v; want the %d missing files", n, err, len(removed))
	}
	s, err = Generate(cp, false)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := s.Check(); len(diffs) > 0 {
		t.Errorf("after Write, Check reports:\n%s", strings.Join(diffs, "\n"))
	}
	for _, f := range slices.DeleteFunc(removed, func(f string) bool { return strings.HasPrefix(f, "emulated/") }) {
		if !bytes.Equal(readFile(t, filepath.Join(cp, filepath.FromSlash(f))), readFile(t, filepath.Join(dir, filepath.FromSlash(f)))) {
			t.Errorf("%s is not regenerated byte for byte", f)
		}
	}
}

// TestInputs: a directory that is not one, and a missing private key
// without permission to create it, are input errors.
func TestInputs(t *testing.T) {
	if _, err := Generate(filepath.Join(t.TempDir(), "nothere"), false); !errors.Is(err, ErrInput) {
		t.Errorf("a missing directory: %v, want ErrInput", err)
	}
	if _, err := Generate(t.TempDir(), false); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "cpak-p384.pem") {
		t.Errorf("no keys: %v, want ErrInput naming the key", err)
	}
}
