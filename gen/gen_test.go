package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/printer"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const uapiDir = "../uapi"

// TestUpToDate regenerates the Go files and compares them with the
// committed ones.
func TestUpToDate(t *testing.T) {
	files, err := generate(uapiDir)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(uapiDir, name))
		if err != nil {
			t.Errorf("%v: stale: run go generate ./...", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("uapi/%s differs from what the headers generate: stale: run go generate ./...", name)
		}
	}
	old, _ := filepath.Glob(filepath.Join(uapiDir, "ztypes_*.go"))
	for _, p := range old {
		if _, ok := files[filepath.Base(p)]; !ok {
			t.Errorf("uapi/%s is not generated any more: remove it", filepath.Base(p))
		}
	}
}

// pkgInfo is the committed Go files of one arch (the common one and its
// own), type-checked with that arch's sizes.
type pkgInfo struct {
	files []*ast.File
	pkg   *types.Package
	sizes types.Sizes
}

func load(t *testing.T, goarch string) *pkgInfo {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range []string{commonName, outputName(goarch)} {
		f, err := parser.ParseFile(fset, filepath.Join(uapiDir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	sizes := types.SizesFor("gc", goarch)
	conf := types.Config{Sizes: sizes}
	pkg, err := conf.Check("uapi", fset, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &pkgInfo{files, pkg, sizes}
}

// structs returns the struct types of p by Go name, sorted.
func (p *pkgInfo) structs() ([]string, map[string]*types.Struct) {
	m := make(map[string]*types.Struct)
	var names []string
	for _, n := range p.pkg.Scope().Names() {
		tn, ok := p.pkg.Scope().Lookup(n).(*types.TypeName)
		if !ok {
			continue
		}
		if st, ok := tn.Type().Underlying().(*types.Struct); ok {
			m[n] = st
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, m
}

// TestLayout checks every struct and constant of each arch's Go file
// against that arch's C compiler: a C file of _Static_asserts built from
// the Go sizes, offsets, signedness and values must compile.
func TestLayout(t *testing.T) {
	for _, a := range arches {
		t.Run(a.goarch, func(t *testing.T) {
			cc, err := a.compiler()
			if err != nil {
				t.Fatal(err)
			}
			p := load(t, a.goarch)
			src, n := p.asserts(t)
			if n < 300 {
				t.Fatalf("only %d assertions: the Go file lacks most of the ABI", n)
			}
			dir := t.TempDir()
			c := filepath.Join(dir, "layout_"+a.goarch+".c")
			if err := os.WriteFile(c, src, 0o644); err != nil {
				t.Fatal(err)
			}
			// -Wpadded: the headers must not rely on implicit padding.
			cmd := exec.Command(cc, "-fsyntax-only", "-std=gnu11", "-Wall", "-Wextra", "-Wno-type-limits", "-Wpadded", "-Werror",
				"-I", uapiDir, c)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v: the Go types disagree with %s:\n%s", c, err, a.cc, out)
			}
			t.Logf("%s agrees with %s on %d sizes, offsets and values", outputName(a.goarch), a.cc, n)
		})
	}
}

// asserts returns a C file that checks p against the C headers, and the
// number of checks in it. It reports Go-side problems through t.
func (p *pkgInfo) asserts(t *testing.T) ([]byte, int) {
	var b bytes.Buffer
	n := 0
	check := func(cond, msg string) {
		fmt.Fprintf(&b, "_Static_assert(%s, %q);\n", cond, msg)
		n++
	}
	b.WriteString("#include <stddef.h>\n")
	for _, h := range headers {
		fmt.Fprintf(&b, "#include <%s>\n", h)
	}

	names, structs := p.structs()
	for _, name := range names {
		st := structs[name]
		cs := cName(name)
		size := p.sizes.Sizeof(st)
		if size%8 != 0 {
			t.Errorf("%s (struct %s): size %d is not a multiple of 8", name, cs, size)
		}
		check(fmt.Sprintf("sizeof(struct %s) == %d", cs, size),
			fmt.Sprintf("sizeof(struct %s) != %d (Go %s)", cs, size, name))
		fields := make([]*types.Var, st.NumFields())
		for i := range fields {
			fields[i] = st.Field(i)
		}
		offs := p.sizes.Offsetsof(fields)
		end := int64(0)
		for i, f := range fields {
			fsize := p.sizes.Sizeof(f.Type())
			if offs[i] != end {
				t.Errorf("%s.%s: Go puts padding before it", name, f.Name())
			}
			end = offs[i] + fsize
			if f.Name() == "_" {
				continue // explicit padding: its neighbours pin it down
			}
			leaf, idx := f.Type(), ""
			for {
				arr, ok := leaf.(*types.Array)
				if !ok {
					break
				}
				leaf, idx = arr.Elem(), idx+"[0]"
			}
			member := fmt.Sprintf("((struct %s *)0)->%s", cs, cName(f.Name()))
			check(fmt.Sprintf("offsetof(struct %s, %s) == %d", cs, cName(f.Name()), offs[i]),
				fmt.Sprintf("offsetof(struct %s, %s) != %d (Go %s.%s)", cs, cName(f.Name()), offs[i], name, f.Name()))
			check(fmt.Sprintf("sizeof(%s) == %d", member, fsize),
				fmt.Sprintf("sizeof %s.%s != %d", cs, cName(f.Name()), fsize))
			switch lt := leaf.(type) {
			case *types.Basic:
				switch lt.Kind() {
				case types.Int8, types.Int16, types.Int32, types.Int64,
					types.Uint8, types.Uint16, types.Uint32, types.Uint64:
				default:
					t.Errorf("%s.%s: %s has no fixed size", name, f.Name(), lt)
				}
				signed := lt.Info()&types.IsUnsigned == 0
				check(fmt.Sprintf("((__typeof__(%s%s))-1 < 0) == %d", member, idx, b2i(signed)),
					fmt.Sprintf("signedness of %s.%s differs from Go's %s", cs, cName(f.Name()), lt))
			case *types.Named:
				if _, ok := structs[lt.Obj().Name()]; !ok {
					t.Errorf("%s.%s: type %s is not an ABI struct", name, f.Name(), lt)
				}
			default:
				t.Errorf("%s.%s: unexpected type %s", name, f.Name(), lt)
			}
		}
		if end != size {
			t.Errorf("%s: Go puts %d bytes of padding at the end", name, size-end)
		}
	}

	for _, name := range p.pkg.Scope().Names() {
		c, ok := p.pkg.Scope().Lookup(name).(*types.Const)
		if !ok {
			continue
		}
		v := c.Val()
		switch v.Kind() {
		case constant.Int:
			lit := v.ExactString()
			if _, exact := constant.Int64Val(v); exact {
				lit += "LL"
			} else {
				lit += "ULL"
			}
			check(fmt.Sprintf("(%s) == %s", name, lit), fmt.Sprintf("%s != %s", name, v.ExactString()))
		case constant.String:
			s := constant.StringVal(v)
			check(fmt.Sprintf("sizeof(%s) == %d", name, len(s)+1), fmt.Sprintf("%s is not %q", name, s))
		default:
			t.Errorf("constant %s: unexpected kind %s", name, v.Kind())
		}
	}
	return b.Bytes(), n
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSameEverywhere checks that the structs are identical on every arch:
// an image of any arch decodes with the types of any other.
func TestSameEverywhere(t *testing.T) {
	decls := func(goarch string) (map[string]string, []string) {
		p := load(t, goarch)
		types := make(map[string]string)
		var consts []string
		for _, f := range p.files {
			for _, d := range f.Decls {
				g := d.(*ast.GenDecl)
				for _, s := range g.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						var b bytes.Buffer
						printer.Fprint(&b, token.NewFileSet(), s)
						types[s.Name.Name] = b.String()
					case *ast.ValueSpec:
						for _, n := range s.Names {
							consts = append(consts, n.Name)
						}
					}
				}
			}
		}
		sort.Strings(consts)
		return types, consts
	}
	ref := arches[0].goarch
	refTypes, refConsts := decls(ref)
	for _, a := range arches[1:] {
		types, consts := decls(a.goarch)
		if len(types) != len(refTypes) {
			t.Errorf("%s has %d types, %s %d", a.goarch, len(types), ref, len(refTypes))
		}
		for name, d := range refTypes {
			if types[name] != d {
				t.Errorf("type %s differs between %s and %s:\n%s\n%s", name, ref, a.goarch, d, types[name])
			}
		}
		if strings.Join(consts, " ") != strings.Join(refConsts, " ") {
			t.Errorf("%s and %s define different constants", ref, a.goarch)
		}
	}
}

// TestNames checks the naming rule both ways on the names the headers use
// and on names it must refuse.
func TestNames(t *testing.T) {
	for c, g := range map[string]string{
		"ckpt_hdr_cpu_x86": "CkptHdrCpuX86",
		"orig_gpr2":        "OrigGpr2",
		"c_cc":             "CCc",
		"h":                "H",
	} {
		if got := goName(c); got != g {
			t.Errorf("goName(%s) = %s, want %s", c, got, g)
		}
		if got := cName(g); got != c {
			t.Errorf("cName(%s) = %s, want %s", g, got, c)
		}
	}
	for _, c := range []string{"arg_0", "x__y", "NR"} {
		if cName(goName(c)) == c {
			t.Errorf("%s should not survive the round trip", c)
		}
	}
}
