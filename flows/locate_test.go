package flows_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/safecontact/safecontact/flows"
)

func TestLocateByName(t *testing.T) {
	d, _ := loadDefaultDirectory(t)
	tests := []struct {
		text string
		want []string
	}{
		{"Telford & Wrekin", []string{"telford_wrekin"}},
		{"telford and wrekin", []string{"telford_wrekin"}},
		{"  TELFORD  ", []string{"telford_wrekin"}},
		{"shropshire", []string{"shropshire"}},
		{"Shrops", []string{"shropshire"}},
		{"I live in Shrewsbury", []string{"shropshire"}},
		{"Bishop's Castle", []string{"shropshire"}},
		{"staffs", []string{"staffordshire"}},
		{"Stoke-on-Trent", []string{"staffordshire"}},
		{"hereford", []string{"herefordshire"}},
		{"Swydd Henffordd", []string{"herefordshire"}},
		{"Hay-on-Wye", []string{"wales"}},
		{"cymru", []string{"wales"}},
		{"somewhere else", []string{"elsewhere"}},
		{"Rhywle arall", []string{"elsewhere"}},
		{"between Telford and Stafford", []string{"telford_wrekin", "staffordshire"}},
		// A name wins over a postcode in the same answer.
		{"Telford TF9", []string{"telford_wrekin"}},
		// Names match whole words only.
		{"staffordshirebull", nil},
		// A place in two areas gives both; a postcode settles it.
		{"Newport", []string{"telford_wrekin", "wales"}},
		{"TF10 Newport", []string{"telford_wrekin"}},
		{"I live in Madeley", []string{"telford_wrekin", "staffordshire"}},
		{"madeley telford", []string{"telford_wrekin"}},
		{"ST GEORGES", []string{"telford_wrekin"}},
		{"bishops castle", []string{"shropshire"}},
		{"Wellington", []string{"telford_wrekin", "herefordshire"}},
		{"Hereforshire", []string{"herefordshire"}},
		{"Crewe", []string{"elsewhere"}},
		{"Y Trallwng", []string{"wales"}},
		{"Amwythig", []string{"shropshire"}},
		{"Casnewydd", []string{"wales"}},
	}
	for _, tt := range tests {
		if got := d.Locate(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("Locate(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestLocateByPostcode(t *testing.T) {
	d, _ := loadDefaultDirectory(t)
	tests := []struct {
		text string
		want []string
	}{
		{"TF1", []string{"telford_wrekin"}},
		{"Tf1 2ab", []string{"telford_wrekin"}},
		{"TF11", []string{"shropshire"}},
		{"tf11 8ab", []string{"shropshire"}},
		{"TF118AB", []string{"shropshire"}},
		{"TF11AB", []string{"telford_wrekin"}}, // TF1 1AB
		{"TF9 1AA", []string{"shropshire", "staffordshire"}},
		{"TF12", []string{"shropshire"}},
		{"TF13", []string{"shropshire"}},
		{"SY1 1AA", []string{"shropshire"}},
		{"SY8", []string{"shropshire", "herefordshire"}},
		{"SY7", []string{"shropshire", "herefordshire", "wales"}},
		{"SY14", []string{"wales", "elsewhere"}},
		{"SY4 4AA", []string{"telford_wrekin", "shropshire"}},
		{"CW3 9AA", []string{"shropshire", "staffordshire", "elsewhere"}},
		{"SK11 0AA", []string{"staffordshire", "elsewhere"}},
		{"SK11", []string{"staffordshire", "elsewhere"}},
		{"HR8", []string{"herefordshire", "elsewhere"}},
		{"Woore CW3", []string{"shropshire"}},
		{"Rushton Spencer SK11", []string{"staffordshire"}},
		{"Rodington SY4", []string{"telford_wrekin"}},
		{"SY16", []string{"wales"}},
		{"SY23", []string{"wales"}},
		{"SY25", []string{"wales"}},
		{"HR3", []string{"herefordshire", "wales"}},
		{"HR4 0AA", []string{"herefordshire"}},
		{"ST1 1AA", []string{"staffordshire"}},
		{"ST21", []string{"staffordshire"}},
		{"WS13 6AA", []string{"staffordshire"}},
		{"WS1 1AA", []string{"elsewhere"}},
		{"WS9", []string{"staffordshire", "elsewhere"}},
		{"WV1", []string{"elsewhere"}},
		{"WV7", []string{"shropshire"}},
		{"DE14", []string{"staffordshire", "elsewhere"}},
		{"DE1", []string{"elsewhere"}},
		{"WR1", []string{"elsewhere"}},
		{"B1", []string{"elsewhere"}},
		{"M1 1AA", []string{"elsewhere"}},
		{"LS1", []string{"elsewhere"}},
		{"EC1A 1BB", []string{"elsewhere"}},
		{"CF10 1AA", []string{"wales"}},
		{"LL57", []string{"wales"}},
		{"SA1", []string{"wales"}},
		{"NP20", []string{"wales"}},
		{"LD1", []string{"wales"}},
		{"CH5", []string{"wales"}},
		{"CH8", []string{"wales"}},
		{"CH1", []string{"elsewhere"}},
		{"my postcode is TF1 2AB thanks", []string{"telford_wrekin"}},
		{"postcode: sy23.", []string{"wales"}},
	}
	for _, tt := range tests {
		if got := d.Locate(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("Locate(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

// FuzzLocate checks that any text finds only known areas, in order, and
// never panics.
func FuzzLocate(f *testing.F) {
	d, _ := loadDefaultDirectory(f)
	for _, s := range []string{"TF11 8AB", "telford", "HR3", "my postcode is sy23 1aa", "TF!!", "Stoke-on-Trent", "x",
		"Shrewsbry", "TF10 Newport", "Ŵyddgrug", "bishop’s castle", "& & &", strings.Repeat("wellingon ", 30)} {
		f.Add(s)
	}
	ids := d.IDs()
	f.Fuzz(func(t *testing.T, s string) {
		got := d.Locate(s)
		last := -1
		for _, id := range got {
			i := slices.Index(ids, id)
			if i <= last {
				t.Fatalf("Locate(%q) = %v: unknown, repeated or out of order", s, got)
			}
			last = i
		}
	})
}

// Every district listed in the default postcodes file is a real district
// of a known postcode area, and each of the four counties can be reached
// by postcode.
func TestDefaultPostcodesReachEveryArea(t *testing.T) {
	d, _ := loadDefaultDirectory(t)
	data, err := os.ReadFile("default/postcodes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	reached := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		key, _, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || strings.HasPrefix(key, "#") || strings.Contains(key, " ") {
			continue
		}
		if _, ok := flows.ParsePostcode(key); !ok {
			continue
		}
		for _, id := range d.Locate(key) {
			reached[id] = true
		}
	}
	for _, id := range d.IDs() {
		if !reached[id] {
			t.Errorf("no listed district reaches %s", id)
		}
	}
}
