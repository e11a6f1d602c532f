package pgtest

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// TestDSN connects to a schema of the package's server and finds it first
// on the search path; every DSN is another schema, every Schema of one name
// the same.
func TestDSN(t *testing.T) {
	dsn := DSN(t)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var schema string
	if err := conn.QueryRow(t.Context(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if again := DSN(t); again == dsn {
		t.Errorf("DSN again: %s, want another schema", again)
	}
	name := Unique(t)
	if a, b := Get(t).Schema(t, name), Get(t).Schema(t, name); a != b {
		t.Errorf("Schema of one name: %s, then %s", a, b)
	}
	if len(schema) != 18 || schema[:2] != "t_" {
		t.Errorf("current schema %q, want the test's", schema)
	}
}
