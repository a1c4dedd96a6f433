package simulation

import (
	"bytes"
	"errors"
	"image/color"
	"math"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// render draws f in format "png" or "svg" with gonum/plot: one line with markers
// per series, a legend, log axes where asked (points that a log axis cannot show,
// zero or below, are left out of that series).
func render(f *Figure, format string) ([]byte, error) {
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text = f.XLabel
	p.Y.Label.Text = f.YLabel
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	if f.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if f.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	if f.TimeX {
		p.X.Tick.Marker = yearTicks{}
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
		line.Color = seriesColor(i)
		line.Dashes = plotutil.Dashes(i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		entry := []plot.Thumbnailer{line}
		if len(xys) <= 40 {
			dots, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, err
			}
			dots.Color = seriesColor(i)
			dots.Shape = plotutil.Shape(i)
			p.Add(dots)
			entry = append(entry, dots)
		}
		legend.Add(s.Label, entry...)
		drawn++
	}
	if drawn == 0 {
		return nil, errors.New("nothing to draw")
	}
	// The legend goes to the right of the plot, where it hides no line.
	width, height, pad := 16*vg.Centimeter, 11*vg.Centimeter, 0.4*vg.Centimeter
	probe := draw.NewCanvas(nil, width, height)
	lr := legend.Rectangle(probe)
	legendW := lr.Max.X - lr.Min.X
	c, err := draw.NewFormattedCanvas(width+pad+legendW+pad, height, format)
	if err != nil {
		return nil, err
	}
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	p.Draw(draw.Crop(dc, 0, -(pad + legendW + pad), 0, 0))
	titleH := p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	legend.Draw(draw.Crop(dc, width+pad, -pad, 0, -titleH))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
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

// palette is ten colours told apart easily (matplotlib's tab10).
var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff}, {0xd6, 0x27, 0x28, 0xff},
	{0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff}, {0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff},
	{0xbc, 0xbd, 0x22, 0xff}, {0x17, 0xbe, 0xcf, 0xff},
}

func seriesColor(i int) color.Color { return palette[i%len(palette)] }

// yearTicks marks a time axis (Unix seconds) on the first of January, every one,
// two or five years depending on the span.
type yearTicks struct{}

func (yearTicks) Ticks(min, max float64) []plot.Tick {
	from, to := time.Unix(int64(min), 0).UTC(), time.Unix(int64(max), 0).UTC()
	step := 1
	switch span := to.Year() - from.Year(); {
	case span > 30:
		step = 10
	case span > 16:
		step = 5
	case span > 8:
		step = 2
	}
	var ticks []plot.Tick
	for y := from.Year(); y <= to.Year()+1; y++ {
		t := float64(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
		if t < min || t > max {
			continue
		}
		tk := plot.Tick{Value: t}
		if y%step == 0 {
			tk.Label = strconv.Itoa(y)
		}
		ticks = append(ticks, tk)
	}
	return ticks
}
