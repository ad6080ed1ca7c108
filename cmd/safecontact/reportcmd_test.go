package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/ledger"
)

// reportEnv is the environment of the report command in tests: the test
// Redis and key.
func reportEnv(k string) string {
	switch k {
	case "REDIS_URL", "REDIS_MODE":
		return os.Getenv(k)
	case "SAFECONTACT_KEY":
		return testKey
	}
	return ""
}

// TestReportCommand writes a quarter of cases to the ledger in Redis and
// runs `safecontact report` over it, as HTML, as CSV and to a file.
func TestReportCommand(t *testing.T) {
	rdb, prefix := storetest.Redis(t), storetest.Prefix(t)
	ctx := context.Background()
	t.Cleanup(func() {
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	loc, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	first, end := time.Date(2026, 10, 1, 0, 0, 0, 0, loc), time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
	fx := ledger.Fixture(11, first, end, 500)
	// Cases either side of the period are left out.
	outside := ledger.Fixture(12, end, end.AddDate(0, 0, 10), 30)
	outside = append(outside, ledger.Fixture(13, first.AddDate(0, 0, -10), first, 30)...)
	require.NoError(t, ledger.Write(ctx, rdb, prefix, append(fx, outside...), time.Hour))
	wales := 0
	for _, e := range fx {
		if e.Area == "wales" {
			wales++
		}
	}
	require.GreaterOrEqual(t, wales, 5)

	runReport := func(args ...string) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args = append([]string{"report", "-prefix", prefix, "-from", "2026-10-01", "-to", "2026-12-31"}, args...)
		require.NoError(t, run(ctx, args, reportEnv, strings.NewReader(""), &stdout, &stderr), stderr.String())
		return stdout.String(), stderr.String()
	}

	t.Run("html", func(t *testing.T) {
		page, _ := runReport()
		assert.Contains(t, page, "<title>safecontact — cases from 1 Oct 2026 to 31 Dec 2026</title>")
		assert.Contains(t, page, `<tr><th scope="row">Cases opened</th><td>500</td></tr>`)
		assert.Contains(t, page, `<th scope="row">Wales</th><td>`+strconv.Itoa(wales)+`</td>`)
		assert.NotContains(t, page, "<script")
	})
	t.Run("csv", func(t *testing.T) {
		out, _ := runReport("-csv")
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		require.NoError(t, err)
		assert.Equal(t, []string{"from", "to", "section", "group", "measure", "value"}, rows[0])
		assert.Contains(t, rows, []string{"2026-10-01", "2026-12-31", "Summary", "All cases", "Cases opened", "500"})
		assert.Contains(t, rows, []string{"2026-10-01", "2026-12-31", "Cases by area", "Wales", "Cases", strconv.Itoa(wales)})
	})
	t.Run("file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "q4.csv")
		out, msg := runReport("-csv", "-o", file)
		assert.Empty(t, out)
		assert.Contains(t, msg, "500 cases from 1 Oct 2026 to 31 Dec 2026")
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(b), "from,to,section,group,measure,value\n"))
	})
}

func TestReportCommandErrors(t *testing.T) {
	tests := []struct {
		label string
		args  []string
		env   func(string) string
		want  string
	}{
		{"no redis", []string{"report"}, func(string) string { return "" }, "the case ledger lives in Redis"},
		{"one date", []string{"report", "-from", "2026-10-01"}, reportEnv, "give both -from and -to"},
		{"a bad day", []string{"report", "-from", "1/10/2026", "-to", "2026-12-31"}, reportEnv, `-from: want a day such as 2026-10-01, not "1/10/2026"`},
		{"backwards", []string{"report", "-from", "2026-12-31", "-to", "2026-10-01"}, reportEnv, "-to 2026-10-01 is before -from 2026-12-31"},
		{"stray argument", []string{"report", "2026-10-01"}, reportEnv, "dates go in -from and -to"},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			if tc.label != "no redis" {
				storetest.Redis(t) // skip without Redis, as the others do
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, tc.env, strings.NewReader(""), &stdout, &stderr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestReportPeriod(t *testing.T) {
	loc, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	tests := []struct {
		today       time.Time
		first, last string
	}{
		{time.Date(2027, 1, 5, 10, 0, 0, 0, loc), "2026-10-01", "2026-12-31"},
		{time.Date(2026, 12, 2, 10, 0, 0, 0, loc), "2026-07-01", "2026-09-30"},
		{time.Date(2026, 4, 1, 0, 30, 0, 0, loc), "2026-01-01", "2026-03-31"},
	}
	for _, tc := range tests {
		first, last, err := reportPeriod("", "", tc.today)
		require.NoError(t, err)
		assert.Equal(t, tc.first, first.Format(time.DateOnly), "first day, on %v", tc.today)
		assert.Equal(t, tc.last, last.Format(time.DateOnly), "last day, on %v", tc.today)
		assert.Equal(t, loc, first.Location())
	}
}
