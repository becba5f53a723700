package endorsement

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	c "github.com/ccakit/cca/internal/cbortest"
	"github.com/ccakit/cca/token"
)

// Test inputs are written with internal/cbortest, a CBOR writer that shares
// nothing with the encoder under test. Values are made up; the shapes are
// those of the profiles (draft-ydb-rats-cca-endorsements §3) and of what
// Veraison has provisioned.

var (
	fxImpl    = bytes.Repeat([]byte{0x11}, 32)
	fxInst    = append([]byte{0x01}, bytes.Repeat([]byte{0x22}, 32)...)
	fxSigner  = bytes.Repeat([]byte{0x33}, 32)
	fxBL      = bytes.Repeat([]byte{0x44}, 32)
	fxRMM     = bytes.Repeat([]byte{0x55}, 48)
	fxConfig  = []byte{0xcf, 0x01}
	fxMask    = []byte{0xff, 0x0f}
	fxRIM     = bytes.Repeat([]byte{0x66}, 48)
	fxREM0    = bytes.Repeat([]byte{0x77}, 48)
	fxREM3    = bytes.Repeat([]byte{0x78}, 48)
	fxRPV     = bytes.Repeat([]byte{0x88}, 64)
	fxUUID    = []byte{0x5c, 0x57, 0xe8, 0xf4, 0x46, 0xcd, 0x42, 0x1b, 0x91, 0xc9, 0x08, 0xcf, 0x93, 0xe1, 0x3c, 0xfc}
	fxTAKey   = mustKey()
	fxTAPEM   = mustPEM()
	fxCertPEM = mustCertPEM()
	otherKey  = mustOtherKey()
	profPlat  = c.Tag(32, c.Tstr(ProfilePlatform))
	profRealm = c.Tag(32, c.Tstr(ProfileRealm))
)

func mustKey() *ecdsa.PrivateKey {
	k, err := token.P384FromScalar(bytes.Repeat([]byte{0x5a}, 48))
	if err != nil {
		panic(err)
	}
	return k
}

func mustOtherKey() *ecdsa.PrivateKey {
	k, err := token.P384FromScalar(bytes.Repeat([]byte{0x3c}, 48))
	if err != nil {
		panic(err)
	}
	return k
}

func mustPEM() string {
	p, err := token.MarshalPublicPEM(&fxTAKey.PublicKey)
	if err != nil {
		panic(err)
	}
	return strings.TrimRight(string(p), "\n")
}

// mustCertPEM is a self-signed certificate for fxTAKey, PEM.
func mustCertPEM() string {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ACME CPAK"},
		NotBefore: time.Unix(1767225600, 0), NotAfter: time.Unix(1798761600, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &fxTAKey.PublicKey, fxTAKey)
	if err != nil {
		panic(err)
	}
	return strings.TrimRight(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), "\n")
}

// Builders. Maps list their keys in ascending order, as a deterministic
// encoder writes them.

func tagged(n uint64, b []byte) []byte { return c.Tag(n, c.Bstr(b)) }

// comidTag is 506(<<{1: {0: tagID}, 4: triples}>>).
func comidTag(tagID string, triples []byte) []byte {
	return c.Tag(506, c.Bstr(comidMap(tagID, triples)))
}

func comidMap(tagID string, triples []byte) []byte {
	return c.Map(c.Int(1), c.Map(c.Int(0), c.Tstr(tagID)), c.Int(4), triples)
}

// corim is 501({0: id, 1: [tags], 3: profile}).
func corim(id string, profile []byte, tags ...[]byte) []byte {
	return c.Tag(501, c.Map(c.Int(0), c.Tstr(id), c.Int(1), c.Arr(tags...), c.Int(3), profile))
}

// rvTriples is {0: [triples]}; akTriples {3: [triples]}.
func rvTriples(ts ...[]byte) []byte { return c.Map(c.Int(0), c.Arr(ts...)) }
func akTriples(ts ...[]byte) []byte { return c.Map(c.Int(3), c.Arr(ts...)) }

// classEnv is {0: {0: classID}} plus, if given, 1: instance.
func classEnv(classID []byte, instance []byte) []byte {
	if instance == nil {
		return c.Map(c.Int(0), c.Map(c.Int(0), classID))
	}
	return c.Map(c.Int(0), c.Map(c.Int(0), classID), c.Int(1), instance)
}

func meas(mkey, mval []byte) []byte {
	if mkey == nil {
		return c.Map(c.Int(1), mval)
	}
	return c.Map(c.Int(0), mkey, c.Int(1), mval)
}

func digests(alg []byte, v []byte) []byte { return c.Arr(c.Arr(alg, c.Bstr(v))) }

// swComp is cca.software-component {?0: {0: version}, 2: digests, 11:
// name, 13: [560(signer)]}; version "" leaves key 0 out.
func swComp(version, name string, alg string, value []byte) []byte {
	pairs, ver := uint64(3), []byte(nil)
	if version != "" {
		pairs, ver = 4, c.Cat(c.Int(0), c.Map(c.Int(0), c.Tstr(version)))
	}
	return meas(c.Tstr("cca.software-component"), c.Cat(c.Head(5, pairs),
		ver,
		c.Int(2), digests(c.Tstr(alg), value),
		c.Int(11), c.Tstr(name),
		c.Int(13), c.Arr(tagged(560, fxSigner))))
}

func cfgMeas(value, mask []byte) []byte {
	return meas(c.Tstr("cca.platform-config"), c.Map(c.Int(4), tagged(560, value), c.Int(5), c.Bstr(mask)))
}

func taTriple() []byte {
	return c.Arr(classEnv(tagged(560, fxImpl), tagged(550, fxInst)), c.Arr(c.Tag(554, c.Tstr(fxTAPEM))))
}

func digestMeas(mkey string, alg string, v []byte) []byte {
	return meas(c.Tstr(mkey), c.Map(c.Int(2), digests(c.Tstr(alg), v)))
}

// Fixtures of today's forms, byte for byte what the encoders must write.

func fixtureTA() []byte {
	return corim("acme-cpak", profPlat, comidTag("acme-cpak/keys", akTriples(taTriple())))
}

func fixturePlatform() []byte {
	return corim("acme-fw", profPlat, comidTag("acme-fw/refvals", rvTriples(c.Arr(
		classEnv(tagged(560, fxImpl), nil),
		c.Arr(swComp("", "BL", "sha-256", fxBL), swComp("", "RMM", "sha-384", fxRMM),
			cfgMeas(fxConfig, fxMask))))))
}

func fixtureRealm() []byte {
	return corim("acme-vm", profRealm, comidTag("acme-vm/realm", rvTriples(c.Arr(
		classEnv(tagged(560, fxRIM), nil),
		c.Arr(digestMeas("cca.rim", "sha-384", fxRIM), digestMeas("cca.rem0", "sha-384", fxREM0),
			digestMeas("cca.rem3", "sha-384", fxREM3),
			meas(c.Tstr("cca.rpv"), c.Map(c.Int(4), tagged(560, fxRPV))))))))
}

// The neutral values the fixtures carry.

func wantTA() TrustAnchor {
	return TrustAnchor{ImplementationID: fxImpl, InstanceID: fxInst, Key: &fxTAKey.PublicKey}
}

func wantPlatform() PlatformReference {
	return PlatformReference{
		ImplementationID: fxImpl, Config: fxConfig, ConfigMask: fxMask,
		SwComponents: []SwComponent{
			{Type: "BL", Alg: "sha-256", Value: fxBL, SignerID: fxSigner},
			{Type: "RMM", Alg: "sha-384", Value: fxRMM, SignerID: fxSigner},
		},
	}
}

func wantRealm() RealmReference {
	return RealmReference{RIM: fxRIM, HashAlg: "sha-384", RPV: fxRPV, REMs: [4][]byte{fxREM0, nil, nil, fxREM3}}
}

func mustDecode(t *testing.T, data []byte, opts DecodeOptions) *Endorsements {
	t.Helper()
	e, err := Decode(data, opts)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return e
}
