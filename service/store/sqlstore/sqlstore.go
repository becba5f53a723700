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
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/ccakit/cca/service/store"
)

// ErrURL: the database URL is not one this package understands.
var ErrURL = errors.New("bad database URL")

// ErrSchema: the database holds a schema this version of the package does
// not know (written by a newer release); nothing was changed in it.
var ErrSchema = errors.New("unsupported database schema")

type dialect struct {
	name   string // "sqlite" or "postgres"
	bytes  string // column type of byte strings
	serial string // an auto-increment primary key
	// keyed ends a table whose rows are small and found by their primary
	// key: SQLite then keeps one B-tree (the key's) instead of a table
	// and an index on it, one page less for each insert to write
	// (sqlite.org/withoutrowid.html).
	keyed string
}

var (
	sqliteDialect   = dialect{name: "sqlite", bytes: "BLOB", serial: "INTEGER PRIMARY KEY AUTOINCREMENT", keyed: " WITHOUT ROWID"}
	postgresDialect = dialect{name: "postgres", bytes: "BYTEA", serial: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"}
)

// Store is a store.Sessions (and endorsement store) over one SQL database.
// It is safe for concurrent use; several processes may share a PostgreSQL
// database.
type Store struct {
	db    *sql.DB
	d     dialect
	stmts sync.Map // query text -> *sql.Stmt
	batch *batcher // SQLite: group commit of session writes; nil for PostgreSQL
	// Now is the clock against which CoRIMs expire (nil: time.Now).
	Now func() time.Time
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
	// One connection: SQLite runs one writer at a time anyway, and
	// writers queued on Go's connection pool wait without the busy
	// handler's sleeps (up to 100 ms each), which under load cost more than
	// the queries (and an in-memory database is per connection).
	db.SetMaxOpenConns(1)
	s := &Store{db: db, d: sqliteDialect, Kind: "sqlite", Where: path}
	if _, err := s.init(ctx); err != nil {
		return nil, err
	}
	s.batch = newBatcher(db)
	return s, nil
}

func (s *Store) init(ctx context.Context) (*Store, error) {
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("%s database %s: %w", s.Kind, s.Where, err)
	}
	for _, q := range txQueries {
		if _, err := s.prepared(ctx, q); err != nil {
			s.Close()
			return nil, fmt.Errorf("%s database %s: preparing %q: %w", s.Kind, s.Where, q, err)
		}
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if s.batch != nil {
		s.batch.close()
	}
	s.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	return s.db.Close()
}

// prepared returns the prepared statement of a query written with ?
// placeholders: parsing SQL costs more than running these small queries.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// txStmt is the prepared statement of query for tx (nil: none). Preparing
// through the pool inside a transaction would wait for a connection the
// transaction holds (SQLite has one), so a statement not prepared yet is
// prepared on the transaction's own connection, uncached; the statements
// transactions use are prepared at Open.
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if tx == nil {
		return s.prepared(ctx, query)
	}
	if st, ok := s.stmts.Load(query); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt)), nil
	}
	return tx.PrepareContext(ctx, s.q(query))
}

// exec runs a prepared statement, in tx when it is not nil.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := s.txStmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// queryRow runs a prepared single-row query, in tx when it is not nil.
func (s *Store) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) scanner {
	st, err := s.txStmt(ctx, tx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a prepared query.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// schemaLock is the PostgreSQL advisory lock that serialises schema creation
// when several replicas start at once (CREATE TABLE IF NOT EXISTS is not
// safe against a concurrent twin).
const schemaLock = 0x63636b6974 // "cckit"

// SchemaVersion is the version of the schema this package writes: the
// number of steps in migrations. The database records the version it holds
// (table ccakit_schema); Open applies the steps it lacks, in one
// transaction, and refuses a database whose version is newer.
const SchemaVersion = 2

// migrations are the schema's steps: step i takes a database from version i
// to version i+1. A released step is never edited; a change of schema is a
// new step appended here.
var migrations = []func(d dialect) []string{
	// 1: the first schema. Its statements are idempotent, so that a
	// database made before the schema was versioned (the same tables, no
	// ccakit_schema) is taken to version 1 as it is.
	func(d dialect) []string {
		b := d.bytes
		return []string{
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
				used_ms BIGINT NOT NULL)` + d.keyed,
			`CREATE TABLE IF NOT EXISTS corims (
				seq ` + d.serial + `,
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
	},
	// 2: the end of each CoRIM's validity (NULL: none), so that lookups
	// leave out the endorsements of an expired CoRIM.
	func(dialect) []string {
		return []string{`ALTER TABLE corims ADD COLUMN not_after_ms BIGINT`}
	},
}

// migrate brings the database to SchemaVersion, or refuses it (ErrSchema)
// if it is newer. Under PostgreSQL an advisory lock serialises replicas
// that start at once.
func (s *Store) migrate(ctx context.Context) error {
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
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS ccakit_schema (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("creating the schema version table: %w", err)
	}
	version := 0 // a new database, or one made before versions were recorded
	err = tx.QueryRowContext(ctx, `SELECT version FROM ccakit_schema WHERE id = 1`).Scan(&version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if version > SchemaVersion || version < 0 {
		return fmt.Errorf("%w: the database is at schema version %d and this build knows up to %d: run a release that knows it, or give another database", ErrSchema, version, SchemaVersion)
	}
	if version == SchemaVersion {
		return nil // nothing to write: the transaction only held the lock
	}
	for v := version; v < SchemaVersion; v++ {
		for _, q := range migrations[v](s.d) {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("schema step %d: %w", v+1, err)
			}
		}
	}
	set := `UPDATE ccakit_schema SET version = ? WHERE id = 1`
	if version == 0 {
		set = `INSERT INTO ccakit_schema (version, id) VALUES (?, 1)`
	}
	if _, err := tx.ExecContext(ctx, s.q(set), SchemaVersion); err != nil {
		return fmt.Errorf("recording the schema version: %w", err)
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

// CreateSession implements store.Sessions. A session whose nonce was
// already used is refused with ErrNonceUsed in the same statement.
func (s *Store) CreateSession(ctx context.Context, sess *store.Session) error {
	accept, err := json.Marshal(sess.Accept)
	if err != nil {
		return err
	}
	// One statement: atomic alone (the nonce check after it only says why
	// it did nothing).
	return s.write(ctx, false, func(ctx context.Context, tx *sql.Tx) (error, error) {
		res, err := s.exec(ctx, tx, qCreate, sess.ID, sess.Nonce, string(sess.State), string(accept), ms(sess.Expires), sess.Nonce)
		if err != nil {
			return nil, fmt.Errorf("storing session %s: %w", sess.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return nil, err
		}
		var one int
		switch err := s.queryRow(ctx, tx, qNonceUsed, sess.Nonce).Scan(&one); {
		case err == nil:
			return fmt.Errorf("%w: session %s", store.ErrNonceUsed, sess.ID), nil
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("%w: %s", store.ErrDuplicate, sess.ID), nil
		default:
			return nil, fmt.Errorf("storing session %s: %w", sess.ID, err)
		}
	})
}

const qCreate = `INSERT INTO sessions (id, nonce, state, accept, expires_ms) SELECT ?, ?, ?, ?, ?
	WHERE NOT EXISTS (SELECT 1 FROM used_nonces WHERE nonce = ?) ON CONFLICT (id) DO NOTHING`

const sessionColumns = `id, nonce, state, accept, expires_ms, evidence_type, evidence, result`

// The statements transactions run, prepared at Open (see txStmt).
const (
	qSession  = `SELECT ` + sessionColumns + ` FROM sessions WHERE id = ?`
	qFail     = `UPDATE sessions SET state = ? WHERE id = ?`
	qComplete = `UPDATE sessions SET state = ?, evidence_type = ?, evidence = ?, result = ?, expires_ms = ?
		WHERE id = ? AND state = ? AND expires_ms > ?`
	// The nonce is the stored one, whatever the caller's copy says, and
	// only that of a waiting, unexpired session.
	qUseSessionNonce = `INSERT INTO used_nonces (nonce, used_ms) SELECT nonce, ? FROM sessions
		WHERE id = ? AND state = ? AND expires_ms > ? ON CONFLICT (nonce) DO NOTHING`
	qNonceUsed = `SELECT 1 FROM used_nonces WHERE nonce = ?`
)

var txQueries = []string{qCreate, qSession, qFail, qComplete, qUseSessionNonce, qNonceUsed, qAddCoRIM, qAddAnchor, qAddPlatform, qAddRealm}

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
	sess, err := scanSession(s.queryRow(ctx, nil, qSession, id))
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

// CompleteSession implements store.Sessions. With useNonce the session's
// nonce is recorded first, and only for a waiting, unexpired session: the
// used_nonces primary key is the arbiter, between racers for one session as
// between sessions sharing a nonce (PostgreSQL's INSERT waits for the other
// writer's uncommitted key, then does nothing if it committed). A session
// that got its nonce is then written; one that did not is left as it is
// (used, expired, unknown) or, waiting with a nonce another session
// consumed, failed. Without useNonce the session is written if it is still
// waiting and unexpired (the UPDATE's condition arbitrates racers for it)
// and no nonce is recorded. One commit where a claim and a finish take two,
// and with SQLite shared with the session writes running beside it.
func (s *Store) CompleteSession(ctx context.Context, sess *store.Session, now time.Time, useNonce bool) error {
	return s.write(ctx, true, func(ctx context.Context, tx *sql.Tx) (error, error) {
		if useNonce {
			res, err := s.exec(ctx, tx, qUseSessionNonce, ms(now), sess.ID, string(store.Waiting), ms(now))
			if err != nil {
				return nil, fmt.Errorf("completing session %s: recording its nonce: %w", sess.ID, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return nil, err
			} else if n == 0 {
				return s.notCompleted(ctx, tx, sess.ID, now, true)
			}
		}
		res, err := s.exec(ctx, tx, qComplete, string(sess.State), sess.EvidenceType, sess.Evidence, sess.Result, ms(sess.Expires),
			sess.ID, string(store.Waiting), ms(now))
		if err != nil {
			return nil, fmt.Errorf("completing session %s: %w", sess.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 0 {
			if !useNonce {
				return s.notCompleted(ctx, tx, sess.ID, now, false)
			}
			// The nonce was recorded for a waiting, unexpired session,
			// and its key keeps every other completion out; only a
			// DELETE or a purge can have removed the session since
			// (PostgreSQL; SQLite has one writer). As an error, this
			// undoes the nonce.
			return nil, fmt.Errorf("%w: session %s was deleted while it was being completed", store.ErrNotFound, sess.ID)
		}
		return nil, nil
	})
}

// notCompleted says why session id, which a completion could not claim,
// is out of reach: unknown, expired or no longer waiting; or, waiting,
// its nonce was consumed by another session (nonceRefused: the nonce's
// insert did nothing), in which case it is failed.
func (s *Store) notCompleted(ctx context.Context, tx *sql.Tx, id string, now time.Time, nonceRefused bool) (error, error) {
	old, err := scanSession(s.queryRow(ctx, tx, qSession, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %s", store.ErrNotFound, id), nil
	case err != nil:
		return nil, fmt.Errorf("completing session %s: %w", id, err)
	case !now.Before(old.Expires):
		return fmt.Errorf("%w: %s expired at %s", store.ErrExpired, id, old.Expires.Format(time.RFC3339)), nil
	case old.State != store.Waiting:
		return fmt.Errorf("%w: session %s is %s", store.ErrSessionUsed, id, old.State), nil
	case !nonceRefused:
		return nil, fmt.Errorf("completing session %s: a waiting, unexpired session was not updated", id)
	}
	if _, err := s.exec(ctx, tx, qFail, string(store.Failed), id); err != nil {
		return nil, fmt.Errorf("completing session %s: %w", id, err)
	}
	return fmt.Errorf("%w: session %s's nonce was consumed by another session", store.ErrNonceUsed, id), nil
}

// DeleteSession implements store.Sessions.
func (s *Store) DeleteSession(ctx context.Context, id string, now time.Time) error {
	var expires int64
	err := s.queryRow(ctx, nil, `DELETE FROM sessions WHERE id = ? RETURNING expires_ms`, id).Scan(&expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %s", store.ErrNotFound, id)
	case err != nil:
		return fmt.Errorf("deleting session %s: %w", id, err)
	case !now.Before(fromMS(expires)):
		return fmt.Errorf("%w: %s (it had expired)", store.ErrNotFound, id)
	}
	return nil
}

// NonceUsed implements store.Sessions.
func (s *Store) NonceUsed(ctx context.Context, nonce []byte) (bool, error) {
	var one int
	err := s.queryRow(ctx, nil, qNonceUsed, nonce).Scan(&one)
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
	res, err := s.exec(ctx, nil, `DELETE FROM sessions WHERE expires_ms <= ?`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("purging sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := s.exec(ctx, nil, `DELETE FROM used_nonces WHERE used_ms < ?`, ms(nonceCutoff)); err != nil {
		return n, fmt.Errorf("purging used nonces: %w", err)
	}
	return n, nil
}
