// Package realmbuild is the realm-building toolchain: the realm description
// (a JSON account of a realm as a VMM builds it, and its image files), the
// RMI build sequence a VMM runs for it (Plan, with the RTT geometry it
// needs), and the RIM predicted by replaying that sequence with the
// measurement algorithms of package realm. The emulated VMM builds realms
// from the same Plan, so a predicted RIM and an emulated one agree by
// construction; `ccatoken measure` writes the predictions as reference values.
package realmbuild

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ccakit/cca/realm"
)

// This file is the realm description: a JSON account of a realm as a VMM
// builds it (realm parameters, guest RAM, the images loaded into it, the
// vCPUs), from which plan.go derives the RMI build sequence and the RIM.
// docs/realm-description.md documents the format with an example.

// ErrDescription is wrapped by every error about a realm description: bad
// JSON, an invalid or inconsistent field, an image that cannot be loaded,
// a limit exceeded.
var ErrDescription = errors.New("realm description")

// Limits on what a description may ask for. A description is input: a size
// field of 0xffffffffff must get an error, not an allocation the process
// cannot survive. The limits are far above real realms (a kvmtool or QEMU
// realm loads a kernel of tens of MB, an initrd and a DTB).
const (
	// MaxImagesSize bounds the sum of the images' sizes, each rounded out
	// to whole granules: the memory that prediction and the emulated VMM
	// fill with their contents.
	MaxImagesSize = 1 << 30
	// MaxDescriptionSize bounds a description file.
	MaxDescriptionSize = 64 << 20
)

// Description is a realm as a VMM builds it. ParseDescription reads and
// validates the JSON form, with its defaults applied; a Description built
// in Go must pass Validate (Plan calls it).
type Description struct {
	Realm  Parameters
	RAM    []RAMRange // guest RAM; INIT_RIPAS sets it to RIPAS RAM
	Images []Image    // loaded by DATA_CREATE, in any order
	RECs   []REC      // the vCPUs, in REC index order
}

// Parameters are the RmiRealmParams the VMM passes to RMI_REALM_CREATE
// (Arm DEN0137 1.0-REL0, RmiRealmParams type). The counts are the RMI
// encodings, as measured.
type Parameters struct {
	S2SZ     uint                // IPA width in bits; the PAR is [0, 2^(S2SZ-1))
	HashAlgo realm.HashAlgorithm // RIM/REM algorithm
	RPV      [realm.PersonalizationValueSize]byte

	// NumBPS and NumWPS are "minus one" encodings, as in
	// ID_AA64DFR0_EL1.BRPs/WRPs and RmiFeatureRegister0: the number of
	// breakpoints (watchpoints) minus one. 0 is reserved (TF-RMM rejects
	// it); a realm with 6 breakpoints has NumBPS 5.
	NumBPS, NumWPS uint32
	PMUNumCtrs     uint32 // PMU event counters; only with PMU
	SVEVL          uint32 // SVE vector length as VQ-1 (VL/128 - 1); only with SVE

	LPA2, SVE, PMU bool // RmiRealmFlags bits 0, 1, 2

	VMID uint16 // not measured

	// RTTLevelStart and RTTNumStart are the starting level of the stage-2
	// tables and the number of concatenated tables there. Nil means the
	// default a VMM picks (DefaultRTTStart): the fewest levels, with up to
	// 16 concatenated tables. They are not measured, but the level decides
	// the RTT_INIT_RIPAS descriptors (see RIPASEntries).
	RTTLevelStart *int
	RTTNumStart   *int
}

// Flags is the RmiRealmFlags value of the parameters.
func (p *Parameters) Flags() uint64 {
	var f uint64
	if p.LPA2 {
		f |= 1 << 0
	}
	if p.SVE {
		f |= 1 << 1
	}
	if p.PMU {
		f |= 1 << 2
	}
	return f
}

// Measured returns the fields of the parameters that the RIM covers.
func (p *Parameters) Measured() realm.RealmParams {
	return realm.RealmParams{
		Flags: p.Flags(), S2SZ: uint32(p.S2SZ), SVEVL: p.SVEVL, NumBPS: p.NumBPS,
		NumWPS: p.NumWPS, PMUNumCtrs: p.PMUNumCtrs, HashAlgo: p.HashAlgo,
	}
}

// RTTStart returns the starting level and the number of starting-level
// tables: the ones given, or the defaults.
func (p *Parameters) RTTStart() (level, num int) {
	level, num = DefaultRTTStart(p.S2SZ)
	if p.RTTLevelStart != nil {
		level = *p.RTTLevelStart
		num = rttNumStart(p.S2SZ, level)
	}
	if p.RTTNumStart != nil {
		num = *p.RTTNumStart
	}
	return level, num
}

// RAMRange is a range of guest RAM, [Base, Base+Size).
type RAMRange struct {
	Base, Size uint64
}

// Top is the end of the range (exclusive).
func (r RAMRange) Top() uint64 { return r.Base + r.Size }

// Image is a blob the VMM loads into guest RAM with RMI_DATA_CREATE before
// the realm runs: a kernel, an initrd, a DTB, firmware. Its content is
// exactly one of File, Data or Fill.
type Image struct {
	Name string
	// IPA is where the first byte goes. It need not be granule aligned:
	// the granules the image touches are measured whole, the bytes around
	// the image being zero.
	IPA uint64
	// Size is the size of the image in guest memory. For File and Data, 0
	// means the content's length, and a larger size pads the content with
	// zeros (a DTB in a fixed 64 KB slot). For Fill it is required.
	Size uint64
	// Measured selects RMI_DATA_CREATE with RMI_MEASURE_CONTENT; an
	// unmeasured image uses RMI_NO_MEASURE_CONTENT, whose descriptor
	// still enters the RIM (IPA and flags, no content hash).
	Measured bool

	File string // a file, relative to the description's directory
	Data []byte // inline content
	Fill []byte // a pattern repeated over Size bytes
}

// REC is a vCPU: RMI_REC_CREATE parameters (Arm DEN0137 1.0-REL0,
// RmiRecParams type).
type REC struct {
	PC       uint64
	GPRs     [8]uint64 // x0..x7
	Runnable bool      // only runnable RECs are measured
	MPIDR    uint64    // must give the REC its index (MPIDRForIndex)
}

// Limits of the description: the widths of the RmiFeatureRegister0 fields
// and the RMI_REALM_CREATE rtt_num_level condition (Arm DEN0137 1.0-REL0),
// with TF-RMM rmm-spec-v1.0-rel0 lib/smc/include/smc-rmi.h and
// runtime/rmi/realm.c for the IPA bounds.
const (
	MinS2SZ = 32 // TF-RMM MIN_IPA_BITS
	// MaxS2SZ is 48: wider IPA spaces need LPA2 and a level -1 start,
	// which this package does not model.
	MaxS2SZ      = 48
	maxBPS       = 63 // 6-bit NUM_BPS / NUM_WPS fields
	maxPMUCtrs   = 31 // 5-bit PMU_NUM_CTRS
	maxSVEVL     = 15 // 4-bit SVE_VL
	maxRTTLevel  = 3
	maxRTTConcat = 16
)

// ParseDescription parses and validates the JSON form of a realm
// description (docs/realm-description.md). Unknown members are an error,
// and every error names the member at fault, e.g.
// "realm description: images[1].ipa: 0x80000800 is outside guest RAM".
func ParseDescription(data []byte) (*Description, error) {
	var j jsonDescription
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrDescription)
	}
	d, err := j.convert()
	if err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// ReadDescriptionFile reads a description file and returns it with a
// Loader that resolves image files relative to the file's directory.
func ReadDescriptionFile(path string) (*Description, Loader, error) {
	data, err := readBounded(path, MaxDescriptionSize)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrDescription, err)
	}
	d, err := ParseDescription(data)
	if err != nil {
		return nil, nil, err
	}
	return d, DirLoader(filepath.Dir(path)), nil
}

// Loader returns the content of an image file named in a description.
type Loader func(path string) ([]byte, error)

// DirLoader loads image files relative to dir (absolute paths as they are).
// A file must be a regular file of at most MaxImagesSize bytes.
func DirLoader(dir string) Loader {
	return func(path string) ([]byte, error) {
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		return readBounded(path, MaxImagesSize)
	}
}

// readBounded reads a regular file of at most limit bytes. The size is
// checked before reading, and a device or a pipe (/dev/zero) is refused,
// since its size says nothing about how much it would give.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the limit of %d", path, fi.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit { // it grew while being read
		return nil, fmt.Errorf("%s is more than the limit of %d bytes", path, limit)
	}
	return data, nil
}

// fieldError is a description error naming the member at fault.
func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrDescription, field, fmt.Sprintf(format, args...))
}

// jsonError words a decoding error: the member and what was wrong.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(top level)"
		}
		return fieldError(field, "a JSON %s, want %s", te.Value, jsonKind(te.Type.Kind().String()))
	case errors.As(err, &se):
		return fmt.Errorf("%w: invalid JSON at byte %d: %s", ErrDescription, se.Offset, se.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: truncated or empty JSON", ErrDescription)
	}
	return fmt.Errorf("%w: %s", ErrDescription, strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(k string) string {
	switch k {
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "true or false"
	}
	return "a " + k
}

// The JSON form. Numbers are kept raw (jsonNum) so that their errors can
// name the member; byte strings are plain hex.

type jsonDescription struct {
	Comment string      `json:"comment"`
	Realm   *jsonRealm  `json:"realm"`
	RAM     []jsonRAM   `json:"ram"`
	Images  []jsonImage `json:"images"`
	RECs    []jsonREC   `json:"recs"`
}

type jsonRealm struct {
	S2SZ          jsonNum    `json:"s2sz"`
	HashAlgo      *string    `json:"hash_algo"`
	RPV           *string    `json:"rpv"`
	NumBPS        jsonNum    `json:"num_bps"`
	NumWPS        jsonNum    `json:"num_wps"`
	PMUNumCtrs    jsonNum    `json:"pmu_num_ctrs"`
	SVEVL         jsonNum    `json:"sve_vl"`
	Flags         *jsonFlags `json:"flags"`
	VMID          jsonNum    `json:"vmid"`
	RTTLevelStart jsonNum    `json:"rtt_level_start"`
	RTTNumStart   jsonNum    `json:"rtt_num_start"`
}

type jsonFlags struct {
	LPA2 bool `json:"lpa2"`
	SVE  bool `json:"sve"`
	PMU  bool `json:"pmu"`
}

type jsonRAM struct {
	Base jsonNum `json:"base"`
	Size jsonNum `json:"size"`
}

type jsonImage struct {
	Name     string  `json:"name"`
	IPA      jsonNum `json:"ipa"`
	Size     jsonNum `json:"size"`
	Measured *bool   `json:"measured"`
	File     *string `json:"file"`
	Hex      *string `json:"hex"`
	Fill     *string `json:"fill"`
}

type jsonREC struct {
	PC       jsonNum   `json:"pc"`
	GPRs     []jsonNum `json:"gprs"`
	Runnable *bool     `json:"runnable"`
	MPIDR    jsonNum   `json:"mpidr"`
}

// jsonNum is a number member kept raw: a JSON number or a "0x…" string.
// A JSON null is the same as an absent member.
type jsonNum struct{ raw json.RawMessage }

func (n *jsonNum) UnmarshalJSON(b []byte) error {
	if string(b) != "null" {
		n.raw = slices.Clone(b)
	}
	return nil
}

func (n jsonNum) present() bool { return n.raw != nil }

// value parses the number, which must not exceed max.
func (n jsonNum) value(field string, max uint64) (uint64, error) {
	s := string(n.raw)
	var (
		v   uint64
		err error
	)
	if strings.HasPrefix(s, `"`) {
		var str string
		if json.Unmarshal(n.raw, &str) != nil || !(strings.HasPrefix(str, "0x") || strings.HasPrefix(str, "0X")) {
			return 0, fieldError(field, "%s: want a JSON number or a \"0x…\" hex string", s)
		}
		v, err = strconv.ParseUint(str[2:], 16, 64)
	} else {
		v, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fieldError(field, "%s does not fit in 64 bits", s)
		}
		return 0, fieldError(field, "%s: want a non-negative integer, as a JSON number or a \"0x…\" hex string", s)
	}
	if v > max {
		return 0, fieldError(field, "%s is above the maximum %d", s, max)
	}
	return v, nil
}

// required is value for a mandatory member.
func (n jsonNum) required(field string, max uint64) (uint64, error) {
	if !n.present() {
		return 0, fieldError(field, "missing")
	}
	return n.value(field, max)
}

// optional is value for an optional member, def when absent.
func (n jsonNum) optional(field string, max, def uint64) (uint64, error) {
	if !n.present() {
		return def, nil
	}
	return n.value(field, max)
}

// parseHexBytes reads a byte string member: hex digits, either case, no
// prefix.
func parseHexBytes(field, s string) ([]byte, error) {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return nil, fieldError(field, "byte strings are plain hex digits, without a 0x prefix")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fieldError(field, "not hex: %v", err)
	}
	return b, nil
}

// convert turns the JSON form into a Description, applying the defaults.
// The checks here are about the form (types, ranges of the encodings);
// Validate checks the realm as a whole.
func (j *jsonDescription) convert() (*Description, error) {
	if j.Realm == nil {
		return nil, fieldError("realm", "missing")
	}
	d := &Description{}
	if err := j.Realm.convert(&d.Realm); err != nil {
		return nil, err
	}
	for i, r := range j.RAM {
		f := fmt.Sprintf("ram[%d]", i)
		base, err := r.Base.required(f+".base", 1<<64-1)
		if err != nil {
			return nil, err
		}
		size, err := r.Size.required(f+".size", 1<<64-1)
		if err != nil {
			return nil, err
		}
		d.RAM = append(d.RAM, RAMRange{Base: base, Size: size})
	}
	for i, im := range j.Images {
		img, err := im.convert(fmt.Sprintf("images[%d]", i))
		if err != nil {
			return nil, err
		}
		d.Images = append(d.Images, img)
	}
	for i, r := range j.RECs {
		rec, err := r.convert(fmt.Sprintf("recs[%d]", i), i)
		if err != nil {
			return nil, err
		}
		d.RECs = append(d.RECs, rec)
	}
	return d, nil
}

func (j *jsonRealm) convert(p *Parameters) error {
	s2sz, err := j.S2SZ.required("realm.s2sz", 64)
	if err != nil {
		return err
	}
	p.S2SZ = uint(s2sz)
	if j.HashAlgo == nil {
		return fieldError("realm.hash_algo", "missing (\"sha-256\" or \"sha-512\")")
	}
	if p.HashAlgo, err = realm.HashAlgorithmByName(*j.HashAlgo); err != nil {
		return fieldError("realm.hash_algo", "%q: want \"sha-256\" or \"sha-512\"", *j.HashAlgo)
	}
	if j.RPV != nil {
		rpv, err := parseHexBytes("realm.rpv", *j.RPV)
		if err != nil {
			return err
		}
		if len(rpv) > realm.PersonalizationValueSize {
			return fieldError("realm.rpv", "%d bytes, at most %d", len(rpv), realm.PersonalizationValueSize)
		}
		copy(p.RPV[:], rpv) // zero-padded on the right
	}
	nums := []struct {
		n        jsonNum
		field    string
		max      uint64
		required bool
		dst      *uint32
	}{
		{j.NumBPS, "realm.num_bps", maxBPS, true, &p.NumBPS},
		{j.NumWPS, "realm.num_wps", maxBPS, true, &p.NumWPS},
		{j.PMUNumCtrs, "realm.pmu_num_ctrs", maxPMUCtrs, false, &p.PMUNumCtrs},
		{j.SVEVL, "realm.sve_vl", maxSVEVL, false, &p.SVEVL},
	}
	for _, n := range nums {
		var v uint64
		if n.required {
			v, err = n.n.required(n.field, n.max)
		} else {
			v, err = n.n.optional(n.field, n.max, 0)
		}
		if err != nil {
			return err
		}
		*n.dst = uint32(v)
	}
	if j.Flags != nil {
		p.LPA2, p.SVE, p.PMU = j.Flags.LPA2, j.Flags.SVE, j.Flags.PMU
	}
	vmid, err := j.VMID.optional("realm.vmid", 0xFFFF, 0)
	if err != nil {
		return err
	}
	p.VMID = uint16(vmid)
	if j.RTTLevelStart.present() {
		v, err := j.RTTLevelStart.value("realm.rtt_level_start", maxRTTLevel)
		if err != nil {
			return err
		}
		level := int(v)
		p.RTTLevelStart = &level
	}
	if j.RTTNumStart.present() {
		v, err := j.RTTNumStart.value("realm.rtt_num_start", maxRTTConcat)
		if err != nil {
			return err
		}
		num := int(v)
		p.RTTNumStart = &num
	}
	return nil
}

func (j *jsonImage) convert(f string) (Image, error) {
	img := Image{Name: j.Name, Measured: j.Measured == nil || *j.Measured}
	var err error
	if img.IPA, err = j.IPA.required(f+".ipa", 1<<64-1); err != nil {
		return img, err
	}
	if img.Size, err = j.Size.optional(f+".size", 1<<64-1, 0); err != nil {
		return img, err
	}
	n := 0
	if j.File != nil {
		n++
		img.File = *j.File
	}
	if j.Hex != nil {
		n++
		if img.Data, err = parseHexBytes(f+".hex", *j.Hex); err != nil {
			return img, err
		}
		if img.Data == nil {
			img.Data = []byte{}
		}
	}
	if j.Fill != nil {
		n++
		if img.Fill, err = parseHexBytes(f+".fill", *j.Fill); err != nil {
			return img, err
		}
		if img.Fill == nil {
			img.Fill = []byte{}
		}
	}
	if n != 1 {
		return img, fieldError(f, "give exactly one of \"file\", \"hex\" and \"fill\" (found %d)", n)
	}
	return img, nil
}

func (j *jsonREC) convert(f string, index int) (REC, error) {
	rec := REC{Runnable: index == 0}
	if j.Runnable != nil {
		rec.Runnable = *j.Runnable
	}
	var err error
	if rec.PC, err = j.PC.required(f+".pc", 1<<64-1); err != nil {
		return rec, err
	}
	if len(j.GPRs) > len(rec.GPRs) {
		return rec, fieldError(f+".gprs", "%d values, at most %d (x0..x7)", len(j.GPRs), len(rec.GPRs))
	}
	for i, g := range j.GPRs {
		if rec.GPRs[i], err = g.required(fmt.Sprintf("%s.gprs[%d]", f, i), 1<<64-1); err != nil {
			return rec, err
		}
	}
	if rec.MPIDR, err = j.MPIDR.optional(f+".mpidr", 1<<64-1, MPIDRForIndex(index)); err != nil {
		return rec, err
	}
	return rec, nil
}

// MPIDRForIndex is the RmiRecMpidr of the REC with index i. The RMM
// numbers RECs Aff0[3:0] | Aff1 << 4 | Aff2 << 12 | Aff3 << 20, with Aff0
// in bits [3:0], Aff1 [15:8], Aff2 [23:16] and Aff3 [31:24]
// (Arm DEN0137 1.0-REL0, RmiRecMpidr type and RMI_REC_CREATE mpidr_index
// condition; TF-RMM rmm-spec-v1.0-rel0 runtime/include/rec.h), and they
// must be created in index order.
func MPIDRForIndex(i int) uint64 {
	u := uint64(i)
	return u&0xF | (u>>4&0xFF)<<8 | (u>>12&0xFF)<<16 | (u>>20&0xFF)<<24
}

// RECIndex is the REC index of an RmiRecMpidr, and false when it has bits
// set outside Aff0[3:0], Aff1, Aff2 and Aff3.
func RECIndex(mpidr uint64) (int, bool) {
	const valid = 0xF | 0xFF<<8 | 0xFF<<16 | 0xFF<<24
	if mpidr&^valid != 0 {
		return 0, false
	}
	return int(mpidr&0xF | (mpidr>>8&0xFF)<<4 | (mpidr>>16&0xFF)<<12 | (mpidr>>24&0xFF)<<20), true
}

// Validate checks a description: the parameters are encodable and
// consistent, the RAM is granule aligned, inside the PAR and free of
// overlaps, every image lies in RAM without sharing a granule with another,
// and the RECs have the MPIDRs of their indexes, one at least runnable.
func (d *Description) Validate() error {
	p := &d.Realm
	if p.S2SZ < MinS2SZ || p.S2SZ > MaxS2SZ {
		return fieldError("realm.s2sz", "%d: must be %d to %d", p.S2SZ, MinS2SZ, MaxS2SZ)
	}
	if !p.HashAlgo.Valid() {
		return fieldError("realm.hash_algo", "%v", p.HashAlgo)
	}
	for _, c := range []struct {
		field string
		v     uint32
	}{{"realm.num_bps", p.NumBPS}, {"realm.num_wps", p.NumWPS}} {
		if c.v == 0 || c.v > maxBPS {
			return fieldError(c.field, "%d: must be 1 to %d (the count minus one; 0 is reserved)", c.v, maxBPS)
		}
	}
	if p.PMUNumCtrs > maxPMUCtrs {
		return fieldError("realm.pmu_num_ctrs", "%d: at most %d", p.PMUNumCtrs, maxPMUCtrs)
	}
	if p.PMUNumCtrs != 0 && !p.PMU {
		return fieldError("realm.pmu_num_ctrs", "%d PMU counters without flags.pmu", p.PMUNumCtrs)
	}
	if p.SVEVL > maxSVEVL {
		return fieldError("realm.sve_vl", "%d: at most %d", p.SVEVL, maxSVEVL)
	}
	if p.SVEVL != 0 && !p.SVE {
		return fieldError("realm.sve_vl", "%d without flags.sve", p.SVEVL)
	}
	if err := p.validateRTTStart(); err != nil {
		return err
	}
	if err := d.validateRAM(); err != nil {
		return err
	}
	if err := d.validateImages(); err != nil {
		return err
	}
	return d.validateRECs()
}

func (p *Parameters) validateRTTStart() error {
	if p.RTTNumStart != nil && p.RTTLevelStart == nil {
		return fieldError("realm.rtt_num_start", "given without rtt_level_start")
	}
	if p.RTTLevelStart == nil {
		return nil
	}
	level := *p.RTTLevelStart
	if level < 0 || level > maxRTTLevel {
		return fieldError("realm.rtt_level_start", "%d: must be 0 to %d", level, maxRTTLevel)
	}
	if n := rttNumStart(p.S2SZ, level); n == 0 {
		min, _ := DefaultRTTStart(p.S2SZ)
		return fieldError("realm.rtt_level_start", "level %d cannot start a %d-bit IPA space (it would need more than %d concatenated tables); use level %d or lower",
			level, p.S2SZ, maxRTTConcat, min)
	} else if p.RTTNumStart != nil && *p.RTTNumStart != n {
		return fieldError("realm.rtt_num_start", "%d: a %d-bit IPA space starting at level %d has %d table(s)", *p.RTTNumStart, p.S2SZ, level, n)
	}
	return nil
}

// parTop is the end of the Protected Address Range, 2^(s2sz-1).
func (p *Parameters) parTop() uint64 { return 1 << (p.S2SZ - 1) }

func (d *Description) validateRAM() error {
	if len(d.RAM) == 0 {
		return fieldError("ram", "no RAM ranges")
	}
	par := d.Realm.parTop()
	for i, r := range d.RAM {
		f := fmt.Sprintf("ram[%d]", i)
		switch {
		case r.Base%realm.GranuleSize != 0:
			return fieldError(f+".base", "%#x is not 4 KB aligned", r.Base)
		case r.Size == 0:
			return fieldError(f+".size", "zero")
		case r.Size%realm.GranuleSize != 0:
			return fieldError(f+".size", "%#x is not a multiple of 4 KB", r.Size)
		case r.Base >= par || r.Size > par-r.Base:
			return fieldError(f, "[%#x, %#x) is outside the protected IPA range [0, %#x) of a %d-bit realm",
				r.Base, r.Base+r.Size, par, d.Realm.S2SZ)
		}
	}
	// Overlaps are found among neighbours in base order, so that a
	// description of many ranges costs n log n, not n² (a 64 MB description
	// holds a million ranges).
	for _, p := range overlappingPair(len(d.RAM), func(i int) (uint64, uint64) { return d.RAM[i].Base, d.RAM[i].Top() }) {
		i, k := p[0], p[1]
		r, o := d.RAM[i], d.RAM[k]
		return fieldError(fmt.Sprintf("ram[%d]", i), "[%#x, %#x) overlaps ram[%d] [%#x, %#x)", r.Base, r.Top(), k, o.Base, o.Top())
	}
	return nil
}

// overlappingPair returns, when two of the n ranges [lo(i), hi(i)) overlap,
// one such pair {i, k} with k < i (at most one pair, as a slice to range
// over), and nil when they are disjoint. Sorted by start, ranges are
// disjoint if and only if each starts at or after the end of the one
// before, so comparing neighbours is enough.
func overlappingPair(n int, bounds func(i int) (lo, hi uint64)) [][2]int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		la, _ := bounds(a)
		lb, _ := bounds(b)
		return cmp.Compare(la, lb)
	})
	var end uint64 // the furthest end so far, and whose it is
	endOf := -1
	for _, i := range order {
		lo, hi := bounds(i)
		if endOf >= 0 && lo < end {
			return [][2]int{{max(i, endOf), min(i, endOf)}}
		}
		if endOf < 0 || hi > end {
			end, endOf = hi, i
		}
	}
	return nil
}

// granuleSpan is the granule-aligned range [lo, hi) that size bytes at
// ipa occupy.
func granuleSpan(ipa, size uint64) (lo, hi uint64) {
	lo = ipa &^ (realm.GranuleSize - 1)
	hi = ipa + size
	if hi%realm.GranuleSize != 0 {
		hi += realm.GranuleSize - hi%realm.GranuleSize
	}
	return lo, hi
}

// ramSpans returns the RAM ranges sorted and merged, adjacent ranges
// becoming one, for inRAM.
func (d *Description) ramSpans() []RAMRange {
	spans := slices.Clone(d.RAM)
	slices.SortFunc(spans, func(a, b RAMRange) int { return cmp.Compare(a.Base, b.Base) })
	var merged []RAMRange
	for _, r := range spans {
		if n := len(merged); n > 0 && r.Base <= merged[n-1].Top() {
			if r.Top() > merged[n-1].Top() {
				merged[n-1].Size = r.Top() - merged[n-1].Base
			}
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// inRAM reports whether [lo, hi) is covered by spans (from ramSpans): it
// must lie within the one merged span that holds lo.
func inRAM(spans []RAMRange, lo, hi uint64) bool {
	// The first span starting after lo; the one before it may hold lo.
	j, _ := slices.BinarySearchFunc(spans, lo, func(r RAMRange, v uint64) int {
		if r.Base <= v {
			return -1
		}
		return 1
	})
	if j == 0 {
		return false
	}
	r := spans[j-1]
	return lo < r.Top() && hi <= r.Top()
}

func (d *Description) validateImages() error {
	names := map[string]int{}
	sizes := make([]uint64, len(d.Images))
	for i := range d.Images {
		im := &d.Images[i]
		f := fmt.Sprintf("images[%d]", i)
		if im.Name == "" {
			return fieldError(f+".name", "missing")
		}
		if k, dup := names[im.Name]; dup {
			return fieldError(f+".name", "%q is also the name of images[%d]", im.Name, k)
		}
		names[im.Name] = i
		sources := 0
		for _, set := range []bool{im.File != "", im.Data != nil, im.Fill != nil} {
			if set {
				sources++
			}
		}
		if sources != 1 {
			return fieldError(f, "give exactly one of file, hex and fill")
		}
		switch {
		case im.Fill != nil && len(im.Fill) == 0:
			return fieldError(f+".fill", "empty pattern")
		case im.Fill != nil && im.Size == 0:
			return fieldError(f+".size", "required with fill")
		case im.Data != nil && im.Size != 0 && im.Size < uint64(len(im.Data)):
			return fieldError(f+".size", "%#x is smaller than the %d bytes of hex", im.Size, len(im.Data))
		case im.Data != nil && len(im.Data) == 0 && im.Size == 0:
			return fieldError(f+".hex", "empty image")
		}
		// A file image without a size is checked here as one byte, and
		// again with its real size once loaded (Plan).
		sizes[i] = max(im.Size, uint64(len(im.Data)), 1)
	}
	return d.checkPlacement(sizes)
}

// checkPlacement checks that each image, of the given size, lies in
// protected RAM and shares no granule with another (a granule is created
// once). It costs n log n in the number of images and RAM ranges.
func (d *Description) checkPlacement(sizes []uint64) error {
	par := d.Realm.parTop()
	spans := d.ramSpans()
	var total uint64
	for i, im := range d.Images {
		f := fmt.Sprintf("images[%d]", i)
		size := sizes[i]
		if im.IPA >= par {
			return fieldError(f+".ipa", "%#x is outside the protected IPA range [0, %#x)", im.IPA, par)
		}
		if size > par-im.IPA {
			return fieldError(f, "%q (%#x bytes at %#x) runs past the protected IPA range [0, %#x)", im.Name, size, im.IPA, par)
		}
		lo, hi := granuleSpan(im.IPA, size)
		if total += hi - lo; total > MaxImagesSize {
			return fieldError(f, "%q (%#x bytes) brings the images to %#x bytes in whole granules, more than the limit of %#x (MaxImagesSize)",
				im.Name, size, total, uint64(MaxImagesSize))
		}
		if !inRAM(spans, lo, hi) {
			return fieldError(f, "%q [%#x, %#x) is not inside guest RAM", im.Name, im.IPA, im.IPA+size)
		}
	}
	for _, p := range overlappingPair(len(d.Images), func(i int) (uint64, uint64) { return granuleSpan(d.Images[i].IPA, sizes[i]) }) {
		i, k := p[0], p[1]
		im, o := d.Images[i], d.Images[k]
		return fieldError(fmt.Sprintf("images[%d]", i), "%q [%#x, %#x) shares granules with images[%d] %q [%#x, %#x) (each granule is created once)",
			im.Name, im.IPA, im.IPA+sizes[i], k, o.Name, o.IPA, o.IPA+sizes[k])
	}
	return nil
}

func (d *Description) validateRECs() error {
	if len(d.RECs) == 0 {
		return fieldError("recs", "no RECs")
	}
	runnable := false
	for i, r := range d.RECs {
		f := fmt.Sprintf("recs[%d]", i)
		idx, ok := RECIndex(r.MPIDR)
		if !ok {
			return fieldError(f+".mpidr", "%#x: only Aff0[3:0], Aff1, Aff2 and Aff3 may be set", r.MPIDR)
		}
		if idx != i {
			return fieldError(f+".mpidr", "%#x is REC index %d, but RECs are created in index order: this one needs %#x", r.MPIDR, idx, MPIDRForIndex(i))
		}
		runnable = runnable || r.Runnable
	}
	if !runnable {
		return fieldError("recs", "no runnable REC: the realm could never run")
	}
	return nil
}
