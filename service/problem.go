package service

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ProblemMediaType is the media type of error bodies (RFC 9457).
const ProblemMediaType = "application/problem+json"

// Problem is an RFC 9457 problem-details body as Veraison's services write
// it (veraison/services verification/api/common.go ReportProblem, through
// moogar0880/problems.NewStatusProblem): type "about:blank", the status
// text as the title, the status, and a detail.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// writeProblem answers with a problem-details body. detail may carry
// attacker-controlled text: it only ever travels JSON-encoded.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	body, _ := json.Marshal(Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
	h := w.Header()
	h.Set("Content-Type", ProblemMediaType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

// writeJSON answers with a JSON body of exactly this media type (apiclient
// compares the provisioning response's Content-Type without parameters).
func writeJSON(w http.ResponseWriter, status int, mediaType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "encoding the response: "+err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
