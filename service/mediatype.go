package service

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// Media types of the API, as veraison/services defines them.
const (
	// SessionMediaType: verification/api/handler.go
	// ChallengeResponseSessionMediaType.
	SessionMediaType = "application/vnd.veraison.challenge-response-session+json"
	// ProvisioningSessionMediaType: provisioning/api/handler.go.
	ProvisioningSessionMediaType = "application/vnd.veraison.provisioning-session+json"
	// DiscoveryMediaType: capability/well-known.go WellKnownMediaType.
	DiscoveryMediaType = "application/vnd.veraison.discovery+json"
	// CCAEvidenceMediaType is the one evidence type of Veraison's ARM_CCA
	// scheme (scheme/arm-cca/scheme.go Descriptor.EvidenceMediaTypes): a
	// CCA attestation token, tag 399 or (since ba83e6c) the CMW tag 907.
	CCAEvidenceMediaType = `application/eat-collection; profile="http://arm.com/CCA-SSD/1.0.0"`
)

// CoRIM profiles of the CCA endorsements (veraison/corim profiles/cca;
// scheme/arm-cca/scheme.go Descriptor.CorimProfiles).
const (
	CCAPlatformProfile = "tag:arm.com,2025:cca_platform#1.0.0"
	CCARealmProfile    = "tag:arm.com,2025:cca_realm#1.0.0"
)

// Legacy CoRIM profiles of Veraison's ARM_CCA scheme before d4c39f7
// (2026-03), and their unsigned media type.
const (
	legacyPlatformProfile = "http://arm.com/cca/ssd/1"
	legacyRealmProfile    = "http://arm.com/cca/realm/1"
	legacyCoRIMType       = "application/corim-unsigned+cbor"
)

// provisioningMediaTypes lists the submit media types: two per profile, as
// handler/schemeimplementationwrapper.go GetSupportedProvisioningMediaTypes
// builds them, unsigned (application/rim+cbor) and signed
// (application/rim+cose) CoRIMs; then the two that clients written before
// d4c39f7 send (scheme/arm-cca/scheme.go at b8993d2).
var provisioningMediaTypes = []string{
	`application/rim+cbor; profile="` + CCAPlatformProfile + `"`,
	`application/rim+cose; profile="` + CCAPlatformProfile + `"`,
	`application/rim+cbor; profile="` + CCARealmProfile + `"`,
	`application/rim+cose; profile="` + CCARealmProfile + `"`,
	legacyCoRIMType + `; profile="` + legacyPlatformProfile + `"`,
	legacyCoRIMType + `; profile="` + legacyRealmProfile + `"`,
}

// evidenceMediaTypes is the accept list of a session.
var evidenceMediaTypes = []string{CCAEvidenceMediaType}

// cmwMediaTypes are the Content-Types under which evidence may arrive
// wrapped in a CMW record (verification/api/handler.go cmwMap). They are
// compared as sent, without parameters, as Veraison does.
var cmwMediaTypes = map[string]bool{
	"application/cmw":                   true,
	"application/cmw+json":              true,
	"application/cmw+cbor":              true,
	"application/vnd.veraison.cmw":      true,
	"application/vnd.veraison.cmw+cbor": true,
	"application/vnd.veraison.cmw+json": true,
}

var (
	errMediaType = errors.New("malformed media type")
	errCMW       = errors.New("malformed CMW")
)

// normalizeMediaType is Veraison's api/api.go NormalizeMediaType: parse
// with Go's mime package and format again, so that spacing, case and
// quoting do not matter.
func normalizeMediaType(mt string) (string, error) {
	m, p, err := mime.ParseMediaType(mt)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", errMediaType, mt, err)
	}
	return mime.FormatMediaType(m, p), nil
}

// checkContentType is the Content-Type check of the evidence and the
// endorsement submissions, answered as Veraison's handlers answer it: 400
// when mediaType does not parse (the detail after prefix), 415 with an
// Accept header listing types when it is none of them. It returns the
// normalized type, or false once the refusal is written.
func (s *Service) checkContentType(w http.ResponseWriter, mediaType string, types []string, prefix string) (string, bool) {
	normalized, err := normalizeMediaType(mediaType)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, prefix+": "+err.Error())
		return "", false
	}
	if !supported(types, normalized) {
		w.Header().Set("Accept", strings.Join(types, ", "))
		s.m.rejected("media-type")
		writeProblem(w, http.StatusUnsupportedMediaType, "no active plugin found for "+mediaType)
		return "", false
	}
	return normalized, true
}

func supported(list []string, normalized string) bool {
	for _, m := range list {
		if n, err := normalizeMediaType(m); err == nil && n == normalized {
			return true
		}
	}
	return false
}

// negotiate picks, of offered, the type the request's Accept field weights
// highest (the first offered on a tie), with RFC 9110 §12.5.1: every
// Accept field line counts (they are
// one comma-separated list, §5.3); media types compare case-insensitively;
// of the ranges that match a type, the most specific ("type/subtype", then
// "type/*", then "*/*") gives its weight, and a weight of 0 ("q=0") means
// not acceptable. No Accept field, or one with no media range in it,
// admits anything. It returns "" when nothing offered is acceptable (406).
//
// Veraison's handlers decide with gin's Context.NegotiateFormat, which
// reads the first Accept line only, ignores weights, compares case-
// sensitively and takes a prefix of a type as a match; the types its
// clients send (veraison/apiclient: exactly the one type) are answered
// alike.
func negotiate(h http.Header, offered ...string) string {
	ranges := acceptRanges(h.Values("Accept"))
	if len(ranges) == 0 {
		return offered[0]
	}
	best, bestQ := "", 0.0
	for _, mt := range offered {
		if q := weightOf(ranges, mt); q > bestQ {
			best, bestQ = mt, q
		}
	}
	return best
}

// mediaRange is one element of an Accept field: a media range, lower
// case, and its weight.
type mediaRange struct {
	typ, sub string
	q        float64
}

// acceptRanges reads the media ranges of Accept field lines. Elements are
// split at commas outside quoted strings (a parameter value may hold one);
// empty elements are skipped (RFC 9110 §5.6.1); an element that is not
// "type/subtype" matches nothing.
func acceptRanges(lines []string) []mediaRange {
	var out []mediaRange
	for _, line := range lines {
		for _, elem := range splitUnquoted(line, ',') {
			params := splitUnquoted(elem, ';')
			typ, sub, ok := strings.Cut(strings.ToLower(strings.TrimSpace(params[0])), "/")
			if typ == "" && !ok {
				continue // an empty element
			}
			r := mediaRange{typ: strings.TrimSpace(typ), sub: strings.TrimSpace(sub), q: 1}
			for _, p := range params[1:] {
				name, value, _ := strings.Cut(p, "=")
				if strings.EqualFold(strings.TrimSpace(name), "q") {
					r.q = qvalue(strings.TrimSpace(value))
				}
			}
			out = append(out, r)
		}
	}
	return out
}

// qvalue reads a weight (RFC 9110 §12.4.2: 0 to 1, at most three
// decimals). One that does not parse, or is out of range, counts as 1:
// a malformed weight does not turn an acceptable type away.
func qvalue(v string) float64 {
	// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
	if v == "" || len(v) > 5 || v[0] != '0' && v[0] != '1' || len(v) > 1 && v[1] != '.' {
		return 1
	}
	for _, c := range []byte(v[min(2, len(v)):]) {
		if c < '0' || c > '9' {
			return 1
		}
	}
	q, err := strconv.ParseFloat(v, 64)
	if err != nil || q > 1 {
		return 1
	}
	return q
}

// weightOf is the weight Accept gives mt: that of the most specific range
// matching it, 0 when none does.
func weightOf(ranges []mediaRange, mt string) float64 {
	typ, sub, _ := strings.Cut(mt, "/")
	specificity, q := -1, 0.0
	for _, r := range ranges {
		s := -1
		switch {
		case r.typ == typ && r.sub == sub:
			s = 2
		case r.typ == typ && r.sub == "*":
			s = 1
		case r.typ == "*" && r.sub == "*":
			s = 0
		}
		if s > specificity || s == specificity && s >= 0 && r.q > q {
			specificity, q = s, r.q
		}
	}
	return q
}

// splitUnquoted splits s at sep outside double-quoted strings (RFC 9110
// §5.6.4, with backslash escapes).
func splitUnquoted(s string, sep byte) []string {
	var out []string
	quoted, escaped, start := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unwrapCMW takes evidence out of a CMW record (draft-ietf-rats-msg-wrap:
// CBOR [type, value, ?ind] or JSON [type, base64url value, ?ind]), as
// Veraison's SubmitEvidence does through veraison/cmw Deserialize. A CMW
// collection, or a tag whose type is not a media type, is not unwrapped:
// it is returned as is with ok false, and is then an unsupported media type
// (415), as in Veraison. Anything else that is not a well-formed CMW is
// errCMW (400), a raw tag-907 token included.
func unwrapCMW(body []byte) (mediaType string, value []byte, ok bool, err error) {
	if len(body) == 0 {
		return "", nil, false, fmt.Errorf("%w: empty", errCMW)
	}
	// The first byte decides the form, as veraison/cmw utils.go sniffs it.
	switch b := body[0]; {
	case b == 0x82 || b == 0x83 || b == 0x9f:
		var rec []cbor.RawMessage
		if err := cmwCBOR.Unmarshal(body, &rec); err != nil {
			return "", nil, false, fmt.Errorf("%w: CBOR record: %v", errCMW, err)
		}
		if len(rec) < 2 || len(rec) > 3 {
			return "", nil, false, fmt.Errorf("%w: CBOR record of %d items, want 2 or 3", errCMW, len(rec))
		}
		var typ any
		if err := cmwCBOR.Unmarshal(rec[0], &typ); err != nil {
			return "", nil, false, fmt.Errorf("%w: record type: %v", errCMW, err)
		}
		if err := cmwCBOR.Unmarshal(rec[1], &value); err != nil {
			return "", nil, false, fmt.Errorf("%w: record value is not a byte string: %v", errCMW, err)
		}
		return cmwType(typ, value)
	case b >= 0xa0 && b <= 0xbb || b == 0xbf, b == '{':
		return "", nil, false, nil // a collection: not unwrapped
	case b >= 0xda:
		var tag cbor.RawTag
		if err := cmwCBOR.Unmarshal(body, &tag); err != nil {
			return "", nil, false, fmt.Errorf("%w: CBOR tag: %v", errCMW, err)
		}
		if err := cmwCBOR.Unmarshal(tag.Content, &value); err != nil {
			return "", nil, false, fmt.Errorf("%w: tag %d does not wrap a byte string: %v", errCMW, tag.Number, err)
		}
		// A tag names a CoAP content format, and no CCA evidence type has one.
		return "", nil, false, nil
	case b == '[':
		var rec []json.RawMessage
		if err := json.Unmarshal(body, &rec); err != nil {
			return "", nil, false, fmt.Errorf("%w: JSON record: %v", errCMW, err)
		}
		if len(rec) < 2 || len(rec) > 3 {
			return "", nil, false, fmt.Errorf("%w: JSON record of %d items, want 2 or 3", errCMW, len(rec))
		}
		var typ any
		if err := json.Unmarshal(rec[0], &typ); err != nil {
			return "", nil, false, fmt.Errorf("%w: record type: %v", errCMW, err)
		}
		var v string
		if err := json.Unmarshal(rec[1], &v); err != nil {
			return "", nil, false, fmt.Errorf("%w: record value is not a string: %v", errCMW, err)
		}
		// veraison/cmw utils.go: the value is unpadded base64url.
		if value, err = base64.RawURLEncoding.DecodeString(v); err != nil {
			return "", nil, false, fmt.Errorf("%w: record value is not unpadded base64url: %v", errCMW, err)
		}
		return cmwType(typ, value)
	}
	return "", nil, false, fmt.Errorf("%w: first byte %#02x starts neither a CBOR nor a JSON CMW", errCMW, body[0])
}

// cmwType reads a record's type: a media type string, or a CoAP content
// format number (which no CCA evidence type has: reported as such).
func cmwType(typ any, value []byte) (string, []byte, bool, error) {
	switch t := typ.(type) {
	case string:
		if t == "" {
			return "", nil, false, fmt.Errorf("%w: record type is empty", errCMW)
		}
		return t, value, true, nil
	case uint64:
		return "CoAP content format " + strconv.FormatUint(t, 10), value, true, nil
	case float64:
		if t >= 0 && t <= 65535 && t == float64(uint16(t)) {
			return "CoAP content format " + strconv.Itoa(int(t)), value, true, nil
		}
	}
	return "", nil, false, fmt.Errorf("%w: record type must be a media type string or a content format number", errCMW)
}

// cmwCBOR decodes CMW records strictly: no duplicate map keys, bounded
// nesting, definite lengths allowed both ways (the record may be 0x9f).
var cmwCBOR = func() cbor.DecMode {
	dm, err := cbor.DecOptions{MaxNestedLevels: 8, MaxArrayElements: 16, MaxMapPairs: 64, DupMapKey: cbor.DupMapKeyEnforcedAPF}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()
