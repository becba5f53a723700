package main

import "testing"

// TestBenchSizesErrors: a size refused is quoted as given ("2M", not the
// "2" left once its suffix is taken off).
func TestBenchSizesErrors(t *testing.T) {
	for _, tc := range []struct{ sizes, cause string }{
		{"2M", `"2M" is not a size`},
		{"64, 2048K", `"2048K" is not a size`},
		{"0", `"0" is not a size`},
		{"4X", `"4X" is not a size`},
	} {
		t.Run(tc.sizes, func(t *testing.T) {
			ccatoken(t, nil, "bench", "sharing", "--sizes", tc.sizes).check(t, exitUsage, "--sizes: "+tc.cause)
		})
	}
	if got, err := parseSizes("64,4K,1M"); err != nil || len(got) != 3 || got[0] != 64 || got[1] != 4096 || got[2] != 1<<20 {
		t.Errorf("parseSizes(64,4K,1M) = %v, %v", got, err)
	}
}
