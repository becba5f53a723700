package verifier

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// HexBytes is a byte string that JSON renders as lowercase hex, the encoding
// of the reference-value and trust-anchor stores: a value in a Result can be
// copied into a store as is.
type HexBytes []byte

// MarshalJSON writes the bytes as a hex string.
func (b HexBytes) MarshalJSON() ([]byte, error) {
	return json.Marshal(hex.EncodeToString(b))
}

// UnmarshalJSON reads a hex string (either case).
func (b *HexBytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("expected a hex string: %w", err)
	}
	v, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("not hex: %w", err)
	}
	*b = v
	return nil
}

func (b HexBytes) String() string { return hex.EncodeToString(b) }

// short abbreviates long byte strings in details and reasons.
func short(b []byte) string {
	if len(b) <= 12 {
		return hex.EncodeToString(b)
	}
	return hex.EncodeToString(b[:6]) + "…" + hex.EncodeToString(b[len(b)-4:])
}

func cloneBytes(b []byte) HexBytes {
	if b == nil {
		return nil
	}
	return append(HexBytes{}, b...)
}
