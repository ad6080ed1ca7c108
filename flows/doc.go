// Package flows loads safecontact's scripts and reference data from YAML:
// the intake flow, the area directory of support numbers, the mapping of
// postcode districts to areas, the office hours, and the duties the
// landlords' policies ask of officers for a case. The defaults are
// embedded in the binary; a directory given at start-up overrides them file
// by file.
//
// Loading validates everything and reports each problem with its file and
// line. Errors stop start-up; warnings (a number past its verified-on date)
// do not.
package flows
