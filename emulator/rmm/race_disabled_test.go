//go:build !race

package rmm

const raceEnabled = false
