package explorer

import (
	"context"
	"fmt"
	"strings"
)

// Conversation is what a user interface needs of either session: send a
// typed line, watch the trace, read the state, offer the announced
// capabilities. *SMTPSession and *POP3Session implement it.
type Conversation interface {
	Line(ctx context.Context, line string) error
	Events() []Event
	Subscribe(f func(Event)) (cancel func())
	State() State
	Caps() []string
	Closed() bool
	Note(line string)
	Close() error
}

var (
	_ Conversation = (*SMTPSession)(nil)
	_ Conversation = (*POP3Session)(nil)
)

// Dial opens an SMTP or POP3 session. As with DialSMTP and DialPOP3, a
// session may come back together with an error (a refused greeting, a
// failed STARTTLS) so that its trace can still be shown.
func Dial(ctx context.Context, proto Protocol, opts Options) (Conversation, error) {
	switch proto {
	case SMTP:
		c, err := DialSMTP(ctx, opts)
		if c == nil {
			return nil, err
		}
		return c, err
	case POP3:
		c, err := DialPOP3(ctx, opts)
		if c == nil {
			return nil, err
		}
		return c, err
	}
	return nil, fmt.Errorf("unknown protocol %q (want smtp or pop3)", proto)
}

func capStrings(caps []Capability) []string {
	var out []string
	for _, c := range caps {
		out = append(out, strings.TrimSpace(c.Keyword+" "+strings.Join(c.Params, " ")))
	}
	return out
}

// Caps lists the EHLO keywords with their parameters ("SIZE 10240000").
func (c *SMTPSession) Caps() []string { return capStrings(c.caps) }

// Caps lists the CAPA tags with their parameters ("SASL PLAIN").
func (c *POP3Session) Caps() []string { return capStrings(c.caps) }
