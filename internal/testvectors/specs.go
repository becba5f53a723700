package testvectors

// This file lists the vectors: how each token is made and the verdicts it
// is made to show.

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/evidence"
	"github.com/ccakit/cca/internal/emulation"
	"github.com/ccakit/cca/platform"
	"github.com/ccakit/cca/realm"
	"github.com/ccakit/cca/realmbuild"
	"github.com/ccakit/cca/token"
)

// challengeFor derives a fixed realm challenge for a vector from its name:
// 64 bytes, or 32 (zero-padded by the RMM) when short.
func challengeFor(name string, short bool) string {
	if short {
		h := sha256.Sum256([]byte("ccakit golden challenge " + name))
		return hex.EncodeToString(h[:])
	}
	h := sha512.Sum512([]byte("ccakit golden challenge " + name))
	return hex.EncodeToString(h[:])
}

// createdSpec is the spec of a token made from a claims file as create
// makes it.
func (g *generator) createdSpec(v Created, runs ...plannedRun) spec {
	return spec{
		Vector: Vector{
			Name: strings.TrimSuffix(v.File, ".cbor"), File: v.File, Source: "create", Format: v.Format.String(),
			PlatformAlg: v.alg(), Challenge: v.Nonce, Compare: "bytes",
			Description: fmt.Sprintf("%s evidence made by create from claims/%s, platform token signed %s; trustworthy with its trust anchor, the reference values and its nonce",
				v.Format, v.Claims, v.alg()),
			MadeFrom: map[string]string{"claims": "claims/" + v.Claims, "cpak": "keys/" + v.CPAK + ".pem", "rak": "keys/" + v.RAK},
		},
		make: func() ([]byte, error) { return g.makeCreated(v, nil) },
		runs: runs,
	}
}

func (g *generator) vectorSpecs() []spec {
	var specs []spec
	add := func(s spec) { specs = append(specs, s) }

	// Created, trustworthy: every generation, both platform algorithms.
	for _, v := range CreatedVectors {
		full := withTA(v.TrustAnchors(), RVCreated, v.Nonce)
		runs := []plannedRun{full}
		switch v.File {
		case "rel0-es384.cbor":
			cpak := "keys/cpak-p384.pub.pem"
			runs = append(runs,
				// The cryptographic legs only (issue 2): not trustworthy
				// by default; the flags that waive the appraisal accept it.
				withCPAK(cpak, "", "").wants("platform implementation id", "realm freshness", "realm initial measurement"),
				withCPAK(cpak, "", v.Nonce).with("--allow-unknown-platform-unsafe", "--allow-unknown-realm-unsafe"),
				withCPAK(cpak, "", "").with("--allow-missing-nonce-unsafe", "--allow-unknown-platform-unsafe", "--allow-unknown-realm-unsafe"),
				full.noNonce().wants("realm freshness"),
				full.noNonce().with("--allow-missing-nonce-unsafe"),
				full.with("--require-rems", "--reject-unknown-claims"),
				// Another platform's key.
				withTA(TAEmulator, RVCreated, v.Nonce).wants("platform trust anchor"),
				// The same trust anchor and reference values as CoRIMs,
				// and a CoRIM trust anchor with the JSON reference values.
				withTA(TACreatedP384CoRIM, RVCreatedPlatformCoRIM, v.Nonce).also(RVCreatedRealmCoRIM),
				withTA(TACreatedP384CoRIM, RVCreated, v.Nonce),
				// A store with one unusable entry (another platform's).
				withTA(TAOneBadEntry, RVCreated, v.Nonce),
				// Signed CoRIMs, checked with the provisioner's key.
				withTA(TACreatedP384SignedCoRIM, RVCreatedPlatformSignedCoRIM, v.Nonce).also(RVCreatedRealmSignedCoRIM).signedBy(CoRIMSignerPub),
			)
		case "rel0-es256.cbor":
			runs = append(runs,
				withCPAK("keys/cpak-p256.pub.jwk", RVCreated, v.Nonce),
				// The other CPAK: the token says ES256, the key is P-384.
				withCPAK("keys/cpak-p384.pub.pem", RVCreated, v.Nonce).wants("platform signature"),
				withTA(TACreatedP384, RVCreated, v.Nonce).wants("platform signature"),
			)
		case "cmw-es384.cbor":
			runs = append(runs, withCPAK("keys/cpak-p384.pub.jwk", RVCreated, v.Nonce))
		}
		add(g.createdSpec(v, runs...))
	}
	rel0 := CreatedVectors[0]
	full := withTA(TACreatedP384, RVCreated, rel0.Nonce)
	bad := func(name, desc, format string, mk func() ([]byte, error), runs ...plannedRun) {
		add(spec{
			Vector: Vector{
				Name: "bad/" + name, File: "bad/" + name + ".cbor", Source: "mutation", Format: format, PlatformAlg: "ES384",
				Challenge: rel0.Nonce, Compare: "bytes", Description: desc,
				MadeFrom: map[string]string{"base": "rel0-es384", "cpak": "keys/cpak-p384.pem", "rak": "keys/rak-p384.pem"},
			},
			make: mk,
			runs: runs,
		})
	}
	base := func() []byte { return g.tokens["rel0-es384"] }

	bad("platform-signature", "rel0-es384 with one bit of the platform token's signature flipped",
		"rel0", func() ([]byte, error) {
			return editCollection(base(), func(c *token.Collection) { c.Platform = flipLastBit(c.Platform) })
		}, full.wants("platform signature"))
	bad("realm-signature", "rel0-es384 with one bit of the realm token's signature flipped",
		"rel0", func() ([]byte, error) {
			return editCollection(base(), func(c *token.Collection) { c.Realm = flipLastBit(c.Realm) })
		}, full.wants("realm signature"))
	bad("binding", "rel0-es384 with a platform challenge that is not the hash of the RAK (both tokens well signed)",
		"rel0", func() ([]byte, error) {
			return g.resignPlatform(base(), "cpak-p384", func(p *platform.Claims) {
				h := sha256.Sum256([]byte("ccakit golden: not the RAK"))
				p.Challenge = h[:]
			})
		}, full.wants("realm binding"))
	stale := challengeFor("bad/stale-nonce", false)
	bad("stale-nonce", "rel0 evidence over an earlier challenge, verified with the relying party's current nonce",
		"rel0", func() ([]byte, error) {
			return g.makeCreated(rel0, func(d *claimsFile) { d.Realm.Challenge, _ = hex.DecodeString(stale) })
		}, full.wants("realm freshness"), full.noNonce().with("--allow-missing-nonce-unsafe"))
	specs[len(specs)-1].Challenge = stale
	bad("wrong-rim", "rel0 evidence, genuine and fresh, of a realm whose initial measurement is not in the reference values",
		"rel0", func() ([]byte, error) {
			return g.makeCreated(rel0, func(d *claimsFile) {
				h := sha256.Sum256([]byte("ccakit golden: another realm image"))
				d.Realm.InitialMeasurement = h[:]
			})
		}, full.wants("realm initial measurement"),
		withTA(TACreatedP384CoRIM, RVCreatedPlatformCoRIM, rel0.Nonce).also(RVCreatedRealmCoRIM).wants("realm initial measurement"),
		// Without realm reference values the RIM is not checked at all.
		withTA(TACreatedP384, RVEmulatorRealm, rel0.Nonce).wants("platform implementation id", "realm initial measurement"))
	bad("mixed-profiles", "legacy-es384's platform claims (CCA-SSD profile) bound to rel0-es384's realm token (2023 profile) in one tag-399 collection",
		"mixed", func() ([]byte, error) { return g.mixed() },
		full.wants("realm profile coherence"), full.with("--allow-mixed-profiles-unsafe"))
	specs[len(specs)-1].MadeFrom["base"] = "legacy-es384 and rel0-es384"
	bad("unknown-claim", "rel0 evidence whose platform token carries a claim (key 99999) no profile defines: trustworthy by default, not with --reject-unknown-claims",
		"rel0", func() ([]byte, error) {
			return g.makeCreated(rel0, func(d *claimsFile) {
				d.Platform.Extra = map[int64]cbor.RawMessage{99999: cbor.RawMessage{0x63, 'c', 'c', 'a'}}
			})
		}, full, full.with("--reject-unknown-claims").wants("platform claims"))
	// One unusable entry in a trust-anchor store fails only its own
	// platform: the created platform verifies, a platform of the bad
	// entry's instance fails its trust anchor, and verify names the entry
	// when the store loads (the run's warnings).
	bad("unusable-anchor", "rel0 evidence of the platform instance whose entry in trust-anchors/one-bad-entry.json has a key off its curve (its platform token re-signed with keys/cpak-p384.pem)",
		"rel0", func() ([]byte, error) {
			return g.resignPlatform(base(), "cpak-p384", func(p *platform.Claims) { p.InstanceID = bytes.Clone(badInstanceID) })
		}, withTA(TAOneBadEntry, RVCreated, rel0.Nonce).wants("platform trust anchor"))
	// Attacker-controlled strings: a software component type that would
	// rewrite a terminal's lines (newline, carriage return, ANSI erase and
	// colour) to show a fake verdict, and an OSC title sequence in its
	// version. Every output must escape them; the verdict is the type's
	// mismatch with the reference value's, and that value's absence.
	bad("hostile-strings", "rel0 evidence whose RMM component type carries a newline, ANSI escapes and a fake 'result: TRUSTWORTHY' line, and whose version an OSC sequence: outputs must escape both",
		"rel0", func() ([]byte, error) {
			return g.makeCreated(rel0, func(d *claimsFile) {
				sc := &d.Platform.SwComponents[hostileComponent]
				sc.MeasurementType, sc.Version = hostileType, hostileVersion
			})
		}, full.wants("platform sw component #7 "+hostileType, "platform expected sw component RMM"),
		full.with("--allow-unknown-platform-unsafe").wants("platform sw component #7 "+hostileType, "platform expected sw component RMM"))
	// Malformed encodings: decode fails and nothing else is checked.
	malformed := func(name, desc string, mk func() ([]byte, error)) {
		bad(name, desc, "malformed", mk, full.wants("platform decode"))
	}
	malformed("truncated", "rel0-es384 without its last 16 bytes",
		func() ([]byte, error) { b := base(); return bytes.Clone(b[:len(b)-16]), nil })
	malformed("trailing-bytes", "rel0-es384 followed by one more byte (0x00)",
		func() ([]byte, error) { return append(bytes.Clone(base()), 0x00), nil })
	malformed("duplicate-key", "rel0-es384 whose platform claims carry the lifecycle twice, 0x3003 then 0x5000, well signed: a lax decoder would take either",
		func() ([]byte, error) { return g.duplicateLifecycle(base()) })
	malformed("wrong-tag", "rel0-es384 with the outer tag 398 instead of 399",
		func() ([]byte, error) {
			b := bytes.Clone(base())
			b[2]-- // d9 01 8f: tag 399
			return b, nil
		})

	// From the emulated machine: every generation with the test CPAK
	// (ES384) and with keys/cpak-p256.pem, a debug platform in each debug
	// state, and a realm that is not the one of the reference values.
	emu := func(name, format, cpak string, short bool, lc *platform.Lifecycle, realmFile, desc string, runs ...plannedRun) {
		challenge := challengeFor("emulated/"+name, short)
		made := map[string]string{"realm": "emulate's built-in realm", "cpak": "emulator/rot.TestCPAKScalar",
			"rak": "emulator/rot.TestRAKScalar"}
		alg := "ES384"
		if cpak != "" {
			made["cpak"], alg = "keys/"+cpak+".pem", "ES256"
		}
		if realmFile != "" {
			made["realm"] = realmFile
		}
		if lc != nil {
			made["lifecycle"] = fmt.Sprintf("%#04x", uint64(*lc))
		}
		for i := range runs { // "=": the vector's challenge, known only here
			if runs[i].Nonce == "=" {
				runs[i].Nonce = challenge
			}
		}
		add(spec{
			Vector: Vector{
				Name: "emulated/" + name, File: "emulated/" + name + ".cbor", Source: "emulator", Format: format, PlatformAlg: alg,
				Challenge: challenge, Compare: "claims", Description: desc, MadeFrom: made,
			},
			make: func() ([]byte, error) {
				f, err := evidence.ParseFormat(format)
				if err != nil {
					return nil, err
				}
				o := emulation.Options{Config: emulator.Config{TokenFormat: f, Lifecycle: lc}}
				if o.Challenge, err = hex.DecodeString(challenge); err != nil {
					return nil, err
				}
				if cpak != "" {
					o.Config.CPAK = g.signers[cpak]
				}
				if realmFile != "" {
					if o.Realm, o.Load, err = realmbuild.ReadDescriptionFile(g.path(realmFile)); err != nil {
						return nil, fmt.Errorf("%w: %v", ErrInput, err)
					}
				}
				res, err := emulation.Run(o)
				if err != nil {
					return nil, err
				}
				res.Machine.Close()
				return res.Token, nil
			},
			runs: runs,
		})
	}
	emuFull := withTA(TAEmulator, RVEmulator, "=")
	for _, f := range []string{"rel0", "legacy", "cmw"} {
		runs := []plannedRun{emuFull}
		if f == "rel0" {
			runs = append(runs,
				emuFull.with("--require-rems"),
				// Reference values without the realm's run-time REM[0].
				withTA(TAEmulator, RVEmulatorActivation, "=").wants("realm REM 0"),
				withTA(TAEmulator, RVEmulatorRealm, "=").wants("platform implementation id"),
				withTA(TAEmulator, RVEmulatorRealm, "=").with("--allow-unknown-platform-unsafe"),
				withCPAK(EmulatorCPAKPub, "", "=").with("--allow-unknown-platform-unsafe", "--allow-unknown-realm-unsafe"),
				withTA(TACreatedP384, RVEmulator, "=").wants("platform trust anchor"),
			)
		}
		emu(f+"-es384", f, "", f == "cmw", nil, "", fmt.Sprintf("%s token from the emulated machine with its test keys: the realm extends REM[0] and asks over RSI", f), runs...)
		emu(f+"-es256", f, "cpak-p256", f == "cmw", nil, "", fmt.Sprintf("%s token from the emulated machine with keys/cpak-p256.pem as its CPAK", f), emuFull)
	}
	cca, nonCCA := platform.Lifecycle(0x5003), platform.Lifecycle(0x4003)
	emu("debug-cca", "rel0", "", false, &cca, "",
		"rel0 token from an emulated platform in the recoverable CCA-platform debug lifecycle state (0x5003)",
		emuFull.wants("platform lifecycle"),
		emuFull.with("--allow-non-cca-platform-debug-unsafe").wants("platform lifecycle"),
		emuFull.with("--allow-debug-lifecycle-unsafe"))
	emu("debug-non-cca", "rel0", "", false, &nonCCA, "",
		"rel0 token from an emulated platform in the non-CCA-platform debug lifecycle state (0x4003)",
		emuFull.wants("platform lifecycle"),
		emuFull.with("--allow-non-cca-platform-debug-unsafe"),
		emuFull.with("--allow-debug-lifecycle-unsafe"))
	emu("wrong-rim", "rel0", "", false, nil, "realms/small.json",
		"rel0 token of the realm realms/small.json, appraised against the reference values of emulate's built-in realm",
		emuFull.wants("realm initial measurement"))

	// What today's producers emit beyond RMM 1.0: TF-RMM main's shape
	// (tag 907, TF-A's 2023-profile platform token, a realm 2.0 token with
	// the realm instance id and the MEC policy), made from claims and by the
	// emulated machine, and tf-m-tools' legacy tokens in a tag-907
	// collection. Each is trustworthy by default; the 2.0 claims are claims
	// of the 2.0 profile, so rejecting unknown claims does not change that.
	tfrmm := TFRMMMainVector
	tfrmmFull := withTA(tfrmm.TrustAnchors(), RVCreated, tfrmm.Nonce)
	add(g.createdSpec(tfrmm, tfrmmFull, tfrmmFull.with("--reject-unknown-claims"),
		// Its reference value pins its MEC policy (shared), as a policy
		// requiring one asks.
		tfrmmFull.with("--require-mec-policy"),
		withTA(TACreatedP384CoRIM, RVCreatedPlatformCoRIM, tfrmm.Nonce).also(RVCreatedRealmCoRIM),
		// Its realm is not in the emulator's reference values.
		withTA(tfrmm.TrustAnchors(), RVEmulatorRealm, tfrmm.Nonce).with("--allow-unknown-platform-unsafe").wants("realm initial measurement")))
	emu("tfrmm-main-es384", "tfrmm-main", "", false, nil, "",
		"tfrmm-main token from the emulated machine: tag 907, the 2023 platform profile, a realm 2.0 token with the realm instance id the RMM drew at REALM_CREATE and the MEC policy",
		emuFull, emuFull.with("--reject-unknown-claims"),
		// The emulator's reference values do not pin the MEC policy.
		emuFull.with("--require-mec-policy").wants("realm MEC policy"))
	legacy := CreatedVectors[2]
	add(spec{
		Vector: Vector{
			Name: "shapes/legacy-in-cmw", File: "shapes/legacy-in-cmw.cbor", Source: "mutation", Format: "legacy-cmw", PlatformAlg: "ES384",
			Challenge: legacy.Nonce, Compare: "bytes",
			Description: "legacy-es384's two tokens, unchanged, in a tag-907 CMW collection, as tf-m-tools ships its legacy samples: one generation, only the wrapper is newer",
			MadeFrom:    map[string]string{"base": "legacy-es384", "cpak": "keys/cpak-p384.pem", "rak": "keys/rak-p384.pem"},
		},
		make: func() ([]byte, error) {
			return editCollection(g.tokens["legacy-es384"], func(c *token.Collection) { c.Wrapper = token.Wrapper907 })
		},
		runs: []plannedRun{withTA(TACreatedP384, RVCreated, legacy.Nonce), withTA(TACreatedP384, RVCreated, legacy.Nonce).noNonce().wants("realm freshness")},
	})
	shape := func(name, format, desc, base string, mk func() ([]byte, error), runs ...plannedRun) {
		challenge := rel0.Nonce
		if base == TFRMMMainVector.Name() {
			challenge = TFRMMMainVector.Nonce
		}
		add(spec{
			Vector: Vector{
				Name: "shapes/" + name, File: "shapes/" + name + ".cbor", Source: "mutation", Format: format, PlatformAlg: "ES384",
				Challenge: challenge, Compare: "bytes", Description: desc,
				MadeFrom: map[string]string{"base": base, "cpak": "keys/cpak-p384.pem", "rak": "keys/rak-p384.pem"},
			},
			make: mk,
			runs: runs,
		})
	}
	// A bare platform token, as TF-A, TF-RMM and tf-m-tools ship it: the
	// platform is appraised, and with no realm token nothing carries the
	// relying party's nonce, so it is accepted only without freshness.
	shape("bare-platform", "bare",
		"rel0-es384's platform token alone (a tagged COSE_Sign1), as TF-A hands it to the RMM: no realm token, so nothing in it is fresh",
		"rel0-es384", func() ([]byte, error) {
			c, err := token.DecodeCollection(base())
			if err != nil {
				return nil, err
			}
			return bytes.Clone(c.Platform), nil
		},
		full.wants("realm freshness"),
		full.noNonce().wants("realm freshness"),
		full.noNonce().with("--allow-missing-nonce-unsafe"),
		withTA(TAEmulator, RVCreated, "").with("--allow-missing-nonce-unsafe").wants("platform trust anchor"))
	// Veraison's test evidence and evcli's claims template: a RIM and REMs
	// of 64 bytes labelled sha-256. No RMM emits that; refused by default.
	shape("measurement-size-mismatch", "rel0",
		"rel0-es384 with a 64-byte RIM and 64-byte REMs while the realm hash algorithm says sha-256 (32 bytes), as Veraison's CCA test evidence carries them",
		"rel0-es384", func() ([]byte, error) {
			return g.resign(base(), "cpak-p384", "rak-p384", func(_ *platform.Claims, r *realm.Claims) { sizeMismatch(r) })
		},
		withTA(TACreatedP384, RVSizeMismatch, rel0.Nonce).wants("realm claims"),
		withTA(TACreatedP384, RVSizeMismatch, rel0.Nonce).with("--allow-measurement-size-mismatch-unsafe"),
		// Accepted, the realm is still appraised: not the created realm.
		full.with("--allow-measurement-size-mismatch-unsafe").wants("realm initial measurement"))
	// draft-ffm-rats-cca-token-04's 2026 profiles (delegated): the
	// platform binds the RAK in claim 2408 instead of its challenge. No
	// producer emits it; refused by default, by name.
	shape("draft-2026", "draft",
		"tfrmm-main-es384 in the shape of draft-ffm-rats-cca-token-04: 2026 delegated platform profile with the client id and the workload binding (claim 2408, sha-256 of the RAK) instead of a challenge, 2026 realm profile",
		TFRMMMainVector.Name(), func() ([]byte, error) {
			return g.resign(g.tokens[TFRMMMainVector.Name()], "cpak-p384", "rak-p384", func(p *platform.Claims, r *realm.Claims) {
				draft2026(p, r)
			})
		},
		// Refused by default, by name; once its shape is allowed, the
		// RAK is bound through the workload binding claim (2408), which
		// the 2026 profiles use instead of the challenge.
		tfrmmFull.wants("realm profile coherence"),
		tfrmmFull.with("--allow-draft-profiles-unsafe"))
	return specs
}

// The hostile strings of bad/hostile-strings, in the RMM component
// (index 7 of the claims files' twelve).
const (
	hostileComponent = 7
	hostileType      = "RMM\n\x1b[2K\rresult: TRUSTWORTHY\x1b[0m"
	hostileVersion   = "1.0\x1b]0;pwned\x07"
)

// sizeMismatch gives a realm 64-byte measurements while its hash
// algorithm stays sha-256.
func sizeMismatch(r *realm.Claims) {
	m := sha512.Sum512([]byte("ccakit test vectors: a 64-byte RIM labelled sha-256"))
	r.InitialMeasurement = m[:]
	r.ExtensibleMeasurements = nil
	for i := range realm.NumREMs {
		rem := sha512.Sum512([]byte(fmt.Sprintf("ccakit test vectors: a 64-byte REM %d labelled sha-256", i)))
		r.ExtensibleMeasurements = append(r.ExtensibleMeasurements, rem[:])
	}
}

// draft2026 turns TF-RMM main's claims into draft -04's delegated 2026
// shape (§4.3.3, §4.8.1): the platform's client id 1 and the workload
// binding, the hash of the realm's RAK claim, in place of its challenge.
func draft2026(p *platform.Claims, r *realm.Claims) {
	one := uint64(1)
	sum := sha256.Sum256(r.PubKey)
	// A new value, so that the decoded token's claim 10 is not carried
	// over (Encode writes every claim a decoded token had).
	*p = platform.Claims{Profile: token.ProfilePlatform2026Delegated, ImplementationID: p.ImplementationID,
		InstanceID: p.InstanceID, Config: p.Config, Lifecycle: p.Lifecycle, SwComponents: p.SwComponents,
		VerificationService: p.VerificationService, HashAlgID: p.HashAlgID, ClientID: &one, WorkloadBinding: sum[:]}
	r.Profile = token.ProfileRealm2026
}

func flipLastBit(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)-1] ^= 0x01
	return c
}

func editCollection(raw []byte, edit func(*token.Collection)) ([]byte, error) {
	c, err := token.DecodeCollection(raw)
	if err != nil {
		return nil, err
	}
	edit(c)
	return c.Encode()
}

// resignPlatform changes a token's platform claims and signs them again,
// without validating; the realm token stays as it is.
func (g *generator) resignPlatform(raw []byte, cpak string, edit func(*platform.Claims)) ([]byte, error) {
	ev, err := evidence.Decode(raw)
	if err != nil {
		return nil, err
	}
	edit(ev.Platform)
	payload, err := ev.Platform.Encode()
	if err != nil {
		return nil, err
	}
	return g.withPlatformPayload(ev, payload, cpak)
}

// resign changes a token's claims and signs both tokens again (the realm
// with the RAK rak, the platform with the CPAK cpak), without validating.
func (g *generator) resign(raw []byte, cpak, rak string, edit func(*platform.Claims, *realm.Claims)) ([]byte, error) {
	ev, err := evidence.Decode(raw)
	if err != nil {
		return nil, err
	}
	edit(ev.Platform, ev.Realm)
	pp, err := ev.Platform.Encode()
	if err != nil {
		return nil, err
	}
	rp, err := ev.Realm.Encode()
	if err != nil {
		return nil, err
	}
	pt, err := token.SignPayload(pp, g.signer(cpak), nil)
	if err != nil {
		return nil, err
	}
	rt, err := token.SignPayload(rp, g.signer(rak), nil)
	if err != nil {
		return nil, err
	}
	return (&token.Collection{Wrapper: ev.Collection.Wrapper, Platform: pt, Realm: rt}).Encode()
}

func (g *generator) withPlatformPayload(ev *evidence.Evidence, payload []byte, cpak string) ([]byte, error) {
	pt, err := token.SignPayload(payload, g.signer(cpak), nil)
	if err != nil {
		return nil, err
	}
	return (&token.Collection{Wrapper: ev.Collection.Wrapper, Platform: pt, Realm: ev.Collection.Realm}).Encode()
}

// mixed binds legacy-es384's platform claims to rel0-es384's realm token.
func (g *generator) mixed() ([]byte, error) {
	legacy, err := evidence.Decode(g.tokens["legacy-es384"])
	if err != nil {
		return nil, err
	}
	rel0, err := evidence.Decode(g.tokens["rel0-es384"])
	if err != nil {
		return nil, err
	}
	if legacy.Platform.Challenge, err = token.Binding(rel0.Realm.PubKeyHashAlgID, rel0.Realm.PubKey); err != nil {
		return nil, err
	}
	payload, err := legacy.Platform.Encode()
	if err != nil {
		return nil, err
	}
	return g.withPlatformPayload(rel0, payload, "cpak-p384")
}

// duplicateLifecycle appends a second lifecycle claim to the platform
// claims map and signs the result.
func (g *generator) duplicateLifecycle(raw []byte) ([]byte, error) {
	ev, err := evidence.Decode(raw)
	if err != nil {
		return nil, err
	}
	p := ev.PlatformSign1.Payload
	var head []byte
	switch n := p[0]; {
	case n >= 0xa0 && n < 0xb7: // a map of fewer than 23 entries
		head = []byte{n + 1}
	case n == 0xb7:
		head = []byte{0xb8, 24}
	case n == 0xb8 && p[1] < 0xff:
		head, p = []byte{0xb8, p[1] + 1}, p[1:]
	default:
		return nil, fmt.Errorf("platform claims do not start with a small map head (%#x)", n)
	}
	entry, err := cbor.Marshal(map[int64]uint64{token.KeyLifecycle: 0x5000})
	if err != nil {
		return nil, err
	}
	payload := slices.Concat(head, p[1:], entry[1:]) // entry without its one-entry map head
	return g.withPlatformPayload(ev, payload, "cpak-p384")
}
