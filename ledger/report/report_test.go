package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/ledger"
	"github.com/safecontact/safecontact/ledger/report"
)

var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return loc
}()

var (
	first = time.Date(2026, 10, 1, 0, 0, 0, 0, london)
	last  = time.Date(2026, 12, 31, 0, 0, 0, 0, london)
	end   = time.Date(2027, 1, 1, 0, 0, 0, 0, london)
	asOf  = time.Date(2027, 1, 5, 9, 30, 0, 0, london)
)

// quarter writes the 500-case fixture for Q4 2026 to Redis and reads it
// back, as the report command does.
func quarter(t *testing.T) []ledger.Entry {
	t.Helper()
	rdb, prefix := storetest.Redis(t), storetest.Prefix(t)
	ctx := context.Background()
	t.Cleanup(func() { deleteAll(rdb, prefix) })
	require.NoError(t, ledger.Write(ctx, rdb, prefix, ledger.Fixture(2026, first, end, 500), time.Hour))
	entries, err := ledger.Read(ctx, rdb, prefix, first, end)
	require.NoError(t, err)
	require.Len(t, entries, 500)
	return entries
}

func deleteAll(rdb redis.UniversalClient, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}

// shows is how a count shows: itself, or "<5" from 1 to 4. A count shown
// as "[c]" is also accepted: it was hidden so a "<5" can't be worked out.
func shows(t *testing.T, what string, want int, v report.Value) {
	t.Helper()
	assert.Equal(t, want, v.N, what)
	switch {
	case want >= 1 && want <= 4:
		assert.Equal(t, "<5", v.String(), what)
	case v.Mark == "[c]":
		assert.GreaterOrEqual(t, want, 5, what)
	default:
		assert.Equal(t, strconv.Itoa(want), v.String(), what)
	}
}

func row(t *testing.T, tab report.Table, key string) report.Row {
	t.Helper()
	for _, r := range tab.Rows {
		if r.Key == key {
			return r
		}
	}
	t.Fatalf("%s has no row %q", tab.ID, key)
	return report.Row{}
}

func TestQuarter(t *testing.T) {
	t.Parallel()
	entries := quarter(t)
	r := report.Build(entries, first, last, asOf)

	// Counts worked out here, apart from the report's code.
	area := map[string]int{}
	prio := map[int]int{}
	var ooh, due, within int
	for _, e := range entries {
		area[e.Area]++
		prio[e.Priority]++
		if e.OutOfHours {
			ooh++
		}
		if e.Deadline > 0 && (e.Contacted || !e.Hour.Add(e.Deadline).After(asOf)) {
			due++
			if e.Contacted && e.ToContact <= e.Deadline {
				within++
			}
		}
	}

	assert.Equal(t, "safecontact — cases from 1 Oct 2026 to 31 Dec 2026", r.Title())
	shows(t, "cases", 500, r.Cases)
	for key, id := range map[string]string{"Telford & Wrekin": "telford_wrekin", "Shropshire": "shropshire",
		"Staffordshire": "staffordshire", "Herefordshire": "herefordshire", "Wales": "wales", "Elsewhere": "elsewhere", "Not given": ""} {
		k := id
		if k == "" {
			k = "none"
		}
		rw := row(t, r.Area, k)
		assert.Equal(t, key, rw.Label)
		shows(t, "area "+key, area[id], rw.Cells[0])
	}
	shows(t, "all areas", 500, row(t, r.Area, "all").Cells[0])
	weeksTotal := row(t, r.Weeks, "all")
	shows(t, "urgent", prio[ledger.Urgent], weeksTotal.Cells[0])
	shows(t, "high", prio[ledger.High], weeksTotal.Cells[1])
	shows(t, "standard", prio[ledger.Standard], weeksTotal.Cells[2])
	shows(t, "out of hours", ooh, row(t, r.Hours, "out").Cells[0])
	shows(t, "in hours", 500-ooh, row(t, r.Hours, "in").Cells[0])

	contact := row(t, r.Contact, "all")
	shows(t, "due", due, contact.Cells[1])
	shows(t, "within", within, contact.Cells[2])
	share := int(math.Round(100 * float64(within) / float64(due)))
	assert.Equal(t, fmt.Sprintf("%d%%", share), contact.Cells[7].String())

	summary := map[string]string{}
	for _, f := range r.Summary {
		summary[f.Label] = f.Value.String()
	}
	assert.Equal(t, "500", summary["Cases opened"])
	assert.Equal(t, fmt.Sprintf("%d%%", share), summary["Contacted within the promised time (of those due)"])
	assert.Equal(t, strconv.Itoa(ooh), summary["Opened out of hours"])

	// The weeks of Q4 2026: W40 (Thu 1 Oct) to W53 (to Thu 31 Dec).
	assert.Equal(t, "2026-W40", r.Weeks.Rows[0].Key)
	assert.Equal(t, "2026-W40 · 1–4 Oct", r.Weeks.Rows[0].Label)
	assert.Equal(t, "2026-W53 · 28–31 Dec", r.Weeks.Rows[len(r.Weeks.Rows)-2].Label)
	weeks := 0
	for _, rw := range r.Weeks.Rows {
		if !rw.Total {
			weeks += rw.Cells[3].N
		}
	}
	assert.Equal(t, 500, weeks)

	// The fixture has small counts (urgent cases in a week, Welsh in
	// Herefordshire): some must show as "<5", and some as "[c]".
	var small, comp int
	for _, tab := range r.Tables() {
		for _, rw := range tab.Rows {
			for _, v := range rw.Cells {
				switch v.Mark {
				case "<5":
					small++
				case "[c]":
					comp++
				}
			}
		}
	}
	assert.Positive(t, small)
	assert.Positive(t, comp)
}

// smallCount matches a figure that is a bare count from 1 to 4.
var smallCount = regexp.MustCompile(`^\s*[1-4]\s*$`)

func TestHTML(t *testing.T) {
	t.Parallel()
	r := report.Build(quarter(t), first, last, asOf)
	var buf bytes.Buffer
	require.NoError(t, report.HTML(&buf, r))
	page := buf.String()

	for _, want := range []string{
		`<html lang="en">`,
		"<title>safecontact — cases from 1 Oct 2026 to 31 Dec 2026</title>",
		"<h1>safecontact — cases from 1 Oct 2026 to 31 Dec 2026</h1>",
		`<th scope="col">Area</th>`,
		`<th scope="row">Telford &amp; Wrekin</th>`,
		"<td>500</td>",
		"<td>&lt;5</td>",
		`<svg id="chart-weeks" viewBox=`, `role="img"`, `<title id="chart-weeks-t">Cases per week by priority</title>`,
		`id="chart-duties"`, `id="chart-contact-time"`, `id="chart-area"`, `id="chart-channel"`,
	} {
		assert.Contains(t, page, want)
	}

	cells := regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(page, -1)
	require.Greater(t, len(cells), 200)
	for _, c := range cells {
		assert.NotRegexp(t, smallCount, c[1], "a table cell shows a count from 1 to 4")
	}
	// Every chart's bar label is a figure as shown too.
	for _, c := range regexp.MustCompile(`class="value">([^<]*)<`).FindAllStringSubmatch(page, -1) {
		assert.NotRegexp(t, smallCount, c[1], "a chart shows a count from 1 to 4")
	}

	// Self-contained: nothing fetched from elsewhere, and no scripts.
	lower := strings.ToLower(page)
	assert.NotContains(t, lower, "<script")
	assert.NotContains(t, lower, "src=")
	assert.NotContains(t, lower, "url(")
	assert.NotContains(t, lower, "@import")
	assert.NotContains(t, lower, "<link")
	for _, h := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(lower, -1) {
		assert.True(t, strings.HasPrefix(h[1], "#"), "href %q leaves the page", h[1])
	}
	assert.NotContains(t, lower, "http:")
	assert.NotContains(t, lower, "https:")
}

func TestCSV(t *testing.T) {
	t.Parallel()
	r := report.Build(quarter(t), first, last, asOf)
	var buf bytes.Buffer
	require.NoError(t, report.CSV(&buf, r))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"from", "to", "section", "group", "measure", "value"}, rows[0])

	got := map[string]string{}
	for _, rw := range rows[1:] {
		require.Len(t, rw, 6)
		assert.Equal(t, []string{"2026-10-01", "2026-12-31"}, rw[:2])
		got[rw[2]+"/"+rw[3]+"/"+rw[4]] = rw[5]
		if !strings.HasSuffix(rw[4], "(minutes)") {
			assert.NotRegexp(t, smallCount, rw[5], "%v shows a count from 1 to 4", rw)
		}
		assert.Regexp(t, `^(\d+%?|<5|\[c\])$`, rw[5], "%v", rw)
	}
	assert.Equal(t, "500", got["Summary/All cases/Cases opened"])
	assert.Equal(t, "500", got["Cases by area/All cases/Cases"])
	assert.Equal(t, "100%", got["Cases by area/All cases/% of cases"])
	assert.Equal(t, row(t, r.Area, "wales").Cells[0].Raw(), got["Cases by area/Wales/Cases"])
	assert.Contains(t, got, "Time to claim and to first contact/All cases/Median time to claim (minutes)")
	assert.Contains(t, got, "Cases per week by priority/2026-W40 · 1–4 Oct/Urgent")
}

func TestMonthlySummary(t *testing.T) {
	t.Parallel()
	entries := quarter(t)
	nov1, nov30 := time.Date(2026, 11, 1, 0, 0, 0, 0, london), time.Date(2026, 11, 30, 0, 0, 0, 0, london)
	r := report.Build(entries, nov1, nov30, time.Date(2026, 12, 1, 9, 0, 0, 0, london))
	n := 0
	for _, e := range entries {
		if e.Hour.In(london).Month() == time.November {
			n++
		}
	}
	s := report.MonthlySummary(r)
	t.Log("\n" + s)
	assert.True(t, strings.HasPrefix(s, "*safecontact: cases in November 2026*\n"), s)
	assert.Contains(t, s, fmt.Sprintf("• Cases opened: *%d* (urgent ", n))
	assert.Contains(t, s, "of those due")
	assert.Contains(t, s, "• Duties not done on time: *")
	assert.NotContains(t, s, "<", "mrkdwn escapes <")
	for _, w := range regexp.MustCompile(`[^\w%&;]([1-4])[^\w%]`).FindAllString(s, -1) {
		t.Errorf("the summary shows a count from 1 to 4: %q", w)
	}
}

// A tiny period hides nearly everything but still adds up.
func TestSmallPeriod(t *testing.T) {
	entries := ledger.Fixture(9, first, end, 500)[:7]
	r := report.Build(entries, first, last, asOf)
	assert.Equal(t, "7", r.Cases.String())
	var buf bytes.Buffer
	require.NoError(t, report.CSV(&buf, r))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	for _, rw := range rows[1:] {
		if !strings.HasSuffix(rw[4], "(minutes)") {
			assert.NotRegexp(t, smallCount, rw[5], "%v", rw)
		}
	}
	assert.Contains(t, report.MonthlySummary(r), "*safecontact: cases from 1 Oct 2026 to 31 Dec 2026*")
}

func TestEmptyPeriod(t *testing.T) {
	r := report.Build(nil, first, last, asOf)
	assert.Equal(t, "0", r.Cases.String())
	var buf bytes.Buffer
	require.NoError(t, report.HTML(&buf, r))
	assert.Contains(t, buf.String(), "<td>0</td>")
}

func ExampleValue() {
	for _, v := range []report.Value{
		{N: 12}, {N: 3, Mark: "<5"}, {N: 9, Mark: "[c]"},
		{N: 88, Kind: report.Percent}, {Kind: report.Percent, Mark: "<5"},
		{N: 45, Kind: report.Minutes}, {N: 200, Kind: report.Minutes}, {N: 3000, Kind: report.Minutes},
	} {
		fmt.Printf("%s %s\n", v, v.Raw())
	}
	// Output:
	// 12 12
	// <5 <5
	// [c] [c]
	// 88% 88%
	// <5 <5
	// 45 min 45
	// 3 h 20 min 200
	// 2 d 2 h 3000
}
