package bot

// Kinds of global words: understood at every step, whatever the question
// and the language. Words.Global lists them; the engine compiles each
// into its lexicon, and `flows check` refuses an option, an area name or
// a danger phrase that one of them would take first.
const (
	WordsExit     = "exit"
	WordsOptOut   = "opt_out"
	WordsErase    = "erase"
	WordsHelp     = "help"
	WordsSkip     = "skip"
	WordsBack     = "back"
	WordsOfficer  = "officer"
	WordsDanger   = "danger"
	WordsGreeting = "greeting"
)

// WordList is one kind of global words and its words in one language.
type WordList struct {
	Kind  string
	Words []string
}

// Global returns the global words of w, a kind at a time, in the order
// the engine tries them: the one list of their kinds.
func (w *Words) Global() []WordList {
	return []WordList{
		{WordsExit, w.Exit}, {WordsOptOut, w.OptOut}, {WordsErase, w.Erase}, {WordsHelp, w.Help},
		{WordsSkip, w.Skip}, {WordsBack, w.Back}, {WordsOfficer, w.Officer},
		{WordsDanger, w.Danger}, {WordsGreeting, w.Greeting},
	}
}
