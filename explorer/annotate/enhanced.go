package annotate

import (
	"strconv"
	"strings"
)

// enhancedClass explains the first number of an enhanced status code, RFC 3463 §2.
var enhancedClass = map[int]Entry{
	2: {Title: "Success", Detail: "Class 2: the action was completed successfully.", Ref: "RFC 3463 §2"},
	4: {Title: "Persistent transient failure", Detail: "Class 4: the message is fine but delivery failed for now; the same message may go through if sent again later.", Ref: "RFC 3463 §2"},
	5: {Title: "Permanent failure", Detail: "Class 5: resending the message unchanged will not work; something must change first.", Ref: "RFC 3463 §2", Permanent: true},
}

// enhancedSubject explains the middle number, RFC 3463 §2.
var enhancedSubject = map[int]Entry{
	0: {Title: "Other or undefined status", Detail: "There is no more specific information than the class.", Ref: "RFC 3463 §2"},
	1: {Title: "Addressing status", Detail: "Something about the sender's or a recipient's address.", Ref: "RFC 3463 §2"},
	2: {Title: "Mailbox status", Detail: "Something about the recipient's mailbox once the address was found (full, disabled...).", Ref: "RFC 3463 §2"},
	3: {Title: "Mail system status", Detail: "Something about the receiving mail system as a whole.", Ref: "RFC 3463 §2"},
	4: {Title: "Network and routing status", Detail: "Something about the network or the routing of the message.", Ref: "RFC 3463 §2"},
	5: {Title: "Mail delivery protocol status", Detail: "Something about the SMTP conversation itself.", Ref: "RFC 3463 §2"},
	6: {Title: "Message content or media status", Detail: "Something about the message's content or format.", Ref: "RFC 3463 §2"},
	7: {Title: "Security or policy status", Detail: "Something about security or the receiver's policy (authentication, spam, reputation).", Ref: "RFC 3463 §2"},
}

// successRows are the registry rows whose detail reads well in a class-2
// (success) code; the others describe a failure.
var successRows = map[string]bool{"0.0": true, "1.0": true, "1.5": true, "2.0": true, "3.0": true, "3.6": true, "5.0": true, "6.4": true}

// transientDetail replaces a row's detail in a class-4 code where the
// permanent reading would mislead: 4.7.1 with "try again later" is most
// often greylisting (RFC 6647), not a relay or blocklist refusal.
var transientDetail = map[string]string{
	"7.1": "Policy refuses this for now. In a 4xx reply (451 4.7.1) whose text says to try again later or names greylisting, the most common reason is greylisting: the server defers senders it has not seen before and accepts the retry. Other causes are temporary blocks and rate limits.",
}

// parseEnhanced splits "c.s.d" into numbers; it accepts 1-3 digit parts as
// RFC 3463 §2 allows.
func parseEnhanced(s string) (class, subject, detail int, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var n [3]int
	for i, p := range parts {
		if p == "" || len(p) > 3 {
			return 0, 0, 0, false
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || p[0] == '+' {
			return 0, 0, 0, false
		}
		n[i] = v
	}
	if n[0] != 2 && n[0] != 4 && n[0] != 5 {
		return 0, 0, 0, false
	}
	return n[0], n[1], n[2], true
}

// EnhancedCode explains an enhanced status code such as "5.7.26". A code not
// in the registry still gets its class and subject explained.
func EnhancedCode(code string) (Entry, bool) {
	c, s, d, ok := parseEnhanced(strings.TrimSpace(code))
	if !ok {
		return Entry{}, false
	}
	cl := enhancedClass[c]
	key := strconv.Itoa(s) + "." + strconv.Itoa(d)
	canon := strconv.Itoa(c) + "." + key
	if e, ok := enhancedCodes[key]; ok {
		switch {
		case c == 2 && !successRows[key]:
			// A failure row's title and detail would contradict a success
			// (RFC 3463 §2: class 2 is success): name the subject, and the
			// row only as what it means in a failure.
			e.Detail = "The server reports success; nothing went wrong. X." + key + " is registered as \"" + e.Title + "\"; its failure reading does not apply to a success."
			e.Title = canon + " Success (" + strings.ToLower(enhancedSubject[s].Title) + ")"
		default:
			e.Title = canon + " " + e.Title
		}
		switch {
		case c == 4 && transientDetail[key] != "":
			e.Detail = transientDetail[key]
		}
		e.Detail = e.Detail + " Class " + strconv.Itoa(c) + ": " + strings.ToLower(cl.Title) + "."
		e.Permanent = c == 5
		return e, true
	}
	sub, ok := enhancedSubject[s]
	if !ok {
		return Entry{Title: canon + " " + cl.Title, Detail: cl.Detail + " The subject " + strconv.Itoa(s) + " is not registered.", Ref: cl.Ref, Permanent: c == 5}, true
	}
	return Entry{Title: canon + " " + cl.Title + ", " + strings.ToLower(sub.Title[:1]) + sub.Title[1:],
		Detail: cl.Detail + " " + sub.Detail + " The detail " + strconv.Itoa(d) + " is not in the registry.",
		Ref:    sub.Ref, Permanent: c == 5}, true
}
