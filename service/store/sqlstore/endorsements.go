package sqlstore

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ccakit/cca/service/store"
	"github.com/ccakit/cca/verifier"
)

var _ store.Endorsements = (*Store)(nil)

// The statements of AddEndorsements' transaction (prepared at Open).
const (
	qAddCoRIM = `INSERT INTO corims (media_type, profile, corim_id, body, body_sha256, added_ms, not_after_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (body_sha256) DO NOTHING RETURNING seq`
	qAddAnchor   = `INSERT INTO trust_anchors (corim_seq, instance_id, implementation_id, spki, where_) VALUES (?, ?, ?, ?, ?)`
	qAddPlatform = `INSERT INTO platform_refs (corim_seq, implementation_id, body) VALUES (?, ?, ?)`
	qAddRealm    = `INSERT INTO realm_refs (corim_seq, rim, body) VALUES (?, ?, ?)`
)

// AddEndorsements implements store.Endorsements. Trust anchors keep their
// key as a DER SubjectPublicKeyInfo; reference values are kept as JSON of
// the verifier's types, indexed by the identity the verifier looks them up
// by (implementation id, RIM).
func (s *Store) AddEndorsements(ctx context.Context, p *store.Provisioned) error {
	sum := sha256.Sum256(p.Body)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storing endorsements: %w", err)
	}
	defer tx.Rollback()
	var seq int64
	var notAfter sql.NullInt64
	if !p.NotAfter.IsZero() {
		notAfter = sql.NullInt64{Int64: p.NotAfter.UnixMilli(), Valid: true}
	}
	err = s.queryRow(ctx, tx, qAddCoRIM,
		text(p.MediaType), text(p.Profile), text(p.CoRIMID), p.Body, sum[:], time.Now().UnixMilli(), notAfter).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // the same CoRIM again
	}
	if err != nil {
		return fmt.Errorf("storing CoRIM %q: %w", p.CoRIMID, err)
	}
	for _, ta := range p.TrustAnchors {
		spki, err := x509.MarshalPKIXPublicKey(ta.Key)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrEncode, ta.Where, err)
		}
		if _, err := s.exec(ctx, tx, qAddAnchor,
			seq, nonNil(ta.InstanceID), nonNil(ta.ImplementationID), spki, text(ta.Where)); err != nil {
			return fmt.Errorf("storing trust anchor %s: %w", ta.Where, err)
		}
	}
	for _, pr := range p.Platforms {
		body, err := json.Marshal(pr)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrEncode, pr.Where, err)
		}
		if _, err := s.exec(ctx, tx, qAddPlatform,
			seq, nonNil(pr.ImplementationID), string(body)); err != nil {
			return fmt.Errorf("storing platform reference %s: %w", pr.Where, err)
		}
	}
	for _, rr := range p.Realms {
		body, err := json.Marshal(rr)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrEncode, rr.Where, err)
		}
		if _, err := s.exec(ctx, tx, qAddRealm,
			seq, nonNil(rr.InitialMeasurement), string(body)); err != nil {
			return fmt.Errorf("storing realm reference %s: %w", rr.Where, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storing CoRIM %q: %w", p.CoRIMID, err)
	}
	return nil
}

// ErrEncode: an endorsement could not be encoded for storage (a key type
// x509 cannot marshal).
var ErrEncode = errors.New("cannot store endorsement")

// text makes s storable in a TEXT column of both databases. PostgreSQL's
// text holds neither NUL nor invalid UTF-8 (it fails the statement with
// SQLSTATE 22021, "invalid byte sequence for encoding UTF8"), and a
// CoRIM's id may be a CBOR text string (draft-ietf-rats-corim,
// corim-map key 0, $corim-id-type-choice: tstr or UUID), which may hold
// NUL: its submission would fail with a 500. Each such byte
// becomes U+FFFD. These columns are labels for people and messages; the
// CoRIM itself is kept byte for byte in corims.body.
func text(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// nonNil stores an absent identity as an empty byte string, so that the
// NOT NULL columns and equality lookups behave alike in both databases.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// TrustAnchors implements verifier.TrustAnchorStore: the anchors provisioned
// for this instance id. A stored key that no longer parses is returned
// Unusable, so that the platform's result names it.
func (s *Store) TrustAnchors(ctx context.Context, instanceID, implementationID []byte) ([]verifier.TrustAnchor, error) {
	rows, err := s.query(ctx, `SELECT instance_id, implementation_id, spki, where_ FROM trust_anchors
		WHERE instance_id = ? AND corim_seq IN `+qValidCoRIMs+` ORDER BY corim_seq`, nonNil(instanceID), s.nowMs())
	if err != nil {
		return nil, fmt.Errorf("looking up trust anchors: %w", err)
	}
	defer rows.Close()
	var out []verifier.TrustAnchor
	for rows.Next() {
		var ta verifier.TrustAnchor
		var spki []byte
		if err := rows.Scan(&ta.InstanceID, &ta.ImplementationID, &spki, &ta.Where); err != nil {
			return nil, fmt.Errorf("looking up trust anchors: %w", err)
		}
		if len(ta.ImplementationID) == 0 {
			ta.ImplementationID = nil
		}
		ta.Where = "database: " + ta.Where
		if ta.Key, err = x509.ParsePKIXPublicKey(spki); err != nil {
			ta.Unusable = fmt.Errorf("stored key: %v", err)
		}
		out = append(out, ta)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("looking up trust anchors: %w", err)
	}
	return out, nil
}

// PlatformReferences implements verifier.ReferenceValueStore.
func (s *Store) PlatformReferences(ctx context.Context, implementationID []byte) ([]verifier.PlatformReference, error) {
	return lookupJSON[verifier.PlatformReference](ctx, s, `SELECT body FROM platform_refs
		WHERE implementation_id = ? AND corim_seq IN `+qValidCoRIMs+` ORDER BY corim_seq`, implementationID)
}

// RealmReferences implements verifier.ReferenceValueStore.
func (s *Store) RealmReferences(ctx context.Context, rim []byte) ([]verifier.RealmReference, error) {
	return lookupJSON[verifier.RealmReference](ctx, s, `SELECT body FROM realm_refs
		WHERE rim = ? AND corim_seq IN `+qValidCoRIMs+` ORDER BY corim_seq`, rim)
}

func lookupJSON[T any](ctx context.Context, s *Store, query string, key []byte) ([]T, error) {
	rows, err := s.query(ctx, query, nonNil(key), s.nowMs())
	if err != nil {
		return nil, fmt.Errorf("looking up reference values: %w", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("looking up reference values: %w", err)
		}
		var v T
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			return nil, fmt.Errorf("looking up reference values: stored entry: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("looking up reference values: %w", err)
	}
	return out, nil
}

// qValidCoRIMs selects the CoRIMs whose validity has not ended at the
// time given as its parameter (milliseconds since the epoch).
const qValidCoRIMs = `(SELECT seq FROM corims WHERE not_after_ms IS NULL OR not_after_ms > ?)`

func (s *Store) nowMs() int64 {
	if s.Now != nil {
		return s.Now().UnixMilli()
	}
	return time.Now().UnixMilli()
}

// Generation implements store.Generational: the number of CoRIMs stored,
// the highest sequence number, and how many CoRIMs have expired.
// Endorsements are only ever added, so the count changes with every commit,
// also when two replicas' commits land out of sequence order; the expired
// count changes when a CoRIM's validity ends.
func (s *Store) Generation(ctx context.Context) (store.Generation, error) {
	var g store.Generation
	if err := s.queryRow(ctx, nil, `SELECT COUNT(*), COALESCE(MAX(seq), 0),
		COALESCE(SUM(CASE WHEN not_after_ms <= ? THEN 1 ELSE 0 END), 0) FROM corims`, s.nowMs()).Scan(&g.Count, &g.Max, &g.Expired); err != nil {
		return g, fmt.Errorf("reading the endorsement generation: %w", err)
	}
	return g, nil
}
