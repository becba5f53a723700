package endorsement

import (
	"fmt"

	"github.com/ccakit/cca/token"
)

// digest is one [alg, value] of a digests list (draft-ietf-rats-corim
// §7.7, digest = [alg: int / text, val: bytes]).
type digest struct {
	alg   string
	value []byte
}

// digestAlgs maps the IANA Named Information Hash Algorithm Registry ids
// that Veraison's CCA CoRIMs use (1, 7, 8) to the names the CCA token
// carries; other registered ids are named for the message only.
var (
	digestAlgs   = map[uint64]string{1: token.SHA256, 7: token.SHA384, 8: token.SHA512}
	digestOthers = map[uint64]string{2: "sha-256-128", 3: "sha-256-120", 4: "sha-256-96",
		5: "sha-256-64", 6: "sha-256-32", 9: "sha3-224", 10: "sha3-256", 11: "sha3-384", 12: "sha3-512"}
	digestSizes = map[string]int{token.SHA256: 32, token.SHA384: 48, token.SHA512: 64}
)

// digests reads a digests field with Veraison's checks first, in its order
// (veraison/corim profiles/cca platform.go validateCCADigests: present,
// non-empty, each 32, 48 or 64 bytes), then the algorithm (one this
// package knows) and its size. one requires exactly one entry (realm
// measurements, realm.go validateCCARealmMeasurement).
func (d *decoder) digests(it item, where string, one bool) ([]digest, error) {
	if it == nil {
		return nil, fmt.Errorf("%w: %s: digests field is mandatory but not set", ErrInvalid, where)
	}
	list, err := asArray(it, where, "digests")
	if err != nil {
		return nil, err
	}
	switch {
	case len(list) == 0:
		return nil, fmt.Errorf("%w: %s: digests must contain at least one entry", ErrInvalid, where)
	case one && len(list) > 1:
		return nil, fmt.Errorf("%w: %s: digests must contain exactly one entry, got %d", ErrInvalid, where, len(list))
	}
	out := make([]digest, len(list))
	for i, e := range list {
		w := fmt.Sprintf("digest at index %d", i)
		pair, err := asArray(e, where, w)
		if err != nil {
			return nil, err
		}
		if len(pair) != 2 {
			return nil, fmt.Errorf("%w: %s: %s has %d elements, expected [alg, value]", ErrInvalid, where, w, len(pair))
		}
		value, err := asBytes(pair[1], where, w+" value")
		if err != nil {
			return nil, err
		}
		if n := len(value); n != 32 && n != 48 && n != 64 {
			return nil, fmt.Errorf("%w: %s: %s: wrong hash digest size: got %d bytes, expected 32, 48, or 64", ErrInvalid, where, w, n)
		}
		alg, err := digestAlg(pair[0], where, w)
		if err != nil {
			return nil, err
		}
		if n := digestSizes[alg]; n != len(value) && !d.opts.AllowDigestSizeMismatch {
			return nil, fmt.Errorf("%w: %s: %s: a %s digest is %d bytes, this one %d", ErrInvalid, where, w, alg, n, len(value))
		}
		out[i] = digest{alg: alg, value: value}
	}
	return out, nil
}

func digestAlg(it item, where, what string) (string, error) {
	switch major, _, _, _ := head(it); major {
	case 0:
		n, err := asUint(it, where, what+" algorithm")
		if err != nil {
			return "", err
		}
		if name, ok := digestAlgs[n]; ok {
			return name, nil
		}
		if name, ok := digestOthers[n]; ok {
			return "", fmt.Errorf("%w: %s: %s: algorithm %d (%s) is not supported; expected sha-256 (1), sha-384 (7) or sha-512 (8)", ErrAlgorithm, where, what, n, name)
		}
		return "", fmt.Errorf("%w: %s: %s: unknown algorithm %d; expected sha-256 (1), sha-384 (7) or sha-512 (8)", ErrAlgorithm, where, what, n)
	case 3:
		s, err := asText(it, where, what+" algorithm")
		if err != nil {
			return "", err
		}
		if _, ok := digestSizes[s]; ok {
			return s, nil
		}
		return "", fmt.Errorf("%w: %s: %s: algorithm %s is not supported; expected \"sha-256\", \"sha-384\" or \"sha-512\"", ErrAlgorithm, where, what, quote(s))
	}
	return "", fmt.Errorf("%w: %s: %s algorithm is %s, expected an integer or a text name", ErrInvalid, where, what, kind(it))
}
