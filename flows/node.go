package flows

import (
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The helpers below read a yaml.Node tree field by field, so every value
// keeps its line and every problem in a file is reported, not just the
// first. They are methods of problems: a value of the wrong shape is
// reported and read as its zero value.

// fields returns the values of a mapping by key, reporting a node that is
// not a mapping and every key not in allowed.
func (p *problems) fields(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n == nil {
		return out
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "%s: want a mapping of keys to values", what)
		return out
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !ok[k.Value]:
			p.errorf(k.Line, "%s: unknown key %q", what, k.Value)
		case out[k.Value] != nil:
			p.errorf(k.Line, "%s: key %q given twice", what, k.Value)
		default:
			out[k.Value] = v
		}
	}
	return out
}

// str reads a scalar as a string; a missing node is "".
func (p *problems) str(n *yaml.Node, what string) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(n.Line, "%s: want a single value", what)
		return ""
	}
	return n.Value
}

// strs reads a sequence of scalars.
func (p *problems) strs(n *yaml.Node, what string) []string {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "%s: want a list", what)
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, p.str(c, what))
	}
	return out
}

// boolean reads true or false; a missing node is false.
func (p *problems) boolean(n *yaml.Node, what string) bool {
	s := p.str(n, what)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.errorf(n.Line, "%s: want true or false, not %q", what, s)
	}
	return b
}

// integer reads a whole number; a missing node is 0.
func (p *problems) integer(n *yaml.Node, what string) int {
	s := p.str(n, what)
	if s == "" {
		return 0
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		p.errorf(n.Line, "%s: want a whole number, not %q", what, s)
	}
	return i
}

// items returns a sequence's nodes.
func (p *problems) items(n *yaml.Node, what string) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "%s: want a list", what)
		return nil
	}
	return n.Content
}

var yamlLineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

// parse reads a YAML document into its root mapping node.
func (p *problems) parse(data []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml.v3 says "yaml: line 14: did not find ..."; keep the line.
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		p.errorf(line, "YAML: %s", msg)
		return nil
	}
	if len(doc.Content) == 0 {
		p.errorf(0, "empty file")
		return nil
	}
	return doc.Content[0]
}

// version checks a file's version key against the newest one understood.
func (p *problems) version(n *yaml.Node, newest int) {
	if n == nil {
		p.errorf(0, "no version: add \"version: %d\"", newest)
		return
	}
	v := p.integer(n, "version")
	if v > newest {
		p.errorf(n.Line, "version %d is newer than this safecontact understands (%d); upgrade safecontact", v, newest)
	} else if v < 1 {
		p.errorf(n.Line, "version must be 1 or more")
	}
}
