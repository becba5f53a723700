package rmm

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"

	"github.com/ccakit/cca/emulator/gpt"
	"github.com/ccakit/cca/emulator/rmm/accesscode"
	"github.com/ccakit/cca/realm"
)

// The RSI commands of the sharing extension (docs/sharing.md §6). Each is a
// realm exit to the RMM, counted as such for the monitor's cost model.

// shareRSI is the extension's RSI dispatch table, consulted only when
// Config.Sharing is set (see shareRMI).
var shareRSI = map[uint64]rsiHandler{
	RSIShareAttach:       rsiShareAttach,
	RSIShareDetach:       rsiShareDetach,
	RSIShareCodeLoad:     rsiShareCodeLoad,
	RSIShareInvoke:       rsiShareInvoke,
	RSIShareLeaseAcquire: rsiShareLeaseAcquire,
	RSIShareLeaseRelease: rsiShareLeaseRelease,
	RSIShareIPAQuery:     rsiShareIPAQuery,
}

// shareRSIHandler returns the extension's handler for fid when the
// extension is enabled.
func (r *RMM) shareRSIHandler(fid uint64) (rsiHandler, bool) {
	if !r.cfg.Sharing {
		return nil, false
	}
	h, ok := shareRSI[fid]
	return h, ok
}

// shareCall is the common start of every share RSI call: count the call
// (a trap to R-EL2, handled without the host), take the RMM lock, find the region (region_id → INPUT) and the caller's
// attached membership (not_member, member_state → STATE). On failure the
// lock is released and the RSI return is given.
func shareCall(c *realmCPU, x *[11]uint64, wantAttached bool) (*shareRegion, *shareMember, [9]uint64, bool) {
	c.r.shareCtr.rsiCalls.Add(1)
	c.r.mu.Lock()
	rg := c.r.lookupSR(x[0])
	if rg == nil {
		c.r.mu.Unlock()
		return nil, nil, rsiReturn(x, RSIErrorInput), false
	}
	m := rg.member(c.rl.rd)
	if wantAttached && (m == nil || m.state != memberAttached) {
		c.r.mu.Unlock()
		return nil, nil, rsiReturn(x, RSIErrorState), false
	}
	return rg, m, [9]uint64{}, true
}

// inPAR reports whether [ipa, ipa+n) is inside the caller's PAR.
func (c *realmCPU) inPAR(ipa, n uint64) bool {
	end, carry := bits.Add64(ipa, n, 0)
	return carry == 0 && end <= c.rl.parTop()
}

// RSI_SHARE_ATTACH(region, desc_ipa) → ipa, size. region_id,
// desc_align/desc_bound → INPUT; region_state, not_member, member_state
// (not ADDED) → STATE. The descriptor is written to desc_ipa when it is not
// 0 (which may exit to the host for an unmapped granule), then REM[3] is
// extended with its digest and the member is ATTACHED.
func rsiShareAttach(c *realmCPU, x *[11]uint64) [9]uint64 {
	descIPA := x[1]
	rg, m, ret, ok := shareCall(c, x, false)
	if !ok {
		return ret
	}
	switch {
	case descIPA != 0 && (!aligned(descIPA) || descIPA >= c.rl.parTop()):
		ret = rsiReturn(x, RSIErrorInput)
	case rg.state != regionActive, m == nil, m.state != memberAdded:
		ret = rsiReturn(x, RSIErrorState)
	}
	desc := rg.descriptor // immutable once ACTIVE
	c.r.mu.Unlock()
	if ret[0] != RSISuccess {
		return ret
	}
	if descIPA != 0 {
		if err := c.Write(descIPA, desc); err != nil {
			return rsiReturn(x, RSIErrorInput)
		}
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	// The host may have removed the member, or destroyed the region and
	// reused the SR, while the REC was out.
	if c.r.lookupSR(x[0]) != rg || rg.member(c.rl.rd) != m || m.state != memberAdded {
		return rsiReturn(x, RSIErrorState)
	}
	m.state = memberAttached
	c.rl.rems[ShareREM-1].ExtendREM(c.rl.hash, descriptorDigest(c.rl.hash, desc))
	return rsiReturn(x, RSISuccess, m.ipa, rg.size())
}

// descriptorDigest is H(descriptor) with the realm's hash algorithm: the
// value REM[3] is extended with (docs/sharing.md §7).
func descriptorDigest(h realm.HashAlgorithm, desc []byte) []byte {
	if h == realm.HashSHA512 {
		d := sha512.Sum512(desc)
		return d[:]
	}
	d := sha256.Sum256(desc)
	return d[:]
}

// RSI_SHARE_DETACH(region): region_id → INPUT; not_member, member_state →
// STATE. The caller's lease is released (not revoked) and its codes
// dropped; it cannot attach again.
func rsiShareDetach(c *realmCPU, x *[11]uint64) [9]uint64 {
	rg, m, ret, ok := shareCall(c, x, true)
	if !ok {
		return ret
	}
	defer c.r.mu.Unlock()
	c.r.dropLease(rg, m, false)
	m.codes = [ShareMaxCodes]*accesscode.Program{}
	m.state = memberDetached
	return rsiReturn(x, RSISuccess)
}

// freeCode returns a free code slot of m, or -1.
func (m *shareMember) freeCode() int {
	for i, p := range m.codes {
		if p == nil {
			return i
		}
	}
	return -1
}

// RSI_SHARE_CODE_LOAD(region, code_ipa, code_len) → handle, SHA-256 in
// X2..X5. region_id → INPUT; code_len, code_bound → INPUT; not_member,
// member_state, no free slot → STATE; the image is copied into the RMM
// (an unmapped granule exits to the host; EMPTY → INPUT) and verified
// against the region (rejection → INPUT with X1 = reason, X2 = index).
func rsiShareCodeLoad(c *realmCPU, x *[11]uint64) [9]uint64 {
	ipa, n := x[1], x[2]
	rg, m, ret, ok := shareCall(c, x, false)
	if !ok {
		return ret
	}
	switch {
	case n == 0 || n > accesscode.MaxImage || !c.inPAR(ipa, n):
		ret = rsiReturn(x, RSIErrorInput)
	case m == nil || m.state != memberAttached || m.freeCode() < 0:
		ret = rsiReturn(x, RSIErrorState)
	}
	size := rg.size()
	c.r.mu.Unlock()
	if ret[0] != RSISuccess {
		return ret
	}
	// The RMM's own copy: what the realm does to its memory from here on
	// cannot reach the code that runs.
	img := make([]byte, n)
	if err := c.Read(ipa, img); err != nil {
		return rsiReturn(x, RSIErrorInput)
	}
	prog, err := accesscode.Verify(img, size)
	if err != nil {
		var ve *accesscode.VerifyError
		if !errors.As(err, &ve) {
			return rsiReturn(x, RSIErrorUnknown)
		}
		pc := uint64(math.MaxUint64)
		if ve.PC >= 0 {
			pc = uint64(ve.PC)
		}
		return rsiReturn(x, RSIErrorInput, uint64(ve.Reason), pc)
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	if c.r.lookupSR(x[0]) != rg || rg.member(c.rl.rd) != m || m.state != memberAttached {
		return rsiReturn(x, RSIErrorState)
	}
	h := m.freeCode()
	if h < 0 {
		return rsiReturn(x, RSIErrorState)
	}
	m.codes[h] = prog
	// The loader's REM[3] records the code that will touch the region
	// (docs/sharing.md §7), hashed with the realm's algorithm.
	c.rl.rems[ShareREM-1].ExtendREM(c.rl.hash, descriptorDigest(c.rl.hash, img))
	sum := prog.Hash()
	le := binary.LittleEndian
	return rsiReturn(x, RSISuccess, uint64(h),
		le.Uint64(sum[0:]), le.Uint64(sum[8:]), le.Uint64(sum[16:]), le.Uint64(sum[24:]))
}

// RSI_SHARE_INVOKE(region, handle, arg_ipa, arg_len, r0..r3) → r0..r3,
// steps, bytes moved. region_id → INPUT; not_member, member_state → STATE;
// handle, mode (not MEDIATED), arg_len, arg_bound → INPUT; busy (another
// member holds a lease) → INCOMPLETE, a lease tick; an argument granule
// that is not the caller's RAM → INPUT, or, unmapped, an exit to the host
// and a retry.
//
// The code runs under the region's own lock, not the RMM's: the checks
// and the argument's stage-2 walk are made under the RMM lock, the
// argument's DATA granules are pinned (RMI_DATA_DESTROY of one fails until
// the call ends), the region is marked busy (no lease can be granted, the
// region cannot be destroyed), and the RMM lock is dropped while the code
// runs. Other regions, and every other RMI and RSI call, proceed meanwhile;
// another member invoking the same region waits for the region lock, so
// each invocation is atomic with respect to every other member.
func rsiShareInvoke(c *realmCPU, x *[11]uint64) [9]uint64 {
	c.r.shareCtr.rsiCalls.Add(1)
	for {
		c.r.mu.Lock()
		_, rg, ret, ok := c.invokeCheck(x)
		c.r.mu.Unlock()
		if !ok {
			return ret
		}
		rg.run.Lock()
		c.r.mu.Lock()
		job, ret, unmapped, ok := c.invokeBegin(x, rg)
		c.r.mu.Unlock()
		if !ok {
			rg.run.Unlock()
			if unmapped == noIPA {
				return ret
			}
			// Touch the unmapped argument granule the usual way: the REC
			// exits with a data abort, and the call is retried once the
			// host has mapped it (or fails if it cannot be).
			var b [1]byte
			if err := c.Read(unmapped, b[:]); err != nil {
				return rsiReturn(x, RSIErrorInput)
			}
			continue
		}
		res, err := job.prog.Run(job.region, job.arg, [4]uint64{x[4], x[5], x[6], x[7]})
		c.r.mu.Lock()
		rg.invoking = false
		c.r.unpin(job.arg.pages)
		c.r.mu.Unlock()
		rg.run.Unlock()
		ctr := &c.r.shareCtr
		ctr.invocations.Add(1)
		ctr.steps.Add(res.Steps)
		ctr.copyIn.Add(res.CopyIn)
		ctr.copyOut.Add(res.CopyOut)
		ctr.copyWithin.Add(res.CopyWithin)
		ctr.loadStore.Add(res.LoadStore)
		if err != nil {
			// Verified code cannot fault: a broken invariant, reported as
			// such rather than taken out on the machine.
			return rsiReturn(x, RSIErrorUnknown)
		}
		return rsiReturn(x, RSISuccess, res.Regs[0], res.Regs[1], res.Regs[2], res.Regs[3], res.Steps, res.Moved)
	}
}

// noIPA marks "no argument granule to fault in".
const noIPA = ^uint64(0)

// invokeJob is an invocation ready to run without the RMM lock.
type invokeJob struct {
	prog        *accesscode.Program
	region, arg granuleMem
}

// invokeCheck applies INVOKE's failure conditions up to arg_bound. The
// caller holds r.mu.
func (c *realmCPU) invokeCheck(x *[11]uint64) (*shareMember, *shareRegion, [9]uint64, bool) {
	handle, argIPA, argLen := x[1], x[2], x[3]
	rg := c.r.lookupSR(x[0])
	if rg == nil {
		return nil, nil, rsiReturn(x, RSIErrorInput), false
	}
	m := rg.member(c.rl.rd)
	if m == nil || m.state != memberAttached {
		return nil, nil, rsiReturn(x, RSIErrorState), false
	}
	if handle >= ShareMaxCodes || m.codes[handle] == nil || rg.flags&ShareFlagMediated == 0 {
		return nil, nil, rsiReturn(x, RSIErrorInput), false
	}
	if argLen > m.codes[handle].ArgSize() || argLen > 0 && !c.inPAR(argIPA, argLen) {
		return nil, nil, rsiReturn(x, RSIErrorInput), false
	}
	return m, rg, [9]uint64{}, true
}

// invokeBegin repeats the checks with the region lock held (the region or
// the membership may have changed while the caller waited for it), applies
// busy, walks and pins the argument, and marks the region busy. It
// returns the job, or the RSI result and noIPA, or an IPA of the argument
// the host must map first. The caller holds r.mu and rg.run.
func (c *realmCPU) invokeBegin(x *[11]uint64, rg *shareRegion) (invokeJob, [9]uint64, uint64, bool) {
	m, now, ret, ok := c.invokeCheck(x)
	switch {
	case !ok:
		return invokeJob{}, ret, noIPA, false
	case now != rg:
		// The region was destroyed and its SR reused while we waited.
		return invokeJob{}, rsiReturn(x, RSIErrorInput), noIPA, false
	case rg.leasedToOthers(m) && !c.r.contend(rg):
		return invokeJob{}, rsiReturn(x, RSIIncomplete), noIPA, false
	}
	argIPA, argLen := x[2], x[3]
	arg := granuleMem{r: c.r, first: argIPA % GranuleSize, size: argLen}
	if argLen > 0 {
		for page := argIPA &^ (GranuleSize - 1); page < argIPA+argLen; page += GranuleSize {
			c.r.shareCtr.argWalks.Add(1)
			pa, pas, f := c.r.translate(c.rl, page)
			switch {
			case f == nil && pas == gpt.PASRealm:
				arg.pages = append(arg.pages, pa)
			case f != nil && f.state == hipasUnassigned && f.ripas == RIPASRAM:
				return invokeJob{}, [9]uint64{}, page, false
			default:
				return invokeJob{}, rsiReturn(x, RSIErrorInput), noIPA, false
			}
		}
	}
	c.r.shareCtr.regionLocks.Add(1)
	c.r.pin(arg.pages)
	rg.invoking = true
	return invokeJob{
		prog:   m.codes[x[1]],
		region: granuleMem{r: c.r, pages: rg.granules, size: rg.size()},
		arg:    arg,
	}, [9]uint64{}, noIPA, true
}

// pin and unpin count the in-flight invocations using each DATA granule
// as their argument; RMI_DATA_DESTROY refuses a pinned granule. The caller
// holds r.mu.
func (r *RMM) pin(pages []uint64) {
	if r.sharePins == nil {
		r.sharePins = map[uint64]int{}
	}
	for _, pa := range pages {
		r.sharePins[pa]++
	}
}

func (r *RMM) unpin(pages []uint64) {
	for _, pa := range pages {
		if r.sharePins[pa]--; r.sharePins[pa] <= 0 {
			delete(r.sharePins, pa)
		}
	}
}

// granuleMem is an accesscode.Memory over granules in the Realm PAS (the
// region's, or the caller's argument granules), size bytes from offset
// first of the first page.
type granuleMem struct {
	r     *RMM
	pages []uint64
	first uint64
	size  uint64
}

func (g granuleMem) Size() uint64 { return g.size }

func (g granuleMem) ReadAt(p []byte, off uint64) error  { return g.access(p, off, false) }
func (g granuleMem) WriteAt(p []byte, off uint64) error { return g.access(p, off, true) }

func (g granuleMem) access(p []byte, off uint64, write bool) error {
	if end, c := bits.Add64(off, uint64(len(p)), 0); c != 0 || end > g.size {
		return accesscode.ErrFault
	}
	pos := g.first + off
	for len(p) > 0 {
		within := pos % GranuleSize
		n := min(uint64(len(p)), GranuleSize-within)
		pa := g.pages[pos/GranuleSize] + within
		var err error
		if write {
			err = g.r.realmWrite(pa, p[:n])
		} else {
			err = g.r.realmRead(pa, p[:n])
		}
		mustPlatform(err)
		p, pos = p[n:], pos+n
	}
	return nil
}

// RSI_SHARE_LEASE_ACQUIRE(region, access) → lease_ticks, torn. region_id,
// access → INPUT; not_member, member_state → STATE; mode (not LEASE) →
// INPUT; held → STATE; busy → INCOMPLETE, a lease tick, until the ticks run
// out and the current leases are revoked. The region is then mapped RW
// (WRITE) or RO (READ) into the caller.
func rsiShareLeaseAcquire(c *realmCPU, x *[11]uint64) [9]uint64 {
	access := x[1]
	rg, m, ret, ok := shareCall(c, x, false)
	if !ok {
		return ret
	}
	defer c.r.mu.Unlock()
	switch {
	case access != ShareLeaseRead && access != ShareLeaseWrite:
		return rsiReturn(x, RSIErrorInput)
	case m == nil || m.state != memberAttached:
		return rsiReturn(x, RSIErrorState)
	case rg.flags&ShareFlagLease == 0:
		return rsiReturn(x, RSIErrorInput)
	case m.lease != leaseNone:
		return rsiReturn(x, RSIErrorState)
	}
	if rg.invoking {
		// Access code is running on the region: retry (not a lease tick,
		// the invocation ends within its verified bound).
		return rsiReturn(x, RSIIncomplete)
	}
	busy := rg.writer != nil || access == ShareLeaseWrite && rg.readers > 0
	if busy && !c.r.contend(rg) {
		return rsiReturn(x, RSIIncomplete)
	}
	c.r.shareCtr.regionLocks.Add(1)
	if rg.writer == nil && rg.readers == 0 {
		rg.ticks = 0
	}
	m.revoked = false
	if access == ShareLeaseWrite {
		rg.writer, m.lease = m, leaseWrite
		c.r.setShareAccess(rg, m, accessRW)
	} else {
		rg.readers++
		m.lease = leaseRead
		c.r.setShareAccess(rg, m, accessRO)
	}
	torn := uint64(0)
	if rg.torn {
		torn = 1
	}
	return rsiReturn(x, RSISuccess, rg.leaseTicks, torn)
}

// RSI_SHARE_LEASE_RELEASE(region). region_id → INPUT; not_member,
// member_state → STATE; no lease → STATE with X1 = 1 if it was revoked,
// else 0. Releasing the WRITE lease clears the region's torn flag.
func rsiShareLeaseRelease(c *realmCPU, x *[11]uint64) [9]uint64 {
	rg, m, ret, ok := shareCall(c, x, true)
	if !ok {
		return ret
	}
	defer c.r.mu.Unlock()
	if m.lease == leaseNone {
		revoked := uint64(0)
		if m.revoked {
			revoked, m.revoked = 1, false
		}
		return rsiReturn(x, RSIErrorState, revoked)
	}
	c.r.shareCtr.regionLocks.Add(1)
	c.r.dropLease(rg, m, false)
	return rsiReturn(x, RSISuccess)
}

// RSI_SHARE_IPA_QUERY(ipa) → region, base, size, access: whether ipa is
// in a share region of the caller, so that a realm can tell before it
// writes that an address is shared (docs/sharing.md §6). X1 = the region
// id and X2, X3 where the region is in the caller's IPA space, X4 the
// caller's access now (0 none, 1 read-only, 2 read-write); all 0 when ipa
// is not in a region. ipa_bound (outside the PAR) → INPUT.
func rsiShareIPAQuery(c *realmCPU, x *[11]uint64) [9]uint64 {
	c.r.shareCtr.rsiCalls.Add(1)
	ipa := x[0]
	if ipa >= c.rl.parTop() {
		return rsiReturn(x, RSIErrorInput)
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	w := c.r.mustWalk(c.rl, ipa, maxLevel)
	if w.level != maxLevel || w.entry.hipas() != hipasShared {
		return rsiReturn(x, RSISuccess, 0, 0, 0, 0)
	}
	var m *shareMember
	g := c.r.granules.lookup(w.entry.addr())
	rg := c.r.shares[g.owner]
	if rg != nil {
		m = rg.member(c.rl.rd)
	}
	if g.state != granuleShared || m == nil {
		panic("rmm: a SHARED entry of a realm that is not a member of its region")
	}
	return rsiReturn(x, RSISuccess, rg.sr, m.ipa, rg.size(), uint64(w.entry.shareAccess()))
}
