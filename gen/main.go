// Command gen generates the Go side of package uapi from its C headers,
// one file per architecture (uapi/ztypes_linux_GOARCH.go), with the C
// compiler of that architecture: `go tool cgo -godefs` computes every
// size, offset and constant, so the ioctl numbers come out right per arch
// (_IO differs on powerpc) and no layout is written down twice.
//
// It runs from `go generate ./...` (see uapi/generate.go), in the uapi
// directory:
//
//	go run ../gen [-uapi DIR] [-out DIR]
//
// What it exports is what the headers define, found by the compiler too:
// every struct and enum constant declared in uapi/ (from the DWARF of a
// compiled probe) and every object-like macro (from `cc -E -dD`). Names:
//
//   - struct ckpt_hdr_task becomes type CkptHdrTask: each _-separated
//     word capitalised;
//   - member vm_start becomes field VmStart, by the same rule; members
//     named __pad* become blank fields (_);
//   - constants keep their C names (CKPT_HDR_TASK) and are untyped;
//     string macros (CKPT_DEVICE_NAME) become string constants.
//
// The rule works backwards (CamelCase to snake_case) for every name the
// headers use, and gen refuses a name for which it would not, so that
// tools can print the C names of fields and the test in this directory
// can check each Go field against the C compiler's offsetof.
package main

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/printer"
	"go/token"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// An arch is a target of the generated code and the C compiler for it.
type arch struct {
	goarch string
	cc     string // compiler command
	pkg    string // Debian package providing cc
}

var arches = []arch{
	{"amd64", "x86_64-linux-gnu-gcc", "gcc"}, // on an amd64 host; elsewhere gcc-x86-64-linux-gnu
	{"s390x", "s390x-linux-gnu-gcc", "gcc-s390x-linux-gnu"},
	{"ppc64le", "powerpc64le-linux-gnu-gcc", "gcc-powerpc64le-linux-gnu"},
}

// headers are the C headers of uapi/, relative to it, as C includes them.
var headers = []string{"linux/checkpoint.h", "linux/checkpoint_hdr.h"}

// outputName is the generated file of an architecture.
func outputName(goarch string) string { return "ztypes_linux_" + goarch + ".go" }

func main() {
	uapiDir := flag.String("uapi", ".", "directory of the C headers (holds linux/checkpoint.h)")
	outDir := flag.String("out", "", "directory to write the Go files to (default: -uapi)")
	flag.Parse()
	if *outDir == "" {
		*outDir = *uapiDir
	}
	files, err := generate(*uapiDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(*outDir, name), src, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

// generate returns the generated files by name.
func generate(uapiDir string) (map[string][]byte, error) {
	dir, err := filepath.Abs(uapiDir)
	if err != nil {
		return nil, err
	}
	for _, h := range headers {
		if _, err := os.Stat(filepath.Join(dir, h)); err != nil {
			return nil, fmt.Errorf("%s is not the uapi directory: %w", uapiDir, err)
		}
	}
	files := make(map[string][]byte)
	for _, a := range arches {
		src, err := generateArch(a, dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.goarch, err)
		}
		files[outputName(a.goarch)] = src
	}
	return files, nil
}

// compiler returns the path of the C compiler of a, or an error that says
// what to install.
func (a arch) compiler() (string, error) {
	p, err := exec.LookPath(a.cc)
	if err != nil {
		return "", fmt.Errorf("C compiler %s for %s not found: install the Debian package %s (apt-get install %s)",
			a.cc, a.goarch, a.pkg, a.pkg)
	}
	return p, nil
}

// probe is the C source that includes every header.
func probe() string {
	var b strings.Builder
	for _, h := range headers {
		fmt.Fprintf(&b, "#include <%s>\n", h)
	}
	return b.String()
}

// An item is something the headers declare, in declaration order.
type item struct {
	file    int // index in the order the compiler met the files
	line    int
	seq     int
	name    string   // C name
	kind    int      // kindStruct, kindConst, kindString
	members []string // kindStruct: C member names in order
	str     string   // kindString: the value
	hex     bool     // kindConst: print in hex, as the header does
	group   int      // kindConst: enumerators of one enum share it; macros 0
}

const (
	kindStruct = iota
	kindConst
	kindString
)

// decls collects the items of the headers, ordered as in the headers.
type decls struct {
	dir   string
	files []string // file names in include order
	items []*item
}

func (d *decls) fileIndex(name string) (int, bool) {
	name = filepath.Clean(name)
	if !strings.HasPrefix(name, d.dir+string(filepath.Separator)) {
		return 0, false
	}
	for i, f := range d.files {
		if f == name {
			return i, true
		}
	}
	d.files = append(d.files, name)
	return len(d.files) - 1, true
}

func (d *decls) add(it *item) {
	it.seq = len(d.items)
	d.items = append(d.items, it)
}

func generateArch(a arch, dir string) ([]byte, error) {
	cc, err := a.compiler()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "kcr-gen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	d := &decls{dir: dir}
	if err := d.macros(cc); err != nil {
		return nil, err
	}
	if err := d.dwarfDecls(cc, tmp); err != nil {
		return nil, err
	}
	sort.SliceStable(d.items, func(i, j int) bool {
		x, y := d.items[i], d.items[j]
		if x.file != y.file {
			return x.file < y.file
		}
		if x.line != y.line {
			return x.line < y.line
		}
		return x.seq < y.seq
	})
	out, err := d.godefs(a, cc, tmp)
	if err != nil {
		return nil, err
	}
	return d.render(a, out)
}

var lineMarker = regexp.MustCompile(`^# ([0-9]+) "([^"]*)"`)

// macros finds the object-like macros of the headers with the
// preprocessor, which also says in which file and line each is.
func (d *decls) macros(cc string) error {
	cmd := exec.Command(cc, "-E", "-dD", "-I", d.dir, "-x", "c", "-")
	cmd.Stdin = strings.NewReader(probe())
	out, err := run(cmd)
	if err != nil {
		return err
	}
	file, line, ours := 0, 0, false
	for _, l := range strings.Split(string(out), "\n") {
		if m := lineMarker.FindStringSubmatch(l); m != nil {
			line, _ = strconv.Atoi(m[1])
			file, ours = d.fileIndex(m[2])
			continue
		}
		if ours && strings.HasPrefix(l, "#define ") {
			d.macro(strings.TrimPrefix(l, "#define "), file, line)
		}
		line++
	}
	return nil
}

func (d *decls) macro(def string, file, line int) {
	end := strings.IndexAny(def, " (")
	if end < 0 || def[end] == '(' {
		return // empty or function-like
	}
	name, value := def[:end], strings.TrimSpace(def[end:])
	if strings.HasPrefix(name, "_") || value == "" {
		return // include guards and the like
	}
	// Flags, masks, magics and ioctl numbers read best in hex, counts and
	// sizes in decimal.
	hex := strings.Contains(value, "0x") || strings.Contains(value, "_IO") ||
		strings.Contains(value, "|") || strings.Contains(value, "<<")
	it := &item{file: file, line: line, name: name, kind: kindConst, hex: hex}
	if strings.HasPrefix(value, `"`) {
		s, err := strconv.Unquote(value)
		if err != nil {
			return
		}
		it.kind, it.str = kindString, s
	}
	d.add(it)
}

// dwarfDecls finds the structs and enum constants of the headers in the
// debug information of a compiled probe.
func (d *decls) dwarfDecls(cc, tmp string) error {
	obj := filepath.Join(tmp, "probe.o")
	// -Werror=padded: godefs mirrors C's implicit padding only where Go's
	// alignment would not produce it anyway, so it must be refused here.
	cmd := exec.Command(cc, "-g", "-fno-eliminate-unused-debug-types", "-Werror=padded", "-c", "-o", obj,
		"-I", d.dir, "-x", "c", "-")
	cmd.Stdin = strings.NewReader(probe())
	if _, err := run(cmd); err != nil {
		return err
	}
	f, err := elf.Open(obj)
	if err != nil {
		return err
	}
	defer f.Close()
	dw, err := f.DWARF()
	if err != nil {
		return err
	}
	r := dw.Reader()
	var files []*dwarf.LineFile
	for {
		e, err := r.Next()
		if err != nil {
			return err
		}
		if e == nil {
			return nil
		}
		switch e.Tag {
		case dwarf.TagCompileUnit:
			lr, err := dw.LineReader(e)
			if err != nil {
				return err
			}
			files = lr.Files()
			continue
		case dwarf.TagStructType, dwarf.TagEnumerationType:
		default:
			if e.Children {
				r.SkipChildren()
			}
			continue
		}
		fi, _ := e.Val(dwarf.AttrDeclFile).(int64)
		line, _ := e.Val(dwarf.AttrDeclLine).(int64)
		file, ours := 0, false
		if fi >= 0 && int(fi) < len(files) && files[fi] != nil {
			file, ours = d.fileIndex(files[fi].Name)
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		var children []string
		if e.Children {
			for {
				c, err := r.Next()
				if err != nil {
					return err
				}
				if c == nil || c.Tag == 0 {
					break
				}
				if c.Children {
					r.SkipChildren()
				}
				if c.Tag != dwarf.TagMember && c.Tag != dwarf.TagEnumerator {
					continue
				}
				cn, _ := c.Val(dwarf.AttrName).(string)
				if ours && cn == "" {
					return fmt.Errorf("%s:%d: unnamed member in struct %s: not expressible in Go", files[fi].Name, line, name)
				}
				children = append(children, cn)
			}
		}
		if !ours {
			continue
		}
		if e.Tag == dwarf.TagEnumerationType {
			for _, c := range children {
				d.add(&item{file: file, line: int(line), name: c, kind: kindConst, group: 1 + int(e.Offset)})
			}
			continue
		}
		if name == "" {
			return fmt.Errorf("%s:%d: anonymous struct: give it a name", files[fi].Name, line)
		}
		if _, ok := e.Val(dwarf.AttrDeclaration).(bool); ok {
			continue // a forward declaration
		}
		d.add(&item{file: file, line: int(line), name: name, kind: kindStruct, members: children})
	}
}

// godefs runs cgo -godefs on an input that names every item, and returns
// its output.
func (d *decls) godefs(a arch, cc, tmp string) ([]byte, error) {
	var in bytes.Buffer
	fmt.Fprintf(&in, "package uapi\n\n/*\n%s*/\nimport \"C\"\n\n", probe())
	for _, it := range d.items {
		if it.kind == kindStruct {
			fmt.Fprintf(&in, "type %s C.struct_%s\n", goName(it.name), it.name)
		}
	}
	fmt.Fprintf(&in, "\nconst (\n")
	for _, it := range d.items {
		if it.kind == kindConst {
			fmt.Fprintf(&in, "\t%s = C.%s\n", it.name, it.name)
		}
	}
	fmt.Fprintf(&in, ")\n")
	input := filepath.Join(tmp, "types.go")
	if err := os.WriteFile(input, in.Bytes(), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "tool", "cgo", "-godefs", "-objdir", filepath.Join(tmp, "obj"),
		"--", "-I", d.dir, input)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+a.goarch, "CC="+cc, "CGO_ENABLED=1")
	return run(cmd)
}

// render turns the godefs output into the file of a, in header order,
// with our names.
func (d *decls) render(a arch, godefs []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "godefs.go", godefs, 0)
	if err != nil {
		return nil, fmt.Errorf("parsing cgo -godefs output: %w", err)
	}
	types := make(map[string]*ast.StructType)
	consts := make(map[string]ast.Expr)
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, s := range g.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				if st, ok := s.Type.(*ast.StructType); ok {
					types[s.Name.Name] = st
				}
			case *ast.ValueSpec:
				for i, n := range s.Names {
					consts[n.Name] = s.Values[i]
				}
			}
		}
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by gen from %s for linux/%s with %s; DO NOT EDIT.\n\n",
		strings.Join(headers, " and "), a.goarch, a.cc)
	fmt.Fprintf(&b, "//go:build linux && %s\n\npackage uapi\n", a.goarch)

	expr := func(e ast.Expr) string {
		var s bytes.Buffer
		printer.Fprint(&s, token.NewFileSet(), e)
		return s.String()
	}
	file, inConst, group := -1, false, 0
	for _, it := range d.items {
		if it.file != file {
			if inConst {
				b.WriteString(")\n")
				inConst = false
			}
			file = it.file
			r, _ := filepath.Rel(d.dir, d.files[file])
			fmt.Fprintf(&b, "\n// From %s.\n", filepath.ToSlash(r))
		}
		if it.kind == kindStruct {
			if inConst {
				b.WriteString(")\n")
				inConst = false
			}
			st := types[goName(it.name)]
			if st == nil {
				return nil, fmt.Errorf("cgo -godefs did not translate struct %s", it.name)
			}
			fields, err := renameFields(it, st)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&b, "\n// %s is struct %s.\ntype %s struct {\n", goName(it.name), it.name, goName(it.name))
			for _, fl := range fields {
				fmt.Fprintf(&b, "\t%s %s\n", fl.name, expr(fl.typ))
			}
			b.WriteString("}\n")
			continue
		}
		if !inConst {
			b.WriteString("\nconst (\n")
			inConst = true
		} else if it.group != group {
			b.WriteString("\n")
		}
		group = it.group
		if it.kind == kindString {
			fmt.Fprintf(&b, "\t%s = %s\n", it.name, strconv.Quote(it.str))
			continue
		}
		v := consts[it.name]
		if v == nil {
			return nil, fmt.Errorf("cgo -godefs did not translate constant %s", it.name)
		}
		n, err := intValue(expr(v), it.hex)
		if err != nil {
			return nil, fmt.Errorf("constant %s: %w", it.name, err)
		}
		fmt.Fprintf(&b, "\t%s = %s\n", it.name, n)
	}
	if inConst {
		b.WriteString(")\n")
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the output: %w\n%s", err, b.Bytes())
	}
	return src, nil
}

// intValue reformats an integer literal of cgo -godefs (which writes hex)
// in hex or decimal.
func intValue(lit string, hex bool) (string, error) {
	sign := ""
	if strings.HasPrefix(lit, "-") {
		sign, lit = "-", lit[1:]
	}
	v, ok := new(big.Int).SetString(lit, 0)
	if !ok {
		return "", fmt.Errorf("cgo -godefs gave %q, not an integer", lit)
	}
	if hex {
		return sign + "0x" + v.Text(16), nil
	}
	return sign + v.Text(10), nil
}

type field struct {
	name string
	typ  ast.Expr
}

// renameFields gives the godefs fields of st the names derived from the C
// members of it. godefs writes one field per member, in order, and adds
// blank fields where C has implicit padding; the headers must have none.
func renameFields(it *item, st *ast.StructType) ([]field, error) {
	var fields []field
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 {
			return nil, fmt.Errorf("struct %s: embedded field in cgo -godefs output", it.name)
		}
		for range f.Names {
			fields = append(fields, field{typ: f.Type})
		}
	}
	if len(fields) != len(it.members) {
		var got []string
		for _, f := range st.Fields.List {
			for _, n := range f.Names {
				got = append(got, n.Name)
			}
		}
		return nil, fmt.Errorf("struct %s: C members %v but cgo -godefs fields %v: implicit padding (name it __pad) or a flexible array member (describe it as payload)",
			it.name, it.members, got)
	}
	seen := make(map[string]bool)
	for i, m := range it.members {
		if strings.HasPrefix(m, "__pad") {
			fields[i].name = "_"
			continue
		}
		n := goName(m)
		if cName(n) != m {
			return nil, fmt.Errorf("struct %s: member %s does not map back from Go name %s: use lower-case words that start with a letter, joined by _", it.name, m, n)
		}
		if seen[n] {
			return nil, fmt.Errorf("struct %s: two members map to Go name %s", it.name, n)
		}
		seen[n] = true
		fields[i].name = n
	}
	if cName(goName(it.name)) != it.name {
		return nil, fmt.Errorf("struct %s does not map back from Go name %s", it.name, goName(it.name))
	}
	return fields, nil
}

// goName turns a C identifier into a Go one: ckpt_hdr_task -> CkptHdrTask.
func goName(c string) string {
	var b strings.Builder
	for _, w := range strings.Split(c, "_") {
		if w == "" {
			continue
		}
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

// cName is the inverse of goName for the names it accepts:
// CkptHdrTask -> ckpt_hdr_task.
func cName(g string) string {
	var b strings.Builder
	for i, r := range g {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// run runs cmd and returns its standard output; its standard error goes
// into the error.
func run(cmd *exec.Cmd) ([]byte, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) || stderr.Len() > 0 {
			return nil, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, stderr.Bytes())
		}
		return nil, fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
	}
	return out, nil
}
