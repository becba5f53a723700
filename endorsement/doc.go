// Package endorsement reads and writes CCA endorsements carried in CoRIM
// (draft-ietf-rats-corim): the trust anchors (CPAKs by platform instance)
// and reference values (implementation, configuration and software
// components) of the CCA platform profile, and the reference values (RIM,
// REMs, RPV) of the CCA realm profile (draft-ydb-rats-cca-endorsements §3).
//
// Decode reads the CCA subset strictly, with fxamacker/cbor and no CoRIM
// library, in every form Veraison has provisioned:
//
//   - envelopes: 501(corim-map) or the earlier bare corim-map; tags as
//     506(bstr) or the earlier bstr holding 506(…); profile as a tstr,
//     32(uri), 111(oid) or, before 2024-07, a one-element array (with
//     attest-key triples then at triples key 2);
//   - signed: COSE_Sign1 (tag 18, possibly behind the legacy 500(502(…))
//     prefix) with content type application/rim+cbor and corim-meta,
//     checked with the caller's key (DecodeOptions.SignerKey) or with an
//     x5chain verified to the caller's roots; without either, a signed
//     CoRIM is refused unless SkipSignatureCheckUnsafe is set;
//   - profiles: today's tag:arm.com,2025:cca_platform#1.0.0 and
//     tag:arm.com,2025:cca_realm#1.0.0 (veraison/corim profiles/cca), and
//     the earlier http://arm.com/cca/ssd/1, http://arm.com/cca/realm/1 and
//     their 2023 tag: names (600/601/602 identifiers; integrity registers).
//
// Every defect is an error that says what is wrong and where (CoRIM id,
// CoMID index and tag-id, triple index, measurement index), wraps one of
// the package's errors and, through it, one token error class. For the
// defects of Veraison's own bad test CoRIMs the message contains the text
// Veraison's gives. What the profiles leave to the verifier is refused
// rather than dropped: a measurement field this package would not compare,
// a reference value for one platform instance, a realm environment with
// more than its RIM. Input is bounded (MaxSize, MaxNesting, MaxArrayLen,
// MaxMapPairs, MaxTriples, MaxMeasurements).
//
// EncodeTrustAnchors, EncodePlatform, EncodeRealm (and Encode) write
// today's forms as Veraison's provisioning takes them; Sign wraps the
// result in a COSE_Sign1.
package endorsement
