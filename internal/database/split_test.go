package database

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// splitCases pin what splitStatements supports. Trigger cases run against
// the tables src and dst, which splitSetup creates.
var splitCases = []struct {
	name string
	in   string
	want []string
	// bad: the input is not valid SQL; SQLite must reject what comes out
	// rather than run a part of it.
	bad bool
}{
	{
		name: "one statement per line",
		in:   "CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n",
		want: []string{"CREATE TABLE a (x int);", "CREATE TABLE b (y int);"},
	},
	{
		name: "blank lines and comment lines",
		in:   "-- header; with a semicolon\n\n\nCREATE TABLE a (x int);\n\n   -- between;\n\nCREATE TABLE b (y int);\n\n",
		want: []string{"CREATE TABLE a (x int);", "CREATE TABLE b (y int);"},
	},
	{
		name: "comments after code",
		in:   "CREATE TABLE a (x int); -- why a exists\nCREATE TABLE b (y int);-- no space\nCREATE TABLE c (z int); /* block; */\n",
		want: []string{"CREATE TABLE a (x int);", "CREATE TABLE b (y int);", "CREATE TABLE c (z int);"},
	},
	{
		name: "comments inside a statement keep their semicolons",
		in:   "CREATE TABLE a ( -- columns; more later\n  x int /* ; */\n);\n",
		want: []string{"CREATE TABLE a ( -- columns; more later\n  x int /* ; */\n);"},
	},
	{
		name: "semicolons in string literals, also at the end of a line",
		in:   "INSERT INTO dst VALUES ('x;');\nINSERT INTO dst VALUES ('ends a line;\n-- not a comment;\nstill the string;');\nINSERT INTO dst VALUES ('it''s; fine');\n",
		want: []string{
			"INSERT INTO dst VALUES ('x;');",
			"INSERT INTO dst VALUES ('ends a line;\n-- not a comment;\nstill the string;');",
			"INSERT INTO dst VALUES ('it''s; fine');",
		},
	},
	{
		name: "semicolons in quoted identifiers",
		in:   "CREATE TABLE \"a;\" (\"b;\" int, `c;` int, [d;] int);\nCREATE TABLE \"x\"\"y;\" (z int);\n",
		want: []string{"CREATE TABLE \"a;\" (\"b;\" int, `c;` int, [d;] int);", "CREATE TABLE \"x\"\"y;\" (z int);"},
	},
	{
		name: "multi-line trigger with inner semicolons",
		in:   "CREATE TRIGGER IF NOT EXISTS \"t1\" AFTER INSERT ON src\nFOR EACH ROW WHEN NEW.x > 0\nBEGIN\n  INSERT INTO dst VALUES (NEW.x);\n  UPDATE dst SET y = y + 1;\nEND;\nCREATE TABLE c (z int);\n",
		want: []string{
			"CREATE TRIGGER IF NOT EXISTS \"t1\" AFTER INSERT ON src\nFOR EACH ROW WHEN NEW.x > 0\nBEGIN\n  INSERT INTO dst VALUES (NEW.x);\n  UPDATE dst SET y = y + 1;\nEND;",
			"CREATE TABLE c (z int);",
		},
	},
	{
		name: "ways a trigger ends",
		in: "create trigger t1 after insert on src begin\n  delete from dst;\nend;\n" +
			"CREATE TRIGGER t2 AFTER INSERT ON src BEGIN DELETE FROM dst; End ;\n" +
			"CREATE TRIGGER t3 AFTER INSERT ON src BEGIN\n  DELETE FROM dst;\nEND\n;\n" +
			"CREATE TRIGGER t4 AFTER INSERT ON src BEGIN\n  DELETE FROM dst;\nEND; -- done; really\n" +
			"CREATE TRIGGER t5 AFTER INSERT ON src BEGIN\n  DELETE FROM dst;\nEND;-- done\n" +
			"CREATE TRIGGER t6 AFTER INSERT ON src BEGIN\n  DELETE FROM dst; -- last one;\nEND /* ; */ ;\n" +
			"CREATE TABLE c (z int);",
		want: []string{
			"create trigger t1 after insert on src begin\n  delete from dst;\nend;",
			"CREATE TRIGGER t2 AFTER INSERT ON src BEGIN DELETE FROM dst; End ;",
			"CREATE TRIGGER t3 AFTER INSERT ON src BEGIN\n  DELETE FROM dst;\nEND\n;",
			"CREATE TRIGGER t4 AFTER INSERT ON src BEGIN\n  DELETE FROM dst;\nEND;",
			"CREATE TRIGGER t5 AFTER INSERT ON src BEGIN\n  DELETE FROM dst;\nEND;",
			"CREATE TRIGGER t6 AFTER INSERT ON src BEGIN\n  DELETE FROM dst; -- last one;\nEND /* ; */ ;",
			"CREATE TABLE c (z int);",
		},
	},
	{
		name: "CASE … END; inside a trigger body does not end it",
		in:   "CREATE TRIGGER t1 AFTER INSERT ON src BEGIN\n  UPDATE dst SET y = CASE WHEN NEW.x > 0 THEN 1 ELSE 0 END;\n  DELETE FROM dst WHERE y IS NULL;\nEND;\nSELECT 1;",
		want: []string{
			"CREATE TRIGGER t1 AFTER INSERT ON src BEGIN\n  UPDATE dst SET y = CASE WHEN NEW.x > 0 THEN 1 ELSE 0 END;\n  DELETE FROM dst WHERE y IS NULL;\nEND;",
			"SELECT 1;",
		},
	},
	{
		name: "temporary triggers, and TRIGGER or END inside names",
		in:   "CREATE TEMPORARY TRIGGER t1 AFTER DELETE ON src BEGIN DELETE FROM dst; END;\nCREATE TABLE trigger_log (\"end\" int, ends int);\nCREATE INDEX end_idx ON trigger_log (ends);\n",
		want: []string{
			"CREATE TEMPORARY TRIGGER t1 AFTER DELETE ON src BEGIN DELETE FROM dst; END;",
			"CREATE TABLE trigger_log (\"end\" int, ends int);",
			"CREATE INDEX end_idx ON trigger_log (ends);",
		},
	},
	{
		name: "CRLF line endings",
		in:   "-- header\r\nCREATE TABLE a (x int);\r\n\r\nCREATE TRIGGER t1 AFTER INSERT ON src\r\nBEGIN\r\n  INSERT INTO dst VALUES (1);\r\nEND;\r\nCREATE TABLE c (z int)\r\n",
		want: []string{
			"CREATE TABLE a (x int);",
			"CREATE TRIGGER t1 AFTER INSERT ON src\r\nBEGIN\r\n  INSERT INTO dst VALUES (1);\r\nEND;",
			"CREATE TABLE c (z int)",
		},
	},
	{
		name: "final statement without a semicolon",
		in:   "CREATE TABLE a (x int);\nCREATE TABLE b (y int)  -- trailing note\n\n",
		want: []string{"CREATE TABLE a (x int);", "CREATE TABLE b (y int)"},
	},
	{
		name: "empty statements",
		in:   ";\n ; ;\nCREATE TABLE a (x int);;\n\t\n",
		want: []string{"CREATE TABLE a (x int);"},
	},
	{
		name: "only comments",
		in:   "-- nothing here;\n/* nor; here */\n\n",
		want: nil,
	},
	{
		name: "an unterminated string swallows the rest",
		in:   "INSERT INTO dst VALUES ('oops);\nCREATE TABLE b (y int);\n",
		want: []string{"INSERT INTO dst VALUES ('oops);\nCREATE TABLE b (y int);\n"},
		bad:  true,
	},
	{
		name: "a trigger without END swallows the rest",
		in:   "CREATE TRIGGER t1 AFTER INSERT ON src BEGIN\n  DELETE FROM dst;\nCREATE TABLE b (y int);\n",
		want: []string{"CREATE TRIGGER t1 AFTER INSERT ON src BEGIN\n  DELETE FROM dst;\nCREATE TABLE b (y int);"},
		bad:  true,
	},
}

var splitSetup = []Stmt{{SQL: `CREATE TABLE src (x int)`}, {SQL: `CREATE TABLE dst (y int)`}}

func sqlOf(stmts []Stmt) []string {
	var out []string
	for _, s := range stmts {
		out = append(out, s.SQL)
	}
	return out
}

// TestSplitStatements checks each case's statements exactly, that SQLite
// accepts them one by one (or rejects a broken input as a whole), and that
// they survive the remote Batch, which joins them with ";\n" and so needs
// every statement to end outside a comment.
func TestSplitStatements(t *testing.T) {
	t.Parallel()
	for _, tc := range splitCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := sqlOf(splitStatements(tc.in))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("split\n%q\ngot  %q\nwant %q", tc.in, got, tc.want)
			}

			if !tc.bad {
				var joined strings.Builder
				var rejoined []string
				for _, s := range got {
					s = strings.TrimRight(strings.TrimSpace(s), ";") + ";"
					joined.WriteString(s + "\n")
					rejoined = append(rejoined, s)
				}
				if again := sqlOf(splitStatements(joined.String())); !slices.Equal(again, rejoined) {
					t.Errorf("joined as a remote batch, it splits into\n%q\nnot\n%q", again, rejoined)
				}
			}

			db := openTemp(t)
			err := db.Batch(t.Context(), append(slices.Clone(splitSetup), splitStatements(tc.in)...)...)
			if tc.bad && err == nil {
				t.Fatal("SQLite accepted a broken input")
			}
			if !tc.bad && err != nil {
				t.Fatalf("SQLite refused a statement: %v", err)
			}
		})
	}
}

// openTemp opens a fresh SQLite file in the test's temporary directory.
func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open("file:"+filepath.Join(t.TempDir(), "test.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
