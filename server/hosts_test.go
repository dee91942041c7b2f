package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// request sends a request with a Host header and an optional Origin, and
// returns the status and the decoded error message.
func (s *studio) request(t *testing.T, method, path, host, origin string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, nil)
	req.Host = host
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v struct{ Error string }
	json.NewDecoder(res.Body).Decode(&v)
	return res.StatusCode, v.Error
}

// TestOtherHostsAreRefused plays DNS rebinding: a page of evil.example,
// whose name now resolves to this machine, asks for the gallery, an
// original, the event stream, and a deletion, with its own name as Host and
// Origin. Every request is refused; the names the studio is reached by
// are not.
func TestOtherHostsAreRefused(t *testing.T) {
	s := newStudio(t, Config{Hosts: []string{"Studio.lan"}})
	st := s.mustSubmit(t, pngPhoto(t, 16, 16), small...)
	s.wait(t, st.ID)
	port := strings.TrimPrefix(s.url, "http://127.0.0.1")
	for _, host := range []string{"evil.example" + port, "evil.example", "localhost.evil.example" + port, "127.0.0.1.evil.example" + port} {
		origin := "http://" + host
		for _, tc := range []struct{ method, path string }{
			{"GET", "/"},
			{"GET", "/api/config"},
			{"GET", "/api/gallery"},
			{"GET", "/api/gallery/" + st.ID + "/original"},
			{"GET", "/api/jobs/" + st.ID + "/events"},
			{"DELETE", "/api/gallery/" + st.ID},
			{"POST", "/api/jobs"},
		} {
			code, msg := s.request(t, tc.method, tc.path, host, origin)
			if code != http.StatusMisdirectedRequest || !strings.Contains(msg, "answers to localhost") {
				t.Errorf("%s %s with Host %q: %d %q, want 421", tc.method, tc.path, host, code, msg)
			}
		}
	}
	for _, host := range []string{"127.0.0.1" + port, "localhost" + port, "LocalHost" + port, "[::1]" + port, "[::1]", "192.168.1.20" + port, "studio.lan" + port, "STUDIO.LAN"} {
		if code, msg := s.request(t, "GET", "/api/gallery", host, ""); code != http.StatusOK {
			t.Errorf("GET /api/gallery with Host %q: %d %q, want 200", host, code, msg)
		}
	}
	if n := len(s.entries(t)); n != 1 {
		t.Errorf("%d gallery entries, want the one dreamed", n)
	}
}

func TestSecurityHeaders(t *testing.T) {
	s := newStudio(t, Config{})
	for _, host := range []string{"", "evil.example"} {
		req, _ := http.NewRequest("GET", s.url+"/", nil)
		if host != "" {
			req.Host = host
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("Host %q: CSP %q lacks %q", host, csp, want)
			}
		}
		if corp := res.Header.Get("Cross-Origin-Resource-Policy"); corp != "same-origin" {
			t.Errorf("Host %q: Cross-Origin-Resource-Policy %q, want same-origin", host, corp)
		}
	}
}
