package realm

import (
	"encoding/json"
	"fmt"

	"github.com/ccakit/cca/internal/claimsjson"
)

// jsonClaims is the evcli JSON form of the realm claims (veraison/evcli;
// veraison/ccatoken realm/claims.go).
type jsonClaims struct {
	Profile                string   `json:"cca-realm-profile,omitempty"`
	Challenge              []byte   `json:"cca-realm-challenge"`
	PersonalizationValue   []byte   `json:"cca-realm-personalization-value"`
	InitialMeasurement     []byte   `json:"cca-realm-initial-measurement"`
	ExtensibleMeasurements [][]byte `json:"cca-realm-extensible-measurements"`
	HashAlgID              string   `json:"cca-realm-hash-algo-id"`
	PubKey                 []byte   `json:"cca-realm-public-key"`
	PubKeyHashAlgID        string   `json:"cca-realm-public-key-hash-algo-id"`
	// 2.0 claims, named as draft-ffm-rats-cca-token-04 §5 names them.
	InstanceID       *[]byte    `json:"cca-realm-instance-id,omitempty"`
	MECPolicy        *MECPolicy `json:"cca-realm-mec-policy,omitempty"`
	LFAPolicy        *uint64    `json:"cca-realm-lfa-policy,omitempty"`
	DevicesTokenHash *[]byte    `json:"cca-realm-devices-token-hash,omitempty"`
}

// MarshalJSON writes the MEC policy in the form it is carried in: the
// integer (0 shared, 1 private) or the text.
func (m *MECPolicy) MarshalJSON() ([]byte, error) {
	if m.Text {
		return json.Marshal(m.Name)
	}
	return json.Marshal(m.Value)
}

// UnmarshalJSON reads either form: a number is the integer form, a string
// the text form.
func (m *MECPolicy) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case string:
		*m = MECPolicy{Text: true, Name: x}
		return nil
	case float64:
		var n uint64
		if err := json.Unmarshal(data, &n); err != nil {
			return fmt.Errorf("cca-realm-mec-policy: %v", err)
		}
		*m = MECPolicy{Value: n}
		return nil
	}
	// What was found is named by its JSON type, never echoed: the input may
	// carry terminal controls or bidirectional overrides.
	found := "null"
	switch v.(type) {
	case bool:
		found = "a boolean"
	case []any:
		found = "an array"
	case map[string]any:
		found = "an object"
	}
	return fmt.Errorf("cca-realm-mec-policy: want 0, 1, \"shared\" or \"private\", got %s", found)
}

// MarshalJSON writes the evcli form, with the 2.0 claims under their draft
// names; Extra claims have no JSON form.
func (c *Claims) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonClaims{
		Profile: c.Profile, Challenge: c.Challenge, PersonalizationValue: c.PersonalizationValue,
		InitialMeasurement: c.InitialMeasurement, ExtensibleMeasurements: c.ExtensibleMeasurements,
		HashAlgID: c.HashAlgID, PubKey: c.PubKey, PubKeyHashAlgID: c.PubKeyHashAlgID,
		InstanceID: claimsjson.Opt(c.InstanceID), MECPolicy: c.MECPolicy, LFAPolicy: c.LFAPolicy, DevicesTokenHash: claimsjson.Opt(c.DevicesTokenHash),
	})
}

// UnmarshalJSON reads the evcli form, rejecting unknown members.
func (c *Claims) UnmarshalJSON(data []byte) error {
	var j jsonClaims
	if err := claimsjson.Decode(data, &j, "realm claims JSON"); err != nil {
		return err
	}
	*c = Claims{
		Profile: j.Profile, Challenge: j.Challenge, PersonalizationValue: j.PersonalizationValue,
		InitialMeasurement: j.InitialMeasurement, ExtensibleMeasurements: j.ExtensibleMeasurements,
		HashAlgID: j.HashAlgID, PubKey: j.PubKey, PubKeyHashAlgID: j.PubKeyHashAlgID,
		InstanceID: claimsjson.FromOpt(j.InstanceID), MECPolicy: j.MECPolicy, LFAPolicy: j.LFAPolicy, DevicesTokenHash: claimsjson.FromOpt(j.DevicesTokenHash),
	}
	return nil
}
