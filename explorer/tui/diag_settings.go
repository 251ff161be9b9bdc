package tui

import (
	"fmt"
	"sort"
	"strings"

	"postlab/diag"
)

// settingsFindings turns the settings matrix into findings: the
// recommendation, one per server tried, and how the candidates were found
// (what `postlab settings` prints under "Discovery").
func settingsFindings(r *diag.SettingsResult) []Finding {
	rec := Finding{Check: "settings.recommended", Status: "fail", Summary: "no working incoming and outgoing pair found", Ref: "RFC 8314 §3"}
	if r.Works() {
		in, o := r.Recommended.Incoming, r.Recommended.Outgoing
		rec.Status = "pass"
		rec.Summary = fmt.Sprintf("incoming %s %s:%d %s · outgoing %s %s:%d %s", in.Protocol, in.Host, in.Port, in.Security, o.Protocol, o.Host, o.Port, o.Security)
	}
	// Why these, or why none (no candidate, DNS failed, ...).
	why := append(append([]string{}, r.Recommended.IncomingWhy...), r.Recommended.OutgoingWhy...)
	rec.Detail = appTerms(strings.Join(why, "\n"))
	out := []Finding{rec}
	for _, s := range r.Incoming {
		out = append(out, settingFinding(s))
	}
	for _, s := range r.Outgoing {
		out = append(out, settingFinding(s))
	}
	return append(out, discoveryFindings(r)...)
}

// settingFinding is one server tried: "settings.incoming" or
// "settings.outgoing", as the matrix lists it. It says "works" only for a
// login that was verified: the app has no password, so usually it can say
// that the server connects, with TLS and a valid certificate, and offers a
// login (what recommend asks without a password, diag/settings.go).
func settingFinding(s *diag.Setting) Finding {
	kind := "incoming"
	if s.Protocol == "smtp" {
		kind = "outgoing"
	}
	f := Finding{Check: "settings." + kind, Ref: "RFC 8314 §3; RFC 6186"}
	f.Summary = fmt.Sprintf("%s %s:%d %s (from %s)", s.Protocol, s.Host, s.Port, s.Security, s.Source)
	clear := "use the TLS or STARTTLS setting: a password sent in clear can be read on the way (RFC 8314 §3)"
	switch {
	case !s.Reachable && (s.Source == "srv" || s.Source == "autoconfig"):
		f.Status = "fail" // published, yet not there
		f.Summary += ": published but no answer"
		f.Fix = "fix the " + s.Source + " record or start the service"
	case !s.Reachable:
		f.Status = "info" // a guessed port: most are simply not used
		f.Summary += ": no answer"
	case s.Security != "plain" && !s.TLS:
		f.Status = "warn"
		f.Summary += ": answers, but TLS could not be set up"
	case s.TLS && !s.CertOK:
		f.Status = "warn"
		f.Summary += ": certificate does not verify"
	case s.Protocol == "imap" && !s.TLS:
		f.Status = "warn"
		f.Summary += ": answers without TLS; IMAP is detected only, not explored"
		f.Fix = clear
	case s.Protocol == "imap":
		f.Status = "info"
		f.Summary += ": answers; IMAP is detected only, not explored"
	case s.Login == "ok":
		f.Status = "pass"
		f.Summary += ": works: logged in as " + s.User
	case s.Login == "failed":
		f.Status = "fail"
		f.Summary += ": login failed"
		f.Fix = "check the user name and the password"
	case s.Error != "":
		f.Status = "warn"
		f.Summary += ": answers, but " + s.Error
	case !s.TLS:
		f.Status = "warn"
		switch {
		case s.Note != "":
			f.Summary += ": connects; " + s.Note
		case len(s.AuthMechanisms) == 0:
			f.Summary += ": connects; no login offered without TLS"
		default:
			f.Summary += ": connects; login offered without TLS, not tried"
		}
		f.Fix = clear
	case s.Note != "":
		f.Status = "info"
		f.Summary += ": TLS and certificate ok; " + s.Note
	case len(s.AuthMechanisms) == 0:
		f.Status = "info" // a mail program could not log in here
		f.Summary += ": TLS and certificate ok; no login offered"
	default:
		f.Status = "pass"
		f.Summary += ": TLS and certificate ok; login offered, not tried"
	}
	f.Detail = appTerms(strings.Join(settingDetail(s), "\n"))
	return f
}

// settingDetail lists what the probe learnt of a setting: the columns
// AUTH, LOGIN and NOTE of postlab settings.
func settingDetail(s *diag.Setting) []string {
	var d []string
	probed := s.Reachable && s.Protocol != "imap"
	switch {
	case len(s.AuthMechanisms) > 0:
		d = append(d, "login mechanisms: "+strings.Join(s.AuthMechanisms, " "))
	case probed:
		d = append(d, "login mechanisms: none offered")
	}
	note := s.Note
	switch {
	case s.Login == "ok":
		d = append(d, "login: ok, as "+s.User)
	case s.Login == "failed":
		d = append(d, "login: failed")
	case !probed:
	case note != "":
		// diag's own reason: "login not tried (...)"
		d = append(d, "login: "+strings.TrimPrefix(note, "login "))
		note = ""
	case !s.TLS:
		d = append(d, "login: not tried (the password would cross in clear text)")
	case !s.CertOK:
		d = append(d, "login: not tried (untrusted certificate)")
	default:
		d = append(d, "login: not tried (set POSTLAB_PASSWORD or use --ask-password)")
	}
	if note != "" {
		d = append(d, note)
	}
	if s.Error != "" {
		d = append(d, "error: "+s.Error)
	}
	return d
}

// foundGroup is the sub-branch of the settings that says how the
// candidates were found: findings "settings.found.SOURCE".
const foundGroup = "found"

// groupTitles name the sub-branches of an area.
var groupTitles = map[string]string{foundGroup: "How these were found"}

// sourceAbout says what each discovery source is, for the detail pane.
var sourceAbout = map[string]struct{ detail, ref string }{
	"srv": {"A domain publishes the servers its users' mail programs should use as SRV records (RFC 6186): _submissions and _submission for sending, _pop3s, _pop3, _imaps and _imap for reading; RFC 8314 added the implicit-TLS ones. A target of \".\" says the service is not offered.",
		"RFC 6186 §3; RFC 8314 §5.1"},
	"autoconfig": {"Thunderbird's autoconfig file (config-v1.1.xml), fetched from autoconfig.DOMAIN and from DOMAIN/.well-known/autoconfig: it lists servers, ports and security. Many domains have none; that is normal.",
		"Thunderbird autoconfig"},
	"mx": {"The host that receives the domain's mail (its MX) and its parent domain often serve mail programs too, so they are tried on the standard ports: 995 and 110 for POP3, 993 and 143 for IMAP, 465, 587 and 25 for sending.",
		"RFC 5321 §5.1; RFC 8314 §3"},
	"guess": {"What mail programs guess when a domain publishes nothing: pop., pop3., mail. and smtp. in front of the domain, and the domain itself, on the standard ports. A setting found this way and by a better source is listed under the better one.",
		"RFC 8314 §3"},
	"unresolved": {"These names have no address in DNS, so nothing was tried there. Guessed names are often missing; a name the domain publishes itself (in SRV, MX or autoconfig) that has no address is a mistake in its DNS.",
		"RFC 1035 §3.4.1"},
	"lookup": {"The address lookup of these names got no usable answer (a timeout or a server failure), so whether they exist is unknown and they were not tried.",
		"RFC 1035 §4.1.1"},
}

// discoveryFindings are the notes of each discovery source, as findings
// under "How these were found": which sources were asked, what each
// named, and why the others named nothing.
func discoveryFindings(r *diag.SettingsResult) []Finding {
	f := foundFinding
	var srv, auto, mx, other []Finding
	for _, n := range r.Discovery {
		x := noteFinding(n)
		switch x.Check {
		case "settings." + foundGroup + ".srv":
			srv = append(srv, x)
		case "settings." + foundGroup + ".autoconfig":
			auto = append(auto, x)
		case "settings." + foundGroup + ".mx":
			mx = append(mx, x)
		default:
			other = append(other, x)
		}
	}
	out := append(append(append(srv, auto...), mx...), other...)
	hosts := map[string]int{}
	for _, ss := range [][]*diag.Setting{r.Incoming, r.Outgoing} {
		for _, s := range ss {
			if s.Source == "guess" {
				hosts[s.Host]++
			}
		}
	}
	if len(hosts) == 0 {
		out = append(out, f("guess", "info", "nothing beyond what the other sources found"))
	} else {
		var hs []string
		n := 0
		for h, c := range hosts {
			hs = append(hs, h)
			n += c
		}
		sort.Strings(hs)
		out = append(out, f("guess", "info", fmt.Sprintf("%s on %s", plural(n, "setting"), strings.Join(hs, ", "))))
	}
	if len(r.Unresolved) > 0 {
		out = append(out, f("unresolved", "info", "no address, so not tried: "+strings.Join(r.Unresolved, ", ")))
	}
	for _, lf := range r.LookupFailed {
		x := f("lookup", "warn", "failed, so not tried: "+lf)
		x.Fix = appTerms("retry, or pick another --resolver")
		out = append(out, x)
	}
	if r.DNSUnreachable {
		x := f("lookup", "error", "no answer from the resolver: no source could be asked")
		x.Fix = appTerms("Retry with a longer --timeout or another --resolver.")
		out = append(out, x)
	}
	return out
}

// foundFinding is a line of "How these were found" about source.
func foundFinding(source, status, summary string) Finding {
	a := sourceAbout[source]
	return Finding{Check: "settings." + foundGroup + "." + source, Status: status, Summary: summary, Detail: a.detail, Ref: a.ref}
}

// noteFinding is one discovery note of diag as a line of "How these were
// found": the same whether it arrives as the discovery goes or in the result.
func noteFinding(n string) Finding {
	switch {
	case strings.HasPrefix(n, "SRV "):
		// "SRV NAME: HOST port N", or ": none", "\".\": ...", an error
		st := "info"
		if strings.Contains(n, " port ") {
			st = "pass"
		}
		return foundFinding("srv", st, strings.TrimPrefix(n, "SRV "))
	case strings.HasPrefix(n, "autoconfig "):
		// "autoconfig URL: N servers" or an error
		st := "info"
		if strings.HasSuffix(n, " servers") && !strings.HasSuffix(n, ": 0 servers") {
			st = "pass"
		}
		return foundFinding("autoconfig", st, strings.TrimPrefix(n, "autoconfig "))
	case strings.HasPrefix(n, "MX "):
		// "MX DOMAIN: HOST", ": none", a null MX or an error, which have spaces
		st := "info"
		if _, v, ok := strings.Cut(n, ": "); ok && v != "none" && !strings.Contains(v, " ") {
			st = "pass"
		}
		return foundFinding("mx", st, strings.TrimPrefix(n, "MX "))
	}
	return Finding{Check: "settings." + foundGroup + ".other", Status: "info", Summary: n}
}

// settingsStream passes a settings discovery on to the step tracker as it
// goes: each note and each probed setting as a finding the moment diag
// reports it, with the counts as the step's label; finish then adds what
// only the result has (the recommendation, the names not tried).
type settingsStream struct {
	tr   *stepTracker
	sent []Finding
}

// progress is the discovery's hook (diag serialises its calls, and all
// return before DiscoverSettings does).
func (s *settingsStream) progress(p diag.SettingsProgress) {
	f := noteFinding(p.Note)
	if p.Setting != nil {
		f = settingFinding(p.Setting)
	}
	s.sent = append(s.sent, f)
	s.tr.setLabel("settings", fmt.Sprintf("SETTINGS (%d of %d sources, %d of %d probes)", p.SourcesAnswered, p.Sources, p.ProbesDone, p.Probes))
	s.tr.report("settings", []Finding{f}, false)
}

// finish ends the step with the result's findings not yet passed on.
func (s *settingsStream) finish(all []Finding) {
	s.tr.report("settings", without(all, s.sent), true)
}

// without returns the findings of all that are not in sent (each sent
// finding removes one equal finding): what the report adds to the
// findings already passed on during the run.
func without(all, sent []Finding) []Finding {
	n := map[Finding]int{}
	for _, f := range sent {
		n[f]++
	}
	var out []Finding
	for _, f := range all {
		if n[f] > 0 {
			n[f]--
			continue
		}
		out = append(out, f)
	}
	return out
}
