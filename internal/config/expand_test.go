package config

import "testing"

func TestExpand(t *testing.T) {
	m := vars{"here": "/h", "process_num": 3, "numprocs": 10, "program_name": "p"}
	for _, tc := range []struct{ in, want string }{
		{"%(process_num)02d", "03"},
		{"%(process_num)5s|", "    3|"},
		{"%(here)-5s|", "/h   |"},
		{"%%x %(here)s", "%x /h"},
		{"%(process_num)x %(process_num)o %(process_num)#x", "3 3 0x3"},
		{"%(program_name)r", "'p'"},
		{"%(process_num).2f", "3.00"},
		{"%(process_num)d of %(numprocs)d", "3 of 10"},
		{"no format", "no format"},
		{"%(here)d", "error: Format string '%(here)d' for 'n' is badly formatted: %d format: a real number is required, not str"},
		{"%(nope)s", "error: Format string '%(nope)s' for 'n' contains names ('nope') which cannot be expanded. Available names: here, numprocs, process_num, program_name"},
		{"%", "error: Format string '%' for 'n' is badly formatted: incomplete format"},
		{"%(here)", "error: Format string '%(here)' for 'n' is badly formatted: incomplete format"},
		{"%(here", "error: Format string '%(here' for 'n' is badly formatted: incomplete format key"},
		{"%(here)z", "error: Format string '%(here)z' for 'n' is badly formatted: unsupported format character 'z' (0x7a) at index 7"},
	} {
		got, err := expand(tc.in, m, "n")
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tc.want {
			t.Errorf("expand(%q)\n got: %s\nwant: %s", tc.in, got, tc.want)
		}
	}
}

func TestExpandUnkeyed(t *testing.T) {
	m := vars{"a": "x", "n": 1}
	for _, tc := range []struct{ in, want string }{
		{"%s", "{'a': 'x', 'n': 1}"},
		{"%s %s", "error: Format string '%s %s' for 'n' is badly formatted: not enough arguments for format string"},
		{"%d", "error: Format string '%d' for 'n' is badly formatted: %d format: a real number is required, not dict"},
		{"x%y", "error: Format string 'x%y' for 'n' is badly formatted: unsupported format character 'y' (0x79) at index 2"},
	} {
		got, err := expand(tc.in, m, "n")
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tc.want {
			t.Errorf("expand(%q)\n got: %s\nwant: %s", tc.in, got, tc.want)
		}
	}
}
