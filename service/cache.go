package service

import (
	"context"
	"sync"

	"github.com/ccakit/cca/service/store"
	"github.com/ccakit/cca/verifier"
)

// EndorsementCache answers the verifier's trust-anchor and reference-value
// lookups from memory, and asks the store only whether its endorsements
// changed: Sync, which the service calls before each appraisal, reads the
// store's generation (one small query, where the lookups are three queries
// with a key to parse and JSON to decode), and forgets everything when it
// moved. An appraisal therefore sees every endorsement committed before it
// began, whichever replica took it.
type EndorsementCache struct {
	src store.Generational
	// maxEntries bounds each memo: lookups of unknown platforms and RIMs
	// are remembered too, and the evidence chooses them.
	maxEntries int

	mu      sync.RWMutex
	gen     store.Generation
	synced  bool
	anchors map[string][]verifier.TrustAnchor
	plats   map[string][]verifier.PlatformReference
	realms  map[string][]verifier.RealmReference
}

// NewEndorsementCache caches src's lookups.
func NewEndorsementCache(src store.Generational) *EndorsementCache {
	c := &EndorsementCache{src: src, maxEntries: 4096}
	c.reset()
	return c
}

var (
	_ verifier.TrustAnchorStore    = (*EndorsementCache)(nil)
	_ verifier.ReferenceValueStore = (*EndorsementCache)(nil)
)

func (c *EndorsementCache) reset() {
	c.anchors = map[string][]verifier.TrustAnchor{}
	c.plats = map[string][]verifier.PlatformReference{}
	c.realms = map[string][]verifier.RealmReference{}
}

// Sync forgets the cached lookups if the store's endorsements changed.
func (c *EndorsementCache) Sync(ctx context.Context) error {
	g, err := c.src.Generation(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if !c.synced || g != c.gen {
		c.gen, c.synced = g, true
		c.reset()
	}
	c.mu.Unlock()
	return nil
}

// memo answers key from m, or asks get and remembers the answer while the
// generation is the one it was asked under.
func memo[T any](ctx context.Context, c *EndorsementCache, m func() map[string][]T, key []byte, get func() ([]T, error)) ([]T, error) {
	c.mu.RLock()
	v, ok := m()[string(key)]
	gen := c.gen
	c.mu.RUnlock()
	if ok {
		return v, nil
	}
	v, err := get()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		mm := m()
		if len(mm) >= c.maxEntries {
			clear(mm)
		}
		mm[string(key)] = v
	}
	c.mu.Unlock()
	return v, nil
}

// TrustAnchors implements verifier.TrustAnchorStore.
func (c *EndorsementCache) TrustAnchors(ctx context.Context, instanceID, implementationID []byte) ([]verifier.TrustAnchor, error) {
	// The store selects by instance id only; the verifier checks the
	// implementation id of what it gets.
	return memo(ctx, c, func() map[string][]verifier.TrustAnchor { return c.anchors }, instanceID,
		func() ([]verifier.TrustAnchor, error) { return c.src.TrustAnchors(ctx, instanceID, implementationID) })
}

// PlatformReferences implements verifier.ReferenceValueStore.
func (c *EndorsementCache) PlatformReferences(ctx context.Context, implementationID []byte) ([]verifier.PlatformReference, error) {
	return memo(ctx, c, func() map[string][]verifier.PlatformReference { return c.plats }, implementationID,
		func() ([]verifier.PlatformReference, error) { return c.src.PlatformReferences(ctx, implementationID) })
}

// RealmReferences implements verifier.ReferenceValueStore.
func (c *EndorsementCache) RealmReferences(ctx context.Context, rim []byte) ([]verifier.RealmReference, error) {
	return memo(ctx, c, func() map[string][]verifier.RealmReference { return c.realms }, rim,
		func() ([]verifier.RealmReference, error) { return c.src.RealmReferences(ctx, rim) })
}

// NewStoreVerifier returns the verifier the service runs over st's
// endorsements, looked up through an EndorsementCache, and that cache,
// whose Sync goes into Config.Sync.
func NewStoreVerifier(st store.Generational, opts ...verifier.Option) (*verifier.Verifier, *EndorsementCache, error) {
	c := NewEndorsementCache(st)
	v, err := verifier.New(c, append([]verifier.Option{verifier.WithReferenceValues(c)}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	return v, c, nil
}
