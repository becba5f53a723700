package main

// golden makes testvectors/: the keys' public files, the trust-anchor and
// reference-value stores, every token (from create, from the emulated
// machine, and broken on purpose) and manifest.json, which records how each
// token is verified and the verdict.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/fxamacker/cbor/v2"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/spf13/cobra"

	"github.com/ccakit/cca/emulator/rot"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
	"github.com/ccakit/cca/verifier"
)

type goldenOptions struct {
	dir   string
	check bool
}

func newGoldenCmd() *cobra.Command {
	var o goldenOptions
	cmd := &cobra.Command{
		Use:   "golden [--check] [--dir DIR]",
		Short: "Regenerate the test vectors (testvectors/), or check that they are up to date",
		Long: `golden regenerates the test vectors from their inputs: the claims files
(claims/*.json), the private keys (keys/*.pem; a missing one is created), the
realm descriptions (realms/) and the emulated machine. It writes the public
key files, the trust-anchor stores (trust-anchors/), the reference-value
stores (refvals/), every token, and manifest.json: for each token how it was
made, how to verify it, and the verdict ('ccatoken verify' exit status,
trustworthy or not, the checks that fail, the EAR statuses). testvectors/
README.md documents the set and the manifest.

Tokens made with create are signed with deterministic ECDSA (RFC 6979), so
their bytes do not change. Tokens from the emulated machine carry random
signatures: a regenerated one whose claims and verdicts are those of the
file on disk leaves the file as it is.

Before anything is written, every verdict is checked against what the
vector is made to show (a bad signature must fail its signature check, and
nothing else): golden refuses to record a vector that does not.

--check writes nothing. It regenerates in memory and reports, one line each
on standard error, every file that would change (bytes for deterministic
files, claims for emulated tokens), every token on disk whose verdict is not
the one recorded, and every difference in manifest.json.

Exit status: 0 written, or up to date with --check; 1 --check found
differences, or a vector does not show what it is made to; 2 usage or
unreadable inputs.`,
		Example: `  ccatoken golden
  ccatoken golden --check
  ccatoken golden --check --dir /tmp/testvectors-copy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGolden(cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	cmd.Flags().BoolVar(&o.check, "check", false, "write nothing; fail if regenerating would change a vector's claims or verdict")
	cmd.Flags().StringVar(&o.dir, "dir", "testvectors", "the test-vector `DIR`")
	return cmd
}

func runGolden(stdout, stderr io.Writer, o goldenOptions) error {
	if fi, err := os.Stat(o.dir); err != nil || !fi.IsDir() {
		return usagef("--dir %s: not a directory", o.dir)
	}
	g, err := generateGolden(o.dir, !o.check)
	if err != nil {
		return err
	}
	if o.check {
		diffs := g.check()
		for _, d := range diffs {
			fmt.Fprintf(stderr, "ccatoken: golden: %s\n", oneLine(d))
		}
		if len(diffs) > 0 {
			return evidenceError(fmt.Errorf("golden --check: %d difference(s) in %s; 'ccatoken golden' regenerates the vectors", len(diffs), o.dir))
		}
		fmt.Fprintf(stdout, "%s: %d vectors, %d files, up to date\n", o.dir, len(g.manifest.Vectors), len(g.files))
		return nil
	}
	written, err := g.write()
	if err != nil {
		return usagef("writing %s: %v", o.dir, err)
	}
	fmt.Fprintf(stdout, "%s: %d vectors, %d files, %d written\n", o.dir, len(g.manifest.Vectors), len(g.files), written)
	return nil
}

// ---- the manifest -------------------------------------------------------

// goldenManifest is testvectors/manifest.json.
type goldenManifest struct {
	About   string           `json:"about"`
	Vectors []manifestVector `json:"vectors"`
}

// manifestVector is one token and how it is verified.
type manifestVector struct {
	Name        string `json:"name"`
	File        string `json:"file"`
	Description string `json:"description"`
	// Source is how the token was made: "create" (from claims, as
	// 'ccatoken create' does), "emulator" (the emulated machine, as
	// 'ccatoken emulate' does) or "mutation" (another vector, broken).
	Source string `json:"source"`
	// MadeFrom names the inputs: claims, keys, realm, base vector.
	MadeFrom map[string]string `json:"made-from"`
	// Format is rel0, legacy, cmw, mixed, or malformed.
	Format      string `json:"format"`
	PlatformAlg string `json:"platform-alg,omitempty"`
	// Challenge is the realm challenge the token carries, in hex.
	Challenge string `json:"challenge,omitempty"`
	// Compare is what 'golden --check' compares: "bytes", or "claims" for
	// tokens with random signatures.
	Compare string        `json:"compare"`
	Verify  []manifestRun `json:"verify"`
}

// manifestRun is one 'ccatoken verify' of the token and its verdict. Paths
// are relative to the test-vector directory.
type manifestRun struct {
	CPAK         string   `json:"cpak,omitempty"`
	TrustAnchors string   `json:"trust-anchors,omitempty"`
	Refvals      string   `json:"refvals,omitempty"`
	Nonce        string   `json:"nonce,omitempty"`
	Policy       []string `json:"policy,omitempty"`
	// Command is the same verification from the repository's root.
	Command     string `json:"command"`
	Trustworthy bool   `json:"trustworthy"`
	Exit        int    `json:"exit"`
	// Failed lists the checks that did not pass, "platform <check>" or
	// "realm <check>" as the verifier names them.
	Failed []string `json:"failed,omitempty"`
	// EAR is the ear.status of each EAR submodule.
	EAR map[string]string `json:"ear"`
}

// args is the run as verify arguments, paths under dir.
func (r *manifestRun) args(dir, file string) []string {
	args := []string{"verify", filepath.Join(dir, filepath.FromSlash(file))}
	for _, f := range []struct{ flag, path string }{{"--cpak", r.CPAK}, {"--trust-anchors", r.TrustAnchors}, {"--refvals", r.Refvals}} {
		if f.path != "" {
			args = append(args, f.flag, filepath.Join(dir, filepath.FromSlash(f.path)))
		}
	}
	if r.Nonce != "" {
		args = append(args, "--nonce", r.Nonce)
	}
	return append(args, r.Policy...)
}

// ---- the vectors ---------------------------------------------------------

// createdVector is a token made by create from a claims file, signed by a
// CPAK and the RAK, and verifiable with the nonce.
type createdVector struct {
	file   string // under the vector directory
	claims string // under claims/
	cpak   string // private key keys/<cpak>.pem; public: .pub.pem, .pub.jwk
	rak    string // under keys/
	format evidence.Format
	nonce  string // hex, the realm challenge before zero padding
}

// createdVectors are the well-formed, trustworthy tokens made by create:
// every generation with an ES384 and an ES256 platform key.
var createdVectors = []createdVector{
	{"rel0-es384.cbor", "rel0.json", "cpak-p384", "rak-p384.pem", evidence.FormatREL0,
		"21a69831527cae75a4f3a4b32f1467346ccd7d94127af62c057bc756489641c5cc15c2f4d1eddef74bf3899da4cf4c7315e190027a885e8eab4099aafa086d44"},
	{"rel0-es256.cbor", "rel0.json", "cpak-p256", "rak-p384.pem", evidence.FormatREL0,
		"21a69831527cae75a4f3a4b32f1467346ccd7d94127af62c057bc756489641c5cc15c2f4d1eddef74bf3899da4cf4c7315e190027a885e8eab4099aafa086d44"},
	{"legacy-es384.cbor", "legacy.json", "cpak-p384", "rak-p384.pem", evidence.FormatLegacy,
		"d7e101f107d62ff5ca1363e86366186aec8b2da30fb9ebe3b1fa8c9e97fe7b2d026f0308ee7a4fe54c0cb1376b6e256f48edbe73941c75a792f00167fbc4b270"},
	{"cmw-es384.cbor", "cmw.json", "cpak-p384", "rak-p384.jwk", evidence.FormatCMW,
		"c2987f4af903380152dd62bd75225cffe5639800ad3b93db173bdf054ab2a56b"},
	{"legacy-es256.cbor", "legacy.json", "cpak-p256", "rak-p384.pem", evidence.FormatLegacy,
		"d7e101f107d62ff5ca1363e86366186aec8b2da30fb9ebe3b1fa8c9e97fe7b2d026f0308ee7a4fe54c0cb1376b6e256f48edbe73941c75a792f00167fbc4b270"},
	{"cmw-es256.cbor", "cmw.json", "cpak-p256", "rak-p384.jwk", evidence.FormatCMW,
		"c2987f4af903380152dd62bd75225cffe5639800ad3b93db173bdf054ab2a56b"},
}

// trustAnchorStore is the trust-anchor store of the vector's CPAK.
func (v createdVector) trustAnchorStore() string {
	if v.cpak == "cpak-p256" {
		return taCreatedP256
	}
	return taCreatedP384
}

func (v createdVector) alg() string {
	if v.cpak == "cpak-p256" {
		return "ES256"
	}
	return "ES384"
}

// keySpecs are the private keys of the vectors and how each is stored: the
// CPAKs as PKCS#8, the RAK as SEC1 and as a private JWK, so that every key
// form create accepts is shipped.
var keySpecs = []struct {
	name  string
	curve elliptic.Curve
	pkcs8 bool
}{
	{"cpak-p384", elliptic.P384(), true},
	{"cpak-p256", elliptic.P256(), true},
	{"rak-p384", elliptic.P384(), false},
}

// Files the stores are written to.
const (
	taCreatedP384   = "trust-anchors/created-p384.json"
	taCreatedP256   = "trust-anchors/created-p256.json"
	taEmulator      = "trust-anchors/emulator.json"
	rvCreated       = "refvals/created.json"
	rvEmulator      = "refvals/emulator.json"
	rvEmulatorRealm = "refvals/emulator-realm-only.json"
	emulatorCPAKPub = "keys/emulator-cpak.pub.pem"
	manifestFile    = "manifest.json"
)

// goldenRun is a verification of a vector and the failed checks it is made to
// show (none: trustworthy).
type goldenRun struct {
	manifestRun
	want []string
}

func (r goldenRun) with(policy ...string) goldenRun {
	r.Policy = append(slices.Clone(r.Policy), policy...)
	return r
}

func (r goldenRun) wants(failed ...string) goldenRun {
	r.want = failed
	return r
}

func (r goldenRun) noNonce() goldenRun {
	r.Nonce = ""
	return r
}

func withTA(ta, rv, nonce string) goldenRun {
	return goldenRun{manifestRun: manifestRun{TrustAnchors: ta, Refvals: rv, Nonce: nonce}}
}

func withCPAK(cpak, rv, nonce string) goldenRun {
	return goldenRun{manifestRun: manifestRun{CPAK: cpak, Refvals: rv, Nonce: nonce}}
}

// spec is one vector: its manifest entry without the verdicts, how to make
// its token, and its verifications.
type spec struct {
	manifestVector
	make func() ([]byte, error)
	runs []goldenRun
}

// goldenSet is a generated set of test vectors.
type goldenSet struct {
	dir       string
	files     map[string][]byte // every file golden makes, by slash path under dir
	compare   map[string]string // token files: "bytes" or "claims"
	manifest  goldenManifest
	verifiers map[string]*verifier.Verifier // by stores and policy: parsed once
}

// generator holds the inputs while the set is made.
type generator struct {
	*goldenSet
	create  bool // create missing private keys
	signers map[string]crypto.Signer
	tokens  map[string][]byte // by vector name
}

// generateGolden makes the whole set in memory. create allows creating
// missing private keys (and writes them at once: they are inputs).
func generateGolden(dir string, create bool) (*goldenSet, error) {
	g := &generator{
		goldenSet: &goldenSet{dir: dir, files: map[string][]byte{}, compare: map[string]string{}, verifiers: map[string]*verifier.Verifier{}},
		create:    create,
		signers:   map[string]crypto.Signer{},
		tokens:    map[string][]byte{},
	}
	if err := g.keys(); err != nil {
		return nil, err
	}
	if err := g.stores(); err != nil {
		return nil, err
	}
	g.manifest.About = "ccakit test vectors: how each token was made, how to verify it, and the verdict. " +
		"Written by 'ccatoken golden'; 'ccatoken golden --check' checks it. See README.md."
	for _, s := range g.vectorSpecs() {
		tok, err := s.make()
		if err != nil {
			return nil, fmt.Errorf("vector %s: %w", s.Name, err)
		}
		g.tokens[s.Name] = tok
		g.files[s.File] = tok
		g.compare[s.File] = s.Compare
		mv := s.manifestVector
		for i, r := range s.runs {
			mr, err := g.verdict(tok, s.File, r.manifestRun)
			if err != nil {
				return nil, fmt.Errorf("vector %s, verification %d: %w", s.Name, i, err)
			}
			want := r.want
			if want == nil {
				want = []string{}
			}
			got := mr.Failed
			if got == nil {
				got = []string{}
			}
			if !slices.Equal(got, want) {
				return nil, evidenceError(fmt.Errorf("vector %s, verification %d (%s): failed checks %q, but the vector is made to fail %q",
					s.Name, i, mr.Command, got, want))
			}
			mv.Verify = append(mv.Verify, mr)
		}
		g.manifest.Vectors = append(g.manifest.Vectors, mv)
	}
	m, err := json.MarshalIndent(g.manifest, "", "  ")
	if err != nil {
		return nil, err
	}
	g.files[manifestFile] = append(m, '\n')
	return g.goldenSet, nil
}

func (g *goldenSet) path(p string) string { return filepath.Join(g.dir, filepath.FromSlash(p)) }

// read reads a file of the set: the generated one, or the one on disk.
func (g *goldenSet) read(p string) ([]byte, error) {
	if b, ok := g.files[p]; ok {
		return b, nil
	}
	return os.ReadFile(g.path(p))
}

// keys loads the private keys (creating missing ones if allowed) and
// makes the files derived from them.
func (g *generator) keys() error {
	for _, ks := range keySpecs {
		p := "keys/" + ks.name + ".pem"
		data, err := os.ReadFile(g.path(p))
		if errors.Is(err, os.ErrNotExist) && g.create {
			data, err = newKeyPEM(ks.curve, ks.pkcs8)
			if err == nil {
				if err = os.MkdirAll(g.path("keys"), 0o755); err == nil {
					err = os.WriteFile(g.path(p), data, 0o644)
				}
			}
		}
		if err != nil {
			return usagef("%s: %v", p, pathErr(err))
		}
		signer, err := token.ParsePrivateKey(data)
		if err != nil {
			return usagef("%s: %v", p, err)
		}
		g.signers[ks.name] = signer
		if ks.pkcs8 { // a CPAK: its public half for verify
			if err := g.publicKeyFiles("keys/"+ks.name, signer.Public(), true); err != nil {
				return err
			}
			continue
		}
		// The RAK: also as a private JWK, the form evcli takes.
		k, err := jwk.FromRaw(signer)
		if err != nil {
			return err
		}
		b, err := json.Marshal(k)
		if err != nil {
			return err
		}
		g.files["keys/"+ks.name+".jwk"] = append(indentJSON(b), '\n')
	}
	r, err := rot.New(rot.Config{})
	if err != nil {
		return err
	}
	return g.publicKeyFiles(strings.TrimSuffix(emulatorCPAKPub, ".pub.pem"), r.CPAK(), false)
}

func (g *generator) publicKeyFiles(base string, pub crypto.PublicKey, withJWK bool) error {
	p, err := token.MarshalPublicPEM(pub)
	if err != nil {
		return err
	}
	g.files[base+".pub.pem"] = p
	if withJWK {
		j, err := token.MarshalPublicJWK(pub)
		if err != nil {
			return err
		}
		g.files[base+".pub.jwk"] = append(indentJSON(j), '\n')
	}
	return nil
}

func newKeyPEM(curve elliptic.Curve, pkcs8 bool) ([]byte, error) {
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		return nil, err
	}
	if pkcs8 {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func indentJSON(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return b
	}
	return out.Bytes()
}

// deterministic signs with RFC 6979 nonces (crypto/ecdsa does so when the
// random source is nil), so that regenerated tokens are byte-identical.
type deterministic struct{ *ecdsa.PrivateKey }

func (k deterministic) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil { // go-cose passes none; RFC 6979 needs the hash, which the digest size tells
		opts = map[int]crypto.Hash{32: crypto.SHA256, 48: crypto.SHA384, 64: crypto.SHA512}[len(digest)]
	}
	return k.PrivateKey.Sign(nil, digest, opts)
}

func (g *generator) signer(name string) crypto.Signer {
	return deterministic{g.signers[strings.TrimSuffix(strings.TrimSuffix(name, ".pem"), ".jwk")].(*ecdsa.PrivateKey)}
}

func (g *generator) claims(name string) (*claimsDocument, error) {
	data, err := os.ReadFile(g.path("claims/" + name))
	if err != nil {
		return nil, usagef("claims/%s: %v", name, pathErr(err))
	}
	doc, err := parseClaimsDocument(data)
	if err != nil {
		return nil, usagef("claims/%s: %v", name, err)
	}
	return doc, nil
}

// makeCreated makes a created vector's token the way create does, with
// deterministic signatures; edit, if set, changes the claims first.
func (g *generator) makeCreated(v createdVector, edit func(*claimsDocument)) ([]byte, error) {
	doc, err := g.claims(v.claims)
	if err != nil {
		return nil, err
	}
	if edit != nil {
		edit(doc)
	}
	return createEvidence(doc, g.signer(v.cpak), g.signer(v.rak), v.format, nil)
}

// ---- the stores -----------------------------------------------------------

// refvalStore is a reference-value store as verifier.ParseReferenceValues
// reads it (rust-ccatoken's member names, hex byte strings).
type refvalStore struct {
	Platform []refvalPlatform `json:"platform,omitempty"`
	Realm    []refvalRealm    `json:"realm,omitempty"`
}

type refvalPlatform struct {
	ImplementationID string         `json:"implementation-id"`
	Config           string         `json:"platform-configuration"`
	SwComponents     []refvalSwComp `json:"sw-components"`
}

type refvalSwComp struct {
	Type     string `json:"component-type,omitempty"`
	Value    string `json:"measurement-value"`
	SignerID string `json:"signer-id"`
	Version  string `json:"version,omitempty"`
}

type refvalRealm struct {
	InitialMeasurement     string   `json:"initial-measurement"`
	PersonalizationValue   string   `json:"personalization-value,omitempty"`
	ExtensibleMeasurements []string `json:"extensible-measurements,omitempty"`
	HashAlgo               string   `json:"hash-algo"`
}

func platformRefval(c *platform.Claims) refvalPlatform {
	p := refvalPlatform{ImplementationID: hex.EncodeToString(c.ImplementationID), Config: hex.EncodeToString(c.Config)}
	for _, sc := range c.SwComponents {
		p.SwComponents = append(p.SwComponents, refvalSwComp{Type: sc.MeasurementType, Value: hex.EncodeToString(sc.MeasurementValue),
			SignerID: hex.EncodeToString(sc.SignerID), Version: sc.Version})
	}
	return p
}

func realmRefval(c *realm.Claims) refvalRealm {
	r := refvalRealm{InitialMeasurement: hex.EncodeToString(c.InitialMeasurement),
		PersonalizationValue: hex.EncodeToString(c.PersonalizationValue), HashAlgo: c.HashAlgID}
	for _, rem := range c.ExtensibleMeasurements {
		r.ExtensibleMeasurements = append(r.ExtensibleMeasurements, hex.EncodeToString(rem))
	}
	return r
}

func (g *generator) putJSON(p string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	g.files[p] = append(b, '\n')
	return nil
}

// stores makes the trust-anchor and reference-value stores: those of the
// claims files (created vectors) and those of the emulated machine, each
// derived from its source, never from a token.
func (g *generator) stores() error {
	var rv refvalStore
	var anchorClaims *platform.Claims
	for _, name := range []string{"rel0.json", "legacy.json", "cmw.json"} {
		doc, err := g.claims(name)
		if err != nil {
			return err
		}
		p := platformRefval(doc.Platform)
		if !slices.ContainsFunc(rv.Platform, func(q refvalPlatform) bool { return equalJSON(p, q) }) {
			rv.Platform = append(rv.Platform, p)
		}
		rv.Realm = append(rv.Realm, realmRefval(doc.Realm))
		if anchorClaims == nil {
			anchorClaims = doc.Platform
		}
	}
	if err := g.putJSON(rvCreated, rv); err != nil {
		return err
	}
	for _, ta := range []struct{ file, key string }{{taCreatedP384, "cpak-p384"}, {taCreatedP256, "cpak-p256"}} {
		if err := g.putAnchors(ta.file, verifier.TrustAnchor{InstanceID: anchorClaims.InstanceID,
			ImplementationID: anchorClaims.ImplementationID, Key: g.signers[ta.key].Public()}); err != nil {
			return err
		}
	}

	// The emulated machine: its root of trust's identity and boot
	// measurements, and the RIM predicted from emulate's built-in realm.
	r, err := rot.New(rot.Config{})
	if err != nil {
		return err
	}
	pc := r.Claims(make([]byte, 32))
	var anchors []verifier.TrustAnchor
	for _, pub := range []crypto.PublicKey{r.CPAK(), g.signers["cpak-p256"].Public()} {
		id, err := rot.InstanceID(pub)
		if err != nil {
			return err
		}
		anchors = append(anchors, verifier.TrustAnchor{InstanceID: id, ImplementationID: pc.ImplementationID, Key: pub})
	}
	if err := g.putAnchors(taEmulator, anchors...); err != nil {
		return err
	}
	desc, err := realm.ParseDescription([]byte(defaultRealm))
	if err != nil {
		return err
	}
	plan, err := desc.Plan(nil)
	if err != nil {
		return err
	}
	pred := plan.Predict()
	// No REMs: the realm extends REM[0] at run time, which a runtime log,
	// not a reference value, explains (token-formats.md §5).
	er := refvalRealm{InitialMeasurement: hex.EncodeToString(pred.RIM), PersonalizationValue: hex.EncodeToString(pred.RPV),
		HashAlgo: pred.HashAlgo.Name()}
	if err := g.putJSON(rvEmulator, refvalStore{Platform: []refvalPlatform{platformRefval(pc)}, Realm: []refvalRealm{er}}); err != nil {
		return err
	}
	return g.putJSON(rvEmulatorRealm, refvalStore{Realm: []refvalRealm{er}})
}

func (g *generator) putAnchors(p string, anchors ...verifier.TrustAnchor) error {
	ta, err := verifier.NewTrustAnchors(anchors...)
	if err != nil {
		return err
	}
	b, err := json.Marshal(ta)
	if err != nil {
		return err
	}
	g.files[p] = append(indentJSON(b), '\n')
	return nil
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// ---- the specs ------------------------------------------------------------

// challengeFor derives a fixed realm challenge for a vector from its name:
// 64 bytes, or 32 (zero-padded by the RMM) when short.
func challengeFor(name string, short bool) string {
	if short {
		h := sha256.Sum256([]byte("ccakit golden challenge " + name))
		return hex.EncodeToString(h[:])
	}
	h := sha512.Sum512([]byte("ccakit golden challenge " + name))
	return hex.EncodeToString(h[:])
}

func (g *generator) vectorSpecs() []spec {
	var specs []spec
	add := func(s spec) { specs = append(specs, s) }

	// Created, trustworthy: every generation, both platform algorithms.
	for _, v := range createdVectors {
		full := withTA(v.trustAnchorStore(), rvCreated, v.nonce)
		runs := []goldenRun{full}
		switch v.file {
		case "rel0-es384.cbor":
			cpak := "keys/cpak-p384.pub.pem"
			runs = append(runs,
				// The cryptographic legs only (issue 2): not trustworthy
				// by default; the flags that waive the appraisal accept it.
				withCPAK(cpak, "", "").wants("platform implementation id", "realm freshness", "realm initial measurement"),
				withCPAK(cpak, "", v.nonce).with("--allow-unknown-platform-unsafe", "--allow-unknown-realm-unsafe"),
				withCPAK(cpak, "", "").with("--allow-missing-nonce-unsafe", "--allow-unknown-platform-unsafe", "--allow-unknown-realm-unsafe"),
				full.noNonce().wants("realm freshness"),
				full.noNonce().with("--allow-missing-nonce-unsafe"),
				full.with("--require-rems", "--reject-unknown-claims"),
				// Another platform's key.
				withTA(taEmulator, rvCreated, v.nonce).wants("platform trust anchor"),
			)
		case "rel0-es256.cbor":
			runs = append(runs,
				withCPAK("keys/cpak-p256.pub.jwk", rvCreated, v.nonce),
				// The other CPAK: the token says ES256, the key is P-384.
				withCPAK("keys/cpak-p384.pub.pem", rvCreated, v.nonce).wants("platform signature"),
				withTA(taCreatedP384, rvCreated, v.nonce).wants("platform signature"),
			)
		case "cmw-es384.cbor":
			runs = append(runs, withCPAK("keys/cpak-p384.pub.jwk", rvCreated, v.nonce))
		}
		add(spec{
			manifestVector: manifestVector{
				Name: strings.TrimSuffix(v.file, ".cbor"), File: v.file, Source: "create", Format: v.format.String(),
				PlatformAlg: v.alg(), Challenge: v.nonce, Compare: "bytes",
				Description: fmt.Sprintf("%s evidence made by create from claims/%s, platform token signed %s; trustworthy with its trust anchor, the reference values and its nonce",
					v.format, v.claims, v.alg()),
				MadeFrom: map[string]string{"claims": "claims/" + v.claims, "cpak": "keys/" + v.cpak + ".pem", "rak": "keys/" + v.rak},
			},
			make: func() ([]byte, error) { return g.makeCreated(v, nil) },
			runs: runs,
		})
	}
	rel0 := createdVectors[0]
	full := withTA(taCreatedP384, rvCreated, rel0.nonce)
	bad := func(name, desc, format string, mk func() ([]byte, error), runs ...goldenRun) {
		add(spec{
			manifestVector: manifestVector{
				Name: "bad/" + name, File: "bad/" + name + ".cbor", Source: "mutation", Format: format, PlatformAlg: "ES384",
				Challenge: rel0.nonce, Compare: "bytes", Description: desc,
				MadeFrom: map[string]string{"base": "rel0-es384", "cpak": "keys/cpak-p384.pem", "rak": "keys/rak-p384.pem"},
			},
			make: mk,
			runs: runs,
		})
	}
	base := func() []byte { return g.tokens["rel0-es384"] }

	bad("platform-signature", "rel0-es384 with one bit of the platform token's signature flipped",
		"rel0", func() ([]byte, error) {
			return editCollection(base(), func(c *token.Collection) { c.Platform = flipLastBit(c.Platform) })
		}, full.wants("platform signature"))
	bad("realm-signature", "rel0-es384 with one bit of the realm token's signature flipped",
		"rel0", func() ([]byte, error) {
			return editCollection(base(), func(c *token.Collection) { c.Realm = flipLastBit(c.Realm) })
		}, full.wants("realm signature"))
	bad("binding", "rel0-es384 with a platform challenge that is not the hash of the RAK (both tokens well signed)",
		"rel0", func() ([]byte, error) {
			return g.resignPlatform(base(), "cpak-p384", func(p *platform.Claims) {
				h := sha256.Sum256([]byte("ccakit golden: not the RAK"))
				p.Challenge = h[:]
			})
		}, full.wants("realm binding"))
	stale := challengeFor("bad/stale-nonce", false)
	bad("stale-nonce", "rel0 evidence over an earlier challenge, verified with the relying party's current nonce",
		"rel0", func() ([]byte, error) {
			return g.makeCreated(rel0, func(d *claimsDocument) { d.Realm.Challenge, _ = hex.DecodeString(stale) })
		}, full.wants("realm freshness"), full.noNonce().with("--allow-missing-nonce-unsafe"))
	specs[len(specs)-1].Challenge = stale
	bad("wrong-rim", "rel0 evidence, genuine and fresh, of a realm whose initial measurement is not in the reference values",
		"rel0", func() ([]byte, error) {
			return g.makeCreated(rel0, func(d *claimsDocument) {
				h := sha256.Sum256([]byte("ccakit golden: another realm image"))
				d.Realm.InitialMeasurement = h[:]
			})
		}, full.wants("realm initial measurement"),
		// Without realm reference values the RIM is not checked at all.
		withTA(taCreatedP384, rvEmulatorRealm, rel0.nonce).wants("platform implementation id", "realm initial measurement"))
	bad("mixed-profiles", "legacy-es384's platform claims (CCA-SSD profile) bound to rel0-es384's realm token (2023 profile) in one tag-399 collection",
		"mixed", func() ([]byte, error) { return g.mixed() },
		full.wants("realm profile coherence"), full.with("--allow-mixed-profiles-unsafe"))
	specs[len(specs)-1].MadeFrom["base"] = "legacy-es384 and rel0-es384"
	bad("unknown-claim", "rel0 evidence whose platform token carries a claim (key 99999) no profile defines: trustworthy by default, not with --reject-unknown-claims",
		"rel0", func() ([]byte, error) {
			return g.makeCreated(rel0, func(d *claimsDocument) {
				d.Platform.Extra = map[int64]cbor.RawMessage{99999: cbor.RawMessage{0x63, 'c', 'c', 'a'}}
			})
		}, full, full.with("--reject-unknown-claims").wants("platform claims"))
	// Malformed encodings: decode fails and nothing else is checked.
	malformed := func(name, desc string, mk func() ([]byte, error)) {
		bad(name, desc, "malformed", mk, full.wants("platform decode"))
	}
	malformed("truncated", "rel0-es384 without its last 16 bytes",
		func() ([]byte, error) { b := base(); return bytes.Clone(b[:len(b)-16]), nil })
	malformed("trailing-bytes", "rel0-es384 followed by one more byte (0x00)",
		func() ([]byte, error) { return append(bytes.Clone(base()), 0x00), nil })
	malformed("duplicate-key", "rel0-es384 whose platform claims carry the lifecycle twice, 0x3003 then 0x5000, well signed: a lax decoder would take either",
		func() ([]byte, error) { return g.duplicateLifecycle(base()) })
	malformed("wrong-tag", "rel0-es384 with the outer tag 398 instead of 399",
		func() ([]byte, error) {
			b := bytes.Clone(base())
			b[2]-- // d9 01 8f: tag 399
			return b, nil
		})

	// From the emulated machine: every generation with the test CPAK
	// (ES384) and with keys/cpak-p256.pem, a debug platform in each debug
	// state, and a realm that is not the one of the reference values.
	emu := func(name, format, cpak string, short bool, lc *platform.Lifecycle, realmFile, desc string, runs ...goldenRun) {
		challenge := challengeFor("emulated/"+name, short)
		made := map[string]string{"realm": "emulate's built-in realm", "cpak": "emulator/rot.TestCPAKScalar",
			"rak": "emulator/rot.TestRAKScalar"}
		alg := "ES384"
		if cpak != "" {
			made["cpak"], alg = "keys/"+cpak+".pem", "ES256"
		}
		if realmFile != "" {
			made["realm"] = realmFile
		}
		if lc != nil {
			made["lifecycle"] = fmt.Sprintf("%#04x", uint64(*lc))
		}
		for i := range runs { // "=": the vector's challenge, known only here
			if runs[i].Nonce == "=" {
				runs[i].Nonce = challenge
			}
		}
		add(spec{
			manifestVector: manifestVector{
				Name: "emulated/" + name, File: "emulated/" + name + ".cbor", Source: "emulator", Format: format, PlatformAlg: alg,
				Challenge: challenge, Compare: "claims", Description: desc, MadeFrom: made,
			},
			make: func() ([]byte, error) {
				o := emulateOptions{format: format, challenge: challenge, lifecycle: lc}
				if cpak != "" {
					o.cpak = g.path("keys/" + cpak + ".pem")
				}
				if realmFile != "" {
					o.realmFile = g.path(realmFile)
				}
				res, err := emulateRealm(o, nil)
				if err != nil {
					return nil, err
				}
				res.machine.Close()
				return res.token, nil
			},
			runs: runs,
		})
	}
	emuFull := withTA(taEmulator, rvEmulator, "=")
	for _, f := range []string{"rel0", "legacy", "cmw"} {
		runs := []goldenRun{emuFull}
		if f == "rel0" {
			runs = append(runs,
				emuFull.with("--require-rems").wants("realm REM 0", "realm REM 1", "realm REM 2", "realm REM 3"),
				withTA(taEmulator, rvEmulatorRealm, "=").wants("platform implementation id"),
				withTA(taEmulator, rvEmulatorRealm, "=").with("--allow-unknown-platform-unsafe"),
				withCPAK(emulatorCPAKPub, "", "=").with("--allow-unknown-platform-unsafe", "--allow-unknown-realm-unsafe"),
				withTA(taCreatedP384, rvEmulator, "=").wants("platform trust anchor"),
			)
		}
		emu(f+"-es384", f, "", f == "cmw", nil, "", fmt.Sprintf("%s token from the emulated machine with its test keys: the realm extends REM[0] and asks over RSI", f), runs...)
		emu(f+"-es256", f, "cpak-p256", f == "cmw", nil, "", fmt.Sprintf("%s token from the emulated machine with keys/cpak-p256.pem as its CPAK", f), emuFull)
	}
	cca, nonCCA := platform.Lifecycle(0x5003), platform.Lifecycle(0x4003)
	emu("debug-cca", "rel0", "", false, &cca, "",
		"rel0 token from an emulated platform in the recoverable CCA-platform debug lifecycle state (0x5003)",
		emuFull.wants("platform lifecycle"),
		emuFull.with("--allow-non-cca-platform-debug-unsafe").wants("platform lifecycle"),
		emuFull.with("--allow-debug-lifecycle-unsafe"))
	emu("debug-non-cca", "rel0", "", false, &nonCCA, "",
		"rel0 token from an emulated platform in the non-CCA-platform debug lifecycle state (0x4003)",
		emuFull.wants("platform lifecycle"),
		emuFull.with("--allow-non-cca-platform-debug-unsafe"),
		emuFull.with("--allow-debug-lifecycle-unsafe"))
	emu("wrong-rim", "rel0", "", false, nil, "realms/small.json",
		"rel0 token of the realm realms/small.json, appraised against the reference values of emulate's built-in realm",
		emuFull.wants("realm initial measurement"))
	return specs
}

func flipLastBit(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)-1] ^= 0x01
	return c
}

func editCollection(raw []byte, edit func(*token.Collection)) ([]byte, error) {
	c, err := token.DecodeCollection(raw)
	if err != nil {
		return nil, err
	}
	edit(c)
	return c.Encode()
}

// resignPlatform changes a token's platform claims and signs them again,
// without validating; the realm token stays as it is.
func (g *generator) resignPlatform(raw []byte, cpak string, edit func(*platform.Claims)) ([]byte, error) {
	ev, err := evidence.Decode(raw)
	if err != nil {
		return nil, err
	}
	edit(ev.Platform)
	payload, err := ev.Platform.Encode()
	if err != nil {
		return nil, err
	}
	return g.withPlatformPayload(ev, payload, cpak)
}

func (g *generator) withPlatformPayload(ev *evidence.Evidence, payload []byte, cpak string) ([]byte, error) {
	pt, err := token.SignPayload(payload, g.signer(cpak), nil)
	if err != nil {
		return nil, err
	}
	return (&token.Collection{Wrapper: ev.Collection.Wrapper, Platform: pt, Realm: ev.Collection.Realm}).Encode()
}

// mixed binds legacy-es384's platform claims to rel0-es384's realm token.
func (g *generator) mixed() ([]byte, error) {
	legacy, err := evidence.Decode(g.tokens["legacy-es384"])
	if err != nil {
		return nil, err
	}
	rel0, err := evidence.Decode(g.tokens["rel0-es384"])
	if err != nil {
		return nil, err
	}
	if legacy.Platform.Challenge, err = token.Binding(rel0.Realm.PubKeyHashAlgID, rel0.Realm.PubKey); err != nil {
		return nil, err
	}
	payload, err := legacy.Platform.Encode()
	if err != nil {
		return nil, err
	}
	return g.withPlatformPayload(rel0, payload, "cpak-p384")
}

// duplicateLifecycle appends a second lifecycle claim to the platform
// claims map and signs the result.
func (g *generator) duplicateLifecycle(raw []byte) ([]byte, error) {
	ev, err := evidence.Decode(raw)
	if err != nil {
		return nil, err
	}
	p := ev.PlatformSign1.Payload
	var head []byte
	switch n := p[0]; {
	case n >= 0xa0 && n < 0xb7: // a map of fewer than 23 entries
		head = []byte{n + 1}
	case n == 0xb7:
		head = []byte{0xb8, 24}
	case n == 0xb8 && p[1] < 0xff:
		head, p = []byte{0xb8, p[1] + 1}, p[1:]
	default:
		return nil, fmt.Errorf("platform claims do not start with a small map head (%#x)", n)
	}
	entry, err := cbor.Marshal(map[int64]uint64{token.KeyLifecycle: 0x5000})
	if err != nil {
		return nil, err
	}
	payload := slices.Concat(head, p[1:], entry[1:]) // entry without its one-entry map head
	return g.withPlatformPayload(ev, payload, "cpak-p384")
}

// ---- verdicts ------------------------------------------------------------

// verdict verifies a token as run says, through the verifier library, and
// fills in the command and the verdict.
func (g *goldenSet) verdict(tok []byte, file string, r manifestRun) (manifestRun, error) {
	v, err := g.verifier(r)
	if err != nil {
		return r, err
	}
	var nonce []byte
	if r.Nonce != "" {
		if nonce, err = hex.DecodeString(r.Nonce); err != nil {
			return r, err
		}
	}
	res, err := v.Verify(context.Background(), tok, nonce)
	if err != nil {
		return r, err
	}
	r.Command = "ccatoken " + strings.Join(slashPaths(r.args("testvectors", file)), " ")
	r.Trustworthy = res.Trustworthy
	r.Exit = exitOK
	if !res.Trustworthy {
		r.Exit = exitFailed
	}
	r.Failed = failedChecks(res)
	ar, err := res.EAR()
	if err != nil {
		return r, err
	}
	r.EAR = map[string]string{}
	for name, a := range ar.Submods {
		if a.Status != nil {
			r.EAR[name] = a.Status.String()
		}
	}
	return r, nil
}

// verifier is the verifier of a run's stores and policy.
func (g *goldenSet) verifier(r manifestRun) (*verifier.Verifier, error) {
	key := strings.Join(slices.Concat([]string{r.CPAK, r.TrustAnchors, r.Refvals}, r.Policy), "\x00")
	if v, ok := g.verifiers[key]; ok {
		return v, nil
	}
	var anchors *verifier.TrustAnchors
	var opts []verifier.Option
	switch {
	case r.CPAK != "":
		data, err := g.read(r.CPAK)
		if err != nil {
			return nil, err
		}
		if anchors, err = verifier.ParseTrustAnchorKey(data); err != nil {
			return nil, err
		}
	default:
		data, err := g.read(r.TrustAnchors)
		if err != nil {
			return nil, err
		}
		if anchors, err = verifier.ParseTrustAnchors(data); err != nil {
			return nil, err
		}
	}
	if r.Refvals != "" {
		data, err := g.read(r.Refvals)
		if err != nil {
			return nil, err
		}
		rv, err := verifier.ParseReferenceValues(data)
		if err != nil {
			return nil, err
		}
		opts = append(opts, verifier.WithReferenceValues(rv))
	}
	var policy verifier.Policy
	for _, f := range r.Policy {
		i := slices.IndexFunc(policyFlags, func(pf policyFlag) bool { return "--"+pf.name == f })
		if i < 0 {
			return nil, fmt.Errorf("unknown policy flag %q", f)
		}
		*policyFlags[i].field(&policy) = true
	}
	v, err := verifier.New(anchors, append(opts, verifier.WithPolicy(policy))...)
	if err != nil {
		return nil, err
	}
	g.verifiers[key] = v
	return v, nil
}

func slashPaths(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = filepath.ToSlash(a)
	}
	return out
}

// sideCheck is a check and the side it is of: "platform" or "realm".
type sideCheck struct {
	side string
	verifier.Check
}

// failingChecks lists the checks of a result that did not pass, in the
// order and with the omissions of Result.Reasons: the realm's copies of the
// platform's verdict (its "platform" check, a decode failure) are left out.
func failingChecks(res *verifier.Result) []sideCheck {
	var out []sideCheck
	for _, side := range []struct {
		name   string
		checks []verifier.Check
	}{{"platform", res.Platform.Checks}, {"realm", res.Realm.Checks}} {
		for _, c := range side.checks {
			if c.Passed() || (side.name == "realm" && (c.ID == verifier.CheckPlatform || c.ID == verifier.CheckDecode)) {
				continue
			}
			out = append(out, sideCheck{side.name, c})
		}
	}
	return out
}

// failedChecks names the failing checks, "platform <check>" and "realm
// <check>".
func failedChecks(res *verifier.Result) []string {
	var out []string
	for _, c := range failingChecks(res) {
		out = append(out, c.side+" "+c.Name())
	}
	return out
}

// ---- writing and checking -----------------------------------------------

func (g *goldenSet) sortedFiles() []string {
	names := make([]string, 0, len(g.files))
	for n := range g.files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// write writes every file that changed. An emulated token whose claims and
// verdicts are those of the file on disk is left as it is, so that its
// random signatures do not churn.
func (g *goldenSet) write() (int, error) {
	written := 0
	for _, name := range g.sortedFiles() {
		data := g.files[name]
		p := g.path(name)
		old, err := os.ReadFile(p)
		if err == nil && bytes.Equal(old, data) {
			continue
		}
		if err == nil && g.compare[name] == "claims" && len(claimsDiff(old, data)) == 0 && len(g.verdictDiffs(name, old)) == 0 {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return written, err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return written, err
		}
		written++
	}
	return written, nil
}

// check compares the generated set with the files on disk and returns one
// line per difference.
func (g *goldenSet) check() []string {
	var diffs []string
	for _, name := range g.sortedFiles() {
		data := g.files[name]
		old, err := os.ReadFile(g.path(name))
		switch {
		case err != nil:
			diffs = append(diffs, fmt.Sprintf("%s: %v", name, pathErr(err)))
		case name == manifestFile:
			diffs = append(diffs, manifestDiff(old, g.manifest)...)
		case g.compare[name] == "claims":
			for _, d := range claimsDiff(old, data) {
				diffs = append(diffs, name+": "+d)
			}
			diffs = append(diffs, g.verdictDiffs(name, old)...)
		case !bytes.Equal(old, data):
			what := "differs from what its inputs give"
			if _, isToken := g.compare[name]; isToken {
				if d := claimsDiff(old, data); len(d) > 0 {
					what += ": " + strings.Join(d, "; ")
				}
			}
			diffs = append(diffs, name+": "+what)
		}
	}
	return diffs
}

// verdictDiffs verifies a token file's bytes on disk as the manifest says
// and reports every verdict that is not the regenerated one.
func (g *goldenSet) verdictDiffs(file string, tok []byte) []string {
	var diffs []string
	for _, mv := range g.manifest.Vectors {
		if mv.File != file {
			continue
		}
		for i, want := range mv.Verify {
			got, err := g.verdict(tok, file, want)
			if err != nil {
				diffs = append(diffs, fmt.Sprintf("%s: verification %d: %v", file, i, err))
				continue
			}
			if d := runDiff(want, got); d != "" {
				diffs = append(diffs, fmt.Sprintf("%s: verification %d (%s): the file on disk gives %s", file, i, want.Command, d))
			}
		}
	}
	return diffs
}

// runDiff describes how a verdict differs from the expected one.
func runDiff(want, got manifestRun) string {
	var d []string
	if want.Trustworthy != got.Trustworthy || want.Exit != got.Exit {
		d = append(d, fmt.Sprintf("trustworthy %v, exit %d (recorded: trustworthy %v, exit %d)", got.Trustworthy, got.Exit, want.Trustworthy, want.Exit))
	}
	if !slices.Equal(want.Failed, got.Failed) {
		d = append(d, fmt.Sprintf("failed checks %q (recorded: %q)", got.Failed, want.Failed))
	}
	if !equalJSON(want.EAR, got.EAR) {
		d = append(d, fmt.Sprintf("EAR statuses %v (recorded: %v)", got.EAR, want.EAR))
	}
	return strings.Join(d, "; ")
}

// manifestDiff compares the manifest on disk with the regenerated one,
// vector by vector and verification by verification.
func manifestDiff(old []byte, want goldenManifest) []string {
	var got goldenManifest
	dec := json.NewDecoder(bytes.NewReader(old))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		return []string{manifestFile + ": not a manifest: " + err.Error()}
	}
	var diffs []string
	byName := map[string]manifestVector{}
	for _, v := range got.Vectors {
		byName[v.Name] = v
	}
	seen := map[string]bool{}
	for _, w := range want.Vectors {
		seen[w.Name] = true
		g, ok := byName[w.Name]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: vector %s is missing", manifestFile, w.Name))
			continue
		}
		wv, gv := w, g
		wv.Verify, gv.Verify = nil, nil
		if !equalJSON(wv, gv) {
			diffs = append(diffs, fmt.Sprintf("%s: vector %s: its description differs (name, file, source, inputs, format, challenge)", manifestFile, w.Name))
		}
		for i := range max(len(w.Verify), len(g.Verify)) {
			switch {
			case i >= len(g.Verify):
				diffs = append(diffs, fmt.Sprintf("%s: vector %s: verification %d (%s) is missing", manifestFile, w.Name, i, w.Verify[i].Command))
			case i >= len(w.Verify):
				diffs = append(diffs, fmt.Sprintf("%s: vector %s: verification %d (%s) would be removed", manifestFile, w.Name, i, g.Verify[i].Command))
			case !equalJSON(w.Verify[i], g.Verify[i]):
				what := runDiff(g.Verify[i], w.Verify[i])
				if what == "" {
					what = "the command or its inputs differ: " + w.Verify[i].Command
				} else {
					what = "regenerating gives " + what
				}
				diffs = append(diffs, fmt.Sprintf("%s: vector %s: verification %d: %s", manifestFile, w.Name, i, what))
			}
		}
	}
	for _, g := range got.Vectors {
		if !seen[g.Name] {
			diffs = append(diffs, fmt.Sprintf("%s: vector %s would be removed", manifestFile, g.Name))
		}
	}
	if got.About != want.About {
		diffs = append(diffs, manifestFile+": \"about\" differs")
	}
	return diffs
}

// claimsDiff compares two tokens by what they say: the wrapper, each
// token's algorithm and every claim, ignoring signatures. Tokens that do
// not decode are compared by their bytes.
func claimsDiff(old, new []byte) []string {
	a, errA := evidence.Decode(old)
	b, errB := evidence.Decode(new)
	if errA != nil || errB != nil {
		if bytes.Equal(old, new) {
			return nil
		}
		if errA != nil {
			return []string{"does not decode: " + errA.Error()}
		}
		return []string{"differs (the regenerated token does not decode: " + errB.Error() + ")"}
	}
	var diffs []string
	if ka, kb := a.Kind(), b.Kind(); ka != kb {
		diffs = append(diffs, fmt.Sprintf("evidence is %v, regenerating gives %v", ka, kb))
	}
	if a.PlatformSign1.Alg != b.PlatformSign1.Alg || a.RealmSign1.Alg != b.RealmSign1.Alg {
		diffs = append(diffs, fmt.Sprintf("algorithms %v/%v, regenerating gives %v/%v",
			a.PlatformSign1.Alg, a.RealmSign1.Alg, b.PlatformSign1.Alg, b.RealmSign1.Alg))
	}
	ma, mb := claimsMap(a), claimsMap(b)
	keys := make([]string, 0, len(ma)+len(mb))
	for k := range ma {
		keys = append(keys, k)
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if va, vb := ma[k], mb[k]; va != vb {
			diffs = append(diffs, fmt.Sprintf("claim %s is %s, regenerating gives %s", k, orAbsent(va), orAbsent(vb)))
		}
	}
	return diffs
}

func orAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// claimsMap flattens a token's claims (inspect's JSON form, so every claim
// has a name) to "token.member" -> JSON value.
func claimsMap(e *evidence.Evidence) map[string]string {
	doc := newClaimsDocument(e, nil)
	b, err := json.Marshal(doc)
	out := map[string]string{}
	if err != nil {
		return out
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return out
	}
	for _, name := range []string{"cca-platform-token", "cca-realm-delegated-token"} {
		var members map[string]json.RawMessage
		if json.Unmarshal(top[name], &members) != nil {
			continue
		}
		for k, v := range members {
			out[k] = string(v)
		}
	}
	for _, name := range []string{"cca-platform-extra-claims", "cca-realm-extra-claims"} {
		if v, ok := top[name]; ok {
			out[name] = string(v)
		}
	}
	return out
}
