package verifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// isJSONStore reports whether a file that is not a CoRIM is to be read as a
// JSON store: valid JSON, or text that begins as a JSON store does (and is
// not CBOR), whose parse error then says where it breaks.
func isJSONStore(data []byte) bool {
	if json.Valid(data) {
		return true
	}
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) == 0 {
		return true
	}
	return (t[0] == '[' || t[0] == '{') && cbor.Wellformed(data) != nil
}

// notAStore is the error for a file that is neither a JSON store nor a
// CoRIM (what names the store), saying what it is instead.
func notAStore(what string, data []byte) error {
	return fmt.Errorf("%w: %s: neither a JSON store nor a CoRIM (%s)", ErrStore, what, describeInput(data))
}

// describeInput says what a file that is not a store is: CCA evidence (a
// token given by mistake), or the outermost CBOR item, or not CBOR.
func describeInput(data []byte) string {
	if e, err := evidence.Decode(data); err == nil {
		if _, err := token.LookupProfile(e.Platform.Profile, token.SetPlatform); e.Bare() && err != nil {
			// A lone COSE_Sign1 decodes as a bare platform token
			// whatever it carries: say what it is.
			if r, err := realm.Decode(e.PlatformSign1.Payload); err == nil && r.Profile != "" {
				return fmt.Sprintf("it is a CCA realm token (profile %q) without its platform token", r.Profile)
			}
		}
		return "it is CCA evidence, " + e.Kind().String() + ": verify it, do not load it as a store"
	}
	if err := cbor.Wellformed(data); err != nil {
		var syn *json.SyntaxError
		if jerr := json.Unmarshal(data, new(json.RawMessage)); errors.As(jerr, &syn) {
			return fmt.Sprintf("not CBOR (%v), and not JSON (byte %d: %v)", err, syn.Offset, syn)
		}
		return fmt.Sprintf("not CBOR: %v", err)
	}
	var tag cbor.RawTag
	if cbor.Unmarshal(data, &tag) == nil {
		inner := cborItem(tag.Content)
		switch tag.Number {
		case 18:
			return "a COSE_Sign1 (tag 18) whose content type is not a CoRIM's (" + endorsement.ContentType + "), and not a CCA token"
		case 501:
			return "tag 501, an unsigned CoRIM's, around " + inner + ", not a corim-map"
		case 399, 907:
			return fmt.Sprintf("tag %d, a CCA evidence collection's, that does not decode as evidence", tag.Number)
		}
		return fmt.Sprintf("CBOR tag %d around %s", tag.Number, inner)
	}
	switch s := cborItem(data); data[0] >> 5 {
	case 5:
		return s + " without a CoRIM's id (0) and tags (1)"
	default:
		return s
	}
}

// cborItem names a well-formed CBOR item's type (and its size for an array
// or a map).
func cborItem(data []byte) string {
	if len(data) == 0 {
		return "nothing"
	}
	switch data[0] >> 5 {
	case 0, 1:
		return "a CBOR integer"
	case 2:
		return "a CBOR byte string"
	case 3:
		return "a CBOR text string"
	case 4:
		var a []cbor.RawMessage
		if cbor.Unmarshal(data, &a) == nil {
			return fmt.Sprintf("a CBOR array of %d items", len(a))
		}
		return "a CBOR array"
	case 5:
		var m map[any]cbor.RawMessage
		if cbor.Unmarshal(data, &m) == nil {
			return fmt.Sprintf("a CBOR map of %d entries", len(m))
		}
		return "a CBOR map"
	case 6:
		return "a CBOR tag"
	}
	return "a CBOR simple value or float"
}
