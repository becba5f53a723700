package verifier

import (
	"bytes"
	"container/list"
	"crypto"
	"crypto/sha256"
	"encoding/json"
	"sync"

	"github.com/ccakit/cca/platform"
)

// DefaultPlatformCacheSize is the number of platform signatures a Verifier
// remembers unless WithPlatformCacheSize says otherwise. A platform token is
// the same for every realm on a machine between two boots, so this is
// roughly the number of machines whose realms are verified repeatedly.
const DefaultPlatformCacheSize = 256

// platformCache is a bounded LRU of platform tokens whose signature
// verified, and the key that verified each. An entry is only stored after the
// signature verified, so filling the cache takes genuine platform tokens; a
// hit needs the same SHA-256 of the token, then byte-for-byte the same token
// (the bytes are kept and compared, not trusted to the hash alone), and a
// key the trust-anchor store returns for this token now that is Equal to
// the one that verified it.
//
// Only the signature is cached: claims validation and the appraisal run on
// every Verify, so reference values or anchors added to or removed from a
// store (a database) take effect at once.
type platformCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // front = most recently used; values are *cacheEntry
	items map[[32]byte]*list.Element

	hits, misses uint64
}

type cacheEntry struct {
	digest [32]byte // SHA-256 of the platform token bytes
	token  []byte
	key    crypto.PublicKey
	claims claimsMemo
}

// claimsMemo is a platform token's claims in their JSON form
// (PlatformResult.ClaimsJSON), rendered once for every Result of the token:
// they are the same for every realm of its machine, and an EAR carries them
// (annotated evidence) for each.
type claimsMemo struct {
	once sync.Once
	json json.RawMessage
	err  error
}

// render returns a copy: what a caller does to a result does not reach the
// cache.
func (m *claimsMemo) render(c *platform.Claims) (json.RawMessage, error) {
	m.once.Do(func() { m.json, m.err = json.Marshal(c) })
	return bytes.Clone(m.json), m.err
}

// equaler is what every public key type of the standard library
// implements.
type equaler interface {
	Equal(crypto.PublicKey) bool
}

func newPlatformCache(size int) *platformCache {
	if size <= 0 {
		return nil
	}
	return &platformCache{max: size, ll: list.New(), items: make(map[[32]byte]*list.Element, size)}
}

// verifiedBy returns the index of the key among keys that verified exactly
// these bytes before, or -1.
func (c *platformCache) verifiedBy(digest [32]byte, platformToken []byte, keys []crypto.PublicKey) int {
	if c == nil {
		return -1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[digest]
	if ok {
		e := el.Value.(*cacheEntry)
		if bytes.Equal(e.token, platformToken) {
			for i, k := range keys {
				if eq, ok := k.(equaler); ok && eq.Equal(e.key) {
					c.hits++
					c.ll.MoveToFront(el)
					return i
				}
			}
		}
	}
	c.misses++
	return -1
}

// put remembers that key verified the token, evicting the least recently
// used entry when full.
func (c *platformCache) put(digest [32]byte, platformToken []byte, key crypto.PublicKey) {
	if c == nil {
		return
	}
	if _, ok := key.(equaler); !ok {
		return // cannot be compared on the next lookup
	}
	e := &cacheEntry{digest: digest, token: bytes.Clone(platformToken), key: key}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[digest]; ok {
		el.Value = e
		c.ll.MoveToFront(el)
		return
	}
	c.items[digest] = c.ll.PushFront(e)
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).digest)
	}
}

// memo is the claims memo of the entry for exactly these bytes, or nil.
func (c *platformCache) memo(digest [32]byte, platformToken []byte) *claimsMemo {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[digest]; ok {
		if e := el.Value.(*cacheEntry); bytes.Equal(e.token, platformToken) {
			return &e.claims
		}
	}
	return nil
}

func (c *platformCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

func tokenDigest(b []byte) [32]byte { return sha256.Sum256(b) }
