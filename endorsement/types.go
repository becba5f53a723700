package endorsement

import (
	"crypto"
	"crypto/x509"
	"time"

	"github.com/ccakit/cca/token"
)

// Profile identifiers (CoRIM key 3) of every form Veraison has provisioned
// CCA endorsements in. The 2025 pair is today's (veraison/corim
// profiles/cca/platform.go and realm.go; draft-ydb-rats-cca-endorsements
// §3.1, §3.2); the others are the earlier structure (veraison/services
// scheme/common/cca at b8993d2; the 2023 tags were added by ccc65e2).
const (
	ProfilePlatform     = "tag:arm.com,2025:cca_platform#1.0.0"
	ProfileRealm        = "tag:arm.com,2025:cca_realm#1.0.0"
	ProfilePlatform2023 = "tag:arm.com,2023:cca_platform#1.0.0"
	ProfileRealm2023    = "tag:arm.com,2023:realm#1.0.0"
	ProfilePlatformSSD  = "http://arm.com/cca/ssd/1"
	ProfileRealmLegacy  = "http://arm.com/cca/realm/1"
)

// ContentType is the COSE content type (header 3) of a signed CoRIM
// (draft-ietf-rats-corim §4.2; veraison/corim corim/signedcorim.go).
const ContentType = "application/rim+cbor"

// Limits applied to hostile input. Real CCA CoRIMs are a few kilobytes; the
// limits leave room for a fleet's worth of trust anchors in one file.
const (
	// MaxSize bounds the encoded size of a CoRIM (signed or not).
	MaxSize = 4 << 20
	// MaxNesting bounds the depth of nested arrays, maps and tags in any
	// one CBOR item (a CoMID is decoded as an item of its own).
	MaxNesting = 16
	// MaxArrayLen bounds every array: tags, triples, measurements,
	// digests, keys.
	MaxArrayLen = 4096
	// MaxMapPairs bounds every map.
	MaxMapPairs = 64
	// MaxTriples bounds the triples of a whole CoRIM, summed over its
	// CoMIDs, and MaxMeasurements the measurements of a whole CoRIM.
	MaxTriples      = 16384
	MaxMeasurements = 65536
)

// Errors. Every error of Decode wraps exactly one of these, and each of
// these wraps the token error class of the same meaning, so that callers
// sorting errors by token.Classes (the CLI's exit codes) need nothing new.
var (
	// ErrMalformed: not CBOR of the CoRIM envelope's shape, a wrong or
	// missing tag, a duplicate map key, over a limit, trailing bytes.
	ErrMalformed error = &classError{"malformed CoRIM", token.ErrMalformed}
	// ErrProfile: no profile, or one that is not a CCA profile.
	ErrProfile error = &classError{"not a CCA CoRIM profile", token.ErrProfile}
	// ErrInvalid: well-formed, but a CoMID, triple, environment or
	// measurement breaks the profile (a missing or wrongly typed field,
	// a wrong size, an unknown measurement key).
	ErrInvalid error = &classError{"invalid CoRIM", token.ErrSyntax}
	// ErrAlgorithm: a digest or signature algorithm that is not supported.
	ErrAlgorithm error = &classError{"unsupported algorithm in CoRIM", token.ErrAlgorithm}
	// ErrSignature: the COSE_Sign1 signature of a signed CoRIM does not
	// verify, its certificate chain does not, or there is nothing to check
	// it with.
	ErrSignature error = &classError{"CoRIM signature", token.ErrSignature}
	// ErrExpired: the CoRIM's validity period (rim-validity, or that of its
	// corim-meta) does not include DecodeOptions.Now.
	ErrExpired error = &classError{"CoRIM outside its validity period", token.ErrSyntax}
)

// classError is a package sentinel that is also one of the token error
// classes (errors.Is matches both) while its message stays its own.
type classError struct {
	msg   string
	class error
}

func (e *classError) Error() string { return e.msg }
func (e *classError) Unwrap() error { return e.class }

// TrustAnchor is one CCA platform attestation key (CPAK), endorsed for the
// platform instance it belongs to.
type TrustAnchor struct {
	// ImplementationID is the platform's implementation id (32 bytes), the
	// class id of the environment.
	ImplementationID []byte
	// InstanceID is the platform's instance id, a 33-byte RAND UEID.
	InstanceID []byte
	// Key is the CPAK public key.
	Key crypto.PublicKey
	// Vendor and Model are the optional class vendor and model (legacy
	// and 2025 forms both allow them; lookups ignore them).
	Vendor, Model string
	// Where names the position in the CoRIM, for messages and results.
	Where string
}

// SwComponent is one acceptable measurement of a platform software
// component. A CoRIM measurement with several digests becomes one
// SwComponent per digest.
type SwComponent struct {
	// Type is the component type (name, key 11; the label in the legacy
	// psa.refval-id); "" if not given.
	Type string
	// Version is the version; "" if not given. Leave it empty in a CoRIM
	// for Veraison: its CoRIM library (53b3014) panics on the profile's
	// version form (encode.go, platformTripleOut).
	Version string
	// Alg is the digest algorithm's name: "sha-256", "sha-384", "sha-512".
	Alg string
	// Value is the measurement value.
	Value []byte
	// SignerID is the signer id (hash of the signing authority's key);
	// legacy CoRIMs may omit it (nil).
	SignerID []byte
}

// PlatformReference is the reference values for one platform
// implementation: one reference-value triple.
type PlatformReference struct {
	ImplementationID []byte
	// Config is the expected platform configuration (the raw value of
	// cca.platform-config, or the legacy 602 measurement); nil if the
	// triple has none.
	Config []byte
	// ConfigMask selects the bits of Config that are compared (same
	// length as Config); nil if the CoRIM gives none (legacy form).
	ConfigMask []byte
	// SwComponents are the acceptable software component measurements.
	SwComponents []SwComponent
	// Vendor and Model are the optional class vendor and model.
	Vendor, Model string
	Where         string
}

// RealmReference is the reference values of one realm, identified by its
// initial measurement.
type RealmReference struct {
	// RIM is the realm initial measurement.
	RIM []byte
	// HashAlg names the algorithm of RIM and REMs ("sha-256", ...).
	HashAlg string
	// RPV is the realm personalization value (64 bytes); nil if not given.
	RPV []byte
	// REMs are the expected extensible measurements; nil = not given.
	REMs [4][]byte
	// Where names the position in the CoRIM.
	Where string
}

// Endorsements is what a CCA CoRIM carries.
type Endorsements struct {
	// ID is the CoRIM id: its text, or a UUID in its canonical form.
	ID string
	// Profile is the profile as written (one of the Profile constants).
	Profile string
	// Legacy reports the pre-2025 structure (600/601/602 identifiers on
	// the platform side, integrity registers on the realm side).
	Legacy bool

	TrustAnchors []TrustAnchor
	Platforms    []PlatformReference
	Realms       []RealmReference
	// BadTrustAnchors are the attest-key triples whose identity is well
	// formed but whose key is not usable, kept apart (instead of failing
	// the CoRIM) with DecodeOptions.IsolateBadKeys, so that a verifier can
	// fail only the platform they name.
	BadTrustAnchors []BadTrustAnchor

	// Signed reports a COSE-signed CoRIM whose signature was checked;
	// SignerName is its corim-meta signer name. A signed CoRIM decoded
	// with SkipSignatureCheckUnsafe has Signed false.
	Signed     bool
	SignerName string
	// NotBefore and NotAfter are the validity period (zero if none).
	NotBefore, NotAfter time.Time
}

// BadTrustAnchor is an attest-key triple for a well-formed platform
// identity whose key could not be used; Err says why (it wraps ErrInvalid).
type BadTrustAnchor struct {
	ImplementationID, InstanceID []byte
	Where                        string
	Err                          error
}

// DecodeOptions controls Decode.
type DecodeOptions struct {
	// SignerKey checks the signature of a signed CoRIM. The COSE algorithm
	// must be the one for this key (token.AlgorithmForKey).
	SignerKey crypto.PublicKey
	// Roots, if SignerKey is nil, checks the signature with the leaf of
	// the CoRIM's x5chain (COSE header 33) after verifying the chain to
	// one of these roots, as Veraison's provisioning does.
	Roots *x509.CertPool
	// SkipSignatureCheckUnsafe accepts a signed CoRIM without checking its
	// signature. For inspecting a CoRIM only: anyone can write one.
	SkipSignatureCheckUnsafe bool
	// RequireSigned refuses an unsigned CoRIM.
	RequireSigned bool
	// Now, if not zero, is checked against the validity periods. Veraison
	// does not check them (its own test CoRIMs expired in 2025), so the
	// zero value does not either.
	Now time.Time
	// AllowDigestSizeMismatch accepts digests whose length is not that of
	// their algorithm (32, 48 or 64 bytes still required), as Veraison's
	// profile does; by default sha-256 must be 32 bytes and so on.
	AllowDigestSizeMismatch bool
	// IsolateBadKeys keeps an attest-key triple whose key does not parse
	// (not PEM, not a SubjectPublicKeyInfo, an unusable key type or curve)
	// in BadTrustAnchors instead of refusing the CoRIM: one bad key then
	// locks out only its own platform. Every other defect still fails.
	IsolateBadKeys bool
}
