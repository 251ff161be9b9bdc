package diag

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Autoconfig is the Thunderbird account-configuration format ("config-v1.1",
// https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat):
// a provider publishes its incoming and outgoing servers at
// https://autoconfig.DOMAIN/mail/config-v1.1.xml or
// https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml.

// AutoconfigServer is one incomingServer or outgoingServer element.
type AutoconfigServer struct {
	Protocol string // pop3, imap, smtp
	Host     string
	Port     int
	Security string // tls, starttls, plain
	Username string // the template, e.g. %EMAILADDRESS%
}

// maxAutoconfigSize and maxAutoconfigServers bound what a hostile server can
// make us hold.
const (
	maxAutoconfigSize    = 1 << 20
	maxAutoconfigServers = 32
)

type acServer struct {
	Type       string `xml:"type,attr"`
	Hostname   string `xml:"hostname"`
	Port       string `xml:"port"`
	SocketType string `xml:"socketType"`
	Username   string `xml:"username"`
}

type acDoc struct {
	XMLName  xml.Name `xml:"clientConfig"`
	Provider []struct {
		Incoming []acServer `xml:"incomingServer"`
		Outgoing []acServer `xml:"outgoingServer"`
	} `xml:"emailProvider"`
}

// ParseAutoconfig reads a config-v1.1 document for address and returns its
// servers with the %EMAILDOMAIN% style placeholders filled in. Servers with
// an unknown protocol or socket type, or a bad host or port, are skipped;
// a document with no usable server is an error.
func ParseAutoconfig(data []byte, address string) ([]AutoconfigServer, error) {
	if len(data) > maxAutoconfigSize {
		return nil, fmt.Errorf("autoconfig: document larger than %d bytes", maxAutoconfigSize)
	}
	var doc acDoc
	d := xml.NewDecoder(strings.NewReader(string(data)))
	d.Strict = true
	d.CharsetReader = func(cs string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "us-ascii") {
			return r, nil
		}
		return nil, fmt.Errorf("charset %q not supported", cs)
	}
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("autoconfig: not a clientConfig document: %v", err)
	}
	local, domain, _ := strings.Cut(address, "@")
	if i := strings.LastIndexByte(address, '@'); i >= 0 {
		local, domain = address[:i], address[i+1:]
	}
	fill := strings.NewReplacer("%EMAILADDRESS%", address, "%EMAILLOCALPART%", local, "%EMAILDOMAIN%", domain)
	var out []AutoconfigServer
	var skipped []string
	add := func(s acServer, outgoing bool) {
		if len(out) >= maxAutoconfigServers {
			return
		}
		proto := strings.ToLower(strings.TrimSpace(s.Type))
		if outgoing != (proto == "smtp") || proto != "smtp" && proto != "pop3" && proto != "imap" {
			skipped = append(skipped, fmt.Sprintf("type %q", abbreviate(proto, 20)))
			return
		}
		host := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(fill.Replace(s.Hostname)), "."))
		if !validDomain(host) && !isIPLiteral(host) {
			skipped = append(skipped, fmt.Sprintf("hostname %q", abbreviate(host, 40)))
			return
		}
		port, err := strconv.Atoi(strings.TrimSpace(s.Port))
		if err != nil || port < 1 || port > 65535 {
			skipped = append(skipped, fmt.Sprintf("port %q", abbreviate(s.Port, 20)))
			return
		}
		var sec string
		switch strings.ToUpper(strings.TrimSpace(s.SocketType)) {
		case "SSL", "TLS":
			sec = "tls"
		case "STARTTLS":
			sec = "starttls"
		case "PLAIN":
			sec = "plain"
		default:
			skipped = append(skipped, fmt.Sprintf("socketType %q", abbreviate(s.SocketType, 20)))
			return
		}
		out = append(out, AutoconfigServer{Protocol: proto, Host: host, Port: port, Security: sec,
			Username: strings.TrimSpace(fill.Replace(s.Username))})
	}
	for _, p := range doc.Provider {
		for _, s := range p.Incoming {
			add(s, false)
		}
		for _, s := range p.Outgoing {
			add(s, true)
		}
	}
	if len(out) == 0 {
		if len(skipped) > 0 {
			return nil, fmt.Errorf("autoconfig: no usable server (bad %s)", strings.Join(skipped[:min(len(skipped), 3)], ", "))
		}
		return nil, errors.New("autoconfig: no incomingServer or outgoingServer")
	}
	return out, nil
}

func isIPLiteral(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// AutoconfigURLs are the two places a mail client looks, in order.
func AutoconfigURLs(domain, address string) []string {
	q := "?emailaddress=" + url.QueryEscape(address)
	return []string{
		"https://autoconfig." + domain + "/mail/config-v1.1.xml" + q,
		"https://" + domain + "/.well-known/autoconfig/mail/config-v1.1.xml" + q,
	}
}

// FetchAutoconfig gets and parses one autoconfig URL.
func FetchAutoconfig(ctx context.Context, client *http.Client, u, address string) ([]AutoconfigServer, error) {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAutoconfigSize+1))
	if err != nil {
		return nil, err
	}
	return ParseAutoconfig(body, address)
}
