package token

import (
	"crypto"
	_ "crypto/sha256" // registers SHA-256 for crypto.Hash
	_ "crypto/sha512" // registers SHA-384 and SHA-512
	"fmt"
)

// Hash algorithm names as the tokens carry them: the IANA Named Information
// Hash Algorithm Registry names (IANA "Named Information Hash Algorithm
// Registry", as claims 2402, 44236 and 44240 use them).
const (
	SHA256 = "sha-256"
	SHA384 = "sha-384"
	SHA512 = "sha-512"
)

// HashByName maps a hash algorithm name to its crypto.Hash. sha-256, sha-384
// and sha-512 are known; anything else is an ErrAlgorithm error.
func HashByName(name string) (crypto.Hash, error) {
	switch name {
	case SHA256:
		return crypto.SHA256, nil
	case SHA384:
		return crypto.SHA384, nil
	case SHA512:
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("%w: hash algorithm %q", ErrAlgorithm, name)
}

// Digest hashes data with the named algorithm.
func Digest(name string, data []byte) ([]byte, error) {
	h, err := HashByName(name)
	if err != nil {
		return nil, err
	}
	hh := h.New()
	hh.Write(data)
	return hh.Sum(nil), nil
}
