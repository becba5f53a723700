package main

// The shipped test vectors (testvectors/) are generated here:
//
//	go test ./cmd/ccatoken -update
//
// regenerates the tokens from testvectors/claims/*.json and the private keys
// in testvectors/keys/ (creating the keys only if they are missing), the
// public key files, and the golden files in testdata/. Signatures are
// deterministic (RFC 6979), so regenerating with unchanged inputs gives the
// same bytes, and TestVectorsUpToDate checks that the shipped files are what
// the inputs give.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/token"
)

var update = flag.Bool("update", false, "regenerate testvectors/ and the golden files in testdata/")

const vectorDir = "../../testvectors"

// vector is one shipped token: made from a claims file with a CPAK and a
// RAK, verifiable with the CPAK's public key and the nonce.
type vector struct {
	file   string // under testvectors/
	claims string // under testvectors/claims/
	cpak   string // private key under testvectors/keys/; public: .pub.pem, .pub.jwk
	rak    string // under testvectors/keys/
	format evidence.Format
	nonce  string // hex, the realm challenge before zero padding
}

var vectors = []vector{
	{"rel0-es384.cbor", "rel0.json", "cpak-p384", "rak-p384.pem", evidence.FormatREL0,
		"21a69831527cae75a4f3a4b32f1467346ccd7d94127af62c057bc756489641c5cc15c2f4d1eddef74bf3899da4cf4c7315e190027a885e8eab4099aafa086d44"},
	{"rel0-es256.cbor", "rel0.json", "cpak-p256", "rak-p384.pem", evidence.FormatREL0,
		"21a69831527cae75a4f3a4b32f1467346ccd7d94127af62c057bc756489641c5cc15c2f4d1eddef74bf3899da4cf4c7315e190027a885e8eab4099aafa086d44"},
	{"legacy-es384.cbor", "legacy.json", "cpak-p384", "rak-p384.pem", evidence.FormatLegacy,
		"d7e101f107d62ff5ca1363e86366186aec8b2da30fb9ebe3b1fa8c9e97fe7b2d026f0308ee7a4fe54c0cb1376b6e256f48edbe73941c75a792f00167fbc4b270"},
	{"cmw-es384.cbor", "cmw.json", "cpak-p384", "rak-p384.jwk", evidence.FormatCMW,
		"c2987f4af903380152dd62bd75225cffe5639800ad3b93db173bdf054ab2a56b"},
}

func (v vector) path() string       { return filepath.Join(vectorDir, v.file) }
func (v vector) claimsPath() string { return filepath.Join(vectorDir, "claims", v.claims) }
func (v vector) cpakPrivate() string {
	return filepath.Join(vectorDir, "keys", v.cpak+".pem")
}
func (v vector) cpakPEM() string { return filepath.Join(vectorDir, "keys", v.cpak+".pub.pem") }
func (v vector) cpakJWK() string { return filepath.Join(vectorDir, "keys", v.cpak+".pub.jwk") }
func (v vector) rakPath() string { return filepath.Join(vectorDir, "keys", v.rak) }

func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		if err := writeVectors(vectorDir); err != nil {
			fmt.Fprintln(os.Stderr, "regenerating test vectors:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// deterministic signs with RFC 6979 nonces (crypto/ecdsa does so when the
// random source is nil), so that regenerated vectors are byte-identical.
type deterministic struct{ *ecdsa.PrivateKey }

func (k deterministic) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil { // go-cose passes none; RFC 6979 needs the hash, which the digest size tells
		opts = map[int]crypto.Hash{32: crypto.SHA256, 48: crypto.SHA384, 64: crypto.SHA512}[len(digest)]
	}
	return k.PrivateKey.Sign(nil, digest, opts)
}

// makeVector creates v's token the way "ccatoken create" does, but with
// deterministic signatures.
func makeVector(v vector) ([]byte, error) {
	data, err := os.ReadFile(v.claimsPath())
	if err != nil {
		return nil, err
	}
	doc, err := parseClaimsDocument(data)
	if err != nil {
		return nil, err
	}
	f, err := chooseFormat(doc, createOptions{format: v.format.String(), formatSet: true})
	if err != nil {
		return nil, err
	}
	iak, err := readPrivateKey("iak", v.cpakPrivate(), nil)
	if err != nil {
		return nil, err
	}
	rak, err := readPrivateKey("rak", v.rakPath(), nil)
	if err != nil {
		return nil, err
	}
	return createEvidence(doc, deterministic{iak.(*ecdsa.PrivateKey)}, deterministic{rak.(*ecdsa.PrivateKey)}, f, nil)
}

// keySpecs are the private keys the vectors use and how each is stored: the
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

func writeVectors(dir string) error {
	keyDir := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keyDir, 0o755); err != nil {
		return err
	}
	for _, ks := range keySpecs {
		if err := writeKeyFiles(keyDir, ks.name, ks.curve, ks.pkcs8); err != nil {
			return fmt.Errorf("%s: %w", ks.name, err)
		}
	}
	for _, v := range vectors {
		raw, err := makeVector(v)
		if err != nil {
			return fmt.Errorf("%s: %w", v.file, err)
		}
		if err := os.WriteFile(v.path(), raw, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeKeyFiles creates the private key name.pem if it is missing, and
// (re)writes the files derived from it: the public key as PEM and JWK, and
// for the RAK the private key as a JWK.
func writeKeyFiles(dir, name string, curve elliptic.Curve, pkcs8 bool) error {
	privPath := filepath.Join(dir, name+".pem")
	data, err := os.ReadFile(privPath)
	if os.IsNotExist(err) {
		k, gerr := ecdsa.GenerateKey(curve, rand.Reader)
		if gerr != nil {
			return gerr
		}
		var block *pem.Block
		if pkcs8 {
			der, merr := x509.MarshalPKCS8PrivateKey(k)
			if merr != nil {
				return merr
			}
			block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
		} else {
			der, merr := x509.MarshalECPrivateKey(k)
			if merr != nil {
				return merr
			}
			block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
		}
		data = pem.EncodeToMemory(block)
		if err := os.WriteFile(privPath, data, 0o644); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	signer, err := token.ParsePrivateKey(data)
	if err != nil {
		return err
	}
	if pkcs8 { // a CPAK: ship its public half for verify
		pubPEM, err := token.MarshalPublicPEM(signer.Public())
		if err != nil {
			return err
		}
		pubJWK, err := token.MarshalPublicJWK(signer.Public())
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".pub.pem"), pubPEM, 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".pub.jwk"), append(indentJSON(pubJWK), '\n'), 0o644)
	}
	// The RAK: also as a private JWK, the form evcli takes.
	k, err := jwk.FromRaw(signer)
	if err != nil {
		return err
	}
	privJWK, err := json.Marshal(k)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".jwk"), append(indentJSON(privJWK), '\n'), 0o644)
}

func indentJSON(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return b
	}
	return out.Bytes()
}

// TestVectorsUpToDate regenerates every vector from its claims and keys and
// checks that the shipped bytes are the same, and that the shipped public
// keys are those of the shipped private keys.
func TestVectorsUpToDate(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.file, func(t *testing.T) {
			want, err := makeVector(v)
			if err != nil {
				t.Fatalf("regenerating: %v", err)
			}
			got, err := os.ReadFile(v.path())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from what its claims and keys give; run: go test ./cmd/ccatoken -update", v.path())
			}
			priv, err := readPrivateKey("iak", v.cpakPrivate(), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{v.cpakPEM(), v.cpakJWK()} {
				pub, err := readPublicKey("cpak", p, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !pub.(*ecdsa.PublicKey).Equal(priv.Public()) {
					t.Errorf("%s is not the public key of %s", p, v.cpakPrivate())
				}
			}
		})
	}
	rakPEM, err := readPrivateKey("rak", filepath.Join(vectorDir, "keys", "rak-p384.pem"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rakJWK, err := readPrivateKey("rak", filepath.Join(vectorDir, "keys", "rak-p384.jwk"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rakPEM.(*ecdsa.PrivateKey).Equal(rakJWK) {
		t.Errorf("rak-p384.jwk is not the key of rak-p384.pem")
	}
}

// TestVectorsREADME keeps the README's table in step with the vectors.
func TestVectorsREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(vectorDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vectors {
		for _, s := range []string{v.file, v.claims, v.cpak + ".pub.pem", v.nonce} {
			if !strings.Contains(string(readme), s) {
				t.Errorf("README.md does not mention %s (vector %s)", s, v.file)
			}
		}
	}
}
