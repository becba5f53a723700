package endorsement

import (
	"bytes"
	"fmt"
	"testing"
)

// platform10 is a platform CoRIM of today's form with 10 software
// components and a configuration, as the encoder writes it.
func platform10(b *testing.B) []byte {
	ref := PlatformReference{ImplementationID: fxImpl, Config: fxConfig, ConfigMask: fxMask}
	for i := range 10 {
		ref.SwComponents = append(ref.SwComponents, SwComponent{Type: fmt.Sprintf("comp%d", i), Version: "1.0.0",
			Alg: "sha-256", Value: bytes.Repeat([]byte{byte(i)}, 32), SignerID: fxSigner})
	}
	data, err := EncodePlatform("bench", ref)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkDecodePlatform10 is the budget: under 1 ms and 2,000
// allocations per decode.
func BenchmarkDecodePlatform10(b *testing.B) {
	data := platform10(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data, DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTrustAnchor(b *testing.B) {
	data := fixtureTA()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data, DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
