package simulation

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// render draws f in format "png" or "svg" with gonum/plot: one line with markers
// per series, a legend, log axes where asked (points that a log axis cannot show,
// zero or below, are left out of that series).
func render(f *Figure, format string) ([]byte, error) {
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text = f.XLabel
	p.Y.Label.Text = f.YLabel
	p.Legend.Top = true
	p.Legend.Left = true
	if f.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if f.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	if f.TimeX {
		p.X.Tick.Marker = plot.TimeTicks{Format: "2006"}
	}
	p.Add(plotter.NewGrid())
	drawn := 0
	for i, s := range f.Series {
		var xys plotter.XYs
		for _, pt := range s.Points {
			if f.LogX && pt.X <= 0 || f.LogY && pt.Y <= 0 || math.IsNaN(pt.X) || math.IsNaN(pt.Y) {
				continue
			}
			xys = append(xys, plotter.XY{X: pt.X, Y: pt.Y})
		}
		if len(xys) == 0 {
			continue
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		line.Color = plotutil.Color(i)
		line.Dashes = plotutil.Dashes(i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		entry := []plot.Thumbnailer{line}
		if len(xys) <= 40 {
			dots, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, err
			}
			dots.Color = plotutil.Color(i)
			dots.Shape = plotutil.Shape(i)
			p.Add(dots)
			entry = append(entry, dots)
		}
		p.Legend.Add(s.Label, entry...)
		drawn++
	}
	if drawn == 0 {
		return nil, errors.New("nothing to draw")
	}
	w, err := p.WriterTo(18*vg.Centimeter, 11*vg.Centimeter, format)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// logTicks marks a log axis at 1, 2 and 5 times each power of ten when the axis
// spans less than three decades, at the powers of ten otherwise, with minor ticks
// in between.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= 0 {
		return nil
	}
	narrow := math.Log10(max/min) < 3
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		base := math.Pow(10, e)
		for i := 1; i < 10; i++ {
			v := float64(i) * base
			if v < min*0.999 || v > max*1.001 {
				continue
			}
			t := plot.Tick{Value: v}
			if i == 1 || narrow && (i == 2 || i == 5) {
				t.Label = tickLabel(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

func tickLabel(v float64) string {
	if v >= 1e-3 && v < 1e5 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	s := strconv.FormatFloat(v, 'e', -1, 64) // 2e+06
	m, e, _ := strings.Cut(s, "e")
	e = strings.TrimLeft(strings.TrimPrefix(e, "+"), "0")
	if strings.HasPrefix(e, "-") {
		e = "-" + strings.TrimLeft(e[1:], "0")
	}
	if m == "1" {
		return "10^" + e
	}
	return m + "×10^" + e
}
