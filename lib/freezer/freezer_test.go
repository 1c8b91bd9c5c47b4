package freezer

import "testing"

func TestStateNames(t *testing.T) {
	for _, s := range []State{Thawed, Freezing, Frozen, Checkpointing} {
		got, err := ParseState(s.String())
		if err != nil || got != s {
			t.Errorf("ParseState(%q) = %v, %v; want %v", s.String(), got, err, s)
		}
	}
	if got, err := ParseState("frozen"); err != nil || got != Frozen {
		t.Errorf("ParseState(frozen) = %v, %v", got, err)
	}
	if _, err := ParseState("MELTED"); err == nil {
		t.Error("ParseState(MELTED) succeeded")
	}
	if s := State(0).String(); s != "State(0)" {
		t.Errorf("State(0) is %q", s)
	}
}
