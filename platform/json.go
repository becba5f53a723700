package platform

import (
	"encoding/json"

	"github.com/ccakit/cca/internal/claimsjson"
	"github.com/ccakit/cca/token"
)

// jsonClaims is the evcli JSON form of the platform claims
// (veraison/evcli, veraison/ccatoken platform/claims.go). Byte strings are standard base64 with padding,
// which is what encoding/json writes for []byte.
type jsonClaims struct {
	Profile             string        `json:"cca-platform-profile"`
	Challenge           []byte        `json:"cca-platform-challenge"`
	ImplementationID    []byte        `json:"cca-platform-implementation-id"`
	InstanceID          []byte        `json:"cca-platform-instance-id"`
	Config              []byte        `json:"cca-platform-config"`
	Lifecycle           *uint64       `json:"cca-platform-lifecycle"`
	SwComponents        []SwComponent `json:"cca-platform-sw-components"`
	VerificationService string        `json:"cca-platform-service-indicator,omitempty"`
	HashAlgID           string        `json:"cca-platform-hash-algo-id"`
	// 2.0 claims, named as draft-ffm-rats-cca-token-04 §5 names them
	// (arm-platform-* as cca-platform-*). Pointers keep absent and empty
	// apart.
	ClientID            *uint64            `json:"cca-platform-client-id,omitempty"`
	ManufacturingConfig *[]byte            `json:"cca-platform-manufacturing-config,omitempty"`
	Extension           *[]ExtensionDevice `json:"cca-platform-extension,omitempty"`
	TBBRoTPK            *[]TBBRoTPK        `json:"cca-platform-tbb-rotpk,omitempty"`
	PeerSigners         *[][]byte          `json:"cca-platform-peer-signers,omitempty"`
	DiscreteTPMBinding  *[]byte            `json:"cca-platform-discrete-tpm-binding-data,omitempty"`
	WorkloadBinding     *[]byte            `json:"cca-platform-workload-binding,omitempty"`
}

// MarshalJSON writes the evcli form, with the 2.0 claims under their draft
// names. Extra claims have no JSON form and are left out.
func (c *Claims) MarshalJSON() ([]byte, error) {
	lc := uint64(c.Lifecycle)
	return json.Marshal(jsonClaims{
		Profile: c.Profile, Challenge: c.Challenge, ImplementationID: c.ImplementationID,
		InstanceID: c.InstanceID, Config: nonNil(c.Config), Lifecycle: &lc,
		SwComponents: c.SwComponents, VerificationService: c.VerificationService, HashAlgID: c.HashAlgID,
		ClientID: c.ClientID, ManufacturingConfig: claimsjson.Opt(c.ManufacturingConfig), Extension: claimsjson.Opt(c.Extension),
		TBBRoTPK: claimsjson.Opt(c.TBBRoTPK), PeerSigners: claimsjson.Opt(c.PeerSigners), DiscreteTPMBinding: claimsjson.Opt(c.DiscreteTPMBinding),
		WorkloadBinding: claimsjson.Opt(c.WorkloadBinding),
	})
}

// UnmarshalJSON reads the evcli form. Unknown members are rejected, so a
// misspelt claim name is an error rather than a silently missing claim.
func (c *Claims) UnmarshalJSON(data []byte) error {
	var j jsonClaims
	if err := claimsjson.Decode(data, &j, "platform claims JSON"); err != nil {
		return err
	}
	*c = Claims{
		Profile: j.Profile, Challenge: j.Challenge, ImplementationID: j.ImplementationID,
		InstanceID: j.InstanceID, Config: j.Config, SwComponents: j.SwComponents,
		VerificationService: j.VerificationService, HashAlgID: j.HashAlgID,
		ClientID: j.ClientID, ManufacturingConfig: claimsjson.FromOpt(j.ManufacturingConfig), Extension: claimsjson.FromOpt(j.Extension),
		TBBRoTPK: claimsjson.FromOpt(j.TBBRoTPK), PeerSigners: claimsjson.FromOpt(j.PeerSigners), DiscreteTPMBinding: claimsjson.FromOpt(j.DiscreteTPMBinding),
		WorkloadBinding: claimsjson.FromOpt(j.WorkloadBinding),
	}
	c.present.set(token.KeyPlatformConfig, j.Config != nil)
	c.present.set(token.KeyLifecycle, j.Lifecycle != nil)
	c.present.set(token.KeySwComponents, j.SwComponents != nil)
	c.present.set(token.KeyVerificationService, j.VerificationService != "")
	if j.Lifecycle != nil {
		c.Lifecycle = Lifecycle(*j.Lifecycle)
	}
	return nil
}
