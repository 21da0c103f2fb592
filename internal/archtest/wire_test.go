package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/drover/drover/internal/wire"
)

// goFiles returns every Go file of the module (tests included) with its
// path relative to the module root, skipping the packages listed in skip
// (paths from the module root, e.g. "internal/wire").
func goFiles(t *testing.T, skip ...string) map[string]*ast.File {
	t.Helper()
	files := map[string]*ast.File{}
	fset := token.NewFileSet()
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() && rel != "." {
			for _, s := range skip {
				if rel == s {
					return filepath.SkipDir
				}
			}
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		af, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files[rel] = af
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("found only %d Go files below %s", len(files), root)
	}
	return files
}

// codeConst matches the names, or type names, of constants that would hold
// a fault or a state code.
var codeConst = regexp.MustCompile(`^fault|Fault|^state|State|^mood|Mood`)

// notWireStates are packages with state codes of their own that never cross
// the wire, and why.
var notWireStates = map[string]string{
	"internal/eventlistener": "a listener's protocol state (Supervisor's EventListenerStates) stays inside the daemon",
}

// Fault codes and names, process and supervisor state codes live in
// internal/wire only: a second table drifts from the first.
func TestWireTablesHaveOneHome(t *testing.T) {
	faultNames := map[string]bool{}
	for code := 1; code < 2000; code++ {
		if n := wire.FaultName(code); n != "UNKNOWN" && n != "FAILED" && n != "SUCCESS" {
			faultNames[n] = true // FAILED and SUCCESS are common words elsewhere
		}
	}
	for path, f := range goFiles(t, "internal/wire", "internal/archtest") {
		isTest := strings.HasSuffix(path, "_test.go")
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GenDecl:
				if n.Tok != token.CONST {
					return true
				}
				for _, spec := range n.Specs {
					vs := spec.(*ast.ValueSpec)
					typ, _ := vs.Type.(*ast.Ident)
					for i, name := range vs.Names {
						named := codeConst.MatchString(name.Name) || typ != nil && codeConst.MatchString(typ.Name)
						_, exempt := notWireStates[filepath.Dir(path)]
						if i < len(vs.Values) && named && !exempt && isIntLiteral(vs.Values[i]) {
							t.Errorf("%s: constant %s looks like a fault or state code: use internal/wire", path, name.Name)
						}
					}
				}
			case *ast.BasicLit:
				if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && faultNames[s] && !isTest {
					t.Errorf("%s: the fault name %q is written out: use internal/wire", path, s)
				}
			}
			return true
		})
	}
}

func isIntLiteral(e ast.Expr) bool {
	if u, ok := e.(*ast.UnaryExpr); ok {
		e = u.X
	}
	lit, ok := e.(*ast.BasicLit)
	return ok && lit.Kind == token.INT
}

// Only internal/client speaks XML-RPC to the daemon; rpc and xmlrpc are the
// server and the codec. Anyone else calling the codec's client half or
// building /RPC2 URLs is a second client.
func TestOnlyTheClientSpeaksXMLRPC(t *testing.T) {
	for path, f := range goFiles(t, "internal/client", "internal/rpc", "internal/xmlrpc", "internal/archtest") {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "xmlrpc" && (n.Sel.Name == "EncodeCall" || n.Sel.Name == "DecodeResponse") {
					t.Errorf("%s: calls xmlrpc.%s, the client half of the codec: use internal/client", path, n.Sel.Name)
				}
			case *ast.BasicLit:
				s, err := strconv.Unquote(n.Value)
				if err == nil && n.Kind == token.STRING && (strings.HasPrefix(s, "/RPC2") || strings.Contains(s, "://") && strings.Contains(s, "/RPC2")) {
					t.Errorf("%s: builds an /RPC2 request (%q): use internal/client", path, s)
				}
			}
			return true
		})
	}
}
