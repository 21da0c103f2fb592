package daemon

import (
	"fmt"
	"strings"
)

// optionSpec describes one command-line option the way Python's getopt sees it.
type optionSpec struct {
	short  byte   // 0 when the option has no short form
	long   string // "" when the option has no long form
	hasArg bool
}

// parsedOption is one option found on the command line, in order.
type parsedOption struct {
	spec *optionSpec
	name string // as getopt reports it: "-c" or "--configuration"
	arg  string
}

// getopt parses args like Python's getopt.getopt: short options may be
// clustered (-nk) and take their argument attached (-cfile) or as the next
// word; long options take --opt=value or --opt value and may be abbreviated
// to any unique prefix; parsing stops at "--" or at the first word that is
// not an option. It returns the options in order and the remaining words.
// Error texts are getopt's, because supervisord prints them verbatim.
func getopt(args []string, specs []optionSpec) ([]parsedOption, []string, error) {
	var opts []parsedOption
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			return opts, args[1:], nil
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		args = args[1:]
		var err error
		if strings.HasPrefix(a, "--") {
			opts, args, err = getoptLong(opts, a[2:], args, specs)
		} else {
			opts, args, err = getoptShort(opts, a[1:], args, specs)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return opts, args, nil
}

func getoptLong(opts []parsedOption, word string, args []string, specs []optionSpec) ([]parsedOption, []string, error) {
	name, value, hasValue := strings.Cut(word, "=")
	spec, err := matchLong(name, specs)
	if err != nil {
		return nil, nil, err
	}
	display := "--" + spec.long
	switch {
	case spec.hasArg && !hasValue:
		if len(args) == 0 {
			return nil, nil, fmt.Errorf("option %s requires argument", display)
		}
		value, args = args[0], args[1:]
	case !spec.hasArg && hasValue:
		return nil, nil, fmt.Errorf("option %s must not have an argument", display)
	}
	return append(opts, parsedOption{spec: spec, name: display, arg: value}), args, nil
}

// matchLong finds the long option name denotes: an exact name, else the
// only option it is a prefix of.
func matchLong(name string, specs []optionSpec) (*optionSpec, error) {
	var found []*optionSpec
	for i := range specs {
		s := &specs[i]
		if s.long == "" || !strings.HasPrefix(s.long, name) {
			continue
		}
		if s.long == name {
			return s, nil
		}
		found = append(found, s)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("option --%s not recognized", name)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("option --%s not a unique prefix", name)
}

func getoptShort(opts []parsedOption, cluster string, args []string, specs []optionSpec) ([]parsedOption, []string, error) {
	for cluster != "" {
		c := cluster[0]
		cluster = cluster[1:]
		spec := matchShort(c, specs)
		if spec == nil {
			return nil, nil, fmt.Errorf("option -%c not recognized", c)
		}
		var value string
		if spec.hasArg {
			switch {
			case cluster != "":
				value, cluster = cluster, ""
			case len(args) > 0:
				value, args = args[0], args[1:]
			default:
				return nil, nil, fmt.Errorf("option -%c requires argument", c)
			}
		}
		opts = append(opts, parsedOption{spec: spec, name: "-" + string(c), arg: value})
	}
	return opts, args, nil
}

func matchShort(c byte, specs []optionSpec) *optionSpec {
	for i := range specs {
		if specs[i].short == c {
			return &specs[i]
		}
	}
	return nil
}
