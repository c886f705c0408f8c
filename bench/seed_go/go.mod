module seedgo

go 1.19
