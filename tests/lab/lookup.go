// lookup NAME: prints the addresses net.LookupHost gives for NAME, one per line; "NOTFOUND" and exit
// status 2 when the name does not exist. Built with cgo by tests/lab/t-clients.sh: under
// GODEBUG=netdns=cgo (which the nxretry program sets) Go resolves through libc's getaddrinfo, so the
// preload reaches it; with its own resolver (the default here) Go asks the DNS servers itself.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: lookup NAME")
		os.Exit(1)
	}
	addrs, err := net.LookupHost(os.Args[1])
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			fmt.Println("NOTFOUND")
			os.Exit(2)
		}
		fmt.Println(err)
		os.Exit(1)
	}
	for _, a := range addrs {
		fmt.Println(a)
	}
}
