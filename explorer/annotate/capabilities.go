package annotate

// ehloKeywords explains the keywords a server lists in its EHLO reply: the
// IANA "SMTP Service Extensions" registry (RFC 5321 §2.2.2).
var ehloKeywords = map[string]Entry{
	"PIPELINING": {Title: "PIPELINING", Detail: "The client may send several commands without waiting for each reply, saving round trips.", Ref: "RFC 2920 §3"},
	"SIZE":       {Title: "SIZE: message size limit", Detail: "The server states the largest message it accepts, in octets (0 means no fixed limit); a client can declare SIZE= on MAIL FROM to be refused early.", Ref: "RFC 1870 §4"},
	"8BITMIME":   {Title: "8BITMIME", Detail: "The server accepts message bodies with 8-bit characters when MAIL FROM says BODY=8BITMIME.", Ref: "RFC 6152 §2"},
	"STARTTLS":   {Title: "STARTTLS offered", Detail: "The server can upgrade this connection to TLS; send STARTTLS before AUTH so the password is encrypted.", Ref: "RFC 3207 §4"},
	"AUTH":       {Title: "AUTH: SASL mechanisms offered", Detail: "The server accepts AUTH with the listed SASL mechanisms.", Ref: "RFC 4954 §3"},
}

// saslMechs explains SASL mechanism names (IANA SASL Mechanisms registry).
var saslMechs = map[string]Entry{
	"PLAIN": {Title: "SASL PLAIN", Detail: "Sends the user name and password in one base64 message: readable by anyone on the path unless TLS is on.", Ref: "RFC 4616 §2"},
}
