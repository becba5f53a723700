package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// schemaDatabases returns, for each available database, the URL of an
// empty database of its own: a new SQLite file, and a new PostgreSQL
// schema (search_path) on the test server, dropped at the end, so that
// changing its schema version disturbs no other test on the shared server.
func schemaDatabases(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{"sqlite": filepath.Join(t.TempDir(), "schema.db")}
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		t.Logf("%s not set: PostgreSQL tests skipped", PostgresEnv)
		return out
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := fmt.Sprintf("ccakit_schema_test_%x", randomBytes(t, 6))
	if _, err := admin.Exec(`CREATE SCHEMA ` + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + name + ` CASCADE`); err != nil {
			t.Error(err)
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	out["postgres"] = dsn + sep + "search_path=" + name
	return out
}

func schemaVersion(t *testing.T, s *Store) int {
	t.Helper()
	var v int
	if err := s.db.QueryRow(`SELECT version FROM ccakit_schema WHERE id = 1`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSchemaVersions: a new database is created at SchemaVersion and says
// so; a database an earlier release made (the same tables, no recorded
// version) is taken over with its data; a database at a newer version is
// refused with ErrSchema, naming both versions, and left as it was.
func TestSchemaVersions(t *testing.T) {
	if SchemaVersion != len(migrations) {
		t.Fatalf("SchemaVersion %d, but %d migration steps", SchemaVersion, len(migrations))
	}
	ctx := context.Background()
	for name, url := range schemaDatabases(t) {
		t.Run(name, func(t *testing.T) {
			s, err := Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			if v := schemaVersion(t, s); v != SchemaVersion {
				t.Fatalf("a new database records version %d, want %d", v, SchemaVersion)
			}
			sess := created(t, s, longTTL)

			// A database of version 1 (no corims.not_after_ms), as it
			// was before versions were recorded (no ccakit_schema) and
			// as the first versioned release left it.
			for _, recorded := range []bool{false, true} {
				if _, err := s.db.Exec(`ALTER TABLE corims DROP COLUMN not_after_ms`); err != nil {
					t.Fatal(err)
				}
				q := `DROP TABLE ccakit_schema`
				if recorded {
					q = `UPDATE ccakit_schema SET version = 1 WHERE id = 1`
				}
				if _, err := s.db.Exec(q); err != nil {
					t.Fatal(err)
				}
				s.Close()
				s, err = Open(ctx, url)
				if err != nil {
					t.Fatalf("opening a version 1 database (version recorded: %v): %v", recorded, err)
				}
				if v := schemaVersion(t, s); v != SchemaVersion {
					t.Fatalf("a version 1 database (recorded: %v) records version %d after Open, want %d", recorded, v, SchemaVersion)
				}
				if _, err := s.db.Exec(`SELECT not_after_ms FROM corims`); err != nil {
					t.Fatalf("step 2 was not applied: %v", err)
				}
				if got, err := s.Session(ctx, sess.ID, time.Now()); err != nil || got.ID != sess.ID {
					t.Fatalf("the session stored before: %v", err)
				}
			}

			// A newer release's database.
			newer := SchemaVersion + 1
			if _, err := s.db.Exec(s.q(`UPDATE ccakit_schema SET version = ? WHERE id = 1`), newer); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if _, err := Open(ctx, url); !errors.Is(err, ErrSchema) ||
				!strings.Contains(err.Error(), fmt.Sprintf("schema version %d", newer)) ||
				!strings.Contains(err.Error(), fmt.Sprintf("up to %d", SchemaVersion)) {
				t.Fatalf("opening a newer database: %v, want ErrSchema naming versions %d and %d", err, newer, SchemaVersion)
			}
			raw, err := sql.Open(map[string]string{"sqlite": "sqlite", "postgres": "pgx"}[name], url)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			var v int
			if err := raw.QueryRow(`SELECT version FROM ccakit_schema WHERE id = 1`).Scan(&v); err != nil || v != newer {
				t.Fatalf("the refused database now records version %d (%v), want %d unchanged", v, err, newer)
			}
		})
	}
}
