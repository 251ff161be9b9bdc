package annotate

import (
	"testing"

	"postlab/explorer"
)

func TestAnnotateBasics(t *testing.T) {
	n := Annotate(explorer.Event{Dir: explorer.ClientToServer, Line: "MAIL FROM:<a@b>", State: explorer.State{Proto: explorer.SMTP, Phase: explorer.PhaseReady}})
	if len(n) == 0 || n[0].Ref != "RFC 5321 §4.1.1.2" {
		t.Fatalf("MAIL: %+v", n)
	}
	n = Annotate(explorer.Event{Dir: explorer.ServerToClient, Line: "354 go ahead", State: explorer.State{Proto: explorer.SMTP, Command: "DATA"}})
	if len(n) == 0 || n[0].Ref != "RFC 5321 §4.2.3" {
		t.Fatalf("354: %+v", n)
	}
}
