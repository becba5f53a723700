package realmbuild

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/ccakit/cca/internal/enumname"
	"github.com/ccakit/cca/realm"
)

// This file turns a realm description into the RMI build sequence a VMM
// runs (Plan) and replays it with the measurement functions of measure.go
// to predict the RIM. The plan is the single source of truth for the build
// order: the emulated VMM replays the same steps through RMI, so the RIM
// it gets from the emulated RMM must equal the prediction.
//
// The order is the conventional one of the Realm VM specification
// (veraison/cca-realm-measurements docs/realm-vm.md; Arm DEN0137 1.0-REL0,
// Realm Initial Measurement),
// which kvmtool and QEMU follow:
//
//  1. RMI_REALM_CREATE;
//  2. RMI_RTT_INIT_RIPAS over each RAM range, in ascending IPA order;
//  3. RMI_DATA_CREATE with RMI_MEASURE_CONTENT for the measured images, one
//     4 KB granule at a time, in ascending IPA order whatever the order of
//     the images in the description;
//  4. RMI_REC_CREATE for every REC in index order (only runnable RECs
//     extend the RIM);
//  5. RMI_DATA_CREATE with RMI_NO_MEASURE_CONTENT for the unmeasured
//     images, in ascending IPA order (their descriptors, without a content
//     hash, still extend the RIM).
//
// RMI_REALM_ACTIVATE then freezes the RIM.

// LevelSize is the size an RTT entry maps at level, with 4 KB granules:
// L0 512 GB, L1 1 GB, L2 2 MB, L3 4 KB.
func LevelSize(level int) uint64 { return 1 << levelShift(level) }

func levelShift(level int) uint { return uint(12 + 9*(3-level)) }

// rttNumStart is the number of concatenated tables the starting level
// needs to resolve the IPA bits above it, or 0 when the level cannot start
// an s2sz-bit space: it must resolve at least one bit and at most 9+4 (16
// concatenated tables of 512 entries). This is REALM_CREATE's rtt_num_level
// rule (Arm DEN0137 1.0-REL0, RMI_REALM_CREATE failure conditions; TF-RMM
// rmm-spec-v1.0-rel0 runtime/rmi/realm.c validate_realm_params), as the
// emulated RMM applies it.
func rttNumStart(s2sz uint, level int) int {
	if level < 0 || level > maxRTTLevel {
		return 0
	}
	shift := levelShift(level)
	if s2sz <= shift || s2sz > shift+9+4 {
		return 0
	}
	return max(1, (1<<(s2sz-shift))/512)
}

// DefaultRTTStart is the starting level and number of starting-level
// tables a VMM picks for an s2sz-bit IPA space: the deepest level that 16
// concatenated tables allow, that is the fewest levels (Linux KVM's
// stage-2 geometry; cca-realm-measurements translation_block_sizes). For
// example 32-34 bits start at level 2, 35-43 at level 1 (s2sz 40: two
// tables), 44-48 at level 0. It returns (0, 0) for an s2sz no level can
// start.
func DefaultRTTStart(s2sz uint) (level, num int) {
	for level = maxRTTLevel; level >= 0; level-- {
		if n := rttNumStart(s2sz, level); n > 0 {
			return level, n
		}
	}
	return 0, 0
}

// RIPASEntries returns the RTT entries whose RIPAS descriptors
// RMI_RTT_INIT_RIPAS measures when a VMM initialises [base, top) with the
// usual loop:
//
//	for base < top:
//	    RMI_RTT_INIT_RIPAS(rd, base, top)
//	    on ERROR_RTT(level): RMI_RTT_CREATE the level+1 table at base, retry
//	    on success: base = X1
//
// on RTTs that hold no tables below the starting level in this range yet
// (the conventional order runs INIT_RIPAS first). The RMM walks to the
// deepest existing table at base, fails with ERROR_RTT unless base is
// aligned to that level's entry size and the entry fits below top, and
// otherwise measures one descriptor per entry of that table while entries
// fit. So the entries are, from base upwards: at each address, one entry
// at the shallowest level L, startLevel <= L <= 3, such that the address
// is aligned to LevelSize(L) and address + LevelSize(L) <= top; the next
// entry starts where it ends. Level 3 always qualifies since base and top
// are granule aligned. Entries at the starting level are allowed (an
// UNASSIGNED entry needs no block mapping), so a concatenated root gives
// descriptors as large as LevelSize(startLevel).
//
// base and top must be granule aligned with base < top.
func RIPASEntries(base, top uint64, startLevel int) []InitRIPASStep {
	var out []InitRIPASStep
	for addr := base; addr < top; {
		level := startLevel
		for ; level < maxRTTLevel; level++ {
			size := LevelSize(level)
			if addr%size == 0 && size <= top-addr {
				break
			}
		}
		next := addr + LevelSize(level)
		out = append(out, InitRIPASStep{Base: addr, Top: next, Level: level, RAMBase: base, RAMTop: top})
		addr = next
	}
	return out
}

// Op names the RMI command of a step.
type Op int

const (
	OpRealmCreate Op = iota + 1
	OpInitRIPAS
	OpDataCreate
	OpRECCreate
)

var opNames = map[Op]string{
	OpRealmCreate: "REALM_CREATE",
	OpInitRIPAS:   "RTT_INIT_RIPAS",
	OpDataCreate:  "DATA_CREATE",
	OpRECCreate:   "REC_CREATE",
}

func (o Op) String() string { return enumname.Name(o, opNames, "Op(%d)") }

// Step is one step of a plan: RealmCreateStep, InitRIPASStep,
// DataCreateStep or RECCreateStep.
type Step interface {
	Op() Op
	// Measure applies the step to the RIM as the RMM does.
	Measure(h realm.HashAlgorithm, rim *realm.Measurement)
	String() string
	isStep()
}

// RealmCreateStep is RMI_REALM_CREATE with these parameters.
type RealmCreateStep struct {
	Params        realm.RealmParams // the measured fields
	RPV           [realm.PersonalizationValueSize]byte
	VMID          uint16
	RTTLevelStart int
	RTTNumStart   int
}

// InitRIPASStep is one RTT entry [Base, Top) at Level that
// RMI_RTT_INIT_RIPAS sets to RIPAS RAM and measures, while initialising
// the RAM range [RAMBase, RAMTop). A VMM replays the steps of one range
// either with the usual loop over [RAMBase, RAMTop) (RIPASEntries), which
// must give exactly these entries, or one call per step after creating the
// tables down to Level at Base.
type InitRIPASStep struct {
	Base, Top       uint64
	Level           int
	RAMBase, RAMTop uint64
}

// DataCreateStep is RMI_DATA_CREATE of the granule at IPA with Flags
// (realm.MeasureContent or realm.NoMeasureContent) and Content, realm.GranuleSize bytes of
// image Image (zero-padded). The VMM creates the level-3 table it needs.
type DataCreateStep struct {
	IPA     uint64
	Flags   uint64
	Image   string
	Content []byte
}

// RECCreateStep is RMI_REC_CREATE of the REC with index Index. Params
// holds the measured fields: flags (realm.RECFlagRunnable), pc and x0..x7.
type RECCreateStep struct {
	Index  int
	MPIDR  uint64
	Params realm.RecParams
}

func (RealmCreateStep) Op() Op { return OpRealmCreate }
func (InitRIPASStep) Op() Op   { return OpInitRIPAS }
func (DataCreateStep) Op() Op  { return OpDataCreate }
func (RECCreateStep) Op() Op   { return OpRECCreate }

func (RealmCreateStep) isStep() {}
func (InitRIPASStep) isStep()   {}
func (DataCreateStep) isStep()  {}
func (RECCreateStep) isStep()   {}

func (s RealmCreateStep) Measure(_ realm.HashAlgorithm, rim *realm.Measurement) {
	*rim = realm.InitialRIM(s.Params)
}
func (s InitRIPASStep) Measure(h realm.HashAlgorithm, rim *realm.Measurement) {
	rim.ExtendRIPAS(h, s.Base, s.Top)
}
func (s DataCreateStep) Measure(h realm.HashAlgorithm, rim *realm.Measurement) {
	rim.ExtendData(h, s.IPA, s.Flags, s.Content)
}

// Measure extends the RIM for a runnable REC only.
func (s RECCreateStep) Measure(h realm.HashAlgorithm, rim *realm.Measurement) {
	if s.Runnable() {
		rim.ExtendREC(h, s.Params)
	}
}

// Runnable reports whether the REC is created runnable (and so measured).
func (s RECCreateStep) Runnable() bool { return s.Params.Flags&realm.RECFlagRunnable != 0 }

// Measured reports whether the granule's content is measured.
func (s DataCreateStep) Measured() bool { return s.Flags == realm.MeasureContent }

func (s RealmCreateStep) String() string {
	p := s.Params
	return fmt.Sprintf("REALM_CREATE s2sz=%d hash=%s flags=%#x num_bps=%d num_wps=%d pmu_num_ctrs=%d sve_vl=%d rtt_level_start=%d rtt_num_start=%d vmid=%d",
		p.S2SZ, p.HashAlgo, p.Flags, p.NumBPS, p.NumWPS, p.PMUNumCtrs, p.SVEVL, s.RTTLevelStart, s.RTTNumStart, s.VMID)
}

func (s InitRIPASStep) String() string {
	return fmt.Sprintf("RTT_INIT_RIPAS [%#x, %#x) level %d", s.Base, s.Top, s.Level)
}

func (s DataCreateStep) String() string {
	m := "measured"
	if !s.Measured() {
		m = "unmeasured"
	}
	return fmt.Sprintf("DATA_CREATE %#x %s (%s)", s.IPA, m, s.Image)
}

func (s RECCreateStep) String() string {
	r := "runnable"
	if !s.Runnable() {
		r = "not runnable, not measured"
	}
	return fmt.Sprintf("REC_CREATE %d mpidr=%#x pc=%#x %s", s.Index, s.MPIDR, s.Params.PC, r)
}

// Plan is the ordered RMI build sequence of a realm description.
type Plan struct {
	HashAlgo realm.HashAlgorithm
	RPV      [realm.PersonalizationValueSize]byte
	Steps    []Step
}

// Prediction holds the reference values a realm description gives: the
// RIM, the algorithm it is computed with, and the RPV.
type Prediction struct {
	HashAlgo realm.HashAlgorithm
	RIM      []byte // HashAlgo.Size() bytes
	RPV      []byte // realm.PersonalizationValueSize bytes
}

// Replay applies the steps in order and returns the final RIM, calling fn
// (when not nil) with each step and the RIM after it.
func (p *Plan) Replay(fn func(s Step, rim *realm.Measurement)) realm.Measurement {
	var rim realm.Measurement
	for _, s := range p.Steps {
		s.Measure(p.HashAlgo, &rim)
		if fn != nil {
			fn(s, &rim)
		}
	}
	return rim
}

// Predict replays the plan and returns the reference values.
func (p *Plan) Predict() Prediction {
	rim := p.Replay(nil)
	return Prediction{
		HashAlgo: p.HashAlgo,
		RIM:      bytes.Clone(rim.Value(p.HashAlgo)),
		RPV:      bytes.Clone(p.RPV[:]),
	}
}

// PredictRIM builds the plan of a description and replays it.
func PredictRIM(d *Description, load Loader) (Prediction, error) {
	p, err := d.Plan(load)
	if err != nil {
		return Prediction{}, err
	}
	return p.Predict(), nil
}

// Plan validates the description, loads its images with load (needed only
// for file images) and returns the build sequence in the conventional
// order described at the top of this file.
func (d *Description) Plan(load Loader) (*Plan, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	images, err := d.loadImages(load)
	if err != nil {
		return nil, err
	}
	r := &d.Realm
	level, num := r.RTTStart()
	p := &Plan{HashAlgo: r.HashAlgo, RPV: r.RPV}
	p.Steps = append(p.Steps, RealmCreateStep{
		Params: r.Measured(), RPV: r.RPV, VMID: r.VMID, RTTLevelStart: level, RTTNumStart: num,
	})

	ram := slices.Clone(d.RAM)
	slices.SortFunc(ram, func(a, b RAMRange) int { return cmpUint64(a.Base, b.Base) })
	for _, rr := range ram {
		for _, e := range RIPASEntries(rr.Base, rr.Top(), level) {
			p.Steps = append(p.Steps, e)
		}
	}

	order := make([]int, len(d.Images))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmpUint64(d.Images[a].IPA, d.Images[b].IPA) })
	data := func(measured bool) {
		for _, i := range order {
			im := &d.Images[i]
			if im.Measured != measured {
				continue
			}
			flags := realm.NoMeasureContent
			if measured {
				flags = realm.MeasureContent
			}
			buf := images[i]
			base := im.IPA &^ (realm.GranuleSize - 1)
			for off := 0; off < len(buf); off += realm.GranuleSize {
				p.Steps = append(p.Steps, DataCreateStep{
					IPA: base + uint64(off), Flags: flags, Image: im.Name, Content: buf[off : off+realm.GranuleSize : off+realm.GranuleSize],
				})
			}
		}
	}
	data(true)
	for i, rec := range d.RECs {
		rp := realm.RecParams{PC: rec.PC, GPRs: rec.GPRs}
		if rec.Runnable {
			rp.Flags = realm.RECFlagRunnable
		}
		p.Steps = append(p.Steps, RECCreateStep{Index: i, MPIDR: rec.MPIDR, Params: rp})
	}
	data(false)
	return p, nil
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// loadImages returns each image as it lies in guest memory: the granules
// it touches, its content at its offset in the first one, zeros around.
// File images are loaded here, and the placement checks are repeated with
// their real sizes.
func (d *Description) loadImages(load Loader) ([][]byte, error) {
	contents := make([][]byte, len(d.Images))
	sizes := make([]uint64, len(d.Images))
	for i := range d.Images {
		im := &d.Images[i]
		f := fmt.Sprintf("images[%d]", i)
		switch {
		case im.File != "":
			if load == nil {
				return nil, fieldError(f+".file", "%s: no loader for image files", im.File)
			}
			b, err := load(im.File)
			if err != nil {
				return nil, fieldError(f+".file", "%v", err)
			}
			if len(b) == 0 && im.Size == 0 {
				return nil, fieldError(f+".file", "%s is empty", im.File)
			}
			if im.Size != 0 && uint64(len(b)) > im.Size {
				return nil, fieldError(f+".size", "%#x is smaller than %s (%d bytes)", im.Size, im.File, len(b))
			}
			contents[i], sizes[i] = b, max(im.Size, uint64(len(b)))
		case im.Data != nil:
			contents[i], sizes[i] = im.Data, max(im.Size, uint64(len(im.Data)))
		default:
			sizes[i] = im.Size
		}
	}
	if err := d.checkPlacement(sizes); err != nil {
		return nil, err
	}
	out := make([][]byte, len(d.Images))
	for i := range d.Images {
		im := &d.Images[i]
		lo, hi := granuleSpan(im.IPA, sizes[i])
		buf := make([]byte, hi-lo)
		dst := buf[im.IPA-lo : im.IPA-lo+sizes[i]]
		if im.Fill != nil {
			for off := 0; off < len(dst); off += copy(dst[off:], im.Fill) {
			}
		} else {
			copy(dst, contents[i])
		}
		out[i] = buf
	}
	return out, nil
}
