package sharing

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/rmm"
)

// Workloads (the standard list of Elasticlave's evaluation, Yu et al.,
// USENIX Security 2022):
// producer–consumer is the benchmark (bench.go); the others are here, each
// a self-checking scenario on a machine: client–server on a shared
// key–value table (the paper's database X shared by applications A and B),
// lock-style contention on a shared counter, and a three-party proxy.

// scenario runs realm programs on a machine: each program gets its own
// realm (one REC) and, in Go, the region ids once the host created them.
type scenario struct {
	h     *Host
	next  uint64
	errMu sync.Mutex
	err   error
}

func newScenario(m *emulator.Machine) (*scenario, error) {
	h, err := NewHost(m)
	if err != nil {
		return nil, err
	}
	return &scenario{h: h, next: RAMBase + 0x10_0000}, nil
}

func (s *scenario) fail(err error) {
	if err == nil {
		return
	}
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
}

// realm builds a realm running prog; rpv tells realms apart.
func (s *scenario) realm(rpv byte, prog func(cpu emulator.RealmCPU) error) (*Realm, error) {
	entry := s.next
	s.next += 0x1000
	s.h.M.SetRealmProgram(entry, func(cpu emulator.RealmCPU) { s.fail(prog(cpu)) })
	return s.h.NewRealm(RealmSpec{Entry: entry, RPV: [64]byte{rpv}})
}

// run runs the realms' RECs in parallel, one host thread each.
func (s *scenario) run(rs ...*Realm) error {
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.Run(0, hostHandlers(func(_ uint16, g [31]uint64) [31]uint64 { return g }))
			s.fail(err)
		}()
	}
	wg.Wait()
	return s.err
}

// Guest addresses the workloads use.
const (
	wlCode = RAMBase + 0x200_0000 // access code images, 4 KiB apart
	wlArg  = RAMBase + 0x300_0000 // argument buffers
)

func loadAll(cpu emulator.RealmCPU, region uint64, gens ...func() ([]byte, error)) ([]Code, error) {
	var codes []Code
	for i, gen := range gens {
		img, err := gen()
		if err != nil {
			return nil, err
		}
		c, err := LoadCode(cpu, region, wlCode+uint64(i)*0x1000, img)
		if err != nil {
			return nil, err
		}
		codes = append(codes, c)
	}
	return codes, nil
}

// ClientServer is the paper's example: a database realm X shares a
// key–value table with applications A and B, which do not trust each
// other. X loads the table; A and B look keys up and insert their own,
// all through the coordinator. It returns nil when every lookup saw the
// right value.
func ClientServer(m *emulator.Machine, keys int) error {
	s, err := newScenario(m)
	if err != nil {
		return err
	}
	t := Table{Buckets: 4 * keys, ValSize: 32, Probe: 16}
	value := func(k uint64, who byte) []byte {
		v := make([]byte, t.ValSize)
		binary.LittleEndian.PutUint64(v, k*k+7)
		v[8] = who
		return v
	}
	var region uint64
	putAll := func(cpu emulator.RealmCPU, who byte, from, to uint64) error {
		codes, err := loadAll(cpu, region, t.Put)
		if err != nil {
			return err
		}
		for k := from; k < to; k++ {
			if err := cpu.Write(wlArg, value(k, who)); err != nil {
				return err
			}
			res, err := Invoke(cpu, codes[0], wlArg, uint64(t.ValSize), k)
			if err != nil {
				return err
			}
			if res.Regs[0] != 0 {
				return fmt.Errorf("sharing: client–server: %c could not insert key %d", who, k)
			}
		}
		return nil
	}
	lookAll := func(cpu emulator.RealmCPU, keysOf map[uint64]byte) error {
		codes, err := loadAll(cpu, region, t.Get)
		if err != nil {
			return err
		}
		got := make([]byte, t.ValSize)
		for k, who := range keysOf {
			res, err := Invoke(cpu, codes[0], wlArg, uint64(t.ValSize), k)
			if err == nil {
				err = cpu.Read(wlArg, got)
			}
			if err != nil {
				return err
			}
			if res.Regs[0] != 0 || !bytes.Equal(got, value(k, who)) {
				return fmt.Errorf("sharing: client–server: key %d: status %d, value %x", k, res.Regs[0], got)
			}
		}
		if res, err := Invoke(cpu, codes[0], wlArg, uint64(t.ValSize), uint64(10*keys+1)); err != nil || res.Regs[0] != 1 {
			return fmt.Errorf("sharing: client–server: a missing key was found (%v)", err)
		}
		return nil
	}
	attach := func(cpu emulator.RealmCPU) error {
		_, err := Attach(cpu, region, 0)
		return err
	}
	x, err := s.realm('X', func(cpu emulator.RealmCPU) error {
		if err := attach(cpu); err != nil {
			return err
		}
		return putAll(cpu, 'X', 1, uint64(keys)+1)
	})
	if err != nil {
		return err
	}
	client := func(who byte, own uint64) func(cpu emulator.RealmCPU) error {
		return func(cpu emulator.RealmCPU) error {
			if err := attach(cpu); err != nil {
				return err
			}
			if err := putAll(cpu, who, own, own+4); err != nil {
				return err
			}
			want := map[uint64]byte{}
			for k := uint64(1); k <= uint64(keys); k++ {
				want[k] = 'X'
			}
			for k := own; k < own+4; k++ {
				want[k] = who
			}
			return lookAll(cpu, want)
		}
	}
	a, err := s.realm('A', client('A', uint64(keys)+100))
	if err != nil {
		return err
	}
	b, err := s.realm('B', client('B', uint64(keys)+200))
	if err != nil {
		return err
	}
	hr, err := s.h.CreateRegion(RegionSpec{Granules: (t.Bytes() + 4095) / 4096, Flags: rmm.ShareFlagMediated},
		Member{RD: x.RD, IPA: WindowIPA}, Member{RD: a.RD, IPA: WindowIPA}, Member{RD: b.RD, IPA: WindowIPA})
	if err != nil {
		return err
	}
	region = hr.SR
	if err := s.run(x); err != nil {
		return err
	}
	return s.run(a, b)
}

// Proxy is the three-party proxy: A sends messages to B through P, over
// two regions, R1 = {A, P} and R2 = {P, B}. P forwards; A cannot reach R2
// nor B R1. It returns nil when B received exactly A's messages.
func Proxy(m *emulator.Machine, messages, size int) error {
	s, err := newScenario(m)
	if err != nil {
		return err
	}
	ring := Ring{Slots: messages, SlotSize: size}
	var r1, r2 uint64
	msg := func(i int) []byte { return bytes.Repeat([]byte{byte(i + 1)}, size) }
	a, err := s.realm('A', func(cpu emulator.RealmCPU) error {
		if _, err := Attach(cpu, r1, 0); err != nil {
			return err
		}
		if _, err := Attach(cpu, r2, 0); Status(err) != rmm.RSIErrorState {
			return fmt.Errorf("sharing: proxy: A attached to P–B's region (%v)", err)
		}
		codes, err := loadAll(cpu, r1, ring.Put)
		if err != nil {
			return err
		}
		for i := range messages {
			if err := cpu.Write(wlArg, msg(i)); err != nil {
				return err
			}
			if res, err := Invoke(cpu, codes[0], wlArg, uint64(size)); err != nil || res.Regs[0] != 0 {
				return fmt.Errorf("sharing: proxy: A's put %d: %v %v", i, err, res.Regs)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	p, err := s.realm('P', func(cpu emulator.RealmCPU) error {
		if _, err := Attach(cpu, r1, 0); err != nil {
			return err
		}
		if _, err := Attach(cpu, r2, 0); err != nil {
			return err
		}
		in, err := loadAll(cpu, r1, ring.Get)
		if err != nil {
			return err
		}
		out, err := loadAll(cpu, r2, ring.Put)
		if err != nil {
			return err
		}
		for i := range messages {
			res, err := Invoke(cpu, in[0], wlArg, uint64(size))
			if err != nil || res.Regs[0] != 0 {
				return fmt.Errorf("sharing: proxy: P's get %d: %v %v", i, err, res.Regs)
			}
			if res, err := Invoke(cpu, out[0], wlArg, res.Regs[1]); err != nil || res.Regs[0] != 0 {
				return fmt.Errorf("sharing: proxy: P's put %d: %v %v", i, err, res.Regs)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	b, err := s.realm('B', func(cpu emulator.RealmCPU) error {
		if _, err := Attach(cpu, r1, 0); Status(err) != rmm.RSIErrorState {
			return fmt.Errorf("sharing: proxy: B attached to A–P's region (%v)", err)
		}
		if _, err := Attach(cpu, r2, 0); err != nil {
			return err
		}
		codes, err := loadAll(cpu, r2, ring.Get)
		if err != nil {
			return err
		}
		got := make([]byte, size)
		for i := range messages {
			res, err := Invoke(cpu, codes[0], wlArg, uint64(size))
			if err == nil {
				err = cpu.Read(wlArg, got)
			}
			if err != nil || res.Regs[0] != 0 || !bytes.Equal(got, msg(i)) {
				return fmt.Errorf("sharing: proxy: B's message %d: %v %v", i, err, res.Regs)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	spec := RegionSpec{Granules: ring.Granules(), Flags: rmm.ShareFlagMediated}
	h1, err := s.h.CreateRegion(spec, Member{RD: a.RD, IPA: WindowIPA}, Member{RD: p.RD, IPA: WindowIPA})
	if err != nil {
		return err
	}
	h2, err := s.h.CreateRegion(spec, Member{RD: p.RD, IPA: WindowIPA + 0x100_0000}, Member{RD: b.RD, IPA: WindowIPA})
	if err != nil {
		return err
	}
	r1, r2 = h1.SR, h2.SR
	for _, r := range []*Realm{a, p, b} {
		if err := s.run(r); err != nil {
			return err
		}
	}
	return nil
}

// Contention has `realms` members add 1 to a shared counter `ops` times
// each through the coordinator, all at once, and returns the final
// counter, which must be realms·ops: no update lost.
func Contention(m *emulator.Machine, realms, ops int) (uint64, error) {
	s, err := newScenario(m)
	if err != nil {
		return 0, err
	}
	if realms < 1 || realms > rmm.ShareMaxMembers-1 {
		return 0, errors.New("sharing: contention needs 1 to 7 realms")
	}
	var region uint64
	gen := func() ([]byte, error) { return Add(1) }
	var members []*Realm
	for i := range realms {
		r, err := s.realm(byte('a'+i), func(cpu emulator.RealmCPU) error {
			if _, err := Attach(cpu, region, 0); err != nil {
				return err
			}
			codes, err := loadAll(cpu, region, gen)
			if err != nil {
				return err
			}
			for range ops {
				if _, err := Invoke(cpu, codes[0], 0, 0, 1, uint64(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		members = append(members, r)
	}
	var final uint64
	reader, err := s.realm('z', func(cpu emulator.RealmCPU) error {
		if _, err := Attach(cpu, region, 0); err != nil {
			return err
		}
		codes, err := loadAll(cpu, region, gen)
		if err != nil {
			return err
		}
		res, err := Invoke(cpu, codes[0], 0, 0, 0, 0)
		final = res.Regs[0]
		return err
	})
	if err != nil {
		return 0, err
	}
	var ms []Member
	for _, r := range append(members, reader) {
		ms = append(ms, Member{RD: r.RD, IPA: WindowIPA})
	}
	hr, err := s.h.CreateRegion(RegionSpec{Granules: 1, Flags: rmm.ShareFlagMediated}, ms...)
	if err != nil {
		return 0, err
	}
	region = hr.SR
	if err := s.run(members...); err != nil {
		return 0, err
	}
	if err := s.run(reader); err != nil {
		return 0, err
	}
	return final, nil
}
