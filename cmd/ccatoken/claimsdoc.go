package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/token"
)

// claimsDocument is the JSON that "inspect --output json" writes and
// "create --claims" reads: the evcli form (veraison/evcli `cca create`
// --claims, the JSON names of veraison/ccatoken) of the two
// claims sets, plus members outside the two token objects for what that form
// has no place for. Reading and writing through one type is what makes the
// output of inspect a valid input of create.
type claimsDocument struct {
	// Generation describes the evidence (evidence.Kind); informational,
	// ignored by create.
	Generation string `json:"generation,omitempty"`
	// Format is the creatable format the evidence is in ("rel0", "legacy",
	// "cmw", "tfrmm-main"), when it is one; create uses it when --format is
	// not given.
	Format   string           `json:"format,omitempty"`
	Platform *platform.Claims `json:"cca-platform-token"`
	// Realm is nil (and the member absent) for a bare platform token.
	Realm *realm.Claims `json:"cca-realm-delegated-token,omitempty"`
	// Extra claims: claims no profile defines, which the JSON form cannot
	// carry. create puts them back as carried (the "cbor" member).
	PlatformExtra []extraClaim `json:"cca-platform-extra-claims,omitempty"`
	RealmExtra    []extraClaim `json:"cca-realm-extra-claims,omitempty"`
	// Validation is inspect's verdict on the claims; ignored by create.
	Validation string `json:"validation,omitempty"`
}

// extraClaim is one claim outside the evcli form.
type extraClaim struct {
	Key int64 `json:"key"`
	// Name is the claim's name in the table, when it has one; informational.
	Name string `json:"name,omitempty"`
	// Diag is the value in CBOR diagnostic notation; informational.
	Diag string `json:"diag,omitempty"`
	// CBOR is the encoded value, in hex; authoritative.
	CBOR hexBytes `json:"cbor"`
}

// hexBytes is a byte string written as hex in JSON.
type hexBytes []byte

func (h hexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

func (h *hexBytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("cbor: expected a hex string")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("cbor: %v", err)
	}
	*h = b
	return nil
}

// extraClaims lists a claims set's extra claims by key, named from the one
// claim table when it knows them.
func extraClaims(set token.ClaimSet, extra map[int64]cbor.RawMessage) []extraClaim {
	var out []extraClaim
	for _, k := range token.SortedKeys(extra) {
		ec := extraClaim{Key: k, CBOR: hexBytes(extra[k])}
		if c, ok := token.LookupClaim(set, k); ok {
			ec.Name = c.Name
		}
		if d, err := token.Diagnose(extra[k]); err == nil {
			ec.Diag = d
		}
		out = append(out, ec)
	}
	return out
}

// newClaimsDocument describes decoded evidence.
func newClaimsDocument(e *evidence.Evidence, validation error) *claimsDocument {
	doc := &claimsDocument{
		Generation:    e.Kind().String(),
		Platform:      e.Platform,
		Realm:         e.Realm,
		PlatformExtra: extraClaims(token.SetPlatform, e.Platform.Extra),
		Validation:    "ok",
	}
	if e.Realm != nil {
		doc.RealmExtra = extraClaims(token.SetRealm, e.Realm.Extra)
	}
	if f, ok := formatOfKind(e.Kind()); ok {
		doc.Format = f.String()
	}
	if validation != nil {
		doc.Validation = validation.Error()
	}
	return doc
}

// formatOfKind is the creatable format evidence of kind k is in.
func formatOfKind(k evidence.Kind) (evidence.Format, bool) {
	if !k.Coherent() || k.Bare {
		return 0, false
	}
	for _, f := range evidence.Formats() {
		if f.Wrapper() == k.Wrapper && f.GenerationOf(token.SetPlatform) == k.Platform && f.GenerationOf(token.SetRealm) == k.Realm {
			return f, true
		}
	}
	return 0, false
}

// parseClaimsDocument reads the claims JSON of create. Anything that keeps
// it from being read as claims (not JSON, an unknown member, a wrong type, a
// token object missing) is an input error; whether the claims make valid
// evidence is evidence.Create's to say.
func parseClaimsDocument(data []byte) (*claimsDocument, error) {
	var doc claimsDocument
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		// encoding/json names the Go type it decodes into
		// ("main.claimsDocument"); the user wrote JSON.
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field == "" {
			return nil, fmt.Errorf("a JSON %s, want an object {\"cca-platform-token\": ..., \"cca-realm-delegated-token\": ...}", typ.Value)
		}
		if errors.As(err, &typ) && typ.Type != nil {
			return nil, fmt.Errorf("%q: a JSON %s, want %s", typ.Field, typ.Value, jsonKind(typ.Type))
		}
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON object")
	}
	if doc.Platform == nil {
		return nil, fmt.Errorf(`no "cca-platform-token" object`)
	}
	if doc.Realm == nil {
		if doc.Generation != "" {
			// inspect's JSON of a bare platform token: create makes
			// collections only, as the RMM hands them to a realm.
			return nil, fmt.Errorf(`no "cca-realm-delegated-token" object: this is the JSON of a bare platform token, and create makes a collection of a platform and a realm token; add a realm token object`)
		}
		return nil, fmt.Errorf(`no "cca-realm-delegated-token" object`)
	}
	var err error
	if doc.Platform.Extra, err = extraMap(token.SetPlatform, doc.PlatformExtra); err != nil {
		return nil, err
	}
	if doc.Realm.Extra, err = extraMap(token.SetRealm, doc.RealmExtra); err != nil {
		return nil, err
	}
	return &doc, nil
}

// extraMap turns extra claims back into a claims set's Extra. A key the
// claims set's own members carry cannot be given twice.
func extraMap(set token.ClaimSet, list []extraClaim) (map[int64]cbor.RawMessage, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := make(map[int64]cbor.RawMessage, len(list))
	for _, ec := range list {
		if c, ok := token.LookupClaim(set, ec.Key); ok {
			return nil, fmt.Errorf("%s extra claim %d is %s; give it as %q in the token object", set, ec.Key, c.Name, c.JSON)
		}
		if _, dup := m[ec.Key]; dup {
			return nil, fmt.Errorf("%s extra claim %d is given twice", set, ec.Key)
		}
		if len(ec.CBOR) == 0 {
			return nil, fmt.Errorf("%s extra claim %d has no cbor value", set, ec.Key)
		}
		if _, err := token.Diagnose(ec.CBOR); err != nil {
			return nil, fmt.Errorf("%s extra claim %d: cbor is not one well-formed CBOR item: %v", set, ec.Key, err)
		}
		m[ec.Key] = cbor.RawMessage(ec.CBOR)
	}
	return m, nil
}

// jsonKind names the JSON a Go type is read from, for an error.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a string"
		}
		return "an array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
}
