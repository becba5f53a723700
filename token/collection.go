package token

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Wrapper is the top-level form of a CCA evidence collection.
type Wrapper int

const (
	// Wrapper399 is the RMM 1.0 collection: 399({44234: bstr, 44241: bstr}),
	// TF-RMM ≤ v0.8.0 attest_cca_token_create (cca-rmm-1.0.md §4.1).
	Wrapper399 Wrapper = 399
	// Wrapper907 is the CMW collection of TF-RMM ≥ v0.9.0:
	// 907({44234: [263, bstr], 44241: [263, bstr]}).
	Wrapper907 Wrapper = 907
)

func (w Wrapper) String() string {
	switch w {
	case Wrapper399:
		return "tag 399 collection"
	case Wrapper907:
		return "tag 907 CMW collection"
	}
	return fmt.Sprintf("unknown wrapper (tag %d)", int(w))
}

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
	Token         bstr
}

// DecodeCollection parses the top level of CCA evidence. It checks the
// wrapper strictly (tag, exactly the two entries, their types) but not the
// tokens inside, which are returned as carried.
func DecodeCollection(data []byte) (*Collection, error) {
	var tagNum uint64
	if len(data) >= 3 && data[0] == 0xd9 { // tag with a 2-byte number: 399 and 907 both
		tagNum = uint64(data[1])<<8 | uint64(data[2])
	}
	switch Wrapper(tagNum) {
	case Wrapper399, Wrapper907:
	default:
		_, err := unwrapTag(data, uint64(Wrapper399), "evidence collection")
		if err == nil {
			err = fmt.Errorf("%w: evidence collection: tag encoded in a non-shortest form", ErrMalformed)
		}
		return nil, fmt.Errorf("%w (expected 399 or 907)", err)
	}
	content, err := unwrapTag(data, tagNum, "evidence collection")
	if err != nil {
		return nil, err
	}
	var entries map[int64]cbor.RawMessage
	if err := decodeFraming(content, &entries, fmt.Sprintf("%v", Wrapper(tagNum))); err != nil {
		return nil, err
	}
	c := &Collection{Wrapper: Wrapper(tagNum)}
	for key := range entries {
		if key != KeyPlatformToken && key != KeyRealmToken {
			return nil, fmt.Errorf("%w: %v: unexpected entry %d (only %d and %d belong)", ErrMalformed, c.Wrapper, key, KeyPlatformToken, KeyRealmToken)
		}
	}
	for _, e := range [...]struct {
		key  int64
		name string
		dst  *[]byte
	}{{KeyPlatformToken, "platform token", &c.Platform}, {KeyRealmToken, "realm token", &c.Realm}} {
		raw, ok := entries[e.key]
		if !ok {
			return nil, fmt.Errorf("%w: %v: no %s (entry %d)", ErrMalformed, c.Wrapper, e.name, e.key)
		}
		what := fmt.Sprintf("%v entry %d (%s)", c.Wrapper, e.key, e.name)
		if c.Wrapper == Wrapper399 {
			if err := decodeFraming(raw, e.dst, what); err != nil {
				return nil, err
			}
			continue
		}
		var ent cmwEntry
		if err := decodeFraming(raw, &ent, what+": expected [263, bstr]"); err != nil {
			return nil, err
		}
		if ent.ContentFormat != ContentFormatEATCWT {
			return nil, fmt.Errorf("%w: %s: content format %d, expected %d (EAT CWT)", ErrMalformed, what, ent.ContentFormat, ContentFormatEATCWT)
		}
		if ent.Token == nil {
			return nil, fmt.Errorf("%w: %s: the token is not a byte string", ErrMalformed, what)
		}
		*e.dst = ent.Token
	}
	return c, nil
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
