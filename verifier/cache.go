package verifier

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"sync"
)

// DefaultPlatformCacheSize is the number of platform results a Verifier
// keeps unless WithPlatformCacheSize says otherwise. A platform token is the
// same for every realm on a machine between two boots, so this is roughly the
// number of machines whose realms are verified repeatedly.
const DefaultPlatformCacheSize = 256

// platformCache is a bounded LRU of platform results, keyed by exactly the
// platform token bytes and the key that verified them. An entry is only
// stored after the signature verified, so filling the cache takes genuine
// platform tokens; a hit needs the same SHA-256 of the token, the same
// SHA-256 of the key's SubjectPublicKeyInfo, and then byte-for-byte the same
// token (the bytes are kept and compared, not trusted to the hash alone).
//
// The cached value is the platform's whole appraisal, which also depends on
// the reference values and the policy: a cache belongs to one Verifier, whose
// configuration never changes.
type platformCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // front = most recently used; values are *cacheEntry
	items map[cacheKey]*list.Element

	hits, misses uint64
}

type cacheKey struct {
	token [32]byte // SHA-256 of the platform token bytes
	key   [32]byte // SHA-256 of the CPAK's SubjectPublicKeyInfo
}

type cacheEntry struct {
	k      cacheKey
	token  []byte
	result PlatformResult
}

func newPlatformCache(size int) *platformCache {
	if size <= 0 {
		return nil
	}
	return &platformCache{max: size, ll: list.New(), items: make(map[cacheKey]*list.Element, size)}
}

func makeCacheKey(platformToken []byte, keyDigest [32]byte) cacheKey {
	return cacheKey{token: sha256.Sum256(platformToken), key: keyDigest}
}

// get returns a copy of the cached result for exactly these bytes under this
// key.
func (c *platformCache) get(k cacheKey, platformToken []byte) (PlatformResult, bool) {
	if c == nil {
		return PlatformResult{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok || !bytes.Equal(el.Value.(*cacheEntry).token, platformToken) {
		c.misses++
		return PlatformResult{}, false
	}
	c.hits++
	c.ll.MoveToFront(el)
	return el.Value.(*cacheEntry).result.clone(), true
}

// put stores a copy of r, evicting the least recently used entry when full.
func (c *platformCache) put(k cacheKey, platformToken []byte, r *PlatformResult) {
	if c == nil {
		return
	}
	e := &cacheEntry{k: k, token: bytes.Clone(platformToken), result: r.clone()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		el.Value = e
		c.ll.MoveToFront(el)
		return
	}
	c.items[k] = c.ll.PushFront(e)
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).k)
	}
}

func (c *platformCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
