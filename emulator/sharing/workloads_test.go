package sharing

import (
	"testing"

	"github.com/ccakit/cca/emulator"
)

func machine(t *testing.T) *emulator.Machine {
	t.Helper()
	m, err := emulator.New(emulator.Config{Sharing: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func TestClientServer(t *testing.T) {
	if err := ClientServer(machine(t), 40); err != nil {
		t.Fatal(err)
	}
}

func TestProxy(t *testing.T) {
	if err := Proxy(machine(t), 5, 300); err != nil {
		t.Fatal(err)
	}
}

func TestContention(t *testing.T) {
	const realms, ops = 6, 100
	got, err := Contention(machine(t), realms, ops)
	if err != nil {
		t.Fatal(err)
	}
	if got != realms*ops {
		t.Fatalf("counter %d after %d increments: updates lost", got, realms*ops)
	}
	if _, err := Contention(machine(t), 8, 1); err == nil {
		t.Fatal("8 realms plus the reader exceed a region's members")
	}
}
