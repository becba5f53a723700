// Package verifier is what a relying party embeds to decide whether to trust
// a CCA realm: trust anchors (platform keys), reference values, an explicit
// policy, and one Result per piece of evidence, renderable as JSON, text and
// EAR.
//
//	anchors, err := verifier.ParseTrustAnchors(taJSON)
//	refs, err := verifier.ParseReferenceValues(rvJSON)
//	v, err := verifier.New(anchors, verifier.WithReferenceValues(refs))
//	res, err := v.Verify(ctx, evidenceBytes, nonce) // err: misuse only
//	if !res.Trustworthy { log.Print(res.Reason()) }
//
// # What Verify checks
//
// The platform: its claims are valid; a trust anchor exists for its instance
// id (and, if the anchor names one, its implementation id); the anchor's key
// verifies its signature; its lifecycle state is secured (the debug states
// only under an Unsafe policy field); its implementation id, configuration
// and every software component (measurement type, signer id and value) match
// a platform reference value.
//
// The realm: the platform token verified; its claims are valid; the platform
// and realm profiles are of one generation; its signature verifies with the
// RAK it carries; the platform challenge binds that RAK; the realm challenge
// is the nonce; its RIM selects a realm reference value whose RPV and REMs,
// where given, match.
//
// Every check has one of three outcomes: matched, mismatched, or not checked
// (no reference value, no nonce). Not checked is never reported as a
// mismatch; whether it fails the result is the policy's decision, and the
// check then says it is required. The zero Policy requires everything;
// fields ending in Unsafe waive one requirement each and are named in the
// result's policy id.
//
// A platform token is the same for every realm on a machine between boots,
// so a Verifier keeps a bounded cache of platform results keyed by exactly
// the platform token bytes and the key that verified them: a second realm on
// the same machine costs one signature verification instead of two.
//
// # Trust-anchor store
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
// the encoding is not guessed. Instance ids must be unique. A single PEM or
// JWK key (ParseTrustAnchorKey) is trusted for any instance.
//
// # Reference-value store
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
//	      "initial-measurement": "1a1a…",       // hex, 32 or 64 bytes; mandatory; selects the entry
//	      "personalization-value": "5050…",     // hex, 64 bytes; optional: not checked when absent
//	      "extensible-measurements": ["…", "…", "…", "…"], // 4 × hex, RIM-sized; optional
//	      "hash-algo": "sha-256",               // optional: the realm's measurement algorithm (44236)
//	      "rak-hash-algorithm": "sha-256"       // optional (rust-ccatoken's field): accepted, not compared
//	    }
//	  ]
//	}
//
// Each platform entry is one complete acceptable state: the token's software
// components and the entry's must pair up one to one. Several entries may
// share an implementation id or a RIM; the token is reported against the one
// it matches best. A JSON null counts as an absent member. Unknown members
// are an error, so that a misspelt member never silently disables its check.
// Errors wrap ErrStore and name the entry and the member, e.g.
// "realm[1]: \"initial-measurement\": 31 bytes, must be 32 or 64".
//
// # Results
//
// Result is JSON-serialisable; its byte strings are hex and named as in the
// stores, so measured values can be copied into reference values. Result.EAR,
// EARJSON and EARJWT render it as an EAT Attestation Result (veraison/ear,
// profile "tag:github.com,2023:veraison/ear") with the submodules
// CCA_SSD_PLATFORM and CCA_REALM; Result.Text renders it for a terminal.
package verifier
