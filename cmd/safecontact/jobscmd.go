package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/handoff"
)

// jobsBudget is how long the jobs command may take: a few reads of
// bounded lists.
const jobsBudget = 30 * time.Second

// jobSource is one kind of background job that may need a person: the SMS
// outbox's texts (outboxJobs) and the officer queue's posts for Slack
// (queueJobs); the command and the dead-jobs gauge take any.
type jobSource interface {
	// Kind names the jobs, in the listing and in
	// safecontact_jobs_dead{kind}: "text".
	Kind() string
	// List returns the dead jobs, then the waiting ones. A row holds no
	// personal data: no number, no words, no name.
	List(ctx context.Context) ([]jobRow, error)
	// Dead counts the dead jobs.
	Dead(ctx context.Context) (int64, error)
	// Retry puts a dead job back to be done. Drop removes a dead or
	// waiting job for good. Both return errNoJob when the source has no
	// such job, and Drop errJobBusy while a worker is doing it.
	Retry(ctx context.Context, id string) error
	Drop(ctx context.Context, id string) error
}

// jobDead is the state of a job given up; the others are queued,
// sending and unsure (its last attempt went unanswered).
const jobDead = "dead"

var (
	errNoJob   = errors.New("no such job")
	errJobBusy = errors.New("the job is being done now; try again in a minute")
)

// jobRow is one job as the command lists it.
type jobRow struct {
	Kind, ID string
	// Case is the case reference officers see (handoff.ShortRef).
	Case      string
	State     string // dead, queued, sending, unsure
	Attempts  int
	LastError string // e.g. "twilio 21211", "network"; "" for none
	// Unsure: the last attempt went unanswered, so it may have been done.
	Unsure bool
	// Queued is when it was queued; LastTry its last attempt; Next when
	// it is tried next (waiting) or when it was given up (dead).
	Queued, LastTry, Next time.Time
}

// jobIDLen is how much of a job's id the listing shows; any unique
// beginning of at least jobIDMin characters names it.
const (
	jobIDLen = 12
	jobIDMin = 6
)

// jobsCmd lists the jobs that have not been done — given up (dead) or
// waiting — and retries or drops one:
//
//	safecontact jobs            list dead and waiting jobs
//	safecontact jobs retry ID   put a dead job back to be done
//	safecontact jobs drop ID    remove a dead or waiting job for good
//
// Nothing it prints is personal: no number, no text, no name.
func jobsCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("jobs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	prefix := fs.String("prefix", sms.DefaultOutboxPrefix, "the SMS outbox's Redis key prefix")
	queuePrefix := fs.String("queue-prefix", "", "the officer queue's Redis key prefix (default sc:case:)")
	cfg, err := loadConfig(getenv, fs, args)
	if err != nil {
		return err
	}
	rest := fs.Args()
	var verb, id string
	switch {
	case len(rest) == 0:
	case len(rest) == 2 && (rest[0] == "retry" || rest[0] == "drop"):
		verb, id = rest[0], rest[1]
	default:
		return fmt.Errorf("jobs: want no arguments, retry ID or drop ID, not %q", strings.Join(rest, " "))
	}
	if cfg.RedisURL == "" {
		return errors.New("jobs live in Redis: set REDIS_URL and SAFECONTACT_KEY as serve has them")
	}
	ctx, cancel := context.WithTimeout(ctx, jobsBudget)
	defer cancel()
	s, err := build(ctx, cfg, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer s.close()
	sources := []jobSource{
		outboxJobs{sms.NewOutbox(s.redis, s.sealer, nil, nil, sms.OutboxOptions{Prefix: *prefix})},
		queueJobs{handoff.New(s.redis, s.sealer, s.bundle.Hours, nil, handoff.Options{Prefix: *queuePrefix})},
	}
	rows, err := listJobs(ctx, sources)
	if err != nil {
		return err
	}
	loc := s.bundle.Hours.Location()
	switch verb {
	case "retry":
		return retryJob(ctx, sources, rows, id, stdout)
	case "drop":
		return dropJob(ctx, sources, rows, id, stdout)
	}
	return printJobs(stdout, rows, loc)
}

func listJobs(ctx context.Context, sources []jobSource) ([]jobRow, error) {
	var rows []jobRow
	for _, src := range sources {
		r, err := src.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("jobs: %s: %w", src.Kind(), err)
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

func printJobs(w io.Writer, rows []jobRow, loc *time.Location) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "No dead or waiting jobs.")
		return err
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(loc).Format("Mon 2 Jan 15:04:05")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tKIND\tCASE\tSTATE\tATTEMPTS\tLAST ERROR\tQUEUED\tLAST TRY\tNEXT TRY / GAVE UP")
	for _, r := range rows {
		state := r.State
		if r.Unsure && r.State == jobDead {
			state += " (may have gone)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.ID[:min(jobIDLen, len(r.ID))], r.Kind, r.Case, state,
			r.Attempts, or(r.LastError, "-"), when(r.Queued), when(r.LastTry), when(r.Next))
	}
	return tw.Flush()
}

// findJob returns the one job whose id begins with id.
func findJob(sources []jobSource, rows []jobRow, id string) (jobRow, jobSource, error) {
	if len(id) < jobIDMin {
		return jobRow{}, nil, fmt.Errorf("jobs: %q: give at least %d characters of the job's id", id, jobIDMin)
	}
	var found []jobRow
	for _, r := range rows {
		if strings.HasPrefix(r.ID, id) {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return jobRow{}, nil, fmt.Errorf("jobs: %s: no dead or waiting job has this id (`safecontact jobs` lists them)", id)
	case 1:
	default:
		return jobRow{}, nil, fmt.Errorf("jobs: %s: %d jobs begin with this; give more of the id", id, len(found))
	}
	for _, src := range sources {
		if src.Kind() == found[0].Kind {
			return found[0], src, nil
		}
	}
	return jobRow{}, nil, fmt.Errorf("jobs: %s: no source for %s jobs", id, found[0].Kind)
}

func retryJob(ctx context.Context, sources []jobSource, rows []jobRow, id string, w io.Writer) error {
	r, src, err := findJob(sources, rows, id)
	if err != nil {
		return err
	}
	short := r.ID[:min(jobIDLen, len(r.ID))]
	if r.State != jobDead {
		return fmt.Errorf("jobs: %s is %s, not dead: it is still being tried, and there is nothing to retry", short, r.State)
	}
	if err := src.Retry(ctx, r.ID); err != nil {
		if errors.Is(err, errNoJob) {
			return fmt.Errorf("jobs: %s is no longer dead (retried or dropped meanwhile)", short)
		}
		return fmt.Errorf("jobs: retry %s: %w", short, err)
	}
	msg := fmt.Sprintf("Put %s job %s (case %s) back: serve tries it again, behind any queued since for the case, with its attempts counted afresh.", r.Kind, short, r.Case)
	if r.Unsure {
		msg += " Its last attempt went unanswered, so Twilio is asked first whether it went."
	}
	_, err = fmt.Fprintln(w, msg)
	return err
}

func dropJob(ctx context.Context, sources []jobSource, rows []jobRow, id string, w io.Writer) error {
	r, src, err := findJob(sources, rows, id)
	if err != nil {
		return err
	}
	short := r.ID[:min(jobIDLen, len(r.ID))]
	if err := src.Drop(ctx, r.ID); err != nil {
		switch {
		case errors.Is(err, errNoJob):
			return fmt.Errorf("jobs: %s is no longer dead or waiting (done, retried or dropped meanwhile)", short)
		case errors.Is(err, errJobBusy):
			return fmt.Errorf("jobs: %s: %w", short, errJobBusy)
		}
		return fmt.Errorf("jobs: drop %s: %w", short, err)
	}
	msg := fmt.Sprintf("Dropped %s job %s (case %s), which was %s: it will not be done, and its content is erased.", r.Kind, short, r.Case, r.State)
	if r.Unsure {
		msg += " Its last attempt went unanswered: it may have been done before."
	}
	if r.State != jobDead {
		msg += " Whoever is waiting on it has not been told."
	}
	_, err = fmt.Fprintln(w, msg)
	return err
}

// outboxJobs is the SMS outbox's texts as jobs of kind "text". The
// outbox's job states (sms.JobDead, …) are the command's.
type outboxJobs struct{ outbox *sms.Outbox }

func (outboxJobs) Kind() string { return "text" }

func (s outboxJobs) List(ctx context.Context) ([]jobRow, error) {
	jobs, err := s.outbox.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	rows := make([]jobRow, 0, len(jobs))
	for _, j := range jobs {
		r := jobRow{
			Kind: s.Kind(), ID: j.ID, Case: handoff.ShortRef(j.Conversation), State: j.State, Attempts: j.Attempts,
			Unsure: j.Unsure, Queued: j.Queued, LastTry: j.LastTry, Next: j.NextTry,
		}
		if j.State == sms.JobDead {
			r.Next = j.GaveUp
		}
		if j.ErrClass != "" {
			r.LastError = j.ErrClass
			if j.ErrCode != 0 {
				r.LastError += fmt.Sprintf(" %d", j.ErrCode)
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func (s outboxJobs) Dead(ctx context.Context) (int64, error) { return s.outbox.DeadCount(ctx) }

func (s outboxJobs) Retry(ctx context.Context, id string) error {
	return jobError(s.outbox.RetryDead(ctx, id))
}

func (s outboxJobs) Drop(ctx context.Context, id string) error {
	_, err := s.outbox.Drop(ctx, id)
	return jobError(err)
}

// jobError maps the outbox's errors to the command's.
func jobError(err error) error {
	switch {
	case errors.Is(err, sms.ErrNoJob):
		return errNoJob
	case errors.Is(err, sms.ErrJobBusy):
		return errJobBusy
	}
	return err
}

var _ jobSource = outboxJobs{}

// queueJobs is the officer queue's posts for Slack as jobs of kind
// "post". Their ids are the queue's job numbers, written at a fixed width
// so that any six characters of one name it alone.
type queueJobs struct{ queue *handoff.Queue }

func (queueJobs) Kind() string { return "post" }

// postID and queueID turn a job number into the command's id and back.
func postID(n string) string { return "p" + strings.Repeat("0", max(0, jobIDLen-1-len(n))) + n }

func queueID(id string) string {
	n := strings.TrimLeft(strings.TrimPrefix(id, "p"), "0")
	if n == "" {
		return "0"
	}
	return n
}

func (s queueJobs) List(ctx context.Context) ([]jobRow, error) {
	jobs, err := s.queue.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	rows := make([]jobRow, 0, len(jobs))
	for _, j := range jobs {
		r := jobRow{
			Kind: s.Kind(), ID: postID(j.ID), Case: handoff.ShortRef(j.Conversation), State: j.State,
			Attempts: j.Attempts, LastError: j.ErrClass, Queued: j.Queued, LastTry: j.LastTry, Next: j.NextTry,
		}
		if j.State == handoff.JobDead {
			r.State, r.Next = jobDead, j.GaveUp
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func (s queueJobs) Dead(ctx context.Context) (int64, error) { return s.queue.DeadCount(ctx) }

func (s queueJobs) Retry(ctx context.Context, id string) error {
	return queueErr(s.queue.RetryDead(ctx, queueID(id)))
}

func (s queueJobs) Drop(ctx context.Context, id string) error {
	_, err := s.queue.Drop(ctx, queueID(id))
	return queueErr(err)
}

// queueErr gives the queue's errors the command's meaning.
func queueErr(err error) error {
	switch {
	case errors.Is(err, handoff.ErrNoJob):
		return errNoJob
	case errors.Is(err, handoff.ErrJobBusy):
		return errJobBusy
	case errors.Is(err, handoff.ErrJobKept):
		return errors.New("a waiting card or alert is kept until Slack takes it: it cannot be dropped")
	}
	return err
}
