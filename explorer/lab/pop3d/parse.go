package pop3d

import (
	"errors"
	"strings"
)

// Command is one parsed client command line (RFC 1939 §3: a case-insensitive
// keyword, then arguments separated by single spaces).
type Command struct {
	Name string   // keyword in upper case
	Arg  string   // everything after the first space, unmodified (PASS keeps its spaces)
	Args []string // Arg split on spaces
}

// Parse errors.
var (
	ErrEmptyCommand = errors.New("pop3d: empty command line")
	ErrBadKeyword   = errors.New("pop3d: command keyword is not 1-16 ASCII letters")
	ErrBadCharacter = errors.New("pop3d: control character in command line")
)

// maxKeyword bounds the keyword. RFC 1939 keywords have 3 or 4 letters; a
// little more lets "STARTTLS" or "EHLO" get an "unknown command" answer
// instead of a syntax error.
const maxKeyword = 16

// ParseCommand parses a command line without its CRLF. It never panics and
// does not allocate more than a small multiple of len(line).
func ParseCommand(line string) (Command, error) {
	if line == "" {
		return Command{}, ErrEmptyCommand
	}
	for i := 0; i < len(line); i++ {
		// Bytes >= 0x80 are allowed: passwords and SASL data may be UTF-8.
		if c := line[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return Command{}, ErrBadCharacter
		}
	}
	kw, arg, _ := strings.Cut(line, " ")
	if len(kw) == 0 || len(kw) > maxKeyword {
		return Command{}, ErrBadKeyword
	}
	for i := 0; i < len(kw); i++ {
		c := kw[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return Command{}, ErrBadKeyword
		}
	}
	cmd := Command{Name: strings.ToUpper(kw), Arg: arg}
	if arg != "" {
		cmd.Args = strings.Fields(arg)
	}
	return cmd, nil
}
