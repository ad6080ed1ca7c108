package handoff

import "context"

// Job is the queue's job a board call is made for: Key names it, the
// same on every attempt, and Attempt counts the attempts before this one.
// A board that can look up what it posted uses them to post once: after
// an attempt whose answer was lost, it finds the post by its key rather
// than post again.
type Job struct {
	Key     string
	Attempt int
}

type jobContextKey struct{}

func withJob(ctx context.Context, j Job) context.Context {
	return context.WithValue(ctx, jobContextKey{}, j)
}

// JobOf returns the job the board call in ctx is made for, if the queue's
// worker made it.
func JobOf(ctx context.Context) (Job, bool) {
	j, ok := ctx.Value(jobContextKey{}).(Job)
	return j, ok
}
