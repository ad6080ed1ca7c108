package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/looplab/fsm"
)

// Names of the state machine's events. An option's event is
// "<step>/<option>"; a text or area answer is "<step>/answer".
const (
	eventAnswer  = "answer"
	eventSkip    = "skip"
	eventOfficer = "officer"
	eventRestart = "restart"
)

func optionEvent(step, option string) string { return step + "/" + option }

// machine holds the flow's transitions as looplab/fsm event descriptions.
// For each turn a state machine is set to the conversation's state and
// fired; the conversation record, not the machine, is what the store keeps.
type machine struct {
	events  []fsm.EventDesc // everything the engine can do
	forward []fsm.EventDesc // answers and skips only, for drawing the flow
	// pool reuses built state machines: building one costs far more than
	// a turn's other work, and a machine holds nothing between turns.
	pool sync.Pool
}

func newMachine(f *Flow) *machine {
	m := &machine{}
	handoff := f.HandoffStep()
	for _, s := range f.Steps {
		if s.Kind == KindEnd {
			if s.Restart {
				m.events = append(m.events, fsm.EventDesc{Name: eventRestart, Src: []string{s.ID}, Dst: f.Start})
			}
			continue
		}
		for _, o := range s.Options {
			m.forward = append(m.forward, fsm.EventDesc{Name: optionEvent(s.ID, o.ID), Src: []string{s.ID}, Dst: o.next(s)})
		}
		if s.Kind == KindText || s.Kind == KindArea {
			m.forward = append(m.forward, fsm.EventDesc{Name: optionEvent(s.ID, eventAnswer), Src: []string{s.ID}, Dst: s.Next})
		}
		if skip := s.skipTo(); skip != "" {
			m.forward = append(m.forward, fsm.EventDesc{Name: optionEvent(s.ID, eventSkip), Src: []string{s.ID}, Dst: skip})
		}
	}
	m.events = append(m.events, m.forward...)
	if handoff != nil {
		var src []string
		for _, s := range f.Steps {
			if s.ID != handoff.ID {
				src = append(src, s.ID)
			}
		}
		m.events = append(m.events, fsm.EventDesc{Name: eventOfficer, Src: src, Dst: handoff.ID})
	}
	m.pool.New = func() any { return fsm.NewFSM(f.Start, m.events, nil) }
	return m
}

// fire moves from state by the event and returns the new state.
func (m *machine) fire(ctx context.Context, state, event string) (string, error) {
	f := m.pool.Get().(*fsm.FSM)
	defer m.pool.Put(f)
	f.SetState(state)
	err := f.Event(ctx, event)
	var same fsm.NoTransitionError
	if err != nil && !errors.As(err, &same) {
		return state, fmt.Errorf("flow: %s from %q: %w", event, state, err)
	}
	return f.Current(), nil
}

// next is where the option leads: its own Next, else its step's.
func (o *Option) next(s *Step) string {
	if o.Next != "" {
		return o.Next
	}
	return s.Next
}

// skipTo is where SKIP leads from the step.
func (s *Step) skipTo() string {
	if s.Skip != "" {
		return s.Skip
	}
	return s.Next
}

// Graph draws the flow's answers and skips as a Mermaid state diagram.
// Global words (exit, officer, back, …) hold in every state and are left
// out, as they would connect everything to everything.
func Graph(f *Flow) (string, error) {
	m := newMachine(f)
	return fsm.VisualizeWithType(fsm.NewFSM(f.Start, m.forward, nil), fsm.MERMAID)
}
