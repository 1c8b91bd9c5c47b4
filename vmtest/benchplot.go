package vmtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// BenchFigures are the memory benchmark's figures that a guest printed
// (guestproto.BenchMemPrefix lines): seconds by column, then by MiB.
type BenchFigures map[string]map[int]float64

// ParseBenchFigures reads the figures from a guest's console output.
func ParseBenchFigures(console []byte) BenchFigures {
	figs := BenchFigures{}
	sc := bufio.NewScanner(bytes.NewReader(console))
	for sc.Scan() {
		f := strings.Fields(strings.TrimRight(sc.Text(), "\r"))
		if len(f) != 4 || f[0] != guestproto.BenchMemPrefix {
			continue
		}
		mib, err1 := strconv.Atoi(f[1])
		s, err2 := strconv.ParseFloat(f[3], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		if figs[f[2]] == nil {
			figs[f[2]] = map[int]float64{}
		}
		figs[f[2]][mib] = s
	}
	return figs
}

// ErrNothingToPlot is PlotBench's answer when only the tiny process was
// measured.
var ErrNothingToPlot = errors.New("no size above 0 MiB to plot")

// PlotBench draws time against size, one line per column (kcr, CRIU,
// memcpy), and saves it to path; the extension (.svg, .png) chooses the
// format. Sizes below 1 MiB (the tiny process) are left out: they are in
// the table, and a log scale has no place for them.
func PlotBench(figs BenchFigures, title, path string) error {
	if len(figs) == 0 {
		return fmt.Errorf("no memory benchmark figures to plot")
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "process memory (MiB)"
	p.Y.Label.Text = "seconds (best of 3)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	names := make([]string, 0, len(figs))
	for n := range figs {
		names = append(names, n)
	}
	sort.Strings(names)
	lines := 0
	for i, n := range names {
		var pts plotter.XYs
		for mib, s := range figs[n] {
			if mib > 0 && s > 0 {
				pts = append(pts, plotter.XY{X: float64(mib), Y: s})
			}
		}
		if len(pts) == 0 {
			continue
		}
		sort.Slice(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		c := plotutil.Color(i)
		if strings.HasPrefix(n, "memcpy") {
			// The hardware's line: grey, dashed.
			c = color.Gray{Y: uint8(64 + 64*i%128)}
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		l.Color, s.Color = c, c
		s.Shape = plotutil.Shape(i)
		p.Add(l, s)
		p.Legend.Add(n, l, s)
		lines++
	}
	if lines == 0 {
		// gonum panics on a log axis without a point.
		return ErrNothingToPlot
	}
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}
