package service

import (
	"context"
	"testing"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/internal/realmtokens"
	"github.com/ccakit/cca/service/store/sqlstore"
	"github.com/ccakit/cca/verifier"
)

// startEmulatedRealm runs a realm on the emulated machine (test keys) that
// makes a token for each challenge over RSI.
func startEmulatedRealm(t testing.TB) *realmtokens.Realm {
	t.Helper()
	r, err := realmtokens.Start(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("realm: %v", err)
		}
	})
	return r
}

func corimsFor(t testing.TB, r *realmtokens.Realm) realmtokens.CoRIMs {
	t.Helper()
	c, err := r.CoRIMs()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// storeVerifier is the verifier the service runs: it looks trust anchors
// and reference values up in the store through an EndorsementCache; the
// returned Sync goes into Config.Sync.
func storeVerifier(t testing.TB, st *sqlstore.Store) (Appraiser, func(context.Context) error) {
	t.Helper()
	v, c, err := NewStoreVerifier(st)
	if err != nil {
		t.Fatal(err)
	}
	return v, c.Sync
}

// provisionedAppraiser provisions the emulated endorsements straight into
// st and returns the store's verifier.
func provisionedAppraiser(t testing.TB, st *sqlstore.Store, r *realmtokens.Realm) Appraiser {
	t.Helper()
	c := corimsFor(t, r)
	p := &CoRIMProvisioner{Store: st}
	for _, sub := range []struct {
		profile string
		body    []byte
	}{{CCAPlatformProfile, c.Anchors}, {CCAPlatformProfile, c.Platform}, {CCARealmProfile, c.Realm}} {
		if err := p.Provision(context.Background(), `application/rim+cbor; profile="`+sub.profile+`"`, sub.profile, sub.body); err != nil {
			t.Fatal(err)
		}
	}
	v, sync := storeVerifier(t, st)
	return syncedAppraiser{v, sync}
}

// syncedAppraiser syncs the cache itself, for tests that pass only an
// Appraiser.
type syncedAppraiser struct {
	Appraiser
	sync func(context.Context) error
}

func (a syncedAppraiser) Verify(ctx context.Context, ev, nonce []byte) (*verifier.Result, error) {
	if err := a.sync(ctx); err != nil {
		return nil, err
	}
	return a.Appraiser.Verify(ctx, ev, nonce)
}
