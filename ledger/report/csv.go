package report

import (
	"encoding/csv"
	"fmt"
	"io"
)

// CSV writes the report one figure a row, for a spreadsheet to pivot:
//
//	from,to,section,group,measure,value
//	2026-10-01,2026-12-31,Cases by area,Shropshire,Cases,118
//	2026-10-01,2026-12-31,Cases by area,Shropshire,% of cases,24%
//	2026-10-01,2026-12-31,Time to claim and to first contact,All cases,Median time to claim (minutes),95
//
// from and to let several periods share one sheet. A value is a whole
// number (a median in minutes), a percentage such as "24%", or "<5" or
// "[c]" where Build hid it. The summary comes first, as section
// "Summary" with group "All cases".
func CSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	from, to := r.First.Format("2006-01-02"), r.Last.Format("2006-01-02")
	cw.Write([]string{"from", "to", "section", "group", "measure", "value"})
	for _, f := range r.Summary {
		cw.Write([]string{from, to, "Summary", "All cases", measure(f.Label, f.Value), f.Value.Raw()})
	}
	for _, t := range r.Tables() {
		for _, row := range t.Rows {
			for i, v := range row.Cells {
				cw.Write([]string{from, to, t.Title, row.Label, measure(t.Cols[i], v), v.Raw()})
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	return nil
}

// measure names a column with the unit of its raw values.
func measure(name string, v Value) string {
	if v.Kind == Minutes {
		return name + " (minutes)"
	}
	return name
}
