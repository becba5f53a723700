package service

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestMethods: HEAD is answered wherever GET is, as a GET without its body
// (RFC 9110 §9.3.2); other methods get a 405 whose Allow names what is.
func TestMethods(t *testing.T) {
	st := openStore(t, ":memory:")
	ts := startTestServer(t, Config{Store: st, Appraiser: fixedAppraiser{}, Provisioner: &CoRIMProvisioner{Store: st}})
	sess, _ := newSessionFor(t, ts.public.URL, "")
	for _, tc := range []struct {
		method, url string
		status      int
		contentType string
		allow       string
	}{
		{"HEAD", ts.public.URL + PathVerificationInfo, 200, DiscoveryMediaType, ""},
		{"HEAD", ts.admin.URL + PathProvisioningInfo, 200, DiscoveryMediaType, ""},
		{"HEAD", ts.public.URL + PathHealth, 200, "application/json", ""},
		{"HEAD", sess, 200, SessionMediaType, ""},
		{"HEAD", ts.public.URL + PathSessionPrefix + "01234567-89ab-4def-8123-456789abcdef", 404, ProblemMediaType, ""},
		{"HEAD", ts.public.URL + PathNewSession, 405, ProblemMediaType, "POST"},
		{"OPTIONS", sess, 405, ProblemMediaType, "POST, GET, DELETE, HEAD"},
		{"PUT", ts.public.URL + PathVerificationInfo, 405, ProblemMediaType, "GET, HEAD"},
		{"GET", ts.admin.URL + PathSubmit, 405, ProblemMediaType, "POST"},
	} {
		req, err := http.NewRequest(tc.method, tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		name := tc.method + " " + strings.TrimPrefix(strings.TrimPrefix(tc.url, ts.public.URL), ts.admin.URL)
		if res.StatusCode != tc.status || res.Header.Get("Content-Type") != tc.contentType || res.Header.Get("Allow") != tc.allow {
			t.Errorf("%s: %d %q Allow %q, want %d %q Allow %q", name, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Allow"), tc.status, tc.contentType, tc.allow)
		}
		if tc.method == "HEAD" && len(body) != 0 {
			t.Errorf("%s: a body of %d bytes", name, len(body))
		}
	}
}

// TestExpectContinueOversized: a body declared larger than the bound is
// refused (413) before the client is invited to send it, on the evidence
// and the provisioning paths.
func TestExpectContinueOversized(t *testing.T) {
	for _, tc := range bodyTargets(t) {
		c := tc.dial(t, 10*time.Second)
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: ccakit.test\r\nContent-Type: %s\r\nExpect: 100-continue\r\nContent-Length: 100000000\r\n\r\n", tc.path, tc.contentType)
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 413 ") {
			t.Errorf("POST %s with Expect: 100-continue and 100 MB: first answer %q, %v; want a 413", tc.path, line, err)
		}
	}
}

// TestConnectAuthority: a CONNECT for a host (the authority form, no path)
// is a 404 problem like any other resource the service does not have, on
// both handlers; ServeMux alone answers it in plain text.
func TestConnectAuthority(t *testing.T) {
	st := openStore(t, ":memory:")
	svc, err := New(Config{Store: st, Appraiser: fixedAppraiser{}, Provisioner: &CoRIMProvisioner{Store: st}, EARKey: newEARKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []http.Handler{svc.PublicHandler(), svc.AdminHandler(nil)} {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("CONNECT verifier.example:443 HTTP/1.1\r\nHost: verifier.example:443\r\n\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		wantProblem(t, rec.Code, rec.Header(), rec.Body.Bytes(), http.StatusNotFound, "no such resource")
	}
}

// TestStreamedBodyRefused: a request refused while its client is still
// streaming the body (chunked, not ended) is answered at once, with the
// connection closed, not after the client has sent up to 256 KiB more
// (net/http's discard of an unread body): a body past the bound (413), and
// a request refused before its body is read (406 here, as 415 or 401
// would be). One whose body was read keeps its connection.
func TestStreamedBodyRefused(t *testing.T) {
	for _, tc := range bodyTargets(t) {
		for _, refusal := range []struct {
			name, header string
			size, status int
		}{
			{"8 KiB", "", 0x2000, http.StatusRequestEntityTooLarge},
			{"not acceptable", "Accept: text/html\r\n", 16, http.StatusNotAcceptable},
		} {
			func() {
				c := tc.dial(t, 5*time.Second)
				defer c.Close()
				fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: ccakit.test\r\nContent-Type: %s\r\n%sTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n",
					tc.path, tc.contentType, refusal.header, refusal.size, strings.Repeat("A", refusal.size))
				res, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Errorf("POST %s, %s, body streaming: %v; want a %d at once", tc.path, refusal.name, err, refusal.status)
					return
				}
				res.Body.Close()
				if res.StatusCode != refusal.status || !res.Close {
					t.Errorf("POST %s, %s, body streaming: %d, close %v; want %d and the connection closed", tc.path, refusal.name, res.StatusCode, res.Close, refusal.status)
				}
			}()
		}
	}
	// A body read to its end: the refusal comes after it, and the
	// connection is kept.
	tc := bodyTargets(t)[1]
	c := tc.dial(t, 5*time.Second)
	defer c.Close()
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: ccakit.test\r\nContent-Type: %s\r\nContent-Length: 7\r\n\r\ngarbage", tc.path, tc.contentType)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("garbage CoRIM: %v, %v; want a 200 (failed) on a kept connection", res, err)
	}
}

// bodyTarget is a path that reads a request body, on a service whose
// bound is 4 KiB.
type bodyTarget struct{ addr, path, contentType string }

// bodyTargets are the two: evidence for a live session, and a CoRIM.
func bodyTargets(t *testing.T) []bodyTarget {
	st := openStore(t, ":memory:")
	ts := startTestServer(t, Config{Store: st, Appraiser: fixedAppraiser{}, Provisioner: &CoRIMProvisioner{Store: st}, MaxBody: 4096})
	sess, _ := newSessionFor(t, ts.public.URL, "")
	return []bodyTarget{
		{strings.TrimPrefix(ts.public.URL, "http://"), strings.TrimPrefix(sess, ts.public.URL), CCAEvidenceMediaType},
		{strings.TrimPrefix(ts.admin.URL, "http://"), PathSubmit, `application/rim+cbor; profile="` + CCAPlatformProfile + `"`},
	}
}

// dial connects to the target's listener, with a deadline.
func (b bodyTarget) dial(t *testing.T, d time.Duration) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", b.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(d))
	return c
}

// TestRefusalKeepsHTTP2Connection: over HTTP/2 a refusal with the body
// unread asks for no close, which net/http would turn into a GOAWAY for
// every stream of the connection.
func TestRefusalKeepsHTTP2Connection(t *testing.T) {
	st := openStore(t, ":memory:")
	svc, err := New(Config{Store: st, Appraiser: fixedAppraiser{}, Provisioner: &CoRIMProvisioner{Store: st}, EARKey: newEARKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", PathSubmit, strings.NewReader("a CoRIM"))
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/2.0", 2, 0
	req.Header.Set("Content-Type", "application/cbor")
	rec := httptest.NewRecorder()
	svc.AdminHandler(nil).ServeHTTP(rec, req)
	if rec.Code != http.StatusUnsupportedMediaType || rec.Header().Get("Connection") != "" {
		t.Fatalf("%d, Connection %q; want 415 and no Connection header", rec.Code, rec.Header().Get("Connection"))
	}
	req = httptest.NewRequest("POST", PathSubmit, strings.NewReader("a CoRIM"))
	req.Header.Set("Content-Type", "application/cbor")
	rec = httptest.NewRecorder()
	svc.AdminHandler(nil).ServeHTTP(rec, req)
	if rec.Code != http.StatusUnsupportedMediaType || rec.Header().Get("Connection") != "close" {
		t.Fatalf("HTTP/1.1: %d, Connection %q; want 415 and close", rec.Code, rec.Header().Get("Connection"))
	}
}
