package annotate

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"postlab/explorer"
)

// refPattern is what a well-formed reference looks like: an RFC section or
// appendix, an IANA registry (optionally naming the RFC that registered
// the entry), an Internet-Draft, or a vendor document for the few
// non-standard extensions.
var refPattern = regexp.MustCompile(`^(RFC [1-9]\d* (§\d+(\.\d+)*|§[A-Z](\.\d+)*|Appendix [A-Z])|IANA [A-Za-z0-9 ]+( \(RFC [1-9]\d*\)| registry)|draft-[a-z0-9-]+-\d\d|(Postfix|Sendmail|Microsoft|Google) [A-Za-z0-9_ -]+)$`)

func checkEntry(t *testing.T, table, key string, e Entry) {
	t.Helper()
	if strings.TrimSpace(e.Title) == "" {
		t.Errorf("%s[%s]: empty title", table, key)
	}
	if strings.TrimSpace(e.Detail) == "" {
		t.Errorf("%s[%s]: empty detail", table, key)
	}
	if !refPattern.MatchString(e.Ref) {
		t.Errorf("%s[%s]: malformed reference %q", table, key, e.Ref)
	}
	// Details teach in one to three sentences.
	if n := strings.Count(e.Detail, ". ") + 1; n > 3 {
		t.Errorf("%s[%s]: detail has %d sentences, want at most 3", table, key, n)
	}
	if !strings.HasSuffix(e.Detail, ".") && !strings.HasSuffix(e.Detail, ")") {
		t.Errorf("%s[%s]: detail does not end a sentence: %q", table, key, e.Detail)
	}
}

func TestEveryRowHasAReference(t *testing.T) {
	tables := map[string]map[string]Entry{
		"smtpCommands":    smtpCommands,
		"pop3Commands":    pop3Commands,
		"ehloKeywords":    ehloKeywords,
		"saslMechs":       saslMechs,
		"pop3Caps":        pop3Caps,
		"pop3RespCodes":   pop3RespCodes,
		"enhancedCodes":   enhancedCodes,
		"headerFields":    headerFields,
		"mailParams":      {},
		"replyCodes":      {},
		"replyClass":      {},
		"enhancedClass":   {},
		"enhancedSubject": {},
	}
	for k, v := range mailParams {
		tables["mailParams"][k] = v.Entry
	}
	for k, v := range replyCodes {
		tables["replyCodes"][fmt.Sprint(k)] = v
	}
	for k, v := range replyClass {
		tables["replyClass"][fmt.Sprint(k)] = v
	}
	for k, v := range enhancedClass {
		tables["enhancedClass"][fmt.Sprint(k)] = v
	}
	for k, v := range enhancedSubject {
		tables["enhancedSubject"][fmt.Sprint(k)] = v
	}
	rows := 0
	for name, tab := range tables {
		if len(tab) == 0 {
			t.Errorf("table %s is empty", name)
		}
		for k, e := range tab {
			checkEntry(t, name, k, e)
			rows++
		}
	}
	if rows < 250 {
		t.Errorf("only %d rows in the knowledge base", rows)
	}
}

func TestRefPatternRejectsJunk(t *testing.T) {
	for _, bad := range []string{"", "RFC5321", "RFC 5321", "rfc 5321 §4", "RFC 5321 §", "RFC 5321 §4.", "see the RFC", "IANA", "draft-foo"} {
		if refPattern.MatchString(bad) {
			t.Errorf("refPattern accepts %q", bad)
		}
	}
	for _, good := range []string{"RFC 5321 §4.1.1.4", "RFC 5321 §F.1", "RFC 4422 Appendix A", "IANA SMTP Enhanced Status Codes (RFC 6710)", "draft-murchison-sasl-login-00"} {
		if !refPattern.MatchString(good) {
			t.Errorf("refPattern rejects %q", good)
		}
	}
}

func TestSMTPCommandsComplete(t *testing.T) {
	for _, v := range []string{"HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "VRFY", "EXPN", "HELP", "NOOP", "QUIT", "STARTTLS", "AUTH", "BDAT"} {
		e, ok := SMTPCommand(strings.ToLower(v))
		if !ok {
			t.Errorf("SMTPCommand(%q) missing", v)
			continue
		}
		if !strings.HasPrefix(e.Ref, "RFC ") {
			t.Errorf("SMTPCommand(%q) ref %q", v, e.Ref)
		}
	}
	if _, ok := SMTPCommand("FROB"); ok {
		t.Error("SMTPCommand(FROB) found")
	}
}

func TestPOP3CommandsComplete(t *testing.T) {
	for _, v := range []string{"USER", "PASS", "APOP", "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET", "QUIT", "TOP", "UIDL", "CAPA", "STLS", "AUTH"} {
		if _, ok := POP3Command(v); !ok {
			t.Errorf("POP3Command(%q) missing", v)
		}
	}
	for _, tag := range []string{"TOP", "USER", "SASL", "RESP-CODES", "LOGIN-DELAY", "PIPELINING", "EXPIRE", "UIDL", "IMPLEMENTATION", "STLS", "AUTH-RESP-CODE", "UTF8"} {
		if _, ok := pop3Caps[tag]; !ok {
			t.Errorf("CAPA tag %s missing", tag)
		}
	}
	for _, c := range []string{"IN-USE", "LOGIN-DELAY", "SYS/TEMP", "SYS/PERM", "AUTH"} {
		if _, ok := pop3RespCodes[c]; !ok {
			t.Errorf("response code %s missing", c)
		}
	}
}

func TestCapabilitiesComplete(t *testing.T) {
	for _, k := range []string{"PIPELINING", "SIZE", "8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8", "ENHANCEDSTATUSCODES", "STARTTLS", "AUTH", "DSN", "DELIVERBY", "ETRN", "VRFY", "EXPN", "HELP", "REQUIRETLS", "MT-PRIORITY", "LIMITS", "CHECKPOINT", "ATRN", "XCLIENT", "XFORWARD",
		"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER", "SCRAM-SHA-1", "SCRAM-SHA-256", "EXTERNAL", "GSSAPI",
		"RESP-CODES", "LOGIN-DELAY", "EXPIRE", "UIDL", "STLS"} {
		if _, ok := Capability(strings.ToLower(k)); !ok {
			t.Errorf("Capability(%q) missing", k)
		}
	}
	for _, k := range []string{"XCLIENT", "XFORWARD", "XOAUTH2"} {
		e, _ := Capability(k)
		if !strings.Contains(e.Title, "non-standard") {
			t.Errorf("%s not marked non-standard: %q", k, e.Title)
		}
	}
}

func TestReplyCodesComplete(t *testing.T) {
	// RFC 5321 §4.2.3, plus AUTH (RFC 4954 §6) and RFC 7504.
	all := []int{211, 214, 220, 221, 250, 251, 252, 354, 421, 450, 451, 452, 455, 500, 501, 502, 503, 504, 550, 551, 552, 553, 554, 555,
		235, 334, 432, 454, 530, 534, 535, 538, 521, 556}
	for _, c := range all {
		e, ok := ReplyCode(c)
		if !ok || !strings.HasPrefix(e.Title, fmt.Sprint(c)) {
			t.Errorf("ReplyCode(%d) = %+v, %v", c, e, ok)
		}
		if e.Permanent != (c >= 500) {
			t.Errorf("ReplyCode(%d).Permanent = %v", c, e.Permanent)
		}
	}
	if e, ok := ReplyCode(599); !ok || !e.Permanent || !strings.HasPrefix(e.Title, "5yz") {
		t.Errorf("ReplyCode(599) class fallback = %+v, %v", e, ok)
	}
	for _, c := range []int{0, 99, 199, 600, -250} {
		if _, ok := ReplyCode(c); ok {
			t.Errorf("ReplyCode(%d) found", c)
		}
	}
}

func TestEnhancedRegistryComplete(t *testing.T) {
	// X.0.0, X.1.0-10, X.2.0-4, X.3.0-6, X.4.0-7, X.5.0-6, X.6.0-10 and X.7.0-30:
	// the enumerated codes of the IANA registry.
	if got, want := len(enhancedCodes), 81; got != want {
		t.Errorf("registry has %d codes, want %d", got, want)
	}
	must := []string{"2.0.0", "2.1.5", "2.6.0", "4.2.2", "4.4.1", "4.7.0", "5.1.1", "5.1.10", "5.2.2", "5.3.4", "5.5.2", "5.7.0", "5.7.1", "5.7.8", "5.7.9", "5.7.11",
		"5.7.13", "5.7.14", "5.7.20", "5.7.23", "5.7.24", "5.7.25", "5.7.26", "5.7.27", "5.7.28", "5.7.29", "5.7.30", "5.6.7", "5.6.8", "5.5.6", "4.3.6", "5.1.9", "5.6.6"}
	for _, c := range must {
		e, ok := EnhancedCode(c)
		if !ok || !strings.HasPrefix(e.Title, c+" ") {
			t.Errorf("EnhancedCode(%q) = %+v, %v", c, e, ok)
			continue
		}
		key := c[2:]
		if _, ok := enhancedCodes[key]; !ok {
			t.Errorf("%s is not a registry entry", c)
		}
		if e.Permanent != (c[0] == '5') {
			t.Errorf("EnhancedCode(%q).Permanent = %v", c, e.Permanent)
		}
	}
	// Every subject has its X.n.0 row, and every detail in a subject is
	// numbered without gaps (the registry has none).
	for s := 0; s <= 7; s++ {
		for d := 0; ; d++ {
			if _, ok := enhancedCodes[fmt.Sprintf("%d.%d", s, d)]; !ok {
				if d == 0 && s != 0 {
					t.Errorf("X.%d.0 missing", s)
				}
				break
			}
		}
	}
	if e, _ := EnhancedCode("5.7.26"); !strings.Contains(e.Title, "Multiple authentication checks failed") || e.Ref != "RFC 7372 §3" {
		t.Errorf("5.7.26 = %+v", e)
	}
}

func TestEnhancedFallback(t *testing.T) {
	e, ok := EnhancedCode("4.7.99")
	if !ok || !strings.Contains(e.Title, "Persistent transient failure") || !strings.Contains(e.Title, "security or policy") || e.Permanent {
		t.Errorf("4.7.99 = %+v, %v", e, ok)
	}
	e, ok = EnhancedCode("5.9.1")
	if !ok || !strings.Contains(e.Detail, "not registered") || !e.Permanent {
		t.Errorf("5.9.1 = %+v, %v", e, ok)
	}
	for _, bad := range []string{"", "5.1", "3.1.1", "6.0.0", "5.1.1.1", "a.b.c", "5..1", "5.1.1000", "+5.1.1", "5.-1.1"} {
		if _, ok := EnhancedCode(bad); ok {
			t.Errorf("EnhancedCode(%q) accepted", bad)
		}
	}
}

func TestTablesHaveConsistentEntries(t *testing.T) {
	for k, c := range pop3Table {
		if len(c.states) == 0 {
			t.Errorf("POP3 %s has no valid state", k)
		}
	}
	for k, p := range mailParams {
		if _, ok := ehloKeywords[p.keyword]; !ok {
			t.Errorf("parameter %s needs unknown keyword %q", k, p.keyword)
		}
	}
	_ = explorer.SMTP
}
