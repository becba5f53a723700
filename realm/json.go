package realm

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ccakit/cca/token"
)

// jsonClaims is the evcli JSON form of the realm claims (token-formats.md §4).
type jsonClaims struct {
	Profile                string   `json:"cca-realm-profile,omitempty"`
	Challenge              []byte   `json:"cca-realm-challenge"`
	PersonalizationValue   []byte   `json:"cca-realm-personalization-value"`
	InitialMeasurement     []byte   `json:"cca-realm-initial-measurement"`
	ExtensibleMeasurements [][]byte `json:"cca-realm-extensible-measurements"`
	HashAlgID              string   `json:"cca-realm-hash-algo-id"`
	PubKey                 []byte   `json:"cca-realm-public-key"`
	PubKeyHashAlgID        string   `json:"cca-realm-public-key-hash-algo-id"`
}

// MarshalJSON writes the evcli form; Extra claims have no JSON form.
func (c *Claims) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonClaims{
		Profile: c.Profile, Challenge: c.Challenge, PersonalizationValue: c.PersonalizationValue,
		InitialMeasurement: c.InitialMeasurement, ExtensibleMeasurements: c.ExtensibleMeasurements,
		HashAlgID: c.HashAlgID, PubKey: c.PubKey, PubKeyHashAlgID: c.PubKeyHashAlgID,
	})
}

// UnmarshalJSON reads the evcli form, rejecting unknown members.
func (c *Claims) UnmarshalJSON(data []byte) error {
	var j jsonClaims
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("%w: realm claims JSON: %v", token.ErrSyntax, err)
	}
	*c = Claims{
		Profile: j.Profile, Challenge: j.Challenge, PersonalizationValue: j.PersonalizationValue,
		InitialMeasurement: j.InitialMeasurement, ExtensibleMeasurements: j.ExtensibleMeasurements,
		HashAlgID: j.HashAlgID, PubKey: j.PubKey, PubKeyHashAlgID: j.PubKeyHashAlgID,
	}
	return nil
}
