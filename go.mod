module github.com/chainiac/chainiac

go 1.26.8

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/spf13/cobra v1.10.2
	github.com/stretchr/testify v1.12.1
	go.dedis.ch/kyber/v3 v3.1.0
	go.etcd.io/bbolt v1.3.6
	golang.org/x/crypto v0.0.0-20190325154230-a5d413f7728c
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	go.dedis.ch/fixbuf v1.0.3 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.0.0-20200923182605-d9f96fdee20d // indirect
)
