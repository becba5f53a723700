// Package verifier is what a relying party embeds to decide whether to trust
// a CCA realm: trust anchors (platform keys), reference values, an explicit
// policy, and one Result per piece of evidence, renderable as JSON, text and
// EAR.
//
//	anchors, err := verifier.ReadTrustAnchors(taFile, endorsement.DecodeOptions{})   // JSON or CoRIM
//	refs, err := verifier.ReadReferenceValues(rvFile, endorsement.DecodeOptions{})
//	v, err := verifier.New(anchors, verifier.WithReferenceValues(refs))
//	res, err := v.Verify(ctx, evidenceBytes, nonce) // err: misuse, a cancelled context, a failed store
//	if !res.Trustworthy { log.Printf("%q", res.Reason()) } // quoted: it may carry the token's text
//	jwt, err := res.EARJWT(earKey)
//
// # Stores
//
// Trust anchors and reference values are looked up through two small
// interfaces, as sigstore-go's TrustedMaterial: TrustAnchorStore (CPAKs by
// platform instance id and implementation id) and ReferenceValueStore
// (platform reference values by implementation id, realm ones by RIM). Each
// lookup takes a context and may fail, so that a relying party's database
// can implement them; a failed lookup makes Verify return ErrLookup (and a
// Result whose CheckStoreLookup says so). TrustAnchors and ReferenceValues
// are the in-memory stores: the JSON stores of rust-ccatoken (ParseTrustAnchors,
// ParseReferenceValues) and CoRIMs of the CCA platform and realm profiles
// (FromEndorsements over endorsement.Decode); ReadTrustAnchors and
// ReadReferenceValues tell the two apart by content. CombineTrustAnchors
// and CombineReferenceValues ask several stores as one.
//
// # What Verify checks
//
// Each check has a CheckID. The platform: its claims are valid; a usable
// trust anchor exists for its instance id (and, if the anchor names one, its
// implementation id); an anchor's key verifies its signature; its lifecycle
// state is secured (the debug states only under an Unsafe policy field); its
// implementation id, configuration and every software component (measurement
// type, signer id and value) match its reference values.
//
// The realm: its platform is trustworthy (a realm is never trusted above its
// platform); its claims are valid; the pairing of the two profiles is one
// real producers emit; its signature verifies with the RAK it carries; the
// platform challenge binds that RAK; the realm challenge is the nonce; its
// RIM selects a realm reference value whose RPV and REMs, where given, match.
// A bare platform token (no realm) gets the platform's checks only
// (RealmResult.Absent), and is fresh only under AllowMissingNonceUnsafe.
//
// Every check has one of three outcomes: matched, mismatched, or not checked
// (no reference value, no nonce). Not checked is never reported as a
// mismatch; whether it fails the result is the policy's decision, and the
// check then says it is required. A platform or a realm that no reference
// value knows is not checked and required, as in Veraison (a warning, not a
// mismatch). The zero Policy requires everything; fields ending in Unsafe
// waive one requirement each and are named in the result's policy id. A
// failed check that came from an error carries it (Check.Err), with its
// token error class.
//
// A platform token is the same for every realm on a machine between boots,
// so a Verifier keeps a bounded cache of the platform signatures it verified,
// keyed by exactly the platform token bytes and the key: a second realm on
// the same machine costs one signature verification instead of two. The
// appraisal is made afresh each time, so a store's changes apply at once.
//
// # Trust-anchor store (JSON)
//
// The JSON shape of rust-ccatoken's trust-anchor store (what Veraison users
// already have), an array of CPAKs:
//
//	[
//	  {
//	    "instance-id":       "01bbbb…",  // hex, 33 bytes (7..33 in 2.0 drafts); mandatory
//	    "implementation-id": "aaaa…",    // hex, 32 bytes; optional: when given, it must match too
//	    "pkey": {"kty": "EC", "crv": "P-384", "x": "…", "y": "…"}  // public JWK; mandatory
//	  }
//	]
//
// Byte strings are hex (either case), as in rust-ccatoken's files; note
// that a 64-character string of hex digits would also be valid base64, so
// the encoding is not guessed. One bad entry does not lock out every
// platform (rust-ccatoken refuses the whole file): an entry that cannot be
// used (a key off its curve, an unknown member, a second key for an
// instance) is listed by Warnings when the store loads, and when its instance
// id could be read, the trust-anchor check of that platform names it; the
// other entries are in use. A single PEM or JWK key (ParseTrustAnchorKey) is
// trusted for any instance.
//
// # Reference-value store (JSON)
//
// The JSON shape of rust-ccatoken's reference values:
//
//	{
//	  "platform": [
//	    {
//	      "implementation-id": "aaaa…",        // hex, 32 bytes; mandatory
//	      "platform-configuration": "cfe50000", // hex, any length; mandatory
//	      "sw-components": [                    // mandatory, non-empty: the complete set
//	        {
//	          "component-type": "RMM",          // or "measurement-type"; optional: when given it must match
//	          "measurement-value": "1212…",     // hex, 32/48/64 bytes; mandatory
//	          "signer-id": "2222…",             // hex, 32/48/64 bytes; mandatory
//	          "version": "1.0.0",               // optional, descriptive, not compared
//	          "measurement-description": "sha-256" // optional, descriptive
//	        }
//	      ]
//	    }
//	  ],
//	  "realm": [
//	    {
//	      "initial-measurement": "1a1a…",       // hex, 32, 48 or 64 bytes; mandatory; selects the entry
//	      "personalization-value": "5050…",     // hex, 64 bytes; optional: not checked when absent
//	      "extensible-measurements": ["…", "…", "…", "…"], // 4 × hex, RIM-sized; optional
//	      "hash-algo": "sha-256",               // optional: the RIM's algorithm, matching its size (see Policy.AllowMeasurementSizeMismatchUnsafe)
//	      "rak-hash-algorithm": "sha-256"       // optional here, required by rust-ccatoken: not compared
//	    }
//	  ]
//	}
//
// Each platform entry is one complete acceptable state
// (MatchCompleteState): the token's software components and the entry's must
// pair up one to one. Several entries may share an implementation id or a
// RIM; the token is reported against the one it matches best. A JSON null
// counts as an absent member. Unknown members are an error, so that a
// misspelt member never silently disables its check. Errors wrap ErrStore and
// name the entry and the member, e.g. "realm[1]: \"initial-measurement\": 31
// bytes, must be 32, 48 or 64". ReferenceValues.MarshalJSON writes every
// member rust-ccatoken requires (the four REMs, the RPV, the RAK hash
// algorithm), and refuses an entry that lacks one.
//
// # CoRIM stores
//
// A CoRIM's attest-key triples are trust anchors (implementation id and
// instance id both compared). Its platform reference triples endorse
// components one by one, as Veraison's arm-cca scheme reads them
// (MatchEachComponent): the triples for an implementation are pooled, every
// software component of the token must match an endorsed one (measurement
// value, and type, version and signer id where endorsed; Veraison does not
// compare signer ids), an endorsed component the token lacks is not
// required, and the configuration must equal an endorsed one (whole: its
// mask is not applied, as in Veraison; a pool that endorses no configuration
// leaves it not checked and required). Realm reference triples are selected
// by RIM like JSON entries; a REM they do not give is not checked.
//
// # Results
//
// Result is JSON-serialisable; its byte strings are hex and named as in the
// stores, so measured values can be copied into reference values, and each
// side carries all its token's claims in their evcli JSON form. Every check
// has a CheckID. Result.Text renders it for a terminal, with every string
// that came from the evidence or a store escaped.
//
// A realm is never trustworthy above its platform: the realm's
// CheckPlatform passes only when the platform is trustworthy.
//
// # EAR
//
// Result.EAR, EARJSON and EARJWT render the result as an EAT Attestation
// Result (veraison/ear, profile "tag:github.com,2023:veraison/ear") in the
// shape Veraison's arm-cca scheme produces (veraison/services
// scheme/arm-cca/scheme.go, vts/trustedservices): ear.verifier-id, iat,
// eat_nonce (the nonce as padded base64url), and ear.appraisal-policy-id
// EARPolicyID ("policy:ARM_CCA"; another Policy adds "/" and its ID).
//
// Evidence that cannot be verified gets one submodule, ARM_CCA, every
// trust claim 99 (contraindicated) and ear.veraison.policy-claims
// {"problem": …}: "could not establish identity from evidence" (it does not
// decode, or the platform claims are invalid), "no trust anchor for
// evidence", "integrity validation failed" (a signature, the binding, the
// nonce, the realm claims or the profile combination). A store that fails
// to answer gives every claim -1 (none) and the problem "internal error".
//
// Otherwise CCA_SSD_PLATFORM and CCA_REALM, each with its token's claims
// as ear.veraison.annotated-evidence and the status the worst tier of its
// vector:
//
//	situation                        CCA_SSD_PLATFORM                   CCA_REALM
//	all good                         ii cfg exe hw rt st 2: affirming   ii 2, exe 2: affirming
//	unknown or mismatched component  exe 33: warning                    capped: warning
//	configuration differs            cfg 32: warning                    capped: warning
//	no platform reference values     cfg 32, exe 33: warning            capped: warning
//	lifecycle not accepted           ii rt st 96: contraindicated       capped: contraindicated
//	no realm reference value (RIM)                                      exe 33: warning
//	RPV differs                                                         exe 96: contraindicated
//	REM differs                                                         exe 33: warning
//	REMs not all provisioned                                            exe 3: affirming
//	MEC policy pinned and matched                                       cfg 2
//	MEC policy differs, or required and not pinned                      cfg 32: warning
//
// A check the policy waives because it could not be made
// (AllowUnknownPlatformUnsafe, AllowUnknownRealmUnsafe) leaves its claim at
// 0. A lifecycle state that an Unsafe field accepts is accepted: ii, rt and
// st are 2, and the policy id names the field.
//
// Departures from Veraison, each where its result would be unsound:
//
//   - A realm is never above its platform. Veraison appraises CCA_REALM
//     alone, so a relying party gating on CCA_REALM (EAR has no overall
//     status) would trust a realm on a platform in debug or with unknown
//     firmware. Here the realm's status is raised to its platform's when
//     that is worse, its vector kept, and its policy claims say so
//     (PolicyClaimCappedByPlatform).
//   - Signer ids are compared. Veraison matches a software component by
//     its measurement value (and name and version when endorsed) alone; an
//     image with the endorsed measurement but another signer is not the
//     endorsed firmware, so it is exe 33.
//   - A REM that a reference value gives and the realm does not have is exe
//     33 (warning). Veraison gives 3 and leaves the realm affirming,
//     although the provisioned runtime measurement was contradicted. A RIM
//     with no reference value is 33 and an RPV that differs 96, as in
//     Veraison.
//   - REMs not all provisioned give 3 (approved boot: nothing vouches for
//     the runtime), not 2.
//   - The lifecycle follows the policy: by default only secured is accepted
//     (Veraison also accepts non-CCA-platform debug, 0x4000-0x40ff, which
//     AllowNonCCAPlatformDebugUnsafe restores). AllowDebugLifecycleUnsafe
//     also accepts recoverable CCA-platform debug (0x5000-0x50ff), which
//     Veraison never does (96): ii, rt and st are then 2, so that the EAR
//     stays affirming exactly when the Result is trustworthy.
//   - The MEC policy (claim 44243 of the 2.0 realm profile), which
//     Veraison does not appraise, is the realm's configuration claim when
//     a reference value pins it (RealmReference.MECPolicy).
//   - A bare platform token, which Veraison does not take, gets
//     CCA_SSD_PLATFORM alone.
//   - Without a nonce (accepted only by AllowMissingNonceUnsafe) the
//     freshness check fails as a nonce mismatch does: Veraison always has
//     its session nonce.
//
// So the EAR agrees with the Result: a submodule is affirming exactly when
// its side of the Result is trustworthy.
package verifier
