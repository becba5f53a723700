package verifier

import (
	"errors"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/token"
)

// TestReadNotAStore: a file that is neither a JSON store nor a CoRIM (a
// token given by mistake, say) is an ErrStore error that says so and what
// the file is, for both kinds of store; a JSON file keeps the JSON
// parser's message.
func TestReadNotAStore(t *testing.T) {
	tok := goodToken(t)
	coll, err := token.DecodeCollection(tok)
	if err != nil {
		t.Fatal(err)
	}
	mustCBOR := func(v any) []byte {
		b, err := cbor.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"evidence", tok, "neither a JSON store nor a CoRIM (it is CCA evidence, RMM 1.0-REL0: tag 399, "},
		{"bare platform token", coll.Platform, "neither a JSON store nor a CoRIM (it is CCA evidence, bare platform token, "},
		{"realm token alone", coll.Realm, `neither a JSON store nor a CoRIM (it is a CCA realm token (profile "tag:arm.com,2023:realm#1.0.0") without its platform token)`},
		{"other COSE_Sign1", mustCBOR(cbor.Tag{Number: 18, Content: []any{[]byte{0xa0}, map[int]int{}, []byte("x"), []byte("sig")}}),
			"(a COSE_Sign1 (tag 18) whose content type is not a CoRIM's (application/rim+cbor), and not a CCA token)"},
		{"tag 501 around an integer", []byte{0xd9, 0x01, 0xf5, 0x00}, "(tag 501, an unsigned CoRIM's, around a CBOR integer, not a corim-map)"},
		{"broken collection", mustCBOR(cbor.Tag{Number: 907, Content: []int{1}}), "(tag 907, a CCA evidence collection's, that does not decode as evidence)"},
		{"other tag", mustCBOR(cbor.Tag{Number: 1, Content: 5}), "(CBOR tag 1 around a CBOR integer)"},
		{"map", mustCBOR(map[int]int{2: 3}), "(a CBOR map of 1 entries without a CoRIM's id (0) and tags (1))"},
		{"array", mustCBOR([]int{1, 2}), "(a CBOR array of 2 items)"},
		{"binary", []byte{0xd0, 0x0d, 0xfe, 0xed, 0, 0}, "(not CBOR ("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTrustAnchors(tc.data, endorsement.DecodeOptions{})
			if !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), "trust anchors: neither a JSON store nor a CoRIM (") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("trust anchors: %v\nwant %q", err, tc.want)
			}
			_, err = ReadReferenceValues(tc.data, endorsement.DecodeOptions{})
			if !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), "reference values: neither a JSON store nor a CoRIM (") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("reference values: %v\nwant %q", err, tc.want)
			}
		})
	}
	// JSON, or what begins as JSON, keeps the JSON parser's message.
	for data, want := range map[string]string{`{}`: "trust anchors: not a JSON array", `[`: "trust anchors: not a JSON array", `{"x": 1}`: "trust anchors: not a JSON array"} {
		if _, err := ReadTrustAnchors([]byte(data), endorsement.DecodeOptions{}); !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", data, err)
		}
	}
}
