package sharing

import (
	"bytes"
	"fmt"
	"math"
	"strings"
)

// Report is a set of runs, rendered against the cost table (costs.go) as
// a markdown table, CSV and SVG charts comparable with the paper's figure
// 3 (inter-VM communication throughput by packet size).
type Report struct {
	Runs []Run
}

// RunAll runs every mode at every size, calling progress (if not nil)
// after each run.
func RunAll(modes []Mode, sizes []int, opt Options, progress func(Run)) (*Report, error) {
	rep := &Report{}
	for _, size := range sizes {
		for _, mode := range modes {
			r, err := RunMode(mode, size, opt)
			if err != nil {
				return rep, fmt.Errorf("%s at %d bytes: %w", mode, size, err)
			}
			rep.Runs = append(rep.Runs, r)
			if progress != nil {
				progress(r)
			}
		}
	}
	return rep, nil
}

func (rep *Report) find(mode Mode, size int) (Run, bool) {
	for _, r := range rep.Runs {
		if r.Mode == mode && r.Size == size {
			return r, true
		}
	}
	return Run{}, false
}

func (rep *Report) sizes() []int {
	var s []int
	for _, r := range rep.Runs {
		if len(s) == 0 || s[len(s)-1] != r.Size {
			s = append(s, r.Size)
		}
	}
	return s
}

func (rep *Report) modes() []Mode {
	var ms []Mode
	for _, m := range Modes {
		for _, r := range rep.Runs {
			if r.Mode == m {
				ms = append(ms, m)
				break
			}
		}
	}
	return ms
}

// Comparison is a mode against the channel it must beat.
type Comparison struct {
	Mode, Over Mode
	Name       string
}

// The comparisons the report makes: mediated against the paper's
// baseline (the paper's claim), amortised against the strongest fair
// encrypted channel.
var (
	MediatedVsBaseline = Comparison{Mediated, Baseline, "mediated ÷ paper's baseline"}
	BatchVsBaseline    = Comparison{MediatedBatch, Baseline, "mediated-batch ÷ paper's baseline"}
	AmortisedVsSealed  = Comparison{Amortised, SealedInPlace, "amortised ÷ sealed-in-place"}
)

// Speedup is the cycles per message of c.Over divided by those of c.Mode
// at size, under p.
func (rep *Report) Speedup(c Comparison, size int, p Point) (float64, bool) {
	base, ok1 := rep.find(c.Over, size)
	r, ok2 := rep.find(c.Mode, size)
	if !ok1 || !ok2 {
		return 0, false
	}
	return base.CyclesPerMessage(p) / r.CyclesPerMessage(p), true
}

// SpeedupBand is Speedup at the middle point with its sensitivity band.
func (rep *Report) SpeedupBand(c Comparison, size int) (Band, bool) {
	if _, ok := rep.Speedup(c, size, MidPoint()); !ok {
		return Band{}, false
	}
	return band(func(p Point) float64 { v, _ := rep.Speedup(c, size, p); return v }), true
}

// Geomean is the geometric mean over sizes (those in [from, to]) of the
// speedup, with its band: each constant moved for all sizes at once.
func (rep *Report) Geomean(c Comparison, from, to int) (Band, bool) {
	var sizes []int
	for _, s := range rep.sizes() {
		if _, ok := rep.Speedup(c, s, MidPoint()); ok && s >= from && s <= to {
			sizes = append(sizes, s)
		}
	}
	if len(sizes) == 0 {
		return Band{}, false
	}
	return band(func(p Point) float64 {
		var logs float64
		for _, s := range sizes {
			v, _ := rep.Speedup(c, s, p)
			logs += math.Log(v)
		}
		return math.Exp(logs / float64(len(sizes)))
	}), true
}

// Target is one of the benchmark's goals and whether it is met.
type Target struct {
	Name  string
	Value float64
	Goal  float64
	Met   bool
	Over  string
}

// Targets evaluates the goals of issue 10: mediated at least the paper's
// 1.8x over the paper's baseline at the middle of the band (geometric mean
// over sizes, and the lowest size); amortised at least 10x over the
// strongest baseline at every size from 64 KiB at the pessimistic end of
// the band.
func (rep *Report) Targets() []Target {
	var ts []Target
	if g, ok := rep.Geomean(MediatedVsBaseline, 0, math.MaxInt); ok {
		ts = append(ts, Target{Name: "mediated ÷ paper's baseline, geometric mean over sizes, band middle", Value: g.Mid, Goal: 1.8, Met: g.Mid >= 1.8, Over: "all sizes"})
		worst, at := math.Inf(1), 0
		for _, s := range rep.sizes() {
			if v, ok := rep.Speedup(MediatedVsBaseline, s, MidPoint()); ok && v < worst {
				worst, at = v, s
			}
		}
		ts = append(ts, Target{Name: "mediated ÷ paper's baseline, lowest size, band middle", Value: worst, Goal: 1.8, Met: worst >= 1.8, Over: sizeName(at)})
	}
	if g, ok := rep.Geomean(BatchVsBaseline, 0, math.MaxInt); ok {
		ts = append(ts, Target{Name: "mediated-batch ÷ paper's baseline, geometric mean over sizes, band's pessimistic end", Value: g.Low, Goal: 1.8, Met: g.Low >= 1.8, Over: "all sizes"})
	}
	worst, over := math.Inf(1), []string{}
	for _, s := range rep.sizes() {
		if s < 64<<10 {
			continue
		}
		if b, ok := rep.SpeedupBand(AmortisedVsSealed, s); ok {
			worst = min(worst, b.Low)
			over = append(over, sizeName(s))
		}
	}
	if len(over) > 0 {
		ts = append(ts, Target{Name: "amortised ÷ sealed-in-place, lowest at 64 KiB and above, band's pessimistic end", Value: worst, Goal: 10,
			Met: worst >= 10, Over: strings.Join(over, ", ")})
	}
	return ts
}

// Markdown renders the report: the cost table, per-size modelled
// throughput and speedups with their bands, the geometric means, the
// goals, the counted events per message, and the emulator's wall clock
// apart.
func (rep *Report) Markdown() string {
	var b bytes.Buffer
	sizes, modes := rep.sizes(), rep.modes()
	mid := MidPoint()
	fmt.Fprintf(&b, "# Inter-realm messaging: %s\n\n", strings.Join(modeNames(modes), ", "))
	b.WriteString("## Cost model (cycles per counted event)\n\n")
	b.WriteString(DescribeTable())
	fmt.Fprintf(&b, "\n## Modelled throughput (MB/s at %.1f GHz, every constant at its middle value)\n\n", DefaultGHz)
	rep.throughputTable(&b, sizes, modes, " %s |", func(r Run) float64 { return r.ModelledThroughput(mid) })
	b.WriteString("\n## Speedups: middle [band low – high]\n\n")
	b.WriteString("| size | mediated ÷ paper's baseline | same, paper's setting (RSI = 1,865) | mediated-batch ÷ paper's baseline | same, paper's setting | amortised ÷ sealed-in-place | amortised ÷ paper's baseline |\n|---:|---|---:|---|---:|---|---:|\n")
	for _, s := range sizes {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", sizeName(s), rep.bandCell(MediatedVsBaseline, s),
			rep.pointCell(MediatedVsBaseline, s, PaperSetting()), rep.bandCell(BatchVsBaseline, s),
			rep.pointCell(BatchVsBaseline, s, PaperSetting()), rep.bandCell(AmortisedVsSealed, s),
			rep.pointCell(Comparison{Amortised, Baseline, ""}, s, mid))
	}
	b.WriteString("| **geomean** |")
	for _, c := range []Comparison{MediatedVsBaseline, BatchVsBaseline, AmortisedVsSealed} {
		g, ok := rep.Geomean(c, 0, math.MaxInt)
		cell := " – |"
		if ok {
			cell = fmt.Sprintf(" %.2f [%.2f – %.2f] |", g.Mid, g.Low, g.High)
		}
		b.WriteString(cell)
		if c != AmortisedVsSealed {
			if v, ok := rep.geomeanAt(c, PaperSetting()); ok {
				fmt.Fprintf(&b, " %.2f |", v)
			} else {
				b.WriteString(" – |")
			}
		}
	}
	if v, ok := rep.geomeanAt(Comparison{Amortised, Baseline, ""}, mid); ok {
		fmt.Fprintf(&b, " %.2f |\n", v)
	} else {
		b.WriteString(" – |\n")
	}
	if g, ok := rep.Geomean(AmortisedVsSealed, 64<<10, math.MaxInt); ok {
		fmt.Fprintf(&b, "\nAmortised ÷ sealed-in-place, geometric mean from 64 KiB: %.2f [%.2f – %.2f]; the low end comes from %s.\n", g.Mid, g.Low, g.High, g.LowBy)
	}
	b.WriteString("\nThe band moves one constant at a time over its range (the others at their middle values) and keeps the lowest and highest result.\n")
	b.WriteString("\n## Goals\n\n")
	for _, t := range rep.Targets() {
		mark := "met"
		if !t.Met {
			mark = "**missed**"
		}
		fmt.Fprintf(&b, "* %s: %.2fx (goal %.1fx, %s): %s\n", t.Name, t.Value, t.Goal, t.Over, mark)
	}
	b.WriteString("\n## Counted events per message\n\n")
	b.WriteString("| size | mode | msgs | window | cycles/msg (mid) | host exits | RSI in RMM | walks | RTTEs | TLBIs | locks | steps | copy-cache B | copy-mem B | read-mem B | AES-GCM B |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range sizes {
		for _, m := range modes {
			r, ok := rep.find(m, s)
			if !ok {
				continue
			}
			n, c := float64(r.Messages), r.Counts()
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %.0f | %.3f | %.2f | %.2f | %.1f | %.3f | %.2f | %.1f | %.0f | %.0f | %.0f | %.0f |\n",
				sizeName(s), m, r.Messages, r.Window, r.CyclesPerMessage(mid), c[HostExit]/n, c[RSITrap]/n, c[S2Walk]/n,
				c[RTTEntry]/n, c[TLBI]/n, c[Lock]/n, c[Step]/n, c[CopyCache]/n, c[CopyMem]/n, c[ReadMem]/n, c[GCMByte]/n)
		}
	}
	b.WriteString("\n## Emulator wall clock (not modelled cycles)\n\nThe emulator's own speed: its memory accesses go through a software GPC page by page while AES runs natively, so these figures say nothing about hardware.\n\n")
	rep.throughputTable(&b, sizes, modes, " %s MB/s |", Run.WallThroughput)
	return b.String()
}

// throughputTable writes a table of one row per size and one column per
// mode (headed by the mode through column, a format with one %s), each
// cell perSecond(run) in MB/s, or "–" where the report has no such run.
func (rep *Report) throughputTable(b *bytes.Buffer, sizes []int, modes []Mode, column string, perSecond func(Run) float64) {
	b.WriteString("| size |")
	for _, m := range modes {
		fmt.Fprintf(b, column, m)
	}
	b.WriteString("\n|---:|" + strings.Repeat("---:|", len(modes)) + "\n")
	for _, s := range sizes {
		fmt.Fprintf(b, "| %s |", sizeName(s))
		for _, m := range modes {
			if r, ok := rep.find(m, s); ok {
				fmt.Fprintf(b, " %.1f |", perSecond(r)/1e6)
			} else {
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}
}

func (rep *Report) bandCell(c Comparison, size int) string {
	bd, ok := rep.SpeedupBand(c, size)
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.2f [%.2f – %.2f]", bd.Mid, bd.Low, bd.High)
}

func (rep *Report) pointCell(c Comparison, size int, p Point) string {
	v, ok := rep.Speedup(c, size, p)
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

func (rep *Report) geomeanAt(c Comparison, p Point) (float64, bool) {
	var logs float64
	n := 0
	for _, s := range rep.sizes() {
		if v, ok := rep.Speedup(c, s, p); ok {
			logs += math.Log(v)
			n++
		}
	}
	return math.Exp(logs / float64(n)), n > 0
}

func modeNames(ms []Mode) []string {
	var s []string
	for _, m := range ms {
		s = append(s, string(m))
	}
	return s
}

// CSV renders one line per run with every counted event, the modelled
// cycles at the middle point and the emulator's wall clock.
func (rep *Report) CSV() string {
	var b bytes.Buffer
	b.WriteString("mode,size,messages,window,elapsed_ns,wall_bytes_per_s")
	for _, c := range CostTable {
		b.WriteString("," + strings.ReplaceAll(c.Name, ",", ""))
	}
	b.WriteString(",modelled_cycles_mid,modelled_cycles_per_msg_mid,modelled_bytes_per_s_mid\n")
	mid := MidPoint()
	for _, r := range rep.Runs {
		fmt.Fprintf(&b, "%s,%d,%d,%d,%d,%.0f", r.Mode, r.Size, r.Messages, r.Window, r.Elapsed.Nanoseconds(), r.WallThroughput())
		for _, v := range r.Counts() {
			fmt.Fprintf(&b, ",%.0f", v)
		}
		fmt.Fprintf(&b, ",%.0f,%.1f,%.0f\n", r.Cycles(mid), r.CyclesPerMessage(mid), r.ModelledThroughput(mid))
	}
	return b.String()
}

// series styles of the charts.
var seriesStyle = map[Mode]struct{ color, dash string }{
	Mediated:      {"#1f77b4", ""},
	MediatedBatch: {"#9467bd", ""},
	Amortised:     {"#2ca02c", ""},
	Baseline:      {"#d62728", ""},
	SealedInPlace: {"#ff7f0e", "6,4"},
	Direct:        {"#7f7f7f", "2,3"},
}

// ThroughputSVG is the modelled throughput by message size, log-log: the
// counterpart of the paper's figure 3.
func (rep *Report) ThroughputSVG() string {
	var series []chartSeries
	for _, m := range rep.modes() {
		s := chartSeries{name: string(m), style: seriesStyle[m]}
		for _, size := range rep.sizes() {
			if r, ok := rep.find(m, size); ok {
				s.x = append(s.x, float64(size))
				s.y = append(s.y, r.ModelledThroughput(MidPoint())/1e6)
			}
		}
		series = append(series, s)
	}
	return chart(fmt.Sprintf("Inter-realm communication throughput (modelled, middle constants, %.1f GHz)", DefaultGHz), "MB/s", series, nil)
}

// SpeedupSVG is the two speedups by size, each with its sensitivity band
// shaded, and the goals as reference lines.
func (rep *Report) SpeedupSVG() string {
	var series []chartSeries
	short := map[Comparison]string{MediatedVsBaseline: "mediated/base", BatchVsBaseline: "batch/base", AmortisedVsSealed: "amortised/sealed"}
	for _, c := range []Comparison{MediatedVsBaseline, BatchVsBaseline, AmortisedVsSealed} {
		s := chartSeries{name: short[c], style: seriesStyle[c.Mode]}
		for _, size := range rep.sizes() {
			if bd, ok := rep.SpeedupBand(c, size); ok {
				s.x = append(s.x, float64(size))
				s.y = append(s.y, bd.Mid)
				s.lo = append(s.lo, bd.Low)
				s.hi = append(s.hi, bd.High)
			}
		}
		if len(s.x) > 0 {
			series = append(series, s)
		}
	}
	return chart("Speedup (modelled cycles; band: each constant over its range)", "speedup", series, []float64{1, 1.8, 10})
}

type chartSeries struct {
	name   string
	style  struct{ color, dash string }
	x, y   []float64
	lo, hi []float64 // a band around y, when given
}

// chart draws a log-log line chart by hand: x is a size in bytes (powers of
// two), y spans whole decades; refs are dashed horizontal reference lines.
func chart(title, ylabel string, series []chartSeries, refs []float64) string {
	const (
		w, h                     = 860, 520
		left, right, top, bottom = 80, 180, 50, 60
	)
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for i := range s.x {
			xmin, xmax = min(xmin, s.x[i]), max(xmax, s.x[i])
			if s.y[i] > 0 {
				ymin, ymax = min(ymin, s.y[i]), max(ymax, s.y[i])
			}
			if i < len(s.lo) && s.lo[i] > 0 {
				ymin, ymax = min(ymin, s.lo[i]), max(ymax, s.hi[i])
			}
		}
	}
	for _, r := range refs {
		ymin, ymax = min(ymin, r), max(ymax, r)
	}
	if math.IsInf(xmin, 0) || math.IsInf(ymin, 0) {
		return `<svg xmlns="http://www.w3.org/2000/svg"/>`
	}
	if xmax == xmin {
		xmax = xmin * 2
	}
	ylo, yhi := math.Floor(math.Log10(ymin)), math.Ceil(math.Log10(ymax))
	if yhi == ylo {
		yhi++
	}
	px := func(x float64) float64 {
		return left + (math.Log2(x)-math.Log2(xmin))/(math.Log2(xmax)-math.Log2(xmin))*(w-left-right)
	}
	py := func(y float64) float64 {
		return float64(h-bottom) - (math.Log10(y)-ylo)/(yhi-ylo)*float64(h-top-bottom)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="28" font-size="16" text-anchor="middle">%s</text>`+"\n", (w-right+left)/2, xmlEscape(title))
	// Grid and axes.
	for d := ylo; d <= yhi; d++ {
		y := py(math.Pow(10, d))
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", left, y, w-right, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-6, y, decade(d))
	}
	for x := xmin; x <= xmax; x *= 2 {
		X := px(x)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`+"\n", X, top, X, h-bottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="end" transform="rotate(-40 %.1f %d)">%s</text>`+"\n", X, h-bottom+14, X, h-bottom+14, sizeName(int(x)))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", left, top, w-left-right, h-top-bottom)
	fmt.Fprintf(&b, `<text x="18" y="%d" transform="rotate(-90 18 %d)" text-anchor="middle">%s</text>`+"\n", (h)/2, h/2, xmlEscape(ylabel))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">message size</text>`+"\n", (w-right+left)/2, h-8)
	for _, r := range refs {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999" stroke-dasharray="8,4"/>`+"\n", left, py(r), w-right, py(r))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" fill="#666">%gx</text>`+"\n", w-right+4, py(r)+4, r)
	}
	// Bands, then series and legend.
	for _, s := range series {
		if len(s.lo) != len(s.x) || len(s.x) == 0 {
			continue
		}
		var pts []string
		for j := range s.x {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.x[j]), py(s.hi[j])))
		}
		for j := len(s.x) - 1; j >= 0; j-- {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.x[j]), py(s.lo[j])))
		}
		fmt.Fprintf(&b, `<polygon points="%s" fill="%s" fill-opacity="0.18" stroke="none"/>`+"\n", strings.Join(pts, " "), s.style.color)
	}
	for i, s := range series {
		var pts []string
		for j := range s.x {
			if s.y[j] > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.x[j]), py(s.y[j])))
			}
		}
		dash := ""
		if s.style.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.style.dash)
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), s.style.color, dash)
		for _, p := range pts {
			xy := strings.Split(p, ",")
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", xy[0], xy[1], s.style.color)
		}
		ly := top + 20 + 22*i
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", w-right+40, ly, w-right+70, ly, s.style.color, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", w-right+76, ly, xmlEscape(s.name))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func decade(d float64) string {
	v := math.Pow(10, d)
	if d >= 0 && d < 7 {
		return fmt.Sprintf("%g", v)
	}
	return fmt.Sprintf("1e%d", int(d))
}

func xmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	return r.Replace(s)
}
