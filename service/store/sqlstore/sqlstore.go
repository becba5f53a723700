// Package sqlstore implements the service's store (package store) over
// database/sql: SQLite through the pure-Go modernc.org/sqlite driver (no C
// toolchain; one process, the default) and PostgreSQL through pgx (several
// replicas sharing one database). Both run the same SQL; the few differences
// (byte-string column type, auto-increment keys, placeholders) are in
// dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/ccakit/cca/service/store"
)

// ErrURL: the database URL is not one this package understands.
var ErrURL = errors.New("bad database URL")

type dialect struct {
	name   string // "sqlite" or "postgres"
	bytes  string // column type of byte strings
	serial string // an auto-increment primary key
}

var (
	sqliteDialect   = dialect{name: "sqlite", bytes: "BLOB", serial: "INTEGER PRIMARY KEY AUTOINCREMENT"}
	postgresDialect = dialect{name: "postgres", bytes: "BYTEA", serial: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"}
)

// Store is a store.Sessions (and endorsement store) over one SQL database.
// It is safe for concurrent use; several processes may share a PostgreSQL
// database.
type Store struct {
	db *sql.DB
	d  dialect
	// Kind names the database for logs and metrics: "sqlite" or
	// "postgres".
	Kind string
	// Where is the database without credentials, for logs.
	Where string
}

var _ store.Sessions = (*Store)(nil)

// Open opens (creating the schema when needed) the database named by dbURL:
// postgres://… or postgresql://… for PostgreSQL (pgx's connection string,
// e.g. postgres://ccakit@db.internal/ccakit?sslmode=verify-full), and for
// SQLite sqlite:PATH, file:PATH or a plain path (the file is created with
// mode 0600, its directory with 0700).
func Open(ctx context.Context, dbURL string) (*Store, error) {
	switch {
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		u, err := url.Parse(dbURL)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrURL, err)
		}
		db, err := sql.Open("pgx", dbURL)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrURL, err)
		}
		u.User = nil
		// Keep connections for the handlers that run at once: opening a
		// PostgreSQL connection costs more than a session's queries.
		db.SetMaxOpenConns(64)
		db.SetMaxIdleConns(64)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s := &Store{db: db, d: postgresDialect, Kind: "postgres", Where: u.Redacted()}
		return s.init(ctx)
	case dbURL == "":
		return nil, fmt.Errorf("%w: empty", ErrURL)
	}
	path := dbURL
	for _, p := range []string{"sqlite://", "sqlite:", "file:"} {
		if strings.HasPrefix(path, p) {
			path = strings.TrimPrefix(path, p)
			break
		}
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return nil, fmt.Errorf("%w: %q: SQLite options are set by the service, give a path only", ErrURL, dbURL)
	}
	if path == "" {
		return nil, fmt.Errorf("%w: %q has no path", ErrURL, dbURL)
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("creating the database directory: %w", err)
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("opening the database file: %w", err)
		}
		f.Close()
	}
	// WAL lets readers run beside the one writer; busy_timeout makes a
	// writer wait for the lock instead of failing; BEGIN IMMEDIATE takes
	// the write lock up front, so that a transaction never fails on
	// upgrading a read lock (SQLite's documented deadlock case).
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrURL, err)
	}
	if path == ":memory:" {
		db.SetMaxOpenConns(1) // each connection would be its own database
	}
	s := &Store{db: db, d: sqliteDialect, Kind: "sqlite", Where: path}
	return s.init(ctx)
}

func (s *Store) init(ctx context.Context) (*Store, error) {
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("%s database %s: %w", s.Kind, s.Where, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// schemaLock is the PostgreSQL advisory lock that serialises schema creation
// when several replicas start at once (CREATE TABLE IF NOT EXISTS is not
// safe against a concurrent twin).
const schemaLock = 0x63636b6974 // "cckit"

func (s *Store) migrate(ctx context.Context) error {
	b := s.d.bytes
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS sessions (
			id TEXT PRIMARY KEY,
			nonce ` + b + ` NOT NULL,
			state TEXT NOT NULL,
			accept TEXT NOT NULL,
			expires_ms BIGINT NOT NULL,
			evidence_type TEXT NOT NULL DEFAULT '',
			evidence ` + b + `,
			result TEXT NOT NULL DEFAULT '')`,
		`CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_ms)`,
		`CREATE TABLE IF NOT EXISTS used_nonces (
			nonce ` + b + ` PRIMARY KEY,
			used_ms BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS corims (
			seq ` + s.d.serial + `,
			media_type TEXT NOT NULL,
			profile TEXT NOT NULL,
			corim_id TEXT NOT NULL,
			body ` + b + ` NOT NULL,
			body_sha256 ` + b + ` NOT NULL UNIQUE,
			added_ms BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS trust_anchors (
			corim_seq BIGINT NOT NULL,
			instance_id ` + b + ` NOT NULL,
			implementation_id ` + b + ` NOT NULL,
			spki ` + b + ` NOT NULL,
			where_ TEXT NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS trust_anchors_instance ON trust_anchors (instance_id)`,
		`CREATE TABLE IF NOT EXISTS platform_refs (
			corim_seq BIGINT NOT NULL,
			implementation_id ` + b + ` NOT NULL,
			body TEXT NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS platform_refs_impl ON platform_refs (implementation_id)`,
		`CREATE TABLE IF NOT EXISTS realm_refs (
			corim_seq BIGINT NOT NULL,
			rim ` + b + ` NOT NULL,
			body TEXT NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS realm_refs_rim ON realm_refs (rim)`,
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.d.name == "postgres" {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(`+strconv.Itoa(schemaLock)+`)`); err != nil {
			return err
		}
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("creating the schema: %w", err)
		}
	}
	return tx.Commit()
}

// q rewrites a query written with ? placeholders for the dialect:
// PostgreSQL numbers them ($1, $2, …).
func (s *Store) q(query string) string {
	if s.d.name != "postgres" {
		return query
	}
	var sb strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			sb.WriteString("$" + strconv.Itoa(n))
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

func ms(t time.Time) int64     { return t.UnixMilli() }
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// CreateSession implements store.Sessions.
func (s *Store) CreateSession(ctx context.Context, sess *store.Session) error {
	accept, err := json.Marshal(sess.Accept)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO sessions (id, nonce, state, accept, expires_ms) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`), sess.ID, sess.Nonce, string(sess.State), string(accept), ms(sess.Expires))
	if err != nil {
		return fmt.Errorf("storing session %s: %w", sess.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %s", store.ErrDuplicate, sess.ID)
	}
	return nil
}

const sessionColumns = `id, nonce, state, accept, expires_ms, evidence_type, evidence, result`

type scanner interface{ Scan(...any) error }

func scanSession(row scanner) (*store.Session, error) {
	var (
		sess    store.Session
		state   string
		accept  string
		expires int64
	)
	if err := row.Scan(&sess.ID, &sess.Nonce, &state, &accept, &expires, &sess.EvidenceType, &sess.Evidence, &sess.Result); err != nil {
		return nil, err
	}
	sess.State = store.State(state)
	sess.Expires = fromMS(expires)
	if err := json.Unmarshal([]byte(accept), &sess.Accept); err != nil {
		return nil, fmt.Errorf("session %s: stored accept list: %w", sess.ID, err)
	}
	return &sess, nil
}

// Session implements store.Sessions.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	sess, err := scanSession(s.db.QueryRowContext(ctx, s.q(`SELECT `+sessionColumns+` FROM sessions WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", store.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading session %s: %w", id, err)
	}
	if !now.Before(sess.Expires) {
		return nil, fmt.Errorf("%w: %s expired at %s", store.ErrExpired, id, sess.Expires.Format(time.RFC3339))
	}
	return sess, nil
}

// ClaimSession implements store.Sessions. The conditional UPDATE is the
// arbiter between racing replicas: PostgreSQL re-evaluates its WHERE clause
// after waiting for a concurrent writer's row lock (READ COMMITTED), and
// SQLite runs one writer at a time; the used_nonces primary key does the
// same for two sessions sharing a nonce.
func (s *Store) ClaimSession(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claiming session %s: %w", id, err)
	}
	defer tx.Rollback()
	sess, err := scanSession(tx.QueryRowContext(ctx, s.q(`UPDATE sessions SET state = ?
		WHERE id = ? AND state = ? AND expires_ms > ? RETURNING `+sessionColumns),
		string(store.Processing), id, string(store.Waiting), ms(now)))
	if errors.Is(err, sql.ErrNoRows) {
		// Lost, or never had a chance: say which.
		old, err := scanSession(tx.QueryRowContext(ctx, s.q(`SELECT `+sessionColumns+` FROM sessions WHERE id = ?`), id))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil, fmt.Errorf("%w: %s", store.ErrNotFound, id)
		case err != nil:
			return nil, fmt.Errorf("claiming session %s: %w", id, err)
		case !now.Before(old.Expires):
			return nil, fmt.Errorf("%w: %s expired at %s", store.ErrExpired, id, old.Expires.Format(time.RFC3339))
		default:
			return nil, fmt.Errorf("%w: session %s is %s", store.ErrSessionUsed, id, old.State)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("claiming session %s: %w", id, err)
	}
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO used_nonces (nonce, used_ms) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING`), sess.Nonce, ms(now))
	if err != nil {
		return nil, fmt.Errorf("claiming session %s: recording its nonce: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if n == 0 {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE sessions SET state = ? WHERE id = ?`), string(store.Failed), id); err != nil {
			return nil, err
		}
		if err := tx.Commit(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: session %s's nonce was consumed by another session", store.ErrNonceUsed, id)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claiming session %s: %w", id, err)
	}
	return sess, nil
}

// FinishSession implements store.Sessions.
func (s *Store) FinishSession(ctx context.Context, sess *store.Session) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE sessions SET state = ?, evidence_type = ?, evidence = ?, result = ?, expires_ms = ? WHERE id = ?`),
		string(sess.State), sess.EvidenceType, sess.Evidence, sess.Result, ms(sess.Expires), sess.ID)
	if err != nil {
		return fmt.Errorf("storing session %s: %w", sess.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %s", store.ErrNotFound, sess.ID)
	}
	return nil
}

// DeleteSession implements store.Sessions.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("deleting session %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %s", store.ErrNotFound, id)
	}
	return nil
}

// NonceUsed implements store.Sessions.
func (s *Store) NonceUsed(ctx context.Context, nonce []byte) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT 1 FROM used_nonces WHERE nonce = ?`), nonce).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up a nonce: %w", err)
	}
	return true, nil
}

// Purge implements store.Sessions.
func (s *Store) Purge(ctx context.Context, now, nonceCutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE expires_ms <= ?`), ms(now))
	if err != nil {
		return 0, fmt.Errorf("purging sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM used_nonces WHERE used_ms < ?`), ms(nonceCutoff)); err != nil {
		return n, fmt.Errorf("purging used nonces: %w", err)
	}
	return n, nil
}
