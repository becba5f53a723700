package main

// The shipped test vectors (testvectors/) are made by 'ccatoken golden'
// (golden.go), and TestGolden checks that they are up to date.
//
//	go test ./cmd/ccatoken -update
//
// runs golden on testvectors/ too, and rewrites the golden files in
// testdata/.

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testvectors/ and the golden files in testdata/")

const vectorDir = "../../testvectors"

// vector is one of the created, trustworthy vectors (createdVectors).
type vector = createdVector

var vectors = createdVectors

func (v vector) path() string { return filepath.Join(vectorDir, v.file) }
func (v vector) cpakPrivate() string {
	return filepath.Join(vectorDir, "keys", v.cpak+".pem")
}
func (v vector) cpakPEM() string { return filepath.Join(vectorDir, "keys", v.cpak+".pub.pem") }
func (v vector) cpakJWK() string { return filepath.Join(vectorDir, "keys", v.cpak+".pub.jwk") }

// trustAnchors is the trust-anchor store of the vector's CPAK.
func (v vector) trustAnchors() string {
	return filepath.Join(vectorDir, v.trustAnchorStore())
}

// createdRefvals is the reference-value store of the created vectors.
var createdRefvals = filepath.Join(vectorDir, rvCreated)

func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		if err := runGolden(os.Stdout, os.Stderr, goldenOptions{dir: vectorDir}); err != nil {
			fmt.Fprintln(os.Stderr, "regenerating test vectors:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// TestVectorsREADME keeps the README's tables in step with the vectors.
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
	for _, v := range loadManifest(t).Vectors {
		if !strings.Contains(string(readme), "`"+v.File+"`") {
			t.Errorf("README.md does not mention %s", v.File)
		}
	}
}
