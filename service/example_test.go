package service_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/ccakit/cca/service"
	"github.com/ccakit/cca/service/store/sqlstore"
)

// A service over an SQLite file: the verifier looks endorsements up in the
// same store the provisioning API fills, and a client opens a session.
func Example() {
	dir, _ := os.MkdirTemp("", "ccakit-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(dir, "ccakit.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	v, cache, err := service.NewStoreVerifier(st)
	if err != nil {
		fmt.Println(err)
		return
	}
	earKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	svc, err := service.New(service.Config{
		Store: st, Appraiser: v, Sync: cache.Sync, EARKey: earKey,
		Provisioner: &service.CoRIMProvisioner{Store: st},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(svc.PublicHandler())
	defer srv.Close()

	res, err := http.Post(srv.URL+service.PathNewSession+"?nonceSize=64", "", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println(res.Status, res.Header.Get("Content-Type"))
	// Output: 201 Created application/vnd.veraison.challenge-response-session+json
}
