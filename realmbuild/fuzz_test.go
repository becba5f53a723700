package realmbuild

import (
	"errors"
	"testing"
)

// FuzzParseDescription: any input gives a description or an error wrapping
// ErrDescription, never a panic; a description that parses also plans
// (without image files) or fails with ErrDescription.
func FuzzParseDescription(f *testing.F) {
	f.Add([]byte(validJSON))
	f.Add([]byte(`{"realm": {"s2sz": 48, "hash_algo": "sha-512", "num_bps": 1, "num_wps": 1, "rtt_level_start": 0},
	  "ram": [{"base": "0x0", "size": "0x400000000000"}],
	  "images": [{"name": "k", "ipa": "0xfff", "fill": "00", "size": "0xffffffffff"}],
	  "recs": [{"pc": "0x0"}]}`))
	f.Add([]byte(`{"realm": {}, "ram": [], "images": [], "recs": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDescription(data)
		if err != nil {
			if !errors.Is(err, ErrDescription) {
				t.Fatalf("error %v does not wrap ErrDescription", err)
			}
			return
		}
		var size uint64
		for _, im := range d.Images {
			size += max(im.Size, uint64(len(im.Data)))
		}
		if size > 16<<20 { // valid, but slow to hash for every input
			return
		}
		if _, err := d.Plan(nil); err != nil && !errors.Is(err, ErrDescription) {
			t.Fatalf("Plan: %v does not wrap ErrDescription", err)
		}
	})
}
