package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Charts are inline SVG drawn here, from the figures as shown: a hidden
// figure draws no bar and is named in the chart's description. Each chart
// has a <title> and <desc> that a screen reader announces (role="img"),
// and the table beside it has every figure.

// series is one colour of a chart: a priority, say.
type series struct {
	name   string
	colour string
	values []Value
}

// Colours that keep apart in greyscale print as well as on screen.
const (
	colourUrgent   = "#7f1d1d"
	colourHigh     = "#d97706"
	colourStandard = "#93c5fd"
	colourBar      = "#1e3a8a"
	colourLate     = "#b45309"
)

// chart is an SVG being written.
type chart struct {
	b strings.Builder
}

// newChart starts an SVG of the given size, named by title and described
// by desc for screen readers.
func newChart(id, title, desc string, width, height int) *chart {
	c := &chart{}
	fmt.Fprintf(&c.b, `<svg id="%s" viewBox="0 0 %d %d" width="100%%" style="max-width:%dpx" role="img" aria-label="%s" aria-labelledby="%s-t %s-d">`,
		id, width, height, width, html.EscapeString(title), id, id)
	fmt.Fprintf(&c.b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, html.EscapeString(title), id, html.EscapeString(desc))
	return c
}

func (c *chart) text(x, y float64, anchor, class, s string) {
	fmt.Fprintf(&c.b, `<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>`, x, y, anchor, class, html.EscapeString(s))
}

func (c *chart) rect(x, y, w, h float64, fill string) {
	fmt.Fprintf(&c.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, y, w, h, fill)
}

func (c *chart) line(x1, y1, x2, y2 float64, class string) {
	fmt.Fprintf(&c.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="%s"/>`, x1, y1, x2, y2, class)
}

func (c *chart) done() template.HTML {
	c.b.WriteString("</svg>")
	return template.HTML(c.b.String())
}

// step is a round gap between axis ticks so that about five span most.
func step(most int) int {
	if most <= 5 {
		return 1
	}
	raw := float64(most) / 5
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return int(m * p)
		}
	}
	return int(10 * p)
}

// hidden lists the labels whose figure does not show, with its mark.
func hidden(labels []string, vs []Value) []string {
	var out []string
	for i, v := range vs {
		if !v.Shown() {
			out = append(out, labels[i]+" "+v.String())
		}
	}
	return out
}

// notDrawn ends a chart's description with what it leaves out.
func notDrawn(desc string, missing []string) string {
	if len(missing) == 0 {
		return desc
	}
	return desc + " Not drawn, as too small to show: " + strings.Join(missing, "; ") + "."
}

// stackedColumns draws one column per category, its series stacked from
// the bottom, with a legend.
func stackedColumns(id, title, desc string, cats []string, ss []series) template.HTML {
	const w, h, left, top, bottom, right = 760, 320, 44, 34, 64, 10
	most := 1
	for i := range cats {
		sum := 0
		for _, s := range ss {
			if s.values[i].Shown() {
				sum += s.values[i].N
			}
		}
		most = max(most, sum)
	}
	st := step(most)
	ceiling := (most + st - 1) / st * st
	var missing []string
	for _, s := range ss {
		for _, m := range hidden(cats, s.values) {
			missing = append(missing, s.name+" "+m)
		}
	}
	c := newChart(id, title, notDrawn(desc, missing), w, h)
	plotH := float64(h - top - bottom)
	y := func(n int) float64 { return float64(top) + plotH - plotH*float64(n)/float64(ceiling) }
	for t := 0; t <= ceiling; t += st {
		c.line(left, y(t), w-right, y(t), "grid")
		c.text(left-6, y(t)+4, "end", "tick", fmt.Sprint(t))
	}
	slot := float64(w-left-right) / float64(len(cats))
	barW := slot * 0.7
	for i, cat := range cats {
		x := float64(left) + slot*float64(i) + (slot-barW)/2
		base := 0
		for _, s := range ss {
			v := s.values[i]
			if !v.Shown() || v.N == 0 {
				continue
			}
			c.rect(x, y(base+v.N), barW, y(base)-y(base+v.N), s.colour)
			base += v.N
		}
		// Label weeks by their number, rotated to fit.
		lx, ly := x+barW/2, float64(h-bottom+14)
		fmt.Fprintf(&c.b, `<text x="%.1f" y="%.1f" text-anchor="end" class="tick" transform="rotate(-45 %.1f %.1f)">%s</text>`,
			lx, ly, lx, ly, html.EscapeString(cat))
	}
	c.line(left, y(0), w-right, y(0), "axis")
	x := float64(left)
	for _, s := range ss {
		c.rect(x, 10, 12, 12, s.colour)
		c.text(x+16, 20, "start", "legend", s.name)
		x += 16 + 8*float64(len(s.name)) + 20
	}
	return c.done()
}

// bars draws one horizontal bar per label. A percent chart runs to 100.
func bars(id, title, desc string, labels []string, vs []Value, colour string) template.HTML {
	const w, labelW, right, rowH, top = 760, 300, 70, 26, 8
	h := top + rowH*len(labels) + 8
	most := 1
	for _, v := range vs {
		if v.Shown() {
			most = max(most, v.N)
		}
		if v.Kind == Percent {
			most = 100
		}
	}
	c := newChart(id, title, notDrawn(desc, hidden(labels, vs)), w, h)
	plotW := float64(w - labelW - right)
	for i, l := range labels {
		y := float64(top + rowH*i)
		c.text(labelW-8, y+rowH/2+4, "end", "label", l)
		v := vs[i]
		bw := 0.0
		if v.Shown() {
			bw = plotW * float64(v.N) / float64(most)
			c.rect(labelW, y+4, bw, rowH-8, colour)
		}
		c.text(labelW+bw+6, y+rowH/2+4, "start", "value", v.String())
	}
	c.line(labelW, top, labelW, float64(h-8), "axis")
	return c.done()
}
