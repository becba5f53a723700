package testvectors

// This file makes the set: the keys' public files, the trust-anchor and
// reference-value stores, every token (made from claims as `ccatoken
// create` does, from the emulated machine, and broken on purpose) and
// manifest.json, with every verdict checked against the vector's intent.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/ccakit/cca/emulator/rot"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
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
	warnings  map[string][]string           // and the warnings of their stores
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
		Set:     &Set{dir: dir, files: map[string][]byte{}, compare: map[string]string{}, verifiers: map[string]*verifier.Verifier{}, warnings: map[string][]string{}},
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
