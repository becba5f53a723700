package evidence

import (
	"crypto"
	"crypto/elliptic"
	"slices"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/ccakit/cca/token"
)

// claim is one claim with its value encoded.
type claim struct {
	key int64
	val []byte
}

// claims is a claims set in encoding order; duplicates are allowed on
// purpose.
type claims []claim

func (cs claims) get(k int64) []byte {
	for _, c := range cs {
		if c.key == k {
			return c.val
		}
	}
	return nil
}

// set replaces claim k in place, or appends it.
func (cs *claims) set(k int64, v []byte) {
	for i := range *cs {
		if (*cs)[i].key == k {
			(*cs)[i].val = v
			return
		}
	}
	*cs = append(*cs, claim{k, v})
}

func (cs *claims) del(k int64) {
	*cs = slices.DeleteFunc(*cs, func(c claim) bool { return c.key == k })
}

func (cs claims) encode(t testing.TB) []byte {
	t.Helper()
	pairs := make([]token.ClaimPair, len(cs))
	for i, c := range cs {
		pairs[i] = token.ClaimPair{Key: c.key, Value: cbor.RawMessage(c.val)}
	}
	b, err := token.EncodeClaims(pairs)
	if err != nil {
		t.Fatalf("encoding claims: %v", err)
	}
	return b
}

// spec is a piece of evidence taken apart: both claims sets, the keys, and
// hooks for mutations below the claims level. build puts it back together,
// re-binding, re-signing and re-wrapping as it goes, so that each mutation
// breaks exactly what it names.
type spec struct {
	wrapper     token.Wrapper
	plat, realm claims
	iak, rak    crypto.Signer
	cpak        crypto.PublicKey // the key Verify is given; iak's by default
	noRebind    bool             // keep the platform challenge as it is

	platPayload, realmPayload func([]byte) []byte         // after encoding the claims
	signPlat, signRealm       func(payload []byte) []byte // instead of token.SignPayload
	platTok, realmTok         func([]byte) []byte         // after signing
	wrap                      func(p, r []byte) []byte    // instead of Collection.Encode
	out                       func([]byte) []byte         // on the final bytes
}

// Claim orders of the encoders (platform: TF-A's sample token; realm:
// TF-RMM), so that an unmutated spec rebuilds the payloads byte for byte.
var (
	platOrder  = []int64{265, 10, 2396, 256, 2401, 2395, 2402, 2400, 2399}
	realmOrder = []int64{10, 44235, 44237, 44236, 44240, 265, 44238, 44239}
)

// Keys of the base specs: fixed, so that failures reproduce.
func baseKeys(t testing.TB) (iak, rak crypto.Signer) {
	return fixedKey(t, elliptic.P384(), 0x11), fixedKey(t, elliptic.P384(), 0x22)
}

// newSpec creates valid evidence of format f and takes it apart into
// claims maps.
func newSpec(t testing.TB, f Format) *spec {
	t.Helper()
	iak, rak := baseKeys(t)
	raw, err := Create(samplePlatform(), sampleRealm(token.SHA256), iak, rak, f, nil)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return specOf(t, raw, iak, rak)
}

func specOf(t testing.TB, raw []byte, iak, rak crypto.Signer) *spec {
	t.Helper()
	ev, err := Decode(raw)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	s := &spec{wrapper: ev.Collection.Wrapper, iak: iak, rak: rak, cpak: iak.Public()}
	s.plat = claimsOf(t, ev.PlatformSign1.Payload, token.SetPlatform, platOrder)
	s.realm = claimsOf(t, ev.RealmSign1.Payload, token.SetRealm, realmOrder)
	return s
}

func claimsOf(t testing.TB, payload []byte, set token.ClaimSet, order []int64) claims {
	t.Helper()
	m, err := token.DecodeClaimsMap(payload, set)
	if err != nil {
		t.Fatal(err)
	}
	var cs claims
	for _, k := range order {
		if v, ok := m.Claims[k]; ok {
			cs = append(cs, claim{k, v})
			delete(m.Claims, k)
		}
	}
	for _, k := range token.SortedKeys(m.Claims) {
		cs = append(cs, claim{k, m.Claims[k]})
	}
	return cs
}

// rebind sets the platform challenge to the hash, by the realm's claim
// 44240, of the realm's claim 44237 as carried (TF-RMM attest_setup_platform_token),
// computed here with the standard library.
func (s *spec) rebind() {
	rak, ok := bstrContent(s.realm.get(token.KeyRealmPubKey))
	if !ok {
		return
	}
	alg, ok := tstrContent(s.realm.get(token.KeyRealmPubKeyHashAlgID))
	h := map[string]crypto.Hash{"sha-256": crypto.SHA256, "sha-384": crypto.SHA384, "sha-512": crypto.SHA512}[alg]
	if !ok || h == 0 {
		return
	}
	d := h.New()
	d.Write(rak)
	s.plat.set(token.KeyChallenge, cBstr(d.Sum(nil)))
}

func (s *spec) build(t testing.TB) []byte {
	t.Helper()
	if !s.noRebind {
		s.rebind()
	}
	pp, rp := s.plat.encode(t), s.realm.encode(t)
	if s.platPayload != nil {
		pp = s.platPayload(pp)
	}
	if s.realmPayload != nil {
		rp = s.realmPayload(rp)
	}
	sign := func(custom func([]byte) []byte, payload []byte, key crypto.Signer) []byte {
		if custom != nil {
			return custom(payload)
		}
		b, err := token.SignPayload(payload, key, nil)
		if err != nil {
			t.Fatalf("signing: %v", err)
		}
		return b
	}
	pt, rt := sign(s.signPlat, pp, s.iak), sign(s.signRealm, rp, s.rak)
	if s.platTok != nil {
		pt = s.platTok(pt)
	}
	if s.realmTok != nil {
		rt = s.realmTok(rt)
	}
	var out []byte
	if s.wrap != nil {
		out = s.wrap(pt, rt)
	} else {
		var err error
		if out, err = (&token.Collection{Wrapper: s.wrapper, Platform: pt, Realm: rt}).Encode(); err != nil {
			t.Fatal(err)
		}
	}
	if s.out != nil {
		out = s.out(out)
	}
	return out
}

// Raw collections, written by hand.
func wrap399(p, r []byte) []byte {
	return cTag(399, cMap(cInt(44234), cBstr(p), cInt(44241), cBstr(r)))
}

func wrap907(p, r []byte) []byte {
	return cTag(907, cMap(cInt(44234), cArr(cInt(263), cBstr(p)), cInt(44241), cArr(cInt(263), cBstr(r))))
}
