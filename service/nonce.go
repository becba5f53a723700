package service

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ccakit/cca/token"
)

// NonceEncoding is how a session's nonce is written in the session JSON.
//
// Clients disagree. veraison/apiclient (v0.4.0 and later) decodes the
// "nonce" member into a Go []byte, so it reads only padded standard base64;
// veraison/services sends unpadded base64url since 44851fe (2026-07-14,
// verification/api/challengeresponsesession.go nonce.MarshalJSON), and its
// own decoder (base64URLToBytes) takes base64url with or without padding.
//
// The service mints nonces whose standard base64 has no '+' or '/' (it
// draws again until it has one), so that the standard and the URL-safe
// encodings are the same text; and its default size, 48 bytes, is a
// multiple of 3, so that there is no padding either: every client reads the
// default nonce alike. Only a requested nonceSize that is not a multiple of
// 3, or a nonce the client chose, is written differently by the two
// encodings.
type NonceEncoding int

const (
	// NonceCompat writes padded standard base64: what apiclient reads,
	// and, for the nonces the service mints, also valid padded base64url.
	NonceCompat NonceEncoding = iota
	// NonceBase64URL writes unpadded base64url, as current
	// veraison/services does.
	NonceBase64URL
)

// ParseNonceEncoding reads the --nonce-encoding flag: compat or base64url.
func ParseNonceEncoding(s string) (NonceEncoding, error) {
	switch s {
	case "compat":
		return NonceCompat, nil
	case "base64url":
		return NonceBase64URL, nil
	}
	return 0, fmt.Errorf("nonce encoding %q: want compat or base64url", s)
}

func (e NonceEncoding) String() string {
	if e == NonceBase64URL {
		return "base64url"
	}
	return "compat"
}

func (e NonceEncoding) encode(n []byte) string {
	if e == NonceBase64URL {
		return base64.RawURLEncoding.EncodeToString(n)
	}
	return base64.StdEncoding.EncodeToString(n)
}

// Nonce sizes. Veraison's API allows 8..64 bytes and zero-pads a short one
// to the 64-byte realm challenge (scheme/arm-cca/scheme.go); the service
// takes 32..64, the challenge sizes Linux's Arm CCA guest driver accepts
// from a realm's user space through configfs-tsm
// (drivers/virt/coco/arm-cca-guest) and the verifier's, so that a nonce the
// service hands out can always reach the RMM. DefaultNonceSize is 48: see NonceEncoding.
const (
	MinNonceSize     = token.MinNonceSize
	MaxNonceSize     = token.ChallengeSize
	DefaultNonceSize = 48
)

var errNonce = errors.New("bad nonce request")

// mintNonce draws a random nonce of size bytes whose standard base64 has no
// '+' or '/'. Each of its ceil(4n/3) characters is then one of 62 instead
// of 64: a 48-byte nonce carries 64·log2(62) ≈ 381 bits, not 384.
func mintNonce(size int) ([]byte, error) {
	n := make([]byte, size)
	for {
		if _, err := rand.Read(n); err != nil {
			return nil, err
		}
		if s := base64.StdEncoding.EncodeToString(n); !strings.ContainsAny(s, "+/") {
			return n, nil
		}
	}
}

// parseNonceRequest is Veraison's verification/api/handler.go
// parseNonceRequest with the service's sizes: nonce (base64url, padded or
// not, as base64URLToBytes reads it) and nonceSize exclude each other;
// neither gives a minted nonce of the default size.
func parseNonceRequest(nonceParam, sizeParam string, defaultSize int) (nonce []byte, minted bool, err error) {
	switch {
	case nonceParam != "" && sizeParam != "":
		return nil, false, fmt.Errorf("%w: nonce and nonceSize are mutually exclusive", errNonce)
	case nonceParam == "" && sizeParam == "":
		n, err := mintNonce(defaultSize)
		return n, true, err
	case sizeParam != "":
		size, err := strconv.ParseUint(sizeParam, 10, 8)
		if err != nil || size < MinNonceSize || size > MaxNonceSize {
			return nil, false, fmt.Errorf("%w: nonceSize must be in range %d..%d (a CCA realm challenge)", errNonce, MinNonceSize, MaxNonceSize)
		}
		n, err := mintNonce(int(size))
		return n, true, err
	}
	n, err := base64.RawURLEncoding.DecodeString(nonceParam)
	if err != nil {
		if n, err = base64.URLEncoding.DecodeString(nonceParam); err != nil {
			return nil, false, fmt.Errorf("%w: nonce must be valid base64url", errNonce)
		}
	}
	if len(n) < MinNonceSize || len(n) > MaxNonceSize {
		return nil, false, fmt.Errorf("%w: nonce must be between %d and %d bytes long; got %d", errNonce, MinNonceSize, MaxNonceSize, len(n))
	}
	return n, false, nil
}
