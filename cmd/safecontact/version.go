package main

import (
	"fmt"
	"runtime/debug"
)

// version is the release, set at build time:
//
//	go build -ldflags "-X main.version=v1.2.0" ./cmd/safecontact
//
// Without it, the module's version from the build (a go install of a
// tagged release) or "dev".
var version = ""

// buildInfo is the version, the commit it was built from (with
// "+modified" when the tree had uncommitted changes) and the Go release.
type buildInfo struct {
	Version, Commit, Go string
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: "unknown", Go: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if b.Version == "" {
			b.Version = "dev"
		}
		return b
	}
	b.Go = info.GoVersion
	if b.Version == "" {
		b.Version = info.Main.Version
	}
	if b.Version == "" || b.Version == "(devel)" {
		b.Version = "dev"
	}
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified {
		b.Commit += "+modified"
	}
	return b
}

func (b buildInfo) String() string {
	return fmt.Sprintf("safecontact %s (commit %s, %s)", b.Version, b.Commit, b.Go)
}
