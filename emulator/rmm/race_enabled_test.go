//go:build race

package rmm

// raceEnabled: the race detector slows the sequential property test down
// tenfold without adding anything to it; race builds run it shorter.
const raceEnabled = true
