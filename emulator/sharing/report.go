package sharing

import (
	"bytes"
	"fmt"
	"math"
	"strings"
)

// Report is a set of runs under one cost model, rendered as a markdown
// table, CSV and SVG charts comparable with the paper's figure 3
// (inter-VM communication throughput by packet size).
type Report struct {
	Runs  []Run
	Costs Costs
}

// RunAll runs every mode at every size, calling progress (if not nil)
// after each run.
func RunAll(modes []Mode, sizes []int, opt Options, progress func(Run)) (*Report, error) {
	rep := &Report{}
	for _, size := range sizes {
		for _, mode := range modes {
			o := opt
			r, err := RunMode(mode, size, o)
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

// Speedup is the baseline's modelled cycles per message over mode's, at
// size, under c.
func (rep *Report) Speedup(mode Mode, size int, c Costs) (float64, bool) {
	base, ok1 := rep.find(Baseline, size)
	r, ok2 := rep.find(mode, size)
	if !ok1 || !ok2 {
		return 0, false
	}
	return base.CyclesPerMessage(c) / r.CyclesPerMessage(c), true
}

// Target is one of the benchmark's goals and whether it is met.
type Target struct {
	Name  string
	Value float64
	Goal  float64
	Met   bool
	Over  string // the sizes it is computed over
}

// Targets evaluates the goals of the sharing work under c: the mediated
// mode beats the baseline by 1.8x on average over the sizes (the paper's
// result), and the amortised mode beats it by 10x at every size from 64 KiB.
func (rep *Report) Targets(c Costs) []Target {
	var ts []Target
	var sum float64
	n := 0
	for _, s := range rep.sizes() {
		if v, ok := rep.Speedup(Mediated, s, c); ok {
			sum += v
			n++
		}
	}
	if n > 0 {
		v := sum / float64(n)
		ts = append(ts, Target{Name: "mediated vs baseline, mean speedup over sizes", Value: v, Goal: 1.8, Met: v >= 1.8,
			Over: fmt.Sprintf("%d sizes", n)})
	}
	worst, over := math.Inf(1), []string{}
	for _, s := range rep.sizes() {
		if s < 64<<10 {
			continue
		}
		if v, ok := rep.Speedup(Amortised, s, c); ok {
			worst = min(worst, v)
			over = append(over, sizeName(s))
		}
	}
	if len(over) > 0 {
		ts = append(ts, Target{Name: "amortised vs baseline, lowest speedup at 64 KiB and above", Value: worst, Goal: 10,
			Met: worst >= 10, Over: strings.Join(over, ", ")})
	}
	return ts
}

// Markdown renders the report: the cost model, the modelled throughput
// and speedups, the counters per message, wall-clock throughput, and the
// targets with a sensitivity line.
func (rep *Report) Markdown() string {
	var b bytes.Buffer
	c := rep.Costs
	sizes, modes := rep.sizes(), rep.modes()
	fmt.Fprintf(&b, "# Inter-realm messaging: %s\n\n", strings.Join(modeNames(modes), ", "))
	b.WriteString(c.Describe(sizes))
	fmt.Fprintf(&b, "\n## Modelled throughput (MB/s at %.2f GHz) and speedup over the baseline\n\n", c.GHz)
	b.WriteString("| size |")
	for _, m := range modes {
		fmt.Fprintf(&b, " %s |", m)
	}
	b.WriteString(" mediated ×base | amortised ×base |\n|---:|")
	b.WriteString(strings.Repeat("---:|", len(modes)+2) + "\n")
	for _, s := range sizes {
		fmt.Fprintf(&b, "| %s |", sizeName(s))
		for _, m := range modes {
			if r, ok := rep.find(m, s); ok {
				fmt.Fprintf(&b, " %.1f |", r.ModelledThroughput(c)/1e6)
			} else {
				b.WriteString(" – |")
			}
		}
		for _, m := range []Mode{Mediated, Amortised} {
			if v, ok := rep.Speedup(m, s, c); ok {
				fmt.Fprintf(&b, " %.2f |", v)
			} else {
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n## Per message: modelled cycles, exits, world switches, bytes copied and encrypted\n\n")
	b.WriteString("| size | mode | msgs | window | cycles/msg | exits/msg | world sw./msg | copied B/msg | encrypted B/msg | RMM steps/msg | lease RTTEs/msg | wall MB/s |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range sizes {
		for _, m := range modes {
			r, ok := rep.find(m, s)
			if !ok {
				continue
			}
			n := float64(r.Messages)
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %.0f | %.2f | %.2f | %.0f | %.0f | %.1f | %.1f | %.1f |\n",
				sizeName(s), m, r.Messages, r.Window, r.CyclesPerMessage(c), float64(r.Counters.RealmExits)/n,
				float64(r.Counters.WorldSwitches())/n, float64(r.Copied)/n, float64(r.Sealed+r.Opened)/n,
				float64(r.Steps)/n, float64(r.LeaseEntries)/n, r.WallThroughput()/1e6)
		}
	}
	b.WriteString("\n## Targets\n\n")
	for _, t := range rep.Targets(c) {
		mark := "met"
		if !t.Met {
			mark = "**missed**"
		}
		fmt.Fprintf(&b, "* %s: %.2fx (goal %.1fx, over %s): %s\n", t.Name, t.Value, t.Goal, t.Over, mark)
	}
	best := c
	best.Seal = Curve{PerByte: 0.64}
	best.Open = best.Seal
	b.WriteString("\nSensitivity: with AES-GCM at the best published x86 figure (0.64 cycles/B, nothing per message) instead:\n\n")
	for _, t := range rep.Targets(best) {
		mark := "met"
		if !t.Met {
			mark = "missed"
		}
		fmt.Fprintf(&b, "* %s: %.2fx: %s\n", t.Name, t.Value, mark)
	}
	if mb, ok := rep.meanWallSpeedup(Mediated); ok {
		fmt.Fprintf(&b, "\nWall clock on the emulator (not a model of hardware: the emulator's memory copies go through the GPC in software, AES runs natively): mediated vs baseline %.2fx on average over sizes.\n", mb)
	}
	return b.String()
}

func (rep *Report) meanWallSpeedup(m Mode) (float64, bool) {
	var sum float64
	n := 0
	for _, s := range rep.sizes() {
		base, ok1 := rep.find(Baseline, s)
		r, ok2 := rep.find(m, s)
		if ok1 && ok2 {
			sum += r.WallThroughput() / base.WallThroughput()
			n++
		}
	}
	return sum / float64(n), n > 0
}

func modeNames(ms []Mode) []string {
	var s []string
	for _, m := range ms {
		s = append(s, string(m))
	}
	return s
}

// CSV renders one line per run with every counter and the modelled
// figures.
func (rep *Report) CSV() string {
	var b bytes.Buffer
	b.WriteString("mode,size,messages,window,elapsed_ns,wall_bytes_per_s,realm_exits,normal_exits,world_switches,rmi_calls," +
		"bytes_copied,bytes_sealed,bytes_opened,seal_ops,open_ops,rmm_steps,lease_rtt_entries,modelled_cycles,modelled_cycles_per_msg,modelled_bytes_per_s,speedup_vs_baseline\n")
	for _, r := range rep.Runs {
		sp, _ := rep.Speedup(r.Mode, r.Size, rep.Costs)
		fmt.Fprintf(&b, "%s,%d,%d,%d,%d,%.0f,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%.0f,%.1f,%.0f,%.3f\n",
			r.Mode, r.Size, r.Messages, r.Window, r.Elapsed.Nanoseconds(), r.WallThroughput(),
			r.Counters.RealmExits, r.Counters.NormalExits, r.Counters.WorldSwitches(), r.Counters.RMICalls,
			r.Copied, r.Sealed, r.Opened, r.SealOps, r.OpenOps, r.Steps, r.LeaseEntries,
			r.Cycles(rep.Costs), r.CyclesPerMessage(rep.Costs), r.ModelledThroughput(rep.Costs), sp)
	}
	return b.String()
}

// series styles of the charts.
var seriesStyle = map[Mode]struct{ color, dash string }{
	Mediated:       {"#1f77b4", ""},
	Amortised:      {"#2ca02c", ""},
	Baseline:       {"#d62728", ""},
	BaselinePolled: {"#ff7f0e", "6,4"},
	Direct:         {"#7f7f7f", "2,3"},
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
				s.y = append(s.y, r.ModelledThroughput(rep.Costs)/1e6)
			}
		}
		series = append(series, s)
	}
	return chart(fmt.Sprintf("Inter-realm communication throughput (modelled, %.2f GHz)", rep.Costs.GHz), "MB/s", series, nil)
}

// SpeedupSVG is the speedup of the shared-memory modes over the baseline,
// with the goals as reference lines.
func (rep *Report) SpeedupSVG() string {
	var series []chartSeries
	for _, m := range []Mode{Mediated, Amortised, BaselinePolled, Direct} {
		s := chartSeries{name: string(m), style: seriesStyle[m]}
		for _, size := range rep.sizes() {
			if v, ok := rep.Speedup(m, size, rep.Costs); ok {
				s.x = append(s.x, float64(size))
				s.y = append(s.y, v)
			}
		}
		if len(s.x) > 0 {
			series = append(series, s)
		}
	}
	return chart("Speedup over the encrypted baseline (modelled cycles)", "× baseline", series, []float64{1, 1.8, 10})
}

type chartSeries struct {
	name  string
	style struct{ color, dash string }
	x, y  []float64
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
	// Series and legend.
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
