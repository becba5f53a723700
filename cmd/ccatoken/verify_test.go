package main

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/veraison/ear"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
	"github.com/ccakit/cca/verifier"
)

// full is verify with a created vector's trust anchors, the created
// reference values and its nonce: the appraisal that makes it trustworthy.
func full(v vector, extra ...string) []string {
	return append([]string{"verify", v.path(), "--trust-anchors", v.trustAnchors(), "--refvals", createdRefvals, "--nonce", v.nonce}, extra...)
}

// TestVerifyVectors appraises every created vector with its trust anchors,
// and with its CPAK as PEM, as JWK and as the private key.
func TestVerifyVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.file, func(t *testing.T) {
			r := ccatoken(t, nil, full(v)...)
			r.check(t, exitOK)
			for _, leg := range []string{"decode:", "platform claims:", "realm claims:", "profile coherence:", "trust anchor:",
				"platform signature:", "realm signature:", "binding:", "freshness:"} {
				if !strings.Contains(r.stdout, "\n"+leg+strings.Repeat(" ", 21-len(leg))+"ok") {
					t.Errorf("leg %q not ok:\n%s", leg, r.stdout)
				}
			}
			for _, want := range []string{"platform lifecycle", "platform implementation id", "platform configuration",
				"platform sw component #11", "realm initial measurement", "realm personalization value", "realm REM 3"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("no appraisal line %q:\n%s", want, r.stdout)
				}
			}
			if strings.Contains(r.stdout, "mismatched") || strings.Contains(r.stdout, "not checked") {
				t.Errorf("a check is not matched:\n%s", r.stdout)
			}
			if !strings.HasSuffix(r.stdout, "result:              TRUSTWORTHY\n") {
				t.Errorf("no trustworthy verdict:\n%s", r.stdout)
			}
			for _, key := range []string{v.cpakPEM(), v.cpakJWK(), v.cpakPrivate()} {
				ccatoken(t, nil, "verify", v.path(), "--cpak", key, "--refvals", createdRefvals, "--nonce", v.nonce).check(t, exitOK)
			}
		})
	}
}

// TestVerifyCryptoOnly: with only --cpak (no reference values, no nonce)
// the legs all pass but the default policy finds nothing trustworthy: exit
// 1, and the output names the flags that would accept it, which do.
func TestVerifyCryptoOnly(t *testing.T) {
	r := ccatoken(t, nil, "verify", rel0Vector, "--cpak", cpakPub)
	r.check(t, exitFailed, "not trustworthy", "(and 2 more)",
		"the policy would accept it with --allow-missing-nonce-unsafe, --allow-unknown-platform-unsafe, --allow-unknown-realm-unsafe")
	for _, want := range []string{
		"platform signature:  ok",
		"binding:             ok",
		"freshness:           not checked (required by the policy): no nonce given",
		"platform implementation id               not checked (required by the policy): no platform reference values provisioned",
		"realm initial measurement                not checked (required by the policy): no realm reference values provisioned",
		"realm REM 0                              not checked: no realm reference values provisioned",
		"result:              NOT TRUSTWORTHY\n",
		"The policy would accept it with --allow-missing-nonce-unsafe (or give --nonce), " +
			"--allow-unknown-platform-unsafe (or give --refvals with an entry for its implementation id), " +
			"--allow-unknown-realm-unsafe (or give --refvals with an entry for its RIM).\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(strings.ToLower(r.stdout), "verified\n") || strings.Contains(r.stdout, "\nresult:              TRUSTWORTHY") {
		t.Errorf("an untrustworthy result reads as verified:\n%s", r.stdout)
	}

	r = ccatoken(t, nil, "verify", rel0Vector, "--cpak", cpakPub,
		"--allow-missing-nonce-unsafe", "--allow-unknown-platform-unsafe", "--allow-unknown-realm-unsafe")
	r.check(t, exitOK)
	if !strings.Contains(r.stdout, "policy:              ccakit-verifier/default+AllowMissingNonceUnsafe+AllowUnknownPlatformUnsafe+AllowUnknownRealmUnsafe\n") ||
		!strings.Contains(r.stdout, "freshness:           not checked: no nonce given") {
		t.Errorf("the waivers are not visible:\n%s", r.stdout)
	}
}

// TestVerifyPolicyFlags: every policy flag sets its verifier.Policy field
// (the policy id names it) and changes the exit status where it applies.
func TestVerifyPolicyFlags(t *testing.T) {
	fields := map[string]verifier.Policy{
		"--allow-missing-nonce-unsafe":             {AllowMissingNonceUnsafe: true},
		"--allow-non-cca-platform-debug-unsafe":    {AllowNonCCAPlatformDebugUnsafe: true},
		"--allow-debug-lifecycle-unsafe":           {AllowDebugLifecycleUnsafe: true},
		"--allow-mixed-profiles-unsafe":            {AllowMixedProfilesUnsafe: true},
		"--allow-draft-profiles-unsafe":            {AllowDraftProfilesUnsafe: true},
		"--allow-measurement-size-mismatch-unsafe": {AllowMeasurementSizeMismatchUnsafe: true},
		"--require-mec-policy":                     {RequireMECPolicy: true},
		"--allow-unknown-platform-unsafe":          {AllowUnknownPlatformUnsafe: true},
		"--allow-unknown-realm-unsafe":             {AllowUnknownRealmUnsafe: true},
		"--require-rems":                           {RequireREMs: true},
		"--reject-unknown-claims":                  {RejectUnknownClaims: true},
	}
	if len(fields) != len(policyFlags) {
		t.Fatalf("%d policy flags, %d tested", len(policyFlags), len(fields))
	}
	for flag, p := range fields {
		var res verifier.Result
		r := ccatoken(t, nil, full(vectors[0], flag, "-O", "json")...)
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
			t.Fatalf("%s: %v\n%s", flag, err, r.stdout)
		}
		if res.Policy != p.ID() {
			t.Errorf("%s gives policy %q, want %q", flag, res.Policy, p.ID())
		}
	}

	m := loadManifest(t)
	vec := func(name string) manifestVector {
		for _, v := range m.Vectors {
			if v.Name == name {
				return v
			}
		}
		t.Fatalf("no vector %s", name)
		return manifestVector{}
	}
	emu := func(name, refvals string) []string {
		v := vec(name)
		return []string{"verify", filepath.Join(vectorDir, v.File), "--trust-anchors", filepath.Join(vectorDir, taEmulator),
			"--refvals", filepath.Join(vectorDir, refvals), "--nonce", v.Challenge}
	}
	rel0 := vectors[0]
	mixed := []string{"verify", filepath.Join(vectorDir, "bad", "mixed-profiles.cbor"), "--cpak", cpakPub, "--refvals", createdRefvals, "--nonce", rel0.nonce}
	unknown := []string{"verify", filepath.Join(vectorDir, "bad", "unknown-claim.cbor"), "--cpak", cpakPub, "--refvals", createdRefvals, "--nonce", rel0.nonce}
	// The emulator's reference values without the REMs: the store format
	// allows leaving them out (measure and the shipped stores give them).
	var store map[string][]map[string]any
	if err := json.Unmarshal(readFileT(t, filepath.Join(vectorDir, rvEmulator)), &store); err != nil {
		t.Fatal(err)
	}
	for _, r := range store["realm"] {
		delete(r, "extensible-measurements")
	}
	b, err := json.Marshal(store)
	if err != nil {
		t.Fatal(err)
	}
	noREMs := emu("emulated/rel0-es384", rvEmulator)
	noREMs[5] = writeTemp(t, "no-rems.json", b)
	// Shapes made from the rel0 vector's claims, signed again with its keys.
	reshaped := func(name string, f func(*platform.Claims, *realm.Claims)) []string {
		tok := writeTemp(t, name+".cbor", resign(t, readFileT(t, rel0.path()), f))
		return []string{"verify", tok, "--cpak", cpakPub, "--refvals", createdRefvals, "--nonce", rel0.nonce}
	}
	tfrmmMain := func(_ *platform.Claims, r *realm.Claims) {
		r.Profile = token.ProfileRealm2
		r.InstanceID = append([]byte{0x01}, make([]byte, 32)...)
		r.MECPolicy = realm.MECPolicyOf(false)
	}
	draft := reshaped("draft", func(p *platform.Claims, r *realm.Claims) {
		tfrmmMain(p, r)
		one := uint64(1)
		p.Profile, p.ClientID = token.ProfilePlatform2, &one
	})
	wide := append(reshaped("wide", func(_ *platform.Claims, r *realm.Claims) {
		r.InitialMeasurement = make([]byte, 64)
		for i := range r.ExtensibleMeasurements {
			r.ExtensibleMeasurements[i] = make([]byte, 64)
		}
	}), "--allow-unknown-realm-unsafe")
	mec := reshaped("mec", tfrmmMain)
	for _, c := range []struct {
		name          string
		args          []string
		flag          string
		without, with int
		cause         string // the reason without the flag, or with it if it fails then
	}{
		{"no nonce", full(rel0)[:6], "--allow-missing-nonce-unsafe", exitFailed, exitOK, "realm freshness"},
		{"non-CCA debug", emu("emulated/debug-non-cca", rvEmulator), "--allow-non-cca-platform-debug-unsafe", exitFailed, exitOK, "platform lifecycle"},
		{"CCA debug, narrow flag", emu("emulated/debug-cca", rvEmulator), "--allow-non-cca-platform-debug-unsafe", exitFailed, exitFailed, "platform lifecycle"},
		{"CCA debug", emu("emulated/debug-cca", rvEmulator), "--allow-debug-lifecycle-unsafe", exitFailed, exitOK, "platform lifecycle"},
		{"mixed profiles", mixed, "--allow-mixed-profiles-unsafe", exitFailed, exitOK, "realm profile coherence"},
		{"no platform reference values", emu("emulated/rel0-es384", rvEmulatorRealm), "--allow-unknown-platform-unsafe", exitFailed, exitOK, "platform implementation id"},
		{"no realm reference values", []string{"verify", rel0.path(), "--cpak", cpakPub, "--nonce", rel0.nonce, "--allow-unknown-platform-unsafe"},
			"--allow-unknown-realm-unsafe", exitFailed, exitOK, "realm initial measurement"},
		{"no REMs in the reference values", noREMs, "--require-rems", exitOK, exitFailed, "realm REM 0"},
		{"REMs in the reference values", full(rel0), "--require-rems", exitOK, exitOK, ""},
		{"unknown claim", unknown, "--reject-unknown-claims", exitOK, exitFailed, "platform claims"},
		{"draft shape", draft, "--allow-draft-profiles-unsafe", exitFailed, exitOK, "realm profile coherence"},
		{"64-byte measurements labelled sha-256", wide, "--allow-measurement-size-mismatch-unsafe", exitFailed, exitOK, "realm claims"},
		{"MEC policy not pinned", mec, "--require-mec-policy", exitOK, exitFailed, "realm MEC policy"},
		{"ES256 only, ES384 token", full(rel0), "--algorithms=ES256", exitOK, exitFailed, "platform signature"},
		{"ES384 only, ES384 token", full(rel0), "--algorithms=es384", exitOK, exitOK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cause := func(code int) []string {
				if code == exitOK {
					return nil
				}
				return []string{c.cause}
			}
			ccatoken(t, nil, c.args...).check(t, c.without, cause(c.without)...)
			ccatoken(t, nil, append(c.args, c.flag)...).check(t, c.with, cause(c.with)...)
		})
	}
}

// TestVerifyOutputs: json is the Result, ear the EAR that ear parses,
// ear-jwt an EAR that ear verifies with the public key; untrustworthy
// evidence still gets its result on stdout, and exit 1.
func TestVerifyOutputs(t *testing.T) {
	rel0 := vectors[0]
	r := ccatoken(t, nil, full(rel0, "--output", "json")...)
	r.check(t, exitOK)
	var res verifier.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if !res.Trustworthy || res.Platform.Key == "" || len(res.Realm.Checks) < 8 || res.Format == "" {
		t.Errorf("json result: %+v", res)
	}

	r = ccatoken(t, nil, full(rel0, "-O", "ear")...)
	r.check(t, exitOK)
	var ar ear.AttestationResult
	if err := ar.UnmarshalJSON([]byte(r.stdout)); err != nil {
		t.Fatalf("ear: %v\n%s", err, r.stdout)
	}
	checkEAR(t, &ar, rel0.nonce, map[string]ear.TrustTier{verifier.SubmodPlatform: ear.TrustTierAffirming, verifier.SubmodRealm: ear.TrustTierAffirming})

	for _, k := range []struct {
		key string
		alg jwa.SignatureAlgorithm
	}{{filepath.Join(vectorDir, "keys", "cpak-p256.pem"), jwa.ES256}, {cpakPriv, jwa.ES384}, {rakJWKPriv, jwa.ES384}} {
		r = ccatoken(t, nil, full(rel0, "-O", "ear-jwt", "--ear-key", k.key)...)
		r.check(t, exitOK)
		jwt := strings.TrimSuffix(r.stdout, "\n")
		if strings.Count(jwt, ".") != 2 || strings.ContainsAny(jwt, " \n") {
			t.Fatalf("not a compact JWS: %q", r.stdout)
		}
		pub := loadSigner(t, k.key).Public().(*ecdsa.PublicKey)
		var got ear.AttestationResult
		if err := got.Verify([]byte(jwt), k.alg, pub); err != nil {
			t.Fatalf("ear does not verify the EAR JWT signed with %s: %v", k.key, err)
		}
		checkEAR(t, &got, rel0.nonce, map[string]ear.TrustTier{verifier.SubmodPlatform: ear.TrustTierAffirming, verifier.SubmodRealm: ear.TrustTierAffirming})
		other, err := ecdsa.GenerateKey(pub.Curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if err := new(ear.AttestationResult).Verify([]byte(jwt), k.alg, &other.PublicKey); err == nil {
			t.Errorf("the EAR JWT verifies with another key")
		}
	}

	// Untrustworthy: the result is written, and the status is 1.
	stale := append(full(rel0)[:6], "--nonce", strings.Repeat("ab", 64))
	r = ccatoken(t, nil, append(stale, "-O", "json")...)
	r.check(t, exitFailed, "realm freshness")
	res = verifier.Result{}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Trustworthy || !res.Platform.Trustworthy {
		t.Errorf("json result of a stale token: %v %+v", err, res)
	}
	r = ccatoken(t, nil, append(stale, "-O", "ear-jwt", "--ear-key", cpakPriv)...)
	r.check(t, exitFailed, "realm freshness")
	var got ear.AttestationResult
	if err := got.Verify([]byte(strings.TrimSpace(r.stdout)), jwa.ES384, loadSigner(t, cpakPriv).Public()); err != nil {
		t.Fatal(err)
	}
	// A stale nonce is Veraison's failure shape: ARM_CCA alone.
	checkEAR(t, &got, strings.Repeat("ab", 64), map[string]ear.TrustTier{verifier.SubmodFailure: ear.TrustTierContraindicated})

	// Usage.
	for _, c := range []struct {
		args  []string
		cause string
	}{
		{full(rel0, "-O", "ear-jwt"), "--output ear-jwt needs --ear-key"},
		{full(rel0, "--ear-key", cpakPriv), "--ear-key is only used with --output ear-jwt"},
		{full(rel0, "-O", "ear-jwt", "--ear-key", cpakPub), "private key"},
		{full(rel0, "-O", "yaml"), `--output "yaml"`},
		{full(rel0, "--algorithms", "HS256"), `unknown algorithm "HS256"`},
	} {
		ccatoken(t, nil, c.args...).check(t, exitUsage, c.cause)
	}
}

func checkEAR(t *testing.T, ar *ear.AttestationResult, nonce string, submods map[string]ear.TrustTier) {
	t.Helper()
	if ar.Profile == nil || *ar.Profile != ear.EatProfile || ar.Nonce == nil || ar.VerifierID == nil {
		t.Fatalf("EAR header: %+v", ar)
	}
	// Veraison writes the nonce as padded base64url.
	if n, err := base64.URLEncoding.DecodeString(*ar.Nonce); err != nil || hex.EncodeToString(n) != nonce {
		t.Errorf("EAR nonce %q is not %s", *ar.Nonce, nonce)
	}
	if len(ar.Submods) != len(submods) {
		t.Errorf("EAR submods %v, want %v", ar.Submods, submods)
	}
	for name, want := range submods {
		a := ar.Submods[name]
		if a == nil || a.Status == nil || *a.Status != want {
			t.Errorf("EAR %s status %v, want %v", name, a, want)
		}
	}
}

// TestVerifyNonceForms: a 32-byte nonce matches its zero-padded challenge,
// and so does the padded 64-byte form.
func TestVerifyNonceForms(t *testing.T) {
	cmw := vectors[3]
	args := full(cmw)[:6]
	for _, n := range []string{cmw.nonce, strings.ToUpper(cmw.nonce), "0x" + cmw.nonce, cmw.nonce + strings.Repeat("00", 32), cmw.nonce + "00"} {
		ccatoken(t, nil, append(args, "--nonce", n)...).check(t, exitOK)
	}
	ccatoken(t, nil, append(args, "--nonce", cmw.nonce[:62]+"ff")...).check(t, exitFailed, "realm freshness", "nonce mismatch")
}

// TestVerifyLegReport: a failed leg says FAILED with the reason, the legs
// it prevents say not checked, and stderr carries the reason once.
func TestVerifyLegReport(t *testing.T) {
	raw := readFileT(t, rel0Vector)
	unbound := writeTemp(t, "unbound.cbor", resign(t, raw, func(_ *platform.Claims, r *realm.Claims) {
		r.PubKeyHashAlgID = "sha-512" // the challenge was made with sha-256
	}))
	r := ccatoken(t, nil, "verify", unbound, "--cpak", cpakPub, "--refvals", createdRefvals, "--nonce", rel0Nonce)
	r.check(t, exitFailed, "not trustworthy: realm binding", "sha-512")
	for _, want := range []string{
		"platform signature:  ok (ES384 signature verified)",
		"realm signature:     ok (ES384 signature verified with the RAK (ECDSA P-384))",
		"binding:             FAILED: platform/realm binding mismatch",
		"freshness:           ok (realm challenge = nonce)",
		"platform lifecycle                       matched: 0x3003 (secured)",
		"realm initial measurement                matched:",
		"platform:            trustworthy\nrealm:               not trustworthy\nresult:              NOT TRUSTWORTHY\n",
		"  - realm binding: platform/realm binding mismatch",
		"No policy flag would make this evidence trustworthy.\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}

	badSig := writeTemp(t, "badsig.cbor", readFileT(t, filepath.Join(vectorDir, "bad", "platform-signature.cbor")))
	r = ccatoken(t, nil, "verify", badSig, "--cpak", cpakPub, "--refvals", createdRefvals, "--nonce", rel0Nonce)
	r.check(t, exitFailed, "platform signature", "signature verification failed")
	for _, want := range []string{"trust anchor:        ok", "platform signature:  FAILED", "\n  platform                     not appraised: its verification failed\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}

	garbage := writeTemp(t, "garbage.cbor", []byte{0xd9, 0x01, 0x8f, 0xa0})
	r = ccatoken(t, nil, "verify", garbage, "--cpak", cpakPub)
	r.check(t, exitFailed, "platform decode", "malformed")
	for _, want := range []string{"decode:              FAILED: malformed", "platform claims:     not checked: not reached",
		"  platform  not appraised", "  realm     not appraised", "result:              NOT TRUSTWORTHY"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("decode failure: output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestVerifyStores: the stores and their errors.
func TestVerifyStores(t *testing.T) {
	rel0 := vectors[0]
	ta := readFileT(t, rel0.trustAnchors())
	rv := readFileT(t, createdRefvals)
	// Either store can come from standard input.
	ccatoken(t, ta, "verify", rel0.path(), "--trust-anchors", "-", "--refvals", createdRefvals, "--nonce", rel0.nonce).check(t, exitOK)
	ccatoken(t, rv, "verify", rel0.path(), "--trust-anchors", rel0.trustAnchors(), "--refvals", "-", "--nonce", rel0.nonce).check(t, exitOK)
	for _, c := range []struct {
		args  []string
		cause []string
	}{
		{[]string{"verify", rel0.path(), "--trust-anchors", cpakPub}, []string{"--trust-anchors", "malformed store"}},
		{[]string{"verify", rel0.path(), "--trust-anchors", filepath.Join(t.TempDir(), "none.json")}, []string{"--trust-anchors", "none.json"}},
		{[]string{"verify", rel0.path(), "--cpak", cpakPub, "--refvals", rel0Claims}, []string{"--refvals", "unknown member"}},
		{[]string{"verify", rel0.path(), "--cpak", cpakPub, "--refvals", writeTemp(t, "rv.json", []byte(`{"realm": [{"initial-measurement": "00"}]}`))},
			[]string{"--refvals", "realm[0]", "initial-measurement"}},
		{[]string{"verify", "-", "--cpak", cpakPub, "--refvals", "-"}, []string{"standard input"}},
	} {
		ccatoken(t, nil, c.args...).check(t, exitUsage, c.cause...)
	}
}

// TestVerifyMachineOutputOnUnreadableInput: --output json, ear and ear-jwt
// write a result whatever the verdict (docs/cli.md), also for input that is
// no token in any form (empty, JSON, PEM), where nothing was written: a
// pipeline reading the EAR gets one, contraindicated, and the stderr line
// still says why the input is not a token.
func TestVerifyMachineOutputOnUnreadableInput(t *testing.T) {
	earKey := filepath.Join(vectorDir, "keys", "cpak-p256.pem")
	for _, in := range []struct {
		name  string
		data  []byte
		cause string
	}{
		{"empty", nil, "empty input"},
		{"JSON", []byte(`{"cca-platform-token": {}}`), "it looks like JSON"},
		{"PEM", readFileT(t, cpakPub), "it looks like PEM"},
	} {
		tok := writeTemp(t, "token", in.data)
		for _, form := range []string{"json", "ear", "ear-jwt"} {
			t.Run(in.name+" "+form, func(t *testing.T) {
				args := []string{"verify", tok, "--cpak", cpakPub, "--nonce", rel0Nonce, "-O", form}
				if form == "ear-jwt" {
					args = append(args, "--ear-key", earKey)
				}
				r := ccatoken(t, nil, args...)
				r.check(t, exitFailed, in.cause)
				body := []byte(r.stdout)
				if form == "ear-jwt" {
					parts := strings.Split(strings.TrimSpace(r.stdout), ".")
					if len(parts) != 3 {
						t.Fatalf("not a JWT: %q", r.stdout)
					}
					var err error
					if body, err = base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
						t.Fatalf("JWT payload: %v", err)
					}
				}
				var v map[string]any
				if err := json.Unmarshal(body, &v); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, body)
				}
				if form != "json" && !strings.Contains(string(body), `"contraindicated"`) {
					t.Errorf("EAR is not contraindicated:\n%s", body)
				}
			})
		}
	}
}

// TestOversizeToken: a token past the input bound fails as evidence
// (exit 1), as one just past the 64 KiB token bound does, not as a usage
// error; verify's JSON still carries the result. A key or store past the
// bound stays a usage error.
func TestOversizeToken(t *testing.T) {
	big := writeTemp(t, "big.cbor", append(readFileT(t, rel0Vector), make([]byte, maxInputSize)...))
	justPast := writeTemp(t, "past.cbor", append(readFileT(t, rel0Vector), make([]byte, token.MaxTokenSize)...))
	for _, tok := range []string{justPast, big} {
		ccatoken(t, nil, "inspect", tok).check(t, exitFailed, "malformed")
		ccatoken(t, nil, "verify", tok, "--cpak", cpakPub, "--nonce", rel0Nonce).check(t, exitFailed, "malformed")
		r := ccatoken(t, nil, "verify", tok, "--cpak", cpakPub, "--nonce", rel0Nonce, "-O", "json")
		r.check(t, exitFailed, "malformed")
		if !json.Valid([]byte(r.stdout)) || !strings.Contains(r.stdout, "exceeds the 65536-byte limit") {
			t.Errorf("verify -O json of %s:\n%s", tok, r.stdout)
		}
	}
	ccatoken(t, nil, "verify", rel0Vector, "--cpak", big, "--nonce", rel0Nonce).check(t, exitUsage, "--cpak: "+big+" is larger than")
}
