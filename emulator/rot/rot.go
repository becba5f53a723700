// Package rot is the emulated platform root of trust: it measures the boot
// firmware into software components, holds the CPAK (platform attestation
// key) and the RAK it provisions to the RMM, keeps the platform identity
// (implementation id, instance id derived from the CPAK, lifecycle,
// platform config) and signs the platform token over the challenge the RMM
// gives it, in either profile generation.
package rot

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/token"
)

// Errors.
var (
	// ErrConfig: the configuration cannot make a platform.
	ErrConfig = errors.New("rot: invalid configuration")
	// ErrCurve: a RAK was requested for a curve other than P-384.
	ErrCurve = errors.New("rot: unsupported RAK curve")
	// ErrChallenge: the platform token challenge is not 32, 48 or 64 bytes.
	ErrChallenge = errors.New("rot: invalid platform challenge")
)

// Image is one firmware image of the boot chain. The root of trust measures
// it at boot: the measurement is the hash of the image and the signer id
// the hash of the key that signed it.
type Image struct {
	Type      string // measurement type, e.g. "RMM"
	Version   string
	Content   []byte // the image bytes
	SignerKey []byte // the signing key as the platform stores it
}

// Config describes the platform. The zero Config is a working, secured
// platform with the fixed test keys and a synthetic Arm-like boot chain.
type Config struct {
	// CPAK signs the platform token. nil: TestCPAKScalar.
	CPAK crypto.Signer
	// RAK is provisioned to the RMM (P-384). nil: TestRAKScalar.
	RAK *ecdsa.PrivateKey
	// Lifecycle is the security lifecycle; nil means secured (0x3003).
	Lifecycle *platform.Lifecycle
	// BootChain is measured into the software components. nil: DefaultBootChain.
	BootChain []Image
	// ImplementationID is 32 bytes. nil: SHA-256("ccakit emulated CCA platform").
	ImplementationID []byte
	// PlatformConfig is the platform config claim. nil: 4 bytes cf e5 00 00.
	PlatformConfig []byte
	// Generation selects the platform profile: token.Gen1 (the zero value
	// is taken as Gen1) or token.GenLegacy.
	Generation token.Generation
	// VerificationService is the optional verification service indicator.
	VerificationService string
}

// DefaultLifecycle is "secured", with implementation-defined low byte 3 as
// in TF-A's FVP sample platform token.
const DefaultLifecycle platform.Lifecycle = 0x3003

// DefaultBootChain is a synthetic boot chain shaped like an Arm reference
// platform's (RSE, AP and SCP boot loaders, EL3 firmware, RMM and the
// configuration blobs). Contents are fixed strings so measurements are
// stable across runs.
func DefaultBootChain() []Image {
	signer := []byte("ccakit test firmware signing key")
	var chain []Image
	for _, t := range []string{"RSE_BL1_2", "RSE_BL2", "RSE_S", "AP_BL1", "AP_BL2", "SCP_BL1", "SCP_BL2",
		"AP_BL31", "RMM", "HW_CONFIG", "FW_CONFIG", "TB_FW_CONFIG", "SOC_FW_CONFIG"} {
		chain = append(chain, Image{Type: t, Version: "1.0.0", Content: []byte("ccakit emulated firmware image " + t), SignerKey: signer})
	}
	return chain
}

// RoT is a booted root of trust. It is safe for concurrent use.
type RoT struct {
	cpak       crypto.Signer
	rak        *ecdsa.PrivateKey
	implID     []byte
	instanceID []byte
	config     []byte
	components []platform.SwComponent
	profile    string
	service    string

	mu        sync.Mutex
	lifecycle platform.Lifecycle
}

// New boots the root of trust: it measures the boot chain and derives the
// instance id.
func New(cfg Config) (*RoT, error) {
	r := &RoT{cpak: cfg.CPAK, rak: cfg.RAK, service: cfg.VerificationService, lifecycle: DefaultLifecycle}
	var err error
	if r.cpak == nil {
		if r.cpak, err = scalarKey(TestCPAKScalar); err != nil {
			return nil, err
		}
	}
	if r.rak == nil {
		if r.rak, err = scalarKey(TestRAKScalar); err != nil {
			return nil, err
		}
	}
	if r.rak.Curve.Params().Name != "P-384" {
		return nil, fmt.Errorf("%w: the RAK must be P-384 (RMM_GET_REALM_ATTEST_KEY curve 0), got %s", ErrConfig, r.rak.Curve.Params().Name)
	}
	if _, err := token.AlgorithmForKey(r.cpak.Public()); err != nil {
		return nil, fmt.Errorf("%w: CPAK: %v", ErrConfig, err)
	}
	if cfg.Lifecycle != nil {
		if cfg.Lifecycle.State() == platform.LifecycleInvalid {
			return nil, fmt.Errorf("%w: lifecycle 0x%x is in no lifecycle range", ErrConfig, uint64(*cfg.Lifecycle))
		}
		r.lifecycle = *cfg.Lifecycle
	}
	r.implID = cfg.ImplementationID
	if r.implID == nil {
		h := sha256.Sum256([]byte("ccakit emulated CCA platform"))
		r.implID = h[:]
	}
	if len(r.implID) != platform.ImplementationIDSize {
		return nil, fmt.Errorf("%w: implementation id must be %d bytes, got %d", ErrConfig, platform.ImplementationIDSize, len(r.implID))
	}
	r.config = cfg.PlatformConfig
	if r.config == nil {
		r.config = []byte{0xcf, 0xe5, 0x00, 0x00}
	}
	gen := cfg.Generation
	if gen == token.GenUnknown {
		gen = token.Gen1
	}
	if gen != token.Gen1 && gen != token.GenLegacy {
		return nil, fmt.Errorf("%w: the platform signs legacy or 1.0 tokens, not %v", ErrConfig, gen)
	}
	if r.profile, err = token.ProfileFor(token.SetPlatform, gen); err != nil {
		return nil, err
	}
	if r.instanceID, err = InstanceID(r.cpak.Public()); err != nil {
		return nil, err
	}
	chain := cfg.BootChain
	if chain == nil {
		chain = DefaultBootChain()
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: empty boot chain", ErrConfig)
	}
	for _, img := range chain {
		r.components = append(r.components, Measure(img))
	}
	return r, nil
}

func scalarKey(h string) (*ecdsa.PrivateKey, error) {
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, err
	}
	return token.P384FromScalar(b)
}

// Measure turns a boot image into its software component: SHA-256 of the
// content and of the signer key, as a measured boot records them.
func Measure(img Image) platform.SwComponent {
	m := sha256.Sum256(img.Content)
	s := sha256.Sum256(img.SignerKey)
	return platform.SwComponent{MeasurementType: img.Type, MeasurementValue: m[:], Version: img.Version,
		SignerID: s[:], MeasurementDesc: token.SHA256}
}

// InstanceID derives the platform's UEID from its CPAK: type RAND (0x01)
// followed by SHA-256 of the uncompressed public point, the way PSA/CCA
// firmware derives it from the attestation key.
func InstanceID(cpak crypto.PublicKey) ([]byte, error) {
	pub, ok := cpak.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: CPAK must be an ECDSA key to derive the instance id, got %s", ErrConfig, token.DescribeKey(cpak))
	}
	raw, err := pub.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: CPAK: %v", ErrConfig, err)
	}
	h := sha256.Sum256(raw)
	return append([]byte{0x01}, h[:]...), nil
}

// CPAK returns the platform attestation public key, what a verifier trusts.
func (r *RoT) CPAK() crypto.PublicKey { return r.cpak.Public() }

// InstanceID returns the platform's instance id.
func (r *RoT) InstanceID() []byte { return append([]byte(nil), r.instanceID...) }

// ImplementationID returns the platform's implementation id.
func (r *RoT) ImplementationID() []byte { return append([]byte(nil), r.implID...) }

// SoftwareComponents returns the boot measurements.
func (r *RoT) SoftwareComponents() []platform.SwComponent {
	return append([]platform.SwComponent(nil), r.components...)
}

// Lifecycle returns the current lifecycle.
func (r *RoT) Lifecycle() platform.Lifecycle {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lifecycle
}

// SetLifecycle moves the platform to another lifecycle value (e.g. a debug
// state); platform tokens signed afterwards carry it. Note that the RMM
// fetches the platform token once at boot and caches it for the power
// cycle, as TF-RMM does: to see a lifecycle in realm tokens, boot the
// machine with it (emulator.Config.Lifecycle).
func (r *RoT) SetLifecycle(l platform.Lifecycle) error {
	if l.State() == platform.LifecycleInvalid {
		return fmt.Errorf("%w: lifecycle 0x%x is in no lifecycle range", ErrConfig, uint64(l))
	}
	r.mu.Lock()
	r.lifecycle = l
	r.mu.Unlock()
	return nil
}

// RAKCurveP384 is the curve selector of RMM_GET_REALM_ATTEST_KEY for
// ECC SECP384R1 (TF-A v2.12 include/services/rmmd_svc.h
// ATTEST_KEY_CURVE_ECC_SECP384R1).
const RAKCurveP384 = 0

// RealmAttestKey returns the RAK's raw 48-byte private scalar for the
// requested curve, as EL3 hands it to the RMM.
func (r *RoT) RealmAttestKey(curve uint64) ([]byte, error) {
	if curve != RAKCurveP384 {
		return nil, fmt.Errorf("%w: curve %d (only %d, P-384, is defined)", ErrCurve, curve, RAKCurveP384)
	}
	return r.rak.Bytes()
}

// Claims returns the platform claims the root of trust attests, with the
// given challenge.
func (r *RoT) Claims(challenge []byte) *platform.Claims {
	return &platform.Claims{
		Profile:             r.profile,
		Challenge:           append([]byte(nil), challenge...),
		ImplementationID:    r.ImplementationID(),
		InstanceID:          r.InstanceID(),
		Config:              append([]byte(nil), r.config...),
		Lifecycle:           r.Lifecycle(),
		SwComponents:        r.SoftwareComponents(),
		VerificationService: r.service,
		HashAlgID:           token.SHA256,
	}
}

// PlatformToken signs the platform token (a tagged COSE_Sign1) over
// challenge, which the RMM sets to the hash of its RAK public key.
func (r *RoT) PlatformToken(challenge []byte) ([]byte, error) {
	if n := len(challenge); n != 32 && n != 48 && n != 64 {
		return nil, fmt.Errorf("%w: %d bytes (must be 32, 48 or 64)", ErrChallenge, n)
	}
	c := r.Claims(challenge)
	if err := c.Validate(platform.ValidateOptions{}); err != nil {
		return nil, fmt.Errorf("rot: platform claims: %w", err)
	}
	payload, err := c.Encode()
	if err != nil {
		return nil, err
	}
	return token.SignPayload(payload, r.cpak, nil)
}
