package evidence

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	cose "github.com/veraison/go-cose"

	"github.com/ccakit/cca/token"
)

// errClasses are the error classes of package token; every failure must
// wrap exactly one.
var errClasses = token.Classes()

// badCase is one mutation of valid evidence and the failure it must cause.
type badCase struct {
	name string
	base Format // the valid evidence the mutation starts from
	// mutate changes the spec; opts, if set, changes the verify options
	// (which start as: the realm challenge as nonce, default algorithms).
	mutate   func(t testing.TB, s *spec)
	noRebind bool // keep the platform challenge the mutation leaves
	opts     func(o *legOptions)
	want     error    // the class; nil means the evidence must verify
	leg      leg      // the step runLegs reports the failure in
	msg      []string // substrings that say what and where
}

var (
	nonce = rep(0xC0, 64) // sampleRealm's challenge
	// Values that appear once in the base tokens, for byte-level mutations.
	implID = rep(0xAA, 32)
	rpv    = rep(0x50, 64)
)

func setP(k int64, v []byte) func(testing.TB, *spec) {
	return func(_ testing.TB, s *spec) { s.plat.set(k, v) }
}
func setR(k int64, v []byte) func(testing.TB, *spec) {
	return func(_ testing.TB, s *spec) { s.realm.set(k, v) }
}
func delP(k int64) func(testing.TB, *spec) { return func(_ testing.TB, s *spec) { s.plat.del(k) } }
func delR(k int64) func(testing.TB, *spec) { return func(_ testing.TB, s *spec) { s.realm.del(k) } }

func rakPub(s *spec) *ecdsa.PublicKey { return s.rak.Public().(*ecdsa.PublicKey) }

func rawPoint(pub *ecdsa.PublicKey) []byte {
	b, err := pub.Bytes()
	if err != nil {
		panic(err)
	}
	return b
}

// coseKeyWith is the base RAK's COSE_Key with its parameters replaced by
// hand: f gets x and y and returns the map entries.
func coseKeyWith(f func(x, y []byte) [][]byte) func(testing.TB, *spec) {
	return func(_ testing.TB, s *spec) {
		raw := rawPoint(rakPub(s))
		s.realm.set(token.KeyRealmPubKey, cBstr(cMap(f(raw[1:49], raw[49:])...)))
	}
}

// truncate cuts the evidence after n bytes (n < 0: n bytes from the end).
func truncate(n int) func(testing.TB, *spec) {
	return func(_ testing.TB, s *spec) {
		s.out = func(b []byte) []byte {
			if n < 0 {
				n += len(b)
			}
			return b[:n]
		}
	}
}

func badCases() []badCase {
	swComp := func(kv ...[]byte) []byte { return cArr(cMap(kv...)) }
	return []badCase{
		// --- the bytes: truncation, tags, framing ---------------------------
		{name: "empty input", mutate: truncate(0), want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection", "empty input"}},
		{name: "truncated/tag head only", mutate: truncate(1), want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection"}},
		{name: "truncated/after tag", mutate: truncate(3), want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection", "EOF"}},
		{name: "truncated/inside platform token", mutate: truncate(40), want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection", "EOF"}},
		{name: "truncated/half", mutate: func(t testing.TB, s *spec) { s.out = func(b []byte) []byte { return b[:len(b)/2] } },
			want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection", "EOF"}},
		{name: "truncated/last byte", mutate: truncate(-1), want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection", "EOF"}},
		{name: "truncated/cmw last byte", base: FormatCMW, mutate: truncate(-1), want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection", "EOF"}},
		{name: "wrong outer tag 398", mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, r []byte) []byte { return cTag(398, cMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r))) }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"found tag 398", "expected 399 or 907"}},
		{name: "bare platform token: no realm token", mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, _ []byte) []byte { return p }
		}, want: token.ErrMalformed, leg: legRealmSignature, msg: []string{"no realm token"}},
		{name: "missing outer tag", mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, r []byte) []byte { return cMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r)) }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection", "expected CBOR tag 399, found map"}},
		{name: "outer tag 399 in a non-shortest head", mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, r []byte) []byte { return cat([]byte{0xda, 0, 0, 0x01, 0x8f}, wrap399(p, r)[3:]) }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"non-shortest"}},
		{name: "wrong COSE tag 17 (platform)", mutate: func(_ testing.TB, s *spec) {
			s.platTok = func(b []byte) []byte { return cat([]byte{0xd1}, b[1:]) }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"platform token", "expected CBOR tag 18, found tag 17"}},
		{name: "wrong COSE tag 98 (realm)", mutate: func(_ testing.TB, s *spec) {
			s.realmTok = func(b []byte) []byte { return cat(cTag(98, nil), b[1:]) }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"realm token", "found tag 98"}},
		{name: "untagged COSE_Sign1 (realm)", mutate: func(_ testing.TB, s *spec) {
			s.realmTok = func(b []byte) []byte { return b[1:] }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"realm token", "expected CBOR tag 18, found array"}},
		{name: "COSE tag 18 in a non-shortest head", mutate: func(_ testing.TB, s *spec) {
			s.platTok = func(b []byte) []byte { return cat([]byte{0xd8, 18}, b[1:]) }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"platform token", "non-shortest"}},
		{name: "COSE_Sign1 of 3 elements", mutate: func(t testing.TB, s *spec) {
			s.signRealm = func(payload []byte) []byte {
				return cTag(18, cArr(cBstr([]byte{0xa1, 0x01, 0x38, 0x22}), cMap(), cBstr(payload)))
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"realm token: COSE_Sign1"}},
		{name: "collection with 1 entry", mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, _ []byte) []byte { return cTag(399, cMap(cInt(44234), cBstr(p))) }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"no realm token (entry 44241)"}},
		{name: "collection with 3 entries", mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, r []byte) []byte {
				return cTag(399, cMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r), cInt(44242), cBstr(r)))
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"unexpected entry 44242"}},
		{name: "collection with 3 entries (cmw)", base: FormatCMW, mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, r []byte) []byte {
				e := func(b []byte) []byte { return cArr(cInt(263), cBstr(b)) }
				return cTag(907, cMap(cInt(44234), e(p), cInt(44241), e(r), cInt(1), e(r)))
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"tag 907", "unexpected entry 1"}},
		{name: "duplicate key in collection", mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, r []byte) []byte {
				return cTag(399, cMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r), cInt(44234), cBstr(p)))
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection (tag 399)", "duplicate map key 44234"}},
		{name: "cmw entry with content format 262", base: FormatCMW, mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, r []byte) []byte {
				return cTag(907, cMap(cInt(44234), cArr(cInt(262), cBstr(p)), cInt(44241), cArr(cInt(263), cBstr(r))))
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"entry 44234 (platform token)", "content format 262, expected 263"}},
		{name: "cmw entry not an array", base: FormatCMW, mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, r []byte) []byte {
				return cTag(907, cMap(cInt(44234), cArr(cInt(263), cBstr(p)), cInt(44241), cBstr(r)))
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"entry 44241 (realm token)", "expected [263, bstr]"}},
		{name: "cmw entry of 3 elements", base: FormatCMW, mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, r []byte) []byte {
				return cTag(907, cMap(cInt(44234), cArr(cInt(263), cBstr(p), cInt(0)), cInt(44241), cArr(cInt(263), cBstr(r))))
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"entry 44234 (platform token)", "expected [263, bstr]"}},
		{name: "cmw entry holding an array of byte values", base: FormatCMW, mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, r []byte) []byte {
				arr := make([][]byte, 0, 8)
				for _, b := range p[:8] {
					arr = append(arr, cInt(int64(b)))
				}
				return cTag(907, cMap(cInt(44234), cArr(cInt(263), cArr(arr...)), cInt(44241), cArr(cInt(263), cBstr(r))))
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"entry 44234 (platform token)"}},
		{name: "cmw-style entry in a 399 collection", mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, r []byte) []byte {
				return cTag(399, cMap(cInt(44234), cArr(cInt(263), cBstr(p)), cInt(44241), cBstr(r)))
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection (tag 399) entry 44234 (platform token)"}},
		{name: "null entry in a 399 collection", mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, _ []byte) []byte { return cTag(399, cMap(cInt(44234), cBstr(p), cInt(44241), cNull)) }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"entry 44241 (realm token)", "expected a byte string"}},
		{name: "indefinite-length collection map", mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, r []byte) []byte { return cTag(399, cIndefMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r))) }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection", "indefinite-length map"}},
		{name: "indefinite-length token byte string", mutate: func(_ testing.TB, s *spec) {
			s.wrap = func(p, r []byte) []byte {
				return cTag(399, cMap(cInt(44234), cIndefBstr(cBstr(p[:10]), cBstr(p[10:])), cInt(44241), cBstr(r)))
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection", "indefinite-length byte string"}},
		{name: "trailing bytes after the collection", mutate: func(_ testing.TB, s *spec) {
			s.out = func(b []byte) []byte { return append(b, 0x00) }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection", "extraneous data"}},
		{name: "trailing bytes after the platform COSE_Sign1", mutate: func(_ testing.TB, s *spec) {
			s.platTok = func(b []byte) []byte { return append(b, 0xa0) }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"platform token", "extraneous data"}},
		{name: "trailing bytes after the realm payload", mutate: func(_ testing.TB, s *spec) {
			s.realmPayload = func(b []byte) []byte { return append(b, 0x00) }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"realm claims", "extraneous data"}},
		{name: "oversize input", mutate: setP(9999, cBstr(make([]byte, token.MaxTokenSize+1))),
			want: token.ErrMalformed, leg: legDecode, msg: []string{"evidence collection", "exceeds the 65536-byte limit"}},
		{name: "excessive nesting", mutate: func(_ testing.TB, s *spec) {
			v := cArr()
			for range token.MaxNesting {
				v = cArr(v)
			}
			s.plat.set(9999, v)
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"platform claims", "max nested level"}},
		{name: "excessive array length (REMs)", mutate: func(_ testing.TB, s *spec) {
			rems := make([][]byte, token.MaxArrayLen+1)
			for i := range rems {
				rems[i] = cBstr(rep(0xE1, 32))
			}
			s.realm.set(token.KeyRealmExtensibleMeas, cArr(rems...))
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"realm claims", "max number of elements 128"}},
		{name: "excessive map size (platform claims)", mutate: func(_ testing.TB, s *spec) {
			for k := range int64(token.MaxMapPairs) {
				s.plat.set(10000+k, cInt(0))
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"platform claims", "max number of key-value pairs"}},

		// --- claims encoding ------------------------------------------------
		{name: "duplicate key in platform claims", mutate: func(_ testing.TB, s *spec) {
			s.plat = append(s.plat, claim{token.KeyChallenge, cBstr(rep(0, 32))})
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"platform claims", "duplicate map key 10"}},
		{name: "duplicate key in realm claims", mutate: func(_ testing.TB, s *spec) {
			s.realm = append(s.realm, claim{token.KeyRealmInitialMeasurement, cBstr(rep(0, 32))})
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"realm claims", "duplicate map key 44238"}},
		{name: "duplicate key in a software component", mutate: setP(token.KeySwComponents, swComp(
			cInt(1), cTstr("RMM"), cInt(2), cBstr(rep(0x12, 32)), cInt(5), cBstr(rep(0x22, 32)), cInt(2), cBstr(rep(0x13, 32)))),
			want: token.ErrMalformed, leg: legDecode, msg: []string{"platform claims", "duplicate map key 2", "at 2399/[0]"}},
		{name: "indefinite-length claims map", mutate: func(t testing.TB, s *spec) {
			s.platPayload = func(b []byte) []byte {
				if b[0] != 0xa9 {
					t.Fatalf("platform claims head %x, want a9", b[0])
				}
				return append(cat([]byte{0xbf}, b[1:]), 0xff)
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"platform claims", "indefinite-length map"}},
		{name: "indefinite-length REMs array", mutate: func(t testing.TB, s *spec) {
			s.realmPayload = func(b []byte) []byte {
				r := func(v byte) []byte { return cBstr(rep(v, 32)) }
				return replaceOnce(t, b, cArr(r(0xE1), r(0xE2), r(0xE3), r(0xE4)), cIndefArr(r(0xE1), r(0xE2), r(0xE3), r(0xE4)))
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"realm claims", "indefinite-length array"}},
		{name: "indefinite-length platform config", mutate: func(t testing.TB, s *spec) {
			cfg := []byte{0xCF, 0xE5, 0x00, 0x00}
			s.platPayload = func(b []byte) []byte {
				return replaceOnce(t, b, cat(cInt(2401), cBstr(cfg)), cat(cInt(2401), cIndefBstr(cBstr(cfg[:2]), cBstr(cfg[2:]))))
			}
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"platform claims", "indefinite-length byte string"}},
		{name: "duplicate key nested in an unknown claim", mutate: setP(9999, cArr(cMap(cInt(1), cInt(1), cInt(1), cInt(2)))),
			want: token.ErrMalformed, leg: legDecode, msg: []string{"platform claims", "duplicate map key 1", "at 9999/[0]"}},
		{name: "invalid UTF-8 in a claim", mutate: setR(token.KeyProfile, cat(cHead(3, 2), []byte{0xc3, 0x28})),
			want: token.ErrMalformed, leg: legDecode, msg: []string{"realm claims", "invalid UTF-8", "at 265"}},
		{name: "text-keyed claim", mutate: func(t testing.TB, s *spec) {
			s.platPayload = func(b []byte) []byte { return addPair(t, b, cTstr("challenge"), cBstr(rep(1, 32))) }
		}, want: token.ErrMalformed, leg: legDecode, msg: []string{"platform claims", "(claim keys must be integers)"}},
		{name: "tagged claim value", mutate: setR(token.KeyRealmInitialMeasurement, cTag(24, cBstr(rep(0x1A, 32)))),
			want: token.ErrMalformed, leg: legDecode, msg: []string{"realm claims", "tag"}},
		{name: "null claim (RIM)", mutate: setR(token.KeyRealmInitialMeasurement, cNull),
			want: token.ErrSyntax, leg: legDecode, msg: []string{"realm claim 44238 (cca-realm-initial-measurement)", "null"}},
		{name: "null claim (lifecycle)", mutate: setP(token.KeyLifecycle, cNull),
			want: token.ErrSyntax, leg: legDecode, msg: []string{"platform claim 2395 (cca-platform-lifecycle)", "null"}},
		{name: "null REM", mutate: setR(token.KeyRealmExtensibleMeas, cArr(cBstr(rep(1, 32)), cNull, cBstr(rep(1, 32)), cBstr(rep(1, 32)))),
			want: token.ErrSyntax, leg: legDecode, msg: []string{"realm claim 44239", "element 1: expected a byte string"}},
		{name: "RIM as an array of byte values", mutate: func(_ testing.TB, s *spec) {
			vals := make([][]byte, 32)
			for i := range vals {
				vals[i] = cInt(0x1A)
			}
			s.realm.set(token.KeyRealmInitialMeasurement, cArr(vals...))
		}, want: token.ErrSyntax, leg: legDecode, msg: []string{"realm claim 44238", "expected a byte string, found array"}},
		{name: "challenge as an array of nonces", mutate: setP(token.KeyChallenge, cArr(cBstr(rep(1, 32)), cBstr(rep(2, 32)))), noRebind: true,
			want: token.ErrSyntax, leg: legDecode, msg: []string{"platform claim 10 (cca-platform-challenge)"}},
		{name: "lifecycle negative", mutate: setP(token.KeyLifecycle, cInt(-1)),
			want: token.ErrSyntax, leg: legDecode, msg: []string{"platform claim 2395"}},
		{name: "realm profile empty string", mutate: setR(token.KeyProfile, cTstr("")),
			want: token.ErrSyntax, leg: legDecode, msg: []string{"realm claim 265 (cca-realm-profile)", "empty string"}},
		{name: "sw component missing signer id", mutate: setP(token.KeySwComponents, swComp(cInt(1), cTstr("RMM"), cInt(2), cBstr(rep(0x12, 32)))),
			want: token.ErrMissingClaim, leg: legDecode, msg: []string{"software component 0", "signer id (5)"}},
		{name: "sw component missing measurement value", mutate: setP(token.KeySwComponents, swComp(cInt(5), cBstr(rep(0x12, 32)))),
			want: token.ErrMissingClaim, leg: legDecode, msg: []string{"software component 0", "measurement value (2)"}},
		{name: "sw component with an unknown key", mutate: setP(token.KeySwComponents, swComp(cInt(2), cBstr(rep(0x12, 32)), cInt(5), cBstr(rep(0x12, 32)), cInt(3), cTstr("x"))),
			want: token.ErrSyntax, leg: legDecode, msg: []string{"software component 0", "unexpected key 3"}},

		// --- COSE headers and algorithms -------------------------------------
		{name: "alg only in the unprotected header", mutate: func(t testing.TB, s *spec) {
			s.signPlat = func(p []byte) []byte {
				return signES(t, s.iak.(*ecdsa.PrivateKey), crypto.SHA384, nil, cMap(cInt(1), cInt(-35)), p)
			}
		}, want: token.ErrAlgorithm, leg: legDecode, msg: []string{"platform token", "alg header parameter is unprotected"}},
		{name: "no alg header", mutate: func(t testing.TB, s *spec) {
			s.signRealm = func(p []byte) []byte {
				return signES(t, s.rak.(*ecdsa.PrivateKey), crypto.SHA384, cMap(cInt(4), cBstr([]byte("kid"))), cMap(), p)
			}
		}, want: token.ErrAlgorithm, leg: legDecode, msg: []string{"realm token", "protected header"}},
		{name: "ES256 header with a P-384 platform key", mutate: func(t testing.TB, s *spec) {
			s.signPlat = func(p []byte) []byte {
				return signES(t, s.iak.(*ecdsa.PrivateKey), crypto.SHA256, cMap(cInt(1), cInt(-7)), cMap(), p)
			}
		}, want: token.ErrAlgorithm, leg: legPlatformSignature, msg: []string{"platform token", "header says ES256 but the key is for ES384"}},
		{name: "ES512 header with a P-384 RAK", mutate: func(t testing.TB, s *spec) {
			s.signRealm = func(p []byte) []byte {
				return signES(t, s.rak.(*ecdsa.PrivateKey), crypto.SHA512, cMap(cInt(1), cInt(-36)), cMap(), p)
			}
		}, want: token.ErrAlgorithm, leg: legRealmSignature, msg: []string{"realm token", "header says ES512 but the key is for ES384"}},
		{name: "EdDSA platform token, not allowed", mutate: func(t testing.TB, s *spec) { s.iak, s.cpak = ed25519Key(t) },
			want: token.ErrAlgorithm, leg: legPlatformSignature, msg: []string{"platform token", "EdDSA is not allowed"}},
		{name: "EdDSA platform token, allowed", mutate: func(t testing.TB, s *spec) { s.iak, s.cpak = ed25519Key(t) },
			opts: func(o *legOptions) { o.Algorithms = []cose.Algorithm{cose.AlgorithmES384, cose.AlgorithmEdDSA} }},
		{name: "EdDSA allowed, but the CPAK is P-384", mutate: func(t testing.TB, s *spec) {
			k, _ := ed25519Key(t)
			s.iak = k
		}, opts: func(o *legOptions) { o.Algorithms = []cose.Algorithm{cose.AlgorithmES384, cose.AlgorithmEdDSA} },
			want: token.ErrAlgorithm, leg: legPlatformSignature, msg: []string{"header says EdDSA but the key is for ES384"}},
		{name: "PS256 platform token, not allowed", mutate: func(t testing.TB, s *spec) { s.iak = testRSAKey(t); s.cpak = s.iak.Public() },
			want: token.ErrAlgorithm, leg: legPlatformSignature, msg: []string{"platform token", "PS256 is not allowed"}},
		{name: "PS256 platform token, allowed", mutate: func(t testing.TB, s *spec) { s.iak = testRSAKey(t); s.cpak = s.iak.Public() },
			opts: func(o *legOptions) { o.Algorithms = []cose.Algorithm{cose.AlgorithmPS256, cose.AlgorithmES384} }},
		{name: "allow-list narrowed to ES256", opts: func(o *legOptions) { o.Algorithms = []cose.Algorithm{cose.AlgorithmES256} },
			want: token.ErrAlgorithm, leg: legPlatformSignature, msg: []string{"ES384 is not allowed"}},

		// --- signatures ---------------------------------------------------------
		{name: "flipped platform signature byte", mutate: func(_ testing.TB, s *spec) { s.platTok = func(b []byte) []byte { return flipAt(b, -1) } },
			want: token.ErrSignature, leg: legPlatformSignature, msg: []string{"platform token"}},
		{name: "flipped realm signature byte", mutate: func(_ testing.TB, s *spec) { s.realmTok = func(b []byte) []byte { return flipAt(b, -48) } },
			want: token.ErrSignature, leg: legRealmSignature, msg: []string{"realm token"}},
		{name: "flipped platform payload byte", mutate: func(_ testing.TB, s *spec) {
			s.platTok = func(b []byte) []byte { return flipAt(b, bytes.Index(b, implID)+5) }
		}, want: token.ErrSignature, leg: legPlatformSignature, msg: []string{"platform token"}},
		{name: "flipped realm payload byte", mutate: func(_ testing.TB, s *spec) {
			s.realmTok = func(b []byte) []byte { return flipAt(b, bytes.Index(b, rpv)+63) }
		}, want: token.ErrSignature, leg: legRealmSignature, msg: []string{"realm token"}},
		{name: "signature one byte short", mutate: func(t testing.TB, s *spec) {
			s.platTok = func(b []byte) []byte { return replaceOnce(t, b, b[len(b)-98:len(b)-96], []byte{0x58, 0x5f})[:len(b)-1] }
		}, want: token.ErrSignature, leg: legPlatformSignature, msg: []string{"platform token"}},
		{name: "platform token signed by another key", mutate: func(t testing.TB, s *spec) { s.iak = newKey(t, elliptic.P384()) },
			want: token.ErrSignature, leg: legPlatformSignature, msg: []string{"platform token"}},
		{name: "realm token signed by a key other than its RAK", mutate: func(t testing.TB, s *spec) { s.rak = newKey(t, elliptic.P384()) },
			want: token.ErrSignature, leg: legRealmSignature, msg: []string{"realm token"}},

		// --- binding and freshness ---------------------------------------------
		{name: "wrong binding (platform challenge changed, re-signed)", mutate: setP(token.KeyChallenge, cBstr(rep(0x77, 32))), noRebind: true,
			want: token.ErrBinding, leg: legBinding, msg: []string{"platform challenge 7777", "sha-256(RAK claim)"}},
		{name: "wrong binding (RAK hash algorithm changed)", mutate: setR(token.KeyRealmPubKeyHashAlgID, cTstr("sha-512")), noRebind: true,
			want: token.ErrBinding, leg: legBinding, msg: []string{"sha-512(RAK claim)"}},
		{name: "wrong binding (another RAK, realm re-signed)", mutate: func(t testing.TB, s *spec) {
			s.rak = newKey(t, elliptic.P384())
			s.realm.set(token.KeyRealmPubKey, cBstr(coseKey(rakPub(s))))
		}, noRebind: true, want: token.ErrBinding, leg: legBinding, msg: []string{"platform challenge"}},
		{name: "binding with sha-512 RAK hash", mutate: setR(token.KeyRealmPubKeyHashAlgID, cTstr("sha-512"))},
		{name: "stale nonce", opts: func(o *legOptions) { o.Nonce = rep(0xC1, 64) },
			want: token.ErrFreshness, leg: legFreshness, msg: []string{"realm challenge c0c0", "expected nonce c1c1"}},
		{name: "nonce too short", opts: func(o *legOptions) { o.Nonce = rep(0xC0, 31) },
			want: token.ErrFreshness, leg: legFreshness, msg: []string{"nonce of 31 bytes"}},
		{name: "nonce too long", opts: func(o *legOptions) { o.Nonce = rep(0xC0, 65) },
			want: token.ErrFreshness, leg: legFreshness, msg: []string{"nonce of 65 bytes"}},
		{name: "32-byte nonce, zero-padded challenge", mutate: setR(token.KeyChallenge, cBstr(append(rep(0xC0, 32), rep(0, 32)...))),
			opts: func(o *legOptions) { o.Nonce = rep(0xC0, 32) }},
		{name: "32-byte nonce, challenge not zero-padded", opts: func(o *legOptions) { o.Nonce = rep(0xC0, 32) },
			want: token.ErrFreshness, leg: legFreshness, msg: []string{"not the expected nonce"}},

		// --- realm claims ---------------------------------------------------------
		{name: "3 REMs", mutate: setR(token.KeyRealmExtensibleMeas, cArr(cBstr(rep(1, 32)), cBstr(rep(2, 32)), cBstr(rep(3, 32)))),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"realm token", "realm claim 44239 (cca-realm-extensible-measurements)", "3 measurements, must be exactly 4"}},
		{name: "5 REMs", mutate: setR(token.KeyRealmExtensibleMeas, cArr(cBstr(rep(1, 32)), cBstr(rep(2, 32)), cBstr(rep(3, 32)), cBstr(rep(4, 32)), cBstr(rep(5, 32)))),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44239", "5 measurements"}},
		{name: "REM length mismatch", mutate: setR(token.KeyRealmExtensibleMeas, cArr(cBstr(rep(1, 32)), cBstr(rep(2, 32)), cBstr(rep(3, 64)), cBstr(rep(4, 32)))),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44239", `REM[2] is 64 bytes, must be 32 (hash algorithm "sha-256")`}},
		{name: "32-byte RIM with sha-512", mutate: setR(token.KeyRealmHashAlgID, cTstr("sha-512")),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44238 (cca-realm-initial-measurement)", "32 bytes, must be 64", "sha-512"}},
		{name: "realm hash algorithm sha-384", mutate: setR(token.KeyRealmHashAlgID, cTstr("sha-384")),
			want: token.ErrAlgorithm, leg: legValidate, msg: []string{"realm claim 44236 (cca-realm-hash-algo-id)", `"sha-384"`}},
		{name: "RAK hash algorithm unknown", mutate: setR(token.KeyRealmPubKeyHashAlgID, cTstr("sha-1")),
			want: token.ErrAlgorithm, leg: legValidate, msg: []string{"realm claim 44240 (cca-realm-public-key-hash-algo-id)", `"sha-1"`}},
		{name: "realm challenge 63 bytes", mutate: setR(token.KeyChallenge, cBstr(rep(0xC0, 63))),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 10 (cca-realm-challenge)", "63 bytes, must be 64"}},
		{name: "realm challenge 65 bytes", mutate: setR(token.KeyChallenge, cBstr(rep(0xC0, 65))),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 10", "65 bytes, must be 64"}},
		{name: "RPV 32 bytes", mutate: setR(token.KeyRealmPersonalizationValue, cBstr(rep(0x50, 32))),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44235 (cca-realm-personalization-value)", "32 bytes, must be 64"}},
		{name: "RIM missing", mutate: delR(token.KeyRealmInitialMeasurement),
			want: token.ErrMissingClaim, leg: legValidate, msg: []string{"realm token", "realm claim 44238"}},
		{name: "RAK missing", mutate: delR(token.KeyRealmPubKey), noRebind: true,
			want: token.ErrMissingClaim, leg: legValidate, msg: []string{"realm claim 44237 (cca-realm-public-key)"}},
		{name: "RAK hash algorithm missing", mutate: delR(token.KeyRealmPubKeyHashAlgID), noRebind: true,
			want: token.ErrMissingClaim, leg: legValidate, msg: []string{"realm claim 44240"}},
		{name: "unknown realm profile", mutate: setR(token.KeyProfile, cTstr("tag:arm.com,2025:realm#3.0.0")),
			want: token.ErrProfile, leg: legValidate, msg: []string{"realm claim 265", `unknown realm profile "tag:arm.com,2025:realm#3.0.0"`}},
		{name: "platform profile in the realm token", mutate: setR(token.KeyProfile, cTstr(token.ProfilePlatform1)),
			want: token.ErrProfile, leg: legValidate, msg: []string{"realm claim 265", "is a platform profile, found in a realm token"}},

		// --- the RAK encoding ---------------------------------------------------------
		{name: "COSE_Key wrong kty", mutate: coseKeyWith(func(x, y []byte) [][]byte {
			return [][]byte{cInt(1), cInt(1), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(y)}
		}), want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44237", "COSE_Key kty 1, expected 2"}},
		{name: "COSE_Key unknown crv", mutate: coseKeyWith(func(x, y []byte) [][]byte {
			return [][]byte{cInt(1), cInt(2), cInt(-1), cInt(4), cInt(-2), cBstr(x), cInt(-3), cBstr(y)}
		}), want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44237", "COSE_Key crv 4"}},
		{name: "COSE_Key crv P-256 with P-384 coordinates", mutate: coseKeyWith(func(x, y []byte) [][]byte {
			return [][]byte{cInt(1), cInt(2), cInt(-1), cInt(1), cInt(-2), cBstr(x), cInt(-3), cBstr(y)}
		}), want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44237", "P-256 coordinates must be 32 bytes"}},
		{name: "COSE_Key x 47 bytes", mutate: coseKeyWith(func(x, y []byte) [][]byte {
			return [][]byte{cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(x[1:]), cInt(-3), cBstr(y)}
		}), want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44237", "(x 47, y 48)"}},
		{name: "COSE_Key point not on the curve", mutate: coseKeyWith(func(x, y []byte) [][]byte {
			return [][]byte{cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(flipAt(y, -1))}
		}), want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44237", "not a point on P-384"}},
		{name: "COSE_Key with a private key", mutate: coseKeyWith(func(x, y []byte) [][]byte {
			return [][]byte{cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(y), cInt(-4), cBstr(rep(0x22, 48))}
		}), want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44237", "private key (d)"}},
		{name: "COSE_Key alg not matching crv", mutate: coseKeyWith(func(x, y []byte) [][]byte {
			return [][]byte{cInt(1), cInt(2), cInt(3), cInt(-7), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(y)}
		}), want: token.ErrAlgorithm, leg: legValidate, msg: []string{"realm claim 44237", "COSE_Key alg -7 does not go with curve P-384"}},
		{name: "COSE_Key duplicate key", mutate: coseKeyWith(func(x, y []byte) [][]byte {
			return [][]byte{cInt(1), cInt(2), cInt(-1), cInt(2), cInt(-2), cBstr(x), cInt(-3), cBstr(y), cInt(1), cInt(2)}
		}), want: token.ErrMalformed, leg: legValidate, msg: []string{"realm claim 44237", "COSE_Key", "duplicate map key 1"}},
		{name: "COSE_Key with alg and kid, other order", mutate: coseKeyWith(func(x, y []byte) [][]byte {
			return [][]byte{cInt(-3), cBstr(y), cInt(-2), cBstr(x), cInt(3), cInt(-35), cInt(2), cBstr([]byte("rak")), cInt(-1), cInt(2), cInt(1), cInt(2)}
		})},
		{name: "raw-point RAK in a REL0 token", mutate: func(_ testing.TB, s *spec) {
			s.realm.set(token.KeyRealmPubKey, cBstr(rawPoint(rakPub(s))))
		}, want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44237", "COSE_Key is not a CBOR map"}},
		{name: "COSE_Key RAK in a legacy token", base: FormatLegacy, mutate: func(_ testing.TB, s *spec) {
			s.realm.set(token.KeyRealmPubKey, cBstr(coseKey(rakPub(s))))
		}, want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44237", "raw EC point of 107 bytes"}},
		{name: "raw-point RAK not on the curve (legacy)", base: FormatLegacy, mutate: func(_ testing.TB, s *spec) {
			s.realm.set(token.KeyRealmPubKey, cBstr(flipAt(rawPoint(rakPub(s)), -1)))
		}, want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44237", "raw EC point: not a point on P-384"}},

		// --- platform claims --------------------------------------------------------
		{name: "instance id 32 bytes", mutate: setP(token.KeyInstanceID, cBstr(rep(0x01, 32))),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform token", "platform claim 256 (cca-platform-instance-id)", "got 32 bytes"}},
		{name: "instance id not starting 0x01", mutate: setP(token.KeyInstanceID, cBstr(append([]byte{0x02}, rep(0xBB, 32)...))),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform claim 256", "starting 0x02"}},
		{name: "instance id a 17-byte UEID (2.0 only)", mutate: setP(token.KeyInstanceID, cBstr(append([]byte{0x01}, rep(0xBB, 16)...))),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform claim 256", "got 17 bytes"}},
		{name: "implementation id 31 bytes", mutate: setP(token.KeyImplementationID, cBstr(rep(0xAA, 31))),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform claim 2396 (cca-platform-implementation-id)", "31 bytes, must be 32"}},
		{name: "lifecycle 0x7000", mutate: setP(token.KeyLifecycle, cInt(0x7000)),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform claim 2395 (cca-platform-lifecycle)", "0x7000 is in no lifecycle range"}},
		{name: "lifecycle 0x30ff0", mutate: setP(token.KeyLifecycle, cInt(0x30ff0)),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform claim 2395", "0x30ff0"}},
		{name: "lifecycle 0x3100", mutate: setP(token.KeyLifecycle, cInt(0x3100)),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform claim 2395", "0x3100"}},
		{name: "lifecycle 0x30ff (secured, high end)", mutate: setP(token.KeyLifecycle, cInt(0x30ff))},
		{name: "lifecycle missing", mutate: delP(token.KeyLifecycle),
			want: token.ErrMissingClaim, leg: legValidate, msg: []string{"platform claim 2395"}},
		{name: "empty sw components", mutate: setP(token.KeySwComponents, cArr()),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform claim 2399 (cca-platform-sw-components)", "empty array"}},
		{name: "sw components missing", mutate: delP(token.KeySwComponents),
			want: token.ErrMissingClaim, leg: legValidate, msg: []string{"platform claim 2399"}},
		{name: "measurement value 20 bytes", mutate: setP(token.KeySwComponents, swComp(cInt(1), cTstr("RMM"), cInt(2), cBstr(rep(0x12, 20)), cInt(5), cBstr(rep(0x22, 32)))),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform claim 2399", "software component 0: measurement value (2) is 20 bytes"}},
		{name: "signer id 16 bytes", mutate: setP(token.KeySwComponents, cArr(
			cMap(cInt(2), cBstr(rep(0x12, 32)), cInt(5), cBstr(rep(0x22, 32))), cMap(cInt(2), cBstr(rep(0x12, 48)), cInt(5), cBstr(rep(0x22, 16))))),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"software component 1: signer id (5) is 16 bytes"}},
		{name: "platform challenge 20 bytes", mutate: setP(token.KeyChallenge, cBstr(rep(1, 20))), noRebind: true,
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform claim 10 (cca-platform-challenge)", "20 bytes"}},
		{name: "platform config missing", mutate: delP(token.KeyPlatformConfig),
			want: token.ErrMissingClaim, leg: legValidate, msg: []string{"platform claim 2401 (cca-platform-config)"}},
		{name: "platform config empty", mutate: setP(token.KeyPlatformConfig, cBstr(nil))},
		{name: "platform hash algorithm not an IANA name", mutate: setP(token.KeyPlatformHashAlgID, cTstr("SHA256")),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform claim 2402 (cca-platform-hash-algo-id)", `"SHA256"`}},
		{name: "verification service empty", mutate: setP(token.KeyVerificationService, cTstr("")),
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform claim 2400", "empty string"}},
		{name: "platform profile missing", mutate: delP(token.KeyProfile),
			want: token.ErrMissingClaim, leg: legValidate, msg: []string{"platform claim 265 (cca-platform-profile)"}},
		{name: "unknown platform profile", mutate: setP(token.KeyProfile, cTstr("http://arm.com/psa/2.0.0")),
			want: token.ErrProfile, leg: legValidate, msg: []string{"platform claim 265", `unknown platform profile "http://arm.com/psa/2.0.0"`}},
		{name: "realm profile in the platform token", mutate: setP(token.KeyProfile, cTstr(token.ProfileRealm1)),
			want: token.ErrProfile, leg: legValidate, msg: []string{"platform claim 265", "is a realm profile, found in a platform token"}},
		{name: "unknown claim, RejectUnknownClaims", mutate: setP(9999, cInt(1)),
			opts: func(o *legOptions) { o.RejectUnknownClaims = true },
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform claim 9999 is not defined by profile"}},
		{name: "unknown claim, tolerated", mutate: setP(9999, cInt(1))},
		{name: "2.0 realm claim in a 1.0 token, RejectUnknownClaims", mutate: setR(token.KeyRealmInstanceID, cBstr(append([]byte{1}, rep(7, 32)...))),
			opts: func(o *legOptions) { o.RejectUnknownClaims = true },
			want: token.ErrSyntax, leg: legValidate, msg: []string{`realm claim 256 (cca-realm-instance-id) is not defined by realm profile "tag:arm.com,2023:realm#1.0.0"`}},
		{name: "2.0 realm claim in a 1.0 token, tolerated", mutate: setR(token.KeyRealmInstanceID, cBstr(append([]byte{1}, rep(7, 32)...)))},
		{name: "MEC policy as an integer in a 1.0 token, RejectUnknownClaims", mutate: setR(token.KeyRealmMECPolicy, cInt(0)),
			opts: func(o *legOptions) { o.RejectUnknownClaims = true },
			want: token.ErrSyntax, leg: legValidate, msg: []string{"realm claim 44243 (cca-realm-mec-policy)", "as text"}},
		{name: "MEC policy as text in a 1.0 token (TF-RMM v0.8.0), RejectUnknownClaims", mutate: setR(token.KeyRealmMECPolicy, cTstr("shared")),
			opts: func(o *legOptions) { o.RejectUnknownClaims = true }},
		{name: "bad MEC policy", mutate: setR(token.KeyRealmMECPolicy, cTstr("public")),
			want: token.ErrSyntax, leg: legValidate, msg: []string{`realm claim 44243 (cca-realm-mec-policy): "public" is neither "shared" nor "private"`}},
		{name: "2.0 platform claim in a 1.0 token, RejectUnknownClaims", mutate: setP(token.KeyPlatformTBBRoTPK, cArr(cMap(cInt(1), cTstr("CM"), cInt(2), cInt(0), cInt(3), cInt(0), cInt(4), cBstr(rep(1, 32))))),
			opts: func(o *legOptions) { o.RejectUnknownClaims = true },
			want: token.ErrSyntax, leg: legValidate, msg: []string{"platform claim 2405 (cca-platform-tbb-rotpk)"}},

		// --- generations -----------------------------------------------------------------
		{name: "opt-in: legacy platform + 2023 realm (Veraison)", base: FormatLegacy, mutate: legacyPlatform2023Realm,
			want: token.ErrProfile, leg: legValidate, msg: []string{"CCA-SSD platform profile, realm 1.0 profile", "Veraison's test evidence", "opt-in"}},
		{name: "mixed: legacy platform + 2023 realm, unsafe", base: FormatLegacy, mutate: legacyPlatform2023Realm,
			opts: func(o *legOptions) { o.AllowMixedProfilesUnsafe = true }},
		{name: "mixed: 2023 platform + profile-less realm", mutate: profilelessRealm,
			want: token.ErrProfile, leg: legValidate, msg: []string{"mixed", "2023", "legacy"}},
		{name: "mixed: 2023 platform + profile-less realm, unsafe", mutate: profilelessRealm,
			opts: func(o *legOptions) { o.AllowMixedProfilesUnsafe = true }},
		{name: "legacy profiles in a 907 wrapper (tf-m-tools)", base: FormatLegacy, mutate: func(_ testing.TB, s *spec) { s.wrapper = token.Wrapper907 }},
		{name: "2023 realm in a 907 wrapper with a legacy platform", base: FormatLegacy, mutate: func(t testing.TB, s *spec) {
			legacyPlatform2023Realm(t, s)
			s.wrapper = token.Wrapper907
		}, want: token.ErrProfile, leg: legValidate, msg: []string{"CMW collection, CCA-SSD platform profile, realm 1.0 profile"}},
		{name: "mixed: 2.0 platform + 2023 realm", mutate: func(t testing.TB, s *spec) {
			s.plat.set(token.KeyProfile, cTstr(token.ProfilePlatform2))
			s.plat.set(token.KeyPlatformClientID, cInt(1))
		},
			want: token.ErrProfile, leg: legValidate, msg: []string{"mixed", "2.0", "2023"}},
	}
}

// legacyPlatform2023Realm turns a legacy token's realm into a 2023 one.
func legacyPlatform2023Realm(_ testing.TB, s *spec) {
	s.realm.set(token.KeyProfile, cTstr(token.ProfileRealm1))
	s.realm.set(token.KeyRealmPubKey, cBstr(coseKey(rakPub(s))))
}

// profilelessRealm turns a REL0 token's realm into a legacy one.
func profilelessRealm(_ testing.TB, s *spec) {
	s.realm.del(token.KeyProfile)
	s.realm.set(token.KeyRealmPubKey, cBstr(rawPoint(rakPub(s))))
}

func ed25519Key(t testing.TB) (crypto.Signer, crypto.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func TestBadTokens(t *testing.T) {
	cases := badCases()
	if n := len(cases); n < 40 {
		t.Fatalf("only %d cases", n)
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			raw, s := tc.build(t)
			opts := legOptions{Nonce: nonce}
			if tc.opts != nil {
				tc.opts(&opts)
			}
			_, err := decodeAndRunLegs(raw, s.cpak, opts)
			t.Log(err)
			checkErr(t, err, tc.want, tc.leg, tc.msg)
		})
	}
}

// build makes the case's evidence.
func (tc badCase) build(t testing.TB) ([]byte, *spec) {
	t.Helper()
	s := newSpec(t, tc.base)
	s.noRebind = tc.noRebind
	if tc.mutate != nil {
		tc.mutate(t, s)
	}
	return s.build(t), s
}

func checkErr(t *testing.T, err, want error, leg leg, msg []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("want success, got %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("want %v, got success", want)
	}
	var classes []error
	for _, c := range errClasses {
		if errors.Is(err, c) {
			classes = append(classes, c)
		}
	}
	if len(classes) != 1 || classes[0] != want {
		t.Errorf("error classes %v, want exactly [%v]; error: %v", classes, want, err)
	}
	if got := failedLeg(err); got != leg {
		t.Errorf("leg %q, want %q; error: %v", got, leg, err)
	}
	for _, m := range msg {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("message %q does not contain %q", err.Error(), m)
		}
	}
}

// TestSpecRebuildsCreate checks the mutation harness itself: taken apart
// and put back together without a mutation, evidence is what Create made
// (up to the signatures, which are randomised), and the hand-written
// wrappers are byte for byte what Collection.Encode writes.
func TestSpecRebuildsCreate(t *testing.T) {
	for _, f := range []Format{FormatREL0, FormatLegacy, FormatCMW} {
		t.Run(f.String(), func(t *testing.T) {
			iak, rak := baseKeys(t)
			raw, err := Create(samplePlatform(), sampleRealm(token.SHA256), iak, rak, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			wrap := map[Format]func(p, r []byte) []byte{FormatREL0: wrap399, FormatLegacy: wrap399, FormatCMW: wrap907}[f]
			if got := wrap(ev.Collection.Platform, ev.Collection.Realm); !bytes.Equal(got, raw) {
				t.Errorf("hand-written wrapper differs from Collection.Encode:\n got % x\nwant % x", got[:16], raw[:16])
			}
			s := specOf(t, raw, iak, rak)
			if got := s.plat.encode(t); !bytes.Equal(got, ev.PlatformSign1.Payload) {
				t.Errorf("platform payload not rebuilt")
			}
			if got := s.realm.encode(t); !bytes.Equal(got, ev.RealmSign1.Payload) {
				t.Errorf("realm payload not rebuilt")
			}
			rebuilt := s.build(t)
			if _, err := decodeAndRunLegs(rebuilt, iak.Public(), legOptions{Nonce: nonce}); err != nil {
				t.Fatalf("rebuilt evidence does not verify: %v", err)
			}
		})
	}
}
