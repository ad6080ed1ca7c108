package bot_test

import (
	"fmt"

	"github.com/safecontact/safecontact/bot"
)

func ExampleDangerLexicon_Match() {
	d, err := bot.NewDangerLexicon(map[string]bot.DangerWords{
		"en": {
			Shorthand: []bot.DangerShorthand{{From: "hes", To: "he is"}, {From: "im", To: "i am"}},
			NotDanger: []bot.DangerPhrase{{Text: "not in danger"}},
			Phrases: []bot.DangerPhrase{
				{Category: "weapon", Text: "knife/knives"},
				{Category: "at_door", Text: "he/she is_back"},
				{Category: "fear", Text: "danger"},
			},
		},
		"cy": {
			Welsh:   true,
			Phrases: []bot.DangerPhrase{{Category: "weapon", Text: "cyllell"}},
		},
	})
	if err != nil {
		panic(err)
	}
	for _, msg := range []string{
		"hes BACK!!",
		"I'm not in danger",
		"im not in danger but hes got a knife",
		"mae ganddo fe gyllell",
		"no thanks",
	} {
		category, ok := d.Match(msg)
		fmt.Printf("%v %q\n", ok, category)
	}
	// Output:
	// true "at_door"
	// false ""
	// true "weapon"
	// true "weapon"
	// false ""
}
