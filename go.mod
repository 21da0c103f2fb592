module github.com/drover/drover

go 1.26.0

require github.com/chzyer/readline v1.5.1

require golang.org/x/sys v0.50.0 // indirect
