package sharing

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ccakit/cca/emulator"
	"github.com/ccakit/cca/emulator/guest"
	"github.com/ccakit/cca/emulator/monitor"
	"github.com/ccakit/cca/emulator/rmm"
	"github.com/ccakit/cca/emulator/vmm"
)

// The inter-realm messaging benchmark (docs/sharing.md §11): a sender
// realm S streams messages to a receiver realm R, each with one REC on its
// own host thread, in windows of as many messages as the ring holds; at
// the end of a window S makes a host call that parks it until R has
// drained the window, and R a host call that parks it until the next
// window is ready. That scheduling costs the same in every mode; what
// differs is the data path.

// Mode is a way for two realms to communicate.
type Mode string

const (
	// Mediated: the paper's design; one RSI_SHARE_INVOKE per send and per
	// receive, the RMM copying between the caller's buffer and the region.
	Mediated Mode = "mediated"
	// MediatedBatch: mediated with batching: one RSI_SHARE_INVOKE moves up
	// to BatchBytes of messages (Ring.PutBatch, Ring.GetBatch), so the RSI
	// call is shared by the messages of a batch.
	MediatedBatch Mode = "mediated-batch"
	// Amortised: a WRITE lease per window on each side; the sender copies
	// messages into the region, the receiver reads them in place.
	Amortised Mode = "amortised"
	// Baseline: the paper's "native" channel through NS memory: AES-128-GCM
	// with an ECDH-agreed key, ciphertext copied into NS memory and out by
	// the receiver, a host call per send and per receive (the host relays
	// the channel, as virtio-vsock does).
	Baseline Mode = "baseline"
	// SealedInPlace: the strongest fair encrypted channel: the sender
	// seals straight into the NS ring (the seal's output is the copy), the
	// receiver polls the ring and opens straight from it; no host call
	// per message.
	SealedInPlace Mode = "sealed-in-place"
	// Direct: an unprotected NS ring, no encryption, no exits: the ceiling.
	Direct Mode = "direct"
)

// Modes lists every mode, in report order.
var Modes = []Mode{Mediated, MediatedBatch, Amortised, Baseline, SealedInPlace, Direct}

// BatchBytes bounds the argument of one batched invocation.
const BatchBytes = 64 << 10

// DefaultSizes are the message sizes of the benchmark: 64 B to 1 MiB.
func DefaultSizes() []int {
	var s []int
	for n := 64; n <= 1<<20; n *= 2 {
		s = append(s, n)
	}
	return s
}

// Options configure a run.
type Options struct {
	// Messages is the number of messages per run; 0 means DefaultMessages.
	Messages int
	// RingBytes is the data capacity of the ring (region or NS buffer) in
	// bytes; a window is as many messages as fit, at least one. 0 means
	// DefaultRingBytes.
	RingBytes int
	// Verify checks every byte of every received message (always on in
	// tests; it costs the same in every mode).
	Verify bool
}

// DefaultRingBytes is the default ring capacity.
const DefaultRingBytes = 1 << 20

// DefaultMessages is the number of messages of a run: about 4 MiB of
// payload, between 8 and 512 messages.
func DefaultMessages(size int) int { return min(512, max(8, (4<<20)/size)) }

// Run is the outcome of one mode at one size.
type Run struct {
	Mode     Mode
	Size     int
	Messages int
	Window   int
	// Elapsed is the emulator's wall-clock time from the start barrier to
	// the last message received: a property of the emulator, not a model
	// of hardware.
	Elapsed time.Duration
	// Counters are the monitor's events during the run, Share the RMM's
	// sharing-extension events.
	Counters monitor.Counters
	Share    rmm.ShareCounters
	// The realms' own work, counted by the realm software where it does
	// it: bytes copied with the source in the copying core's cache
	// (CopyCache) or written by the other realm (CopyMem), bytes read in
	// place that the other realm wrote (ReadMem), bytes sealed and opened
	// with AES-GCM and the operations.
	CopyCache, CopyMem, ReadMem uint64
	Sealed, Opened              uint64
	SealOps, OpenOps            uint64
}

// Counts maps the run's counted events onto the cost table.
func (r Run) Counts() Counts {
	var c Counts
	exits := float64(r.Counters.RealmExits)
	c[HostExit], c[HostWork] = exits, exits
	c[RSITrap] = float64(r.Share.RSICalls)
	// Each realm exit is four switches (NS→EL3→realm, realm→EL3→NS).
	c[WorldSwitch] = max(0, float64(r.Counters.WorldSwitches())-4*exits)
	c[S2Walk] = float64(r.Share.ArgWalks + r.Share.LeaseWalks)
	c[RTTEntry] = float64(r.Share.LeaseEntries)
	c[TLBI] = float64(r.Share.TLBIs)
	c[Lock] = float64(r.Share.RegionLocks)
	c[Step] = float64(r.Share.Steps)
	c[CopyCache] = float64(r.Share.CopyIn + r.CopyCache)
	c[CopyMem] = float64(r.Share.CopyOut + r.Share.CopyWithin + r.CopyMem)
	c[ReadMem] = float64(r.ReadMem)
	c[GCMByte] = float64(r.Sealed + r.Opened)
	c[GCMMsg] = float64(r.SealOps + r.OpenOps)
	return c
}

// Cycles returns the modelled cycles of the run at p.
func (r Run) Cycles(p Point) float64 { return r.Counts().Cycles(p) }

// CyclesPerMessage is Cycles / Messages.
func (r Run) CyclesPerMessage(p Point) float64 { return r.Cycles(p) / float64(r.Messages) }

// ModelledThroughput is the payload bytes per second the model gives at
// DefaultGHz.
func (r Run) ModelledThroughput(p Point) float64 {
	return float64(r.Size) * float64(r.Messages) / (r.Cycles(p) / (DefaultGHz * 1e9))
}

// WallThroughput is the payload bytes per second on the emulator.
func (r Run) WallThroughput() float64 {
	return float64(r.Size) * float64(r.Messages) / r.Elapsed.Seconds()
}

// Host-call numbers of the benchmark's protocol.
const (
	callSetup  = 1 // barrier: both realms set up (keys published)
	callStart  = 2 // barrier: measurement starts
	callWindow = 3 // S: a window of X1 messages is ready; wait until drained
	callWait   = 4 // R: wait for a window; X0 = its size
	callDone   = 5 // R: all received
	callNotify = 6 // S, baseline: a message is in NS memory
	callFetch  = 7 // R, baseline: take the next message
)

// Guest memory of the benchmark realms.
const (
	benchScratch  = RAMBase + 0x100_0000 // message buffer
	benchCode     = RAMBase + 0x300_0000 // access code images
	benchHostCall = RAMBase + 0x310_0000 // RsiHostCall structure
	helloSize     = rmm.GranuleSize      // NS page with the two public keys
)

// RunMode runs one mode at one size on a fresh machine.
func RunMode(mode Mode, size int, opt Options) (Run, error) {
	if size <= 0 || size > 1<<20 {
		return Run{}, fmt.Errorf("sharing: message size %d (1..1 MiB)", size)
	}
	if opt.Messages <= 0 {
		opt.Messages = DefaultMessages(size)
	}
	if opt.RingBytes <= 0 {
		opt.RingBytes = DefaultRingBytes
	}
	known := false
	for _, m := range Modes {
		known = known || m == mode
	}
	if !known {
		return Run{}, fmt.Errorf("sharing: unknown mode %q", mode)
	}
	m, err := emulator.New(emulator.Config{Sharing: true})
	if err != nil {
		return Run{}, err
	}
	defer m.Close()
	h, err := NewHost(m)
	if err != nil {
		return Run{}, err
	}
	b := &bench{mode: mode, size: size, n: opt.Messages, verify: opt.Verify, m: m,
		ready: make(chan int, 1), drained: make(chan struct{}, 1), abort: make(chan struct{})}
	b.window = min(opt.Messages, max(1, opt.RingBytes/(size+64)))
	b.batch = min(b.window, max(1, BatchBytes/(8+size)))
	b.ring = Ring{Slots: b.window, SlotSize: size}
	if mode == Baseline || mode == SealedInPlace {
		b.ring.SlotSize = size + ChannelOverhead
	}
	b.run = Run{Mode: mode, Size: size, Messages: opt.Messages, Window: b.window}
	const sEntry, rEntry = RAMBase, RAMBase + 0x1000
	m.SetRealmProgram(sEntry, func(cpu emulator.RealmCPU) { b.fail(b.sender(cpu)) })
	m.SetRealmProgram(rEntry, func(cpu emulator.RealmCPU) { b.fail(b.receiver(cpu)) })
	s, err := h.NewRealm(RealmSpec{Entry: sEntry, RPV: [64]byte{'S'}})
	if err != nil {
		return Run{}, err
	}
	r, err := h.NewRealm(RealmSpec{Entry: rEntry, RPV: [64]byte{'R'}})
	if err != nil {
		return Run{}, err
	}
	switch mode {
	case Mediated, MediatedBatch, Amortised:
		spec := RegionSpec{Granules: b.ring.Granules(), Flags: rmm.ShareFlagMediated}
		if mode == Amortised {
			spec = RegionSpec{Granules: b.ring.Granules(), Flags: rmm.ShareFlagLease, LeaseTicks: rmm.ShareMaxLeaseTicks}
		}
		hr, err := h.CreateRegion(spec, Member{RD: s.RD, IPA: WindowIPA}, Member{RD: r.RD, IPA: WindowIPA})
		if err != nil {
			return Run{}, err
		}
		b.region = hr.SR
	default:
		n := (helloSize + b.ring.Bytes() + rmm.GranuleSize - 1) / rmm.GranuleSize
		pa, err := h.Alloc(n)
		if err != nil {
			return Run{}, err
		}
		for _, x := range []*Realm{s, r} {
			if err := h.MapNS(x, NSWindowIPA, pa, n); err != nil {
				return Run{}, err
			}
		}
	}
	var wg sync.WaitGroup
	for _, x := range []struct {
		realm *Realm
		calls func(imm uint16, gprs [31]uint64) [31]uint64
	}{{s, b.senderCalls}, {r, b.receiverCalls}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := x.realm.Run(0, hostHandlers(x.calls))
			if err == nil && e.GPRs[0] != rmm.PSCICPUOff {
				err = fmt.Errorf("sharing: realm stopped with PSCI %#x", e.GPRs[0])
			}
			b.fail(err)
		}()
	}
	wg.Wait()
	if b.err != nil {
		return Run{}, b.err
	}
	return b.run, nil
}

// bench is the state of one run, shared by the two realm programs and the
// two host threads.
type bench struct {
	mode   Mode
	size   int
	n      int
	window int
	batch  int // messages per invocation in MediatedBatch
	ring   Ring
	verify bool
	m      *emulator.Machine
	region uint64

	// host side
	ready     chan int      // S → R: a window is ready
	drained   chan struct{} // R → S: the window is drained
	abort     chan struct{} // closed when a side fails: nobody waits any more
	abortOnce sync.Once
	barrier   sync.Mutex
	arrived   int
	released  chan struct{}
	waited    bool
	start     time.Time
	before    monitor.Counters
	beforeSh  rmm.ShareCounters

	mu  sync.Mutex
	err error
	run Run
}

func (b *bench) fail(err error) {
	if err == nil {
		return
	}
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
	b.abortOnce.Do(func() { close(b.abort) })
}

func (b *bench) failed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err != nil
}

func (b *bench) add(f func(r *Run)) {
	b.mu.Lock()
	f(&b.run)
	b.mu.Unlock()
}

// wait is a two-party barrier; at its release onRelease runs.
func (b *bench) wait(onRelease func()) {
	b.barrier.Lock()
	if b.released == nil {
		b.released = make(chan struct{})
	}
	ch := b.released
	b.arrived++
	if b.arrived == 2 {
		b.arrived, b.released = 0, nil
		if onRelease != nil {
			onRelease()
		}
		close(ch)
	}
	b.barrier.Unlock()
	select {
	case <-ch:
	case <-b.abort:
	}
}

// hostSend and hostRecv are channel operations that give up when a side failed.
func hostSend[T any](b *bench, c chan T, v T) {
	select {
	case c <- v:
	case <-b.abort:
	}
}

func hostRecv[T any](b *bench, c chan T) (v T) {
	select {
	case v = <-c:
	case <-b.abort:
	}
	return v
}

func hostHandlers(f func(imm uint16, gprs [31]uint64) [31]uint64) vmm.Handlers {
	return vmm.Handlers{HostCall: func(_ int, imm uint16, gprs [31]uint64) [31]uint64 { return f(imm, gprs) }}
}

func (b *bench) senderCalls(imm uint16, gprs [31]uint64) [31]uint64 {
	switch imm {
	case callSetup:
		b.wait(nil)
	case callStart:
		b.wait(b.startClock)
	case callWindow:
		hostSend(b, b.ready, int(gprs[0]))
		hostRecv(b, b.drained)
	}
	return gprs
}

func (b *bench) receiverCalls(imm uint16, gprs [31]uint64) [31]uint64 {
	switch imm {
	case callSetup:
		b.wait(nil)
	case callStart:
		b.wait(b.startClock)
	case callWait:
		if b.waited {
			hostSend(b, b.drained, struct{}{})
		}
		b.waited = true
		gprs[0] = uint64(hostRecv(b, b.ready))
	case callDone:
		b.add(func(r *Run) {
			r.Elapsed = time.Since(b.start)
			r.Counters = b.m.Counters().Sub(b.before)
			r.Share = b.m.ShareCounters().Sub(b.beforeSh)
		})
		hostSend(b, b.drained, struct{}{})
	}
	return gprs
}

func (b *bench) startClock() {
	b.before = b.m.Counters()
	b.beforeSh = b.m.ShareCounters()
	b.start = time.Now()
}

// hostCall makes RSI_HOST_CALL(imm) with X0 = x0 and returns the host's X0.
func hostCallX0(cpu emulator.RealmCPU, imm uint16, x0 uint64) (uint64, error) {
	out, err := guest.HostCall(cpu, benchHostCall, imm, [31]uint64{x0})
	return out[0], err
}

// message fills buf with message number i: its number, then a pattern.
func message(buf []byte, i uint64) {
	for j := range buf {
		buf[j] = byte(uint64(j)*131 + i*7 + 1)
	}
	if len(buf) >= 8 {
		binary.LittleEndian.PutUint64(buf, i)
	}
}

func (b *bench) check(got []byte, i uint64, want []byte) error {
	if len(got) != b.size {
		return fmt.Errorf("sharing: message %d has %d bytes, want %d", i, len(got), b.size)
	}
	if !b.verify {
		if b.size >= 8 && binary.LittleEndian.Uint64(got) != i {
			return fmt.Errorf("sharing: message %d arrived as %d", i, binary.LittleEndian.Uint64(got))
		}
		return nil
	}
	message(want, i)
	if !bytes.Equal(got, want) {
		return fmt.Errorf("sharing: message %d corrupted", i)
	}
	return nil
}

// setup is what both realms do before the clock starts: attach and load
// codes, or agree on the channel key; touch their buffers so that no
// first-touch data abort falls in the measurement.
func (b *bench) setup(cpu emulator.RealmCPU, sender bool) (*Channel, []Code, error) {
	if err := cpu.Write(benchScratch, make([]byte, max(b.size, b.batch*(8+b.size)))); err != nil {
		return nil, nil, err
	}
	var codes []Code
	var ch *Channel
	switch b.mode {
	case Mediated, MediatedBatch, Amortised:
		if _, err := Attach(cpu, b.region, 0); err != nil {
			return nil, nil, err
		}
		if b.mode != Amortised {
			gen := b.ring.Get
			if sender {
				gen = b.ring.Put
			}
			if b.batched() {
				gen = func() ([]byte, error) { return b.ring.GetBatch(b.batch) }
				if sender {
					gen = func() ([]byte, error) { return b.ring.PutBatch(b.batch) }
				}
			}
			img, err := gen()
			if err != nil {
				return nil, nil, err
			}
			c, err := LoadCode(cpu, b.region, benchCode, img)
			if err != nil {
				return nil, nil, err
			}
			codes = append(codes, c)
		}
	case Baseline, SealedInPlace:
		priv, err := NewChannelKey()
		if err != nil {
			return nil, nil, err
		}
		own, peer := uint64(NSWindowIPA), uint64(NSWindowIPA+128)
		if !sender {
			own, peer = peer, own
		}
		if err := cpu.Write(own, priv.PublicKey().Bytes()); err != nil {
			return nil, nil, err
		}
		if _, err := hostCallX0(cpu, callSetup, 0); err != nil {
			return nil, nil, err
		}
		pub := make([]byte, 65)
		if err := cpu.Read(peer, pub); err != nil {
			return nil, nil, err
		}
		if ch, err = NewChannel(priv, pub, sender); err != nil {
			return nil, nil, err
		}
	}
	if b.mode != Baseline && b.mode != SealedInPlace {
		if _, err := hostCallX0(cpu, callSetup, 0); err != nil {
			return nil, nil, err
		}
	}
	_, err := hostCallX0(cpu, callStart, 0)
	return ch, codes, err
}

// nsRing is the ring of the NS modes, after the hello page.
const nsRing = NSWindowIPA + helloSize

func (b *bench) sender(cpu emulator.RealmCPU) error {
	ch, codes, err := b.setup(cpu, true)
	if err != nil {
		return err
	}
	msg := make([]byte, b.size)
	tmp := make([]byte, 8+b.ring.SlotSize)
	le := binary.LittleEndian
	for sent := 0; sent < b.n && !b.failed(); {
		k := min(b.window, b.n-sent)
		if b.mode == Amortised {
			if _, err := Acquire(cpu, b.region, true); err != nil {
				return err
			}
		}
		if b.batched() {
			if err := b.sendBatches(cpu, uint64(sent), uint64(k), codes[0]); err != nil {
				return err
			}
		}
		for i := uint64(sent); i < uint64(sent+k) && !b.batched(); i++ {
			// Production: the message appears in the sender's memory; with
			// a lease, straight in the region (zero copy), which only
			// memory the sender may write but the host cannot read allows.
			message(msg, i)
			out, dst := msg, uint64(benchScratch)
			if b.mode == Amortised {
				le.PutUint64(tmp, uint64(b.size))
				copy(tmp[8:], msg)
				out, dst = tmp[:8+b.size], WindowIPA+uint64(b.ring.Slot(i))
			}
			if err := cpu.Write(dst, out); err != nil {
				return err
			}
			if err := b.send(cpu, i, ch, codes, tmp); err != nil {
				return err
			}
		}
		if b.mode == Amortised {
			var w [8]byte
			le.PutUint64(w[:], uint64(sent+k))
			if err := cpu.Write(WindowIPA+RingHead, w[:]); err != nil {
				return err
			}
			if err := Release(cpu, b.region); err != nil {
				return err
			}
		}
		if _, err := hostCallX0(cpu, callWindow, uint64(k)); err != nil {
			return err
		}
		sent += k
	}
	return nil
}

// send moves message i from the sender's buffer towards the receiver.
func (b *bench) send(cpu emulator.RealmCPU, i uint64, ch *Channel, codes []Code, tmp []byte) error {
	le := binary.LittleEndian
	switch b.mode {
	case Mediated, MediatedBatch:
		res, err := Invoke(cpu, codes[0], benchScratch, uint64(b.size))
		if err != nil {
			return err
		}
		if res.Regs[0] != 0 {
			return fmt.Errorf("sharing: put of message %d: status %d", i, res.Regs[0])
		}
		return nil
	case Amortised:
		return nil // produced in place
	case Direct:
		// The copy into the ring: read the private buffer, write the slot.
		base := uint64(nsRing)
		le.PutUint64(tmp, uint64(b.size))
		if err := cpu.Read(benchScratch, tmp[8:8+b.size]); err != nil {
			return err
		}
		if err := cpu.Write(base+uint64(b.ring.Slot(i)), tmp[:8+b.size]); err != nil {
			return err
		}
		b.add(func(r *Run) { r.CopyCache += uint64(8 + b.size) })
		return nil
	}
	// Baseline: encrypt from the private buffer, copy into NS memory.
	pt := make([]byte, b.size)
	if err := cpu.Read(benchScratch, pt); err != nil {
		return err
	}
	ct := ch.Seal(tmp[8:8], pt)
	le.PutUint64(tmp, uint64(len(ct)))
	if err := cpu.Write(nsRing+uint64(b.ring.Slot(i)), tmp[:8+len(ct)]); err != nil {
		return err
	}
	b.add(func(r *Run) {
		r.Sealed += uint64(b.size)
		r.SealOps++
		if b.mode == Baseline {
			// The paper's channel seals in private memory, then copies
			// into NS memory; sealed in place, the seal's output is the
			// write into the ring.
			r.CopyCache += uint64(8 + len(ct))
		}
	})
	if b.mode == Baseline {
		_, err := hostCallX0(cpu, callNotify, i)
		return err
	}
	return nil
}

func (b *bench) receiver(cpu emulator.RealmCPU) error {
	ch, codes, err := b.setup(cpu, false)
	if err != nil {
		return err
	}
	got := make([]byte, b.ring.SlotSize+8)
	want := make([]byte, b.size)
	le := binary.LittleEndian
	for recvd := 0; recvd < b.n && !b.failed(); {
		k64, err := hostCallX0(cpu, callWait, 0)
		if err != nil {
			return err
		}
		k := int(k64)
		if k == 0 {
			return errors.New("sharing: the sender failed")
		}
		if b.mode == Amortised {
			if _, err := Acquire(cpu, b.region, true); err != nil {
				return err
			}
			var w [8]byte
			if err := cpu.Read(WindowIPA+RingHead, w[:]); err != nil {
				return err
			}
			if le.Uint64(w[:]) != uint64(recvd+k) {
				return fmt.Errorf("sharing: head %d, expected %d", le.Uint64(w[:]), recvd+k)
			}
		}
		if b.batched() {
			if err := b.receiveBatches(cpu, uint64(recvd), uint64(k), codes[0], want); err != nil {
				return err
			}
		}
		for i := uint64(recvd); i < uint64(recvd+k) && !b.batched(); i++ {
			msg, err := b.receive(cpu, i, ch, codes, got)
			if err != nil {
				return err
			}
			if err := b.check(msg, i, want); err != nil {
				return err
			}
		}
		if b.mode == Amortised {
			var w [8]byte
			le.PutUint64(w[:], uint64(recvd+k))
			if err := cpu.Write(WindowIPA+RingTail, w[:]); err != nil {
				return err
			}
			if err := Release(cpu, b.region); err != nil {
				return err
			}
		}
		recvd += k
	}
	_, err = hostCallX0(cpu, callDone, 0)
	return err
}

// receive obtains message i and returns it as the receiver consumes it:
// read from its private buffer (mediated, baseline) or in place from the
// ring (amortised, direct). The consuming read is not counted as a copy.
func (b *bench) receive(cpu emulator.RealmCPU, i uint64, ch *Channel, codes []Code, buf []byte) ([]byte, error) {
	le := binary.LittleEndian
	switch b.mode {
	case Mediated, MediatedBatch:
		res, err := Invoke(cpu, codes[0], benchScratch, uint64(b.size))
		if err != nil {
			return nil, err
		}
		if res.Regs[0] != 0 {
			return nil, fmt.Errorf("sharing: get of message %d: status %d", i, res.Regs[0])
		}
		msg := buf[:res.Regs[1]]
		return msg, cpu.Read(benchScratch, msg)
	case Amortised, Direct:
		base := uint64(WindowIPA)
		if b.mode == Direct {
			base = nsRing
		}
		slot := base + uint64(b.ring.Slot(i))
		if err := cpu.Read(slot, buf[:8]); err != nil {
			return nil, err
		}
		n := le.Uint64(buf)
		if n > uint64(b.ring.SlotSize) {
			return nil, fmt.Errorf("sharing: message %d: length %d", i, n)
		}
		// Consumed in place: the first read of what the other realm wrote.
		b.add(func(r *Run) { r.ReadMem += 8 + n })
		msg := buf[:n]
		return msg, cpu.Read(slot+8, msg)
	}
	if b.mode == Baseline {
		if _, err := hostCallX0(cpu, callFetch, i); err != nil {
			return nil, err
		}
	}
	slot := nsRing + uint64(b.ring.Slot(i))
	if err := cpu.Read(slot, buf[:8]); err != nil {
		return nil, err
	}
	n := le.Uint64(buf)
	if n > uint64(b.ring.SlotSize) {
		return nil, fmt.Errorf("sharing: message %d: length %d", i, n)
	}
	ct := buf[8 : 8+n]
	if err := cpu.Read(slot+8, ct); err != nil {
		return nil, err
	}
	pt, err := ch.Open(make([]byte, 0, b.size), ct)
	if err != nil {
		return nil, err
	}
	if err := cpu.Write(benchScratch, pt); err != nil {
		return nil, err
	}
	b.add(func(r *Run) {
		r.Opened += uint64(len(pt))
		r.OpenOps++
		if b.mode == Baseline {
			r.CopyMem += 8 + n // copied out of NS memory, then opened
		} else {
			r.ReadMem += 8 + n // opened straight from the ring
		}
	})
	msg := buf[:len(pt)]
	return msg, cpu.Read(benchScratch, msg)
}

// sendBatches sends messages [first, first+k) in batches: each batch is
// produced as records (length, data) in the sender's memory, then moved
// into the ring by one invocation of PutBatch.
func (b *bench) sendBatches(cpu emulator.RealmCPU, first, k uint64, put Code) error {
	rec := uint64(8 + b.size)
	buf := make([]byte, uint64(b.batch)*rec)
	le := binary.LittleEndian
	for i := first; i < first+k; {
		n := min(uint64(b.batch), first+k-i)
		for j := range n {
			r := buf[j*rec : (j+1)*rec]
			le.PutUint64(r, uint64(b.size))
			message(r[8:], i+j)
		}
		if err := cpu.Write(benchScratch, buf[:n*rec]); err != nil {
			return err
		}
		res, err := Invoke(cpu, put, benchScratch, n*rec, n)
		if err != nil {
			return err
		}
		if res.Regs[0] != n {
			return fmt.Errorf("sharing: batch put of messages %d..%d sent %d", i, i+n-1, res.Regs[0])
		}
		i += n
	}
	return nil
}

// receiveBatches receives messages [first, first+k) by invocations of
// GetBatch, each filling the receiver's buffer with records, and checks
// them where they landed.
func (b *bench) receiveBatches(cpu emulator.RealmCPU, first, k uint64, get Code, want []byte) error {
	rec := uint64(8 + b.size)
	buf := make([]byte, uint64(b.batch)*rec)
	le := binary.LittleEndian
	for i := first; i < first+k; {
		n := min(uint64(b.batch), first+k-i)
		res, err := Invoke(cpu, get, benchScratch, n*rec, n)
		if err != nil {
			return err
		}
		if res.Regs[0] != n {
			return fmt.Errorf("sharing: batch get of messages %d..%d received %d", i, i+n-1, res.Regs[0])
		}
		if err := cpu.Read(benchScratch, buf[:n*rec]); err != nil {
			return err
		}
		for j := range n {
			r := buf[j*rec : (j+1)*rec]
			if l := le.Uint64(r); l != uint64(b.size) {
				return fmt.Errorf("sharing: message %d: length %d", i+j, l)
			}
			if err := b.check(r[8:], i+j, want); err != nil {
				return err
			}
		}
		i += n
	}
	return nil
}

// batched reports whether messages go in batches: MediatedBatch with more
// than one message per batch (a batch of one is the mediated path, whose
// argument is the message alone).
func (b *bench) batched() bool { return b.mode == MediatedBatch && b.batch > 1 }
