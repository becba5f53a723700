//go:build race

package sharing

// raceEnabled: the race detector slows the spinning lease test tenfold.
const raceEnabled = true
