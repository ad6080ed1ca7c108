package flows_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/safecontact/safecontact/flows"
)

// TestBrokenReferenceData loads each testdata/broken/{areas,postcodes,
// places,hours}_*.yaml, which breaks one rule of the area directory or
// the office hours, and checks it reports exactly its problems, by file
// and line. A broken areas file is loaded with testdata/directory's
// postcodes file, a broken postcodes file with its areas file, and a
// broken places file with both.
func TestBrokenReferenceData(t *testing.T) {
	tests := []brokenCase{
		{"areas_alias_clash.yaml", []string{`areas_alias_clash.yaml:29: area "elsewhere": name "shrops" is also a name of area "shropshire"`}},
		{"areas_bad_date.yaml", []string{`areas_bad_date.yaml:13: service "emergency": verified "2026-13-01" is not a date like 2026-11-01`}},
		{"areas_bad_number.yaml", []string{`areas_bad_number.yaml:18: service "local": number "0800 783 13599": want a UK number of 10 or 11 digits starting 0, a 116 number, or 999, 112, 101, 111`}},
		{"areas_bad_number_chars.yaml", []string{`areas_bad_number_chars.yaml:18: service "local": number "0800-783-1359": want digits, with single spaces between groups`}},
		{"areas_duplicate_area.yaml", []string{`areas_duplicate_area.yaml:33: area "elsewhere" is defined twice (first on line 29)`}},
		{"areas_duplicate_service.yaml", []string{`areas_duplicate_service.yaml:23: service "local" is defined twice (first on line 14)`}},
		{"areas_hours_label_always_open.yaml", []string{`areas_hours_label_always_open.yaml:17: service "local" is always open: hours_label is for lines that are not`}},
		{"areas_lock_screen_word.yaml", []string{`areas_lock_screen_word.yaml:16: service "local": label (en) has the lock-screen word "refuge"`}},
		{"areas_missing_name.yaml", []string{`areas_missing_name.yaml:24: area "shropshire": name: missing; give it in en and cy`}},
		{"areas_missing_source.yaml", []string{`areas_missing_source.yaml:14: service "local" has no source`}},
		{"areas_missing_translation.yaml", []string{`areas_missing_translation.yaml:16: service "local": label: no cy text`}},
		{"areas_national_left_out.yaml", []string{`areas_national_left_out.yaml:24: area "shropshire" leaves out national service "emergency"`}},
		{"areas_newer_version.yaml", []string{`areas_newer_version.yaml:2: version 2 is newer than this safecontact understands (1); upgrade safecontact`}},
		{"areas_no_fallback.yaml", []string{
			`areas_no_fallback.yaml:2: no area "elsewhere": add it, with the national services, for tenants whose area is not known`,
			`postcodes.yaml:5: postcode_areas: unknown area "elsewhere"`,
			`postcodes.yaml:8: district SY7 names unknown area "elsewhere"`,
		}},
		{"areas_no_hours_label.yaml", []string{`areas_no_hours_label.yaml:14: service "local": hours_label: missing; give it in en and cy`}},
		{"areas_no_menu.yaml", []string{`areas_no_menu.yaml:2: no area has "menu: true": the tenant's area menu would be empty`}},
		{"areas_too_long.yaml", []string{`areas_too_long.yaml:24: area "shropshire": its numbers in en take 3 SMS segments under a heading of 30 characters; the most is 2: shorten the labels`}},
		{"areas_unknown_key.yaml", []string{`areas_unknown_key.yaml:19: service "local": unknown key "phone"`}},
		{"areas_unknown_out_of_hours.yaml", []string{`areas_unknown_out_of_hours.yaml:21: service "local": out_of_hours names unknown service "council_night"`}},
		{"areas_unconfirmed_service.yaml", []string{`areas_unconfirmed_service.yaml:29: area "shropshire": service "local" is unconfirmed: list it under officers, never under services, which a tenant is sent`}},
		{"areas_unknown_service.yaml", []string{`areas_unknown_service.yaml:28: area "shropshire" lists unknown service "wmwa"`}},
		{"hours_backwards.yaml", []string{`hours_backwards.yaml:6: week: tue: "17:00-09:00" ends before it starts`}},
		{"hours_bad_closed.yaml", []string{
			`hours_bad_closed.yaml:12: closed: "2026-02-30" is not a date like 2026-12-24`,
			`hours_bad_closed.yaml:13: closed: from 15:00 is not before to 12:00`,
			`hours_bad_closed.yaml:14: closed: bad time "noon": want HH:MM, like "13:00"`,
		}},
		{"hours_bad_open.yaml", []string{
			`hours_bad_open.yaml:13: open: 2026-12-28 is listed twice (first on line 12)`,
			`hours_bad_open.yaml:14: open: no hours: give them like "hours: 10:00-14:00"`,
		}},
		{"hours_bad_time.yaml", []string{`hours_bad_time.yaml:5: week: mon: bad hours "9am-5pm": want "closed" or times like "09:00-17:00" or "09:00-12:30, 13:30-17:00"`}},
		{"hours_missing_keys.yaml", []string{
			`hours_missing_keys.yaml:2: no timezone: add "timezone: Europe/London"`,
			`hours_missing_keys.yaml:2: no holidays: add "holidays: england_wales" (or "none")`,
		}},
		{"hours_never_open.yaml", []string{`hours_never_open.yaml:5: the week has no open hours: no deadline could ever be met`}},
		{"hours_newer_version.yaml", []string{`hours_newer_version.yaml:2: version 2 is newer than this safecontact understands (1); upgrade safecontact`}},
		{"hours_overlap.yaml", []string{`hours_overlap.yaml:7: week: wed: "12:00-17:00" overlaps or comes before the hours ahead of it`}},
		{"hours_unknown_day.yaml", []string{`hours_unknown_day.yaml:8: week: unknown key "thursday"`}},
		{"hours_unknown_holidays.yaml", []string{`hours_unknown_holidays.yaml:10: unknown holidays "scotland": want england_wales or none`}},
		{"hours_unknown_timezone.yaml", []string{`hours_unknown_timezone.yaml:3: unknown timezone "Europe/Londn": want a name like Europe/London`}},
		{"places_name_clash.yaml", []string{
			`places_name_clash.yaml:6: place "Shrops": "Shrops" is already a name of area "shropshire" in areas.yaml: leave it there`,
			`places_name_clash.yaml:8: place "newport": "newport" is listed twice (first on line 7): give one entry every area it may be in`,
		}},
		{"places_unknown_area.yaml", []string{`places_unknown_area.yaml:7: place "Wellington" names unknown area "telford_wrekin"`}},
		{"places_unknown_source.yaml", []string{`places_unknown_source.yaml:6: place "Shrewsbury": unknown source "royal_mail": add it under sources`}},
		{"postcodes_bad_district.yaml", []string{
			`postcodes_bad_district.yaml:7: "tf11" is not a postcode district: want capitals and digits like TF1 or SY23`,
			`postcodes_bad_district.yaml:8: "TF11 8AB" is not a postcode district: want capitals and digits like TF1 or SY23`,
		}},
		{"postcodes_bad_postcode_area.yaml", []string{
			`postcodes_bad_postcode_area.yaml:4: "T1" is not a postcode area: want one or two capital letters, like TF or B`,
			`postcodes_bad_postcode_area.yaml:4: "ABC" is not a postcode area: want one or two capital letters, like TF or B`,
			`postcodes_bad_postcode_area.yaml:4: "AZ" is not a postcode area: want one or two capital letters, like TF or B`,
		}},
		{"postcodes_district_no_area.yaml", []string{
			`postcodes_district_no_area.yaml:6: district TF11 names no area`,
			`postcodes_district_no_area.yaml:7: district SY7 names area "shropshire" twice`,
		}},
		{"postcodes_duplicate_district.yaml", []string{`postcodes_duplicate_district.yaml:8: district TF11 is listed twice (first on line 6)`}},
		{"postcodes_duplicate_postcode_area.yaml", []string{`postcodes_duplicate_postcode_area.yaml:5: postcode area SY is listed twice (first on line 4)`}},
		{"postcodes_newer_version.yaml", []string{`postcodes_newer_version.yaml:2: version 2 is newer than this safecontact understands (1); upgrade safecontact`}},
		{"postcodes_unknown_area.yaml", []string{`postcodes_unknown_area.yaml:6: district TF1 names unknown area "telford"`}},
		{"postcodes_unknown_key.yaml", []string{`postcodes_unknown_key.yaml:5: postcodes file: unknown key "district"`}},
		{"postcodes_unlisted_postcode_area.yaml", []string{`postcodes_unlisted_postcode_area.yaml:7: district HR3: postcode area HR is not under postcode_areas`}},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "broken", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if !slices.ContainsFunc(tests, func(tt brokenCase) bool { return tt.file == name }) {
			t.Errorf("%s has no case in this test", f)
		}
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".yaml"), func(t *testing.T) {
			t.Parallel()
			got := loadBroken(t, tt.file)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// brokenCase is a broken file and the problems it must report.
type brokenCase struct {
	file string
	want []string
}

// loadBroken loads one broken file and returns its problems, each as
// "file:line: msg" with the file's base name.
func loadBroken(t *testing.T, name string) []string {
	t.Helper()
	fsys := os.DirFS("testdata")
	broken := "broken/" + name
	var problems flows.Problems
	switch {
	case strings.HasPrefix(name, "areas_"):
		_, problems = flows.LoadDirectory(fsys, broken, "directory/postcodes.yaml")
	case strings.HasPrefix(name, "postcodes_"):
		_, problems = flows.LoadDirectory(fsys, "directory/areas.yaml", broken)
	case strings.HasPrefix(name, "places_"):
		_, problems = flows.LoadDirectoryFiles(fsys, flows.DirectoryFiles{
			Areas: "directory/areas.yaml", Postcodes: "directory/postcodes.yaml", Places: broken})
	case strings.HasPrefix(name, "hours_"):
		_, problems = flows.LoadHours(fsys, broken)
	default:
		t.Fatalf("%s: want a name starting areas_, postcodes_, places_ or hours_", name)
	}
	var out []string
	for _, p := range problems {
		p.File = filepath.Base(p.File)
		out = append(out, p.String())
	}
	return out
}

// The base files the broken ones break have no problems.
func TestSmallDirectoryHasNoProblems(t *testing.T) {
	_, problems := flows.LoadDirectory(os.DirFS("testdata"), "directory/areas.yaml", "directory/postcodes.yaml")
	if len(problems) > 0 {
		t.Errorf("problems:\n%v", problems)
	}
}
