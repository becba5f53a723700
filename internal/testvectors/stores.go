package testvectors

// This file makes the trust-anchor and reference-value stores, in JSON and
// as CoRIMs, each derived from its source, never from a token.

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/ccakit/cca/emulator/rot"
	"github.com/ccakit/cca/endorsement"
	"github.com/ccakit/cca/internal/emulation"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/realmbuild"
	"github.com/ccakit/cca/token"
	"github.com/ccakit/cca/verifier"
)

// platformReference is the reference value of a claims file's platform.
func platformReference(c *platform.Claims) verifier.PlatformReference {
	p := verifier.PlatformReference{ImplementationID: c.ImplementationID, Config: c.Config}
	for _, sc := range c.SwComponents {
		p.SwComponents = append(p.SwComponents, verifier.SwComponentReference{Type: sc.MeasurementType, Value: sc.MeasurementValue,
			SignerID: sc.SignerID, Version: sc.Version})
	}
	return p
}

// realmReference is the reference value of a claims file's realm.
func realmReference(c *realm.Claims) verifier.RealmReference {
	return verifier.RealmReference{InitialMeasurement: c.InitialMeasurement, PersonalizationValue: c.PersonalizationValue,
		ExtensibleMeasurements: c.ExtensibleMeasurements, HashAlgorithm: c.HashAlgID, RAKHashAlgorithm: c.PubKeyHashAlgID,
		MECPolicy: c.MECPolicy}
}

// putReferenceValues writes a reference-value store as verifier's JSON
// form writes it (rust-ccatoken's shape).
func (g *generator) putReferenceValues(p string, platforms []verifier.PlatformReference, realms []verifier.RealmReference) error {
	rv, err := verifier.NewReferenceValues(platforms, realms)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	b, err := json.Marshal(rv)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	g.files[p] = append(indentJSON(b), '\n')
	return nil
}

// stores makes the trust-anchor and reference-value stores: those of the
// claims files (created vectors) and those of the emulated machine, each
// derived from its source, never from a token.
func (g *generator) stores() error {
	var platforms []verifier.PlatformReference
	var realms []verifier.RealmReference
	var anchorClaims *platform.Claims
	for _, name := range []string{"rel0.json", "legacy.json", "cmw.json", TFRMMMainVector.Claims} {
		doc, err := g.claims(name)
		if err != nil {
			return err
		}
		p := platformReference(doc.Platform)
		if !slices.ContainsFunc(platforms, func(q verifier.PlatformReference) bool { return equalJSON(p, q) }) {
			platforms = append(platforms, p)
		}
		realms = append(realms, realmReference(doc.Realm))
		if anchorClaims == nil {
			anchorClaims = doc.Platform
		}
	}
	if err := g.putReferenceValues(RVCreated, platforms, realms); err != nil {
		return err
	}
	if err := g.putCoRIMs(anchorClaims, platforms, realms); err != nil {
		return err
	}
	if err := g.putOneBadEntry(anchorClaims); err != nil {
		return err
	}
	// The realm of shapes/measurement-size-mismatch: rel0's, with its
	// 64-byte measurements and so without a hash algorithm, which would
	// contradict them.
	rel0, err := g.claims(CreatedVectors[0].Claims)
	if err != nil {
		return err
	}
	sizeMismatch(rel0.Realm)
	mismatched := realmReference(rel0.Realm)
	mismatched.HashAlgorithm = ""
	if err := g.putReferenceValues(RVSizeMismatch, platforms, []verifier.RealmReference{mismatched}); err != nil {
		return err
	}
	for _, ta := range []struct{ file, key string }{{TACreatedP384, "cpak-p384"}, {TACreatedP256, "cpak-p256"}} {
		if err := g.putAnchors(ta.file, verifier.TrustAnchor{InstanceID: anchorClaims.InstanceID,
			ImplementationID: anchorClaims.ImplementationID, Key: g.signers[ta.key].Public()}); err != nil {
			return err
		}
	}

	// The emulated machine: its root of trust's identity and boot
	// measurements, and the RIM predicted from emulate's built-in realm.
	r, err := rot.New(rot.Config{})
	if err != nil {
		return err
	}
	implID := r.ImplementationID()
	var anchors []verifier.TrustAnchor
	for _, pub := range []crypto.PublicKey{r.CPAK(), g.signers["cpak-p256"].Public()} {
		id, err := rot.InstanceID(pub)
		if err != nil {
			return err
		}
		anchors = append(anchors, verifier.TrustAnchor{InstanceID: id, ImplementationID: implID, Key: pub})
	}
	if err := g.putAnchors(TAEmulator, anchors...); err != nil {
		return err
	}
	desc, err := realmbuild.ParseDescription([]byte(emulation.DefaultRealm))
	if err != nil {
		return err
	}
	plan, err := desc.Plan(nil)
	if err != nil {
		return err
	}
	pr, rr := emulation.PlatformReference(r), emulation.RealmReference(plan)
	if err := g.putReferenceValues(RVEmulator, []verifier.PlatformReference{pr}, []verifier.RealmReference{rr}); err != nil {
		return err
	}
	if err := g.putReferenceValues(RVEmulatorRealm, nil, []verifier.RealmReference{rr}); err != nil {
		return err
	}
	// What `ccatoken measure` predicts from the description alone: the
	// REMs as the realm starts, zero, not the value its software extends
	// REM[0] to.
	atActivation := rr
	atActivation.ExtensibleMeasurements = make([][]byte, len(rr.ExtensibleMeasurements))
	for i := range atActivation.ExtensibleMeasurements {
		atActivation.ExtensibleMeasurements[i] = make([]byte, len(rr.InitialMeasurement))
	}
	return g.putReferenceValues(RVEmulatorActivation, []verifier.PlatformReference{pr}, []verifier.RealmReference{atActivation})
}

// putCoRIMs writes the created vectors' trust anchor (the P-384 CPAK) and
// reference values as CoRIMs of today's CCA profiles, with the encoders of
// the endorsement package: one CoRIM for the attest key, one for the
// platform reference values, one for the realm's (a CoRIM holds platform or
// realm reference values, not both). Component versions are left out, as
// Veraison's CoRIM library cannot read them.
func (g *generator) putCoRIMs(c *platform.Claims, platforms []verifier.PlatformReference, realms []verifier.RealmReference) error {
	ta, err := endorsement.EncodeTrustAnchors("ccakit test vectors: created-p384 trust anchor",
		endorsement.TrustAnchor{ImplementationID: c.ImplementationID, InstanceID: c.InstanceID, Key: g.signers["cpak-p384"].Public()})
	if err != nil {
		return fmt.Errorf("%s: %w", TACreatedP384CoRIM, err)
	}
	g.files[TACreatedP384CoRIM] = ta
	var eps []endorsement.PlatformReference
	for _, p := range platforms {
		ep := endorsement.PlatformReference{ImplementationID: p.ImplementationID, Config: p.Config}
		for _, sc := range p.SwComponents {
			ep.SwComponents = append(ep.SwComponents, endorsement.SwComponent{Type: sc.Type, Alg: hashBySize(len(sc.Value)),
				Value: sc.Value, SignerID: sc.SignerID})
		}
		eps = append(eps, ep)
	}
	if g.files[RVCreatedPlatformCoRIM], err = endorsement.EncodePlatform("ccakit test vectors: created platform reference values", eps...); err != nil {
		return fmt.Errorf("%s: %w", RVCreatedPlatformCoRIM, err)
	}
	var ers []endorsement.RealmReference
	for _, r := range realms {
		er := endorsement.RealmReference{RIM: r.InitialMeasurement, HashAlg: r.HashAlgorithm, RPV: r.PersonalizationValue}
		copy(er.REMs[:], r.ExtensibleMeasurements)
		ers = append(ers, er)
	}
	if g.files[RVCreatedRealmCoRIM], err = endorsement.EncodeRealm("ccakit test vectors: created realm reference values", ers...); err != nil {
		return fmt.Errorf("%s: %w", RVCreatedRealmCoRIM, err)
	}
	// The same three, COSE-signed by the provisioner's key (deterministic
	// ECDSA, so the files are stable).
	for _, f := range [][2]string{{TACreatedP384CoRIM, TACreatedP384SignedCoRIM},
		{RVCreatedPlatformCoRIM, RVCreatedPlatformSignedCoRIM}, {RVCreatedRealmCoRIM, RVCreatedRealmSignedCoRIM}} {
		if g.files[f[1]], err = endorsement.Sign(g.files[f[0]], g.signer("corim-signer-p256"),
			endorsement.SignOptions{SignerName: "ccakit test vectors provisioner"}); err != nil {
			return fmt.Errorf("%s: %w", f[1], err)
		}
	}
	return nil
}

// hashBySize names the SHA-2 algorithm of a digest's size.
func hashBySize(n int) string {
	return map[int]string{32: token.SHA256, 48: token.SHA384, 64: token.SHA512}[n]
}

// badInstanceID is the instance id of the unusable entry of
// trust-anchors/one-bad-entry.json, and of the platform of
// bad/unusable-anchor.
var badInstanceID = append([]byte{0x01}, bytes.Repeat([]byte{0xab}, 32)...)

// putOneBadEntry writes the created P-384 trust anchor with a second entry,
// for another platform instance, whose key is not on its curve (its y is
// its x), as rust-ccatoken's ta-02-bad.json holds one: the store must
// still serve the good entry.
func (g *generator) putOneBadEntry(c *platform.Claims) error {
	ta, err := verifier.NewTrustAnchors(verifier.TrustAnchor{InstanceID: c.InstanceID, ImplementationID: c.ImplementationID,
		Key: g.signers["cpak-p384"].Public()})
	if err != nil {
		return err
	}
	b, err := json.Marshal(ta)
	if err != nil {
		return err
	}
	var entries []map[string]any
	if err := json.Unmarshal(b, &entries); err != nil || len(entries) != 1 {
		return fmt.Errorf("%s: the store of one anchor: %v", TAOneBadEntry, err)
	}
	bad := map[string]any{"instance-id": hex.EncodeToString(badInstanceID), "implementation-id": entries[0]["implementation-id"]}
	key, ok := entries[0]["pkey"].(map[string]any)
	if !ok {
		return fmt.Errorf("%s: no pkey in the store's entry", TAOneBadEntry)
	}
	offCurve := maps.Clone(key)
	offCurve["y"] = key["x"]
	bad["pkey"] = offCurve
	out, err := json.MarshalIndent(append(entries, bad), "", "  ")
	if err != nil {
		return err
	}
	g.files[TAOneBadEntry] = append(out, '\n')
	return nil
}

func (g *generator) putAnchors(p string, anchors ...verifier.TrustAnchor) error {
	ta, err := verifier.NewTrustAnchors(anchors...)
	if err != nil {
		return err
	}
	b, err := json.Marshal(ta)
	if err != nil {
		return err
	}
	g.files[p] = append(indentJSON(b), '\n')
	return nil
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
