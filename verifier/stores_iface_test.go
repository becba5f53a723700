package verifier

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/veraison/ear"

	"github.com/ccakit/cca/endorsement"
)

// failingStore answers every lookup with err, as a database that is down.
type failingStore struct{ err error }

func (f failingStore) TrustAnchors(context.Context, []byte, []byte) ([]TrustAnchor, error) {
	return nil, f.err
}
func (f failingStore) PlatformReferences(context.Context, []byte) ([]PlatformReference, error) {
	return nil, f.err
}
func (f failingStore) RealmReferences(context.Context, []byte) ([]RealmReference, error) {
	return nil, f.err
}

// realmOnlyFailing fails the realm lookup only.
type realmOnlyFailing struct {
	ReferenceValueStore
	err error
}

func (r realmOnlyFailing) RealmReferences(context.Context, []byte) ([]RealmReference, error) {
	return nil, r.err
}

// TestStoreLookupFailure: a store that fails to answer makes Verify return
// ErrLookup (wrapping the store's error) with a Result that says which
// lookup failed, whose EAR is Veraison's internal-error shape.
func TestStoreLookupFailure(t *testing.T) {
	down := errors.New("connection refused")
	for _, tc := range []struct {
		name    string
		anchors TrustAnchorStore
		refs    ReferenceValueStore
		realm   bool // the failing lookup is the realm's
		what    string
	}{
		{name: "trust anchors", anchors: failingStore{down}, refs: sampleRefs(t), what: "trust anchors"},
		{name: "one of combined trust anchors", anchors: CombineTrustAnchors(sampleAnchors(t), failingStore{down}), refs: sampleRefs(t), what: "trust anchors"},
		{name: "platform reference values", anchors: sampleAnchors(t), refs: failingStore{down}, what: "platform reference values"},
		{name: "realm reference values", anchors: sampleAnchors(t), refs: realmOnlyFailing{sampleRefs(t), down}, realm: true, what: "realm reference values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, tc.anchors, WithReferenceValues(tc.refs))
			res, err := v.Verify(context.Background(), goodToken(t), testNonce)
			if !errors.Is(err, ErrLookup) || !errors.Is(err, down) {
				t.Fatalf("err %v, want ErrLookup wrapping the store's error", err)
			}
			if res == nil || res.Trustworthy {
				t.Fatalf("result %+v", res)
			}
			checks := res.Platform.Checks
			if tc.realm {
				checks = res.Realm.Checks
			}
			c, ok := checkNamed(checks, CheckStoreLookup.String())
			if !ok || c.Outcome != Mismatched || !strings.HasPrefix(c.Detail, tc.what+": ") || !errors.Is(c.Err(), down) {
				t.Fatalf("store lookup check %+v", c)
			}
			ar, err := res.EAR()
			if err != nil {
				t.Fatal(err)
			}
			a := ar.Submods[SubmodFailure]
			if len(ar.Submods) != 1 || a == nil || *a.Status != ear.TrustTierNone || a.TrustVector.InstanceIdentity != ear.VerifierMalfunctionClaim ||
				!strings.HasPrefix((*a.VeraisonPolicyClaims)[PolicyClaimProblem].(string), "internal error: ") {
				t.Fatalf("EAR %+v", ar.Submods)
			}
		})
	}
}

// TestCombineTrustAnchors: a platform known to two stores with two keys
// verifies with either; the store that does not know it is not an error.
func TestCombineTrustAnchors(t *testing.T) {
	cpak, _, other, _ := keys()
	a := mustAnchors(t, TrustAnchor{InstanceID: testInstanceID, Key: other.Public(), Where: "old key"})
	b := mustAnchors(t, TrustAnchor{InstanceID: testInstanceID, Key: cpak.Public(), Where: "new key"})
	unrelated := mustAnchors(t, TrustAnchor{InstanceID: append([]byte{1}, rep(0xCC, 32)...), Key: other.Public()})
	v := newVerifier(t, CombineTrustAnchors(unrelated, a, nil, b), WithReferenceValues(sampleRefs(t)))
	res := verify(t, v, goodToken(t), testNonce)
	if !res.Trustworthy {
		t.Fatalf("not trustworthy: %q", res.Reasons)
	}
	ta, _ := res.Platform.Check(CheckTrustAnchor, 0)
	sig, _ := res.Platform.Check(CheckSignature, 0)
	if !strings.Contains(ta.Detail, "and 1 more") || !strings.Contains(sig.Detail, "new key") {
		t.Errorf("trust anchor %q, signature %q", ta.Detail, sig.Detail)
	}
	// Neither key: both failures are reported.
	v = newVerifier(t, CombineTrustAnchors(a, mustAnchors(t, TrustAnchor{InstanceID: testInstanceID, Key: testOther.Public(), Where: "again old"})))
	res = verify(t, v, goodToken(t), testNonce)
	sig, _ = res.Platform.Check(CheckSignature, 0)
	if sig.Outcome != Mismatched || !strings.Contains(sig.Detail, "old key: ") || !strings.Contains(sig.Detail, "again old: ") {
		t.Errorf("signature %+v", sig)
	}
}

// TestCombineTypedNilStores: FromEndorsements gives a nil *TrustAnchors or
// *ReferenceValues for a CoRIM without attest-key or reference triples;
// combined with other stores (an interface holding a nil pointer, which the
// nil check of gather does not catch) it is a store that knows nothing,
// not a panic in Verify.
func TestCombineTypedNilStores(t *testing.T) {
	cpak, _, _, _ := keys()
	_, rv, err := FromEndorsements(&endorsement.Endorsements{TrustAnchors: []endorsement.TrustAnchor{{
		ImplementationID: testImplID, InstanceID: testInstanceID, Key: cpak.Public(), Where: "CoRIM TA"}}})
	if err != nil || rv != nil {
		t.Fatalf("FromEndorsements of trust anchors only: %v, %v", rv, err)
	}
	var noAnchors *TrustAnchors
	// Named too, as a caller names each file's stores.
	if noAnchors.Named("a.corim") != nil || rv.Named("a.corim") != nil {
		t.Fatal("a nil store named is not nil")
	}
	v := newVerifier(t, CombineTrustAnchors(noAnchors.Named("a.corim"), sampleAnchors(t)),
		WithReferenceValues(CombineReferenceValues(rv.Named("a.corim"), sampleRefs(t))))
	res := verify(t, v, goodToken(t), testNonce)
	if !res.Trustworthy {
		t.Fatalf("not trustworthy: %q", res.Reasons)
	}
	if n := noAnchors.Len(); n != 0 {
		t.Errorf("nil store Len %d", n)
	}
	if got, err := noAnchors.TrustAnchors(context.Background(), testInstanceID, testImplID); got != nil || err != nil {
		t.Errorf("nil store gave %v, %v", got, err)
	}
	if got, err := rv.RealmReferences(context.Background(), nil); got != nil || err != nil {
		t.Errorf("nil store gave %v, %v", got, err)
	}
}
