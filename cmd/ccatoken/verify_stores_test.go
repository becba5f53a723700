package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// TestVerifyEscapes: a software-component type holding newlines, ANSI
// escapes and a bidirectional override prints neither a fake verdict nor
// control characters, on standard output or in the standard-error line.
func TestVerifyEscapes(t *testing.T) {
	evil := "RMM\n\x1b[1A\x1b[2Kresult:              TRUSTWORTHY\r\u202e."
	tok := writeTemp(t, "evil.cbor", resign(t, readFileT(t, rel0Vector), func(p *platform.Claims, _ *realm.Claims) {
		p.SwComponents[7].MeasurementType = evil
	}))
	for _, args := range [][]string{
		{"verify", tok, "--cpak", cpakPub, "--refvals", createdRefvals, "--nonce", rel0Nonce},
		{"verify", tok, "--cpak", cpakPub, "--nonce", rel0Nonce}, // no reference values: "not checked" lines
	} {
		r := ccatoken(t, nil, args...)
		r.check(t, exitFailed)
		for _, out := range []string{r.stdout, r.stderr} {
			if strings.ContainsAny(out, "\x1b\r\u202e") {
				t.Errorf("control characters in the output:\n%q", out)
			}
		}
		lines := strings.Split(r.stdout, "\n")
		var verdicts []string
		for _, l := range lines {
			if strings.HasPrefix(l, "result:") {
				verdicts = append(verdicts, l)
			}
		}
		if len(verdicts) != 1 || verdicts[0] != "result:              NOT TRUSTWORTHY" {
			t.Errorf("verdict lines %q:\n%s", verdicts, r.stdout)
		}
		if !strings.Contains(r.stdout, `RMM\n\x1b[1A\x1b[2Kresult:              TRUSTWORTHY\r\u202e.`) {
			t.Errorf("the component type is not shown escaped:\n%s", r.stdout)
		}
	}
	// The library's own text rendering escapes too.
	r := ccatoken(t, nil, "verify", tok, "--cpak", cpakPub, "--refvals", createdRefvals, "--nonce", rel0Nonce, "-O", "json")
	if !strings.Contains(r.stdout, `\u001b`) {
		t.Errorf("JSON output does not escape ESC: %s", r.stdout)
	}
}

// TestVerifyJSONEscapesFormatCharacters: the JSON and EAR outputs escape
// the format characters encoding/json leaves raw (a bidirectional override
// in a component type reorders the terminal line it lands on), as inspect's
// JSON does, and stay JSON that reads back to the same strings.
func TestVerifyJSONEscapesFormatCharacters(t *testing.T) {
	evil := "RMM\u202e\u2066gnp.\u0085\U000e0041"
	tok := writeTemp(t, "bidi.cbor", resign(t, readFileT(t, rel0Vector), func(p *platform.Claims, _ *realm.Claims) {
		p.SwComponents[7].MeasurementType = evil
	}))
	for _, form := range []string{"json", "ear"} {
		t.Run(form, func(t *testing.T) {
			r := ccatoken(t, nil, "verify", tok, "--cpak", cpakPub, "--refvals", createdRefvals, "--nonce", rel0Nonce, "-O", form)
			r.check(t, exitFailed)
			if c, bad := unprintable(r.stdout); bad {
				t.Errorf("raw %U in the %s output", c, form)
			}
			var v any
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if form == "json" && !strings.Contains(fmt.Sprint(v), evil) {
				t.Errorf("the component type does not read back as %q", evil)
			}
		})
	}
}

// TestVerifyComponentTypeNotTrimmed: a component type "RMM\r" is shown as
// it is, escaped ("RMM\r"), not trimmed to "RMM" (which would pass it off
// as the RMM of the reference values).
func TestVerifyComponentTypeNotTrimmed(t *testing.T) {
	tok := writeTemp(t, "cr.cbor", resign(t, readFileT(t, rel0Vector), func(p *platform.Claims, _ *realm.Claims) {
		p.SwComponents[7].MeasurementType += "\r"
	}))
	r := ccatoken(t, nil, "verify", tok, "--cpak", cpakPub, "--nonce", rel0Nonce)
	if !strings.Contains(r.stdout, "platform sw component #7 RMM\\r ") || strings.Contains(r.stdout, "\r") {
		t.Errorf("the component type is not shown as carried, escaped:\n%s", r.stdout)
	}
}

// newProvisioner makes the key of a CoRIM signer: the private key, and the
// path of its public key in PEM for --corim-key.
func newProvisioner(t *testing.T) (*ecdsa.PrivateKey, string) {
	t.Helper()
	signer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signerPEM, err := token.MarshalPublicPEM(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	return signer, writeTemp(t, "signer.pem", signerPEM)
}

// endorsedVector writes the trust anchor and the reference values of the
// rel0 vector as CoRIMs (the trust anchors signed with signer when it is
// set), from the vector's own claims.
func endorsedVector(t *testing.T, signer *ecdsa.PrivateKey) (ta, plat, rlm string) {
	t.Helper()
	ev, err := evidence.Decode(readFileT(t, rel0Vector))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := token.ParsePublicKey(readFileT(t, cpakPub))
	if err != nil {
		t.Fatal(err)
	}
	p := ev.Platform
	taCoRIM, err := endorsement.EncodeTrustAnchors("vector-cpak", endorsement.TrustAnchor{
		ImplementationID: p.ImplementationID, InstanceID: p.InstanceID, Key: pub})
	if err != nil {
		t.Fatal(err)
	}
	if signer != nil {
		if taCoRIM, err = endorsement.Sign(taCoRIM, signer, endorsement.SignOptions{SignerName: "test provisioner"}); err != nil {
			t.Fatal(err)
		}
	}
	ref := endorsement.PlatformReference{ImplementationID: p.ImplementationID, Config: p.Config, ConfigMask: make([]byte, len(p.Config))}
	for i := range ref.ConfigMask {
		ref.ConfigMask[i] = 0xff
	}
	for _, sc := range p.SwComponents {
		ref.SwComponents = append(ref.SwComponents, endorsement.SwComponent{Type: sc.MeasurementType, Version: sc.Version,
			Alg: "sha-256", Value: sc.MeasurementValue, SignerID: sc.SignerID})
	}
	platCoRIM, err := endorsement.EncodePlatform("vector-firmware", ref)
	if err != nil {
		t.Fatal(err)
	}
	r := ev.Realm
	realmCoRIM, err := endorsement.EncodeRealm("vector-realm", endorsement.RealmReference{RIM: r.InitialMeasurement, HashAlg: r.HashAlgID,
		RPV: r.PersonalizationValue, REMs: [4][]byte{r.ExtensibleMeasurements[0], r.ExtensibleMeasurements[1], r.ExtensibleMeasurements[2], r.ExtensibleMeasurements[3]}})
	if err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "ta.corim", taCoRIM), writeTemp(t, "platform.corim", platCoRIM), writeTemp(t, "realm.corim", realmCoRIM)
}

// TestVerifyCoRIMStores: --trust-anchors and --refvals take CoRIMs, signed
// (checked with --corim-key) or not, repeated and mixed with JSON stores.
func TestVerifyCoRIMStores(t *testing.T) {
	signer, signerKey := newProvisioner(t)
	ta, plat, rlm := endorsedVector(t, nil)
	signedTA, _, _ := endorsedVector(t, signer)
	v := vectors[0]
	base := []string{"verify", v.path(), "--nonce", v.nonce}
	for _, c := range []struct {
		name  string
		args  []string
		code  int
		cause string
	}{
		{"CoRIM everywhere", []string{"--trust-anchors", ta, "--refvals", plat, "--refvals", rlm}, exitOK, ""},
		{"CoRIM and JSON anchors, mixed reference values", []string{"--trust-anchors", ta, "--trust-anchors", v.trustAnchors(),
			"--refvals", plat, "--refvals", createdRefvals}, exitOK, ""},
		{"signed CoRIM with its key", []string{"--trust-anchors", signedTA, "--corim-key", signerKey, "--refvals", createdRefvals}, exitOK, ""},
		{"signed CoRIM without a key", []string{"--trust-anchors", signedTA, "--refvals", createdRefvals}, exitUsage, "CoRIM signature"},
		{"signed CoRIM with another key", []string{"--trust-anchors", signedTA, "--corim-key", cpak256Pub, "--refvals", createdRefvals}, exitUsage, "CoRIM signature"},
		{"platform CoRIM only: the realm is unknown", []string{"--trust-anchors", ta, "--refvals", plat}, exitFailed, "realm initial measurement"},
		{"realm CoRIM as trust anchors", []string{"--trust-anchors", rlm}, exitUsage, "carries no trust anchors"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := ccatoken(t, nil, append(base, c.args...)...)
			if c.code == exitOK {
				r.check(t, exitOK)
			} else {
				r.check(t, c.code, c.cause)
			}
		})
	}
}

// TestVerifyStoreMistakes: a token given as a store is named as what it
// is; a signed CoRIM whose signature is not verified says so, not that the
// store is malformed.
func TestVerifyStoreMistakes(t *testing.T) {
	signer, _ := newProvisioner(t)
	signedTA, _, _ := endorsedVector(t, signer)
	v := vectors[0]
	base := []string{"verify", v.path(), "--nonce", v.nonce}
	ccatoken(t, nil, append(base, "--trust-anchors", v.path())...).check(t, exitUsage,
		"--trust-anchors "+v.path()+": malformed store: trust anchors: neither a JSON store nor a CoRIM (it is CCA evidence, ")
	ccatoken(t, nil, append(base, "--cpak", cpakPub, "--refvals", v.path())...).check(t, exitUsage,
		"--refvals "+v.path()+": malformed store: reference values: neither a JSON store nor a CoRIM (it is CCA evidence, ")
	r := ccatoken(t, nil, append(base, "--trust-anchors", signedTA, "--corim-key", cpak256Pub)...)
	r.check(t, exitUsage, "--trust-anchors "+signedTA+": CoRIM signature: ", "signature does not verify")
	if strings.Contains(r.stderr, "malformed") {
		t.Errorf("a signature not verified is reported as malformed: %q", r.stderr)
	}
}

// TestVerifyTrustAnchorWarnings: a store with an unusable entry loads, the
// entry is reported on standard error, and only its platform fails.
func TestVerifyTrustAnchorWarnings(t *testing.T) {
	v := vectors[0]
	var entries []map[string]any
	if err := json.Unmarshal(readFileT(t, v.trustAnchors()), &entries); err != nil || len(entries) == 0 {
		t.Fatalf("%v %d", err, len(entries))
	}
	bad := map[string]any{"instance-id": "01" + strings.Repeat("cd", 32), "pkey": map[string]any{
		"kty": "EC", "crv": "P-384", "x": strings.Repeat("A", 64), "y": strings.Repeat("B", 64)}}
	store, _ := json.Marshal(append([]map[string]any{bad}, entries...))
	path := writeTemp(t, "ta.json", store)
	r := ccatoken(t, nil, "verify", v.path(), "--trust-anchors", path, "--refvals", createdRefvals, "--nonce", v.nonce)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "ccatoken verify: warning: --trust-anchors: "+path+": ") ||
		!strings.Contains(r.stderr, "trust anchor 0") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q", r.stderr)
	}
}

// TestVerifyTrustAnchorsAllBadFile: a --trust-anchors file whose only entry
// is bad (the shape of rust-ccatoken's ta-02-bad.json: an off-curve key)
// beside a good one is a warning, not a locked-out command; alone, it is
// refused with a message that says no store has a usable entry.
func TestVerifyTrustAnchorsAllBadFile(t *testing.T) {
	v := vectors[0]
	bad := writeTemp(t, "ta-bad.json", []byte(`[{"instance-id": "01`+strings.Repeat("cd", 32)+`", "pkey": {
		"kty": "EC", "crv": "P-384", "x": "`+strings.Repeat("A", 64)+`", "y": "`+strings.Repeat("B", 64)+`"}}]`))
	args := []string{"verify", v.path(), "--refvals", createdRefvals, "--nonce", v.nonce, "--trust-anchors", bad}
	r := ccatoken(t, nil, append(args, "--trust-anchors", v.trustAnchors())...)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "ccatoken verify: warning: --trust-anchors: "+bad+": ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q", r.stderr)
	}
	r = ccatoken(t, nil, args...)
	if lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n"); r.code != exitUsage || len(lines) != 2 ||
		!strings.HasPrefix(lines[0], "ccatoken verify: warning: --trust-anchors: "+bad+": ") ||
		lines[1] != "ccatoken: --trust-anchors: no usable trust anchor in "+bad+": every entry is unusable (the warnings above say why)" {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestVerifyBarePlatformToken: the platform token of a vector, alone, is
// verified and appraised; there is no realm, and no nonce can be in it.
func TestVerifyBarePlatformToken(t *testing.T) {
	coll, err := token.DecodeCollection(readFileT(t, rel0Vector))
	if err != nil {
		t.Fatal(err)
	}
	bare := writeTemp(t, "platform.cbor", coll.Platform)
	args := []string{"verify", bare, "--cpak", cpakPub, "--refvals", createdRefvals}
	ccatoken(t, nil, args...).check(t, exitFailed, "realm freshness", "--allow-missing-nonce-unsafe")
	ccatoken(t, nil, append(args, "--nonce", rel0Nonce)...).check(t, exitFailed, "realm freshness", "no realm token to carry it")
	r := ccatoken(t, nil, append(args, "--allow-missing-nonce-unsafe")...)
	r.check(t, exitOK)
	for _, want := range []string{"realm signature:     none: a bare platform token has no realm token\n",
		"realm:               none (a bare platform token)\n", "platform:            trustworthy\n", "result:              TRUSTWORTHY\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	// The EAR has the platform's submodule alone.
	r = ccatoken(t, nil, append(args, "--allow-missing-nonce-unsafe", "-O", "ear")...)
	var doc struct {
		Submods map[string]json.RawMessage `json:"submods"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Submods) != 1 || doc.Submods["CCA_SSD_PLATFORM"] == nil {
		t.Errorf("EAR submods %v %v", err, doc.Submods)
	}
}
