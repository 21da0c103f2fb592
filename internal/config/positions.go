package config

// Positions says where each section and option of a configuration was
// written, for tools that point at a line (drover check). Load does not keep
// them: the typed Config is what the daemon needs.
type Positions struct{ ini *iniFile }

// ReadPositions reads the positions of the main file at path and of the
// files it included (Config.Included, in order), the way Load merged them.
func ReadPositions(path string, included []string) (*Positions, error) {
	f := newINI()
	for _, name := range append([]string{path}, included...) {
		data, err := readConfigFile(name)
		if err != nil {
			return nil, err
		}
		if err := f.parse(data, name); err != nil {
			return nil, err
		}
	}
	return &Positions{ini: f}, nil
}

// Option returns where option was written for section (in the section or
// inherited from [DEFAULT]) and whether it was written at all.
func (p *Positions) Option(section, option string) (Pos, bool) {
	v, ok := p.ini.get(section, option)
	if !ok {
		return Pos{}, false
	}
	return v.Pos, true
}

// Section returns where section was first declared (zero when absent).
func (p *Positions) Section(section string) Pos {
	s, ok := p.ini.Sections[section]
	if !ok {
		return Pos{}
	}
	return Pos{File: s.File, Line: s.Line}
}

// SectionOf returns the section name of a process: "program:x",
// "eventlistener:x" or "fcgi-program:x".
func SectionOf(g *Group, p *Process) string {
	return sectionPrefix(g.Kind) + p.ProgramName
}
