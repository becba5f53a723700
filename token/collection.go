package token

import (
	"bytes"
	"fmt"
	"io"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/internal/enumname"
)

// Wrapper is the top-level form of a CCA evidence collection.
type Wrapper int

const (
	// WrapperNone is no collection: a bare platform token, one COSE_Sign1
	// as TF-A (fvp_plat_attest_token.c), TF-RMM (received from EL3) and
	// tf-m-tools (cca_example_platform_token.cbor) ship it.
	WrapperNone Wrapper = 0
	// Wrapper399 is the RMM 1.0 collection: 399({44234: bstr, 44241: bstr}),
	// TF-RMM ≤ v0.8.0 lib/attestation/src/attestation_token.c attest_cca_token_create.
	Wrapper399 Wrapper = 399
	// Wrapper907 is the CMW collection of TF-RMM ≥ v0.9.0:
	// 907({44234: [263, bstr], 44241: [263, bstr]}).
	Wrapper907 Wrapper = 907
)

var wrapperNames = map[Wrapper]string{
	Wrapper399:  "tag 399 collection",
	Wrapper907:  "tag 907 CMW collection",
	WrapperNone: "bare platform token (no collection)",
}

func (w Wrapper) String() string { return enumname.Name(w, wrapperNames, "unknown wrapper (tag %d)") }

// Collection is an evidence collection with each token kept exactly as
// carried: the bytes of a tagged COSE_Sign1 each.
type Collection struct {
	Wrapper  Wrapper
	Platform []byte
	Realm    []byte
}

// cmwEntry is one entry of the tag-907 collection: [content-format, bstr].
type cmwEntry struct {
	_             struct{} `cbor:",toarray"`
	ContentFormat uint64
	Token         []byte
}

// DecodeCollection parses the top level of CCA evidence. It checks the
// wrapper strictly (tag, exactly the two entries, their types) but not the
// tokens inside, which are returned as carried (in one copy of data).
func DecodeCollection(data []byte) (*Collection, error) {
	const what = "evidence collection"
	var w Wrapper
	if len(data) >= 3 && data[0] == 0xd9 { // tag with a 2-byte number: 399 and 907 both
		w = Wrapper(uint64(data[1])<<8 | uint64(data[2]))
	}
	if len(data) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %s: %d bytes exceeds the %d-byte limit", ErrMalformed, what, len(data), MaxTokenSize)
	}
	if w != Wrapper399 && w != Wrapper907 {
		return nil, fmt.Errorf("%w (expected 399 or 907)", tagError(data, uint64(Wrapper399), what))
	}
	body := "evidence collection (tag 399)" // constants: no allocation
	if w == Wrapper907 {
		body = "evidence collection (tag 907 CMW)"
	}
	if len(data) == 3 {
		return nil, fmt.Errorf("%w: %s: %w (nothing after the tag)", ErrMalformed, body, io.ErrUnexpectedEOF)
	}
	if err := check(data[3:], body); err != nil {
		return nil, err
	}
	buf := bytes.Clone(data[3:])
	if major := buf[0] >> 5; major != 5 {
		return nil, fmt.Errorf("%w: %s: expected a map, found %s", ErrMalformed, body, majorName(major))
	}
	c := &Collection{Wrapper: w}
	err := entries(buf, func(_ int, k, v []byte) error {
		key, ok := asInt(k)
		var dst *[]byte
		switch {
		case ok && key == KeyPlatformToken:
			dst = &c.Platform
		case ok && key == KeyRealmToken:
			dst = &c.Realm
		case ok:
			return fmt.Errorf("%w: %s: unexpected entry %d (only %d and %d belong)", ErrMalformed, body, key, KeyPlatformToken, KeyRealmToken)
		default:
			return fmt.Errorf("%w: %s: unexpected entry key of type %s (only %d and %d belong)", ErrMalformed, body, kindName(k), KeyPlatformToken, KeyRealmToken)
		}
		name := func() string { return fmt.Sprintf("%s entry %d (%s)", body, key, tokenName(key)) }
		if w == Wrapper399 {
			if v[0]>>5 != 2 {
				return fmt.Errorf("%w: %s: expected a byte string, found %s", ErrMalformed, name(), kindName(v))
			}
			*dst = content(v)
			return nil
		}
		return cmwToken(v, dst, name)
	})
	if err != nil {
		return nil, err
	}
	for _, e := range [...]struct {
		key int64
		tok []byte
	}{{KeyPlatformToken, c.Platform}, {KeyRealmToken, c.Realm}} {
		if e.tok == nil {
			return nil, fmt.Errorf("%w: %s: no %s (entry %d)", ErrMalformed, body, tokenName(e.key), e.key)
		}
	}
	return c, nil
}

// cmwToken reads a CMW collection entry, [263, bstr].
func cmwToken(v []byte, dst *[]byte, name func() string) error {
	major, n, hl := readHead(v)
	if major != 4 || n != 2 {
		return fmt.Errorf("%w: %s: expected [263, bstr], found %s", ErrMalformed, name(), describeShape(v))
	}
	cf := v[hl:]
	tok := cf[itemLen(cf):]
	if cf[0]>>5 != 0 {
		return fmt.Errorf("%w: %s: expected [263, bstr], found a %s content format", ErrMalformed, name(), kindName(cf))
	}
	if _, format, _ := readHead(cf); format != ContentFormatEATCWT {
		return fmt.Errorf("%w: %s: content format %d, expected %d (EAT CWT)", ErrMalformed, name(), format, ContentFormatEATCWT)
	}
	if tok[0]>>5 != 2 {
		return fmt.Errorf("%w: %s: expected [263, bstr], the token is %s", ErrMalformed, name(), kindName(tok))
	}
	*dst = content(tok)
	return nil
}

func describeShape(v []byte) string {
	if major, n, _ := readHead(v); major == 4 {
		return fmt.Sprintf("an array of %d", n)
	}
	return kindName(v)
}

func tokenName(key int64) string {
	if key == KeyPlatformToken {
		return "platform token"
	}
	return "realm token"
}

// tagError explains why data does not start with tag want in its
// shortest head.
func tagError(data []byte, want uint64, what string) error {
	if len(data) > MaxTokenSize {
		return fmt.Errorf("%w: %s: %d bytes exceeds the %d-byte limit", ErrMalformed, what, len(data), MaxTokenSize)
	}
	if len(data) == 0 {
		return fmt.Errorf("%w: %s: empty input", ErrMalformed, what)
	}
	_, num, _, ok := cborHead(data)
	switch {
	case data[0]>>5 != 6:
		return fmt.Errorf("%w: %s: expected CBOR tag %d, found %s", ErrMalformed, what, want, majorName(data[0]>>5))
	case !ok:
		return fmt.Errorf("%w: %s: %w", ErrMalformed, what, io.ErrUnexpectedEOF)
	case num == want || (want == uint64(Wrapper399) && num == uint64(Wrapper907)):
		return fmt.Errorf("%w: %s: tag %d encoded in a non-shortest form", ErrMalformed, what, num)
	}
	return fmt.Errorf("%w: %s: expected CBOR tag %d, found tag %d", ErrMalformed, what, want, num)
}

// Encode writes the collection in its wrapper, platform entry first as
// TF-RMM does.
func (c *Collection) Encode() ([]byte, error) {
	type coll399 struct {
		Platform []byte `cbor:"44234,keyasint"`
		Realm    []byte `cbor:"44241,keyasint"`
	}
	type coll907 struct {
		Platform cmwEntry `cbor:"44234,keyasint"`
		Realm    cmwEntry `cbor:"44241,keyasint"`
	}
	var content any
	switch c.Wrapper {
	case Wrapper399:
		content = coll399{c.Platform, c.Realm}
	case Wrapper907:
		content = coll907{cmwEntry{ContentFormat: ContentFormatEATCWT, Token: c.Platform},
			cmwEntry{ContentFormat: ContentFormatEATCWT, Token: c.Realm}}
	default:
		return nil, fmt.Errorf("%w: cannot encode %v", ErrMalformed, c.Wrapper)
	}
	return Marshal(cbor.Tag{Number: uint64(c.Wrapper), Content: content})
}
