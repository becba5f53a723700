package endorsement

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// IsCoRIM reports whether data looks like a CoRIM, by its first items only:
// an unsigned CoRIM (tag 501), the older bare corim-map (a map with an id
// and an array of tags), or a COSE_Sign1 (tag 18, possibly behind the
// legacy 500(502(…)) prefix) whose protected header carries the CoRIM
// content type. A JSON document, a CCA token or collection is not.
func IsCoRIM(data []byte) bool {
	if len(data) == 0 || len(data) > MaxSize || dec.Wellformed(data) != nil {
		return false
	}
	data = stripLegacyPrefix(data)
	if num, content, ok := untag(data); ok {
		switch num {
		case tagUnsignedCoRIM:
			major, _, _, _ := head(content)
			return major == 5
		case tagSign1:
			return hasCoRIMContentType(content)
		}
		return false
	}
	switch major, _, _, _ := head(data); major {
	case 4: // an untagged COSE_Sign1
		return hasCoRIMContentType(data)
	case 5:
		m, err := asMap(data, "", "")
		if err != nil {
			return false
		}
		id, tags := m[0], m[1]
		if id == nil || tags == nil {
			return false
		}
		major, _, _, _ := head(tags)
		return major == 4
	}
	return false
}

// hasCoRIMContentType reports a COSE_Sign1 array whose protected header
// has content type application/rim+cbor.
func hasCoRIMContentType(msg []byte) bool {
	arr, err := asArray(msg, "", "")
	if err != nil || len(arr) != 4 {
		return false
	}
	prot, err := asBytes(arr[0], "", "")
	if err != nil || len(prot) == 0 {
		return false
	}
	var hdr map[any]item
	if dec.Unmarshal(prot, &hdr) != nil {
		return false
	}
	var ct string
	return dec.Unmarshal(hdr[int64(3)], &ct) == nil && ct == ContentType
}

// legacyPrefix is 500(502(: the tagged-corim-type-choice of drafts before
// draft-ietf-rats-corim PR 337, which veraison/corim still strips
// (corim/signedcorim.go FromCOSE).
var legacyPrefix = []byte{0xd9, 0x01, 0xf4, 0xd9, 0x01, 0xf6}

func stripLegacyPrefix(data []byte) []byte {
	if rest, ok := bytes.CutPrefix(data, legacyPrefix); ok && len(rest) > 0 {
		return rest
	}
	return data
}

// Decode reads a CCA CoRIM: unsigned (tag 501, or the older bare map) or
// COSE-signed (tag 18, content type application/rim+cbor, corim-meta), in
// any of the profile forms Veraison has provisioned (see the Profile
// constants). Every defect is an error naming what and where (CoMID,
// triple and measurement index), wrapping one of the package's errors.
func Decode(data []byte, opts DecodeOptions) (*Endorsements, error) {
	e, err := decode(data, opts)
	if err != nil {
		return nil, escaped(err)
	}
	for i := range e.BadTrustAnchors {
		e.BadTrustAnchors[i].Err = escaped(e.BadTrustAnchors[i].Err)
	}
	return e, nil
}

// escapedError is an error whose message has every control and
// non-printable character escaped: this package quotes the strings it
// puts in messages, but a library's message (fxamacker's duplicate-key
// error prints the key) may carry the attacker's bytes as they are.
type escapedError struct {
	msg string
	err error
}

func (e *escapedError) Error() string { return e.msg }
func (e *escapedError) Unwrap() error { return e.err }

func escaped(err error) error {
	msg := err.Error()
	clean := true
	for _, r := range msg {
		if !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return err
	}
	var b strings.Builder
	for _, r := range msg {
		if unicode.IsPrint(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return &escapedError{msg: b.String(), err: err}
}

func decode(data []byte, opts DecodeOptions) (*Endorsements, error) {
	switch {
	case len(data) == 0:
		return nil, fmt.Errorf("%w: empty input", ErrMalformed)
	case len(data) > MaxSize:
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrMalformed, len(data), MaxSize)
	}
	if err := dec.Wellformed(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	stripped := stripLegacyPrefix(data)
	legacySigned := len(stripped) != len(data)
	num, content, tagged := untag(stripped)
	major, _, _, _ := head(stripped)
	switch {
	case !tagged && major == 4:
		// An untagged COSE_Sign1 (RFC 9052 §4.2), after the legacy prefix
		// or alone; its content type says whether it is a CoRIM.
		return decodeSigned(stripped, opts)
	case tagged && num == tagSign1:
		return decodeSigned(content, opts)
	case legacySigned:
		return nil, fmt.Errorf("%w: 500(502(…)) prefix followed by %s, not a COSE_Sign1", ErrMalformed, kind(stripped))
	}
	if opts.RequireSigned {
		return nil, fmt.Errorf("%w: the CoRIM is not signed and a signed one is required", ErrSignature)
	}
	e := &Endorsements{}
	if err := decodeUnsigned(stripped, e, opts); err != nil {
		return nil, err
	}
	return e, nil
}

// decodeUnsigned reads 501(corim-map), or a bare corim-map (veraison/corim
// before 59105a8, 2025-06).
func decodeUnsigned(data []byte, e *Endorsements, opts DecodeOptions) error {
	if num, content, ok := untag(data); ok {
		if num != tagUnsignedCoRIM {
			return fmt.Errorf("%w: tag %d, expected 501 (unsigned CoRIM) or 18 (COSE_Sign1)", ErrMalformed, num)
		}
		data = content
	}
	if major, _, _, _ := head(data); major != 5 {
		return fmt.Errorf("%w: %s, expected a CoRIM: 501(corim-map), a corim-map or a COSE_Sign1", ErrMalformed, kind(data))
	}
	m, err := asMap(data, "CoRIM", "corim-map")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	for k := range m {
		if k < 0 || k > 5 {
			return fmt.Errorf("%w: CoRIM: corim-map key %d is not understood", ErrInvalid, k)
		}
	}
	if m[0] == nil {
		return fmt.Errorf("%w: CoRIM: the id (key 0) is missing", ErrInvalid)
	}
	if e.ID, err = idString(m[0], "CoRIM", "id (key 0)"); err != nil {
		return err
	}
	where := "CoRIM " + quote(e.ID)
	var profileArray bool
	if e.Profile, profileArray, err = profile(m[3], where); err != nil {
		return err
	}
	if m[2] != nil {
		if _, err := asArray(m[2], where, "dependent-rims (key 2)"); err != nil {
			return err
		}
	}
	if m[4] != nil {
		v, err := validity(m[4], where, "rim-validity (key 4)")
		if err != nil {
			return err
		}
		e.NotBefore, e.NotAfter = v.notBefore, v.notAfter
		if err := v.check(opts.Now, where, "rim-validity"); err != nil {
			return err
		}
	}
	if m[5] != nil {
		if err := entities(m[5], where, "entities (key 5)"); err != nil {
			return err
		}
	}
	if m[1] == nil {
		return fmt.Errorf("%w: %s: tags (key 1) is missing", ErrInvalid, where)
	}
	tags, err := asArray(m[1], where, "tags (key 1)")
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return fmt.Errorf("%w: %s: tags (key 1) is empty", ErrInvalid, where)
	}
	p := profiles[e.Profile]
	e.Legacy = p.legacy
	d := &decoder{e: e, opts: opts, profile: p, corimWhere: where, attestKeyTriples: triplesAttestKey}
	if profileArray {
		// The profiles array and attest-key triples at key 2 (identity
		// triples at 3) went together: veraison/corim swapped the keys in
		// 13838ca and made the profile single in 37e8df3, both merged on
		// 2024-07-23. Veraison's CCA CoRIMs of 2024-06 have both.
		d.attestKeyTriples = triplesAttestKeyPre2024
	}
	for i, t := range tags {
		comid, err := comidBytes(t, where, i)
		if err != nil {
			return err
		}
		if err := d.comid(comid, i); err != nil {
			return err
		}
	}
	return nil
}

// comidBytes returns the CoMID of the i-th element of tags: 506(bstr .cbor
// comid) (veraison/corim since c9de6bc, 2025-06), or a bstr holding
// 506(comid), the earlier form.
func comidBytes(t item, where string, i int) ([]byte, error) {
	what := fmt.Sprintf("tags[%d]", i)
	if num, content, ok := untag(t); ok {
		if num != tagCoMID {
			return nil, fmt.Errorf("%w: %s: %s is %s; only CoMIDs (tag 506) carry CCA endorsements", ErrInvalid, where, what, kind(t))
		}
		b, err := asBytes(content, where, what+" content")
		if err != nil {
			return nil, err
		}
		if err := dec.Wellformed(b); err != nil {
			return nil, fmt.Errorf("%w: %s: %s: CoMID: %v", ErrMalformed, where, what, err)
		}
		return b, nil
	}
	b, err := asBytes(t, where, what)
	if err != nil {
		return nil, err
	}
	if err := dec.Wellformed(b); err != nil {
		return nil, fmt.Errorf("%w: %s: %s: %v", ErrMalformed, where, what, err)
	}
	num, content, ok := untag(b)
	if !ok || num != tagCoMID {
		return nil, fmt.Errorf("%w: %s: %s holds %s, not 506(CoMID)", ErrInvalid, where, what, kind(b))
	}
	return content, nil
}

// profileInfo says which structure a profile means.
type profileInfo struct {
	realm, legacy bool
}

var profiles = map[string]profileInfo{
	ProfilePlatform:     {},
	ProfileRealm:        {realm: true},
	ProfilePlatform2023: {legacy: true},
	ProfileRealm2023:    {realm: true, legacy: true},
	ProfilePlatformSSD:  {legacy: true},
	ProfileRealmLegacy:  {realm: true, legacy: true},
}

// profile reads key 3: an untagged tstr (veraison/corim 37e8df3..5985ee8),
// 32(uri) or 111(oid) (since 5985ee8, 2026-05), or, before 37e8df3
// (2024-07), an array of those; here it must hold exactly one.
func profile(it item, where string) (string, bool, error) {
	array := false
	if it == nil {
		return "", false, fmt.Errorf("%w: %s: no profile (key 3); expected %q or %q (or an earlier CCA profile)", ErrProfile, where, ProfilePlatform, ProfileRealm)
	}
	if major, _, _, _ := head(it); major == 4 {
		arr, err := asArray(it, where, "profiles (key 3)")
		if err != nil {
			return "", false, err
		}
		if len(arr) != 1 {
			return "", false, fmt.Errorf("%w: %s: %d profiles in the profiles array (key 3), expected exactly one", ErrProfile, where, len(arr))
		}
		it = arr[0]
		array = true
	}
	var name string
	num, content, tagged := untag(it)
	switch {
	case !tagged:
		s, err := asText(it, where, "profile (key 3)")
		if err != nil {
			return "", false, fmt.Errorf("%w: %v", ErrProfile, err)
		}
		name = s
	case num == tagURI:
		s, err := asText(content, where, "profile 32(uri)")
		if err != nil {
			return "", false, fmt.Errorf("%w: %v", ErrProfile, err)
		}
		name = s
	case num == tagOID:
		b, err := asBytes(content, where, "profile 111(oid)")
		if err != nil {
			return "", false, fmt.Errorf("%w: %v", ErrProfile, err)
		}
		oid, ok := oidString(b)
		if !ok {
			return "", false, fmt.Errorf("%w: %s: profile 111(oid) is not a well-formed OID", ErrProfile, where)
		}
		return "", false, fmt.Errorf("%w: %s: profile OID %s is not a CCA profile", ErrProfile, where, oid)
	default:
		return "", false, fmt.Errorf("%w: %s: profile is %s, expected a URI", ErrProfile, where, kind(it))
	}
	if _, ok := profiles[name]; !ok {
		return "", false, fmt.Errorf("%w: %s: profile %s is not a CCA profile; expected %q or %q (or an earlier CCA profile)", ErrProfile, where, quote(name), ProfilePlatform, ProfileRealm)
	}
	return name, array, nil
}

type period struct{ notBefore, notAfter time.Time }

// validity reads validity-map {?0: not-before, 1: not-after}, times as
// tag 1 (epoch seconds), draft-ietf-rats-corim §4.1.3.
func validity(it item, where, what string) (period, error) {
	var p period
	m, err := asMap(it, where, what)
	if err != nil {
		return p, err
	}
	for k := range m {
		if k != 0 && k != 1 {
			return p, fmt.Errorf("%w: %s: %s key %d is not understood", ErrInvalid, where, what, k)
		}
	}
	if m[1] == nil {
		return p, fmt.Errorf("%w: %s: %s has no not-after (key 1)", ErrInvalid, where, what)
	}
	if p.notAfter, err = epoch(m[1], where, what+" not-after"); err != nil {
		return p, err
	}
	if m[0] != nil {
		if p.notBefore, err = epoch(m[0], where, what+" not-before"); err != nil {
			return p, err
		}
		if p.notBefore.After(p.notAfter) {
			return p, fmt.Errorf("%w: %s: %s: not-before %s is after not-after %s", ErrInvalid, where, what,
				p.notBefore.Format(time.RFC3339), p.notAfter.Format(time.RFC3339))
		}
	}
	return p, nil
}

func (p period) check(now time.Time, where, what string) error {
	switch {
	case now.IsZero():
		return nil
	case !p.notBefore.IsZero() && now.Before(p.notBefore):
		return fmt.Errorf("%w: %s: %s begins %s", ErrExpired, where, what, p.notBefore.Format(time.RFC3339))
	case now.After(p.notAfter):
		return fmt.Errorf("%w: %s: %s ended %s", ErrExpired, where, what, p.notAfter.Format(time.RFC3339))
	}
	return nil
}

// epoch reads 1(int): seconds since the epoch (RFC 8949 §3.4.2).
func epoch(it item, where, what string) (time.Time, error) {
	num, content, ok := untag(it)
	if !ok || num != 1 {
		return time.Time{}, fmt.Errorf("%w: %s: %s is %s, not an epoch time 1(int)", ErrInvalid, where, what, kind(it))
	}
	var secs int64
	if major, _, _, _ := head(content); major > 1 || dec.Unmarshal(content, &secs) != nil {
		return time.Time{}, fmt.Errorf("%w: %s: %s is 1(%s), not an integer number of seconds", ErrInvalid, where, what, kind(content))
	}
	return time.Unix(secs, 0).UTC(), nil
}

// entities checks an entity array: [+ {0: name, ?1: 32(uri), 2: [+ role]}]
// (draft-ietf-rats-corim §4.1.5, §5.1.2).
func entities(it item, where, what string) error {
	arr, err := asArray(it, where, what)
	if err != nil {
		return err
	}
	for i, e := range arr {
		w := fmt.Sprintf("%s[%d]", what, i)
		m, err := asMap(e, where, w)
		if err != nil {
			return err
		}
		if m[0] == nil {
			return fmt.Errorf("%w: %s: %s has no entity-name (key 0)", ErrInvalid, where, w)
		}
		if _, err := asText(m[0], where, w+" entity-name"); err != nil {
			return err
		}
		if m[2] == nil {
			return fmt.Errorf("%w: %s: %s has no roles (key 2)", ErrInvalid, where, w)
		}
		roles, err := asArray(m[2], where, w+" roles")
		if err != nil {
			return err
		}
		for j, r := range roles {
			if _, err := asUint(r, where, fmt.Sprintf("%s roles[%d]", w, j)); err != nil {
				return err
			}
		}
	}
	return nil
}
