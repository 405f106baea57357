// fetch NAME URL: what a static Go program (CGO_ENABLED=0, so Go's own DNS client, as in the release
// builds of terraform, kubectl, helm and k6) gets for NAME and URL: a line "lookup ADDR..." from
// net.LookupHost (or "lookup NOTFOUND" when the name does not exist, "lookup ERROR ..." otherwise),
// then, when URL is not "-", "get STATUS BODY" from net/http (or "get ERROR ..."). Exit 0 when both
// succeeded, 2 when the name was not found, 1 otherwise. Built by tests/lab/t-stub-clients.sh.
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: fetch NAME URL|-")
		os.Exit(1)
	}
	addrs, err := net.LookupHost(os.Args[1])
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			fmt.Println("lookup NOTFOUND")
			os.Exit(2)
		}
		fmt.Println("lookup ERROR", err)
		os.Exit(1)
	}
	fmt.Println("lookup", strings.Join(addrs, " "))
	if os.Args[2] == "-" {
		return
	}
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{Proxy: nil}}
	res, err := client.Get(os.Args[2])
	if err != nil {
		fmt.Println("get ERROR", err)
		os.Exit(1)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		fmt.Println("get ERROR", err)
		os.Exit(1)
	}
	fmt.Println("get", res.StatusCode, strings.TrimSpace(string(body)))
}
