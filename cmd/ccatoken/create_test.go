package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCreateFormats creates evidence of each format from the shipped claims
// and checks that it verifies and is what was asked for.
func TestCreateFormats(t *testing.T) {
	cmwClaims := filepath.Join(vectorDir, "claims", "cmw.json")
	for _, c := range []struct {
		name   string
		claims string
		args   []string
		kind   string // in inspect's first line
		format string
		nonce  string
	}{
		{"rel0 inferred", rel0Claims, nil, "RMM 1.0-REL0", "rel0", rel0Nonce},
		{"rel0 explicit", rel0Claims, []string{"--format", "rel0"}, "RMM 1.0-REL0", "rel0", rel0Nonce},
		{"cmw", rel0Claims, []string{"--format", "cmw"}, "CMW collection (tag 907)", "cmw", rel0Nonce},
		{"cmw sha-512", cmwClaims, []string{"--format", "907"}, "CMW collection (tag 907)", "cmw", vectors[3].nonce},
		{"legacy inferred", legacyClaims, nil, "legacy (RMM 1.0-EAC5)", "legacy", vectors[2].nonce},
		{"legacy explicit (eac5)", legacyClaims, []string{"--format", "eac5"}, "legacy (RMM 1.0-EAC5)", "legacy", vectors[2].nonce},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "token.cbor")
			args := append([]string{"create", "--claims", c.claims, "--iak", cpakPriv, "--rak", rakPriv, "-o", out}, c.args...)
			r := ccatoken(t, nil, args...)
			r.check(t, exitOK)
			if !strings.HasPrefix(r.stdout, "wrote "+c.format+" evidence (") || !strings.Contains(r.stdout, out) {
				t.Errorf("stdout %q", r.stdout)
			}
			r = ccatoken(t, nil, "inspect", out)
			r.check(t, exitOK)
			if !strings.HasPrefix(r.stdout, "evidence:  "+c.kind) {
				t.Errorf("inspect: %s", strings.SplitN(r.stdout, "\n", 2)[0])
			}
			ccatoken(t, nil, "verify", out, "--cpak", cpakPub, "--refvals", createdRefvals, "--nonce", c.nonce).check(t, exitOK)
		})
	}
}

// TestCreateKeyForms signs with every key form create accepts.
func TestCreateKeyForms(t *testing.T) {
	rak := loadSigner(t, rakPriv).(*ecdsa.PrivateKey)
	scalar, err := rak.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string]string{
		"PKCS#8 PEM":  cpakPriv,
		"SEC1 PEM":    rakPriv,
		"private JWK": rakJWKPriv,
		"raw scalar":  writeTemp(t, "rak.bin", scalar),
		"hex scalar":  writeTemp(t, "rak.hex", []byte(hex.EncodeToString(scalar)+"\n")),
	}
	for name, key := range forms {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "token.cbor")
			ccatoken(t, nil, "create", "--claims", rel0Claims, "--iak", key, "--rak", key, "-o", out).check(t, exitOK)
			pub := loadSigner(t, key)
			pubPEM := writeTemp(t, "cpak.pub.pem", mustPEM(t, pub.Public()))
			ccatoken(t, nil, "verify", out, "--cpak", pubPEM, "--refvals", createdRefvals, "--nonce", rel0Nonce).check(t, exitOK)
		})
	}
}

func mustPEM(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// TestCreateOutputs: raw CBOR on stdout, --hex, claims from stdin.
func TestCreateOutputs(t *testing.T) {
	r := ccatoken(t, nil, "create", "--claims", rel0Claims, "--iak", cpakPriv, "--rak", rakPriv)
	r.check(t, exitOK)
	if r.stdout == "" || r.stdout[0] != 0xd9 {
		t.Fatalf("stdout is not raw CBOR evidence")
	}
	ccatoken(t, []byte(r.stdout), "verify", "-", "--cpak", cpakJWK, "--refvals", createdRefvals, "--allow-missing-nonce-unsafe").check(t, exitOK)

	r = ccatoken(t, readFileT(t, rel0Claims), "create", "--claims", "-", "--iak", cpakPriv, "--rak", rakPriv, "--hex")
	r.check(t, exitOK)
	if !strings.HasPrefix(r.stdout, "d9018f") || !strings.HasSuffix(r.stdout, "\n") {
		t.Fatalf("--hex output %.20q", r.stdout)
	}
	ccatoken(t, []byte(r.stdout), "verify", "-", "--cpak", cpakPub, "--refvals", createdRefvals, "--nonce", rel0Nonce).check(t, exitOK)

	out := filepath.Join(t.TempDir(), "token.hex")
	ccatoken(t, nil, "create", "--claims", rel0Claims, "--iak", cpakPriv, "--rak", rakPriv, "--hex", "-o", out).check(t, exitOK)
	ccatoken(t, nil, "inspect", out).check(t, exitOK)

	ccatoken(t, nil, "create", "--claims", rel0Claims, "--iak", cpakPriv, "--rak", rakPriv, "-o", t.TempDir()+"/no/such/dir/x").
		check(t, exitUsage, "-o", "no such file")
}

// TestCreateFromInspectJSON: the format and extra claims of inspect's JSON
// are used; --format overrides the format member; bad extra claims are
// input errors.
func TestCreateFromInspectJSON(t *testing.T) {
	r := ccatoken(t, nil, "inspect", "-O", "json", vectors[3].path())
	r.check(t, exitOK)
	doc := r.stdout
	create := func(stdin string, args ...string) result {
		out := filepath.Join(t.TempDir(), "token.cbor")
		r := ccatoken(t, []byte(stdin), append([]string{"create", "--claims", "-", "--iak", cpakPriv, "--rak", rakPriv, "-o", out}, args...)...)
		if r.code == 0 {
			r.stdout = ccatoken(t, nil, "inspect", out).stdout
		}
		return r
	}
	r = create(doc)
	r.check(t, exitOK)
	if !strings.Contains(r.stdout, "tag 907") {
		t.Errorf("the format member was not used")
	}
	r = create(doc, "--format", "rel0")
	r.check(t, exitOK)
	if !strings.Contains(r.stdout, "tag 399") {
		t.Errorf("--format did not override the format member")
	}
	create(strings.Replace(doc, `"format": "cmw"`, `"format": "legacy"`, 1)).check(t, exitUsage, `"format"`, "conflicts")
	create(strings.Replace(doc, `"format": "cmw"`, `"format": "cbor"`, 1)).check(t, exitUsage, `"format"`, "unknown token format")

	extra := func(member, entries string) string {
		return strings.Replace(doc, `"validation": "ok"`, `"validation": "ok", "`+member+`": [`+entries+`]`, 1)
	}
	create(extra("cca-platform-extra-claims", `{"key": 99999, "cbor": "26"}`)).check(t, exitOK)
	create(extra("cca-platform-extra-claims", `{"key": 2394, "cbor": "01"}`)).check(t, exitUsage, "2394", "cca-platform-client-id")
	create(extra("cca-platform-extra-claims", `{"key": 2396, "cbor": "40"}`)).check(t, exitUsage, "2396", "cca-platform-implementation-id")
	create(extra("cca-realm-extra-claims", `{"key": 44243, "cbor": "01"}`)).check(t, exitUsage, "44243", "cca-realm-mec-policy")
	create(extra("cca-realm-extra-claims", `{"key": 44999, "cbor": "0101"}`)).check(t, exitUsage, "44999", "one well-formed CBOR item")
	create(extra("cca-realm-extra-claims", `{"key": 44999, "cbor": "zz"}`)).check(t, exitUsage, "cbor")
	create(extra("cca-realm-extra-claims", `{"key": 7, "cbor": ""}`)).check(t, exitUsage, "no cbor value")
	create(extra("cca-realm-extra-claims", `{"key": 7, "cbor": "01"}, {"key": 7, "cbor": "02"}`)).check(t, exitUsage, "twice")
}

// ed25519PEM writes a fresh Ed25519 private key as PKCS#8 PEM.
func ed25519PEM(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "ed25519.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// TestCreateRAKNotECDSA: the RAK must be an ECDSA key.
func TestCreateRAKNotECDSA(t *testing.T) {
	key := ed25519PEM(t)
	ccatoken(t, nil, "create", "--claims", rel0Claims, "--iak", cpakPriv, "--rak", key, "--hex").
		check(t, exitUsage, "RAK must be an ECDSA key", "Ed25519")
	// The error names the flag and the file, as every key error does.
	ccatoken(t, nil, "create", "--claims", rel0Claims, "--iak", cpakPriv, "--rak", key, "--hex").
		check(t, exitUsage, "--rak "+key+": invalid key: the RAK must be an ECDSA key, got Ed25519")
}

// TestCreateDeterministic: two identical runs of create write the same
// bytes (RFC 6979 ECDSA), for every format, and the bytes of the vector
// made from the same claims.
func TestCreateDeterministic(t *testing.T) {
	for _, c := range []struct{ format, claims, vector string }{
		{"rel0", rel0Claims, "rel0-es384.cbor"},
		{"cmw", filepath.Join(vectorDir, "claims", "cmw.json"), "cmw-es384.cbor"},
		{"legacy", legacyClaims, "legacy-es384.cbor"},
		{"tfrmm-main", filepath.Join(vectorDir, "claims", "tfrmm-main.json"), "tfrmm-main-es384.cbor"},
	} {
		var outs [2][]byte
		for i := range outs {
			out := filepath.Join(t.TempDir(), "token.cbor")
			ccatoken(t, nil, "create", "--claims", c.claims, "--format", c.format, "--iak", cpakPriv, "--rak", rakPriv, "-o", out).check(t, exitOK)
			outs[i] = readFileT(t, out)
		}
		if !bytes.Equal(outs[0], outs[1]) {
			t.Errorf("%s: two runs differ", c.format)
		}
		// The shipped vector was made the same way, at another time.
		if !bytes.Equal(outs[0], readFileT(t, filepath.Join(vectorDir, c.vector))) {
			t.Errorf("%s: differs from testvectors/%s", c.format, c.vector)
		}
	}
	out := filepath.Join(t.TempDir(), "token.cbor")
	ccatoken(t, nil, "create", "--claims", rel0Claims, "--iak", cpakPriv, "--rak", rakPriv, "-o", out).check(t, exitOK)
	ccatoken(t, nil, "verify", out, "--cpak", cpakPub, "--refvals", createdRefvals, "--nonce", rel0Nonce).check(t, exitOK)
}

// TestKeysThatParseButCannotBeUsed: a key file that parses but cannot be
// used is a usage error naming the flag and the file (exit 2), never a
// crash nor a failure blamed on the evidence. An Ed25519 JWK whose "x" is
// not 32 bytes crashed crypto/ed25519 during verification.
func TestKeysThatParseButCannotBeUsed(t *testing.T) {
	edPEM := ed25519PEM(t)
	edToken := filepath.Join(t.TempDir(), "ed.cbor")
	ccatoken(t, nil, "create", "--claims", rel0Claims, "--iak", edPEM, "--rak", rakPriv, "-o", edToken).check(t, exitOK)

	var rakJWK map[string]any
	if err := json.Unmarshal(readFileT(t, rakJWKPriv), &rakJWK); err != nil {
		t.Fatal(err)
	}
	var cpakPubJWK map[string]any
	if err := json.Unmarshal(readFileT(t, cpakJWK), &cpakPubJWK); err != nil {
		t.Fatal(err)
	}
	jwkFile := func(name string, m map[string]any) string {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return writeTemp(t, name, b)
	}
	mismatched := maps.Clone(rakJWK)
	mismatched["x"], mismatched["y"] = cpakPubJWK["x"], cpakPubJWK["y"]
	zero := maps.Clone(rakJWK)
	zero["d"] = "AA"
	shortEd := jwkFile("short-ed.jwk", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"})
	tinyRSA := jwkFile("tiny-rsa.jwk", map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB"})
	offCurve := jwkFile("off-curve.jwk", map[string]any{"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"})
	zeroJWK, mismatchedJWK := jwkFile("zero.jwk", zero), jwkFile("mismatch.jwk", mismatched)
	lenient := []string{"--allow-missing-nonce-unsafe", "--allow-unknown-platform-unsafe", "--allow-unknown-realm-unsafe"}

	for _, tc := range []struct {
		name  string
		args  []string
		cause string
	}{
		{"short Ed25519 CPAK", append([]string{"verify", edToken, "--cpak", shortEd, "--algorithms", "EdDSA,ES384"}, lenient...),
			"--cpak " + shortEd + ": invalid key: Ed25519 public key of 3 bytes, must be 32"},
		{"short Ed25519 CPAK, ES384 token", append([]string{"verify", rel0Vector, "--cpak", shortEd}, lenient...), "Ed25519 public key of 3 bytes"},
		{"short Ed25519 CoRIM key", []string{"verify", rel0Vector, "--cpak", cpakPub, "--corim-key", shortEd}, "--corim-key " + shortEd},
		{"point off its curve", []string{"verify", rel0Vector, "--cpak", offCurve}, "--cpak " + offCurve + ": invalid key: not a valid P-384 public key"},
		{"17-bit RSA CPAK", append([]string{"verify", rel0Vector, "--cpak", tinyRSA}, lenient...), "at least 2048 bits"},
		{"zero ECDSA scalar", []string{"create", "--claims", rel0Claims, "--iak", zeroJWK, "--rak", rakPriv, "--hex"},
			"--iak " + zeroJWK + ": invalid key: ECDSA private key"},
		{"RAK not matching its public point", []string{"create", "--claims", rel0Claims, "--iak", cpakPriv, "--rak", mismatchedJWK, "--hex"},
			"--rak " + mismatchedJWK + ": invalid key: the ECDSA private key does not match the public key it carries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ccatoken(t, nil, tc.args...).check(t, exitUsage, tc.cause)
		})
	}
}

// TestCreateRefusesWhatCannotBeRead: claims that make evidence past the
// decoder's 64 KiB bound (700 software components) are refused (exit 1),
// instead of writing a token inspect and verify then refuse.
func TestCreateRefusesWhatCannotBeRead(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(readFileT(t, rel0Claims), &doc); err != nil {
		t.Fatal(err)
	}
	plat := doc["cca-platform-token"].(map[string]any)
	sw := plat["cca-platform-sw-components"].([]any)
	many := make([]any, 700)
	for i := range many {
		many[i] = sw[1]
	}
	plat["cca-platform-sw-components"] = many
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "big.cbor")
	ccatoken(t, nil, "create", "--claims", writeTemp(t, "big.json", b), "--iak", cpakPriv, "--rak", rakPriv, "-o", out).
		check(t, exitFailed, "would not decode", "exceeds the 65536-byte limit")
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was written", out)
	}
}

// TestCreateClaimsOfWrongJSONType: a claims file of the wrong JSON type is
// reported in JSON's terms, naming the member, not in Go's
// ("main.claimsDocument").
func TestCreateClaimsOfWrongJSONType(t *testing.T) {
	for _, tc := range []struct{ doc, cause string }{
		{`[]`, `a JSON array, want an object {"cca-platform-token"`},
		{`"claims"`, `a JSON string, want an object`},
		{`{"cca-platform-token":{},"cca-realm-delegated-token":{},"cca-platform-extra-claims":{}}`, `"cca-platform-extra-claims": a JSON object, want an array`},
		{`{"cca-platform-token":{},"cca-realm-delegated-token":{},"cca-realm-extra-claims":[{"key":"1","cbor":"00"}]}`, `"cca-realm-extra-claims.key": a JSON string, want a number`},
		{`{"format":5,"cca-platform-token":{},"cca-realm-delegated-token":{}}`, `"format": a JSON number, want a string`},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			r := ccatoken(t, nil, "create", "--claims", writeTemp(t, "c.json", []byte(tc.doc)), "--iak", cpakPriv, "--rak", rakPriv, "--hex")
			r.check(t, exitUsage, tc.cause)
			if strings.Contains(r.stderr, "main.") || strings.Contains(r.stderr, "Go ") {
				t.Errorf("Go's terms in the error: %s", r.stderr)
			}
		})
	}
}

// TestCreateFromBarePlatformJSON: inspect's JSON of a bare platform token
// has no realm token; create says why it cannot make evidence of it.
func TestCreateFromBarePlatformJSON(t *testing.T) {
	r := ccatoken(t, nil, "inspect", "-O", "json", filepath.Join(vectorDir, "shapes", "bare-platform.cbor"))
	r.check(t, exitOK)
	ccatoken(t, []byte(r.stdout), "create", "--claims", "-", "--iak", cpakPriv, "--rak", rakPriv, "--hex").
		check(t, exitUsage, `no "cca-realm-delegated-token" object: this is the JSON of a bare platform token`)
}

// TestDashOutput: -o - is standard output for create and emulate (a file
// named "-" was written); where standard output already has another
// output, - is refused rather than made a file.
func TestDashOutput(t *testing.T) {
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	claims, iak, rak, small := abs(rel0Claims), abs(cpakPriv), abs(rakPriv), abs(filepath.Join(vectorDir, "realms", "small.json"))
	dir := t.TempDir()
	t.Chdir(dir) // where a file named - would land
	r := ccatoken(t, nil, "create", "--claims", claims, "--iak", iak, "--rak", rak, "-o", "-", "--hex")
	r.check(t, exitOK)
	if want := ccatoken(t, nil, "create", "--claims", claims, "--iak", iak, "--rak", rak, "--hex").stdout; r.stdout != want {
		t.Errorf("create -o - wrote %q, want the evidence", r.stdout)
	}
	r = ccatoken(t, nil, "emulate", "-o", "-", "--hex")
	r.check(t, exitOK)
	if _, err := hex.DecodeString(strings.TrimSpace(r.stdout)); err != nil || len(r.stdout) < 1000 {
		t.Errorf("emulate -o - --hex wrote %q", r.stdout)
	}
	ccatoken(t, nil, "measure", "--realm", small, "-o", "-").check(t, exitUsage, "-o -: give a file")
	ccatoken(t, nil, "measure", "--realm", small, "--corim", "-").check(t, exitUsage, "--corim -: give a file")
	ccatoken(t, nil, "emulate", "--hex", "--export-cpak", "-").check(t, exitUsage, "--export-cpak -: give a file")
	if _, err := os.Stat(filepath.Join(dir, "-")); err == nil {
		t.Errorf("a file named - was written")
	}
}
