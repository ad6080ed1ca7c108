package flows_test

import (
	"fmt"
	"os"
	"time"

	"github.com/safecontact/safecontact/flows"
)

func ExampleParsePostcode() {
	for _, s := range []string{"tf11 8ab", "TF118AB", "TF11", "Tf1 2ab", "TF!!", "12345"} {
		pc, ok := flows.ParsePostcode(s)
		fmt.Printf("%-9q %-5v area=%q district=%q inward=%q\n", s, ok, pc.Area, pc.District, pc.Inward)
	}
	// Output:
	// "tf11 8ab" true  area="TF" district="TF11" inward="8AB"
	// "TF118AB" true  area="TF" district="TF11" inward="8AB"
	// "TF11"    true  area="TF" district="TF11" inward=""
	// "Tf1 2ab" true  area="TF" district="TF1" inward="2AB"
	// "TF!!"    false area="" district="" inward=""
	// "12345"   false area="" district="" inward=""
}

func ExampleDirectory_Locate() {
	d, _ := flows.LoadDirectory(os.DirFS("default"), flows.AreasFile, flows.PostcodesFile)
	for _, s := range []string{"Telford & Wrekin", "staffs", "TF11 8AB", "SY23", "HR3 5AA", "M1 1AA", "zz99 9zz"} {
		fmt.Printf("%q: %v\n", s, d.Locate(s))
	}
	// Output:
	// "Telford & Wrekin": [telford_wrekin]
	// "staffs": [staffordshire]
	// "TF11 8AB": [shropshire]
	// "SY23": [wales]
	// "HR3 5AA": [herefordshire wales]
	// "M1 1AA": [elsewhere]
	// "zz99 9zz": []
}

func ExampleDirectory_Numbers() {
	fsys := os.DirFS("default")
	hours, _ := flows.LoadHours(fsys, flows.HoursFile)
	d, _ := flows.LoadDirectory(fsys, flows.AreasFile, flows.PostcodesFile)
	d = d.WithHours(hours)
	saturdayNight := time.Date(2026, 11, 28, 23, 0, 0, 0, hours.Location())
	for _, line := range d.Numbers("telford_wrekin", "en", saturdayNight) {
		fmt.Println(line)
	}
	// Output:
	// Emergency: 999. Can't speak? 999 then 55 (mobile)
	// National helpline, free, 24h: 0808 2000 247
	// Local support, free, 24h: 0800 840 3747
	// Telford council, out of hours: 01952 676500
	// Police, not urgent: 101
	// Samaritans, 24h: 116 123
}

func ExampleHours_Deadline() {
	h, _ := flows.LoadHours(os.DirFS("default"), flows.HoursFile)
	london := h.Location()
	for _, t := range []time.Time{
		time.Date(2026, 11, 24, 10, 0, 0, 0, london), // Tuesday morning
		time.Date(2026, 11, 27, 18, 0, 0, 0, london), // Friday evening
		time.Date(2026, 12, 24, 15, 0, 0, 0, london), // Christmas Eve
	} {
		fmt.Println(t.Format("Mon 2 Jan 15:04"), "->", h.Deadline(t).Format("Mon 2 Jan 15:04"))
	}
	// Output:
	// Tue 24 Nov 10:00 -> Wed 25 Nov 10:00
	// Fri 27 Nov 18:00 -> Mon 30 Nov 17:00
	// Thu 24 Dec 15:00 -> Tue 29 Dec 15:00
}
