package testvectors

// This file makes the set: the keys' public files, the trust-anchor and
// reference-value stores, every token (made from claims as `ccatoken
// create` does, from the emulated machine, and broken on purpose) and
// manifest.json, with every verdict checked against the vector's intent.

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
	"strings"

	"github.com/fxamacker/cbor/v2"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rot"
	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/internal/emulation"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/realmbuild"
	"github.com/ccakit/cca/token"
	"github.com/ccakit/cca/verifier"
)

// ---- the vectors ---------------------------------------------------------

// Created is a token made from a claims file as `ccatoken create` does,
// signed by a CPAK and the RAK, and verifiable with its nonce.
type Created struct {
	File   string // under the vector directory
	Claims string // under claims/
	CPAK   string // private key keys/<CPAK>.pem; public: .pub.pem, .pub.jwk
	RAK    string // under keys/
	Format evidence.Format
	Nonce  string // hex, the realm challenge before zero padding
}

// CreatedVectors are the well-formed, trustworthy tokens made from claims:
// every generation with an ES384 and an ES256 platform key.
var CreatedVectors = []Created{
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

// TFRMMMainVector is the token of TF-RMM main's shape made from claims: tag
// 907, the 2023 platform profile, a realm 2.0 token with the realm instance
// id and the MEC policy (integer form).
var TFRMMMainVector = Created{"tfrmm-main-es384.cbor", "tfrmm-main.json", "cpak-p384", "rak-p384.pem", evidence.FormatTFRMMMain,
	"fbd4201d7d332e4404ef42fdb0715d96cdd4116baf87e810546c010ed5a90f3e39a0f2dd4edf064dddb54f10f4e48de254ff26621f5a42ecb01425c1afa36a82"}

// TrustAnchors is the trust-anchor store of the vector's CPAK.
func (v Created) TrustAnchors() string {
	if v.CPAK == "cpak-p256" {
		return TACreatedP256
	}
	return TACreatedP384
}

// Name is the vector's name in the manifest.
func (v Created) Name() string { return strings.TrimSuffix(v.File, ".cbor") }

func (v Created) alg() string {
	if v.CPAK == "cpak-p256" {
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
	// The provisioner that signs the signed CoRIMs (a public key file
	// like a CPAK's: verify --corim-key).
	{"corim-signer-p256", elliptic.P256(), true},
}

// plannedRun is a verification of a vector and the failed checks it is made to
// show (none: trustworthy).
type plannedRun struct {
	Run
	want []string
}

func (r plannedRun) with(policy ...string) plannedRun {
	r.Policy = append(slices.Clone(r.Policy), policy...)
	return r
}

func (r plannedRun) wants(failed ...string) plannedRun {
	r.want = failed
	return r
}

// signedBy gives the key that checks signed CoRIMs.
func (r plannedRun) signedBy(key string) plannedRun {
	r.CoRIMKey = key
	return r
}

// also adds reference-value stores after the run's first.
func (r plannedRun) also(refvals ...string) plannedRun {
	r.AlsoRefvals = append(slices.Clone(r.AlsoRefvals), refvals...)
	return r
}

func (r plannedRun) noNonce() plannedRun {
	r.Nonce = ""
	return r
}

func withTA(ta, rv, nonce string) plannedRun {
	return plannedRun{Run: Run{TrustAnchors: ta, Refvals: rv, Nonce: nonce}}
}

func withCPAK(cpak, rv, nonce string) plannedRun {
	return plannedRun{Run: Run{CPAK: cpak, Refvals: rv, Nonce: nonce}}
}

// spec is one vector: its manifest entry without the verdicts, how to make
// its token, and its verifications.
type spec struct {
	Vector
	make func() ([]byte, error)
	runs []plannedRun
}

// Set is a generated set of test vectors, in memory until Write.
type Set struct {
	dir       string
	files     map[string][]byte // every file the set has, by slash path under dir
	compare   map[string]string // token files: "bytes" or "claims"
	manifest  Manifest
	verifiers map[string]*verifier.Verifier // by stores and policy: parsed once
}

// generator holds the inputs while the set is made.
type generator struct {
	*Set
	create  bool // create missing private keys
	signers map[string]crypto.Signer
	tokens  map[string][]byte // by vector name
}

// Generate makes the whole set of directory dir in memory from its inputs.
// createKeys allows creating missing private keys (written at once: they
// are inputs). A vector whose verdict is not the one it is made to show is
// an error wrapping ErrIntent; a missing or unreadable input, ErrInput.
func Generate(dir string, createKeys bool) (*Set, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory", ErrInput, dir)
	}
	g := &generator{
		Set:     &Set{dir: dir, files: map[string][]byte{}, compare: map[string]string{}, verifiers: map[string]*verifier.Verifier{}},
		create:  createKeys,
		signers: map[string]crypto.Signer{},
		tokens:  map[string][]byte{},
	}
	if err := g.keys(); err != nil {
		return nil, err
	}
	if err := g.stores(); err != nil {
		return nil, err
	}
	g.manifest.About = "ccakit test vectors: how each token was made, how to verify it, and the verdict. " +
		"Written by 'go test ./internal/testvectors -update'; 'go test ./internal/testvectors' checks it. See README.md."
	for _, s := range g.vectorSpecs() {
		tok, err := s.make()
		if err != nil {
			return nil, fmt.Errorf("vector %s: %w", s.Name, err)
		}
		g.tokens[s.Name] = tok
		g.files[s.File] = tok
		g.compare[s.File] = s.Compare
		mv := s.Vector
		for i, r := range s.runs {
			mr, err := g.verdict(tok, s.File, r.Run)
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
				return nil, fmt.Errorf("%w: vector %s, verification %d (%s): failed checks %q, but the vector is made to fail %q",
					ErrIntent, s.Name, i, mr.Command, got, want)
			}
			mv.Verify = append(mv.Verify, mr)
		}
		g.manifest.Vectors = append(g.manifest.Vectors, mv)
	}
	m, err := json.MarshalIndent(g.manifest, "", "  ")
	if err != nil {
		return nil, err
	}
	g.files[ManifestFile] = append(m, '\n')
	return g.Set, nil
}

func (g *Set) path(p string) string { return filepath.Join(g.dir, filepath.FromSlash(p)) }

// read reads a file of the set: the generated one, or the one on disk.
func (g *Set) read(p string) ([]byte, error) {
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
			return fmt.Errorf("%w: %v", ErrInput, err)
		}
		signer, err := token.ParsePrivateKey(data)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInput, p, err)
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
	return g.publicKeyFiles(strings.TrimSuffix(EmulatorCPAKPub, ".pub.pem"), r.CPAK(), false)
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

// claimsFile is a claims file of claims/: the evcli form of the two claims
// sets, the form `ccatoken create --claims` reads.
type claimsFile struct {
	Platform *platform.Claims `json:"cca-platform-token"`
	Realm    *realm.Claims    `json:"cca-realm-delegated-token"`
}

func (g *generator) claims(name string) (*claimsFile, error) {
	data, err := os.ReadFile(g.path("claims/" + name))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	var doc claimsFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: claims/%s: %v", ErrInput, name, err)
	}
	if doc.Platform == nil || doc.Realm == nil {
		return nil, fmt.Errorf("%w: claims/%s: a token object is missing", ErrInput, name)
	}
	return &doc, nil
}

// makeCreated makes a created vector's token the way create does, with
// deterministic signatures; edit, if set, changes the claims first.
func (g *generator) makeCreated(v Created, edit func(*claimsFile)) ([]byte, error) {
	doc, err := g.claims(v.Claims)
	if err != nil {
		return nil, err
	}
	if edit != nil {
		edit(doc)
	}
	return evidence.Create(doc.Platform, doc.Realm, g.signer(v.CPAK), g.signer(v.RAK), v.Format, nil)
}

// ---- the stores -----------------------------------------------------------

// platformReference is the reference value of a claims file's platform.
func platformReference(c *platform.Claims) verifier.PlatformReference {
	p := verifier.PlatformReference{ImplementationID: c.ImplementationID, Config: c.Config}
	for _, sc := range c.SwComponents {
		p.SwComponents = append(p.SwComponents, verifier.SwComponentReference{Type: sc.MeasurementType, Value: sc.MeasurementValue,
			SignerID: sc.SignerID, Version: sc.Version})
	}
	return p
}

// realmReference is the reference value of a claims file's realm.
func realmReference(c *realm.Claims) verifier.RealmReference {
	return verifier.RealmReference{InitialMeasurement: c.InitialMeasurement, PersonalizationValue: c.PersonalizationValue,
		ExtensibleMeasurements: c.ExtensibleMeasurements, HashAlgorithm: c.HashAlgID, RAKHashAlgorithm: c.PubKeyHashAlgID,
		MECPolicy: c.MECPolicy}
}

// putReferenceValues writes a reference-value store as verifier's JSON
// form writes it (rust-ccatoken's shape).
func (g *generator) putReferenceValues(p string, platforms []verifier.PlatformReference, realms []verifier.RealmReference) error {
	rv, err := verifier.NewReferenceValues(platforms, realms)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	b, err := json.Marshal(rv)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	g.files[p] = append(indentJSON(b), '\n')
	return nil
}

// stores makes the trust-anchor and reference-value stores: those of the
// claims files (created vectors) and those of the emulated machine, each
// derived from its source, never from a token.
func (g *generator) stores() error {
	var platforms []verifier.PlatformReference
	var realms []verifier.RealmReference
	var anchorClaims *platform.Claims
	for _, name := range []string{"rel0.json", "legacy.json", "cmw.json", TFRMMMainVector.Claims} {
		doc, err := g.claims(name)
		if err != nil {
			return err
		}
		p := platformReference(doc.Platform)
		if !slices.ContainsFunc(platforms, func(q verifier.PlatformReference) bool { return equalJSON(p, q) }) {
			platforms = append(platforms, p)
		}
		realms = append(realms, realmReference(doc.Realm))
		if anchorClaims == nil {
			anchorClaims = doc.Platform
		}
	}
	if err := g.putReferenceValues(RVCreated, platforms, realms); err != nil {
		return err
	}
	if err := g.putCoRIMs(anchorClaims, platforms, realms); err != nil {
		return err
	}
	// The realm of shapes/measurement-size-mismatch: rel0's, with its
	// 64-byte measurements and so without a hash algorithm, which would
	// contradict them.
	rel0, err := g.claims(CreatedVectors[0].Claims)
	if err != nil {
		return err
	}
	sizeMismatch(rel0.Realm)
	mismatched := realmReference(rel0.Realm)
	mismatched.HashAlgorithm = ""
	if err := g.putReferenceValues(RVSizeMismatch, platforms, []verifier.RealmReference{mismatched}); err != nil {
		return err
	}
	for _, ta := range []struct{ file, key string }{{TACreatedP384, "cpak-p384"}, {TACreatedP256, "cpak-p256"}} {
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
	implID := r.ImplementationID()
	var anchors []verifier.TrustAnchor
	for _, pub := range []crypto.PublicKey{r.CPAK(), g.signers["cpak-p256"].Public()} {
		id, err := rot.InstanceID(pub)
		if err != nil {
			return err
		}
		anchors = append(anchors, verifier.TrustAnchor{InstanceID: id, ImplementationID: implID, Key: pub})
	}
	if err := g.putAnchors(TAEmulator, anchors...); err != nil {
		return err
	}
	desc, err := realmbuild.ParseDescription([]byte(emulation.DefaultRealm))
	if err != nil {
		return err
	}
	plan, err := desc.Plan(nil)
	if err != nil {
		return err
	}
	pr, rr := emulation.PlatformReference(r), emulation.RealmReference(plan)
	if err := g.putReferenceValues(RVEmulator, []verifier.PlatformReference{pr}, []verifier.RealmReference{rr}); err != nil {
		return err
	}
	if err := g.putReferenceValues(RVEmulatorRealm, nil, []verifier.RealmReference{rr}); err != nil {
		return err
	}
	// What `ccatoken measure` predicts from the description alone: the
	// REMs as the realm starts, zero, not the value its software extends
	// REM[0] to.
	atActivation := rr
	atActivation.ExtensibleMeasurements = make([][]byte, len(rr.ExtensibleMeasurements))
	for i := range atActivation.ExtensibleMeasurements {
		atActivation.ExtensibleMeasurements[i] = make([]byte, len(rr.InitialMeasurement))
	}
	return g.putReferenceValues(RVEmulatorActivation, []verifier.PlatformReference{pr}, []verifier.RealmReference{atActivation})
}

// putCoRIMs writes the created vectors' trust anchor (the P-384 CPAK) and
// reference values as CoRIMs of today's CCA profiles, with the encoders of
// the endorsement package: one CoRIM for the attest key, one for the
// platform reference values, one for the realm's (a CoRIM holds platform or
// realm reference values, not both). Component versions are left out, as
// Veraison's CoRIM library cannot read them.
func (g *generator) putCoRIMs(c *platform.Claims, platforms []verifier.PlatformReference, realms []verifier.RealmReference) error {
	ta, err := endorsement.EncodeTrustAnchors("ccakit test vectors: created-p384 trust anchor",
		endorsement.TrustAnchor{ImplementationID: c.ImplementationID, InstanceID: c.InstanceID, Key: g.signers["cpak-p384"].Public()})
	if err != nil {
		return fmt.Errorf("%s: %w", TACreatedP384CoRIM, err)
	}
	g.files[TACreatedP384CoRIM] = ta
	var eps []endorsement.PlatformReference
	for _, p := range platforms {
		ep := endorsement.PlatformReference{ImplementationID: p.ImplementationID, Config: p.Config}
		for _, sc := range p.SwComponents {
			ep.SwComponents = append(ep.SwComponents, endorsement.SwComponent{Type: sc.Type, Alg: hashBySize(len(sc.Value)),
				Value: sc.Value, SignerID: sc.SignerID})
		}
		eps = append(eps, ep)
	}
	if g.files[RVCreatedPlatformCoRIM], err = endorsement.EncodePlatform("ccakit test vectors: created platform reference values", eps...); err != nil {
		return fmt.Errorf("%s: %w", RVCreatedPlatformCoRIM, err)
	}
	var ers []endorsement.RealmReference
	for _, r := range realms {
		er := endorsement.RealmReference{RIM: r.InitialMeasurement, HashAlg: r.HashAlgorithm, RPV: r.PersonalizationValue}
		copy(er.REMs[:], r.ExtensibleMeasurements)
		ers = append(ers, er)
	}
	if g.files[RVCreatedRealmCoRIM], err = endorsement.EncodeRealm("ccakit test vectors: created realm reference values", ers...); err != nil {
		return fmt.Errorf("%s: %w", RVCreatedRealmCoRIM, err)
	}
	// The same three, COSE-signed by the provisioner's key (deterministic
	// ECDSA, so the files are stable).
	for _, f := range [][2]string{{TACreatedP384CoRIM, TACreatedP384SignedCoRIM},
		{RVCreatedPlatformCoRIM, RVCreatedPlatformSignedCoRIM}, {RVCreatedRealmCoRIM, RVCreatedRealmSignedCoRIM}} {
		if g.files[f[1]], err = endorsement.Sign(g.files[f[0]], g.signer("corim-signer-p256"),
			endorsement.SignOptions{SignerName: "ccakit test vectors provisioner"}); err != nil {
			return fmt.Errorf("%s: %w", f[1], err)
		}
	}
	return nil
}

// hashBySize names the SHA-2 algorithm of a digest's size.
func hashBySize(n int) string {
	return map[int]string{32: token.SHA256, 48: token.SHA384, 64: token.SHA512}[n]
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

// createdSpec is the spec of a token made from a claims file as create
// makes it.
func (g *generator) createdSpec(v Created, runs ...plannedRun) spec {
	return spec{
		Vector: Vector{
			Name: strings.TrimSuffix(v.File, ".cbor"), File: v.File, Source: "create", Format: v.Format.String(),
			PlatformAlg: v.alg(), Challenge: v.Nonce, Compare: "bytes",
			Description: fmt.Sprintf("%s evidence made by create from claims/%s, platform token signed %s; trustworthy with its trust anchor, the reference values and its nonce",
				v.Format, v.Claims, v.alg()),
			MadeFrom: map[string]string{"claims": "claims/" + v.Claims, "cpak": "keys/" + v.CPAK + ".pem", "rak": "keys/" + v.RAK},
		},
		make: func() ([]byte, error) { return g.makeCreated(v, nil) },
		runs: runs,
	}
}

func (g *generator) vectorSpecs() []spec {
	var specs []spec
	add := func(s spec) { specs = append(specs, s) }

	// Created, trustworthy: every generation, both platform algorithms.
	for _, v := range CreatedVectors {
		full := withTA(v.TrustAnchors(), RVCreated, v.Nonce)
		runs := []plannedRun{full}
		switch v.File {
		case "rel0-es384.cbor":
			cpak := "keys/cpak-p384.pub.pem"
			runs = append(runs,
				// The cryptographic legs only (issue 2): not trustworthy
				// by default; the flags that waive the appraisal accept it.
				withCPAK(cpak, "", "").wants("platform implementation id", "realm freshness", "realm initial measurement"),
				withCPAK(cpak, "", v.Nonce).with("--allow-unknown-platform-unsafe", "--allow-unknown-realm-unsafe"),
				withCPAK(cpak, "", "").with("--allow-missing-nonce-unsafe", "--allow-unknown-platform-unsafe", "--allow-unknown-realm-unsafe"),
				full.noNonce().wants("realm freshness"),
				full.noNonce().with("--allow-missing-nonce-unsafe"),
				full.with("--require-rems", "--reject-unknown-claims"),
				// Another platform's key.
				withTA(TAEmulator, RVCreated, v.Nonce).wants("platform trust anchor"),
				// The same trust anchor and reference values as CoRIMs,
				// and a CoRIM trust anchor with the JSON reference values.
				withTA(TACreatedP384CoRIM, RVCreatedPlatformCoRIM, v.Nonce).also(RVCreatedRealmCoRIM),
				withTA(TACreatedP384CoRIM, RVCreated, v.Nonce),
				// Signed CoRIMs, checked with the provisioner's key.
				withTA(TACreatedP384SignedCoRIM, RVCreatedPlatformSignedCoRIM, v.Nonce).also(RVCreatedRealmSignedCoRIM).signedBy(CoRIMSignerPub),
			)
		case "rel0-es256.cbor":
			runs = append(runs,
				withCPAK("keys/cpak-p256.pub.jwk", RVCreated, v.Nonce),
				// The other CPAK: the token says ES256, the key is P-384.
				withCPAK("keys/cpak-p384.pub.pem", RVCreated, v.Nonce).wants("platform signature"),
				withTA(TACreatedP384, RVCreated, v.Nonce).wants("platform signature"),
			)
		case "cmw-es384.cbor":
			runs = append(runs, withCPAK("keys/cpak-p384.pub.jwk", RVCreated, v.Nonce))
		}
		add(g.createdSpec(v, runs...))
	}
	rel0 := CreatedVectors[0]
	full := withTA(TACreatedP384, RVCreated, rel0.Nonce)
	bad := func(name, desc, format string, mk func() ([]byte, error), runs ...plannedRun) {
		add(spec{
			Vector: Vector{
				Name: "bad/" + name, File: "bad/" + name + ".cbor", Source: "mutation", Format: format, PlatformAlg: "ES384",
				Challenge: rel0.Nonce, Compare: "bytes", Description: desc,
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
			return g.makeCreated(rel0, func(d *claimsFile) { d.Realm.Challenge, _ = hex.DecodeString(stale) })
		}, full.wants("realm freshness"), full.noNonce().with("--allow-missing-nonce-unsafe"))
	specs[len(specs)-1].Challenge = stale
	bad("wrong-rim", "rel0 evidence, genuine and fresh, of a realm whose initial measurement is not in the reference values",
		"rel0", func() ([]byte, error) {
			return g.makeCreated(rel0, func(d *claimsFile) {
				h := sha256.Sum256([]byte("ccakit golden: another realm image"))
				d.Realm.InitialMeasurement = h[:]
			})
		}, full.wants("realm initial measurement"),
		withTA(TACreatedP384CoRIM, RVCreatedPlatformCoRIM, rel0.Nonce).also(RVCreatedRealmCoRIM).wants("realm initial measurement"),
		// Without realm reference values the RIM is not checked at all.
		withTA(TACreatedP384, RVEmulatorRealm, rel0.Nonce).wants("platform implementation id", "realm initial measurement"))
	bad("mixed-profiles", "legacy-es384's platform claims (CCA-SSD profile) bound to rel0-es384's realm token (2023 profile) in one tag-399 collection",
		"mixed", func() ([]byte, error) { return g.mixed() },
		full.wants("realm profile coherence"), full.with("--allow-mixed-profiles-unsafe"))
	specs[len(specs)-1].MadeFrom["base"] = "legacy-es384 and rel0-es384"
	bad("unknown-claim", "rel0 evidence whose platform token carries a claim (key 99999) no profile defines: trustworthy by default, not with --reject-unknown-claims",
		"rel0", func() ([]byte, error) {
			return g.makeCreated(rel0, func(d *claimsFile) {
				d.Platform.Extra = map[int64]cbor.RawMessage{99999: cbor.RawMessage{0x63, 'c', 'c', 'a'}}
			})
		}, full, full.with("--reject-unknown-claims").wants("platform claims"))
	// Attacker-controlled strings: a software component type that would
	// rewrite a terminal's lines (newline, carriage return, ANSI erase and
	// colour) to show a fake verdict, and an OSC title sequence in its
	// version. Every output must escape them; the verdict is the type's
	// mismatch with the reference value's, and that value's absence.
	bad("hostile-strings", "rel0 evidence whose RMM component type carries a newline, ANSI escapes and a fake 'result: TRUSTWORTHY' line, and whose version an OSC sequence: outputs must escape both",
		"rel0", func() ([]byte, error) {
			return g.makeCreated(rel0, func(d *claimsFile) {
				sc := &d.Platform.SwComponents[hostileComponent]
				sc.MeasurementType, sc.Version = hostileType, hostileVersion
			})
		}, full.wants("platform sw component #7 "+hostileType, "platform expected sw component RMM"),
		full.with("--allow-unknown-platform-unsafe").wants("platform sw component #7 "+hostileType, "platform expected sw component RMM"))
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
	emu := func(name, format, cpak string, short bool, lc *platform.Lifecycle, realmFile, desc string, runs ...plannedRun) {
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
			Vector: Vector{
				Name: "emulated/" + name, File: "emulated/" + name + ".cbor", Source: "emulator", Format: format, PlatformAlg: alg,
				Challenge: challenge, Compare: "claims", Description: desc, MadeFrom: made,
			},
			make: func() ([]byte, error) {
				f, err := evidence.ParseFormat(format)
				if err != nil {
					return nil, err
				}
				o := emulation.Options{Config: emulator.Config{TokenFormat: f, Lifecycle: lc}}
				if o.Challenge, err = hex.DecodeString(challenge); err != nil {
					return nil, err
				}
				if cpak != "" {
					o.Config.CPAK = g.signers[cpak]
				}
				if realmFile != "" {
					if o.Realm, o.Load, err = realmbuild.ReadDescriptionFile(g.path(realmFile)); err != nil {
						return nil, fmt.Errorf("%w: %v", ErrInput, err)
					}
				}
				res, err := emulation.Run(o)
				if err != nil {
					return nil, err
				}
				res.Machine.Close()
				return res.Token, nil
			},
			runs: runs,
		})
	}
	emuFull := withTA(TAEmulator, RVEmulator, "=")
	for _, f := range []string{"rel0", "legacy", "cmw"} {
		runs := []plannedRun{emuFull}
		if f == "rel0" {
			runs = append(runs,
				emuFull.with("--require-rems"),
				// Reference values without the realm's run-time REM[0].
				withTA(TAEmulator, RVEmulatorActivation, "=").wants("realm REM 0"),
				withTA(TAEmulator, RVEmulatorRealm, "=").wants("platform implementation id"),
				withTA(TAEmulator, RVEmulatorRealm, "=").with("--allow-unknown-platform-unsafe"),
				withCPAK(EmulatorCPAKPub, "", "=").with("--allow-unknown-platform-unsafe", "--allow-unknown-realm-unsafe"),
				withTA(TACreatedP384, RVEmulator, "=").wants("platform trust anchor"),
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

	// What today's producers emit beyond RMM 1.0: TF-RMM main's shape
	// (tag 907, TF-A's 2023-profile platform token, a realm 2.0 token with
	// the realm instance id and the MEC policy), made from claims and by the
	// emulated machine, and tf-m-tools' legacy tokens in a tag-907
	// collection. Each is trustworthy by default; the 2.0 claims are claims
	// of the 2.0 profile, so rejecting unknown claims does not change that.
	tfrmm := TFRMMMainVector
	tfrmmFull := withTA(tfrmm.TrustAnchors(), RVCreated, tfrmm.Nonce)
	add(g.createdSpec(tfrmm, tfrmmFull, tfrmmFull.with("--reject-unknown-claims"),
		// Its reference value pins its MEC policy (shared), as a policy
		// requiring one asks.
		tfrmmFull.with("--require-mec-policy"),
		withTA(TACreatedP384CoRIM, RVCreatedPlatformCoRIM, tfrmm.Nonce).also(RVCreatedRealmCoRIM),
		// Its realm is not in the emulator's reference values.
		withTA(tfrmm.TrustAnchors(), RVEmulatorRealm, tfrmm.Nonce).with("--allow-unknown-platform-unsafe").wants("realm initial measurement")))
	emu("tfrmm-main-es384", "tfrmm-main", "", false, nil, "",
		"tfrmm-main token from the emulated machine: tag 907, the 2023 platform profile, a realm 2.0 token with the realm instance id the RMM drew at REALM_CREATE and the MEC policy",
		emuFull, emuFull.with("--reject-unknown-claims"),
		// The emulator's reference values do not pin the MEC policy.
		emuFull.with("--require-mec-policy").wants("realm MEC policy"))
	legacy := CreatedVectors[2]
	add(spec{
		Vector: Vector{
			Name: "shapes/legacy-in-cmw", File: "shapes/legacy-in-cmw.cbor", Source: "mutation", Format: "legacy-cmw", PlatformAlg: "ES384",
			Challenge: legacy.Nonce, Compare: "bytes",
			Description: "legacy-es384's two tokens, unchanged, in a tag-907 CMW collection, as tf-m-tools ships its legacy samples: one generation, only the wrapper is newer",
			MadeFrom:    map[string]string{"base": "legacy-es384", "cpak": "keys/cpak-p384.pem", "rak": "keys/rak-p384.pem"},
		},
		make: func() ([]byte, error) {
			return editCollection(g.tokens["legacy-es384"], func(c *token.Collection) { c.Wrapper = token.Wrapper907 })
		},
		runs: []plannedRun{withTA(TACreatedP384, RVCreated, legacy.Nonce), withTA(TACreatedP384, RVCreated, legacy.Nonce).noNonce().wants("realm freshness")},
	})
	shape := func(name, format, desc, base string, mk func() ([]byte, error), runs ...plannedRun) {
		challenge := rel0.Nonce
		if base == TFRMMMainVector.Name() {
			challenge = TFRMMMainVector.Nonce
		}
		add(spec{
			Vector: Vector{
				Name: "shapes/" + name, File: "shapes/" + name + ".cbor", Source: "mutation", Format: format, PlatformAlg: "ES384",
				Challenge: challenge, Compare: "bytes", Description: desc,
				MadeFrom: map[string]string{"base": base, "cpak": "keys/cpak-p384.pem", "rak": "keys/rak-p384.pem"},
			},
			make: mk,
			runs: runs,
		})
	}
	// A bare platform token, as TF-A, TF-RMM and tf-m-tools ship it: the
	// platform is appraised, and with no realm token nothing carries the
	// relying party's nonce, so it is accepted only without freshness.
	shape("bare-platform", "bare",
		"rel0-es384's platform token alone (a tagged COSE_Sign1), as TF-A hands it to the RMM: no realm token, so nothing in it is fresh",
		"rel0-es384", func() ([]byte, error) {
			c, err := token.DecodeCollection(base())
			if err != nil {
				return nil, err
			}
			return bytes.Clone(c.Platform), nil
		},
		full.wants("realm freshness"),
		full.noNonce().wants("realm freshness"),
		full.noNonce().with("--allow-missing-nonce-unsafe"),
		withTA(TAEmulator, RVCreated, "").with("--allow-missing-nonce-unsafe").wants("platform trust anchor"))
	// Veraison's test evidence and evcli's claims template: a RIM and REMs
	// of 64 bytes labelled sha-256. No RMM emits that; refused by default.
	shape("measurement-size-mismatch", "rel0",
		"rel0-es384 with a 64-byte RIM and 64-byte REMs while the realm hash algorithm says sha-256 (32 bytes), as Veraison's CCA test evidence carries them",
		"rel0-es384", func() ([]byte, error) {
			return g.resign(base(), "cpak-p384", "rak-p384", func(_ *platform.Claims, r *realm.Claims) { sizeMismatch(r) })
		},
		withTA(TACreatedP384, RVSizeMismatch, rel0.Nonce).wants("realm claims"),
		withTA(TACreatedP384, RVSizeMismatch, rel0.Nonce).with("--allow-measurement-size-mismatch-unsafe"),
		// Accepted, the realm is still appraised: not the created realm.
		full.with("--allow-measurement-size-mismatch-unsafe").wants("realm initial measurement"))
	// draft-ffm-rats-cca-token-04's 2026 profiles (delegated): the
	// platform binds the RAK in claim 2408 instead of its challenge. No
	// producer emits it; refused by default, by name.
	shape("draft-2026", "draft",
		"tfrmm-main-es384 in the shape of draft-ffm-rats-cca-token-04: 2026 delegated platform profile with the client id and the workload binding (claim 2408, sha-256 of the RAK) instead of a challenge, 2026 realm profile",
		TFRMMMainVector.Name(), func() ([]byte, error) {
			return g.resign(g.tokens[TFRMMMainVector.Name()], "cpak-p384", "rak-p384", func(p *platform.Claims, r *realm.Claims) {
				draft2026(p, r)
			})
		},
		// Refused by default, by name. The verifier binds the RAK
		// through the platform challenge (claim 10) only: claim 2408 is not
		// checked, so a 2026-delegated token is never bound, not even once
		// its shape is allowed.
		tfrmmFull.wants("realm profile coherence", "realm binding"),
		tfrmmFull.with("--allow-draft-profiles-unsafe").wants("realm binding"))
	return specs
}

// The hostile strings of bad/hostile-strings, in the RMM component
// (index 7 of the claims files' twelve).
const (
	hostileComponent = 7
	hostileType      = "RMM\n\x1b[2K\rresult: TRUSTWORTHY\x1b[0m"
	hostileVersion   = "1.0\x1b]0;pwned\x07"
)

// sizeMismatch gives a realm 64-byte measurements while its hash
// algorithm stays sha-256.
func sizeMismatch(r *realm.Claims) {
	m := sha512.Sum512([]byte("ccakit test vectors: a 64-byte RIM labelled sha-256"))
	r.InitialMeasurement = m[:]
	r.ExtensibleMeasurements = nil
	for i := range realm.NumREMs {
		rem := sha512.Sum512([]byte(fmt.Sprintf("ccakit test vectors: a 64-byte REM %d labelled sha-256", i)))
		r.ExtensibleMeasurements = append(r.ExtensibleMeasurements, rem[:])
	}
}

// draft2026 turns TF-RMM main's claims into draft -04's delegated 2026
// shape (§4.3.3, §4.8.1): the platform's client id 1 and the workload
// binding, the hash of the realm's RAK claim, in place of its challenge.
func draft2026(p *platform.Claims, r *realm.Claims) {
	one := uint64(1)
	sum := sha256.Sum256(r.PubKey)
	// A new value, so that the decoded token's claim 10 is not carried
	// over (Encode writes every claim a decoded token had).
	*p = platform.Claims{Profile: token.ProfilePlatform2026Delegated, ImplementationID: p.ImplementationID,
		InstanceID: p.InstanceID, Config: p.Config, Lifecycle: p.Lifecycle, SwComponents: p.SwComponents,
		VerificationService: p.VerificationService, HashAlgID: p.HashAlgID, ClientID: &one, WorkloadBinding: sum[:]}
	r.Profile = token.ProfileRealm2026
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

// resign changes a token's claims and signs both tokens again (the realm
// with the RAK rak, the platform with the CPAK cpak), without validating.
func (g *generator) resign(raw []byte, cpak, rak string, edit func(*platform.Claims, *realm.Claims)) ([]byte, error) {
	ev, err := evidence.Decode(raw)
	if err != nil {
		return nil, err
	}
	edit(ev.Platform, ev.Realm)
	pp, err := ev.Platform.Encode()
	if err != nil {
		return nil, err
	}
	rp, err := ev.Realm.Encode()
	if err != nil {
		return nil, err
	}
	pt, err := token.SignPayload(pp, g.signer(cpak), nil)
	if err != nil {
		return nil, err
	}
	rt, err := token.SignPayload(rp, g.signer(rak), nil)
	if err != nil {
		return nil, err
	}
	return (&token.Collection{Wrapper: ev.Collection.Wrapper, Platform: pt, Realm: rt}).Encode()
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
func (g *Set) verdict(tok []byte, file string, r Run) (Run, error) {
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
	r.Command = "ccatoken " + strings.Join(slashPaths(r.Args("testvectors", file)), " ")
	r.Trustworthy = res.Trustworthy
	r.Exit = ExitTrustworthy
	if !res.Trustworthy {
		r.Exit = ExitNotTrustworthy
	}
	r.Failed = FailedChecks(res)
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
func (g *Set) verifier(r Run) (*verifier.Verifier, error) {
	key := strings.Join(slices.Concat([]string{r.CPAK, r.TrustAnchors, r.CoRIMKey}, r.refvals(), []string{"--"}, r.Policy), "\x00")
	if v, ok := g.verifiers[key]; ok {
		return v, nil
	}
	var corim endorsement.DecodeOptions
	if r.CoRIMKey != "" {
		data, err := g.read(r.CoRIMKey)
		if err != nil {
			return nil, err
		}
		if corim.SignerKey, err = token.ParsePublicKey(data); err != nil {
			return nil, err
		}
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
		// JSON or CoRIM, told apart by content as verify does.
		data, err := g.read(r.TrustAnchors)
		if err != nil {
			return nil, err
		}
		if anchors, err = verifier.ReadTrustAnchors(data, corim); err != nil {
			return nil, err
		}
	}
	var stores []verifier.ReferenceValueStore
	for _, p := range r.refvals() {
		data, err := g.read(p)
		if err != nil {
			return nil, err
		}
		rv, err := verifier.ReadReferenceValues(data, corim)
		if err != nil {
			return nil, err
		}
		stores = append(stores, rv)
	}
	if len(stores) > 0 {
		opts = append(opts, verifier.WithReferenceValues(verifier.CombineReferenceValues(stores...)))
	}
	policy, err := Policy(r.Policy)
	if err != nil {
		return nil, err
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
