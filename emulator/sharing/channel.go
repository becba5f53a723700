package sharing

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
)

// The baseline of the paper (§4): two realms that cannot share memory talk
// through NS memory, so they encrypt. The key is agreed at setup with ECDH
// P-256 between the two realms, each publishing its public key in NS memory
// (in a deployment each realm binds its key to its attestation token by
// using SHA-512(public key) as the token's challenge, so that the peer can
// tell the host did not substitute it; the benchmark leaves that step out),
// and expanded with HKDF-SHA-256 into an AES-128-GCM key: the cheapest
// standard AEAD, so that the baseline is as fast as it honestly can be.

// ChannelKeySize is the AES key size: AES-128.
const ChannelKeySize = 16

// ChannelOverhead is what sealing adds to a message: the GCM tag. The nonce
// is the message's sequence number, not sent.
const ChannelOverhead = 16

// channelInfo is the HKDF info string, which binds the key to its use.
const channelInfo = "ccakit sharing baseline channel v1"

// ErrChannel: a message did not authenticate (tampered, replayed, or out of
// order).
var ErrChannel = errors.New("sharing: channel message does not authenticate")

// NewChannelKey generates an ECDH P-256 key pair for a channel.
func NewChannelKey() (*ecdh.PrivateKey, error) { return ecdh.P256().GenerateKey(rand.Reader) }

// Channel is one realm's end of an encrypted channel: messages it sends
// carry its direction in the nonce, messages it receives the other.
type Channel struct {
	aead             cipher.AEAD
	send, recv       byte
	sendSeq, recvSeq uint64
}

// NewChannel derives the channel key from priv and the peer's public key
// (uncompressed P-256 point). The initiator and the responder get opposite
// directions.
func NewChannel(priv *ecdh.PrivateKey, peer []byte, initiator bool) (*Channel, error) {
	pub, err := ecdh.P256().NewPublicKey(peer)
	if err != nil {
		return nil, err
	}
	secret, err := priv.ECDH(pub)
	if err != nil {
		return nil, err
	}
	key, err := hkdf.Key(sha256.New, secret, nil, channelInfo, ChannelKeySize)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	c := &Channel{aead: aead, send: 1, recv: 2}
	if !initiator {
		c.send, c.recv = 2, 1
	}
	return c, nil
}

func nonce(dir byte, seq uint64) []byte {
	n := make([]byte, 12)
	n[0] = dir
	binary.BigEndian.PutUint64(n[4:], seq)
	return n
}

// Seal appends the next message, encrypted and authenticated, to dst.
func (c *Channel) Seal(dst, plaintext []byte) []byte {
	out := c.aead.Seal(dst, nonce(c.send, c.sendSeq), plaintext, nil)
	c.sendSeq++
	return out
}

// Open authenticates and decrypts the next message, appending it to dst.
func (c *Channel) Open(dst, ciphertext []byte) ([]byte, error) {
	out, err := c.aead.Open(dst, nonce(c.recv, c.recvSeq), ciphertext, nil)
	if err != nil {
		return nil, ErrChannel
	}
	c.recvSeq++
	return out, nil
}
