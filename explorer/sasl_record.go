package explorer

import "strings"

// saslTrack follows the client side of a SASL exchange (RFC 4954 §4,
// RFC 5034 §4) so that every credential line is masked, whatever the server
// answers. SMTP and POP3 sessions share it.
type saslTrack struct {
	steps  int  // client responses sent in the current SASL exchange
	pwNext bool // the server's last challenge asked for a password (LOGIN)
	orphan bool // the last command was AUTH: a base64 line now is a credential
}

// recordSASL records line when it belongs to a SASL exchange: a response
// inside one, or a SASL-looking line right after an AUTH the server refused
// or never continued. It reports whether it recorded the line.
func (s *Session) recordSASL(a *saslTrack, line string, st State) bool {
	if st.Phase == PhaseAuth {
		a.steps++
		shown, _ := scrubPlain(maskSASL(st.AuthMech, line, a.steps, a.pwNext))
		s.emit(Event{Dir: ClientToServer, Line: printable(shown)})
		return true
	}
	if a.orphan && looksLikeSASL(line) {
		s.update(func(st *State) { st.Command = MaskedSecret })
		s.emit(Event{Dir: ClientToServer, Line: printable(maskOrphan(line))})
		return true
	}
	return false
}

// recordCommand records a command line and sets Command (and AuthMech for
// AUTH). shown is line with the dialect's own secrets already masked (POP3
// PASS); an AUTH initial response and anything PLAIN-shaped are masked here.
func (s *Session) recordCommand(a *saslTrack, line, shown string) {
	verb, arg := splitVerb(line)
	a.orphan = verb == "AUTH"
	mech, ir, has := cutSpace(arg)
	if verb == "AUTH" {
		a.steps, a.pwNext = 0, false
		if has {
			a.steps = 1
			shown = line[:len(line)-len(ir)] + maskSASL(strings.ToUpper(mech), ir, 1, false)
		}
		if plainShaped(mech) {
			mech = MaskedSecret
		}
	}
	shown, scrubbed := scrubPlain(shown)
	if scrubbed && plainShaped(verb) {
		verb = MaskedSecret
	}
	s.update(func(st *State) {
		st.Command = verb
		if verb == "AUTH" {
			st.AuthMech = strings.ToUpper(mech)
		}
	})
	s.emit(Event{Dir: ClientToServer, Line: printable(shown)})
}
