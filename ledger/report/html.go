package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"
)

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"date":     func(t time.Time) string { return t.Format("2 Jan 2006") },
	"datetime": func(t time.Time) string { return t.Format("15:04 on 2 Jan 2006") },
}).Parse(pageHTML))

// section is a table with the charts drawn from it.
type section struct {
	Table  *Table
	Charts []template.HTML
}

// HTML writes the report as one self-contained HTML page: no scripts, and
// no style sheets, fonts or images from anywhere else; the charts are
// inline SVG. It prints as it shows. Small numbers are hidden as Build
// hid them.
func HTML(w io.Writer, r Report) error {
	data := struct {
		Report
		Tables   []*Table
		Sections []section
	}{Report: r, Tables: r.Tables()}
	for _, t := range data.Tables {
		data.Sections = append(data.Sections, section{Table: t, Charts: charts(&r, t)})
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, data); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// charts are the charts drawn beside table t.
func charts(r *Report, t *Table) []template.HTML {
	switch t {
	case &r.Weeks:
		var cats []string
		ss := []series{{name: "Urgent", colour: colourUrgent}, {name: "High", colour: colourHigh}, {name: "Standard", colour: colourStandard}}
		for _, row := range t.Rows {
			if row.Total {
				continue
			}
			cats = append(cats, row.Key)
			for i := range ss {
				ss[i].values = append(ss[i].values, row.Cells[i])
			}
		}
		return []template.HTML{stackedColumns("chart-weeks", "Cases per week by priority",
			"Stacked columns, one per ISO week: urgent at the bottom, then high, then standard.", cats, ss)}
	case &r.Area, &r.Channel:
		labels, vs := column(t, 0, false)
		return []template.HTML{bars("chart-"+t.ID, t.Title, "One bar per "+lower(t.RowHead)+", the number of cases.", labels, vs, colourBar)}
	case &r.Contact:
		labels, vs := column(t, len(t.Cols)-1, true)
		return []template.HTML{bars("chart-contact", "Share of tenants contacted within the promise, by priority",
			"One bar per priority: the percentage of cases due whose tenant was contacted by the promised time.", labels, vs, colourBar)}
	case &r.ContactTime:
		var labels []string
		var vs []Value
		for _, row := range t.Rows {
			if !row.Total {
				labels, vs = append(labels, row.Label), append(vs, row.Cells[0])
			}
		}
		return []template.HTML{bars("chart-contact-time", "When first contact came, against the promised time",
			"One bar per share of the promised time gone at first contact, then late and not contacted: the number of cases due.", labels, vs, colourLate)}
	case &r.Duties:
		labels, vs := column(t, len(t.Cols)-1, true)
		return []template.HTML{bars("chart-duties", "Duties met on time",
			"One bar per duty: the percentage of the times it was triggered that it was done on time.", labels, vs, colourBar)}
	}
	return nil
}

// column is the labels and one column's figures of t's rows, with or
// without the total rows.
func column(t *Table, i int, totals bool) ([]string, []Value) {
	var labels []string
	var vs []Value
	for _, row := range t.Rows {
		if row.Total && !totals {
			continue
		}
		labels, vs = append(labels, row.Label), append(vs, row.Cells[i])
	}
	return labels, vs
}

func lower(s string) string {
	if s == "" {
		return s
	}
	return string(bytes.ToLower([]byte(s[:1]))) + s[1:]
}
