package endorsement

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// CBOR tags of the CCA subset of CoRIM (draft-ietf-rats-corim §4, §5 and
// the IANA CBOR tags registry; PSA/CCA tags from
// draft-tschofenig-rats-psa-token and draft-ydb-rats-cca-endorsements).
const (
	tagSign1         = 18
	tagURI           = 32
	tagUUID          = 37
	tagOID           = 111
	tagCoRIMChoice   = 500 // legacy tagged-corim-type-choice
	tagUnsignedCoRIM = 501
	tagSignedCoRIM   = 502 // legacy
	tagCoMID         = 506
	tagUEID          = 550
	tagPKIXKey       = 554
	tagPKIXCert      = 555
	tagBytes         = 560
	tagMaskedRaw     = 563
	tagPSAImplID     = 600
	tagPSARefvalID   = 601
	tagCCAConfigID   = 602
)

// dec rejects what an honest encoder never writes and a hostile one may use
// to make two parsers disagree: duplicate keys, indefinite lengths, invalid
// UTF-8; and bounds depth and sizes. Tags are read explicitly.
var dec = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		MaxNestedLevels:  MaxNesting,
		MaxArrayElements: MaxArrayLen,
		MaxMapPairs:      MaxMapPairs,
		UTF8:             cbor.UTF8RejectInvalid,
		IntDec:           cbor.IntDecConvertSigned,
		TagsMd:           cbor.TagsAllowed,
	}.DecMode()
	if err != nil {
		panic(err) // constant options
	}
	return m
}()

// item is one encoded, well-formed CBOR data item.
type item = cbor.RawMessage

// unmarshal decodes one whole item (no trailing bytes) into v.
func unmarshal(data []byte, v any, where, what string) error {
	if err := dec.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %s: %s: %v", ErrMalformed, where, what, err)
	}
	return nil
}

// head reads the head of a well-formed item: major type, argument, length
// of the head. ok is false for a truncated head or an indefinite length.
func head(b []byte) (major byte, arg uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, 0, false
	}
	major, ai := b[0]>>5, b[0]&0x1f
	switch {
	case ai < 24:
		return major, uint64(ai), 1, true
	case ai <= 27:
		size := 1 << (ai - 24)
		if len(b) < 1+size {
			return 0, 0, 0, false
		}
		var v uint64
		for _, c := range b[1 : 1+size] {
			v = v<<8 | uint64(c)
		}
		return major, v, 1 + size, true
	}
	return major, 0, 0, false
}

// untag splits a tagged item into its tag number and content; ok is false
// if the item is not tagged.
func untag(it []byte) (num uint64, content []byte, ok bool) {
	major, arg, n, good := head(it)
	if !good || major != 6 {
		return 0, nil, false
	}
	return arg, it[n:], true
}

// isNull reports the simple value null.
func isNull(it []byte) bool { return len(it) == 1 && it[0] == 0xf6 }

// kind names the type of an item the way Veraison's corim library names
// the choices of CoRIM type sockets (comid class-id, instance, mkey and
// crypto-key types), so that messages read the same; otherwise the CBOR
// major type.
func kind(it []byte) string {
	major, arg, _, ok := head(it)
	if !ok {
		return "malformed item"
	}
	switch major {
	case 0:
		return "uint"
	case 1:
		return "int"
	case 2:
		return "untagged bytes"
	case 3:
		return "string"
	case 4:
		return "array"
	case 5:
		return "map"
	case 7:
		switch it[0] {
		case 0xf4, 0xf5:
			return "bool"
		case 0xf6:
			return "null"
		}
		return "simple value or float"
	}
	switch arg {
	case tagUUID:
		return "uuid"
	case tagOID:
		return "oid"
	case tagURI:
		return "uri"
	case tagUEID:
		return "ueid"
	case tagPKIXKey:
		return "pkix-base64-key"
	case tagPKIXCert:
		return "pkix-base64-cert"
	case 556:
		return "pkix-base64-cert-path"
	case 557:
		return "thumbprint"
	case 558:
		return "cose-key"
	case 559:
		return "cert-thumbprint"
	case tagBytes:
		return "bytes"
	case 561:
		return "cert-path-thumbprint"
	case 562:
		return "pkix-asn1der-cert"
	case tagMaskedRaw:
		return "masked-raw-value"
	case tagPSAImplID:
		return "psa.impl-id"
	case tagPSARefvalID:
		return "psa.refval-id"
	case tagCCAConfigID:
		return "cca.platform-config-id"
	}
	return "tag " + strconv.FormatUint(arg, 10)
}

// asMap decodes a map with integer keys.
func asMap(it []byte, where, what string) (map[int64]item, error) {
	if major, _, _, _ := head(it); major != 5 {
		return nil, fmt.Errorf("%w: %s: %s is %s, not a map", ErrInvalid, where, what, kind(it))
	}
	var m map[int64]item
	if err := dec.Unmarshal(it, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %s: %v", ErrInvalid, where, what, err)
	}
	return m, nil
}

// asArray decodes an array.
func asArray(it []byte, where, what string) ([]item, error) {
	if major, _, _, _ := head(it); major != 4 {
		return nil, fmt.Errorf("%w: %s: %s is %s, not an array", ErrInvalid, where, what, kind(it))
	}
	var a []item
	if err := dec.Unmarshal(it, &a); err != nil {
		return nil, fmt.Errorf("%w: %s: %s: %v", ErrInvalid, where, what, err)
	}
	return a, nil
}

// asText decodes a text string.
func asText(it []byte, where, what string) (string, error) {
	if major, _, _, _ := head(it); major != 3 {
		return "", fmt.Errorf("%w: %s: %s is %s, not a text string", ErrInvalid, where, what, kind(it))
	}
	var s string
	if err := dec.Unmarshal(it, &s); err != nil {
		return "", fmt.Errorf("%w: %s: %s: %v", ErrInvalid, where, what, err)
	}
	return s, nil
}

// asBytes decodes a byte string.
func asBytes(it []byte, where, what string) ([]byte, error) {
	if major, _, _, _ := head(it); major != 2 {
		return nil, fmt.Errorf("%w: %s: %s is %s, not a byte string", ErrInvalid, where, what, kind(it))
	}
	var b []byte
	if err := dec.Unmarshal(it, &b); err != nil {
		return nil, fmt.Errorf("%w: %s: %s: %v", ErrInvalid, where, what, err)
	}
	return b, nil
}

// asUint decodes an unsigned integer.
func asUint(it []byte, where, what string) (uint64, error) {
	if major, _, _, _ := head(it); major != 0 {
		return 0, fmt.Errorf("%w: %s: %s is %s, not an unsigned integer", ErrInvalid, where, what, kind(it))
	}
	var v uint64
	if err := dec.Unmarshal(it, &v); err != nil {
		return 0, fmt.Errorf("%w: %s: %s: %v", ErrInvalid, where, what, err)
	}
	return v, nil
}

// taggedBytes decodes tag(bstr) with the given tag number; got names what
// is there instead.
func taggedBytes(it []byte, tag uint64) (b []byte, ok bool) {
	num, content, tagged := untag(it)
	if !tagged || num != tag {
		return nil, false
	}
	if major, _, _, _ := head(content); major != 2 {
		return nil, false
	}
	if err := dec.Unmarshal(content, &b); err != nil {
		return nil, false
	}
	return b, true
}

// idString renders a CoRIM or tag id: text (tstr) or a UUID (a 16-byte
// bstr, tagged 37 or not).
func idString(it []byte, where, what string) (string, error) {
	if num, content, ok := untag(it); ok {
		if num != tagUUID {
			return "", fmt.Errorf("%w: %s: %s is %s, not a text or UUID", ErrInvalid, where, what, kind(it))
		}
		it = content
	}
	switch major, _, _, _ := head(it); major {
	case 3:
		s, err := asText(it, where, what)
		if err == nil && s == "" {
			err = fmt.Errorf("%w: %s: %s is empty", ErrInvalid, where, what)
		}
		return s, err
	case 2:
		b, err := asBytes(it, where, what)
		if err != nil {
			return "", err
		}
		if len(b) != 16 {
			return "", fmt.Errorf("%w: %s: %s is a %d-byte string, not a 16-byte UUID", ErrInvalid, where, what, len(b))
		}
		return uuidString(b), nil
	}
	return "", fmt.Errorf("%w: %s: %s is %s, not a text or UUID", ErrInvalid, where, what, kind(it))
}

// uuidString renders 16 bytes in the RFC 9562 §4 text form.
func uuidString(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// oidString renders a BER-encoded OID (X.690 §8.19) in dotted form, or
// reports it malformed.
func oidString(b []byte) (string, bool) {
	if len(b) == 0 || b[len(b)-1]&0x80 != 0 {
		return "", false
	}
	var arcs []string
	var v uint64
	first := true
	for i, c := range b {
		if v == 0 && c == 0x80 && (i == 0 || b[i-1]&0x80 == 0) {
			return "", false // non-minimal arc
		}
		if v > 1<<56 {
			return "", false
		}
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 != 0 {
			continue
		}
		if first {
			switch {
			case v < 40:
				arcs = append(arcs, "0", strconv.FormatUint(v, 10))
			case v < 80:
				arcs = append(arcs, "1", strconv.FormatUint(v-40, 10))
			default:
				arcs = append(arcs, "2", strconv.FormatUint(v-80, 10))
			}
			first = false
		} else {
			arcs = append(arcs, strconv.FormatUint(v, 10))
		}
		v = 0
	}
	return strings.Join(arcs, "."), true
}

// quote renders an attacker-controlled string for a message: quoted with
// every control and non-printable character escaped, and cut short.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xc0 == 0x80 { // do not split a UTF-8 sequence
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
