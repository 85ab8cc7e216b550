package plotting

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// AggregatesFigure is rliable's interval plot (plot_interval_estimates):
// one panel per aggregate (e.g. median, IQM, mean, optimality gap), one row
// per group, each a bar over its 95% interval in the group's colour with a
// black tick at the point estimate. names are the groups top to bottom;
// values[g][k] is group g's aggregate k. Long names are cut with an
// ellipsis (the page's table has them in full).
func AggregatesFigure(metric string, aggregates, names []string, values [][]Interval) (*Figure, error) {
	if len(names) == 0 || len(values) != len(names) {
		return nil, fmt.Errorf("interval plot: %d groups, %d rows of values", len(names), len(values))
	}
	n := len(names)
	// Rows of 0.3in, panels 2.4in wide beside the names.
	h := vg.Length(max(n, 2))*0.3*vg.Inch + 1.2*vg.Inch
	f := &Figure{Title: "Aggregate metrics of " + metric + " with 95% stratified-bootstrap intervals",
		Width: vg.Length(len(aggregates))*2.4*vg.Inch + 2.6*vg.Inch, Height: h, Rows: 1, Cols: len(aggregates) + 1, LeadWidth: 2.6 * vg.Inch}
	// The first panel holds only the groups' names, right-aligned against
	// the first aggregate's panel.
	// Its title and x axis are blank but take the room the others' do, so
	// the rows line up.
	names0 := NewPlot(" ", "", "")
	names0.X.LineStyle.Color = color.Transparent
	names0.X.Tick.LineStyle.Color = color.Transparent
	names0.X.Min, names0.X.Max = 0, 1
	names0.X.Tick.Marker = plot.ConstantTicks{{Value: 0.5, Label: " "}}
	names0.Y.LineStyle.Width = 0
	names0.Y.Tick.Length = 0
	names0.Y.Min, names0.Y.Max = -0.6, float64(n)-0.4
	labels := make(plot.ConstantTicks, n)
	for g, name := range names {
		labels[g] = plot.Tick{Value: float64(n - 1 - g), Label: shorten(name, 34)}
	}
	names0.Y.Tick.Marker = labels
	names0.Add(&intervalRows{}) // an empty plotter so the axes are drawn
	f.Panels = append(f.Panels, Panel{Plot: names0})
	for k, agg := range aggregates {
		p := NewPlot("", "", "")
		p.Title.Text = agg
		addGrid(p)
		iv := &intervalRows{colors: make([]color.Color, n)}
		lo, hi := math.Inf(1), math.Inf(-1)
		for g := range n {
			var v Interval
			if k < len(values[g]) {
				v = values[g][k]
			} else {
				v = Interval{math.NaN(), math.NaN(), math.NaN()}
			}
			iv.rows = append(iv.rows, v)
			iv.colors[g] = groupRGB(g)
			for _, x := range []float64{v.Lo, v.Hi, v.Value} {
				if finite(x) {
					lo, hi = min(lo, x), max(hi, x)
				}
			}
		}
		p.Add(iv)
		p.X.Min, p.X.Max = lo, hi
		p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
		addMargins(p, 0.06)
		p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
		ticks := make(plot.ConstantTicks, n)
		for g := range names {
			ticks[g] = plot.Tick{Value: float64(n - 1 - g)}
		}
		p.Y.Tick.Marker = ticks
		p.X.Tick.Marker = Ticks{N: 4}
		f.Panels = append(f.Panels, Panel{Plot: p})
	}
	return f, nil
}

// intervalRows draws row g (from the top) as a bar from Lo to Hi and a
// tick at Value.
type intervalRows struct {
	rows   []Interval
	colors []color.Color
}

// Plot implements plot.Plotter.
func (r *intervalRows) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	n := len(r.rows)
	for g, v := range r.rows {
		y := float64(n - 1 - g)
		y0, y1 := trY(y-0.3), trY(y+0.3)
		if finite(v.Lo) && finite(v.Hi) {
			x0, x1 := trX(v.Lo), trX(v.Hi)
			if x1-x0 < vg.Points(1.5) { // a zero-width interval still shows
				x0, x1 = x0-vg.Points(0.75), x1+vg.Points(0.75)
			}
			c.SetColor(withAlpha(r.colors[g], 0.75))
			c.Fill(rect(x0, y0, x1, y1))
		}
		if finite(v.Value) {
			x := trX(v.Value)
			c.StrokeLine2(draw.LineStyle{Color: color.Black, Width: vg.Points(1.6)}, x, trY(y-0.36), x, trY(y+0.36))
		}
	}
}

func rect(x0, y0, x1, y1 vg.Length) vg.Path {
	var p vg.Path
	p.Move(vg.Point{X: x0, Y: y0})
	p.Line(vg.Point{X: x1, Y: y0})
	p.Line(vg.Point{X: x1, Y: y1})
	p.Line(vg.Point{X: x0, Y: y1})
	p.Close()
	return p
}

// groupRGB is groupColor as a color.Color.
func groupRGB(i int) color.Color {
	if i < len(Tab10) {
		return Tab10[i]
	}
	// hsl((i·137) mod 360, 65%, 45%), as groupColor writes it.
	h := float64((i*137)%360) / 60
	s, l := 0.65, 0.45
	ch := (1 - math.Abs(2*l-1)) * s
	x := ch * (1 - math.Abs(math.Mod(h, 2)-1))
	var r, g, b float64
	switch int(h) {
	case 0:
		r, g = ch, x
	case 1:
		r, g = x, ch
	case 2:
		g, b = ch, x
	case 3:
		g, b = x, ch
	case 4:
		r, b = x, ch
	default:
		r, b = ch, x
	}
	m := l - ch/2
	return color.NRGBA{uint8((r + m) * 255), uint8((g + m) * 255), uint8((b + m) * 255), 255}
}

// shorten cuts s to at most n runes with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
