package bot

import "time"

// Directory knows the support areas, which area a postcode or place name is
// in, and the support numbers to give for an area. The flows package
// implements it from YAML data.
type Directory interface {
	// Areas lists the areas a tenant can pick from, in menu order. The
	// last is usually "elsewhere" (national services only).
	Areas() []Area
	// Locate finds the areas a tenant's text names: an area's name or one
	// of its aliases ("telford", "shrops"), or a postcode or postcode
	// district ("TF1 2AB", "tf11"). It returns one area when the text is
	// clear, several when a postcode district straddles areas, and none
	// when the text is neither (the engine then uses Fallback).
	Locate(text string) []string
	// Fallback is the area used when a tenant's text names no area:
	// national services, never nothing.
	Fallback() string
	// Numbers returns the support numbers for the area as lines for a
	// tenant, in the language, national services included. At now out of
	// office hours 24-hour services come first.
	Numbers(area, lang string, now time.Time) []string
	// AreaName returns the area's name in the language.
	AreaName(area, lang string) string
	// ServiceLines returns the lines a tenant is sent for the services
	// with the ids, in order and in the language, for signposting (the
	// men's line to a man who asks). Unknown ids are left out.
	ServiceLines(ids []string, lang string) []string
}

// Area is one entry of the area menu.
type Area struct {
	ID   string
	Name Text
}

// WorkingTime knows the landlord's office hours and bank holidays.
type WorkingTime interface {
	// Deadline returns when "within one working day" of t ends.
	Deadline(t time.Time) time.Time
	// Open reports whether t falls within office hours on a working day.
	Open(t time.Time) bool
	// Location is the time zone deadlines are quoted in.
	Location() *time.Location
}
