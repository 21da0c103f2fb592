module github.com/drover/drover

go 1.26
