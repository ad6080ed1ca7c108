module safecontact

go 1.26.8

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/looplab/fsm v1.0.3 // indirect
	github.com/redis/go-redis/v9 v9.23.0 // indirect
	github.com/rickar/cal/v2 v2.1.13 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/sys v0.48.0 // indirect
)
